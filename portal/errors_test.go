package portal_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ycm-onboard/ycm-onboard/portal"
	"github.com/ycm-onboard/ycm-onboard/portal/sim"
)

// serveSim is startSim with a handler wrapped around the simulator (nil: none).
// serveSim serves a simulator speaking the legacy dialect unless opts names another:
// these tests name its error words and statuses exactly (TestEveryDialect covers the rest).
func serveSim(t *testing.T, opts sim.Options, wrap func(http.Handler) http.Handler) (*sim.Server, string) {
	t.Helper()
	if opts.Dialect == (sim.Dialect{}) {
		legacy, err := sim.ParseDialect("legacy")
		if err != nil {
			t.Fatal(err)
		}
		opts.Dialect = legacy
	}
	s, err := sim.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = s
	if wrap != nil {
		h = wrap(s)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", http.StripPrefix("/api", h))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return s, ts.URL + "/api"
}

// frozen is a simulator clock that never moves, so a throttled bucket never refills.
func frozen() time.Time { return time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) }

var sentinels = []*portal.Error{portal.ErrThrottled, portal.ErrAuth, portal.ErrIPBlocked, portal.ErrNotFound,
	portal.ErrExists, portal.ErrValidation, portal.ErrServer, portal.ErrNetwork}

func sentinel(k portal.Kind) *portal.Error {
	for _, s := range sentinels {
		if s.Kind == k {
			return s
		}
	}
	panic(fmt.Sprintf("no sentinel for %v", k))
}

// ycmAnswer answers GET /dm/… instance reads with a fixed YCM error envelope, the rest from the simulator.
func ycmAnswer(status int, body string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/dm/open_api/v1/cloud_pbx/instances/") {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				fmt.Fprint(w, body)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// blockIP fails six logins in a row on each API: each blocks the IP after more than five.
func blockIP(t *testing.T, base string) {
	t.Helper()
	for range 6 {
		bad, err := portal.NewYCM(testConfig(base, sim.DemoYCMID, "wrong", &sleeps{}))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = bad.PBX(t.Context(), 7701)
		badp, err := portal.NewPartner(testConfig(base, sim.DemoPartnerID, "wrong", &sleeps{}))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = badp.Colleague(t.Context(), 10001)
	}
}

// TestEveryTypedError drives each kind of failure through both clients over HTTP and
// checks the error's kind, codes, sentinel and message.
func TestEveryTypedError(t *testing.T) {
	type clients struct {
		s *sim.Server
		p *portal.PartnerClient
		y *portal.YCMClient
	}
	login := func(t *testing.T, c clients) {
		t.Helper()
		if _, err := c.p.Permissions(t.Context()); err != nil {
			t.Fatal(err)
		}
		if _, err := c.y.PBX(t.Context(), 7701); err != nil {
			t.Fatal(err)
		}
	}
	resize := portal.Capacity{Extensions: 60, ConcurrentCalls: 12, RecordingStatus: "Enabled", RecordingMinutes: 500}
	tests := []struct {
		name   string
		opts   sim.Options
		wrap   func(http.Handler) http.Handler
		secret string // "" for the demo secret
		before func(*testing.T, clients, string)
		call   func(context.Context, clients) error

		kind       portal.Kind
		api        string
		op         string
		code       string
		errno      int
		status     int // 0: either 500 or 503
		message    string
		fields     []portal.FieldError
		retryAfter time.Duration
		fatal      bool
		text       string // more that Error() must say
	}{
		{
			name: "partner throttled", opts: sim.Options{Now: frozen, Faults: sim.Faults{ThrottleRate: 0.01, ThrottleBurst: 1}},
			call: func(ctx context.Context, c clients) error { _, err := c.p.Permissions(ctx); return err },
			kind: portal.KindThrottled, api: "partner portal", op: "list permissions", code: "RATE_LIMIT_EXCEEDED",
			status: 429, message: "rate limit exceeded", retryAfter: 100 * time.Second,
		},
		{
			name: "ycm throttled", opts: sim.Options{Now: frozen, Faults: sim.Faults{ThrottleRate: 0.01, ThrottleBurst: 1}},
			call: func(ctx context.Context, c clients) error { _, err := c.y.PBX(ctx, 7701); return err },
			kind: portal.KindThrottled, api: "ycm", op: "read cloud PBX 7701", code: "RATE_LIMIT_EXCEEDED", errno: 1000040,
			status: 429, message: "rate limit exceeded", retryAfter: 100 * time.Second,
		},
		{
			name: "partner wrong secret", secret: "wrong-secret",
			call: func(ctx context.Context, c clients) error { _, err := c.p.Permissions(ctx); return err },
			kind: portal.KindAuth, api: "partner portal", op: "list permissions", code: "AUTHENTICATION_FAILED",
			status: 401, message: "client id or client secret is wrong", fatal: true,
		},
		{
			name: "ycm wrong secret", secret: "wrong-secret",
			call: func(ctx context.Context, c clients) error { _, err := c.y.PBX(ctx, 7701); return err },
			kind: portal.KindAuth, api: "ycm", op: "read cloud PBX 7701", code: "AUTHENTICATION_FAILED", errno: 1000002,
			status: 401, message: "client id or client secret is wrong", fatal: true,
		},
		{
			name:   "partner IP blocked",
			before: func(t *testing.T, _ clients, base string) { blockIP(t, base) },
			call:   func(ctx context.Context, c clients) error { _, err := c.p.Colleague(ctx, 10001); return err },
			kind:   portal.KindIPBlocked, api: "partner portal", op: "read colleague 10001", code: "ACCESS_DENIED",
			status: 403, message: "blocked after more than 5 failed logins", fatal: true,
		},
		{
			name:   "ycm IP blocked",
			before: func(t *testing.T, _ clients, base string) { blockIP(t, base) },
			call:   func(ctx context.Context, c clients) error { _, err := c.y.PBX(ctx, 7701); return err },
			kind:   portal.KindIPBlocked, api: "ycm", op: "read cloud PBX 7701", code: "ACCESS_DENIED", errno: 1000042,
			status: 403, message: "blocked after more than 5 failed logins", fatal: true,
		},
		{
			name: "partner not found",
			call: func(ctx context.Context, c clients) error { _, err := c.p.Colleague(ctx, 424242); return err },
			kind: portal.KindNotFound, api: "partner portal", op: "read colleague 424242", code: "DATA_NOT_FOUND",
			status: 404, message: "no colleague 424242",
		},
		{
			name: "ycm not found",
			call: func(ctx context.Context, c clients) error { _, err := c.y.PBX(ctx, 424242); return err },
			kind: portal.KindNotFound, api: "ycm", op: "read cloud PBX 424242", code: "DATA_NOT_FOUND", errno: 1000005,
			status: 200, message: "no cloud PBX 424242",
		},
		{
			name: "partner already exists",
			call: func(ctx context.Context, c clients) error {
				_, _, err := c.p.CreateColleague(ctx, portal.NewColleague{Email: "OPS.LEAD@demo.example", FirstName: "X", PermissionIDs: []int64{101}})
				return err
			},
			kind: portal.KindExists, api: "partner portal", op: "create colleague OPS.LEAD@demo.example",
			code: "EMAIL_ADDRESS_ALREADY_EXISTS", status: 409, message: "a colleague with Yeastar ID ops.lead@demo.example exists",
		},
		{
			// The simulator has no YCM call that can conflict; the envelope is the documented
			// one, with errno as a numeric string, which YCM may send.
			name: "ycm already exists",
			wrap: ycmAnswer(200, `{"errno":"1000007","errmsg":"DATA_ALREADY_EXISTS","detail":"the PBX name is taken","requestId":"r-9","status":"Failed","time":1772442000}`),
			call: func(ctx context.Context, c clients) error { _, err := c.y.PBX(ctx, 7701); return err },
			kind: portal.KindExists, api: "ycm", op: "read cloud PBX 7701", code: "DATA_ALREADY_EXISTS", errno: 1000007,
			status: 200, message: "the PBX name is taken",
		},
		{
			name: "partner validation",
			call: func(ctx context.Context, c clients) error {
				_, _, err := c.p.CreateColleague(ctx, portal.NewColleague{Email: "not-an-address", FirstName: "X", PermissionIDs: []int64{999}})
				return err
			},
			kind: portal.KindValidation, api: "partner portal", op: "create colleague not-an-address", code: "PARAM_VALIDATION_FAILED",
			status: 400, message: `yeastarId: "not-an-address" is not an e-mail address`,
			fields: []portal.FieldError{{Field: "yeastarId", Message: `"not-an-address" is not an e-mail address`},
				{Field: "resourceIds", Message: "unknown permission id 999"}},
		},
		{
			name: "ycm validation",
			call: func(ctx context.Context, c clients) error {
				r := resize
				r.Extensions = 1000
				return c.y.Resize(ctx, 7701, r)
			},
			kind: portal.KindValidation, api: "ycm", op: "resize cloud PBX 7701", code: "INVALID_PARAMETER", errno: 1000004,
			status: 200, message: "extensionCapacity: 1000 is outside 5..500 extensions",
		},
		{
			name:   "partner server error",
			before: func(t *testing.T, c clients, _ string) { login(t, c); c.s.SetFaults(sim.Faults{ErrorRate: 1}) },
			call:   func(ctx context.Context, c clients) error { _, err := c.p.Colleague(ctx, 10001); return err },
			kind:   portal.KindServer, api: "partner portal", op: "read colleague 10001", code: "SERVER_ERROR",
			message: "simulated server fault",
		},
		{
			name:   "ycm server error",
			before: func(t *testing.T, c clients, _ string) { login(t, c); c.s.SetFaults(sim.Faults{ErrorRate: 1}) },
			call:   func(ctx context.Context, c clients) error { _, err := c.y.PBX(ctx, 7701); return err },
			kind:   portal.KindServer, api: "ycm", op: "read cloud PBX 7701", message: "(simulated fault)",
		},
		{
			name: "partner network error",
			before: func(t *testing.T, c clients, _ string) {
				login(t, c)
				c.s.SetFaults(sim.Faults{DropBeforeWriteRate: 1})
			},
			call: func(ctx context.Context, c clients) error {
				return c.p.EditColleague(ctx, 10001, portal.ColleagueEdit{FirstName: "X", PermissionIDs: []int64{101}})
			},
			kind: portal.KindNetwork, api: "partner portal", op: "edit colleague 10001",
			text: "connection closed without a whole answer",
		},
		{
			name: "ycm network error",
			before: func(t *testing.T, c clients, _ string) {
				login(t, c)
				c.s.SetFaults(sim.Faults{DropBeforeWriteRate: 1})
			},
			call: func(ctx context.Context, c clients) error { return c.y.Resize(ctx, 7701, resize) },
			kind: portal.KindNetwork, api: "ycm", op: "resize cloud PBX 7701",
			text: "connection closed without a whole answer",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, base := serveSim(t, tt.opts, tt.wrap)
			pcfg := testConfig(base, sim.DemoPartnerID, sim.DemoPartnerSecret, &sleeps{})
			ycfg := testConfig(base, sim.DemoYCMID, sim.DemoYCMSecret, &sleeps{})
			pcfg.MaxAttempts, ycfg.MaxAttempts = 2, 2
			if tt.secret != "" {
				pcfg.ClientSecret, ycfg.ClientSecret = tt.secret, tt.secret
			}
			p, err := portal.NewPartner(pcfg)
			if err != nil {
				t.Fatal(err)
			}
			y, err := portal.NewYCM(ycfg)
			if err != nil {
				t.Fatal(err)
			}
			c := clients{s, p, y}
			if tt.before != nil {
				tt.before(t, c, base)
			}
			err = tt.call(t.Context(), c)
			var pe *portal.Error
			if !errors.As(err, &pe) {
				t.Fatalf("got %v (%T), want a *portal.Error", err, err)
			}
			if pe.Kind != tt.kind || portal.KindOf(err) != tt.kind {
				t.Errorf("kind %v, want %v: %v", pe.Kind, tt.kind, err)
			}
			for _, sn := range sentinels {
				if got, want := errors.Is(err, sn), sn.Kind == tt.kind; got != want {
					t.Errorf("errors.Is(err, Err %v) = %v, want %v", sn.Kind, got, want)
				}
			}
			if !errors.Is(fmt.Errorf("row 3: %w", err), sentinel(tt.kind)) {
				t.Errorf("a wrapped error does not match its sentinel")
			}
			if pe.API != tt.api || pe.Op != tt.op || pe.Code != tt.code || pe.Errno != tt.errno {
				t.Errorf("api %q op %q code %q errno %d, want %q %q %q %d",
					pe.API, pe.Op, pe.Code, pe.Errno, tt.api, tt.op, tt.code, tt.errno)
			}
			switch {
			case tt.kind == portal.KindNetwork:
				if pe.HTTPStatus != 0 || pe.Err == nil {
					t.Errorf("network error with HTTP %d and cause %v", pe.HTTPStatus, pe.Err)
				}
			case tt.status == 0:
				if pe.HTTPStatus != 500 && pe.HTTPStatus != 503 {
					t.Errorf("HTTP status %d, want 500 or 503", pe.HTTPStatus)
				}
			case pe.HTTPStatus != tt.status:
				t.Errorf("HTTP status %d, want %d", pe.HTTPStatus, tt.status)
			}
			if !strings.Contains(pe.Message, tt.message) {
				t.Errorf("message %q, want it to contain %q", pe.Message, tt.message)
			}
			if diff := cmp.Diff(tt.fields, pe.Fields); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
			if pe.RetryAfter != tt.retryAfter {
				t.Errorf("retry after %v, want %v", pe.RetryAfter, tt.retryAfter)
			}
			if portal.Fatal(err) != tt.fatal {
				t.Errorf("Fatal = %v, want %v", portal.Fatal(err), tt.fatal)
			}

			// The message reads: op, API, kind, code, the portal's words.
			msg := err.Error()
			want := tt.op + ": " + tt.api + " " + tt.kind.String()
			if !strings.HasPrefix(msg, want) {
				t.Errorf("message %q, want it to begin %q", msg, want)
			}
			for _, part := range []string{tt.code, tt.message, tt.text} {
				if !strings.Contains(msg, part) {
					t.Errorf("message %q lacks %q", msg, part)
				}
			}
			if tt.errno != 0 && !strings.Contains(msg, fmt.Sprint(tt.errno)) {
				t.Errorf("message %q lacks errno %d", msg, tt.errno)
			}
			for _, f := range tt.fields {
				if !strings.Contains(msg, f.Field+": "+f.Message) {
					t.Errorf("message %q lacks field %s", msg, f.Field)
				}
			}
			if pe.RequestID != "" && !strings.Contains(msg, pe.RequestID) {
				t.Errorf("message %q lacks the request id %s", msg, pe.RequestID)
			}
			if strings.Contains(msg, "wrong-secret") || strings.Contains(msg, sim.DemoPartnerSecret) {
				t.Errorf("message %q shows a secret", msg)
			}
			t.Log(msg)
		})
	}
}

// TestDeadAddressIsANetworkError covers the portal not answering at all, for both APIs.
func TestDeadAddressIsANetworkError(t *testing.T) {
	ln := httptest.NewServer(http.NotFoundHandler())
	dead := ln.URL + "/api"
	ln.Close() // nothing listens there now
	p, _ := portal.NewPartner(testConfig(dead, "a", "b", &sleeps{}))
	y, _ := portal.NewYCM(testConfig(dead, "a", "b", &sleeps{}))
	ctx := t.Context()
	_, perr := p.Permissions(ctx)
	_, yerr := y.PBX(ctx, 7701)
	for api, err := range map[string]error{"partner portal": perr, "ycm": yerr} {
		var pe *portal.Error
		if !errors.As(err, &pe) || !errors.Is(err, portal.ErrNetwork) || pe.API != api {
			t.Errorf("%s: %v, want a network error", api, err)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, api+" network error") || !strings.Contains(msg, "refused") ||
			strings.Contains(msg, "http://") {
			t.Errorf("%s: message %q", api, msg)
		}
	}
}

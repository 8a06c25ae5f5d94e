package portal_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ycm-onboard/ycm-onboard/portal"
	"github.com/ycm-onboard/ycm-onboard/portal/sim"
)

// countingTransport counts the bytes the client reads from each answer's body.
type countingTransport struct {
	next http.RoundTripper
	max  atomic.Int64 // the most read from one body
	n    atomic.Int64 // answers
}

type countingBody struct {
	io.ReadCloser
	read int64
	t    *countingTransport
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.read += int64(n)
	return n, err
}

func (b *countingBody) Close() error {
	for {
		m := b.t.max.Load()
		if b.read <= m || b.t.max.CompareAndSwap(m, b.read) {
			break
		}
	}
	return b.ReadCloser.Close()
}

func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err == nil {
		t.n.Add(1)
		resp.Body = &countingBody{ReadCloser: resp.Body, t: t}
	}
	return resp, err
}

// hugeErrors answers token requests with a token and every other request with status
// and a 10 MiB body.
func hugeErrors(status int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/dm/open_api/oauth/token":
			fmt.Fprint(w, `{"access_token":"t","refresh_token":"r","token_type":"bearer","expires_in":1799}`)
			return
		case isTokenPath(r.URL.Path):
			fmt.Fprint(w, `{"code":"success","result":{"token":"t","refreshToken":"r","expiresIn":1800},"status":200}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, `{"code":"SERVER_ERROR","detailMessage":"`)
		chunk := strings.Repeat("x", 64<<10)
		for range 160 { // 10 MiB
			if _, err := io.WriteString(w, chunk); err != nil {
				return // the client stopped reading
			}
		}
		io.WriteString(w, `","status":500}`)
	})
}

// TestErrorBodiesAreReadThroughALimit: a 10 MiB error answer is read no further than
// 64 KiB and still gives a typed error with a short message.
func TestErrorBodiesAreReadThroughALimit(t *testing.T) {
	for _, tt := range []struct {
		status   int
		kind     portal.Kind
		requests int64
	}{
		{400, portal.KindValidation, 1},
		{500, portal.KindServer, 2},
	} {
		for _, api := range []string{"partner portal", "ycm"} {
			t.Run(fmt.Sprint(api, " ", tt.status), func(t *testing.T) {
				ts := httptest.NewServer(hugeErrors(tt.status))
				t.Cleanup(ts.Close)
				ct := &countingTransport{next: http.DefaultTransport.(*http.Transport).Clone()}
				cfg := testConfig(ts.URL, "id", "secret", &sleeps{})
				cfg.HTTPClient = &http.Client{Transport: ct}
				cfg.MaxAttempts = 2
				var err error
				if api == "ycm" {
					y, _ := portal.NewYCM(cfg)
					_, err = y.PBX(t.Context(), 7701)
				} else {
					p, _ := portal.NewPartner(cfg)
					_, err = p.Colleague(t.Context(), 10001)
				}
				var pe *portal.Error
				if !errors.As(err, &pe) || pe.Kind != tt.kind || pe.HTTPStatus != tt.status || pe.API != api {
					t.Fatalf("got %v, want a %s %v error with HTTP %d", err, api, tt.kind, tt.status)
				}
				if got := ct.max.Load(); got > 64<<10 {
					t.Errorf("read %d bytes of an error answer, want at most 64 KiB", got)
				}
				if got := ct.n.Load() - 1; got != tt.requests { // less the login
					t.Errorf("%d requests, want %d", got, tt.requests)
				}
				if msg := err.Error(); len(msg) > 400 {
					t.Errorf("a message of %d bytes: %.100s…", len(msg), msg)
				}
			})
		}
	}
}

// answer429 answers the first API request (not a token request) with 429 and the
// Retry-After given, in the envelope of the API called, and passes the rest to next.
func answer429(retryAfter string, next http.Handler) http.Handler {
	var done atomic.Bool
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isTokenPath(r.URL.Path) || done.Swap(true) {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Retry-After", retryAfter)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		if strings.HasPrefix(r.URL.Path, "/dm/") {
			fmt.Fprint(w, `{"errno":1000040,"errmsg":"RATE_LIMIT_EXCEEDED","detail":"slow down","requestId":"r","status":"Failed","time":0}`)
		} else {
			fmt.Fprint(w, `{"code":"RATE_LIMIT_EXCEEDED","detailMessage":"slow down","requestId":"r","result":null,"status":429}`)
		}
	})
}

// TestRetryAfterAsHTTPDate: a Retry-After given as a date is waited for, up to MaxDelay.
func TestRetryAfterAsHTTPDate(t *testing.T) {
	t0 := time.Now().Truncate(time.Second)
	for _, api := range apiCases {
		for _, tt := range []struct {
			ahead, maxDelay time.Duration
			lo, hi          time.Duration
		}{
			{3 * time.Second, 30 * time.Second, 3 * time.Second, 3*time.Second + 3*time.Second/4},
			{3 * time.Second, time.Second, time.Second * 3 / 4, time.Second},
			{20 * time.Second, time.Second, time.Second * 3 / 4, time.Second}, // a date far enough ahead to stop every worker
		} {
			t.Run(fmt.Sprint(api.name, " ", tt.ahead, " max ", tt.maxDelay), func(t *testing.T) {
				date := t0.Add(tt.ahead).UTC().Format(http.TimeFormat)
				_, base := serveSim(t, sim.Options{}, func(h http.Handler) http.Handler { return answer429(date, h) })
				sl := &sleeps{}
				cfg := testConfig(base, api.id, api.secret, sl)
				cfg.MaxDelay = tt.maxDelay
				cfg.Now = func() time.Time { return t0 } // the client's clock reads the date exactly
				if err := api.client(t, cfg)(t.Context()); err != nil {
					t.Fatalf("the retry after the wait failed: %v", err)
				}
				waits := sl.all()
				if len(waits) == 0 {
					t.Fatal("no wait")
				}
				for _, d := range waits {
					if d < tt.lo || d > tt.hi {
						t.Errorf("waited %v, want %v..%v (all waits %v)", d, tt.lo, tt.hi, waits)
					}
				}
			})
		}
	}
}

// enterSignal wraps next and reports each API request (not a token request) as it
// arrives and as it leaves.
func enterSignal(next http.Handler) (http.Handler, <-chan struct{}, <-chan struct{}) {
	in, out := make(chan struct{}, 64), make(chan struct{}, 64)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isTokenPath(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		in <- struct{}{}
		defer func() { out <- struct{}{} }()
		next.ServeHTTP(w, r)
	}), in, out
}

// TestCancelledDuringLatency: cancelling the context ends a call waiting on a slow
// portal at once, with context.Canceled, not a network error.
func TestCancelledDuringLatency(t *testing.T) {
	for _, api := range apiCases {
		t.Run(api.name, func(t *testing.T) {
			var in <-chan struct{}
			s, base := serveSim(t, sim.Options{}, func(h http.Handler) http.Handler {
				h, in, _ = enterSignal(h)
				return h
			})
			call := api.client(t, testConfig(base, api.id, api.secret, &sleeps{}))
			if err := call(t.Context()); err != nil { // log in without latency
				t.Fatal(err)
			}
			<-in
			s.SetFaults(sim.Faults{Latency: time.Hour})
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- call(ctx) }()
			<-in // the request waits in the portal
			cancel()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) || portal.KindOf(err) != portal.KindUnknown {
					t.Errorf("got %v, want context.Canceled", err)
				}
			case <-time.After(10 * time.Second): // a guard: the latency is an hour
				t.Fatal("the call still waits after the context was cancelled")
			}
		})
	}
}

// TestCallTimeout: an attempt the portal does not answer within CallTimeout is a
// network error that says it timed out, retried up to MaxAttempts.
func TestCallTimeout(t *testing.T) {
	for _, api := range apiCases {
		t.Run(api.name, func(t *testing.T) {
			var in, out <-chan struct{}
			s, base := serveSim(t, sim.Options{}, func(h http.Handler) http.Handler {
				h, in, out = enterSignal(h)
				return h
			})
			cfg := testConfig(base, api.id, api.secret, &sleeps{})
			cfg.CallTimeout = 50 * time.Millisecond
			cfg.MaxAttempts = 3
			var st portal.CallStats
			ctx := portal.WithCallStats(t.Context(), &st)
			client := api.client(t, cfg)
			call := func() error { return client(ctx) }
			if err := call(); err != nil { // log in without latency
				t.Fatal(err)
			}
			<-in
			<-out
			s.SetFaults(sim.Faults{Latency: time.Hour})
			st.Attempts.Store(0)
			err := call()
			var pe *portal.Error
			if !errors.As(err, &pe) || pe.Kind != portal.KindNetwork || pe.API != api.name {
				t.Fatalf("got %v, want a network error", err)
			}
			if !strings.Contains(err.Error(), "timed out") {
				t.Errorf("message %q does not say it timed out", err)
			}
			if n := st.Attempts.Load(); n != 3 {
				t.Errorf("%d attempts, want 3", n)
			}
			for range 3 {
				<-in
				<-out
			}
			left := 0
			for _, rc := range s.Stats().Routes {
				if rc.Status == 499 {
					left += int(rc.Count)
				}
			}
			if left != 3 {
				t.Errorf("the portal saw the client leave %d times, want 3", left)
			}
		})
	}
}

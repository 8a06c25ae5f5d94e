package portal

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ycm-onboard/ycm-onboard/portal/sim"
)

// simConn serves a simulator under /api and returns a logged-in connection to it.
// simConn is a logged-in connection to a simulator speaking the legacy dialect, whose
// error words, statuses and messages these tests name exactly.
func simConn(t *testing.T, d dialect) (*conn, string) {
	t.Helper()
	legacy, err := sim.ParseDialect("legacy")
	if err != nil {
		t.Fatal(err)
	}
	s, err := sim.New(sim.Options{Dialect: legacy})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", http.StripPrefix("/api", s))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	cfg := Config{BaseURL: ts.URL + "/api", ClientID: sim.DemoPartnerID, ClientSecret: sim.DemoPartnerSecret,
		MaxAttempts: 1, Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }}
	if d.name() == ycmAPI {
		cfg.ClientID, cfg.ClientSecret = sim.DemoYCMID, sim.DemoYCMSecret
	}
	c, err := newConn(cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.tokens.get(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return c, tok.access
}

// TestBadRequestsAreTypedErrors sends what the public client never sends, over HTTP to
// the simulator, and checks that each answer becomes a typed error a person can act on.
func TestBadRequestsAreTypedErrors(t *testing.T) {
	const (
		ppPath  = colleaguesPath
		ycmPath = "/dm/open_api/v1/cloud_pbx/instances/7701/capacity"
	)
	type send func(ctx context.Context, c *conn, access string) error
	// raw sends a request built by hand, with the headers given (and no others).
	raw := func(method, path, contentType, ua string, body []byte, auth bool) send {
		return func(ctx context.Context, c *conn, access string) error {
			req, err := http.NewRequestWithContext(ctx, method, c.base.String()+path, bytes.NewReader(body))
			if err != nil {
				return err
			}
			req.Header["User-Agent"] = []string{ua} // "" sends none
			if contentType != "" {
				req.Header.Set("Content-Type", contentType)
			}
			if auth {
				req.Header.Set("Authorization", "Bearer "+access)
			}
			return c.send(req, nil)
		}
	}
	once := func(method, path string, body []byte, withToken bool) send {
		return func(ctx context.Context, c *conn, access string) error {
			if !withToken {
				access = ""
			}
			return c.once(ctx, request{method: method, path: path}, body, access, nil)
		}
	}
	resize := `{"extensionCapacity":60,"concurrentCallCapacity":12,"recordingStatus":"Enabled","recordingCapacity":500`
	create := `{"yeastarId":"a@demo.example","firstName":"A","resourceIds":[101]`
	big := append([]byte(`{"remark":"`), bytes.Repeat([]byte("x"), 2<<20)...)
	big = append(big, `"}`...)

	tests := []struct {
		name    string
		d       dialect
		send    send
		kind    Kind
		status  int
		code    string
		errno   int
		message string
		field   string // Partner Portal: the refused field
	}{
		{"partner malformed JSON", partnerDialect{}, once("POST", ppPath, []byte(create), true),
			KindValidation, 400, "PARAM_VALIDATION_FAILED", 0, "malformed JSON", "body"},
		{"ycm malformed JSON", ycmDialect{}, once("PUT", ycmPath, []byte(resize), true),
			KindValidation, 200, "INVALID_PARAMETER", 1000004, "malformed JSON", ""},
		{"partner unknown field", partnerDialect{}, once("POST", ppPath, []byte(create+`,"nickname":"A"}`), true),
			KindValidation, 400, "PARAM_VALIDATION_FAILED", 0, "nickname: unknown field", "nickname"},
		{"ycm unknown field", ycmDialect{}, once("PUT", ycmPath, []byte(resize+`,"extensions":60}`), true),
			KindValidation, 200, "INVALID_PARAMETER", 1000004, "extensions: unknown field", ""},
		{"partner wrong content type", partnerDialect{}, raw("POST", ppPath, "text/plain", userAgent(), []byte(create+"}"), true),
			KindValidation, 415, "UNSUPPORTED_MEDIA_TYPE", 0, `Content-Type "text/plain" is not application/json`, ""},
		{"ycm wrong content type", ycmDialect{}, raw("PUT", ycmPath, "application/x-www-form-urlencoded", userAgent(), []byte("extensionCapacity=60"), true),
			KindValidation, 415, "INVALID_PARAMETER", 1000004, "is not application/json", ""},
		{"partner token request as JSON", partnerDialect{}, raw("POST", "/auth/openapi/v1/oauth/token", "application/json", userAgent(), []byte(`{"client_id":"x"}`), false),
			KindValidation, 415, "UNSUPPORTED_MEDIA_TYPE", 0, "is not application/x-www-form-urlencoded", ""},
		{"ycm token request as JSON", ycmDialect{}, raw("POST", "/dm/open_api/oauth/token", "application/json", userAgent(), []byte(`{"client_id":"x"}`), false),
			KindValidation, 415, "INVALID_PARAMETER", 1000004, "is not application/x-www-form-urlencoded", ""},
		{"partner body over 1 MiB", partnerDialect{}, once("POST", ppPath, big, true),
			KindValidation, 413, "PAYLOAD_TOO_LARGE", 0, "request body is over 1048576 bytes", ""},
		{"ycm body over 1 MiB", ycmDialect{}, once("PUT", ycmPath, big, true),
			KindValidation, 413, "INVALID_PARAMETER", 1000004, "request body is over 1048576 bytes", ""},
		{"partner missing token", partnerDialect{}, once("GET", ppPath, nil, false),
			KindAuth, 401, "INVALID_TOKEN", 0, "Authorization header is missing", ""},
		{"ycm missing token", ycmDialect{}, once("GET", "/dm/open_api/v1/cloud_pbx/instances/7701", nil, false),
			KindAuth, 401, "INVALID_TOKEN", 1000036, "Authorization header is missing", ""},
		{"partner unknown token", partnerDialect{}, func(ctx context.Context, c *conn, _ string) error {
			return c.once(ctx, request{method: "GET", path: ppPath}, nil, "0123456789abcdef", nil)
		}, KindAuth, 401, "INVALID_TOKEN", 0, "access token is not known", ""},
		{"ycm token of the other API", ycmDialect{}, func(ctx context.Context, c *conn, _ string) error {
			pc, err := newConn(Config{BaseURL: c.base.String(), ClientID: sim.DemoPartnerID, ClientSecret: sim.DemoPartnerSecret}, partnerDialect{})
			if err != nil {
				return err
			}
			ptok, err := pc.tokens.get(ctx)
			if err != nil {
				return err
			}
			return c.once(ctx, request{method: "GET", path: "/dm/open_api/v1/cloud_pbx/instances/7701"}, nil, ptok.access, nil)
		}, KindAuth, 401, "INVALID_TOKEN", 1000036, "access token is not known", ""},
		{"partner missing User-Agent", partnerDialect{}, raw("GET", ppPath, "", "", nil, true),
			KindValidation, 400, "PARAM_VALIDATION_FAILED", 0, "User-Agent header is required", "User-Agent"},
		{"ycm missing User-Agent", ycmDialect{}, raw("GET", "/dm/open_api/v1/cloud_pbx/instances/7701", "", "", nil, true),
			KindValidation, 400, "INVALID_PARAMETER", 1000004, "User-Agent header is required", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, access := simConn(t, tt.d)
			err := tt.send(t.Context(), c, access)
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("got %v (%T), want a *Error", err, err)
			}
			if pe.Kind != tt.kind || pe.HTTPStatus != tt.status || pe.Code != tt.code || pe.Errno != tt.errno || pe.API != tt.d.name() {
				t.Errorf("got kind %v HTTP %d code %q errno %d api %q, want %v %d %q %d %q",
					pe.Kind, pe.HTTPStatus, pe.Code, pe.Errno, pe.API, tt.kind, tt.status, tt.code, tt.errno, tt.d.name())
			}
			if !errors.Is(err, &Error{Kind: tt.kind}) {
				t.Errorf("errors.Is with the %v sentinel fails", tt.kind)
			}
			if !strings.Contains(pe.Message, tt.message) {
				t.Errorf("message %q, want it to contain %q", pe.Message, tt.message)
			}
			if tt.field != "" && (len(pe.Fields) != 1 || pe.Fields[0].Field != tt.field) {
				t.Errorf("fields %v, want %s", pe.Fields, tt.field)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, tt.d.name()+" "+tt.kind.String()+" ("+tt.code) || !strings.Contains(msg, tt.message) {
				t.Errorf("message %q", msg)
			}
			if strings.Contains(msg, access) {
				t.Errorf("message %q shows the token", msg)
			}
		})
	}
}

// TestUnknownFieldThroughDo: a body the portal refuses fails the call at once, named by its op.
func TestUnknownFieldThroughDo(t *testing.T) {
	c, _ := simConn(t, partnerDialect{})
	_, err := c.do(t.Context(), request{op: "create colleague a@demo.example", method: "POST", path: colleaguesPath,
		body: map[string]any{"yeastarId": "a@demo.example", "firstName": "A", "resourceIds": []int64{101}, "nickname": "A"}}, nil)
	want := `create colleague a@demo.example: partner portal validation (PARAM_VALIDATION_FAILED): nickname: unknown field`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %v, want %s", err, want)
	}
	if c.calls.Load() != 1 {
		t.Errorf("%d requests, want 1: a refused body is not retried", c.calls.Load())
	}
}

// TestDecodeAnswers covers answers the simulator does not give but a real portal, or
// something in front of it, may: each is a typed error that says what came back.
func TestDecodeAnswers(t *testing.T) {
	euro := strings.Repeat("€", 300)
	tests := []struct {
		name    string
		d       dialect
		status  int
		body    string
		kind    Kind
		code    string
		errno   int
		message string
	}{
		{"partner HTML page with 200", partnerDialect{}, 200, "<html><body>Sign in to the proxy</body></html>",
			KindServer, "", 0, "unreadable answer: <html><body>Sign in to the proxy"},
		{"partner gateway error page", partnerDialect{}, 502, "<html>Bad Gateway</html>", KindServer, "", 0, "<html>Bad Gateway</html>"},
		{"partner truncated JSON", partnerDialect{}, 200, `{"code":"success","result":{"colleaguesId":`, KindServer, "", 0, "unreadable answer"},
		{"partner result of another shape", partnerDialect{}, 200, `{"code":"success","result":"yes","status":200}`,
			KindServer, "", 0, "unexpected answer"},
		{"partner throttled without envelope", partnerDialect{}, 429, "slow down", KindThrottled, "", 0, "slow down"},
		{"partner unknown error word", partnerDialect{}, 400, `{"code":"SOMETHING_NEW","detailMessage":"no idea","status":400}`,
			KindValidation, "SOMETHING_NEW", 0, "no idea"},
		{"partner permission denied", partnerDialect{}, 403, `{"code":"PERMISSION_DENIED","detailMessage":"API not enabled","status":403}`,
			KindAuth, "PERMISSION_DENIED", 0, "API not enabled"},
		{"ycm errno as string", ycmDialect{}, 200, `{"errno":"1000005","errmsg":"DATA_NOT_FOUND","detail":"no cloud PBX 9","status":"Failed"}`,
			KindNotFound, "DATA_NOT_FOUND", 1000005, "no cloud PBX 9"},
		{"ycm unknown errno", ycmDialect{}, 200, `{"errno":1999999,"errmsg":"NEW_THING","detail":"?","status":"Failed"}`,
			KindValidation, "NEW_THING", 1999999, "?"},
		{"ycm failed envelope with 500", ycmDialect{}, 500, `{"errno":1000004,"errmsg":"INVALID_PARAMETER","detail":"boom","status":"Failed"}`,
			KindServer, "INVALID_PARAMETER", 1000004, "boom"},
		{"ycm empty 503", ycmDialect{}, 503, "", KindServer, "", 0, ""},
		{"ycm HTML page with 200", ycmDialect{}, 200, "<html>maintenance</html>", KindServer, "", 0, "unreadable answer: <html>maintenance"},
		{"ycm permission denied", ycmDialect{}, 200, `{"errno":1000043,"errmsg":"PERMISSION_DENIED","detail":"not yours","status":"Failed"}`,
			KindAuth, "PERMISSION_DENIED", 1000043, "not yours"},
		{"long multibyte body", ycmDialect{}, 502, euro, KindServer, "", 0, strings.Repeat("€", 10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out struct {
				ColleaguesID int64 `json:"colleaguesId"`
			}
			err := tt.d.decode(tt.status, http.Header{}, []byte(tt.body), &out)
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("got %v, want an *Error", err)
			}
			if pe.Kind != tt.kind || pe.Code != tt.code || pe.Errno != tt.errno || pe.HTTPStatus != tt.status {
				t.Errorf("got kind %v code %q errno %d HTTP %d, want %v %q %d %d",
					pe.Kind, pe.Code, pe.Errno, pe.HTTPStatus, tt.kind, tt.code, tt.errno, tt.status)
			}
			if !strings.Contains(pe.Message, tt.message) {
				t.Errorf("message %q, want it to contain %q", pe.Message, tt.message)
			}
			if msg := pe.Error(); !utf8.ValidString(msg) || len(msg) > 1000 {
				t.Errorf("message of %d bytes, valid UTF-8 %v: %q", len(msg), utf8.ValidString(msg), msg)
			}
		})
	}
}

func TestErrorShowsFieldsOnce(t *testing.T) {
	for _, tt := range []struct {
		e    Error
		want string
	}{
		{Error{Kind: KindValidation, API: partnerAPI, Op: "create colleague a@b", Code: "PARAM_VALIDATION_FAILED",
			Message: "bad parameters", Fields: []FieldError{{"yeastarId", "required"}, {"resourceIds", "empty"}}},
			"create colleague a@b: partner portal validation (PARAM_VALIDATION_FAILED): bad parameters; yeastarId: required; resourceIds: empty"},
		{Error{Kind: KindValidation, API: partnerAPI, Code: "PARAM_VALIDATION_FAILED",
			Message: "yeastarId: required", Fields: []FieldError{{"yeastarId", "required"}, {"resourceIds", "empty"}}},
			"partner portal validation (PARAM_VALIDATION_FAILED): yeastarId: required; resourceIds: empty"},
		{Error{Kind: KindThrottled, API: ycmAPI, Op: "list cloud PBXs", Code: "RATE_LIMIT_EXCEEDED", Errno: 1000040, RequestID: "r1"},
			"list cloud PBXs: ycm throttled (RATE_LIMIT_EXCEEDED 1000040) [request r1]"},
		{Error{Kind: KindServer, API: ycmAPI, HTTPStatus: 503}, "ycm server error (HTTP 503)"},
	} {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("got  %s\nwant %s", got, tt.want)
		}
	}
}

// TestCancelledDuringRetryAfter: a cancelled context ends the real back-off sleep at once.
func TestCancelledDuringRetryAfter(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/oauth/token") {
			w.Write([]byte(`{"code":"success","result":{"token":"t","refreshToken":"r","expiresIn":1800},"status":200}`))
			return
		}
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusTooManyRequests)
		w.Write([]byte(`{"code":"RATE_LIMIT_EXCEEDED","detailMessage":"wait an hour","status":429}`))
	}))
	t.Cleanup(ts.Close)
	sleeping := make(chan time.Duration, 1)
	cfg := Config{BaseURL: ts.URL, ClientID: "id", ClientSecret: "secret", MaxDelay: 2 * time.Hour,
		Sleep: func(ctx context.Context, d time.Duration) error {
			select {
			case sleeping <- d:
			default:
			}
			return sleepCtx(ctx, d)
		}}
	c, err := newConn(cfg, partnerDialect{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := c.do(ctx, request{op: "list permissions", method: "GET", path: "/x"}, nil)
		done <- err
	}()
	if d := <-sleeping; d < time.Hour {
		t.Errorf("slept %v, want the hour asked for", d)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second): // a guard: the sleep asked for is an hour
		t.Fatal("still sleeping after the context was cancelled")
	}
}

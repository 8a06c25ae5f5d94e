package portal_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ycm-onboard/ycm-onboard/portal"
	"github.com/ycm-onboard/ycm-onboard/portal/sim"
)

// logBuffer is a zerolog writer that tests can read back.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestSecretsStayOutOfErrorsAndLogs runs refused logins, refreshes, fresh logins,
// retries and failures with a debug logger, and looks for every secret and token that
// went over the wire in the log and in every error.
func TestSecretsStayOutOfErrorsAndLogs(t *testing.T) {
	const wrongSecret = "wrong-secret-4f9c2e"
	for _, api := range apiCases {
		t.Run(api.name, func(t *testing.T) {
			tp := &tap{}
			s, base := serveSim(t, sim.Options{}, tp.wrap)
			logs := &logBuffer{}
			logger := zerolog.New(logs).Level(zerolog.DebugLevel)
			var errs []error
			run := func(call func() error) {
				if err := call(); err != nil {
					errs = append(errs, err)
				}
			}

			bad := testConfig(base, api.id, wrongSecret, &sleeps{})
			bad.Logger = logger
			badClient := api.client(t, bad)
			run(func() error { return badClient(t.Context()) })

			cfg := testConfig(base, api.id, api.secret, &sleeps{})
			cfg.Logger, cfg.MaxAttempts = logger, 2
			good := api.client(t, cfg)
			call := func() error { return good(t.Context()) }
			run(call)
			s.Advance(31 * time.Minute) // a refresh
			run(call)
			s.Advance(16 * 24 * time.Hour) // a refused refresh, a fresh login
			run(call)
			s.SetFaults(sim.Faults{ErrorRate: 1}) // retries, then a server error
			run(call)
			s.SetFaults(sim.Faults{})
			tp.revoked.Store(true)
			s.Advance(16 * 24 * time.Hour) // a refused refresh, a refused login
			run(call)
			run(call)

			if len(errs) != 4 {
				t.Errorf("%d errors, want 4: %v", len(errs), errs)
			}
			log := logs.String()
			if !strings.Contains(log, "token issued") || !strings.Contains(log, "retrying") {
				t.Errorf("the log lacks the lines this test looks into:\n%s", log)
			}
			secrets := append(tp.seen(), wrongSecret, api.secret)
			if len(secrets) < 8 {
				t.Fatalf("only %d secrets and tokens seen on the wire", len(secrets))
			}
			for _, sec := range secrets {
				if strings.Contains(log, sec) {
					t.Errorf("the log shows %q:\n%s", sec, log)
				}
				for _, err := range errs {
					for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
						if strings.Contains(text, sec) {
							t.Errorf("an error shows %q: %s", sec, text)
						}
					}
				}
			}
		})
	}
}

// TestUnreadableTokenAnswerHidesTheToken: a token answer the client cannot read may
// hold a token, so the error says what is wrong without showing the answer.
func TestUnreadableTokenAnswerHidesTheToken(t *testing.T) {
	const leak = "tok-e3b0c44298fc1c149afbf4c8996fb924"
	for _, tt := range []struct {
		name   string
		answer string
		ycm    bool
	}{
		{"partner answer not enveloped", `{"access_token":"` + leak + `","expires_in":1800}`, false},
		{"partner result of another shape", `{"code":"success","result":{"token":"` + leak + `","expiresIn":"half an hour"},"status":200}`, false},
		{"ycm expiry of another shape", `{"access_token":"` + leak + `","refresh_token":"r","token_type":"bearer","expires_in":[1799]}`, true},
		{"ycm answer with a numeric status", `{"access_token":"` + leak + `","expires_in":1799,"status":200}`, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, tt.answer)
			}))
			t.Cleanup(ts.Close)
			logs := &logBuffer{}
			cfg := testConfig(ts.URL, "id", "secret", &sleeps{})
			cfg.Logger, cfg.MaxAttempts = zerolog.New(logs).Level(zerolog.DebugLevel), 2
			var err error
			if tt.ycm {
				y, _ := portal.NewYCM(cfg)
				_, err = y.PBX(t.Context(), 7701)
			} else {
				p, _ := portal.NewPartner(cfg)
				_, err = p.Colleague(t.Context(), 10001)
			}
			if err == nil {
				t.Fatal("an unreadable token answer was taken")
			}
			if strings.Contains(err.Error(), leak) || strings.Contains(logs.String(), leak) {
				t.Errorf("the token shows: %v\n%s", err, logs.String())
			}
			if !strings.Contains(err.Error(), "token") {
				t.Errorf("message %q does not say the token answer was the trouble", err)
			}
			t.Log(err)
		})
	}
}

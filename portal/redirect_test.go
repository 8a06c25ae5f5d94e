package portal_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rs/zerolog"

	"github.com/ycm-onboard/ycm-onboard/portal"
	"github.com/ycm-onboard/ycm-onboard/portal/sim"
)

// elsewhere records every request it gets: a host that must never see a credential.
type elsewhere struct {
	hits   atomic.Int64
	leaked atomic.Bool
}

func (e *elsewhere) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.hits.Add(1)
	body, _ := io.ReadAll(r.Body)
	if strings.Contains(string(body), sim.DemoPartnerSecret) || r.Header.Get("Authorization") != "" {
		e.leaked.Store(true)
	}
	w.WriteHeader(http.StatusTeapot)
}

// TestCredentialsGoOnlyWhereTheyWereSent: a token endpoint that redirects (307, which
// would send the form again) gets no second request, and an API call redirected to
// another host is not followed; both stop the run as a setting to fix.
func TestCredentialsGoOnlyWhereTheyWereSent(t *testing.T) {
	other := &elsewhere{}
	ots := httptest.NewServer(other)
	defer ots.Close()
	s, err := sim.New(sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name     string
		redirect string // the path that redirects
	}{
		{"the token endpoint", "/auth/openapi/v1/oauth/token"},
		{"an API call", "/user/openapi/user/v1/colleagues/10001"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == tt.redirect {
					http.Redirect(w, r, ots.URL+r.URL.Path, http.StatusTemporaryRedirect)
					return
				}
				s.ServeHTTP(w, r)
			}))
			defer ts.Close()
			p := partnerClient(t, ts.URL, &sleeps{})
			_, err := p.Colleague(t.Context(), 10001)
			if !portal.Fatal(err) || !strings.Contains(err.Error(), "check the portal URL") {
				t.Errorf("got %v, want a fatal error pointing at the URL", err)
			}
			if other.hits.Load() != 0 || other.leaked.Load() {
				t.Errorf("the other host got %d requests (a credential: %v)", other.hits.Load(), other.leaked.Load())
			}
		})
	}
}

// TestPlainHTTPToAnotherMachineIsRefused: refused when the client is made, before any
// dial; loopback (the simulator) and --insecure-http are allowed.
func TestPlainHTTPToAnotherMachineIsRefused(t *testing.T) {
	dialed := false
	hc := &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
		dialed = true
		return nil, errors.New("no network in tests")
	})}
	cfg := portal.Config{BaseURL: "http://portal.example.com", ClientID: "id", ClientSecret: "secret", HTTPClient: hc}
	if _, err := portal.NewPartner(cfg); err == nil || !strings.Contains(err.Error(), "use https://") {
		t.Errorf("plain HTTP to another machine: %v, want refused", err)
	}
	if dialed {
		t.Error("the refusal came after a dial")
	}
	for _, ok := range []string{"http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080", "https://portal.example.com"} {
		cfg.BaseURL = ok
		if _, err := portal.NewPartner(cfg); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	var logs bytes.Buffer
	cfg.BaseURL, cfg.InsecureHTTP, cfg.Logger = "http://portal.example.com", true, zerolog.New(&logs)
	if _, err := portal.NewYCM(cfg); err != nil {
		t.Errorf("with InsecureHTTP: %v", err)
	}
	if !strings.Contains(logs.String(), "insecure HTTP") {
		t.Errorf("InsecureHTTP is not warned about: %q", logs.String())
	}
	if dialed {
		t.Error("making a client dialed")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

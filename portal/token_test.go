package portal_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ycm-onboard/ycm-onboard/portal"
	"github.com/ycm-onboard/ycm-onboard/portal/sim"
)

// tap sits in front of the simulator and records what goes over the wire about tokens:
// the grant of each token request, every token issued and every bearer token sent.
// With revoked set it replaces the client secret of token requests, as an
// administrator rotating the API credentials in the portal would make it wrong.
type tap struct {
	revoked atomic.Bool

	mu      sync.Mutex
	grants  []string
	secrets []string // every token and secret seen
}

func isTokenPath(p string) bool { return strings.HasSuffix(p, "/oauth/token") }

func (tp *tap) saw(s ...string) {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	for _, v := range s {
		if v != "" {
			tp.secrets = append(tp.secrets, v)
		}
	}
}

func (tp *tap) grantsSeen() []string {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return append([]string(nil), tp.grants...)
}

func (tp *tap) seen() []string {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return append([]string(nil), tp.secrets...)
}

type teeWriter struct {
	http.ResponseWriter
	buf bytes.Buffer
}

func (w *teeWriter) Write(b []byte) (int, error) {
	w.buf.Write(b)
	return w.ResponseWriter.Write(b)
}

func (tp *tap) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			tp.saw(a)
		}
		if !isTokenPath(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		tp.mu.Lock()
		tp.grants = append(tp.grants, form.Get("grant_type"))
		tp.mu.Unlock()
		tp.saw(form.Get("client_secret"), form.Get("refresh_token"))
		if tp.revoked.Load() && form.Has("client_secret") {
			form.Set("client_secret", "rotated-away")
			body = []byte(form.Encode())
		}
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		tw := &teeWriter{ResponseWriter: w}
		next.ServeHTTP(tw, r)
		var ans struct {
			Result struct {
				Token        string `json:"token"`
				RefreshToken string `json:"refreshToken"`
			} `json:"result"`
			AccessToken  string `json:"access_token"`
			RefreshToken string `json:"refresh_token"`
		}
		if json.Unmarshal(tw.buf.Bytes(), &ans) == nil {
			tp.saw(ans.Result.Token, ans.Result.RefreshToken, ans.AccessToken, ans.RefreshToken)
		}
	})
}

// apiCase is one API seen from a test: how to make its client and make one read call.
type apiCase struct {
	name, id, secret string
	tokenRoute       string
	credGrant        string
	client           func(t *testing.T, cfg portal.Config) func(context.Context) error
}

var apiCases = []apiCase{
	{
		name: "partner portal", id: sim.DemoPartnerID, secret: sim.DemoPartnerSecret,
		tokenRoute: "POST /auth/openapi/v1/oauth/token", credGrant: "pp_credentials",
		client: func(t *testing.T, cfg portal.Config) func(context.Context) error {
			p, err := portal.NewPartner(cfg)
			if err != nil {
				t.Fatal(err)
			}
			return func(ctx context.Context) error { _, err := p.Colleague(ctx, 10001); return err }
		},
	},
	{
		name: "ycm", id: sim.DemoYCMID, secret: sim.DemoYCMSecret,
		tokenRoute: "POST /dm/open_api/oauth/token", credGrant: "client_credentials",
		client: func(t *testing.T, cfg portal.Config) func(context.Context) error {
			y, err := portal.NewYCM(cfg)
			if err != nil {
				t.Fatal(err)
			}
			return func(ctx context.Context) error { _, err := y.PBX(ctx, 7701); return err }
		},
	},
}

// TestExpiredTokens: the portal's clock runs ahead of the client's, so the client only
// learns of expiry from the portal. An expired access token is refreshed, an expired
// refresh token costs a fresh login, and a refused login ends every later call at once.
func TestExpiredTokens(t *testing.T) {
	for _, api := range apiCases {
		t.Run(api.name, func(t *testing.T) {
			tp := &tap{}
			s, base := serveSim(t, sim.Options{}, tp.wrap)
			client := api.client(t, testConfig(base, api.id, api.secret, &sleeps{}))
			call := func() error { return client(t.Context()) }
			tokens := func(status int) int64 { return routeCount(s, api.tokenRoute, status) }

			if err := call(); err != nil {
				t.Fatal(err)
			}
			s.Advance(31 * time.Minute)
			if err := call(); err != nil {
				t.Fatalf("after the access token expired: %v", err)
			}
			if diff := cmp.Diff([]string{api.credGrant, "refresh_token"}, tp.grantsSeen()); diff != "" {
				t.Errorf("token requests (-want +got):\n%s", diff)
			}

			s.Advance(16 * 24 * time.Hour)
			if err := call(); err != nil {
				t.Fatalf("after the refresh token expired: %v", err)
			}
			want := []string{api.credGrant, "refresh_token", "refresh_token", api.credGrant}
			if diff := cmp.Diff(want, tp.grantsSeen()); diff != "" {
				t.Errorf("token requests (-want +got):\n%s", diff)
			}
			if tokens(200) != 3 || tokens(401) != 1 {
				t.Errorf("token answers: %d ok and %d refused, want 3 and 1", tokens(200), tokens(401))
			}

			// The credentials are rotated away; the next expiry costs a refused refresh and
			// one refused login, and nothing after that reaches the token endpoint.
			tp.revoked.Store(true)
			s.Advance(16 * 24 * time.Hour)
			before := s.Stats().Total
			err := call()
			var pe *portal.Error
			if !errors.As(err, &pe) || pe.Kind != portal.KindAuth || pe.Code != "AUTHENTICATION_FAILED" || !portal.Fatal(err) {
				t.Fatalf("after the credentials were revoked: %v, want a fatal authentication error", err)
			}
			if n := s.Stats().Total - before; n != 3 { // the call, the refresh, the login
				t.Errorf("%d requests for the refused call, want 3", n)
			}
			before = s.Stats().Total
			for range 5 {
				if err := call(); !errors.Is(err, portal.ErrAuth) {
					t.Errorf("later call: %v, want the authentication error", err)
				}
			}
			if n := s.Stats().Total - before; n != 0 {
				t.Errorf("%d requests after the refused login, want none", n)
			}
			if tokens(401) != 3 {
				t.Errorf("%d refused token requests, want 3", tokens(401))
			}
		})
	}
}

// oauthPortal is a YCM whose token endpoint answers refusals as OAuth servers do
// (HTTP 400, {"error":"invalid_grant"}) rather than with the envelope. Access tokens named in expired answer TOKEN_EXPIRED.
type oauthPortal struct {
	mu          sync.Mutex
	grants      []string
	refuseLogin bool
	issued      int
	expired     map[string]bool
}

func (o *oauthPortal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	defer o.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Path == "/dm/open_api/oauth/token" {
		r.ParseForm()
		g := r.PostForm.Get("grant_type")
		o.grants = append(o.grants, g)
		switch {
		case g == "refresh_token":
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"invalid_grant","error_description":"Invalid refresh token"}`)
		case o.refuseLogin:
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"invalid_client","error_description":"Bad client credentials"}`)
		default:
			o.issued++
			fmt.Fprintf(w, `{"access_token":"a%d","refresh_token":"r%d","token_type":"bearer","expires_in":1799}`, o.issued, o.issued)
		}
		return
	}
	if o.expired[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")] {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"errno":1000035,"errmsg":"TOKEN_EXPIRED","detail":"expired","status":"Failed"}`)
		return
	}
	io.WriteString(w, `{"data":{"cloudPbxId":7701},"status":"Success"}`)
}

func (o *oauthPortal) seen() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.grants...)
}

// TestRefreshRefusedWithBadRequest: a refresh token refused with HTTP 400 leads to one fresh
// login, and a login refused with HTTP 400 is never tried again.
func TestRefreshRefusedWithBadRequest(t *testing.T) {
	o := &oauthPortal{expired: map[string]bool{"a1": true}}
	ts := httptest.NewServer(o)
	t.Cleanup(ts.Close)
	y, err := portal.NewYCM(testConfig(ts.URL, "id", "secret", &sleeps{}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, err := y.PBX(ctx, 7701); err != nil {
		t.Fatalf("after a refused refresh: %v, want a fresh login", err)
	}
	want := []string{"client_credentials", "refresh_token", "client_credentials"}
	if diff := cmp.Diff(want, o.seen()); diff != "" {
		t.Errorf("token requests (-want +got):\n%s", diff)
	}

	o.mu.Lock()
	o.expired["a2"], o.refuseLogin = true, true
	o.mu.Unlock()
	for range 5 {
		_, err := y.PBX(ctx, 7701)
		if err == nil {
			t.Fatal("a call succeeded with refused credentials")
		}
		// However it is refused, a login that says no stops the run.
		if !portal.Fatal(err) || !errors.Is(err, portal.ErrAuth) {
			t.Fatalf("refused login: %v, want a fatal authentication error", err)
		}
	}
	want = append(want, "refresh_token", "client_credentials")
	if diff := cmp.Diff(want, o.seen()); diff != "" {
		t.Errorf("token requests (-want +got):\n%s", diff)
	}
}

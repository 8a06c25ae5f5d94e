package web

import (
	"bytes"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"
	"github.com/rs/zerolog"

	"github.com/ycm-onboard/ycm-onboard/state"
)

// provider starts a real OpenID Connect provider (mockoidc) on 127.0.0.1; configure
// changes it before it starts (its clock, token lifetimes).
func provider(t *testing.T, configure func(*mockoidc.MockOIDC)) *mockoidc.MockOIDC {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if configure != nil {
		configure(m)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	return m
}

// syncBuffer is a log both the page and the test use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// ssoSite is the page with single sign-on through m: members of group "onboarding-leads"
// approve, verified addresses at partner.example upload. It returns the page's log.
func ssoSite(t *testing.T, m *mockoidc.MockOIDC) (*site, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	st := newSiteWith(t, func(c *Config) {
		c.Log = zerolog.New(logs)
		c.OIDC = &OIDC{Issuer: m.Issuer(), ClientID: m.ClientID, ClientSecret: m.ClientSecret,
			Scopes:  []string{"openid", "email", "profile", "groups"},
			Groups:  map[string]state.Role{"onboarding-leads": state.RoleApprover},
			Domains: map[string]state.Role{"Partner.Example": state.RoleUploader}}
	})
	t.Cleanup(func() {
		if strings.Contains(logs.String(), m.ClientSecret) {
			t.Errorf("the client secret is in the page's log:\n%s", logs)
		}
	})
	return st, logs
}

// ssoSignin goes through the provider as the user queued, following every redirect,
// and returns the page it lands on.
func ssoSignin(t *testing.T, b *client, m *mockoidc.MockOIDC) (int, string) {
	t.Helper()
	code, body := b.get("/oidc/start?next=%2F")
	if strings.Contains(body, m.ClientSecret) {
		t.Errorf("the client secret is on the page:\n%s", body)
	}
	return code, body
}

func TestSSOSignsInWithTheMappedRole(t *testing.T) {
	m := provider(t, nil)
	st, logs := ssoSite(t, m)

	b := st.client(t)
	if _, body := b.get("/signin"); !strings.Contains(body, "Sign in with your company account") || !strings.Contains(body, `id="name"`) {
		t.Fatalf("the sign-in page offers not both ways:\n%s", body)
	}
	m.QueueUser(&mockoidc.MockUser{Subject: "s1", Email: "Lee@Elsewhere.example", EmailVerified: true, Groups: []string{"sales", "onboarding-leads"}})
	code, body := ssoSignin(t, b, m)
	if code != http.StatusOK || !strings.Contains(body, "Check and plan") || !strings.Contains(body, "lee@elsewhere.example (approver)") {
		t.Fatalf("a member of onboarding-leads does not land on the upload page as an approver: %d\n%s", code, body)
	}
	if !strings.Contains(logs.String(), "lee@elsewhere.example") {
		t.Errorf("the sign-in is not logged with the e-mail:\n%s", logs)
	}
	// The session works for forms (its CSRF token) and signs out like any other.
	if code, body := b.post("/signout", url.Values{"csrf": {b.csrf()}}); code != http.StatusOK || !strings.Contains(body, "Sign in with your company account") {
		t.Errorf("signing out: %d\n%s", code, body)
	}

	// By domain: a verified address at partner.example uploads.
	b = st.client(t)
	m.QueueUser(&mockoidc.MockUser{Subject: "s2", Email: "ann@partner.example", EmailVerified: true})
	if code, body := ssoSignin(t, b, m); code != http.StatusOK || !strings.Contains(body, "ann@partner.example (uploader)") {
		t.Fatalf("a verified partner.example address does not land as an uploader: %d\n%s", code, body)
	}
	// The session ends with the same idle timeout as a local account's.
	st.now = st.now.Add(2 * time.Hour)
	if _, body := b.get("/"); !strings.Contains(body, `id="name"`) {
		t.Errorf("an idle company session goes on:\n%s", body)
	}
}

// otherAudience is a user whose ID token is made out to another client.
type otherAudience struct{ *mockoidc.MockUser }

func (u otherAudience) Claims(scope []string, c *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	c.Audience = jwt.ClaimStrings{"another-client"}
	return u.MockUser.Claims(scope, c)
}

func TestSSORefusesABadIDToken(t *testing.T) {
	user := &mockoidc.MockUser{Subject: "s1", Email: "lee@partner.example", EmailVerified: true, Groups: []string{"onboarding-leads"}}
	for _, tc := range []struct {
		name      string
		configure func(*mockoidc.MockOIDC)
		user      mockoidc.User
	}{
		{"wrong audience", nil, otherAudience{user}},
		// The provider's clock an hour behind: its 10-minute token expired 50 minutes ago.
		{"expired", func(m *mockoidc.MockOIDC) { m.FastForward(-time.Hour) }, user},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := provider(t, tc.configure)
			st, logs := ssoSite(t, m)
			b := st.client(t)
			m.QueueUser(tc.user)
			code, body := ssoSignin(t, b, m)
			if code != http.StatusUnauthorized || !strings.Contains(body, "ID token is not valid") {
				t.Errorf("%d\n%s", code, body)
			}
			if _, body := b.get("/"); !strings.Contains(body, `id="name"`) {
				t.Errorf("signed in after a refused token:\n%s", body)
			}
			if !strings.Contains(logs.String(), "the ID token is not valid") {
				t.Errorf("the refusal is not logged:\n%s", logs)
			}
		})
	}
}

func TestSSORefusesATamperedState(t *testing.T) {
	m := provider(t, nil)
	st, _ := ssoSite(t, m)
	b := st.client(t)
	// Stop at the provider's redirect back to the page.
	b.c.CheckRedirect = func(r *http.Request, _ []*http.Request) error {
		if r.URL.Path == "/oidc/callback" {
			return http.ErrUseLastResponse
		}
		return nil
	}
	m.QueueUser(&mockoidc.MockUser{Subject: "s1", Email: "lee@partner.example", EmailVerified: true})
	resp, err := b.c.Get(st.url + "/oidc/start")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || back.Query().Get("code") == "" || back.Query().Get("state") == "" {
		t.Fatalf("the provider did not send the browser back with a code and a state: %q", resp.Header.Get("Location"))
	}
	q := back.Query()
	q.Set("state", newToken())
	back.RawQuery = q.Encode()
	b.c.CheckRedirect = nil
	code, body := b.get(back.RequestURI())
	if code != http.StatusBadRequest || !strings.Contains(body, "does not match") {
		t.Errorf("a tampered state: %d\n%s", code, body)
	}
	if _, body := b.get("/"); !strings.Contains(body, `id="name"`) {
		t.Errorf("signed in after a tampered state:\n%s", body)
	}
	// The sign-in begun was used up: the right state now is refused too.
	q.Set("state", resp.Request.URL.Query().Get("state"))
	back.RawQuery = q.Encode()
	if code, _ := b.get(back.RequestURI()); code != http.StatusBadRequest {
		t.Errorf("a sign-in replayed after a refusal: %d", code)
	}
}

func TestSSORefusesAnAccountNoRuleAllows(t *testing.T) {
	m := provider(t, nil)
	st, logs := ssoSite(t, m)
	for _, u := range []*mockoidc.MockUser{
		{Subject: "s1", Email: "eve@elsewhere.example", EmailVerified: true, Groups: []string{"sales"}},
		// The right domain, but the provider does not vouch for the address.
		{Subject: "s2", Email: "mal@partner.example", EmailVerified: false},
	} {
		b := st.client(t)
		m.QueueUser(u)
		code, body := ssoSignin(t, b, m)
		want := "Your account (" + u.Email + ") is not allowed here: ask an admin to add your group or domain."
		if code != http.StatusForbidden || !strings.Contains(body, want) {
			t.Errorf("%s: %d, want the page saying %q:\n%s", u.Email, code, want, body)
		}
		if _, body := b.get("/"); !strings.Contains(body, `id="name"`) {
			t.Errorf("%s is signed in:\n%s", u.Email, body)
		}
		if !strings.Contains(logs.String(), u.Email) {
			t.Errorf("the refusal of %s is not logged with the e-mail:\n%s", u.Email, logs)
		}
	}
}

func TestLocalAccountsStillSignInBesideSSO(t *testing.T) {
	m := provider(t, nil)
	st, _ := ssoSite(t, m)
	st.client(t).signin("una", "uploader-password-1")
}

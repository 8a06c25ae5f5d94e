package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/ycm-onboard/ycm-onboard/state"
)

// OIDC is signing in with a company account through an OpenID Connect provider
// (Google Workspace, Microsoft Entra ID, Okta...): the authorization code flow with
// PKCE, state and nonce. A person so signed in has no row in the accounts: the role
// comes from the rules below at sign-in and stays in the session, so a change of group
// or rule applies at the next sign-in.
type OIDC struct {
	Issuer       string
	ClientID     string
	ClientSecret string // never logged, shown or put in an error
	// RedirectURL is the callback registered with the provider; empty, it is the page's
	// own origin (as the browser reached it) followed by /oidc/callback.
	RedirectURL string
	Scopes      []string // default openid, email, profile
	GroupsClaim string   // the ID token's claim listing the person's groups; default "groups"
	// Groups maps a group (as the claim names it) to a role; Domains maps an e-mail
	// domain to a role, and then the provider must say the address is verified. The
	// highest role any rule gives is the person's; none, and they are refused.
	Groups  map[string]state.Role
	Domains map[string]state.Role
}

// pendingLogins bounds the sign-ins begun and not finished (each costs a little memory
// and is begun without an account): beyond it the oldest are forgotten.
const (
	pendingLogins  = 10000
	pendingMaxAge  = 10 * time.Minute
	oidcCookieName = "ycm_onboard_oidc"
)

// oidcClient is the provider found at start-up.
type oidcClient struct {
	cfg      OIDC
	endpoint oauth2.Endpoint
	verifier *oidc.IDTokenVerifier
}

// pending is a sign-in sent to the provider, waiting for it to come back: used once.
type pending struct {
	state, verifier, nonce string
	redirect, next         string
	started                time.Time
}

// newOIDC asks the issuer for its endpoints and keys (OpenID Connect discovery).
func newOIDC(ctx context.Context, cfg OIDC, now func() time.Time) (*oidcClient, error) {
	if cfg.Issuer == "" || cfg.ClientID == "" || cfg.ClientSecret == "" {
		return nil, errors.New("single sign-on needs an issuer, a client id and a client secret")
	}
	if len(cfg.Groups) == 0 && len(cfg.Domains) == 0 {
		return nil, errors.New("single sign-on needs at least one rule giving a role: a group (--oidc-role GROUP=ROLE) or an e-mail domain (--oidc-domain DOMAIN=ROLE)")
	}
	domains := map[string]state.Role{}
	for d, r := range cfg.Domains {
		domains[strings.ToLower(strings.TrimPrefix(strings.TrimSpace(d), "@"))] = r
	}
	cfg.Domains = domains
	if cfg.GroupsClaim == "" {
		cfg.GroupsClaim = "groups"
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{oidc.ScopeOpenID, "email", "profile"}
	}
	if !slices.Contains(cfg.Scopes, oidc.ScopeOpenID) {
		cfg.Scopes = append([]string{oidc.ScopeOpenID}, cfg.Scopes...)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(ctx, cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("single sign-on: discover the provider at %s (is --oidc-issuer right and reachable?): %w", cfg.Issuer, err)
	}
	return &oidcClient{cfg: cfg, endpoint: p.Endpoint(),
		// Issuer, audience (our client id), expiry and signature; the nonce is checked
		// against the sign-in's own below.
		verifier: p.Verifier(&oidc.Config{ClientID: cfg.ClientID, Now: now})}, nil
}

// oauth2 is the client for one redirect URL.
func (o *oidcClient) oauth2(redirect string) *oauth2.Config {
	return &oauth2.Config{ClientID: o.cfg.ClientID, ClientSecret: o.cfg.ClientSecret, Endpoint: o.endpoint,
		RedirectURL: redirect, Scopes: o.cfg.Scopes}
}

// origin is the page's scheme and host as the browser reached it.
func (s *Server) origin(r *http.Request) string {
	host := r.Host
	if fh := r.Header.Get("X-Forwarded-Host"); fh != "" && s.trusted(r) {
		host = fh
	}
	if s.secure(r) {
		return "https://" + host
	}
	return "http://" + host
}

// oidcStart sends the browser to the provider, remembering the sign-in under a random
// id held in a short-lived cookie.
func (s *Server) oidcStart(w http.ResponseWriter, r *http.Request) {
	o := s.oidc
	redirect := o.cfg.RedirectURL
	if redirect == "" {
		redirect = s.origin(r) + "/oidc/callback"
	}
	p := &pending{state: newToken(), verifier: oauth2.GenerateVerifier(), nonce: newToken(),
		redirect: redirect, next: safeNext(r.URL.Query().Get("next")), started: s.cfg.Now()}
	id := newToken()
	s.mu.Lock()
	now := s.cfg.Now()
	for k, v := range s.pending {
		if now.Sub(v.started) > pendingMaxAge {
			delete(s.pending, k)
		}
	}
	if len(s.pending) >= pendingLogins {
		oldest := ""
		for k, v := range s.pending {
			if oldest == "" || v.started.Before(s.pending[oldest].started) {
				oldest = k
			}
		}
		delete(s.pending, oldest)
	}
	s.pending[id] = p
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: oidcCookieName, Value: id, Path: "/oidc/", MaxAge: int(pendingMaxAge / time.Second),
		HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, o.oauth2(redirect).AuthCodeURL(p.state, oauth2.S256ChallengeOption(p.verifier), oidc.Nonce(p.nonce)), http.StatusFound)
}

// oidcRefuse shows why a sign-in with a company account did not work.
func (s *Server) oidcRefuse(w http.ResponseWriter, status int, msg string) {
	w.WriteHeader(status)
	s.render(w, "error.html", page{Title: "Not signed in", Error: msg, Data: errorData{Back: "/signin", BackText: "Back to the sign-in page"}})
}

// oidcCallback is the provider sending the browser back: the state, the code (with
// the PKCE verifier), the ID token and its nonce are checked, then the rules give a
// role, or refuse.
func (s *Server) oidcCallback(w http.ResponseWriter, r *http.Request) {
	o := s.oidc
	var p *pending
	if c, err := r.Cookie(oidcCookieName); err == nil {
		s.mu.Lock()
		p = s.pending[c.Value]
		delete(s.pending, c.Value) // one use, however it ends
		s.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: oidcCookieName, Value: "", Path: "/oidc/", MaxAge: -1,
		HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteLaxMode})
	addr := s.clientAddr(r)
	if p == nil || s.cfg.Now().Sub(p.started) > pendingMaxAge {
		s.cfg.Log.Warn().Str("addr", addr).Msg("company sign-in refused: no sign-in was begun from this browser, or it is over 10 minutes old or used")
		s.oidcRefuse(w, http.StatusBadRequest, "This sign-in has expired or was already used: start again from the sign-in page.")
		return
	}
	q := r.URL.Query()
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(p.state)) != 1 {
		s.cfg.Log.Warn().Str("addr", addr).Msg("company sign-in refused: the state does not match the sign-in begun")
		s.oidcRefuse(w, http.StatusBadRequest, "This sign-in does not match the one this browser began: start again from the sign-in page.")
		return
	}
	if e := q.Get("error"); e != "" {
		s.cfg.Log.Warn().Str("addr", addr).Str("error", e).Str("description", q.Get("error_description")).Msg("company sign-in refused by the provider")
		s.oidcRefuse(w, http.StatusUnauthorized, fmt.Sprintf("Your company's sign-in service refused: %s. Start again, or ask an admin.", e))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	tok, err := o.oauth2(p.redirect).Exchange(ctx, q.Get("code"), oauth2.VerifierOption(p.verifier))
	if err != nil {
		s.cfg.Log.Warn().Err(err).Str("addr", addr).Msg("company sign-in refused: the code could not be exchanged for a token")
		s.oidcRefuse(w, http.StatusBadGateway, "Your company's sign-in service did not accept this sign-in: start again, or ask an admin to check the page's single sign-on settings.")
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		s.cfg.Log.Warn().Str("addr", addr).Msg("company sign-in refused: the provider sent no ID token")
		s.oidcRefuse(w, http.StatusBadGateway, "Your company's sign-in service sent no ID token: ask an admin to check the page's single sign-on settings.")
		return
	}
	idt, err := o.verifier.Verify(ctx, raw)
	if err == nil && subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(p.nonce)) != 1 {
		err = errors.New("the nonce does not match the sign-in begun")
	}
	if err != nil {
		s.cfg.Log.Warn().Err(err).Str("addr", addr).Msg("company sign-in refused: the ID token is not valid")
		s.oidcRefuse(w, http.StatusUnauthorized, "The sign-in's ID token is not valid (wrong audience or issuer, expired, or not for this sign-in): start again, or ask an admin.")
		return
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		s.cfg.Log.Warn().Err(err).Str("addr", addr).Msg("company sign-in refused: the ID token's claims cannot be read")
		s.oidcRefuse(w, http.StatusBadGateway, "The sign-in's ID token cannot be read: ask an admin.")
		return
	}
	email, _ := claims["email"].(string)
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		s.cfg.Log.Warn().Str("subject", idt.Subject).Str("addr", addr).Msg("company sign-in refused: the ID token has no e-mail (is the email scope granted?)")
		s.oidcRefuse(w, http.StatusForbidden, "Your company account gave this page no e-mail address: ask an admin.")
		return
	}
	role, ok := o.role(email, claims)
	if !ok {
		s.cfg.Log.Warn().Str("email", email).Str("addr", addr).Msg("company sign-in refused: no group or domain rule allows this account")
		s.event(r.Context(), email, "sign-in refused", "company account matches no group or domain rule, from "+addr)
		s.oidcRefuse(w, http.StatusForbidden, fmt.Sprintf("Your account (%s) is not allowed here: ask an admin to add your group or domain.", email))
		return
	}
	id := newToken()
	now := s.cfg.Now()
	s.mu.Lock()
	s.sessions[id] = &session{user: state.User{Name: email, Role: role}, csrf: newToken(), seen: now, started: now, sso: true}
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: id, Path: "/", HttpOnly: true, Secure: s.secure(r),
		SameSite: http.SameSiteLaxMode})
	s.cfg.Log.Info().Str("user", email).Str("role", string(role)).Msg("signed in with a company account")
	s.event(r.Context(), email, "sign-in", "company account ("+string(role)+") from "+addr)
	http.Redirect(w, r, p.next, http.StatusSeeOther)
}

// role is the highest role the rules give this person; ok is false when none does.
// A domain rule counts only for an address the provider says is verified.
func (o *oidcClient) role(email string, claims map[string]any) (role state.Role, ok bool) {
	better := func(r state.Role) {
		if !ok || !role.AtLeast(r) {
			role, ok = r, true
		}
	}
	for _, g := range groupsOf(claims[o.cfg.GroupsClaim]) {
		if r, found := o.cfg.Groups[g]; found {
			better(r)
		}
	}
	if verified, _ := claims["email_verified"].(bool); verified {
		if at := strings.LastIndexByte(email, '@'); at >= 0 {
			if r, found := o.cfg.Domains[email[at+1:]]; found {
				better(r)
			}
		}
	}
	return role, ok
}

// groupsOf reads a groups claim: a list of names, or one name.
func groupsOf(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var gs []string
		for _, g := range v {
			if s, ok := g.(string); ok {
				gs = append(gs, s)
			}
		}
		return gs
	}
	return nil
}

// Package web serves the account managers' page: sign in, drop a workbook, see what is
// wrong with which cell and what will change, apply (approvers), download the report,
// and see who has not activated yet. Every run goes through package job, exactly as the
// command line's, with the same validation, plan, guards, history, lock and report.
package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"mime/multipart"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/ycm-onboard/ycm-onboard/importer"
	"github.com/ycm-onboard/ycm-onboard/internal/words"
	"github.com/ycm-onboard/ycm-onboard/job"
	"github.com/ycm-onboard/ycm-onboard/notify"
	"github.com/ycm-onboard/ycm-onboard/portal"
	"github.com/ycm-onboard/ycm-onboard/reconcile"
	"github.com/ycm-onboard/ycm-onboard/state"
)

//go:embed templates
var templateFS embed.FS

// Config is what a Server needs.
type Config struct {
	Partner            *portal.PartnerClient
	YCM                *portal.YCMClient
	PartnerURL, YCMURL string
	StateDir           string // the run history, the lock and the accounts
	WorkDir            string // uploads and reports, one directory per upload
	Diff               reconcile.Options
	// Approval says which plans an approver only proposes, for another approver to
	// approve on the Proposals page (four eyes).
	Approval      reconcile.Approval
	Concurrency   int
	LockTimeout   time.Duration
	Secure        bool          // cookies only over HTTPS
	IdleTimeout   time.Duration // a session unused this long ends; default 30m
	MaxSessionAge time.Duration // a session ends this long after sign-in, however busy; default 12h
	DemoAccounts  []DemoAccount // shown on the sign-in page (the demo world only)
	MaxUpload     int64         // bytes one upload may hold in all; default 20 MB
	// TrustedProxies are the addresses of the reverse proxies in front of the page: from
	// them, X-Forwarded-For names the client, X-Forwarded-Proto https makes cookies
	// Secure, and X-Forwarded-Host is the page's host.
	TrustedProxies []netip.Prefix
	KeepUploads    time.Duration // uploads and their reports older than this are removed; default 7 days
	Version        string
	Log            zerolog.Logger
	Now            func() time.Time
	// Ran, when set, is told of every run the page starts (plans, applies, re-invites)
	// once it has ended, however it ended: what job.Run returned, or the refusal of
	// input that could not be read. It is called before the page shows the run as done.
	Ran func(mode job.Mode, out job.Outcome, err error)
	// OIDC, when set, adds signing in with a company account beside the local accounts.
	// New asks its issuer for the provider's endpoints and keys.
	OIDC *OIDC
	// Notify are told how the page's applies (proposals and re-invites among them)
	// ended, and of the approvals and refusals of proposals, by their when rules, as
	// the command line's runs are; a plan is not told of. Each is sent in the
	// background once the run has ended, all of one run within NotifyTimeout (default
	// notify.Budget); a failed send is logged with the receiver's kind and host only.
	Notify        []notify.Receiver
	NotifyTimeout time.Duration
	Host          string // this machine, as the notifications name it
}

// DemoAccount is an account the demo creates and names on its sign-in page.
type DemoAccount struct{ Name, Password, Role string }

// defaultMaxUpload bounds one upload's request body.
const defaultMaxUpload = 20 << 20

// Sign-in attempts within failWindow: maxFailures for one name from one address, then
// that pair waits until the window has passed; an address gets maxFailures*4 over all
// names (one guessing many accounts), a name maxFailures*10 over all addresses (many
// guessing one), so a stranger needs far more than five tries to lock a colleague out.
const (
	maxFailures = 5
	failWindow  = 15 * time.Minute
)

// failureLimit is how many failures a lock-out key allows.
func failureLimit(key string) int {
	switch {
	case strings.HasPrefix(key, "addr:"):
		return maxFailures * 4
	case strings.HasPrefix(key, "name:"):
		return maxFailures * 10
	}
	return maxFailures
}

// Server is the web page. Close waits for the applies it started.
type Server struct {
	cfg   Config
	store *state.Store
	tmpl  *template.Template
	mux   *http.ServeMux

	ctx     context.Context // ends the applies when the server stops
	cancel  context.CancelFunc
	wg      sync.WaitGroup // the runs, notifications and sweeps Close waits for
	closing bool           // Stop has begun: no run starts; notifications are sent by their caller (under mu)

	mu       sync.Mutex
	sessions map[string]*session
	uploads  map[string]*upload
	order    []string               // upload ids, newest last
	failures map[string][]time.Time // failed sign-ins by "name:" or "addr:"

	oidc    *oidcClient         // nil without single sign-on
	pending map[string]*pending // company sign-ins begun, by the id in their cookie
}

type session struct {
	user    state.User
	csrf    string
	seen    time.Time
	started time.Time
	// sso: signed in with a company account, which has no row in the accounts; its
	// role is the one the rules gave at sign-in, kept until the session ends.
	sso bool
}

// New opens the accounts and returns the page's handler.
func New(cfg Config) (*Server, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 30 * time.Minute
	}
	if cfg.MaxSessionAge <= 0 {
		cfg.MaxSessionAge = 12 * time.Hour
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.MaxUpload <= 0 {
		cfg.MaxUpload = defaultMaxUpload
	}
	if cfg.KeepUploads <= 0 {
		cfg.KeepUploads = 7 * 24 * time.Hour
	}
	if cfg.NotifyTimeout <= 0 {
		cfg.NotifyTimeout = notify.Budget
	}
	if err := os.MkdirAll(cfg.WorkDir, 0o700); err != nil {
		return nil, fmt.Errorf("upload directory: %w", err)
	}
	store, err := state.Open(cfg.StateDir, cfg.Now)
	if err != nil {
		return nil, fmt.Errorf("open the accounts in %s: %w", cfg.StateDir, err)
	}
	tmpl, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		store.Close()
		return nil, err
	}
	var oc *oidcClient
	if cfg.OIDC != nil {
		if oc, err = newOIDC(context.Background(), *cfg.OIDC, cfg.Now); err != nil {
			store.Close()
			return nil, err
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{cfg: cfg, store: store, tmpl: tmpl, ctx: ctx, cancel: cancel, oidc: oc, pending: map[string]*pending{},
		sessions: map[string]*session{}, uploads: map[string]*upload{}, failures: map[string][]time.Time{}}
	s.routes()
	s.removeOldUploads()
	s.wg.Go(func() {
		t := time.NewTicker(time.Hour)
		defer t.Stop()
		for {
			select {
			case <-s.ctx.Done():
				return
			case <-t.C:
				s.removeOldUploads()
			}
		}
	})
	return s, nil
}

// removeOldUploads removes the uploads, and their reports, older than KeepUploads,
// except one being applied.
func (s *Server) removeOldUploads() {
	entries, err := os.ReadDir(s.cfg.WorkDir)
	if err != nil {
		return
	}
	cutoff := s.cfg.Now().Add(-s.cfg.KeepUploads)
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !e.IsDir() || info.ModTime().After(cutoff) {
			continue
		}
		s.mu.Lock()
		u := s.uploads[e.Name()]
		busy := false
		if u != nil {
			u.mu.Lock()
			busy = u.Applying
			u.mu.Unlock()
		}
		if !busy {
			delete(s.uploads, e.Name())
			s.order = slices.DeleteFunc(s.order, func(id string) bool { return id == e.Name() })
		}
		s.mu.Unlock()
		if !busy {
			if err := os.RemoveAll(filepath.Join(s.cfg.WorkDir, e.Name())); err != nil {
				s.cfg.Log.Warn().Err(err).Msg("removing an old upload")
			}
		}
	}
}

// trusted reports whether r came through one of the trusted proxies.
func (s *Server) trusted(r *http.Request) bool {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(ap.Addr().Unmap()) {
			return true
		}
	}
	return false
}

// secure reports whether the browser reached the page over HTTPS.
func (s *Server) secure(r *http.Request) bool {
	return s.cfg.Secure || r.TLS != nil || (s.trusted(r) && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https"))
}

// Stop begins closing the page: the runs in flight stop sending new changes (each
// finishes its calls and writes its report) and no new run starts. It does not wait.
func (s *Server) Stop() {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	s.cancel()
}

// Close stops the page, waits for the runs in flight and the notifications being sent
// (NotifyTimeout at most) and closes the accounts.
func (s *Server) Close() error {
	s.Stop()
	s.wg.Wait()
	return s.store.Close()
}

// begin counts a run that Close waits for; false once Stop has begun: no run starts
// then. Call it holding no upload's lock (s.mu is taken before theirs).
func (s *Server) begin() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.wg.Add(1)
	return true
}

// stopping answers a run asked for while the page stops.
func (s *Server) stopping(w http.ResponseWriter) {
	http.Error(w, "The page is stopping for a restart: nothing was changed. Try again in a minute.", http.StatusServiceUnavailable)
}

// Invitations are the run history's invitations, for the metrics.
func (s *Server) Invitations(ctx context.Context) ([]state.Invitation, error) {
	return s.store.Invitations(ctx)
}

// ran tells Config.Ran of a run that ended.
func (s *Server) ran(mode job.Mode, out job.Outcome, err error) {
	if s.cfg.Ran != nil {
		s.cfg.Ran(mode, out, err)
	}
}

// HasAdmin reports whether anyone can manage accounts yet.
func (s *Server) HasAdmin(ctx context.Context) (bool, error) { return s.store.HasAdmin(ctx) }

// AddDemoAccounts creates the demo's accounts (the demo world only).
func (s *Server) AddDemoAccounts(ctx context.Context) error {
	for _, a := range s.cfg.DemoAccounts {
		role, err := state.ParseRole(a.Role)
		if err != nil {
			return err
		}
		if err := s.store.AddUser(ctx, a.Name, role, a.Password); err != nil && !errors.Is(err, state.ErrUserExists) {
			return err
		}
	}
	return nil
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store") // Back after signing out shows no page
	if r.Method == http.MethodPost {
		// Bounded before anything reads it, the session and token checks included:
		// an upload gets --max-upload and a little for the form, any other post 64 KB.
		limit := int64(64 << 10)
		if r.URL.Path == "/uploads" {
			limit = s.cfg.MaxUpload + 64<<10
		}
		if r.ContentLength > limit {
			w.Header().Set("Connection", "close")
			http.Error(w, fmt.Sprintf("This upload is larger than %d MB in all: split the workbook, or ask the admin to raise --max-upload.", s.cfg.MaxUpload>>20), http.StatusRequestEntityTooLarge)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Server) routes() {
	m := http.NewServeMux()
	static, _ := fs.Sub(staticFS(), "static")
	m.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	m.HandleFunc("GET /signin", s.signinPage)
	m.HandleFunc("POST /signin", s.signin)
	if s.oidc != nil {
		m.HandleFunc("GET /oidc/start", s.oidcStart)
		m.HandleFunc("GET /oidc/callback", s.oidcCallback)
	}
	m.HandleFunc("POST /signout", s.auth(state.RoleUploader, s.signout))
	m.HandleFunc("GET /{$}", s.auth(state.RoleUploader, s.home))
	m.HandleFunc("POST /uploads", s.auth(state.RoleUploader, s.uploadFiles))
	m.HandleFunc("GET /uploads/{id}", s.auth(state.RoleUploader, s.uploadPage))
	m.HandleFunc("GET /uploads/{id}/progress", s.auth(state.RoleUploader, s.progressFragment))
	m.HandleFunc("POST /uploads/{id}/apply", s.auth(state.RoleApprover, s.apply))
	m.HandleFunc("POST /uploads/{id}/replan", s.auth(state.RoleUploader, s.replan))
	m.HandleFunc("GET /template", s.auth(state.RoleUploader, s.template))
	m.HandleFunc("GET /uploads/{id}/report", s.auth(state.RoleUploader, s.report))
	m.HandleFunc("GET /invitations", s.auth(state.RoleUploader, s.invitations))
	m.HandleFunc("POST /invitations/reinvite", s.auth(state.RoleApprover, s.reinvite))
	m.HandleFunc("GET /runs", s.auth(state.RoleUploader, s.runs))
	m.HandleFunc("GET /proposals", s.auth(state.RoleUploader, s.proposals))
	m.HandleFunc("POST /proposals/{id}/approve", s.auth(state.RoleApprover, s.approveProposal))
	m.HandleFunc("POST /proposals/{id}/refuse", s.auth(state.RoleApprover, s.refuseProposal))
	m.HandleFunc("GET /runs/{id}/report", s.auth(state.RoleUploader, s.runReport))
	s.mux = m
}

// staticFS is the vendored htmx and CSS (web.Static).
func staticFS() fs.FS { return Static }

func newToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on a supported system
	}
	return hex.EncodeToString(b[:])
}

const cookieName = "ycm_onboard_session"

// current is the request's session, nil when signed out or idle too long.
func (s *Server) current(r *http.Request) *session {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	se := s.sessions[c.Value]
	now := s.cfg.Now()
	if se == nil || now.Sub(se.seen) > s.cfg.IdleTimeout || now.Sub(se.started) > s.cfg.MaxSessionAge {
		delete(s.sessions, c.Value)
		s.mu.Unlock()
		return nil
	}
	if se.sso {
		se.seen = now
		s.mu.Unlock()
		return se
	}
	name := se.user.Name
	s.mu.Unlock()
	// The account as it is now: removed, given a new password or another role since
	// the session began, it counts from this request on.
	u, err := s.store.User(r.Context(), name)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil || u.PasswordChanged.After(se.started) {
		delete(s.sessions, c.Value)
		return nil
	}
	se.user, se.seen = u, now
	return se
}

type handler func(w http.ResponseWriter, r *http.Request, se *session)

// auth lets a request through with a session of at least role; a form post must carry
// the session's CSRF token and come from this site.
func (s *Server) auth(role state.Role, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		se := s.current(r)
		if se == nil {
			next := r.URL.RequestURI()
			if r.Method != http.MethodGet { // the page the form was on
				next = "/"
				if ref, err := url.Parse(r.Referer()); err == nil && ref.Host == r.Host {
					next = ref.RequestURI()
				}
			}
			if r.Header.Get("HX-Request") != "" {
				w.Header().Set("HX-Redirect", "/signin?next="+url.QueryEscape(next))
				http.Error(w, "Signed out: sign in again.", http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, "/signin?next="+url.QueryEscape(next), http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost {
			var err error
			if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
				err = r.ParseMultipartForm(8 << 20) // the rest spills to temporary files, removed after the request
			} else {
				err = r.ParseForm()
			}
			if errors.As(err, new(*http.MaxBytesError)) {
				http.Error(w, fmt.Sprintf("This upload is larger than %d MB in all: split the workbook, or ask the admin to raise --max-upload.", s.cfg.MaxUpload>>20), http.StatusRequestEntityTooLarge)
				return
			}
			if !s.sameOrigin(r) || subtle.ConstantTimeCompare([]byte(r.FormValue("csrf")), []byte(se.csrf)) != 1 {
				http.Error(w, "This form is out of date: reload the page and try again.", http.StatusForbidden)
				return
			}
		}
		if !se.user.Role.AtLeast(role) {
			w.WriteHeader(http.StatusForbidden)
			s.render(w, "error.html", page{Session: se, Title: "Not allowed",
				Error: fmt.Sprintf("Your account (%s) cannot do this: ask an %s.", se.user.Role, role)})
			return
		}
		h(w, r, se)
	}
}

// sameOrigin refuses a post another site's page made the browser send.
func (s *Server) sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return r.Header.Get("Sec-Fetch-Site") != "cross-site"
	}
	host := r.Host
	if fh := r.Header.Get("X-Forwarded-Host"); fh != "" && s.trusted(r) {
		host = fh
	}
	return strings.TrimPrefix(strings.TrimPrefix(o, "https://"), "http://") == host
}

// page is what every template gets.
type page struct {
	Session *session
	Title   string
	Error   string
	Notice  string
	Data    any
}

func (p page) User() string {
	if p.Session == nil {
		return ""
	}
	return p.Session.user.Name
}

func (p page) Role() string {
	if p.Session == nil {
		return ""
	}
	return string(p.Session.user.Role)
}

func (p page) CSRF() string {
	if p.Session == nil {
		return ""
	}
	return p.Session.csrf
}

// event records what a person did in the run history; a failure to record is logged.
func (s *Server) event(ctx context.Context, user, kind, detail string) {
	if err := s.store.RecordEvent(ctx, state.Event{At: s.cfg.Now(), User: user, Kind: kind, Detail: detail}); err != nil {
		s.cfg.Log.Warn().Err(err).Msg("recording an event")
	}
}

func (s *Server) render(w http.ResponseWriter, name string, p page) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := s.tmpl.ExecuteTemplate(w, name, p); err != nil {
		s.cfg.Log.Error().Err(err).Str("template", name).Msg("render")
	}
}

func (s *Server) signinPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, "signin.html", page{Title: "Sign in", Data: signinData{Next: safeNext(r.URL.Query().Get("next")), Demo: s.cfg.DemoAccounts, SSO: s.oidc != nil}})
}

type signinData struct {
	Next string
	Demo []DemoAccount
	Name string
	SSO  bool // offer signing in with a company account
}

// errorData, on the error page, names where to go back to instead of the upload page.
type errorData struct{ Back, BackText string }

// safeNext keeps a redirect after sign-in on this site.
func safeNext(n string) string {
	if !strings.HasPrefix(n, "/") || strings.HasPrefix(n, "//") || strings.Contains(n, `\`) ||
		strings.ContainsFunc(n, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "/"
	}
	return n
}

func (s *Server) signin(w http.ResponseWriter, r *http.Request) {
	if !s.sameOrigin(r) {
		http.Error(w, "Sign in from this site's page.", http.StatusForbidden)
		return
	}
	name, pw := strings.TrimSpace(r.FormValue("name")), r.FormValue("password")
	next := safeNext(r.FormValue("next"))
	addr := s.clientAddr(r)
	keys := []string{"pair:" + strings.ToLower(name) + "|" + addr, "name:" + strings.ToLower(name), "addr:" + addr}
	if wait := s.lockedOut(keys); wait > 0 {
		w.WriteHeader(http.StatusTooManyRequests)
		s.render(w, "signin.html", page{Title: "Sign in", Error: fmt.Sprintf(
			"Too many failed sign-ins for this name or from this address: try again in %d minutes.",
			int(wait.Minutes())+1), Data: signinData{Next: next, Demo: s.cfg.DemoAccounts, Name: name, SSO: s.oidc != nil}})
		return
	}
	u, err := s.store.Authenticate(r.Context(), name, pw)
	if err != nil {
		if !errors.Is(err, state.ErrBadLogin) {
			s.cfg.Log.Error().Err(err).Msg("sign in")
		}
		s.failed(keys)
		// A name that is no account may be a password typed in the wrong field: it is
		// neither logged nor recorded.
		who := "(no such account)"
		if _, err := s.store.User(r.Context(), name); err == nil {
			who = strings.ToLower(name)
		}
		s.cfg.Log.Warn().Str("name", who).Str("addr", s.clientAddr(r)).Msg("failed sign-in")
		s.event(r.Context(), who, "sign-in refused", "from "+s.clientAddr(r))
		w.WriteHeader(http.StatusUnauthorized)
		s.render(w, "signin.html", page{Title: "Sign in", Error: "The name or the password is wrong.",
			Data: signinData{Next: next, Demo: s.cfg.DemoAccounts, Name: name, SSO: s.oidc != nil}})
		return
	}
	tok := newToken()
	s.mu.Lock()
	s.sessions[tok] = &session{user: u, csrf: newToken(), seen: s.cfg.Now(), started: s.cfg.Now()}
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: tok, Path: "/", HttpOnly: true, Secure: s.secure(r),
		SameSite: http.SameSiteLaxMode})
	s.cfg.Log.Info().Str("user", u.Name).Msg("signed in")
	s.event(r.Context(), u.Name, "sign-in", "from "+s.clientAddr(r))
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// clientAddr is the address a request came from (without the port): through a trusted
// proxy, the last address X-Forwarded-For names.
func (s *Server) clientAddr(r *http.Request) string {
	if s.trusted(r) {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			parts := strings.Split(xff, ",")
			return strings.TrimSpace(parts[len(parts)-1])
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// lockedOut says how long sign-ins for these keys stay refused, 0 when they are not.
func (s *Server) lockedOut(keys []string) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	var wait time.Duration
	for _, k := range keys {
		recent := slices.DeleteFunc(s.failures[k], func(t time.Time) bool { return now.Sub(t) > failWindow })
		s.failures[k] = recent
		if n := failureLimit(k); len(recent) >= n {
			wait = max(wait, recent[len(recent)-n].Add(failWindow).Sub(now))
		}
	}
	return wait
}

func (s *Server) failed(keys []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		s.failures[k] = append(s.failures[k], s.cfg.Now())
	}
}

func (s *Server) signout(w http.ResponseWriter, r *http.Request, se *session) {
	s.event(r.Context(), se.user.Name, "sign-out", "")
	if c, err := r.Cookie(cookieName); err == nil {
		s.mu.Lock()
		delete(s.sessions, c.Value)
		s.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.secure(r),
		SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

// upload is one set of files dropped on the page, its plan and, once applied, its run.
type upload struct {
	ID       string
	Owner    string
	Dir      string
	Files    []string // base names
	paths    []string
	input    importer.Options // 3CX exports to size PBXs from
	Uploaded time.Time

	mu       sync.Mutex
	Planned  time.Time
	Plan     reconcile.Plan
	Problems []importer.Problem
	PlanErr  string // the plan run's failure, for the page
	PlanCode int
	planFile string
	reports  map[string]string // "plan"/"apply" → path
	desired  *importer.Desired

	Applying     bool
	Applied      bool
	AppliedBy    string
	ApplyStarted time.Time
	Done         int
	Total        int
	Failed       int
	Tally        reconcile.Tally
	Results      []reconcile.Result
	ApplyErr     string
	ApplyCode    int
	ApplyTripped []string // the guards that refused the apply (a stale plan among them)
	Proposal     int64    // the proposal the apply saved for another approver; 0: none
}

// homeRow is an upload as the home page lists it, copied under its lock (an apply may
// be writing it).
type homeRow struct {
	ID, Owner, Files, Plan, Applied string
	Uploaded                        time.Time
}

func (s *Server) home(w http.ResponseWriter, r *http.Request, se *session) {
	s.mu.Lock()
	var ups []*upload
	for i := len(s.order) - 1; i >= 0 && len(ups) < 20; i-- {
		ups = append(ups, s.uploads[s.order[i]])
	}
	s.mu.Unlock()
	rows := make([]homeRow, len(ups))
	for i, u := range ups {
		u.mu.Lock()
		rows[i] = homeRow{ID: u.ID, Owner: u.Owner, Files: strings.Join(u.Files, ", "), Plan: u.Plan.Counts().Line(), Uploaded: u.Uploaded}
		switch {
		case u.Applying:
			rows[i].Applied = "applying…"
		case u.Applied:
			rows[i].Applied = u.Tally.Line()
		}
		u.mu.Unlock()
	}
	s.render(w, "home.html", page{Session: se, Title: "Onboard colleagues", Data: rows})
}

// allowed are the input files the page takes.
var allowed = []string{".xlsx", ".csv"}

func (s *Server) uploadFiles(w http.ResponseWriter, r *http.Request, se *session) {
	tooLarge := fmt.Sprintf("The upload is larger than %d MB in all: split the workbook, or ask the admin to raise --max-upload.", s.cfg.MaxUpload>>20)
	if r.ContentLength > s.cfg.MaxUpload {
		w.Header().Set("Connection", "close")
		s.homeErrorStatus(w, se, http.StatusRequestEntityTooLarge, tooLarge) // before a byte of it is read
		return
	}
	if err := r.ParseMultipartForm(8 << 20); err != nil { // done by auth; the body is bounded in ServeHTTP
		if errors.As(err, new(*http.MaxBytesError)) {
			s.homeErrorStatus(w, se, http.StatusRequestEntityTooLarge, tooLarge)
			return
		}
		s.homeError(w, se, "The upload could not be read: "+err.Error())
		return
	}
	defer r.MultipartForm.RemoveAll()
	fhs := r.MultipartForm.File["files"]
	threeCX := r.MultipartForm.File["threecx"]
	pbx := strings.TrimSpace(r.FormValue("pbx"))
	headroom := strings.TrimSuffix(strings.TrimSpace(r.FormValue("headroom")), "%")
	if headroom == "" {
		headroom = "10"
	}
	pct, perr := strconv.ParseFloat(headroom, 64)
	switch {
	case len(fhs) == 0 && len(threeCX) == 0:
		s.homeError(w, se, "Choose one or more .xlsx or .csv files first, or a 3CX user export and the PBX it sizes.")
		return
	case len(threeCX) > 0 && pbx == "":
		s.homeError(w, se, "A 3CX user export sizes one PBX: give its name or SN beside the export.")
		return
	case perr != nil || pct < 0 || pct > 1000:
		s.homeError(w, se, fmt.Sprintf("Headroom %q: give a percentage such as 10%%.", r.FormValue("headroom")))
		return
	}
	u := &upload{ID: newToken()[:16], Owner: se.user.Name, Uploaded: s.cfg.Now(), reports: map[string]string{}}
	u.Dir = filepath.Join(s.cfg.WorkDir, u.ID)
	if err := os.MkdirAll(u.Dir, 0o700); err != nil {
		s.homeError(w, se, "The upload could not be stored: "+err.Error())
		return
	}
	var paths []string
	for _, fh := range fhs {
		name := filepath.Base(strings.ReplaceAll(fh.Filename, `\`, "/"))
		if !slices.Contains(allowed, strings.ToLower(filepath.Ext(name))) || name == "." || strings.HasPrefix(name, ".") {
			s.homeError(w, se, fmt.Sprintf("%s is not a .xlsx or .csv file: save it as an Excel workbook or CSV and upload it again.", fh.Filename))
			os.RemoveAll(u.Dir)
			return
		}
		if slices.Contains(u.Files, name) {
			s.homeError(w, se, fmt.Sprintf("Two files are named %s: rename one (both are read, each under its own name) and upload them again.", name))
			os.RemoveAll(u.Dir)
			return
		}
		dst := filepath.Join(u.Dir, name)
		if err := saveUpload(fh, dst); err != nil {
			s.cfg.Log.Warn().Err(err).Msg("storing an upload")
			s.homeError(w, se, fmt.Sprintf("%s could not be stored: give it a shorter name that no other file of the upload has, and upload again.", name))
			os.RemoveAll(u.Dir)
			return
		}
		u.Files = append(u.Files, name)
		paths = append(paths, dst)
	}
	for _, fh := range threeCX {
		name := "3cx-" + filepath.Base(strings.ReplaceAll(fh.Filename, `\`, "/"))
		if strings.ToLower(filepath.Ext(name)) != ".csv" {
			s.homeError(w, se, fmt.Sprintf("%s is not a 3CX user export (.csv): export the users from 3CX as CSV and upload that.", fh.Filename))
			os.RemoveAll(u.Dir)
			return
		}
		dst := filepath.Join(u.Dir, name)
		if err := saveUpload(fh, dst); err != nil {
			s.cfg.Log.Warn().Err(err).Msg("storing an upload")
			s.homeError(w, se, fmt.Sprintf("%s could not be stored: give it a shorter name that the workbook files do not have, and upload again.", fh.Filename))
			os.RemoveAll(u.Dir)
			return
		}
		u.Files = append(u.Files, filepath.Base(fh.Filename)+" (3CX, sizes "+pbx+")")
		u.input.ThreeCX = append(u.input.ThreeCX, importer.ThreeCXSizing{Path: dst, PBX: pbx, HeadroomPercent: pct})
	}
	u.paths = paths
	s.plan(r.Context(), u)
	s.mu.Lock()
	s.uploads[u.ID] = u
	s.order = append(s.order, u.ID)
	s.mu.Unlock()
	s.cfg.Log.Info().Str("user", se.user.Name).Str("upload", u.ID).Strs("files", u.Files).Msg("uploaded")
	s.event(r.Context(), se.user.Name, "upload", strings.Join(u.Files, ", ")+": "+u.Plan.Counts().Line())
	http.Redirect(w, r, "/uploads/"+u.ID, http.StatusSeeOther)
}

func saveUpload(fh *multipart.FileHeader, dst string) error {
	src, err := fh.Open()
	if err != nil {
		return err
	}
	defer src.Close()
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, src); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Reports are the upload's report paths by run, "plan" and "apply".
func (u *upload) Reports() map[string]string { return u.reports }

func (s *Server) homeError(w http.ResponseWriter, se *session, msg string) {
	s.homeErrorStatus(w, se, http.StatusBadRequest, msg)
}

func (s *Server) homeErrorStatus(w http.ResponseWriter, se *session, status int, msg string) {
	w.WriteHeader(status)
	s.render(w, "home.html", page{Session: se, Title: "Onboard colleagues", Error: msg})
}

// plan runs the job in plan mode on the upload and saves the plan, so the apply later
// applies exactly what the page showed (refused as stale if the portal changed).
func (s *Server) plan(ctx context.Context, u *upload) {
	u.planFile = filepath.Join(u.Dir, "plan.json")
	req := job.Request{Mode: job.Plan, Files: u.paths, Input: u.input, Diff: s.cfg.Diff, SavePlan: u.planFile, ReportDir: u.Dir,
		StateDir: s.cfg.StateDir, Version: s.cfg.Version, StartedBy: u.Owner}
	var plan reconcile.Plan
	var problems []importer.Problem
	d := s.deps(u.Owner)
	d.Problems = func(ps []importer.Problem) { problems = ps }
	d.Plan = func(p reconcile.Plan, ps []importer.Problem) { plan, problems = p, ps }
	req.Input.Ctx = ctx
	in, err := job.ReadInput(req, d.Problems)
	var out job.Outcome
	if err == nil {
		req.Read = in
		out, err = job.Run(ctx, req, d)
	}
	s.ran(job.Plan, out, err)
	u.mu.Lock()
	defer u.mu.Unlock()
	u.Plan, u.Problems, u.Planned = plan, problems, s.cfg.Now()
	if in != nil {
		u.desired = in.Desired
	}
	u.reports["plan"] = out.ReportPath
	u.PlanErr, u.PlanCode = "", 0
	if err != nil {
		var f *job.Failure
		errors.As(err, &f)
		u.PlanErr, u.PlanCode = err.Error(), job.ExitCode(f)
	}
}

// planMaxAge is how old a plan may be and still be applied: older, it is planned again
// against the portal as it is now.
const planMaxAge = 15 * time.Minute

func (s *Server) replan(w http.ResponseWriter, r *http.Request, se *session) {
	u := s.find(w, r, se)
	if u == nil {
		return
	}
	u.mu.Lock()
	busy := u.Applying || (u.Applied && u.ApplyCode != 3) // a guard's refusal changed nothing: plan again
	if !busy {
		u.Applied, u.ApplyErr, u.ApplyCode, u.ApplyTripped, u.Results = false, "", 0, nil, nil
	}
	u.mu.Unlock()
	if !busy {
		s.plan(r.Context(), u)
	}
	http.Redirect(w, r, "/uploads/"+u.ID, http.StatusSeeOther)
}

// template downloads a workbook to fill, with the portal's permissions, partners and
// PBXs as drop-downs.
func (s *Server) template(w http.ResponseWriter, r *http.Request, se *session) {
	actual, f := job.ReadPortal(r.Context(), s.cfg.Partner, s.cfg.YCM)
	if f != nil {
		w.WriteHeader(http.StatusBadGateway)
		s.render(w, "error.html", page{Session: se, Title: "Template", Error: f.Message})
		return
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="ycm-onboard-template.xlsx"`)
	if err := importer.WriteTemplate(w, job.Catalog(actual)); err != nil {
		s.cfg.Log.Error().Err(err).Msg("write the template")
	}
}

// running is an apply in flight from this page other than u, if any.
func (s *Server) running(u *upload) *upload {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range s.uploads {
		if o == u {
			continue
		}
		o.mu.Lock()
		busy := o.Applying
		o.mu.Unlock()
		if busy {
			return o
		}
	}
	return nil
}

func (s *Server) deps(user string) job.Deps {
	return job.Deps{Partner: s.cfg.Partner, YCM: s.cfg.YCM, PartnerURL: s.cfg.PartnerURL, YCMURL: s.cfg.YCMURL,
		Log: s.cfg.Log.With().Str("user", user).Logger(), Now: s.cfg.Now}
}

func (s *Server) find(w http.ResponseWriter, r *http.Request, se *session) *upload {
	s.mu.Lock()
	u := s.uploads[r.PathValue("id")]
	s.mu.Unlock()
	if u == nil {
		w.WriteHeader(http.StatusNotFound)
		s.render(w, "error.html", page{Session: se, Title: "Not found", Error: "No such upload: it may be from before the server restarted. Upload the files again."})
	}
	return u
}

func (s *Server) uploadPage(w http.ResponseWriter, r *http.Request, se *session) {
	u := s.find(w, r, se)
	if u == nil {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	s.render(w, "upload.html", page{Session: se, Title: "Upload " + strings.Join(u.Files, ", "), Data: s.view(u, se)})
}

func (s *Server) progressFragment(w http.ResponseWriter, r *http.Request, se *session) {
	u := s.find(w, r, se)
	if u == nil {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if !u.Applying {
		// Done: the whole page again, with the results.
		w.Header().Set("HX-Refresh", "true")
	}
	s.render(w, "progress", page{Session: se, Data: s.view(u, se)})
}

// view is what the upload page shows.
type view struct {
	*upload
	Counts         reconcile.Counts
	Guards         string
	Tripped        []string
	Unchanged      []string
	ETA            string
	ToFix          []fixRow
	MoreToFix      int // rows with errors not shown
	ProblemsShown  []importer.Problem
	Hidden         int // plan rows not shown
	UnchangedCount int
	Old            bool // the plan is too old to apply: plan again
	CanApply       bool
	NeedsApproval  string // why the plan is proposed, not applied; "": applied
	Why            string // why there is no Apply button
	Rows           []row
	Errors         int
	Warnings       int
	PlanLine       string
	ApplyLine      string
}

type row struct {
	Mark, Kind, Label, Name, Where, Detail, Outcome, Message string
	Blocked                                                  bool
	order                                                    int
}

func (s *Server) view(u *upload, se *session) view {
	v := view{upload: u, Counts: u.Plan.Counts(), PlanLine: u.Plan.Counts().Line(), Guards: guards(s.cfg.Diff),
		Tripped: u.Plan.Tripped}
	if u.Applying && u.Done > 0 {
		left := s.cfg.Now().Sub(u.ApplyStarted) / time.Duration(u.Done) * time.Duration(u.Total-u.Done)
		v.ETA = left.Round(time.Second).String()
	}
	for _, p := range u.Problems {
		if p.Severity == importer.Error {
			v.Errors++
		} else {
			v.Warnings++
		}
	}
	v.ProblemsShown = u.Problems
	if len(v.ProblemsShown) > maxRowsShown {
		v.ProblemsShown = v.ProblemsShown[:maxRowsShown]
	}
	v.ToFix = rowsToFix(u.Problems, u.desired)
	if len(v.ToFix) > maxRowsShown {
		v.MoreToFix, v.ToFix = len(v.ToFix)-maxRowsShown, v.ToFix[:maxRowsShown]
	}
	shown := map[int]int{} // rows shown per group
	for i, a := range u.Plan.Actions {
		if a.Kind == reconcile.Noop && a.Activation != reconcile.ActivationExpired {
			if len(v.Unchanged) < maxRowsShown {
				v.Unchanged = append(v.Unchanged, a.Label)
			}
			v.UnchangedCount++
			continue
		}
		if order := kindOrder(a); shown[order] >= maxRowsShown {
			v.Hidden++
			continue
		} else {
			shown[order]++
		}
		rw := row{Mark: a.Kind.Symbol(), Kind: a.Kind.String(), Label: a.Label, Name: a.Name, Where: "portal", Blocked: a.Blocked != ""}
		if a.Source != nil {
			rw.Where = a.Source.String()
		}
		var detail []string
		for _, c := range a.Changes {
			detail = append(detail, c.String())
		}
		if a.Reason != "" {
			detail = append(detail, a.Reason)
		}
		if a.Sizing != nil && a.Derivation != "" {
			detail = append(detail, a.Derivation)
		}
		if a.Blocked != "" {
			detail = append(detail, a.Blocked)
			rw.Kind = "blocked " + rw.Kind
		}
		rw.Detail = strings.Join(detail, "; ")
		if i < len(u.Results) {
			rw.Outcome, rw.Message = u.Results[i].Outcome.String(), u.Results[i].Message
		}
		rw.order = kindOrder(a)
		v.Rows = append(v.Rows, rw)
	}
	slices.SortStableFunc(v.Rows, func(a, b row) int { return a.order - b.order })
	if u.Applied || u.Applying {
		v.ApplyLine = u.Tally.Line()
	}
	switch {
	case u.Applied || u.Applying:
		v.Why = ""
	case u.PlanCode == 2 || u.PlanCode == 4:
		v.Why = "This plan cannot be applied: fix what is said above and upload again."
	case u.PlanCode == 3:
		v.Why = "A safety guard refused this plan: nothing can be applied from it."
	case !u.Plan.HasChanges():
		v.Why = "Nothing to change: the portal already matches these files."
	case !se.user.Role.AtLeast(state.RoleApprover):
		v.Why = "An approver applies this plan: ask one to open this page."
	case s.cfg.Now().Sub(u.Planned) > planMaxAge:
		v.Old = true
		v.Why = fmt.Sprintf("This plan is %d minutes old: plan again to see the portal as it is now, then apply.",
			int(s.cfg.Now().Sub(u.Planned).Minutes()))
	default:
		v.CanApply = true
		v.NeedsApproval = strings.Join(s.cfg.Approval.Reasons(u.Plan), "; ")
	}
	return v
}

// maxRowsShown bounds each group of the plan shown on the page: a plan of 100,000
// rows is read in its report, not in a browser.
const maxRowsShown = 500

// fixRow is one input row with errors: what the row holds, and each bad cell marked.
type fixRow struct {
	Where   string
	Summary string
	Cells   []importer.Problem
}

// rowsToFix groups the errors by row, with the row's values as read, so a person sees
// the row they must fix, not only a list of messages.
func rowsToFix(ps []importer.Problem, d *importer.Desired) []fixRow {
	summaries := map[importer.Source]string{}
	if d != nil {
		for _, cs := range [][]importer.Colleague{d.RejectedColleagues, d.Colleagues} {
			for _, c := range cs {
				parts := []string{c.Email(), strings.TrimSpace(c.FirstName() + " " + c.LastName()), strings.Join(c.Permissions(), "; ")}
				if o, ok := c.Owner(); ok && o != "" {
					parts = append(parts, "owner "+o)
				}
				summaries[c.Source()] = strings.Join(slices.DeleteFunc(parts, func(s string) bool { return s == "" }), " · ")
			}
		}
		for _, in := range append(slices.Clone(d.RejectedInstances), d.Instances...) {
			summaries[in.Source] = fmt.Sprintf("%s · %d extensions · %d concurrent calls", in.Ref, in.Extensions, in.ConcurrentCalls)
		}
	}
	var out []fixRow
	index := map[importer.Source]int{}
	for _, p := range ps {
		if p.Severity != importer.Error || p.Source.Row == 0 {
			continue
		}
		i, ok := index[p.Source]
		if !ok {
			i = len(out)
			index[p.Source] = i
			out = append(out, fixRow{Where: p.Source.String(), Summary: summaries[p.Source]})
		}
		out[i].Cells = append(out[i].Cells, p)
	}
	return out
}

// MaxShown is how many rows of each kind the page shows.
func (v view) MaxShown() int { return maxRowsShown }

// kindOrder groups the plan's rows: creates, updates, deletes, re-invites, resizes, then
// what is blocked or skipped.
func kindOrder(a reconcile.Action) int {
	if a.Blocked != "" || a.Kind == reconcile.Skip {
		return 10
	}
	return [...]int{reconcile.Noop: 9, reconcile.Create: 1, reconcile.Update: 2, reconcile.Delete: 3,
		reconcile.Reinvite: 4, reconcile.Resize: 5, reconcile.Skip: 10}[a.Kind]
}

// guards are the guard settings a plan was checked against, for the page.
func guards(o reconcile.Options) string {
	g := fmt.Sprintf("at most %d deletions and %g%% of the portal's colleagues", o.MaxDelete, o.MaxDeletePercent)
	if o.AllowShrink {
		g += "; shrinking PBXs allowed"
	} else {
		g += "; no PBX shrinks"
	}
	if o.Prune {
		g += "; colleagues missing from the files are deleted (prune)"
	}
	return g
}

// uploadSource is what the proposals of an upload are compared by: who uploaded which
// files, by name. A corrected sheet uploaded again supersedes the proposal of the
// first; another person's sheet of the same name does not. Call it holding u.mu.
func uploadSource(u *upload) string {
	files := slices.Clone(u.Files)
	slices.Sort(files)
	return "page upload by " + u.Owner + ": " + strings.Join(files, ", ")
}

// apply starts the run in the background and shows its progress; the plan applied is
// the saved one, refused as stale if the portal changed since the page showed it.
func (s *Server) apply(w http.ResponseWriter, r *http.Request, se *session) {
	u := s.find(w, r, se)
	if u == nil {
		return
	}
	if o := s.running(u); o != nil {
		o.mu.Lock()
		msg := fmt.Sprintf("%s is applying %s since %s: one apply runs at a time; apply this one when it is done.",
			o.AppliedBy, strings.Join(o.Files, ", "), o.ApplyStarted.UTC().Format("15:04 UTC"))
		o.mu.Unlock()
		u.mu.Lock()
		defer u.mu.Unlock()
		w.WriteHeader(http.StatusConflict)
		s.render(w, "upload.html", page{Session: se, Title: "Upload " + strings.Join(u.Files, ", "), Error: msg,
			Data: s.view(u, se)})
		return
	}
	if !s.begin() {
		s.stopping(w)
		return
	}
	u.mu.Lock()
	if u.Applying || u.Applied || !s.view(u, se).CanApply {
		u.mu.Unlock()
		s.wg.Done()
		http.Redirect(w, r, "/uploads/"+u.ID, http.StatusSeeOther)
		return
	}
	u.Applying, u.AppliedBy, u.ApplyStarted = true, se.user.Name, s.cfg.Now()
	u.Done, u.Failed, u.Total = 0, 0, 0
	for _, a := range u.Plan.Actions {
		if a.Runs() {
			u.Total++
		}
	}
	source := uploadSource(u)
	u.mu.Unlock()
	req := job.Request{Mode: job.Apply, PlanFile: u.planFile, Diff: s.cfg.Diff, Concurrency: s.cfg.Concurrency,
		ReportDir: u.Dir, StateDir: s.cfg.StateDir, LockTimeout: s.cfg.LockTimeout, Version: s.cfg.Version, StartedBy: se.user.Name,
		Approval: s.cfg.Approval, Source: source}
	d := s.deps(se.user.Name)
	d.Progress = func(p reconcile.Plan, _ zerolog.Logger) job.Progress { return &progress{u: u} }
	d.Applied = func(t reconcile.Tally) { u.mu.Lock(); u.Tally = t; u.mu.Unlock() }
	s.cfg.Log.Info().Str("user", se.user.Name).Str("upload", u.ID).Msg("apply started")
	s.event(r.Context(), se.user.Name, "apply", strings.Join(u.Files, ", "))
	by, started := se.user.Name, u.ApplyStarted
	go func() {
		defer s.wg.Done() // counted by begin
		out, err := job.Run(s.ctx, req, d)
		s.ran(job.Apply, out, err)
		u.mu.Lock()
		u.Applying, u.Applied = false, true
		u.reports["apply"] = out.ReportPath
		if out.Reported {
			u.Results = out.Report.Results
			u.Tally = reconcile.TallyResults(out.Report.Results)
			u.ApplyTripped = out.Report.Tripped
		}
		u.Proposal = out.Proposal
		if err != nil {
			var f *job.Failure
			errors.As(err, &f)
			u.ApplyErr, u.ApplyCode = err.Error(), job.ExitCode(f)
		}
		u.mu.Unlock()
		s.notifyRun(by, started, out, err, nil)
	}()
	http.Redirect(w, r, "/uploads/"+u.ID, http.StatusSeeOther)
}

// progress follows an apply for the page.
type progress struct{ u *upload }

func (p *progress) Done(r reconcile.Result) {
	p.u.mu.Lock()
	defer p.u.mu.Unlock()
	p.u.Done++
	if r.Outcome == reconcile.Failed {
		p.u.Failed++
	}
}

func (p *progress) Finish() {}

func (s *Server) report(w http.ResponseWriter, r *http.Request, se *session) {
	u := s.find(w, r, se)
	if u == nil {
		return
	}
	which := r.URL.Query().Get("run")
	u.mu.Lock()
	path := u.reports[which]
	u.mu.Unlock()
	if path == "" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", filepath.Base(path)))
	http.ServeFile(w, r, path)
}

func (s *Server) invitations(w http.ResponseWriter, r *http.Request, se *session) {
	s.invitationsPage(w, r, se, "")
}

func (s *Server) invitationsPage(w http.ResponseWriter, r *http.Request, se *session, notice string) {
	inv, err := s.store.Invitations(r.Context())
	if err != nil {
		s.render(w, "error.html", page{Session: se, Title: "Invitations", Error: "The run history could not be read: " + err.Error()})
		return
	}
	now := s.cfg.Now()
	var rows []invitationRow
	byEmail := map[string]int{}
	for _, i := range inv {
		byEmail[strings.ToLower(i.Email)] = len(rows)
		rows = append(rows, invitationRow{Email: i.Email, Status: string(i.Status(now)), Invited: i.InvitedAt,
			Expires: i.ExpiresAt, HoursLeft: i.HoursLeft(now), Reinvites: i.Reinvites, Activated: i.ActivatedAt})
	}
	// The portal knows colleagues invited before the job or by hand, and who activated
	// since the last run.
	if actual, f := job.ReadPortal(r.Context(), s.cfg.Partner, s.cfg.YCM); f != nil {
		if notice == "" {
			notice = "The portal could not be read, so this is the run history's view only: " + f.Message
		}
	} else {
		for _, c := range actual.Colleagues {
			act := reconcile.ActivationOf(c, now)
			if i, ok := byEmail[strings.ToLower(c.Email)]; ok {
				if act == reconcile.ActivationActive && rows[i].Status != string(reconcile.ActivationActive) {
					rows[i].Status, rows[i].HoursLeft = string(act), 0
				}
				continue
			}
			if act == reconcile.ActivationNone || act == reconcile.ActivationFrozen {
				continue
			}
			row := invitationRow{Email: c.Email, Status: string(act), Invited: c.CreatedAt}
			if !c.CreatedAt.IsZero() {
				row.Expires = c.CreatedAt.Add(reconcile.InviteValidity)
				if act == reconcile.ActivationPending {
					row.HoursLeft = int(row.Expires.Sub(now) / time.Hour)
				}
			}
			rows = append(rows, row)
		}
	}
	slices.SortStableFunc(rows, func(a, b invitationRow) int { return statusOrder(a.Status) - statusOrder(b.Status) })
	s.render(w, "invitations.html", page{Session: se, Title: "Invitations", Notice: notice,
		Data: invitationsData{Rows: rows, CanReinvite: se.user.Role.AtLeast(state.RoleApprover)}})
}

type invitationsData struct {
	Rows        []invitationRow
	CanReinvite bool
}

// reinvite sends one expired colleague a new link: the same job as any run, planned
// from the colleague as the portal has them, so it re-invites only an expired
// invitation, the way the plan would (YCM's e-mail, or delete and create again), within
// --max-reinvites, and is recorded as a run with who pressed the button.
func (s *Server) reinvite(w http.ResponseWriter, r *http.Request, se *session) {
	email := strings.TrimSpace(r.FormValue("email"))
	// It runs in this request, counted so that Close waits for it to end.
	if !s.begin() {
		s.stopping(w)
		return
	}
	defer s.wg.Done()
	// It ends with the request, or when the page stops (its calls get their grace).
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(s.ctx, cancel)()
	actual, f := job.ReadPortal(ctx, s.cfg.Partner, s.cfg.YCM)
	if f != nil {
		s.invitationsPage(w, r, se, "Nothing was sent: "+f.Message)
		return
	}
	desired, ok := job.Desired(actual, email, importer.Source{File: "the Invitations page", Sheet: "Activation", Row: 1})
	if !ok {
		s.invitationsPage(w, r, se, fmt.Sprintf("Nothing was sent: %s is not a colleague on the portal any more.", email))
		return
	}
	dir := filepath.Join(s.cfg.WorkDir, "reinvite-"+newToken()[:12])
	if err := os.MkdirAll(dir, 0o700); err != nil {
		s.invitationsPage(w, r, se, "Nothing was sent: "+err.Error())
		return
	}
	var plan reconcile.Plan
	d := s.deps(se.user.Name)
	d.Plan = func(p reconcile.Plan, _ []importer.Problem) { plan = p }
	started := s.cfg.Now()
	out, err := job.Run(ctx, job.Request{Mode: job.Apply, Read: &job.Input{Desired: desired}, Diff: s.cfg.Diff,
		Concurrency: 1, ReportDir: dir, StateDir: s.cfg.StateDir, LockTimeout: s.cfg.LockTimeout, Version: s.cfg.Version,
		StartedBy: se.user.Name, Approval: s.cfg.Approval}, d)
	s.ran(job.Apply, out, err)
	s.notifyRun(se.user.Name, started, out, err, nil)
	notice := ""
	reinvite := len(plan.Actions) == 1 && plan.Actions[0].Kind == reconcile.Reinvite && len(out.Report.Results) == 1
	switch {
	case reinvite && out.Report.Results[0].Outcome == reconcile.Applied:
		// Done, even when the page stopped meanwhile: the run ends "interrupted" then.
		notice = fmt.Sprintf("%s was re-invited (%s): a new activation e-mail is on its way.", email, plan.Actions[0].Via)
	case err != nil:
		notice = fmt.Sprintf("%s was not re-invited: %v", email, err)
	case reinvite:
		notice = fmt.Sprintf("%s was not re-invited: %s", email, out.Report.Results[0].Message)
	case len(plan.Actions) == 1 && plan.Actions[0].Reason != "":
		notice = fmt.Sprintf("Nothing was sent to %s: %s.", email, plan.Actions[0].Reason)
	default:
		notice = fmt.Sprintf("Nothing was sent to %s: the invitation has not expired.", email)
	}
	s.cfg.Log.Info().Str("user", se.user.Name).Str("email", email).Str("result", notice).Msg("re-invite from the page")
	s.event(r.Context(), se.user.Name, "re-invite", notice)
	s.invitationsPage(w, r, se, notice)
}

func (s *Server) runs(w http.ResponseWriter, r *http.Request, se *session) {
	runs, err := s.store.LastRuns(r.Context(), maxRunsShown)
	if err != nil {
		s.render(w, "error.html", page{Session: se, Title: "Runs", Error: "The run history could not be read: " + err.Error()})
		return
	}
	var events []state.Event
	if se.user.Role.AtLeast(state.RoleAdmin) { // who signed in from where is for admins
		if events, err = s.store.Events(r.Context(), 50); err != nil {
			s.cfg.Log.Warn().Err(err).Msg("reading events")
		}
	}
	s.render(w, "runs.html", page{Session: se, Title: "Runs", Data: runsData{Runs: runs, Events: events}})
}

// maxRunsShown is how many of the last runs the Runs page lists.
const maxRunsShown = 100

type runsData struct {
	Runs   []state.Run
	Events []state.Event // admins only
}

// runReport downloads a recorded run's report, if it is still there.
func (s *Server) runReport(w http.ResponseWriter, r *http.Request, se *session) {
	runs, err := s.store.LastRuns(r.Context(), maxRunsShown)
	if err != nil {
		http.Error(w, "The run history could not be read.", http.StatusInternalServerError)
		return
	}
	for _, run := range runs {
		if fmt.Sprint(run.ID) == r.PathValue("id") && strings.HasSuffix(run.ReportPath, ".xlsx") {
			if _, err := os.Stat(run.ReportPath); err != nil {
				break
			}
			w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
			w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", filepath.Base(run.ReportPath)))
			http.ServeFile(w, r, run.ReportPath)
			return
		}
	}
	http.Error(w, "No report for this run: it was removed, or the run wrote none.", http.StatusNotFound)
}

type invitationRow struct {
	Email, Status               string
	Invited, Expires, Activated time.Time
	HoursLeft, Reinvites        int
}

func statusOrder(s string) int {
	switch reconcile.Activation(s) {
	case reconcile.ActivationExpired:
		return 0
	case reconcile.ActivationPending:
		return 1
	}
	return 2
}

var funcs = template.FuncMap{
	"count": words.Count,
	// sentence ends s with a full stop unless it ends with punctuation already.
	"sentence": func(s string) string {
		if s == "" || strings.ContainsAny(s[len(s)-1:], ".?!:") {
			return s
		}
		return s + "."
	},
	"when": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"percent": func(done, total int) int {
		if total == 0 {
			return 0
		}
		return done * 100 / total
	},
}

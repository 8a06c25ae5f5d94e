// Package sim is an in-memory simulator of the Yeastar Partner Portal API and the
// YCM API, both served by one http.Handler, speaking the shapes of docs/wire.md.
// Where Yeastar's guides are silent, Options.Dialect picks one of the plausible
// shapes; the zero Dialect is the documented one. It adds an admin API under
// /_sim/ (clock, outbox, faults, stats, state, dialect) and fault knobs:
// latency, 5xx answers, throttling, connections dropped around writes.
//
// HTTP statuses (chosen where the guides are silent): Partner Portal errors
// carry their own (401, 403, 400, 404, 409, 413, 415, 429). YCM errors come
// with HTTP 200 under ycm-status=200 (the default); under ycm-status=http,
// authentication errors 401, a blocked IP 403, throttling 429, a missing
// User-Agent or a bad token request 400, a wrong Content-Type 415, a body over
// 1 MiB 413, an unknown path 404, other refusals 200. Injected server faults are
// 500 or 503, with a plain-text body on YCM.
package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// Options configure a Server. The zero value is usable.
type Options struct {
	// Now is the base clock; nil means time.Now. The simulated clock is Now plus
	// whatever Advance and POST /_sim/clock/advance added.
	Now      func() time.Time
	TokenTTL time.Duration // access token lifetime; default 30m
	Faults   Faults
	// Dialect chooses the wire shapes the guides leave open; the zero value
	// is the documented one. It is fixed for the Server's life.
	Dialect Dialect
	// StatePath "" keeps the world in memory only. Otherwise the world is loaded
	// from it at start when it exists (the clock resuming at the saved time) and
	// saved to it after every change, through a temporary file and a rename.
	StatePath string
	Logger    zerolog.Logger // zero value: no logging
}

// RefreshTTL is how long a refresh token works.
const RefreshTTL = 15 * 24 * time.Hour

// maxBody is the largest request body accepted.
const maxBody = 1 << 20

// More than blockAfter consecutive failed logins from one IP block it: the
// sixth failure blocks, the seventh attempt is refused as blocked.
const blockAfter = 5

type apiKind uint8

const (
	apiPartner apiKind = iota
	apiYCM
)

func (a apiKind) String() string {
	if a == apiYCM {
		return "ycm"
	}
	return "partner"
}

// apiIP keys the failed-login counts and blocks: each API keeps its own.
type apiIP struct {
	api apiKind
	ip  string
}

type token struct {
	api     apiKind
	refresh bool
	expires time.Time
}

// Server is the simulator. It is safe for concurrent use.
type Server struct {
	now       func() time.Time
	ttl       time.Duration
	dialect   Dialect // normalized
	log       zerolog.Logger
	statePath string

	offset atomic.Int64 // nanoseconds added to now
	faults atomic.Pointer[Faults]
	bucket [2]bucket // per API
	seq    atomic.Uint64
	stats  statsCounter
	late   atomic.Int64 // what requests with latency took beyond their wait, on average (ns)

	mu      sync.RWMutex // guards everything below
	w       *world
	tokens  map[string]token
	fails   map[apiIP]int // consecutive failed logins per API and IP
	blocked map[apiIP]bool

	saveMu sync.Mutex

	onEnter func() // tests: called when an API request is counted in flight
}

// New returns a simulator holding the demo world, or the state at opts.StatePath
// when that file exists.
func New(opts Options) (*Server, error) {
	if err := opts.Faults.validate(); err != nil {
		return nil, err
	}
	if err := opts.Dialect.validate(); err != nil {
		return nil, err
	}
	s := &Server{
		now:       opts.Now,
		ttl:       opts.TokenTTL,
		dialect:   opts.Dialect.norm(),
		log:       opts.Logger,
		statePath: opts.StatePath,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.ttl <= 0 {
		s.ttl = 30 * time.Minute
	}
	f := opts.Faults
	s.faults.Store(&f)
	s.stats.init()
	s.resetAuth()

	if s.statePath != "" {
		data, err := os.ReadFile(s.statePath)
		switch {
		case err == nil:
			var st State
			if err := json.Unmarshal(data, &st); err != nil {
				return nil, fmt.Errorf("read simulator state %s: %w", s.statePath, err)
			}
			if err := s.LoadState(st); err != nil {
				return nil, fmt.Errorf("load simulator state %s: %w", s.statePath, err)
			}
			return s, nil
		case !errors.Is(err, os.ErrNotExist):
			return nil, fmt.Errorf("read simulator state: %w", err)
		}
	}
	w, err := newWorld(demoState(s.Clock()), &s.dialect)
	if err != nil {
		return nil, err
	}
	s.w = w
	if err := s.save(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) resetAuth() {
	s.tokens = map[string]token{}
	s.fails = map[apiIP]int{}
	s.blocked = map[apiIP]bool{}
}

// Clock returns the simulated time.
func (s *Server) Clock() time.Time {
	return s.now().Add(time.Duration(s.offset.Load()))
}

// Advance moves the simulated clock forward by d; a negative d is ignored.
func (s *Server) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	s.offset.Add(int64(d))
	if err := s.save(); err != nil {
		s.log.Error().Err(err).Msg("save simulator state")
	}
}

// Dialect returns the wire dialect served, every field set.
func (s *Server) Dialect() Dialect { return s.dialect }

// Faults returns the fault knobs in force.
func (s *Server) Faults() Faults { return *s.faults.Load() }

// SetFaults replaces the fault knobs; rates outside [0,1] act as clamped.
func (s *Server) SetFaults(f Faults) {
	s.faults.Store(&f)
}

// Outbox returns the activation e-mails sent since the start (or the last Reset).
func (s *Server) Outbox() []Email {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.w.outbox)
}

// ErrNoColleague, ErrInviteExpired and ErrNotInvited are what Activate returns.
var (
	ErrNoColleague   = errors.New("no colleague with this e-mail address")
	ErrInviteExpired = errors.New("the activation link has expired")
	ErrNotInvited    = errors.New("the colleague is not waiting for activation")
)

// Activate is the colleague clicking the activation link sent to email.
func (s *Server) Activate(email string) error {
	now := s.Clock()
	s.mu.Lock()
	c := s.w.colByKey[emailKey(email)]
	var err error
	switch {
	case c == nil:
		err = ErrNoColleague
	case c.UserStatus != StatusUnActive || c.InvitedAt.IsZero():
		err = fmt.Errorf("%w: %s is %s", ErrNotInvited, c.YeastarID, c.UserStatus)
	case !now.Before(c.InviteExpiresAt):
		err = fmt.Errorf("%w: sent %s, expired %s", ErrInviteExpired,
			c.InvitedAt.Format(time.RFC3339), c.InviteExpiresAt.Format(time.RFC3339))
	default:
		c.UserStatus = StatusActive
		c.ActivatedAt = now.Truncate(time.Second)
		s.w.touch(c)
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return s.save()
}

// Colleagues returns a copy of every colleague, by ascending id.
func (s *Server) Colleagues() []Colleague {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Colleague, 0, len(s.w.cols))
	for _, c := range s.w.cols {
		out = append(out, c.clone())
	}
	return out
}

// PBXs returns a copy of every cloud PBX, by ascending id.
func (s *Server) PBXs() []PBX {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]PBX, 0, len(s.w.pbxs))
	for _, p := range s.w.pbxs {
		out = append(out, *p)
	}
	return out
}

// YCMUsers returns every YCM user as GET /dm/open_api/v2/users lists them.
func (s *Server) YCMUsers() []YCMUser {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.w.ycmUsers()
}

// AddPBX adds a cloud PBX to the world and returns it. A zero CloudPbxID gets the
// next free one; a zero PackageID the first hosting package; empty fields the demo's.
func (s *Server) AddPBX(p PBX) (PBX, error) {
	s.mu.Lock()
	w := s.w
	if p.CloudPbxID == 0 {
		p.CloudPbxID = w.nextPBX
	}
	if p.PackageID == 0 && len(w.packages) > 0 {
		p.PackageID = w.packages[0].ID
	}
	def := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	def(&p.Name, fmt.Sprintf("PBX %d", p.CloudPbxID))
	def(&p.SN, fmt.Sprintf("PCE-SIM-%04d", p.CloudPbxID))
	def(&p.Plan, "Enterprise Plan")
	def(&p.RecordingStatus, "Enabled")
	def(&p.PbxStatus, "Running")
	def(&p.ActivationStatus, "Activated")
	def(&p.Region, "EU")
	def(&p.URL, fmt.Sprintf("pbx%d.example.yeastar.com", p.CloudPbxID))
	var err error
	switch {
	case w.pbxByID[p.CloudPbxID] != nil:
		err = fmt.Errorf("cloud PBX %d exists", p.CloudPbxID)
	case w.pkg(p.PackageID) == nil:
		err = fmt.Errorf("no hosting package %d", p.PackageID)
	default:
		q := p
		w.pbxByID[q.CloudPbxID] = &q
		w.pbxs = append(w.pbxs, &q)
		slices.SortFunc(w.pbxs, func(a, b *PBX) int { return cmpInt(a.CloudPbxID, b.CloudPbxID) })
		w.nextPBX = max(w.nextPBX, q.CloudPbxID+1)
	}
	s.mu.Unlock()
	if err != nil {
		return PBX{}, err
	}
	return p, s.save()
}

// State returns a copy of the whole world.
func (s *Server) State() State {
	now := s.Clock()
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.w.state(now)
}

// LoadState replaces the world with st and sets the simulated clock to st.Clock
// (when set). Tokens and IP blocks are kept.
func (s *Server) LoadState(st State) error {
	w, err := newWorld(st, &s.dialect)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.w = w
	if !st.Clock.IsZero() {
		s.offset.Store(int64(st.Clock.Sub(s.now())))
	}
	s.mu.Unlock()
	return s.save()
}

// Reset brings back the demo world with the clock, outbox, stats, tokens and IP
// blocks cleared. Fault knobs stay as they are.
func (s *Server) Reset() {
	s.offset.Store(0)
	w, err := newWorld(demoState(s.Clock()), &s.dialect)
	if err != nil {
		panic(err) // the demo world is a constant
	}
	s.mu.Lock()
	s.w = w
	s.resetAuth()
	s.mu.Unlock()
	s.stats.reset()
	for i := range s.bucket {
		s.bucket[i].reset()
	}
	if err := s.save(); err != nil {
		s.log.Error().Err(err).Msg("save simulator state")
	}
}

// Unblock clears every IP block and every count of failed logins, of both APIs.
func (s *Server) Unblock() { s.unblock() }

// unblock returns how many blocks it cleared (an IP blocked by both APIs counts twice).
func (s *Server) unblock() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.blocked)
	s.fails = map[apiIP]int{}
	s.blocked = map[apiIP]bool{}
	return n
}

// save writes the world to the state file, if there is one: temp file, then rename.
func (s *Server) save() error {
	if s.statePath == "" {
		return nil
	}
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	data, err := json.MarshalIndent(s.State(), "", "  ")
	if err != nil {
		return fmt.Errorf("save simulator state: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(s.statePath), filepath.Base(s.statePath)+".tmp*")
	if err != nil {
		return fmt.Errorf("save simulator state: %w", err)
	}
	_, err = f.Write(append(data, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), s.statePath)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("save simulator state: %w", err)
	}
	return nil
}

// ServeHTTP serves both APIs and the admin API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if p == "/_sim" || strings.HasPrefix(p, "/_sim/") {
		s.serveAdmin(w, r)
		return
	}
	api := apiPartner
	if strings.HasPrefix(p, "/dm/") {
		api = apiYCM
	}
	rt, id := match(api, r.Method, p)

	c := getCall(s, w, r, api, rt, id)
	defer putCall(c)
	s.stats.enter()
	defer c.count()
	if s.onEnter != nil {
		s.onEnter()
	}

	start := time.Now()
	f := s.faults.Load()
	if d := f.delay(); d > 0 {
		short, ok := s.wait(r.Context(), d)
		if !ok {
			c.status = 499 // the client went away
			return
		}
		defer func() { s.noteLate(time.Since(start) - short) }()
	}
	c.ip = remoteIP(r)
	s.mu.RLock()
	blocked := s.blocked[apiIP{api, c.ip}]
	s.mu.RUnlock()
	if blocked {
		c.fail(errf(eAccessDenied, "requests from %s are blocked after more than %d failed logins", c.ip, blockAfter))
		return
	}
	if r.Header.Get("User-Agent") == "" {
		c.fail(withStatus(http.StatusBadRequest, fieldErr("User-Agent", "the User-Agent header is required")))
		return
	}
	if f.throttled() {
		if ok, wait := s.bucket[api].take(s.Clock(), f); !ok {
			c.retryAfter = wait
			if f.ThrottleEvery > 0 {
				c.fail(errf(eThrottled, "rate limit exceeded: burst %d, %d requests every %s",
					max(f.ThrottleBurst, 1), f.ThrottleLump, f.ThrottleEvery))
			} else {
				c.fail(errf(eThrottled, "rate limit exceeded: %g requests per second", f.ThrottleRate))
			}
			return
		}
	}
	if f.ErrorRate > 0 && rand.Float64() < f.ErrorRate {
		c.serverFault()
		return
	}
	if rt.h == nil {
		c.fail(withStatus(http.StatusNotFound, errf(eNotFound, "no such endpoint: %s %s", r.Method, p)))
		return
	}
	if !rt.public {
		if e := s.authorize(c); e != nil {
			c.fail(e)
			return
		}
	}
	if rt.write && f.DropBeforeWriteRate > 0 && rand.Float64() < f.DropBeforeWriteRate {
		c.drop()
		return
	}
	rt.h(c)
}

// remoteIP is the host part of r.RemoteAddr.
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// wait holds a request for the latency d, or until ctx ends (false), and returns how
// long it waited. A request's answer should leave the latency after it arrived; the
// timer (Go's fire up to a millisecond late on an idle process) and the handling add
// to it, so each wait is shortened by what they added to the requests before.
func (s *Server) wait(ctx context.Context, d time.Duration) (time.Duration, bool) {
	short := max(d-time.Duration(s.late.Load()), d/2)
	t := time.NewTimer(short)
	select {
	case <-t.C:
		return short, true
	case <-ctx.Done():
		t.Stop()
		return short, false
	}
}

// noteLate folds what a request took beyond its wait into a moving average over
// about the last 64 requests.
func (s *Server) noteLate(extra time.Duration) {
	late := time.Duration(s.late.Load())
	s.late.Store(int64(late + (extra-late)/64))
}

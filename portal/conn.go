package portal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"
)

// Version goes into the User-Agent; cmd sets it from the build.
var Version = "dev"

// Config is what both clients need. Zero values take the defaults noted.
type Config struct {
	BaseURL      string
	ClientID     string
	ClientSecret string
	HTTPClient   *http.Client  // default: a client with keep-alive sized for the workers
	Rate         float64       // requests per second at most; 0: no limit until the portal throttles
	Burst        int           // default 1 when Rate is set
	MaxAttempts  int           // per call, default 6
	BaseDelay    time.Duration // first back-off, default 250ms
	MaxDelay     time.Duration // back-off and Retry-After cap, default 30s
	CallTimeout  time.Duration // per attempt, default 30s
	RetryBudget  float64       // retries allowed in a burst of failures, default 50
	InsecureHTTP bool          // allow a plain-HTTP URL to a machine other than this one
	Logger       zerolog.Logger
	Now          func() time.Time // default time.Now
	Sleep        func(ctx context.Context, d time.Duration) error
	// OnResponse, when set, is told of every HTTP request the client sends, logins and
	// retries included, once it has ended: the API (APIPartner or APIYCM), the HTTP
	// status (0 when no answer came: a network error, a timeout, a refused redirect)
	// and whether the answer said slow down (YCM may say so at HTTP 200). It sees no
	// URL, body or header. Both APIs' workers call it at once: it must be safe for
	// concurrent use, and quick.
	OnResponse func(api string, status int, throttled bool)
}

// The API names OnResponse is given.
const (
	APIPartner = "partner"
	APIYCM     = "ycm"
)

const maxErrorBody = 64 << 10 // error bodies are read no further than this
const maxBody = 32 << 20      // nor success bodies

func (c *Config) defaults() {
	if c.HTTPClient == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 64
		c.HTTPClient = &http.Client{Transport: t}
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 6
	}
	if c.BaseDelay <= 0 {
		c.BaseDelay = 250 * time.Millisecond
	}
	if c.MaxDelay <= 0 {
		c.MaxDelay = 30 * time.Second
	}
	if c.CallTimeout <= 0 {
		c.CallTimeout = 30 * time.Second
	}
	if c.RetryBudget <= 0 {
		c.RetryBudget = 50
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Sleep == nil {
		c.Sleep = sleepCtx
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// dialect is what differs between the two APIs: how to log in and how to read an answer.
type dialect interface {
	name() string
	login(ctx context.Context, c *conn, refresh string) (token, error)
	// decode reads an answer's body into out, or returns the portal's error.
	decode(status int, h http.Header, body []byte, out any) error
}

// conn is one API's connection: base URL, token, limiter, retries.
type conn struct {
	cfg    Config
	base   *url.URL
	d      dialect
	api    string // APIPartner or APIYCM, for OnResponse
	tokens *tokenSource
	lim    *adaptiveLimiter
	budget *retryBudget
	calls  atomic.Int64
	skew   atomic.Int64 // the portal's clock minus ours, from the Date header, in ns
	dated  atomic.Bool
	// tap, when set (by Diagnose, before any call), sees every answer's body to tell
	// its shape. It must keep nothing of a token answer but the shape.
	tap func(path string, status int, h http.Header, body []byte)
}

// portalNow is the time on the portal's clock, as its last answer's Date header told;
// our own clock until an answer said otherwise.
func (c *conn) portalNow() time.Time {
	now := c.cfg.Now()
	if !c.dated.Load() {
		return now
	}
	return now.Add(time.Duration(c.skew.Load()))
}

func newConn(cfg Config, d dialect) (*conn, error) {
	cfg.defaults()
	u, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%s URL %q is not an absolute http(s) URL", d.name(), cfg.BaseURL)
	}
	if u.Scheme == "http" && !loopback(u.Hostname()) && cfg.InsecureHTTP {
		cfg.Logger.Warn().Str("url", redact(u)).Msg("insecure HTTP: the client secret and tokens cross the network unencrypted")
	}
	if u.Scheme == "http" && !loopback(u.Hostname()) && !cfg.InsecureHTTP {
		return nil, fmt.Errorf("%s URL %s is plain HTTP to another machine: the client secret and the tokens would cross the network unencrypted; use https://, or pass --insecure-http if this network is trusted",
			d.name(), redact(u))
	}
	c := &conn{cfg: cfg, base: u, d: d, api: APIPartner}
	if d.name() == ycmAPI {
		c.api = APIYCM
	}
	// Credentials go only where they were sent: a copy of the client whose redirects
	// are checked (see checkRedirect).
	hc := *cfg.HTTPClient
	hc.CheckRedirect = c.checkRedirect
	c.cfg.HTTPClient = &hc
	c.tokens = newTokenSource(c)
	c.lim = newAdaptiveLimiter(cfg.Rate, cfg.Burst, cfg.Now, cfg.Sleep)
	c.budget = newRetryBudget(cfg.RetryBudget)
	return c, nil
}

// loopback reports whether host is this machine.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func redact(u *url.URL) string {
	cp := *u
	cp.User, cp.RawQuery, cp.Fragment = nil, "", ""
	return cp.String()
}

// errRedirect is a redirect the client refused to follow.
var errRedirect = errors.New("redirect refused")

// checkRedirect follows a redirect only to the same scheme, host and port, so the
// bearer token never goes elsewhere, and never for a token request, whose body holds
// the client secret (a 307 or 308 would send it again to the new address).
func (c *conn) checkRedirect(req *http.Request, via []*http.Request) error {
	first := via[0]
	switch {
	case strings.HasSuffix(first.URL.Path, "/oauth/token"):
		return fmt.Errorf("%w: the token endpoint answered with a redirect to %s, and the client secret is sent nowhere else", errRedirect, redact(req.URL))
	case req.URL.Scheme != first.URL.Scheme || req.URL.Host != first.URL.Host:
		return fmt.Errorf("%w: the portal answered with a redirect to %s, another address, and the token is sent nowhere else", errRedirect, redact(req.URL))
	case len(via) >= 5:
		return fmt.Errorf("%w: more than 5 redirects", errRedirect)
	}
	return nil
}

// CallStats counts what happened to the calls made with a context carrying it.
type CallStats struct {
	Attempts  atomic.Int64 // HTTP requests sent (logins excluded)
	Throttled atomic.Int64 // answers that said slow down
	Recovered atomic.Int64 // writes found done after their answer was lost
}

type statsKey struct{}

// WithCallStats returns a context whose calls are counted in s.
func WithCallStats(ctx context.Context, s *CallStats) context.Context {
	return context.WithValue(ctx, statsKey{}, s)
}

func callStats(ctx context.Context) *CallStats {
	s, _ := ctx.Value(statsKey{}).(*CallStats)
	return s
}

// request is one API call.
type request struct {
	op     string // for errors: "create colleague"
	method string
	path   string
	query  url.Values
	body   any // JSON-encoded when not nil
	// write marks calls that change the portal: an attempt whose answer was lost
	// may have taken effect, which the caller resolves.
	write bool
	// settle, for a write whose answer was lost, reads the portal to tell whether the
	// write took effect; true ends the call as done.
	settle func(ctx context.Context) (bool, error)
	// sendOnce marks a write that cannot be read back and must not be repeated blindly
	// (an e-mail): an attempt whose answer was lost ends the call with its error.
	sendOnce bool
}

// outcome tells a write's caller whether an earlier attempt may have taken effect.
type outcome struct {
	ambiguous bool // an attempt of this call may have reached the portal without an answer
	settled   bool // settle found the write done after a lost answer
}

// do runs the call with retries and decodes the answer into out.
func (c *conn) do(ctx context.Context, r request, out any) (outcome, error) {
	var oc outcome
	var body []byte
	if r.body != nil {
		var err error
		if body, err = json.Marshal(r.body); err != nil {
			return oc, fmt.Errorf("%s: encode request: %w", r.op, err)
		}
	}
	st := callStats(ctx)
	refreshed := false
	// Failures count against MaxAttempts; throttled answers against four times that,
	// since a throttled call did nothing and the limiter is slowing down meanwhile.
	failures, throttles := 0, 0
	for {
		if err := ctx.Err(); err != nil {
			return oc, err
		}
		if err := c.lim.Wait(ctx); err != nil {
			return oc, err
		}
		tok, err := c.tokens.get(ctx)
		if err != nil {
			return oc, withOp(err, r.op)
		}
		if st != nil {
			st.Attempts.Add(1)
		}
		c.calls.Add(1)
		err = c.once(ctx, r, body, tok.access, out)
		if err == nil {
			c.budget.success()
			c.lim.success()
			return oc, nil
		}
		var pe *Error
		if !errors.As(err, &pe) {
			return oc, err
		}
		pe.Op = r.op
		lost := r.write && (pe.Kind == KindNetwork || pe.Kind == KindServer)
		if lost {
			oc.ambiguous = true
			if r.sendOnce {
				return oc, err
			}
		}
		if tokenRejected(pe) && !refreshed {
			// The token expired under us: refresh once (shared with other workers), retry.
			refreshed = true
			c.tokens.invalidate(tok.access)
			continue
		}
		if !retryable(err) {
			return oc, err
		}
		var attempt int
		if pe.Kind == KindThrottled {
			c.lim.throttled(min(pe.RetryAfter, c.cfg.MaxDelay)) // its hold obeys the cap too
			if st != nil {
				st.Throttled.Add(1)
			}
			throttles++
			attempt = throttles
			if throttles >= 4*c.cfg.MaxAttempts {
				return oc, err
			}
		} else {
			failures++
			attempt = failures
			if failures >= c.cfg.MaxAttempts {
				return oc, err
			}
			if !c.budget.spend() {
				c.cfg.Logger.Warn().Str("api", c.d.name()).Str("op", r.op).Msg("retry budget spent: the portal is failing, giving up on this call")
				return oc, err
			}
		}
		wait := c.backoff(attempt, pe.RetryAfter, pe.Kind == KindThrottled)
		c.cfg.Logger.Debug().Str("api", c.d.name()).Str("op", r.op).Int("attempt", attempt).
			Str("kind", pe.Kind.String()).Dur("wait", wait).Msg("retrying")
		if err := c.cfg.Sleep(ctx, wait); err != nil {
			return oc, err
		}
		if lost && r.settle != nil { // after an attempt whose answer was lost, not a throttled one
			done, serr := r.settle(ctx)
			if serr != nil {
				c.cfg.Logger.Debug().Str("api", c.d.name()).Str("op", r.op).Str("error", serr.Error()).Msg("could not tell whether a lost write took effect")
			}
			if done {
				oc.settled = true
				return oc, nil
			}
		}
	}
}

// backoff is exponential with full jitter, capped; a Retry-After (capped) is a floor.
// A throttled answer without Retry-After (YCM documents none: its bucket refills in
// lumps, minutes apart) waits at least half the ceiling, so a call's throttled tries
// span minutes, past the next refill, rather than ending early on short draws.
func (c *conn) backoff(attempt int, retryAfter time.Duration, throttled bool) time.Duration {
	ceiling := c.cfg.BaseDelay << min(attempt-1, 20)
	if ceiling > c.cfg.MaxDelay || ceiling <= 0 {
		ceiling = c.cfg.MaxDelay
	}
	d := time.Duration(rand.Int64N(int64(ceiling) + 1))
	if throttled {
		d = ceiling/2 + time.Duration(rand.Int64N(int64(ceiling/2)+1))
	}
	if retryAfter > 0 {
		ra := min(retryAfter, c.cfg.MaxDelay)
		// a little jitter above the floor so waiting workers do not return together,
		// never past the cap
		d = min(ra+time.Duration(rand.Int64N(int64(ra/4)+1)), c.cfg.MaxDelay)
	}
	return d
}

// tokenRejected reports whether an API call's authentication error may be the token's
// fault (expired, revoked, unknown), which one renewal can cure. The guides' codes for
// it are not all known, so any authentication error of an API call qualifies; a
// renewal that is refused ends the run without a second try.
func tokenRejected(e *Error) bool { return e.Kind == KindAuth }

// once sends one HTTP request.
func (c *conn) once(ctx context.Context, r request, body []byte, access string, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.CallTimeout)
	defer cancel()
	u := *c.base
	u.Path += r.path
	if len(r.query) > 0 {
		u.RawQuery = r.query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), rd)
	if err != nil {
		return fmt.Errorf("%s: %w", r.op, err)
	}
	req.Header.Set("User-Agent", userAgent())
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if access != "" {
		req.Header.Set("Authorization", "Bearer "+access)
	}
	return c.send(req, out)
}

func userAgent() string { return "ycm-onboard/" + Version }

// send performs req and decodes the answer through the dialect. Every request either
// API sends goes through here, so this is where OnResponse hears of it.
func (c *conn) send(req *http.Request, out any) (err error) {
	status := 0
	if c.cfg.OnResponse != nil {
		defer func() { c.cfg.OnResponse(c.api, status, KindOf(err) == KindThrottled) }()
	}
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		if ctxErr := req.Context().Err(); ctxErr != nil && errors.Is(err, context.Canceled) {
			return ctxErr
		}
		if errors.Is(err, errRedirect) {
			// A portal URL that sends elsewhere is a setting to fix, not a fault to retry.
			return &Error{Kind: KindAuth, API: c.d.name(), HTTPStatus: http.StatusTemporaryRedirect,
				Message: strings.TrimPrefix(scrubURLError(err).Error(), errRedirect.Error()+": ") + ": check the portal URL"}
		}
		return &Error{Kind: KindNetwork, API: c.d.name(), Err: scrubURLError(err)}
	}
	defer resp.Body.Close()
	status = resp.StatusCode
	if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		c.skew.Store(int64(d.Sub(c.cfg.Now().Truncate(time.Second))))
		c.dated.Store(true)
	}
	limit := int64(maxBody)
	if resp.StatusCode >= 300 {
		limit = maxErrorBody
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		return &Error{Kind: KindNetwork, API: c.d.name(), HTTPStatus: resp.StatusCode, Err: scrubURLError(err)}
	}
	if c.tap != nil {
		c.tap(req.URL.Path, resp.StatusCode, resp.Header, data)
	}
	err = c.d.decode(resp.StatusCode, resp.Header, data, out)
	if pe := (*Error)(nil); errors.As(err, &pe) {
		pe.API = c.d.name()
		if pe.Kind == KindThrottled && pe.RetryAfter == 0 {
			pe.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), c.cfg.Now())
		}
	}
	return err
}

// scrubURLError drops the URL from a *url.Error: the YCM token never travels in URLs,
// but the message reads better without it and stays safe if one ever does.
func scrubURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("timed out: %w", err)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("the connection closed without a whole answer: %w", err)
	}
	return err
}

// parseRetryAfter reads seconds or an HTTP date; 0 when absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

func withOp(err error, op string) error {
	var pe *Error
	if errors.As(err, &pe) {
		cp := *pe
		cp.Op = op
		return &cp
	}
	return err
}

// statusKind maps an HTTP status to a kind when the body says nothing better.
func statusKind(status int) Kind {
	switch {
	case status == http.StatusTooManyRequests:
		return KindThrottled
	case status == http.StatusUnauthorized:
		return KindAuth
	case status == http.StatusForbidden:
		return KindIPBlocked
	case status == http.StatusNotFound:
		return KindNotFound
	case status == http.StatusConflict:
		return KindExists
	case status >= 500:
		return KindServer
	case status >= 400:
		return KindValidation
	}
	return KindUnknown
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		n := 200
		for n > 0 && !utf8.RuneStart(s[n]) { // never cut a character in two
			n--
		}
		s = s[:n] + "…"
	}
	return s
}

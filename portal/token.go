package portal

import (
	"context"
	"errors"
	"sync"
	"time"
)

// token is an access token and what renews it. Never logged, never in an error.
type token struct {
	access  string
	refresh string
	expiry  time.Time
	margin  time.Duration // renewed this long before expiry
}

// A token is renewed before use once this close to expiry: a tenth of its lifetime,
// at most a minute, so a short-lived token is not renewed for every call.
const maxRefreshMargin = 60 * time.Second

// documentedTTL is both APIs' access-token lifetime, for an answer that does not say.
const documentedTTL = 30 * time.Minute

func newToken(now time.Time, access, refresh string, expiresIn int64) token {
	ttl := time.Duration(expiresIn) * time.Second
	if ttl <= 0 {
		ttl = documentedTTL
	}
	return token{access: access, refresh: refresh, expiry: now.Add(ttl), margin: min(ttl/10, maxRefreshMargin)}
}

// tokenSource hands out a valid token, renewing it once for all workers.
// A refused login is remembered and never retried: YCM blocks the IP after more than five in a row.
type tokenSource struct {
	c    *conn
	sem  chan struct{} // held by the one worker renewing the token
	mu   sync.Mutex
	tok  token
	dead error // a refused login: every later call fails with it
}

func newTokenSource(c *conn) *tokenSource {
	return &tokenSource{c: c, sem: make(chan struct{}, 1)}
}

func (ts *tokenSource) current() (token, error, bool) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.dead != nil {
		return token{}, ts.dead, true
	}
	if ts.tok.access != "" && ts.c.cfg.Now().Add(ts.tok.margin).Before(ts.tok.expiry) {
		return ts.tok, nil, true
	}
	return token{}, nil, false
}

func (ts *tokenSource) get(ctx context.Context) (token, error) {
	if t, err, ok := ts.current(); ok {
		return t, err
	}
	select {
	case ts.sem <- struct{}{}:
	case <-ctx.Done():
		return token{}, ctx.Err()
	}
	defer func() { <-ts.sem }()
	// Another worker may have renewed it while this one waited.
	if t, err, ok := ts.current(); ok {
		return t, err
	}
	ts.mu.Lock()
	refresh := ts.tok.refresh
	ts.mu.Unlock()

	t, err := ts.c.login(ctx, refresh)
	if err != nil && refresh != "" && refused(err) && KindOf(err) != KindIPBlocked {
		// The refresh token was refused (401, or 400 as OAuth servers answer): log in afresh, once.
		t, err = ts.c.login(ctx, "")
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if err != nil {
		if refused(err) {
			// However the token endpoint says no, no call can succeed: it is fatal.
			err = asAuth(err)
			ts.dead = err
		}
		return token{}, err
	}
	ts.tok = t
	return t, nil
}

// refused reports whether the token endpoint answered and said no: trying again
// would only count towards blocking the IP.
func refused(err error) bool {
	var pe *Error
	return errors.As(err, &pe) && !retryable(err)
}

// asAuth makes a refused login an authentication error (an IP block stays one).
func asAuth(err error) error {
	var pe *Error
	if !errors.As(err, &pe) || pe.Kind == KindAuth || pe.Kind == KindIPBlocked {
		return err
	}
	cp := *pe
	cp.Kind = KindAuth
	return &cp
}

// invalidate drops the token the portal refused, unless a newer one replaced it.
func (ts *tokenSource) invalidate(access string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.tok.access == access {
		ts.tok.access = ""
	}
}

// login asks for a token, retrying only what cannot be a refused login.
func (c *conn) login(ctx context.Context, refresh string) (token, error) {
	for attempt := 1; ; attempt++ {
		t, err := c.d.login(ctx, c, refresh)
		if err == nil {
			c.cfg.Logger.Debug().Str("api", c.d.name()).Bool("refresh", refresh != "").
				Time("expires", t.expiry).Msg("token issued")
			return t, nil
		}
		if !retryable(err) || attempt >= c.cfg.MaxAttempts || !c.budget.spend() {
			return token{}, withOp(err, "log in")
		}
		if KindOf(err) == KindThrottled {
			c.lim.throttled(0)
		}
		var ra time.Duration
		if pe, ok := err.(*Error); ok {
			ra = pe.RetryAfter
		}
		if err := c.cfg.Sleep(ctx, c.backoff(attempt, ra, KindOf(err) == KindThrottled)); err != nil {
			return token{}, err
		}
	}
}

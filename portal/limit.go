package portal

import (
	"context"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// adaptiveLimiter paces one API's calls. It starts at the configured rate (or none),
// cuts to 70% when the portal throttles, and climbs back by about one request per
// second each second, so a long run settles just under the portal's limit.
type adaptiveLimiter struct {
	mu      sync.Mutex
	lim     *rate.Limiter
	ceiling float64 // configured maximum; +Inf when none
	now     func() time.Time
	sleep   func(ctx context.Context, d time.Duration) error
	// recent completions, to learn the pace when throttled without a configured rate
	window  time.Time
	count   int
	lastPPS float64
	holdTil time.Time
}

const (
	minRate      = 0.5 // requests per second: the limiter never goes below this
	decreaseBy   = 0.7
	increaseStep = 1.0 // requests per second gained per second of success
)

func newAdaptiveLimiter(r float64, burst int, now func() time.Time, sleep func(context.Context, time.Duration) error) *adaptiveLimiter {
	a := &adaptiveLimiter{ceiling: math.Inf(1), now: now, sleep: sleep}
	if r > 0 {
		a.ceiling = r
		if burst <= 0 {
			burst = 1
		}
		a.lim = rate.NewLimiter(rate.Limit(r), burst)
	} else {
		a.lim = rate.NewLimiter(rate.Inf, 1)
	}
	return a
}

func (a *adaptiveLimiter) Wait(ctx context.Context) error {
	a.mu.Lock()
	hold := a.holdTil.Sub(a.now())
	lim := a.lim
	a.mu.Unlock()
	if hold > 0 {
		if err := a.sleep(ctx, hold); err != nil {
			return err
		}
	}
	return lim.Wait(ctx)
}

// Limit is the current pace in requests per second (+Inf: none).
func (a *adaptiveLimiter) Limit() float64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return float64(a.lim.Limit())
}

func (a *adaptiveLimiter) success() {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	a.count++
	if el := now.Sub(a.window); el >= time.Second {
		a.lastPPS = float64(a.count) / el.Seconds()
		a.window, a.count = now, 0
	}
	cur := float64(a.lim.Limit())
	if math.IsInf(cur, 1) || cur >= a.ceiling {
		return
	}
	// +increaseStep per second: each success adds step/cur.
	next := min(cur+increaseStep/cur, a.ceiling)
	a.lim.SetLimitAt(now, rate.Limit(next))
}

func (a *adaptiveLimiter) throttled(retryAfter time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	cur := float64(a.lim.Limit())
	if math.IsInf(cur, 1) {
		cur = a.lastPPS
		if el := now.Sub(a.window); el > 100*time.Millisecond && a.count > 0 {
			cur = max(cur, float64(a.count)/el.Seconds())
		}
		if cur <= 0 {
			cur = 10
		}
	}
	next := max(cur*decreaseBy, minRate)
	a.lim.SetLimitAt(now, rate.Limit(next))
	a.lim.SetBurstAt(now, 1)
	if retryAfter > 0 {
		if t := now.Add(min(retryAfter, 30*time.Second)); t.After(a.holdTil) {
			a.holdTil = t
		}
	}
}

// retryBudget lets retries through while most calls succeed, and stops them when the
// portal is failing, so a portal in trouble is not hammered (after gRPC's retry throttling).
type retryBudget struct {
	mu     sync.Mutex
	tokens float64
	max    float64
}

const budgetRefill = 0.2 // each success earns back a fifth of a retry: retries go on below ~17% failures

func newRetryBudget(max float64) *retryBudget {
	return &retryBudget{tokens: max, max: max}
}

func (b *retryBudget) spend() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func (b *retryBudget) success() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tokens = min(b.tokens+budgetRefill, b.max)
}

package portal

import (
	"context"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// adaptiveLimiter paces one API's calls. It starts at the configured rate (or none),
// cuts the pace by 15% when the portal throttles (once per second at most, however many
// workers were throttled together), climbs quickly back towards the pace it was cut
// from and slowly (2% a second) past it, so a long run settles just under the
// portal's limit instead of bouncing off it.
type adaptiveLimiter struct {
	mu      sync.Mutex
	lim     *rate.Limiter
	ceiling float64 // configured maximum; +Inf when none
	now     func() time.Time
	sleep   func(ctx context.Context, d time.Duration) error
	// recent completions, to learn the pace when throttled without a configured rate
	window    time.Time
	count     int
	lastPPS   float64
	holdTil   time.Time
	lastCut   time.Time
	lastRaise time.Time
	wmax      float64 // the pace at the last throttle: climbed back to quickly, passed slowly
}

const (
	minRate      = 0.5 // requests per second: the limiter never goes below this
	decreaseBy   = 0.85
	cutEvery     = time.Second // throttles within this of a cut are the same event
	raisePerSec  = 0.02        // of the current pace, per second of success
	minRaiseStep = 0.5         // requests per second, per second
	holdAfter    = 5 * time.Second
)

func newAdaptiveLimiter(r float64, burst int, now func() time.Time, sleep func(context.Context, time.Duration) error) *adaptiveLimiter {
	a := &adaptiveLimiter{ceiling: math.Inf(1), now: now, sleep: sleep, window: now()}
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
		a.lastRaise = now
		return
	}
	el := now.Sub(a.lastRaise)
	if el < 100*time.Millisecond {
		return
	}
	a.lastRaise = now
	step := max(cur*raisePerSec, minRaiseStep)
	if target := 0.95 * a.wmax; cur < target {
		step = max(step, (target-cur)*0.3)
	}
	step *= min(el.Seconds(), 1)
	a.lim.SetLimitAt(now, rate.Limit(min(cur+step, a.ceiling)))
}

func (a *adaptiveLimiter) throttled(retryAfter time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	// A long Retry-After stops every worker; a short one is the throttled call's own wait.
	if retryAfter >= holdAfter {
		if t := now.Add(min(retryAfter, 30*time.Second)); t.After(a.holdTil) {
			a.holdTil = t
		}
	}
	if now.Sub(a.lastCut) < cutEvery {
		return
	}
	a.lastCut, a.lastRaise = now, now
	cur := float64(a.lim.Limit())
	if math.IsInf(cur, 1) {
		// No pace was set: start from the pace measured so far.
		cur = a.lastPPS
		if a.count > 0 {
			cur = max(cur, float64(a.count)/max(now.Sub(a.window), 50*time.Millisecond).Seconds())
		}
		if cur < 1 {
			cur = 10
		}
	}
	// The pace the portal accepted is a better start than a limit that was not binding.
	if a.lastPPS >= 1 && a.lastPPS < cur {
		cur = a.lastPPS
	}
	a.wmax = cur
	a.lim.SetLimitAt(now, rate.Limit(max(cur*decreaseBy, minRate)))
	a.lim.SetBurstAt(now, 1)
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

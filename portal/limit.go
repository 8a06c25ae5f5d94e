package portal

import (
	"context"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// adaptiveLimiter paces one API's calls, after the AWS SDKs' adaptive retry mode. Until
// the portal first throttles it lets calls through at the configured rate (or none);
// from then on it measures the pace at which calls are sent, cuts to 70% of it when
// throttled (once per burst of throttled answers), and grows back along a cubic curve
// that slows near the pace that was throttled and speeds up past it. The pace never
// exceeds twice what was measured, so a long run settles just under the portal's limit.
type adaptiveLimiter struct {
	mu      sync.Mutex
	lim     *rate.Limiter
	ceiling float64 // configured maximum; +Inf when none
	now     func() time.Time
	sleep   func(ctx context.Context, d time.Duration) error
	holdTil time.Time

	enabled      bool      // the portal has throttled: the cubic pace is in force
	measured     float64   // smoothed send pace, requests per second
	bucket       time.Time // start of the current half-second measuring bucket
	sent         int       // answers in the current bucket
	lastMax      float64   // the pace when last throttled
	lastThrottle time.Time
}

const (
	minRate    = 0.5 // requests per second: the limiter never goes below this
	beta       = 0.7 // the pace kept when throttled
	cubicC     = 0.4
	smoothing  = 0.8
	cutEvery   = 250 * time.Millisecond // throttled answers within this of a cut are the same event
	holdAfter  = 5 * time.Second        // a Retry-After this long stops every worker
	bucketSize = 500 * time.Millisecond
)

func newAdaptiveLimiter(r float64, burst int, now func() time.Time, sleep func(context.Context, time.Duration) error) *adaptiveLimiter {
	a := &adaptiveLimiter{ceiling: math.Inf(1), now: now, sleep: sleep, bucket: now()}
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

// measure counts an answer towards the smoothed send pace.
func (a *adaptiveLimiter) measure(now time.Time) {
	a.sent++
	if el := now.Sub(a.bucket); el >= bucketSize {
		cur := float64(a.sent) / el.Seconds()
		a.measured = cur*smoothing + a.measured*(1-smoothing)
		a.sent, a.bucket = 0, now
	}
}

func (a *adaptiveLimiter) set(now time.Time, r float64) {
	r = min(max(r, minRate), a.ceiling)
	a.lim.SetLimitAt(now, rate.Limit(r))
	a.lim.SetBurstAt(now, 1)
}

func (a *adaptiveLimiter) success() {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	a.measure(now)
	if !a.enabled {
		return
	}
	t := now.Sub(a.lastThrottle).Seconds()
	k := math.Cbrt(a.lastMax * (1 - beta) / cubicC)
	cubic := cubicC*math.Pow(t-k, 3) + a.lastMax
	a.set(now, min(cubic, 2*max(a.measured, minRate)))
}

func (a *adaptiveLimiter) throttled(retryAfter time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	a.measure(now)
	if retryAfter >= holdAfter {
		if t := now.Add(min(retryAfter, 30*time.Second)); t.After(a.holdTil) {
			a.holdTil = t
		}
	}
	if a.enabled && now.Sub(a.lastThrottle) < cutEvery {
		return
	}
	pace := a.measured
	if pace <= 0 {
		// Throttled before a pace was measured: what was sent so far says it.
		pace = float64(a.sent) / max(now.Sub(a.bucket), 50*time.Millisecond).Seconds()
	}
	if a.enabled {
		pace = min(pace, float64(a.lim.Limit()))
	}
	a.enabled, a.lastMax, a.lastThrottle = true, pace, now
	a.set(now, pace*beta)
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

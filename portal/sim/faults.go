package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

// Faults are the knobs that make the simulator misbehave. In JSON the durations
// are Go duration strings ("150ms"); numbers are read as nanoseconds.
type Faults struct {
	Latency             time.Duration `json:"latency"`             // added to every API request
	Jitter              time.Duration `json:"jitter"`              // plus a uniform random [0, Jitter)
	ErrorRate           float64       `json:"errorRate"`           // fraction answered 500 or 503 before any work
	DropBeforeWriteRate float64       `json:"dropBeforeWriteRate"` // writes: connection closed, nothing done
	DropAfterWriteRate  float64       `json:"dropAfterWriteRate"`  // writes: done, then connection closed unanswered
	ThrottleRate        float64       `json:"throttleRate"`        // requests per second per API; 0: no limit
	ThrottleBurst       int           `json:"throttleBurst"`       // bucket size; at least 1
}

type faultsJSON struct {
	Latency             duration `json:"latency"`
	Jitter              duration `json:"jitter"`
	ErrorRate           float64  `json:"errorRate"`
	DropBeforeWriteRate float64  `json:"dropBeforeWriteRate"`
	DropAfterWriteRate  float64  `json:"dropAfterWriteRate"`
	ThrottleRate        float64  `json:"throttleRate"`
	ThrottleBurst       int      `json:"throttleBurst"`
}

type duration time.Duration

func (d duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

func (d *duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		*d = duration(v)
		return nil
	}
	var n int64
	if err := json.Unmarshal(b, &n); err != nil {
		return errors.New(`a duration is a string like "150ms" or a number of nanoseconds`)
	}
	*d = duration(n)
	return nil
}

func (f Faults) MarshalJSON() ([]byte, error) {
	return json.Marshal(faultsJSON{duration(f.Latency), duration(f.Jitter), f.ErrorRate,
		f.DropBeforeWriteRate, f.DropAfterWriteRate, f.ThrottleRate, f.ThrottleBurst})
}

// UnmarshalJSON sets the fields present in b and leaves the others as they are.
func (f *Faults) UnmarshalJSON(b []byte) error {
	j := faultsJSON{duration(f.Latency), duration(f.Jitter), f.ErrorRate,
		f.DropBeforeWriteRate, f.DropAfterWriteRate, f.ThrottleRate, f.ThrottleBurst}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return err
	}
	*f = Faults{time.Duration(j.Latency), time.Duration(j.Jitter), j.ErrorRate,
		j.DropBeforeWriteRate, j.DropAfterWriteRate, j.ThrottleRate, j.ThrottleBurst}
	return nil
}

func (f Faults) validate() error {
	var errs []error
	if f.Latency < 0 || f.Jitter < 0 {
		errs = append(errs, errors.New("latency and jitter must not be negative"))
	}
	for _, r := range []struct {
		name string
		v    float64
	}{{"errorRate", f.ErrorRate}, {"dropBeforeWriteRate", f.DropBeforeWriteRate}, {"dropAfterWriteRate", f.DropAfterWriteRate}} {
		if !(r.v >= 0 && r.v <= 1) {
			errs = append(errs, fmt.Errorf("%s %g is not within 0..1", r.name, r.v))
		}
	}
	if !(f.ThrottleRate >= 0) || math.IsInf(f.ThrottleRate, 0) {
		errs = append(errs, fmt.Errorf("throttleRate %g is not a number of requests per second", f.ThrottleRate))
	}
	if f.ThrottleBurst < 0 {
		errs = append(errs, fmt.Errorf("throttleBurst %d is negative", f.ThrottleBurst))
	}
	return errors.Join(errs...)
}

// delay is how long a request waits before it is looked at.
func (f *Faults) delay() time.Duration {
	d := f.Latency
	if f.Jitter > 0 {
		d += rand.N(f.Jitter)
	}
	return d
}

// bucket is a token bucket on the simulated clock.
type bucket struct {
	mu     sync.Mutex
	rate   float64
	burst  int
	tokens float64
	last   time.Time
}

func (b *bucket) reset() {
	b.mu.Lock()
	b.rate, b.burst, b.tokens, b.last = 0, 0, 0, time.Time{}
	b.mu.Unlock()
}

// take spends one token; when there is none it says how long until there is.
func (b *bucket) take(now time.Time, rate float64, burst int) (bool, time.Duration) {
	burst = max(burst, 1)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.rate != rate || b.burst != burst || b.last.IsZero() {
		b.rate, b.burst, b.tokens, b.last = rate, burst, float64(burst), now
	}
	if el := now.Sub(b.last); el > 0 {
		b.tokens = min(float64(burst), b.tokens+el.Seconds()*rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / rate * float64(time.Second))
	return false, max(wait, time.Nanosecond)
}

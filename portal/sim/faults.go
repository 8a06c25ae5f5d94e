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
//
// Throttling is a token bucket per API of ThrottleBurst tokens, starting full.
// It refills smoothly at ThrottleRate tokens a second, or, when ThrottleEvery is
// set, by ThrottleLump tokens at once every ThrottleEvery (YCM's documented
// kind: burst 600, 300 tokens every 3 minutes), nothing between lumps.
type Faults struct {
	Latency             time.Duration `json:"latency"`             // added to every API request
	Jitter              time.Duration `json:"jitter"`              // plus a uniform random [0, Jitter)
	ErrorRate           float64       `json:"errorRate"`           // fraction answered 500 or 503 before any work
	DropBeforeWriteRate float64       `json:"dropBeforeWriteRate"` // writes: connection closed, nothing done
	DropAfterWriteRate  float64       `json:"dropAfterWriteRate"`  // writes: done, then connection closed unanswered
	ThrottleRate        float64       `json:"throttleRate"`        // smooth refill, tokens a second; 0 (and no ThrottleEvery): no limit
	ThrottleBurst       int           `json:"throttleBurst"`       // bucket size; at least 1
	ThrottleLump        int           `json:"throttleLump"`        // tokens added at each ThrottleEvery
	ThrottleEvery       time.Duration `json:"throttleEvery"`       // 0: no lumps
}

// throttled says whether any throttling is on.
func (f *Faults) throttled() bool { return f.ThrottleRate > 0 || f.ThrottleEvery > 0 }

type faultsJSON struct {
	Latency             duration `json:"latency"`
	Jitter              duration `json:"jitter"`
	ErrorRate           float64  `json:"errorRate"`
	DropBeforeWriteRate float64  `json:"dropBeforeWriteRate"`
	DropAfterWriteRate  float64  `json:"dropAfterWriteRate"`
	ThrottleRate        float64  `json:"throttleRate"`
	ThrottleBurst       int      `json:"throttleBurst"`
	ThrottleLump        int      `json:"throttleLump"`
	ThrottleEvery       duration `json:"throttleEvery"`
}

func (f Faults) toJSON() faultsJSON {
	return faultsJSON{duration(f.Latency), duration(f.Jitter), f.ErrorRate, f.DropBeforeWriteRate,
		f.DropAfterWriteRate, f.ThrottleRate, f.ThrottleBurst, f.ThrottleLump, duration(f.ThrottleEvery)}
}

func (j faultsJSON) faults() Faults {
	return Faults{time.Duration(j.Latency), time.Duration(j.Jitter), j.ErrorRate, j.DropBeforeWriteRate,
		j.DropAfterWriteRate, j.ThrottleRate, j.ThrottleBurst, j.ThrottleLump, time.Duration(j.ThrottleEvery)}
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
	return json.Marshal(f.toJSON())
}

// UnmarshalJSON sets the fields present in b and leaves the others as they are.
func (f *Faults) UnmarshalJSON(b []byte) error {
	j := f.toJSON()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return err
	}
	*f = j.faults()
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
	switch {
	case f.ThrottleEvery < 0:
		errs = append(errs, fmt.Errorf("throttleEvery %s is negative", f.ThrottleEvery))
	case f.ThrottleEvery > 0 && f.ThrottleLump < 1:
		errs = append(errs, fmt.Errorf("throttleLump %d: with throttleEvery it is at least 1", f.ThrottleLump))
	case f.ThrottleEvery > 0 && f.ThrottleRate > 0:
		errs = append(errs, errors.New("set throttleRate (smooth) or throttleEvery (lumps), not both"))
	case f.ThrottleEvery == 0 && f.ThrottleLump != 0:
		errs = append(errs, fmt.Errorf("throttleLump %d needs throttleEvery", f.ThrottleLump))
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
	conf   bucketConf
	tokens float64
	start  time.Time // when the bucket was last filled by a change of conf
	last   time.Time // smooth: the last refill; lumpy: unused
	lumps  int64     // lumpy: lumps added since start
}

type bucketConf struct {
	rate  float64
	burst int
	lump  int
	every time.Duration
}

func (b *bucket) reset() {
	b.mu.Lock()
	b.conf, b.tokens, b.start, b.last, b.lumps = bucketConf{}, 0, time.Time{}, time.Time{}, 0
	b.mu.Unlock()
}

// take spends one token; when there is none it says how long until there is.
func (b *bucket) take(now time.Time, f *Faults) (bool, time.Duration) {
	conf := bucketConf{f.ThrottleRate, max(f.ThrottleBurst, 1), f.ThrottleLump, f.ThrottleEvery}
	if conf.every > 0 {
		conf.rate = 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.conf != conf || b.start.IsZero() {
		b.conf, b.tokens, b.start, b.last, b.lumps = conf, float64(conf.burst), now, now, 0
	}
	burst := float64(conf.burst)
	if conf.every > 0 {
		if n := int64(now.Sub(b.start) / conf.every); n > b.lumps {
			b.tokens = min(burst, b.tokens+float64(n-b.lumps)*float64(conf.lump))
			b.lumps = n
		}
	} else if el := now.Sub(b.last); el > 0 {
		b.tokens = min(burst, b.tokens+el.Seconds()*conf.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	var wait time.Duration
	if conf.every > 0 {
		wait = b.start.Add(time.Duration(b.lumps+1) * conf.every).Sub(now)
	} else {
		wait = time.Duration((1 - b.tokens) / conf.rate * float64(time.Second))
	}
	return false, max(wait, time.Nanosecond)
}

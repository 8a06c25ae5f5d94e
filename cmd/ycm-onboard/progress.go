package main

import (
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/ycm-onboard/ycm-onboard/job"
	"github.com/ycm-onboard/ycm-onboard/reconcile"
)

// progress shows how an apply goes: a line redrawn on stderr on a terminal, a log
// line every 10 seconds otherwise.
type progress struct {
	a       *app
	log     zerolog.Logger
	mu      sync.Mutex
	total   int
	done_   int
	failed  int
	start   time.Time
	last    time.Time
	every   time.Duration
	drawn   bool
	enabled bool
}

func (a *app) newProgress(p reconcile.Plan, log zerolog.Logger) job.Progress {
	total := 0
	for _, act := range p.Actions {
		if act.Runs() {
			total++
		}
	}
	pr := &progress{a: a, log: log, total: total, start: a.now(), last: a.now(), every: 10 * time.Second, enabled: total > 0}
	if a.stderrTTY {
		pr.every = 200 * time.Millisecond
	}
	return pr
}

// Done counts a result and redraws when it is time.
func (p *progress) Done(r reconcile.Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done_++
	if r.Outcome == reconcile.Failed {
		p.failed++
	}
	now := p.a.now()
	if now.Sub(p.last) < p.every && p.done_ < p.total {
		return
	}
	p.last = now
	p.show(now)
}

func (p *progress) show(now time.Time) {
	el := now.Sub(p.start)
	rate := float64(p.done_) / max(el.Seconds(), 0.001)
	eta := time.Duration(0)
	if rate > 0 {
		eta = time.Duration(float64(p.total-p.done_)/rate) * time.Second
	}
	if p.a.stderrTTY {
		fmt.Fprintf(p.a.stderr, "\r\033[K%d/%d changes, %.1f/s, %d failed, ETA %s", p.done_, p.total, rate, p.failed, eta.Round(time.Second))
		p.drawn = true
		return
	}
	p.log.Info().Int("done", p.done_).Int("total", p.total).Float64("per_second", rate).
		Int("failed", p.failed).Dur("eta", eta.Round(time.Second)).Msg("progress")
}

// Finish ends the progress line.
func (p *progress) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprintln(p.a.stderr)
	}
}

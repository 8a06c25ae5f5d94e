// Package metrics counts what runs did, for Prometheus: serve exposes the counts of
// the runs it starts on a listener of its own (--metrics-addr), and a batch run writes
// its own counts as a node_exporter textfile (--metrics-file) whatever its ending.
//
// Runs are seen through job's outcome, portal requests through
// portal.Config.OnResponse, invitations through the run history. No label ever holds
// an e-mail, a name, a URL or anything a person typed: labels take only the fixed
// words below (modes, endings, kinds, outcomes, API names, HTTP statuses), so the
// exposition can neither leak a colleague's address nor grow with the spreadsheet.
package metrics

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"

	"github.com/ycm-onboard/ycm-onboard/internal/place"
	"github.com/ycm-onboard/ycm-onboard/job"
	"github.com/ycm-onboard/ycm-onboard/reconcile"
	"github.com/ycm-onboard/ycm-onboard/report"
	"github.com/ycm-onboard/ycm-onboard/state"
)

const namespace = "ycm_onboard"

// Endings are the outcome label of ycm_onboard_runs_total, one per job.Ending.
var endings = map[job.Ending]string{
	job.Done:        "done",
	job.Partial:     "partial",
	job.Refused:     "refused",
	job.Guarded:     "guarded",
	job.PortalDown:  "portal_down",
	job.Locked:      "locked",
	job.Local:       "local",
	job.Interrupted: "interrupted",
}

// EndingName is the outcome label of a run that ended e.
func EndingName(e job.Ending) string {
	if n, ok := endings[e]; ok {
		return n
	}
	return "unknown"
}

// durationBuckets span a one-row run (a second) to a night's migration (hours).
var durationBuckets = []float64{1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400}

// Metrics holds one registry and the figures in it. Its methods are safe for
// concurrent use.
type Metrics struct {
	reg         *prometheus.Registry
	runs        *prometheus.CounterVec
	actions     *prometheus.CounterVec
	requests    *prometheus.CounterVec
	throttled   *prometheus.CounterVec
	applyTook   prometheus.Histogram
	runTook     *prometheus.HistogramVec
	lastRun     *prometheus.GaugeVec
	lastExit    *prometheus.GaugeVec
	invitations *invitations
}

// Options say what a registry holds besides the job's own figures.
type Options struct {
	// Runtime adds the Go runtime's and the process's collectors (go_*, process_*):
	// for a long-lived serve. A batch run's textfile leaves them out: node_exporter
	// has its own, and a run's heap says nothing once it has exited.
	Runtime bool
	// Modes are the run modes whose every outcome of ycm_onboard_runs_total starts at
	// 0, so that an alert on increase(...{outcome="portal_down"}[1d]) sees the first
	// one: serve's both, a batch run's own only (node_exporter refuses a series that
	// two textfiles both hold, so a plan's file and an apply's must not share one).
	Modes []job.Mode
}

// New returns figures in a registry of their own (never the global default one, which
// any imported library may fill).
func New(o Options) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "runs_total",
			Help: "Runs by mode (plan, apply) and how they ended (done, partial, refused, guarded, portal_down, locked, local, interrupted)."},
			[]string{"mode", "outcome"}),
		actions: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "actions_total",
			Help: "The plans' actions by run mode, kind (create, update, delete, re-invite, resize, no-op, skip) and outcome (planned, applied, unchanged, failed, skipped, blocked, not run)."},
			[]string{"mode", "kind", "outcome"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "portal_requests_total",
			Help: "HTTP requests sent to the portal, logins and retries included, by API (partner, ycm) and HTTP status (error: no answer)."},
			[]string{"api", "status"}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "portal_throttled_total",
			Help: "Portal answers that said slow down (HTTP 429, or YCM's 1000040 at any status), by API."},
			[]string{"api"}),
		applyTook: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace, Name: "apply_duration_seconds",
			Help: "How long each run's apply step took: every change sent and answered.", Buckets: durationBuckets}),
		runTook: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "run_duration_seconds",
			Help: "How long each run took, from reading the input to writing the report, by mode.", Buckets: durationBuckets},
			[]string{"mode"}),
		lastRun: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Name: "last_run_timestamp_seconds",
			Help: "When the last run of each mode ended, in seconds since the Unix epoch."}, []string{"mode"}),
		lastExit: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Name: "last_run_exit_code",
			Help: "The exit code of the last run of each mode (0 done, 1 partial, 2 refused, 3 guarded, 4 portal down, 5 locked, 6 local, 130 interrupted)."},
			[]string{"mode"}),
		invitations: &invitations{desc: prometheus.NewDesc(namespace+"_invitations",
			"Invitations in the run history by status at the time of the scrape or of the run (pending, expired, active).",
			[]string{"status"}, nil)},
	}
	m.reg.MustRegister(m.runs, m.actions, m.requests, m.throttled, m.applyTook, m.runTook, m.lastRun, m.lastExit, m.invitations)
	for _, mode := range o.Modes {
		for _, name := range endings {
			m.runs.WithLabelValues(string(mode), name)
		}
	}
	if o.Runtime {
		m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	return m
}

// Response counts one portal request: it is a portal.Config.OnResponse.
func (m *Metrics) Response(api string, status int, throttled bool) {
	code := "error"
	if status > 0 {
		code = strconv.Itoa(status)
	}
	m.requests.WithLabelValues(api, code).Inc()
	if throttled {
		m.throttled.WithLabelValues(api).Inc()
	}
}

// Run counts one run that ended e at the time end: its ending, its actions by
// outcome, how long it and its apply took. out is what job.Run returned: a run that
// stopped before its report (Reported false) counts its ending only.
func (m *Metrics) Run(mode job.Mode, e job.Ending, out job.Outcome, end time.Time) {
	md := string(mode)
	m.runs.WithLabelValues(md, EndingName(e)).Inc()
	m.lastRun.WithLabelValues(md).Set(float64(end.UnixNano()) / 1e9)
	m.lastExit.WithLabelValues(md).Set(float64(job.ExitCode(&job.Failure{Ending: e})))
	if !out.Reported {
		return
	}
	rep := out.Report
	for i, a := range rep.Plan.Actions {
		m.actions.WithLabelValues(md, a.Kind.String(), report.OutcomeOf(rep, i).String()).Inc()
	}
	if !rep.Started.IsZero() && !rep.Finished.Before(rep.Started) {
		m.runTook.WithLabelValues(md).Observe(rep.Finished.Sub(rep.Started).Seconds())
	}
	if out.ApplyTook > 0 {
		m.applyTook.Observe(out.ApplyTook.Seconds())
	}
}

// Invitations makes the invitations gauge count what read returns, each time the
// figures are gathered: serve reads the run history at every scrape, so an invitation
// that expired since the last run shows as expired; a batch run reads it once, after
// the run. Until it is called the gauge is absent.
func (m *Metrics) Invitations(read func(context.Context) ([]state.Invitation, error), now func() time.Time) {
	m.invitations.mu.Lock()
	defer m.invitations.mu.Unlock()
	m.invitations.read, m.invitations.now = read, now
}

// Handler serves the registry in the Prometheus exposition formats. A gathering error
// (the run history unreadable) is logged by the caller's server and the rest served.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError, Registry: m.reg})
}

// Gatherer is the registry, for tests and other exporters.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.reg }

// WriteFile writes the figures to path in the text format node_exporter's textfile
// collector reads: through a temporary file beside it, synced, then renamed, so the
// collector never reads half a file; mode 0644, so a node_exporter running as another
// user can read it. (prometheus.WriteToTextfile renames too, but does not sync.)
func (m *Metrics) WriteFile(path string) error {
	mfs, gerr := m.reg.Gather()
	if len(mfs) == 0 && gerr != nil {
		return fmt.Errorf("gather metrics: %w", gerr)
	}
	_, err := place.WritePerm(path, place.Replace, 0o644, func(w io.Writer) error {
		for _, mf := range mfs {
			if _, err := expfmt.MetricFamilyToText(w, mf); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("write metrics file %s: %w", path, err)
	}
	if gerr != nil { // written without the figures that failed
		return fmt.Errorf("metrics file %s written without some figures: %w", path, gerr)
	}
	return nil
}

// invitations is the gauge of the run history's invitations by status, read when the
// figures are gathered.
type invitations struct {
	desc *prometheus.Desc
	mu   sync.Mutex
	read func(context.Context) ([]state.Invitation, error)
	now  func() time.Time
}

// statuses are the invitations gauge's status labels: the three an invitation the job
// sent can be in. Others (a status read from the portal for a colleague the job never
// invited, such as Frozen) are not counted.
var statuses = map[reconcile.Activation]string{
	reconcile.ActivationPending: "pending",
	reconcile.ActivationExpired: "expired",
	reconcile.ActivationActive:  "active",
}

// readTimeout bounds one scrape's read of the run history: a history held busy by an
// apply must not hold the scrape past Prometheus's own timeout.
const readTimeout = 5 * time.Second

func (c *invitations) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *invitations) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	read, now := c.read, c.now
	c.mu.Unlock()
	if read == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
	defer cancel()
	invs, err := read(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, fmt.Errorf("read the run history's invitations: %w", err))
		return
	}
	counts := map[string]int{"pending": 0, "expired": 0, "active": 0}
	t := now()
	for _, inv := range invs {
		if s, ok := statuses[inv.Status(t)]; ok {
			counts[s]++
		}
	}
	for s, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), s)
	}
}

package metrics_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	dto "github.com/prometheus/client_model/go"

	"github.com/ycm-onboard/ycm-onboard/internal/promtest"
	"github.com/ycm-onboard/ycm-onboard/job"
	"github.com/ycm-onboard/ycm-onboard/metrics"
	"github.com/ycm-onboard/ycm-onboard/reconcile"
	"github.com/ycm-onboard/ycm-onboard/report"
	"github.com/ycm-onboard/ycm-onboard/state"
)

// value is the sample of family name whose labels include want; ok false when absent.
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	var pairs []string
	for k, v := range want {
		pairs = append(pairs, k, v)
	}
	v := promtest.Value(fams, name, pairs...)
	return v, v >= 0
}

func gather(t *testing.T, m *metrics.Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	mfs, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	fams := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		fams[mf.GetName()] = mf
	}
	return fams
}

type sample struct {
	name   string
	labels map[string]string
	want   float64
}

func check(t *testing.T, fams map[string]*dto.MetricFamily, samples []sample) {
	t.Helper()
	for _, s := range samples {
		got, ok := value(fams, s.name, s.labels)
		if !ok || got != s.want {
			t.Errorf("%s%v = %v (present %v), want %v", s.name, s.labels, got, ok, s.want)
		}
	}
}

// appliedRun is an apply's outcome: two creates applied and one failed, one update
// blocked, one row unchanged and one skipped for errors.
func appliedRun(start time.Time) job.Outcome {
	acts := []reconcile.Action{
		{Kind: reconcile.Create, Label: "ann@example.com"}, {Kind: reconcile.Create, Label: "bob@example.com"},
		{Kind: reconcile.Create, Label: "cy@example.com"}, {Kind: reconcile.Update, Label: "dee@example.com", Blocked: "a guard"},
		{Kind: reconcile.Noop, Label: "eve@example.com"}, {Kind: reconcile.Skip, Label: "bad row"},
	}
	res := []reconcile.Result{{Outcome: reconcile.Applied}, {Outcome: reconcile.Applied}, {Outcome: reconcile.Failed},
		{Outcome: reconcile.Blocked}, {Outcome: reconcile.Unchanged}, {Outcome: reconcile.Skipped}}
	return job.Outcome{Reported: true, ApplyTook: 90 * time.Second,
		Report: report.Run{Mode: "apply", Started: start, Finished: start.Add(2 * time.Minute), Plan: reconcile.Plan{Actions: acts}, Results: res}}
}

// TestRunCountsEndingsAndActions: a run counts its ending, each action by kind and
// outcome as the report names them, its durations and its last-run gauges; a run that
// stopped before its report counts its ending only.
func TestRunCountsEndingsAndActions(t *testing.T) {
	m := metrics.New(metrics.Options{Modes: []job.Mode{job.Plan, job.Apply}})
	end := time.Date(2026, 12, 1, 2, 3, 4, 0, time.UTC)
	m.Run(job.Apply, job.Partial, appliedRun(end.Add(-2*time.Minute)), end)
	m.Run(job.Plan, job.PortalDown, job.Outcome{}, end.Add(time.Hour))
	apply := func(kind, outcome string) map[string]string {
		return map[string]string{"mode": "apply", "kind": kind, "outcome": outcome}
	}
	check(t, gather(t, m), []sample{
		{"ycm_onboard_runs_total", map[string]string{"mode": "apply", "outcome": "partial"}, 1},
		{"ycm_onboard_runs_total", map[string]string{"mode": "apply", "outcome": "done"}, 0},
		{"ycm_onboard_runs_total", map[string]string{"mode": "plan", "outcome": "portal_down"}, 1},
		{"ycm_onboard_runs_total", map[string]string{"mode": "plan", "outcome": "interrupted"}, 0},
		{"ycm_onboard_actions_total", apply("create", "applied"), 2},
		{"ycm_onboard_actions_total", apply("create", "failed"), 1},
		{"ycm_onboard_actions_total", apply("update", "blocked"), 1},
		{"ycm_onboard_actions_total", apply("no-op", "unchanged"), 1},
		{"ycm_onboard_actions_total", apply("skip", "skipped"), 1},
		{"ycm_onboard_apply_duration_seconds", nil, 1},
		{"ycm_onboard_run_duration_seconds", map[string]string{"mode": "apply"}, 1},
		{"ycm_onboard_last_run_timestamp_seconds", map[string]string{"mode": "apply"}, float64(end.Unix())},
		{"ycm_onboard_last_run_exit_code", map[string]string{"mode": "apply"}, 1},
		{"ycm_onboard_last_run_timestamp_seconds", map[string]string{"mode": "plan"}, float64(end.Add(time.Hour).Unix())},
		{"ycm_onboard_last_run_exit_code", map[string]string{"mode": "plan"}, 4},
	})
	fams := gather(t, m)
	if sum := fams["ycm_onboard_apply_duration_seconds"].GetMetric()[0].GetHistogram().GetSampleSum(); sum != 90 {
		t.Errorf("apply duration sum %v, want 90", sum)
	}
	if _, ok := value(fams, "ycm_onboard_run_duration_seconds", map[string]string{"mode": "plan"}); ok {
		t.Error("a run that stopped before its report has a duration")
	}
}

// TestEveryEndingHasAName: each job.Ending maps to its own label, as the README lists.
func TestEveryEndingHasAName(t *testing.T) {
	got := map[string]bool{}
	for e := job.Done; e <= job.Interrupted; e++ {
		n := metrics.EndingName(e)
		if n == "unknown" || got[n] {
			t.Errorf("ending %d: name %q", e, n)
		}
		got[n] = true
	}
}

// TestResponsesByAPIStatusAndThrottling: each request counts once by API and status
// (no answer is "error"); throttled answers count apart as well.
func TestResponsesByAPIStatusAndThrottling(t *testing.T) {
	m := metrics.New(metrics.Options{})
	for _, r := range []struct {
		api       string
		status    int
		throttled bool
	}{{"partner", 200, false}, {"partner", 200, false}, {"ycm", 200, true}, {"ycm", 429, true}, {"partner", 0, false}} {
		m.Response(r.api, r.status, r.throttled)
	}
	check(t, gather(t, m), []sample{
		{"ycm_onboard_portal_requests_total", map[string]string{"api": "partner", "status": "200"}, 2},
		{"ycm_onboard_portal_requests_total", map[string]string{"api": "ycm", "status": "200"}, 1},
		{"ycm_onboard_portal_requests_total", map[string]string{"api": "ycm", "status": "429"}, 1},
		{"ycm_onboard_portal_requests_total", map[string]string{"api": "partner", "status": "error"}, 1},
		{"ycm_onboard_portal_throttled_total", map[string]string{"api": "ycm"}, 2},
	})
}

// TestInvitationsAreReadAtEachGather: the gauge counts the run history as it is when
// gathered, at the clock's time then: a pending invitation later shows as expired.
func TestInvitationsAreReadAtEachGather(t *testing.T) {
	m := metrics.New(metrics.Options{})
	if _, ok := gather(t, m)["ycm_onboard_invitations"]; ok {
		t.Error("the invitations gauge is there before anything reads the run history")
	}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	sent := now.Add(-time.Hour)
	invs := []state.Invitation{
		{Email: "ann@example.com", InvitedAt: sent, ExpiresAt: sent.Add(reconcile.InviteValidity)},
		{Email: "bob@example.com", InvitedAt: sent, ExpiresAt: sent.Add(reconcile.InviteValidity)},
		{Email: "cy@example.com", InvitedAt: sent, ExpiresAt: sent.Add(reconcile.InviteValidity), ActivatedAt: now},
		{Email: "dee@example.com", LastStatus: "Frozen"}, // not the job's invitation: not counted
	}
	m.Invitations(func(context.Context) ([]state.Invitation, error) { return invs, nil }, func() time.Time { return now })
	status := func(s string) map[string]string { return map[string]string{"status": s} }
	check(t, gather(t, m), []sample{
		{"ycm_onboard_invitations", status("pending"), 2},
		{"ycm_onboard_invitations", status("expired"), 0},
		{"ycm_onboard_invitations", status("active"), 1},
	})
	now = now.Add(48 * time.Hour)
	check(t, gather(t, m), []sample{
		{"ycm_onboard_invitations", status("pending"), 0},
		{"ycm_onboard_invitations", status("expired"), 2},
		{"ycm_onboard_invitations", status("active"), 1},
	})
	// An unreadable history fails that figure only: the handler serves the rest.
	m.Invitations(func(context.Context) ([]state.Invitation, error) { return nil, errors.New("disk I/O error") }, func() time.Time { return now })
	m.Run(job.Apply, job.Done, job.Outcome{}, now)
	ts := httptest.NewServer(m.Handler())
	defer ts.Close()
	resp, err := http.Get(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fams := promtest.Parse(t, string(body))
	check(t, fams, []sample{{"ycm_onboard_runs_total", map[string]string{"mode": "apply", "outcome": "done"}, 1}})
	if _, ok := fams["ycm_onboard_invitations"]; ok {
		t.Error("invitations served from an unreadable history")
	}
}

// TestWriteFileIsWholeAndReadable: the textfile is the text format, mode 0644 for a
// node_exporter running as another user, replaced whole on each write with no
// temporary file left beside it, and without the Go runtime's figures.
func TestWriteFileIsWholeAndReadable(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ycm-onboard.prom")
	m := metrics.New(metrics.Options{})
	end := time.Now()
	m.Run(job.Apply, job.Done, appliedRun(end.Add(-2*time.Minute)), end)
	for range 2 { // the second replaces the first
		if err := m.WriteFile(path); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if diff := cmp.Diff([]string{"ycm-onboard.prom"}, names); diff != "" {
		t.Errorf("the directory holds (-want +got):\n%s", diff)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fams := promtest.Parse(t, string(data))
	check(t, fams, []sample{
		{"ycm_onboard_runs_total", map[string]string{"mode": "apply", "outcome": "done"}, 1},
		{"ycm_onboard_actions_total", map[string]string{"mode": "apply", "kind": "create", "outcome": "applied"}, 2},
	})
	for name := range fams {
		if !strings.HasPrefix(name, "ycm_onboard_") {
			t.Errorf("the textfile holds %s: node_exporter has its own", name)
		}
	}
	if err := m.WriteFile(filepath.Join(dir, "missing", "x.prom")); err == nil {
		t.Error("a file in a missing directory was written")
	}
}

// TestRuntimeCollectors: serve's registry has the Go runtime's and the process's.
func TestRuntimeCollectors(t *testing.T) {
	fams := gather(t, metrics.New(metrics.Options{Runtime: true, Modes: []job.Mode{job.Apply}}))
	for _, name := range []string{"go_goroutines", "ycm_onboard_runs_total"} {
		if _, ok := fams[name]; !ok {
			t.Errorf("no %s", name)
		}
	}
}

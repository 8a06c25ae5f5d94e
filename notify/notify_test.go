package notify

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ycm-onboard/ycm-onboard/job"
	"github.com/ycm-onboard/ycm-onboard/reconcile"
	"github.com/ycm-onboard/ycm-onboard/report"
)

// applied is an apply that created 3 colleagues and failed 1.
func applied() Summary {
	t0 := time.Date(2026, 11, 30, 22, 0, 0, 0, time.UTC)
	plan := reconcile.Plan{Actions: []reconcile.Action{
		{Kind: reconcile.Create, Object: reconcile.ColleagueObject, Label: "a@x.example"},
		{Kind: reconcile.Create, Object: reconcile.ColleagueObject, Label: "b@x.example"},
		{Kind: reconcile.Create, Object: reconcile.ColleagueObject, Label: "c@x.example"},
		{Kind: reconcile.Create, Object: reconcile.ColleagueObject, Label: "d@x.example"},
		{Kind: reconcile.Noop, Object: reconcile.ColleagueObject, Label: "e@x.example"},
	}}
	results := []reconcile.Result{{Outcome: reconcile.Applied}, {Outcome: reconcile.Applied}, {Outcome: reconcile.Applied},
		{Outcome: reconcile.Failed, Message: "refused"}, {Outcome: reconcile.Unchanged}}
	out := job.Outcome{Reported: true, ReportPath: "/tmp/r.xlsx", RunID: 7,
		Report: report.Run{Mode: "apply", Started: t0, Finished: t0.Add(time.Minute), Plan: plan, Results: results, ExitCode: 1}}
	return NewSummary(Run{Mode: job.Apply, Outcome: out, Ending: job.Partial, ExitCode: 1, Message: "1 change failed: see the report", Host: "cron1"})
}

func TestNewSummary(t *testing.T) {
	s := applied()
	t0 := time.Date(2026, 11, 30, 22, 0, 0, 0, time.UTC)
	want := Summary{Mode: "apply", Ending: "partial", ExitCode: 1, Changes: true,
		PlanLine:    "Plan: 4 to create, 0 to update, 0 to delete, 0 to re-invite, 0 to resize, 1 unchanged.",
		AppliedLine: "Applied: 3 succeeded, 1 failed, 0 skipped, 0 not run.",
		Planned:     Planned{Create: 4, Unchanged: 1},
		Applied:     Applied{Created: 3, Succeeded: 3, Failed: 1},
		FailedRows:  1, Report: "/tmp/r.xlsx", RunID: 7, Host: "cron1", Started: t0, Finished: t0.Add(time.Minute),
		Message: "1 change failed: see the report"}
	if d := cmp.Diff(want, s); d != "" {
		t.Errorf("summary (-want +got):\n%s", d)
	}
	if got, want := s.Title(), "ycm-onboard apply: 3 created, 1 failed (exit 1)"; got != want {
		t.Errorf("title %q, want %q", got, want)
	}
}

func TestSummaryBeforeThePlan(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 22, 0, 0, 0, time.UTC)
	s := NewSummary(Run{Mode: job.Apply, Ending: job.PortalDown, ExitCode: 4, Message: "cannot log in", Host: "h", Started: t0, Finished: t0})
	if s.PlanLine != "" || s.AppliedLine != "" || s.Changes {
		t.Errorf("a run that never planned has a plan: %+v", s)
	}
	if got, want := s.Title(), "ycm-onboard apply: portal down (exit 4)"; got != want {
		t.Errorf("title %q, want %q", got, want)
	}
}

// The json format's keys are a contract with whoever reads them.
func TestSummaryJSONKeys(t *testing.T) {
	b, err := json.Marshal(applied())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"applied", "applied_line", "changes", "ending", "exit_code", "failed_rows", "fatal", "finished", "host",
		"message", "mode", "plan_line", "planned", "report", "rows_with_errors", "run_id", "started"}
	if d := cmp.Diff(want, keys); d != "" {
		t.Errorf("keys (-want +got):\n%s", d)
	}
}

func TestWhen(t *testing.T) {
	ok := Summary{ExitCode: 0}
	changed := Summary{ExitCode: 0, Changes: true}
	failed := Summary{ExitCode: 4}
	for _, tc := range []struct {
		when                string
		ok, changed, failed bool
	}{
		{"failure", false, false, true},
		{"changes", false, true, true},
		{"always", true, true, true},
	} {
		w, err := ParseWhen(tc.when)
		if err != nil {
			t.Fatal(err)
		}
		if got := [3]bool{w.Wants(ok), w.Wants(changed), w.Wants(failed)}; got != [3]bool{tc.ok, tc.changed, tc.failed} {
			t.Errorf("when %s: wants (ok, changed, failed) = %v, want %v", tc.when, got, [3]bool{tc.ok, tc.changed, tc.failed})
		}
	}
	if _, err := ParseWhen("sometimes"); err == nil {
		t.Error("when: sometimes was taken")
	}
	// A pending proposal waits for a person: every rule hears of it, whatever the exit.
	proposed := Summary{ExitCode: 0, Proposal: &Proposal{ID: 7, Command: "ycm-onboard approve 7"}}
	for _, w := range []When{OnFailure, OnChanges, Always} {
		if !w.Wants(proposed) {
			t.Errorf("when %s: a pending proposal is not told of", w)
		}
	}
	if text := proposed.Text(); !strings.Contains(text, "proposal 7 is pending") || !strings.Contains(text, "ycm-onboard approve 7") {
		t.Errorf("the text of a proposal's summary:\n%s", text)
	}
	// A run finding the same plan pending tells nobody again, whatever the exit.
	waiting := Summary{ExitCode: 3, Proposal: &Proposal{ID: 7, Command: "ycm-onboard approve 7", Waiting: true}}
	for _, w := range []When{OnFailure, OnChanges, Always} {
		if w.Wants(waiting) {
			t.Errorf("when %s: a proposal still waiting is told of again", w)
		}
	}
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

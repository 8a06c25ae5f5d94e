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
	// Once a day the run finding it is a reminder, told to every receiver.
	waiting.Proposal.Reminder = true
	for _, w := range []When{OnFailure, OnChanges, Always} {
		if !w.Wants(waiting) {
			t.Errorf("when %s: the day's reminder of a waiting proposal is not told", w)
		}
	}
	if text := waiting.Text(); !strings.Contains(text, "A reminder: proposal 7 still waits for approval") {
		t.Errorf("the text of a reminder:\n%s", text)
	}
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// A run from the page names who started it; a refusal, which is no run, is told to
// every receiver, as the proposal it ends was.
func TestSummaryFromThePage(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 22, 0, 0, 0, time.UTC)
	s := applied()
	s.StartedBy, s.From = "ada", FromPage
	s.Decision = &Decision{Proposal: 7, Status: Approved, Author: "abe", By: "ada"}
	if got, want := s.Title(), "ycm-onboard apply by ada: 3 created, 1 failed (exit 1)"; got != want {
		t.Errorf("title %q, want %q", got, want)
	}
	for _, line := range []string{"Started by ada on the page.\n", "It applies proposal 7, proposed by abe and approved by ada.\n"} {
		if !strings.Contains(s.Text(), line) {
			t.Errorf("text lacks %q:\n%s", line, s.Text())
		}
	}
	ok := s
	ok.ExitCode, ok.Changes = 0, false
	if OnFailure.Wants(ok) || OnChanges.Wants(ok) {
		t.Error("an approval that went well and changed nothing is told to failure and changes receivers: it follows the apply's rules")
	}

	proposed := Summary{Mode: "apply", Ending: "guarded", ExitCode: 3, StartedBy: "abe", From: FromPage,
		Proposal: &Proposal{ID: 8, Command: "ycm-onboard approve 8"}}
	if text := proposed.Text(); !strings.Contains(text, "another approver approves it on the page's Proposals page, or runs `ycm-onboard approve 8`") {
		t.Errorf("a proposal from the page does not name the Proposals page:\n%s", text)
	}

	r := NewRefusal(Decision{Proposal: 8, Author: "abe", By: "ada", Reason: "not before Monday"}, FromPage, "web1", t0)
	want := Summary{Mode: "refuse", Ending: "done", Host: "web1", Started: t0, Finished: t0, StartedBy: "ada", From: FromPage,
		Decision: &Decision{Proposal: 8, Status: Refused, Author: "abe", By: "ada", Reason: "not before Monday"}}
	if d := cmp.Diff(want, r); d != "" {
		t.Errorf("refusal (-want +got):\n%s", d)
	}
	if got, want := r.Title(), "ycm-onboard: proposal 8 refused by ada"; got != want {
		t.Errorf("title %q, want %q", got, want)
	}
	for _, line := range []string{"ycm-onboard on web1: proposal 8, proposed by abe, was refused by ada on the page.\n",
		"Reason: not before Monday\n", "Nothing was changed"} {
		if !strings.Contains(r.Text(), line) {
			t.Errorf("refusal text lacks %q:\n%s", line, r.Text())
		}
	}
	for _, w := range []When{OnFailure, OnChanges, Always} {
		if !w.Wants(r) {
			t.Errorf("when %s: a refusal is not told of", w)
		}
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"

	"github.com/ycm-onboard/ycm-onboard/notify"
	"github.com/ycm-onboard/ycm-onboard/portal/sim"
	"github.com/ycm-onboard/ycm-onboard/report"
	"github.com/ycm-onboard/ycm-onboard/state"
)

const bobPassword = "correct horse battery"

// approvalApp is a person at a terminal, known to the system as osUser, sharing the
// state directory stateHome.
func approvalApp(t *testing.T, stateHome, osUser, stdin string) (*app, *lockedBuffer, *lockedBuffer) {
	t.Helper()
	a, out, errb := testApp(t, map[string]string{"XDG_STATE_HOME": stateHome, "YCM_WEBHOOK_URL": os.Getenv("TEST_HOOK")})
	a.stdinTTY = true
	a.osUser = func() string { return osUser }
	a.stdin = strings.NewReader(stdin)
	return a, out, errb
}

func proposalOf(t *testing.T, dir string, id int64) state.Proposal {
	t.Helper()
	s, err := state.Open(dir, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := s.Proposal(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A plan that needs approval is proposed, not applied; its author cannot approve it;
// another approver applies it exactly; a proposal the portal changed since is refused
// as stale; the schedule's webhook hears of every proposal, even with when: failure.
func TestApproveFourEyes(t *testing.T) {
	s, _ := sim.New(sim.Options{})
	ts := httptest.NewServer(s)
	defer ts.Close()
	hook := newSummaries(t, http.StatusOK)
	t.Setenv("TEST_HOOK", hook.URL+webhookSecret)
	stateHome := filepath.Join(t.TempDir(), "state")
	cfg := writeConfig(t, "require_approval: [deletes, more_than: 2]\n"+strings.Replace(hookConfig, "%s", "failure", 1))
	before := len(s.Colleagues())
	reports := t.TempDir()

	// Ann's apply of 3 new colleagues changes more than 2: proposed, nothing written.
	a, _, errb := approvalApp(t, stateHome, "ann", "")
	code := runApp(t.Context(), a, "apply", waveCSV(t, 3), "--config", cfg, "--portal", ts.URL, "--yes", "--report-dir", reports)
	if code != exitGuard || !strings.Contains(errb.String(), "needs approval") || !strings.Contains(errb.String(), "ycm-onboard approve ") {
		t.Fatalf("apply: exit %d, stderr %s; want %d and the approve command", code, errb, exitGuard)
	}
	if n := len(s.Colleagues()); n != before {
		t.Fatalf("%d colleagues after a proposal, want %d: nothing written", n, before)
	}
	got := hook.all()
	if len(got) != 1 || got[0].Proposal == nil || got[0].Proposal.ID == 0 || !strings.HasPrefix(got[0].Proposal.Command, "ycm-onboard approve ") {
		t.Fatalf("notifications %+v: want one, naming the proposal", got)
	}
	id := got[0].Proposal.ID
	ids := strconv.FormatInt(id, 10)
	dir := filepath.Join(stateHome, "ycm-onboard")
	if _, err := os.Stat(state.ProposalPath(dir, id)); err != nil {
		t.Fatalf("the proposal's plan: %v", err)
	}
	if p := proposalOf(t, dir, id); p.Status != state.ProposalPending || p.Author != "ann" {
		t.Fatalf("proposal %+v, want pending by ann", p)
	}

	// status lists it.
	a, out, _ := approvalApp(t, stateHome, "ann", "")
	if code := runApp(t.Context(), a, "status"); code != exitOK || !strings.Contains(out.String(), "Pending proposals") || !strings.Contains(out.String(), "ycm-onboard approve "+ids) {
		t.Errorf("status: exit %d\n%s\nwant the pending proposal", code, out)
	}

	// Ann cannot approve her own.
	a, _, errb = approvalApp(t, stateHome, "ann", "")
	if code := runApp(t.Context(), a, "approve", ids, "--portal", ts.URL, "--yes", "--report-dir", reports); code != exitGuard || !strings.Contains(errb.String(), "another approver") {
		t.Fatalf("approve by its author: exit %d, stderr %s; want %d", code, errb, exitGuard)
	}
	if n := len(s.Colleagues()); n != before {
		t.Fatalf("%d colleagues after the author's approve, want %d", n, before)
	}

	// Bob, an approver, approves it: applied exactly.
	st, err := state.Open(dir, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AddUser(t.Context(), "bob", state.RoleApprover, bobPassword); err != nil {
		t.Fatal(err)
	}
	st.Close()
	a, _, errb = approvalApp(t, stateHome, "ann", "wrong password here\n")
	if code := runApp(t.Context(), a, "approve", ids, "--as", "bob", "--portal", ts.URL, "--yes", "--report-dir", reports); code != exitUsage {
		t.Fatalf("approve with a wrong password: exit %d, want %d\n%s", code, exitUsage, errb)
	}
	a, _, errb = approvalApp(t, stateHome, "ann", bobPassword+"\n")
	if code := runApp(t.Context(), a, "approve", ids, "--as", "bob", "--portal", ts.URL, "--yes", "--report-dir", reports); code != exitOK {
		t.Fatalf("approve by bob: exit %d\n%s", code, errb)
	}
	emails := map[string]bool{}
	for _, c := range s.Colleagues() {
		emails[strings.ToLower(c.YeastarID)] = true
	}
	if len(emails) != before+3 || !emails["wave0000@demo.example"] || !emails["wave0002@demo.example"] {
		t.Errorf("after the approval: %d colleagues, want %d with the wave", len(emails), before+3)
	}
	p := proposalOf(t, dir, id)
	if p.Status != state.ProposalApplied || p.DecidedBy != "bob" || p.AppliedRun == 0 {
		t.Errorf("proposal %+v, want applied by bob", p)
	}
	st, _ = state.Open(dir, time.Now)
	runs, err := st.LastRuns(t.Context(), 1)
	st.Close()
	if err != nil || len(runs) != 1 || runs[0].StartedBy != "bob" || runs[0].ID != p.AppliedRun || runs[0].ExitCode != 0 {
		t.Errorf("last run %+v, %v: want bob's apply", runs, err)
	}
	// Applied once: never again.
	a, _, _ = approvalApp(t, stateHome, "carl", "")
	if code := runApp(t.Context(), a, "approve", ids, "--portal", ts.URL, "--yes", "--report-dir", reports); code != exitUsage {
		t.Errorf("second approve: exit %d, want %d", code, exitUsage)
	}

	// A proposal the portal changed since is stale: refused, nothing written.
	a, _, errb = approvalApp(t, stateHome, "ann", "")
	if code := runApp(t.Context(), a, "apply", waveCSV(t, 6), "--config", cfg, "--portal", ts.URL, "--yes", "--report-dir", reports); code != exitGuard {
		t.Fatalf("second proposal: exit %d\n%s", code, errb)
	}
	stale := hook.all()[len(hook.all())-1].Proposal.ID
	a, _, errb = approvalApp(t, stateHome, "ann", "") // without require_approval: applied at once
	if code := runApp(t.Context(), a, "apply", waveCSV(t, 4), "--portal", ts.URL, "--yes", "--report-dir", reports); code != exitOK {
		t.Fatalf("changing the portal: exit %d\n%s", code, errb)
	}
	n := len(s.Colleagues())
	a, _, errb = approvalApp(t, stateHome, "ann", bobPassword+"\n")
	code = runApp(t.Context(), a, "approve", strconv.FormatInt(stale, 10), "--as", "bob", "--portal", ts.URL, "--yes", "--report-dir", reports)
	if code != exitGuard || !strings.Contains(errb.String(), "stale") {
		t.Fatalf("stale approve: exit %d, stderr %s; want %d, stale", code, errb, exitGuard)
	}
	if m := len(s.Colleagues()); m != n {
		t.Errorf("%d colleagues after a stale approve, want %d", m, n)
	}
	if p := proposalOf(t, dir, stale); p.Status != state.ProposalStale {
		t.Errorf("proposal %+v, want stale", p)
	}

	// Refused with a reason.
	a, _, errb = approvalApp(t, stateHome, "ann", "")
	if code := runApp(t.Context(), a, "apply", waveCSV(t, 9), "--config", cfg, "--portal", ts.URL, "--yes", "--report-dir", reports); code != exitGuard {
		t.Fatalf("third proposal: exit %d\n%s", code, errb)
	}
	third := hook.all()[len(hook.all())-1].Proposal.ID
	a, out, errb = approvalApp(t, stateHome, "dan", "")
	heard := len(hook.all())
	if code := runApp(t.Context(), a, "approve", "--refuse", strconv.FormatInt(third, 10), "--reason", "not this week", "--config", cfg); code != exitOK {
		t.Fatalf("refuse: exit %d\n%s", code, errb)
	}
	if p := proposalOf(t, dir, third); p.Status != state.ProposalRefused || p.DecidedBy != "dan" || p.Reason != "not this week" {
		t.Errorf("proposal %+v, want refused by dan, with the reason", p)
	}
	// The webhook heard of the proposal, so it hears of its refusal, when: failure or not.
	if got := hook.all()[heard:]; len(got) != 1 || got[0].Decision == nil || got[0].Decision.Proposal != third ||
		got[0].Decision.Status != notify.Refused || got[0].Decision.By != "dan" || got[0].Decision.Reason != "not this week" {
		t.Errorf("notifications after the refusal: %+v, want one telling of it", got)
	}
}

// A nightly apply of the same sheet saves one proposal while it waits, says so and
// tells nobody again; a changed sheet supersedes it; a plan needing no approval
// supersedes the pending one; an approve of a superseded proposal is refused.
func TestScheduleKeepsOneProposal(t *testing.T) {
	s, _ := sim.New(sim.Options{})
	ts := httptest.NewServer(s)
	defer ts.Close()
	hook := newSummaries(t, http.StatusOK)
	stateHome := filepath.Join(t.TempDir(), "state")
	dir := filepath.Join(stateHome, "ycm-onboard")
	cfg := writeConfig(t, "require_approval: [more_than: 2]\n"+strings.Replace(hookConfig, "%s", "always", 1))
	sheet := filepath.Join(t.TempDir(), "onboarding.csv")
	reports := t.TempDir()
	before := len(s.Colleagues())
	// nightly is the scheduled apply: off a terminal, its --json line on stdout.
	var later time.Duration // how far the nightly's clock is ahead
	nightly := func(want int) (report.Summary, string) {
		t.Helper()
		a, out, errb := testApp(t, map[string]string{"XDG_STATE_HOME": stateHome, "YCM_WEBHOOK_URL": hook.URL + webhookSecret})
		a.now = func() time.Time { return time.Now().Add(later) }
		if code := runApp(t.Context(), a, "apply", sheet, "--config", cfg, "--portal", ts.URL, "--report-dir", reports, "--json"); code != want {
			t.Fatalf("nightly apply: exit %d, want %d\n%s", code, want, errb)
		}
		var sum report.Summary
		if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
			t.Fatalf("--json: %v\n%s", err, out)
		}
		return sum, errb.String()
	}
	pending := func() []state.Proposal {
		t.Helper()
		st, err := state.Open(dir, time.Now)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		ps, err := st.Proposals(t.Context(), state.ProposalPending)
		if err != nil {
			t.Fatal(err)
		}
		return ps
	}

	writeWave(t, sheet, 3)
	nightly(exitGuard)
	if got := hook.all(); len(got) != 1 || got[0].Proposal == nil {
		t.Fatalf("notifications %+v: want one, of the proposal", got)
	}
	first := hook.all()[0].Proposal.ID
	ids := strconv.FormatInt(first, 10)

	// Two more nights, the same sheet: no new proposal, the run says the plan still
	// waits, in the report too, and exits 3; the webhook hears nothing more.
	for range 2 {
		sum, stderr := nightly(exitGuard)
		if !strings.Contains(stderr, "still waits for approval as proposal "+ids) || !strings.Contains(stderr, "ycm-onboard approve "+ids) {
			t.Errorf("stderr does not say the plan still waits as proposal %d:\n%s", first, stderr)
		}
		if len(sum.Tripped) != 1 || !strings.Contains(sum.Tripped[0], "still waits for approval as proposal "+ids) {
			t.Errorf("report: tripped %q, want the proposal still waiting", sum.Tripped)
		}
	}
	if got := hook.all(); len(got) != 1 {
		t.Errorf("%d notifications, want the first only: the same proposal is told of once", len(got))
	}
	// A day later it is still waiting: the receivers are reminded, once.
	later = 25 * time.Hour
	for range 2 {
		nightly(exitGuard)
	}
	if got := hook.all(); len(got) != 2 || got[1].Proposal == nil || got[1].Proposal.ID != first || !got[1].Proposal.Reminder {
		t.Errorf("notifications a day later %+v: want one reminder of proposal %d", got, first)
	}
	later = 0
	if ps := pending(); len(ps) != 1 || ps[0].ID != first {
		t.Fatalf("pending proposals %+v, want %d alone", ps, first)
	}
	entries, err := os.ReadDir(state.ProposalDir(dir))
	if err != nil || len(entries) != 1 {
		t.Errorf("proposals directory: %d files, %v; want one plan", len(entries), err)
	}

	// The sheet changed: a new proposal, told of; the first is superseded.
	writeWave(t, sheet, 4)
	_, stderr := nightly(exitGuard)
	got := hook.all()
	if len(got) != 3 || got[2].Proposal == nil || got[2].Proposal.ID == first || got[2].Proposal.Reminder {
		t.Fatalf("notifications %+v: want a third, of a new proposal", got)
	}
	second := got[2].Proposal.ID
	if !strings.Contains(stderr, "proposal "+ids+" by schedule can no longer be approved") {
		t.Errorf("stderr does not say proposal %d was superseded:\n%s", first, stderr)
	}
	if p := proposalOf(t, dir, first); p.Status != state.ProposalStale || !strings.Contains(p.Reason, fmt.Sprintf("superseded by proposal %d", second)) {
		t.Errorf("first proposal %+v, want stale, superseded by %d", p, second)
	}
	// So it cannot be approved, and the approver is told why.
	a, _, errb := approvalApp(t, stateHome, "bob", "")
	if code := runApp(t.Context(), a, "approve", ids, "--portal", ts.URL, "--yes", "--report-dir", reports); code != exitUsage ||
		!strings.Contains(errb.String(), fmt.Sprintf("superseded by proposal %d", second)) {
		t.Errorf("approve of the superseded proposal: exit %d, want %d, saying why\n%s", code, exitUsage, errb)
	}

	// The sheet shrank to a plan needing no approval: applied, and the waiting
	// proposal made from the same sheet can no longer be approved.
	writeWave(t, sheet, 1)
	nightly(exitOK)
	if n := len(s.Colleagues()); n != before+1 {
		t.Errorf("%d colleagues, want %d", n, before+1)
	}
	if ps := pending(); len(ps) != 0 {
		t.Errorf("pending proposals %+v, want none", ps)
	}
	if p := proposalOf(t, dir, second); p.Status != state.ProposalStale || !strings.Contains(p.Reason, "needed no approval") {
		t.Errorf("second proposal %+v, want stale, superseded by a plan needing no approval", p)
	}
}

// status --format json and xlsx list the pending proposals, as the table does.
func TestStatusListsProposals(t *testing.T) {
	s, _ := sim.New(sim.Options{})
	ts := httptest.NewServer(s)
	defer ts.Close()
	env := map[string]string{"XDG_STATE_HOME": filepath.Join(t.TempDir(), "state")}
	cfg := writeConfig(t, "require_approval: always\n")
	a, out, errb := testApp(t, env)
	if code := runApp(t.Context(), a, "apply", waveCSV(t, 3), "--config", cfg, "--portal", ts.URL, "--report-dir", t.TempDir(), "--json"); code != exitGuard {
		t.Fatalf("apply: exit %d, want %d\n%s", code, exitGuard, errb)
	}
	var sum runSummary
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil || sum.Run == 0 {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	id := sum.Run
	const planLine = "Plan: 3 to create, 0 to update, 0 to delete, 0 to re-invite, 0 to resize, 0 unchanged."
	const why = "every plan with changes needs approval (require_approval: always)"

	a, out, errb = testApp(t, env)
	if code := runApp(t.Context(), a, "status", "--format", "json"); code != exitOK {
		t.Fatalf("status --format json: exit %d\n%s", code, errb)
	}
	var got struct {
		Proposals []map[string]any `json:"proposals"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil || len(got.Proposals) != 1 {
		t.Fatalf("status JSON: %v, want one proposal:\n%s", err, out)
	}
	command := fmt.Sprintf("ycm-onboard approve %d", id)
	p := got.Proposals[0]
	if created, _ := p["created"].(string); created == "" {
		t.Errorf("status JSON proposal without its time: %v", p)
	}
	delete(p, "created")
	want := map[string]any{"id": float64(id), "author": "schedule", "status": "pending", "reason": why, "plan_line": planLine, "command": command}
	if d := cmp.Diff(want, p); d != "" {
		t.Errorf("status JSON proposal (-want +got):\n%s", d)
	}

	book := filepath.Join(t.TempDir(), "status.xlsx")
	a, _, errb = testApp(t, env)
	if code := runApp(t.Context(), a, "status", "--format", "xlsx", "--out", book); code != exitOK {
		t.Fatalf("status --format xlsx: exit %d\n%s", code, errb)
	}
	f, err := excelize.OpenFile(book)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows("Proposals")
	if err != nil {
		t.Fatalf("the workbook has no Proposals sheet: %v", err)
	}
	if len(rows) != 2 || len(rows[1]) != 7 {
		t.Fatalf("Proposals sheet %q, want a header and one proposal", rows)
	}
	r := rows[1]
	if r[0] != strconv.FormatInt(id, 10) || r[1] != "schedule" || r[2] == "" || r[3] != "pending" || r[4] != why || r[5] != planLine || r[6] != command {
		t.Errorf("Proposals row %q", r)
	}
}

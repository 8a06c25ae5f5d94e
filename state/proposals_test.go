package state

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestProposalLifecycle(t *testing.T) {
	c := newClock(time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC))
	s := openStore(t, t.TempDir(), c)
	ctx := t.Context()
	id, err := s.BeginRun(ctx, RunInfo{Mode: "apply", Started: c.Now(), StartedBy: "ann"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddProposal(ctx, id, "ann", "it deletes 1 colleague(s)"); err != nil {
		t.Fatal(err)
	}
	pending, err := s.Proposals(ctx, ProposalPending)
	if err != nil || len(pending) != 1 || pending[0].Author != "ann" || pending[0].Status != ProposalPending {
		t.Fatalf("pending %+v, %v", pending, err)
	}
	c.Advance(time.Hour)
	if err := s.DecideProposal(ctx, id, []ProposalStatus{ProposalPending}, ProposalApproved, "bob", "", 0); err != nil {
		t.Fatal(err)
	}
	// Decided once: a second decision from pending is refused.
	if err := s.DecideProposal(ctx, id, []ProposalStatus{ProposalPending}, ProposalRefused, "carl", "no", 0); !errors.Is(err, ErrNoProposal) {
		t.Fatalf("second decision: %v, want ErrNoProposal", err)
	}
	if err := s.DecideProposal(ctx, id, []ProposalStatus{ProposalApproved}, ProposalApplied, "bob", "", id+1); err != nil {
		t.Fatal(err)
	}
	p, err := s.Proposal(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != ProposalApplied || p.DecidedBy != "bob" || p.AppliedRun != id+1 || !p.DecidedAt.Equal(c.Now()) || p.Reason != "it deletes 1 colleague(s)" {
		t.Errorf("proposal %+v", p)
	}
	if _, err := s.Proposal(ctx, 999); !errors.Is(err, ErrNoProposal) {
		t.Errorf("missing proposal: %v", err)
	}
}

// Propose keeps one pending proposal per plan, and only the latest plan made from the
// same input files approvable.
func TestProposeSupersedes(t *testing.T) {
	c := newClock(time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC))
	s := openStore(t, t.TempDir(), c)
	ctx := t.Context()
	run := func(inputs ...string) int64 {
		t.Helper()
		ins := make([]Input, len(inputs))
		for i, p := range inputs {
			ins[i] = Input{Path: p}
		}
		id, err := s.BeginRun(ctx, RunInfo{Mode: "apply", Inputs: ins, Started: c.Now(), StartedBy: "schedule"})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	propose := func(id int64, save bool, digest string, inputs ...string) Proposed {
		t.Helper()
		got, err := s.Propose(ctx, Proposing{Run: id, By: "schedule", Inputs: inputs, Save: save, Author: "schedule",
			Reason: "it deletes 1 colleague(s)", Digest: digest, PlanLine: "Plan: " + digest})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	ids := func(ps []Proposal) []int64 {
		var out []int64
		for _, p := range ps {
			out = append(out, p.ID)
		}
		return out
	}
	pending := func() []int64 {
		t.Helper()
		ps, err := s.Proposals(ctx, ProposalPending)
		if err != nil {
			t.Fatal(err)
		}
		return ids(ps)
	}
	const sheet, other = "/srv/onboarding.xlsx", "/srv/wave2.xlsx"

	// A legacy proposal (no digest) of the sheet, then the first proposal of the sheet:
	// the legacy one is superseded, being of the same input.
	legacy := run(sheet)
	if err := s.AddProposal(ctx, legacy, "ann", "it deletes 1 colleague(s)"); err != nil {
		t.Fatal(err)
	}
	first := run(sheet)
	got := propose(first, true, "A", sheet)
	if !got.Saved || got.Waiting.ID != 0 || !slices.Equal(ids(got.Superseded), []int64{legacy}) {
		t.Fatalf("first proposal: %+v", got)
	}
	// The next night, the same plan: nothing saved, the first waits.
	c.Advance(24 * time.Hour)
	again := run(sheet)
	got = propose(again, true, "A", sheet)
	if got.Saved || got.Waiting.ID != first || got.Waiting.PlanLine != "Plan: A" || len(got.Superseded) != 0 {
		t.Fatalf("same plan again: %+v, want proposal %d waiting", got, first)
	}
	if _, err := s.Proposal(ctx, again); !errors.Is(err, ErrNoProposal) {
		t.Errorf("the same plan was saved again as proposal %d: %v", again, err)
	}
	// Another sheet's proposal lives beside it; a plan made from no file (the page's
	// re-invite) supersedes nothing.
	wave := run(other)
	if got := propose(wave, true, "W", other); !got.Saved || len(got.Superseded) != 0 {
		t.Fatalf("another sheet's proposal: %+v", got)
	}
	reinvite := run()
	if got := propose(reinvite, true, "R"); !got.Saved || len(got.Superseded) != 0 {
		t.Fatalf("a re-invite's proposal: %+v", got)
	}
	if want := []int64{reinvite, wave, first}; !slices.Equal(pending(), want) {
		t.Fatalf("pending %v, want %v", pending(), want)
	}
	// The sheet changed: its newer plan supersedes the first, with a reason.
	c.Advance(24 * time.Hour)
	changed := run(sheet)
	got = propose(changed, true, "B", sheet)
	if !got.Saved || !slices.Equal(ids(got.Superseded), []int64{first}) {
		t.Fatalf("a changed plan: %+v, want proposal %d superseded", got, first)
	}
	p, err := s.Proposal(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != ProposalStale || p.DecidedBy != "schedule" || !p.DecidedAt.Equal(c.Now()) ||
		!strings.Contains(p.Reason, fmt.Sprintf("superseded by proposal %d", changed)) {
		t.Errorf("superseded proposal %+v", p)
	}
	// A plan of the sheet that another sheet's proposal already holds waits as that
	// one, and the sheet's own older plan is superseded by it.
	same := run(sheet)
	got = propose(same, true, "W", sheet)
	if got.Saved || got.Waiting.ID != wave || !slices.Equal(ids(got.Superseded), []int64{changed}) {
		t.Fatalf("a plan pending from another sheet: %+v, want %d waiting, %d superseded", got, wave, changed)
	}
	// A refused proposal is not waiting: the same plan is proposed anew.
	if err := s.DecideProposal(ctx, wave, []ProposalStatus{ProposalPending}, ProposalRefused, "bob", "no", 0); err != nil {
		t.Fatal(err)
	}
	anew := run(other)
	if got := propose(anew, true, "W", other); !got.Saved || got.Waiting.ID != 0 {
		t.Fatalf("the plan of a refused proposal: %+v, want saved", got)
	}
	// An apply of the other sheet whose plan needs no approval supersedes its pending
	// proposal: only its latest plan may be approved.
	direct := run(other)
	if got := propose(direct, false, "", other); got.Saved || !slices.Equal(ids(got.Superseded), []int64{anew}) {
		t.Fatalf("an apply needing no approval: %+v, want %d superseded", got, anew)
	}
	if want := []int64{reinvite}; !slices.Equal(pending(), want) {
		t.Errorf("pending %v, want %v", pending(), want)
	}
}

// TestProposeSourceIsFilesAndOptions: a plan supersedes the pending proposals planned
// from the same files, by absolute path, with the same plan-changing options only:
// the nightly apply without --prune leaves a proposal made with it, and a file of the
// same name in another folder is another file.
func TestProposeSourceIsFilesAndOptions(t *testing.T) {
	c := newClock(time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC))
	s := openStore(t, t.TempDir(), c)
	ctx := t.Context()
	propose := func(save bool, digest, options, input string) (int64, Proposed) {
		t.Helper()
		id, err := s.BeginRun(ctx, RunInfo{Mode: "apply", Inputs: []Input{{Path: input}}, Started: c.Now(), StartedBy: "schedule"})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Propose(ctx, Proposing{Run: id, By: "schedule", Inputs: []string{input}, Options: options, Save: save,
			Author: "ann", Reason: "it deletes 3 colleague(s)", Digest: digest, PlanLine: "Plan: " + digest})
		if err != nil {
			t.Fatal(err)
		}
		return id, got
	}
	a, b := t.TempDir(), t.TempDir()
	t.Chdir(a)
	pruning, got := propose(true, "P", "prune=true", "onboarding.xlsx")
	if !got.Saved {
		t.Fatalf("first proposal: %+v", got)
	}
	// The nightly apply of the same file without --prune needs no approval: it leaves
	// the pruning proposal pending.
	if _, got := propose(false, "", "prune=false", "onboarding.xlsx"); len(got.Superseded) != 0 {
		t.Errorf("an apply with other options superseded %+v", got.Superseded)
	}
	// onboarding.xlsx in another folder is another file.
	t.Chdir(b)
	if _, got := propose(true, "Q", "prune=true", "onboarding.xlsx"); !got.Saved || len(got.Superseded) != 0 {
		t.Errorf("another folder's onboarding.xlsx: %+v, want saved, superseding nothing", got)
	}
	// The same file and options, named by its absolute path: the pruning one is superseded.
	if _, got := propose(true, "R", "prune=true", filepath.Join(a, "onboarding.xlsx")); !got.Saved || len(got.Superseded) != 1 || got.Superseded[0].ID != pruning {
		t.Errorf("the same file and options: %+v, want proposal %d superseded", got, pruning)
	}
}

// TestWaitingProposalIsRemindedOnceADay: a schedule finding the same plan pending is
// told to remind the receivers once RemindEvery has passed since the proposal was
// saved, or since the last reminder, and not in between, however often it runs.
func TestWaitingProposalIsRemindedOnceADay(t *testing.T) {
	c := newClock(time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC))
	s := openStore(t, t.TempDir(), c)
	ctx := t.Context()
	propose := func() Proposed {
		t.Helper()
		id, err := s.BeginRun(ctx, RunInfo{Mode: "apply", Inputs: []Input{{Path: "/srv/onboarding.xlsx"}}, Started: c.Now(), StartedBy: "schedule"})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Propose(ctx, Proposing{Run: id, By: "schedule", Inputs: []string{"/srv/onboarding.xlsx"}, Save: true,
			Author: "schedule", Reason: "it deletes 1 colleague(s)", Digest: "D", PlanLine: "Plan: D"})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := propose(); !got.Saved || got.Remind {
		t.Fatalf("first: %+v", got)
	}
	for _, step := range []struct {
		after  time.Duration
		remind bool
	}{
		{time.Hour, false}, {22 * time.Hour, false}, {time.Hour, true}, // 24 h after it was saved
		{time.Hour, false}, {23 * time.Hour, true}, {0, false},
	} {
		c.Advance(step.after)
		got := propose()
		if got.Saved || got.Waiting.ID == 0 || got.Remind != step.remind {
			t.Fatalf("at %s: saved %v, waiting %d, remind %v; want remind %v", c.Now().Format(time.RFC3339), got.Saved, got.Waiting.ID, got.Remind, step.remind)
		}
	}
}

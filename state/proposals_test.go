package state

import (
	"errors"
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

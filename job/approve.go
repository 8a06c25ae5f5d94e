package job

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ycm-onboard/ycm-onboard/reconcile"
	"github.com/ycm-onboard/ycm-onboard/state"
)

// ApproveCommand is what another approver runs to apply proposal id.
func ApproveCommand(id int64) string { return fmt.Sprintf("ycm-onboard approve %d", id) }

// SameUser reports whether two names are the same person's (names are compared in
// any case, as accounts are).
func SameUser(a, b string) bool {
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}

// propose saves a plan that needs approval as a proposal, under the run's id, and
// refuses the apply: nothing is written until another approver approves it.
func (r *run) propose(ctx context.Context) error {
	if r.req.Approve != 0 {
		return nil // approved: applied as it is
	}
	reasons := r.req.Approval.Reasons(r.plan)
	if len(reasons) == 0 {
		return nil
	}
	if r.h == nil {
		return fail(Refused, "the plan needs approval but there is no run history to keep the proposal in")
	}
	id := r.h.runID
	author := r.req.Author
	if author == "" {
		author = r.req.StartedBy
	}
	inputs := make([]string, len(r.desired.Files))
	for i, fl := range r.desired.Files {
		inputs[i] = fl.Path
	}
	path := state.ProposalPath(r.req.StateDir, id)
	err := os.MkdirAll(filepath.Dir(path), 0o700)
	if err == nil {
		err = reconcile.WritePlanFile(path, r.plan, inputs)
	}
	if err != nil {
		ending := Refused
		if state.CannotWrite(err) {
			ending = Local
		}
		return &Failure{Ending: ending, Message: "the plan needs approval but cannot be saved as a proposal: " + err.Error(), Err: err}
	}
	why := strings.Join(reasons, "; ")
	if err := r.h.store.AddProposal(ctx, id, author, why); err != nil {
		return &Failure{Ending: Local, Message: "the plan needs approval but the proposal cannot be recorded: " + err.Error(), Err: err}
	}
	r.proposal = id
	msg := fmt.Sprintf("needs approval (%s): proposal %d saved; another approver runs `%s`", why, id, ApproveCommand(id))
	r.rep.Tripped = []string{msg}
	r.note(msg)
	r.log.Warn().Int64("proposal", id).Str("author", author).Str("why", why).Msg("needs approval: nothing was changed")
	return &Failure{Ending: Guarded, Message: msg + "; nothing was changed"}
}

// approving checks, with the lock held, that the proposal this run approves is
// pending and that its approver did not propose it, and marks it approved.
func (r *run) approving(ctx context.Context) error {
	id := r.req.Approve
	if id == 0 {
		return nil
	}
	if r.h == nil || r.req.Mode != Apply {
		return fail(Refused, "approving a proposal needs the run history")
	}
	p, err := r.h.store.Proposal(ctx, id)
	if errors.Is(err, state.ErrNoProposal) {
		return &Failure{Ending: Refused, Message: fmt.Sprintf("there is no proposal %d in %s; `ycm-onboard status` lists the pending ones", id, r.req.StateDir), Err: err}
	}
	if err != nil {
		return &Failure{Ending: Local, Message: err.Error(), Err: err}
	}
	if p.Status != state.ProposalPending {
		return fail(Refused, fmt.Sprintf("proposal %d is %s, not pending: nothing was changed", id, p.Status))
	}
	if SameUser(p.Author, r.req.StartedBy) {
		return fail(Guarded, fmt.Sprintf("proposal %d was proposed by %s: another approver must approve it (four eyes); nothing was changed", id, p.Author))
	}
	if err := r.h.store.DecideProposal(ctx, id, []state.ProposalStatus{state.ProposalPending}, state.ProposalApproved, r.req.StartedBy, "", 0); err != nil {
		return &Failure{Ending: Refused, Message: fmt.Sprintf("proposal %d was decided by someone else meanwhile: nothing was changed", id), Err: err}
	}
	r.approved = true
	r.log.Info().Int64("proposal", id).Str("approver", r.req.StartedBy).Msg("proposal approved")
	return nil
}

// unapproved settles the proposal of an approving run that applied nothing: stale
// when the portal changed since, else pending again (the portal could not be read, a
// guard, a declined question).
func (r *run) unapproved(ctx context.Context) {
	if !r.approved {
		return
	}
	r.approved = false
	to := state.ProposalPending
	if r.stale {
		to = state.ProposalStale
	}
	if derr := r.h.store.DecideProposal(ctx, r.req.Approve, []state.ProposalStatus{state.ProposalApproved}, to, r.req.StartedBy, "", 0); derr != nil {
		r.log.Warn().Err(derr).Msg("recording the proposal's state")
	}
}

// applied marks the proposal this run approved as applied: whatever the outcome, it
// is never applied again (a part applied makes the rest stale).
func (r *run) applied(ctx context.Context) {
	if !r.approved {
		return
	}
	r.approved = false
	if err := r.h.store.DecideProposal(ctx, r.req.Approve, []state.ProposalStatus{state.ProposalApproved}, state.ProposalApplied, r.req.StartedBy, "", r.h.runID); err != nil {
		r.log.Warn().Err(err).Msg("recording the proposal as applied")
	}
}

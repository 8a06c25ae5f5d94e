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
func ApproveCommand(id int64) string { return state.ApproveCommand(id) }

// SameUser reports whether two names are the same person's (names are compared in
// any case, as accounts are).
func SameUser(a, b string) bool {
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}

// propose saves a plan that needs approval as a proposal, under the run's id, and
// refuses the apply: nothing is written until another approver approves it. A plan
// already pending as a proposal is not saved again: the run says it still waits.
// Either way the older pending proposals made from the same input are superseded.
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
	inputs := r.inputs()
	path := state.ProposalPath(r.req.StateDir, id)
	// The plan file is written first: a recorded proposal always has its plan.
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
	pr := r.proposing()
	pr.Run, pr.By, pr.Save, pr.Author, pr.Reason, pr.Digest, pr.PlanLine = id, r.req.StartedBy, true, author, why, r.plan.Digest(), r.plan.Counts().Line()
	got, err := r.h.store.Propose(ctx, pr)
	if err != nil {
		_ = os.Remove(path)
		return &Failure{Ending: Local, Message: "the plan needs approval but the proposal cannot be recorded: " + err.Error(), Err: err}
	}
	r.superseded(got.Superseded)
	var msg string
	if w := got.Waiting; !got.Saved {
		_ = os.Remove(path) // the waiting proposal has its own
		r.proposal, r.waiting, r.remind = w.ID, true, got.Remind
		msg = fmt.Sprintf("needs approval (%s): the same plan still waits for approval as proposal %d, proposed by %s on %s; another approver runs `%s`",
			why, w.ID, w.Author, w.Created.UTC().Format("2006-01-02 15:04 MST"), ApproveCommand(w.ID))
		if got.Remind {
			msg += " (the notify receivers are reminded of it, once a day)"
		}
		r.log.Warn().Int64("proposal", w.ID).Str("why", why).Msg("needs approval: the same plan still waits as a proposal, none saved; nothing was changed")
	} else {
		r.proposal = id
		msg = fmt.Sprintf("needs approval (%s): proposal %d saved; another approver runs `%s`", why, id, ApproveCommand(id))
		r.log.Warn().Int64("proposal", id).Str("author", author).Str("why", why).Msg("needs approval: nothing was changed")
	}
	r.rep.Tripped = []string{msg}
	r.note(msg)
	return &Failure{Ending: Guarded, Message: msg + "; nothing was changed"}
}

// supersede makes the pending proposals made from the same input stale once an apply
// that needs no approval goes ahead: its plan is the latest, and approving an older
// one would undo it. A failure is a warning: the approve of such a proposal is still
// refused if the portal changed since.
func (r *run) supersede(ctx context.Context) {
	if r.req.Approve != 0 || r.h == nil {
		return
	}
	pr := r.proposing()
	pr.Run, pr.By = r.h.runID, r.req.StartedBy
	got, err := r.h.store.Propose(ctx, pr)
	if err != nil {
		r.log.Warn().Err(err).Msg("the older proposals made from the same input could not be superseded")
		return
	}
	r.superseded(got.Superseded)
}

// superseded tells of the proposals a later plan superseded.
func (r *run) superseded(ps []state.Proposal) {
	for _, p := range ps {
		r.note(fmt.Sprintf("proposal %d by %s can no longer be approved: %s", p.ID, p.Author, p.Reason))
		r.log.Info().Int64("proposal", p.ID).Str("reason", p.Reason).Msg("proposal superseded")
	}
}

// planOptions names the settings that change what a plan holds: plans made from the
// same files with other settings (an apply without --prune, say) are not the same
// request, and one does not supersede the other.
func planOptions(o reconcile.Options) string {
	return fmt.Sprintf("prune=%t no-reinvite=%t max-reinvites=%d allow-shrink=%t", o.Prune, o.NoReinvite, o.MaxReinvites, o.AllowShrink)
}

// proposing is what the pending proposals compare this plan by: Request.Source, or its
// input files and the settings that change a plan, or, for a saved plan (--plan),
// whose files may have been named in another folder and whose settings are not the
// apply's, the plan file.
func (r *run) proposing() state.Proposing {
	if r.req.Source != "" {
		return state.Proposing{Source: r.req.Source}
	}
	if r.req.PlanFile != "" {
		path, err := filepath.Abs(r.req.PlanFile)
		if err != nil {
			path = r.req.PlanFile
		}
		return state.Proposing{Source: "saved plan " + path}
	}
	return state.Proposing{Inputs: r.inputs(), Options: planOptions(r.req.Diff)}
}

// inputs are the paths of the input files the plan was made from.
func (r *run) inputs() []string {
	out := make([]string, len(r.desired.Files))
	for i, fl := range r.desired.Files {
		out[i] = fl.Path
	}
	return out
}

// NotPending says why proposal p cannot be approved or refused any more.
func NotPending(p state.Proposal) string {
	msg := fmt.Sprintf("proposal %d is %s, not pending", p.ID, p.Status)
	if (p.Status == state.ProposalStale || p.Status == state.ProposalRefused) && p.Reason != "" {
		msg += " (" + p.Reason + ")"
	}
	return msg
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
		return fail(Refused, NotPending(p)+": nothing was changed")
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
	to, why := state.ProposalPending, ""
	if r.stale {
		to, why = state.ProposalStale, "the portal changed since it was proposed"
	}
	if derr := r.h.store.DecideProposal(ctx, r.req.Approve, []state.ProposalStatus{state.ProposalApproved}, to, r.req.StartedBy, why, 0); derr != nil {
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

package web

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ycm-onboard/ycm-onboard/job"
	"github.com/ycm-onboard/ycm-onboard/notify"
	"github.com/ycm-onboard/ycm-onboard/reconcile"
	"github.com/ycm-onboard/ycm-onboard/state"
)

// proposalsData is the Proposals page: the pending proposals and the last decided.
type proposalsData struct {
	Pending []proposalRow
	Decided []state.Proposal
}

type proposalRow struct {
	state.Proposal
	CanDecide bool // an approver who is not its author
}

// maxProposalsShown bounds the decided proposals listed.
const maxProposalsShown = 50

func (s *Server) proposals(w http.ResponseWriter, r *http.Request, se *session) {
	s.proposalsPage(w, r, se, http.StatusOK, "", "")
}

func (s *Server) proposalsPage(w http.ResponseWriter, r *http.Request, se *session, status int, notice, errMsg string) {
	all, err := s.store.Proposals(r.Context())
	if err != nil {
		s.render(w, "error.html", page{Session: se, Title: "Proposals", Error: "The run history could not be read: " + err.Error()})
		return
	}
	var d proposalsData
	for _, p := range all {
		if p.Status == state.ProposalPending {
			d.Pending = append(d.Pending, proposalRow{Proposal: p,
				CanDecide: se.user.Role.AtLeast(state.RoleApprover) && !job.SameUser(p.Author, se.user.Name)})
		} else if len(d.Decided) < maxProposalsShown {
			d.Decided = append(d.Decided, p)
		}
	}
	if status != http.StatusOK {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
	}
	s.render(w, "proposals.html", page{Session: se, Title: "Proposals", Notice: notice, Error: errMsg, Data: d})
}

// pendingProposal is the proposal the request names, if an approver other than its
// author may decide it; else it answers the request itself and returns false.
func (s *Server) pendingProposal(w http.ResponseWriter, r *http.Request, se *session) (state.Proposal, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		http.NotFound(w, r)
		return state.Proposal{}, false
	}
	p, err := s.store.Proposal(r.Context(), id)
	switch {
	case errors.Is(err, state.ErrNoProposal):
		http.NotFound(w, r)
		return p, false
	case err != nil:
		s.proposalsPage(w, r, se, http.StatusInternalServerError, "", "The run history could not be read: "+err.Error())
		return p, false
	case p.Status != state.ProposalPending:
		s.proposalsPage(w, r, se, http.StatusConflict, "", fmt.Sprintf("Proposal %d is %s already: nothing was changed.", id, p.Status))
		return p, false
	case job.SameUser(p.Author, se.user.Name):
		s.cfg.Log.Warn().Str("user", se.user.Name).Int64("proposal", id).Msg("the author of a proposal tried to decide it")
		s.proposalsPage(w, r, se, http.StatusForbidden, "", fmt.Sprintf("You proposed %d: another approver must approve or refuse it.", id))
		return p, false
	}
	return p, true
}

// approveProposal applies a proposal exactly, as the approver: a stale one is refused.
// It runs while the request waits: the page shows how it ended.
func (s *Server) approveProposal(w http.ResponseWriter, r *http.Request, se *session) {
	p, ok := s.pendingProposal(w, r, se)
	if !ok {
		return
	}
	id := p.ID
	// It runs in this request, counted so that Close waits for it to end.
	if !s.begin() {
		s.stopping(w)
		return
	}
	defer s.wg.Done()
	dir := filepath.Join(s.cfg.WorkDir, fmt.Sprintf("proposal-%d-%s", id, newToken()[:12]))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		s.proposalsPage(w, r, se, http.StatusInternalServerError, "", "Nothing was changed: "+err.Error())
		return
	}
	req := job.Request{Mode: job.Apply, PlanFile: state.ProposalPath(s.cfg.StateDir, id), Approve: id, Diff: s.cfg.Diff,
		Concurrency: s.cfg.Concurrency, ReportDir: dir, StateDir: s.cfg.StateDir, LockTimeout: s.cfg.LockTimeout,
		Version: s.cfg.Version, StartedBy: se.user.Name}
	s.event(r.Context(), se.user.Name, "approve", strconv.FormatInt(id, 10))
	started := s.cfg.Now()
	out, err := job.Run(s.ctx, req, s.deps(se.user.Name))
	s.ran(job.Apply, out, err)
	s.notifyRun(se.user.Name, started, out, err, &notify.Decision{Proposal: id, Status: notify.Approved, Author: p.Author, By: se.user.Name})
	if err != nil {
		msg := fmt.Sprintf("Proposal %d was not applied: %s", id, strings.TrimSuffix(err.Error(), "."))
		if out.Stale {
			msg = fmt.Sprintf("Proposal %d is stale: the portal changed since it was proposed, so nothing was changed. Upload and plan again.", id)
		}
		var f *job.Failure
		if errors.As(err, &f) && job.ExitCode(f) == 1 && !out.Stale {
			s.proposalsPage(w, r, se, http.StatusOK, "", msg)
			return
		}
		s.proposalsPage(w, r, se, http.StatusConflict, "", msg)
		return
	}
	line := "Nothing to change."
	if out.Reported && out.Report.Results != nil {
		line = reconcileLine(out)
	}
	s.proposalsPage(w, r, se, http.StatusOK, fmt.Sprintf("Proposal %d approved by %s and applied. %s", id, se.user.Name, line), "")
}

func (s *Server) refuseProposal(w http.ResponseWriter, r *http.Request, se *session) {
	p, ok := s.pendingProposal(w, r, se)
	if !ok {
		return
	}
	id := p.ID
	reason := strings.TrimSpace(r.FormValue("reason"))
	if reason == "" {
		s.proposalsPage(w, r, se, http.StatusBadRequest, "", "Say why you refuse it: the author reads the reason.")
		return
	}
	if err := s.store.DecideProposal(r.Context(), id, []state.ProposalStatus{state.ProposalPending}, state.ProposalRefused, se.user.Name, reason, 0); err != nil {
		s.proposalsPage(w, r, se, http.StatusConflict, "", fmt.Sprintf("Proposal %d was decided meanwhile: nothing was changed.", id))
		return
	}
	s.event(r.Context(), se.user.Name, "refuse", fmt.Sprintf("%d: %s", id, reason))
	s.send(notify.NewRefusal(notify.Decision{Proposal: id, Author: p.Author, By: se.user.Name, Reason: reason}, notify.FromPage, s.cfg.Host, s.cfg.Now()))
	s.proposalsPage(w, r, se, http.StatusOK, fmt.Sprintf("Proposal %d refused.", id), "")
}

func reconcileLine(out job.Outcome) string {
	return reconcile.TallyResults(out.Report.Results).Line()
}

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ycm-onboard/ycm-onboard/importer"
	"github.com/ycm-onboard/ycm-onboard/portal"
	"github.com/ycm-onboard/ycm-onboard/reconcile"
	"github.com/ycm-onboard/ycm-onboard/state"
)

// historyFlags say where the run history lives and how runs take turns.
type historyFlags struct {
	stateDir    string
	lockTimeout time.Duration
	keepReports int
}

// history is a run's record: the lock, the run history database, this run's id.
type history struct {
	a       *app
	store   *state.Store
	lock    *state.Lock
	runID   int64
	tempDir string // the embedded simulator's history is thrown away
}

// stateDir is where the history lives: --state-dir, else the default.
func (a *app) stateDir(hf historyFlags) (string, error) {
	if hf.stateDir != "" {
		return hf.stateDir, nil
	}
	return state.DefaultDir(a.getenv)
}

// openHistory takes the lock (apply only: one apply at a time per state directory),
// opens the history and records the run's start. A run on the embedded simulator
// keeps a throwaway history, so demo runs never mix with a real portal's record.
func (a *app) openHistory(ctx context.Context, hf historyFlags, embedded bool, mode string, files []importer.File) (*history, error) {
	h := &history{a: a}
	dir := hf.stateDir
	if embedded && dir == "" {
		tmp, err := os.MkdirTemp("", "ycm-onboard-demo-state-")
		if err != nil {
			return nil, exitf(exitUsage, "cannot make a state directory: "+err.Error())
		}
		dir, h.tempDir = tmp, tmp
	}
	if dir == "" {
		var err error
		if dir, err = a.stateDir(hf); err != nil {
			return nil, exitf(exitUsage, err.Error())
		}
	}
	if mode == "apply" {
		lock, err := state.AcquireLock(ctx, dir, hf.lockTimeout)
		if err != nil {
			h.close()
			if errors.Is(err, state.ErrLocked) {
				return nil, exitf(exitLocked, err.Error()+" (--lock-timeout)")
			}
			return nil, exitf(exitUsage, err.Error())
		}
		h.lock = lock
	}
	store, err := state.Open(dir, a.now)
	if err != nil {
		h.close()
		return nil, exitf(exitUsage, fmt.Sprintf("cannot open the run history in %s: %v", dir, err))
	}
	h.store = store
	inputs := make([]state.Input, len(files))
	for i, f := range files {
		inputs[i] = state.Input{Path: f.Path, SHA256: f.SHA256}
	}
	if h.runID, err = store.BeginRun(ctx, state.RunInfo{Mode: mode, Inputs: inputs, Started: a.now()}); err != nil {
		h.close()
		return nil, exitf(exitUsage, err.Error())
	}
	a.log = a.log.With().Int64("run", h.runID).Logger()
	return h, nil
}

// journal is the history as apply's journal; none without a history.
func (h *history) journal() reconcile.Journal {
	if h == nil {
		return nil
	}
	return h
}

func (h *history) close() {
	if h == nil {
		return
	}
	if h.store != nil {
		if err := h.store.Close(); err != nil {
			h.a.log.Warn().Err(err).Msg("closing the run history")
		}
	}
	if h.lock != nil {
		_ = h.lock.Release()
	}
	if h.tempDir != "" {
		_ = os.RemoveAll(h.tempDir)
	}
}

// settle gives the changes an earlier run sent without recording their result (it was
// killed) the outcome the portal shows now. The plan is made from the portal as it is,
// so nothing is created or e-mailed twice; this keeps the record and invitations true.
func (h *history) settle(ctx context.Context, actual reconcile.Actual) {
	pending, err := h.store.Unsettled(ctx)
	if err != nil {
		h.a.log.Warn().Err(err).Msg("reading unsettled changes")
		return
	}
	if len(pending) == 0 {
		return
	}
	colleagues := map[string]portal.Colleague{}
	for _, c := range actual.Colleagues {
		colleagues[strings.ToLower(c.Email)] = c
	}
	settled := 0
	for _, p := range pending {
		outcome, msg := "unknown", "an earlier run stopped before it recorded the result; the portal was read again"
		if p.Intent.Object == reconcile.ColleagueObject.String() {
			c, ok := colleagues[p.Intent.Key]
			switch p.Intent.Kind {
			case reconcile.Create.String(), reconcile.Reinvite.String():
				if ok && c.ID == p.Intent.PortalID {
					outcome, msg = "not run", "the expired invitation is still there: this run plans it again"
				} else if ok {
					outcome, msg = "applied", "found on the portal after the earlier run stopped"
					at := c.CreatedAt
					if at.IsZero() {
						at = p.Started
					}
					if err := h.store.Invited(ctx, c.Email, c.ID, at, p.Intent.Kind == reconcile.Reinvite.String()); err != nil {
						h.a.log.Warn().Err(err).Msg("recording an invitation")
					}
				} else if !ok {
					outcome, msg = "not run", "not on the portal after the earlier run stopped: this run plans it again"
				}
			case state.KindResend:
				// Whether YCM sent the e-mail cannot be read back: it is taken as sent, so
				// nobody is e-mailed twice; a link that never arrives shows as expired later.
				if ok && c.ID == p.Intent.PortalID {
					outcome, msg = "unknown", "an earlier run stopped after asking YCM to send the activation e-mail: taken as sent, so it is not sent twice"
					if err := h.store.Invited(ctx, c.Email, c.ID, p.Started, true); err != nil {
						h.a.log.Warn().Err(err).Msg("recording an invitation")
					}
				}
			case reconcile.Delete.String():
				if !ok {
					outcome, msg = "applied", "gone from the portal after the earlier run stopped"
				}
			}
		}
		if err := h.store.Settle(ctx, p.ActionID, outcome, msg); err != nil {
			h.a.log.Warn().Err(err).Msg("settling a change")
			continue
		}
		settled++
	}
	h.a.log.Info().Int("settled", settled).Msg("settled changes an earlier run left unrecorded (it was stopped or crashed)")
}

// invitations fills in invitation times the portal does not give from the record, and
// records the activations of the colleagues the record tracks.
func (h *history) invitations(ctx context.Context, actual *reconcile.Actual) {
	all, err := h.store.Invitations(ctx)
	if err != nil {
		h.a.log.Warn().Err(err).Msg("reading the invitations")
		return
	}
	tracked := make(map[string]state.Invitation, len(all))
	actual.Reinvited = make(map[string]int)
	for _, inv := range all {
		tracked[inv.Email] = inv
		if inv.Reinvites > 0 {
			actual.Reinvited[inv.Email] = inv.Reinvites
		}
	}
	for i := range actual.Colleagues {
		c := &actual.Colleagues[i]
		inv, ok := tracked[strings.ToLower(c.Email)]
		if !ok {
			continue
		}
		switch c.Status {
		case portal.StatusActive:
			if inv.ActivatedAt.IsZero() {
				if err := h.store.Activated(ctx, c.Email, h.a.now()); err != nil {
					h.a.log.Warn().Err(err).Msg("recording an activation")
				}
			}
		case portal.StatusUnActive:
			// A create whose answer held no id was recorded with id 0: this read has it.
			if inv.ColleagueID == 0 && !inv.InvitedAt.IsZero() {
				if err := h.store.Invited(ctx, c.Email, c.ID, inv.InvitedAt, false); err != nil {
					h.a.log.Warn().Err(err).Msg("recording a colleague's id")
				}
				inv.ColleagueID = c.ID
			}
			// A link sent again through YCM keeps the colleague's id and creation time:
			// the record knows the newer invitation.
			if inv.ColleagueID == c.ID && inv.InvitedAt.After(c.CreatedAt) {
				c.CreatedAt = inv.InvitedAt
			}
		}
	}
}

// Intent and Done make the history apply's journal.
func (h *history) Intent(ctx context.Context, i int, a reconcile.Action) (int64, error) {
	return h.store.RecordIntent(ctx, h.runID, i, state.IntentOf(a))
}

func (h *history) Done(ctx context.Context, id int64, i int, a reconcile.Action, r reconcile.Result) {
	// The invitation first: a run killed between the two leaves the change unsettled,
	// and settling records the invitation again, which changes nothing.
	if r.Outcome == reconcile.Applied && (a.Kind == reconcile.Create || a.Kind == reconcile.Reinvite) {
		if err := h.store.Invited(ctx, a.Want.Email, r.ColleagueID, r.InvitedAt, a.Kind == reconcile.Reinvite); err != nil {
			h.a.log.Warn().Err(err).Msg("recording an invitation")
		}
	}
	if err := h.store.RecordOutcome(ctx, id, state.OutcomeOf(r, h.a.now())); err != nil {
		h.a.log.Warn().Err(err).Msg("recording a result")
	}
}

// finish records the run's end.
func (h *history) finish(counts map[string]int, code int, reportPath string) {
	if h == nil {
		return
	}
	if err := h.store.FinishRun(context.Background(), h.runID, h.a.now(), counts, code, reportPath); err != nil {
		h.a.log.Warn().Err(err).Msg("recording the end of the run")
	}
}

// pruneReports keeps the newest keep reports in dir, the run's own among them.
func (a *app) pruneReports(dir string, keep int, own string) {
	removed, err := state.PruneReports(dir, keep, own)
	if err != nil {
		a.log.Warn().Err(err).Msg("pruning old reports")
	}
	for _, r := range removed {
		a.log.Info().Str("report", r).Msg("removed an old report")
	}
}

// id is the run's id in the history, 0 when no history is kept.
func (h *history) id() int64 {
	if h == nil {
		return 0
	}
	return h.runID
}

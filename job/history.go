package job

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/ycm-onboard/ycm-onboard/importer"
	"github.com/ycm-onboard/ycm-onboard/portal"
	"github.com/ycm-onboard/ycm-onboard/reconcile"
	"github.com/ycm-onboard/ycm-onboard/state"
)

// history is a run's record: the lock, the run history database, this run's id. A nil
// history keeps nothing.
type history struct {
	log   zerolog.Logger
	now   func() time.Time
	store *state.Store
	lock  *state.Lock
	runID int64
	out   *state.Outcomes // while apply runs
}

// openHistory takes the lock (apply only: one apply at a time per state directory),
// opens the history and records the run's start. Apply needs both; a plan that cannot
// open the history goes on without it.
func (r *run) openHistory(ctx context.Context) error {
	var h *history
	var err error
	if r.req.StateDir == "" {
		why := r.req.NoStateDir
		if why == nil {
			why = errors.New("no state directory")
		}
		err = &Failure{Ending: Refused, Message: why.Error(), Err: why}
	} else {
		h, err = openHistory(ctx, r.req, r.d, r.started, r.desired.Files)
	}
	if err != nil && r.req.Mode == Apply {
		return err
	}
	if err != nil {
		r.log.Warn().Str("error", err.Error()).Msg("planning without the run history")
		return nil
	}
	r.h = h
	r.log = r.log.With().Int64("run", h.runID).Logger()
	h.log = r.log
	return nil
}

func openHistory(ctx context.Context, req Request, d Deps, started time.Time, files []importer.File) (*history, error) {
	h := &history{log: d.Log, now: d.Now}
	dir := req.StateDir
	if req.Mode == Apply {
		lock, err := state.AcquireLock(ctx, dir, req.LockTimeout)
		if err != nil {
			if errors.Is(err, state.ErrLocked) {
				return nil, &Failure{Ending: Locked, Message: err.Error() + " (--lock-timeout)", Err: err}
			}
			if state.CannotWrite(err) {
				return nil, &Failure{Ending: Local, Message: err.Error() + "; free space in the state directory or make it writable", Err: err}
			}
			return nil, &Failure{Ending: Refused, Message: err.Error(), Err: err}
		}
		h.lock = lock
	}
	store, err := state.Open(dir, d.Now)
	if err != nil {
		h.close()
		ending := Refused
		if errors.Is(err, state.ErrDamaged) || state.CannotWrite(err) {
			ending = Local
		}
		return nil, &Failure{Ending: ending, Message: fmt.Sprintf("cannot open the run history in %s: %v", dir, err), Err: err}
	}
	h.store = store
	inputs := make([]state.Input, len(files))
	for i, f := range files {
		inputs[i] = state.Input{Path: f.Path, SHA256: f.SHA256}
	}
	if h.runID, err = store.BeginRun(ctx, state.RunInfo{Mode: string(req.Mode), Inputs: inputs, Started: started, StartedBy: req.StartedBy}); err != nil {
		h.close()
		ending := Refused
		if state.CannotWrite(err) {
			ending = Local
		}
		return nil, &Failure{Ending: ending, Message: fmt.Sprintf("cannot record the run in %s: %v; free space there or make it writable", dir, err), Err: err}
	}
	return h, nil
}

// journal is the history as apply's journal, none without a history; endJournal
// writes the last outcomes once apply returns.
func (h *history) journal() reconcile.Journal {
	if h == nil {
		return nil
	}
	h.out = h.store.Outcomes()
	return h
}

func (h *history) endJournal() error {
	if h == nil || h.out == nil {
		return nil
	}
	err := h.out.Close()
	h.out = nil
	if err != nil {
		h.log.Warn().Err(err).Msg("recording results: the next run settles those changes by reading the portal")
	}
	return err
}

func (h *history) close() {
	if h == nil {
		return
	}
	_ = h.endJournal() // logged
	if h.store != nil {
		if err := h.store.Close(); err != nil {
			h.log.Warn().Err(err).Msg("closing the run history")
		}
	}
	if h.lock != nil {
		_ = h.lock.Release()
	}
}

// id is the run's id in the history, 0 when no history is kept.
func (h *history) id() int64 {
	if h == nil {
		return 0
	}
	return h.runID
}

// settle gives the changes an earlier run sent without recording their result (it was
// killed) the outcome the portal shows now (reconcile.Settle).
func (h *history) settle(ctx context.Context, actual reconcile.Actual) {
	if h == nil {
		return
	}
	pending, err := h.store.Unsettled(ctx)
	if err != nil {
		h.log.Warn().Err(err).Msg("reading unsettled changes")
		return
	}
	if len(pending) == 0 {
		return
	}
	in := make([]reconcile.Unsettled, len(pending))
	for i, p := range pending {
		in[i] = reconcile.Unsettled{Object: p.Intent.Object, Key: p.Intent.Key, Kind: p.Intent.Kind,
			PortalID: p.Intent.PortalID, Started: p.Started}
	}
	settled := make([]state.Settled, len(pending))
	for i, s := range reconcile.Settle(in, actual.Colleagues) {
		settled[i] = state.Settled{ActionID: pending[i].ActionID, Outcome: s.Outcome, Message: s.Message}
		if inv := s.Invited; inv != nil {
			settled[i].Invited = &state.Invite{Email: inv.Email, ColleagueID: inv.ColleagueID, At: inv.At, Reinvite: inv.Reinvite}
		}
	}
	if err := h.store.SettleAll(ctx, settled); err != nil {
		h.log.Warn().Err(err).Msg("settling changes an earlier run left unrecorded")
		return
	}
	h.log.Info().Int("settled", len(settled)).Msg("settled changes an earlier run left unrecorded (it was stopped or crashed)")
}

// invitations fills in invitation times the portal does not give from the record, and
// records the activations of the colleagues the record tracks.
func (h *history) invitations(ctx context.Context, actual *reconcile.Actual) {
	if h == nil {
		return
	}
	all, err := h.store.Invitations(ctx)
	if err != nil {
		h.log.Warn().Err(err).Msg("reading the invitations")
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
				if err := h.store.Activated(ctx, c.Email, h.now()); err != nil {
					h.log.Warn().Err(err).Msg("recording an activation")
				}
			}
		case portal.StatusUnActive:
			// A create whose answer held no id was recorded with id 0: this read has it.
			if inv.ColleagueID == 0 && !inv.InvitedAt.IsZero() {
				if err := h.store.Invited(ctx, c.Email, c.ID, inv.InvitedAt, false); err != nil {
					h.log.Warn().Err(err).Msg("recording a colleague's id")
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

// Intents and Done make the history apply's journal.
func (h *history) Intents(ctx context.Context, idxs []int, acts []reconcile.Action) ([]int64, error) {
	ins := make([]state.Intent, len(acts))
	for k, a := range acts {
		ins[k] = state.IntentOf(a)
	}
	return h.store.RecordIntents(ctx, h.runID, idxs, ins)
}

func (h *history) Done(_ context.Context, id int64, _ int, a reconcile.Action, r reconcile.Result) {
	o, inv := state.OutcomeOf(r, h.now()), state.InviteOf(a, r)
	if a.Kind == reconcile.Reinvite && a.Via == reconcile.YCMEmail {
		// YCM's e-mail cannot be read back: its record is written before the next
		// change, or a kill in between would have the next run send it again.
		if err := h.out.AddNow(id, o, inv); err != nil {
			h.log.Warn().Err(err).Msg("recording a re-sent activation e-mail")
		}
		return
	}
	h.out.Add(id, o, inv)
}

// finish records the run's end.
func (h *history) finish(counts map[string]int, code int, reportPath string) {
	if h == nil {
		return
	}
	if err := h.store.FinishRun(context.Background(), h.runID, h.now(), counts, code, reportPath); err != nil {
		h.log.Warn().Err(err).Msg("recording the end of the run")
	}
}

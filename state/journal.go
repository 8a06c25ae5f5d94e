package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/ycm-onboard/ycm-onboard/reconcile"
)

// How durable each write of an apply is:
//
//   - Intents are written before any of their changes is sent, a batch in one
//     transaction synced to disk (synchronous=FULL): a change the portal may have
//     received always has its intent on disk, even after a power cut. The sync also
//     makes every outcome written before it durable.
//   - Outcomes (and the invitations they sent) are written in groups by one writer,
//     a few milliseconds apart, with synchronous=NORMAL: once written they survive
//     the process dying. An outcome lost with the process or the power leaves its
//     intent unsettled, and the next run reads the portal back for it (Unsettled,
//     SettleAll), which is what settling is for.
//   - A run's start and end are written alone (NORMAL).

// RecordIntents records, in one transaction synced to disk, that the run is about to
// send these changes; seqs are their indexes in the plan. Call it before the first of
// them is sent. It returns the intents' ids, in order.
func (s *Store) RecordIntents(ctx context.Context, runID int64, seqs []int, ins []Intent) ([]int64, error) {
	if len(seqs) != len(ins) {
		return nil, fmt.Errorf("record intents: %d indexes for %d intents", len(seqs), len(ins))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ids, err := s.recordIntents(ctx, runID, seqs, ins)
	if err != nil {
		if len(ins) == 1 {
			in := ins[0]
			return nil, fmt.Errorf("record intent to %s %s %q: %w", in.Kind, in.Object, in.Key, err)
		}
		return nil, fmt.Errorf("record the intents of %d changes: %w", len(ins), err)
	}
	crashPoint("after-intents")
	return ids, nil
}

func (s *Store) recordIntents(ctx context.Context, runID int64, seqs []int, ins []Intent) (ids []int64, err error) {
	if s.syncMode == syncIntents {
		if _, err := s.conn.ExecContext(ctx, "PRAGMA synchronous = FULL"); err != nil {
			return nil, err
		}
		defer func() {
			// A failure here leaves the connection on FULL: slower, still correct.
			if _, e := s.conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA synchronous = NORMAL"); e != nil && err == nil {
				err = e
			}
		}()
	}
	started := formatTime(s.now())
	ids = make([]int64, len(ins))
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		st := tx.StmtContext(ctx, s.intent)
		for i, in := range ins {
			res, err := st.ExecContext(ctx, runID, seqs[i], in.Source, in.Object, in.Key, in.Kind, in.PortalID, started)
			if err != nil {
				return err
			}
			if ids[i], err = res.LastInsertId(); err != nil {
				return err
			}
		}
		return nil
	})
	return ids, err
}

// inTx runs f in a transaction on the store's connection; call it holding s.mu.
func (s *Store) inTx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := s.conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		return errors.Join(err, tx.Rollback())
	}
	return tx.Commit()
}

// Invite is an activation e-mail a change sent, recorded with its outcome.
type Invite struct {
	Email       string
	ColleagueID int64
	At          time.Time
	Reinvite    bool
}

// Outcomes writes an apply's outcomes in groups: Add queues one and returns, and one
// writer commits what is queued every groupEvery, in one transaction. Close writes
// the rest and stops the writer; an Add after it writes at once. Safe for concurrent
// use.
type Outcomes struct {
	s      *Store
	mu     sync.Mutex
	queue  []outcomeRow
	kick   chan struct{} // a group is waiting
	stop   chan struct{}
	done   chan struct{}
	err    error // the first write that failed
	closed bool  // Close was called
	once   sync.Once
}

type outcomeRow struct {
	id  int64
	o   Outcome
	inv *Invite
}

// groupEvery is how long the writer gathers outcomes before a commit: at most one
// commit per interval, whatever the number of workers.
const groupEvery = 5 * time.Millisecond

// Outcomes starts a group writer of outcomes; Close it when the apply is done.
func (s *Store) Outcomes() *Outcomes {
	w := &Outcomes{s: s, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go w.loop()
	return w
}

// Add queues the outcome of intent id, and the invitation it sent if any; the
// invitation is written in the same transaction as the outcome.
func (w *Outcomes) Add(id int64, o Outcome, inv *Invite) {
	if o.Finished.IsZero() {
		o.Finished = w.s.now()
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		_ = w.AddNow(id, o, inv) // its error is kept for Close
		return
	}
	w.queue = append(w.queue, outcomeRow{id, o, inv})
	w.mu.Unlock()
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

func (w *Outcomes) loop() {
	defer close(w.done)
	t := time.NewTimer(0)
	<-t.C
	for {
		select {
		case <-w.kick:
		case <-w.stop:
			w.write()
			return
		}
		t.Reset(groupEvery)
		select {
		case <-t.C:
		case <-w.stop:
			t.Stop()
			w.write()
			return
		}
		w.write()
	}
}

// AddNow writes the outcome of intent id, and the invitation it sent, before it
// returns, for a change the portal cannot be asked about afterwards (YCM's activation
// e-mail): a kill after it cannot lose the record that the e-mail went out.
func (w *Outcomes) AddNow(id int64, o Outcome, inv *Invite) error {
	if o.Finished.IsZero() {
		o.Finished = w.s.now()
	}
	err := w.commit([]outcomeRow{{id, o, inv}})
	if err != nil {
		w.mu.Lock()
		if w.err == nil {
			w.err = err
		}
		w.mu.Unlock()
	}
	return err
}

// write commits the queue as one group.
func (w *Outcomes) write() {
	w.mu.Lock()
	rows := w.queue
	w.queue = nil
	w.mu.Unlock()
	if len(rows) == 0 {
		return
	}
	if err := w.commit(rows); err != nil {
		w.mu.Lock()
		if w.err == nil {
			w.err = err
		}
		w.mu.Unlock()
	}
}

// commit writes rows in one transaction.
func (w *Outcomes) commit(rows []outcomeRow) error { return w.s.writeOutcomes(rows) }

// writeOutcomes writes outcomes, and the invitations they sent, in one transaction.
func (s *Store) writeOutcomes(rows []outcomeRow) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ctx := context.Background()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		st, inv := tx.StmtContext(ctx, s.outcome), tx.StmtContext(ctx, s.invite)
		for i, r := range rows {
			if r.inv != nil {
				if err := invited(ctx, inv, r.inv.Email, r.inv.ColleagueID, r.inv.At, r.inv.Reinvite); err != nil {
					return err
				}
			}
			res, err := st.ExecContext(ctx, r.o.Outcome, r.o.Class, r.o.Message, r.o.Attempts, formatTime(r.o.Finished), r.id)
			if err != nil {
				return fmt.Errorf("record outcome of action %d: %w", r.id, err)
			}
			if err := oneRow(res, "action", r.id); err != nil {
				return err
			}
			if i == len(rows)/2 {
				crashPoint("mid-outcomes")
			}
		}
		return nil
	})
	if err != nil && len(rows) > 1 {
		return fmt.Errorf("record the outcomes of %d changes: %w", len(rows), err)
	}
	return err
}

// Close writes what is queued, stops the writer and returns the first write that
// failed: those changes are left unsettled, for the next run to settle.
func (w *Outcomes) Close() error {
	w.once.Do(func() {
		w.mu.Lock()
		w.closed = true // from here on Add writes at once: the writer's last group may be taken
		w.mu.Unlock()
		close(w.stop)
	})
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Settled is the outcome found for an unsettled action by reading the portal back.
type Settled struct {
	ActionID int64
	Outcome  string
	Message  string
	Invited  *Invite // the invitation the change sent, if it did
}

// SettleAll records, in one transaction, what became of actions an earlier run left
// without an outcome, as found by reading the portal back ("applied", "not run"...,
// with a message saying how it was found). An action that already has an outcome
// keeps it.
func (s *Store) SettleAll(ctx context.Context, settled []Settled) error {
	ctx = context.WithoutCancel(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := formatTime(s.now())
	return s.inTx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `UPDATE actions SET outcome = ?, message = ?, finished = ?
			WHERE id = ? AND outcome IS NULL`)
		if err != nil {
			return err
		}
		defer st.Close()
		inv := tx.StmtContext(ctx, s.invite)
		for _, x := range settled {
			if x.Invited != nil {
				if err := invited(ctx, inv, x.Invited.Email, x.Invited.ColleagueID, x.Invited.At, x.Invited.Reinvite); err != nil {
					return err
				}
			}
			res, err := st.ExecContext(ctx, x.Outcome, x.Message, now, x.ActionID)
			if err != nil {
				return fmt.Errorf("settle action %d: %w", x.ActionID, err)
			}
			if n, err := res.RowsAffected(); err != nil || n == 1 {
				if err != nil {
					return err
				}
				continue
			}
			var one int
			if err := tx.QueryRowContext(ctx, `SELECT 1 FROM actions WHERE id = ?`, x.ActionID).Scan(&one); err == sql.ErrNoRows {
				return fmt.Errorf("settle action %d: no such action in the run history", x.ActionID)
			} else if err != nil {
				return err
			}
		}
		return nil
	})
}

// InviteOf is the invitation an applied create or re-invite sent, nil for others.
func InviteOf(a reconcile.Action, r reconcile.Result) *Invite {
	if r.Outcome != reconcile.Applied || (a.Kind != reconcile.Create && a.Kind != reconcile.Reinvite) {
		return nil
	}
	return &Invite{Email: a.Want.Email, ColleagueID: r.ColleagueID, At: r.InvitedAt, Reinvite: a.Kind == reconcile.Reinvite}
}

// crashEnv names a point where the process kills itself (SIGKILL on Unix), for the
// crash-resume tests: "after-intents" (a batch's intents are on disk, nothing is
// sent) or "mid-outcomes" (half a group of outcomes is written, not committed).
const crashEnv = "YCM_ONBOARD_TEST_CRASH_AT"

var crashAt = os.Getenv(crashEnv)

func crashPoint(name string) {
	if crashAt != name {
		return
	}
	if p, err := os.FindProcess(os.Getpid()); err == nil {
		_ = p.Kill()
		time.Sleep(time.Minute) // the kill is on its way
	}
}

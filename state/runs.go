package state

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ycm-onboard/ycm-onboard/reconcile"
)

// Input is one input file of a run and its SHA-256 (hex).
type Input struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// RunInfo is what is known when a run begins.
type RunInfo struct {
	Mode      string // "plan" or "apply"
	Inputs    []Input
	Started   time.Time
	StartedBy string // a page user's name, "cli" or "schedule"
}

// Run is one run as recorded. Finished is zero for a run still going or one that
// crashed; ExitCode and ReportPath mean something only once Finished is set.
type Run struct {
	ID         int64
	Mode       string
	StartedBy  string
	Inputs     []Input
	Started    time.Time
	Finished   time.Time
	Counts     map[string]int
	ExitCode   int
	ReportPath string
}

// BeginRun records the start of a run and returns its id.
func (s *Store) BeginRun(ctx context.Context, ri RunInfo) (int64, error) {
	inputs := ri.Inputs
	if inputs == nil {
		inputs = []Input{}
	}
	js, err := toJSON(inputs)
	if err != nil {
		return 0, fmt.Errorf("record run start: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	res, err := s.conn.ExecContext(ctx, `INSERT INTO runs (started, mode, inputs, started_by) VALUES (?, ?, ?, ?)`,
		formatTime(ri.Started), ri.Mode, js, ri.StartedBy)
	if err != nil {
		return 0, fmt.Errorf("record run start: %w", err)
	}
	return res.LastInsertId()
}

// FinishRun records the end of a run: its counts (whatever the caller tallies, e.g.
// "create", "failed"), exit code and report path. It is written even when ctx is
// cancelled: an interrupted run still records how it ended.
func (s *Store) FinishRun(ctx context.Context, runID int64, finished time.Time, counts map[string]int, exitCode int, reportPath string) error {
	ctx = context.WithoutCancel(ctx)
	js, err := toJSON(counts)
	if err != nil {
		return fmt.Errorf("record end of run %d: %w", runID, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	res, err := s.conn.ExecContext(ctx, `UPDATE runs SET finished = ?, counts = ?, exit_code = ?, report_path = ? WHERE id = ?`,
		formatTime(finished), js, exitCode, reportPath, runID)
	if err != nil {
		return fmt.Errorf("record end of run %d: %w", runID, err)
	}
	return oneRow(res, "run", runID)
}

// LastRuns returns the n most recent runs, newest first.
func (s *Store) LastRuns(ctx context.Context, n int) ([]Run, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rows, err := s.conn.QueryContext(ctx, `SELECT id, mode, started_by, inputs, started, finished, counts, exit_code, report_path
		FROM runs ORDER BY id DESC LIMIT ?`, n)
	if err != nil {
		return nil, fmt.Errorf("read runs: %w", err)
	}
	defer rows.Close()
	var runs []Run
	for rows.Next() {
		var (
			r                 Run
			inputs            string
			started, finished sql.NullString
			counts, report    sql.NullString
			exit              sql.NullInt64
		)
		if err := rows.Scan(&r.ID, &r.Mode, &r.StartedBy, &inputs, &started, &finished, &counts, &exit, &report); err != nil {
			return nil, fmt.Errorf("read runs: %w", err)
		}
		if err := json.Unmarshal([]byte(inputs), &r.Inputs); err != nil {
			return nil, fmt.Errorf("read run %d: inputs: %w", r.ID, err)
		}
		if counts.Valid && counts.String != "null" {
			if err := json.Unmarshal([]byte(counts.String), &r.Counts); err != nil {
				return nil, fmt.Errorf("read run %d: counts: %w", r.ID, err)
			}
		}
		if r.Started, err = parseTime(started); err != nil {
			return nil, err
		}
		if r.Finished, err = parseTime(finished); err != nil {
			return nil, err
		}
		r.ExitCode, r.ReportPath = int(exit.Int64), report.String
		runs = append(runs, r)
	}
	return runs, rows.Err()
}

// Intent is a change about to be sent to the portal.
type Intent struct {
	Source   string // where the action comes from, e.g. "wave1.xlsx sheet Colleagues row 7"; "" for a portal-only object
	Object   string // "colleague" or "PBX"
	Key      string // lower-case e-mail, or the PBX's SN
	Kind     string // "create", "update", "delete", "re-invite", "resize"
	PortalID int64  // the colleague's or PBX's id in the portal; 0 for a create
}

// IntentOf is the intent of a plan's action.
func IntentOf(a reconcile.Action) Intent {
	in := Intent{Object: a.Object.String(), Key: a.Key, Kind: a.Kind.String(), PortalID: a.ColleagueID}
	if a.Kind == reconcile.Reinvite && a.Via == reconcile.YCMEmail {
		in.Kind = reconcile.KindResend
	}
	if a.Object == reconcile.InstanceObject && a.Sizing != nil {
		in.PortalID = a.PBXID
	}
	if a.Source != nil {
		in.Source = a.Source.String()
	}
	return in
}

// Outcome is what became of an intent.
type Outcome struct {
	Outcome  string // "applied", "failed", "not run", ...
	Class    string // "", "row", "retryable", "fatal"
	Message  string
	Attempts int
	Finished time.Time
}

// OutcomeOf is the outcome of an applied action, finished at the given time.
func OutcomeOf(r reconcile.Result, finished time.Time) Outcome {
	return Outcome{Outcome: r.Outcome.String(), Class: r.Class.String(), Message: r.Message,
		Attempts: r.Attempts, Finished: finished}
}

// RecordIntent records, and syncs to disk, that the run is about to send one change
// to the portal (RecordIntents for a batch). seq is the action's index in the plan.
func (s *Store) RecordIntent(ctx context.Context, runID int64, seq int, in Intent) (int64, error) {
	ids, err := s.RecordIntents(ctx, runID, []int{seq}, []Intent{in})
	if err != nil {
		return 0, err
	}
	return ids[0], nil
}

// RecordOutcome records what became of the intent actionID at once (an apply writes
// them in groups: Outcomes). It is synced with the next intents: a power loss in
// between leaves the action unsettled, and the next run reads the portal back for it.
// It is written even when ctx is cancelled, since the call it records has been made.
func (s *Store) RecordOutcome(_ context.Context, actionID int64, o Outcome) error {
	if o.Finished.IsZero() {
		o.Finished = s.now()
	}
	return s.writeOutcomes([]outcomeRow{{actionID, o, nil}})
}

// Pending is an intent recorded by an earlier run that has no outcome: the run died
// between the two, and whether the portal made the change is unknown.
type Pending struct {
	ActionID int64
	RunID    int64
	Seq      int
	Intent   Intent
	Started  time.Time
}

// Unsettled returns every intent without an outcome, oldest first. Call it while
// holding the lock and before this run records intents of its own.
func (s *Store) Unsettled(ctx context.Context) ([]Pending, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rows, err := s.conn.QueryContext(ctx, `SELECT id, run_id, seq, source, object, key, kind, portal_id, started
		FROM actions WHERE outcome IS NULL ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("read unsettled actions: %w", err)
	}
	defer rows.Close()
	var ps []Pending
	for rows.Next() {
		var (
			p       Pending
			started sql.NullString
		)
		if err := rows.Scan(&p.ActionID, &p.RunID, &p.Seq, &p.Intent.Source, &p.Intent.Object, &p.Intent.Key,
			&p.Intent.Kind, &p.Intent.PortalID, &started); err != nil {
			return nil, fmt.Errorf("read unsettled actions: %w", err)
		}
		if p.Started, err = parseTime(started); err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	return ps, rows.Err()
}

func oneRow(res sql.Result, what string, id int64) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n != 1 {
		return fmt.Errorf("no %s %d in the run history", what, id)
	}
	return nil
}

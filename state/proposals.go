package state

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ProposalStatus is where a proposal stands.
type ProposalStatus string

const (
	ProposalPending  ProposalStatus = "pending"  // waiting for another approver
	ProposalApproved ProposalStatus = "approved" // approved; its apply is running or stopped before its end
	ProposalRefused  ProposalStatus = "refused"  // an approver refused it
	ProposalStale    ProposalStatus = "stale"    // the portal changed since: it can never be applied
	ProposalApplied  ProposalStatus = "applied"  // approved and applied
)

// Proposal is a plan an apply saved for another person to approve (four eyes). Its id
// is the id of the run that proposed it; the plan is the file ProposalPath names.
type Proposal struct {
	ID         int64
	Author     string // the proposing run's StartedBy
	Created    time.Time
	Status     ProposalStatus
	Reason     string // why it needs approval; once refused, why it was refused
	DecidedBy  string
	DecidedAt  time.Time
	AppliedRun int64 // the run that applied it
	// Inputs are the input files the proposing run read.
	Inputs []string
	// Digest is reconcile.Plan.Digest of its plan, PlanLine its counts line; both ""
	// for a proposal saved before they were recorded.
	Digest, PlanLine string
	// Source is what it was planned from (see Proposing.Source); "" for a proposal
	// saved before it was recorded.
	Source string
	// Reminded is when the receivers were last reminded of it; zero: never.
	Reminded time.Time
}

// RemindEvery is how often a proposal still waiting is told of again, however often
// the schedule runs: once a day.
const RemindEvery = 24 * time.Hour

// ApproveCommand is what another approver runs to apply proposal id.
func ApproveCommand(id int64) string { return fmt.Sprintf("ycm-onboard approve %d", id) }

// ErrNoProposal: no proposal has that id.
var ErrNoProposal = errors.New("no such proposal")

// ProposalDir is where the proposals' plan files live in a state directory.
func ProposalDir(dir string) string { return filepath.Join(dir, "proposals") }

// ProposalPath is the plan file of proposal id in the state directory dir.
func ProposalPath(dir string, id int64) string {
	return filepath.Join(ProposalDir(dir), strconv.FormatInt(id, 10)+".json")
}

// AddProposal records the pending proposal of run id.
func (s *Store) AddProposal(ctx context.Context, id int64, author, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return addProposal(ctx, s.conn, id, author, reason, "", "", "", s.now())
}

func addProposal(ctx context.Context, db execer, id int64, author, reason, digest, line, source string, now time.Time) error {
	_, err := db.ExecContext(ctx, `INSERT INTO proposals (run_id, author, created, status, reason, plan_digest, plan_line, source)
		VALUES (?, ?, ?, 'pending', ?, ?, ?, ?)`, id, author, formatTime(now), reason, digest, line, source)
	if err != nil {
		return fmt.Errorf("record proposal %d: %w", id, err)
	}
	return nil
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Proposing is an apply's plan, as the pending proposals see it.
type Proposing struct {
	Run    int64    // the apply's run id; the new proposal's id
	By     string   // who started it: the superseded proposals say so
	Inputs []string // the input files it read
	// Options names the settings that change what a plan holds (pruning, re-invites,
	// shrinks): a plan made with others supersedes nothing, and is superseded by none.
	Options string
	// Source, when set, names what the plan was made from instead of Inputs and
	// Options (a saved plan's file, say).
	Source string
	// Save: the plan needs approval. It is saved as proposal Run by Author, with
	// Reason, Digest (reconcile.Plan.Digest) and PlanLine, unless a pending proposal
	// has the same digest.
	Save                             bool
	Author, Reason, Digest, PlanLine string
}

// Proposed is what Propose did.
type Proposed struct {
	Saved      bool       // saved as proposal Run
	Waiting    Proposal   // not saved: this pending proposal has the same plan
	Remind     bool       // Waiting was last told of RemindEvery ago or more: tell it again (recorded as done)
	Superseded []Proposal // pending proposals of the same input files, now stale
}

// Propose keeps only the latest plan made from the same input files approvable: the
// pending proposals made from them become stale, superseded, unless the plan is
// saved and one of them has the same plan. A plan to save that is pending already,
// from any input, is not saved again: Proposed.Waiting is that proposal.
//
// One transaction reads and writes, so a refusal from a process that does not hold
// the run lock (approve --refuse, the page) comes wholly before or after it. Approving
// and proposing both hold the run lock.
func (s *Store) Propose(ctx context.Context, p Proposing) (Proposed, error) {
	ctx = context.WithoutCancel(ctx) // what the run did to the proposals is recorded even when it is interrupted
	var out Proposed
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, err := s.conn.BeginTx(ctx, nil) // _txlock=immediate: takes the write lock now
	if err != nil {
		return out, fmt.Errorf("record proposals: %w", err)
	}
	defer tx.Rollback()
	pending, err := queryProposals(ctx, tx, proposalSelect+` WHERE p.status = 'pending' ORDER BY p.run_id DESC`)
	if err != nil {
		return out, err
	}
	if p.Save && p.Digest != "" {
		for _, q := range pending {
			if q.Digest == p.Digest {
				out.Waiting = q
				break
			}
		}
	}
	now := s.now()
	if w := out.Waiting; w.ID != 0 {
		last := w.Created
		if !w.Reminded.IsZero() {
			last = w.Reminded
		}
		if now.Sub(last) >= RemindEvery {
			if _, err := tx.ExecContext(ctx, `UPDATE proposals SET reminded_at = ? WHERE run_id = ?`, formatTime(now), w.ID); err != nil {
				return out, fmt.Errorf("record the reminder of proposal %d: %w", w.ID, err)
			}
			out.Remind, out.Waiting.Reminded = true, now
		}
	}
	var why string
	switch {
	case out.Waiting.ID != 0:
		why = fmt.Sprintf("superseded by proposal %d, the plan a later run (%d) made from the same input", out.Waiting.ID, p.Run)
	case p.Save:
		if err := addProposal(ctx, tx, p.Run, p.Author, p.Reason, p.Digest, p.PlanLine, p.source(), now); err != nil {
			return out, err
		}
		out.Saved = true
		why = fmt.Sprintf("superseded by proposal %d, a later plan made from the same input", p.Run)
	default:
		why = fmt.Sprintf("superseded by run %d, a later plan made from the same input that needed no approval", p.Run)
	}
	source := p.source()
	for _, q := range pending {
		if q.ID == out.Waiting.ID || source == "" || !sameSource(q, source, p.Inputs) {
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE proposals SET status = 'stale', decided_by = ?, decided_at = ?, reason = ?
			WHERE run_id = ? AND status = 'pending'`, p.By, formatTime(now), why, q.ID); err != nil {
			return out, fmt.Errorf("record proposal %d stale: %w", q.ID, err)
		}
		q.Status, q.DecidedBy, q.DecidedAt, q.Reason = ProposalStale, p.By, now, why
		out.Superseded = append(out.Superseded, q)
	}
	if err := tx.Commit(); err != nil {
		return Proposed{}, fmt.Errorf("record proposals: %w", err)
	}
	return out, nil
}

// source names what a plan was made from: its input files by absolute path, in any
// order, and its Options; "" for no file (a plan made from none, as the page's
// re-invite makes, supersedes nothing).
func (p Proposing) source() string {
	if p.Source != "" {
		return p.Source
	}
	key := inputsKey(p.Inputs, true)
	if key == "" {
		return ""
	}
	return key + "\x00\x00" + p.Options
}

// sameSource reports whether pending proposal q was planned from source. One saved
// before sources were recorded is compared by its input paths as its run recorded them.
func sameSource(q Proposal, source string, inputs []string) bool {
	if q.Source != "" {
		return q.Source == source
	}
	return inputsKey(q.Inputs, false) == inputsKey(inputs, false)
}

// inputsKey names a set of input files, in any order, by absolute path if abs; ""
// for none.
func inputsKey(paths []string, abs bool) string {
	clean := make([]string, len(paths))
	for i, p := range paths {
		clean[i] = filepath.Clean(p)
		if a, err := filepath.Abs(p); abs && err == nil {
			clean[i] = a
		}
	}
	slices.Sort(clean)
	return strings.Join(slices.Compact(clean), "\x00")
}

// Proposal reads one proposal.
func (s *Store) Proposal(ctx context.Context, id int64) (Proposal, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ps, err := queryProposals(ctx, s.conn, proposalSelect+` WHERE p.run_id = ?`, id)
	if err != nil {
		return Proposal{}, err
	}
	if len(ps) == 0 {
		return Proposal{}, fmt.Errorf("proposal %d: %w", id, ErrNoProposal)
	}
	return ps[0], nil
}

// Proposals lists the proposals with one of the statuses (all when none is given),
// newest first.
func (s *Store) Proposals(ctx context.Context, statuses ...ProposalStatus) ([]Proposal, error) {
	q := proposalSelect
	args := make([]any, len(statuses))
	if len(statuses) > 0 {
		q += ` WHERE p.status IN (?` + strings.Repeat(`, ?`, len(statuses)-1) + `)`
		for i, st := range statuses {
			args[i] = string(st)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return queryProposals(ctx, s.conn, q+` ORDER BY p.run_id DESC`, args...)
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func queryProposals(ctx context.Context, db querier, q string, args ...any) ([]Proposal, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read proposals: %w", err)
	}
	defer rows.Close()
	var out []Proposal
	for rows.Next() {
		p, err := scanProposal(rows)
		if err != nil {
			return nil, fmt.Errorf("read proposals: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// DecideProposal moves a proposal from one of the statuses in from to status to, by
// the person by; reason replaces its reason when not empty. It fails with
// ErrNoProposal when no proposal of that id has one of those statuses (another person
// decided first).
func (s *Store) DecideProposal(ctx context.Context, id int64, from []ProposalStatus, to ProposalStatus, by, reason string, appliedRun int64) error {
	ctx = context.WithoutCancel(ctx) // a decision is recorded even when the run is interrupted
	q := `UPDATE proposals SET status = ?, decided_by = ?, decided_at = ?, reason = CASE WHEN ? = '' THEN reason ELSE ? END,
		applied_run = CASE WHEN ? = 0 THEN applied_run ELSE ? END
		WHERE run_id = ? AND status IN (?` + strings.Repeat(`, ?`, len(from)-1) + `)`
	args := []any{string(to), by, formatTime(s.now()), reason, reason, appliedRun, appliedRun, id}
	for _, f := range from {
		args = append(args, string(f))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	res, err := s.conn.ExecContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("record proposal %d %s: %w", id, to, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("proposal %d is not %v: %w", id, from, ErrNoProposal)
	}
	return nil
}

// proposalSelect reads proposals with their runs' inputs.
const proposalSelect = `SELECT p.run_id, p.author, p.created, p.status, p.reason, p.decided_by, p.decided_at, p.applied_run,
	p.plan_digest, p.plan_line, p.source, p.reminded_at, COALESCE(r.inputs, '[]') FROM proposals p LEFT JOIN runs r ON r.id = p.run_id`

func scanProposal(row interface{ Scan(...any) error }) (Proposal, error) {
	var p Proposal
	var created, decided, reminded sql.NullString
	var status, inputs string
	if err := row.Scan(&p.ID, &p.Author, &created, &status, &p.Reason, &p.DecidedBy, &decided, &p.AppliedRun,
		&p.Digest, &p.PlanLine, &p.Source, &reminded, &inputs); err != nil {
		return p, err
	}
	p.Status = ProposalStatus(status)
	var ins []Input
	if err := json.Unmarshal([]byte(inputs), &ins); err != nil {
		return p, fmt.Errorf("proposal %d: inputs: %w", p.ID, err)
	}
	for _, in := range ins {
		p.Inputs = append(p.Inputs, in.Path)
	}
	var err error
	if p.Created, err = parseTime(created); err != nil {
		return p, err
	}
	if p.DecidedAt, err = parseTime(decided); err != nil {
		return p, err
	}
	p.Reminded, err = parseTime(reminded)
	return p, err
}

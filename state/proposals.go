package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
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
}

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
	_, err := s.conn.ExecContext(ctx, `INSERT INTO proposals (run_id, author, created, status, reason) VALUES (?, ?, ?, 'pending', ?)`,
		id, author, formatTime(s.now()), reason)
	if err != nil {
		return fmt.Errorf("record proposal %d: %w", id, err)
	}
	return nil
}

// Proposal reads one proposal.
func (s *Store) Proposal(ctx context.Context, id int64) (Proposal, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := scanProposal(s.conn.QueryRowContext(ctx, proposalSelect+` WHERE run_id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("proposal %d: %w", id, ErrNoProposal)
	}
	return p, err
}

// Proposals lists the proposals with one of the statuses (all when none is given),
// newest first.
func (s *Store) Proposals(ctx context.Context, statuses ...ProposalStatus) ([]Proposal, error) {
	q := proposalSelect
	args := make([]any, len(statuses))
	if len(statuses) > 0 {
		q += ` WHERE status IN (?` + strings.Repeat(`, ?`, len(statuses)-1) + `)`
		for i, st := range statuses {
			args[i] = string(st)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rows, err := s.conn.QueryContext(ctx, q+` ORDER BY run_id DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("read proposals: %w", err)
	}
	defer rows.Close()
	var out []Proposal
	for rows.Next() {
		p, err := scanProposal(rows)
		if err != nil {
			return nil, err
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

const proposalSelect = `SELECT run_id, author, created, status, reason, decided_by, decided_at, applied_run FROM proposals`

func scanProposal(row interface{ Scan(...any) error }) (Proposal, error) {
	var p Proposal
	var created, decided sql.NullString
	var status string
	if err := row.Scan(&p.ID, &p.Author, &created, &status, &p.Reason, &p.DecidedBy, &decided, &p.AppliedRun); err != nil {
		return p, err
	}
	p.Status = ProposalStatus(status)
	var err error
	if p.Created, err = parseTime(created); err != nil {
		return p, err
	}
	p.DecidedAt, err = parseTime(decided)
	return p, err
}

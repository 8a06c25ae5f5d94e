package state

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/ycm-onboard/ycm-onboard/reconcile"
)

// Invitation is what is known of one colleague's activation e-mail.
type Invitation struct {
	Email       string // lower case
	ColleagueID int64
	InvitedAt   time.Time // zero when no invitation was recorded
	ExpiresAt   time.Time // InvitedAt + reconcile.InviteValidity
	Reinvites   int       // how many times the link was sent again after expiring
	ActivatedAt time.Time // zero until activation is seen
	LastStatus  string    // as last read from the portal, e.g. "Pending", "Active"
	LastSeen    time.Time
}

// Status says where the invitation stands at now: active, pending or expired.
func (i Invitation) Status(now time.Time) reconcile.Activation {
	switch {
	case !i.ActivatedAt.IsZero():
		return reconcile.ActivationActive
	case i.InvitedAt.IsZero():
		return reconcile.Activation(i.LastStatus)
	case !now.Before(i.ExpiresAt):
		return reconcile.ActivationExpired
	default:
		return reconcile.ActivationPending
	}
}

// HoursLeft is the whole hours before a pending invitation's link expires; 0 when it
// is not pending.
func (i Invitation) HoursLeft(now time.Time) int {
	if i.Status(now) != reconcile.ActivationPending {
		return 0
	}
	return int(i.ExpiresAt.Sub(now) / time.Hour)
}

func normEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

// Invited records that an activation e-mail went to email at the given time, for the
// colleague with that portal id; reinvite says it was sent again after the last one
// expired, which counts once per invitation time. Recording the same invitation twice
// (a resumed run) changes nothing, and an older invitation never replaces a newer one.
func (s *Store) Invited(ctx context.Context, email string, colleagueID int64, at time.Time, reinvite bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return invited(context.WithoutCancel(ctx), s.invite, email, colleagueID, at, reinvite)
}

// inviteSQL records an activation e-mail; the store prepares it once, as s.invite.
const inviteSQL = `
		INSERT INTO invitations (email, colleague_id, invited_at, expires_at, reinvites, last_status, last_seen)
		VALUES (?1, ?2, ?3, ?4, ?5, 'Pending', ?3)
		ON CONFLICT (email) DO UPDATE SET
			reinvites = reinvites + CASE WHEN invited_at IS NULL OR ?3 > invited_at THEN ?5 ELSE 0 END,
			colleague_id = ?2, invited_at = ?3, expires_at = ?4, activated_at = NULL,
			last_status = 'Pending', last_seen = ?3
		WHERE invited_at IS NULL OR ?3 >= invited_at`

// invited runs the prepared inviteSQL st, on the store's connection or in a
// transaction (tx.StmtContext).
func invited(ctx context.Context, st *sql.Stmt, email string, colleagueID int64, at time.Time, reinvite bool) error {
	if at.IsZero() {
		return fmt.Errorf("record invitation of %s: no invitation time", email)
	}
	inc := 0
	if reinvite {
		inc = 1
	}
	ts, exp := formatTime(at), formatTime(at.Add(reconcile.InviteValidity))
	if _, err := st.ExecContext(ctx, normEmail(email), colleagueID, ts, exp, inc); err != nil {
		return fmt.Errorf("record invitation of %s: %w", email, err)
	}
	return nil
}

// Activated records that email's colleague activated their account, seen at the given
// time. The first time seen is kept.
func (s *Store) Activated(ctx context.Context, email string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.conn.ExecContext(context.WithoutCancel(ctx), `
		INSERT INTO invitations (email, activated_at, last_status, last_seen) VALUES (?1, ?2, 'Active', ?2)
		ON CONFLICT (email) DO UPDATE SET
			activated_at = COALESCE(activated_at, ?2), last_status = 'Active', last_seen = ?2`,
		normEmail(email), formatTime(at))
	if err != nil {
		return fmt.Errorf("record activation of %s: %w", email, err)
	}
	return nil
}

// Observed records the activation status the portal showed for a tracked invitation
// (one Invited or Activated recorded); others are ignored. "Active" also records the
// activation.
func (s *Store) Observed(ctx context.Context, email string, status reconcile.Activation, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.conn.ExecContext(context.WithoutCancel(ctx), `
		UPDATE invitations SET last_status = ?2, last_seen = ?3,
			activated_at = CASE WHEN ?2 = 'Active' THEN COALESCE(activated_at, ?3) ELSE activated_at END
		WHERE email = ?1`,
		normEmail(email), string(status), formatTime(at))
	if err != nil {
		return fmt.Errorf("record status of %s: %w", email, err)
	}
	return nil
}

const invitationColumns = `email, colleague_id, invited_at, expires_at, reinvites, activated_at, last_status, last_seen`

// Invitation returns what is known of email's invitation, and whether anything is.
func (s *Store) Invitation(ctx context.Context, email string) (Invitation, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	inv, err := scanInvitation(s.conn.QueryRowContext(ctx,
		`SELECT `+invitationColumns+` FROM invitations WHERE email = ?`, normEmail(email)))
	if err == sql.ErrNoRows {
		return Invitation{}, false, nil
	}
	if err != nil {
		return Invitation{}, false, fmt.Errorf("read invitation of %s: %w", email, err)
	}
	return inv, true, nil
}

// Invitations returns every tracked invitation, by e-mail.
func (s *Store) Invitations(ctx context.Context) ([]Invitation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rows, err := s.conn.QueryContext(ctx, `SELECT `+invitationColumns+` FROM invitations ORDER BY email`)
	if err != nil {
		return nil, fmt.Errorf("read invitations: %w", err)
	}
	defer rows.Close()
	var invs []Invitation
	for rows.Next() {
		inv, err := scanInvitation(rows)
		if err != nil {
			return nil, fmt.Errorf("read invitations: %w", err)
		}
		invs = append(invs, inv)
	}
	return invs, rows.Err()
}

func scanInvitation(row interface{ Scan(...any) error }) (Invitation, error) {
	var (
		inv                               Invitation
		invited, expires, activated, seen sql.NullString
	)
	err := row.Scan(&inv.Email, &inv.ColleagueID, &invited, &expires, &inv.Reinvites, &activated, &inv.LastStatus, &seen)
	if err != nil {
		return inv, err
	}
	for _, f := range []struct {
		dst *time.Time
		src sql.NullString
	}{{&inv.InvitedAt, invited}, {&inv.ExpiresAt, expires}, {&inv.ActivatedAt, activated}, {&inv.LastSeen, seen}} {
		if *f.dst, err = parseTime(f.src); err != nil {
			return inv, err
		}
	}
	return inv, nil
}

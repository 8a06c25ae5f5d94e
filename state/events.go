package state

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Event is something a person did on the web page: signed in, uploaded, applied.
type Event struct {
	At     time.Time
	User   string
	Kind   string // "sign-in", "sign-in refused", "sign-out", "upload", "apply", "re-invite"
	Detail string
}

// RecordEvent adds an event to the history. It is written even when ctx is cancelled.
func (s *Store) RecordEvent(ctx context.Context, e Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.conn.ExecContext(context.WithoutCancel(ctx), `INSERT INTO events (at, user, kind, detail) VALUES (?, ?, ?, ?)`,
		formatTime(e.At), e.User, e.Kind, e.Detail)
	if err != nil {
		return fmt.Errorf("record event: %w", err)
	}
	return nil
}

// Events returns the n most recent events, newest first.
func (s *Store) Events(ctx context.Context, n int) ([]Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rows, err := s.conn.QueryContext(ctx, `SELECT at, user, kind, detail FROM events ORDER BY id DESC LIMIT ?`, n)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var at sql.NullString
		if err := rows.Scan(&at, &e.User, &e.Kind, &e.Detail); err != nil {
			return nil, fmt.Errorf("read events: %w", err)
		}
		if e.At, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

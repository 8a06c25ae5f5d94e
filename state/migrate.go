package state

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations brings the schema from version i to i+1 at index i. PRAGMA user_version
// holds the version. Append new steps; never edit a released one.
var migrations = []string{
	// 1: runs and the actions they recorded.
	`CREATE TABLE runs (
		id          INTEGER PRIMARY KEY,
		started     TEXT NOT NULL,
		finished    TEXT,
		mode        TEXT NOT NULL,
		inputs      TEXT NOT NULL DEFAULT '[]', -- JSON [{"path","sha256"}]
		counts      TEXT,                       -- JSON {"name": n}
		exit_code   INTEGER,
		report_path TEXT
	);
	CREATE TABLE actions (
		id        INTEGER PRIMARY KEY,
		run_id    INTEGER NOT NULL REFERENCES runs(id),
		seq       INTEGER NOT NULL,
		source    TEXT NOT NULL DEFAULT '',
		object    TEXT NOT NULL,
		key       TEXT NOT NULL,
		kind      TEXT NOT NULL,
		portal_id INTEGER NOT NULL DEFAULT 0,
		outcome   TEXT, -- NULL: the intent was recorded and no outcome followed
		class     TEXT NOT NULL DEFAULT '',
		message   TEXT NOT NULL DEFAULT '',
		attempts  INTEGER NOT NULL DEFAULT 0,
		started   TEXT NOT NULL,
		finished  TEXT,
		UNIQUE (run_id, seq)
	);`,
	// 2: activation tracking.
	`CREATE TABLE invitations (
		email        TEXT PRIMARY KEY, -- lower case
		colleague_id INTEGER NOT NULL DEFAULT 0,
		invited_at   TEXT,
		expires_at   TEXT,
		reinvites    INTEGER NOT NULL DEFAULT 0,
		activated_at TEXT,
		last_status  TEXT NOT NULL DEFAULT '',
		last_seen    TEXT
	);`,
	// 3: find unsettled actions without scanning the history.
	`CREATE INDEX actions_unsettled ON actions (id) WHERE outcome IS NULL;`,
	// 4: the local accounts of the web page (ycm-onboard serve).
	`CREATE TABLE users (
		name             TEXT PRIMARY KEY, -- lower case
		role             TEXT NOT NULL CHECK (role IN ('uploader', 'approver', 'admin')),
		password_hash    TEXT NOT NULL,    -- argon2id, PHC string format
		created          TEXT NOT NULL,
		password_changed TEXT NOT NULL
	);`,
	// 5: who started each run: a page user's name, "cli" or "schedule".
	`ALTER TABLE runs ADD COLUMN started_by TEXT NOT NULL DEFAULT '';`,
	// 6: what people did on the web page: sign-ins, uploads, applies, re-invites.
	`CREATE TABLE events (
		id     INTEGER PRIMARY KEY,
		at     TEXT NOT NULL,
		user   TEXT NOT NULL,
		kind   TEXT NOT NULL,
		detail TEXT NOT NULL DEFAULT ''
	);`,
	// 7: four-eyes approval: plans an apply saved for another approver, by run id.
	`CREATE TABLE proposals (
		run_id      INTEGER PRIMARY KEY REFERENCES runs(id),
		author      TEXT NOT NULL,
		created     TEXT NOT NULL,
		status      TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'refused', 'stale', 'applied')),
		reason      TEXT NOT NULL DEFAULT '', -- why it needs approval; a refusal's reason
		decided_by  TEXT NOT NULL DEFAULT '',
		decided_at  TEXT,
		applied_run INTEGER NOT NULL DEFAULT 0 -- the approving run
	);`,
	// 8: what a proposal's plan writes (reconcile.Plan.Digest), so an apply finding the
	// same plan pending saves no other, and its counts line; empty for older proposals.
	`ALTER TABLE proposals ADD COLUMN plan_digest TEXT NOT NULL DEFAULT '';
	ALTER TABLE proposals ADD COLUMN plan_line TEXT NOT NULL DEFAULT '';`,
	// 9: what a proposal was planned from, as Propose compares it: the input files'
	// absolute paths and the options that change a plan; empty for older proposals.
	`ALTER TABLE proposals ADD COLUMN source TEXT NOT NULL DEFAULT '';`,
	// 10: when the receivers were last reminded of a proposal still waiting; NULL:
	// only told when it was saved.
	`ALTER TABLE proposals ADD COLUMN reminded_at TEXT;`,
}

// migrate runs the steps the database lacks, each in its own immediate transaction
// that also bumps user_version, so a crash leaves a whole version behind and two
// processes opening the same directory do not both migrate.
func migrate(ctx context.Context, conn *sql.Conn) error {
	for {
		done, err := migrateOne(ctx, conn)
		if err != nil || done {
			return err
		}
	}
}

func migrateOne(ctx context.Context, conn *sql.Conn) (done bool, err error) {
	tx, err := conn.BeginTx(ctx, nil) // _txlock=immediate: takes the write lock now
	if err != nil {
		return false, fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return false, fmt.Errorf("migrate: read schema version: %w", err)
	}
	switch {
	case v > len(migrations):
		return false, fmt.Errorf("state database has schema version %d but this ycm-onboard knows only up to %d: upgrade ycm-onboard or use another state_dir", v, len(migrations))
	case v == len(migrations):
		return true, nil
	}
	if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
		return false, fmt.Errorf("migrate schema to version %d: %w", v+1, err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
		return false, fmt.Errorf("migrate schema to version %d: %w", v+1, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migrate schema to version %d: %w", v+1, err)
	}
	return false, nil
}

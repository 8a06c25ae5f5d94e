// Package state keeps what one nightly run must know about the last: the history of
// runs and of every action they took, the invitations sent and whether they were
// activated, and a lock so that only one run works on a state directory at a time.
//
// The history is a SQLite database (modernc.org/sqlite, no cgo) in WAL mode. Before a
// change is sent to the portal its intent is written and synced; its outcome follows.
// An intent with no outcome after a crash is found by Unsettled, so the next run can
// read the portal back and settle it.
package state

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// DBName is the database's file name in the state directory.
const DBName = "history.db"

// timeFormat is fixed-width UTC, so that text order is time order.
const timeFormat = "2006-01-02T15:04:05.000000Z"

// Store is the run history in a state directory. Its methods are safe for concurrent
// use; they share one connection, so writes are serialised in the order they arrive.
type Store struct {
	db   *sql.DB
	conn *sql.Conn
	now  func() time.Time

	mu       sync.Mutex // guards conn and the pragma switches around an intent
	closed   bool
	syncMode syncMode
	intent   *sql.Stmt
	outcome  *sql.Stmt
	invite   *sql.Stmt // inviteSQL
}

// Open opens (creating dir with mode 0700 and the database if need be) the run history
// in dir and migrates its schema to the latest version. now stamps the times the
// caller does not give.
func Open(dir string, now func() time.Time) (*Store, error) {
	return open(dir, now, syncIntents)
}

// syncMode says which commits wait for the disk. Only syncIntents is used outside
// benchmarks, which compare the three.
type syncMode int

const (
	syncIntents syncMode = iota // intents FULL, the rest NORMAL
	syncAll                     // every commit FULL
	syncNone                    // every commit NORMAL: an intent may be lost to a power cut
)

func open(dir string, now func() time.Time, mode syncMode) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create state directory: %w", err)
	}
	// synchronous=NORMAL in WAL mode: a commit survives the process dying at once;
	// RecordIntent switches to FULL for its own commit so that an intent (and every
	// outcome written before it) also survives the machine losing power.
	q := url.Values{}
	q.Set("_busy_timeout", "10000")
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "NORMAL")
	q.Set("_foreign_keys", "1")
	q.Set("_txlock", "immediate")
	if mode == syncAll {
		q.Set("_synchronous", "FULL")
	}
	path := filepath.Join(dir, DBName)
	// Only an absent database starts a new history: an empty or damaged one holds (or
	// held) the invitations and re-invite counts, and starting afresh would forget them.
	switch fi, err := os.Stat(path); {
	case err == nil && fi.Size() == 0:
		return nil, damaged(path, "it is empty (0 bytes), cut short by a crash or a full disk")
	case errors.Is(err, fs.ErrNotExist):
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600) // the WAL and its index take its mode
		if err != nil {
			return nil, fmt.Errorf("create run history %s: %w", path, err)
		}
		f.Close()
	case err != nil:
		return nil, fmt.Errorf("open run history %s: %w", path, err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("make the run history private: %w", err)
		}
	}
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open run history %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		if isDamaged(err) {
			return nil, damaged(path, err.Error())
		}
		return nil, fmt.Errorf("open run history %s: %w", path, err)
	}
	s := &Store{db: db, conn: conn, now: now, syncMode: mode}
	if err := s.init(ctx); err != nil {
		s.Close()
		if isDamaged(err) {
			return nil, damaged(path, err.Error())
		}
		return nil, fmt.Errorf("open run history %s: %w", path, err)
	}
	return s, nil
}

// ErrDamaged is a run history that cannot be read: it is never replaced silently.
var ErrDamaged = errors.New("the run history is damaged")

func damaged(path, why string) error {
	return fmt.Errorf("%w: %s: %s. Restore it from a backup; or, to start a new history (the record of invitations "+
		"and re-invites starts again), move it aside: mv %s %s.damaged", ErrDamaged, path, why, path, path)
}

// CannotWrite reports whether err is this machine's disk refusing a write: full, over
// a size limit, read-only, or not permitted.
func CannotWrite(err error) bool {
	for _, e := range []error{syscall.ENOSPC, syscall.EFBIG, syscall.EROFS, syscall.EACCES, syscall.EPERM, syscall.EDQUOT} {
		if errors.Is(err, e) {
			return true
		}
	}
	msg := err.Error()
	for _, w := range []string{"database or disk is full", "disk I/O error", "readonly database", "SQLITE_FULL", "SQLITE_IOERR", "SQLITE_READONLY"} {
		if strings.Contains(msg, w) {
			return true
		}
	}
	return false
}

// isDamaged reports SQLite's words for a file that is not a whole database.
func isDamaged(err error) bool {
	msg := err.Error()
	for _, w := range []string{"file is not a database", "database disk image is malformed", "SQLITE_NOTADB", "SQLITE_CORRUPT", "integrity check"} {
		if strings.Contains(msg, w) {
			return true
		}
	}
	return false
}

func (s *Store) init(ctx context.Context) error {
	var mode string
	if err := s.conn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if mode != "wal" {
		return fmt.Errorf("journal mode is %q, not WAL (is the state directory on a network file system?)", mode)
	}
	var check string
	if err := s.conn.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&check); err != nil {
		return err
	}
	if check != "ok" {
		return fmt.Errorf("integrity check: %s", check)
	}
	if err := migrate(ctx, s.conn); err != nil {
		return err
	}
	var err error
	if s.intent, err = s.conn.PrepareContext(ctx, `INSERT INTO actions
		(run_id, seq, source, object, key, kind, portal_id, started)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`); err != nil {
		return err
	}
	if s.outcome, err = s.conn.PrepareContext(ctx, `UPDATE actions
		SET outcome = ?, class = ?, message = ?, attempts = ?, finished = ?
		WHERE id = ?`); err != nil {
		return err
	}
	if s.invite, err = s.conn.PrepareContext(ctx, inviteSQL); err != nil {
		return err
	}
	return nil
}

// Close closes the database; closing twice is harmless. It does not end a run: call
// FinishRun first.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	for _, st := range []*sql.Stmt{s.intent, s.outcome, s.invite} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	errs = append(errs, s.conn.Close(), s.db.Close())
	return errors.Join(errs...)
}

func formatTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(timeFormat)
}

func parseTime(ns sql.NullString) (time.Time, error) {
	if !ns.Valid || ns.String == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(timeFormat, ns.String)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad time %q in run history: %w", ns.String, err)
	}
	return t, nil
}

func toJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

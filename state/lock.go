package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"
)

// LockName is the lock file's name in the state directory.
const LockName = "run.lock"

// lockPoll is how often a waiting AcquireLock tries again.
const lockPoll = 100 * time.Millisecond

// testHookWaiting, when set, runs once when AcquireLock starts waiting.
var testHookWaiting func()

// ErrLocked is matched (errors.Is) by the error AcquireLock returns when another run
// holds the lock; errors.As gives a *LockedError saying which.
var ErrLocked = errors.New("another run holds the lock")

// Holder is what a lock holder writes into the lock file.
type Holder struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Started time.Time `json:"started"`
}

// LockedError says the state directory is locked by another run.
type LockedError struct {
	Path   string
	Waited time.Duration
	Holder *Holder // nil when the lock file could not be read
}

func (e *LockedError) Error() string {
	who := "another ycm-onboard run"
	if h := e.Holder; h != nil {
		who = fmt.Sprintf("another ycm-onboard run (pid %d on %s, started %s)", h.PID, h.Host, h.Started.UTC().Format(time.RFC3339))
	}
	waited := ""
	if e.Waited > 0 {
		waited = fmt.Sprintf(" after waiting %s", e.Waited)
	}
	return fmt.Sprintf("%s holds %s%s: let it finish, or raise lock_timeout", who, e.Path, waited)
}

func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// Lock is held by the one run working on a state directory. The operating system
// releases it when the process dies, so a crashed run never leaves it stuck.
type Lock struct {
	f *flock.Flock
}

// AcquireLock takes dir's run lock (creating dir with mode 0700). When another run
// holds it, AcquireLock retries until wait has passed and then returns a
// *LockedError; wait 0 fails at once. Cancelling ctx stops the wait with ctx's error.
func AcquireLock(ctx context.Context, dir string, wait time.Duration) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create state directory: %w", err)
	}
	path := filepath.Join(dir, LockName)
	f := flock.New(path, flock.SetFlag(os.O_CREATE|os.O_RDWR))
	ok, err := f.TryLock()
	if err == nil && !ok && wait > 0 {
		if testHookWaiting != nil {
			testHookWaiting()
		}
		wctx, cancel := context.WithTimeout(ctx, wait)
		ok, err = f.TryLockContext(wctx, lockPoll)
		cancel()
		if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			err = nil // waited the whole time: locked
		}
	}
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if !ok {
		return nil, &LockedError{Path: path, Waited: wait, Holder: readHolder(path)}
	}
	host, _ := os.Hostname()
	b, _ := json.Marshal(Holder{PID: os.Getpid(), Host: host, Started: time.Now().UTC()})
	// Only for the message of whoever waits: the lock is the flock, not the content,
	// so a failed write (Windows refuses writes to a locked range) is ignored.
	_ = os.WriteFile(path, append(b, '\n'), 0o600)
	return &Lock{f: f}, nil
}

func readHolder(path string) *Holder {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var h Holder
	if json.Unmarshal(b, &h) != nil || h.PID == 0 {
		return nil
	}
	return &h
}

// Release empties the lock file and releases the lock. Releasing twice is harmless.
func (l *Lock) Release() error {
	if !l.f.Locked() {
		return nil
	}
	_ = os.Truncate(l.f.Path(), 0) // best effort, as the write was
	return l.f.Close()
}

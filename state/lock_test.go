package state

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestLockInProcess(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new")
	ctx := t.Context()
	l, err := AcquireLock(ctx, dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	// flock locks belong to the open file, so a second open in the same process
	// conflicts too.
	_, err = AcquireLock(ctx, dir, 0)
	var le *LockedError
	if !errors.Is(err, ErrLocked) || !errors.As(err, &le) {
		t.Fatalf("second AcquireLock: %v, want ErrLocked", err)
	}
	if le.Holder == nil || le.Holder.PID != os.Getpid() {
		t.Errorf("holder %+v, want this process (pid %d)", le.Holder, os.Getpid())
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(); err != nil {
		t.Errorf("second Release: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, LockName)); len(b) != 0 {
		t.Errorf("lock file after Release holds %q, want it empty", b)
	}
	l2, err := AcquireLock(ctx, dir, 0)
	if err != nil {
		t.Fatalf("AcquireLock after Release: %v", err)
	}
	l2.Release()
}

func TestLockAcrossProcesses(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()
	holder, pid := holdLock(t, dir)

	// wait 0: fails at once, naming the holder.
	_, err := AcquireLock(ctx, dir, 0)
	var le *LockedError
	if !errors.As(err, &le) || !errors.Is(err, ErrLocked) {
		t.Fatalf("AcquireLock while another process holds it: %v, want ErrLocked", err)
	}
	if le.Holder == nil || le.Holder.PID != pid || le.Holder.Started.IsZero() {
		t.Errorf("holder %+v, want pid %d with a start time", le.Holder, pid)
	}
	t.Logf("message: %v", err)

	// A short wait elapses: still locked.
	_, err = AcquireLock(ctx, dir, 3*lockPoll/2)
	if !errors.As(err, &le) || le.Waited == 0 {
		t.Fatalf("AcquireLock with a wait that elapses: %v, want ErrLocked after waiting", err)
	}

	// Waiting, then the holder lets go: acquired.
	waited := false
	testHookWaiting = func() { waited = true; holder.stop() }
	t.Cleanup(func() { testHookWaiting = nil })
	l, err := AcquireLock(ctx, dir, time.Minute)
	if err != nil {
		t.Fatalf("AcquireLock waiting for the holder to finish: %v", err)
	}
	defer l.Release()
	if !waited {
		t.Error("AcquireLock got the lock without waiting; the test proves nothing")
	}
	if err := holder.cmd.Wait(); err != nil {
		t.Errorf("holder: %v", err)
	}
}

func TestLockWaitCancelled(t *testing.T) {
	dir := t.TempDir()
	holdLock(t, dir)
	ctx, cancel := context.WithCancel(t.Context())
	testHookWaiting = cancel
	t.Cleanup(func() { testHookWaiting = nil })
	_, err := AcquireLock(ctx, dir, time.Hour)
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrLocked) {
		t.Fatalf("AcquireLock with its context cancelled while waiting: %v, want context.Canceled", err)
	}
}

// TestLockFreedWhenHolderDies: the operating system drops a dead process's lock.
func TestLockFreedWhenHolderDies(t *testing.T) {
	dir := t.TempDir()
	holder, _ := holdLock(t, dir)
	if err := holder.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	holder.cmd.Wait()
	l, err := AcquireLock(t.Context(), dir, 0)
	if err != nil {
		t.Fatalf("AcquireLock after the holder was killed: %v", err)
	}
	l.Release()
}

package state

import (
	"path/filepath"
	"testing"
)

// winLike is a directory laid out as on a Windows account manager's laptop: a drive
// letter, a user name with a space and an accent, backslashes and parentheses in
// names. Linux takes every one of those characters in a name, so the lock and the
// history run here under the names Windows gives them.
func winLike(t *testing.T) string {
	return filepath.Join(t.TempDir(), `C:\Users\Zoë Müller (Acme)`, `AppData\Local`, "ycm-onboard")
}

// TestLockAndHistoryUnderAWindowsLayout: the lock is taken, refused to a second
// taker and freed, and the history opens, records and reopens, under winLike.
func TestLockAndHistoryUnderAWindowsLayout(t *testing.T) {
	dir := winLike(t)
	ctx := t.Context()
	l, err := AcquireLock(ctx, dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := AcquireLock(ctx, dir, 0); err == nil {
		t.Fatal("a second lock was granted")
	}
	s := openStore(t, dir, newClock(t0))
	run, err := s.BeginRun(ctx, RunInfo{Mode: "apply", Started: t0, Inputs: []Input{{Path: `C:\Users\Zoë Müller (Acme)\Desktop\wave 1.xlsx`}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordIntents(ctx, run, []int{0}, []Intent{{Object: "colleague", Key: "zoe@example.com", Kind: "create"}}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	runs, err := openStore(t, dir, newClock(t0)).LastRuns(ctx, 1)
	if err != nil || len(runs) != 1 || runs[0].Inputs[0].Path != `C:\Users\Zoë Müller (Acme)\Desktop\wave 1.xlsx` {
		t.Fatalf("LastRuns after reopening: %+v, %v", runs, err)
	}
	l2, err := AcquireLock(ctx, dir, 0)
	if err != nil {
		t.Fatalf("the lock after release: %v", err)
	}
	l2.Release()
}

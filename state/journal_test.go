package state

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestRecordIntentsIsOneTransaction(t *testing.T) {
	s := openStore(t, t.TempDir(), newClock(t0))
	ctx := t.Context()
	run, err := s.BeginRun(ctx, RunInfo{Mode: "apply", Started: t0})
	if err != nil {
		t.Fatal(err)
	}
	ins := []Intent{
		{Object: "colleague", Key: "a@example.com", Kind: "create"},
		{Object: "colleague", Key: "b@example.com", Kind: "delete", PortalID: 7},
		{Object: "PBX", Key: "SN1", Kind: "resize", PortalID: 9},
	}
	ids, err := s.RecordIntents(ctx, run, []int{0, 1, 2}, ins)
	if err != nil || len(ids) != 3 || ids[0] >= ids[1] || ids[1] >= ids[2] {
		t.Fatalf("RecordIntents = %v, %v; want three ids in order", ids, err)
	}
	// seq 2 is taken: the batch fails whole, and its first intent is not kept.
	if _, err := s.RecordIntents(ctx, run, []int{3, 2}, ins[:2]); err == nil {
		t.Fatal("a batch reusing a plan index was recorded")
	}
	if _, err := s.RecordIntents(ctx, run, []int{4}, ins); err == nil {
		t.Fatal("one index for three intents was accepted")
	}
	p, err := s.Unsettled(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, x := range p {
		keys = append(keys, fmt.Sprintf("%d %s %s", x.Seq, x.Intent.Kind, x.Intent.Key))
	}
	if got, want := strings.Join(keys, ", "), "0 create a@example.com, 1 delete b@example.com, 2 resize SN1"; got != want {
		t.Errorf("unsettled: %s\nwant %s", got, want)
	}
}

// TestOutcomesWritesEveryOutcome: outcomes added from many workers are all written by
// Close, with the invitations they sent.
func TestOutcomesWritesEveryOutcome(t *testing.T) {
	s := openStore(t, t.TempDir(), newClock(t0))
	ctx := t.Context()
	run, _ := s.BeginRun(ctx, RunInfo{Mode: "apply", Started: t0})
	const n = 400
	seqs, ins := make([]int, n), make([]Intent, n)
	for i := range n {
		seqs[i], ins[i] = i, Intent{Object: "colleague", Key: fmt.Sprintf("p%d@example.com", i), Kind: "create"}
	}
	ids, err := s.RecordIntents(ctx, run, seqs, ins)
	if err != nil {
		t.Fatal(err)
	}
	out := s.Outcomes()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				var inv *Invite
				if i%2 == 0 {
					inv = &Invite{Email: fmt.Sprintf("P%d@example.com", i), ColleagueID: int64(1000 + i), At: t0}
				}
				out.Add(ids[i], Outcome{Outcome: "applied", Attempts: 1}, inv)
			}
		})
	}
	wg.Wait()
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.Unsettled(ctx); len(p) != 0 {
		t.Errorf("%d outcomes not written", len(p))
	}
	invs, err := s.Invitations(ctx)
	if err != nil || len(invs) != n/2 {
		t.Fatalf("%d invitations (%v), want %d", len(invs), err, n/2)
	}
	if inv, _, _ := s.Invitation(ctx, "p2@example.com"); inv.ColleagueID != 1002 {
		t.Errorf("p2's invitation: %+v", inv)
	}
}

// TestOutcomesReportsAFailedGroup: a group that cannot be written is reported by
// Close, and its actions stay unsettled for the next run to settle.
func TestOutcomesReportsAFailedGroup(t *testing.T) {
	s := openStore(t, t.TempDir(), newClock(t0))
	ctx := t.Context()
	run, _ := s.BeginRun(ctx, RunInfo{Mode: "apply", Started: t0})
	ids, _ := s.RecordIntents(ctx, run, []int{0}, []Intent{{Object: "colleague", Key: "a@example.com", Kind: "create"}})
	out := s.Outcomes()
	out.Add(ids[0], Outcome{Outcome: "applied"}, nil)
	out.Add(999, Outcome{Outcome: "applied"}, nil)
	err := out.Close()
	if err == nil || !strings.Contains(err.Error(), "999") {
		t.Fatalf("Close = %v, want the unknown action named", err)
	}
	if p, _ := s.Unsettled(ctx); len(p) != 1 {
		t.Errorf("%d unsettled, want the one whose group failed", len(p))
	}
}

func TestSettleAll(t *testing.T) {
	s := openStore(t, t.TempDir(), newClock(t0))
	ctx := t.Context()
	run, _ := s.BeginRun(ctx, RunInfo{Mode: "apply", Started: t0})
	ids, _ := s.RecordIntents(ctx, run, []int{0, 1}, []Intent{
		{Object: "colleague", Key: "a@example.com", Kind: "create"},
		{Object: "colleague", Key: "b@example.com", Kind: "create"}})
	if err := s.RecordOutcome(ctx, ids[1], Outcome{Outcome: "failed", Message: "refused"}); err != nil {
		t.Fatal(err)
	}
	err := s.SettleAll(ctx, []Settled{
		{ActionID: ids[0], Outcome: "applied", Message: "found", Invited: &Invite{Email: "a@example.com", ColleagueID: 5, At: t0}},
		{ActionID: ids[1], Outcome: "applied", Message: "an outcome already recorded is kept"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := s.Unsettled(ctx); len(p) != 0 {
		t.Errorf("%d unsettled after SettleAll", len(p))
	}
	for i, want := range []string{"applied", "failed"} {
		var got string
		if err := s.conn.QueryRowContext(ctx, `SELECT outcome FROM actions WHERE id = ?`, ids[i]).Scan(&got); err != nil || got != want {
			t.Errorf("action %d: outcome %q (%v), want %q", i, got, err, want)
		}
	}
	if inv, _, _ := s.Invitation(ctx, "a@example.com"); inv.ColleagueID != 5 {
		t.Errorf("the settled create's invitation was not recorded: %+v", inv)
	}
}

// TestKilledAtJournalPoints kills a process recording a batch as an apply does, right
// after the intents are on disk and halfway through writing a group of outcomes: the
// history opens, and every intent is there without an outcome, for the next run to
// settle.
func TestKilledAtJournalPoints(t *testing.T) {
	for _, point := range []string{"after-intents", "mid-outcomes"} {
		t.Run(point, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "state")
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), childEnv+"=batch "+dir, crashEnv+"="+point,
				"GORACE="+os.Getenv("GORACE")+" atexit_sleep_ms=0")
			out, err := cmd.Output()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != -1 {
				t.Fatalf("the child was not killed: %v\n%s", err, out)
			}
			s := openStore(t, dir, newClock(t0))
			p, err := s.Unsettled(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if len(p) != 10 {
				t.Errorf("%d unsettled intents, want all 10", len(p))
			}
			if invs, _ := s.Invitations(t.Context()); len(invs) != 0 {
				t.Errorf("%d invitations recorded by a group that was never committed", len(invs))
			}
		})
	}
	t.Run("not killed", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "state")
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"=batch "+dir, "GORACE="+os.Getenv("GORACE")+" atexit_sleep_ms=0")
		if out, err := cmd.Output(); err != nil || !strings.Contains(string(out), "recorded") {
			t.Fatalf("%v\n%s", err, out)
		}
		s := openStore(t, dir, newClock(t0))
		if p, _ := s.Unsettled(t.Context()); len(p) != 0 {
			t.Errorf("%d unsettled after a whole run", len(p))
		}
	})
}

// TestAddNowIsWrittenAtOnce: an outcome added with AddNow, with its invitation, is in
// the history when AddNow returns, before any group is written or the writer closed.
func TestAddNowIsWrittenAtOnce(t *testing.T) {
	s := openStore(t, t.TempDir(), newClock(t0))
	ctx := t.Context()
	run, _ := s.BeginRun(ctx, RunInfo{Mode: "apply", Started: t0})
	ids, _ := s.RecordIntents(ctx, run, []int{0}, []Intent{{Object: "colleague", Key: "ann@example.com", Kind: "re-invite by YCM e-mail", PortalID: 7}})
	out := s.Outcomes()
	defer out.Close()
	if err := out.AddNow(ids[0], Outcome{Outcome: "applied", Attempts: 1}, &Invite{Email: "ann@example.com", ColleagueID: 7, At: t0, Reinvite: true}); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.Unsettled(ctx); len(p) != 0 {
		t.Errorf("%d unsettled right after AddNow, want none", len(p))
	}
	if inv, ok, _ := s.Invitation(ctx, "ann@example.com"); !ok || inv.Reinvites != 1 {
		t.Errorf("invitation %+v (found %v), want one re-invite recorded", inv, ok)
	}
	if err := out.AddNow(999, Outcome{Outcome: "applied"}, nil); err == nil {
		t.Error("AddNow of an unknown action succeeded")
	}
	if err := out.Close(); err == nil {
		t.Error("Close does not report the failed AddNow")
	}
}

// TestAddAfterCloseIsWritten: an outcome added once the writer is closed is written
// at once, not dropped.
func TestAddAfterCloseIsWritten(t *testing.T) {
	s := openStore(t, t.TempDir(), newClock(t0))
	ctx := t.Context()
	run, _ := s.BeginRun(ctx, RunInfo{Mode: "apply", Started: t0})
	ids, _ := s.RecordIntents(ctx, run, []int{0}, []Intent{{Object: "colleague", Key: "late@example.com", Kind: "create"}})
	out := s.Outcomes()
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	out.Add(ids[0], Outcome{Outcome: "applied"}, nil)
	if p, _ := s.Unsettled(ctx); len(p) != 0 {
		t.Errorf("the outcome added after Close was dropped")
	}
}

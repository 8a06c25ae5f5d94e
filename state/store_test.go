package state

import (
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDefaultDir(t *testing.T) {
	// Windows paths are joined with this system's separator: the choice of variable is
	// what is checked here; make cross vets the Windows build.
	win := `C:\Users\ann\AppData\Local`
	for _, tc := range []struct {
		goos    string
		env     map[string]string
		want    string
		wantErr bool
	}{
		{goos: "linux", env: map[string]string{"XDG_STATE_HOME": "/var/lib/x", "HOME": "/home/a"}, want: "/var/lib/x/ycm-onboard"},
		{goos: "linux", env: map[string]string{"HOME": "/home/a"}, want: "/home/a/.local/state/ycm-onboard"},
		{goos: "darwin", env: map[string]string{"XDG_STATE_HOME": "relative", "HOME": "/home/a"}, want: "/home/a/.local/state/ycm-onboard"},
		{goos: "linux", env: map[string]string{"LOCALAPPDATA": win}, wantErr: true},
		{goos: "windows", env: map[string]string{"LOCALAPPDATA": win, "HOME": "/home/a"}, want: filepath.Join(win, "ycm-onboard")},
		{goos: "windows", env: map[string]string{"USERPROFILE": `C:\Users\ann`}, want: filepath.Join(`C:\Users\ann`, "AppData", "Local", "ycm-onboard")},
		{goos: "windows", env: map[string]string{}, wantErr: true},
	} {
		got, err := defaultDir(tc.goos, func(k string) string { return tc.env[k] })
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("%s: defaultDir(%v) = %q, %v; want %q, error %v", tc.goos, tc.env, got, err, tc.want, tc.wantErr)
		}
	}
}

// pragma reads one PRAGMA straight from the database file.
func pragma(t *testing.T, dir, name string) string {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dir, DBName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v string
	if err := db.QueryRow("PRAGMA " + name).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestOpenEmptyDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "ycm-onboard")
	s := openStore(t, dir, newClock(t0))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("state directory mode %v, want 0700", fi.Mode().Perm())
	}
	if got, want := pragma(t, dir, "user_version"), itoa(len(migrations)); got != want {
		t.Errorf("user_version %s, want %s", got, want)
	}
	if got := pragma(t, dir, "journal_mode"); got != "wal" {
		t.Errorf("journal_mode %s, want wal", got)
	}
	// Opening again migrates nothing and keeps the version.
	openStore(t, dir, newClock(t0)).Close()
	if got, want := pragma(t, dir, "user_version"), itoa(len(migrations)); got != want {
		t.Errorf("after reopening: user_version %s, want %s", got, want)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestMigrateFromVersion1(t *testing.T) {
	dir := t.TempDir()
	db, err := sql.Open("sqlite", filepath.Join(dir, DBName))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		migrations[0],
		`PRAGMA user_version = 1`,
		`INSERT INTO runs (started, mode, inputs, finished, counts, exit_code, report_path)
		 VALUES ('2026-03-01T02:00:00.000000Z', 'apply', '[{"path":"wave1.xlsx","sha256":"ab"}]',
		         '2026-03-01T02:05:00.000000Z', '{"create":2}', 0, 'r.xlsx')`,
		`INSERT INTO actions (run_id, seq, object, key, kind, started)
		 VALUES (1, 0, 'colleague', 'old@example.com', 'create', '2026-03-01T02:01:00.000000Z')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	s := openStore(t, dir, newClock(t0))
	ctx := t.Context()
	runs, err := s.LastRuns(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	want := []Run{{ID: 1, Mode: "apply", Inputs: []Input{{"wave1.xlsx", "ab"}},
		Started: time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC), Finished: time.Date(2026, 3, 1, 2, 5, 0, 0, time.UTC),
		Counts: map[string]int{"create": 2}, ReportPath: "r.xlsx"}}
	if d := cmp.Diff(want, runs); d != "" {
		t.Errorf("runs kept through the migration (-want +got):\n%s", d)
	}
	pend, err := s.Unsettled(ctx)
	if err != nil || len(pend) != 1 || pend[0].Intent.Key != "old@example.com" {
		t.Errorf("Unsettled after migration = %+v, %v; want old@example.com's intent", pend, err)
	}
	// The tables version 1 lacked work.
	if err := s.Invited(ctx, "a@example.com", 1, t0, false); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if got, want := pragma(t, dir, "user_version"), itoa(len(migrations)); got != want {
		t.Errorf("user_version %s, want %s", got, want)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	dir := t.TempDir()
	openStore(t, dir, newClock(t0)).Close()
	db, err := sql.Open("sqlite", filepath.Join(dir, DBName))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`PRAGMA user_version = 99`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = Open(dir, newClock(t0).Now)
	if err == nil || !strings.Contains(err.Error(), "upgrade ycm-onboard") {
		t.Fatalf("Open of a newer schema: %v; want a refusal saying to upgrade", err)
	}
}

func TestRunHistory(t *testing.T) {
	c := newClock(t0)
	s := openStore(t, t.TempDir(), c)
	ctx := t.Context()
	in := []Input{{Path: "wave1.xlsx", SHA256: "e3b0"}}
	id, err := s.BeginRun(ctx, RunInfo{Mode: "apply", Inputs: in, Started: t0})
	if err != nil {
		t.Fatal(err)
	}
	a1, err := s.RecordIntent(ctx, id, 0, Intent{Source: "wave1.xlsx sheet Colleagues row 2", Object: "colleague", Key: "a@example.com", Kind: "create"})
	if err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Second)
	if err := s.RecordOutcome(ctx, a1, Outcome{Outcome: "applied", Attempts: 1}); err != nil {
		t.Fatal(err)
	}
	a2, err := s.RecordIntent(ctx, id, 1, Intent{Object: "colleague", Key: "b@example.com", Kind: "delete", PortalID: 42})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RecordOutcome(ctx, a2, Outcome{Outcome: "failed", Class: "row", Message: "refused", Attempts: 3, Finished: t0.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordIntent(ctx, id, 1, Intent{Object: "colleague", Key: "c@example.com", Kind: "create"}); err == nil {
		t.Error("a second intent at the same seq was accepted")
	}
	if err := s.RecordOutcome(ctx, 999, Outcome{Outcome: "applied"}); err == nil {
		t.Error("an outcome for an unknown action was accepted")
	}
	if err := s.FinishRun(ctx, id, t0.Add(2*time.Minute), map[string]int{"applied": 1, "failed": 1}, 1, "/r/x.xlsx"); err != nil {
		t.Fatal(err)
	}
	id2, err := s.BeginRun(ctx, RunInfo{Mode: "plan", Started: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	runs, err := s.LastRuns(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []Run{
		{ID: id2, Mode: "plan", Inputs: []Input{}, Started: t0.Add(time.Hour)},
		{ID: id, Mode: "apply", Inputs: in, Started: t0, Finished: t0.Add(2 * time.Minute),
			Counts: map[string]int{"applied": 1, "failed": 1}, ExitCode: 1, ReportPath: "/r/x.xlsx"},
	}
	if d := cmp.Diff(want, runs); d != "" {
		t.Errorf("LastRuns (-want +got):\n%s", d)
	}
	if runs, _ := s.LastRuns(ctx, 1); len(runs) != 1 || runs[0].ID != id2 {
		t.Errorf("LastRuns(1) = %+v, want the newest run only", runs)
	}
	if p, err := s.Unsettled(ctx); err != nil || len(p) != 0 {
		t.Errorf("Unsettled = %+v, %v; want none", p, err)
	}
}

// TestUnsettledAfterCrash: a process records an intent and dies before the outcome;
// the next run finds the intent and settles it.
func TestUnsettledAfterCrash(t *testing.T) {
	dir := t.TempDir()
	c := startChild(t, "crash "+dir)
	if l := c.line(t); l != "recorded" {
		t.Fatalf("child: %s", l)
	}
	err := c.cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 7 {
		t.Fatalf("child ended with %v, want exit code 7", err)
	}

	clk := newClock(t0)
	s := openStore(t, dir, clk)
	ctx := t.Context()
	pend, err := s.Unsettled(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(pend) != 1 {
		t.Fatalf("Unsettled = %+v, want the crashed run's intent", pend)
	}
	p := pend[0]
	if d := cmp.Diff(Intent{Object: "colleague", Key: "crash@example.com", Kind: "create"}, p.Intent); d != "" {
		t.Errorf("unsettled intent (-want +got):\n%s", d)
	}
	if p.RunID != 1 || p.Seq != 0 || p.Started.IsZero() {
		t.Errorf("unsettled = %+v, want run 1 seq 0 with a start time", p)
	}
	if err := s.SettleAll(ctx, []Settled{{ActionID: p.ActionID, Outcome: "applied", Message: "found in the portal after a crash"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.SettleAll(ctx, []Settled{{ActionID: p.ActionID, Outcome: "not run", Message: "again"}}); err != nil {
		t.Errorf("settling twice: %v", err)
	}
	if err := s.SettleAll(ctx, []Settled{{ActionID: 999, Outcome: "not run"}}); err == nil {
		t.Error("settling an unknown action succeeded")
	}
	if pend, _ := s.Unsettled(ctx); len(pend) != 0 {
		t.Errorf("Unsettled after Settle = %+v, want none", pend)
	}
	var outcome, msg string
	if err := s.conn.QueryRowContext(ctx, `SELECT outcome, message FROM actions WHERE id = ?`, p.ActionID).Scan(&outcome, &msg); err != nil {
		t.Fatal(err)
	}
	if outcome != "applied" || msg != "found in the portal after a crash" {
		t.Errorf("settled action: %q %q; the first settlement should stay", outcome, msg)
	}
}

// TestUnsettledAfterClose: the same with the store closed in between.
func TestUnsettledAfterClose(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()
	s := openStore(t, dir, newClock(t0))
	run, err := s.BeginRun(ctx, RunInfo{Mode: "apply", Started: t0})
	if err != nil {
		t.Fatal(err)
	}
	done, _ := s.RecordIntent(ctx, run, 0, Intent{Object: "PBX", Key: "SN1", Kind: "resize", PortalID: 7})
	s.RecordOutcome(ctx, done, Outcome{Outcome: "applied"})
	pending, _ := s.RecordIntent(ctx, run, 1, Intent{Object: "PBX", Key: "SN2", Kind: "resize", PortalID: 8})
	s.Close()

	pend, err := openStore(t, dir, newClock(t0)).Unsettled(ctx)
	if err != nil || len(pend) != 1 || pend[0].ActionID != pending || pend[0].Intent.PortalID != 8 {
		t.Fatalf("Unsettled = %+v, %v; want action %d only", pend, err, pending)
	}
}

func TestRecordConcurrently(t *testing.T) {
	s := openStore(t, t.TempDir(), newClock(t0))
	ctx := t.Context()
	run, err := s.BeginRun(ctx, RunInfo{Mode: "apply", Started: t0})
	if err != nil {
		t.Fatal(err)
	}
	const workers, each = 8, 50
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				id, err := s.RecordIntent(ctx, run, w*each+i, Intent{Object: "colleague", Key: "k", Kind: "update"})
				if err == nil {
					err = s.RecordOutcome(ctx, id, Outcome{Outcome: "applied", Attempts: 1})
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	var n int
	if err := s.conn.QueryRowContext(ctx, `SELECT count(*) FROM actions WHERE outcome = 'applied'`).Scan(&n); err != nil || n != workers*each {
		t.Errorf("%d applied actions recorded (%v), want %d", n, err, workers*each)
	}
}

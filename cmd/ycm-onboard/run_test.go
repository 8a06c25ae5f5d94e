package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"

	"github.com/ycm-onboard/ycm-onboard/portal/sim"
	"github.com/ycm-onboard/ycm-onboard/reconcile"
	"github.com/ycm-onboard/ycm-onboard/state"
)

// testApp is an app with captured streams and the demo credentials.
// lockedBuffer is a bytes.Buffer that the job's goroutines may write at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }
func (l *lockedBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.b.Bytes())
}
func (l *lockedBuffer) Len() int { l.mu.Lock(); defer l.mu.Unlock(); return l.b.Len() }

func testApp(t *testing.T, env map[string]string) (*app, *lockedBuffer, *lockedBuffer) {
	t.Helper()
	var out, errb lockedBuffer
	base := map[string]string{
		envPartnerID: sim.DemoPartnerID, envPartnerSecret: sim.DemoPartnerSecret,
		envYCMID: sim.DemoYCMID, envYCMSecret: sim.DemoYCMSecret,
		"XDG_STATE_HOME": filepath.Join(t.TempDir(), "state"),
	}
	for k, v := range env {
		base[k] = v
	}
	a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, now: time.Now,
		getenv: func(k string) string { return base[k] }}
	return a, &out, &errb
}

func runApp(ctx context.Context, a *app, args ...string) int { return a.main(ctx, args) }

// waveCSV writes n new colleagues.
func waveCSV(t *testing.T, n int) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "wave.csv")
	writeWave(t, p, n)
	return p
}

// writeWave writes n new colleagues to path, as a sheet edited between runs.
func writeWave(t *testing.T, path string, n int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("Email,First Name,Last Name,Permissions\n")
	for i := range n {
		fmt.Fprintf(&b, "wave%04d@demo.example,Wave,%d,Dashboard;Customers\n", i, i)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// onCreates serves the simulator and closes reached once n creates have been answered.
func onCreates(s http.Handler, n int64, reached chan<- struct{}) http.Handler {
	var count atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.ServeHTTP(w, r)
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/colleagues") && count.Add(1) == n {
			close(reached)
		}
	})
}

func TestSecondApplyWaitsForTheLock(t *testing.T) {
	s, _ := sim.New(sim.Options{})
	ts := httptest.NewServer(s)
	defer ts.Close()
	a, _, errb := testApp(t, nil)
	dir, _ := a.stateDir(historyFlags{})
	lock, err := state.AcquireLock(t.Context(), dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	code := runApp(t.Context(), a, "apply", waveCSV(t, 3), "--portal", ts.URL, "--report", filepath.Join(t.TempDir(), "r.xlsx"))
	if code != exitLocked || !strings.Contains(errb.String(), "another ycm-onboard run (pid") {
		t.Fatalf("exit %d, stderr %q; want exit %d and a clear message", code, errb.String(), exitLocked)
	}
	if n := len(s.Outbox()); n != 0 {
		t.Errorf("%d e-mails sent while locked", n)
	}
	// Released while the second run waits: it goes ahead.
	a2, _, errb2 := testApp(t, map[string]string{"XDG_STATE_HOME": a.getenv("XDG_STATE_HOME")})
	done := make(chan int)
	go func() {
		done <- runApp(t.Context(), a2, "apply", waveCSV(t, 3), "--portal", ts.URL, "--lock-timeout", "1m",
			"--report", filepath.Join(t.TempDir(), "r.xlsx"))
	}()
	if err := lock.Release(); err != nil {
		t.Fatal(err)
	}
	if code := <-done; code != exitOK {
		t.Fatalf("after release: exit %d: %s", code, errb2.String())
	}
}

func TestInterruptedApplyWritesAWholeReport(t *testing.T) {
	s, _ := sim.New(sim.Options{Faults: sim.Faults{Latency: 5 * time.Millisecond}})
	reached := make(chan struct{})
	ts := httptest.NewServer(onCreates(s, 20, reached))
	defer ts.Close()
	a, out, errb := testApp(t, nil)
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-reached
		cancel() // as SIGINT does
	}()
	report := filepath.Join(t.TempDir(), "interrupted.xlsx")
	code := runApp(ctx, a, "apply", waveCSV(t, 200), "--portal", ts.URL, "--concurrency", "2", "--report", report)
	if code != exitInterrupted {
		t.Fatalf("exit %d, want %d\n%s", code, exitInterrupted, errb.String())
	}
	if !strings.Contains(out.String(), "not run.") {
		t.Errorf("no apply line: %s", out.String())
	}
	f, err := excelize.OpenFile(report)
	if err != nil {
		t.Fatalf("the report is not a whole workbook: %v", err)
	}
	defer f.Close()
	rows, err := f.GetRows("Colleagues")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 201 {
		t.Errorf("Colleagues sheet has %d rows, want a header and 200", len(rows))
	}
	notRun := 0
	for _, r := range rows {
		if strings.Contains(strings.Join(r, "|"), "not run") {
			notRun++
		}
	}
	if notRun == 0 || notRun > 180 {
		t.Errorf("%d rows not run", notRun)
	}
	summary, _ := f.GetRows("Summary")
	var text strings.Builder
	for _, r := range summary {
		text.WriteString(strings.Join(r, " "))
	}
	if !strings.Contains(strings.ToLower(text.String()), "interrupted") {
		t.Errorf("the Summary has no interrupted banner")
	}
}

// TestKilledApplyResumes kills an apply with SIGKILL in the middle, runs it again, and
// checks that the portal converges with exactly one activation e-mail per colleague.
// TestKilledApplyResumes: an apply killed mid-run (SIGKILL) is settled by the next one,
// which creates and e-mails nobody twice, whatever shapes the portal speaks.
func TestKilledApplyResumes(t *testing.T) {
	bin, err := exec.LookPath("ycm-onboard")
	if err != nil {
		t.Fatalf("the test binary is not on PATH as ycm-onboard: %v", err)
	}
	for _, nd := range sim.Dialects() {
		t.Run(nd.Name, func(t *testing.T) {
			t.Parallel()
			killedApplyResumes(t, bin, nd.Dialect)
		})
	}
}

func killedApplyResumes(t *testing.T, bin string, dialect sim.Dialect) {
	s, _ := sim.New(sim.Options{Dialect: dialect, Faults: sim.Faults{Latency: 20 * time.Millisecond}})
	reached := make(chan struct{})
	ts := httptest.NewServer(onCreates(s, 60, reached))
	defer ts.Close()
	stateHome := filepath.Join(t.TempDir(), "state")
	wave := waveCSV(t, 300)
	cmd := exec.Command(bin, "apply", wave, "--portal", ts.URL, "--concurrency", "4",
		"--report", filepath.Join(t.TempDir(), "killed.xlsx"))
	cmd.Env = append(os.Environ(), "XDG_STATE_HOME="+stateHome,
		envPartnerID+"="+sim.DemoPartnerID, envPartnerSecret+"="+sim.DemoPartnerSecret,
		envYCMID+"="+sim.DemoYCMID, envYCMSecret+"="+sim.DemoYCMSecret)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-reached:
	case <-time.After(2 * time.Minute):
		_ = cmd.Process.Kill()
		t.Fatalf("60 creates were not answered within 2 minutes:\n%s", stderr.String())
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no chance to record anything
		t.Fatal(err)
	}
	_ = cmd.Wait()
	sentBefore := len(s.Outbox())
	if sentBefore >= 300 {
		t.Fatalf("the run finished before it was killed (%d e-mails)", sentBefore)
	}
	resumes(t, s, ts.URL, stateHome, wave, 300)
	t.Logf("killed after %d e-mails; the second run sent %d more", sentBefore, len(s.Outbox())-sentBefore)
}

// resumes runs the apply of wave (n colleagues) again after a killed one, and checks
// that it settled the killed run's changes and e-mailed every colleague exactly once
// across both runs.
func resumes(t *testing.T, s *sim.Server, url, stateHome, wave string, n int) {
	t.Helper()
	a, out, errb := testApp(t, map[string]string{"XDG_STATE_HOME": stateHome})
	code := runApp(t.Context(), a, "apply", wave, "--portal", url, "--concurrency", "8",
		"--report", filepath.Join(t.TempDir(), "resumed.xlsx"))
	if code != exitOK {
		t.Fatalf("resumed run: exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	if !strings.Contains(errb.String(), "settled changes an earlier run left unrecorded") {
		t.Errorf("the resumed run did not settle the killed run's changes:\n%s", errb.String())
	}
	sent := map[string]int{}
	for _, e := range s.Outbox() {
		sent[e.To]++
	}
	for i := range n {
		e := fmt.Sprintf("wave%04d@demo.example", i)
		if sent[e] != 1 {
			t.Errorf("%s: %d activation e-mails, want 1", e, sent[e])
		}
	}
	st, err := state.Open(filepath.Join(stateHome, "ycm-onboard"), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if p, _ := st.Unsettled(t.Context()); len(p) != 0 {
		t.Errorf("%d changes still unsettled", len(p))
	}
	inv, _ := st.Invitations(t.Context())
	if len(inv) != n {
		t.Errorf("%d invitations recorded, want %d", len(inv), n)
	}
}

// TestKilledAtJournalPointsResumes kills an apply where the run history writes in
// batches: once a batch's intents are on disk and before its first call, and halfway
// through writing a group of outcomes. The next run settles and finishes the work
// with one e-mail per colleague.
func TestKilledAtJournalPointsResumes(t *testing.T) {
	bin, err := exec.LookPath("ycm-onboard")
	if err != nil {
		t.Fatalf("the test binary is not on PATH as ycm-onboard: %v", err)
	}
	for _, tc := range []struct {
		point    string
		sentNone bool
	}{{"after-intents", true}, {"mid-outcomes", false}} {
		t.Run(tc.point, func(t *testing.T) {
			t.Parallel()
			s, _ := sim.New(sim.Options{Faults: sim.Faults{Latency: 2 * time.Millisecond}})
			ts := httptest.NewServer(s)
			defer ts.Close()
			stateHome := filepath.Join(t.TempDir(), "state")
			wave := waveCSV(t, 100)
			cmd := exec.Command(bin, "apply", wave, "--portal", ts.URL, "--concurrency", "4",
				"--report", filepath.Join(t.TempDir(), "killed.xlsx"))
			cmd.Env = append(os.Environ(), "XDG_STATE_HOME="+stateHome, "YCM_ONBOARD_TEST_CRASH_AT="+tc.point,
				envPartnerID+"="+sim.DemoPartnerID, envPartnerSecret+"="+sim.DemoPartnerSecret,
				envYCMID+"="+sim.DemoYCMID, envYCMSecret+"="+sim.DemoYCMSecret)
			out, err := cmd.CombinedOutput()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != -1 {
				t.Fatalf("the apply was not killed at %s: %v\n%s", tc.point, err, out)
			}
			sent := len(s.Outbox())
			if tc.sentNone && sent != 0 {
				t.Errorf("%d e-mails before the first call", sent)
			}
			if !tc.sentNone && (sent == 0 || sent == 100) {
				t.Errorf("%d e-mails when killed writing the first outcomes, want some", sent)
			}
			resumes(t, s, ts.URL, stateHome, wave, 100)
		})
	}
}

func TestApplyAsksOnATerminal(t *testing.T) {
	for _, tc := range []struct {
		answer string
		yes    bool
		sent   int
	}{{"no\n", false, 0}, {"", false, 0}, {"yes\n", false, 3}, {"", true, 3}} {
		s, _ := sim.New(sim.Options{})
		ts := httptest.NewServer(s)
		a, out, errb := testApp(t, nil)
		a.stdinTTY, a.stdin = true, strings.NewReader(tc.answer)
		args := []string{"apply", waveCSV(t, 3), "--portal", ts.URL, "--report", filepath.Join(t.TempDir(), "r.xlsx")}
		if tc.yes {
			args = append(args, "--yes")
		}
		code := runApp(t.Context(), a, args...)
		ts.Close()
		asked := strings.Contains(errb.String(), "Apply these changes to the portal?")
		if code != exitOK || len(s.Outbox()) != tc.sent || asked == tc.yes {
			t.Errorf("answer %q --yes=%v: exit %d, %d e-mails, asked %v\n%s%s", tc.answer, tc.yes, code, len(s.Outbox()), asked, out, errb)
		}
		if !strings.Contains(out.String(), "Plan: 3 to create") {
			t.Errorf("the plan was not shown before the question")
		}
	}
}

// TestSIGINTStopsCleanly sends a real SIGINT to an apply in flight: it stops starting
// work, lets calls in flight finish, writes the report and exits 130.
func TestSIGINTStopsCleanly(t *testing.T) {
	bin, err := exec.LookPath("ycm-onboard")
	if err != nil {
		t.Fatalf("the test binary is not on PATH as ycm-onboard: %v", err)
	}
	s, _ := sim.New(sim.Options{Faults: sim.Faults{Latency: 20 * time.Millisecond}})
	reached := make(chan struct{})
	ts := httptest.NewServer(onCreates(s, 20, reached))
	defer ts.Close()
	report := filepath.Join(t.TempDir(), "interrupted.xlsx")
	cmd := exec.Command(bin, "apply", waveCSV(t, 300), "--portal", ts.URL, "--concurrency", "4", "--report", report)
	cmd.Env = append(os.Environ(), "XDG_STATE_HOME="+filepath.Join(t.TempDir(), "state"),
		envPartnerID+"="+sim.DemoPartnerID, envPartnerSecret+"="+sim.DemoPartnerSecret,
		envYCMID+"="+sim.DemoYCMID, envYCMSecret+"="+sim.DemoYCMSecret)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	<-reached
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
		t.Fatalf("exit: %v, want %d\n%s", err, exitInterrupted, stderr.String())
	}
	if !strings.Contains(stdout.String(), "not run.") || !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("stdout %q\nstderr %q", stdout.String(), stderr.String())
	}
	f, err := excelize.OpenFile(report)
	if err != nil {
		t.Fatalf("no whole report after SIGINT: %v", err)
	}
	f.Close()
	sent := len(s.Outbox())
	if sent < 20 || sent >= 300 {
		t.Errorf("%d e-mails sent: the run should have stopped soon after the signal", sent)
	}
}

// TestForgottenPortalURLIsRefused: credentials in the environment or a configuration
// file without a portal URL mean a real run whose URL was forgotten: exit 2, nothing
// planned against the demo world, and no secret in the message.
func TestForgottenPortalURLIsRefused(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "nourl.yaml")
	if err := os.WriteFile(cfg, []byte("concurrency: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	noCreds := map[string]string{envPartnerID: "", envPartnerSecret: "", envYCMID: "", envYCMSecret: ""}
	for name, tc := range map[string]struct {
		env  map[string]string
		args []string
	}{
		"credentials":      {nil, nil},
		"one secret":       {map[string]string{envPartnerID: "", envPartnerSecret: "", envYCMID: ""}, nil},
		"config":           {noCreds, []string{"--config", cfg}},
		"state dir (demo)": {noCreds, []string{"--state-dir", filepath.Join(t.TempDir(), "state")}},
	} {
		t.Run(name, func(t *testing.T) {
			a, out, errb := testApp(t, tc.env)
			args := append([]string{"apply", waveCSV(t, 3), "--report", filepath.Join(t.TempDir(), "r.xlsx")}, tc.args...)
			if code := runApp(t.Context(), a, args...); code != exitUsage {
				t.Fatalf("exit %d, want %d\n%s%s", code, exitUsage, out, errb)
			}
			if out.Len() > 0 {
				t.Errorf("stdout %q: the run went ahead", out)
			}
			if strings.Contains(errb.String(), sim.DemoPartnerSecret) || strings.Contains(errb.String(), "demo world") {
				t.Errorf("stderr %q", errb)
			}
		})
	}
	// Credentials and --state-dir: the advice is the URL, not "drop --state-dir to try
	// the demo", which the credentials would refuse next.
	a, out, errb := testApp(t, nil)
	code := runApp(t.Context(), a, "apply", waveCSV(t, 1), "--state-dir", filepath.Join(t.TempDir(), "state"))
	if code != exitUsage || !strings.Contains(errb.String(), "no portal URL configured") || strings.Contains(errb.String(), "drop --state-dir") {
		t.Errorf("exit %d\n%s%s", code, out, errb)
	}
}

// TestReportNamesAreUnique: runs started in the same second never share a default
// report name, and the history points each run to its own report.
func TestReportNamesAreUnique(t *testing.T) {
	s, _ := sim.New(sim.Options{})
	ts := httptest.NewServer(s)
	defer ts.Close()
	dir := t.TempDir()
	stateHome := filepath.Join(t.TempDir(), "state")
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	var paths []string
	for range 3 {
		a, out, errb := testApp(t, map[string]string{"XDG_STATE_HOME": stateHome})
		a.now = func() time.Time { return at }
		if code := runApp(t.Context(), a, "apply", waveCSV(t, 1), "--portal", ts.URL, "--report-dir", dir, "--json"); code != exitOK {
			t.Fatalf("exit %d\n%s%s", code, out, errb)
		}
		var sum struct{ Report string }
		if err := json.Unmarshal(lastLine(out), &sum); err != nil {
			t.Fatalf("stdout is not the JSON summary: %v\n%s", err, out)
		}
		paths = append(paths, sum.Report)
	}
	base := filepath.Join(dir, "ycm-onboard-apply-20260304T050607Z")
	want := []string{base + ".xlsx", base + "-2.xlsx", base + "-3.xlsx"}
	if diff := cmp.Diff(want, paths); diff != "" {
		t.Errorf("report paths (-want +got):\n%s", diff)
	}
	for _, p := range paths {
		f, err := excelize.OpenFile(p)
		if err != nil {
			t.Fatalf("%s is not a whole report: %v", p, err)
		}
		f.Close()
	}
	st, err := state.Open(filepath.Join(stateHome, "ycm-onboard"), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, err := st.LastRuns(t.Context(), 10)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range runs {
		if seen[r.ReportPath] {
			t.Errorf("two runs point to %s", r.ReportPath)
		}
		seen[r.ReportPath] = true
	}
}

// TestNoReportLeftBeforeWriting: the default report's name is taken only when the
// report is written, so a run stopped before (killed, or locked out) leaves nothing in
// --report-dir, not an empty workbook that keep_reports would count.
func TestNoReportLeftBeforeWriting(t *testing.T) {
	t.Run("killed while reading the portal", func(t *testing.T) {
		bin, err := exec.LookPath("ycm-onboard")
		if err != nil {
			t.Fatalf("the test binary is not on PATH as ycm-onboard: %v", err)
		}
		s, _ := sim.New(sim.Options{})
		reached, release := make(chan struct{}), make(chan struct{})
		var once sync.Once
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			once.Do(func() { close(reached) })
			<-release // the run is killed while it waits for the portal
			s.ServeHTTP(w, r)
		}))
		defer ts.Close()
		defer close(release)
		dir := filepath.Join(t.TempDir(), "reports")
		cmd := exec.Command(bin, "apply", waveCSV(t, 3), "--portal", ts.URL, "--report-dir", dir)
		cmd.Env = append(os.Environ(), "XDG_STATE_HOME="+filepath.Join(t.TempDir(), "state"),
			envPartnerID+"="+sim.DemoPartnerID, envPartnerSecret+"="+sim.DemoPartnerSecret,
			envYCMID+"="+sim.DemoYCMID, envYCMSecret+"="+sim.DemoYCMSecret)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		<-reached
		if err := cmd.Process.Kill(); err != nil { // SIGKILL: no deferred clean-up runs
			t.Fatal(err)
		}
		_ = cmd.Wait()
		assertEmptyDir(t, dir)
	})
	t.Run("locked out", func(t *testing.T) {
		s, _ := sim.New(sim.Options{})
		ts := httptest.NewServer(s)
		defer ts.Close()
		a, out, errb := testApp(t, nil)
		stateDir, _ := a.stateDir(historyFlags{})
		lock, err := state.AcquireLock(t.Context(), stateDir, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer lock.Release()
		dir := filepath.Join(t.TempDir(), "reports")
		if code := runApp(t.Context(), a, "apply", waveCSV(t, 3), "--portal", ts.URL, "--report-dir", dir); code != exitLocked {
			t.Fatalf("exit %d, want %d\n%s%s", code, exitLocked, out, errb)
		}
		assertEmptyDir(t, dir)
	})
}

// assertEmptyDir fails unless dir holds nothing.
func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("%s left in the report directory", e.Name())
	}
}

// TestReportLostAtTheEnd: when the report cannot be written after the changes were
// made, the message says so, not that rows were skipped, and the exit is 1.
func TestReportLostAtTheEnd(t *testing.T) {
	s, _ := sim.New(sim.Options{})
	dir := filepath.Join(t.TempDir(), "reports")
	var once sync.Once
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.ServeHTTP(w, r)
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/colleagues") {
			once.Do(func() { // the report directory goes away while apply runs
				if err := os.RemoveAll(dir); err != nil {
					t.Error(err)
				}
				if err := os.WriteFile(dir, []byte("a file now"), 0o644); err != nil {
					t.Error(err)
				}
			})
		}
	}))
	defer ts.Close()
	a, out, errb := testApp(t, nil)
	code := runApp(t.Context(), a, "apply", waveCSV(t, 3), "--portal", ts.URL, "--report", filepath.Join(dir, "r.xlsx"), "--json")
	if code != exitPartial {
		t.Fatalf("exit %d, want %d\n%s%s", code, exitPartial, out, errb)
	}
	if n := len(s.Outbox()); n != 3 {
		t.Errorf("%d e-mails, want 3", n)
	}
	if !strings.Contains(errb.String(), "the report could not be written: ") {
		t.Errorf("stderr does not say the report is missing:\n%s", errb)
	}
	if strings.Contains(errb.String(), "some rows were skipped") || strings.Contains(errb.String(), "see the report") {
		t.Errorf("stderr blames rows or points to a report that is not there:\n%s", errb)
	}
	var sum struct {
		Report   string `json:"report"`
		ExitCode int    `json:"exit_code"`
	}
	if err := json.Unmarshal(lastLine(out), &sum); err != nil || sum.Report != "" || sum.ExitCode != exitPartial {
		t.Errorf("summary %+v (%v)", sum, err)
	}
}

// lastLine is the last line of a run's stdout: the --json summary.
func lastLine(b *lockedBuffer) []byte {
	lines := bytes.Split(bytes.TrimSpace(b.Bytes()), []byte("\n"))
	return lines[len(lines)-1]
}

// TestJSONStdoutIsOnlyJSON: with --json, stdout holds exactly one JSON document whatever
// the outcome, so that `--json >> runs.json` makes a file jq reads; the plan and the
// summary lines are on stderr.
func TestJSONStdoutIsOnlyJSON(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.csv")
	if err := os.WriteFile(bad, []byte("Email,First Name\nnot-an-email,X\nok@demo.example,Ok\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"plan", []string{"plan", "WAVE"}, exitOK},
		{"apply", []string{"apply", "WAVE"}, exitOK},
		{"rows skipped", []string{"apply", bad}, exitPartial},
		{"guard", []string{"apply", "WAVE", "--prune", "--max-delete", "0"}, exitGuard},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := sim.New(sim.Options{})
			ts := httptest.NewServer(s)
			defer ts.Close()
			a, out, errb := testApp(t, nil)
			args := append([]string{}, tc.args...)
			for i, v := range args {
				if v == "WAVE" {
					args[i] = waveCSV(t, 2)
				}
			}
			args = append(args, "--portal", ts.URL, "--report", filepath.Join(t.TempDir(), "r.xlsx"), "--json")
			if code := runApp(t.Context(), a, args...); code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tc.code, out, errb)
			}
			dec := json.NewDecoder(bytes.NewReader(out.Bytes()))
			var sum map[string]any
			if err := dec.Decode(&sum); err != nil {
				t.Fatalf("stdout is not JSON: %v\n%s", err, out)
			}
			if _, err := dec.Token(); err != io.EOF {
				t.Fatalf("stdout holds more than the JSON summary:\n%s", out)
			}
			if sum["exit_code"] != float64(tc.code) || sum["portal"] == nil {
				t.Errorf("summary %v", sum)
			}
			if !strings.Contains(errb.String(), "Plan: ") {
				t.Errorf("the plan line is not on stderr:\n%s", errb)
			}
		})
	}
}

// TestJSONOnEarlyFailure: with --json, a run that stops before its report (bad input,
// bad flag, unwritable report, forgotten URL, locked) still prints one JSON document on
// stdout with its exit code and why, so that monitoring reading it sees the broken runs;
// and no secret is in it.
func TestJSONOnEarlyFailure(t *testing.T) {
	s, _ := sim.New(sim.Options{})
	ts := httptest.NewServer(s)
	defer ts.Close()
	afile := filepath.Join(t.TempDir(), "afile")
	if err := os.WriteFile(afile, []byte("not a directory"), 0o644); err != nil {
		t.Fatal(err)
	}
	const secret = "a-real-looking-secret"
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string // WAVE: a readable input
		code int
		want string // in the error
	}{
		{"missing input", nil, []string{"plan", filepath.Join(t.TempDir(), "missing.csv"), "--portal", ts.URL, "--json"},
			exitUsage, "no input could be read: missing.csv"},
		{"unwritable report dir", nil, []string{"apply", "WAVE", "--portal", ts.URL, "--report-dir", afile, "--json"},
			exitUsage, "cannot write the report"},
		{"bad flag value before --json", nil, []string{"apply", "WAVE", "--portal", ts.URL, "--concurrency", "many", "--json"},
			exitUsage, `invalid argument "many" for "--concurrency"`},
		{"out of range", nil, []string{"apply", "WAVE", "--portal", ts.URL, "--json=true", "--concurrency", "0"},
			exitUsage, "--concurrency 0: give 1 to"},
		{"unknown flag", nil, []string{"plan", "WAVE", "--portal", ts.URL, "--bogus", "--json"},
			exitUsage, "unknown flag: --bogus"},
		{"no input", nil, []string{"apply", "--json"}, exitUsage, "give at least one input file"},
		{"forgotten portal URL", map[string]string{envPartnerID: "", envPartnerSecret: "", envYCMID: "", envYCMSecret: secret}, []string{"apply", "WAVE", "--json"},
			exitUsage, "no portal URL configured, but YCM_CLIENT_SECRET is set"},
		{"locked", nil, []string{"apply", "WAVE", "--portal", ts.URL, "--json"}, exitLocked, "another ycm-onboard run"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, out, errb := testApp(t, tc.env)
			if tc.code == exitLocked {
				dir, _ := a.stateDir(historyFlags{})
				lock, err := state.AcquireLock(t.Context(), dir, 0)
				if err != nil {
					t.Fatal(err)
				}
				defer lock.Release()
			}
			args := append([]string{}, tc.args...)
			for i, v := range args {
				if v == "WAVE" {
					args[i] = waveCSV(t, 1)
				}
			}
			if !slices.Contains(args, "--report-dir") {
				args = append(args, "--report-dir", t.TempDir())
			}
			if code := runApp(t.Context(), a, args...); code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tc.code, out, errb)
			}
			dec := json.NewDecoder(bytes.NewReader(out.Bytes()))
			var sum map[string]any
			if err := dec.Decode(&sum); err != nil {
				t.Fatalf("stdout is not JSON: %v\n%s", err, out)
			}
			if _, err := dec.Token(); err != io.EOF {
				t.Fatalf("stdout holds more than one JSON document:\n%s", out)
			}
			msg, _ := sum["error"].(string)
			if sum["exit_code"] != float64(tc.code) || !strings.Contains(msg, tc.want) {
				t.Errorf("summary %v, want exit_code %d and an error saying %q", sum, tc.code, tc.want)
			}
			if strings.Contains(out.String(), secret) || strings.Contains(out.String(), sim.DemoPartnerSecret) {
				t.Errorf("a secret is on stdout: %s", out)
			}
		})
	}
	// Without --json, nothing is on stdout.
	a, out, errb := testApp(t, nil)
	if code := runApp(t.Context(), a, "plan", filepath.Join(t.TempDir(), "missing.csv"), "--portal", ts.URL); code != exitUsage || out.Len() > 0 {
		t.Errorf("exit %d, stdout %q\n%s", code, out, errb)
	}
}

// TestUnreachablePortalSaysCheckTheURL: an unknown host or a refused connection when the
// portal is first read is most often a wrong URL: say so, not "run again later".
func TestUnreachablePortalSaysCheckTheURL(t *testing.T) {
	// Port 1 (tcpmux) is privileged and never handed out as an ephemeral port, so no
	// other test can take it: connecting there is refused.
	if c, err := net.Dial("tcp", "127.0.0.1:1"); err == nil {
		c.Close()
		t.Fatal("something listens on 127.0.0.1:1: this test needs it refused")
	}
	refused := "http://127.0.0.1:1"
	a, out, errb := testApp(t, nil)
	code := runApp(t.Context(), a, "plan", waveCSV(t, 1), "--portal", refused, "--report", filepath.Join(t.TempDir(), "r.xlsx"))
	if code != exitFatal {
		t.Fatalf("exit %d, want %d\n%s%s", code, exitFatal, out, errb)
	}
	// An unknown host is told the same way (reconcile's TestExplainNetwork): no test
	// here looks a name up, since that would leave loopback.
	if !strings.Contains(errb.String(), "check the portal URL") || strings.Contains(errb.String(), "run again later") {
		t.Errorf("stderr:\n%s", errb)
	}
}

// TestCredentialsAreTrimmed: credentials from the environment lose surrounding
// whitespace (a Secret's trailing newline) instead of costing a failed login.
func TestCredentialsAreTrimmed(t *testing.T) {
	s, _ := sim.New(sim.Options{})
	ts := httptest.NewServer(s)
	defer ts.Close()
	a, out, errb := testApp(t, map[string]string{
		envPartnerID: " " + sim.DemoPartnerID + "\n", envPartnerSecret: sim.DemoPartnerSecret + "\n",
		envYCMID: "\t" + sim.DemoYCMID, envYCMSecret: sim.DemoYCMSecret + "\r\n",
	})
	code := runApp(t.Context(), a, "plan", waveCSV(t, 1), "--portal", ts.URL, "--log-level", "debug",
		"--report", filepath.Join(t.TempDir(), "r.xlsx"))
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errb)
	}
	if strings.Contains(out.String()+errb.String(), sim.DemoPartnerSecret) {
		t.Errorf("a secret was shown:\n%s%s", out, errb)
	}
	// Only whitespace is no credential at all.
	a, out, errb = testApp(t, map[string]string{envYCMSecret: "\n"})
	code = runApp(t.Context(), a, "plan", waveCSV(t, 1), "--portal", ts.URL, "--report", filepath.Join(t.TempDir(), "r.xlsx"))
	if code != exitUsage || !strings.Contains(errb.String(), "credentials missing: set "+envYCMSecret) {
		t.Errorf("exit %d\n%s%s", code, out, errb)
	}
}

// TestStoppedResendIsSentAgain: a run that stopped after recording that it would ask
// YCM to re-send a colleague's activation e-mail cannot tell whether YCM sent it. The
// next run sends it again rather than risk a colleague left with no working link, and
// only the e-mail it knows was sent counts towards --max-reinvites.
func TestStoppedResendIsSentAgain(t *testing.T) {
	s, err := sim.New(sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()
	stateDir := filepath.Join(t.TempDir(), "state")
	sheet := filepath.Join(t.TempDir(), "team.csv")
	const email = "ycm.manager@demo.example"
	if err := os.WriteFile(sheet, []byte("Email,First Name,Permissions,YCM Manager\n"+email+",Yvonne,Dashboard;YCM,yes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	apply := func(report string) string {
		t.Helper()
		a, out, errb := testApp(t, nil)
		if code := runApp(t.Context(), a, "apply", sheet, "--portal", ts.URL, "--state-dir", stateDir,
			"--report", filepath.Join(t.TempDir(), report)); code != exitOK {
			t.Fatalf("apply: exit %d\n%s\n%s", code, out, errb)
		}
		return out.String() + errb.String()
	}
	apply("first.xlsx")
	s.Advance(49 * time.Hour)
	var id int64
	for _, c := range s.Colleagues() {
		if c.YeastarID == email {
			id = c.ColleaguesID
		}
	}

	// A run records its intent to re-send through YCM and dies before YCM answers.
	st, err := state.Open(stateDir, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	run, err := st.BeginRun(t.Context(), state.RunInfo{Mode: "apply", Started: s.Clock()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.RecordIntent(t.Context(), run, 0, state.Intent{Object: "colleague", Key: email,
		Kind: reconcile.KindResend, PortalID: id}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	out := apply("resumed.xlsx")
	if !strings.Contains(out, "settled changes an earlier run left unrecorded") {
		t.Errorf("the stopped run's intent was not settled:\n%s", out)
	}
	if !strings.Contains(out, "1 to re-invite") {
		t.Errorf("the resumed run does not send the e-mail again:\n%s", out)
	}
	if n := len(s.Outbox()); n != 2 {
		t.Errorf("%d e-mails after the resumed run, want 2 (the invitation and the re-sent one)", n)
	}
	if err := s.Activate(email); err != nil {
		t.Errorf("the re-sent link does not work: %v", err)
	}
	st, err = state.Open(stateDir, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	inv, _ := st.Invitations(t.Context())
	if len(inv) != 1 || inv[0].Reinvites != 1 {
		t.Errorf("invitations %+v, want one with 1 re-invite", inv)
	}
}

// TestStateDirectoryFull runs an apply whose files may not grow past 1 MB (ulimit -f),
// so the run history stops taking writes halfway: the run stops sending, says the
// state directory is the cause, and exits 6, not the portal's 4. The next run settles
// what was sent and finishes, with one e-mail per colleague.
func TestStateDirectoryFull(t *testing.T) {
	bin, err := exec.LookPath("ycm-onboard")
	if err != nil {
		t.Fatalf("the test binary is not on PATH as ycm-onboard: %v", err)
	}
	// With latency, outcomes fill the history while later batches wait to be sent.
	s, _ := sim.New(sim.Options{Faults: sim.Faults{Latency: time.Millisecond}})
	ts := httptest.NewServer(s)
	defer ts.Close()
	stateHome := filepath.Join(t.TempDir(), "state")
	const n = 4000
	wave := waveCSV(t, n)
	// sh's ulimit -f counts 512-byte blocks (dash) or KiB (bash): 2048 is 1 or 2 MB.
	cmd := exec.Command("sh", "-c", `ulimit -f 2048 && exec "$0" "$@"`, bin, "apply", wave, "--portal", ts.URL,
		"--concurrency", "8", "--report", filepath.Join(t.TempDir(), "full.xlsx"))
	cmd.Env = append(os.Environ(), "XDG_STATE_HOME="+stateHome,
		envPartnerID+"="+sim.DemoPartnerID, envPartnerSecret+"="+sim.DemoPartnerSecret,
		envYCMID+"="+sim.DemoYCMID, envYCMSecret+"="+sim.DemoYCMSecret)
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != exitLocal {
		t.Fatalf("exit %v, want %d\n%s", err, exitLocal, out)
	}
	if !strings.Contains(string(out), "Free space in the state directory") {
		t.Errorf("the message does not point at the state directory:\n%s", out)
	}
	if sent := len(s.Outbox()); sent == 0 || sent >= n {
		t.Fatalf("%d e-mails before the history filled up, want some and not all\n%s", sent, out)
	}
	resumes(t, s, ts.URL, stateHome, wave, n)
}

// TestSignalStopsReading sends SIGTERM while plan reads a big workbook (150,000 rows,
// seconds of reading): the read stops, nothing is asked of the portal, exit 130.
func TestSignalStopsReading(t *testing.T) {
	bin, err := exec.LookPath("ycm-onboard")
	if err != nil {
		t.Fatalf("the test binary is not on PATH as ycm-onboard: %v", err)
	}
	big := filepath.Join(t.TempDir(), "big.xlsx")
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	_ = sw.SetRow("A1", []any{"Email", "First Name", "Last Name", "Permissions"})
	for i := range 150_000 {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		_ = sw.SetRow(cell, []any{fmt.Sprintf("big%06d@demo.example", i), "Big", "Sheet", "Dashboard"})
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	_ = f.SetSheetName("Sheet1", "Colleagues")
	if err := f.SaveAs(big); err != nil {
		t.Fatal(err)
	}
	s, _ := sim.New(sim.Options{})
	ts := httptest.NewServer(s)
	defer ts.Close()
	cmd := exec.Command(bin, "plan", big, "--portal", ts.URL, "--report", filepath.Join(t.TempDir(), "r.xlsx"))
	cmd.Env = append(os.Environ(), "XDG_STATE_HOME="+filepath.Join(t.TempDir(), "state"),
		envPartnerID+"="+sim.DemoPartnerID, envPartnerSecret+"="+sim.DemoPartnerSecret,
		envYCMID+"="+sim.DemoYCMID, envYCMSecret+"="+sim.DemoYCMSecret)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // reading has begun; it takes seconds
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != exitInterrupted {
		t.Fatalf("exit %v, want %d\n%s", err, exitInterrupted, out.String())
	}
	if !strings.Contains(out.String(), "interrupted while reading the input") {
		t.Errorf("the run did not stop in the read:\n%s", out.String())
	}
	if n := s.Stats().Total; n != 0 {
		t.Errorf("%d requests to the portal after a read that was stopped", n)
	}
}

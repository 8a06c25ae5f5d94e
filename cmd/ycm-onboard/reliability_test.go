package main

// Fast versions of the `make chaos` cases that had none (RELIABILITY.md, "Gaps"):
// each runs the job against a simulator on 127.0.0.1 and checks what the simulator
// holds afterwards, not only what the job says.

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/ycm-onboard/ycm-onboard/portal/sim"
	"github.com/ycm-onboard/ycm-onboard/state"
)

// jobBinary is the test binary, which testscript puts on PATH as ycm-onboard: a child
// process that signals and resource limits reach without touching the test itself.
func jobBinary(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("ycm-onboard")
	if err != nil {
		t.Fatalf("the test binary is not on PATH as ycm-onboard: %v", err)
	}
	return bin
}

// jobEnv is the child's environment: the demo credentials and its own state home.
func jobEnv(stateHome string) []string {
	return append(os.Environ(), "XDG_STATE_HOME="+stateHome,
		envPartnerID+"="+sim.DemoPartnerID, envPartnerSecret+"="+sim.DemoPartnerSecret,
		envYCMID+"="+sim.DemoYCMID, envYCMSecret+"="+sim.DemoYCMSecret)
}

// summaryOf decodes a run's --json summary (the last line of its stdout).
func summaryOf(t *testing.T, stdout []byte) runSummary {
	t.Helper()
	var sum runSummary
	lines := strings.Split(strings.TrimSpace(string(stdout)), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
		t.Fatalf("stdout ends without the JSON summary: %v\n%s", err, stdout)
	}
	return sum
}

// mailsTo counts the simulator's activation e-mails to the wave's colleagues.
func mailsTo(s *sim.Server) map[string]int {
	sent := map[string]int{}
	for _, e := range s.Outbox() {
		if strings.HasPrefix(e.To, "wave") {
			sent[e.To]++
		}
	}
	return sent
}

// onceEach fails unless each of the wave's n colleagues got exactly one e-mail.
func onceEach(t *testing.T, s *sim.Server, n int) {
	t.Helper()
	sent := mailsTo(s)
	bad := 0
	for i := range n {
		e := fmt.Sprintf("wave%04d@demo.example", i)
		if sent[e] != 1 {
			if bad++; bad <= 5 {
				t.Errorf("%s: %d activation e-mails, want 1", e, sent[e])
			}
		}
	}
	if bad > 5 {
		t.Errorf("and %d more colleagues without exactly one e-mail", bad-5)
	}
	if len(sent) != n {
		t.Errorf("e-mails to %d addresses, want %d", len(sent), n)
	}
}

// historyHolds checks that the run history has nothing unsettled and records one
// invitation per colleague.
func historyHolds(t *testing.T, stateDir string, n int) {
	t.Helper()
	st, err := state.Open(stateDir, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if p, err := st.Unsettled(t.Context()); err != nil || len(p) != 0 {
		t.Errorf("%d changes unsettled in the history (%v)", len(p), err)
	}
	inv, err := st.Invitations(t.Context())
	if err != nil || len(inv) != n {
		t.Errorf("%d invitations recorded (%v), want %d", len(inv), err, n)
	}
}

// TestReRunAfterSIGINT is chaos case 5 made small: a real SIGINT stops an apply of 300
// creates once 60 are answered; the run exits 130 with a report and a summary that
// match what the portal holds, and the same apply run again creates exactly the rest:
// every colleague gets one activation e-mail across both runs.
func TestReRunAfterSIGINT(t *testing.T) {
	const n = 300
	bin := jobBinary(t)
	s, _ := sim.New(sim.Options{Faults: sim.Faults{Latency: 20 * time.Millisecond}})
	reached := make(chan struct{})
	ts := httptest.NewServer(onCreates(s, 60, reached))
	defer ts.Close()
	stateHome := filepath.Join(t.TempDir(), "state")
	wave := waveCSV(t, n)
	interrupted := filepath.Join(t.TempDir(), "interrupted.xlsx")
	cmd := exec.Command(bin, "apply", wave, "--portal", ts.URL, "--concurrency", "4", "--report", interrupted, "--json")
	cmd.Env = jobEnv(stateHome)
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-reached:
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		t.Fatalf("60 creates were not answered within a minute:\n%s", stderr.String())
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	var ee *exec.ExitError
	if err := cmd.Wait(); !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
		t.Fatalf("exit: %v, want %d\n%s", err, exitInterrupted, stderr.String())
	}

	// What the interrupted run says it did is what the portal holds.
	sum := summaryOf(t, stdout.Bytes())
	c := sum.Actions.Create
	sent := len(s.Outbox()) // the demo world's outbox starts empty
	if !sum.Interrupted || sum.ExitCode != exitInterrupted || sum.Report != interrupted {
		t.Errorf("summary: interrupted %v, exit_code %d, report %q", sum.Interrupted, sum.ExitCode, sum.Report)
	}
	if c.Applied != sent || c.Applied+c.NotRun != n || c.Failed != 0 || c.Total != n {
		t.Errorf("summary of the creates %+v; the portal sent %d e-mails", c, sent)
	}
	if sent < 60 || sent >= n {
		t.Fatalf("%d e-mails before the SIGINT took effect, want from 60 to %d", sent, n-1)
	}
	if got := len(s.Colleagues()) - demoColleagues(t); got != sent {
		t.Errorf("%d colleagues created for %d e-mails", got, sent)
	}
	f, err := excelize.OpenFile(interrupted)
	if err != nil {
		t.Fatalf("no whole report after SIGINT: %v", err)
	}
	rows, _ := f.GetRows("Colleagues")
	f.Close()
	notRun := 0
	for _, r := range rows {
		if strings.Contains(strings.Join(r, "|"), "not run") {
			notRun++
		}
	}
	if len(rows) != n+1 || notRun != c.NotRun {
		t.Errorf("the report has %d rows, %d not run; want a header and %d, %d not run", len(rows), notRun, n, c.NotRun)
	}

	// The same apply again: the rest, and nothing twice.
	a, out, errb := testApp(t, map[string]string{"XDG_STATE_HOME": stateHome})
	code := runApp(t.Context(), a, "apply", wave, "--portal", ts.URL, "--concurrency", "8",
		"--report", filepath.Join(t.TempDir(), "rerun.xlsx"), "--json")
	if code != exitOK {
		t.Fatalf("re-run: exit %d\n%s%s", code, out, errb)
	}
	if want := fmt.Sprintf("Plan: %d to create, 0 to update, 0 to delete", n-sent); !strings.Contains(errb.String(), want) {
		t.Errorf("the re-run's plan is not %q:\n%s", want, lineWith(errb.String(), "Plan: "))
	}
	if line := lineWith(errb.String(), "left unrecorded"); line != "" {
		t.Errorf("the interrupted run left changes unrecorded; it should have recorded what it finished and what it did not run:\n%s", line)
	}
	sum2 := summaryOf(t, out.Bytes())
	if c2, u := sum2.Actions.Create, sum2.Actions.Noop; c2.Applied != n-sent || c2.Total != n-sent || u.Total != sent ||
		sum2.Outcomes.Failed+sum2.Outcomes.NotRun+sum2.Outcomes.Skipped != 0 {
		t.Errorf("re-run: creates %+v, unchanged %+v, outcomes %+v; want %d created and %d unchanged", c2, u, sum2.Outcomes, n-sent, sent)
	}
	onceEach(t, s, n)
	historyHolds(t, filepath.Join(stateHome, "ycm-onboard"), n)
	t.Logf("SIGINT after %d of %d e-mails; the re-run sent %d", sent, n, len(s.Outbox())-sent)
}

// demoColleagues is how many colleagues the simulator's demo world starts with.
func demoColleagues(t *testing.T) int {
	t.Helper()
	s, err := sim.New(sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return len(s.Colleagues())
}

// lineWith is the first line of text that holds sub, or "".
func lineWith(text, sub string) string {
	for line := range strings.Lines(text) {
		if strings.Contains(line, sub) {
			return line
		}
	}
	return ""
}

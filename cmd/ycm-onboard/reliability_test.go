package main

// Fast versions of the `make chaos` cases that had none (RELIABILITY.md, "Gaps"):
// each runs the job against a simulator on 127.0.0.1 and checks what the simulator
// holds afterwards, not only what the job says.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
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

// tokenTap sits in front of the simulator and keeps, per API, the grant of every
// token issued, the tokens themselves, when the API was first asked for anything and
// when it was last called.
type tokenTap struct {
	mu     sync.Mutex
	apis   map[string]*apiTap
	issued []string // every token handed out
}

type apiTap struct {
	grants      []string // of the tokens issued, in order
	first, last time.Time
}

// apiOf names the API a path belongs to (portal/sim/routes.go).
func apiOf(path string) string {
	if strings.HasPrefix(path, "/dm/") {
		return "YCM"
	}
	return "Partner Portal"
}

// opaque matches the simulator's tokens (newOpaque: 16 random bytes in hex).
var opaque = regexp.MustCompile(`[0-9a-f]{32}`)

func (tp *tokenTap) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		tp.mu.Lock()
		if tp.apis == nil {
			tp.apis = map[string]*apiTap{}
		}
		at := tp.apis[apiOf(r.URL.Path)]
		if at == nil {
			at = &apiTap{first: now}
			tp.apis[apiOf(r.URL.Path)] = at
		}
		tp.mu.Unlock()
		if !strings.HasSuffix(r.URL.Path, "/oauth/token") {
			next.ServeHTTP(w, r)
			tp.mu.Lock()
			at.last = now
			tp.mu.Unlock()
			return
		}
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		maps.Copy(w.Header(), rec.Header())
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
		if rec.Code == http.StatusOK {
			tp.mu.Lock()
			at.grants = append(at.grants, form.Get("grant_type"))
			tp.issued = append(tp.issued, opaque.FindAllString(rec.Body.String(), -1)...)
			tp.mu.Unlock()
		}
	})
}

// TestTokensExpireDuringARun is chaos case 4 made small: access tokens live one second
// and the apply lasts four or more. The client renews a token a tenth of its lifetime
// before it expires (portal/token.go), once for all workers, with the refresh token:
// one login per API, no call refused for an expired token, no row failed, no one
// e-mailed twice, and no token or secret in what the run writes: stdout, stderr (the
// log, at debug level), the report, the run history's files.
func TestTokensExpireDuringARun(t *testing.T) {
	const (
		n           = 400
		ttl         = time.Second
		concurrency = 4
	)
	s, _ := sim.New(sim.Options{TokenTTL: ttl, Faults: sim.Faults{Latency: 40 * time.Millisecond}})
	var tap tokenTap
	ts := httptest.NewServer(tap.wrap(s))
	defer ts.Close()
	stateDir := filepath.Join(t.TempDir(), "state")
	rep := filepath.Join(t.TempDir(), "tokens.xlsx")
	a, out, errb := testApp(t, nil)
	code := runApp(t.Context(), a, "apply", waveCSV(t, n), "--portal", ts.URL, "--concurrency", strconv.Itoa(concurrency),
		"--state-dir", stateDir, "--report", rep, "--json", "--log-level", "debug")
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errb)
	}
	sum := summaryOf(t, out.Bytes())
	if c := sum.Actions.Create; c.Applied != n || sum.Outcomes.Failed != 0 || sum.Outcomes.NotRun != 0 {
		t.Errorf("creates %+v, outcomes %+v; want %d applied", c, sum.Outcomes, n)
	}
	onceEach(t, s, n)

	refused := map[string]int{} // API calls refused for their token, by API
	for _, rc := range s.Stats().Routes {
		if rc.Status == http.StatusUnauthorized && !strings.HasSuffix(rc.Route, "/oauth/token") {
			_, path, _ := strings.Cut(rc.Route, " ")
			refused[apiOf(path)] += int(rc.Count)
		}
	}
	tap.mu.Lock()
	defer tap.mu.Unlock()
	for name, at := range tap.apis {
		span, k := max(at.last.Sub(at.first), 0), len(at.grants)
		t.Logf("%s: %d tokens over %s of calls %v; %d calls refused", name, k, span.Round(10*time.Millisecond), at.grants, refused[name])
		if k == 0 || at.grants[0] == "refresh_token" || slices.Contains(at.grants[1:], at.grants[0]) {
			t.Errorf("%s: grants %v, want one login, then refreshes only", name, at.grants)
		}
		// Each token is renewed no sooner than 0.9 of its lifetime after the one before,
		// unless a call was refused with it.
		if most := int(span/(ttl*9/10)) + 1 + refused[name]; k > most {
			t.Errorf("%s: %d tokens over %s, want at most %d: renewed early or once per worker", name, k, span, most)
		}
		// Renewed 100 ms before expiry, a token is not refused for the 40 ms latency; a
		// worker stalled past the margin on a loaded machine may be, once per worker.
		// Renewed only once refused, about one call per worker per token is (16 here).
		if refused[name] > concurrency {
			t.Errorf("%s: %d calls refused for their token, want none: the token was not renewed before it expired", name, refused[name])
		}
	}
	if pp := tap.apis["Partner Portal"]; pp == nil || pp.last.Sub(pp.first) < 3*ttl || len(pp.grants) < 4 {
		t.Fatalf("the Partner Portal was not called over three token lifetimes: no renewal was tested")
	}

	secrets := append([]string{sim.DemoPartnerSecret, sim.DemoYCMSecret}, tap.issued...)
	written := map[string]string{"stdout": out.String(), "stderr": errb.String(), "report": cellsOf(t, rep)}
	_ = filepath.WalkDir(stateDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			written["history file "+d.Name()] = string(b)
		}
		return nil
	})
	for where, text := range written {
		for _, sec := range secrets {
			if strings.Contains(text, sec) {
				t.Errorf("a token or secret (%d characters) is in the %s", len(sec), where)
				break
			}
		}
	}
}

// cellsOf is every cell of every sheet of a workbook, one line per row.
func cellsOf(t *testing.T, path string) string {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b strings.Builder
	for _, sheet := range f.GetSheetList() {
		rows, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			b.WriteString(strings.Join(r, "\t") + "\n")
		}
	}
	return b.String()
}

// seedWave gives the simulator the wave's first m colleagues, active, as an earlier
// run would have left them: the first is created through the API (so that it has the
// shape a create gives), the others are copies of it.
func seedWave(t *testing.T, s *sim.Server, url string, m int) {
	t.Helper()
	a, out, errb := testApp(t, nil)
	if code := runApp(t.Context(), a, "apply", waveCSV(t, 1), "--portal", url, "--state-dir", filepath.Join(t.TempDir(), "seed"),
		"--report", filepath.Join(t.TempDir(), "seed.xlsx")); code != exitOK {
		t.Fatalf("seed: exit %d\n%s%s", code, out, errb)
	}
	st := s.State()
	i := slices.IndexFunc(st.Colleagues, func(c sim.Colleague) bool { return c.YeastarID == "wave0000@demo.example" })
	if i < 0 {
		t.Fatal("seed: the first colleague was not created")
	}
	first := st.Colleagues[i]
	first.UserStatus, first.ActivatedAt = sim.StatusActive, first.InvitedAt.Add(time.Hour)
	st.Colleagues = slices.Delete(st.Colleagues, i, i+1)
	for k := range m {
		c := first
		c.ColleaguesID = st.NextColleagueID + int64(k)
		c.YeastarID, c.LastName = fmt.Sprintf("wave%04d@demo.example", k), strconv.Itoa(k)
		c.ResourceIDs = slices.Clone(first.ResourceIDs)
		st.Colleagues = append(st.Colleagues, c)
	}
	st.NextColleagueID += int64(m)
	st.Outbox = nil
	if err := s.LoadState(st); err != nil {
		t.Fatal(err)
	}
}

// TestReportDirectoryFull is chaos case 9 made small, without root: the job may not
// write a file past 400 KB (POSIX sh's ulimit -f counts 512-byte blocks), which its run
// history stays within (its WAL peaked at 175 KB for 10 creates written one by one on a
// loaded machine) and its report (about 540 KB, for 8,000 unchanged colleagues and 10
// new ones) does not: the report's write fails partway with EFBIG, as a full disk fails
// it with ENOSPC. The README's exit codes: the changes are made and recorded, the run
// says the report could not be written and exits 1; no piece of a report is left; the
// next run has nothing to do.
func TestReportDirectoryFull(t *testing.T) {
	const m, n = 8000, 10
	bin := jobBinary(t)
	s, _ := sim.New(sim.Options{})
	ts := httptest.NewServer(s)
	defer ts.Close()
	seedWave(t, s, ts.URL, m)
	wave := waveCSV(t, m+n)
	stateHome := filepath.Join(t.TempDir(), "state")
	reports := filepath.Join(t.TempDir(), "reports")
	if err := os.Mkdir(reports, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", `ulimit -f 800 && exec "$0" "$@"`, bin, "apply", wave, "--portal", ts.URL,
		"--concurrency", "2", "--report", filepath.Join(reports, "report.xlsx"), "--json")
	cmd.Env = jobEnv(stateHome)
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	var ee *exec.ExitError
	if err := cmd.Run(); !errors.As(err, &ee) || ee.ExitCode() != exitPartial {
		t.Fatalf("exit: %v, want %d (the report could not be written)\n%s", err, exitPartial, stderr.String())
	}
	line := lineWith(stderr.String(), "the report could not be written: ")
	if line == "" || !strings.Contains(line, "file too large") {
		t.Errorf("stderr does not say the report could not be written, and why:\n%s", stderr.String())
	}
	sum := summaryOf(t, stdout.Bytes())
	if c := sum.Actions.Create; sum.Report != "" || sum.ExitCode != exitPartial || c.Applied != n || c.Total != n || sum.Actions.Noop.Total != m {
		t.Errorf("summary: report %q, exit_code %d, creates %+v, unchanged %d", sum.Report, sum.ExitCode, c, sum.Actions.Noop.Total)
	}
	assertEmptyDir(t, reports) // neither a report nor a piece of one
	if sent := len(s.Outbox()); sent != n {
		t.Errorf("%d e-mails, want %d", sent, n)
	}
	stateDir := filepath.Join(stateHome, "ycm-onboard")
	historyHolds(t, stateDir, n)
	st, err := state.Open(stateDir, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := st.LastRuns(t.Context(), 1)
	st.Close()
	if err != nil || len(runs) != 1 || runs[0].ExitCode != exitPartial || runs[0].ReportPath != "" {
		t.Errorf("the history's last run: %+v (%v), want exit code %d and no report", runs, err, exitPartial)
	}

	// Without the limit, the next run has nothing to do and writes its report.
	a, out, errb := testApp(t, map[string]string{"XDG_STATE_HOME": stateHome})
	rerun := filepath.Join(reports, "rerun.xlsx")
	if code := runApp(t.Context(), a, "apply", wave, "--portal", ts.URL, "--report", rerun); code != exitOK {
		t.Fatalf("re-run: exit %d\n%s%s", code, out, errb)
	}
	if want := fmt.Sprintf("Plan: 0 to create, 0 to update, 0 to delete, 0 to re-invite, 0 to resize, %d unchanged.", m+n); !strings.Contains(out.String()+errb.String(), want) {
		t.Errorf("the re-run's plan is not %q:\n%s", want, lineWith(out.String()+errb.String(), "Plan: "))
	}
	if line := lineWith(errb.String(), "left unrecorded"); line != "" {
		t.Errorf("the first run left changes unrecorded:\n%s", line)
	}
	if sent := len(s.Outbox()); sent != n {
		t.Errorf("%d e-mails after the re-run, want %d", sent, n)
	}
	f, err := excelize.OpenFile(rerun)
	if err != nil {
		t.Fatalf("the re-run's report: %v", err)
	}
	f.Close()
	if fi, err := os.Stat(rerun); err == nil {
		t.Logf("the re-run's report is %d KB", fi.Size()>>10)
	}
}

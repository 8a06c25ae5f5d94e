//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/xuri/excelize/v2"
)

// Exit codes of README.md's "## Exit codes".
const (
	exitOK          = 0
	exitPartial     = 1
	exitUsage       = 2
	exitFatal       = 4
	exitLocal       = 6
	exitInterrupted = 130
	exitSignaled    = -1 // not an exit code: the suite's SIGKILL ended the run
)

// chaosCase is one line of the matrix.
type chaosCase struct {
	id, name, faults, expected string
	run                        func(ctx context.Context, c *caseRun)
}

// caseRun is one case being run: its directory, simulator, sheet and row.
type caseRun struct {
	s      *suite
	dir    string
	sim    *simProc
	emails []string // the sheet's colleagues
	input  string
	state  string // --state-dir
	*row
}

func (s *suite) runCase(ctx context.Context, cc chaosCase) *row {
	r := &row{id: cc.id, name: cc.name, faults: cc.faults, expected: cc.expected}
	dir := filepath.Join(s.root, "case-"+cc.id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		r.failf("%v", err)
		return r
	}
	c := &caseRun{s: s, dir: dir, state: filepath.Join(dir, "state"), row: r}
	defer func() {
		if c.sim != nil {
			c.sim.signal(syscall.SIGKILL)
		}
	}()
	cc.run(ctx, c)
	if ctx.Err() != nil {
		r.notes, r.fails = nil, []string{"interrupted: the suite was stopped"}
	}
	return r
}

// startSim starts the case's simulator with the given flags.
func (c *caseRun) startSim(ctx context.Context, args ...string) bool {
	p, err := c.s.startSim(ctx, c.dir, args...)
	if err != nil {
		c.failf("simulator: %v", err)
		return false
	}
	c.sim = p
	return true
}

// sheet writes the case's input: n new colleagues.
func (c *caseRun) sheet(n int) bool {
	c.input = filepath.Join(c.dir, "colleagues.csv")
	var b strings.Builder
	b.WriteString("Email,First Name,Last Name,Permissions,YCM Manager\n")
	c.emails = make([]string, n)
	for i := range n {
		c.emails[i] = fmt.Sprintf("chaos%04d@chaos.example", i)
		fmt.Fprintf(&b, "%s,Chaos,User %d,Dashboard; Customers,no\n", c.emails[i], i)
	}
	if err := os.WriteFile(c.input, []byte(b.String()), 0o644); err != nil {
		c.failf("%v", err)
		return false
	}
	return true
}

// applyOpts vary one apply run.
type applyOpts struct {
	report  string // default: the case's directory
	ulimitF int
	inject  injectFunc
	timeout time.Duration
}

// apply runs `ycm-onboard apply` on the case's sheet and records the run in the row.
func (c *caseRun) apply(ctx context.Context, o applyOpts) runResult {
	name := fmt.Sprintf("run%d", len(c.row.runs)+1)
	if o.report == "" {
		o.report = filepath.Join(c.dir, name+".xlsx")
	}
	r := c.s.job(ctx, c.dir, name, o.timeout, o.ulimitF, o.inject, "apply", c.input, "--portal", c.sim.url(), "--yes",
		"--concurrency", "16", "--state-dir", c.state, "--report", o.report)
	c.record(r)
	return r
}

// record adds a run to the row: its label, its memory, and whether it crashed.
func (c *caseRun) record(r runResult) {
	c.row.runs = append(c.row.runs, r.label())
	if r.rssKiB > c.rssKiB {
		c.rssKiB, c.rssFloor = r.rssKiB, r.rssKiB <= r.floorKiB
	}
	if r.note != "" {
		c.notef("run %d: %s", len(c.row.runs), r.note)
		if strings.HasPrefix(r.note, "fault not injected") {
			c.failf("run %d: the fault was not injected", len(c.row.runs))
		}
	}
	if r.timedOut {
		c.failf("run %d: still running after %s, killed", len(c.row.runs), r.wall.Round(time.Second))
	}
	if r.memOut {
		c.failf("run %d: killed when it held more than %d MiB, after %s", len(c.row.runs), c.s.cfg.maxRSS>>10, r.wall.Round(100*time.Millisecond))
	}
	if line := find(r.stderr, crashed); line != "" {
		c.failf("run %d crashed: %s", len(c.row.runs), line)
	}
}

// crashed matches a Go runtime failure in a run's stderr: a crash may exit 2, the code
// of a refused input, and must not pass for one.
func crashed(line []byte) bool {
	return bytes.HasPrefix(line, []byte("panic: ")) || bytes.HasPrefix(line, []byte("fatal error: "))
}

// says matches the lines that hold text.
func says(text string) func([]byte) bool {
	return func(line []byte) bool { return bytes.Contains(line, []byte(text)) }
}

// want fails the case unless the run ended with one of codes.
func (c *caseRun) want(r runResult, codes ...int) bool {
	if r.timedOut || r.memOut || !slices.Contains(codes, r.code) || (r.code == exitSignaled && r.signal != syscall.SIGKILL) {
		c.failf("run %d: %s, want %s", len(c.row.runs), r.label(), codeList(codes))
		return false
	}
	return true
}

func codeList(codes []int) string {
	s := make([]string, len(codes))
	for i, c := range codes {
		s[i] = strconv.Itoa(c)
		if c == exitSignaled {
			s[i] = "killed"
		}
	}
	return strings.Join(s, " or ")
}

// converge runs apply without faults until a run exits 0, at most max more runs.
func (c *caseRun) converge(ctx context.Context, last runResult, max int) {
	if err := c.sim.clearFaults(ctx); err != nil {
		c.failf("clear faults: %v", err)
		return
	}
	for i := 0; last.code != exitOK && i < max && ctx.Err() == nil; i++ {
		last = c.apply(ctx, applyOpts{})
		if last.code != exitOK {
			c.want(last, exitOK, exitPartial)
		}
	}
	if last.code != exitOK {
		c.failf("no run exited 0 in %d runs without faults", max)
	}
}

// check reads the simulator's world: duplicates, and the sheet's colleagues lost.
func (c *caseRun) check(ctx context.Context) {
	w, err := c.sim.world(ctx)
	if err != nil {
		c.failf("read the simulator: %v", err)
		return
	}
	d, l := w.duplicates(), w.lost(c.emails)
	c.dup, c.lost = strconv.Itoa(len(d)), strconv.Itoa(len(l))
	if len(d) > 0 {
		c.failf("%d addresses e-mailed or created twice, e.g. %s", len(d), d[0])
	}
	if len(l) > 0 {
		c.failf("%d colleagues of the sheet not in the portal, e.g. %s", len(l), l[0])
	}
}

// stats reads the simulator's request counts.
func (c *caseRun) stats(ctx context.Context) (stats, bool) {
	var st stats
	if err := c.sim.get(ctx, "/_sim/stats", &st); err != nil {
		c.failf("read the simulator's stats: %v", err)
		return st, false
	}
	return st, true
}

// requests fills the requests cell from the simulator's count so far.
func (c *caseRun) requests(ctx context.Context, n int) (stats, bool) {
	st, ok := c.stats(ctx)
	if ok {
		c.row.requests = fmt.Sprintf("%d for %d colleagues (%.3f×)", st.Total, n, float64(st.Total)/float64(n))
	}
	return st, ok
}

// whenMailed waits until the outbox holds n e-mails, then calls act.
func (c *caseRun) whenMailed(n int, act func(job *os.Process) string) injectFunc {
	return func(ctx context.Context, job *os.Process, exited <-chan struct{}) (string, error) {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-exited:
				return "", fmt.Errorf("the run ended before %d e-mails were out", n)
			case <-ctx.Done():
				return "", ctx.Err()
			case <-tick.C:
			}
			var out []json.RawMessage
			if err := c.sim.get(ctx, "/_sim/outbox", &out); err != nil {
				continue
			}
			if len(out) >= n {
				return fmt.Sprintf("%s after %d e-mails", act(job), len(out)), nil
			}
		}
	}
}

func cases() []chaosCase {
	return []chaosCase{
		{"1", "5xx answers", "10% of requests answered 500/503", "0 or 1, then 0 within 3 runs without faults", case5xx},
		{"2", "dropped requests and answers", "2% of writes lost before they take effect + 2% whose answer is lost", "0", caseDrops},
		{"3", "throttling", "200 requests/s per API, burst 50", "0", caseThrottle},
		{"4", "token expiry", "tokens live 2 s; 50 ms latency so the run outlives several", "0", caseTokens},
		{"5", "SIGINT mid-run", "SIGINT to the job at 25% of e-mails (20 ms latency)", "130 (report written) → 0", caseSIGINT},
		{"6", "SIGKILL mid-run", "SIGKILL to the job at 25% of e-mails (20 ms latency)", "killed → 0", caseSIGKILL},
		{"7", "portal killed mid-run", "simulator SIGKILLed at 25% of e-mails, restarted on its saved world", "4 → 0", casePortalKilled},
		{"8", "state directory full", "ulimit -f 2048 on the job, 1 ms latency, twice the colleagues", "6 → 0 (without the limit)", caseStateFull},
		{"9", "report directory full", "report on a 64 KiB tmpfs, state directory elsewhere", "1 (report not written) → 0, nothing to create", caseReportFull},
		{"10a", "crafted CSV", "a quote never closed in row 2, padded to 90 MB", "2, nothing written", caseCSVQuote},
		{"10b", "xlsx bomb", "a valid workbook whose one inline string is 900 MiB of 'A' (zipped to about 1 MB)", "2, nothing written", caseXLSXBomb},
		{"10c", "one address 10,000 times", "a CSV of 10,000 rows, every one the same colleague (0.6 MB)", "1 (every row skipped), nothing written", caseSameAddress},
	}
}

func case5xx(ctx context.Context, c *caseRun) {
	if !c.startSim(ctx, "--error-rate", "0.1") || !c.sheet(c.s.cfg.n) {
		return
	}
	r := c.apply(ctx, applyOpts{})
	c.want(r, exitOK, exitPartial)
	if st, ok := c.requests(ctx, len(c.emails)); ok {
		c.notef("first run: %d answered 5xx, %.1f s", st.count(func(_ string, s int) bool { return s >= 500 }), r.wall.Seconds())
	}
	c.converge(ctx, r, 3)
	c.check(ctx)
}

func caseDrops(ctx context.Context, c *caseRun) {
	if !c.startSim(ctx, "--drop-before-write-rate", "0.02", "--drop-after-write-rate", "0.02") || !c.sheet(c.s.cfg.n) {
		return
	}
	r := c.apply(ctx, applyOpts{})
	c.want(r, exitOK)
	if st, ok := c.requests(ctx, len(c.emails)); ok {
		c.notef("%d connections dropped (HTTP status 0 in /_sim/stats); %d reads among the requests",
			st.count(func(_ string, s int) bool { return s == 0 }), st.count(func(route string, _ int) bool { return strings.HasPrefix(route, "GET ") }))
	}
	c.check(ctx)
}

func caseThrottle(ctx context.Context, c *caseRun) {
	if !c.startSim(ctx, "--throttle-rate", "200", "--throttle-burst", "50") || !c.sheet(c.s.cfg.n) {
		return
	}
	r := c.apply(ctx, applyOpts{})
	c.want(r, exitOK)
	if st, ok := c.requests(ctx, len(c.emails)); ok {
		c.notef("%d answered 429; %.1f s, %.0f creates/s (the limit is 200/s)",
			st.count(func(_ string, s int) bool { return s == 429 }), r.wall.Seconds(), float64(len(c.emails))/r.wall.Seconds())
	}
	c.check(ctx)
}

func caseTokens(ctx context.Context, c *caseRun) {
	const ttl = 2 * time.Second
	if !c.startSim(ctx, "--token-ttl", ttl.String(), "--latency", "50ms") || !c.sheet(c.s.cfg.n) {
		return
	}
	r := c.apply(ctx, applyOpts{})
	c.want(r, exitOK)
	if st, ok := c.requests(ctx, len(c.emails)); ok {
		tokens := st.count(func(route string, s int) bool { return strings.Contains(route, "/oauth/token") && s == 200 })
		c.notef("%.1f s, %d tokens issued, %d calls refused for an expired token", r.wall.Seconds(), tokens,
			st.count(func(route string, s int) bool { return !strings.Contains(route, "/oauth/token") && s == 401 }))
		if r.wall < 3*ttl {
			c.failf("the run took %.1f s: it did not outlive three tokens", r.wall.Seconds())
		}
	}
	c.check(ctx)
}

func caseSIGINT(ctx context.Context, c *caseRun) {
	if !c.startSim(ctx, "--latency", "20ms") || !c.sheet(c.s.cfg.n) {
		return
	}
	report := filepath.Join(c.dir, "interrupted.xlsx")
	r := c.apply(ctx, applyOpts{report: report, inject: c.whenMailed(len(c.emails)/4, func(job *os.Process) string {
		_ = job.Signal(os.Interrupt)
		return "SIGINT"
	})})
	c.want(r, exitInterrupted)
	if f, err := excelize.OpenFile(report); err != nil {
		c.failf("no whole report after SIGINT: %v", err)
	} else {
		f.Close()
		c.notef("the interrupted run's report opens; it stopped %.1f s after the start", r.wall.Seconds())
	}
	c.converge(ctx, r, 1)
	c.check(ctx)
}

func caseSIGKILL(ctx context.Context, c *caseRun) {
	if !c.startSim(ctx, "--latency", "20ms") || !c.sheet(c.s.cfg.n) {
		return
	}
	r := c.apply(ctx, applyOpts{inject: c.whenMailed(len(c.emails)/4, func(job *os.Process) string {
		_ = job.Kill()
		return "SIGKILL"
	})})
	c.want(r, exitSignaled)
	c.converge(ctx, r, 1)
	if len(c.row.runs) > 1 && find(filepath.Join(c.dir, "run2.stderr"), says("settled changes an earlier run left unrecorded")) != "" {
		c.notef("the re-run settled the killed run's unrecorded changes")
	}
	c.check(ctx)
}

func casePortalKilled(ctx context.Context, c *caseRun) {
	world := filepath.Join(c.dir, "sim-world.json")
	if !c.startSim(ctx, "--state", world, "--latency", "20ms") || !c.sheet(c.s.cfg.n) {
		return
	}
	var killedAt time.Time
	r := c.apply(ctx, applyOpts{inject: c.whenMailed(len(c.emails)/4, func(*os.Process) string {
		c.sim.signal(syscall.SIGKILL)
		killedAt = time.Now()
		return "simulator SIGKILLed"
	})})
	c.want(r, exitFatal)
	if !killedAt.IsZero() {
		c.notef("the job exited %.1f s after the portal died", time.Since(killedAt).Seconds())
	}
	// The same address and world file, without the latency.
	c.sim.args = []string{"--state", world}
	if err := c.sim.start(ctx); err != nil {
		c.failf("restart the simulator: %v", err)
		return
	}
	c.converge(ctx, r, 1)
	c.check(ctx)
}

func caseStateFull(ctx context.Context, c *caseRun) {
	if !c.startSim(ctx, "--latency", "1ms") || !c.sheet(2*c.s.cfg.n) {
		return
	}
	r := c.apply(ctx, applyOpts{ulimitF: 2048})
	c.want(r, exitLocal)
	if find(r.stderr, says("Free space in the state directory")) != "" {
		c.notef("run 1 says to free space in the state directory")
	} else if r.code == exitLocal {
		c.failf("run 1 does not point at the state directory")
	}
	var out []json.RawMessage
	if err := c.sim.get(ctx, "/_sim/outbox", &out); err == nil {
		c.notef("%d of %d e-mailed before the history filled up", len(out), len(c.emails))
	}
	c.converge(ctx, r, 1)
	c.check(ctx)
}

func caseReportFull(ctx context.Context, c *caseRun) {
	if !c.startSim(ctx) || !c.sheet(c.s.cfg.n) {
		return
	}
	reports := filepath.Join(c.dir, "reports")
	if err := os.Mkdir(reports, 0o755); err != nil {
		c.failf("%v", err)
		return
	}
	if err := c.s.mount(ctx, reports, "64k"); err != nil {
		c.row.notRun = "needs root to mount a tmpfs"
		c.notef("mount: %v", err)
		return
	}
	defer c.s.unmount(reports)
	r := c.apply(ctx, applyOpts{report: filepath.Join(reports, "report.xlsx")})
	c.want(r, exitPartial)
	const lost = "the report could not be written"
	if line := find(r.stderr, says(lost)); line != "" {
		c.notef("run 1 says %q", strings.ReplaceAll(line[strings.Index(line, lost):], c.dir, "…"))
	} else {
		c.failf("run 1 does not say the report could not be written")
	}
	if n, err := c.invitations(ctx); err != nil {
		c.failf("status: %v", err)
	} else if n != len(c.emails) {
		c.failf("the run history records %d invitations after run 1, want %d", n, len(c.emails))
	} else {
		c.notef("the history records all %d invitations", n)
	}
	r2 := c.apply(ctx, applyOpts{})
	c.want(r2, exitOK)
	plan := find(r2.stdout, func(line []byte) bool { return bytes.HasPrefix(line, []byte("Plan: ")) })
	if m := regexp.MustCompile(`^Plan: (\d+) to create`).FindStringSubmatch(plan); m == nil || m[1] != "0" {
		c.failf("run 2's plan: %q, want nothing to create", plan)
	} else {
		c.notef("run 2: %q", plan)
	}
	c.check(ctx)
}

// invitations counts the invitations `ycm-onboard status` reads from the case's history.
func (c *caseRun) invitations(ctx context.Context) (int, error) {
	r := c.s.job(ctx, c.dir, "status", time.Minute, 0, nil, "status", "--state-dir", c.state, "--format", "json")
	if r.code != 0 {
		return 0, fmt.Errorf("exit %s: %s", r.label(), find(r.stderr, anyLine))
	}
	var st struct {
		Invitations []json.RawMessage `json:"invitations"`
	}
	out, err := os.ReadFile(r.stdout) // a line per invitation: a few hundred KB
	if err != nil {
		return 0, err
	}
	if err := json.Unmarshal(out, &st); err != nil {
		return 0, err
	}
	return len(st.Invitations), nil
}

//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// suite holds what the cases share: the binary, the temporary directory, and every
// simulator and mount still to clean up.
type suite struct {
	cfg  config
	root string // temporary directory
	bin  string // the ycm-onboard binary
	env  []string

	mu     sync.Mutex
	sims   map[*simProc]bool
	mounts []string
}

// demoCredentials are the simulator's demo clients (portal/sim).
var demoCredentials = []string{
	"YCM_PARTNER_CLIENT_ID=demo-partner", "YCM_PARTNER_CLIENT_SECRET=demo-secret",
	"YCM_CLIENT_ID=demo-ycm", "YCM_CLIENT_SECRET=demo-secret",
}

func newSuite(ctx context.Context, cfg config) (*suite, error) {
	if _, err := os.Stat(filepath.Join("cmd", "ycm-onboard")); err != nil {
		return nil, errors.New("run from the module root, where cmd/ycm-onboard is (make chaos)")
	}
	root, err := os.MkdirTemp("", "ycm-chaos-")
	if err != nil {
		return nil, err
	}
	s := &suite{cfg: cfg, root: root, bin: filepath.Join(root, "ycm-onboard"), sims: map[*simProc]bool{}}
	s.env = append(os.Environ(), demoCredentials...)
	build := exec.CommandContext(ctx, "go", "build", "-o", s.bin, "./cmd/ycm-onboard")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		s.close()
		return nil, fmt.Errorf("go build ./cmd/ycm-onboard: %w", err)
	}
	return s, nil
}

// close stops every simulator still running, unmounts, and removes the temporary
// directory (unless -keep).
func (s *suite) close() {
	s.mu.Lock()
	sims := make([]*simProc, 0, len(s.sims))
	for p := range s.sims {
		sims = append(sims, p)
	}
	mounts := slices.Clone(s.mounts)
	s.mu.Unlock()
	for _, p := range sims {
		p.signal(syscall.SIGKILL)
	}
	for _, m := range slices.Backward(mounts) {
		s.unmount(m)
	}
	if s.cfg.keep {
		fmt.Fprintf(os.Stderr, "chaos: kept %s\n", s.root)
		return
	}
	if err := os.RemoveAll(s.root); err != nil {
		fmt.Fprintf(os.Stderr, "chaos: remove %s: %v\n", s.root, err)
	}
}

// mount mounts a tmpfs of the given size on dir.
func (s *suite) mount(ctx context.Context, dir, size string) error {
	out, err := exec.CommandContext(ctx, "mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, bytes.TrimSpace(out))
	}
	s.mu.Lock()
	s.mounts = append(s.mounts, dir)
	s.mu.Unlock()
	return nil
}

func (s *suite) unmount(dir string) {
	s.mu.Lock()
	i := slices.Index(s.mounts, dir)
	if i < 0 {
		s.mu.Unlock()
		return
	}
	s.mounts = slices.Delete(s.mounts, i, i+1)
	s.mu.Unlock()
	if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "chaos: umount %s: %v: %s\n", dir, err, bytes.TrimSpace(out))
	}
}

// childAttr puts a child in its own process group, so a Ctrl-C at the terminal
// reaches the suite alone and the suite stops its children itself, and kills the
// child if the suite dies.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// simProc is one `ycm-onboard sim` process.
type simProc struct {
	s      *suite
	addr   string
	args   []string
	log    string
	cmd    *exec.Cmd
	exited chan struct{}
}

var admin = &http.Client{Timeout: 30 * time.Second}

// startSim starts a simulator on a free loopback port and waits until it answers.
func (s *suite) startSim(ctx context.Context, dir string, args ...string) (*simProc, error) {
	var last error
	for range 5 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		p := &simProc{s: s, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), args: args, log: filepath.Join(dir, "sim.log")}
		if last = p.start(ctx); last == nil {
			return p, nil
		}
	}
	return nil, last
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func (p *simProc) url() string { return "http://" + p.addr }

// start starts the simulator process on p.addr, or again on the same address.
func (p *simProc) start(ctx context.Context) error {
	logf, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(p.s.bin, append([]string{"sim", "--addr", p.addr, "--log-level", "warn"}, p.args...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start the simulator: %w", err)
	}
	p.cmd, p.exited = cmd, make(chan struct{})
	exited := p.exited
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	p.s.mu.Lock()
	p.s.sims[p] = true
	p.s.mu.Unlock()
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case <-exited:
			return fmt.Errorf("the simulator on %s exited at start (see %s)", p.addr, p.log)
		case <-ctx.Done():
			p.signal(syscall.SIGKILL)
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if p.get(ctx, "/_sim/clock", nil) == nil {
			return nil
		}
		if time.Now().After(deadline) {
			p.signal(syscall.SIGKILL)
			return fmt.Errorf("the simulator on %s did not answer within 15 s", p.addr)
		}
	}
}

// signal sends sig to the simulator and waits for it to end (SIGKILL after 10 s).
func (p *simProc) signal(sig syscall.Signal) {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
	p.s.mu.Lock()
	delete(p.s.sims, p)
	p.s.mu.Unlock()
}

func (p *simProc) get(ctx context.Context, path string, v any) error {
	return p.call(ctx, http.MethodGet, path, nil, v)
}

func (p *simProc) call(ctx context.Context, method, path string, body, v any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, p.url()+path, r)
	if err != nil {
		return err
	}
	resp, err := admin.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(b))
	}
	if v == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// clearFaults turns every fault knob off, latency included.
func (p *simProc) clearFaults(ctx context.Context) error {
	return p.call(ctx, http.MethodPost, "/_sim/faults", map[string]any{
		"latency": "0s", "jitter": "0s", "errorRate": 0, "dropBeforeWriteRate": 0, "dropAfterWriteRate": 0,
		"throttleRate": 0, "throttleBurst": 10, "throttleLump": 0, "throttleEvery": "0s",
	}, nil)
}

// stats is GET /_sim/stats.
type stats struct {
	Total  int64 `json:"total"`
	Routes []struct {
		Route  string `json:"route"`
		Status int    `json:"status"`
		Count  int64  `json:"count"`
	} `json:"routes"`
}

// count sums the requests whose route and status keep says.
func (st stats) count(keep func(route string, status int) bool) int64 {
	var n int64
	for _, r := range st.Routes {
		if keep(r.Route, r.Status) {
			n += r.Count
		}
	}
	return n
}

// world is what the checks read from the simulator: activation e-mails and colleagues
// per address (lower case).
type world struct {
	mails, colleagues map[string]int
	sent              int // activation e-mails in all
}

func (p *simProc) world(ctx context.Context) (world, error) {
	var outbox []struct {
		To string `json:"to"`
	}
	var st struct {
		Colleagues []struct {
			YeastarID string `json:"yeastarId"`
		} `json:"colleagues"`
	}
	if err := p.get(ctx, "/_sim/outbox", &outbox); err != nil {
		return world{}, err
	}
	if err := p.get(ctx, "/_sim/state", &st); err != nil {
		return world{}, err
	}
	w := world{mails: map[string]int{}, colleagues: map[string]int{}, sent: len(outbox)}
	for _, m := range outbox {
		w.mails[strings.ToLower(m.To)]++
	}
	for _, c := range st.Colleagues {
		w.colleagues[strings.ToLower(c.YeastarID)]++
	}
	return w, nil
}

// duplicates are the addresses e-mailed more than once or held by more than one colleague.
func (w world) duplicates() []string {
	var d []string
	for a, n := range w.mails {
		if n > 1 || w.colleagues[a] > 1 {
			d = append(d, a)
		}
	}
	for a, n := range w.colleagues {
		if n > 1 && w.mails[a] <= 1 {
			d = append(d, a)
		}
	}
	slices.Sort(d)
	return d
}

// lost are the sheet's addresses that no colleague of the portal holds.
func (w world) lost(emails []string) []string {
	var l []string
	for _, e := range emails {
		if w.colleagues[strings.ToLower(e)] == 0 {
			l = append(l, e)
		}
	}
	return l
}

// runResult is one apply (or validate) run of the job.
type runResult struct {
	code     int            // exit code; -1 when a signal ended it
	signal   syscall.Signal // the signal that ended it
	timedOut bool           // killed by the suite: it ran past -timeout
	memOut   bool           // killed by the suite: it held more than -max-rss
	wall     time.Duration
	rssKiB   int64  // the child's Maxrss
	floorKiB int64  // the suite's own Maxrss when it started the child: a floor under rssKiB
	stdout   string // file names
	stderr   string
	note     string // what the injection did
}

// label is how the table shows the run.
func (r runResult) label() string {
	switch {
	case r.timedOut:
		return "timeout"
	case r.memOut:
		return "killed at -max-rss"
	case r.code == -1 && r.signal != 0:
		return "killed (" + signalName(r.signal) + ")"
	case r.code == -1:
		return "not started"
	}
	return strconv.Itoa(r.code)
}

func signalName(s syscall.Signal) string {
	switch s {
	case syscall.SIGKILL:
		return "SIGKILL"
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}

// find returns the first line of an output file that match accepts (cut to 64 KiB
// before it is matched, to 300 bytes after), or "". It streams the file: a refused
// input's stderr may hold hundreds of megabytes, and whatever the suite holds shows
// in the Maxrss of every child it starts later, since Linux carries the parent's
// high-water mark across fork and exec.
func find(name string, match func(line []byte) bool) string {
	f, err := os.Open(name)
	if err != nil {
		return ""
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	for {
		b, err := br.ReadSlice('\n')
		if b = bytes.TrimSpace(b); len(b) > 0 && match(b) {
			if len(b) > 300 {
				return string(b[:300]) + "…"
			}
			return string(b)
		}
		for err == bufio.ErrBufferFull { // the rest of a long line
			_, err = br.ReadSlice('\n')
		}
		if err != nil {
			return ""
		}
	}
}

func anyLine([]byte) bool { return true }

// injectFunc injects a case's fault while the job runs. It returns what it did, or
// an error when it could not (the run ended first).
type injectFunc func(ctx context.Context, job *os.Process, exited <-chan struct{}) (string, error)

// job runs the ycm-onboard binary with args, logging to dir/name.stdout and .stderr:
// killed at -timeout (or timeout when not 0) and when it holds more than -max-rss.
// ulimitF > 0 runs it under sh's `ulimit -f`.
func (s *suite) job(ctx context.Context, dir, name string, timeout time.Duration, ulimitF int, inject injectFunc, args ...string) runResult {
	r := runResult{code: -1, stdout: filepath.Join(dir, name+".stdout"), stderr: filepath.Join(dir, name+".stderr")}
	if timeout == 0 {
		timeout = s.cfg.timeout
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	prog, argv := s.bin, args
	if ulimitF > 0 {
		prog = "sh"
		argv = append([]string{"-c", fmt.Sprintf(`ulimit -f %d && exec "$0" "$@"`, ulimitF), s.bin}, args...)
	}
	cmd := exec.CommandContext(rctx, prog, argv...)
	cmd.Env = s.env
	cmd.SysProcAttr = childAttr()
	cmd.WaitDelay = 10 * time.Second
	stdout, err1 := os.Create(r.stdout)
	stderr, err2 := os.Create(r.stderr)
	if err := errors.Join(err1, err2); err != nil {
		r.note = err.Error()
		return r
	}
	defer stdout.Close()
	defer stderr.Close()
	cmd.Stdout, cmd.Stderr = stdout, stderr
	r.floorKiB = selfMaxRSS()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		r.note = err.Error()
		return r
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	var memOut atomic.Bool
	go watchMemory(cmd.Process, s.cfg.maxRSS, exited, &memOut)
	if inject != nil {
		note, err := inject(rctx, cmd.Process, exited)
		if err != nil {
			note = "fault not injected: " + err.Error()
		}
		r.note = note
	}
	<-exited
	r.wall = time.Since(start)
	ps := cmd.ProcessState
	r.code = ps.ExitCode()
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		r.signal = ws.Signal()
	}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		r.rssKiB = ru.Maxrss // KiB on Linux
	}
	r.memOut = memOut.Load()
	r.timedOut = !r.memOut && errors.Is(rctx.Err(), context.DeadlineExceeded)
	return r
}

// watchMemory kills the process once its resident memory passes limit KiB: a job that
// reads a hostile file without bound would otherwise take the machine down.
func watchMemory(p *os.Process, limit int64, exited <-chan struct{}, killed *atomic.Bool) {
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	status := fmt.Sprintf("/proc/%d/status", p.Pid)
	for {
		select {
		case <-exited:
			return
		case <-tick.C:
		}
		if rss := procStatus(status, "VmRSS:"); rss > limit {
			killed.Store(true)
			_ = p.Kill()
			return
		}
	}
}

// procStatus reads a field in KiB (VmRSS:, VmHWM:) from a /proc/PID/status file; 0
// when it cannot.
func procStatus(status, field string) int64 {
	f, err := os.Open(status)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

//go:build linux

// Chaos runs ycm-onboard's fault matrix (issue 14) and prints one Markdown table.
//
// It builds the ycm-onboard binary once, then for each case starts a fresh
// `ycm-onboard sim` process on a free loopback port with the case's faults, runs
// `ycm-onboard apply` against it as a child process (as cron or a user does), injects
// the fault (a signal to the job, the simulator killed, a file size limit, a full
// tmpfs, a crafted input file), runs apply again where the case says so, and checks
// the simulator's world: no address e-mailed or created twice, no colleague of the
// sheet missing, every exit code the one the README's table names. The job's peak
// memory comes from the child's rusage.
//
// Usage, from the module root (Linux; the full-disk case mounts a tmpfs, so root):
//
//	go run ./scripts/chaos [-n 2000] [-run REGEXP] [-timeout 3m] [-max-rss 2048] [-keep]
//
// It exits 0 when every case passes, 1 when one fails, 2 when the suite cannot start,
// 130 when interrupted (simulators, mounts and temporary files are cleaned up).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// config is the command line.
type config struct {
	n       int            // colleagues per case (case 8 doubles it)
	only    *regexp.Regexp // case ids to run
	timeout time.Duration  // one apply run at most
	maxRSS  int64          // KiB: a run holding more is killed
	keep    bool           // keep the temporary directory
}

func main() { os.Exit(run()) }

func run() int {
	var (
		cfg   config
		only  string
		maxMB int64
	)
	flag.IntVar(&cfg.n, "n", 2000, "colleagues in each case's sheet (the full state directory case takes twice as many)")
	flag.StringVar(&only, "run", "", "run only the cases whose id matches this regular expression, e.g. '^(5|6)$'")
	flag.DurationVar(&cfg.timeout, "timeout", 3*time.Minute, "longest one apply run may take before it is killed and its case fails")
	flag.Int64Var(&maxMB, "max-rss", 2048, "MiB: an apply run holding more memory is killed and its case fails (this machine's guard)")
	flag.BoolVar(&cfg.keep, "keep", false, "keep the temporary directory (inputs, logs, reports, histories) and print where it is")
	flag.Parse()
	if flag.NArg() > 0 || cfg.n < 100 || maxMB < 64 {
		fmt.Fprintln(os.Stderr, "chaos: usage: go run ./scripts/chaos [-n 2000 (at least 100)] [-run REGEXP] [-timeout 3m] [-max-rss MiB] [-keep]")
		return 2
	}
	cfg.maxRSS = maxMB << 10
	var err error
	if cfg.only, err = regexp.Compile(only); err != nil {
		fmt.Fprintf(os.Stderr, "chaos: -run: %v\n", err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := newSuite(ctx, cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "chaos: %v\n", err)
		return 2
	}
	defer s.close()

	var rows []*row
	for _, c := range cases() {
		if !cfg.only.MatchString(c.id) {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		fmt.Fprintf(os.Stderr, "chaos: case %s: %s\n", c.id, c.name)
		start := time.Now()
		r := s.runCase(ctx, c)
		rows = append(rows, r)
		fmt.Fprintf(os.Stderr, "chaos: case %s: %s in %s (suite %d MB)\n", c.id, r.result(), time.Since(start).Round(100*time.Millisecond), selfMaxRSS()>>10)
	}
	printTable(os.Stdout, rows)
	fmt.Fprintf(os.Stderr, "chaos: the suite itself peaked at %d MB\n", (selfMaxRSS()+512)>>10)
	if ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "chaos: interrupted")
		return 130
	}
	for _, r := range rows {
		if r.failed() {
			return 1
		}
	}
	return 0
}

// row is one line of the table.
type row struct {
	id, name, faults string
	expected         string // the exit codes the README names, run by run
	runs             []string
	dup, lost        string
	rssKiB           int64 // the worst run's Maxrss
	rssFloor         bool  // that run's Maxrss was the suite's own: the run held at most that
	requests         string
	notes            []string
	fails            []string
	notRun           string // why the case could not run here
}

func (r *row) failf(format string, args ...any) {
	r.fails = append(r.fails, fmt.Sprintf(format, args...))
}
func (r *row) notef(format string, args ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}
func (r *row) failed() bool { return len(r.fails) > 0 }

func (r *row) result() string {
	switch {
	case r.failed():
		return "**FAIL**"
	case r.notRun != "":
		return "not run: " + r.notRun
	}
	return "PASS"
}

func printTable(w io.Writer, rows []*row) {
	fmt.Fprintln(w, "| # | case | faults injected | runs: exit codes | README says | dup | lost | peak RSS | requests | result | notes |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		runs := strings.Join(r.runs, " → ")
		rss := "—"
		if r.rssKiB > 0 {
			rss = fmt.Sprintf("%d MB", (r.rssKiB+512)>>10)
		}
		if r.rssFloor {
			rss = "≤ " + rss
		}
		notes := append(append([]string(nil), r.fails...), r.notes...)
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			r.id, cell(r.name), cell(r.faults), cell(or(runs, "—")), cell(r.expected), or(r.dup, "—"), or(r.lost, "—"),
			rss, cell(or(r.requests, "—")), r.result(), cell(strings.Join(notes, "; ")))
	}
}

// cell makes text safe inside a Markdown table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.Join(strings.Fields(s), " ")
}

func or(s, dflt string) string {
	if s == "" {
		return dflt
	}
	return s
}

// selfMaxRSS is the suite's own peak memory in KiB: the high-water mark of its address
// space (VmHWM), which Linux carries into the Maxrss of a child the suite forks and
// execs, so it is a floor under every child's: a child at the floor held at most
// that (shown "≤"). Not getrusage's: that also holds what the program that started
// the suite (go run) had.
func selfMaxRSS() int64 { return procStatus("/proc/self/status", "VmHWM:") }

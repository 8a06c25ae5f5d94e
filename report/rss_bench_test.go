//go:build bench

package report

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// The budgets of the issue: performance targets live behind the bench tag, not in the
// default suite. Run: go test -tags bench -run TestPeakRSS100k -v ./report/
const (
	bigWallBudget = 2 * time.Second
	bigRSSBudget  = 150 << 20
)

// TestPeakRSS100k writes a 100,000-row report in a fresh process with Go's default
// garbage collector settings (GOGC=100, no memory limit) and checks its wall time and
// peak resident memory (VmHWM), the fixture included.
//
// The plan and results alone are about 65 MB live (reconcile.Action is 416 bytes,
// Result 120), and the heap may grow to twice the live set before a collection: the
// writer must keep little live and make little garbage for the budget to hold.
func TestPeakRSS100k(t *testing.T) {
	if dir := os.Getenv("REPORT_RSS_CHILD"); dir != "" {
		rssChild(t, dir)
		return
	}
	if testing.Short() {
		t.Skip("100,000-row report skipped in -short mode")
	}
	if raceEnabled {
		t.Skip("race detector on: time and memory are not representative")
	}
	before, peak, wall := measureChild(t)
	t.Logf("100,000 rows, default GC: wall %v (budget %v), peak RSS %.1f MB (budget %d MB; %.1f MB before writing: the fixture)",
		wall.Round(time.Millisecond), bigWallBudget, float64(peak)/(1<<20), bigRSSBudget>>20, float64(before)/(1<<20))
	if peak > bigRSSBudget {
		t.Errorf("peak RSS %.1f MB, budget %d MB", float64(peak)/(1<<20), bigRSSBudget>>20)
	}
	if wall > bigWallBudget {
		t.Errorf("wall %v, budget %v", wall, bigWallBudget)
	}
}

// measureChild runs rssChild in a fresh process with the garbage collector's defaults,
// whatever this process's environment says.
func measureChild(t *testing.T) (before, peak int, wall time.Duration) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestPeakRSS100k$", "-test.count=1")
	cmd.Env = append(os.Environ(), "REPORT_RSS_CHILD="+t.TempDir(), "GOMEMLIMIT=off", "GOGC=100")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`rss_before=(\d+) rss_peak=(\d+) wall=(\S+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("child printed no measurement:\n%s", out)
	}
	before, _ = strconv.Atoi(string(m[1]))
	peak, _ = strconv.Atoi(string(m[2]))
	if wall, err = time.ParseDuration(string(m[3])); err != nil {
		t.Fatal(err)
	}
	return before, peak, wall
}

func rssChild(t *testing.T, dir string) {
	r := bigRun(bigRows)
	before := vmHWM(t)
	start := time.Now()
	if err := writeFile(filepath.Join(dir, "big.xlsx"), r); err != nil {
		t.Fatal(err)
	}
	wall := time.Since(start)
	fmt.Printf("rss_before=%d rss_peak=%d wall=%v\n", before, vmHWM(t), wall)
}

// vmHWM is the process's peak resident set size in bytes.
func vmHWM(t *testing.T) int {
	t.Helper()
	status, err := os.ReadFile("/proc/self/status")
	if err == nil {
		if m := regexp.MustCompile(`VmHWM:\s+(\d+) kB`).FindSubmatch(status); m != nil {
			kb, _ := strconv.Atoi(string(m[1]))
			return kb << 10
		}
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return int(ru.Maxrss) << 10 // kilobytes on Linux
}

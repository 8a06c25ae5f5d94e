package state

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// childEnv makes the test binary act as a second process (see TestMain).
const childEnv = "STATE_TEST_CHILD"

// TestMain lets a test re-run this binary as another process: with childEnv set to
// "lock DIR" it holds DIR's lock until its standard input closes; with "crash DIR" it
// records an intent and exits without an outcome or Close; with "batch DIR" it records
// ten intents and their outcomes as an apply does (crashEnv may kill it on the way).
func TestMain(m *testing.M) {
	if role := os.Getenv(childEnv); role != "" {
		os.Exit(child(role))
	}
	os.Exit(m.Run())
}

func child(role string) int {
	what, dir, _ := strings.Cut(role, " ")
	ctx := context.Background()
	switch what {
	case "lock":
		l, err := AcquireLock(ctx, dir, 0)
		if err != nil {
			fmt.Println("error", err)
			return 1
		}
		fmt.Println("locked", os.Getpid())
		io.Copy(io.Discard, os.Stdin) // until the parent closes it
		if err := l.Release(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	case "crash":
		s, err := Open(dir, time.Now)
		if err != nil {
			fmt.Println("error", err)
			return 1
		}
		run, err := s.BeginRun(ctx, RunInfo{Mode: "apply", Started: time.Now()})
		if err == nil {
			_, err = s.RecordIntent(ctx, run, 0, Intent{Object: "colleague", Key: "crash@example.com", Kind: "create"})
		}
		if err != nil {
			fmt.Println("error", err)
			return 1
		}
		fmt.Println("recorded")
		return 7 // no outcome, no Close: as if killed
	case "batch":
		// Ten intents, then their outcomes in one group; crashEnv picks where it dies.
		s, err := Open(dir, time.Now)
		if err != nil {
			fmt.Println("error", err)
			return 1
		}
		run, err := s.BeginRun(ctx, RunInfo{Mode: "apply", Started: time.Now()})
		if err != nil {
			fmt.Println("error", err)
			return 1
		}
		seqs, ins := make([]int, 10), make([]Intent, 10)
		for i := range ins {
			seqs[i], ins[i] = i, Intent{Object: "colleague", Key: fmt.Sprintf("c%d@example.com", i), Kind: "create"}
		}
		ids, err := s.RecordIntents(ctx, run, seqs, ins)
		if err != nil {
			fmt.Println("error", err)
			return 1
		}
		out := s.Outcomes()
		for i, id := range ids {
			out.Add(id, Outcome{Outcome: "applied", Attempts: 1},
				&Invite{Email: fmt.Sprintf("c%d@example.com", i), ColleagueID: int64(100 + i), At: time.Now()})
		}
		if err := out.Close(); err != nil {
			fmt.Println("error", err)
			return 1
		}
		fmt.Println("recorded")
		return 0
	}
	return 2
}

// child is a second process running this test binary in a role.
type childProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
	once  sync.Once
}

func startChild(t *testing.T, role string) *childProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	// The race detector's runtime otherwise waits a second before exiting.
	cmd.Env = append(os.Environ(), childEnv+"="+role, "GORACE="+os.Getenv("GORACE")+" atexit_sleep_ms=0")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &childProc{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)}
	t.Cleanup(func() { c.stop(); cmd.Wait() })
	return c
}

// line reads the child's next line of output.
func (c *childProc) line(t *testing.T) string {
	t.Helper()
	l, err := c.out.ReadString('\n')
	if err != nil {
		t.Fatalf("reading the child's output: %v", err)
	}
	return strings.TrimSpace(l)
}

// stop closes the child's standard input: a lock holder then releases and exits.
func (c *childProc) stop() { c.once.Do(func() { c.stdin.Close() }) }

// holdLock starts a child holding dir's lock and returns its pid once it holds it.
func holdLock(t *testing.T, dir string) (*childProc, int) {
	t.Helper()
	c := startChild(t, "lock "+dir)
	l := c.line(t)
	pid, err := strconv.Atoi(strings.TrimPrefix(l, "locked "))
	if err != nil {
		t.Fatalf("child: %s", l)
	}
	return c, pid
}

// clock is a settable clock safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func openStore(t testing.TB, dir string, c *clock) *Store {
	t.Helper()
	s, err := Open(dir, c.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

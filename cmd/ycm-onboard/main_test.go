package main

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/xuri/excelize/v2"

	"github.com/ycm-onboard/ycm-onboard/portal/sim"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"ycm-onboard": func() { os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the command line end to end against a simulator over real HTTP on
// 127.0.0.1, one fresh simulator per script ($PORTAL), with the demo credentials set.
// The simulator speaks the documented dialect unless the script holds a .sim-dialect
// file naming another (see sim.ParseDialect).
func TestScripts(t *testing.T) {
	testscript.Run(t, scriptParams(t, "", "testdata/script"))
}

// TestWalkingSkeletonInEveryDialect runs the walking skeleton against every shape the
// simulator can serve where Yeastar's guides are silent.
func TestWalkingSkeletonInEveryDialect(t *testing.T) {
	for _, nd := range sim.Dialects() {
		t.Run(nd.Name, func(t *testing.T) {
			p := scriptParams(t, nd.Dialect.String(), "")
			p.Files = []string{"testdata/script/walking_skeleton.txtar"}
			testscript.Run(t, p)
		})
	}
}

// scriptParams are the testscript parameters of the CLI tests; dialect "" lets each
// script choose with its .sim-dialect file.
func scriptParams(t *testing.T, dialect, dir string) testscript.Params {
	samples, err := filepath.Abs("../../samples")
	if err != nil {
		t.Fatal(err)
	}
	return testscript.Params{
		Dir: dir,
		Setup: func(env *testscript.Env) error {
			spec := dialect
			if spec == "" {
				if b, err := os.ReadFile(filepath.Join(env.WorkDir, ".sim-dialect")); err == nil {
					spec = strings.TrimSpace(string(b))
				}
			}
			d, err := sim.ParseDialect(spec)
			if err != nil {
				return err
			}
			s, err := sim.New(sim.Options{Dialect: d})
			if err != nil {
				return err
			}
			ts := httptest.NewServer(s)
			env.Defer(ts.Close)
			env.Values["sim"] = s
			env.Setenv("PORTAL", ts.URL)
			env.Setenv("SAMPLES", samples)
			env.Setenv("XDG_STATE_HOME", filepath.Join(env.WorkDir, ".state"))
			env.Setenv(envPartnerID, sim.DemoPartnerID)
			env.Setenv(envPartnerSecret, sim.DemoPartnerSecret)
			env.Setenv(envYCMID, sim.DemoYCMID)
			env.Setenv(envYCMSecret, sim.DemoYCMSecret)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"sim-outbox":  cmdSimOutbox,
			"sim-advance": cmdSimAdvance,
			"sim-faults":  cmdSimFaults,
			"sim-state":   cmdSimState,
			"sim-activate": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 1 {
					ts.Fatalf("usage: sim-activate EMAIL")
				}
				err := simOf(ts).Activate(args[0])
				if (err != nil) != neg {
					ts.Fatalf("activate %s: %v", args[0], err)
				}
			},
			"xlsx-dump": cmdXLSXDump,
			"expand":    cmdExpand,
			"exits":     cmdExits,
		},
	}
}

func simOf(ts *testscript.TestScript) *sim.Server { return ts.Value("sim").(*sim.Server) }

// sim-outbox N: the simulator has sent exactly N activation e-mails; with a second
// argument, exactly N to that address.
func cmdSimOutbox(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: sim-outbox N [EMAIL]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	n := 0
	for _, e := range simOf(ts).Outbox() {
		if len(args) == 1 || strings.EqualFold(e.To, args[1]) {
			n++
		}
	}
	if (n == want) == neg {
		ts.Fatalf("outbox holds %d e-mails, want %d", n, want)
	}
}

// sim-advance DURATION moves the simulator's clock.
func cmdSimAdvance(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: sim-advance DURATION")
	}
	d, err := time.ParseDuration(args[0])
	ts.Check(err)
	simOf(ts).Advance(d)
}

// sim-faults JSON sets the fault knobs.
func cmdSimFaults(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: sim-faults JSON")
	}
	req, _ := http.NewRequest(http.MethodPost, ts.Getenv("PORTAL")+"/_sim/faults", strings.NewReader(args[0]))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	ts.Check(err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		ts.Fatalf("set faults: HTTP %d", resp.StatusCode)
	}
}

// sim-state prints the simulator's colleagues (e-mail, status, permissions, owner, id) and PBXs
// (extensions, calls, transcription).
func cmdSimState(ts *testscript.TestScript, neg bool, args []string) {
	s := simOf(ts)
	var b bytes.Buffer
	for _, c := range s.Colleagues() {
		fmt.Fprintf(&b, "colleague %s %s %v rm=%d owner=%d id=%d\n", c.YeastarID, c.UserStatus, c.ResourceIDs, c.IsRmUser, c.OwnerID, c.ColleaguesID)
	}
	for _, p := range s.PBXs() {
		fmt.Fprintf(&b, "pbx %s ext=%d calls=%d tr=%d\n", p.SN, p.ExtensionCapacity, p.ConcurrentCallCapacity, p.TranscriptionCapacity)
	}
	ts.Stdout().Write(b.Bytes())
}

// xlsx-dump FILE SHEET prints a sheet's rows, cells separated by " | ".
func cmdXLSXDump(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: xlsx-dump FILE SHEET")
	}
	f, err := excelize.OpenFile(ts.MkAbs(args[0]))
	ts.Check(err)
	defer f.Close()
	rows, err := f.GetRows(args[1])
	ts.Check(err)
	for _, r := range rows {
		fmt.Fprintln(ts.Stdout(), strings.Join(r, " | "))
	}
}

// expand SRC DST copies SRC to DST with $VAR and ${VAR} replaced by the script's
// environment: a configuration file that points at this script's simulator ($PORTAL).
func cmdExpand(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: expand SRC DST")
	}
	b, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(os.Expand(string(b), ts.Getenv)), 0o644))
}

// exits CODE COMMAND [ARGS...] runs the command like exec and checks its exit code;
// stdout and stderr can be checked after it as after exec.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE COMMAND [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("%s: %v", args[1], err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
}

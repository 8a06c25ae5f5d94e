package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/ycm-onboard/ycm-onboard/portal"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// app is what every command shares: streams, environment, clock, logger.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	now            func() time.Time
	log            zerolog.Logger
	stdinTTY       bool // stdin is a terminal: apply may ask before writing
	stderrTTY      bool
	logLevel       string
	logFormat      string
	configPath     string
	cpuProfile     string         // --cpu-profile: where the CPU profile of this run goes
	profile        *os.File       // open while the profile runs
	summaryDone    bool           // the --json summary is on stdout
	notifyRoots    *x509.CertPool // the e-mail receivers' trusted authorities; nil: the system's (tests set theirs)
	osUser         func() string  // the person at the terminal (tests set theirs); nil: os/user
}

// Main runs the command line and returns the exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv, now: time.Now,
		stdinTTY: isTerminal(stdin), stderrTTY: isTerminal(stderr)}
	portal.Version = version

	ctx, stop := signalContext()
	defer stop()
	return a.main(ctx, args)
}

// main runs the command line on a's streams and returns the exit code. Tests call it.
func (a *app) main(ctx context.Context, args []string) int {
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if a.profile != nil {
		pprof.StopCPUProfile()
		a.profile.Close()
	}
	if err == nil {
		return exitOK
	}
	code, msg := exitCode(err)
	if msg != "" {
		fmt.Fprintln(a.stderr, "ycm-onboard: "+msg)
	}
	if !a.summaryDone && wantsJSON(cmd, args) {
		// The run stopped before its summary: monitoring reading stdout still gets
		// one document per run, with the exit code under the summary's own name.
		_ = json.NewEncoder(a.stdout).Encode(struct {
			ExitCode int    `json:"exit_code"`
			Error    string `json:"error"`
		}{code, msg})
	}
	return code
}

// wantsJSON reports whether the command has --json and it was given. When parsing the
// flags failed, those after the bad one were never parsed: the arguments are read.
func wantsJSON(cmd *cobra.Command, args []string) bool {
	fl := cmd.Flags().Lookup("json")
	if fl == nil {
		return false
	}
	if fl.Changed {
		return fl.Value.String() == "true"
	}
	want := false
	for _, arg := range args {
		if arg == "--" {
			break
		}
		if arg == "--json" {
			want = true
		} else if v, ok := strings.CutPrefix(arg, "--json="); ok {
			want, _ = strconv.ParseBool(v)
		}
	}
	return want
}

// signalContext is cancelled by the first SIGINT or SIGTERM; a second one exits at once.
func signalContext() (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { // the one goroutine outside the worker pool: it ends with done
		select {
		case <-ch:
			cancel()
		case <-done:
			return
		}
		select {
		case <-ch:
			os.Exit(exitInterrupted)
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(done)
		cancel()
	}
}

func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "ycm-onboard",
		Short: "Onboard colleagues into the Yeastar Partner Portal and resize cloud PBXs, in bulk, from a spreadsheet",
		Long: `ycm-onboard reads a spreadsheet of colleagues, their permissions and the target size of
each cloud PBX, compares it with the Yeastar Partner Portal and Yeastar Central Management,
applies the differences with bounded concurrency, and writes an Excel report of every row.

Without --portal, --partner-url or --ycm-url, and with no credentials in the environment
and no --config, it runs against a built-in simulator holding a demo world, so you can try
it without an account.`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.setupLogging(); err != nil {
				return err
			}
			return a.startProfile()
		},
	}
	root.PersistentFlags().StringVar(&a.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	root.PersistentFlags().StringVar(&a.configPath, "config", "", "a YAML configuration file (flags override it; see the README)")
	root.PersistentFlags().StringVar(&a.logFormat, "log-format", "auto", "log format: auto (readable on a terminal, JSON otherwise), console, json")
	// For measuring the job's cost per action (scripts/bench-apply.sh): not for users.
	root.PersistentFlags().StringVar(&a.cpuProfile, "cpu-profile", "", "write a CPU profile of the run to this file")
	_ = root.PersistentFlags().MarkHidden("cpu-profile")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return exitf(exitUsage, err.Error()+" (see --help)")
	})
	root.AddCommand(a.validateCommand(), a.planCommand(), a.applyCommand(), a.simCommand(), a.statusCommand(), a.templateCommand(),
		a.exportCommand(), a.doctorCommand(), a.serveCommand(), a.usersCommand(), a.versionCommand(), a.manCommand(), a.approveCommand())
	return root
}

// startProfile starts the CPU profile --cpu-profile asks for; main stops it.
func (a *app) startProfile() error {
	if a.cpuProfile == "" {
		return nil
	}
	f, err := os.Create(a.cpuProfile)
	if err != nil {
		return exitf(exitUsage, "--cpu-profile: "+err.Error())
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return exitf(exitUsage, "--cpu-profile: "+err.Error())
	}
	a.profile = f
	return nil
}

func (a *app) setupLogging() error {
	lvl, err := zerolog.ParseLevel(a.logLevel)
	if err != nil || a.logLevel == "" {
		return exitf(exitUsage, fmt.Sprintf("--log-level %q: use debug, info, warn or error", a.logLevel))
	}
	var w io.Writer = a.stderr
	switch a.logFormat {
	case "console":
		w = zerolog.ConsoleWriter{Out: a.stderr, TimeFormat: time.TimeOnly, NoColor: !a.stderrTTY}
	case "json":
	case "auto", "":
		if a.stderrTTY {
			w = zerolog.ConsoleWriter{Out: a.stderr, TimeFormat: time.TimeOnly}
		}
	default:
		return exitf(exitUsage, fmt.Sprintf("--log-format %q: use auto, console or json", a.logFormat))
	}
	// Both portal clients log from their workers: one event is one whole write.
	a.log = zerolog.New(zerolog.SyncWriter(w)).Level(lvl).With().Timestamp().Logger()
	return nil
}

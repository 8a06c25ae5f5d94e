package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ycm-onboard/ycm-onboard/config"
	"github.com/ycm-onboard/ycm-onboard/importer"
	"github.com/ycm-onboard/ycm-onboard/job"
	"github.com/ycm-onboard/ycm-onboard/metrics"
	"github.com/ycm-onboard/ycm-onboard/notify"
	"github.com/ycm-onboard/ycm-onboard/reconcile"
	"github.com/ycm-onboard/ycm-onboard/report"
	"github.com/ycm-onboard/ycm-onboard/state"
)

// inputFlags say how to read the input.
type inputFlags struct {
	threeCX  []string
	pbx      []string
	headroom string
}

func (f *inputFlags) add(fs *pflag.FlagSet) {
	fs.StringArrayVar(&f.threeCX, "3cx", nil, "a 3CX user export to size a PBX from (with --pbx)")
	fs.StringArrayVar(&f.pbx, "pbx", nil, "the PBX (name or SN) the matching --3cx export sizes")
	fs.StringVar(&f.headroom, "headroom", "10%", "extensions added on top of a 3CX export's users, as a percentage of them (10% or 10)")
}

// args wants at least one input file, or a --3cx export to size from.
func (f *inputFlags) args(cmd *cobra.Command, args []string) error {
	if len(args) == 0 && len(f.threeCX) == 0 {
		return exitf(exitUsage, "give at least one input file (.xlsx or .csv), or --3cx FILE --pbx NAME")
	}
	return nil
}

func (f *inputFlags) options() (importer.Options, error) {
	var o importer.Options
	if len(f.threeCX) != len(f.pbx) {
		return o, exitf(exitUsage, "each --3cx FILE needs its --pbx NAME")
	}
	h, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(f.headroom), "%"), 64)
	if err != nil || h < 0 || h > 1000 {
		return o, exitf(exitUsage, fmt.Sprintf("--headroom %q: give a percentage such as 10%%", f.headroom))
	}
	for i := range f.threeCX {
		o.ThreeCX = append(o.ThreeCX, importer.ThreeCXSizing{Path: f.threeCX[i], PBX: f.pbx[i], HeadroomPercent: h})
	}
	return o, nil
}

// runFlags are plan's and apply's.
type runFlags struct {
	in          inputFlags
	hist        historyFlags
	portal      portalFlags
	diff        reconcile.Options
	report      string
	reportDir   string
	concurrency int
	yes         bool
	strict      bool
	jsonOut     bool
	out         string             // plan: save the plan here
	planFile    string             // apply: apply this saved plan
	canary      int                // apply: the first N changes alone
	canaryFail  float64            // apply: stop after the canary if more than this percentage failed
	metricsFile string             // the run's figures for node_exporter's textfile collector
	notify      []config.Notify    // the configuration file's receivers of the run's end
	approval    reconcile.Approval // the configuration file's require_approval
	approve     int64              // approve: the proposal to apply, as approver
	approver    string
}

func (f *runFlags) add(fs *pflag.FlagSet, apply bool) {
	f.in.add(fs)
	fs.StringVar(&f.hist.stateDir, "state-dir", "", "run history and lock directory (default $XDG_STATE_HOME/ycm-onboard or ~/.local/state/ycm-onboard; on Windows %LOCALAPPDATA%\\ycm-onboard)")
	fs.DurationVar(&f.hist.lockTimeout, "lock-timeout", 0, "wait this long for another apply to finish (0: exit 5 at once)")
	fs.IntVar(&f.hist.keepReports, "keep-reports", 0, "keep only the newest N reports in --report-dir (0: keep all)")
	addPortalFlags(fs, &f.portal)
	fs.StringVar(&f.report, "report", "", "report workbook path (default ycm-onboard-<mode>-<UTC time>.xlsx)")
	fs.StringVar(&f.reportDir, "report-dir", ".", "directory for the report when --report is not given")
	fs.BoolVar(&f.strict, "strict", false, "refuse to run when any row has an error")
	fs.StringVar(&f.metricsFile, "metrics-file", "", "write the run's figures here at its end, whatever the ending, for node_exporter's textfile collector (a .prom file)")
	fs.BoolVar(&f.jsonOut, "json", false, "print a machine-readable summary on stdout, and nothing else there (the plan goes to stderr)")
	d := reconcile.DefaultOptions()
	fs.BoolVar(&f.diff.Prune, "prune", false, "delete portal colleagues the sheet lacks")
	fs.BoolVar(&f.diff.NoReinvite, "no-reinvite", false, "do not re-invite colleagues whose activation link expired")
	fs.IntVar(&f.diff.MaxReinvites, "max-reinvites", d.MaxReinvites, "re-invite one colleague at most this many times across runs, by the run history (0: no limit)")
	fs.BoolVar(&f.diff.AllowShrink, "allow-shrink", false, "allow lowering a PBX's extension capacity")
	fs.IntVar(&f.diff.MaxDelete, "max-delete", d.MaxDelete, "refuse a plan deleting more colleagues than this")
	fs.Float64Var(&f.diff.MaxDeletePercent, "max-delete-percent", d.MaxDeletePercent,
		"refuse a plan deleting more than this percentage of the portal's colleagues (once it holds 50 or more)")
	fs.IntVar(&f.diff.ExtensionPool, "extension-pool", 0, "the hosting package's extensions across its PBXs: grows that do not fit are blocked in the plan (0: not checked)")
	if !apply {
		fs.StringVar(&f.out, "out", "", "save the plan to this JSON file, to apply exactly with apply --plan FILE")
	}
	if apply {
		fs.StringVar(&f.planFile, "plan", "", "apply exactly this saved plan (refused if the portal changed since)")
		fs.IntVar(&f.canary, "canary", 0, "apply the first N changes alone, and stop if too many of them fail")
		fs.Float64Var(&f.canaryFail, "canary-max-fail", 20, "with --canary: stop if more than this percentage of the first N failed")
		fs.IntVar(&f.concurrency, "concurrency", 4, fmt.Sprintf("changes in flight at once (1..%d)", reconcile.MaxConcurrency))
		fs.BoolVarP(&f.yes, "yes", "y", false, "apply without asking")
	}
}

func (a *app) planCommand() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "plan FILE...",
		Short: "Show what apply would change, and write the report; change nothing",
		Args:  f.in.args,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.batch(cmd, job.Plan, args, &f)
		},
	}
	f.add(cmd.Flags(), false)
	return cmd
}

func (a *app) applyCommand() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "apply FILE...",
		Short: "Plan, then apply the changes to the portal, then write the report",
		Long: `Plan, then apply the changes to the portal, then write the report.

On a terminal apply shows the plan and asks before changing anything (--yes skips
the question); off a terminal it never asks.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if f.planFile != "" {
				if len(args) > 0 {
					return exitf(exitUsage, "apply --plan takes no input files: the plan already holds the changes")
				}
				return nil
			}
			return f.in.args(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.batch(cmd, job.Apply, args, &f)
		},
	}
	f.add(cmd.Flags(), true)
	return cmd
}

// batch is plan and apply: the settings, the run, then the run's metrics file, which
// is written however the run ended, a refused setting included, so a scheduler's
// alert sees every run; then the notifications, which tell of that same ending.
func (a *app) batch(cmd *cobra.Command, mode job.Mode, files []string, f *runFlags) error {
	started := a.now()
	m := metrics.New(metrics.Options{Modes: []job.Mode{mode}})
	var out job.Outcome
	var rs []notify.Receiver
	err := a.applyConfig(cmd, f)
	if err == nil {
		// Before anything is read: a receiver whose secret is not set refuses the run.
		rs, err = a.receivers(f.notify, a.notifyRoots)
	}
	if err == nil {
		err = f.check(cmd.Flags(), mode == job.Apply)
	}
	if merr := f.checkMetricsFile(a.configPath, files); merr != nil {
		err = cmp.Or(err, merr) // and no file where it was refused
		a.notify(cmd.Context(), rs, mode, out, err, started)
		return err
	}
	if err == nil {
		out, err = a.run(cmd.Context(), mode, files, *f, m)
	}
	err = a.writeMetrics(m, mode, out, err, f.metricsFile)
	a.notify(cmd.Context(), rs, mode, out, err, started)
	return err
}

// writeMetrics writes the metrics file, if asked for, of a run that ended with err,
// and returns what the run now ends with.
func (a *app) writeMetrics(m *metrics.Metrics, mode job.Mode, out job.Outcome, err error, path string) error {
	if path == "" {
		return err
	}
	m.Run(mode, endingOf(err), out, a.now())
	if werr := m.WriteFile(path); werr != nil {
		// Monitoring that reads the file would miss this run: said, and a run that
		// ended well ends as one whose report was lost.
		a.log.Error().Err(werr).Msg("the metrics file was not written")
		if err == nil {
			return exitf(exitPartial, "the run went well, but "+werr.Error())
		}
		fmt.Fprintln(a.stderr, "ycm-onboard: "+werr.Error())
	}
	return err
}

// checkMetricsFile refuses a --metrics-file that node_exporter would not read (its
// textfile collector reads *.prom only), that cannot be written, or that would replace
// an input or another output, before anything is read or sent.
func (f *runFlags) checkMetricsFile(configPath string, files []string) error {
	path := f.metricsFile
	if path == "" {
		return nil
	}
	if filepath.Ext(path) != ".prom" {
		return exitf(exitUsage, fmt.Sprintf("--metrics-file %s: name it *.prom, the only files node_exporter's textfile collector reads", path))
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return exitf(exitUsage, fmt.Sprintf("--metrics-file %s is a directory: give a file name ending in .prom", path))
	}
	probe, err := os.CreateTemp(filepath.Dir(path), ".ycm-onboard-probe-*")
	if err != nil {
		return exitf(exitUsage, fmt.Sprintf("--metrics-file %s cannot be written: %v (nothing was read or changed)", path, err))
	}
	probe.Close()
	_ = os.Remove(probe.Name())
	inputs := []job.NamedPath{{What: "configuration file (--config)", Path: configPath}, {What: "saved plan (--plan)", Path: f.planFile}}
	for _, p := range files {
		inputs = append(inputs, job.NamedPath{What: "input file " + p, Path: p})
	}
	for _, p := range f.in.threeCX {
		inputs = append(inputs, job.NamedPath{What: "3CX export " + p, Path: p})
	}
	outputs := []job.NamedPath{{What: "--report", Path: f.report}, {What: "--out", Path: f.out}, {What: "--metrics-file", Path: path}}
	return job.CheckOutputs(inputs, outputs)
}

// run is plan and apply: the job, answered from this terminal, counted in m.
func (a *app) run(ctx context.Context, mode job.Mode, files []string, f runFlags, m *metrics.Metrics) (job.Outcome, error) {
	var out job.Outcome
	opts, err := f.in.options()
	if err != nil {
		return out, err
	}
	if f.hist.stateDir != "" {
		// A state directory holds a real portal's record: demo invitations in it would
		// show in status and be settled against the real portal by the next run.
		f.portal.noDemo = "--state-dir keeps a real portal's run history and the built-in simulator's demo runs are never recorded: " +
			"drop --state-dir to try the demo, or set --partner-url and --ycm-url for the real portal"
	}
	req := job.Request{Mode: mode, Files: files, Input: opts, PlanFile: f.planFile, SavePlan: f.out, Diff: f.diff,
		Strict: f.strict, Concurrency: f.concurrency, Canary: f.canary, CanaryMaxFail: f.canaryFail / 100,
		Report: f.report, ReportDir: f.reportDir, KeepReports: f.hist.keepReports, LockTimeout: f.hist.lockTimeout,
		Version: version, Protected: []job.NamedPath{{What: "configuration file (--config)", Path: a.configPath}},
		StartedBy: "schedule", Author: "schedule", Approval: f.approval}
	if a.stdinTTY {
		req.StartedBy, req.Author = "cli", a.osUserName()
	}
	if f.approve != 0 {
		req.Approve, req.StartedBy = f.approve, f.approver
	}
	// The input is read, and outputs that would replace it refused, before the portal
	// is connected: a bad file is said first.
	req.Input.Ctx = ctx // a signal stops the reading too
	if req.Read, err = job.ReadInput(req, func(ps []importer.Problem) { printProblems(a.stderr, ps) }); err != nil {
		return out, err
	}
	f.portal.observe = m.Response
	c, err := a.connect(f.portal)
	if err != nil {
		return out, err
	}
	defer c.close()
	dir, cleanup, err := a.runStateDir(f.hist, c.embedded)
	if err != nil {
		req.NoStateDir = err
	} else {
		defer cleanup()
		req.StateDir = dir
	}

	out, err = job.Run(ctx, req, a.terminal(c, f))
	if f.jsonOut && out.Reported {
		_ = json.NewEncoder(a.stdout).Encode(runSummary{Run: out.RunID, Summary: report.Summarize(out.Report, out.ReportPath), Portal: c.summary()})
		a.summaryDone = true
	}
	if f.metricsFile != "" && req.StateDir != "" {
		a.countInvitations(ctx, m, req.StateDir) // before cleanup removes a demo run's history
	}
	return out, err
}

// countInvitations reads the run history's invitations once, after the run, into m.
// A history that does not exist (a plan before any apply) is not created; one that
// cannot be read leaves the figure out, with a warning.
func (a *app) countInvitations(ctx context.Context, m *metrics.Metrics, dir string) {
	if _, err := os.Stat(filepath.Join(dir, state.DBName)); err != nil {
		return
	}
	store, err := state.Open(dir, a.now)
	if err != nil {
		a.log.Warn().Err(err).Msg("the metrics file leaves out the invitations: the run history could not be opened")
		return
	}
	defer store.Close()
	invs, err := store.Invitations(ctx)
	if err != nil {
		a.log.Warn().Err(err).Msg("the metrics file leaves out the invitations: the run history could not be read")
		return
	}
	m.Invitations(func(context.Context) ([]state.Invitation, error) { return invs, nil }, a.now)
}

// terminal answers a run's questions and shows its progress on this terminal. With
// --json stdout holds the JSON summary alone, so it can be appended to a file that jq
// reads; the plan and the summary lines go to stderr instead.
func (a *app) terminal(c *conn, f runFlags) job.Deps {
	human := a.stdout
	if f.jsonOut {
		human = a.stderr
	}
	d := job.Deps{Partner: c.partner, YCM: c.ycm, PartnerURL: c.partnerURL, YCMURL: c.ycmURL, Log: a.log, Now: a.now,
		Problems: func(ps []importer.Problem) { printProblems(a.stderr, ps) },
		Plan:     func(p reconcile.Plan, ps []importer.Problem) { printPlan(human, p, ps) },
		Note:     func(s string) { fmt.Fprintln(a.stderr, "ycm-onboard: "+s) },
		Applied:  func(t reconcile.Tally) { fmt.Fprintln(human, t.Line()) },
		Progress: a.newProgress,
	}
	if a.stdinTTY && !f.yes {
		d.Confirm = a.confirm
	}
	return d
}

// confirm asks on the terminal before a plan is applied.
func (a *app) confirm(p reconcile.Plan) bool {
	fmt.Fprint(a.stderr, "Apply these changes to the portal? Type yes to go on: ")
	line, err := bufio.NewReader(a.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false
	}
	if strings.EqualFold(strings.TrimSpace(line), "yes") {
		return true
	}
	fmt.Fprintln(a.stderr, "Nothing was changed.")
	return false
}

// runSummary is the --json document: the report's summary and the portal used.
type runSummary struct {
	Run int64 `json:"run,omitempty"` // the run history's id, as in the log lines and status
	report.Summary
	Portal portalSummary `json:"portal"`
}

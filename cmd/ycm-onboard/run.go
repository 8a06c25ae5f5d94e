package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ycm-onboard/ycm-onboard/importer"
	"github.com/ycm-onboard/ycm-onboard/internal/words"
	"github.com/ycm-onboard/ycm-onboard/reconcile"
	"github.com/ycm-onboard/ycm-onboard/report"
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
	out         string  // plan: save the plan here
	planFile    string  // apply: apply this saved plan
	canary      int     // apply: the first N changes alone
	canaryFail  float64 // apply: stop after the canary if more than this percentage failed
}

func (f *runFlags) add(fs *pflag.FlagSet, apply bool) {
	f.in.add(fs)
	fs.StringVar(&f.hist.stateDir, "state-dir", "", "run history and lock directory (default $XDG_STATE_HOME/ycm-onboard or ~/.local/state/ycm-onboard)")
	fs.DurationVar(&f.hist.lockTimeout, "lock-timeout", 0, "wait this long for another apply to finish (0: exit 5 at once)")
	fs.IntVar(&f.hist.keepReports, "keep-reports", 0, "keep only the newest N reports in --report-dir (0: keep all)")
	addPortalFlags(fs, &f.portal)
	fs.StringVar(&f.report, "report", "", "report workbook path (default ycm-onboard-<mode>-<UTC time>.xlsx)")
	fs.StringVar(&f.reportDir, "report-dir", ".", "directory for the report when --report is not given")
	fs.BoolVar(&f.strict, "strict", false, "refuse to run when any row has an error")
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
			if err := a.applyConfig(cmd, &f); err != nil {
				return err
			}
			if err := f.check(cmd.Flags(), false); err != nil {
				return err
			}
			return a.run(cmd.Context(), "plan", args, f)
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
			if err := a.applyConfig(cmd, &f); err != nil {
				return err
			}
			if err := f.check(cmd.Flags(), true); err != nil {
				return err
			}
			return a.run(cmd.Context(), "apply", args, f)
		},
	}
	f.add(cmd.Flags(), true)
	return cmd
}

// run is plan and apply: read, connect, diff, (apply), report.
func (a *app) run(ctx context.Context, mode string, files []string, f runFlags) error {
	opts, err := f.in.options()
	if err != nil {
		return err
	}
	inputs := []namedPath{{"saved plan (--plan)", f.planFile}, {"configuration file (--config)", a.configPath}}
	for _, p := range files {
		inputs = append(inputs, namedPath{"input file " + p, p})
	}
	for _, p := range f.in.threeCX {
		inputs = append(inputs, namedPath{"3CX export " + p, p})
	}
	if err := checkOutputs(inputs, []namedPath{{"--report", f.report}, {"--out", f.out}}); err != nil {
		return err
	}
	// With --json stdout holds the JSON summary alone, so it can be appended to a file
	// that jq reads; the plan and the summary lines go to stderr instead.
	human := a.stdout
	if f.jsonOut {
		human = a.stderr
	}
	started := a.now()
	desired := &importer.Desired{}
	var problems []importer.Problem
	var saved reconcile.Plan
	if f.planFile != "" {
		var inputs []string
		if saved, inputs, err = reconcile.ReadPlanFile(f.planFile); err != nil {
			return exitf(exitUsage, err.Error())
		}
		planned := make([]namedPath, len(inputs))
		for i, in := range inputs {
			planned[i] = namedPath{"input file " + in + " (named in the saved plan)", in}
		}
		if err := checkOutputs(planned, []namedPath{{"--report", f.report}}); err != nil {
			return err
		}
		for _, in := range inputs {
			desired.Files = append(desired.Files, importer.File{Path: in})
		}
	} else {
		desired, problems = importer.Read(files, opts)
		if unreadable(problems, desired) {
			printProblems(a.stderr, problems)
			msg := "no input could be read"
			for _, p := range problems {
				if p.Severity == importer.Error { // the first reason, for the --json line
					msg += ": " + p.String()
					break
				}
			}
			return exitf(exitUsage, msg)
		}
	}

	if f.hist.stateDir != "" {
		// A state directory holds a real portal's record: demo invitations in it would
		// show in status and be settled against the real portal by the next run.
		f.portal.noDemo = "--state-dir keeps a real portal's run history and the built-in simulator's demo runs are never recorded: " +
			"drop --state-dir to try the demo, or set --partner-url and --ycm-url for the real portal"
	}
	c, err := a.connect(f.portal)
	if err != nil {
		return err
	}
	defer c.close()
	// The report's directory is known to be writable before the portal is read, so no
	// change is ever made that cannot be reported. A default name gets its -2, -3...
	// only when the report is written, so a run stopped before leaves no file behind.
	reportPath, err := prepareReport(f, mode, started)
	if err != nil {
		return exitf(exitUsage, fmt.Sprintf("cannot write the report: %v; choose another --report or --report-dir (nothing was changed)", err))
	}
	h, err := a.openHistory(ctx, f.hist, c.embedded, mode, desired.Files)
	if err != nil && mode == "apply" {
		return err // apply needs the lock and the journal
	}
	if err != nil {
		a.log.Warn().Str("error", err.Error()).Msg("planning without the run history")
		h = nil
	}
	defer h.close()

	rep := report.Run{Version: version, Mode: mode, Files: desired.Files, PartnerURL: c.partnerURL,
		YCMURL: c.ycmURL, Started: started, Concurrency: f.concurrency, Guards: guardSettings(f.diff)}
	finish := func(code int, msg string) error {
		rep.Finished, rep.ExitCode, rep.Now = a.now(), code, a.now()
		path, werr := a.writeReport(reportPath, f.report == "", rep)
		if werr != nil {
			// Changes may have been made: the run's outcome stays, said without the report.
			why := "the report could not be written: " + werr.Error()
			if code == exitOK {
				code, msg = exitPartial, why
			} else {
				msg = why + "; " + strings.TrimSuffix(msg, seeReport)
			}
			rep.ExitCode = code
		}
		sum := report.Summarize(rep, path)
		if f.jsonOut {
			_ = json.NewEncoder(a.stdout).Encode(runSummary{Run: h.id(), Summary: sum, Portal: c.summary()})
			a.summaryDone = true
		}
		h.finish(runCounts(rep), code, path)
		if f.report == "" && f.reportDir != "" && f.hist.keepReports > 0 {
			a.pruneReports(f.reportDir, f.hist.keepReports, path) // with or without a run history
		}
		ev := a.log.Info().Str("mode", mode).Int("exit", code).Str("report", path)
		if !rep.Plan.Made.IsZero() { // a plan was made (or loaded)
			ev = ev.Str("plan", rep.Plan.Counts().Line())
		}
		if mode == "apply" && len(rep.Results) > 0 {
			ev = ev.Str("applied", reconcile.TallyResults(rep.Results).Line())
		}
		ev.Dur("took", rep.Finished.Sub(rep.Started).Round(time.Millisecond)).Msg("finished")
		if code == exitOK {
			return nil
		}
		return exitf(code, msg)
	}

	actual, err := a.readPortal(ctx, c)
	if err != nil {
		rep.Problems = problems
		var ee *exitError
		errors.As(err, &ee)
		rep.Fatal = ee.msg
		rep.Interrupted = ee.code == exitInterrupted
		return finish(ee.code, ee.msg)
	}
	rep.ExtensionPool = f.diff.ExtensionPool
	for _, p := range actual.PBXs {
		rep.ExtensionsAllocated += p.Extensions
	}
	// Settle first: what a stopped run sent is recorded before the record is read.
	if mode == "apply" {
		h.settle(ctx, actual)
	}
	if h != nil {
		h.invitations(ctx, &actual)
	}
	if f.planFile == "" {
		if err := a.readYCMUsers(ctx, c, &actual); err != nil {
			var ee *exitError
			errors.As(err, &ee)
			rep.Problems, rep.Fatal, rep.Interrupted = problems, ee.msg, ee.code == exitInterrupted
			return finish(ee.code, ee.msg)
		}
	}
	var plan reconcile.Plan
	if f.planFile != "" {
		plan = saved
		plan.Tripped = reconcile.Guards(plan, len(actual.Colleagues), f.diff)
		if stale := reconcile.Stale(plan, actual); len(stale) > 0 {
			more := ""
			if len(stale) > 1 {
				more = fmt.Sprintf(" (and %d more)", len(stale)-1)
			}
			plan.Tripped = append(plan.Tripped, fmt.Sprintf("the saved plan is stale: %s%s; run plan again", stale[0], more))
		}
	} else {
		problems = append(problems, importer.Check(desired, catalog(actual))...)
		importer.SortProblems(problems)
		plan = reconcile.Diff(desired, actual, f.diff)
	}
	rep.Problems = problems
	rep.Plan = plan
	printProblems(a.stderr, problems)
	printPlan(human, plan, problems)
	if f.out != "" {
		inputs := make([]string, len(desired.Files))
		for i, fl := range desired.Files {
			inputs[i] = fl.Path
		}
		if err := reconcile.WritePlanFile(f.out, plan, inputs); err != nil {
			return finish(exitUsage, "cannot save the plan: "+err.Error())
		}
		fmt.Fprintln(a.stderr, "ycm-onboard: plan saved to "+f.out)
	}

	rowErrors := importer.HasErrors(problems)
	if f.strict && rowErrors {
		return finish(exitUsage, "--strict: the input has errors, nothing was changed; fix them (see above and the report's Problems sheet) and run again")
	}
	if len(plan.Tripped) > 0 {
		rep.Tripped = plan.Tripped
		for _, t := range plan.Tripped {
			fmt.Fprintln(a.stderr, "ycm-onboard: guard tripped: "+t)
		}
		return finish(exitGuard, "a safety guard refused the plan: nothing was changed")
	}
	partial := func() int {
		if c := plan.Counts(); rowErrors || c.Skipped > 0 || c.Blocked > 0 {
			return exitPartial
		}
		return exitOK
	}
	if mode == "plan" {
		return finish(partial(), "some rows were skipped for errors or blocked"+seeReport)
	}

	if plan.HasChanges() && a.stdinTTY && !f.yes {
		ok, err := a.confirm(plan)
		if err != nil || !ok {
			return finish(exitOK, "")
		}
	}
	prog := a.newProgress(plan)
	results, ferr := reconcile.Apply(ctx, plan, clients{c.partner, c.ycm}, reconcile.ApplyOptions{
		Concurrency: f.concurrency, Now: c.partner.PortalNow, Canary: f.canary, CanaryMaxFail: f.canaryFail / 100, Journal: h.journal(),
		OnResult: func(i int, act reconcile.Action, r reconcile.Result) {
			ev := a.log.Debug()
			if r.Outcome == reconcile.Failed {
				ev = a.log.Warn().Str("error", r.Message)
			}
			ev.Str("action", act.Kind.String()).Str("object", act.Label).Str("outcome", r.Outcome.String()).
				Int("attempts", r.Attempts).Msg("done")
			prog.done(r)
		},
	})
	prog.finish()
	rep.Results = results
	tally := reconcile.TallyResults(results)
	fmt.Fprintln(human, tally.Line())
	switch {
	case ctx.Err() != nil:
		rep.Interrupted = true
		return finish(exitInterrupted, "interrupted: the rest was not run; run again to finish")
	case ferr != nil && errors.As(ferr, new(*reconcile.CanaryError)):
		rep.Fatal = ferr.Error()
		return finish(exitPartial, ferr.Error())
	case ferr != nil:
		rep.Fatal = reconcile.Explain(ferr)
		return finish(exitFatal, "stopped: "+rep.Fatal)
	case tally.Failed > 0 || tally.NotRun > 0:
		msg := words.Count(tally.Failed, "change") + " failed"
		if tally.NotRun > 0 {
			msg += ", " + words.Count(tally.NotRun, "change") + " not run"
		}
		return finish(exitPartial, msg+seeReport)
	}
	return finish(partial(), "some rows were skipped for errors or blocked"+seeReport)
}

// unreadable reports whether nothing could be read: every file failed as a whole.
func unreadable(ps []importer.Problem, d *importer.Desired) bool {
	if len(d.Colleagues)+len(d.Instances)+len(d.RejectedColleagues)+len(d.RejectedInstances) > 0 {
		return false
	}
	for _, p := range ps {
		if p.Severity == importer.Error && p.Source.Row == 0 {
			return true
		}
	}
	return false
}

func guardSettings(o reconcile.Options) []string {
	g := []string{fmt.Sprintf("max-delete %d", o.MaxDelete), fmt.Sprintf("max-delete-percent %g%%", o.MaxDeletePercent)}
	if o.Prune {
		g = append(g, "prune")
	}
	if o.AllowShrink {
		g = append(g, "allow-shrink")
	}
	if o.NoReinvite {
		g = append(g, "no-reinvite")
	}
	return g
}

func (a *app) confirm(p reconcile.Plan) (bool, error) {
	fmt.Fprint(a.stderr, "Apply these changes to the portal? Type yes to go on: ")
	line, err := bufio.NewReader(a.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	if strings.EqualFold(strings.TrimSpace(line), "yes") {
		return true, nil
	}
	fmt.Fprintln(a.stderr, "Nothing was changed.")
	return false, nil
}

// seeReport ends the messages that send people to the report.
const seeReport = ": see the report"

// prepareReport returns the report's path, its default name unless --report gives one,
// and proves its directory takes a file, with a probe removed at once: nothing is left
// under the report's name until the report is written.
func prepareReport(f runFlags, mode string, started time.Time) (string, error) {
	path := f.report
	if path == "" {
		path = filepath.Join(f.reportDir, report.DefaultName(mode, started))
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if f.report != "" {
		if fi, err := os.Stat(f.report); err == nil && fi.IsDir() {
			return "", fmt.Errorf("%s is a directory (use --report-dir for a directory)", f.report)
		}
	}
	probe, err := os.CreateTemp(dir, ".ycm-onboard-probe-*")
	if err != nil {
		return "", err
	}
	probe.Close()
	return path, os.Remove(probe.Name())
}

// writeReport writes the report at path, replacing a file there when --report named it;
// a default name (unique) that another run took meanwhile gets -2, -3... It returns the
// path written.
func (a *app) writeReport(path string, unique bool, r report.Run) (string, error) {
	taken := replaceTaken
	if unique {
		taken = numberTaken
	}
	got, err := writeNew(path, taken, func(w io.Writer) error { return report.WriteTo(w, r) })
	if err != nil {
		return "", fmt.Errorf("write report %s: %w", path, err)
	}
	fmt.Fprintln(a.stderr, "ycm-onboard: report written to "+got)
	return got, nil
}

// runCounts is what the run history keeps of a run.
func runCounts(r report.Run) map[string]int {
	c := r.Plan.Counts()
	m := map[string]int{"create": c.Create, "update": c.Update, "delete": c.Delete, "re-invite": c.Reinvite,
		"resize": c.Resize, "unchanged": c.Unchanged, "skipped": c.Skipped, "blocked": c.Blocked}
	if r.Results != nil {
		t := reconcile.TallyResults(r.Results)
		m["succeeded"], m["failed"], m["not run"] = t.Succeeded, t.Failed, t.NotRun
	}
	return m
}

// runSummary is the --json document: the report's summary and the portal used.
type runSummary struct {
	Run int64 `json:"run,omitempty"` // the run history's id, as in the log lines and status
	report.Summary
	Portal portalSummary `json:"portal"`
}

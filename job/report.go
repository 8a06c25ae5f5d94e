package job

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ycm-onboard/ycm-onboard/internal/place"
	"github.com/ycm-onboard/ycm-onboard/reconcile"
	"github.com/ycm-onboard/ycm-onboard/report"
	"github.com/ycm-onboard/ycm-onboard/state"
)

// prepareReport settles the report's path, its default name unless Request.Report gives
// one, and proves its directory takes a file, with a probe removed at once: no change is
// ever made that cannot be reported, and nothing is left under the report's name until
// the report is written. A default name gets its -2, -3... only then.
func (r *run) prepareReport() error {
	path := r.req.Report
	if path == "" {
		path = filepath.Join(r.req.ReportDir, report.DefaultName(string(r.req.Mode), r.started))
	}
	err := probeDir(path, r.req.Report)
	if err != nil {
		return &Failure{Ending: Refused, Err: err,
			Message: fmt.Sprintf("cannot write the report: %v; choose another --report or --report-dir (nothing was changed)", err)}
	}
	r.reportPath = path
	return nil
}

func probeDir(path, named string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if named != "" {
		if fi, err := os.Stat(named); err == nil && fi.IsDir() {
			return fmt.Errorf("%s is a directory (use --report-dir for a directory)", named)
		}
	}
	if n := len(filepath.Base(path)); n > maxNameBytes {
		return fmt.Errorf("the file name %s… is %d bytes long, more than the %d a file name may have", filepath.Base(path)[:40], n, maxNameBytes)
	}
	probe, err := os.CreateTemp(dir, ".ycm-onboard-probe-*")
	if err != nil {
		return err
	}
	probe.Close()
	if err := os.Remove(probe.Name()); err != nil {
		return err
	}
	if named == "" {
		return nil // a default name is numbered when it is written
	}
	// The very name --report gives: a file there must be replaceable, and a new one
	// must be possible (the file system may refuse the name itself).
	if _, err := os.Lstat(named); err == nil {
		f, err := os.OpenFile(named, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		return f.Close()
	}
	f, err := os.OpenFile(named, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(named)
}

// maxNameBytes is the longest file name Linux and macOS file systems take.
const maxNameBytes = 255

// finish writes the report, records the run's end and says how it ended. A report that
// cannot be written after changes were made keeps the run's outcome, said without it.
func (r *run) finish(err error) (Outcome, error) {
	r.unapproved(context.Background())
	now := r.d.Now()
	var f *Failure
	if err != nil && !errors.As(err, &f) {
		f = &Failure{Ending: PortalDown, Message: err.Error(), Err: err}
	}
	r.rep.Finished, r.rep.Now = now, now
	r.rep.ExitCode = ExitCode(f)
	path, werr := r.writeReport()
	if werr != nil {
		why := "the report could not be written: " + werr.Error()
		if f == nil {
			f = &Failure{Ending: Partial, Message: why, Err: werr}
		} else {
			f = &Failure{Ending: f.Ending, Message: why + "; " + strings.TrimSuffix(f.Message, seeReport), Err: errors.Join(f.Err, werr)}
		}
		r.rep.ExitCode = ExitCode(f)
	}
	r.out = Outcome{Reported: true, Report: r.rep, ReportPath: path, RunID: r.h.id(), ApplyTook: r.applyTook,
		Proposal: r.proposal, Waiting: r.waiting, Remind: r.remind, Stale: r.stale}
	recorded := path // the history is read from other directories (serve's Runs page)
	if abs, err := filepath.Abs(path); err == nil && path != "" {
		recorded = abs
	}
	r.h.finish(runCounts(r.rep), r.rep.ExitCode, recorded)
	if r.req.Report == "" && r.req.ReportDir != "" && r.req.KeepReports > 0 {
		r.pruneReports(path) // with or without a run history
	}
	ev := r.log.Info().Str("mode", string(r.req.Mode)).Int("exit", r.rep.ExitCode).Str("report", path)
	if !r.rep.Plan.Made.IsZero() { // a plan was made (or loaded)
		ev = ev.Str("plan", r.rep.Plan.Counts().Line())
	}
	if r.req.Mode == Apply && len(r.rep.Results) > 0 {
		ev = ev.Str("applied", reconcile.TallyResults(r.rep.Results).Line())
	}
	ev.Dur("took", r.rep.Finished.Sub(r.rep.Started).Round(time.Millisecond)).Msg("finished")
	if f == nil {
		return r.out, nil
	}
	return r.out, f
}

// writeReport writes the report, replacing a file there when Request.Report named it;
// a default name that another run took meanwhile gets -2, -3... It returns the path.
func (r *run) writeReport() (string, error) {
	taken := place.Replace
	if r.req.Report == "" {
		taken = place.Number
	}
	got, err := place.Write(r.reportPath, taken, func(w io.Writer) error { return report.WriteTo(w, r.rep) })
	if err != nil {
		return "", fmt.Errorf("write report %s: %w", r.reportPath, err)
	}
	r.note("report written to " + got)
	return got, nil
}

// pruneReports keeps the newest KeepReports reports in ReportDir, the run's own among them.
func (r *run) pruneReports(own string) {
	removed, err := state.PruneReports(r.req.ReportDir, r.req.KeepReports, own)
	if err != nil {
		r.log.Warn().Err(err).Msg("pruning old reports")
	}
	for _, p := range removed {
		r.log.Info().Str("report", p).Msg("removed an old report")
	}
}

// runCounts is what the run history keeps of a run.
func runCounts(rep report.Run) map[string]int {
	c := rep.Plan.Counts()
	m := map[string]int{"create": c.Create, "update": c.Update, "delete": c.Delete, "re-invite": c.Reinvite,
		"resize": c.Resize, "unchanged": c.Unchanged, "skipped": c.Skipped, "blocked": c.Blocked}
	if rep.Results != nil {
		t := reconcile.TallyResults(rep.Results)
		m["succeeded"], m["failed"], m["not run"] = t.Succeeded, t.Failed, t.NotRun
	}
	return m
}

// ExitCode is the command line's exit code for how a run ended (nil: 0). The README's
// table of exit codes is this switch.
func ExitCode(f *Failure) int {
	if f == nil {
		return 0
	}
	switch f.Ending {
	case Done:
		return 0
	case Partial:
		return 1
	case Refused:
		return 2
	case Guarded:
		return 3
	case PortalDown:
		return 4
	case Locked:
		return 5
	case Local:
		return 6
	case Interrupted:
		return 130
	}
	return 1
}

// samePath reports whether two paths name the same file: the same file on disk when
// both exist, else the same absolute path.
func samePath(a, b string) bool {
	ia, erra := os.Stat(a)
	ib, errb := os.Stat(b)
	if erra == nil && errb == nil {
		return os.SameFile(ia, ib)
	}
	aa, erra := filepath.Abs(a)
	ab, errb := filepath.Abs(b)
	return erra == nil && errb == nil && aa == ab
}

// CheckOutputs refuses an output that would replace an input or another output.
func CheckOutputs(inputs, outputs []NamedPath) error {
	for i, out := range outputs {
		if out.Path == "" {
			continue
		}
		for _, in := range inputs {
			if in.Path != "" && samePath(out.Path, in.Path) {
				return fail(Refused, fmt.Sprintf("%s %s is the %s: writing it would replace the input; choose another path",
					out.What, out.Path, in.What))
			}
		}
		for _, other := range outputs[:i] {
			if other.Path != "" && samePath(out.Path, other.Path) {
				return fail(Refused, fmt.Sprintf("%s and %s are the same file %s: choose two paths", other.What, out.What, out.Path))
			}
		}
	}
	return nil
}

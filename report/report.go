// Package report turns a plan and its results into an Excel workbook: a Summary sheet,
// one row per colleague and per PBX, and every input problem. It never calls the portal.
package report

import (
	"archive/zip"
	"bufio"
	"compress/flate"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/ycm-onboard/ycm-onboard/importer"
	"github.com/ycm-onboard/ycm-onboard/reconcile"
)

// Run is everything a report shows about one run of the tool.
type Run struct {
	Version            string
	Mode               string          // "plan" or "apply"
	Files              []importer.File // inputs with SHA-256
	PartnerURL, YCMURL string          // userinfo, query and fragment are dropped anyway
	Started, Finished  time.Time
	Concurrency        int
	Guards             []string // guard settings, e.g. "max-delete 5"
	Tripped            []string // guards that tripped (plan.Tripped)
	ExitCode           int
	Interrupted        bool   // the run was interrupted: the rest was not run
	Fatal              string // a fatal portal error that stopped the run, "" if none
	Plan               reconcile.Plan
	Results            []reconcile.Result // index-aligned with Plan.Actions; nil in plan mode
	Problems           []importer.Problem
	Now                time.Time // for Hours Left

	// ExtensionPool is the hosting package's extensions across its PBXs and
	// ExtensionsAllocated their sum before the run (reconcile.Options.ExtensionPool
	// and the portal's PBXs). 0 when unknown: Pool Left stays blank.
	ExtensionPool, ExtensionsAllocated int
}

// DefaultName is the report's file name for a run in mode started at t.
func DefaultName(mode string, t time.Time) string {
	return "ycm-onboard-" + mode + "-" + t.UTC().Format("20060102T150405Z") + ".xlsx"
}

// WriteTo writes the workbook to w.
func WriteTo(w io.Writer, r Run) error { return writeTo(w, r, false) }

// writeTo writes the workbook to w; viaSetRow writes the streamed rows with the
// stream writer's SetRow rather than rendering them while saving (tests compare both).
func writeTo(w io.Writer, r Run, viaSetRow bool) error {
	f := excelize.NewFile()
	defer func() { _ = f.Close() }()
	b, err := newBook(f, r)
	if err != nil {
		return err
	}
	b.viaSetRow = viaSetRow
	if err := b.write(); err != nil {
		return err
	}
	// Zip straight into w rather than into excelize's in-memory buffer, and favour
	// speed over size. (excelize patches a header in that buffer only for parts over
	// 4 GiB, which a report never has.)
	bw := bufio.NewWriterSize(w, 1<<16)
	var sz *spliceZip
	f.SetZipWriter(func(io.Writer) excelize.ZipWriter {
		zw := zip.NewWriter(bw)
		zw.RegisterCompressor(zip.Deflate, newDeflater)
		sz = &spliceZip{zw: zw, splices: b.splices}
		return sz
	})
	buf, err := f.WriteToBuffer()
	if err != nil {
		return fmt.Errorf("save workbook: %w", err)
	}
	if sz == nil {
		return fmt.Errorf("save workbook: the zip writer was not used")
	}
	if err := sz.check(); err != nil {
		return fmt.Errorf("save workbook: %w", err)
	}
	if buf.Len() != 0 {
		return fmt.Errorf("save workbook: %d bytes left behind in memory", buf.Len())
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("save workbook: %w", err)
	}
	return nil
}

// OutcomeOf is the outcome the report shows for action i.
func OutcomeOf(r Run, i int) reconcile.Outcome {
	a := r.Plan.Actions[i]
	switch {
	case a.Kind == reconcile.Skip:
		return reconcile.Skipped
	case a.Kind == reconcile.Noop:
		return reconcile.Unchanged
	case a.Blocked != "":
		return reconcile.Blocked
	}
	if r.Results == nil {
		if r.Mode == "apply" {
			if len(r.Plan.Tripped) > 0 || len(r.Tripped) > 0 {
				return reconcile.Blocked
			}
			return reconcile.NotRun
		}
		return reconcile.Planned
	}
	if i >= len(r.Results) {
		return reconcile.NotRun
	}
	o := r.Results[i].Outcome
	if o == reconcile.Planned { // apply mode, nothing recorded: the run never reached it
		return reconcile.NotRun
	}
	return o
}

// result is the action's result, zero in plan mode.
func (r *Run) result(i int) reconcile.Result {
	if i < len(r.Results) {
		return r.Results[i]
	}
	return reconcile.Result{}
}

func (r *Run) tripped() []string {
	if len(r.Tripped) > 0 {
		return r.Tripped
	}
	return r.Plan.Tripped
}

// message is what the report says about action i: what went wrong and what to do.
func (r *Run) message(i int, o reconcile.Outcome, probs map[importer.Source][]importer.Problem) string {
	a := r.Plan.Actions[i]
	res := r.result(i)
	switch o {
	case reconcile.Skipped:
		if a.Source != nil {
			if ps := probs[*a.Source]; len(ps) > 0 {
				lines := make([]string, len(ps))
				for j, p := range ps {
					lines[j] = problemLine(p)
				}
				return strings.Join(lines, "\n")
			}
		}
		return firstOf(res.Message, a.Reason, "The input row has errors; see the Problems sheet.")
	case reconcile.Blocked:
		if a.Blocked != "" {
			return a.Blocked
		}
		if t := r.tripped(); len(t) > 0 {
			return "Not applied: guard tripped (" + strings.Join(t, "; ") + "). Review the plan, then raise the guard or fix the input."
		}
		return firstOf(res.Message, "Blocked by a guard.")
	case reconcile.Failed:
		msg := res.Message
		if msg == "" && res.Err != nil {
			msg = res.Err.Error()
		}
		return firstOf(msg, "Failed; run again, and contact support if it keeps failing.")
	case reconcile.NotRun:
		return firstOf(res.Message, "The run stopped before this action; run apply again to finish it.")
	}
	return firstOf(res.Message, a.Reason)
}

func problemLine(p importer.Problem) string {
	var b strings.Builder
	if p.Column != "" {
		b.WriteString("Column ")
		b.WriteString(p.Column)
		if p.Header != "" {
			b.WriteString(" (" + p.Header + ")")
		}
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	if p.Fix != "" {
		b.WriteString("; ")
		b.WriteString(p.Fix)
	}
	return b.String()
}

func firstOf(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// sourceText is where a row came from, e.g. "onboarding.xlsx Colleagues!7".
func sourceText(s *importer.Source) string {
	switch {
	case s == nil:
		return "portal"
	case s.Sheet == "" && s.Row == 0:
		return s.File
	case s.Sheet == "":
		return fmt.Sprintf("%s row %d", s.File, s.Row)
	case s.Row == 0:
		return s.File + " " + s.Sheet
	default:
		return fmt.Sprintf("%s %s!%d", s.File, s.Sheet, s.Row)
	}
}

// cleanURL drops userinfo, query and fragment so that no secret reaches the report.
func cleanURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "(not shown: not a valid URL)"
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return u.String()
}

// activation is the activation the report shows for action i, with when the
// invitation was sent. A pending invitation past its expiry shows as Expired.
func (r *Run) activation(i int, o reconcile.Outcome) (reconcile.Activation, time.Time) {
	a := r.Plan.Actions[i]
	act, inv := a.Activation, a.InvitedAt
	if a.Kind == reconcile.Delete && o == reconcile.Applied {
		return reconcile.ActivationNone, time.Time{} // gone from the portal
	}
	if o == reconcile.Applied {
		res := r.result(i)
		if res.Activation != reconcile.ActivationNone {
			act = res.Activation
		}
		if !res.InvitedAt.IsZero() {
			inv = res.InvitedAt
		}
	}
	if a.Frozen && (o != reconcile.Applied || r.result(i).Activation == reconcile.ActivationNone) {
		act = reconcile.ActivationFrozen
	}
	if (act == reconcile.ActivationPending || act == reconcile.ActivationReinvited) &&
		!inv.IsZero() && !r.Now.IsZero() && !r.Now.Before(inv.Add(reconcile.InviteValidity)) {
		act = reconcile.ActivationExpired
	}
	return act, inv
}

// deflaters reuses compressors across the workbook's parts: each costs about 1 MB.
var deflaters sync.Pool

type deflater struct{ *flate.Writer }

func newDeflater(w io.Writer) (io.WriteCloser, error) {
	if d, ok := deflaters.Get().(*deflater); ok {
		d.Reset(w)
		return d, nil
	}
	fw, err := flate.NewWriter(w, flate.BestSpeed)
	return &deflater{fw}, err
}

func (d *deflater) Close() error {
	err := d.Writer.Close()
	deflaters.Put(d)
	return err
}

// Package job runs one plan or apply, the same way for every caller: read the input,
// read the portal, settle the run history, check, plan, guard, confirm, apply, report,
// record. The command line answers its questions from a terminal; a server can answer
// them from a browser. Nothing here prints: what a person sees comes through Deps.
package job

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/ycm-onboard/ycm-onboard/importer"
	"github.com/ycm-onboard/ycm-onboard/internal/words"
	"github.com/ycm-onboard/ycm-onboard/portal"
	"github.com/ycm-onboard/ycm-onboard/reconcile"
	"github.com/ycm-onboard/ycm-onboard/report"
)

// Mode is what a run does: plan changes nothing, apply makes the changes.
type Mode string

const (
	Plan  Mode = "plan"
	Apply Mode = "apply"
)

// Request is one run: what to read, how to plan, what to do.
type Request struct {
	Mode     Mode
	Files    []string         // input workbooks and CSV files
	Input    importer.Options // e.g. 3CX exports to size PBXs from
	PlanFile string           // apply exactly this saved plan instead of reading Files
	SavePlan string           // plan: save the plan here
	Diff     reconcile.Options
	Strict   bool // refuse the run when any row has an error

	Concurrency   int
	Canary        int
	CanaryMaxFail float64 // a fraction

	Report      string // the report's path; "" for its default name in ReportDir
	ReportDir   string
	KeepReports int // keep only the newest N reports in ReportDir (0: all)

	// StateDir holds the run history and the lock. Without one (NoStateDir says why)
	// a plan goes on without the history and an apply is refused: it needs the lock.
	StateDir    string
	NoStateDir  error
	LockTimeout time.Duration

	// Read is the input already read (ReadInput), so a caller can refuse a bad file
	// before it connects to the portal; nil: Run reads it.
	Read *Input

	Version string // for the report
	// StartedBy is who the run history says started the run: a page user's name,
	// "cli" or "schedule".
	StartedBy string
	// Protected are paths no output may replace, with what to call them: the inputs,
	// the configuration file.
	Protected []NamedPath

	// Approval says which plans an apply only proposes (four eyes): it saves the plan
	// as a proposal in the state directory and applies nothing.
	Approval reconcile.Approval
	// Author is who a proposal says proposed it; "" for StartedBy.
	Author string
	// Source names what the plan was made from, as proposals compare it: a plan
	// supersedes the pending proposals of the same source (state.Proposing.Source).
	// "" for the input files and the settings, or the saved plan (PlanFile).
	Source string
	// Approve is the proposal this apply approves and applies exactly, as StartedBy;
	// PlanFile must be its plan (state.ProposalPath). Its author may not approve it.
	Approve int64
}

// NamedPath is a path and what a person calls it, e.g. "input file wave1.xlsx".
type NamedPath struct{ What, Path string }

// Deps are what a run needs from around it. The clients are required; a nil hook is
// skipped.
type Deps struct {
	Partner *portal.PartnerClient
	YCM     *portal.YCMClient
	// PartnerURL and YCMURL are shown in the report.
	PartnerURL, YCMURL string
	Log                zerolog.Logger
	Now                func() time.Time

	// Problems shows the input's problems once they are known.
	Problems func([]importer.Problem)
	// Plan shows the plan before anything is changed.
	Plan func(reconcile.Plan, []importer.Problem)
	// Note tells the person running the job one thing: a guard tripped, the report
	// was written.
	Note func(string)
	// Confirm is asked before a plan with changes is applied; false changes nothing.
	Confirm func(reconcile.Plan) bool
	// Progress follows the apply; log is the run's logger, which carries its id.
	Progress func(p reconcile.Plan, log zerolog.Logger) Progress
	// Applied shows the apply's tally.
	Applied func(reconcile.Tally)
}

// Progress follows an apply: Done for every result, Finish at the end.
type Progress interface {
	Done(reconcile.Result)
	Finish()
}

// Ending is how a run ended; the command line makes it an exit code.
type Ending int

const (
	Done        Ending = iota // everything done, or nothing to do
	Partial                   // rows failed, were skipped or blocked, or the report was lost
	Refused                   // the input or a setting refused the run; nothing was changed
	Guarded                   // a safety guard refused the plan; nothing was changed
	PortalDown                // authentication, IP blocked, portal unreachable
	Locked                    // another apply holds the run history's lock
	Local                     // this machine failed: the state directory is full or unwritable, or the run history is damaged
	Interrupted               // cancelled: in-flight calls finished, the report was written
)

// Failure is a run that did not end Done: how it ended and what to tell the person.
type Failure struct {
	Ending  Ending
	Message string
	Err     error // the cause, when there is one
}

func (f *Failure) Error() string { return f.Message }
func (f *Failure) Unwrap() error { return f.Err }

func fail(e Ending, msg string) *Failure { return &Failure{Ending: e, Message: msg} }

// Outcome is what a run did.
type Outcome struct {
	Reported   bool // the run got as far as its report (ReportPath "" if it was lost)
	Report     report.Run
	ReportPath string
	RunID      int64 // in the run history; 0 without one
	// ApplyTook is how long the apply step took (every change sent and answered, or
	// the run stopped); 0 when the run applied nothing (plan, refused, guarded, declined).
	ApplyTook time.Duration
	// Proposal is the proposal this apply saved for approval instead of applying, or
	// the pending one of the same plan (Waiting); 0 when there is none.
	Proposal int64
	// Waiting: the plan was already pending as proposal Proposal, so none was saved.
	// Remind: it has waited a day or more since its receivers were last told.
	Waiting, Remind bool
	// Stale: the saved plan was refused because the portal changed since it was made.
	Stale bool
}

// seeReport ends the messages that send people to the report.
const seeReport = ": see the report"

// run is one run's state as it goes through the steps.
type run struct {
	req        Request
	d          Deps
	log        zerolog.Logger
	started    time.Time
	desired    *importer.Desired
	problems   []importer.Problem
	saved      reconcile.Plan
	reportPath string
	h          *history
	rep        report.Run
	actual     reconcile.Actual
	plan       reconcile.Plan
	applyTook  time.Duration
	stale      bool
	proposal   int64
	waiting    bool
	remind     bool
	approved   bool // the proposal this run approves is marked approved, not yet applied
	out        Outcome
}

// Run runs one plan or apply. The error is a *Failure saying how the run ended, or nil
// when it ended Done; the outcome holds the report either way, once the run got to it.
func Run(ctx context.Context, req Request, d Deps) (Outcome, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	r := &run{req: req, d: d, log: d.Log, started: d.Now()}
	in := req.Read
	if in == nil {
		var err error
		req.Input.Ctx = ctx // a signal stops the read too
		if in, err = ReadInput(req, d.Problems); err != nil {
			return r.out, err
		}
	}
	r.desired, r.problems, r.saved = in.Desired, in.Problems, in.Saved
	if err := r.prepareReport(); err != nil {
		return r.out, err
	}
	if err := r.openHistory(ctx); err != nil {
		return r.out, err
	}
	defer r.h.close()
	r.rep = report.Run{Version: req.Version, Mode: string(req.Mode), Files: r.desired.Files, PartnerURL: d.PartnerURL,
		YCMURL: d.YCMURL, Started: r.started, Concurrency: req.Concurrency, Guards: guardSettings(req.Diff)}
	if err := r.approving(ctx); err != nil {
		return r.finish(err)
	}

	if err := r.readPortal(ctx); err != nil {
		return r.finish(r.stopped(err))
	}
	r.settleHistory(ctx)
	if err := r.makePlan(ctx); err != nil {
		return r.finish(r.stopped(err))
	}
	if err := r.savePlan(); err != nil {
		return r.finish(err)
	}
	if err := r.guard(); err != nil {
		return r.finish(err)
	}
	if req.Mode == Plan {
		return r.finish(r.partial())
	}
	if err := r.propose(ctx); err != nil {
		return r.finish(err)
	}
	if !r.confirm() {
		return r.finish(nil) // declined: nothing was changed
	}
	r.supersede(ctx)
	err := r.apply(ctx)
	r.applied(ctx)
	return r.finish(err)
}

// Input is what a run reads before it connects: the desired state and the rows'
// problems, or a saved plan.
type Input struct {
	Desired  *importer.Desired
	Problems []importer.Problem
	Saved    reconcile.Plan // with Request.PlanFile
}

// ReadInput reads the input files, or the saved plan, and refuses outputs that would
// replace an input. Input that cannot be read at all is shown to problems and refused.
func ReadInput(req Request, problems func([]importer.Problem)) (*Input, error) {
	protected := append([]NamedPath{{"saved plan (--plan)", req.PlanFile}}, req.Protected...)
	for _, p := range req.Files {
		protected = append(protected, NamedPath{"input file " + p, p})
	}
	for _, s := range req.Input.ThreeCX {
		protected = append(protected, NamedPath{"3CX export " + s.Path, s.Path})
	}
	if err := CheckOutputs(protected, []NamedPath{{"--report", req.Report}, {"--out", req.SavePlan}}); err != nil {
		return nil, err
	}
	in := &Input{Desired: &importer.Desired{}}
	if req.PlanFile != "" {
		saved, inputs, err := reconcile.ReadPlanFile(req.PlanFile)
		if err != nil {
			return nil, &Failure{Ending: Refused, Message: err.Error(), Err: err}
		}
		in.Saved = saved
		planned := make([]NamedPath, len(inputs))
		for i, p := range inputs {
			planned[i] = NamedPath{"input file " + p + " (named in the saved plan)", p}
		}
		if err := CheckOutputs(planned, []NamedPath{{"--report", req.Report}}); err != nil {
			return nil, err
		}
		for _, p := range inputs {
			in.Desired.Files = append(in.Desired.Files, importer.File{Path: p})
		}
		return in, nil
	}
	in.Desired, in.Problems = importer.Read(req.Files, req.Input)
	if err := in.Desired.Interrupted; err != nil {
		return nil, &Failure{Ending: Interrupted, Message: "interrupted while reading the input", Err: err}
	}
	if Unreadable(in.Problems, in.Desired) {
		if problems != nil {
			problems(in.Problems)
		}
		msg := "no input could be read"
		for _, p := range in.Problems {
			if p.Severity == importer.Error { // the first reason, for the --json line
				msg += ": " + p.String()
				break
			}
		}
		return nil, fail(Refused, msg)
	}
	return in, nil
}

// Unreadable reports whether nothing could be read: every file failed as a whole.
func Unreadable(ps []importer.Problem, d *importer.Desired) bool {
	if len(d.Colleagues)+len(d.Instances)+len(d.RejectedColleagues)+len(d.RejectedInstances) > 0 {
		return false
	}
	for _, p := range ps {
		if p.Severity == importer.Error && (p.Source.Row == 0 || p.Refused) {
			return true
		}
	}
	return false
}

func (r *run) show(ps []importer.Problem) {
	if r.d.Problems != nil {
		r.d.Problems(ps)
	}
}

func (r *run) note(s string) {
	if r.d.Note != nil {
		r.d.Note(s)
	}
}

// stopped records in the report why the run stopped before its plan.
func (r *run) stopped(f *Failure) *Failure {
	r.rep.Problems = r.problems
	r.rep.Fatal = f.Message
	r.rep.Interrupted = f.Ending == Interrupted
	return f
}

// readPortal reads what the plan is made from; a failure still gets its report.
func (r *run) readPortal(ctx context.Context) *Failure {
	actual, err := ReadPortal(ctx, r.d.Partner, r.d.YCM)
	r.actual = actual
	if err != nil {
		return err
	}
	r.rep.ExtensionPool = r.req.Diff.ExtensionPool
	for _, p := range actual.PBXs {
		r.rep.ExtensionsAllocated += p.Extensions
	}
	return nil
}

// ReadPortal reads everything a plan is made from.
func ReadPortal(ctx context.Context, p *portal.PartnerClient, y *portal.YCMClient) (reconcile.Actual, *Failure) {
	snap, err := portal.Read(ctx, p, y)
	if err != nil {
		return reconcile.Actual{Now: time.Now()}, PortalFailure("read the portal", err)
	}
	return reconcile.Actual{Colleagues: snap.Colleagues, PBXs: snap.PBXs, Permissions: snap.Permissions,
		Partners: snap.Partners, Now: snap.Now}, nil
}

// PortalFailure is a portal error that ends a run: interrupted, or the portal failed.
func PortalFailure(what string, err error) *Failure {
	if errors.Is(err, context.Canceled) {
		return &Failure{Ending: Interrupted, Message: "interrupted", Err: err}
	}
	return &Failure{Ending: PortalDown, Message: fmt.Sprintf("cannot %s: %s", what, reconcile.Explain(err)), Err: err}
}

// settleHistory settles what a stopped run sent, then fills in from the record what the
// portal does not say. Settling comes first: what a stopped run sent is recorded before
// the record is read.
func (r *run) settleHistory(ctx context.Context) {
	if r.req.Mode == Apply {
		r.h.settle(ctx, r.actual)
	}
	r.h.invitations(ctx, &r.actual)
}

// readYCMUsers adds YCM's users, read when the plan re-invites someone, so a
// colleague who is a YCM user gets YCM's activation e-mail and keeps the account. If
// YCM will not list them, re-invites fall back on deleting and creating again.
func (r *run) readYCMUsers(ctx context.Context) *Failure {
	users, err := r.d.YCM.ReadUsers(ctx)
	switch {
	case err == nil:
		r.actual.YCMUsers = users
	case portal.Fatal(err) || errors.Is(err, context.Canceled):
		return PortalFailure("read YCM's users", err)
	default:
		r.log.Warn().Str("error", err.Error()).Msg("YCM did not list its users: expired invitations are re-sent by deleting and creating the colleague again")
	}
	return nil
}

// makePlan checks the rows against the portal and diffs them, or takes the saved plan
// and checks it is not stale. A plan that re-invites someone is made again with YCM's
// users, read only then.
func (r *run) makePlan(ctx context.Context) *Failure {
	if r.req.PlanFile != "" {
		r.plan = r.saved
		r.plan.Tripped = reconcile.Guards(r.plan, len(r.actual.Colleagues), r.req.Diff)
		if stale := reconcile.Stale(r.plan, r.actual); len(stale) > 0 {
			more := ""
			if len(stale) > 1 {
				more = fmt.Sprintf(" (and %d more)", len(stale)-1)
			}
			r.plan.Tripped = append(r.plan.Tripped, fmt.Sprintf("the saved plan is stale: %s%s; run plan again", stale[0], more))
			r.stale = true
		}
	} else {
		r.problems = append(r.problems, importer.Check(r.desired, Catalog(r.actual))...)
		importer.SortProblems(r.problems)
		r.plan = reconcile.Diff(r.desired, r.actual, r.req.Diff)
		if reconcile.NeedsYCMUsers(r.plan) {
			if f := r.readYCMUsers(ctx); f != nil {
				return f
			}
			if r.actual.YCMUsers != nil {
				r.plan = reconcile.Diff(r.desired, r.actual, r.req.Diff)
			}
		}
	}
	r.rep.Problems = r.problems
	r.rep.Plan = r.plan
	r.show(r.problems)
	if r.d.Plan != nil {
		r.d.Plan(r.plan, r.problems)
	}
	return nil
}

// Catalog is what the importer checks rows against.
func Catalog(a reconcile.Actual) importer.Catalog {
	var c importer.Catalog
	for _, p := range a.Permissions {
		c.Permissions = append(c.Permissions, p.Name)
	}
	for _, p := range a.Partners {
		c.Partners = append(c.Partners, importer.Partner{ID: p.ID, Email: p.Email})
	}
	for _, p := range a.PBXs {
		c.PBXs = append(c.PBXs, importer.PBXRef{Name: p.Name, SN: p.SN})
	}
	return c
}

func (r *run) savePlan() error {
	if r.req.SavePlan == "" {
		return nil
	}
	if err := reconcile.WritePlanFile(r.req.SavePlan, r.plan, r.inputs()); err != nil {
		return &Failure{Ending: Refused, Message: "cannot save the plan: " + err.Error(), Err: err}
	}
	r.note("plan saved to " + r.req.SavePlan)
	return nil
}

// guard refuses a plan with row errors under --strict, or one that trips a guard.
func (r *run) guard() error {
	if r.req.Strict && importer.HasErrors(r.problems) {
		return fail(Refused, "--strict: the input has errors, nothing was changed; fix them (see above and the report's Problems sheet) and run again")
	}
	if len(r.plan.Tripped) > 0 {
		r.rep.Tripped = r.plan.Tripped
		for _, t := range r.plan.Tripped {
			r.note("guard tripped: " + t)
		}
		return fail(Guarded, "a safety guard refused the plan: nothing was changed")
	}
	return nil
}

// partial is how a run ends that changed what it could: rows with errors, skipped or
// blocked make it partial.
func (r *run) partial() error {
	if c := r.plan.Counts(); importer.HasErrors(r.problems) || c.Skipped > 0 || c.Blocked > 0 {
		return fail(Partial, "some rows were skipped for errors or blocked"+seeReport)
	}
	return nil
}

// confirm asks, when there is something to change and someone to ask.
func (r *run) confirm() bool {
	if !r.plan.HasChanges() || r.d.Confirm == nil {
		return true
	}
	return r.d.Confirm(r.plan)
}

// apply makes the changes and says how that went.
func (r *run) apply(ctx context.Context) error {
	var prog Progress = noProgress{}
	if r.d.Progress != nil {
		prog = r.d.Progress(r.plan, r.log)
	}
	applyStarted := time.Now() // a duration: the monotonic clock, not Deps.Now (a test's may stand still)
	results, ferr := reconcile.Apply(ctx, r.plan, Clients{r.d.Partner, r.d.YCM}, reconcile.ApplyOptions{
		Concurrency: r.req.Concurrency, Now: r.d.Partner.PortalNow, Canary: r.req.Canary, CanaryMaxFail: r.req.CanaryMaxFail,
		Journal: r.h.journal(),
		OnResult: func(i int, act reconcile.Action, res reconcile.Result) {
			ev := r.log.Debug()
			if res.Outcome == reconcile.Failed {
				ev = r.log.Warn().Str("error", res.Message)
			}
			ev.Str("action", act.Kind.String()).Str("object", act.Label).Str("outcome", res.Outcome.String()).
				Int("attempts", res.Attempts).Msg("done")
			prog.Done(res)
		},
	})
	r.applyTook = time.Since(applyStarted)
	outcomesErr := r.h.endJournal()
	prog.Finish()
	r.rep.Results = results
	tally := reconcile.TallyResults(results)
	if r.d.Applied != nil {
		r.d.Applied(tally)
	}
	var canary *reconcile.CanaryError
	var journal *reconcile.JournalError
	local := func(what string, err error) *Failure {
		r.rep.Fatal = what + ": " + err.Error() + ". Free space in the state directory " + r.req.StateDir +
			" (or make it writable) and run again: the next run reads the portal back for what this one sent"
		return &Failure{Ending: Local, Message: "stopped: " + r.rep.Fatal, Err: err}
	}
	switch {
	case ctx.Err() != nil:
		r.rep.Interrupted = true
		return &Failure{Ending: Interrupted, Message: "interrupted: the rest was not run; run again to finish", Err: ctx.Err()}
	case errors.As(ferr, &canary):
		r.rep.Fatal = ferr.Error()
		return &Failure{Ending: Partial, Message: ferr.Error(), Err: ferr}
	case errors.As(ferr, &journal):
		return local("the run history could not record the changes, so the rest was not sent", journal.Err)
	case ferr != nil:
		r.rep.Fatal = reconcile.Explain(ferr)
		return &Failure{Ending: PortalDown, Message: "stopped: " + r.rep.Fatal, Err: ferr}
	case outcomesErr != nil:
		return local("the run history could not record the results of some changes", outcomesErr)
	case tally.Failed > 0 || tally.NotRun > 0:
		msg := words.Count(tally.Failed, "change") + " failed"
		if tally.NotRun > 0 {
			msg += ", " + words.Count(tally.NotRun, "change") + " not run"
		}
		return fail(Partial, msg+seeReport)
	}
	return r.partial()
}

type noProgress struct{}

func (noProgress) Done(reconcile.Result) {}
func (noProgress) Finish()               {}

// Clients joins both APIs into what reconcile.Apply needs.
type Clients struct {
	*portal.PartnerClient
	YCM *portal.YCMClient
}

func (c Clients) Resize(ctx context.Context, id int64, cp portal.Capacity) error {
	return c.YCM.Resize(ctx, id, cp)
}

func (c Clients) SendActivation(ctx context.Context, id int64) error {
	return c.YCM.SendActivation(ctx, id)
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

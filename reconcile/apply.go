package reconcile

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sourcegraph/conc/pool"

	"github.com/ycm-onboard/ycm-onboard/portal"
)

// Portal is what Apply needs from the portal clients.
type Portal interface {
	// CreateColleague returns recovered when an answer was lost on the way; with id 0
	// the portal refused the create sent again as existing, which the end of Apply
	// checks against the list (see confirm.go).
	CreateColleague(ctx context.Context, n portal.NewColleague) (id int64, recovered bool, err error)
	EditColleague(ctx context.Context, id int64, e portal.ColleagueEdit) error
	DeleteColleagues(ctx context.Context, ids ...int64) error
	Resize(ctx context.Context, id int64, c portal.Capacity) error
	// SendActivation asks YCM to e-mail a YCM user a new activation link.
	SendActivation(ctx context.Context, ycmUserID int64) error
	// ColleaguesOwnedBy lists the colleagues of owner (0: the partner's own), to
	// confirm creates the portal refused as existing after a lost answer.
	ColleaguesOwnedBy(ctx context.Context, owner int64) ([]portal.Colleague, error)
}

// ApplyOptions steer Apply.
type ApplyOptions struct {
	Concurrency int           // workers, default 4, at most 64
	Grace       time.Duration // after ctx is cancelled, in-flight calls get this long; default 10s
	Now         func() time.Time
	// OnResult is called after each action finishes (from the worker's goroutine).
	OnResult func(i int, a Action, r Result)
	// Canary applies the first Canary changes alone and stops if more than
	// CanaryMaxFail (a fraction, default 0.2) of them failed.
	Canary        int
	CanaryMaxFail float64
	// DownAfter changes failing in a row for want of an answer stop the run as the
	// portal being down (PortalDownError); default 10.
	DownAfter int
	// Journal, when set, records each change before it is sent and its result after,
	// so a run that dies in between can be settled by the next one.
	Journal Journal
}

// Journal is the run history's view of an apply.
type Journal interface {
	// Intents is called before the first of a batch of actions (their indexes in the
	// plan) is sent, and returns their ids; an error keeps the whole batch from being
	// sent and stops the run. The next batch's are written while one runs, so it is
	// called concurrently with Done.
	Intents(ctx context.Context, idxs []int, acts []Action) (ids []int64, err error)
	// Done records the result of the intent id, including "not run" for an action of
	// the batch that was never started.
	Done(ctx context.Context, id int64, i int, a Action, r Result)
}

// CanaryError says the canary batch failed too often; the rest was not run.
type CanaryError struct{ Failed, Ran int }

func (e *CanaryError) Error() string {
	return fmt.Sprintf("canary: %d of the first %d changes failed: the rest was not run; fix the cause and run again", e.Failed, e.Ran)
}

// PortalDownError says the portal stopped answering during the run: every one of the
// last changes failed for want of an answer (no connection, or only server errors)
// after its retries. The rest was not started.
type PortalDownError struct {
	Failures int
	Last     error
}

func (e *PortalDownError) Error() string {
	return fmt.Sprintf("the portal stopped answering: the last %d changes failed after their retries (%v)", e.Failures, e.Last)
}

func (e *PortalDownError) Unwrap() error { return e.Last }

// defaultDownAfter is how many changes in a row may fail for want of an answer before
// the portal is taken as down.
const defaultDownAfter = 10

// portalGone counts the changes that failed in a row because the portal did not answer.
type portalGone struct {
	mu    sync.Mutex
	limit int
	run   int
}

// record counts r and returns a *PortalDownError when the run of failures reaches the
// limit; any answer the portal gave (success or refusal) starts the count again.
func (g *portalGone) record(r Result) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case r.Outcome == Failed && (portal.KindOf(r.Err) == portal.KindNetwork || portal.KindOf(r.Err) == portal.KindServer):
		g.run++
		if g.run >= g.limit {
			return &PortalDownError{Failures: g.run, Last: r.Err}
		}
	case r.Outcome == Applied || r.Outcome == Failed:
		g.run = 0
	}
	return nil
}

// JournalError says the run history could not record a batch's intents: that batch
// and the rest were not sent. The fault is on this machine (state directory full or
// unwritable), not the portal's.
type JournalError struct{ Err error }

func (e *JournalError) Error() string {
	return "the run history could not record the changes, so the rest was not sent: " + e.Err.Error()
}

func (e *JournalError) Unwrap() error { return e.Err }

// MaxConcurrency bounds --concurrency.
const MaxConcurrency = 64

// Apply runs the plan's actions with bounded concurrency and returns one result per
// action, in plan order. Cancelling ctx stops new work; calls in flight get opts.Grace
// to finish. A fatal error (credentials, IP blocked) stops new work the same way and
// is returned; the rest are marked not run.
func Apply(ctx context.Context, p Plan, pt Portal, opts ApplyOptions) ([]Result, error) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	opts.Concurrency = min(opts.Concurrency, MaxConcurrency)
	if opts.Grace <= 0 {
		opts.Grace = 10 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	results := make([]Result, len(p.Actions))
	for i, a := range p.Actions {
		results[i] = initial(a)
	}
	if len(p.Tripped) > 0 {
		return results, nil
	}

	// Calls outlive a cancelled ctx by the grace period, so none is cut off mid-write.
	callCtx, cancelCalls := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelCalls()
	stopAfter := context.AfterFunc(ctx, func() { time.AfterFunc(opts.Grace, cancelCalls) })
	defer stopAfter()

	var fatal atomic.Pointer[error]
	gone := &portalGone{limit: opts.DownAfter}
	if gone.limit <= 0 {
		gone.limit = defaultDownAfter
	}
	stopped := func() bool { return ctx.Err() != nil || fatal.Load() != nil }

	// Shrinks run before grows so the hosting package's pool has room.
	var order []int
	for _, grow := range []bool{false, true} {
		for i, a := range p.Actions {
			if a.Runs() && (a.Kind == Resize && !a.Shrink()) == grow {
				order = append(order, i)
			}
		}
	}
	done := func(i int, id int64, r Result) {
		if opts.Journal != nil {
			opts.Journal.Done(callCtx, id, i, p.Actions[i], r)
		}
		if opts.OnResult != nil {
			opts.OnResult(i, p.Actions[i], r)
		}
	}
	var unsure unconfirmed
	// work runs one action whose intent is id, and records what became of it. A create
	// the portal refused as existing after a lost answer waits for the check at the end.
	work := func(i int, id int64) {
		if stopped() {
			if opts.Journal != nil {
				opts.Journal.Done(callCtx, id, i, p.Actions[i], results[i])
			}
			return // stays "not run"
		}
		r := run(callCtx, pt, p.Actions[i], opts.Now)
		results[i] = r
		if r.Class == ClassFatal && ctx.Err() == nil {
			err := r.Err
			fatal.CompareAndSwap(nil, &err)
		}
		if down := gone.record(r); down != nil && ctx.Err() == nil {
			fatal.CompareAndSwap(nil, &down)
		}
		if r.inferred {
			unsure.add(i, id) // recorded by settleHeld
			return
		}
		done(i, id, r)
	}
	// settleHeld checks the creates waiting for their check (or, when the run was
	// stopped, says they were not checked) and records them: after the canary, which
	// is judged on them, and whatever ends the apply.
	settleHeld := func() {
		held := unsure.take()
		if !stopped() {
			confirm(callCtx, pt, p, results, held)
		} else {
			for _, h := range held {
				unchecked(&results[h.i])
			}
		}
		for _, h := range held {
			done(h.i, h.id, results[h.i])
		}
	}
	defer settleHeld()
	j := journalAhead{j: opts.Journal, ctx: callCtx, plan: p}
	runPhase := func(idxs []int) {
		batches := journalBatches(idxs, opts.Concurrency)
		wp := pool.New().WithMaxGoroutines(opts.Concurrency)
		next := j.record(batches[0])
		for b, batch := range batches {
			rec := <-next
			if rec.err != nil {
				for _, i := range batch {
					r := &results[i]
					r.Outcome, r.Err, r.Class = Failed, rec.err, ClassFatal
					r.Message = "the run history could not record this change, so it was not sent: " + rec.err.Error()
				}
				var err error = &JournalError{Err: rec.err}
				fatal.CompareAndSwap(nil, &err)
				break
			}
			if stopped() {
				j.notRun(batch, rec.ids, results)
				break
			}
			if b+1 < len(batches) {
				next = j.record(batches[b+1]) // written while this batch runs
			}
			for k, i := range batch {
				wp.Go(func() { work(i, rec.ids[k]) })
			}
		}
		wp.Wait()
	}
	runGroup := func(idxs []int) {
		// A group never mixes shrinks and grows: split where the phase changes.
		for len(idxs) > 0 && !stopped() {
			n := 1
			for n < len(idxs) && phase(p.Actions[idxs[n]]) == phase(p.Actions[idxs[0]]) {
				n++
			}
			runPhase(idxs[:n])
			idxs = idxs[n:]
		}
	}
	if opts.Canary > 0 && opts.Canary < len(order) {
		batch := order[:opts.Canary]
		runGroup(batch)
		settleHeld()
		failed := 0
		for _, i := range batch {
			if results[i].Outcome == Failed {
				failed++
			}
		}
		maxFail := opts.CanaryMaxFail
		if maxFail <= 0 {
			maxFail = 0.2
		}
		if float64(failed) > maxFail*float64(len(batch)) {
			if e := fatal.Load(); e != nil {
				return results, *e
			}
			return results, &CanaryError{Failed: failed, Ran: len(batch)}
		}
		order = order[opts.Canary:]
	}
	runGroup(order)
	if e := fatal.Load(); e != nil {
		return results, *e
	}
	return results, nil
}

// maxJournalBatch bounds the actions whose intents are written in one transaction.
const maxJournalBatch = 1024

// journalBatches splits a phase's actions into the batches whose intents are written
// together: the first holds two per worker, so the first calls go out soon, and each
// next one twice the one before, up to maxJournalBatch.
func journalBatches(idxs []int, workers int) [][]int {
	var out [][]int
	size := max(2*workers, 1)
	for len(idxs) > 0 {
		n := min(size, len(idxs))
		out = append(out, idxs[:n])
		idxs = idxs[n:]
		size = min(2*size, maxJournalBatch)
	}
	return out
}

// journalAhead writes a batch's intents in the background, so that the next batch's
// are on disk by the time the one before it has been sent. No action is sent before
// its batch's intents are written.
type journalAhead struct {
	j    Journal
	ctx  context.Context
	plan Plan
}

type recorded struct {
	ids []int64
	err error
}

func (ja journalAhead) record(idxs []int) <-chan recorded {
	out := make(chan recorded, 1)
	if ja.j == nil {
		out <- recorded{ids: make([]int64, len(idxs))}
		return out
	}
	acts := make([]Action, len(idxs))
	for k, i := range idxs {
		acts[k] = ja.plan.Actions[i]
	}
	go func() {
		ids, err := ja.j.Intents(ja.ctx, idxs, acts)
		out <- recorded{ids, err}
	}()
	return out
}

// notRun records that a batch whose intents were written was not started.
func (ja journalAhead) notRun(idxs []int, ids []int64, results []Result) {
	if ja.j == nil {
		return
	}
	for k, i := range idxs {
		ja.j.Done(ja.ctx, ids[k], i, ja.plan.Actions[i], results[i])
	}
}

func phase(a Action) int {
	if a.Kind == Resize && !a.Shrink() {
		return 1
	}
	return 0
}

// initial is an action's result before anything runs.
func initial(a Action) Result {
	r := Result{Outcome: NotRun, Activation: a.Activation, ColleagueID: a.ColleagueID, InvitedAt: a.InvitedAt}
	switch {
	case a.Kind == Skip:
		r.Outcome, r.Message = Skipped, a.Blocked
	case a.Blocked != "":
		r.Outcome, r.Message = Blocked, a.Blocked
	case a.Kind == Noop:
		r.Outcome = Unchanged
	}
	return r
}

func edit(w portal.NewColleague) portal.ColleagueEdit {
	return portal.ColleagueEdit{FirstName: w.FirstName, LastName: w.LastName, PermissionIDs: w.PermissionIDs,
		YCMManager: w.YCMManager, Remark: w.Remark}
}

// run applies one action.
func run(ctx context.Context, pt Portal, a Action, now func() time.Time) Result {
	var st portal.CallStats
	ctx = portal.WithCallStats(ctx, &st)
	start := now()
	r := initial(a)
	var err error
	switch a.Kind {
	case Create:
		var id int64
		id, r.Recovered, err = pt.CreateColleague(ctx, a.Want)
		if err == nil {
			r.ColleagueID, r.Activation, r.InvitedAt = id, ActivationPending, start
			r.inferred = r.Recovered && id == 0
		}
	case Update:
		err = pt.EditColleague(ctx, a.ColleagueID, edit(a.Want))
	case Delete:
		err = pt.DeleteColleagues(ctx, a.ColleagueID)
		if err == nil {
			r.Activation = ActivationNone
		}
	case Reinvite:
		if a.Via == YCMEmail {
			if len(a.Changes) > 0 {
				if err = pt.EditColleague(ctx, a.ColleagueID, edit(a.Want)); err != nil {
					break
				}
			}
			if err = pt.SendActivation(ctx, a.YCMUserID); err != nil {
				err = fmt.Errorf("YCM did not send the activation e-mail: %w", err)
				break
			}
			r.Activation, r.InvitedAt = ActivationReinvited, start
			r.Message = "Re-invited through YCM's activation e-mail; the account was kept"
			break
		}
		// Not found: a run stopped since the plan was made deleted it already; the
		// create still sends the new link.
		if err = pt.DeleteColleagues(ctx, a.ColleagueID); err != nil && portal.KindOf(err) != portal.KindNotFound {
			break
		}
		var id int64
		id, r.Recovered, err = pt.CreateColleague(ctx, a.Want)
		if err != nil && Classify(err) == ClassRetryable && ctx.Err() == nil {
			// Deleted and not created: the colleague is missing until a create works,
			// so it gets one more round of retries before the run moves on.
			id, r.Recovered, err = pt.CreateColleague(ctx, a.Want)
		}
		if err != nil {
			err = fmt.Errorf("deleted, re-creation failed: created again on the next run (the sheet still lists them): %w", err)
			r.Activation = ActivationNone
			break
		}
		r.ColleagueID, r.Activation, r.InvitedAt = id, ActivationReinvited, start
		r.inferred = r.Recovered && id == 0
	case Resize:
		err = pt.Resize(ctx, a.PBXID, a.After)
	}
	r.Attempts = int(st.Attempts.Load())
	r.Duration = now().Sub(start)
	if r.Recovered {
		r.Message = "the portal's answer was lost; the colleague was found created, so no second e-mail was sent"
	}
	if err != nil {
		r.Outcome, r.Err, r.Class = Failed, err, Classify(err)
		r.Message = Explain(err)
		if errors.Is(err, context.Canceled) {
			r.Message = "interrupted before the portal answered, so whether it took effect is unknown: run again (the next plan reads the portal first)"
		}
		return r
	}
	r.Outcome = Applied
	return r
}

// Classify sorts an error: fatal stops the run, row-terminal fails the row only.
func Classify(err error) Class {
	if err == nil {
		return ClassNone
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return ClassFatal
	}
	switch portal.KindOf(err) {
	case portal.KindAuth, portal.KindIPBlocked:
		return ClassFatal
	case portal.KindThrottled, portal.KindServer, portal.KindNetwork:
		return ClassRetryable
	}
	return ClassRowTerminal
}

// Explain says what went wrong and what to do, for the report and the terminal.
func Explain(err error) string {
	msg := err.Error()
	switch portal.KindOf(err) {
	case portal.KindAuth:
		pe, _ := errors.AsType[*portal.Error](err)
		if pe != nil && pe.HTTPStatus >= 300 && pe.HTTPStatus < 400 {
			return msg + "; the run stopped"
		}
		if pe != nil && pe.HTTPStatus == 404 {
			return msg + ". Nothing at this address answers as a token endpoint: check the portal URL (--partner-url, --ycm-url, --portal or the configuration file); the run stopped"
		}
		const block = "; each refused login counts towards YCM's block of this IP after more than five in a row, so fix it before trying again"
		if pe != nil && pe.API == "ycm" {
			return msg + ". Check the YCM client ID and secret (YCM_CLIENT_ID, YCM_CLIENT_SECRET, or the variables the configuration file names); the run stopped" + block
		}
		return msg + ". Check the Partner Portal client ID and secret (System > API in the Partner Portal); the run stopped" + block
	case portal.KindIPBlocked:
		return msg + ". This machine's IP is blocked or not allowed: ask a YCM administrator to remove the block; do not retry"
	case portal.KindExists:
		return msg + ". Someone added this colleague since the plan was made: run plan again"
	case portal.KindNotFound:
		return msg + ". It was removed since the plan was made: run plan again"
	case portal.KindValidation:
		if pe, ok := errors.AsType[*portal.Error](err); ok && strings.HasPrefix(pe.Op, "resize") {
			return msg + ". YCM refused the new size: it may be below the extensions in use (which YCM does not show), " +
				"below the hosting package's minimum per PBX or past its pool, or lower the recording minutes; check the PBX in YCM and fix the row"
		}
		return msg + ". Fix the row and run again"
	case portal.KindNetwork:
		if dns, ok := errors.AsType[*net.DNSError](err); ok && dns.IsNotFound {
			return msg + ". No such host: check the portal URL (--portal, --partner-url, --ycm-url or the config file)"
		}
		if errors.Is(err, syscall.ECONNREFUSED) {
			return msg + ". Nothing answers at that address: check the portal URL and port, and any proxy or firewall on the way"
		}
		return msg + ". The portal did not answer after retries: run again later; finished rows are not repeated"
	case portal.KindThrottled, portal.KindServer:
		return msg + ". The portal kept failing after retries: run again later; finished rows are not repeated"
	}
	return msg
}

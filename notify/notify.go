// Package notify tells a team how a batch run ended: a summary of the run sent to the
// receivers the configuration file names (a webhook, e-mail over SMTP), each when its
// rule says so.
//
// Secrets (a webhook's URL, which is its credential; an SMTP password) never reach an
// error, a log line or a test's output: a failed send is told by the receiver's kind
// and its host alone.
package notify

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ycm-onboard/ycm-onboard/job"
	"github.com/ycm-onboard/ycm-onboard/metrics"
	"github.com/ycm-onboard/ycm-onboard/reconcile"
	"github.com/ycm-onboard/ycm-onboard/report"
)

// Summary is what a receiver is told about a run. Its JSON keys are stable: the json
// webhook format sends it as it is.
type Summary struct {
	Mode     string `json:"mode"`      // plan or apply
	Ending   string `json:"ending"`    // done, partial, refused, guarded, portal_down, locked, local, interrupted
	ExitCode int    `json:"exit_code"` // the run's exit code
	// Changes: the plan had changes to apply (in plan mode: apply would write).
	Changes     bool      `json:"changes"`
	PlanLine    string    `json:"plan_line"`    // "Plan: N to create, …"; "" if the run did not get to its plan
	AppliedLine string    `json:"applied_line"` // "Applied: N succeeded, …"; "" unless an apply ran
	Planned     Planned   `json:"planned"`
	Applied     Applied   `json:"applied"`
	FailedRows  int       `json:"failed_rows"`      // actions the portal refused or failed
	RowErrors   int       `json:"rows_with_errors"` // input rows skipped for their errors
	Report      string    `json:"report"`           // the report workbook's path; "" if none was written
	RunID       int64     `json:"run_id"`           // in the run history; 0 without one
	Host        string    `json:"host"`             // the machine the run ran on
	Started     time.Time `json:"started,omitzero"`
	Finished    time.Time `json:"finished"`
	Fatal       string    `json:"fatal"`   // the first fatal error that stopped the run; "" if none
	Message     string    `json:"message"` // what the command said on stderr as it exited; "" when it went well
	// Proposal is the plan the run saved for another approver instead of applying it
	// (four eyes); nil when it saved none. Every receiver hears of it, whatever its when.
	Proposal *Proposal `json:"proposal,omitempty"`
	// StartedBy is who started the run, as the run history names them (a page
	// account); "" when the summary does not say.
	StartedBy string `json:"started_by,omitempty"`
	From      string `json:"from,omitempty"` // "page": started on serve's page; "": the command line
	// Decision is an approver's decision on a proposal: the approval this apply
	// carries out, or a refusal (mode "refuse", no run). A refusal is told to every
	// receiver, as the proposal was.
	Decision *Decision `json:"decision,omitempty"`
}

// FromPage is Summary.From for what was started on serve's page.
const FromPage = "page"

// Decision is an approver's decision on a proposal.
type Decision struct {
	Proposal int64  `json:"proposal"`
	Status   string `json:"status"` // approved or refused
	Author   string `json:"author"` // who proposed it
	By       string `json:"by"`     // who decided
	Reason   string `json:"reason,omitempty"`
}

// The statuses of a Decision.
const (
	Approved = "approved"
	Refused  = "refused"
)

// Proposal is a pending proposal and the command that approves it.
type Proposal struct {
	ID      int64  `json:"id"`
	Command string `json:"command"` // e.g. "ycm-onboard approve 42"
	// Waiting: an earlier run proposed the same plan, and its receivers heard of it
	// then; nobody is told again, but for a Reminder once a day.
	Waiting  bool `json:"-"`
	Reminder bool `json:"reminder,omitempty"`
}

// Planned counts the plan's actions by kind.
type Planned struct {
	Create    int `json:"create"`
	Update    int `json:"update"`
	Delete    int `json:"delete"`
	Reinvite  int `json:"re_invite"`
	Resize    int `json:"resize"`
	Unchanged int `json:"unchanged"`
	Skipped   int `json:"skipped"`
}

// Applied counts what an apply did.
type Applied struct {
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Deleted   int `json:"deleted"`
	Reinvited int `json:"re_invited"`
	Resized   int `json:"resized"`
	Succeeded int `json:"succeeded"`
	Failed    int `json:"failed"`
	Skipped   int `json:"skipped"`
	NotRun    int `json:"not_run"`
}

// Run is what the command line knows of a run once it has ended.
type Run struct {
	Mode     job.Mode
	Outcome  job.Outcome
	Ending   job.Ending
	ExitCode int
	Message  string // the message the command exits with; "" when the run went well
	Host     string
	// Started and Finished are used when the run ended before its report (which
	// holds its own times).
	Started, Finished time.Time
	StartedBy, From   string    // as in Summary
	Decision          *Decision // the approval this apply carries out; nil for none
}

// NewSummary sums a run up.
func NewSummary(r Run) Summary {
	rep := r.Outcome.Report
	s := Summary{
		Mode: string(r.Mode), Ending: metrics.EndingName(r.Ending), ExitCode: r.ExitCode,
		Report: r.Outcome.ReportPath, RunID: r.Outcome.RunID, Host: r.Host,
		Started: r.Started, Finished: r.Finished, Fatal: rep.Fatal, Message: r.Message,
		StartedBy: r.StartedBy, From: r.From, Decision: r.Decision,
	}
	if id := r.Outcome.Proposal; id != 0 {
		s.Proposal = &Proposal{ID: id, Command: job.ApproveCommand(id), Waiting: r.Outcome.Waiting, Reminder: r.Outcome.Remind}
	}
	if !rep.Started.IsZero() {
		s.Started = rep.Started
	}
	if !rep.Finished.IsZero() {
		s.Finished = rep.Finished
	}
	if r.Outcome.Reported || len(rep.Plan.Actions) > 0 {
		c := rep.Plan.Counts()
		s.PlanLine = c.Line()
		s.Changes = rep.Plan.HasChanges()
		s.Planned = Planned{Create: c.Create, Update: c.Update, Delete: c.Delete, Reinvite: c.Reinvite,
			Resize: c.Resize, Unchanged: c.Unchanged, Skipped: c.Skipped}
		sum := report.Summarize(rep, r.Outcome.ReportPath)
		s.FailedRows = sum.Outcomes.Failed
		s.RowErrors = sum.Outcomes.Skipped
		if r.Mode == job.Apply && rep.Results != nil {
			t := reconcile.TallyResults(rep.Results)
			s.AppliedLine = t.Line()
			s.Applied = Applied{Created: sum.Actions.Create.Applied, Updated: sum.Actions.Update.Applied,
				Deleted: sum.Actions.Delete.Applied, Reinvited: sum.Actions.Reinvite.Applied, Resized: sum.Actions.Resize.Applied,
				Succeeded: t.Succeeded, Failed: t.Failed, Skipped: t.Skipped, NotRun: t.NotRun}
		}
	}
	return s
}

// NewRefusal sums up the refusal d of a proposal, decided at on host: no run,
// nothing changed.
func NewRefusal(d Decision, from, host string, at time.Time) Summary {
	d.Status = Refused
	return Summary{Mode: "refuse", Ending: metrics.EndingName(job.Done), Host: host, Started: at, Finished: at,
		StartedBy: d.By, From: from, Decision: &d}
}

// Title is the summary in a line, an e-mail's subject:
// "ycm-onboard apply: 3 created, 1 failed (exit 1)", with "by NAME" after the mode
// when the summary names who started the run.
func (s Summary) Title() string {
	if d := s.Decision; d != nil && d.Status == Refused {
		return fmt.Sprintf("ycm-onboard: proposal %d refused by %s", d.Proposal, d.By)
	}
	var parts []string
	add := func(n int, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	switch {
	case s.AppliedLine != "":
		a := s.Applied
		add(a.Created, "created")
		add(a.Updated, "updated")
		add(a.Deleted, "deleted")
		add(a.Reinvited, "re-invited")
		add(a.Resized, "resized")
		add(a.Failed, "failed")
		add(a.NotRun, "not run")
	case s.PlanLine != "":
		p := s.Planned
		add(p.Create, "to create")
		add(p.Update, "to update")
		add(p.Delete, "to delete")
		add(p.Reinvite, "to re-invite")
		add(p.Resize, "to resize")
	}
	if s.FailedRows == 0 {
		add(s.RowErrors, "rows with errors")
	}
	what := strings.Join(parts, ", ")
	switch {
	case s.ExitCode != 0 && what == "":
		what = strings.ReplaceAll(s.Ending, "_", " ")
	case what == "":
		what = "no changes"
	}
	mode := s.Mode
	if s.StartedBy != "" {
		mode += " by " + s.StartedBy
	}
	return fmt.Sprintf("ycm-onboard %s: %s (exit %d)", mode, what, s.ExitCode)
}

// startedBy is who started the run and where, as a sentence; "" when unknown.
func (s Summary) startedBy() string {
	switch {
	case s.StartedBy == "":
		return ""
	case s.From == FromPage:
		return fmt.Sprintf("Started by %s on the page.\n", s.StartedBy)
	}
	return fmt.Sprintf("Started by %s.\n", s.StartedBy)
}

// Text is the summary as plain text lines, an e-mail's body.
func (s Summary) Text() string {
	var b strings.Builder
	if d := s.Decision; d != nil && d.Status == Refused {
		where := ""
		if s.From == FromPage {
			where = " on the page"
		}
		fmt.Fprintf(&b, "ycm-onboard on %s: proposal %d, proposed by %s, was refused by %s%s.\n", s.Host, d.Proposal, d.Author, d.By, where)
		fmt.Fprintf(&b, "Reason: %s\nNothing was changed: run apply again for a new proposal.\n\n", d.Reason)
		fmt.Fprintf(&b, "Refused: %s\n", s.Finished.UTC().Format(time.RFC3339))
		return b.String()
	}
	fmt.Fprintf(&b, "ycm-onboard %s on %s ended %s (exit %d).\n", s.Mode, s.Host, strings.ReplaceAll(s.Ending, "_", " "), s.ExitCode)
	b.WriteString(s.startedBy())
	if d := s.Decision; d != nil {
		fmt.Fprintf(&b, "It applies proposal %d, proposed by %s and approved by %s.\n", d.Proposal, d.Author, d.By)
	}
	if s.Message != "" {
		fmt.Fprintf(&b, "%s\n", s.Message)
	}
	if p := s.Proposal; p != nil {
		how := fmt.Sprintf("runs `%s`", p.Command)
		if s.From == FromPage {
			how = "approves it on the page's Proposals page, or " + how
		}
		if p.Reminder {
			fmt.Fprintf(&b, "A reminder: proposal %d still waits for approval; another approver %s\n", p.ID, how)
		} else {
			fmt.Fprintf(&b, "Needs approval: proposal %d is pending; another approver %s\n", p.ID, how)
		}
	}
	if s.Fatal != "" && s.Fatal != s.Message {
		fmt.Fprintf(&b, "Stopped by: %s\n", s.Fatal)
	}
	b.WriteString("\n")
	if s.PlanLine != "" {
		fmt.Fprintf(&b, "%s\n", s.PlanLine)
	} else {
		b.WriteString("The run ended before its plan.\n")
	}
	if s.AppliedLine != "" {
		fmt.Fprintf(&b, "%s\n", s.AppliedLine)
	}
	fmt.Fprintf(&b, "Failed rows: %d\n", s.FailedRows)
	fmt.Fprintf(&b, "Rows skipped for errors in the input: %d\n", s.RowErrors)
	if s.Report != "" {
		fmt.Fprintf(&b, "Report: %s\n", s.Report)
	} else {
		b.WriteString("Report: none was written\n")
	}
	if s.RunID != 0 {
		fmt.Fprintf(&b, "Run: %d in the run history\n", s.RunID)
	}
	if !s.Started.IsZero() {
		fmt.Fprintf(&b, "Started: %s\n", s.Started.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(&b, "Finished: %s\n", s.Finished.UTC().Format(time.RFC3339))
	return b.String()
}

// When says which runs a receiver is told of.
type When int

const (
	OnFailure When = iota // the exit code is not 0
	OnChanges             // the plan had changes, or the run failed
	Always
)

var whenNames = [...]string{"failure", "changes", "always"}

func (w When) String() string { return whenNames[w] }

// ParseWhen reads a configuration file's when: failure, changes or always.
func ParseWhen(s string) (When, error) {
	for i, n := range whenNames {
		if s == n {
			return When(i), nil
		}
	}
	return 0, fmt.Errorf("%q: give failure, changes or always", s)
}

// Wants reports whether a receiver with this rule is told of the run s.
func (w When) Wants(s Summary) bool {
	if s.Proposal != nil {
		// Someone must approve it: the run is not over until then. Told once, then
		// reminded once a day: a schedule finding it still pending every hour does not
		// repeat it, and a first notice lost is not the last.
		return !s.Proposal.Waiting || s.Proposal.Reminder
	}
	if d := s.Decision; d != nil && d.Status == Refused {
		return true // the end of a proposal every receiver heard of; silence would read as applied
	}
	switch w {
	case Always:
		return true
	case OnChanges:
		return s.Changes || s.ExitCode != 0
	default:
		return s.ExitCode != 0
	}
}

// Budget bounds all the notifications of one run together: a receiver that hangs
// must not keep a cron job from ending, nor serve from stopping.
const Budget = 2 * time.Minute

// Sender delivers a summary to one receiver.
type Sender interface {
	Kind() string // webhook, email
	// Host is where the sender sends, without path, query or credentials: all a log
	// line may say of it.
	Host() string
	Send(ctx context.Context, s Summary) error
}

// Receiver is a sender and the rule saying which runs it is told of.
type Receiver struct {
	When   When
	Sender Sender
}

// SendError is a send that failed. Its message holds the receiver's kind and host and
// a cause from which the sender removed its secrets.
type SendError struct {
	Kind, Host string
	Err        error
}

func (e *SendError) Error() string {
	return fmt.Sprintf("notify by %s (%s): %v", e.Kind, e.Host, e.Err)
}

func (e *SendError) Unwrap() error { return e.Err }

// Send tells each receiver whose rule wants s, one after the other, and returns the
// sends that failed (as *SendError), in the receivers' order. A send is bounded by
// its sender's own timeout.
func Send(ctx context.Context, rs []Receiver, s Summary) []error {
	var errs []error
	for _, r := range rs {
		if !r.When.Wants(s) {
			continue
		}
		if err := r.Sender.Send(ctx, s); err != nil {
			errs = append(errs, &SendError{Kind: r.Sender.Kind(), Host: r.Sender.Host(), Err: err})
		}
	}
	return errs
}

// scrubbed is an error whose text had the secrets removed. It keeps no cause: the
// cause's text is what held them.
type scrubbed string

func (e scrubbed) Error() string { return string(e) }

// scrub returns err's text with every non-empty secret replaced.
func scrub(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "[redacted]")
		}
	}
	return scrubbed(msg)
}

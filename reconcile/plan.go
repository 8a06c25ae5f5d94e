// Package reconcile diffs the desired state against the portal into a plan, checks the
// plan against the safety guards, and applies it with bounded concurrency.
package reconcile

import (
	"fmt"
	"time"

	"github.com/ycm-onboard/ycm-onboard/importer"
	"github.com/ycm-onboard/ycm-onboard/portal"
)

// Kind is what an action does.
type Kind uint8

const (
	Noop     Kind = iota // nothing to change
	Create               // add a colleague (sends the activation e-mail)
	Update               // edit a colleague
	Delete               // remove a colleague
	Reinvite             // send a never-activated colleague whose link expired a new one (see Via)
	Resize               // change a PBX's capacity
	Skip                 // an input row with errors: nothing is done for it
)

var kindNames = [...]string{"no-op", "create", "update", "delete", "re-invite", "resize", "skip"}
var kindSymbols = [...]string{" ", "+", "~", "-", "↻", "~", "!"}

func (k Kind) String() string { return kindNames[k] }

// Symbol is the one-character mark the printed plan uses.
func (k Kind) Symbol() string { return kindSymbols[k] }

// Changes reports whether the kind writes to the portal.
func (k Kind) Changes() bool { return k != Noop && k != Skip }

// Object is what an action is about.
type Object uint8

const (
	ColleagueObject Object = iota
	InstanceObject
)

func (o Object) String() string {
	if o == InstanceObject {
		return "PBX"
	}
	return "colleague"
}

// Change is one field going from Old to New.
type Change struct {
	Field string
	Old   string
	New   string
}

func (c Change) String() string {
	if c.Old == "" {
		return fmt.Sprintf("%s: %s", c.Field, c.New)
	}
	return fmt.Sprintf("%s: %s → %s", c.Field, c.Old, c.New)
}

// Ago says a duration the way a person would: "3 days", "5 hours", "40 minutes".
func Ago(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	case d >= 2*time.Hour:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	case d >= time.Hour:
		return "1 hour"
	default:
		return fmt.Sprintf("%d minutes", int(d.Minutes()))
	}
}

// Activation is where a colleague stands with the activation e-mail.
type Activation string

const (
	ActivationNone      Activation = ""
	ActivationActive    Activation = "Active"
	ActivationPending   Activation = "Pending"
	ActivationExpired   Activation = "Expired"
	ActivationReinvited Activation = "Re-invited"
	ActivationFrozen    Activation = "Frozen"
)

// InviteValidity is how long an activation link works.
const InviteValidity = 48 * time.Hour

// Via is how a re-invite sends the new activation e-mail.
type Via uint8

const (
	// Recreate deletes the colleague and creates it again: the Partner Portal API has
	// no call that sends the e-mail again.
	Recreate Via = iota
	// YCMEmail asks YCM to send its account activation e-mail: the colleague keeps its id.
	YCMEmail
)

func (v Via) String() string {
	if v == YCMEmail {
		return "YCM activation e-mail"
	}
	return "delete and create again"
}

// Action is one step of the plan, traceable to its source row.
type Action struct {
	Kind    Kind
	Object  Object
	Frozen  bool             // colleagues: the portal has the account frozen
	Key     string           // lower-case e-mail, or the PBX's SN
	Label   string           // the e-mail as written, or the PBX's name
	Name    string           // the colleague's full name
	Source  *importer.Source // nil for a portal-only object
	Changes []Change
	Reason  string // why this action, e.g. "State absent" or "invitation expired 24h ago"
	Blocked string // non-empty: a rule or guard keeps this action from running, and why
	Was     uint64 `json:",string"` // a hash of the object's state on the portal when planned: a saved plan is stale if it differs

	// Colleagues.
	ColleagueID int64               // the portal's id, 0 for a create
	Want        portal.NewColleague // the desired state (create, update, re-invite)
	Activation  Activation          // before the run
	InvitedAt   time.Time           // zero when unknown
	Via         Via                 // re-invites: how the new e-mail is sent
	YCMUserID   int64               // re-invites through YCM: the colleague's YCM user

	// PBXs: set for every PBX action, nil for colleagues (a plan of a million
	// colleagues does not carry a million empty capacities).
	*Sizing
}

// Sizing is what a PBX action carries.
type Sizing struct {
	PBXID          int64
	Before, After  portal.Capacity
	ExtensionsUsed int // -1 when unknown
	Derivation     string
}

// Runs reports whether the action writes to the portal when applied.
func (a Action) Runs() bool { return a.Kind.Changes() && a.Blocked == "" }

// Shrink reports whether a resize lowers the extension capacity.
func (a Action) Shrink() bool {
	return a.Kind == Resize && a.Sizing != nil && a.After.Extensions < a.Before.Extensions
}

// Plan is every action, in the order they are shown and reported.
type Plan struct {
	Actions []Action
	// Fingerprint identifies the portal state the plan was made from.
	Fingerprint string
	// Tripped lists the guards the plan trips; a tripped plan applies nothing.
	Tripped []string
	Made    time.Time
}

// Counts tallies a plan for the summary line.
type Counts struct {
	Create, Update, Delete, Reinvite, Resize, Unchanged, Skipped, Blocked int
}

// Counts tallies the plan's actions. Blocked actions count as blocked only.
func (p Plan) Counts() Counts {
	var c Counts
	for _, a := range p.Actions {
		if a.Blocked != "" && a.Kind.Changes() {
			c.Blocked++
			continue
		}
		switch a.Kind {
		case Create:
			c.Create++
		case Update:
			c.Update++
		case Delete:
			c.Delete++
		case Reinvite:
			c.Reinvite++
		case Resize:
			c.Resize++
		case Noop:
			c.Unchanged++
		case Skip:
			c.Skipped++
		}
	}
	return c
}

// Line is the plan's last line, stable for scripts.
func (c Counts) Line() string {
	return fmt.Sprintf("Plan: %d to create, %d to update, %d to delete, %d to re-invite, %d to resize, %d unchanged.",
		c.Create, c.Update, c.Delete, c.Reinvite, c.Resize, c.Unchanged)
}

// HasChanges reports whether applying the plan would write anything.
func (p Plan) HasChanges() bool {
	for _, a := range p.Actions {
		if a.Runs() {
			return true
		}
	}
	return false
}

// Outcome is what happened to an action.
type Outcome int

const (
	Planned   Outcome = iota // plan mode: not applied
	Applied                  // done
	Unchanged                // nothing needed doing
	Failed                   // the portal refused or failed
	Skipped                  // the input row had errors
	Blocked                  // a guard or rule kept it from running
	NotRun                   // the run stopped before it (fatal error, interrupt, canary)
)

var outcomeNames = [...]string{"planned", "applied", "unchanged", "failed", "skipped", "blocked", "not run"}

func (o Outcome) String() string { return outcomeNames[o] }

// Class sorts errors by what the run does next.
type Class int

const (
	ClassNone        Class = iota
	ClassRowTerminal       // this row failed; the run goes on
	ClassRetryable         // the portal kept failing after the client's retries; a rerun may succeed
	ClassFatal             // no call can succeed: the run stops
)

var classNames = [...]string{"", "row", "retryable", "fatal"}

func (c Class) String() string { return classNames[c] }

// Result is what happened to one action, at the same index as the action.
type Result struct {
	Outcome     Outcome
	Err         error
	Class       Class
	Message     string // for a person: what went wrong and what to do
	Attempts    int
	Duration    time.Duration
	Recovered   bool // a lost answer was resolved by reading the portal back
	ColleagueID int64
	Activation  Activation // after the run
	InvitedAt   time.Time
	inferred    bool // created, as the portal's "exists" refusal after a lost answer says: checked at the end
}

// ExpiresAt is when the colleague's activation link stops working (zero if unknown).
func (r Result) ExpiresAt() time.Time {
	if r.InvitedAt.IsZero() {
		return time.Time{}
	}
	return r.InvitedAt.Add(InviteValidity)
}

// Tally counts results for the apply summary line.
type Tally struct{ Succeeded, Failed, Skipped, NotRun int }

// TallyResults counts what an apply did to the changes of the plan; unchanged rows are
// the plan line's.
func TallyResults(rs []Result) Tally {
	var t Tally
	for _, r := range rs {
		switch r.Outcome {
		case Applied:
			t.Succeeded++
		case Failed:
			t.Failed++
		case Skipped, Blocked:
			t.Skipped++
		case NotRun:
			t.NotRun++
		}
	}
	return t
}

// Line is the apply's last line, stable for scripts.
func (t Tally) Line() string {
	return fmt.Sprintf("Applied: %d succeeded, %d failed, %d skipped, %d not run.",
		t.Succeeded, t.Failed, t.Skipped, t.NotRun)
}

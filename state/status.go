package state

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ycm-onboard/ycm-onboard/reconcile"
)

// statusOrder puts what needs attention first.
var statusOrder = map[reconcile.Activation]int{
	reconcile.ActivationPending: 0,
	reconcile.ActivationExpired: 1,
	reconcile.ActivationActive:  2,
}

// Status is what `ycm-onboard status` shows.
type Status struct {
	Invitations []Invitation
	Runs        []Run      // the last runs, newest first
	Proposals   []Proposal // the pending proposals, newest first
	Now         time.Time  // times are shown in its location
}

// WriteStatus writes the invitations (pending, then expired, then active), the runs
// and the pending proposals, in format "table" or "json".
func WriteStatus(w io.Writer, format string, st Status) error {
	inv, runs, now := slices.Clone(st.Invitations), st.Runs, st.Now
	slices.SortStableFunc(inv, func(a, b Invitation) int {
		sa, sb := a.Status(now), b.Status(now)
		oa, ok := statusOrder[sa]
		if !ok {
			oa = len(statusOrder)
		}
		ob, ok := statusOrder[sb]
		if !ok {
			ob = len(statusOrder)
		}
		return cmp.Or(cmp.Compare(oa, ob), a.ExpiresAt.Compare(b.ExpiresAt), strings.Compare(a.Email, b.Email))
	})
	switch format {
	case "table", "":
		return writeTable(w, inv, runs, st.Proposals, now)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(statusJSON(inv, runs, st.Proposals, now))
	default:
		return fmt.Errorf("status format %q: use table or json", format)
	}
}

func writeTable(w io.Writer, inv []Invitation, runs []Run, ps []Proposal, now time.Time) error {
	loc := now.Location()
	at := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.In(loc).Format("2006-01-02 15:04")
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	n := map[reconcile.Activation]int{}
	for _, i := range inv {
		n[i.Status(now)]++
	}
	fmt.Fprintf(tw, "Invitations: %d pending, %d expired, %d active (times %s)\n",
		n[reconcile.ActivationPending], n[reconcile.ActivationExpired], n[reconcile.ActivationActive], loc)
	if len(inv) > 0 {
		fmt.Fprintln(tw, "EMAIL\tSTATUS\tINVITED\tEXPIRES\tHOURS LEFT\tRE-INVITES\tACTIVATED")
	}
	for _, i := range inv {
		st := i.Status(now)
		left := "-"
		if st == reconcile.ActivationPending {
			left = fmt.Sprint(i.HoursLeft(now))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", i.Email, strings.ToLower(cmp.Or(string(st), "unknown")),
			at(i.InvitedAt), at(i.ExpiresAt), left, i.Reinvites, at(i.ActivatedAt))
	}
	fmt.Fprintf(tw, "\nLast runs: %d\n", len(runs))
	if len(runs) > 0 {
		fmt.Fprintln(tw, "RUN\tMODE\tSTARTED\tFINISHED\tEXIT\tCOUNTS\tREPORT")
	}
	for _, r := range runs {
		fin, exit := at(r.Finished), fmt.Sprint(r.ExitCode)
		if r.Finished.IsZero() {
			fin, exit = "did not finish", "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Mode, at(r.Started), fin, exit,
			countsLine(r.Counts), cmp.Or(r.ReportPath, "-"))
	}
	if err := tw.Flush(); err != nil || len(ps) == 0 {
		return err
	}
	// The proposals have a table of their own: their columns are not the runs'.
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "\nPending proposals: %d\n", len(ps))
	fmt.Fprintln(tw, "RUN\tAUTHOR\tPROPOSED\tWHY\tAPPROVE WITH")
	for _, p := range ps {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", p.ID, p.Author, at(p.Created), p.Reason, ApproveCommand(p.ID))
	}
	return tw.Flush()
}

// countsLine is "create 3, failed 1", non-zero counts in name order.
func countsLine(c map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(c)) {
		if c[k] != 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, c[k]))
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

type jsonStatus struct {
	Now         time.Time        `json:"now"`
	Invitations []jsonInvitation `json:"invitations"`
	Runs        []jsonRun        `json:"runs"`
	Proposals   []jsonProposal   `json:"proposals"` // pending ones
}

type jsonProposal struct {
	ID       int64     `json:"id"`
	Author   string    `json:"author"`
	Created  time.Time `json:"created"`
	Status   string    `json:"status"`
	Reason   string    `json:"reason"`              // why it needs approval
	PlanLine string    `json:"plan_line,omitempty"` // absent for a proposal saved before it was recorded
	Command  string    `json:"command"`             // what approves it
}

type jsonInvitation struct {
	Email       string     `json:"email"`
	ColleagueID int64      `json:"colleague_id,omitempty"`
	Status      string     `json:"status"`
	InvitedAt   *time.Time `json:"invited_at,omitempty"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
	HoursLeft   *int       `json:"hours_left,omitempty"` // pending only
	Reinvites   int        `json:"reinvites"`
	ActivatedAt *time.Time `json:"activated_at,omitempty"`
	LastStatus  string     `json:"last_status,omitempty"`
	LastSeen    *time.Time `json:"last_seen,omitempty"`
}

type jsonRun struct {
	ID         int64          `json:"id"`
	Mode       string         `json:"mode"`
	StartedBy  string         `json:"started_by,omitempty"`
	Inputs     []Input        `json:"inputs"`
	Started    *time.Time     `json:"started,omitempty"`
	Finished   *time.Time     `json:"finished,omitempty"` // absent: did not finish
	ExitCode   *int           `json:"exit_code,omitempty"`
	Counts     map[string]int `json:"counts,omitempty"`
	ReportPath string         `json:"report_path,omitempty"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func statusJSON(inv []Invitation, runs []Run, ps []Proposal, now time.Time) jsonStatus {
	out := jsonStatus{Now: now.UTC(), Invitations: []jsonInvitation{}, Runs: []jsonRun{}, Proposals: []jsonProposal{}}
	for _, p := range ps {
		out.Proposals = append(out.Proposals, jsonProposal{ID: p.ID, Author: p.Author, Created: p.Created.UTC(),
			Status: string(p.Status), Reason: p.Reason, PlanLine: p.PlanLine, Command: ApproveCommand(p.ID)})
	}
	for _, i := range inv {
		st := i.Status(now)
		ji := jsonInvitation{Email: i.Email, ColleagueID: i.ColleagueID, Status: strings.ToLower(cmp.Or(string(st), "unknown")),
			InvitedAt: optTime(i.InvitedAt), ExpiresAt: optTime(i.ExpiresAt), Reinvites: i.Reinvites,
			ActivatedAt: optTime(i.ActivatedAt), LastStatus: i.LastStatus, LastSeen: optTime(i.LastSeen)}
		if st == reconcile.ActivationPending {
			h := i.HoursLeft(now)
			ji.HoursLeft = &h
		}
		out.Invitations = append(out.Invitations, ji)
	}
	for _, r := range runs {
		jr := jsonRun{ID: r.ID, Mode: r.Mode, StartedBy: r.StartedBy, Inputs: r.Inputs, Started: optTime(r.Started),
			Finished: optTime(r.Finished), Counts: r.Counts, ReportPath: r.ReportPath}
		if jr.Inputs == nil {
			jr.Inputs = []Input{}
		}
		if !r.Finished.IsZero() {
			e := r.ExitCode
			jr.ExitCode = &e
		}
		out.Runs = append(out.Runs, jr)
	}
	return out
}

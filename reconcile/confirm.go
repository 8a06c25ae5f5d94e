package reconcile

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/sourcegraph/conc/iter"

	"github.com/ycm-onboard/ycm-onboard/portal"
)

// unconfirmed holds the creates counted done on the portal's word alone: an answer
// was lost, and the create sent again was refused because the e-mail is taken. That
// is almost always the lost create having worked, but someone else may have added the
// same colleague meanwhile. Rather than a listing each, all of them are checked at the
// end of the apply with one listing per owner; their outcomes are recorded then.
type unconfirmed struct {
	mu   sync.Mutex
	held []heldResult
}

type heldResult struct {
	i  int   // in the plan
	id int64 // the intent's id
}

func (u *unconfirmed) add(i int, id int64) {
	u.mu.Lock()
	u.held = append(u.held, heldResult{i, id})
	u.mu.Unlock()
}

// confirm lists the colleagues of each owner the held creates name, once, and settles
// each: the colleague listed as the run sent it is confirmed (with its id); one listed
// with other settings, or not listed, is a failure that says so. A listing that fails
// leaves its creates counted done, as the refusal said, with a note.
func (u *unconfirmed) confirm(ctx context.Context, pt Portal, p Plan, results []Result) {
	if len(u.held) == 0 {
		return
	}
	byOwner := map[int64][]int{}
	var owners []int64
	for _, h := range u.held {
		o := p.Actions[h.i].Want.OwnerID
		if _, ok := byOwner[o]; !ok {
			owners = append(owners, o)
		}
		byOwner[o] = append(byOwner[o], h.i)
	}
	m := iter.Mapper[int64, error]{MaxGoroutines: 4}
	m.Map(owners, func(owner *int64) error {
		cs, err := pt.ColleaguesOwnedBy(ctx, *owner)
		listed := make(map[string]portal.Colleague, len(cs))
		for _, c := range cs {
			listed[strings.ToLower(c.Email)] = c
		}
		for _, i := range byOwner[*owner] {
			settle(&results[i], p.Actions[i], listed, err)
		}
		return nil
	})
}

// settle decides one held create from its owner's list (or the error listing it).
func settle(r *Result, a Action, listed map[string]portal.Colleague, listErr error) {
	r.inferred = false
	want := a.Want
	if listErr != nil {
		r.Message = "the portal's answer was lost; the create sent again was refused as existing, so it is counted " +
			"created and no second e-mail was sent (checking it against the list failed: " + Explain(listErr) + ")"
		return
	}
	c, ok := listed[strings.ToLower(want.Email)]
	if !ok {
		r.Message = fmt.Sprintf("the portal's answer was lost and the create sent again was refused as existing, "+
			"yet %s is not listed among the colleagues of %s: look for it in the Partner Portal, then run again", want.Email, ownerText(want.OwnerID))
		failed(r, 0)
		return
	}
	if diff := differences(c, want); diff != "" {
		r.Message = fmt.Sprintf("the portal's answer was lost and the create sent again was refused: %s already exists "+
			"with other settings (%s), so someone else may have added this colleague meanwhile; check it in the Partner "+
			"Portal: the next run updates it to the sheet", want.Email, diff)
		failed(r, c.ID)
		return
	}
	r.ColleagueID = c.ID
	r.Message = "the portal's answer was lost; the create sent again was refused as existing and the colleague is " +
		"listed as sent, so no second e-mail was sent"
}

// failed marks a held create failed: whether this run's e-mail went out is unknown.
func failed(r *Result, id int64) {
	r.Outcome, r.Class, r.Err = Failed, ClassRowTerminal, errors.New(r.Message)
	r.ColleagueID, r.Activation, r.InvitedAt = id, ActivationNone, time.Time{}
}

// differences names what the colleague listed has other than what the create sent,
// as a plan compares them; "" when nothing.
func differences(c portal.Colleague, want portal.NewColleague) string {
	var d []string
	if c.FirstName != want.FirstName || c.LastName != want.LastName {
		d = append(d, fmt.Sprintf("name %q", fullName(c.FirstName, c.LastName)))
	}
	if !sameIDs(c.PermissionIDs, want.PermissionIDs) {
		d = append(d, "permissions")
	}
	if c.YCMManager != want.YCMManager {
		d = append(d, "YCM manager "+yesNo(c.YCMManager))
	}
	if c.Remark != want.Remark {
		d = append(d, "remark")
	}
	return strings.Join(d, ", ")
}

func ownerText(owner int64) string {
	if owner == 0 {
		return "the partner itself"
	}
	return fmt.Sprintf("partner %d", owner)
}

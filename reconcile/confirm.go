package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sourcegraph/conc/iter"

	"github.com/ycm-onboard/ycm-onboard/portal"
)

// unconfirmed holds the creates counted done on the portal's word alone: an answer
// was lost, and the create sent again was refused because the e-mail is taken. That
// is almost always the lost create having worked, but someone else may have added the
// same colleague meanwhile. Rather than a listing each, they are checked together, one
// listing per owner, at the end of the apply (and of a canary batch); their outcomes
// are recorded then.
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

// take returns the creates held so far and forgets them.
func (u *unconfirmed) take() []heldResult {
	u.mu.Lock()
	defer u.mu.Unlock()
	h := u.held
	u.held = nil
	return h
}

// confirm lists the colleagues of each owner the held creates name, once, and settles
// each (see settle). A listing that fails leaves its creates counted done, as the
// refusal said, with a note.
func confirm(ctx context.Context, pt Portal, p Plan, results []Result, held []heldResult) {
	if len(held) == 0 {
		return
	}
	byOwner := map[int64][]int{}
	var owners []int64
	for _, h := range held {
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
		clock := portalClock(p, results, listed, held)
		for _, i := range byOwner[*owner] {
			settle(&results[i], p.Actions[i], listed, err, clock)
		}
		return nil
	})
}

// createClock relates the portal's createTime to the times the run started its
// creates: the guides do not say its unit or time zone.
type createClock struct {
	offset time.Duration // createTime minus the start of the create, as this run saw it
	skew   time.Duration // how early a createTime may still be this run's
}

// portalClock measures the portal's createTime against the creates of this run that
// were answered (the median of their offsets), in one owner's list. With none to
// measure, a createTime is trusted only beyond any time zone's offset.
func portalClock(p Plan, results []Result, listed map[string]portal.Colleague, held []heldResult) createClock {
	isHeld := make(map[int]bool, len(held))
	for _, h := range held {
		isHeld[h.i] = true
	}
	var offsets []time.Duration
	for i, a := range p.Actions {
		if isHeld[i] { // settled meanwhile, by this owner's listing or another's
			continue
		}
		r := &results[i]
		if r.Outcome != Applied || r.InvitedAt.IsZero() || (a.Kind != Create && a.Kind != Reinvite) {
			continue
		}
		if c, ok := listed[strings.ToLower(a.Want.Email)]; ok && !c.CreatedAt.IsZero() {
			offsets = append(offsets, c.CreatedAt.Sub(r.InvitedAt))
		}
	}
	if len(offsets) == 0 {
		return createClock{skew: 15 * time.Hour}
	}
	slices.Sort(offsets)
	return createClock{offset: offsets[len(offsets)/2], skew: createSkew}
}

// unchecked is a held create of a run that stopped before the check.
func unchecked(r *Result) {
	r.inferred = false
	r.Message = "the portal's answer was lost; the create sent again was refused as existing, so it is counted " +
		"created and no second e-mail was sent (not checked against the list: the run stopped; the next run reads the portal)"
}

// createSkew is how much earlier than the start of a create the portal may date it,
// once its clock is measured (portalClock): a colleague it dates earlier still was
// not this run's.
const createSkew = time.Minute

// settle decides one held create from its owner's list (or the error listing it).
// Who created a colleague is told by when: one the portal created before this run
// sent it, or one not listed at all, is a failure that says so. Settings that differ
// are only noted: a portal may list them otherwise than it takes them (a remark left
// out), and the next run updates the colleague to the sheet either way.
func settle(r *Result, a Action, listed map[string]portal.Colleague, listErr error, clock createClock) {
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
	if !c.CreatedAt.IsZero() && !r.InvitedAt.IsZero() && c.CreatedAt.Add(-clock.offset).Before(r.InvitedAt.Add(-clock.skew)) {
		r.Message = fmt.Sprintf("the portal's answer was lost and the create sent again was refused: the portal created %s "+
			"at %s, before this run sent it, so someone else added this colleague meanwhile and this run's e-mail was not sent; "+
			"check it in the Partner Portal: the next run updates it to the sheet", want.Email, c.CreatedAt.UTC().Format("2006-01-02 15:04:05 MST"))
		failed(r, c.ID)
		return
	}
	r.ColleagueID = c.ID
	if diff := differences(c, want); diff != "" {
		r.Message = fmt.Sprintf("the portal's answer was lost; the create sent again was refused as existing, so it is counted "+
			"created and no second e-mail was sent, but the portal lists %s with other settings (%s): if someone else added "+
			"this colleague in those seconds, check it in the Partner Portal; the next run updates it to the sheet", want.Email, diff)
		return
	}
	r.Message = "the portal's answer was lost; the create sent again was refused as existing and the colleague is " +
		"listed as sent, so no second e-mail was sent"
}

// failed marks a held create failed: this run's e-mail did not go out, or it is unknown.
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

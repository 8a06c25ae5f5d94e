package reconcile

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Approval says which plans a second person must approve before they are applied
// (four eyes). The zero value asks for none.
type Approval struct {
	Always    bool // every plan with changes
	Deletes   bool // the plan deletes a colleague
	Reinvites bool // the plan re-invites a colleague
	Shrinks   bool // the plan lowers a PBX's extension capacity
	// MoreThan, when set, asks for approval of a plan changing more than this many
	// objects.
	MoreThan *int
}

// Off reports whether no plan needs approval.
func (a Approval) Off() bool {
	return !a.Always && !a.Deletes && !a.Reinvites && !a.Shrinks && a.MoreThan == nil
}

// Reasons lists why the plan needs approval, none when it does not. A plan without
// changes never does: there is nothing to approve.
func (a Approval) Reasons(p Plan) []string {
	if !p.HasChanges() {
		return nil
	}
	var out []string
	if a.Always {
		out = append(out, "every plan with changes needs approval (require_approval: always)")
	}
	var deletes, reinvites, shrinks, changes int
	for _, act := range p.Actions {
		if !act.Runs() {
			continue
		}
		changes++
		switch {
		case act.Kind == Delete:
			deletes++
		case act.Kind == Reinvite:
			reinvites++
		case act.Shrink():
			shrinks++
		}
	}
	if a.Deletes && deletes > 0 {
		out = append(out, fmt.Sprintf("it deletes %d colleague(s)", deletes))
	}
	if a.Reinvites && reinvites > 0 {
		out = append(out, fmt.Sprintf("it re-invites %d colleague(s)", reinvites))
	}
	if a.Shrinks && shrinks > 0 {
		out = append(out, fmt.Sprintf("it shrinks %d PBX(s)", shrinks))
	}
	if a.MoreThan != nil && changes > *a.MoreThan {
		out = append(out, fmt.Sprintf("it changes %d objects, more than %d", changes, *a.MoreThan))
	}
	return out
}

// Digest identifies what applying the plan writes, so that an apply finding a pending
// proposal of the same plan does not save another: two plans have the same digest when
// the actions that run are the same writes (kind, object, portal id, changes, desired
// state, how a re-invite is sent, the PBX's new capacity) to objects in the same state
// on the portal (Action.Was, the state approve checks for staleness), in any order.
//
// It leaves out what does not change what approving writes: the Fingerprint, which
// changes with any colleague of the portal (one activating, say); actions that do not
// run; reasons, times and activation, which age by the hour; source rows and labels,
// which move when rows are inserted above them.
func (p Plan) Digest() string {
	var sums [][sha256.Size]byte
	for _, a := range p.Actions {
		if !a.Runs() {
			continue
		}
		a.Label, a.Name, a.Source, a.Reason = "", "", nil, ""
		a.Activation, a.InvitedAt = ActivationNone, time.Time{}
		if a.Sizing != nil {
			s := *a.Sizing
			s.ExtensionsUsed, s.Derivation = 0, ""
			a.Sizing = &s
		}
		b, _ := json.Marshal(a) // plain values and text marshalers: it cannot fail
		sums = append(sums, sha256.Sum256(b))
	}
	slices.SortFunc(sums, func(x, y [sha256.Size]byte) int { return bytes.Compare(x[:], y[:]) })
	h := sha256.New()
	for _, s := range sums {
		h.Write(s[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

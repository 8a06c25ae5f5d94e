package reconcile

import "fmt"

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

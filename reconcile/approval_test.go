package reconcile

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ycm-onboard/ycm-onboard/portal"
)

func TestApprovalReasons(t *testing.T) {
	two := 2
	create := Action{Kind: Create, Object: ColleagueObject}
	del := Action{Kind: Delete, Object: ColleagueObject}
	reinvite := Action{Kind: Reinvite, Object: ColleagueObject}
	shrink := Action{Kind: Resize, Object: InstanceObject, Sizing: &Sizing{Before: portal.Capacity{Extensions: 10}, After: portal.Capacity{Extensions: 5}}}
	blockedDel := Action{Kind: Delete, Object: ColleagueObject, Blocked: "guard"}
	for _, tc := range []struct {
		name string
		a    Approval
		p    []Action
		want int
	}{
		{"never", Approval{}, []Action{del, reinvite, shrink}, 0},
		{"always", Approval{Always: true}, []Action{create}, 1},
		{"always, no changes", Approval{Always: true}, []Action{{Kind: Noop}}, 0},
		{"deletes", Approval{Deletes: true}, []Action{create, del}, 1},
		{"deletes, none", Approval{Deletes: true}, []Action{create}, 0},
		{"blocked delete", Approval{Deletes: true}, []Action{create, blockedDel}, 0},
		{"reinvites", Approval{Reinvites: true}, []Action{reinvite}, 1},
		{"shrinks", Approval{Shrinks: true}, []Action{shrink}, 1},
		{"more than 2, 2", Approval{MoreThan: &two}, []Action{create, create}, 0},
		{"more than 2, 3", Approval{MoreThan: &two}, []Action{create, create, del}, 1},
		{"all", Approval{Deletes: true, Reinvites: true, Shrinks: true, MoreThan: &two}, []Action{del, reinvite, shrink}, 4},
	} {
		got := len(tc.a.Reasons(Plan{Actions: tc.p}))
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s: reasons (-want +got):\n%s", tc.name, diff)
		}
	}
}

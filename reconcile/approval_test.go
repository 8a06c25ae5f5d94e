package reconcile

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ycm-onboard/ycm-onboard/importer"
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

func TestPlanDigest(t *testing.T) {
	at := time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)
	create := Action{Kind: Create, Object: ColleagueObject, Key: "ann@example.com", Label: "Ann@example.com", Name: "Ann A",
		Source: &importer.Source{File: "wave.xlsx", Sheet: "Colleagues", Row: 2}, Reason: "new",
		Want: portal.NewColleague{Email: "Ann@example.com", FirstName: "Ann", PermissionIDs: []int64{1, 2}}}
	del := Action{Kind: Delete, Object: ColleagueObject, Key: "bob@example.com", ColleagueID: 7, Was: 42, Reason: "State absent"}
	reinvite := Action{Kind: Reinvite, Object: ColleagueObject, Key: "cy@example.com", ColleagueID: 8, Was: 43, Via: YCMEmail,
		YCMUserID: 9, Activation: ActivationExpired, InvitedAt: at.Add(-72 * time.Hour), Reason: "expired 24 hours ago"}
	grow := Action{Kind: Resize, Object: InstanceObject, Key: "sn1", Label: "PBX 1", Was: 44,
		Sizing: &Sizing{PBXID: 3, Before: portal.Capacity{Extensions: 10}, After: portal.Capacity{Extensions: 20}, ExtensionsUsed: 8, Derivation: "3CX"}}
	base := Plan{Actions: []Action{create, del, reinvite, grow}, Fingerprint: "aaaa", Made: at}

	with := func(f func(p *Plan)) Plan {
		p := base
		p.Actions = slices.Clone(base.Actions)
		s := *grow.Sizing
		p.Actions[3].Sizing = &s
		f(&p)
		return p
	}
	for _, tc := range []struct {
		name string
		p    Plan
		same bool
	}{
		{"made a day later, on a portal changed elsewhere", with(func(p *Plan) { p.Made, p.Fingerprint = at.Add(24*time.Hour), "bbbb" }), true},
		{"rows moved in the sheet", with(func(p *Plan) {
			p.Actions[0].Source = &importer.Source{File: "wave.xlsx", Sheet: "Colleagues", Row: 9}
			p.Actions[0], p.Actions[1] = p.Actions[1], p.Actions[0]
		}), true},
		{"reasons and times aged", with(func(p *Plan) {
			p.Actions[2].Reason, p.Actions[2].InvitedAt = "expired 48 hours ago", at
			p.Actions[3].ExtensionsUsed, p.Actions[3].Derivation = 9, "3CX, 10% headroom"
		}), true},
		{"an action that does not run added", with(func(p *Plan) {
			p.Actions = append(p.Actions, Action{Kind: Noop, Key: "dee@example.com"}, Action{Kind: Delete, Key: "eve@example.com", Blocked: "guard"})
		}), true},
		{"one more create", with(func(p *Plan) { p.Actions = append(p.Actions, Action{Kind: Create, Key: "fay@example.com"}) }), false},
		{"one action fewer", with(func(p *Plan) { p.Actions = p.Actions[1:] }), false},
		{"a desired field changed", with(func(p *Plan) { p.Actions[0].Want.FirstName = "Anne" }), false},
		{"permissions changed", with(func(p *Plan) { p.Actions[0].Want.PermissionIDs = []int64{1} }), false},
		{"the deleted colleague changed on the portal", with(func(p *Plan) { p.Actions[1].Was = 99 }), false},
		{"re-invited another way", with(func(p *Plan) { p.Actions[2].Via = Recreate }), false},
		{"resized to another capacity", with(func(p *Plan) { p.Actions[3].After.Extensions = 30 }), false},
		{"a delete now blocked", with(func(p *Plan) { p.Actions[1].Blocked = "max-delete" }), false},
	} {
		if got := tc.p.Digest() == base.Digest(); got != tc.same {
			t.Errorf("%s: same digest %v, want %v", tc.name, got, tc.same)
		}
	}

	// A plan read back from its file (a proposal's) has the digest it was saved with.
	path := filepath.Join(t.TempDir(), "plan.json")
	if err := WritePlanFile(path, base, []string{"wave.xlsx"}); err != nil {
		t.Fatal(err)
	}
	back, _, err := ReadPlanFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.Digest() != base.Digest() {
		t.Error("the plan read back from its file has another digest")
	}
}

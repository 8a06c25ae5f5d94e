package reconcile

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ycm-onboard/ycm-onboard/importer"
	"github.com/ycm-onboard/ycm-onboard/portal"
)

var now = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func demoActual() Actual {
	return Actual{
		Now: now,
		Permissions: []portal.Permission{{ID: 101, Name: "Dashboard"}, {ID: 102, Name: "Customers"},
			{ID: 103, Name: "Orders"}, {ID: 105, Name: "Billing"}, {ID: 109, Name: "YCM"}},
		Partners: []portal.Partner{{ID: 2001, Email: "reseller-north@demo.example"}},
		Colleagues: []portal.Colleague{
			{ID: 1, Email: "ops.lead@demo.example", FirstName: "Olivia", LastName: "Lead", Status: portal.StatusActive,
				PermissionIDs: []int64{101, 102, 103, 109}, YCMManager: true, CreatedAt: now.Add(-900 * time.Hour)},
			{ID: 2, Email: "finance@demo.example", FirstName: "Fiona", LastName: "Nance", Status: portal.StatusActive,
				PermissionIDs: []int64{101, 105}, CreatedAt: now.Add(-900 * time.Hour)},
			{ID: 3, Email: "new.hire@demo.example", FirstName: "Noah", LastName: "Hire", Status: portal.StatusUnActive,
				PermissionIDs: []int64{101}, CreatedAt: now.Add(-2 * time.Hour)},
			{ID: 4, Email: "stale.invite@demo.example", FirstName: "Sam", LastName: "Stale", Status: portal.StatusUnActive,
				PermissionIDs: []int64{101, 102}, CreatedAt: now.Add(-72 * time.Hour)},
			{ID: 5, Email: "former.staff@demo.example", FirstName: "Frank", LastName: "Former", Status: portal.StatusFrozen,
				PermissionIDs: []int64{101}, CreatedAt: now.Add(-2000 * time.Hour)},
		},
		PBXs: []portal.PBX{
			{ID: 7701, SN: "PCE-ACME-0001", Name: "Acme HQ", Extensions: 50, ConcurrentCalls: 10, RecordingStatus: "Enabled", RecordingMinutes: 500, ExtensionsUsed: 42},
			{ID: 7702, SN: "PCE-GLBX-0002", Name: "Globex Branch", Extensions: 20, ConcurrentCalls: 5, RecordingStatus: "Enabled", RecordingMinutes: 500, ExtensionsUsed: 12},
			{ID: 7703, SN: "PCE-TWIN-0003", Name: "Twin", Extensions: 20, ConcurrentCalls: 5, ExtensionsUsed: -1},
			{ID: 7704, SN: "PCE-TWIN-0004", Name: "twin", Extensions: 20, ConcurrentCalls: 5, ExtensionsUsed: -1},
		},
	}
}

func ptr[T any](v T) *T { return &v }

func row(n int) importer.Source { return importer.Source{File: "s.xlsx", Sheet: "Colleagues", Row: n} }

func col(n int, email, first, last string, perms ...string) importer.Colleague {
	return importer.NewColleague(colFields(n, email, first, last, perms...))
}

func colFields(n int, email, first, last string, perms ...string) importer.ColleagueFields {
	return importer.ColleagueFields{Source: row(n), Email: email, FirstName: first, LastName: last, Permissions: perms}
}

type got struct {
	Kind    string
	Key     string
	Changes []string
	Blocked string
}

func summarize(p Plan) []got {
	var out []got
	for _, a := range p.Actions {
		g := got{Kind: a.Kind.String(), Key: a.Key, Blocked: a.Blocked}
		for _, c := range a.Changes {
			g.Changes = append(g.Changes, c.String())
		}
		out = append(out, g)
	}
	return out
}

func TestDiffColleagues(t *testing.T) {
	absent := colFields(9, "finance@demo.example", "", "")
	absent.State = importer.Absent
	goneAlready := colFields(10, "nobody@demo.example", "", "")
	goneAlready.State = importer.Absent
	owned := colFields(11, "maya@demo.example", "Maya", "", "Customers")
	owned.Owner = ptr("REseller-north@demo.example")
	tests := []struct {
		name     string
		rows     []importer.Colleague
		rejected []importer.Colleague
		opts     Options
		want     []got
	}{
		{
			name: "unchanged, matched case-insensitively, permissions in any order and case",
			rows: []importer.Colleague{col(2, "OPS.Lead@Demo.Example", "Olivia", "Lead", "ycm", "Orders", "customers", "Dashboard")},
			want: []got{{Kind: "no-op", Key: "ops.lead@demo.example"}},
		},
		{
			name: "create",
			rows: []importer.Colleague{col(2, "New@demo.example", "New", "", "Dashboard", "Orders")},
			want: []got{{Kind: "create", Key: "new@demo.example", Changes: []string{"permissions: Dashboard; Orders"}}},
		},
		{
			name: "create for a subordinate partner, named by e-mail in any case",
			rows: []importer.Colleague{importer.NewColleague(owned)},
			want: []got{{Kind: "create", Key: "maya@demo.example", Changes: []string{"permissions: Customers", "owner: reseller-north@demo.example"}}},
		},
		{
			name: "update names and permissions; a missing optional column leaves the portal value",
			rows: []importer.Colleague{col(2, "finance@demo.example", "Fi", "Nance", "Dashboard", "Billing", "Orders")},
			want: []got{{Kind: "update", Key: "finance@demo.example", Changes: []string{
				"first name: Fiona → Fi", "permissions: Dashboard; Billing → Dashboard; Orders; Billing"}}},
		},
		{
			name: "an explicit YCM manager and remark are compared",
			rows: []importer.Colleague{func() importer.Colleague {
				c := colFields(2, "ops.lead@demo.example", "Olivia", "Lead", "Dashboard", "Customers", "Orders", "YCM")
				c.YCMManager, c.Remark = ptr(false), ptr("night shift")
				return importer.NewColleague(c)
			}()},
			want: []got{{Kind: "update", Key: "ops.lead@demo.example", Changes: []string{
				"YCM manager: yes → no", "remark: (empty) → night shift"}}},
		},
		{
			name: "expired invitation re-invited; a pending one left alone",
			rows: []importer.Colleague{col(2, "stale.invite@demo.example", "Sam", "Stale", "Dashboard", "Customers"),
				col(3, "new.hire@demo.example", "Noah", "Hire", "Dashboard")},
			want: []got{{Kind: "re-invite", Key: "stale.invite@demo.example"}, {Kind: "no-op", Key: "new.hire@demo.example"}},
		},
		{
			name: "no re-invite when turned off",
			rows: []importer.Colleague{col(2, "stale.invite@demo.example", "Sam", "Stale", "Dashboard", "Customers")},
			opts: Options{NoReinvite: true},
			want: []got{{Kind: "no-op", Key: "stale.invite@demo.example"}},
		},
		{
			name: "State absent deletes; absent and already gone is a no-op",
			rows: []importer.Colleague{importer.NewColleague(absent), importer.NewColleague(goneAlready)},
			opts: Options{MaxDelete: 5},
			want: []got{{Kind: "delete", Key: "finance@demo.example"}, {Kind: "no-op", Key: "nobody@demo.example"}},
		},
		{
			name: "unknown permission skips the row",
			rows: []importer.Colleague{col(2, "x@demo.example", "X", "", "Dashbord")},
			want: []got{{Kind: "skip", Key: "x@demo.example", Blocked: "unknown permission Dashbord: use the names the portal lists"}},
		},
		{
			name:     "prune deletes what the sheet lacks, never a rejected row",
			rows:     []importer.Colleague{col(2, "ops.lead@demo.example", "Olivia", "Lead", "Dashboard", "Customers", "Orders", "YCM")},
			rejected: []importer.Colleague{col(3, "Finance@demo.example", "", "")},
			opts:     Options{Prune: true, MaxDelete: 10},
			want: []got{{Kind: "no-op", Key: "ops.lead@demo.example"}, {Kind: "skip", Key: "finance@demo.example"},
				{Kind: "delete", Key: "former.staff@demo.example"}, {Kind: "delete", Key: "new.hire@demo.example"},
				{Kind: "delete", Key: "stale.invite@demo.example"}},
		},
		{
			name: "a rejected row with a mistyped e-mail still keeps its colleague from being pruned",
			rows: []importer.Colleague{col(2, "ops.lead@demo.example", "Olivia", "Lead", "Dashboard", "Customers", "Orders", "YCM")},
			rejected: []importer.Colleague{col(3, "former.staff@demo.example.", "", ""), col(4, "Fiona <FINANCE@demo.example>", "", ""),
				col(5, "mailto:new.hire@demo.example", "", ""), col(6, "stale.invite @demo.example", "", "")},
			opts: Options{Prune: true, MaxDelete: 10},
			want: []got{{Kind: "no-op", Key: "ops.lead@demo.example"}, {Kind: "skip", Key: "former.staff@demo.example."},
				{Kind: "skip", Key: "fiona <finance@demo.example>"}, {Kind: "skip", Key: "mailto:new.hire@demo.example"},
				{Kind: "skip", Key: "stale.invite @demo.example"}},
		},
		{
			name: "doubled dots, a dot before the @ and a display name around them keep their colleague too",
			rows: []importer.Colleague{col(2, "ops.lead@demo.example", "Olivia", "Lead", "Dashboard", "Customers", "Orders", "YCM")},
			rejected: []importer.Colleague{col(3, "former..staff@demo.example", "", ""), col(4, "finance.@demo.example", "", ""),
				col(5, "Noah <new..hire@demo..example>", "", ""), col(6, "stale.invite@demo.example, ops.lead@demo.example", "", "")},
			opts: Options{Prune: true, MaxDelete: 10},
			want: []got{{Kind: "no-op", Key: "ops.lead@demo.example"}, {Kind: "skip", Key: "former..staff@demo.example"},
				{Kind: "skip", Key: "finance.@demo.example"}, {Kind: "skip", Key: "noah <new..hire@demo..example>"},
				{Kind: "skip", Key: "stale.invite@demo.example, ops.lead@demo.example"}},
		},
		{
			name: "quotes, brackets and a name beside the address keep their colleague too",
			rows: []importer.Colleague{col(2, "ops.lead@demo.example", "Olivia", "Lead", "Dashboard", "Customers", "Orders", "YCM")},
			rejected: []importer.Colleague{col(3, "(finance@demo.example)", "", ""), col(4, "'former.staff@demo.example'", "", ""),
				col(5, `"Noah" new.hire@demo.example`, "", ""), col(6, "<stale.invite@demo.example:", "", "")},
			opts: Options{Prune: true, MaxDelete: 10},
			want: []got{{Kind: "no-op", Key: "ops.lead@demo.example"}, {Kind: "skip", Key: "(finance@demo.example)"},
				{Kind: "skip", Key: "'former.staff@demo.example'"}, {Kind: "skip", Key: `"noah" new.hire@demo.example`},
				{Kind: "skip", Key: "<stale.invite@demo.example:"}},
		},
		{
			name: "a rejected row with no address at all blocks every prune: it could be anyone",
			rows: []importer.Colleague{col(2, "ops.lead@demo.example", "Olivia", "Lead", "Dashboard", "Customers", "Orders", "YCM"),
				importer.NewColleague(absent)},
			rejected: []importer.Colleague{col(3, "", "Frank", ""), col(4, "former.staff", "", ""),
				col(5, "finance@demo.example", "", ""), col(6, "@", "", ""), col(7, "-", "", ""), col(8, "n/a", "", "")},
			opts: Options{Prune: true, MaxDelete: 10},
			want: func() []got {
				why := "not pruned: 5 rows have no usable e-mail or may hide other rows (s.xlsx sheet Colleagues row 3, s.xlsx sheet Colleagues row 4, " +
					"s.xlsx sheet Colleagues row 6 and 2 more), so the sheet cannot say who is absent: fix them, or run without --prune"
				return []got{{Kind: "no-op", Key: "ops.lead@demo.example"}, {Kind: "skip", Key: ""}, {Kind: "skip", Key: "former.staff"},
					{Kind: "skip", Key: "finance@demo.example"}, {Kind: "skip", Key: "@"}, {Kind: "skip", Key: "-"}, {Kind: "skip", Key: "n/a"},
					// State absent still deletes: the row names its colleague.
					{Kind: "delete", Key: "finance@demo.example"},
					{Kind: "delete", Key: "former.staff@demo.example", Blocked: why}, {Kind: "delete", Key: "new.hire@demo.example", Blocked: why},
					{Kind: "delete", Key: "stale.invite@demo.example", Blocked: why}}
			}(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &importer.Desired{Colleagues: tt.rows, RejectedColleagues: tt.rejected}
			p := Diff(d, demoActual(), tt.opts)
			if diff := cmp.Diff(tt.want, summarize(p)); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDiffInstances(t *testing.T) {
	inst := func(ref string, ext, calls int) importer.Instance {
		return importer.Instance{Source: importer.Source{File: "s.xlsx", Sheet: "Instances", Row: 2}, Ref: ref, Extensions: ext, ConcurrentCalls: calls}
	}
	tests := []struct {
		name string
		in   importer.Instance
		opts Options
		want got
	}{
		{"by name, grow", inst("acme hq", 60, 0), Options{}, got{Kind: "resize", Key: "PCE-ACME-0001", Changes: []string{"extensions: 50 → 60"}}},
		{"by SN, unchanged", inst("pce-glbx-0002", 20, 5), Options{}, got{Kind: "no-op", Key: "PCE-GLBX-0002"}},
		{"calls only", inst("Acme HQ", 0, 12), Options{}, got{Kind: "resize", Key: "PCE-ACME-0001", Changes: []string{"concurrent calls: 10 → 12"}}},
		{"shrink needs the flag", inst("Acme HQ", 45, 0), Options{}, got{Kind: "resize", Key: "PCE-ACME-0001",
			Changes: []string{"extensions: 50 → 45"}, Blocked: "lowers extensions from 50 to 45: pass --allow-shrink to allow it"}},
		{"shrink allowed", inst("Acme HQ", 45, 0), Options{AllowShrink: true}, got{Kind: "resize", Key: "PCE-ACME-0001", Changes: []string{"extensions: 50 → 45"}}},
		{"never below use", inst("Acme HQ", 40, 0), Options{AllowShrink: true}, got{Kind: "resize", Key: "PCE-ACME-0001",
			Changes: []string{"extensions: 50 → 40"}, Blocked: "42 extensions are in use: a PBX cannot shrink below that"}},
		{"ambiguous name", inst("TWIN", 30, 0), Options{}, got{Kind: "skip", Key: "twin",
			Blocked: `2 cloud PBXs are named "TWIN" (PCE-TWIN-0003, PCE-TWIN-0004): use the SN instead`}},
		{"unknown", inst("Nowhere", 30, 0), Options{}, got{Kind: "skip", Key: "nowhere",
			Blocked: `no cloud PBX is named or has the SN "Nowhere": check the name in YCM, or use the SN`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Diff(&importer.Desired{Instances: []importer.Instance{tt.in}}, demoActual(), tt.opts)
			if diff := cmp.Diff([]got{tt.want}, summarize(p)); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDiffUnsureRowsBlockPrune: rows that may hide others (a CSV quote closed by chance)
// keep --prune from deleting anyone.
func TestDiffUnsureRowsBlockPrune(t *testing.T) {
	d := &importer.Desired{
		Colleagues:         []importer.Colleague{col(2, "ops.lead@demo.example", "Olivia", "Lead", "Dashboard", "Customers", "Orders", "YCM")},
		RejectedColleagues: []importer.Colleague{col(3, "finance@demo.example", "Fiona", "")},
		Unsure:             []importer.Source{row(3)},
	}
	p := Diff(d, demoActual(), Options{Prune: true, MaxDelete: 10})
	deletes := 0
	for _, a := range p.Actions {
		if a.Kind == Delete {
			deletes++
			if !strings.Contains(a.Blocked, "may hide other rows (s.xlsx sheet Colleagues row 3)") {
				t.Errorf("delete %s not blocked: %q", a.Key, a.Blocked)
			}
		}
	}
	if deletes != 3 {
		t.Errorf("%d deletes planned, want 3 (all blocked)", deletes)
	}
}

func TestDiffOnePBXSizedTwice(t *testing.T) {
	d := &importer.Desired{Instances: []importer.Instance{
		{Source: importer.Source{File: "s.xlsx", Sheet: "Instances", Row: 2}, Ref: "Acme HQ", Extensions: 60},
		{Source: importer.Source{File: "s.xlsx", Sheet: "Instances", Row: 3}, Ref: "Globex Branch", Extensions: 30},
		{Source: importer.Source{File: "users.csv"}, Ref: "pce-acme-0001", Extensions: 70, Derivation: "41 users"},
	}}
	p := Diff(d, demoActual(), Options{})
	want := []got{
		{Kind: "skip", Key: "PCE-ACME-0001", Blocked: "PBX Acme HQ (PCE-ACME-0001) is sized more than once: also by the 3CX export users.csv: size each PBX in one place only"},
		{Kind: "resize", Key: "PCE-GLBX-0002", Changes: []string{"extensions: 20 → 30"}},
		{Kind: "skip", Key: "PCE-ACME-0001", Blocked: "PBX Acme HQ (PCE-ACME-0001) is sized more than once: also by s.xlsx sheet Instances row 2: size each PBX in one place only"},
	}
	if diff := cmp.Diff(want, summarize(p)); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	if c := p.Counts(); c.Resize != 1 || c.Skipped != 2 {
		t.Errorf("counts %+v, want 1 resize and 2 skipped", c)
	}
}

func TestDiffIsDeterministic(t *testing.T) {
	d := &importer.Desired{Colleagues: []importer.Colleague{
		col(3, "b@demo.example", "B", "", "Dashboard"), col(2, "a@demo.example", "A", "", "Orders")}}
	first := Diff(d, demoActual(), Options{Prune: true, MaxDelete: 10})
	for range 20 {
		again := Diff(d, demoActual(), Options{Prune: true, MaxDelete: 10})
		if diff := cmp.Diff(summarize(first), summarize(again)); diff != "" || again.Fingerprint != first.Fingerprint {
			t.Fatalf("plans differ:\n%s", diff)
		}
	}
	if first.Actions[0].Key != "a@demo.example" {
		t.Errorf("first action %s, want the row that comes first in the sheet", first.Actions[0].Key)
	}
}

func TestFingerprintSeesChanges(t *testing.T) {
	a := demoActual()
	before := newIndex(a).fingerprint()
	a.Colleagues[1].PermissionIDs = []int64{101}
	if newIndex(a).fingerprint() == before {
		t.Error("fingerprint unchanged after a permission change")
	}
}

func TestGuards(t *testing.T) {
	del := func(n int) Plan {
		var p Plan
		for range n {
			p.Actions = append(p.Actions, Action{Kind: Delete})
		}
		p.Actions = append(p.Actions, Action{Kind: Reinvite}, Action{Kind: Delete, Blocked: "x"})
		return p
	}
	tests := []struct {
		name    string
		deletes int
		portal  int
		opts    Options
		want    string
	}{
		{"at the limit", 5, 10, DefaultOptions(), ""},
		{"over the count", 6, 10, DefaultOptions(), "the plan deletes 6 colleagues, more than --max-delete 5"},
		{"percent ignored under 50 colleagues", 5, 49, Options{MaxDelete: 100, MaxDeletePercent: 1}, ""},
		{"percent from 50 colleagues", 6, 50, Options{MaxDelete: 100, MaxDeletePercent: 10},
			"the plan deletes 6 of the portal's 50 colleagues, more than --max-delete-percent 10% (5)"},
		{"percent at the limit", 10, 100, Options{MaxDelete: 100, MaxDeletePercent: 10}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(Guards(del(tt.deletes), tt.portal, tt.opts), "; ")
			if got != tt.want {
				t.Errorf("tripped %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPoolShrinksFirstAndBlocksWhatCannotFit(t *testing.T) {
	a := demoActual() // 50 + 20 + 20 + 20 = 110 extensions in use of the pool
	ins := []importer.Instance{
		{Source: importer.Source{Row: 2}, Ref: "PCE-ACME-0001", Extensions: 80}, // +30
		{Source: importer.Source{Row: 3}, Ref: "PCE-TWIN-0003", Extensions: 40}, // +20: does not fit
		{Source: importer.Source{Row: 4}, Ref: "PCE-GLBX-0002", Extensions: 15}, // -5, shrink first
		{Source: importer.Source{Row: 5}, Ref: "PCE-TWIN-0004", Extensions: 24}, // +4
	}
	p := Diff(&importer.Desired{Instances: ins}, a, Options{AllowShrink: true, ExtensionPool: 140})
	var order, blocked []string
	for _, act := range p.Actions {
		order = append(order, act.Key)
		if act.Blocked != "" {
			blocked = append(blocked, act.Key+": "+act.Blocked)
		}
	}
	if diff := cmp.Diff([]string{"PCE-GLBX-0002", "PCE-ACME-0001", "PCE-TWIN-0003", "PCE-TWIN-0004"}, order); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
	want := []string{"PCE-TWIN-0003: capacity: the hosting package has 5 of its 140 extensions free, this grow needs 20"}
	if diff := cmp.Diff(want, blocked); diff != "" {
		t.Errorf("blocked (-want +got):\n%s", diff)
	}
}

func TestRadixSortIsStable(t *testing.T) {
	ks := make([]keyed, 5000)
	for i := range ks {
		ks[i] = keyed{h: uint64(i*7919%1000) << (8 * uint(i%8)), i: int32(i)}
	}
	radixSort(ks)
	for i := 1; i < len(ks); i++ {
		if ks[i-1].h > ks[i].h || (ks[i-1].h == ks[i].h && ks[i-1].i > ks[i].i) {
			t.Fatalf("not sorted stably at %d: %v %v", i, ks[i-1], ks[i])
		}
	}
}

func TestJoinTakesTheFirstOfDuplicatesAndMarksRejectedRows(t *testing.T) {
	a := demoActual()
	a.Colleagues = append(a.Colleagues, portal.Colleague{ID: 99, Email: "FINANCE@demo.example", Status: portal.StatusActive})
	d := &importer.Desired{
		Colleagues:         []importer.Colleague{col(2, "Finance@Demo.Example", "Fiona", "Nance", "Dashboard", "Billing"), col(3, "nobody@demo.example", "N", "")},
		RejectedColleagues: []importer.Colleague{col(4, "NEW.HIRE@demo.example", "", "")},
	}
	ix := newIndex(a)
	match, matched := ix.join(d)
	if ix.colleagueMatch("Finance@Demo.Example", match[0]) != 1 || match[1] != -1 {
		t.Errorf("match = %v, want [1 -1]: the portal's first finance@ and no nobody@", match)
	}
	// Both portal copies of finance@ have the row's hash: neither may be pruned.
	want := []bool{false, true, true, false, false, true}
	if diff := cmp.Diff(want, matched); diff != "" {
		t.Errorf("matched (-want +got):\n%s", diff)
	}
}

func TestColleagueMatchSurvivesAHashCollision(t *testing.T) {
	ix := newIndex(demoActual())
	// A candidate with another e-mail (as a collision would give) is not taken.
	if got := ix.colleagueMatch("finance@demo.example", 0); got != 1 {
		t.Errorf("got %d, want 1 (finance@)", got)
	}
	if got := ix.colleagueMatch("nobody@demo.example", 0); got != -1 {
		t.Errorf("got %d, want -1", got)
	}
}

// TestDiffReinviteLimit: the run history's count of re-invites caps them, so a colleague
// who never activates is not deleted, re-created and mailed every two days for ever.
func TestDiffReinviteLimit(t *testing.T) {
	d := &importer.Desired{Colleagues: []importer.Colleague{col(2, "stale.invite@demo.example", "Sam", "Stale", "Dashboard", "Customers")}}
	tests := []struct {
		name      string
		reinvited map[string]int
		opts      Options
		kind      string
		reason    string
	}{
		{"never re-invited", nil, DefaultOptions(), "re-invite", "the activation link sent"},
		{"once, the default limit", map[string]int{"stale.invite@demo.example": 1}, DefaultOptions(), "no-op",
			"the activation link expired again after 1 re-invite: not re-invited (--max-reinvites 1); send a new link from the Partner Portal's colleague page, or raise --max-reinvites"},
		{"once, limit 2", map[string]int{"stale.invite@demo.example": 1}, Options{MaxReinvites: 2}, "re-invite", "the activation link sent"},
		{"three times, no limit", map[string]int{"stale.invite@demo.example": 3}, Options{}, "re-invite", "the activation link sent"},
		{"turned off", nil, Options{NoReinvite: true}, "no-op", "the activation link expired: not re-invited (--no-reinvite)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := demoActual()
			a.Reinvited = tt.reinvited
			p := Diff(d, a, tt.opts)
			if len(p.Actions) != 1 {
				t.Fatalf("%d actions", len(p.Actions))
			}
			got := p.Actions[0]
			if got.Kind.String() != tt.kind || !strings.HasPrefix(got.Reason, tt.reason) {
				t.Errorf("got %s %q, want %s %q", got.Kind, got.Reason, tt.kind, tt.reason)
			}
		})
	}
	// Over the limit, a change still updates the colleague; the reason says why no re-invite.
	d2 := &importer.Desired{Colleagues: []importer.Colleague{col(2, "stale.invite@demo.example", "Sam", "Stale", "Dashboard")}}
	a := demoActual()
	a.Reinvited = map[string]int{"stale.invite@demo.example": 1}
	if got := Diff(d2, a, DefaultOptions()).Actions[0]; got.Kind != Update || !strings.Contains(got.Reason, "not re-invited") {
		t.Errorf("got %s %q, want an update saying it was not re-invited", got.Kind, got.Reason)
	}
}

func TestDiffReinviteVia(t *testing.T) {
	d := &importer.Desired{Colleagues: []importer.Colleague{col(2, "stale.invite@demo.example", "Sam", "Stale", "Dashboard", "Customers")}}
	tests := []struct {
		name   string
		users  []portal.YCMUser
		via    Via
		userID int64
		reason string
	}{
		{"not a YCM user", nil, Recreate, 0, "deleted and created again"},
		{"a YCM colleague, e-mail in another case", []portal.YCMUser{{ID: 900004, Email: "Stale.Invite@demo.example", Type: "My Colleague"}},
			YCMEmail, 900004, "YCM sends a new activation e-mail"},
		{"a YCM user of another kind", []portal.YCMUser{{ID: 77, Email: "stale.invite@demo.example", Type: "Hosting User"}},
			Recreate, 0, "deleted and created again"},
		{"someone else", []portal.YCMUser{{ID: 900001, Email: "ops.lead@demo.example", Type: "My Colleague"}},
			Recreate, 0, "deleted and created again"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := demoActual()
			a.YCMUsers = tt.users
			p := Diff(d, a, DefaultOptions())
			got := p.Actions[0]
			if got.Kind != Reinvite || got.Via != tt.via || got.YCMUserID != tt.userID || !strings.Contains(got.Reason, tt.reason) {
				t.Errorf("got %s via %s (user %d) %q; want re-invite via %s (user %d) %q",
					got.Kind, got.Via, got.YCMUserID, got.Reason, tt.via, tt.userID, tt.reason)
			}
		})
	}
	if !NeedsYCMUsers(Diff(d, demoActual(), DefaultOptions())) {
		t.Error("NeedsYCMUsers is false for a plan that re-invites")
	}
	// The expired colleague is not in the sheet: no re-invite, and no need to read YCM.
	other := &importer.Desired{Colleagues: []importer.Colleague{col(2, "someone.new@demo.example", "Sam", "New", "Dashboard")}}
	if NeedsYCMUsers(Diff(other, demoActual(), DefaultOptions())) {
		t.Error("NeedsYCMUsers is true for a plan that re-invites nobody")
	}
	opts := DefaultOptions()
	opts.NoReinvite = true
	if NeedsYCMUsers(Diff(d, demoActual(), opts)) {
		t.Error("NeedsYCMUsers is true with re-invites turned off")
	}
}

func TestShrinkWithUnknownUseNeedsAllowShrink(t *testing.T) {
	a := demoActual()
	a.PBXs[0].ExtensionsUsed = -1 // YCM does not say
	a.PBXs[0].Transcription = 100
	d := &importer.Desired{Instances: []importer.Instance{{Source: row(2), Ref: "Acme HQ", Extensions: 30}}}

	got := Diff(d, a, DefaultOptions()).Actions[0]
	if got.Kind != Resize || !strings.Contains(got.Blocked, "does not say how many are in use") || !strings.Contains(got.Blocked, "--allow-shrink") {
		t.Errorf("without --allow-shrink: %s blocked %q", got.Kind, got.Blocked)
	}
	opts := DefaultOptions()
	opts.AllowShrink = true
	got = Diff(d, a, opts).Actions[0]
	if got.Blocked != "" || !strings.Contains(got.Reason, "in use unknown") {
		t.Errorf("with --allow-shrink: blocked %q, reason %q", got.Blocked, got.Reason)
	}
	if !got.After.HasTranscription || got.After.Transcription != 100 {
		t.Errorf("the resize does not keep the transcription capacity: %+v", got.After)
	}
	// Known and below: refused whatever the flag.
	a.PBXs[0].ExtensionsUsed = 42
	if got := Diff(d, a, opts).Actions[0]; !strings.Contains(got.Blocked, "42 extensions are in use") {
		t.Errorf("below the known use: blocked %q", got.Blocked)
	}
}

func TestFewerConcurrentCallsNeedAllowShrink(t *testing.T) {
	d := &importer.Desired{Instances: []importer.Instance{{Source: row(2), Ref: "Acme HQ", Extensions: 50, ConcurrentCalls: 2}}}
	got := Diff(d, demoActual(), DefaultOptions()).Actions[0]
	if got.Kind != Resize || got.Blocked != "lowers concurrent calls from 10 to 2: pass --allow-shrink to allow it" {
		t.Errorf("without --allow-shrink: %s blocked %q", got.Kind, got.Blocked)
	}
	opts := DefaultOptions()
	opts.AllowShrink = true
	if got := Diff(d, demoActual(), opts).Actions[0]; got.Blocked != "" || got.After.ConcurrentCalls != 2 {
		t.Errorf("with --allow-shrink: blocked %q, after %+v", got.Blocked, got.After)
	}
}

// TestPlanFileRoundTrip: a saved plan, streamed one action at a time, reads back equal.
func TestPlanFileRoundTrip(t *testing.T) {
	d := &importer.Desired{Colleagues: []importer.Colleague{col(2, "stale.invite@demo.example", "Sam", "Stale", "Dashboard", "Customers"),
		col(3, "new@demo.example", "New", "One", "Dashboard")},
		Instances: []importer.Instance{{Source: row(4), Ref: "Acme HQ", Extensions: 60}}}
	a := demoActual()
	a.PBXs[0].Transcription = 100
	p := Diff(d, a, DefaultOptions())
	p.Tripped = []string{"a guard"}
	for _, plan := range []Plan{p, {}} {
		path := filepath.Join(t.TempDir(), "plan.json")
		if err := WritePlanFile(path, plan, []string{"wave.xlsx"}); err != nil {
			t.Fatal(err)
		}
		got, inputs, err := ReadPlanFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(plan, got, cmpopts.EquateEmpty()); diff != "" || len(inputs) != 1 {
			t.Errorf("read back (-wrote +read):\n%s\ninputs %v", diff, inputs)
		}
	}
}

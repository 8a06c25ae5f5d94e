package reconcile

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ycm-onboard/ycm-onboard/portal"
)

// refusedPortal answers every create as a retry refused as existing after a lost
// answer (recovered, id 0), and lists what listed holds per owner.
type refusedPortal struct {
	fakePortal
	mu       sync.Mutex
	listed   map[int64][]portal.Colleague
	lists    map[int64]int // listings per owner
	listErr  error
	answered map[string]bool // creates answered as usual, with an id
}

func (f *refusedPortal) CreateColleague(ctx context.Context, n portal.NewColleague) (int64, bool, error) {
	if err := f.enter("create " + n.Email); err != nil {
		return 0, false, err
	}
	if f.answered[n.Email] {
		return 8000 + f.nextID.Add(1), false, nil
	}
	return 0, true, nil
}

func (f *refusedPortal) ColleaguesOwnedBy(ctx context.Context, owner int64) ([]portal.Colleague, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists[owner]++
	return f.listed[owner], f.listErr
}

// TestRefusedCreatesAreCheckedAtTheEnd: creates counted done on an "exists" refusal
// after a lost answer are checked against one listing per owner at the end of the
// apply. The one listed as sent is confirmed with its id; one listed with other
// settings is confirmed with a note; one the portal created before the run sent it
// (someone else's) and one not listed fail, saying so; each result is recorded and
// reported once, after the check.
func TestRefusedCreatesAreCheckedAtTheEnd(t *testing.T) {
	now := time.Now()
	want := func(email string, owner int64) portal.NewColleague {
		return portal.NewColleague{Email: email, FirstName: "Ana", LastName: "Lima", PermissionIDs: []int64{101, 102}, OwnerID: owner}
	}
	var p Plan
	for _, w := range []portal.NewColleague{
		want("c000@demo.example", 0),    // listed as sent
		want("c001@demo.example", 0),    // listed under another name
		want("c002@demo.example", 0),    // not listed
		want("c003@demo.example", 2001), // a subordinate's, listed as sent (permissions in another order)
		want("c004@demo.example", 0),    // created by the portal a day before the run sent it
	} {
		p.Actions = append(p.Actions, Action{Kind: Create, Key: w.Email, Label: w.Email, Want: w})
	}
	f := &refusedPortal{lists: map[int64]int{}, listed: map[int64][]portal.Colleague{
		0: {
			{ID: 7000, Email: "C000@demo.example", FirstName: "Ana", LastName: "Lima", PermissionIDs: []int64{101, 102}, CreatedAt: now},
			{ID: 7001, Email: "c001@demo.example", FirstName: "Bruno", LastName: "Lima", PermissionIDs: []int64{101, 102}},
			{ID: 7004, Email: "c004@demo.example", FirstName: "Ana", LastName: "Lima", PermissionIDs: []int64{101, 102}, CreatedAt: now.Add(-24 * time.Hour)},
		},
		2001: {{ID: 7003, Email: "c003@demo.example", FirstName: "Ana", LastName: "Lima", PermissionIDs: []int64{102, 101}, OwnerID: 2001}},
	}}
	j := &fakeJournal{intents: map[int]int64{}, done: map[int64]Outcome{}}
	var mu sync.Mutex
	reported := map[int]Outcome{}
	rs, err := Apply(t.Context(), p, f, ApplyOptions{Concurrency: 4, Journal: j, Now: func() time.Time { return now }, OnResult: func(i int, _ Action, r Result) {
		mu.Lock()
		defer mu.Unlock()
		if _, twice := reported[i]; twice {
			t.Errorf("action %d reported twice", i)
		}
		reported[i] = r.Outcome
	}})
	if err != nil {
		t.Fatal(err)
	}
	if f.lists[0] != 1 || f.lists[2001] != 1 || len(f.lists) != 2 {
		t.Errorf("listings per owner: %v, want one each for 0 and 2001", f.lists)
	}
	check := func(i int, outcome Outcome, id int64, msg string) {
		t.Helper()
		r := rs[i]
		if r.Outcome != outcome || r.ColleagueID != id || !strings.Contains(r.Message, msg) {
			t.Errorf("action %d: %s, id %d, %q; want %s, id %d, a message with %q", i, r.Outcome, r.ColleagueID, r.Message, outcome, id, msg)
		}
		if got := j.done[j.intents[i]]; got != outcome {
			t.Errorf("action %d recorded as %s, want %s", i, got, outcome)
		}
		if reported[i] != outcome {
			t.Errorf("action %d reported as %s, want %s", i, reported[i], outcome)
		}
	}
	check(0, Applied, 7000, "listed as sent")
	check(1, Applied, 7001, `other settings (name "Bruno Lima")`)
	check(2, Failed, 0, "is not listed among the colleagues of the partner itself")
	check(3, Applied, 7003, "listed as sent")
	check(4, Failed, 7004, "before this run sent it, so someone else added this colleague")
	if rs[1].Activation != ActivationPending || rs[1].InvitedAt.IsZero() {
		t.Errorf("listed with other settings: activation %s, invited %v", rs[1].Activation, rs[1].InvitedAt)
	}
	if rs[4].Activation != ActivationNone || !rs[4].InvitedAt.IsZero() {
		t.Errorf("someone else's colleague: activation %s, invited %v", rs[4].Activation, rs[4].InvitedAt)
	}

	// A listing that fails leaves the creates counted done, as the refusal said.
	f2 := &refusedPortal{lists: map[int64]int{}, listErr: &portal.Error{Kind: portal.KindServer, Message: "503"}}
	rs, err = Apply(t.Context(), creates(3), f2, ApplyOptions{Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rs {
		if r.Outcome != Applied || !strings.Contains(r.Message, "checking it against the list failed") {
			t.Errorf("action %d with the listing failing: %s %q", i, r.Outcome, r.Message)
		}
	}
	if f2.lists[0] != 1 {
		t.Errorf("%d listings, want 1", f2.lists[0])
	}

	// A run stopped before the end records them as the refusal said, without listing,
	// and says they were not checked.
	f3 := &refusedPortal{lists: map[int64]int{}}
	f3.fail = func(key string) error {
		if key == "create c001@demo.example" {
			return &portal.Error{Kind: portal.KindAuth, Message: "credentials refused"}
		}
		return nil
	}
	j3 := &fakeJournal{intents: map[int]int64{}, done: map[int64]Outcome{}}
	rs, err = Apply(t.Context(), creates(2), f3, ApplyOptions{Concurrency: 1, Journal: j3})
	if !errors.As(err, new(*portal.Error)) {
		t.Fatalf("err %v, want the fatal error", err)
	}
	if f3.lists[0] != 0 || rs[0].Outcome != Applied || j3.done[j3.intents[0]] != Applied || !strings.Contains(rs[0].Message, "not checked against the list: the run stopped") {
		t.Errorf("stopped run: %d listings, first create %s (recorded %s) %q", f3.lists[0], rs[0].Outcome, j3.done[j3.intents[0]], rs[0].Message)
	}
}

// TestCanaryIsJudgedOnCheckedCreates: the creates of a canary batch settled by a
// refusal are checked before the canary is judged, so a canary whose creates are not
// listed stops the run.
func TestCanaryIsJudgedOnCheckedCreates(t *testing.T) {
	f := &refusedPortal{lists: map[int64]int{}, listed: map[int64][]portal.Colleague{}}
	rs, err := Apply(t.Context(), creates(10), f, ApplyOptions{Concurrency: 1, Canary: 2})
	var ce *CanaryError
	if !errors.As(err, &ce) || ce.Failed != 2 || ce.Ran != 2 {
		t.Fatalf("err %v, want the canary's 2 of 2 failed", err)
	}
	for i, r := range rs {
		if want := map[bool]Outcome{true: Failed, false: NotRun}[i < 2]; r.Outcome != want {
			t.Errorf("action %d: %s, want %s", i, r.Outcome, want)
		}
	}
	if f.lists[0] != 1 {
		t.Errorf("%d listings, want 1: the canary's", f.lists[0])
	}
}

// TestCreateTimeIsMeasuredAgainstTheRun: the guides give no unit or time zone for
// createTime. A portal dating its colleagues eight hours behind (local time) does not
// make the run's own held creates someone else's: the creates of the run that were
// answered measure its clock. Measured so, one it dated an hour before the run sent
// it is someone else's; with nothing to measure, only a day's difference tells.
func TestCreateTimeIsMeasuredAgainstTheRun(t *testing.T) {
	now := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	local := -8 * time.Hour // west of UTC: every date looks hours early
	p := creates(4)         // c000 and c001 answered; c002 held, the run's; c003 held, someone else's
	col := func(i int, created time.Time) portal.Colleague {
		return portal.Colleague{ID: int64(7000 + i), Email: p.Actions[i].Want.Email, CreatedAt: created}
	}
	f := &refusedPortal{lists: map[int64]int{}, answered: map[string]bool{"c000@demo.example": true, "c001@demo.example": true},
		listed: map[int64][]portal.Colleague{0: {
			col(0, now.Add(local+time.Second)), col(1, now.Add(local+2*time.Second)),
			col(2, now.Add(local)), col(3, now.Add(local-time.Hour)),
		}}}
	rs, err := Apply(t.Context(), p, f, ApplyOptions{Concurrency: 1, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if rs[2].Outcome != Applied || rs[2].ColleagueID != 7002 {
		t.Errorf("the run's own held create, dated in local time: %s %q", rs[2].Outcome, rs[2].Message)
	}
	if rs[3].Outcome != Failed || !strings.Contains(rs[3].Message, "someone else added this colleague") {
		t.Errorf("a colleague dated an hour before the run: %s %q", rs[3].Outcome, rs[3].Message)
	}

	// Nothing answered to measure by: an hour's difference could be a time zone.
	f2 := &refusedPortal{lists: map[int64]int{}, listed: map[int64][]portal.Colleague{0: {col(0, now.Add(-time.Hour))}}}
	if rs, _ := Apply(t.Context(), creates(1), f2, ApplyOptions{Now: func() time.Time { return now }}); rs[0].Outcome != Applied {
		t.Errorf("unmeasured, an hour earlier: %s %q", rs[0].Outcome, rs[0].Message)
	}
}

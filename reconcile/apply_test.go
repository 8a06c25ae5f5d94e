package reconcile

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ycm-onboard/ycm-onboard/portal"
)

// fakePortal records calls; fail decides per e-mail or PBX id what a call returns.
type fakePortal struct {
	mu       sync.Mutex
	calls    []string
	inFlight atomic.Int64
	peak     atomic.Int64
	gate     chan struct{} // when set, every call waits for a token
	fail     func(key string) error
	nextID   atomic.Int64
}

func (f *fakePortal) enter(key string) error {
	n := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for {
		p := f.peak.Load()
		if n <= p || f.peak.CompareAndSwap(p, n) {
			break
		}
	}
	if f.gate != nil {
		<-f.gate
	}
	f.mu.Lock()
	f.calls = append(f.calls, key)
	f.mu.Unlock()
	if f.fail != nil {
		return f.fail(key)
	}
	return nil
}

func (f *fakePortal) CreateColleague(ctx context.Context, n portal.NewColleague) (int64, bool, error) {
	if err := f.enter("create " + n.Email); err != nil {
		return 0, false, err
	}
	return 1000 + f.nextID.Add(1), false, nil
}

func (f *fakePortal) ColleaguesOwnedBy(ctx context.Context, owner int64) ([]portal.Colleague, error) {
	if err := f.enter(fmt.Sprintf("list %d", owner)); err != nil {
		return nil, err
	}
	return nil, nil
}

func (f *fakePortal) EditColleague(ctx context.Context, id int64, e portal.ColleagueEdit) error {
	return f.enter(fmt.Sprintf("edit %d", id))
}

func (f *fakePortal) DeleteColleagues(ctx context.Context, ids ...int64) error {
	return f.enter(fmt.Sprintf("delete %v", ids))
}

func (f *fakePortal) Resize(ctx context.Context, id int64, c portal.Capacity) error {
	return f.enter(fmt.Sprintf("resize %d", id))
}

func (f *fakePortal) SendActivation(ctx context.Context, id int64) error {
	return f.enter(fmt.Sprintf("activation %d", id))
}

func creates(n int) Plan {
	var p Plan
	for i := range n {
		e := fmt.Sprintf("c%03d@demo.example", i)
		p.Actions = append(p.Actions, Action{Kind: Create, Key: e, Label: e, Want: portal.NewColleague{Email: e}})
	}
	return p
}

func TestApplyResultsInPlanOrder(t *testing.T) {
	p := creates(50)
	p.Actions = append(p.Actions, Action{Kind: Noop, Key: "same"}, Action{Kind: Skip, Key: "bad", Blocked: "row error"},
		Action{Kind: Update, Key: "blocked", Blocked: "owner change"})
	f := &fakePortal{fail: func(key string) error {
		if key == "create c007@demo.example" {
			return &portal.Error{Kind: portal.KindValidation, Message: "bad name"}
		}
		return nil
	}}
	rs, err := Apply(t.Context(), p, f, ApplyOptions{Concurrency: 8})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != len(p.Actions) {
		t.Fatalf("%d results for %d actions", len(rs), len(p.Actions))
	}
	for i := range 50 {
		want := Applied
		if i == 7 {
			want = Failed
		}
		if rs[i].Outcome != want {
			t.Errorf("result %d: %v, want %v", i, rs[i].Outcome, want)
		}
	}
	if rs[7].Class != ClassRowTerminal || rs[7].Message == "" {
		t.Errorf("failed row: class %v message %q", rs[7].Class, rs[7].Message)
	}
	if rs[0].Activation != ActivationPending || rs[0].ColleagueID == 0 || rs[0].InvitedAt.IsZero() {
		t.Errorf("created row: %+v", rs[0])
	}
	if got := [3]Outcome{rs[50].Outcome, rs[51].Outcome, rs[52].Outcome}; got != [3]Outcome{Unchanged, Skipped, Blocked} {
		t.Errorf("non-running rows: %v", got)
	}
	if n := len(f.calls); n != 50 {
		t.Errorf("%d calls, want 50: blocked and skipped rows must not call the portal", n)
	}
	if tl := TallyResults(rs); tl != (Tally{Succeeded: 49, Failed: 1, Skipped: 2}) {
		t.Errorf("tally %+v", tl)
	}
}

func TestApplyNeverExceedsConcurrency(t *testing.T) {
	for _, c := range []int{1, 3, 16} {
		f := &fakePortal{gate: make(chan struct{})}
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _ = Apply(t.Context(), creates(100), f, ApplyOptions{Concurrency: c})
		}()
		// Hold every call until the pool is full, then let them all through.
		for f.inFlight.Load() < int64(c) {
			runtime.Gosched()
		}
		for range 100 {
			f.gate <- struct{}{}
		}
		<-done
		if p := f.peak.Load(); p != int64(c) {
			t.Errorf("concurrency %d: peak %d in flight, want exactly %d", c, p, c)
		}
	}
}

func TestApplyStopsOnFatal(t *testing.T) {
	f := &fakePortal{fail: func(key string) error {
		if key == "create c010@demo.example" {
			return &portal.Error{Kind: portal.KindAuth, Code: "INVALID_TOKEN"}
		}
		return nil
	}}
	rs, err := Apply(t.Context(), creates(200), f, ApplyOptions{Concurrency: 1})
	if !errors.Is(err, portal.ErrAuth) {
		t.Fatalf("err = %v, want the fatal authentication error", err)
	}
	if rs[10].Outcome != Failed || rs[10].Class != ClassFatal {
		t.Errorf("fatal row: %+v", rs[10])
	}
	for i := 11; i < 200; i++ {
		if rs[i].Outcome != NotRun {
			t.Fatalf("row %d after the fatal error: %v, want not run", i, rs[i].Outcome)
		}
	}
	if len(f.calls) != 11 {
		t.Errorf("%d calls, want 11", len(f.calls))
	}
}

func TestApplyCanary(t *testing.T) {
	failEven := func(key string) error {
		var n int
		fmt.Sscanf(key, "create c%03d@", &n)
		if n < 10 && n%2 == 0 {
			return &portal.Error{Kind: portal.KindValidation}
		}
		return nil
	}
	f := &fakePortal{fail: failEven}
	rs, err := Apply(t.Context(), creates(100), f, ApplyOptions{Concurrency: 4, Canary: 10})
	var ce *CanaryError
	if !errors.As(err, &ce) || ce.Failed != 5 || ce.Ran != 10 {
		t.Fatalf("err = %v, want the canary to stop the run", err)
	}
	if len(f.calls) != 10 || rs[10].Outcome != NotRun || rs[99].Outcome != NotRun {
		t.Errorf("%d calls; rows after the canary: %v %v", len(f.calls), rs[10].Outcome, rs[99].Outcome)
	}
	// Under the threshold the rest runs.
	f2 := &fakePortal{fail: func(key string) error {
		if key == "create c003@demo.example" {
			return &portal.Error{Kind: portal.KindValidation}
		}
		return nil
	}}
	if _, err := Apply(t.Context(), creates(100), f2, ApplyOptions{Concurrency: 4, Canary: 10}); err != nil || len(f2.calls) != 100 {
		t.Errorf("err %v, %d calls; want the whole plan run", err, len(f2.calls))
	}
}

func TestApplyCancelledStopsNewWork(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	var (
		mu      sync.Mutex // no other call counts until the fifth has cancelled
		started int
	)
	f := &fakePortal{}
	f.fail = func(key string) error {
		mu.Lock()
		defer mu.Unlock()
		if started++; started == 5 {
			cancel()
		}
		return nil
	}
	rs, err := Apply(ctx, creates(100), f, ApplyOptions{Concurrency: 2, Grace: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	tl := TallyResults(rs)
	if tl.Succeeded < 5 || tl.Succeeded > 7 || tl.NotRun != 100-tl.Succeeded {
		t.Errorf("tally after cancel: %+v", tl)
	}
}

func TestApplyShrinksBeforeGrows(t *testing.T) {
	p := Plan{Actions: []Action{
		{Kind: Resize, Object: InstanceObject, Sizing: &Sizing{PBXID: 1, Before: portal.Capacity{Extensions: 10}, After: portal.Capacity{Extensions: 20}}},
		{Kind: Resize, Object: InstanceObject, Sizing: &Sizing{PBXID: 2, Before: portal.Capacity{Extensions: 20}, After: portal.Capacity{Extensions: 10}}},
	}}
	f := &fakePortal{}
	if _, err := Apply(t.Context(), p, f, ApplyOptions{Concurrency: 8}); err != nil {
		t.Fatal(err)
	}
	if len(f.calls) != 2 || f.calls[0] != "resize 2" {
		t.Errorf("calls %v, want the shrink first", f.calls)
	}
}

func TestApplyTrippedPlanWritesNothing(t *testing.T) {
	p := creates(3)
	p.Tripped = []string{"too many deletes"}
	f := &fakePortal{}
	rs, _ := Apply(t.Context(), p, f, ApplyOptions{})
	if len(f.calls) != 0 || rs[0].Outcome != NotRun {
		t.Errorf("%d calls, outcome %v", len(f.calls), rs[0].Outcome)
	}
}

// TestReinviteCreateGetsASecondRound: a re-invite that deleted the colleague and then
// could not create them again tries once more in the run; if that fails too, the
// result says the colleague is deleted and the next run creates them.
func TestReinviteCreateGetsASecondRound(t *testing.T) {
	for _, tt := range []struct {
		name     string
		failures int
		outcome  Outcome
	}{{"once", 1, Applied}, {"twice", 2, Failed}} {
		t.Run(tt.name, func(t *testing.T) {
			left := tt.failures
			f := &fakePortal{fail: func(key string) error {
				if strings.HasPrefix(key, "create") && left > 0 {
					left--
					return &portal.Error{Kind: portal.KindServer, Message: "down"}
				}
				return nil
			}}
			p := Plan{Actions: []Action{{Kind: Reinvite, Key: "a@demo.example", ColleagueID: 7, Want: portal.NewColleague{Email: "a@demo.example"}}}}
			rs, _ := Apply(t.Context(), p, f, ApplyOptions{})
			if rs[0].Outcome != tt.outcome {
				t.Fatalf("outcome %s (%s), want %s", rs[0].Outcome, rs[0].Message, tt.outcome)
			}
			if tt.outcome == Failed && !strings.Contains(rs[0].Message, "deleted, re-creation failed: created again on the next run") {
				t.Errorf("message %q", rs[0].Message)
			}
		})
	}
}

// fakeJournal records intents and results, and checks that no action is sent before
// its intent is recorded (sent, from the portal's side, is checked by calledBefore).
type fakeJournal struct {
	mu       sync.Mutex
	intents  map[int]int64 // plan index -> id
	done     map[int64]Outcome
	batches  []int
	failFrom int // 0: never; else the batch number (1-based) whose Intents fails
}

func (j *fakeJournal) Intents(_ context.Context, idxs []int, acts []Action) ([]int64, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.failFrom > 0 && len(j.batches)+1 >= j.failFrom {
		return nil, errors.New("disk full")
	}
	j.batches = append(j.batches, len(idxs))
	ids := make([]int64, len(idxs))
	for k, i := range idxs {
		if acts[k].Key != fmt.Sprintf("c%03d@demo.example", i) {
			panic("intent of the wrong action")
		}
		ids[k] = int64(len(j.intents) + 1)
		j.intents[i] = ids[k]
	}
	return ids, nil
}

func (j *fakeJournal) Done(_ context.Context, id int64, i int, _ Action, r Result) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.intents[i] != id {
		panic(fmt.Sprintf("result of action %d under intent %d, recorded as %d", i, id, j.intents[i]))
	}
	if _, twice := j.done[id]; twice {
		panic(fmt.Sprintf("two results for intent %d", id))
	}
	j.done[id] = r.Outcome
}

func (j *fakeJournal) recorded(i int) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	_, ok := j.intents[i]
	return ok
}

// TestJournalBatches: intents are written in growing batches, each before any of its
// actions is sent; every intent gets exactly one result, "not run" for the actions a
// fatal error kept from starting; a batch whose intents cannot be written is not sent.
func TestJournalBatches(t *testing.T) {
	const n = 500
	t.Run("all sent", func(t *testing.T) {
		j := &fakeJournal{intents: map[int]int64{}, done: map[int64]Outcome{}}
		f := &fakePortal{}
		f.fail = func(key string) error {
			var i int
			fmt.Sscanf(key, "create c%d@", &i)
			if !j.recorded(i) {
				t.Errorf("%s sent before its intent was recorded", key)
			}
			return nil
		}
		rs, err := Apply(t.Context(), creates(n), f, ApplyOptions{Concurrency: 4, Journal: j})
		if err != nil || TallyResults(rs).Succeeded != n {
			t.Fatalf("%v, %+v", err, TallyResults(rs))
		}
		if got := fmt.Sprint(j.batches); got != "[8 16 32 64 128 252]" {
			t.Errorf("batches %s, want [8 16 32 64 128 252]", got)
		}
		if len(j.done) != n {
			t.Errorf("%d results recorded, want %d", len(j.done), n)
		}
	})
	t.Run("stopped by a fatal error", func(t *testing.T) {
		j := &fakeJournal{intents: map[int]int64{}, done: map[int64]Outcome{}}
		var calls atomic.Int64
		f := &fakePortal{fail: func(string) error {
			if calls.Add(1) >= 20 { // from the 20th on: the token is refused
				return &portal.Error{Kind: portal.KindAuth, Message: "token refused"}
			}
			return nil
		}}
		rs, err := Apply(t.Context(), creates(n), f, ApplyOptions{Concurrency: 4, Journal: j})
		if portal.KindOf(err) != portal.KindAuth {
			t.Fatalf("err = %v, want the fatal one", err)
		}
		tl := TallyResults(rs)
		if tl.Succeeded != 19 || tl.Failed < 1 || tl.Failed > 4 || tl.NotRun != n-19-tl.Failed {
			t.Errorf("%+v, want 19 succeeded, the calls in flight (1 to 4) failed, the rest not run", tl)
		}
		if len(j.done) != len(j.intents) {
			t.Errorf("%d intents, %d results: every intent needs one", len(j.intents), len(j.done))
		}
		for i, id := range j.intents {
			if j.done[id] != rs[i].Outcome {
				t.Errorf("action %d: journal says %s, result %s", i, j.done[id], rs[i].Outcome)
			}
		}
	})
	t.Run("intents refused", func(t *testing.T) {
		j := &fakeJournal{intents: map[int]int64{}, done: map[int64]Outcome{}, failFrom: 2}
		f := &fakePortal{}
		rs, err := Apply(t.Context(), creates(n), f, ApplyOptions{Concurrency: 4, Journal: j})
		if err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Fatalf("err = %v, want the journal's", err)
		}
		// The first batch started; the refusal stops what it had not started yet.
		if len(f.calls) == 0 || len(f.calls) > 8 {
			t.Errorf("%d calls, want some of the first batch's 8 and no more", len(f.calls))
		}
		tl := TallyResults(rs)
		if tl.Succeeded != len(f.calls) || tl.Failed != 16 || tl.NotRun != n-16-len(f.calls) {
			t.Errorf("%+v, want the calls made succeeded, the refused batch's 16 failed, the rest not run", tl)
		}
		if len(j.done) != len(j.intents) {
			t.Errorf("%d intents, %d results: every intent needs one", len(j.intents), len(j.done))
		}
	})
}

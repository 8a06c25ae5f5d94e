package reconcile_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ycm-onboard/ycm-onboard/importer"
	"github.com/ycm-onboard/ycm-onboard/portal"
	"github.com/ycm-onboard/ycm-onboard/portal/sim"
	"github.com/ycm-onboard/ycm-onboard/reconcile"
)

type clients struct {
	*portal.PartnerClient
	ycm *portal.YCMClient
}

func (c clients) Resize(ctx testingCtx, id int64, cp portal.Capacity) error {
	return c.ycm.Resize(ctx, id, cp)
}

func (c clients) SendActivation(ctx testingCtx, id int64) error {
	return c.ycm.SendActivation(ctx, id)
}

// throttleSome answers a fraction of API requests 429 with Retry-After before the
// simulator sees them, as a portal near its limit does.
func throttleSome(h http.Handler, fraction float64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/_sim/") && !strings.Contains(r.URL.Path, "token") && rand.Float64() < fraction {
			w.Header().Set("Retry-After", "1")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			if strings.HasPrefix(r.URL.Path, "/dm/") {
				fmt.Fprint(w, `{"errno":1000040,"errmsg":"RATE_LIMIT_EXCEEDED","status":"Failed","requestId":"t","time":0}`)
			} else {
				fmt.Fprint(w, `{"code":"RATE_LIMIT_EXCEEDED","detailMessage":"slow down","requestId":"t","result":null,"status":429}`)
			}
			return
		}
		h.ServeHTTP(w, r)
	})
}

type world struct {
	sim *sim.Server
	c   clients
}

// newWorld serves a simulator and makes clients of it; backoff, when given, replaces
// the test's short back-off (its BaseURL is set here).
func newWorld(t *testing.T, opts sim.Options, wrap func(http.Handler) http.Handler, backoff ...portal.Config) world {
	t.Helper()
	s, err := sim.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = s
	if wrap != nil {
		h = wrap(h)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	// Waits are real but short: the retries' back-off is scaled down for the test.
	cfg := portal.Config{BaseDelay: time.Millisecond, MaxDelay: 20 * time.Millisecond, MaxAttempts: 8,
		Sleep: func(ctx testingCtx, d time.Duration) error { return sleepShort(ctx, d) }}
	if len(backoff) > 0 {
		cfg = backoff[0]
	}
	cfg.BaseURL = ts.URL
	pc, yc := cfg, cfg
	pc.ClientID, pc.ClientSecret = sim.DemoPartnerID, sim.DemoPartnerSecret
	yc.ClientID, yc.ClientSecret = sim.DemoYCMID, sim.DemoYCMSecret
	p, err := portal.NewPartner(pc)
	if err != nil {
		t.Fatal(err)
	}
	y, err := portal.NewYCM(yc)
	if err != nil {
		t.Fatal(err)
	}
	return world{sim: s, c: clients{p, y}}
}

func (w world) actual(t *testing.T) reconcile.Actual {
	t.Helper()
	snap, err := portal.Read(t.Context(), w.c.PartnerClient, w.c.ycm)
	if err != nil {
		t.Fatal(err)
	}
	return reconcile.Actual{Colleagues: snap.Colleagues, PBXs: snap.PBXs, Permissions: snap.Permissions,
		Partners: snap.Partners, Now: w.sim.Clock()}
}

func wave(n int) *importer.Desired {
	d := &importer.Desired{}
	for i := range n {
		d.Colleagues = append(d.Colleagues, importer.NewColleague(importer.ColleagueFields{
			Source: importer.Source{File: "wave.xlsx", Sheet: "Colleagues", Row: i + 2},
			Email:  fmt.Sprintf("person%04d@demo.example", i), FirstName: "Person", LastName: fmt.Sprint(i),
			Permissions: []string{"Dashboard", "Customers"}}))
	}
	d.Instances = []importer.Instance{{Source: importer.Source{File: "wave.xlsx", Sheet: "Instances", Row: 2}, Ref: "Acme HQ", Extensions: 80}}
	return d
}

// inFlight counts the API requests in flight while on, and their peak.
type inFlight struct {
	on        atomic.Bool
	now, peak atomic.Int64
}

func (f *inFlight) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.on.Load() {
			n := f.now.Add(1)
			defer f.now.Add(-1)
			for p := f.peak.Load(); n > p && !f.peak.CompareAndSwap(p, n); p = f.peak.Load() {
			}
		}
		h.ServeHTTP(w, r)
	})
}

func TestConcurrencyBoundSeenByThePortal(t *testing.T) {
	for _, c := range []int{1, 4, 16} {
		var fl inFlight
		w := newWorld(t, sim.Options{Faults: sim.Faults{Latency: 5 * time.Millisecond}}, fl.wrap)
		p := reconcile.Diff(wave(120), w.actual(t), reconcile.DefaultOptions())
		fl.on.Store(true) // the apply's requests only: reading the portal is concurrent by design
		rs, err := reconcile.Apply(t.Context(), p, w.c, reconcile.ApplyOptions{Concurrency: c})
		fl.on.Store(false)
		if err != nil {
			t.Fatal(err)
		}
		if tl := reconcile.TallyResults(rs); tl.Succeeded != 121 {
			t.Fatalf("concurrency %d: %+v", c, tl)
		}
		if peak := int(fl.peak.Load()); peak > c || (c > 1 && peak < 2) {
			t.Errorf("concurrency %d: the portal saw %d requests in flight", c, peak)
		}
	}
}

// TestConvergesUnderFaults: under 5xx, lost answers and throttling, three runs make the
// portal match the sheet with one e-mail per colleague, whatever shapes the portal speaks.
func TestConvergesUnderFaults(t *testing.T) {
	for i, nd := range sim.Dialects() {
		n := 120 // the documented dialect; fewer colleagues for the others keep the suite short
		if i > 0 {
			n = 40
		}
		t.Run(nd.Name, func(t *testing.T) {
			t.Parallel()
			convergesUnderFaults(t, nd.Dialect, n)
		})
	}
}

func convergesUnderFaults(t *testing.T, dialect sim.Dialect, n int) {
	w := newWorld(t, sim.Options{Dialect: dialect, Faults: sim.Faults{ErrorRate: 0.10, DropAfterWriteRate: 0.02}},
		func(h http.Handler) http.Handler { return throttleSome(h, 0.05) })
	d := wave(n)
	for run := 1; run <= 3; run++ {
		p := reconcile.Diff(d, w.actual(t), reconcile.DefaultOptions())
		if !p.HasChanges() {
			break
		}
		rs, err := reconcile.Apply(t.Context(), p, w.c, reconcile.ApplyOptions{Concurrency: 8})
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		t.Logf("run %d: %+v", run, reconcile.TallyResults(rs))
	}
	w.sim.SetFaults(sim.Faults{})
	w.convergedOnce(t, d)
}

func TestReinviteHappensOnce(t *testing.T) {
	w := newWorld(t, sim.Options{}, nil)
	d := &importer.Desired{Colleagues: []importer.Colleague{importer.NewColleague(importer.ColleagueFields{Source: importer.Source{Row: 2}, Email: "stale.invite@demo.example",
		FirstName: "Sam", LastName: "Stale", Permissions: []string{"Dashboard", "Customers"}})}}
	p := reconcile.Diff(d, w.actual(t), reconcile.DefaultOptions())
	if c := p.Counts(); c.Reinvite != 1 {
		t.Fatalf("first plan: %s", c.Line())
	}
	rs, err := reconcile.Apply(t.Context(), p, w.c, reconcile.ApplyOptions{})
	if err != nil || rs[0].Outcome != reconcile.Applied || rs[0].Activation != reconcile.ActivationReinvited {
		t.Fatalf("re-invite: %+v %v", rs[0], err)
	}
	// The next night: the fresh link is 24 hours old, so nothing to do.
	w.sim.Advance(24 * time.Hour)
	if p := reconcile.Diff(d, w.actual(t), reconcile.DefaultOptions()); p.HasChanges() {
		t.Errorf("second night: %s", p.Counts().Line())
	}
	// Two more days without activation: the new link expired too, so once more.
	w.sim.Advance(25 * time.Hour)
	if c := reconcile.Diff(d, w.actual(t), reconcile.DefaultOptions()).Counts(); c.Reinvite != 1 {
		t.Errorf("after the second expiry: %s", c.Line())
	}
	if n := len(w.sim.Outbox()); n != 1 {
		t.Errorf("%d e-mails sent, want 1", n)
	}
}

// colleague is a sheet row for one colleague.
func colleague(row int, email string, owner string, ycm bool, perms ...string) importer.Colleague {
	f := importer.ColleagueFields{Source: importer.Source{File: "wave.xlsx", Sheet: "Colleagues", Row: row},
		Email: email, FirstName: "Test", LastName: fmt.Sprint(row), Permissions: perms, YCMManager: &ycm}
	if owner != "" {
		f.Owner = &owner
	}
	return importer.NewColleague(f)
}

// apply plans d against the portal, checks the plan's counts line, applies it and
// checks that every change succeeded.
func (w world) apply(t *testing.T, d *importer.Desired, a reconcile.Actual, wantPlan string) []reconcile.Result {
	t.Helper()
	p := reconcile.Diff(d, a, reconcile.DefaultOptions())
	if got := p.Counts().Line(); !strings.Contains(got, wantPlan) {
		t.Fatalf("plan %q, want %q", got, wantPlan)
	}
	rs, err := reconcile.Apply(t.Context(), p, w.c, reconcile.ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rs {
		if r.Outcome == reconcile.Failed {
			t.Fatalf("%s %s: %s", p.Actions[i].Kind, p.Actions[i].Label, r.Message)
		}
	}
	return rs
}

func (w world) colleagueOf(t *testing.T, email string) sim.Colleague {
	t.Helper()
	for _, c := range w.sim.Colleagues() {
		if strings.EqualFold(c.YeastarID, email) {
			return c
		}
	}
	t.Fatalf("no colleague %s on the portal", email)
	return sim.Colleague{}
}

// TestSubordinatePartnersColleague: a colleague owned by a subordinate partner, whom the
// portal lists only when asked for that partner's colleagues, is created, seen, updated,
// re-invited and deleted like any other, in every dialect.
func TestSubordinatePartnersColleague(t *testing.T) {
	for _, nd := range sim.Dialects() {
		t.Run(nd.Name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, sim.Options{Dialect: nd.Dialect}, nil)
			const email = "sub.colleague@demo.example"
			desire := func(perms ...string) *importer.Desired {
				return &importer.Desired{Colleagues: []importer.Colleague{colleague(2, email, "reseller-north@demo.example", false, perms...)}}
			}
			w.apply(t, desire("Dashboard"), w.actual(t), "1 to create")
			first := w.colleagueOf(t, email)
			if first.OwnerID != 2001 {
				t.Fatalf("created under owner %d, want 2001", first.OwnerID)
			}
			if p := reconcile.Diff(desire("Dashboard"), w.actual(t), reconcile.DefaultOptions()); p.HasChanges() {
				t.Fatalf("planned again: %s (the subordinate's colleague was not listed)", p.Counts().Line())
			}
			w.apply(t, desire("Dashboard", "Orders"), w.actual(t), "1 to update")
			if got := w.colleagueOf(t, email).ResourceIDs; len(got) != 2 {
				t.Fatalf("after the update: permissions %v", got)
			}
			w.sim.Advance(49 * time.Hour)
			rs := w.apply(t, desire("Dashboard", "Orders"), w.actual(t), "1 to re-invite")
			again := w.colleagueOf(t, email)
			if rs[0].Activation != reconcile.ActivationReinvited || again.OwnerID != 2001 || again.ColleaguesID == first.ColleaguesID {
				t.Fatalf("re-invite: %+v; portal %+v", rs[0], again)
			}
			gone := &importer.Desired{Colleagues: []importer.Colleague{importer.NewColleague(importer.ColleagueFields{
				Source: importer.Source{Row: 2}, Email: email, State: importer.Absent})}}
			w.apply(t, gone, w.actual(t), "1 to delete")
			for _, c := range w.sim.Colleagues() {
				if strings.EqualFold(c.YeastarID, email) {
					t.Fatalf("still on the portal after the delete: %+v", c)
				}
			}
			if n := len(w.sim.Outbox()); n != 2 {
				t.Errorf("%d e-mails, want 2 (the invitation and the re-invitation)", n)
			}
		})
	}
}

// TestReinviteThroughYCM: an expired colleague whom YCM lists as its user gets YCM's
// activation e-mail and keeps the account; one who is not is deleted and created again.
func TestReinviteThroughYCM(t *testing.T) {
	for _, nd := range sim.Dialects() {
		t.Run(nd.Name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, sim.Options{Dialect: nd.Dialect}, nil)
			d := &importer.Desired{Colleagues: []importer.Colleague{
				colleague(2, "ycm.manager@demo.example", "", true, "Dashboard", "YCM"),
				colleague(3, "plain@demo.example", "", false, "Dashboard"),
			}}
			w.apply(t, d, w.actual(t), "2 to create")
			manager, plain := w.colleagueOf(t, "ycm.manager@demo.example"), w.colleagueOf(t, "plain@demo.example")
			w.sim.Advance(49 * time.Hour)

			a := w.actual(t)
			if !reconcile.NeedsYCMUsers(reconcile.Diff(d, a, reconcile.DefaultOptions())) {
				t.Fatal("two expired invitations in the sheet, and YCM's users are not needed")
			}
			users, err := w.c.ycm.ReadUsers(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			a.YCMUsers = users
			p := reconcile.Diff(d, a, reconcile.DefaultOptions())
			via := map[string]reconcile.Via{}
			for _, act := range p.Actions {
				via[act.Key] = act.Via
			}
			if via["ycm.manager@demo.example"] != reconcile.YCMEmail || via["plain@demo.example"] != reconcile.Recreate {
				t.Fatalf("re-invite paths: %v", via)
			}
			rs, err := reconcile.Apply(t.Context(), p, w.c, reconcile.ApplyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rs {
				if r.Outcome != reconcile.Applied || r.Activation != reconcile.ActivationReinvited {
					t.Fatalf("re-invite: %+v", r)
				}
			}
			if got := w.colleagueOf(t, "ycm.manager@demo.example"); got.ColleaguesID != manager.ColleaguesID {
				t.Errorf("the YCM user's colleague id changed from %d to %d", manager.ColleaguesID, got.ColleaguesID)
			}
			if got := w.colleagueOf(t, "plain@demo.example"); got.ColleaguesID == plain.ColleaguesID {
				t.Errorf("the colleague who is no YCM user kept id %d: not re-created", got.ColleaguesID)
			}
			sent := map[string]int{}
			for _, e := range w.sim.Outbox() {
				sent[e.To]++
			}
			if sent["ycm.manager@demo.example"] != 2 || sent["plain@demo.example"] != 2 {
				t.Errorf("e-mails sent: %v, want 2 each", sent)
			}
			if err := w.sim.Activate("ycm.manager@demo.example"); err != nil {
				t.Errorf("the new link does not work: %v", err)
			}
		})
	}
}

// TestConvergesUnderLumpyThrottling: YCM's bucket, as its administrators set it, refills
// in lumps; the Partner Portal's here too. One run finishes a wave through it, with one
// e-mail per colleague, in real time.
func TestConvergesUnderLumpyThrottling(t *testing.T) {
	// Real sleeps, long enough to outlast a refill.
	w := newWorld(t, sim.Options{Faults: sim.Faults{ThrottleBurst: 10, ThrottleLump: 10, ThrottleEvery: 200 * time.Millisecond}}, nil,
		portal.Config{BaseDelay: 10 * time.Millisecond, MaxDelay: 200 * time.Millisecond, MaxAttempts: 8})
	s := w.sim
	d := wave(40)
	plan := reconcile.Diff(d, w.actual(t), reconcile.DefaultOptions())
	rs, err := reconcile.Apply(t.Context(), plan, w.c, reconcile.ApplyOptions{Concurrency: 8})
	if err != nil {
		t.Fatal(err)
	}
	if tl := reconcile.TallyResults(rs); tl.Succeeded != 41 {
		t.Fatalf("%+v", tl)
	}
	throttled := 0
	for _, rc := range s.Stats().Routes {
		if rc.Status == http.StatusTooManyRequests { // the Partner Portal's; YCM's come with HTTP 200
			throttled += int(rc.Count)
		}
	}
	if throttled == 0 {
		t.Error("nothing was throttled: the test proves nothing")
	}
	if p := reconcile.Diff(d, w.actual(t), reconcile.DefaultOptions()); p.HasChanges() {
		t.Errorf("not converged: %s", p.Counts().Line())
	}
	if n := len(s.Outbox()); n != 40 {
		t.Errorf("%d e-mails, want 40", n)
	}
	t.Logf("%d answers said slow down", throttled)
}

// TestReinviteWhoseDeleteAnotherRunDid: a run killed mid re-invite may have deleted the
// colleague after this run read the portal; the delete's "not found" must not stop the
// create that sends the new link.
func TestReinviteWhoseDeleteAnotherRunDid(t *testing.T) {
	w := newWorld(t, sim.Options{}, nil)
	d := &importer.Desired{Colleagues: []importer.Colleague{colleague(2, "stale.invite@demo.example", "", false, "Dashboard", "Customers")}}
	p := reconcile.Diff(d, w.actual(t), reconcile.DefaultOptions())
	if c := p.Counts(); c.Reinvite != 1 {
		t.Fatalf("plan: %s", c.Line())
	}
	if err := w.c.DeleteColleagues(t.Context(), p.Actions[0].ColleagueID); err != nil { // the other run's delete
		t.Fatal(err)
	}
	rs, err := reconcile.Apply(t.Context(), p, w.c, reconcile.ApplyOptions{})
	if err != nil || rs[0].Outcome != reconcile.Applied || rs[0].Activation != reconcile.ActivationReinvited {
		t.Fatalf("re-invite: %+v %v", rs[0], err)
	}
	w.colleagueOf(t, "stale.invite@demo.example")
	if n := len(w.sim.Outbox()); n != 1 {
		t.Errorf("%d e-mails, want 1", n)
	}
}

// TestPortalDownStopsTheRun: when the portal stops answering mid-run (only server
// errors), the run stops starting changes after ten failures in a row, leaves the rest
// not run, and says the portal is down: a failure to page someone about, not a sheet
// to fix tomorrow.
func TestPortalDownStopsTheRun(t *testing.T) {
	w := newWorld(t, sim.Options{}, nil)
	p := reconcile.Diff(wave(200), w.actual(t), reconcile.DefaultOptions())
	w.sim.SetFaults(sim.Faults{ErrorRate: 1})
	rs, err := reconcile.Apply(t.Context(), p, w.c, reconcile.ApplyOptions{Concurrency: 2})
	var down *reconcile.PortalDownError
	if !errors.As(err, &down) || portal.KindOf(err) != portal.KindServer {
		t.Fatalf("got %v, want the portal down", err)
	}
	tl := reconcile.TallyResults(rs)
	if tl.Failed < 10 || tl.Failed > 12 || tl.NotRun < 150 {
		t.Errorf("%+v: want about 10 failed and the rest not run", tl)
	}
}

// TestLostWritesCostLittle: with 2% of writes lost before they take effect and 2%
// whose answer is lost after, an apply sends at most 1.1 times the requests of a run
// without faults (one per create: each fault costs about one more), e-mails everyone
// once and creates nobody twice. Reading the whole list back for each lost answer
// cost 1.26 times at 1,000 creates, and more as the list grows.
func TestLostWritesCostLittle(t *testing.T) {
	for i, nd := range sim.Dialects() {
		n := 1000
		if i > 0 {
			n = 300
		}
		t.Run(nd.Name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, sim.Options{Dialect: nd.Dialect}, nil)
			d := wave(n)
			d.Instances = nil
			p := reconcile.Diff(d, w.actual(t), reconcile.DefaultOptions())
			w.sim.SetFaults(sim.Faults{DropBeforeWriteRate: 0.02, DropAfterWriteRate: 0.02})
			before := w.sim.Stats().Total
			rs, err := reconcile.Apply(t.Context(), p, w.c, reconcile.ApplyOptions{Concurrency: 16})
			if err != nil {
				t.Fatal(err)
			}
			sent := w.sim.Stats().Total - before
			if tl := reconcile.TallyResults(rs); tl.Succeeded != n {
				t.Fatalf("%+v, want %d succeeded", tl, n)
			}
			if limit := int64(n) * 11 / 10; sent > limit {
				t.Errorf("%d requests for %d creates, want at most %d", sent, n, limit)
			}
			mails := map[string]int{}
			for _, e := range w.sim.Outbox() {
				mails[strings.ToLower(e.To)]++
			}
			made := map[string]int{}
			for _, c := range w.sim.Colleagues() {
				made[strings.ToLower(c.YeastarID)]++
			}
			for _, c := range d.Colleagues {
				if mails[c.Email()] != 1 || made[c.Email()] != 1 {
					t.Errorf("%s: %d e-mails, %d colleagues; want 1 and 1", c.Email(), mails[c.Email()], made[c.Email()])
				}
			}
			t.Logf("%d requests for %d creates (%.3f×)", sent, n, float64(sent)/float64(n))
		})
	}
}

// TestPortalKilledMidRun: the portal dies after some creates (every connection then
// drops without an answer): the apply stops as the portal being down, with the rest
// not run; once the portal is back, the next run finishes the work with one e-mail per
// colleague and nobody missing. (make chaos kills a simulator process for the same.)
func TestPortalKilledMidRun(t *testing.T) {
	var dead atomic.Bool
	var creates atomic.Int64
	w := newWorld(t, sim.Options{}, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if dead.Load() {
				panic(http.ErrAbortHandler) // the connection drops, no answer
			}
			h.ServeHTTP(rw, r)
			if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/colleagues") && creates.Add(1) == 50 {
				dead.Store(true)
			}
		})
	})
	d := wave(200)
	d.Instances = nil
	p := reconcile.Diff(d, w.actual(t), reconcile.DefaultOptions())
	rs, err := reconcile.Apply(t.Context(), p, w.c, reconcile.ApplyOptions{Concurrency: 4})
	var down *reconcile.PortalDownError
	if !errors.As(err, &down) || portal.KindOf(err) != portal.KindNetwork {
		t.Fatalf("got %v, want the portal down for want of an answer", err)
	}
	if tl := reconcile.TallyResults(rs); tl.NotRun < 100 {
		t.Errorf("%+v: want the rest not run", tl)
	}
	dead.Store(false)
	p = reconcile.Diff(d, w.actual(t), reconcile.DefaultOptions())
	if _, err := reconcile.Apply(t.Context(), p, w.c, reconcile.ApplyOptions{Concurrency: 4}); err != nil {
		t.Fatal(err)
	}
	w.convergedOnce(t, d)
}

// convergedOnce checks that the portal matches d and that every colleague of d, and
// no one else, got exactly one activation e-mail.
func (w world) convergedOnce(t *testing.T, d *importer.Desired) {
	t.Helper()
	if p := reconcile.Diff(d, w.actual(t), reconcile.DefaultOptions()); p.HasChanges() {
		t.Fatalf("not converged: %s", p.Counts().Line())
	}
	sent := map[string]int{}
	for _, e := range w.sim.Outbox() {
		sent[strings.ToLower(e.To)]++
	}
	for _, c := range d.Colleagues {
		if n := sent[c.Email()]; n != 1 {
			t.Errorf("%s got %d activation e-mails, want exactly 1", c.Email(), n)
		}
	}
	if len(sent) != len(d.Colleagues) {
		t.Errorf("%d addresses e-mailed, want %d", len(sent), len(d.Colleagues))
	}
}

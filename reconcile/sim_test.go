package reconcile_test

import (
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

func newWorld(t *testing.T, opts sim.Options, wrap func(http.Handler) http.Handler) world {
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
	cfg := portal.Config{BaseURL: ts.URL, BaseDelay: time.Millisecond, MaxDelay: 20 * time.Millisecond, MaxAttempts: 8,
		Sleep: func(ctx testingCtx, d time.Duration) error { return sleepShort(ctx, d) }}
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

func TestConvergesUnderFaults(t *testing.T) {
	w := newWorld(t, sim.Options{Faults: sim.Faults{ErrorRate: 0.10, DropAfterWriteRate: 0.02}},
		func(h http.Handler) http.Handler { return throttleSome(h, 0.05) })
	d := wave(120)
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
	if len(sent) != 120 {
		t.Errorf("%d addresses e-mailed, want 120", len(sent))
	}
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

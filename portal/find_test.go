package portal_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ycm-onboard/ycm-onboard/portal"
	"github.com/ycm-onboard/ycm-onboard/portal/sim"
)

// requests counts the simulator's requests whose route starts with prefix.
func requests(s *sim.Server, prefix string) int64 {
	var n int64
	for _, r := range s.Stats().Routes {
		if strings.HasPrefix(r.Route, prefix) {
			n += r.Count
		}
	}
	return n
}

// TestLostCreateAnswerCostsOneRequest: a create whose answer is lost after it took
// effect is sent once more, refused as existing, and counted as done: two requests,
// no listing of colleagues, one colleague, one e-mail.
func TestLostCreateAnswerCostsOneRequest(t *testing.T) {
	s, err := sim.New(sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var dropped atomic.Bool
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/colleagues") && dropped.CompareAndSwap(false, true) {
			s.ServeHTTP(httptest.NewRecorder(), r) // the portal makes the colleague...
			panic(http.ErrAbortHandler)            // ...and the answer is lost
		}
		s.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	p := partnerClient(t, ts.URL, &sleeps{})
	var st portal.CallStats
	ctx := portal.WithCallStats(t.Context(), &st)
	_, recovered, err := p.CreateColleague(ctx, portal.NewColleague{Email: "lost@demo.example", FirstName: "Lost", PermissionIDs: []int64{101}})
	if err != nil || !recovered {
		t.Fatalf("create: recovered %v, %v; want recovered", recovered, err)
	}
	if n := requests(s, "POST /user/openapi/user/v1/colleagues"); n != 2 {
		t.Errorf("%d create requests, want 2", n)
	}
	if n := requests(s, "GET /user/openapi/user/v1/colleagues"); n != 0 {
		t.Errorf("%d listings of colleagues, want none", n)
	}
	if st.Recovered.Load() != 1 {
		t.Errorf("recovered count %d, want 1", st.Recovered.Load())
	}
	if len(s.Outbox()) != 1 {
		t.Errorf("%d e-mails, want 1", len(s.Outbox()))
	}
}

// TestLookupsShareListings: lookups made at the same time share passes over the list
// of colleagues instead of listing it once each.
func TestLookupsShareListings(t *testing.T) {
	s, base := startSim(t, sim.Options{})
	p := partnerClient(t, base, &sleeps{})
	ctx := t.Context()
	const n = 250 // with the demo world's five: three pages of 100
	for i := range n {
		if _, _, err := p.CreateColleague(ctx, portal.NewColleague{Email: fmt.Sprintf("find%03d@demo.example", i), FirstName: "F", PermissionIDs: []int64{101}}); err != nil {
			t.Fatal(err)
		}
	}
	s.SetFaults(sim.Faults{Latency: 5 * time.Millisecond})
	before := requests(s, "GET /user/openapi/user/v1/colleagues")
	const lookups = 40
	var wg sync.WaitGroup
	for i := range lookups {
		wg.Go(func() {
			email := fmt.Sprintf("FIND%03d@demo.example", i*6)
			c, err := p.FindColleague(ctx, email, 0)
			if err != nil || !strings.EqualFold(c.Email, email) || c.ID == 0 {
				t.Errorf("find %s: %+v, %v", email, c, err)
			}
		})
	}
	wg.Wait()
	if _, err := p.FindColleague(ctx, "nobody@demo.example", 0); portal.KindOf(err) != portal.KindNotFound {
		t.Errorf("find nobody: %v, want not found", err)
	}
	// 40 lookups at once: the pass under way and the one gathering behind it, and the
	// lookup of nobody; at most 3 pages each.
	if got := requests(s, "GET /user/openapi/user/v1/colleagues") - before; got > 3*3 {
		t.Errorf("%d list requests for %d lookups, want at most 9 (three passes)", got, lookups+1)
	}
}

// TestLostActivationAnswerIsNotRepeated: YCM's activation e-mail cannot be read back,
// so a send whose answer is lost is not sent again within the call (each retry used to
// send one more e-mail): one request, one e-mail, and the call fails.
func TestLostActivationAnswerIsNotRepeated(t *testing.T) {
	s, base := startSim(t, sim.Options{})
	y := ycmClient(t, base, &sleeps{})
	ctx := t.Context()
	users, err := y.ReadUsers(ctx)
	if err != nil || len(users) == 0 {
		t.Fatalf("YCM users: %v, %v", users, err)
	}
	s.SetFaults(sim.Faults{DropAfterWriteRate: 1})
	before, sentBefore := requests(s, "POST /dm/open_api/v1/users/"), len(s.Outbox())
	err = y.SendActivation(ctx, users[0].ID)
	if portal.KindOf(err) != portal.KindNetwork {
		t.Fatalf("SendActivation = %v, want the lost answer's network error", err)
	}
	if n := requests(s, "POST /dm/open_api/v1/users/") - before; n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
	if n := len(s.Outbox()) - sentBefore; n != 1 {
		t.Errorf("%d e-mails, want 1", n)
	}
}

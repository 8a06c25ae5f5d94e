package portal_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ycm-onboard/ycm-onboard/portal"
	"github.com/ycm-onboard/ycm-onboard/portal/sim"
)

// startSim serves a simulator under a non-empty base path, so a client that drops the
// base URL's path fails the tests.
func startSim(t *testing.T, opts sim.Options) (*sim.Server, string) {
	t.Helper()
	s, err := sim.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", http.StripPrefix("/api", s))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return s, ts.URL + "/api"
}

// sleeps records the waits a client asked for instead of waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

func testConfig(base, id, secret string, sl *sleeps) portal.Config {
	cfg := portal.Config{BaseURL: base, ClientID: id, ClientSecret: secret,
		BaseDelay: time.Millisecond, MaxDelay: 5 * time.Second}
	if sl != nil {
		cfg.Sleep = sl.sleep
	}
	return cfg
}

func partnerClient(t *testing.T, base string, sl *sleeps) *portal.PartnerClient {
	t.Helper()
	p, err := portal.NewPartner(testConfig(base, sim.DemoPartnerID, sim.DemoPartnerSecret, sl))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func ycmClient(t *testing.T, base string, sl *sleeps) *portal.YCMClient {
	t.Helper()
	y, err := portal.NewYCM(testConfig(base, sim.DemoYCMID, sim.DemoYCMSecret, sl))
	if err != nil {
		t.Fatal(err)
	}
	return y
}

func routeCount(s *sim.Server, route string, status int) int64 {
	var n int64
	for _, rc := range s.Stats().Routes {
		if rc.Route == route && (status < 0 || rc.Status == status) {
			n += rc.Count
		}
	}
	return n
}

func TestListsTheDemoWorld(t *testing.T) {
	_, base := startSim(t, sim.Options{})
	ctx := t.Context()
	p := partnerClient(t, base, nil)
	var emails []string
	cols, err := p.Colleagues(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cols {
		emails = append(emails, c.Email)
	}
	want := []string{"ops.lead@demo.example", "finance@demo.example", "new.hire@demo.example",
		"stale.invite@demo.example", "former.staff@demo.example"}
	if diff := cmp.Diff(want, emails); diff != "" {
		t.Errorf("colleagues (-want +got):\n%s", diff)
	}
	perms, err := p.Permissions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(perms) != 9 || perms[0] != (portal.Permission{ID: 101, Name: "Dashboard"}) || perms[8].Name != "YCM" {
		t.Errorf("permissions = %v", perms)
	}
	partners, err := p.Partners(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(partners) != 2 || partners[0].ID != 2001 || partners[1].Email != "reseller-south@demo.example" {
		t.Errorf("partners = %v", partners)
	}
	y := ycmClient(t, base, nil)
	var pbxs []portal.PBX
	for x, err := range y.PBXs(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		pbxs = append(pbxs, x)
	}
	// YCM documents no extensionUsed: unknown. Globex has a transcription capacity.
	if len(pbxs) != 3 || pbxs[0].SN != "PCE-ACME-0001" || pbxs[0].Extensions != 50 || pbxs[0].ExtensionsUsed != -1 ||
		pbxs[0].Transcription != -1 || pbxs[1].Transcription != 100 {
		t.Errorf("PBXs = %+v", pbxs)
	}
}

func TestPBXPagesAreFetchedWhole(t *testing.T) {
	s, base := startSim(t, sim.Options{})
	for i := range 120 {
		if _, err := s.AddPBX(sim.PBX{Name: "Bulk " + string(rune('A'+i%26)) + strings.Repeat("x", i/26),
			ExtensionCapacity: 5, ConcurrentCallCapacity: 1, ExtensionUsed: 0}); err != nil {
			t.Fatal(err)
		}
	}
	y := ycmClient(t, base, nil)
	seen := map[int64]bool{}
	for x, err := range y.PBXs(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		if seen[x.ID] {
			t.Fatalf("PBX %d listed twice", x.ID)
		}
		seen[x.ID] = true
	}
	if len(seen) != 123 {
		t.Errorf("listed %d PBXs, want 123", len(seen))
	}
	// 123 PBXs at 50 a page: three list requests.
	if n := routeCount(s, "GET /dm/open_api/v2/cloud_pbx/instances", 200); n != 3 {
		t.Errorf("%d list requests, want 3", n)
	}
}

func TestCreateEditDelete(t *testing.T) {
	s, base := startSim(t, sim.Options{})
	ctx := t.Context()
	p := partnerClient(t, base, nil)
	id, recovered, err := p.CreateColleague(ctx, portal.NewColleague{Email: "New.Person@demo.example",
		FirstName: "New", LastName: "Person", PermissionIDs: []int64{101, 103}, YCMManager: true, Remark: "wave 1"})
	// The documented dialect's create answers true: no id, and no call spent asking for it.
	if err != nil || recovered || id != 0 {
		t.Fatalf("create = %d, %v, %v", id, recovered, err)
	}
	if n := s.Stats().Total; n != 2 {
		t.Errorf("%d requests for a create, want 2 (the login and the create)", n)
	}
	id = s.Colleagues()[len(s.Colleagues())-1].ColleaguesID
	if ob := s.Outbox(); len(ob) != 1 || ob[0].To != "New.Person@demo.example" || ob[0].ExpiresAt.Sub(ob[0].SentAt) != 48*time.Hour {
		t.Errorf("outbox = %+v", ob)
	}
	got, err := p.Colleague(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != portal.StatusUnActive || !got.YCMManager || got.Remark != "wave 1" || got.CreatedAt.IsZero() {
		t.Errorf("created colleague = %+v", got)
	}
	if err := p.EditColleague(ctx, id, portal.ColleagueEdit{FirstName: "Renamed", PermissionIDs: []int64{101}}); err != nil {
		t.Fatal(err)
	}
	got, _ = p.Colleague(ctx, id)
	if got.FirstName != "Renamed" || got.LastName != "" || !cmp.Equal(got.PermissionIDs, []int64{101}) || got.YCMManager {
		t.Errorf("edited colleague = %+v", got)
	}
	if err := p.DeleteColleagues(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Colleague(ctx, id); !errors.Is(err, portal.ErrNotFound) {
		t.Errorf("read after delete: %v, want not found", err)
	}
}

func TestResize(t *testing.T) {
	s, base := startSim(t, sim.Options{})
	y := ycmClient(t, base, nil)
	ctx := t.Context()
	var acme portal.PBX
	for x, err := range y.PBXs(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if x.SN == "PCE-ACME-0001" {
			acme = x
		}
	}
	c := portal.Capacity{Extensions: 60, ConcurrentCalls: 12, RecordingStatus: acme.RecordingStatus, RecordingMinutes: acme.RecordingMinutes}
	if err := y.Resize(ctx, acme.ID, c); err != nil {
		t.Fatal(err)
	}
	for _, x := range s.PBXs() {
		if x.SN == "PCE-ACME-0001" && (x.ExtensionCapacity != 60 || x.ConcurrentCallCapacity != 12) {
			t.Errorf("after resize: %+v", x)
		}
	}
	// Below the extensions in use (which YCM does not show): refused as a validation error.
	c.Extensions = 10
	err := y.Resize(ctx, acme.ID, c)
	var pe *portal.Error
	if !errors.As(err, &pe) || pe.Kind != portal.KindValidation || pe.Errno != 1000004 {
		t.Errorf("shrink below use: %v", err)
	}
}

func TestTypedErrors(t *testing.T) {
	s, base := startSim(t, sim.Options{})
	ctx := t.Context()
	p := partnerClient(t, base, nil)
	y := ycmClient(t, base, nil)

	_, _, err := p.CreateColleague(ctx, portal.NewColleague{Email: "OPS.LEAD@demo.example", FirstName: "X", PermissionIDs: []int64{101}})
	if !errors.Is(err, portal.ErrExists) {
		t.Errorf("duplicate e-mail: %v, want already exists", err)
	}
	_, _, err = p.CreateColleague(ctx, portal.NewColleague{Email: "x@demo.example", FirstName: "X", PermissionIDs: []int64{999}})
	var pe *portal.Error
	if !errors.As(err, &pe) || pe.Kind != portal.KindValidation || len(pe.Fields) == 0 || pe.Fields[0].Field != "resourceIds" {
		t.Errorf("unknown permission: %#v", err)
	}
	if err := p.DeleteColleagues(ctx, 424242); !errors.Is(err, portal.ErrNotFound) {
		t.Errorf("delete unknown: %v, want not found", err)
	}
	if _, err := y.PBX(ctx, 424242); !errors.Is(err, portal.ErrNotFound) {
		t.Errorf("unknown PBX: %v, want not found", err)
	}

	// A dead address is a network error.
	dead, _ := portal.NewPartner(testConfig("http://127.0.0.1:1", "a", "b", &sleeps{}))
	if _, err := dead.Permissions(ctx); !errors.Is(err, portal.ErrNetwork) {
		t.Errorf("dead address: %v, want network error", err)
	}

	// 5xx, every time: a server error after the retries.
	s.SetFaults(sim.Faults{ErrorRate: 1})
	sl := &sleeps{}
	p5 := partnerClient(t, base, sl)
	if _, err := p5.Permissions(ctx); !errors.Is(err, portal.ErrServer) {
		t.Errorf("5xx: %v, want server error", err)
	}
	s.SetFaults(sim.Faults{})
}

func TestWrongSecretCostsOneLogin(t *testing.T) {
	s, base := startSim(t, sim.Options{})
	p, err := portal.NewPartner(testConfig(base, sim.DemoPartnerID, "wrong-secret", &sleeps{}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	for range 10 {
		_, err := p.Permissions(ctx)
		if !errors.Is(err, portal.ErrAuth) || !portal.Fatal(err) {
			t.Fatalf("wrong secret: %v, want a fatal authentication error", err)
		}
		if strings.Contains(err.Error(), "wrong-secret") {
			t.Fatalf("the error shows the secret: %v", err)
		}
	}
	if n := routeCount(s, "POST /auth/openapi/v1/oauth/token", -1); n != 1 {
		t.Errorf("%d login attempts, want exactly 1", n)
	}
}

func TestBlockedIPIsFatal(t *testing.T) {
	s, base := startSim(t, sim.Options{})
	ctx := t.Context()
	// YCM blocks after more than five failed logins in a row.
	for range 5 {
		bad, _ := portal.NewYCM(testConfig(base, sim.DemoYCMID, "nope", &sleeps{}))
		_, _ = bad.PBX(ctx, 1)
	}
	if _, err := ycmClient(t, base, &sleeps{}).PBX(ctx, 7701); err != nil {
		t.Fatalf("after five bad logins: %v, want not blocked yet", err)
	}
	for range 6 {
		bad, _ := portal.NewYCM(testConfig(base, sim.DemoYCMID, "nope", &sleeps{}))
		_, _ = bad.PBX(ctx, 1)
	}
	y := ycmClient(t, base, &sleeps{})
	_, err := y.PBX(ctx, 7701)
	if !errors.Is(err, portal.ErrIPBlocked) || !portal.Fatal(err) {
		t.Fatalf("after six bad logins: %v, want IP blocked", err)
	}
	if _, err := partnerClient(t, base, &sleeps{}).Colleague(ctx, 10001); err != nil {
		t.Errorf("the Partner Portal blocked the IP for YCM's failed logins: %v", err)
	}
	s.Unblock()
	y2 := ycmClient(t, base, &sleeps{})
	if _, err := y2.PBX(ctx, 7701); err != nil {
		t.Errorf("after unblock: %v", err)
	}
}

func TestTokenRefreshedOnceFor32Workers(t *testing.T) {
	s, base := startSim(t, sim.Options{TokenTTL: 30 * time.Minute})
	ctx := t.Context()
	// The client's own clock runs behind the simulator's, so it does not see expiry coming
	// and all 32 workers meet TOKEN_EXPIRED together.
	p := partnerClient(t, base, nil)
	if _, err := p.Permissions(ctx); err != nil {
		t.Fatal(err)
	}
	s.Advance(31 * time.Minute)
	before := routeCount(s, "POST /auth/openapi/v1/oauth/token", 200)
	var wg sync.WaitGroup
	errs := make([]error, 32)
	for i := range 32 {
		wg.Go(func() { _, errs[i] = p.Permissions(ctx) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("worker %d: %v", i, err)
		}
	}
	if n := routeCount(s, "POST /auth/openapi/v1/oauth/token", 200) - before; n != 1 {
		t.Errorf("%d token requests after expiry, want 1", n)
	}
}

func TestThrottledHonoursRetryAfter(t *testing.T) {
	// YCM's answers with HTTP statuses: throttling is a 429 with Retry-After.
	s, base := startSim(t, sim.Options{Dialect: sim.Dialect{YCMStatus: sim.YCMStatusHTTP}})
	y := ycmClient(t, base, nil)
	ctx := t.Context()
	if _, err := y.PBX(ctx, 7701); err != nil { // log in before the throttle
		t.Fatal(err)
	}
	s.SetFaults(sim.Faults{ThrottleRate: 1, ThrottleBurst: 1})
	sl := &sleeps{}
	y2 := ycmClient(t, base, sl)
	var st portal.CallStats
	cctx := portal.WithCallStats(ctx, &st)
	for range 3 {
		_, _ = y2.PBX(cctx, 7701)
	}
	if st.Throttled.Load() == 0 {
		t.Fatal("no request was throttled")
	}
	waited := false
	for _, d := range sl.all() {
		if d >= time.Second {
			waited = true
		}
	}
	if !waited {
		t.Errorf("waits %v: none honoured the 1s Retry-After", sl.all())
	}
}

func TestRetryBudgetStopsHammering(t *testing.T) {
	s, base := startSim(t, sim.Options{})
	cfg := testConfig(base, sim.DemoPartnerID, sim.DemoPartnerSecret, &sleeps{})
	cfg.RetryBudget = 5
	cfg.MaxAttempts = 10
	p, _ := portal.NewPartner(cfg)
	ctx := t.Context()
	if _, err := p.Permissions(ctx); err != nil {
		t.Fatal(err)
	}
	s.SetFaults(sim.Faults{ErrorRate: 1})
	before := s.Stats().Total
	for range 10 {
		if _, err := p.Permissions(ctx); !errors.Is(err, portal.ErrServer) {
			t.Fatalf("want server error, got %v", err)
		}
	}
	// Ten calls with no budget left after five retries: 10 first attempts + 5 retries.
	if n := s.Stats().Total - before; n != 15 {
		t.Errorf("%d requests sent, want 15", n)
	}
}

func TestLostAnswerCreatesNoDuplicate(t *testing.T) {
	s, base := startSim(t, sim.Options{})
	p := partnerClient(t, base, &sleeps{})
	ctx := t.Context()
	if _, err := p.Permissions(ctx); err != nil {
		t.Fatal(err)
	}
	s.SetFaults(sim.Faults{DropAfterWriteRate: 1})
	var st portal.CallStats
	cctx := portal.WithCallStats(ctx, &st)
	done := make(chan struct{})
	var id int64
	var recovered bool
	var err error
	go func() {
		defer close(done)
		id, recovered, err = p.CreateColleague(cctx, portal.NewColleague{Email: "lost@demo.example", FirstName: "Lost", PermissionIDs: []int64{101}})
	}()
	// Every write's answer is lost; the reads that resolve it are answered.
	<-done
	if err != nil || !recovered || id == 0 {
		t.Fatalf("create = %d, %v, %v; want recovered", id, recovered, err)
	}
	n := 0
	for _, c := range s.Colleagues() {
		if strings.EqualFold(c.YeastarID, "lost@demo.example") {
			n++
		}
	}
	if n != 1 || len(s.Outbox()) != 1 {
		t.Errorf("%d colleagues and %d e-mails, want 1 and 1", n, len(s.Outbox()))
	}
}

func TestAdaptiveLimiterSettlesUnderTheLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("a long run: about 10 seconds")
	}
	s, base := startSim(t, sim.Options{Faults: sim.Faults{ThrottleRate: 400, ThrottleBurst: 50}})
	p := partnerClient(t, base, nil) // real waits: the point is the pace
	ctx := t.Context()
	const calls = 4000
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range 16 {
		wg.Go(func() {
			for next.Add(1) <= calls {
				if _, err := p.Permissions(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	el := time.Since(start)
	throttled, total := routeCount(s, "GET /user/openapi/user/v1/users/resource_list", 429), routeCount(s, "GET /user/openapi/user/v1/users/resource_list", -1)
	pct := 100 * float64(throttled) / float64(total)
	t.Logf("%d calls in %v (%.0f/s), %d of %d requests throttled (%.2f%%), pace settled at %.1f/s",
		calls, el.Round(time.Millisecond), calls/el.Seconds(), throttled, total, pct, p.RateLimit())
	if pct > 2 {
		t.Errorf("%.2f%% of requests throttled, want at most 2%%", pct)
	}
	// The pace reached is a benchmark's business (BenchmarkApplyThrottled), not a test's:
	// the limiter measures the client's own pace, which a CPU-starved machine lowers.
}

// TestThrottledWithoutRetryAfterOutwaitsARefill: YCM documents no Retry-After and
// refills its bucket in lumps minutes apart; a call throttled without one keeps trying
// for longer than the documented example's 3-minute interval before it gives up.
func TestThrottledWithoutRetryAfterOutwaitsARefill(t *testing.T) {
	s, base := startSim(t, sim.Options{}) // the documented dialect: 1000040 at HTTP 200
	sl := &sleeps{}
	cfg := portal.Config{BaseURL: base, ClientID: sim.DemoYCMID, ClientSecret: sim.DemoYCMSecret, Sleep: sl.sleep}
	y, err := portal.NewYCM(cfg) // the production back-off
	if err != nil {
		t.Fatal(err)
	}
	s.SetFaults(sim.Faults{ThrottleBurst: 2, ThrottleLump: 2, ThrottleEvery: time.Hour}) // the login and one call
	if _, err := y.PBX(t.Context(), 7701); err != nil {
		t.Fatal(err)
	}
	_, err = y.PBX(t.Context(), 7701)
	if !errors.Is(err, portal.ErrThrottled) {
		t.Fatalf("got %v, want throttled", err)
	}
	var total time.Duration
	for i, d := range sl.all() {
		total += d
		// The production back-off: 250 ms doubling to 30 s; a throttled wait is at least
		// half of that ceiling (full jitter would let each be near 0).
		ceiling := min(250*time.Millisecond<<i, 30*time.Second)
		if d < ceiling/2 {
			t.Errorf("wait %d is %s, under half its ceiling of %s", i+1, d, ceiling)
		}
	}
	if total < 3*time.Minute {
		t.Errorf("gave up after waiting %s in all (%d waits): less than one refill interval", total, len(sl.all()))
	}
	t.Logf("%d waits, %s in all", len(sl.all()), total)
}

// TestOwnColleaguesListedWithThePartners: the partner's own colleagues are asked for
// while the partner list is, not after it; the result is the one Colleagues gives.
func TestOwnColleaguesListedWithThePartners(t *testing.T) {
	s, err := sim.New(sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ownAsked := make(chan struct{})
	var once sync.Once
	var waited atomic.Bool // the partner list's answer waited for the own listing
	var refuse atomic.Bool // the partner list is refused
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case refuse.Load() && r.URL.Path == "/user/openapi/user/v1/client/partner_list":
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		case r.URL.Path == "/user/openapi/user/v1/colleagues" && r.URL.Query().Get("ownerId") == "":
			once.Do(func() { close(ownAsked) })
		case r.URL.Path == "/user/openapi/user/v1/client/partner_list":
			select {
			case <-ownAsked:
				waited.Store(true)
			case <-time.After(5 * time.Second):
			}
		}
		s.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	p := partnerClient(t, ts.URL, nil)
	partners, got, err := p.PartnersAndColleagues(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !waited.Load() {
		t.Error("the partner's own colleagues were not asked for before the partner list was answered")
	}
	want, err := p.Colleagues(t.Context(), partners)
	if err != nil {
		t.Fatal(err)
	}
	if len(partners) != 2 || len(got) != len(want) {
		t.Fatalf("%d partners, %d colleagues; Colleagues gives %d", len(partners), len(got), len(want))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("colleagues (-Colleagues +PartnersAndColleagues):\n%s", diff)
	}

	// A partner list that fails ends the read with its error, the own listing too.
	refuse.Store(true)
	if _, _, err := p.PartnersAndColleagues(t.Context()); err == nil {
		t.Error("a refused partner list read as success")
	}
}

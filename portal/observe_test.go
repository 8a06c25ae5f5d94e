package portal_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ycm-onboard/ycm-onboard/portal"
	"github.com/ycm-onboard/ycm-onboard/portal/sim"
)

// heard is what Config.OnResponse was told, in order.
type heard struct {
	mu  sync.Mutex
	got []response
}

type response struct {
	API       string
	Status    int
	Throttled bool
}

func (h *heard) on(api string, status int, throttled bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.got = append(h.got, response{api, status, throttled})
}

func (h *heard) all() []response {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]response(nil), h.got...)
}

// TestOnResponseHearsEveryRequest: the observer hears each HTTP request once, the
// login and the retries included, with its status and whether it was throttled.
func TestOnResponseHearsEveryRequest(t *testing.T) {
	t.Run("partner", func(t *testing.T) {
		s, err := sim.New(sim.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var once sync.Once
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			throttle := false
			if r.URL.Path == "/user/openapi/user/v1/users/resource_list" {
				once.Do(func() { throttle = true })
			}
			if throttle { // the first listing of the permissions: slow down
				w.Header().Set("Retry-After", "0")
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			s.ServeHTTP(w, r)
		}))
		defer ts.Close()
		h := &heard{}
		cfg := testConfig(ts.URL, sim.DemoPartnerID, sim.DemoPartnerSecret, &sleeps{})
		cfg.OnResponse = h.on
		p, err := portal.NewPartner(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Permissions(t.Context()); err != nil {
			t.Fatal(err)
		}
		want := []response{{"partner", 200, false}, {"partner", 429, true}, {"partner", 200, false}} // login, throttled, retried
		if diff := cmp.Diff(want, h.all()); diff != "" {
			t.Errorf("heard (-want +got):\n%s", diff)
		}
	})
	t.Run("ycm throttled at HTTP 200", func(t *testing.T) {
		s, base := startSim(t, sim.Options{}) // the documented dialect: 1000040 at HTTP 200
		h := &heard{}
		cfg := testConfig(base, sim.DemoYCMID, sim.DemoYCMSecret, &sleeps{})
		cfg.MaxAttempts, cfg.OnResponse = 1, h.on // a throttled call gives up after 4 tries
		y, err := portal.NewYCM(cfg)
		if err != nil {
			t.Fatal(err)
		}
		s.SetFaults(sim.Faults{ThrottleBurst: 2, ThrottleLump: 2, ThrottleEvery: time.Hour}) // the login and one call
		if _, err := y.PBX(t.Context(), 7701); err != nil {
			t.Fatal(err)
		}
		if _, err := y.PBX(t.Context(), 7701); !errors.Is(err, portal.ErrThrottled) {
			t.Fatalf("got %v, want throttled", err)
		}
		throttled := response{"ycm", 200, true}
		want := []response{{"ycm", 200, false}, {"ycm", 200, false}, throttled, throttled, throttled, throttled}
		if diff := cmp.Diff(want, h.all()); diff != "" {
			t.Errorf("heard (-want +got):\n%s", diff)
		}
	})
	t.Run("no answer", func(t *testing.T) {
		ts := httptest.NewServer(http.NotFoundHandler())
		base := ts.URL
		ts.Close() // nothing listens there any more
		h := &heard{}
		cfg := testConfig(base, sim.DemoPartnerID, sim.DemoPartnerSecret, &sleeps{})
		cfg.MaxAttempts, cfg.OnResponse = 2, h.on
		p, err := portal.NewPartner(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Permissions(t.Context()); err == nil {
			t.Fatal("a call to a closed port succeeded")
		}
		want := []response{{"partner", 0, false}, {"partner", 0, false}} // the login, tried twice
		if diff := cmp.Diff(want, h.all()); diff != "" {
			t.Errorf("heard (-want +got):\n%s", diff)
		}
	})
}

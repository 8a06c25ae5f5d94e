package sim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// freshClient never reuses a connection, so net/http cannot quietly retry a
// dropped idempotent request on another one.
func (e *env) freshClient() {
	e.hc = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	e.t.Cleanup(e.hc.CloseIdleConnections)
}

func (e *env) statusCount(route string, status int) int64 {
	for _, rc := range e.s.Stats().Routes {
		if rc.Route == route && rc.Status == status {
			return rc.Count
		}
	}
	return 0
}

const newColleague = `{"yeastarId":"drop@x.example","resourceIds":[101],"firstName":"D"}`

func (e *env) hasColleague(email string) bool {
	for _, c := range e.s.Colleagues() {
		if c.YeastarID == email {
			return true
		}
	}
	return false
}

func TestDropAfterWrite(t *testing.T) {
	e := newEnv(t, Options{})
	e.freshClient()
	tok := e.ppLogin().Token
	ytok := e.ycmLogin().AccessToken
	e.s.SetFaults(Faults{DropAfterWriteRate: 1})

	if _, err := e.send("POST", pathColleagues, tok, newColleague); err == nil {
		t.Fatal("the client got an answer to a dropped create")
	}
	if !e.hasColleague("drop@x.example") || len(e.s.Outbox()) != 1 {
		t.Errorf("the dropped create did not take effect: %v", e.s.Outbox())
	}
	_, err := e.send("PUT", pathPBXInstance+"7701/capacity", ytok,
		`{"extensionCapacity":55,"concurrentCallCapacity":10,"recordingStatus":"Enabled","recordingCapacity":500}`)
	if err == nil {
		t.Fatal("the client got an answer to a dropped resize")
	}
	if got := e.s.PBXs()[0].ExtensionCapacity; got != 55 {
		t.Errorf("extensionCapacity %d after the dropped resize, want 55", got)
	}
	if _, err := e.send("POST", pathYCMUser+"300001/activation_email", ytok, nil); err == nil {
		t.Fatal("the client got an answer to a dropped activation e-mail")
	}
	if n := len(e.s.Outbox()); n != 2 {
		t.Errorf("%d e-mails after the dropped activation e-mail, want 2", n)
	}
	// Reads are answered.
	e.do("GET", pathColleagues, tok, nil).ppResult(t, nil)
	if n := e.statusCount(rCreateColleague.name, 0); n != 1 {
		t.Errorf("stats count %d dropped creates, want 1", n)
	}
}

func TestDropBeforeWrite(t *testing.T) {
	e := newEnv(t, Options{})
	e.freshClient()
	tok := e.ppLogin().Token
	e.s.SetFaults(Faults{DropBeforeWriteRate: 1})
	if _, err := e.send("POST", pathColleagues, tok, newColleague); err == nil {
		t.Fatal("the client got an answer to a dropped create")
	}
	if e.hasColleague("drop@x.example") || len(e.s.Outbox()) != 0 {
		t.Error("a create dropped before the write took effect")
	}
	e.do("GET", pathColleagues, tok, nil).ppResult(t, nil)
}

func TestErrorRate(t *testing.T) {
	e := newEnv(t, Options{})
	tok := e.ppLogin().Token
	ytok := e.ycmLogin().AccessToken
	e.s.SetFaults(Faults{ErrorRate: 1})
	for range 4 {
		r := e.do("POST", pathColleagues, tok, newColleague)
		env := r.pp(t)
		if (r.status != 500 && r.status != 503) || env.Code != "server_error" {
			t.Fatalf("HTTP %d %s", r.status, r.body)
		}
		r = e.do("GET", pathPBXList, ytok, nil)
		if r.status != 500 && r.status != 503 {
			t.Fatalf("YCM HTTP %d %s", r.status, r.body)
		}
	}
	if e.hasColleague("drop@x.example") {
		t.Error("a create answered 5xx took effect")
	}
}

func TestThrottle(t *testing.T) {
	e := newEnv(t, Options{})
	tok := e.ppLogin().Token
	ytok := e.ycmLogin().AccessToken
	e.s.SetFaults(Faults{ThrottleRate: 0.25, ThrottleBurst: 3})

	for range 3 {
		e.do("GET", pathColleagues, tok, nil).ppResult(t, nil)
	}
	r := e.do("GET", pathColleagues, tok, nil)
	r.ppErr(t, 429, "rate_limit_exceeded")
	if got := r.header.Get("Retry-After"); got != "4" {
		t.Errorf("Retry-After %q, want 4 (one request per 4 s)", got)
	}
	// Each API has its own bucket. YCM's refusal is in the body, with HTTP 200
	// and no Retry-After (ycm-status=200).
	for range 3 {
		e.do("GET", pathPBXList, ytok, nil).ycmData(t, nil)
	}
	r = e.do("GET", pathPBXList, ytok, nil)
	env := r.ycmErr(t, 200, 1000040)
	if env.Errmsg != "RATE_LIMIT_EXCEEDED" || r.header.Get("Retry-After") != "" {
		t.Errorf("YCM throttled: %s, Retry-After %q", r.body, r.header.Get("Retry-After"))
	}

	e.s.Advance(3e9)
	r = e.do("GET", pathColleagues, tok, nil)
	if r.status != 429 || r.header.Get("Retry-After") != "1" {
		t.Errorf("3 s later: HTTP %d, Retry-After %q; want 429, 1", r.status, r.header.Get("Retry-After"))
	}
	e.s.Advance(1e9)
	e.do("GET", pathColleagues, tok, nil).ppResult(t, nil)
	e.do("GET", pathColleagues, tok, nil).ppErr(t, 429, "rate_limit_exceeded")
}

// Lumps: the bucket starts full, then gains the lump at once at every whole
// interval since it started, never over the burst; nothing between lumps.
func TestThrottleLumps(t *testing.T) {
	for _, status := range []YCMStatusStyle{YCMStatus200, YCMStatusHTTP} {
		t.Run("ycm-status="+string(status), func(t *testing.T) {
			e := newEnv(t, Options{Dialect: Dialect{YCMStatus: status}})
			tok := e.ppLogin().Token
			ytok := e.ycmLogin().AccessToken
			e.s.SetFaults(Faults{ThrottleBurst: 3, ThrottleLump: 2, ThrottleEvery: 3 * time.Minute})
			pp := func() resp { return e.do("GET", pathColleagues, tok, nil) }
			ycm := func() resp { return e.do("GET", pathPBXList, ytok, nil) }
			// served checks that want requests are served and the next is refused,
			// with the wait to the next lump in Retry-After where the dialect has it.
			served := func(name string, call func() resp, want int, retryAfter string) {
				t.Helper()
				for i := range want {
					if r := call(); r.status != 200 || bytes.Contains(r.body, []byte("Failed")) {
						t.Fatalf("%s: request %d of %d: HTTP %d %s", name, i+1, want, r.status, r.body)
					}
				}
				r := call()
				isYCM := strings.Contains(name, "YCM")
				if isYCM && status == YCMStatus200 {
					r.ycmErr(t, 200, 1000040)
					retryAfter = ""
				} else if isYCM {
					r.ycmErr(t, 429, 1000040)
				} else {
					r.ppErr(t, 429, "rate_limit_exceeded")
				}
				if got := r.header.Get("Retry-After"); got != retryAfter {
					t.Fatalf("%s: after %d served: Retry-After %q, want %q", name, want, got, retryAfter)
				}
			}
			served("burst", pp, 3, "180")
			served("YCM's own burst", ycm, 3, "180")
			e.s.Advance(3*time.Minute - time.Second)
			served("just before the lump", pp, 0, "1")
			e.s.Advance(time.Second)
			served("the first lump", pp, 2, "180")
			e.s.Advance(time.Minute)
			served("between lumps", pp, 0, "120")
			served("YCM's first lump", ycm, 2, "120")
			e.s.Advance(11 * time.Minute) // 15m since the start: three more lumps, capped at the burst
			served("capped", pp, 3, "180")
			served("YCM, capped", ycm, 3, "180")
		})
	}
}

func TestPeakInFlight(t *testing.T) {
	e := newEnv(t, Options{})
	tok := e.ppLogin().Token
	const n = 8
	var arrived sync.WaitGroup
	arrived.Add(n)
	release := make(chan struct{})
	e.s.onEnter = func() { arrived.Done(); <-release }

	var done sync.WaitGroup
	for range n {
		done.Go(func() { e.do("GET", pathColleagues, tok, nil) })
	}
	arrived.Wait() // all n are in the handler at once
	st := e.s.Stats()
	close(release)
	done.Wait()
	if st.InFlight != n || st.PeakInFlight != n {
		t.Errorf("in flight %d, peak %d; want %d", st.InFlight, st.PeakInFlight, n)
	}
	st = e.s.Stats()
	want := []RouteCount{{rListColleagues.name, 200, n}, {rPPToken.name, 200, 1}}
	if diff := cmp.Diff(want, st.Routes); diff != "" || st.Total != n+1 || st.InFlight != 0 || st.PeakInFlight != n {
		t.Errorf("stats %+v (-want +got):\n%s", st, diff)
	}
}

func TestFaultsAdmin(t *testing.T) {
	e := newEnv(t, Options{Faults: Faults{ErrorRate: 0.1}})
	r := e.do("POST", "/_sim/faults", "", `{"latency":"5ms","throttleRate":100,"throttleBurst":20}`)
	if r.status != 200 {
		t.Fatalf("HTTP %d %s", r.status, r.body)
	}
	want := Faults{Latency: 5e6, ErrorRate: 0.1, ThrottleRate: 100, ThrottleBurst: 20}
	if diff := cmp.Diff(want, e.s.Faults()); diff != "" {
		t.Errorf("faults (-want +got):\n%s", diff)
	}
	var got map[string]any
	if err := json.Unmarshal(e.do("GET", "/_sim/faults", "", nil).body, &got); err != nil {
		t.Fatal(err)
	}
	if got["latency"] != "5ms" || got["jitter"] != "0s" || got["errorRate"] != 0.1 {
		t.Errorf("GET /_sim/faults: %v", got)
	}
	r = e.do("POST", "/_sim/faults", "", `{"throttleRate":0,"throttleBurst":600,"throttleLump":300,"throttleEvery":"3m"}`)
	if r.status != 200 {
		t.Fatalf("HTTP %d %s", r.status, r.body)
	}
	want = Faults{Latency: 5e6, ErrorRate: 0.1, ThrottleBurst: 600, ThrottleLump: 300, ThrottleEvery: 3 * time.Minute}
	if diff := cmp.Diff(want, e.s.Faults()); diff != "" {
		t.Errorf("lumpy faults (-want +got):\n%s", diff)
	}
	if err := json.Unmarshal(e.do("GET", "/_sim/faults", "", nil).body, &got); err != nil {
		t.Fatal(err)
	}
	if got["throttleEvery"] != "3m0s" || got["throttleLump"] != 300.0 {
		t.Errorf("GET /_sim/faults: %v", got)
	}
	for _, bad := range []string{`{"errorRate":1.5}`, `{"latency":"soon"}`, `{"throttleBurst":-1}`, `{"nope":1}`,
		`{"throttleRate":5}`, `{"throttleLump":0}`, `{"throttleEvery":"-1m"}`, `{"throttleEvery":"0s"}`} {
		if r := e.do("POST", "/_sim/faults", "", bad); r.status != 400 || !strings.Contains(string(r.body), "error") {
			t.Errorf("%s: HTTP %d %s", bad, r.status, r.body)
		}
	}
	if diff := cmp.Diff(want, e.s.Faults()); diff != "" {
		t.Errorf("refused settings changed the faults:\n%s", diff)
	}
	if _, err := New(Options{Faults: Faults{DropAfterWriteRate: -1}}); err == nil {
		t.Error("New took a negative rate")
	}
}

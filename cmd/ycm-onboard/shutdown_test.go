package main

import (
	"context"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ycm-onboard/ycm-onboard/portal/sim"
	"github.com/ycm-onboard/ycm-onboard/state"
)

// TestServeWaitsForARunInItsRequest: a re-invite runs within its request. When serve
// is told to stop between its delete and its create, the create finishes, the request
// is answered and the run recorded before serve returns (before, it returned as soon
// as the shutdown began, and the process ended under the run).
func TestServeWaitsForARunInItsRequest(t *testing.T) {
	s, _ := sim.New(sim.Options{})
	ts := httptest.NewServer(s)
	defer ts.Close()
	dir := historyWithBea(t)
	a, _, errb := testApp(t, nil)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	served := make(chan time.Time, 1)
	go func() {
		runApp(ctx, a, "serve", "--addr", "127.0.0.1:0", "--portal", ts.URL, "--state-dir", dir)
		served <- time.Now()
	}()
	base := servedAt(t, errb, `serving the page at (http://127\.0\.0\.1:\d+)`, cancel)
	post, csrf := signInAsBea(t, base)
	s.SetFaults(sim.Faults{Latency: 300 * time.Millisecond}) // the re-invite's calls take some 1.5 s
	type answer struct {
		body string
		err  error
		at   time.Time
	}
	answered := make(chan answer, 1)
	go func() {
		body, err := post("/invitations/reinvite", url.Values{"csrf": {csrf}, "email": {"stale.invite@demo.example"}})
		answered <- answer{body, err, time.Now()}
	}()
	deleted := func() bool {
		for _, rc := range s.Stats().Routes {
			if rc.Route == "DELETE /user/openapi/user/v1/colleagues" && rc.Count > 0 {
				return true
			}
		}
		return false
	}
	deadline := time.Now().Add(30 * time.Second)
	for !deleted() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond) // until the re-invite has deleted, and creates
	}
	cancel() // as SIGTERM does: the create under way gets its grace, and is answered
	stopped := <-served
	// serve has returned: the run has ended and is recorded.
	st, err := state.Open(dir, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, err := st.LastRuns(t.Context(), 1)
	if err != nil || len(runs) != 1 || runs[0].StartedBy != "bea" || runs[0].Finished.IsZero() {
		t.Errorf("the newest run when serve returned (%v): %+v, want bea's re-invite, finished", err, runs)
	}
	an := <-answered
	if an.err != nil || !strings.Contains(an.body, "was re-invited") {
		t.Fatalf("the re-invite's answer (%v):\n%s\n%s", an.err, an.body, errb)
	}
	// The create took 300 ms after the stop; serve returning before the answer by
	// more than a scheduling hiccup means it did not wait for the request.
	if early := an.at.Sub(stopped); early > 200*time.Millisecond {
		t.Errorf("serve returned %s before the re-invite was answered", early)
	}
}

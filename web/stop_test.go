package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ycm-onboard/ycm-onboard/portal/sim"
	"github.com/ycm-onboard/ycm-onboard/state"
)

// waitUntil polls cond until it holds, failing the test after 30 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestStopLetsRunsInFlightEnd: when the page stops (a restart), an approval being
// applied within its request stops sending, ends with its report and its proposal
// decided, and Close returns only after it; a run asked for once the page stops is
// refused with 503, and nothing is sent for it.
func TestStopLetsRunsInFlightEnd(t *testing.T) {
	st := newApprovalSite(t)
	abe := st.client(t)
	abe.signin("abe", "approver-password-1")
	id := propose(t, st, abe)
	_, body := abe.upload("../samples/colleagues.csv")
	other := pageOf(body)

	st.sim.SetFaults(sim.Faults{Latency: 100 * time.Millisecond}) // the approval takes some 0.7 s
	ada := st.client(t)
	ada.signin("ada", "approver-password-2")
	csrf := ada.csrf()
	type answer struct {
		code int
		body string
	}
	approved := make(chan answer, 1)
	go func() {
		code, body := ada.post("/proposals/"+id+"/approve", url.Values{"csrf": {csrf}})
		approved <- answer{code, body}
	}()
	waitUntil(t, "the approval's first e-mail", func() bool { return len(st.sim.Outbox()) > 0 })

	st.srv.Stop()
	if code, body := abe.post(other+"/apply", url.Values{"csrf": {abe.csrf()}}); code != http.StatusServiceUnavailable || !strings.Contains(body, "stopping") {
		t.Errorf("an apply once the page stops: %d\n%s", code, body)
	}
	if err := st.srv.Close(); err != nil {
		t.Fatal(err)
	}
	// Close has returned: the approval's run has ended and is recorded.
	s, err := state.Open(st.cfgd.StateDir, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	runs, err := s.LastRuns(t.Context(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) == 0 || runs[0].Finished.IsZero() || runs[0].ReportPath == "" {
		t.Errorf("the newest run when Close returned: %+v, want the approval's, finished with its report", runs)
	}
	a := <-approved
	if a.code != http.StatusConflict || !strings.Contains(a.body, "interrupted") {
		t.Errorf("the approval's answer: %d\n%s", a.code, a.body)
	}
	if n := len(st.sim.Outbox()); n == 0 || n >= 22 {
		t.Errorf("%d e-mails: want the approval stopped part way", n)
	}
}

package reconcile_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/ycm-onboard/ycm-onboard/importer"
	"github.com/ycm-onboard/ycm-onboard/portal/sim"
	"github.com/ycm-onboard/ycm-onboard/reconcile"
)

// TestSomeoneElseTookTheAddressWhileTheAnswerWasLost: two creates lose their answer.
// One took effect as sent; the other's address was taken in the same seconds by
// someone adding the colleague under another name. Both retries are refused as
// existing; the check at the end of the apply confirms the first and notes the other
// settings of the second, and no e-mail goes out twice.
func TestSomeoneElseTookTheAddressWhileTheAnswerWasLost(t *testing.T) {
	var mu sync.Mutex
	lost := map[string]bool{}
	wrap := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost || r.URL.Path != "/user/openapi/user/v1/colleagues" {
				next.ServeHTTP(w, r)
				return
			}
			body, _ := io.ReadAll(r.Body)
			var req map[string]any
			_ = json.Unmarshal(body, &req)
			email, _ := req["yeastarId"].(string)
			mu.Lock()
			first := !lost[email]
			lost[email] = true
			mu.Unlock()
			if email == "plain@demo.example" || !first {
				r.Body = io.NopCloser(bytes.NewReader(body))
				next.ServeHTTP(w, r)
				return
			}
			if email == "taken@demo.example" {
				// Someone else adds the colleague in the portal, under another name.
				req["firstName"], req["lastName"] = "Somebody", "Else"
				body, _ = json.Marshal(req)
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			next.ServeHTTP(httptest.NewRecorder(), r) // done, and the answer is lost
			conn, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			conn.Close()
		})
	}
	w := newWorld(t, sim.Options{}, wrap)
	d := &importer.Desired{Colleagues: []importer.Colleague{
		colleague(2, "mine@demo.example", "", false, "Dashboard"),
		colleague(3, "taken@demo.example", "", false, "Dashboard"),
		colleague(4, "plain@demo.example", "", false, "Dashboard"),
	}}
	p := reconcile.Diff(d, w.actual(t), reconcile.DefaultOptions())
	rs, err := reconcile.Apply(t.Context(), p, w.c, reconcile.ApplyOptions{Concurrency: 3})
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]reconcile.Result{}
	for i, a := range p.Actions {
		by[a.Key] = rs[i]
	}
	mine, taken, plain := by["mine@demo.example"], by["taken@demo.example"], by["plain@demo.example"]
	if mine.Outcome != reconcile.Applied || mine.ColleagueID != w.colleagueOf(t, "mine@demo.example").ColleaguesID || !strings.Contains(mine.Message, "listed as sent") {
		t.Errorf("mine: %s, id %d, %q", mine.Outcome, mine.ColleagueID, mine.Message)
	}
	// Taken in the same seconds: the portal's clock cannot tell, the settings do.
	if taken.Outcome != reconcile.Applied || taken.ColleagueID != w.colleagueOf(t, "taken@demo.example").ColleaguesID ||
		!strings.Contains(taken.Message, `other settings (name "Somebody Else")`) || !strings.Contains(taken.Message, "if someone else added this colleague") {
		t.Errorf("taken: %s %q", taken.Outcome, taken.Message)
	}
	if plain.Outcome != reconcile.Applied || plain.Recovered {
		t.Errorf("plain: %s, recovered %v", plain.Outcome, plain.Recovered)
	}
	sent := map[string]int{}
	for _, m := range w.sim.Outbox() {
		sent[m.To]++
	}
	for _, e := range []string{"mine@demo.example", "taken@demo.example", "plain@demo.example"} {
		if sent[e] != 1 {
			t.Errorf("%d e-mails to %s, want 1", sent[e], e)
		}
	}
}

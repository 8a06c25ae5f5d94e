package sim

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func (e *env) admin(method, path, body string, out any) int {
	e.t.Helper()
	r := e.do(method, path, "", body)
	if out != nil && r.status == 200 {
		if err := json.Unmarshal(r.body, out); err != nil {
			e.t.Fatalf("%s %s: %v: %s", method, path, err, r.body)
		}
	}
	return r.status
}

func TestClockAndActivation(t *testing.T) {
	e := newEnv(t, Options{})
	var now struct{ Now time.Time }
	if e.admin("GET", "/_sim/clock", "", &now); !now.Now.Equal(start) {
		t.Errorf("clock %v, want %v", now.Now, start)
	}
	tok := e.ppLogin().Token
	e.do("POST", pathColleagues, tok, `{"yeastarId":"late@x.example","resourceIds":[101],"firstName":"L"}`).ppResult(t, nil)
	e.do("POST", pathColleagues, tok, `{"yeastarId":"quick@x.example","resourceIds":[101],"firstName":"Q"}`).ppResult(t, nil)

	var outbox []Email
	e.admin("GET", "/_sim/outbox", "", &outbox)
	want := []Email{{"late@x.example", start, start.Add(48 * time.Hour)}, {"quick@x.example", start, start.Add(48 * time.Hour)}}
	if diff := cmp.Diff(want, outbox); diff != "" {
		t.Errorf("outbox (-want +got):\n%s", diff)
	}

	tests := []struct {
		email  string
		status int
	}{
		{"QUICK@x.example", 200},
		{"quick@x.example", 409}, // already active
		{"new.hire@demo.example", 200},
		{"stale.invite@demo.example", 410},
		{"former.staff@demo.example", 409},
		{"nobody@x.example", 404},
	}
	for _, tt := range tests {
		if got := e.admin("POST", "/_sim/activate", `{"email":"`+tt.email+`"}`, nil); got != tt.status {
			t.Errorf("activate %s: HTTP %d, want %d", tt.email, got, tt.status)
		}
	}

	if e.admin("POST", "/_sim/clock/advance", `{"by":"48h"}`, &now); !now.Now.Equal(start.Add(48 * time.Hour)) {
		t.Errorf("clock after advance %v", now.Now)
	}
	if err := e.s.Activate("late@x.example"); !errors.Is(err, ErrInviteExpired) {
		t.Errorf("activate after 48 h: %v, want ErrInviteExpired", err)
	}
	if got := e.admin("POST", "/_sim/clock/advance", `{"by":"-1h"}`, nil); got != 400 {
		t.Errorf("negative advance: HTTP %d", got)
	}

	status := map[string]string{}
	for _, c := range e.s.Colleagues() {
		status[c.YeastarID] = c.UserStatus
	}
	wantStatus := map[string]string{"ops.lead@demo.example": "Active", "finance@demo.example": "Active",
		"new.hire@demo.example": "Active", "stale.invite@demo.example": "UnActive", "former.staff@demo.example": "Freeze",
		"late@x.example": "UnActive", "quick@x.example": "Active"}
	if diff := cmp.Diff(wantStatus, status); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	e.checkWire()
}

func TestReset(t *testing.T) {
	e := newEnv(t, Options{})
	demo := e.s.State()
	tok := e.ppLogin().Token
	e.do("POST", pathColleagues, tok, `{"yeastarId":"x@x.example","resourceIds":[101],"firstName":"X"}`).ppResult(t, nil)
	e.do("DELETE", pathColleagues, tok, `{"colleaguesIds":[10001]}`).ppResult(t, nil)
	e.s.Advance(time.Hour)

	if got := e.admin("POST", "/_sim/reset", "", nil); got != 200 {
		t.Fatalf("reset: HTTP %d", got)
	}
	if diff := cmp.Diff(demo, e.s.State()); diff != "" {
		t.Errorf("state after reset (-demo +got):\n%s", diff)
	}
	if st := e.s.Stats(); st.Total != 0 || len(st.Routes) != 0 {
		t.Errorf("stats after reset: %+v", st)
	}
	e.do("GET", pathColleagues, tok, nil).ppErr(t, 401, "invalid_token")

	var st State
	e.admin("GET", "/_sim/state", "", &st)
	if diff := cmp.Diff(demo, st); diff != "" {
		t.Errorf("GET /_sim/state (-demo +got):\n%s", diff)
	}
	if got := e.admin("GET", "/_sim/nothing", "", nil); got != 404 {
		t.Errorf("unknown admin call: HTTP %d", got)
	}
}

func TestStateFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sim.json")
	e := newEnv(t, Options{StatePath: path})
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("no state file after New: %v", err)
	}
	tok := e.ppLogin().Token
	ytok := e.ycmLogin().AccessToken
	e.do("POST", pathColleagues, tok, `{"yeastarId":"kept@x.example","resourceIds":[101,102],"firstName":"K","ownerId":2001}`).ppResult(t, nil)
	e.do("PUT", pathPBXInstance+"7702/capacity", ytok,
		`{"extensionCapacity":25,"concurrentCallCapacity":6,"recordingStatus":"Disabled","recordingCapacity":700,"transcriptionCapacity":9}`).ycmData(t, nil)
	e.do("DELETE", pathColleagues, tok, `{"colleaguesIds":[10002]}`).ppResult(t, nil)
	if err := e.s.Activate("new.hire@demo.example"); err != nil {
		t.Fatal(err)
	}
	e.s.Advance(90 * time.Minute)
	want := e.s.State()

	// A new simulator on the same file carries on where this one stopped.
	e2 := newEnv(t, Options{StatePath: path})
	if diff := cmp.Diff(want, e2.s.State()); diff != "" {
		t.Errorf("state after reload (-saved +loaded):\n%s", diff)
	}
	if !e2.s.Clock().Equal(start.Add(90 * time.Minute)) {
		t.Errorf("clock after reload %v", e2.s.Clock())
	}
	tok2 := e2.ppLogin().Token
	if id := e2.create(tok2, `{"yeastarId":"next@x.example","resourceIds":[101],"firstName":"N"}`); id != 10007 {
		t.Errorf("next colleague id %d after reload, want 10007", id)
	}

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("files left beside the state: %v", entries)
	}
	if err := os.WriteFile(path, []byte(`{"colleagues":[{"colleaguesId":1},{"colleaguesId":1}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{StatePath: path}); err == nil {
		t.Error("New loaded a state with a repeated colleague id")
	}
}

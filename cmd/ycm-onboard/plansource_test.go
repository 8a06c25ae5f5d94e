package main

import (
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/ycm-onboard/ycm-onboard/portal/sim"
	"github.com/ycm-onboard/ycm-onboard/state"
)

// TestSavedPlanProposalSupersedesNothing: a plan saved in one folder and applied with
// --plan from another names its file relative to the first; its proposal supersedes
// nothing and is superseded by no plan of a file of the same name elsewhere.
func TestSavedPlanProposalSupersedesNothing(t *testing.T) {
	s, _ := sim.New(sim.Options{})
	ts := httptest.NewServer(s)
	defer ts.Close()
	stateHome := filepath.Join(t.TempDir(), "state")
	cfg := writeConfig(t, "require_approval: [more_than: 2]\n")
	a, b := t.TempDir(), t.TempDir()
	writeWave(t, filepath.Join(a, "onboarding.csv"), 3)
	run := func(dir string, args ...string) int {
		t.Helper()
		t.Chdir(dir)
		app, _, errb := testApp(t, map[string]string{"XDG_STATE_HOME": stateHome})
		code := runApp(t.Context(), app, append(args, "--config", cfg, "--portal", ts.URL, "--report-dir", t.TempDir())...)
		if code != exitOK && code != exitGuard {
			t.Fatalf("%v: exit %d\n%s", args, code, errb)
		}
		return code
	}
	run(a, "plan", "onboarding.csv", "--out", filepath.Join(a, "p.json"))
	if code := run(b, "apply", "--plan", filepath.Join(a, "p.json"), "--yes"); code != exitGuard {
		t.Fatalf("apply --plan: exit %d, want %d (a proposal)", code, exitGuard)
	}
	writeWave(t, filepath.Join(b, "onboarding.csv"), 4) // another sheet of the same name
	if code := run(b, "apply", "onboarding.csv", "--yes"); code != exitGuard {
		t.Fatalf("apply: exit %d, want %d (a proposal)", code, exitGuard)
	}
	st, err := state.Open(filepath.Join(stateHome, "ycm-onboard"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ps, err := st.Proposals(t.Context(), state.ProposalPending)
	if err != nil || len(ps) != 2 {
		t.Fatalf("pending proposals %+v (%v), want both", ps, err)
	}
}

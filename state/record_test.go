package state

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ycm-onboard/ycm-onboard/importer"
	"github.com/ycm-onboard/ycm-onboard/reconcile"
)

func TestIntentAndOutcomeOf(t *testing.T) {
	src := &importer.Source{File: "wave1.xlsx", Sheet: "Colleagues", Row: 7}
	for _, tc := range []struct {
		a    reconcile.Action
		want Intent
	}{
		{reconcile.Action{Kind: reconcile.Create, Object: reconcile.ColleagueObject, Key: "a@example.com", Source: src},
			Intent{Source: "wave1.xlsx sheet Colleagues row 7", Object: "colleague", Key: "a@example.com", Kind: "create"}},
		{reconcile.Action{Kind: reconcile.Delete, Object: reconcile.ColleagueObject, Key: "b@example.com", ColleagueID: 9},
			Intent{Object: "colleague", Key: "b@example.com", Kind: "delete", PortalID: 9}},
		{reconcile.Action{Kind: reconcile.Resize, Object: reconcile.InstanceObject, Key: "SN1", Sizing: &reconcile.Sizing{PBXID: 4}, ColleagueID: 99},
			Intent{Object: "PBX", Key: "SN1", Kind: "resize", PortalID: 4}},
	} {
		if d := cmp.Diff(tc.want, IntentOf(tc.a)); d != "" {
			t.Errorf("IntentOf(%s %s) (-want +got):\n%s", tc.a.Kind, tc.a.Key, d)
		}
	}
	got := OutcomeOf(reconcile.Result{Outcome: reconcile.Failed, Class: reconcile.ClassRowTerminal, Message: "refused", Attempts: 2}, t0)
	want := Outcome{Outcome: "failed", Class: "row", Message: "refused", Attempts: 2, Finished: t0}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("OutcomeOf (-want +got):\n%s", d)
	}
}

// TestOpenOddPath: the database path goes into a file: URI; characters that mean
// something there must not change which file is opened.
func TestOpenOddPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "my state ?mode=ro#x %20")
	s := openStore(t, dir, newClock(t0))
	if _, err := s.BeginRun(t.Context(), RunInfo{Mode: "plan", Started: t0}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	runs, err := openStore(t, dir, newClock(t0.Add(time.Hour))).LastRuns(t.Context(), 1)
	if err != nil || len(runs) != 1 {
		t.Fatalf("LastRuns after reopening: %v, %v", runs, err)
	}
	if _, err := os.Stat(filepath.Join(dir, DBName)); err != nil {
		t.Errorf("the database is not where it belongs: %v", err)
	}
}

package state

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestPruneReports(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, mod time.Time) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mod, mod); err != nil {
			t.Fatal(err)
		}
	}
	// mtimes disagree with the names on purpose: the names win.
	write("ycm-onboard-apply-20260301T020000Z.xlsx", t0.Add(5*time.Hour))
	write("ycm-onboard-plan-20260302T020000Z.xlsx", t0.Add(4*time.Hour))
	write("ycm-onboard-apply-20260303T020000Z.xlsx", t0.Add(3*time.Hour))
	// Two runs in one second: -2 is the later.
	write("ycm-onboard-apply-20260304T020000Z-2.xlsx", t0.Add(1*time.Hour))
	write("ycm-onboard-apply-20260304T020000Z.xlsx", t0.Add(2*time.Hour))
	// Never touched: workbooks a person works on, and what is not a report.
	write("ycm-onboard-template.xlsx", t0)
	write("ycm-onboard-export-20200101T000000Z.xlsx", t0)
	write("ycm-onboard-custom.xlsx", t0)
	write("ycm-onboard-apply-20200101T000000Z.csv", t0)
	write("other-20200101T000000Z.xlsx", t0)
	write("~$ycm-onboard-apply-20200101T000000Z.xlsx", t0)
	if err := os.Mkdir(filepath.Join(dir, "ycm-onboard-apply-20200101T000000Z-3.xlsx"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/nonexistent", filepath.Join(dir, "ycm-onboard-plan-20200101T000000Z.xlsx")); err != nil {
		t.Fatal(err)
	}

	removed, err := PruneReports(dir, 2)
	if err != nil {
		t.Fatal(err)
	}
	for i := range removed {
		removed[i] = filepath.Base(removed[i])
	}
	slices.Sort(removed)
	want := []string{"ycm-onboard-apply-20260301T020000Z.xlsx", "ycm-onboard-apply-20260303T020000Z.xlsx",
		"ycm-onboard-plan-20260302T020000Z.xlsx"}
	if d := cmp.Diff(want, removed); d != "" {
		t.Errorf("removed (-want +got):\n%s", d)
	}
	var left []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		left = append(left, e.Name())
	}
	wantLeft := []string{"other-20200101T000000Z.xlsx", "ycm-onboard-apply-20200101T000000Z-3.xlsx",
		"ycm-onboard-apply-20200101T000000Z.csv", "ycm-onboard-apply-20260304T020000Z-2.xlsx",
		"ycm-onboard-apply-20260304T020000Z.xlsx", "ycm-onboard-custom.xlsx", "ycm-onboard-export-20200101T000000Z.xlsx",
		"ycm-onboard-plan-20200101T000000Z.xlsx", "ycm-onboard-template.xlsx", "~$ycm-onboard-apply-20200101T000000Z.xlsx"}
	if d := cmp.Diff(wantLeft, left); d != "" {
		t.Errorf("left (-want +got):\n%s", d)
	}

	// The run's own report is kept even when its clock was behind the others'.
	own := filepath.Join(dir, "ycm-onboard-apply-20250101T000000Z.xlsx")
	write(filepath.Base(own), t0)
	if removed, err := PruneReports(dir, 2, own); err != nil || len(removed) != 0 {
		t.Errorf("prune with the own report protected removed %v, %v", removed, err)
	}
	if removed, err := PruneReports(dir, 2); err != nil || len(removed) != 1 || removed[0] != own {
		t.Errorf("prune without protection removed %v, %v; want the oldest, %s", removed, err, own)
	}

	// Within the limit: nothing to do.
	if removed, err := PruneReports(dir, 2); err != nil || len(removed) != 0 {
		t.Errorf("second prune: %v, %v", removed, err)
	}
	if _, err := PruneReports(dir, 0); err == nil || !strings.Contains(err.Error(), "keep at least 1") {
		t.Errorf("keep 0: %v", err)
	}
	if _, err := PruneReports(filepath.Join(dir, "missing"), 1); err == nil {
		t.Error("a missing directory gave no error")
	}
}

package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestWriteNewNumbersAfterTheHighest: a default name that is taken gets the number
// after the highest one there, so a report pruned since never lends its name to a
// newer run (status would show two runs with one report).
func TestWriteNewNumbersAfterTheHighest(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ycm-onboard-apply-20260304T050607Z.xlsx")
	write := func() string {
		t.Helper()
		p, err := writeNew(path, numberTaken, func(w io.Writer) error { _, err := io.WriteString(w, "report"); return err })
		if err != nil {
			t.Fatal(err)
		}
		return filepath.Base(p)
	}
	for _, want := range []string{"ycm-onboard-apply-20260304T050607Z.xlsx", "ycm-onboard-apply-20260304T050607Z-2.xlsx",
		"ycm-onboard-apply-20260304T050607Z-3.xlsx"} {
		if got := write(); got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	}
	// Pruning took the oldest two.
	for _, name := range []string{"ycm-onboard-apply-20260304T050607Z.xlsx", "ycm-onboard-apply-20260304T050607Z-2.xlsx"} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if got := write(); got != "ycm-onboard-apply-20260304T050607Z-4.xlsx" {
		t.Errorf("after pruning got %s, want -4", got)
	}
	// Names with pattern characters are taken literally.
	odd := filepath.Join(dir, "[a]*?.xlsx")
	for _, want := range []string{"[a]*?.xlsx", "[a]*?-2.xlsx"} {
		p, err := writeNew(odd, numberTaken, func(w io.Writer) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(p) != want {
			t.Errorf("got %s, want %s", filepath.Base(p), want)
		}
	}
}

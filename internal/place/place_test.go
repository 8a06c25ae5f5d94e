package place

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestWriteNewNumbersAfterTheHighest: a default name that is taken gets the number
// after the highest one there, so a report pruned since never lends its name to a
// newer run (status would show two runs with one report).
func TestWriteNumbersAfterTheHighest(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ycm-onboard-apply-20260304T050607Z.xlsx")
	write := func() string {
		t.Helper()
		p, err := Write(path, Number, func(w io.Writer) error { _, err := io.WriteString(w, "report"); return err })
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
	// Names with pattern characters are taken literally: unescaped, "[a]" would match
	// only "a" and the freed -2 would be reused.
	odd := filepath.Join(t.TempDir(), "[a]*?.xlsx")
	var got []string
	for range 3 {
		p, err := Write(odd, Number, func(w io.Writer) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, filepath.Base(p))
	}
	if err := os.Remove(filepath.Join(filepath.Dir(odd), "[a]*?-2.xlsx")); err != nil {
		t.Fatal(err)
	}
	p, err := Write(odd, Number, func(w io.Writer) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, filepath.Base(p))
	if want := []string{"[a]*?.xlsx", "[a]*?-2.xlsx", "[a]*?-3.xlsx", "[a]*?-4.xlsx"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestWriteUnderAWindowsLayout: reports and their numbered names land whole in a
// directory named as on Windows (drive letter, spaces, accents, backslashes), which
// Linux allows in names.
func TestWriteUnderAWindowsLayout(t *testing.T) {
	dir := filepath.Join(t.TempDir(), `C:\Users\Zoë Müller (Acme)\Documents`)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "ycm-onboard-apply-20261130T221411Z.xlsx")
	var got []string
	for range 2 {
		p, err := Write(path, Number, func(w io.Writer) error { _, err := io.WriteString(w, "report"); return err })
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, filepath.Base(p))
		if b, err := os.ReadFile(p); err != nil || string(b) != "report" {
			t.Errorf("%s holds %q, %v", p, b, err)
		}
	}
	if want := []string{"ycm-onboard-apply-20261130T221411Z.xlsx", "ycm-onboard-apply-20261130T221411Z-2.xlsx"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

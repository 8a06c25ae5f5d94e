package importer

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestTempDir: the folder is private, a leftover from a killed run is removed by the
// next read of a workbook, a fresh one (another run's) is kept, and a link in the
// folder's place is refused, not followed.
func TestTempDir(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix permissions and links")
	}
	t.Setenv("TMPDIR", t.TempDir())
	dir, err := TempDir()
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(dir) != os.TempDir() || !strings.HasPrefix(filepath.Base(dir), "ycm-onboard-tmp-") {
		t.Errorf("TempDir() = %s", dir)
	}
	fi, err := os.Lstat(dir)
	if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Fatalf("%s: %v %v", dir, fi.Mode(), err)
	}

	// Left by a run killed half an hour ago, by a run going on now, and not excelize's.
	stale := filepath.Join(dir, "excelize-123456")
	fresh := filepath.Join(dir, "excelize-654321")
	other := filepath.Join(dir, "notes.txt")
	for _, p := range []string{stale, fresh, other} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-30 * time.Minute)
	for _, p := range []string{stale, other} {
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	path := writeXLSX(t, "team.xlsx", sheet{"Colleagues", [][]any{{"Email", "First Name", "Permissions"}, {"a@x.example", "A", "Sales"}}})
	if d, ps := Read([]string{path}, Options{}); len(d.Colleagues) != 1 || HasErrors(ps) {
		t.Fatalf("%d colleagues:\n%s", len(d.Colleagues), problemsText(ps))
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the stale leftover is still there (%v)", err)
	}
	for _, p := range []string{fresh, other} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s was removed: %v", filepath.Base(p), err)
		}
	}

	// Loosened by hand: made private again.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := TempDir(); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("mode %v", fi.Mode().Perm())
	}

	// A link in its place, as another user could plant before the first run.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	target := t.TempDir()
	if err := os.Symlink(target, dir); err != nil {
		t.Fatal(err)
	}
	if _, err := TempDir(); err == nil || !strings.Contains(err.Error(), "is a link") {
		t.Errorf("TempDir() with a link in its place: %v", err)
	}
	_, ps := Read([]string{path}, Options{})
	if _, ok := findProblem(ps, "is a link"); !ok || !HasErrors(ps) {
		t.Errorf("reading with a link in its place:\n%s", problemsText(ps))
	}
	if entries, _ := os.ReadDir(target); len(entries) != 0 {
		t.Errorf("the link was followed: %d files in its target", len(entries))
	}
}

// TestBigSheetTempFileGoesToTempDir: excelize keeps a big sheet in a temporary file;
// it is made in the private folder and removed at the end of the read.
func TestBigSheetTempFileGoesToTempDir(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	path := bigXLSX(t, 20_000) // a sheet of some 3 MB, past the 1 MiB kept in memory
	dir, err := TempDir()
	if err != nil {
		t.Fatal(err)
	}
	seen := false
	ctx := &watchCtx{Context: t.Context(), look: func() {
		if m, _ := filepath.Glob(filepath.Join(dir, "excelize-*")); len(m) > 0 {
			seen = true
		}
	}}
	d, ps := Read([]string{path}, Options{Ctx: ctx})
	if len(d.Colleagues) != 20_000 || HasErrors(ps) {
		t.Fatalf("%d colleagues:\n%s", len(d.Colleagues), problemsText(ps[:min(len(ps), 5)]))
	}
	if !seen {
		t.Error("no excelize temporary file was seen in the private folder during the read")
	}
	if m, _ := filepath.Glob(filepath.Join(tmp, "excelize-*")); len(m) > 0 {
		t.Errorf("temporary files outside the private folder: %v", m)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "excelize-*")); len(m) > 0 {
		t.Errorf("temporary files left after the read: %v", m)
	}
}

// watchCtx calls look whenever the importer looks at the context.
type watchCtx struct {
	context.Context
	look func()
}

func (w *watchCtx) Err() error { w.look(); return w.Context.Err() }

// TestNoTemporaryFolder: a container built from scratch has no /tmp. Reading a
// workbook there says so and how to fix it, not "remove that link".
func TestNoTemporaryFolder(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("TMPDIR is Unix's")
	}
	path := bigXLSX(t, 3) // written before TMPDIR goes missing
	missing := filepath.Join(t.TempDir(), "no-such-tmp")
	t.Setenv("TMPDIR", missing)
	if _, err := TempDir(); err == nil || !strings.Contains(err.Error(), missing+" does not exist") {
		t.Errorf("TempDir() with TMPDIR missing: %v", err)
	}
	_, ps := Read([]string{path}, Options{})
	if _, ok := findProblem(ps, missing+" does not exist", "set TMPDIR to a folder this user can write", "mount one at /tmp"); !ok || !HasErrors(ps) {
		t.Errorf("reading with TMPDIR missing:\n%s", problemsText(ps))
	}
	if _, ok := findProblem(ps, "remove that link"); ok {
		t.Errorf("the fix speaks of a link:\n%s", problemsText(ps))
	}
}

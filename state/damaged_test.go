package state

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestHistoryIsNeverSilentlyReplaced: only an absent database starts a new history; an
// empty or damaged one is refused with the command that moves it aside.
func TestHistoryIsNeverSilentlyReplaced(t *testing.T) {
	for name, content := range map[string][]byte{
		"empty":       {},
		"not sqlite":  []byte("this is a spreadsheet, not a database\n"),
		"cut in half": nil, // filled below: the first half of a real database
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, DBName)
			if content == nil {
				src := t.TempDir()
				s, err := Open(src, time.Now)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := s.BeginRun(t.Context(), RunInfo{Mode: "apply", Started: time.Now()}); err != nil {
					t.Fatal(err)
				}
				s.Close()
				whole, err := os.ReadFile(filepath.Join(src, DBName))
				if err != nil {
					t.Fatal(err)
				}
				content = append(whole[:len(whole)/2:len(whole)/2], make([]byte, 512)...)
				for i := 100; i < 600 && i < len(content); i++ {
					content[i] ^= 0xff // the header's page counts and schema pages, garbled
				}
			}
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Open(dir, time.Now)
			if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "mv "+path+" "+path+".damaged") {
				t.Fatalf("got %v, want ErrDamaged with the command that moves it aside", err)
			}
			if got, _ := os.ReadFile(path); len(got) != len(content) {
				t.Errorf("the damaged history was changed: %d bytes, was %d", len(got), len(content))
			}
		})
	}
}

// TestHistoryIsPrivate: the database and its WAL are 0600, also in a directory that
// already existed and for a database made 0644 by an earlier version.
func TestHistoryIsPrivate(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.BeginRun(t.Context(), RunInfo{Mode: "apply", Started: time.Now()}); err != nil {
		t.Fatal(err)
	}
	check := func() {
		t.Helper()
		for _, p := range []string{DBName, DBName + "-wal"} {
			fi, err := os.Stat(filepath.Join(dir, p))
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s is %v, want -rw-------", p, fi.Mode().Perm())
			}
		}
	}
	check()
	s.Close()
	if err := os.Chmod(filepath.Join(dir, DBName), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check()
}

package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// samePath reports whether two paths name the same file: the same file on disk when
// both exist, else the same absolute path.
func samePath(a, b string) bool {
	ia, erra := os.Stat(a)
	ib, errb := os.Stat(b)
	if erra == nil && errb == nil {
		return os.SameFile(ia, ib)
	}
	aa, erra := filepath.Abs(a)
	ab, errb := filepath.Abs(b)
	return erra == nil && errb == nil && aa == ab
}

// namedPath is a path and what the command line calls it.
type namedPath struct {
	what, path string
}

// checkOutputs refuses an output that would replace an input or another output.
func checkOutputs(inputs, outputs []namedPath) error {
	for i, out := range outputs {
		if out.path == "" {
			continue
		}
		for _, in := range inputs {
			if in.path != "" && samePath(out.path, in.path) {
				return exitf(exitUsage, fmt.Sprintf("%s %s is the %s: writing it would replace the input; choose another path",
					out.what, out.path, in.what))
			}
		}
		for _, other := range outputs[:i] {
			if other.path != "" && samePath(out.path, other.path) {
				return exitf(exitUsage, fmt.Sprintf("%s and %s are the same file %s: choose two paths", other.what, out.what, out.path))
			}
		}
	}
	return nil
}

// refuseExisting refuses to replace a file the user may have worked on, unless forced.
func refuseExisting(path string, force bool) error {
	if force {
		return nil
	}
	if _, err := os.Lstat(path); err == nil {
		return exitf(exitUsage, fmt.Sprintf("%s already exists and may hold someone's work: choose another --out, or pass --force to replace it", path))
	}
	return nil
}

// numbered is path with -n before its extension (n > 1), so that runs in the same
// second get names of their own: report.xlsx, report-2.xlsx, report-3.xlsx.
func numbered(path string, n int) string {
	if n <= 1 {
		return path
	}
	ext := filepath.Ext(path)
	return fmt.Sprintf("%s-%d%s", strings.TrimSuffix(path, ext), n, ext)
}

// maxNumbered bounds the search for a free name.
const maxNumbered = 1000

// reserveNew creates an empty file at path, or at path-2, path-3... when taken, and
// returns the name it got. Creating it exclusively both claims the name for this run
// and proves the directory is writable before anything is done.
func reserveNew(path string) (string, error) {
	for n := 1; n <= maxNumbered; n++ {
		p := numbered(path, n)
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		return p, f.Close()
	}
	return "", fmt.Errorf("%s and %d numbered names after it are taken", path, maxNumbered)
}

// linkNew puts the finished temporary file tmp at path without replacing a file that
// is there: a hard link fails when the name is taken, where a rename would not.
func linkNew(tmp, path string) error {
	err := os.Link(tmp, path)
	if err == nil || errors.Is(err, fs.ErrExist) {
		return err
	}
	// No hard links on this file system: check, then rename.
	if _, serr := os.Lstat(path); serr == nil {
		return fs.ErrExist
	}
	return os.Rename(tmp, path)
}

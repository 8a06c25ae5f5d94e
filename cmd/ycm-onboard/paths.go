package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
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
		return existsErr(path)
	}
	return nil
}

func existsErr(path string) error {
	return exitf(exitUsage, fmt.Sprintf("%s already exists and may hold someone's work: choose another --out, or pass --force to replace it", path))
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

// onTaken says what writeNew does when the name it was given is taken.
type onTaken int

const (
	refuseTaken  onTaken = iota // fail with fs.ErrExist: the file there may be someone's work
	replaceTaken                // replace it (--force, or a --report path named on purpose)
	numberTaken                 // take path-2, path-3...: a default name, this run's own
)

// writeNew writes a file through a temporary one in the same directory, synced and only
// then put in place, and returns the path it got. The final name is chosen at that
// moment, so a run that fails, or is killed, before never leaves an empty or half-written
// file under it (a kill while writing leaves at most the hidden temporary file).
func writeNew(path string, taken onTaken, write func(io.Writer) error) (string, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".ycm-onboard-*.tmp")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name()) // after a hard link, the name that is left over
	err = write(tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	switch taken {
	case replaceTaken:
		if err := os.Rename(tmp.Name(), path); err != nil {
			return "", err
		}
		return path, nil
	case numberTaken:
		// After the highest number there, not in a gap: a report pruned since must not
		// lend its name to a newer run.
		first := highestNumbered(path) + 1
		for n := first; n < first+maxNumbered; n++ {
			p := numbered(path, n)
			err := linkNew(tmp.Name(), p)
			if err == nil {
				return p, nil
			}
			if !errors.Is(err, fs.ErrExist) {
				return "", err
			}
		}
		return "", fmt.Errorf("%s and %d numbered names after it are taken", path, maxNumbered)
	}
	if err := linkNew(tmp.Name(), path); err != nil {
		return "", err
	}
	return path, nil
}

// highestNumbered is the highest n of the numbered(path, n) names taken, 0 for none.
func highestNumbered(path string) int {
	ext := filepath.Ext(path)
	stem := strings.TrimSuffix(path, ext)
	high := 0
	if _, err := os.Lstat(path); err == nil {
		high = 1
	}
	matches, _ := filepath.Glob(escapeGlob(stem) + "-*" + escapeGlob(ext))
	for _, m := range matches {
		if n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(m, stem+"-"), ext)); err == nil && n > high {
			high = n
		}
	}
	return high
}

// escapeGlob quotes the characters filepath.Match reads as a pattern.
func escapeGlob(s string) string {
	return strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`).Replace(s)
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

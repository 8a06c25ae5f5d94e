// Package place puts a file in place whole: written to a temporary name beside it,
// synced, then linked or renamed to its name, so no reader ever sees half a file and a
// run killed while writing leaves at most a hidden temporary file. Reports, saved
// plans, status exports, templates and exports are all written through it.
package place

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

// Taken says what Write does when the name it was given is taken.
type Taken int

const (
	Refuse  Taken = iota // fail with fs.ErrExist: the file there may be someone's work
	Replace              // replace it (--force, or a --report path named on purpose)
	Number               // take path-2, path-3...: a default name, this run's own
)

// Write writes a file through a temporary one in the same directory, synced and only
// then put in place, and returns the path it got. The final name is chosen at that
// moment, so a run that fails, or is killed, before never leaves an empty or half-written
// file under it (a kill while writing leaves at most the hidden temporary file).
func Write(path string, taken Taken, write func(io.Writer) error) (string, error) {
	return WritePerm(path, taken, 0o600, write)
}

// WritePerm is Write for a file others must read, such as a node_exporter textfile
// (0644): the temporary file gets perm before it is put in place, so the name never
// holds a file the reader may not open.
func WritePerm(path string, taken Taken, perm fs.FileMode, write func(io.Writer) error) (string, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".ycm-onboard-*.tmp")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name()) // after a hard link, the name that is left over

	if perm != 0o600 { // CreateTemp makes it 0600
		err = tmp.Chmod(perm)
	}
	if err == nil {
		err = write(tmp)
	}
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
	case Replace:
		if err := os.Rename(tmp.Name(), path); err != nil {
			return "", err
		}
		return path, nil
	case Number:
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

package importer

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// staleAfter is when a leftover temporary file in TempDir is removed: a run reads a
// workbook in seconds, so a file not written for ten minutes belongs to a run that
// was killed (an out-of-memory kill leaves one of up to a GiB).
const staleAfter = 10 * time.Minute

// TempDir returns the private folder for this program's temporary files,
// ycm-onboard-tmp-<uid> under os.TempDir(), made with mode 0700 if it does not exist.
// A folder of that name that is a link, not a folder, or not ours is refused rather
// than used: another user could read the files or redirect them.
func TempDir() (string, error) {
	name := "ycm-onboard-tmp"
	if uid := os.Getuid(); uid >= 0 { // -1 on Windows, whose temporary folder is per user
		name += "-" + strconv.Itoa(uid)
	}
	parent := os.TempDir()
	dir := filepath.Join(parent, name)
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		if _, perr := os.Stat(parent); errors.Is(perr, fs.ErrNotExist) {
			// A container image built from scratch has no /tmp.
			return "", &TempDirError{Msg: fmt.Sprintf("the temporary folder %s does not exist", parent), Fix: writableTMPDIR}
		}
		return "", &TempDirError{Msg: fmt.Sprintf("cannot make the temporary folder: %v", err), Fix: writableTMPDIR}
	}
	fi, err := os.Lstat(dir)
	switch {
	case err != nil:
		return "", &TempDirError{Msg: fmt.Sprintf("cannot check the temporary folder: %v", err), Fix: setTMPDIR}
	case fi.Mode()&fs.ModeSymlink != 0:
		return "", &TempDirError{Msg: fmt.Sprintf("the temporary folder %s is a link, which is not followed", dir), Fix: removeIt}
	case !fi.IsDir():
		return "", &TempDirError{Msg: fmt.Sprintf("the temporary folder %s is not a folder", dir), Fix: removeIt}
	case !ownedByMe(fi):
		return "", &TempDirError{Msg: fmt.Sprintf("the temporary folder %s belongs to another user", dir), Fix: removeIt}
	}
	if fi.Mode().Perm() != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return "", &TempDirError{Msg: fmt.Sprintf("cannot make the temporary folder private: %v", err), Fix: setTMPDIR}
		}
	}
	return dir, nil
}

// TempDirError says why TempDir refused, and what to do.
type TempDirError struct{ Msg, Fix string }

func (e *TempDirError) Error() string { return e.Msg }

const (
	writableTMPDIR = "set TMPDIR to a folder this user can write (in a container, mount one at /tmp)"
	setTMPDIR      = "set TMPDIR to a folder of your own"
	removeIt       = "remove that link or file (or have its owner remove it), or set TMPDIR to a folder of your own"
)

// removeStale removes the temporary files excelize left in dir that were last
// written more than staleAfter ago. A file another run is using stays: it is fresh,
// or, if the removal races with it, still open and readable on Unix (Windows refuses
// to remove an open file). Errors are ignored: a leftover is only wasted space.
func removeStale(dir string, now time.Time) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "excelize-") || !e.Type().IsRegular() {
			continue
		}
		if fi, err := e.Info(); err == nil && now.Sub(fi.ModTime()) > staleAfter {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

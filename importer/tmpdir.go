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
	dir := filepath.Join(os.TempDir(), name)
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("make the temporary folder: %w", err)
	}
	fi, err := os.Lstat(dir)
	switch {
	case err != nil:
		return "", fmt.Errorf("check the temporary folder: %w", err)
	case fi.Mode()&fs.ModeSymlink != 0:
		return "", fmt.Errorf("the temporary folder %s is a link, which is not followed", dir)
	case !fi.IsDir():
		return "", fmt.Errorf("the temporary folder %s is not a folder", dir)
	case !ownedByMe(fi):
		return "", fmt.Errorf("the temporary folder %s belongs to another user", dir)
	}
	if fi.Mode().Perm() != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return "", fmt.Errorf("make the temporary folder private: %w", err)
		}
	}
	return dir, nil
}

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

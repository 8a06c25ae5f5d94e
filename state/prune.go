package state

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"time"
)

// reportName matches the reports the job writes: ycm-onboard-<mode>-<UTC time>.xlsx.
var reportName = regexp.MustCompile(`^ycm-onboard-.*?(\d{8}T\d{6}Z)?\.xlsx$`)

// PruneReports removes the oldest ycm-onboard-*.xlsx files in dir beyond the newest
// keep, ordered by the UTC time in their names (files without one by modification
// time), and returns the paths removed. Other files, directories and symbolic links
// are never touched. keep < 1 is refused.
func PruneReports(dir string, keep int) (removed []string, err error) {
	if keep < 1 {
		return nil, fmt.Errorf("keep_reports %d: keep at least 1", keep)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("prune reports: %w", err)
	}
	type report struct {
		path string
		when time.Time // from the name, else the mtime
		mod  time.Time
	}
	var reports []report
	for _, e := range entries {
		m := reportName.FindStringSubmatch(e.Name())
		if m == nil || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // gone since ReadDir
		}
		r := report{path: filepath.Join(dir, e.Name()), when: info.ModTime(), mod: info.ModTime()}
		if t, err := time.Parse("20060102T150405Z", m[1]); err == nil {
			r.when = t
		}
		reports = append(reports, r)
	}
	if len(reports) <= keep {
		return nil, nil
	}
	// Newest first.
	slices.SortFunc(reports, func(a, b report) int {
		return cmp.Or(b.when.Compare(a.when), b.mod.Compare(a.mod), cmp.Compare(b.path, a.path))
	})
	var errs []error
	for _, r := range reports[keep:] {
		if err := os.Remove(r.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("prune report: %w", err))
			continue
		}
		removed = append(removed, r.path)
	}
	return removed, errors.Join(errs...)
}

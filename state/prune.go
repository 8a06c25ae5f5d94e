package state

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"time"
)

// reportName matches the reports the job writes and nothing else:
// ycm-onboard-<plan|apply>-<UTC time>[-N].xlsx, -N telling apart runs in one second.
// A template, an export or any workbook a person named is never a report.
var reportName = regexp.MustCompile(`^ycm-onboard-(?:plan|apply)-(\d{8}T\d{6}Z)(?:-(\d{1,6}))?\.xlsx$`)

// PruneReports removes the oldest reports in dir beyond the newest keep, ordered by
// the UTC time in their names (then their -N), and returns the paths removed. Other
// files, directories and symbolic links are never touched, nor the paths in protect
// (the run's own report). keep < 1 is refused.
func PruneReports(dir string, keep int, protect ...string) (removed []string, err error) {
	if keep < 1 {
		return nil, fmt.Errorf("keep_reports %d: keep at least 1", keep)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("prune reports: %w", err)
	}
	type report struct {
		path string
		when time.Time
		n    int
	}
	var reports []report
	for _, e := range entries {
		m := reportName.FindStringSubmatch(e.Name())
		if m == nil || !e.Type().IsRegular() {
			continue
		}
		when, err := time.Parse("20060102T150405Z", m[1])
		if err != nil {
			continue // not a real time: not one of ours
		}
		n, _ := strconv.Atoi(m[2]) // 0 when absent
		reports = append(reports, report{path: filepath.Join(dir, e.Name()), when: when, n: n})
	}
	if len(reports) <= keep {
		return nil, nil
	}
	// Newest first.
	slices.SortFunc(reports, func(a, b report) int {
		return cmp.Or(b.when.Compare(a.when), cmp.Compare(b.n, a.n), cmp.Compare(b.path, a.path))
	})
	var errs []error
	for _, r := range reports[keep:] {
		if slices.ContainsFunc(protect, func(p string) bool { return sameFile(p, r.path) }) {
			continue
		}
		if err := os.Remove(r.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("prune report: %w", err))
			continue
		}
		removed = append(removed, r.path)
	}
	return removed, errors.Join(errs...)
}

// sameFile reports whether two paths name one file.
func sameFile(a, b string) bool {
	ia, err := os.Stat(a)
	if err != nil {
		return false
	}
	ib, err := os.Stat(b)
	return err == nil && os.SameFile(ia, ib)
}

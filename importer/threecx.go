package importer

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
)

// threeCXAsInput is the problem for a 3CX export passed as a normal input file.
func threeCXAsInput(path string, src Source) Problem {
	return Problem{Source: src, Severity: Error,
		Message: fmt.Sprintf("%s is a 3CX user export, not a table of colleagues or cloud PBXs", filepath.Base(path)),
		Fix:     fmt.Sprintf("to size a cloud PBX from it, pass it as --3cx %s --pbx NAME (and optionally --headroom 10%%)", path)}
}

// countThreeCX counts the user rows of a 3CX export after its header.
func countThreeCX(path string, rr *rowReader, header []string, opts *Options) (int, []Problem) {
	users := 0
	for {
		rec, _, err := rr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, []Problem{csvProblem(path, rr, err)}
		}
		if !allBlank(rec) {
			users++
		}
		if users > opts.MaxRows {
			return 0, []Problem{fileProblem(path, fmt.Sprintf("the 3CX export has more than %d rows, the limit", opts.MaxRows), "check that this is the right file, or raise the row limit")}
		}
	}
	if len(rr.quotes) > 0 {
		q := rr.quotes[0]
		return 0, []Problem{csvProblem(path, rr, &unclosedQuoteError{row: q.row, col: q.col})}
	}
	return users, nil
}

// readThreeCX plans a PBX's Extensions from the number of users in a 3CX export.
func readThreeCX(s ThreeCXSizing, opts *Options, d *Desired) []Problem {
	base := filepath.Base(s.Path)
	switch {
	case s.PBX == "":
		return []Problem{fileProblem(s.Path, fmt.Sprintf("the 3CX export %s names no PBX to size", base), "pass --pbx NAME after --3cx FILE")}
	case s.HeadroomPercent < 0 || s.HeadroomPercent > 1000 || math.IsNaN(s.HeadroomPercent):
		return []Problem{fileProblem(s.Path, fmt.Sprintf("headroom %v%% for the 3CX export %s is not between 0%% and 1000%%", s.HeadroomPercent, base), "pass a headroom such as --headroom 10%")}
	}
	var users int
	ps := readSized(s.Path, opts, d, &users)
	if HasErrors(ps) {
		return ps
	}
	planned := int(math.Ceil(float64(users)*(100+s.HeadroomPercent)/100 - 1e-9))
	deriv := fmt.Sprintf("%d %s in %s + %s%% = %d", users, plural(users, "user", "users"), base, strconv.FormatFloat(s.HeadroomPercent, 'f', -1, 64), planned)
	ext := min(max(planned, minExtensions), maxExtensions)
	if ext != planned {
		deriv += fmt.Sprintf(", set to %d (a cloud PBX has 5 to 500 extensions)", ext)
		ps = append(ps, Problem{Source: Source{File: base}, Severity: Warning,
			Message: fmt.Sprintf("PBX %s: %s", s.PBX, deriv),
			Fix:     "check that this is the right export; a cloud PBX holds 5 to 500 extensions"})
	}
	d.Instances = append(d.Instances, Instance{Source: Source{File: base}, Ref: s.PBX, Extensions: ext, Derivation: deriv})
	return ps
}

// readSized checks a 3CX export file and counts its users.
func readSized(path string, opts *Options, d *Desired, users *int) []Problem {
	return readAny(path, opts, d, kindThreeCX, users)
}

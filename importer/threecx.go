package importer

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ycm-onboard/ycm-onboard/internal/words"
)

// threeCXAsInput is the problem for a 3CX export passed as a normal input file.
func threeCXAsInput(path string, src Source) Problem {
	return Problem{Source: src, Severity: Error,
		Message: fmt.Sprintf("%s is a 3CX user export, not a table of colleagues or cloud PBXs", filepath.Base(path)),
		Fix:     fmt.Sprintf("to size a cloud PBX from it, pass it as --3cx %s --pbx NAME (and optionally --headroom 10%%)", path)}
}

// threeCXCount counts the users of a 3CX export: its distinct extension numbers.
// A row repeating a number, or without one, is no extra user.
type threeCXCount struct {
	numbers    map[string]bool
	rows       int // non-blank rows after the header
	duplicates int // rows whose Number an earlier row has
	noNumber   int // rows with an empty Number
}

// users is how many users the export holds.
func (c *threeCXCount) users() int { return len(c.numbers) }

// add counts one non-blank row; col is the Number column.
func (c *threeCXCount) add(cells []string, col int) {
	c.rows++
	n := ""
	if col >= 0 && col < len(cells) {
		n = cleanText(cells[col])
	}
	switch {
	case n == "":
		c.noNumber++
	case c.numbers[n]:
		c.duplicates++
	default:
		if c.numbers == nil {
			c.numbers = map[string]bool{}
		}
		c.numbers[n] = true
	}
}

// dropped says which rows were not counted, or "".
func (c *threeCXCount) dropped() string {
	var parts []string
	if c.duplicates > 0 {
		parts = append(parts, fmt.Sprintf("%d %s an extension number", c.duplicates, plural(c.duplicates, "repeats", "repeat")))
	}
	if c.noNumber > 0 {
		parts = append(parts, fmt.Sprintf("%d %s no Number", c.noNumber, plural(c.noNumber, "has", "have")))
	}
	if len(parts) == 0 {
		return ""
	}
	return fmt.Sprintf("%d of %d rows not counted: %s", c.duplicates+c.noNumber, c.rows, strings.Join(parts, ", "))
}

// threeCXNumberColumn is the index of a 3CX export's Number column, or -1.
func threeCXNumberColumn(header []string) int {
	for i, h := range header {
		if normHeader(h) == "number" {
			return i
		}
	}
	return -1
}

// countThreeCX counts the users of a 3CX export after its header.
func countThreeCX(path string, rr *rowReader, header []string, opts *Options, cx *threeCXCount) []Problem {
	col := threeCXNumberColumn(header)
	for {
		rec, _, err := rr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return []Problem{csvProblem(path, rr, err)}
		}
		if !allBlank(rec) {
			cx.add(rec, col)
		}
		if cx.rows > opts.MaxRows {
			return []Problem{fileProblem(path, fmt.Sprintf("the 3CX export has more than %d rows, the limit", opts.MaxRows), "check that this is the right file, or raise the row limit")}
		}
	}
	if len(rr.quotes) > 0 {
		q := rr.quotes[0]
		return []Problem{csvProblem(path, rr, &unclosedQuoteError{row: q.row, col: q.col})}
	}
	return nil
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
	var cx threeCXCount
	ps := readSized(s.Path, opts, d, &cx)
	if HasErrors(ps) {
		return ps
	}
	users := cx.users()
	src := Source{File: base}
	if users == 0 {
		return append(ps, Problem{Source: src, Severity: Error,
			Message: fmt.Sprintf("the 3CX export %s holds no user with an extension Number (%s read): PBX %s is not sized from it", base, words.Count(cx.rows, "row"), s.PBX),
			Fix:     "export the users from the 3CX management console again (Users > Export), or size the PBX in an Instances sheet"})
	}
	planned := int(math.Ceil(float64(users)*(100+s.HeadroomPercent)/100 - 1e-9))
	deriv := fmt.Sprintf("%s in %s", words.Count(users, "user"), base)
	if drop := cx.dropped(); drop != "" {
		deriv += fmt.Sprintf(" (%s)", drop)
		ps = append(ps, Problem{Source: src, Severity: Warning,
			Message: fmt.Sprintf("PBX %s is sized from %s of %s: %s", s.PBX, words.Count(users, "user"), base, drop),
			Fix:     "each 3CX user has one extension number; check that this is the right export if the count looks wrong"})
	}
	deriv += fmt.Sprintf(" + %s%% = %d", strconv.FormatFloat(s.HeadroomPercent, 'f', -1, 64), planned)
	if users > maxExtensions {
		// The headroom can be trimmed; the users themselves cannot.
		return append(ps, Problem{Source: src, Severity: Error,
			Message: fmt.Sprintf("PBX %s: %s, and a cloud PBX holds at most %d extensions: PBX %s is not sized from it", s.PBX, deriv, maxExtensions, s.PBX),
			Fix:     "split the 3CX users over two or more PBXs and pass each part with its own --pbx, or size the PBX in an Instances sheet"})
	}
	ext := min(max(planned, minExtensions), maxExtensions)
	if ext != planned {
		bound := "the fewest"
		if ext == maxExtensions {
			bound = "the most"
		}
		deriv += fmt.Sprintf(", set to %d, %s a cloud PBX can have", ext, bound)
		ps = append(ps, Problem{Source: src, Severity: Warning,
			Message: fmt.Sprintf("PBX %s: %s", s.PBX, deriv),
			Fix:     "check that this is the right export and headroom; a cloud PBX holds 5 to 500 extensions"})
	}
	d.Instances = append(d.Instances, Instance{Source: src, Ref: s.PBX, Extensions: ext, Derivation: deriv})
	return ps
}

// readSized checks a 3CX export file and counts its users.
func readSized(path string, opts *Options, d *Desired, cx *threeCXCount) []Problem {
	return readAny(path, opts, d, kindThreeCX, cx)
}

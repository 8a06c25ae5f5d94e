package importer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"
)

// sheet is the content of one worksheet for a test workbook: rows of cell values.
type sheet struct {
	name string
	rows [][]any
}

// writeXLSX makes a workbook with excelize in a temporary folder.
func writeXLSX(t testing.TB, name string, sheets ...sheet) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, s := range sheets {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", s.name); err != nil {
				t.Fatal(err)
			}
		} else if _, err := f.NewSheet(s.name); err != nil {
			t.Fatal(err)
		}
		for r, row := range s.rows {
			for c, v := range row {
				if v == nil {
					continue
				}
				cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
				if err := f.SetCellValue(s.name, cell, v); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	path := filepath.Join(t.TempDir(), name)
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeFile writes bytes to a temporary file.
func writeFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// problemsText renders problems one a line, for failure messages.
func problemsText(ps []Problem) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.String())
		b.WriteString("\n")
	}
	return b.String()
}

// findProblem returns the first problem whose message contains all the parts.
func findProblem(ps []Problem, parts ...string) (Problem, bool) {
	for _, p := range ps {
		s := p.Message + " | " + p.Fix
		ok := true
		for _, part := range parts {
			if !strings.Contains(s, part) {
				ok = false
				break
			}
		}
		if ok {
			return p, true
		}
	}
	return Problem{}, false
}

func ptr[T any](v T) *T { return &v }

// colleagues makes colleagues from their fields.
func colleagues(fs ...ColleagueFields) []Colleague {
	out := make([]Colleague, len(fs))
	for i, f := range fs {
		out[i] = NewColleague(f)
	}
	return out
}

// byFields has cmp compare colleagues field by field, and show the fields that differ.
var byFields = cmp.Transformer("Fields", Colleague.Fields)

var colleagueHeader = []any{"Email", "First Name", "Last Name", "Permissions", "YCM Manager", "Owner", "Remark", "State"}

// onlyNothingToDo reports whether the problems are just the warning that the input
// has no rows, which an empty template or export rightly gets.
func onlyNothingToDo(ps []Problem) bool {
	return len(ps) == 1 && ps[0].Severity == Warning && strings.HasSuffix(ps[0].Message, "no rows: nothing to do")
}

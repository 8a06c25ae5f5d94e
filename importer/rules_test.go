package importer

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// wantProblem is a problem expected at a cell; Message must contain msg.
type wantProblem struct {
	row int
	col string
	sev Severity
	msg string
}

func checkProblems(t *testing.T, ps []Problem, want []wantProblem) {
	t.Helper()
	used := make([]bool, len(ps))
	for _, w := range want {
		found := false
		for i, p := range ps {
			if !used[i] && p.Source.Row == w.row && p.Column == w.col && p.Severity == w.sev && strings.Contains(p.Message, w.msg) {
				used[i], found = true, true
				break
			}
		}
		if !found {
			t.Errorf("missing %s at row %d column %s containing %q; got:\n%s", w.sev, w.row, w.col, w.msg, problemsText(ps))
		}
	}
	for i, p := range ps {
		if !used[i] {
			t.Errorf("unexpected problem: %s", p)
		}
	}
	for _, p := range ps {
		if p.Message == "" || p.Fix == "" || p.Source.File == "" {
			t.Errorf("problem lacks message, fix or file: %+v", p)
		}
	}
}

func TestColleagueRules(t *testing.T) {
	long := strings.Repeat("x", 64)
	tests := []struct {
		name     string
		row      []any // Email, First Name, Last Name, Permissions, YCM Manager, Owner, Remark, State
		want     []wantProblem
		accepted bool
	}{
		{"plain", []any{"a@example.com", "A", "B", "Sales", "", "", "", ""}, nil, true},
		{"nbsp and zero-width trimmed", []any{"\u200ba@example.com\u00a0", "A", "", "Sales", "", "", "", ""}, nil, true},
		{"empty email", []any{"", "A", "B", "Sales", "", "", "", ""}, []wantProblem{{2, "A", Error, "empty"}}, false},
		{"display name", []any{"Ann <a@example.com>", "A", "B", "Sales", "", "", "", ""}, []wantProblem{{2, "A", Error, "display name"}}, false},
		{"two @", []any{"a@b@example.com", "A", "B", "Sales", "", "", "", ""}, []wantProblem{{2, "A", Error, "more than one @"}}, false},
		{"no @", []any{"a.example.com", "A", "B", "Sales", "", "", "", ""}, []wantProblem{{2, "A", Error, "no @"}}, false},
		{"no dot in domain", []any{"a@localhost", "A", "B", "Sales", "", "", "", ""}, []wantProblem{{2, "A", Error, "no dot"}}, false},
		{"leading dot", []any{".leading@x.example", "A", "B", "Sales", "", "", "", ""}, []wantProblem{{2, "A", Error, "starts with a dot"}}, false},
		{"double dot", []any{"a..b@x.example", "A", "B", "Sales", "", "", "", ""}, []wantProblem{{2, "A", Error, "two dots in a row"}}, false},
		{"dot before @", []any{"trail.@x.example", "A", "B", "Sales", "", "", "", ""}, []wantProblem{{2, "A", Error, "dot just before the @"}}, false},
		{"inner space", []any{"a b@example.com", "A", "B", "Sales", "", "", "", ""}, []wantProblem{{2, "A", Error, "space"}}, false},
		{"no names", []any{"a@example.com", "", " ", "Sales", "", "", "", ""}, []wantProblem{{2, "B", Error, "both first name and last name are empty"}}, false},
		{"no names but absent", []any{"a@example.com", "", "", "", "", "", "", "absent"}, nil, true},
		{"long first name", []any{"a@example.com", long, "B", "Sales", "", "", "", ""}, []wantProblem{{2, "B", Error, "64 characters"}}, false},
		{"long last name", []any{"a@example.com", "A", long, "Sales", "", "", "", ""}, []wantProblem{{2, "C", Error, "64 characters"}}, false},
		{"63 chars fine", []any{"a@example.com", strings.Repeat("é", 63), "B", "Sales", "", "", "", ""}, nil, true},
		{"no permission", []any{"a@example.com", "A", "B", " ; ,", "", "", "", ""}, []wantProblem{{2, "D", Error, "no permission"}}, false},
		{"bad yes/no", []any{"a@example.com", "A", "B", "Sales", "maybe", "", "", ""}, []wantProblem{{2, "E", Error, "not a yes/no"}}, false},
		{"yes/no variants", []any{"a@example.com", "A", "B", "Sales", "X", "", "", ""}, nil, true},
		{"bad state", []any{"a@example.com", "A", "B", "Sales", "", "", "", "deleted"}, []wantProblem{{2, "H", Error, "neither present nor absent"}}, false},
		{"state case", []any{"a@example.com", "A", "B", "Sales", "", "", "", " Present "}, nil, true},
		{"several errors in one row", []any{"bad", "", "", "", "perhaps", "", "", "gone"}, []wantProblem{
			{2, "A", Error, "no @"}, {2, "H", Error, "neither present nor absent"}, {2, "E", Error, "yes/no"},
			{2, "B", Error, "both first name and last name"}, {2, "D", Error, "no permission"}}, false},
	}
	for _, tt := range tests {
		for _, format := range []string{"xlsx", "csv"} {
			t.Run(tt.name+"/"+format, func(t *testing.T) {
				var path string
				if format == "xlsx" {
					path = writeXLSX(t, "c.xlsx", sheet{"Colleagues", [][]any{colleagueHeader, tt.row}})
				} else {
					path = writeFile(t, "c.csv", []byte(csvLine(colleagueHeader)+csvLine(tt.row)))
				}
				d, ps := Read([]string{path}, Options{})
				checkProblems(t, ps, tt.want)
				if got := len(d.Colleagues) == 1; got != tt.accepted {
					t.Errorf("accepted = %v, want %v", got, tt.accepted)
				}
				if len(d.Colleagues)+len(d.RejectedColleagues) != 1 {
					t.Errorf("row lost: %d accepted, %d rejected", len(d.Colleagues), len(d.RejectedColleagues))
				}
			})
		}
	}
}

// csvLine renders values as one CSV line, quoting every field.
func csvLine(vals []any) string {
	var parts []string
	for _, v := range vals {
		s := ""
		if v != nil {
			s = fmt.Sprint(v)
		}
		parts = append(parts, `"`+strings.ReplaceAll(s, `"`, `""`)+`"`)
	}
	return strings.Join(parts, ",") + "\r\n"
}

func TestInstanceRules(t *testing.T) {
	date := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		row      []any // PBX, Extensions, Concurrent Calls
		want     []wantProblem
		accepted bool
		ext      int
	}{
		{"number", []any{"HQ", 60, 10}, nil, true, 60},
		{"float", []any{"HQ", 60.0, 10}, nil, true, 60},
		{"text with zero fraction", []any{"HQ", "60.0", "10"}, nil, true, 60},
		{"exponent", []any{"HQ", "6E+1", 10}, []wantProblem{{2, "B", Error, "not a whole number"}}, false, 0},
		{"words", []any{"HQ", "sixty", 10}, []wantProblem{{2, "B", Error, "not a whole number"}}, false, 0},
		{"fraction", []any{"HQ", 60.5, 10}, []wantProblem{{2, "B", Error, "not a whole number"}}, false, 0},
		{"negative", []any{"HQ", -60, 10}, []wantProblem{{2, "B", Error, "outside the range"}}, false, 0},
		{"too small", []any{"HQ", 4, 10}, []wantProblem{{2, "B", Error, "outside the range"}}, false, 0},
		{"too large", []any{"HQ", 501, 10}, []wantProblem{{2, "B", Error, "outside the range"}}, false, 0},
		{"bounds", []any{"HQ", 500, 1}, nil, true, 500},
		{"calls zero", []any{"HQ", 60, 0}, []wantProblem{{2, "C", Error, "not a positive"}}, false, 0},
		{"calls text", []any{"HQ", 60, "ten"}, []wantProblem{{2, "C", Error, "not a whole number"}}, false, 0},
		{"empty PBX", []any{" ", 60, 10}, []wantProblem{{2, "A", Error, "PBX is empty"}}, false, 0},
		{"nothing to change", []any{"HQ", nil, nil}, []wantProblem{{2, "", Warning, "nothing to change"}}, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeXLSX(t, "i.xlsx", sheet{"Instances", [][]any{{"PBX", "Extensions", "Concurrent Calls"}, tt.row}})
			d, ps := Read([]string{path}, Options{})
			checkProblems(t, ps, tt.want)
			if got := len(d.Instances) == 1; got != tt.accepted {
				t.Fatalf("accepted = %v, want %v", got, tt.accepted)
			}
			if tt.accepted && d.Instances[0].Extensions != tt.ext {
				t.Errorf("Extensions = %d, want %d", d.Instances[0].Extensions, tt.ext)
			}
		})
	}
	t.Run("date-formatted cell", func(t *testing.T) {
		path := writeXLSX(t, "i.xlsx", sheet{"Instances", [][]any{{"PBX", "Extensions", "Concurrent Calls"}, {"HQ", date, 10}}})
		d, ps := Read([]string{path}, Options{})
		checkProblems(t, ps, []wantProblem{{2, "B", Error, "is a date (2026-03-01)"}})
		if len(d.RejectedInstances) != 1 {
			t.Errorf("rejected = %d, want 1", len(d.RejectedInstances))
		}
	})
	t.Run("formula without value", func(t *testing.T) {
		path := writeXLSX(t, "i.xlsx", sheet{"Instances", [][]any{{"PBX", "Extensions", "Concurrent Calls"}, {"HQ", nil, 10}}})
		f, err := excelize.OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.SetCellFormula("Instances", "B2", "=10*6"); err != nil {
			t.Fatal(err)
		}
		if err := f.Save(); err != nil {
			t.Fatal(err)
		}
		f.Close()
		d, ps := Read([]string{path}, Options{})
		checkProblems(t, ps, []wantProblem{{2, "B", Error, "formula that has no calculated value"}})
		if len(d.RejectedInstances) != 1 {
			t.Errorf("rejected = %d, want 1", len(d.RejectedInstances))
		}
	})
}

// Only the first cell of merged cells holds the value: a row below it reads the cell
// as empty, and the problem says it is merged.
func TestMergedCells(t *testing.T) {
	path := writeXLSX(t, "m.xlsx", sheet{"Colleagues", [][]any{colleagueHeader,
		{"a@example.com", "A", "B", "Sales", "", "", "", ""},
		{"b@example.com", "B", "C", nil, "", "", "", ""},
		{"c@example.com", "C", "D", "", "", "", "", ""},
	}})
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.MergeCell("Colleagues", "D2", "D3"); err != nil {
		t.Fatal(err)
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	d, ps := Read([]string{path}, Options{})
	checkProblems(t, ps, []wantProblem{
		{3, "D", Error, "no permission given (the cell is part of the merged cells D2:D3, whose value is only in D2)"},
		{4, "D", Error, "no permission given"},
	})
	for _, p := range ps {
		if p.Source.Row == 3 && !strings.HasPrefix(p.Fix, "unmerge the cells") {
			t.Errorf("fix %q does not say to unmerge", p.Fix)
		}
		if p.Source.Row == 4 && strings.Contains(p.Message, "merged") {
			t.Errorf("row 4 is not merged: %s", p)
		}
	}
	if len(d.Colleagues) != 1 || d.Colleagues[0].Email() != "a@example.com" {
		t.Errorf("colleagues = %+v", d.Colleagues)
	}
}

// TestHiddenRows: rows a filter or a person hid are applied like the others, and the
// sheet says so once, naming them.
func TestHiddenRows(t *testing.T) {
	rows := [][]any{colleagueHeader}
	for i := range 9 {
		rows = append(rows, []any{fmt.Sprintf("p%d@example.com", i), "P", "Q", "Dashboard", "", "", "", ""})
	}
	path := writeXLSX(t, "h.xlsx", sheet{"Colleagues", rows})
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []int{3, 5, 6, 7, 8, 9, 10} {
		if err := f.SetRowVisible("Colleagues", r, false); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	d, ps := Read([]string{path}, Options{})
	checkProblems(t, ps, []wantProblem{
		{0, "", Warning, "7 rows are hidden (rows 3, 5, 6, 7, 8 and 2 more) in the sheet (a filter, or by hand): hidden rows are read and applied like the others"},
	})
	if len(d.Colleagues) != 9 {
		t.Errorf("%d colleagues read, want all 9", len(d.Colleagues))
	}

	one := writeXLSX(t, "one.xlsx", sheet{"Colleagues", rows[:3]})
	if f, err = excelize.OpenFile(one); err != nil {
		t.Fatal(err)
	}
	if err := f.SetRowVisible("Colleagues", 2, false); err != nil {
		t.Fatal(err)
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, ps = Read([]string{one}, Options{})
	checkProblems(t, ps, []wantProblem{
		{0, "", Warning, "row 2 is hidden in the sheet (a filter, or by hand): hidden rows are read and applied like the others"},
	})
}

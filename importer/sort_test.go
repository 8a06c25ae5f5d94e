package importer

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSortProblems(t *testing.T) {
	src := func(file, sheet string, row int) Problem {
		return Problem{Source: Source{File: file, Sheet: sheet, Row: row}, Message: file + sheet}
	}
	ps := []Problem{
		src("b.xlsx", "Colleagues", 7), src("a.csv", "", 3), src("b.xlsx", "Instances", 2),
		src("b.xlsx", "Colleagues", 2), src("a.csv", "", 0), src("b.xlsx", "Colleagues", 7),
		src("a.csv", "", 2),
	}
	ps[5].Message = "second at b Colleagues 7"
	SortProblems(ps)
	var got []string
	for _, p := range ps {
		got = append(got, p.Source.String()+": "+p.Message)
	}
	want := []string{
		"b.xlsx sheet Colleagues row 2: b.xlsxColleagues",
		"b.xlsx sheet Colleagues row 7: b.xlsxColleagues",
		"b.xlsx sheet Colleagues row 7: second at b Colleagues 7",
		"b.xlsx sheet Instances row 2: b.xlsxInstances",
		"a.csv: a.csv",
		"a.csv row 2: a.csv",
		"a.csv row 3: a.csv",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

// Duplicates are found after every file is read; their problems still come in row order.
func TestReadProblemsInRowOrder(t *testing.T) {
	path := writeFile(t, "a.csv", []byte("Email,First Name,Permissions\n"+
		"dup@example.com,A,Sales\nbad,B,Sales\nok@example.com,C,Sales\ndup@example.com,D,Sales\n"))
	_, ps := Read([]string{path}, Options{})
	var rows []int
	for _, p := range ps {
		rows = append(rows, p.Source.Row)
	}
	if diff := cmp.Diff([]int{2, 3, 5}, rows); diff != "" {
		t.Errorf("rows (-want +got):\n%s\n%s", diff, problemsText(ps))
	}
}

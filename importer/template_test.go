package importer

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/xuri/excelize/v2"
)

var testCatalog = Catalog{
	Permissions: []string{"Sales", "Technical Support", "Billing", "=Odd"},
	Partners:    []Partner{{ID: 7, Email: "east@partner.example"}, {ID: 8, Email: "west@partner.example"}, {ID: 9}},
	PBXs: []PBXRef{
		{Name: "Head Office", SN: "365A0001"},
		{Name: "Branch", SN: "365A0002"},
		{Name: "branch", SN: "365A0003"}, // the name repeats: listed by SN
		{SN: "365A0004"},
	},
}

// saveTemplate writes the template for cat to a temporary file.
func saveTemplate(t *testing.T, cat Catalog) string {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteTemplate(&buf, cat); err != nil {
		t.Fatal(err)
	}
	return writeFile(t, "template.xlsx", buf.Bytes())
}

func openXLSX(t *testing.T, path string) *excelize.File {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestTemplateReadsEmpty(t *testing.T) {
	for _, tc := range []struct {
		name string
		cat  Catalog
	}{{"catalogue", testCatalog}, {"empty catalogue", Catalog{}}} {
		t.Run(tc.name, func(t *testing.T) {
			path := saveTemplate(t, tc.cat)
			d, ps := Read([]string{path}, Options{})
			if !onlyNothingToDo(ps) {
				t.Fatalf("the empty template must read with only the nothing-to-do warning; got:\n%s", problemsText(ps))
			}
			if len(d.Colleagues)+len(d.Instances)+len(d.RejectedColleagues)+len(d.RejectedInstances) != 0 {
				t.Errorf("rows read from an empty template: %+v", d)
			}
			var sheets []string
			for _, l := range d.Layouts {
				sheets = append(sheets, l.Sheet)
			}
			if diff := cmp.Diff([]string{"Colleagues", "Instances"}, sheets); diff != "" {
				t.Errorf("sheets read (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTemplateLayout(t *testing.T) {
	f := openXLSX(t, saveTemplate(t, testCatalog))
	if diff := cmp.Diff([]string{"Instructions", "Colleagues", "Instances", "Lists"}, f.GetSheetList()); diff != "" {
		t.Errorf("sheets (-want +got):\n%s", diff)
	}
	if f.GetActiveSheetIndex() != 0 {
		t.Errorf("active sheet %d, want Instructions", f.GetActiveSheetIndex())
	}
	if vis, _ := f.GetSheetVisible("Lists"); vis {
		t.Error("the Lists sheet is visible")
	}
	for sheet, want := range map[string][]string{
		"Colleagues": {"Email", "First Name", "Last Name", "Permissions", "YCM Manager", "Owner", "Remark", "State"},
		"Instances":  {"PBX", "Extensions", "Concurrent Calls"},
	} {
		rows, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 {
			t.Fatalf("%s: %d rows, want the header only", sheet, len(rows))
		}
		if diff := cmp.Diff(want, rows[0]); diff != "" {
			t.Errorf("%s header (-want +got):\n%s", sheet, diff)
		}
		panes, err := f.GetPanes(sheet)
		if err != nil || !panes.Freeze || panes.YSplit != 1 {
			t.Errorf("%s: header not frozen: %+v %v", sheet, panes, err)
		}
		for i := range want {
			col := colLetter(i)
			if w, err := f.GetColWidth(sheet, col); err != nil || w < 10 {
				t.Errorf("%s column %s width %g (%v)", sheet, col, w, err)
			}
		}
	}
	lists, err := f.GetCols("Lists")
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range lists { // GetCols pads the shorter columns
		for len(c) > 0 && c[len(c)-1] == "" {
			c = c[:len(c)-1]
		}
		lists[i] = c
	}
	wantLists := [][]string{
		{"Permissions", "Sales", "Technical Support", "Billing", "=Odd"},
		{"Owners", "east@partner.example", "west@partner.example"},
		{"PBXs", "Head Office", "365A0002", "365A0003", "365A0004"},
	}
	if diff := cmp.Diff(wantLists, lists); diff != "" {
		t.Errorf("Lists (-want +got):\n%s", diff)
	}
	if typ, _ := f.GetCellType("Lists", "A5"); typ == excelize.CellTypeFormula {
		t.Error("a permission starting with = became a formula")
	}
	if formula, _ := f.GetCellFormula("Lists", "A5"); formula != "" {
		t.Errorf("Lists!A5 holds a formula %q", formula)
	}
}

// dv is what the tests check of a data validation.
type dv struct {
	Sqref, Type, Operator, Formula1, Formula2, ErrorStyle string
	Prompt                                                bool
}

func validations(t *testing.T, f *excelize.File, sheet string) []dv {
	t.Helper()
	dvs, err := f.GetDataValidations(sheet)
	if err != nil {
		t.Fatal(err)
	}
	var out []dv
	for _, v := range dvs {
		d := dv{Sqref: v.Sqref, Type: v.Type, Operator: v.Operator, Formula1: v.Formula1, Formula2: v.Formula2,
			Prompt: v.ShowInputMessage && v.Prompt != nil && *v.Prompt != "" && len(*v.Prompt) <= 255}
		if v.ShowErrorMessage && v.ErrorStyle != nil {
			d.ErrorStyle = *v.ErrorStyle
		}
		out = append(out, d)
	}
	return out
}

func TestTemplateValidations(t *testing.T) {
	f := openXLSX(t, saveTemplate(t, testCatalog))
	want := map[string][]dv{
		"Colleagues": {
			{Sqref: "A2:A1048576", Prompt: true},
			{Sqref: "B2:B1048576", Prompt: true},
			{Sqref: "C2:C1048576", Prompt: true},
			// Several names in one cell must get through: information, not stop.
			{Sqref: "D2:D1048576", Type: "list", Formula1: "Lists!$A$2:$A$5", ErrorStyle: "information", Prompt: true},
			{Sqref: "E2:E1048576", Type: "list", Formula1: `"yes,no"`, ErrorStyle: "stop", Prompt: true},
			{Sqref: "F2:F1048576", Type: "list", Formula1: "Lists!$B$2:$B$3", ErrorStyle: "warning", Prompt: true},
			{Sqref: "G2:G1048576", Prompt: true},
			{Sqref: "H2:H1048576", Type: "list", Formula1: `"present,absent"`, ErrorStyle: "stop", Prompt: true},
		},
		"Instances": {
			{Sqref: "A2:A1048576", Type: "list", Formula1: "Lists!$C$2:$C$5", ErrorStyle: "warning", Prompt: true},
			{Sqref: "B2:B1048576", Type: "whole", Operator: "between", Formula1: "5", Formula2: "500", ErrorStyle: "stop", Prompt: true},
			{Sqref: "C2:C1048576", Type: "whole", Operator: "greaterThanOrEqual", Formula1: "1", ErrorStyle: "stop", Prompt: true},
		},
	}
	for sheet, w := range want {
		if diff := cmp.Diff(w, validations(t, f, sheet)); diff != "" {
			t.Errorf("%s validations (-want +got):\n%s", sheet, diff)
		}
	}

	// Without a catalogue there is nothing to pick from: hints only.
	f = openXLSX(t, saveTemplate(t, Catalog{}))
	for _, v := range validations(t, f, "Colleagues") {
		if v.Sqref == "D2:D1048576" && (v.Type != "" || !v.Prompt) {
			t.Errorf("Permissions without a catalogue: %+v", v)
		}
	}
}

func TestTemplateInstructions(t *testing.T) {
	f := openXLSX(t, saveTemplate(t, testCatalog))
	rows, err := f.GetRows("Instructions")
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for _, r := range rows {
		text.WriteString(strings.Join(r, " | ") + "\n")
	}
	for _, want := range []string{
		"ycm-onboard validate FILE", "ycm-onboard plan FILE", "ycm-onboard apply FILE",
		"absent", "DELETES",
		"Email |", "First Name |", "Last Name |", "Permissions |", "YCM Manager |", "Owner |", "Remark |", "State |",
		"PBX |", "Extensions |", "Concurrent Calls |",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("Instructions lack %q:\n%s", want, text.String())
		}
	}
}

// TestTemplateFilledIn fills the template as a person would and reads it back.
func TestTemplateFilledIn(t *testing.T) {
	f := openXLSX(t, saveTemplate(t, testCatalog))
	set := func(sheet, cell string, v any) {
		t.Helper()
		if err := f.SetCellValue(sheet, cell, v); err != nil {
			t.Fatal(err)
		}
	}
	set("Colleagues", "A2", "ann@example.com")
	set("Colleagues", "B2", "Ann")
	set("Colleagues", "D2", "Sales; Billing")
	set("Colleagues", "E2", "yes")
	set("Colleagues", "F2", "east@partner.example")
	set("Colleagues", "G2", "007")
	set("Colleagues", "A3", "bob@example.com")
	set("Colleagues", "H3", "absent")
	set("Instances", "A2", "Head Office")
	set("Instances", "B2", 50)
	path := filepath.Join(t.TempDir(), "filled.xlsx")
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	d, ps := Read([]string{path}, Options{})
	ps = append(ps, Check(d, testCatalog)...)
	if len(ps) > 0 {
		t.Fatalf("unexpected problems:\n%s", problemsText(ps))
	}
	want := &Desired{
		Colleagues: colleagues(
			ColleagueFields{Email: "ann@example.com", FirstName: "Ann", Permissions: []string{"Sales", "Billing"},
				YCMManager: ptr(true), Owner: ptr("east@partner.example"), Remark: ptr("007")},
			ColleagueFields{Email: "bob@example.com", YCMManager: ptr(false), Owner: ptr(""), Remark: ptr(""), State: Absent},
		),
		Instances: []Instance{{Ref: "Head Office", Extensions: 50}},
	}
	opts := cmp.Options{
		cmpopts.IgnoreFields(Desired{}, "Files", "Layouts"),
		byFields,
		cmpopts.IgnoreFields(ColleagueFields{}, "Source"),
		cmpopts.IgnoreFields(Instance{}, "Source"),
		cmpopts.EquateEmpty(),
	}
	if diff := cmp.Diff(want, d, opts); diff != "" {
		t.Errorf("Read (-want +got):\n%s", diff)
	}
}

func TestTemplateWriteError(t *testing.T) {
	if err := WriteTemplate(failingWriter{}, testCatalog); err == nil || !strings.Contains(err.Error(), "write template") {
		t.Errorf("err = %v", err)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

// The template's example permission names are ones the portal has: those of the
// simulator's demo world (portal/sim/world.go), not made-up ones.
func TestTemplateExamplePermissions(t *testing.T) {
	demo := map[string]bool{"Dashboard": true, "Customers": true, "Orders": true, "Licenses": true, "Billing": true,
		"Deal Registration": true, "Technical Support": true, "Marketing Resources": true, "YCM": true}
	for _, c := range colleagueColumns {
		if c.f != fPermissions {
			continue
		}
		for _, text := range []string{c.hint, c.help} {
			i, j := strings.LastIndex(text, "("), strings.LastIndex(text, ")")
			if i < 0 || j < i {
				t.Fatalf("no example in %q", text)
			}
			example := strings.TrimPrefix(text[i+1:j], "for example ")
			for _, p := range splitList(example) {
				if !demo[p] {
					t.Errorf("example permission %q in %q is not a portal permission", p, text)
				}
			}
		}
	}
}

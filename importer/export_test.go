package importer

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"
)

// awkward are values people really put in the portal.
var awkward = []string{
	"O'Brien", "Zoë", "Łukasz", "渡辺", "Ngũgĩ", "=1+1", "+49 30 1234", "-5", "@SUM(A1)", "=HYPERLINK(\"http://x\")",
	"007", "0042", "1e5", "TRUE", "2024-01-02", "a & b <c>", "tab\tinside", "line\nbreak", "\"quoted\"", "12345678901234567890",
}

func exportFixture(n int) ([]ExportColleague, []ExportInstance) {
	perms := [][]string{{"Sales"}, {"Sales", "Technical Support"}, {"Billing", "=Odd", "Sales"}}
	owners := []string{"", "east@partner.example", "7"}
	cols := make([]ExportColleague, n)
	for i := range cols {
		a := awkward[i%len(awkward)]
		cols[i] = ExportColleague{
			Email:       fmt.Sprintf("user%04d@example.com", i),
			FirstName:   a,
			LastName:    awkward[(i*7+3)%len(awkward)],
			Permissions: perms[i%len(perms)],
			YCMManager:  i%3 == 0,
			Owner:       owners[i%len(owners)],
			Remark:      awkward[(i*11+5)%len(awkward)],
		}
	}
	cols[1].Email = "=evil@example.com"
	cols[2].Email = "o'neil@example.com"
	cols[3].Remark = ""
	cols[4].LastName = ""
	insts := []ExportInstance{
		{Name: "Head Office", SN: "365A0001", Extensions: 50, ConcurrentCalls: 10},
		{Name: "Branch", SN: "365A0002", Extensions: 5, ConcurrentCalls: 1},
		{Name: "Branch", SN: "0365A0003", Extensions: 500},      // same name; SN with a leading zero
		{Name: "=Lab", SN: "=365A0004", ConcurrentCalls: 4},     // injection in the SN too
		{Name: "No serial", Extensions: 20, ConcurrentCalls: 3}, // written by name
		{Name: "Zürich d'Été", SN: "00012345", Extensions: 100, ConcurrentCalls: 30},
	}
	return cols, insts
}

func saveExport(t testing.TB, cols []ExportColleague, insts []ExportInstance) string {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteExport(&buf, cols, insts); err != nil {
		t.Fatal(err)
	}
	return writeFile(t, "export.xlsx", buf.Bytes())
}

// TestExportRoundTrip: the export is valid input and reads back as the same values.
func TestExportRoundTrip(t *testing.T) {
	cols, insts := exportFixture(1000)
	path := saveExport(t, cols, insts)
	d, ps := Read([]string{path}, Options{})
	if len(ps) > 0 {
		t.Fatalf("the export must read without problems; got %d:\n%s", len(ps), problemsText(ps[:min(len(ps), 20)]))
	}
	if len(d.RejectedColleagues)+len(d.RejectedInstances) > 0 {
		t.Fatalf("rejected rows: %+v %+v", d.RejectedColleagues, d.RejectedInstances)
	}
	var wantC []ColleagueFields
	for i, c := range cols {
		wantC = append(wantC, ColleagueFields{
			Source: Source{File: "export.xlsx", Sheet: "Colleagues", Row: i + 2},
			Email:  c.Email, FirstName: c.FirstName, LastName: c.LastName, Permissions: c.Permissions,
			YCMManager: ptr(c.YCMManager), Owner: ptr(c.Owner), Remark: ptr(c.Remark), State: Present,
		})
	}
	if diff := cmp.Diff(colleagues(wantC...), d.Colleagues, byFields); diff != "" {
		t.Errorf("Colleagues (-want +got):\n%s", diff)
	}
	var wantI []Instance
	for i, in := range insts {
		ref := in.SN
		if ref == "" {
			ref = in.Name
		}
		wantI = append(wantI, Instance{Source: Source{File: "export.xlsx", Sheet: "Instances", Row: i + 2},
			Ref: ref, Extensions: in.Extensions, ConcurrentCalls: in.ConcurrentCalls})
	}
	if diff := cmp.Diff(wantI, d.Instances); diff != "" {
		t.Errorf("Instances (-want +got):\n%s", diff)
	}
	// The SN refers to its PBX; the name would be ambiguous for Branch.
	var cat Catalog
	for _, in := range insts {
		cat.PBXs = append(cat.PBXs, PBXRef{Name: in.Name, SN: in.SN})
	}
	cat.Permissions = []string{"Sales", "Technical Support", "Billing", "=Odd"}
	cat.Partners = []Partner{{ID: 7, Email: "east@partner.example"}}
	if ps := Check(d, cat); len(ps) > 0 {
		t.Errorf("Check:\n%s", problemsText(ps))
	}
}

// TestExportCellsAreText reads the raw cells: every value people typed is a string
// cell, never a formula, whatever it starts with; sizes are numbers.
func TestExportCellsAreText(t *testing.T) {
	cols, insts := exportFixture(len(awkward) * 2)
	f := openXLSX(t, saveExport(t, cols, insts))
	for _, sheet := range []string{"Colleagues", "Instances"} {
		rows, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		for r, row := range rows {
			for c, v := range row {
				cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
				if formula, err := f.GetCellFormula(sheet, cell); err != nil || formula != "" {
					t.Errorf("%s!%s holds a formula %q (%v)", sheet, cell, formula, err)
				}
				typ, err := f.GetCellType(sheet, cell)
				if err != nil {
					t.Fatal(err)
				}
				want := excelize.CellTypeInlineString
				switch {
				case v == "":
					want = excelize.CellTypeUnset
				case r == 0:
					// the header
				case sheet == "Instances" && c > 0:
					want = excelize.CellTypeUnset // a number
				}
				if typ != want {
					t.Errorf("%s!%s %q has cell type %v, want %v", sheet, cell, v, typ, want)
				}
			}
		}
	}
	for i, c := range cols {
		for col, want := range map[string]string{"A": c.Email, "B": c.FirstName, "C": c.LastName, "G": c.Remark} {
			cell := col + strconv.Itoa(i+2)
			if got, _ := f.GetCellValue("Colleagues", cell, excelize.Options{RawCellValue: true}); got != want {
				t.Errorf("Colleagues!%s = %q, want %q", cell, got, want)
			}
		}
	}
	for cell, want := range map[string]string{"A5": "=365A0004", "A7": "00012345", "A6": "No serial"} {
		if got, _ := f.GetCellValue("Instances", cell); got != want {
			t.Errorf("Instances!%s = %q, want %q", cell, got, want)
		}
	}
}

func TestExportLayout(t *testing.T) {
	cols, insts := exportFixture(50)
	f := openXLSX(t, saveExport(t, cols, insts))
	if diff := cmp.Diff([]string{"Colleagues", "Instances", "Instructions"}, f.GetSheetList()); diff != "" {
		t.Errorf("sheets (-want +got):\n%s", diff)
	}
	for _, sheet := range []string{"Colleagues", "Instances"} {
		panes, err := f.GetPanes(sheet)
		if err != nil || !panes.Freeze || panes.YSplit != 1 {
			t.Errorf("%s: header not frozen: %+v %v", sheet, panes, err)
		}
	}
	if w, _ := f.GetColWidth("Colleagues", "A"); w < 20 || w > maxExportWidth {
		t.Errorf("Email width %g", w)
	}
	comments, err := f.GetComments("Instances")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range comments {
		got[c.Cell] = c.Text
	}
	want := map[string]string{
		"A2": "PBX name: Head Office", "A3": "PBX name: Branch", "A4": "PBX name: Branch",
		"A5": "PBX name: =Lab", "A7": "PBX name: Zürich d'Été",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("PBX name notes (-want +got):\n%s", diff)
	}
	rows, err := f.GetRows("Instructions")
	if err != nil || len(rows) < 5 || !strings.Contains(fmt.Sprint(rows), "serial number (SN)") {
		t.Errorf("Instructions: %v %v", rows, err)
	}
}

func TestExportEmpty(t *testing.T) {
	d, ps := Read([]string{saveExport(t, nil, nil)}, Options{})
	if !onlyNothingToDo(ps) || len(d.Colleagues)+len(d.Instances) > 0 {
		t.Errorf("empty export: %+v\n%s", d, problemsText(ps))
	}
}

func TestExportWriteError(t *testing.T) {
	if err := WriteExport(failingWriter{}, nil, nil); err == nil || !strings.Contains(err.Error(), "write export") {
		t.Errorf("err = %v", err)
	}
}

// BenchmarkWriteExport100k writes 100,000 colleagues; run it alone to read its peak RSS:
//
//	go test -run '^$' -bench 'WriteExport100k$' -benchtime 3x ./importer/
func BenchmarkWriteExport100k(b *testing.B) {
	cols, insts := exportFixture(benchRows)
	for i := range cols {
		cols[i].Email = "user" + strconv.Itoa(i) + "@example.com"
	}
	b.ResetTimer()
	for b.Loop() {
		var buf bytes.Buffer
		if err := WriteExport(&buf, cols, insts); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(buf.Len())/(1<<20), "file-MB")
	}
	peakRSS(b)
}

// BenchmarkReadExport100kNumericRemarks reads back an export whose remarks are all
// numbers: a style lookup per cell would load the whole sheet (900 MB peak).
//
//	go test -run '^$' -bench 'ReadExport100kNumericRemarks$' -benchtime 3x ./importer/
func BenchmarkReadExport100kNumericRemarks(b *testing.B) {
	cols, insts := exportFixture(benchRows)
	for i := range cols {
		cols[i].Email = "user" + strconv.Itoa(i) + "@example.com"
		cols[i].Remark = strconv.Itoa(i + 1)
	}
	path := saveExport(b, cols, insts)
	b.ResetTimer()
	for b.Loop() {
		d, ps := Read([]string{path}, Options{})
		if len(ps) > 0 || len(d.Colleagues) != benchRows {
			b.Fatalf("%d colleagues, problems:\n%s", len(d.Colleagues), problemsText(ps[:min(len(ps), 5)]))
		}
	}
	peakRSS(b)
}

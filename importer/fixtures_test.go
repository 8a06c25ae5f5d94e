package importer

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/xuri/excelize/v2"
)

// The lo-* fixtures were saved by LibreOffice 7.4 from testdata/gen (see gen.sh).

func TestLibreOfficeWorkbook(t *testing.T) {
	d, ps := Read([]string{"testdata/lo-team.xlsx"}, Options{})
	checkProblems(t, ps, []wantProblem{
		{4, "A", Error, "has a display name"},
		{4, "E", Error, `"maybe" is not a yes/no value`},
		{4, "B", Error, "is a date (1900-02-28), not a number"},
		{5, "B", Error, `"sixty" is not a whole number`},
		{5, "C", Error, "not a positive number"},
	})
	f := "lo-team.xlsx"
	want := &Desired{
		Colleagues: colleagues(
			ColleagueFields{Source: Source{f, "Colleagues", 2}, Email: "ann@example.com", FirstName: "Ann", LastName: "Lee", Permissions: []string{"Sales", "Support"},
				YCMManager: ptr(true), Owner: ptr(""), Remark: ptr("2026-11-26")},
			ColleagueFields{Source: Source{f, "Colleagues", 3}, Email: "bob@example.com", FirstName: "Bob", LastName: "Ray", Permissions: []string{"Sales", "Billing"},
				YCMManager: ptr(false), Owner: ptr("1001"), Remark: ptr("two\nlines")},
			ColleagueFields{Source: Source{f, "Colleagues", 5}, Email: "dora@example.com", YCMManager: ptr(false), Owner: ptr(""), Remark: ptr(""), State: Absent},
			ColleagueFields{Source: Source{f, "Colleagues", 6}, Email: "zoe@example.com", FirstName: "Zoë", LastName: "Müller", Permissions: []string{"Sales"},
				YCMManager: ptr(false), Owner: ptr(""), Remark: ptr("Café")},
		),
		RejectedColleagues: colleagues(
			ColleagueFields{Source: Source{f, "Colleagues", 4}, Email: "Carl <carl@example.com>", FirstName: "Carl", Permissions: []string{"Sales"},
				YCMManager: ptr(false), Owner: ptr(""), Remark: ptr("")},
		),
		Instances: []Instance{
			{Source: Source{f, "Instances", 2}, Ref: "HQ", Extensions: 60, ConcurrentCalls: 10},
			{Source: Source{f, "Instances", 3}, Ref: "Branch", Extensions: 30, ConcurrentCalls: 8},
		},
		RejectedInstances: []Instance{
			{Source: Source{f, "Instances", 4}, Ref: "SN-0042", ConcurrentCalls: 4},
			{Source: Source{f, "Instances", 5}, Ref: "Lab"},
		},
	}
	if diff := cmp.Diff(want, d, cmpopts.IgnoreFields(Desired{}, "Files", "Layouts"), byFields); diff != "" {
		t.Errorf("Read (-want +got):\n%s", diff)
	}
}

// TestLibreOfficeCSV reads the Colleagues sheet as LibreOffice exports it: UTF-8 with
// commas, Windows-1252 with semicolons, and UTF-16 with tabs ("Unicode text").
func TestLibreOfficeCSV(t *testing.T) {
	for _, tt := range []struct {
		file     string
		warnings int
	}{
		{"lo-colleagues-utf8.csv", 0},
		{"lo-colleagues-1252.csv", 1},
		{"lo-colleagues-utf16.txt", 0},
	} {
		t.Run(tt.file, func(t *testing.T) {
			d, ps := Read([]string{"testdata/" + tt.file}, Options{})
			want := []wantProblem{{4, "A", Error, "has a display name"}, {4, "E", Error, "yes/no"}}
			if tt.warnings > 0 {
				want = append(want, wantProblem{0, "", Warning, "read as Windows-1252"})
			}
			checkProblems(t, ps, want)
			var got []string
			for _, c := range d.Colleagues {
				remark, _ := c.Remark()
				got = append(got, c.Source().String()+" "+c.Email()+" "+c.FirstName()+" "+c.LastName()+" "+strings.Join(c.Permissions(), "|")+" "+remark)
			}
			wantRows := []string{
				tt.file + " row 2 ann@example.com Ann Lee Sales|Support 11/26/2026",
				tt.file + " row 3 bob@example.com Bob Ray Sales|Billing two\nlines",
				tt.file + " row 5 dora@example.com    ",
				tt.file + " row 6 zoe@example.com Zoë Müller Sales Café",
			}
			if diff := cmp.Diff(wantRows, got); diff != "" {
				t.Errorf("colleagues (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBadFiles(t *testing.T) {
	png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 64)...)
	zipOf := func(names ...string) []byte {
		var b bytes.Buffer
		w := zip.NewWriter(&b)
		for _, n := range names {
			fw, _ := w.Create(n)
			fw.Write([]byte("x"))
		}
		w.Close()
		return b.Bytes()
	}
	encrypted := func(t *testing.T) string {
		src := writeXLSX(t, "src.xlsx", sheet{"Colleagues", [][]any{colleagueHeader}})
		f, err := excelize.OpenFile(src)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		path := filepath.Join(t.TempDir(), "locked.xlsx")
		if err := f.SaveAs(path, excelize.Options{Password: "secret"}); err != nil {
			t.Fatal(err)
		}
		return path
	}
	tests := []struct {
		name string
		path func(t *testing.T) string
		want []string // parts of the one problem's message and fix
	}{
		{"missing", func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope.xlsx") }, []string{"does not exist"}},
		{"folder", func(t *testing.T) string { return t.TempDir() }, []string{"is a folder"}},
		{"empty", func(t *testing.T) string { return writeFile(t, "e.xlsx", nil) }, []string{"the file is empty"}},
		{"legacy xls by LibreOffice", func(t *testing.T) string { return "testdata/lo-team.xls" }, []string{"Excel 97-2003 workbook (.xls)", "save it as Excel Workbook (.xlsx)"}},
		{"xls renamed xlsx", func(t *testing.T) string {
			b, _ := os.ReadFile("testdata/lo-team.xls")
			return writeFile(t, "team.xlsx", b)
		}, []string{"Excel 97-2003 workbook (.xls)"}},
		{"password-protected", encrypted, []string{"password-protected", "remove the password"}},
		{"bare OLE header", func(t *testing.T) string {
			return writeFile(t, "x.xlsx", append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 100)...))
		}, []string{".xls) or a password-protected workbook"}},
		{"ods by LibreOffice", func(t *testing.T) string { return "testdata/lo-team.ods" }, []string{"OpenDocument", "Excel 2007-365 (.xlsx)"}},
		{"png", func(t *testing.T) string { return writeFile(t, "shot.xlsx", png) }, []string{"is an image (PNG)"}},
		{"jpeg", func(t *testing.T) string { return writeFile(t, "shot.csv", []byte{0xFF, 0xD8, 0xFF, 0xE0, 1, 2}) }, []string{"is an image (JPEG)"}},
		{"gif", func(t *testing.T) string { return writeFile(t, "a.xlsx", []byte("GIF89a....")) }, []string{"is an image (GIF)"}},
		{"pdf", func(t *testing.T) string { return writeFile(t, "a.xlsx", []byte("%PDF-1.7\n...")) }, []string{"PDF document"}},
		{"html", func(t *testing.T) string {
			return writeFile(t, "a.xls", []byte("<!DOCTYPE html><html><table><tr><td>Email</td></tr></table></html>"))
		}, []string{"web page (HTML)"}},
		{"word", func(t *testing.T) string { return writeFile(t, "a.xlsx", zipOf("word/document.xml")) }, []string{"Word document"}},
		{"xlsb", func(t *testing.T) string { return writeFile(t, "a.xlsb", zipOf("xl/workbook.bin")) }, []string{"Excel Binary Workbook"}},
		{"plain zip", func(t *testing.T) string { return writeFile(t, "a.xlsx", zipOf("a.txt")) }, []string{"zip archive, not an Excel workbook"}},
		{"truncated zip", func(t *testing.T) string {
			b, _ := os.ReadFile("testdata/lo-team.xlsx")
			return writeFile(t, "cut.xlsx", b[:len(b)/2])
		}, []string{"damaged"}},
		{"binary", func(t *testing.T) string { return writeFile(t, "a.csv", []byte{1, 2, 0, 3, 0, 0, 0, 0, 9}) }, []string{"neither an Excel workbook nor a CSV"}},
		{"unrelated CSV", func(t *testing.T) string { return writeFile(t, "a.csv", []byte("Item,Cost\nx,1\n")) }, []string{"names neither colleagues", `found "Item", "Cost"`}},
		{"3CX export as input", func(t *testing.T) string { return "testdata/3cx-export-v20.csv" }, []string{"is a 3CX user export", "--3cx testdata/3cx-export-v20.csv --pbx NAME"}},
		{"3CX export in a workbook", func(t *testing.T) string {
			return writeXLSX(t, "3cx.xlsx", sheet{"Users", [][]any{{"Number", "FirstName", "LastName", "EmailAddress"}, {100, "A", "B", "a@example.com"}}})
		}, []string{"is a 3CX user export", "--3cx"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, ps := Read([]string{tt.path(t)}, Options{})
			if len(ps) != 1 {
				t.Fatalf("want one problem, got:\n%s", problemsText(ps))
			}
			p := ps[0]
			if _, ok := findProblem(ps, tt.want...); !ok {
				t.Errorf("problem %q lacks %q", p.Message+" | "+p.Fix, tt.want)
			}
			if p.Severity != Error || p.Source.Row != 0 || p.Fix == "" {
				t.Errorf("want a file-level error with a fix, got %+v", p)
			}
			if len(d.Colleagues)+len(d.Instances) != 0 {
				t.Errorf("nothing may be read: %+v", d)
			}
		})
	}
}

func TestCSVRenamedXLSX(t *testing.T) {
	path := writeFile(t, "team.xlsx", []byte("Email,First Name,Last Name,Permissions\na@example.com,A,B,Sales\n"))
	d, ps := Read([]string{path}, Options{})
	checkProblems(t, ps, []wantProblem{{0, "", Warning, "is named .xlsx but holds CSV text; it was read as CSV"}})
	if len(d.Colleagues) != 1 {
		t.Errorf("Colleagues = %+v", d.Colleagues)
	}
}

func TestCSVEncodingsAndRows(t *testing.T) {
	utf16le := func(s string) []byte {
		b := []byte{0xFF, 0xFE}
		for _, u := range utf16.Encode([]rune(s)) {
			b = append(b, byte(u), byte(u>>8))
		}
		return b
	}
	utf16be := func(s string) []byte {
		b := []byte{0xFE, 0xFF}
		for _, u := range utf16.Encode([]rune(s)) {
			b = append(b, byte(u>>8), byte(u))
		}
		return b
	}
	text := "Email\tFirst Name\tLast Name\tPermissions\r\nzoe@example.com\tZoë\tMüller\tSales\r\n"
	tests := []struct {
		name  string
		data  []byte
		first string
		row   int
	}{
		{"utf-8 bom semicolon", []byte("\ufeffEmail;First Name;Last Name;Permissions\nzoe@example.com;Zoë;Müller;Sales\n"), "Zoë", 2},
		{"utf-16le tab", utf16le(text), "Zoë", 2},
		{"utf-16be tab", utf16be(text), "Zoë", 2},
		{"windows-1252", []byte("Email,First Name,Last Name,Permissions\nzoe@example.com,Zo\xeb,M\xfcller,Sales\n"), "Zoë", 2},
		{"blank lines count as rows", []byte("\n\nEmail,First Name,Last Name,Permissions\n\n,,,\n  ,\t, ,\nzoe@example.com,Zoë,Müller,Sales\n"), "Zoë", 7},
		{"multi-line cells count once", []byte("Email,First Name,Last Name,Permissions\r\na@example.com,A,\"B\r\nC\",\"Sales\r\nSupport\r\n\"\r\nzoe@example.com,Zoë,Müller,Sales\r\n"), "Zoë", 3},
		{"no final newline", []byte("Email,First Name,Last Name,Permissions\nzoe@example.com,Zoë,Müller,Sales"), "Zoë", 2},
		{"ragged short row", []byte("Email,First Name,Last Name,Permissions,State\nzoe@example.com,Zoë,Müller,Sales\n"), "Zoë", 2},
		{"quotes inside", []byte("Email,First Name,Last Name,Permissions\nzoe@example.com,Zoë \"Z\",Müller,Sales\n"), "Zoë \"Z\"", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, ps := Read([]string{writeFile(t, "c.csv", tt.data)}, Options{})
			if HasErrors(ps) {
				t.Fatalf("problems:\n%s", problemsText(ps))
			}
			last := d.Colleagues[len(d.Colleagues)-1]
			if last.FirstName() != tt.first || last.Source().Row != tt.row || last.LastName() != "Müller" {
				t.Errorf("got %q %q row %d, want %q row %d", last.FirstName(), last.LastName(), last.Source().Row, tt.first, tt.row)
			}
		})
	}
}

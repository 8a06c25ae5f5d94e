package importer

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

func TestThreeCXSizing(t *testing.T) {
	const export = "testdata/3cx-export-v20.csv" // 11 users and a blank line
	tests := []struct {
		name     string
		headroom float64
		users    int // 0: use the fixture
		ext      int
		deriv    string
		warn     string
	}{
		{"ten percent", 10, 0, 13, "11 users in 3cx-export-v20.csv + 10% = 13", ""},
		{"no headroom", 0, 0, 11, "11 users in 3cx-export-v20.csv + 0% = 11", ""},
		{"137 users", 10, 137, 151, "137 users in 3cx.csv + 10% = 151", ""},
		{"exact product is not rounded up", 10, 100, 110, "100 users in 3cx.csv + 10% = 110", ""},
		{"clamped low", 0, 2, 5, "2 users in 3cx.csv + 0% = 2, set to 5", "set to 5"},
		{"clamped high", 25, 480, 500, "480 users in 3cx.csv + 25% = 600, set to 500", "set to 500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := export
			if tt.users > 0 {
				var b strings.Builder
				b.WriteString("Number;FirstName;LastName;EmailAddress;MobileNumber\n")
				for i := range tt.users {
					fmt.Fprintf(&b, "%d;A;B;a%d@example.com;\n", 1000+i, i)
				}
				path = writeFile(t, "3cx.csv", []byte(b.String()))
			}
			d, ps := Read(nil, Options{ThreeCX: []ThreeCXSizing{{Path: path, PBX: "HQ", HeadroomPercent: tt.headroom}}})
			if HasErrors(ps) {
				t.Fatalf("problems:\n%s", problemsText(ps))
			}
			if tt.warn == "" && len(ps) > 0 || tt.warn != "" && (len(ps) != 1 || !strings.Contains(ps[0].Message, tt.warn)) {
				t.Errorf("problems:\n%s", problemsText(ps))
			}
			for _, p := range ps {
				if n := strings.Count(p.String(), "5 to 500"); n > 1 {
					t.Errorf("the range is said %d times: %s", n, p)
				}
			}
			if len(d.Instances) != 1 {
				t.Fatalf("Instances = %+v", d.Instances)
			}
			in := d.Instances[0]
			if in.Ref != "HQ" || in.Extensions != tt.ext || !strings.HasPrefix(in.Derivation, tt.deriv) {
				t.Errorf("got %+v, want %d %q", in, tt.ext, tt.deriv)
			}
			if len(d.Files) != 1 {
				t.Errorf("Files = %+v", d.Files)
			}
		})
	}
	// More users than a PBX holds: the headroom can be trimmed, the users cannot.
	t.Run("more users than a PBX holds", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("Number,FirstName,LastName,EmailAddress\n")
		for i := range 600 {
			fmt.Fprintf(&b, "%d,A,B,a%d@example.com\n", 1000+i, i)
		}
		d, ps := Read(nil, Options{ThreeCX: []ThreeCXSizing{{Path: writeFile(t, "big.csv", []byte(b.String())), PBX: "HQ", HeadroomPercent: 10}}})
		checkProblems(t, ps, []wantProblem{{0, "", Error,
			"PBX HQ: 600 users in big.csv + 10% = 660, and a cloud PBX holds at most 500 extensions: PBX HQ is not sized from it"}})
		if len(d.Instances) != 0 {
			t.Errorf("sized %+v", d.Instances)
		}
	})
	// Users are distinct extension numbers: a row that repeats one, or has none, is
	// no extra user, and the derivation says how many rows were dropped.
	t.Run("counts extension numbers, not rows", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("Number,FirstName,LastName,EmailAddress\n")
		for i := range 40 {
			fmt.Fprintf(&b, "%d,A,B,a%d@example.com\n", 100+i%10, i)
		}
		b.WriteString(" ,No,Number,nn@example.com\n")
		path := writeFile(t, "users.csv", []byte(b.String()))
		d, ps := Read(nil, Options{ThreeCX: []ThreeCXSizing{{Path: path, PBX: "HQ", HeadroomPercent: 10}}})
		checkProblems(t, ps, []wantProblem{{0, "", Warning, "PBX HQ is sized from 10 users of users.csv: 31 of 41 rows not counted: 30 repeat an extension number, 1 has no Number"}})
		want := "10 users in users.csv (31 of 41 rows not counted: 30 repeat an extension number, 1 has no Number) + 10% = 11"
		if len(d.Instances) != 1 || d.Instances[0].Extensions != 11 || d.Instances[0].Derivation != want {
			t.Errorf("got %+v, want 11 extensions derived as %q", d.Instances, want)
		}
	})
	t.Run("workbook export counts extension numbers", func(t *testing.T) {
		path := writeXLSX(t, "3cx.xlsx", sheet{"Users", [][]any{{"Number", "FirstName", "LastName", "EmailAddress"},
			{100, "A", "B", "a@example.com"}, {100, "A", "B", "a2@example.com"}, {nil, "C", "D", "c@example.com"}, {101, "E", "F", "e@example.com"}}})
		d, _ := Read(nil, Options{ThreeCX: []ThreeCXSizing{{Path: path, PBX: "HQ"}}})
		if len(d.Instances) != 1 || !strings.HasPrefix(d.Instances[0].Derivation, "2 users in 3cx.xlsx (2 of 4 rows not counted: 1 repeats an extension number, 1 has no Number)") {
			t.Errorf("Instances = %+v", d.Instances)
		}
	})
	// An export with no users sizes nothing: with --allow-shrink it would shrink the
	// PBX to 5 extensions.
	for _, tt := range []struct{ name, text string }{
		{"header only", "Number,FirstName,LastName,EmailAddress\n"},
		{"no numbers", "Number,FirstName,LastName,EmailAddress\n,A,B,a@example.com\n,C,D,c@example.com\n"},
	} {
		t.Run("no users: "+tt.name, func(t *testing.T) {
			path := writeFile(t, "users.csv", []byte(tt.text))
			d, ps := Read(nil, Options{ThreeCX: []ThreeCXSizing{{Path: path, PBX: "HQ", HeadroomPercent: 10}}})
			checkProblems(t, ps, []wantProblem{{0, "", Error, "holds no user with an extension Number"}})
			if len(d.Instances) != 0 {
				t.Errorf("sized from an export without users: %+v", d.Instances)
			}
		})
	}
	t.Run("workbook export", func(t *testing.T) {
		path := writeXLSX(t, "3cx.xlsx", sheet{"Users", [][]any{{"Number", "FirstName", "LastName", "EmailAddress"}, {100, "A", "B", "a@example.com"}, {101, "C", "D", "c@example.com"}}})
		d, _ := Read(nil, Options{ThreeCX: []ThreeCXSizing{{Path: path, PBX: "HQ", HeadroomPercent: 200}}})
		if len(d.Instances) != 1 || d.Instances[0].Extensions != 6 {
			t.Errorf("Instances = %+v", d.Instances)
		}
	})
	t.Run("also in an Instances sheet", func(t *testing.T) {
		sheetPath := writeFile(t, "sizes.csv", []byte("PBX,Extensions\nhq,40\n"))
		d, ps := Read([]string{sheetPath}, Options{ThreeCX: []ThreeCXSizing{{Path: export, PBX: "HQ", HeadroomPercent: 10}}})
		checkProblems(t, ps, []wantProblem{
			{2, "A", Error, "here and in the 3CX export 3cx-export-v20.csv"},
			{0, "", Error, "here and in sizes.csv row 2"},
		})
		if len(d.Instances) != 0 || len(d.RejectedInstances) != 2 {
			t.Errorf("got %+v", d)
		}
	})
	t.Run("not a 3CX export", func(t *testing.T) {
		_, ps := Read(nil, Options{ThreeCX: []ThreeCXSizing{{Path: "testdata/lo-colleagues-utf8.csv", PBX: "HQ"}}})
		if _, ok := findProblem(ps, "does not look like a 3CX user export"); !ok || len(ps) != 1 {
			t.Errorf("got:\n%s", problemsText(ps))
		}
	})
	t.Run("no PBX", func(t *testing.T) {
		_, ps := Read(nil, Options{ThreeCX: []ThreeCXSizing{{Path: export}}})
		if _, ok := findProblem(ps, "names no PBX", "--pbx NAME"); !ok {
			t.Errorf("got:\n%s", problemsText(ps))
		}
	})
}

func TestDates1904(t *testing.T) {
	for _, use1904 := range []bool{false, true} {
		path := writeXLSX(t, "d.xlsx", sheet{"Colleagues", [][]any{colleagueHeader}})
		f, err := excelize.OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.SetWorkbookProps(&excelize.WorkbookPropsOptions{Date1904: &use1904}); err != nil {
			t.Fatal(err)
		}
		row := []any{"a@example.com", "A", "B", "Sales", "", "", time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC), ""}
		if err := f.SetSheetRow("Colleagues", "A2", &row); err != nil {
			t.Fatal(err)
		}
		if err := f.Save(); err != nil {
			t.Fatal(err)
		}
		f.Close()
		d, ps := Read([]string{path}, Options{})
		if len(ps) > 0 || len(d.Colleagues) != 1 || d.Colleagues[0].Fields().Remark == nil || *d.Colleagues[0].Fields().Remark != "2026-11-26" {
			t.Errorf("1904=%v: got %+v\n%s", use1904, d.Colleagues, problemsText(ps))
		}
	}
}

func TestLimits(t *testing.T) {
	t.Run("file size", func(t *testing.T) {
		path := writeFile(t, "big.csv", bytes.Repeat([]byte("x"), 2048))
		_, ps := Read([]string{path}, Options{MaxFileBytes: 1024})
		if _, ok := findProblem(ps, "2.0 KiB, more than the limit of 1.0 KiB"); !ok || len(ps) != 1 {
			t.Errorf("got:\n%s", problemsText(ps))
		}
	})
	t.Run("cell length", func(t *testing.T) {
		long := strings.Repeat("y", 101)
		for _, path := range []string{
			writeXLSX(t, "c.xlsx", sheet{"Colleagues", [][]any{colleagueHeader, {"a@example.com", "A", "B", "Sales", "", "", long, ""}}}),
			writeFile(t, "c.csv", []byte(csvLine(colleagueHeader)+csvLine([]any{"a@example.com", "A", "B", "Sales", "", "", long, ""}))),
		} {
			d, ps := Read([]string{path}, Options{MaxCellChars: 100})
			checkProblems(t, ps, []wantProblem{{2, "G", Error, "holds 101 characters, more than the limit of 100"}})
			if len(d.RejectedColleagues) != 1 {
				t.Errorf("%s: rejected = %d", path, len(d.RejectedColleagues))
			}
		}
	})
	t.Run("rows", func(t *testing.T) {
		rows := [][]any{colleagueHeader}
		var csv strings.Builder
		csv.WriteString(csvLine(colleagueHeader))
		for i := range 6 {
			row := []any{string(rune('a'+i)) + "@example.com", "A", "B", "Sales"}
			rows = append(rows, row)
			csv.WriteString(csvLine(row))
		}
		for _, path := range []string{
			writeXLSX(t, "r.xlsx", sheet{"Colleagues", rows}),
			writeFile(t, "r.csv", []byte(csv.String())),
		} {
			d, ps := Read([]string{path}, Options{MaxRows: 5})
			if _, ok := findProblem(ps, "more than", "limit"); !ok || !HasErrors(ps) {
				t.Errorf("%s: got:\n%s", path, problemsText(ps))
			}
			if len(d.Colleagues) != 0 {
				t.Errorf("%s: a cut-off sheet must not be applied: %d accepted", path, len(d.Colleagues))
			}
		}
	})
}

// TestZipBomb builds a workbook whose one worksheet inflates 1000-fold and checks it is
// refused quickly and without inflating it.
func TestZipBomb(t *testing.T) {
	src := writeXLSX(t, "src.xlsx", sheet{"Colleagues", [][]any{colleagueHeader}})
	zr, err := zip.OpenReader(src)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	path := filepath.Join(t.TempDir(), "bomb.xlsx")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(out)
	for _, f := range zr.File {
		w, err := zw.Create(f.Name)
		if err != nil {
			t.Fatal(err)
		}
		if f.Name == "xl/worksheets/sheet1.xml" {
			// 64 MiB of padding inside the worksheet: compresses to about 64 KiB.
			pad := bytes.Repeat([]byte(" "), 1<<20)
			w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`))
			for range 64 {
				w.Write(pad)
			}
			w.Write([]byte(`</sheetData></worksheet>`))
			continue
		}
		rc, _ := f.Open()
		b := new(bytes.Buffer)
		b.ReadFrom(rc)
		rc.Close()
		w.Write(b.Bytes())
	}
	zw.Close()
	out.Close()
	fi, _ := os.Stat(path)

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	d, ps := Read([]string{path}, Options{MaxUnzipBytes: 16 << 20})
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	if _, ok := findProblem(ps, "would unpack to", "zip bomb"); !ok || len(ps) != 1 {
		t.Fatalf("got:\n%s", problemsText(ps))
	}
	if len(d.Colleagues) != 0 {
		t.Error("nothing may be read")
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 8<<20 {
		t.Errorf("refusing a %d-byte bomb allocated %d bytes", fi.Size(), grew)
	}
	t.Logf("%d-byte file declaring 64 MiB refused in %v", fi.Size(), elapsed)
}

// TestZipLyingSizes: an entry that inflates past the size it declares is cut off by
// archive/zip and reported as a damaged file.
func TestZipLyingSizes(t *testing.T) {
	src := writeXLSX(t, "src.xlsx", sheet{"Colleagues", [][]any{colleagueHeader, {"a@example.com", "A", "B", "Sales"}}})
	zr, err := zip.OpenReader(src)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	path := filepath.Join(t.TempDir(), "liar.xlsx")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(out)
	for _, f := range zr.File {
		if f.Name != "xl/worksheets/sheet1.xml" {
			if err := zw.Copy(f); err != nil {
				t.Fatal(err)
			}
			continue
		}
		var body bytes.Buffer
		body.WriteString(`<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
		body.Write(bytes.Repeat([]byte(" "), 32<<20))
		body.WriteString(`</sheetData></worksheet>`)
		var deflated bytes.Buffer
		fw, _ := flate.NewWriter(&deflated, flate.BestSpeed)
		fw.Write(body.Bytes())
		fw.Close()
		w, err := zw.CreateRaw(&zip.FileHeader{Name: f.Name, Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(body.Bytes()),
			CompressedSize64: uint64(deflated.Len()), UncompressedSize64: 1000})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(deflated.Bytes())
	}
	zw.Close()
	out.Close()
	d, ps := Read([]string{path}, Options{MaxUnzipBytes: 1 << 20})
	if _, ok := findProblem(ps, "damaged"); !ok || len(ps) != 1 || len(d.Colleagues) != 0 {
		t.Errorf("got %+v\n%s", d.Colleagues, problemsText(ps))
	}
}

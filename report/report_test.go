package report

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"

	"github.com/ycm-onboard/ycm-onboard/reconcile"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// writeTemp writes r to a file in a fresh directory and returns its path.
func writeTemp(t testing.TB, r Run) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), DefaultName(r.Mode, r.Started))
	if err := writeFile(path, r); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return path
}

// dump reads the workbook back cell by cell into text a person can review: sheets,
// frozen panes, tables, merged cells, column widths, then every non-empty cell with
// its type and the parts of its style that carry meaning. It fails the test if any
// cell holds a formula.
func dump(t testing.TB, path string) string {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer func() { _ = f.Close() }()
	var b strings.Builder
	for _, sheet := range f.GetSheetList() {
		fmt.Fprintf(&b, "== %s ==\n", sheet)
		panes, err := f.GetPanes(sheet)
		if err != nil {
			t.Fatal(err)
		}
		if panes.Freeze {
			fmt.Fprintf(&b, "frozen at %s\n", panes.TopLeftCell)
		}
		// Page setup made before streaming must survive the stream writer's Flush.
		layout, err := f.GetPageLayout(sheet)
		if err != nil {
			t.Fatal(err)
		}
		props, err := f.GetSheetProps(sheet)
		if err != nil {
			t.Fatal(err)
		}
		if layout.Orientation != nil && layout.FitToWidth != nil && props.FitToPage != nil && *props.FitToPage {
			fmt.Fprintf(&b, "print %s, %d page wide\n", *layout.Orientation, *layout.FitToWidth)
		}
		tables, err := f.GetTables(sheet)
		if err != nil {
			t.Fatal(err)
		}
		for _, tb := range tables {
			fmt.Fprintf(&b, "table %s %s\n", tb.Name, tb.Range)
		}
		merged, err := f.GetMergeCells(sheet)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range merged {
			fmt.Fprintf(&b, "merged %s:%s\n", m.GetStartAxis(), m.GetEndAxis())
		}
		rows, err := f.Rows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		var cells strings.Builder
		ncols := 0
		for r := 1; rows.Next(); r++ {
			cols, err := rows.Columns(excelize.Options{RawCellValue: true})
			if err != nil {
				t.Fatal(err)
			}
			ncols = max(ncols, len(cols))
			if h, err := f.GetRowHeight(sheet, r); err != nil {
				t.Fatal(err)
			} else if h != 15 {
				fmt.Fprintf(&cells, "row %d height %g\n", r, h)
			}
			for c, raw := range cols {
				cell, _ := excelize.CoordinatesToCellName(c+1, r)
				cells.WriteString(dumpCell(t, f, sheet, cell, raw))
			}
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		var widths []string
		for c := range ncols {
			name, _ := excelize.ColumnNumberToName(c + 1)
			w, err := f.GetColWidth(sheet, name)
			if err != nil {
				t.Fatal(err)
			}
			widths = append(widths, fmt.Sprintf("%s=%g", name, w))
		}
		fmt.Fprintf(&b, "widths %s\n", strings.Join(widths, " "))
		b.WriteString(cells.String())
	}
	return b.String()
}

func dumpCell(t testing.TB, f *excelize.File, sheet, cell, raw string) string {
	t.Helper()
	if formula, err := f.GetCellFormula(sheet, cell); err != nil || formula != "" {
		t.Errorf("%s!%s holds a formula %q (err %v)", sheet, cell, formula, err)
	}
	typ, err := f.GetCellType(sheet, cell)
	if err != nil {
		t.Fatal(err)
	}
	if raw == "" && typ == excelize.CellTypeUnset {
		return ""
	}
	kind := map[excelize.CellType]string{
		excelize.CellTypeUnset: "n", excelize.CellTypeNumber: "n", excelize.CellTypeInlineString: "s",
		excelize.CellTypeSharedString: "s", excelize.CellTypeBool: "b", excelize.CellTypeDate: "d",
		excelize.CellTypeFormula: "FORMULA", excelize.CellTypeError: "ERROR",
	}[typ]
	val := raw
	var attrs []string
	id, err := f.GetCellStyle(sheet, cell)
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.GetStyle(id)
	if err != nil {
		t.Fatal(err)
	}
	if st.CustomNumFmt != nil {
		attrs = append(attrs, "fmt="+*st.CustomNumFmt)
		if val, err = f.GetCellValue(sheet, cell); err != nil {
			t.Fatal(err)
		}
	}
	if len(st.Fill.Color) > 0 {
		attrs = append(attrs, "fill="+strings.Join(st.Fill.Color, ","))
	}
	if st.Font != nil && st.Font.Bold {
		attrs = append(attrs, "bold")
	}
	if st.Alignment != nil && st.Alignment.WrapText {
		attrs = append(attrs, "wrap")
	}
	s := fmt.Sprintf("%s %s %q", cell, kind, val)
	if len(attrs) > 0 {
		s += " [" + strings.Join(attrs, " ") + "]"
	}
	return s + "\n"
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report/ -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got); if intended, run go test ./report/ -update:\n%s", path, diff)
	}
}

func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func() Run
	}{
		{"apply", applyRun},
		{"interrupted", interruptedRun},
		{"plan", planRun},
		{"empty", func() Run { return Run{Version: "v1.2.3", Mode: "plan", Started: started, Finished: t0, Now: t0} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeTemp(t, tc.run())
			golden(t, tc.name+".txt", dump(t, path))
		})
	}
}

// cellText reads one cell back as shown.
func cellText(t *testing.T, f *excelize.File, sheet, cell string) string {
	t.Helper()
	v, err := f.GetCellValue(sheet, cell, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestInputStaysText(t *testing.T) {
	path := writeTemp(t, applyRun())
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	for _, c := range []struct{ sheet, cell, want string }{
		{sheetColleagues, "B7", `=HYPERLINK("http://evil.example","x")`},
		{sheetColleagues, "C7", "+cmd|' /C calc'!A0"},
		{sheetColleagues, "C8", "-2+3"},
		{sheetColleagues, "E8", "Remark: 0012 → @SUM(A1:A2)"},
		{sheetInstances, "B4", "0007"},
		{sheetInstances, "C4", "0007"},
		{sheetInstances, "B5", "=1+1"},
		{sheetProblems, "F2", `=HYPERLINK("http://evil.example","x")`},
		{sheetProblems, "F4", "0007"},
		{sheetProblems, "F5", "-5"},
	} {
		if got := cellText(t, f, c.sheet, c.cell); got != c.want {
			t.Errorf("%s!%s = %q, want %q", c.sheet, c.cell, got, c.want)
		}
		typ, err := f.GetCellType(c.sheet, c.cell)
		if err != nil {
			t.Fatal(err)
		}
		if typ != excelize.CellTypeInlineString && typ != excelize.CellTypeSharedString {
			t.Errorf("%s!%s has type %v, want a string", c.sheet, c.cell, typ)
		}
	}
	noFormulaXML(t, path)
}

// noFormulaXML fails the test if any worksheet of the workbook at path holds a
// formula element. It scans the XML in chunks, so it suits 100,000 rows too.
func noFormulaXML(t *testing.T, path string) {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = zr.Close() }()
	sheets := 0
	for _, zf := range zr.File {
		if !strings.HasPrefix(zf.Name, "xl/worksheets/sheet") {
			continue
		}
		sheets++
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 1<<16)
		carry := 0 // bytes kept from the previous chunk, so a tag split across chunks is seen
		for {
			n, err := rc.Read(buf[carry:])
			chunk := buf[:carry+n]
			if bytes.Contains(chunk, []byte("<f>")) || bytes.Contains(chunk, []byte("<f ")) {
				t.Errorf("%s contains a formula element", zf.Name)
				break
			}
			carry = min(len(chunk), 3)
			copy(buf, chunk[len(chunk)-carry:])
			if err != nil {
				break
			}
		}
		_ = rc.Close()
	}
	if sheets != 4 {
		t.Errorf("%d worksheets, want 4", sheets)
	}
}

func TestURLSecretsDropped(t *testing.T) {
	path := writeTemp(t, applyRun())
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	rows, err := f.GetRows(sheetSummary)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows {
		for _, v := range row {
			if strings.Contains(v, "s3cret") || strings.Contains(v, "access_token") || strings.Contains(v, "frag") {
				t.Errorf("Summary shows a secret: %q", v)
			}
		}
	}
	for _, c := range []struct{ in, want string }{
		{"https://u:p@host.example/x?token=1#f", "https://host.example/x"},
		{"https://host.example/?", "https://host.example/"},
		{"", ""},
		{"://bad", "(not shown: not a valid URL)"},
	} {
		if got := cleanURL(c.in); got != c.want {
			t.Errorf("cleanURL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestOutcomeOf(t *testing.T) {
	a := func(k reconcile.Kind, blocked string) reconcile.Action {
		return reconcile.Action{Kind: k, Blocked: blocked}
	}
	plan := reconcile.Plan{Actions: []reconcile.Action{
		a(reconcile.Create, ""), a(reconcile.Noop, ""), a(reconcile.Skip, ""), a(reconcile.Delete, "owner"),
		a(reconcile.Update, ""), a(reconcile.Resize, ""),
	}}
	all := func(r Run) []reconcile.Outcome {
		out := make([]reconcile.Outcome, len(r.Plan.Actions))
		for i := range out {
			out[i] = OutcomeOf(r, i)
		}
		return out
	}
	P, A, U, F, S, B, N := reconcile.Planned, reconcile.Applied, reconcile.Unchanged, reconcile.Failed,
		reconcile.Skipped, reconcile.Blocked, reconcile.NotRun
	for _, tc := range []struct {
		name string
		run  Run
		want []reconcile.Outcome
	}{
		{"plan", Run{Mode: "plan", Plan: plan}, []reconcile.Outcome{P, U, S, B, P, P}},
		{"plan tripped", Run{Mode: "plan", Plan: plan, Tripped: []string{"max-delete 5"}}, []reconcile.Outcome{P, U, S, B, P, P}},
		{"apply tripped, no results", Run{Mode: "apply", Plan: plan, Tripped: []string{"max-delete 5"}}, []reconcile.Outcome{B, U, S, B, B, B}},
		{"apply, no results", Run{Mode: "apply", Plan: plan}, []reconcile.Outcome{N, U, S, B, N, N}},
		{"apply, short results", Run{Mode: "apply", Plan: plan, Results: []reconcile.Result{
			{Outcome: A}, {Outcome: U}, {Outcome: S}, {Outcome: B}, {Outcome: F},
		}}, []reconcile.Outcome{A, U, S, B, F, N}},
		{"apply, zero result", Run{Mode: "apply", Plan: plan, Results: make([]reconcile.Result, 6)}, []reconcile.Outcome{N, U, S, B, N, N}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, all(tc.run)); diff != "" {
				t.Errorf("outcomes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDefaultName(t *testing.T) {
	at := time.Date(2026, 3, 2, 10, 4, 5, 0, time.FixedZone("CET", 3600))
	if got, want := DefaultName("apply", at), "ycm-onboard-apply-20260302T090405Z.xlsx"; got != want {
		t.Errorf("DefaultName = %q, want %q", got, want)
	}
}

func TestSummarizeJSON(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func() Run
	}{{"apply", applyRun}, {"plan", planRun}} {
		t.Run(tc.name, func(t *testing.T) {
			s := Summarize(tc.run(), "/reports/"+DefaultName(tc.name, started))
			got, err := json.MarshalIndent(s, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "summary-"+tc.name+".json", string(got)+"\n")
		})
	}
}

// writeFile writes a report to path for a test to read back. The job itself writes
// through cmd/ycm-onboard's writeNew (a temporary file put in place when whole).
func writeFile(path string, r Run) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := WriteTo(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

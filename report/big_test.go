package report

import (
	"archive/zip"
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

const bigRows = 100_000

func TestWrite100k(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000-row report skipped in -short mode")
	}
	bigRows := bigRows
	if raceEnabled {
		bigRows = 10_000 // the race detector makes 100,000 take a minute; nothing here is concurrent
		t.Logf("race detector on: %d rows", bigRows)
	}
	r := bigRun(bigRows)
	path := writeTemp(t, r)
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()

	noFormulaXML(t, path)
	// Read the table part itself: GetTables would load the whole sheet.
	if got, want := zipTables(t, path)["ColleagueTable"], fmt.Sprintf("A1:L%d", bigRows+1); got != want {
		t.Errorf("ColleagueTable covers %q, want %q", got, want)
	}

	// Every row is there; a sample is compared value by value.
	sample := map[int][]string{
		2: {"onboarding.xlsx Colleagues!2", "user000000@bigcorp.example", "User 000000", "create", "State: absent → present", "applied", "", "1", "Pending"},
		3: {"onboarding.xlsx Colleagues!3", "user000001@bigcorp.example", "User 000001", "update", changesText(r.Plan.Actions[1].Changes), "applied", "", "1", "Active"},
	}
	for _, i := range []int{bigRows/2 - 1, bigRows - 1} { // failed creates
		sample[i+2] = []string{fmt.Sprintf("onboarding.xlsx Colleagues!%d", i+2), fmt.Sprintf("user%06d@bigcorp.example", i),
			fmt.Sprintf("User %06d", i), "create", "", "failed",
			fmt.Sprintf("The portal kept failing (HTTP 503, case %d); run apply again.", i%7), "3"}
	}
	rows, err := f.Rows(sheetColleagues)
	if err != nil {
		t.Fatal(err)
	}
	n, outcomes := 0, map[string]int{}
	for rows.Next() {
		n++
		cols, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		if n > 1 && len(cols) > 5 {
			outcomes[cols[5]]++
		}
		if want, ok := sample[n]; ok {
			got := cols[:min(len(cols), len(want))]
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("Colleagues row %d:\n got %q\nwant %q", n, got, want)
			}
		}
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if n != bigRows+1 {
		t.Errorf("Colleagues has %d rows, want %d", n, bigRows+1)
	}
	want := map[string]int{"applied": bigRows / 2, "unchanged": bigRows / 4, "failed": bigRows / 4}
	if fmt.Sprint(outcomes) != fmt.Sprint(want) {
		t.Errorf("outcomes = %v, want %v", outcomes, want)
	}

	// The Summary counts agree.
	summary, err := f.GetRows(sheetSummary, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	var total []string
	for _, row := range summary {
		if len(row) > 0 && row[0] == "Total" {
			total = row
		}
	}
	if want := []string{"Total", "0", fmt.Sprint(bigRows / 2), fmt.Sprint(bigRows / 4), fmt.Sprint(bigRows / 4), "0", "0", "0", fmt.Sprint(bigRows)}; !slices.Equal(total, want) {
		t.Errorf("Summary Total row = %q, want %q", total, want)
	}
}

func BenchmarkWrite100k(b *testing.B) {
	r := bigRun(bigRows)
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteTo(io.Discard, r); err != nil {
			b.Fatal(err)
		}
	}
}

// zipTables reads the table parts of the workbook at path: name → range.
func zipTables(t *testing.T, path string) map[string]string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = zr.Close() }()
	tables := map[string]string{}
	for _, zf := range zr.File {
		if !strings.HasPrefix(zf.Name, "xl/tables/") {
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		var tb struct {
			Name string `xml:"name,attr"`
			Ref  string `xml:"ref,attr"`
		}
		err = xml.NewDecoder(rc).Decode(&tb)
		_ = rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", zf.Name, err)
		}
		tables[tb.Name] = tb.Ref
	}
	return tables
}

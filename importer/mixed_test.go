package importer

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestMixedEncodings: a CSV of UTF-8 rows with a row pasted from a Windows-1252 export
// is read line by line, each line in its own encoding, and the Windows-1252 rows are
// named; no name reaches the portal garbled.
func TestMixedEncodings(t *testing.T) {
	text := "Email,First Name,Last Name,Permissions,Remark\n" +
		"jose@x.example,José,Müller,Sales,\n" + // UTF-8
		"ann@x.example,Ann,Lee,Sales,\"two\nlines\"\n" + // UTF-8, ASCII only
		"zoe@x.example,Zo\xeb,B\xe9ranger,Sales,\n" + // Windows-1252: row 4
		"\n" +
		"ola@x.example,\xd8la,\xd1u\xf1ez,Sales,\"caf\xe9\nau lait\"\n" + // Windows-1252: row 6
		"mo@x.example,Mo,Ng,Sales,\"first\nsecond \xe0 part\"\n" + // Windows-1252 on its second line: row 7
		"li@x.example,李,王,Sales,\n" // UTF-8
	d, ps := Read([]string{writeFile(t, "mixed.csv", []byte(text))}, Options{})
	checkProblems(t, ps, []wantProblem{
		{4, "", Warning, "row 4 is not UTF-8 like the rest of the file: it was read as Windows-1252"},
		{6, "", Warning, "row 6 is not UTF-8 like the rest of the file: it was read as Windows-1252"},
		{7, "", Warning, "row 7 is not UTF-8 like the rest of the file: it was read as Windows-1252"},
	})
	var got [][2]string
	for _, c := range d.Colleagues {
		got = append(got, [2]string{c.FirstName(), c.LastName()})
	}
	want := [][2]string{{"José", "Müller"}, {"Ann", "Lee"}, {"Zoë", "Béranger"}, {"Øla", "Ñuñez"}, {"Mo", "Ng"}, {"李", "王"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	if r := d.Colleagues[3].Fields().Remark; r == nil || *r != "café\nau lait" {
		t.Errorf("remark %v", r)
	}
	for _, p := range ps {
		if !strings.Contains(p.Fix, "check the names") {
			t.Errorf("fix %q does not say to check the names", p.Fix)
		}
	}
}

func TestMixedEncodingsNamesTenRows(t *testing.T) {
	var b strings.Builder
	b.WriteString("Email,First Name,Last Name,Permissions\nj@x.example,José,Müller,Sales\n")
	for i := range 25 {
		fmt.Fprintf(&b, "u%d@x.example,Zo\xeb,M\xfcller,Sales\n", i)
	}
	d, ps := Read([]string{writeFile(t, "mixed.csv", []byte(b.String()))}, Options{})
	if len(ps) != maxLatinRows+1 || len(d.Colleagues) != 26 {
		t.Fatalf("%d colleagues, problems:\n%s", len(d.Colleagues), problemsText(ps))
	}
	if p := ps[maxLatinRows]; p.Source.Row != 13 || !strings.HasPrefix(p.Message, "15 rows more are not UTF-8") {
		t.Errorf("last problem: %s", p)
	}
	if d.Colleagues[25].FirstName() != "Zoë" {
		t.Errorf("got %q", d.Colleagues[25].FirstName())
	}
}

func TestScanLines(t *testing.T) {
	for _, tt := range []struct {
		text        string
		utf8, other int
	}{
		{"a\nb\n", 0, 0},
		{"Jos\xc3\xa9\nZo\xeb\n", 1, 1},
		{"Zo\xeb\nM\xfcller", 0, 2},
		{"caf\xc3\xa9 Zo\xeb\n", 0, 1},                                      // a line with both is not UTF-8
		{strings.Repeat("a", 64<<10-1) + "\xc3\xa9\n", 1, 0},                // a rune across the buffer's end
		{strings.Repeat("a", 64<<10-1) + "\xe9\nJos\xc3\xa9", 1, 1},         // an invalid byte there
		{"Jos\xc3\xa9" + strings.Repeat("a", 200<<10) + "\nZo\xeb\n", 1, 1}, // a line over ASCII chunks
		{"Zo\xeb" + strings.Repeat("a", 200<<10) + "\nJos\xc3\xa9\n", 1, 1},
	} {
		u, o, err := scanLines(strings.NewReader(tt.text))
		if err != nil || u != tt.utf8 || o != tt.other {
			t.Errorf("%.20q: got %d UTF-8 and %d other lines (%v), want %d and %d", tt.text, u, o, err, tt.utf8, tt.other)
		}
	}
}

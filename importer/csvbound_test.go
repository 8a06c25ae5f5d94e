package importer

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// writeCSVWith writes head, then the filler repeated to n bytes, then tail.
func writeCSVWith(t testing.TB, name, head string, filler string, n int, tail string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString(head)
	chunk := bytes.Repeat([]byte(filler), (1<<20)/len(filler))
	for n > 0 {
		k := min(n, len(chunk))
		if _, err := f.Write(chunk[:k]); err != nil {
			t.Fatal(err)
		}
		n -= k
	}
	f.WriteString(tail)
	return path
}

// TestHostileCSVIsRefusedWhileStreaming: a quote that never closes, one giant cell
// and one giant line are refused from the bytes as they stream past, naming the row
// and column, before encoding/csv holds them.
func TestHostileCSVIsRefusedWhileStreaming(t *testing.T) {
	const header = "Email,First Name,Last Name,Permissions,YCM Manager,Owner,Remark\n"
	// Row 2 holds a closed cell over two lines and a blank line follows it: the
	// refusal counts rows as a spreadsheet program shows them.
	const before = header + "a@x.example,A,\"B\nB\",Sales\n\n"
	var rows strings.Builder
	for i := range 200_000 {
		rows.WriteString("u")
		rows.WriteString(strings.Repeat("x", i%7))
		rows.WriteString("@x.example,F,L,Sales,,,remark\n")
	}
	for _, tt := range []struct {
		name    string
		path    func(t *testing.T) string
		row     int
		col     string
		message string
		fix     string
	}{
		{"a quote that never closes", func(t *testing.T) string {
			return writeFile(t, "q.csv", []byte(before+"b@x.example,B,\"C,Sales\n"+rows.String()))
		}, 4, "C", "a quote opened in row 4 column C is never closed", "close the quote"},
		{"one giant cell", func(t *testing.T) string {
			return writeCSVWith(t, "c.csv", before+"b@x.example,B,C,Sales,,,", "y", 16<<20, "\n")
		}, 4, "G", "cell G4 is longer than 32,767 characters", "shorten the text in that cell"},
		{"one giant quoted cell", func(t *testing.T) string {
			return writeCSVWith(t, "c.csv", before+"b@x.example,B,C,Sales,,,\"", "y", 16<<20, "\"\n")
		}, 4, "G", "cell G4 is longer than 32,767 characters", "shorten the text in that cell"},
		{"one giant line", func(t *testing.T) string {
			return writeCSVWith(t, "l.csv", before+"b@x.example,B,C,Sales", ","+strings.Repeat("y", 99), 16<<20, "\n")
		}, 4, "", "row 4 has a line longer than 1,048,576 bytes", "line break after every row"},
		{"a line of millions of cells", func(t *testing.T) string {
			return writeCSVWith(t, "l.csv", before+"b@x.example,B,C,Sales", ",", 16<<20, "\n")
		}, 4, "", "row 4 has more than 16,384 cells", "line break after every row"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path(t)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			d, ps := Read([]string{path}, Options{})
			runtime.ReadMemStats(&after)
			if len(ps) != 1 || ps[0].Severity != Error || ps[0].Source.Row != tt.row || ps[0].Column != tt.col ||
				!strings.Contains(ps[0].Message, tt.message) || !strings.Contains(ps[0].Fix, tt.fix) {
				t.Errorf("got:\n%swant one error on row %d column %q: %q", problemsText(ps), tt.row, tt.col, tt.message)
			}
			if n := len(d.Colleagues) + len(d.RejectedColleagues); n != 0 {
				t.Errorf("%d rows read from a refused file", n)
			}
			// Less than the file: it was not held whole.
			fi, _ := os.Stat(path)
			if grew := after.TotalAlloc - before.TotalAlloc; grew > uint64(fi.Size()) {
				t.Errorf("refusing a %d-byte file allocated %d bytes", fi.Size(), grew)
			}
		})
	}
}

// TestCSVRowLimitWhileStreaming: rows past the limit are not decoded first.
func TestCSVRowLimitWhileStreaming(t *testing.T) {
	var b strings.Builder
	b.WriteString("Email,First Name,Permissions\n")
	for range 100_000 {
		b.WriteString("a@x.example,A,Sales\n")
	}
	path := writeFile(t, "r.csv", []byte(b.String()))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	d, ps := Read([]string{path}, Options{MaxRows: 10})
	runtime.ReadMemStats(&after)
	checkProblems(t, ps, []wantProblem{{0, "", Error, "the file has more than 10 rows, the limit; none of its rows are used"}})
	if len(d.Colleagues)+len(d.RejectedColleagues) != 0 {
		t.Errorf("rows read from a refused file")
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 4<<20 {
		t.Errorf("refusing after 11 rows allocated %d bytes", grew)
	}
}

func TestBoundedTextFollowsLenientQuotes(t *testing.T) {
	// Cells of exactly the bound pass, however they are quoted; one byte more fails.
	const maxChars = 4 // 16 bytes
	cell := strings.Repeat("z", 16)
	for _, tt := range []struct {
		text string
		fail string // "" or the kind of bound
	}{
		{"a," + cell + "\n", ""},
		{"a," + cell + "z\n", "cell"},
		{"a,\"" + cell + "\"\n", ""},
		{"a,\"" + strings.Repeat("z", 14) + "\"\"\"\n", ""},               // "" is one byte of text
		{"a,\"" + strings.Repeat("z", 15) + "\"x\"\n", "cell"},            // a stray quote is text
		{"a,\"" + strings.Repeat("z", 8) + "\r\n" + "zzzzzz\"\r\n", ""},   // over a line break, closed
		{"a,\"" + strings.Repeat("z", 8) + "\n" + "zzzzzzzzz\n", "quote"}, // over a line break, open
		{"\"" + cell + "\",\"" + cell + "\"\r\n" + cell + "," + cell + "\n", ""},
	} {
		b := newBoundedText(strings.NewReader(tt.text), ',', maxChars, nil)
		_, err := io.ReadAll(b)
		be, _ := err.(*boundError)
		switch {
		case tt.fail == "" && err != nil:
			t.Errorf("%q: %v", tt.text, err)
		case tt.fail != "" && (be == nil || be.what != tt.fail):
			t.Errorf("%q: got %v, want a %s bound", tt.text, err, tt.fail)
		}
	}
}

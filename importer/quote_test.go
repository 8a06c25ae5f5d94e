package importer

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// A quote opened in a CSV cell and never closed would swallow every later row into
// that cell. The row with the quote is reported and skipped; the rows after it are
// read as usual, on their own row numbers.
func TestUnclosedQuote(t *testing.T) {
	const header = "Email,First Name,Last Name,Permissions\n"
	tests := []struct {
		name     string
		text     string
		want     []wantProblem
		accepted []string // e-mails, in order
		rejected int
	}{
		{
			name:     "quote runs to the end of the file",
			text:     header + "ok1@x.example,A,B,Dashboard\n\"unterminated@x.example,C,D,Dashboard\nok2@x.example,E,F,Dashboard\n",
			want:     []wantProblem{{3, "A", Error, "unterminated quote starting at row 3, column A"}},
			accepted: []string{"ok1@x.example", "ok2@x.example"},
			rejected: 1,
		},
		{
			name:     "crlf, blank lines and no final newline",
			text:     strings.ReplaceAll(header+"ok1@x.example,\"A,B,Dashboard\n\nok2@x.example,E,F,Dashboard\nok3@x.example,G,H,Dashboard", "\n", "\r\n"),
			want:     []wantProblem{{2, "B", Error, "unterminated quote starting at row 2, column B"}},
			accepted: []string{"ok2@x.example", "ok3@x.example"},
			rejected: 1,
		},
		{
			name:     "a later quote closes it by accident",
			text:     header + "ok1@x.example,\"A,B,Dashboard\nok2@x.example,\"E\",F,Dashboard\nok3@x.example,G,H,Dashboard\n",
			want:     []wantProblem{{2, "B", Error, "unterminated quote starting at row 2, column B"}},
			accepted: []string{"ok2@x.example", "ok3@x.example"},
			rejected: 1,
		},
		{
			name:     "semicolons: quote runs to the end of the file",
			text:     "Email;First Name;Last Name;Permissions\nok1@x.example;\"A;B;Dashboard\nok2@x.example;E;F;Dashboard\n",
			want:     []wantProblem{{2, "B", Error, "unterminated quote starting at row 2, column B"}},
			accepted: []string{"ok2@x.example"},
			rejected: 1,
		},
		{
			name:     "tabs: a later quote closes it by accident",
			text:     "Email\tFirst Name\tLast Name\tPermissions\nok1@x.example\t\"A\tB\tDashboard\nok2@x.example\t\"E\"\tF\tDashboard\n",
			want:     []wantProblem{{2, "B", Error, "unterminated quote starting at row 2, column B"}},
			accepted: []string{"ok2@x.example"},
			rejected: 1,
		},
		{
			name:     "two of them",
			text:     header + "\"a@x.example,A,B,Dashboard\nb@x.example,B,C,Dashboard\nc@x.example,\"C,D,Dashboard\nd@x.example,D,E,Dashboard\n",
			want:     []wantProblem{{2, "A", Error, "row 2, column A"}, {4, "B", Error, "row 4, column B"}},
			accepted: []string{"b@x.example", "d@x.example"},
			rejected: 2,
		},
		{
			name:     "multi-line cells are not mistaken for one",
			text:     header + "a@x.example,A,\"B\nC\",\"Dashboard\nBilling\n\"\nb@x.example,B,\"Remark, with a comma\nand a second line\",Dashboard\n",
			accepted: []string{"a@x.example", "b@x.example"},
		},
		{
			name:     "a later quote closes it by accident at the end of a row: the cell holds a row of its own",
			text:     header + "ok1@x.example,A,B,\"Dashboard\nswallowed@x.example,C,D,Dashboard\"\nok2@x.example,E,F,Dashboard\n",
			want:     []wantProblem{{2, "D", Error, `the cell in column D runs over several lines, and one of them looks like a row of its own ("swallowed@x.example,C,D,Dashboard")`}},
			accepted: []string{"ok2@x.example"},
			rejected: 1,
		},
		{
			name: "cannot be recovered after a multi-line cell in the same row",
			text: header + "a@x.example,\"A\nA\",B,\"Dashboard\nb@x.example,B,C,Dashboard\n",
			want: []wantProblem{{3, "D", Error, "unterminated quote starting at row 3, column D"}},
		},
		{
			name: "in the header",
			text: "\"Email,First Name,Last Name,Permissions\na@x.example,A,B,Dashboard\n",
			want: []wantProblem{{1, "A", Error, "unterminated quote starting at row 1, column A"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "q.csv", []byte(tt.text))
			d, ps := Read([]string{path}, Options{})
			checkProblems(t, ps, tt.want)
			var got []string
			for _, c := range d.Colleagues {
				got = append(got, c.Email())
			}
			if !slices.Equal(got, tt.accepted) {
				t.Errorf("accepted %q, want %q", got, tt.accepted)
			}
			if len(d.RejectedColleagues) != tt.rejected {
				t.Errorf("rejected %d rows, want %d", len(d.RejectedColleagues), tt.rejected)
			}
			for _, p := range ps {
				if strings.Contains(p.Message, "unterminated") && !strings.Contains(p.Fix, "close the quote") {
					t.Errorf("fix %q does not say to close the quote", p.Fix)
				}
			}
		})
	}
	t.Run("rows keep their numbers after it", func(t *testing.T) {
		path := writeFile(t, "q.csv", []byte(header+"\"a@x.example,A,B,Dashboard\n\nb@x.example,B,C,Dashboard\n"))
		d, _ := Read([]string{path}, Options{})
		if len(d.Colleagues) != 1 || d.Colleagues[0].Source().Row != 4 {
			t.Fatalf("got %+v, want b@x.example on row 4", d.Colleagues)
		}
	})
	t.Run("3CX export", func(t *testing.T) {
		path := writeFile(t, "3cx.csv", []byte("Number,FirstName,LastName,EmailAddress\n100,A,B,a@x.example\n101,\"C,D,c@x.example\n102,E,F,e@x.example\n"))
		d, ps := Read(nil, Options{ThreeCX: []ThreeCXSizing{{Path: path, PBX: "HQ"}}})
		checkProblems(t, ps, []wantProblem{{3, "B", Error, "unterminated quote starting at row 3, column B"}})
		if len(d.Instances) != 0 {
			t.Errorf("sized %+v from an export with an unclosed quote", d.Instances)
		}
	})
}

func TestUnclosedQuoteLimits(t *testing.T) {
	t.Run("many multi-line cells ending in a line break", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("Email,First Name,Permissions\n")
		for i := range 5000 {
			fmt.Fprintf(&b, "u%d@x.example,A,\"Dashboard\nBilling\n\"\n", i)
		}
		d, ps := Read([]string{writeFile(t, "m.csv", []byte(b.String()))}, Options{})
		if len(ps) > 0 || len(d.Colleagues) != 5000 {
			t.Errorf("%d colleagues; problems:\n%s", len(d.Colleagues), problemsText(ps[:min(len(ps), 5)]))
		}
	})
	t.Run("many closed multi-line cells full of delimiters", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("Email,First Name,Permissions,Remark\n")
		for i := range 5000 {
			fmt.Fprintf(&b, "u%d@x.example,A,Dashboard,\"Moved from Acme\nnew desk: Bldg 2, Floor 3, Room 4, Seat 5, by the window\"\n", i)
		}
		d, ps := Read([]string{writeFile(t, "m.csv", []byte(b.String()))}, Options{})
		if len(ps) > 0 || len(d.Colleagues) != 5000 {
			t.Errorf("%d colleagues; problems:\n%s", len(d.Colleagues), problemsText(ps[:min(len(ps), 5)]))
		}
	})
	t.Run("too many unclosed quotes refuse the file", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("Email,First Name,Permissions\n")
		for i := range maxStrayQuotes + 1 {
			fmt.Fprintf(&b, "\"u%d@x.example,A,Dashboard\nok%d@x.example,B,Dashboard\n", i, i)
		}
		d, ps := Read([]string{writeFile(t, "q.csv", []byte(b.String()))}, Options{})
		last := 2 + 2*maxStrayQuotes
		checkProblems(t, ps, []wantProblem{{last, "A", Error, fmt.Sprintf("unterminated quote starting at row %d, column A", last)}})
		if len(d.Colleagues) != 0 {
			t.Errorf("%d colleagues read from a refused file", len(d.Colleagues))
		}
	})
}

// A quoted cell that is properly closed is one cell, however many lines it has and
// however many delimiters those lines hold: a strict parse from its quote succeeds.
// Only a quote that never closes, or closes in a way encoding/csv refuses, is one
// that was left open.
func TestClosedMultiLineCells(t *testing.T) {
	remarks := []string{
		// The reviewer's case: the second line has more delimiters than the header.
		"Moved from Acme\nnew desk: Bldg 2, Floor 3, Room 4, Seat 5, by the window",
		"a; b; c; d; e\nf; g; h; i; j\nk;l;m;n;o;p;q",
		"tabs\there\tand\there\nand\tthere\t\t\t",
		"mail bob@x.example, B or C,\nabout it, then: a, b, c, d, e",
		"He said \"\"hi\"\", then left\n,,,,,\n;;;;;\n\t\t\t\t\t",
		"ends in a line break\n",
		"\n\nblank lines first, then: 1,2,3,4,5;6;7;8\t9\t10",
	}
	for _, delim := range []string{",", ";", "\t"} {
		for _, crlf := range []bool{false, true} {
			for k, remark := range remarks {
				name := fmt.Sprintf("delimiter %q crlf %v remark %d", delim, crlf, k)
				t.Run(name, func(t *testing.T) {
					quoted := `"` + strings.ReplaceAll(remark, `""`, `""`) + `"`
					row := func(cells ...string) string { return strings.Join(cells, delim) + "\n" }
					text := row("Email", "First Name", "Last Name", "Permissions", "Remark") +
						row("ann@x.example", "Ann", "A", "Dashboard", quoted) +
						row("ann2@x.example", "Ann", "B", `"Dashboard"`, quoted) +
						row("cat@x.example", "Cat", "C", "Dashboard", "plain")
					if crlf {
						text = strings.ReplaceAll(text, "\n", "\r\n")
					}
					d, ps := Read([]string{writeFile(t, "m.csv", []byte(text))}, Options{})
					if len(ps) > 0 {
						t.Errorf("problems:\n%s", problemsText(ps))
					}
					var got []string
					for _, c := range d.Colleagues {
						got = append(got, c.Email())
					}
					if want := []string{"ann@x.example", "ann2@x.example", "cat@x.example"}; !slices.Equal(got, want) {
						t.Fatalf("accepted %q, want %q", got, want)
					}
					want := strings.TrimSpace(strings.ReplaceAll(remark, `""`, `"`))
					if r, _ := d.Colleagues[0].Remark(); r != want {
						t.Errorf("remark %q, want %q", r, want)
					}
					if row := d.Colleagues[2].Source().Row; row != 4 { // a multi-line cell is one spreadsheet row
						t.Errorf("cat@x.example on row %d, want 4", row)
					}
				})
			}
		}
	}
}

// TestSwallowedRowIsUnsure: a row whose cell swallowed other rows is marked, so that
// nothing is pruned on the word of a sheet that may hide colleagues.
func TestSwallowedRowIsUnsure(t *testing.T) {
	text := "Email,First Name,Last Name,Permissions,Remark\n" +
		"ops@x.example,O,P,Dashboard,\"see below\nfinance@x.example,F,N,Dashboard,ok\nhire@x.example,N,H,Dashboard,fine\"\n" +
		"last@x.example,L,M,Dashboard,\n"
	d, _ := Read([]string{writeFile(t, "s.csv", []byte(text))}, Options{})
	if want := []Source{{File: "s.csv", Row: 2}}; !slices.Equal(d.Unsure, want) {
		t.Errorf("Unsure = %v, want %v", d.Unsure, want)
	}
	d, _ = Read([]string{writeFile(t, "ok.csv", []byte("Email,First Name,Last Name,Permissions,Remark\nops@x.example,O,P,Dashboard,\"two\nlines\"\n"))}, Options{})
	if len(d.Unsure) != 0 {
		t.Errorf("a plain multi-line remark made rows unsure: %v", d.Unsure)
	}
}

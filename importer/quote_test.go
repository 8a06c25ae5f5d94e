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

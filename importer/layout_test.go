package importer

import (
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSheetAndHeaderAliases(t *testing.T) {
	path := writeXLSX(t, "aliases.xlsx",
		sheet{"staff", [][]any{
			{"E_mail Address", "given name", "SURNAME", "Role", "YCM"},
			{"a@example.com", "Ann", "Lee", "Sales", "1"},
		}},
		sheet{"PBXs", [][]any{
			{"pbx name", "Target Extensions", "Concurrent-Call Capacity"},
			{"HQ", 30, 4},
		}},
	)
	d, ps := Read([]string{path}, Options{})
	if len(ps) > 0 {
		t.Fatalf("unexpected problems:\n%s", problemsText(ps))
	}
	if len(d.Colleagues) != 1 {
		t.Fatalf("Colleagues = %+v", d.Colleagues)
	}
	c := d.Colleagues[0].Fields()
	if c.Source.Sheet != "staff" || c.YCMManager == nil || !*c.YCMManager {
		t.Errorf("Colleague = %+v", c)
	}
	if c.Owner != nil || c.Remark != nil {
		t.Errorf("absent columns must give nil: %+v", c)
	}
	if len(d.Instances) != 1 || d.Instances[0].Extensions != 30 || d.Instances[0].ConcurrentCalls != 4 {
		t.Errorf("Instances = %+v", d.Instances)
	}
	if len(d.Layouts) != 2 || d.Layouts[0].Columns["Email"].Header != "E_mail Address" {
		t.Errorf("Layouts = %+v", d.Layouts)
	}
}

func TestHeaderProblems(t *testing.T) {
	t.Run("unknown columns warn", func(t *testing.T) {
		path := writeXLSX(t, "u.xlsx", sheet{"Colleagues", [][]any{
			{"Email", "First Name", "Last Name", "Permissions", "Phone", "Department"},
			{"a@example.com", "A", "B", "Sales", "123", "IT"},
		}})
		d, ps := Read([]string{path}, Options{})
		p, ok := findProblem(ps, "unknown columns ignored: Phone (E), Department (F)")
		if !ok || p.Severity != Warning || p.Source.Row != 1 {
			t.Errorf("got:\n%s", problemsText(ps))
		}
		if len(d.Colleagues) != 1 {
			t.Errorf("warning must not block: %+v", d)
		}
	})
	t.Run("missing required column", func(t *testing.T) {
		path := writeXLSX(t, "m.xlsx", sheet{"Colleagues", [][]any{
			{"Mail", "Given", "Permissions"},
			{"a@example.com", "A", "Sales"},
		}})
		d, ps := Read([]string{path}, Options{})
		p, ok := findProblem(ps, "missing required column First Name or Last Name", `found "Mail", "Given", "Permissions"`)
		if !ok || p.Severity != Error {
			t.Errorf("got:\n%s", problemsText(ps))
		}
		if len(d.Colleagues) != 0 {
			t.Errorf("read rows without a name column: %+v", d.Colleagues)
		}
	})
	// The README says "First Name, Last Name: at least one": either column will do.
	for _, tt := range []struct {
		name   string
		header []any
		row    []any
		want   []wantProblem
	}{
		{"first name alone", []any{"Email", "First Name", "Permissions"}, []any{"a@example.com", "Ann", "Sales"}, nil},
		{"last name alone", []any{"Email", "Last Name", "Permissions"}, []any{"a@example.com", "Lee", "Sales"}, nil},
		{"first name alone, empty", []any{"Email", "First Name", "Permissions"}, []any{"a@example.com", "", "Sales"},
			[]wantProblem{{2, "B", Error, "both first name and last name are empty"}}},
		{"last name alone, empty", []any{"Email", "Last Name", "Permissions"}, []any{"a@example.com", " ", "Sales"},
			[]wantProblem{{2, "B", Error, "both first name and last name are empty"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "n.csv", []byte(csvLine(tt.header)+csvLine(tt.row)))
			d, ps := Read([]string{path}, Options{})
			checkProblems(t, ps, tt.want)
			if got, want := len(d.Colleagues), 1-len(tt.want); got != want {
				t.Errorf("%d colleagues accepted, want %d", got, want)
			}
		})
	}
	t.Run("instances need a size column", func(t *testing.T) {
		path := writeXLSX(t, "m.xlsx", sheet{"Instances", [][]any{{"PBX", "Owner"}, {"HQ", "x"}}})
		_, ps := Read([]string{path}, Options{})
		if _, ok := findProblem(ps, "Extensions or Concurrent Calls"); !ok {
			t.Errorf("got:\n%s", problemsText(ps))
		}
	})
	t.Run("no known sheet", func(t *testing.T) {
		path := writeXLSX(t, "n.xlsx", sheet{"Budget", [][]any{{"Item", "Cost"}, {"x", 1}}})
		_, ps := Read([]string{path}, Options{})
		p, ok := findProblem(ps, `no Colleagues or Instances sheet (its sheets: "Budget")`)
		if !ok || p.Source.Row != 0 {
			t.Errorf("got:\n%s", problemsText(ps))
		}
	})
	t.Run("unnamed sheet read by its headers", func(t *testing.T) {
		path := writeXLSX(t, "s.xlsx", sheet{"Sheet1", [][]any{{"Email", "First Name", "Last Name", "Permissions"}, {"a@example.com", "A", "B", "Sales"}}})
		d, ps := Read([]string{path}, Options{})
		if _, ok := findProblem(ps, "was read as the Colleagues table"); !ok || HasErrors(ps) || len(d.Colleagues) != 1 {
			t.Errorf("got %+v\n%s", d, problemsText(ps))
		}
	})
	t.Run("doubled column", func(t *testing.T) {
		path := writeXLSX(t, "d.xlsx", sheet{"Colleagues", [][]any{
			{"Email", "First Name", "Last Name", "Permissions", "E-mail"},
			{"a@example.com", "A", "B", "Sales", "b@example.com"},
		}})
		d, ps := Read([]string{path}, Options{})
		if _, ok := findProblem(ps, `column E "E-mail" also means Email`); !ok || len(d.Colleagues) != 1 || d.Colleagues[0].Email() != "a@example.com" {
			t.Errorf("got %+v\n%s", d.Colleagues, problemsText(ps))
		}
	})
	t.Run("title rows and blank rows", func(t *testing.T) {
		path := writeXLSX(t, "b.xlsx", sheet{"Colleagues", [][]any{
			nil,
			{"Email", "First Name", "Last Name", "Permissions"},
			{" ", "\u00a0", nil, ""},
			nil,
			{"a@example.com", "A", "B", "Sales"},
		}})
		d, ps := Read([]string{path}, Options{})
		if len(ps) > 0 || len(d.Colleagues) != 1 || d.Colleagues[0].Source().Row != 5 {
			t.Errorf("got %+v\n%s", d.Colleagues, problemsText(ps))
		}
	})
}

func TestDuplicates(t *testing.T) {
	a := writeXLSX(t, "a.xlsx",
		sheet{"Colleagues", [][]any{
			{"Email", "First Name", "Last Name", "Permissions"},
			{"Ann@Example.com", "Ann", "Lee", "Sales"},
			{"bob@example.com", "Bob", "Ray", "Sales"},
			{"ann@example.com", "Ann", "Lee", "Support"},
		}},
		sheet{"Instances", [][]any{{"PBX", "Extensions"}, {"HQ", 50}}},
	)
	b := writeFile(t, "b.csv", []byte("Email,First Name,Last Name,Permissions\nBOB@example.com,Bob,Ray,Sales\n"))
	c := writeFile(t, "c.csv", []byte("PBX,Extensions\nhq,60\nBranch,20\n"))
	d, ps := Read([]string{a, b, c}, Options{})
	checkProblems(t, ps, []wantProblem{
		{2, "A", Error, "also in a.xlsx sheet Colleagues row 4"},
		{4, "A", Error, "also in a.xlsx sheet Colleagues row 2"},
		{3, "A", Error, "also in b.csv row 2"},
		{2, "A", Error, "also in a.xlsx sheet Colleagues row 3"},
		{2, "A", Error, "here and in c.csv row 2"},
		{2, "A", Error, "here and in a.xlsx sheet Instances row 2"},
	})
	if len(d.Colleagues) != 0 || len(d.RejectedColleagues) != 4 {
		t.Errorf("colleagues %d accepted, %d rejected", len(d.Colleagues), len(d.RejectedColleagues))
	}
	if len(d.Instances) != 1 || d.Instances[0].Ref != "Branch" || len(d.RejectedInstances) != 2 {
		t.Errorf("instances %+v rejected %+v", d.Instances, d.RejectedInstances)
	}
	if len(d.Files) != 3 {
		t.Errorf("Files = %+v", d.Files)
	}
}

func TestCheck(t *testing.T) {
	cat := Catalog{
		Permissions: []string{"Sales", "Technical Support", "Billing"},
		Partners:    []Partner{{ID: 1001, Email: "sub@partner.example"}},
		PBXs:        []PBXRef{{Name: "HQ", SN: "SN-1"}, {Name: "Branch", SN: "SN-2"}, {Name: "Branch", SN: "SN-3"}},
	}
	path := writeXLSX(t, "c.xlsx",
		sheet{"Colleagues", [][]any{
			{"Email", "First Name", "Last Name", "Permissions", "Owner"},
			{"a@example.com", "A", "B", "sales; technical support", "SUB@partner.example"},
			{"b@example.com", "A", "B", "Technical Suport", "1001"},
			{"c@example.com", "A", "B", "Sales, Admin", ""},
			{"d@example.com", "A", "B", "Sales", "nobody@x.example"},
		}},
		sheet{"Instances", [][]any{{"PBX", "Extensions"}, {"hq", 50}, {"sn-3", 50}, {"Branch", 50}, {"Brnch Office", 50}}},
	)
	d, ps := Read([]string{path}, Options{ThreeCX: nil})
	if len(ps) > 0 {
		t.Fatalf("Read: %s", problemsText(ps))
	}
	ps = Check(d, cat)
	checkProblems(t, ps, []wantProblem{
		{3, "D", Error, `did you mean "Technical Support"?`},
		{4, "D", Error, `no permission "Admin"`},
		{5, "E", Error, `owner "nobody@x.example" is neither`},
		{4, "A", Error, `2 cloud PBXs are named "Branch" (SN SN-2, SN-3)`},
		{5, "A", Error, `no cloud PBX is named "Brnch Office"`},
	})
	var got []string
	for _, c := range d.Colleagues {
		got = append(got, c.Email())
	}
	for _, in := range d.Instances {
		got = append(got, in.Ref)
	}
	if diff := cmp.Diff([]string{"a@example.com", "hq", "sn-3"}, got); diff != "" {
		t.Errorf("accepted (-want +got):\n%s", diff)
	}
	if len(d.RejectedColleagues) != 3 || len(d.RejectedInstances) != 2 {
		t.Errorf("rejected %d colleagues, %d instances", len(d.RejectedColleagues), len(d.RejectedInstances))
	}
	p, _ := findProblem(ps, "Technical Suport")
	if !strings.Contains(p.Fix, "Technical Support") || p.Value != "Technical Suport" || p.Header != "Permissions" {
		t.Errorf("near miss problem = %+v", p)
	}
}

func TestHeaderTypos(t *testing.T) {
	t.Run("misspelled required columns", func(t *testing.T) {
		path := writeFile(t, "t.csv", []byte("Emial,First Name,Last Name,Permisions\na@example.com,A,B,Sales\n"))
		_, ps := Read([]string{path}, Options{})
		w, ok := findProblem(ps, "unknown columns ignored: Emial (A, did you mean Email?), Permisions (D, did you mean Permissions?)")
		if !ok || w.Severity != Warning {
			t.Errorf("no did-you-mean warning; got:\n%s", problemsText(ps))
		}
		e, ok := findProblem(ps, "missing required columns Email, Permissions", `rename column A "Emial" to Email; rename column D "Permisions" to Permissions`)
		if !ok || e.Severity != Error {
			t.Errorf("the error does not say which column to rename; got:\n%s", problemsText(ps))
		}
	})
	t.Run("unrelated columns get no guess", func(t *testing.T) {
		path := writeFile(t, "t.csv", []byte("Email,First Name,Last Name,Permissions,Phone,Department\na@example.com,A,B,Sales,1,IT\n"))
		_, ps := Read([]string{path}, Options{})
		checkProblems(t, ps, []wantProblem{{1, "", Warning, "unknown columns ignored: Phone (E), Department (F)"}})
	})
}

func TestLevenshtein(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"email", "email", 0}, {"emial", "email", 1}, {"permisions", "permissions", 1},
		{"", "abc", 3}, {"abc", "", 3}, {"kitten", "sitting", 3}, {"ab", "ba", 1}, {"ca", "abc", 3},
	} {
		if got := levenshtein(tt.a, tt.b); got != tt.want {
			t.Errorf("levenshtein(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

// A title or a note above the table: the header row is found a few rows down, and a
// warning says which rows were skipped.
func TestTitleRows(t *testing.T) {
	title := []any{"Onboarding wave 3"}
	note := []any{"Prepared by Ann", nil, "26 Nov"}
	row := []any{"a@example.com", "A", "B", "Sales", "", "", "", ""}
	tests := []struct {
		name string
		path func(t *testing.T) string
		want []wantProblem
		rows []int // rows of the colleagues read
	}{
		{"workbook", func(t *testing.T) string {
			return writeXLSX(t, "t.xlsx", sheet{"Colleagues", [][]any{title, {}, note, colleagueHeader, row}})
		}, []wantProblem{{4, "", Warning, `row 1 ("Onboarding wave 3") does not hold the headers; they were found in row 4`}}, []int{5}},
		{"workbook sheet named otherwise", func(t *testing.T) string {
			return writeXLSX(t, "t.xlsx", sheet{"Wave 3", [][]any{title, colleagueHeader, row}})
		}, []wantProblem{
			{0, "", Warning, `sheet "Wave 3" was read as the Colleagues table`},
			{2, "", Warning, `row 1 ("Onboarding wave 3") does not hold the headers; they were found in row 2`},
		}, []int{3}},
		{"csv", func(t *testing.T) string {
			return writeFile(t, "t.csv", []byte("Onboarding wave 3,,,\n,,,\n"+csvLine(colleagueHeader)+csvLine(row)))
		}, []wantProblem{{3, "", Warning, `row 1 ("Onboarding wave 3") does not hold the headers; they were found in row 3`}}, []int{4}},
		{"a header row with a missing column below a title: its own problem is said", func(t *testing.T) string {
			return writeFile(t, "t.csv", []byte("Onboarding wave 3\n\nEmail,First Name,Last Name\na@example.com,A,B\n"))
		}, []wantProblem{
			{3, "", Error, "missing required column Permissions in the header row"},
			{3, "", Warning, `row 1 ("Onboarding wave 3") does not hold the headers; they were found in row 3`},
		}, nil},
		{"no header row at all", func(t *testing.T) string {
			return writeXLSX(t, "t.xlsx", sheet{"Colleagues", [][]any{title, {"a@example.com", "A"}, {"b@example.com", "B"}}})
		}, []wantProblem{
			{1, "", Error, "missing required columns Email, Permissions, First Name or Last Name"},
			{1, "", Warning, "unknown column ignored: Onboarding wave 3 (A)"},
		}, nil},
		{"headers too far down", func(t *testing.T) string {
			return writeFile(t, "t.csv", []byte("Title\n1\n2\n3\n4\n5\n"+csvLine(colleagueHeader)+csvLine(row)))
		}, []wantProblem{{0, "", Error, "the header row names neither colleagues"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, ps := Read([]string{tt.path(t)}, Options{})
			checkProblems(t, ps, tt.want)
			var rows []int
			for _, c := range d.Colleagues {
				rows = append(rows, c.Source().Row)
			}
			if !slices.Equal(rows, tt.rows) {
				t.Errorf("colleagues on rows %v, want %v", rows, tt.rows)
			}
		})
	}
}

// Permissions separated by / or | are one unknown name to the portal: the problem
// says to separate them with ;.
func TestCheckSeparators(t *testing.T) {
	cat := Catalog{Permissions: []string{"Dashboard", "Technical Support", "Billing", "Orders/Returns"}}
	path := writeFile(t, "p.csv", []byte("Email,First Name,Permissions\n"+
		"a@example.com,A,Dashboard/Billing\n"+
		"b@example.com,B,dashboard | technical support\n"+
		"c@example.com,C,Dashboard/Admin\n"+
		"d@example.com,D,Orders/Returns\n"))
	d, ps := Read([]string{path}, Options{})
	if len(ps) > 0 {
		t.Fatalf("Read: %s", problemsText(ps))
	}
	ps = Check(d, cat)
	checkProblems(t, ps, []wantProblem{
		{2, "C", Error, `no permission "Dashboard/Billing"; it looks like several permissions separated by / or |`},
		{3, "C", Error, `no permission "dashboard | technical support"; it looks like several permissions`},
		{4, "C", Error, `no permission "Dashboard/Admin"`},
	})
	for _, w := range []struct {
		row int
		fix string
	}{
		{2, "separate permissions with ; and write Dashboard; Billing"},
		{3, "separate permissions with ; and write Dashboard; Technical Support"},
		{4, "separate several permissions with ; (not / or |)"},
	} {
		for _, p := range ps {
			if p.Source.Row == w.row && !strings.HasPrefix(p.Fix, w.fix) {
				t.Errorf("row %d fix = %q, want it to start %q", w.row, p.Fix, w.fix)
			}
		}
	}
	if len(d.Colleagues) != 1 || d.Colleagues[0].Email() != "d@example.com" {
		t.Errorf("a permission named with a / must still be accepted: %+v", d.Colleagues)
	}
}

func TestTitleLineWithoutDelimiter(t *testing.T) {
	path := writeFile(t, "t.csv", []byte("Onboarding wave 3\n\nEmail;First Name;Permissions\na@example.com;A;Sales\n"))
	d, ps := Read([]string{path}, Options{})
	checkProblems(t, ps, []wantProblem{{3, "", Warning, `row 1 ("Onboarding wave 3") does not hold the headers`}})
	if len(d.Colleagues) != 1 || d.Colleagues[0].Source().Row != 4 || d.Colleagues[0].FirstName() != "A" {
		t.Errorf("colleagues = %+v", d.Colleagues)
	}
}

// A Status column is read as State: absent deletes, as it did before Status was
// briefly ignored. A portal export's statuses (Active, Pending) are read as present,
// with one warning per table; anything else is refused like a bad State.
func TestStatusColumn(t *testing.T) {
	const head = "Email,First Name,Last Name,Permissions,Status\n"
	portalWarning := "Status holds portal statuses, read as present"
	tests := []struct {
		name     string
		csv      string
		present  []string // e-mails read as present
		absent   []string // e-mails read as absent
		rejected []string
		problems []wantProblem
	}{
		{
			name:    "absent deletes",
			csv:     head + "stay@example.com,S,T,Sales,present\nleft.company@demo.example,L,C,Sales,absent\n",
			present: []string{"stay@example.com"}, absent: []string{"left.company@demo.example"},
		},
		{
			name:    "State words in any case, blank is present",
			csv:     head + "a@example.com,A,B,Sales, Present \nb@example.com,B,C,Sales,\nc@example.com,C,D,,ABSENT\n",
			present: []string{"a@example.com", "b@example.com"}, absent: []string{"c@example.com"},
		},
		{
			name: "portal statuses are present, with one warning",
			csv: head + "a@example.com,A,B,Sales,Active\nb@example.com,B,C,Sales,Pending\nc@example.com,C,D,Sales,Un-Active\nd@example.com,D,E,Sales,frozen\n" +
				"e@example.com,E,F,Sales,Pending Activation\n",
			present:  []string{"a@example.com", "b@example.com", "c@example.com", "d@example.com", "e@example.com"},
			problems: []wantProblem{{2, "E", Warning, portalWarning}},
		},
		{
			name:     "anything else is a row error",
			csv:      head + "a@example.com,A,B,Sales,gone\nb@example.com,B,C,Sales,Active\n",
			present:  []string{"b@example.com"},
			rejected: []string{"a@example.com"},
			problems: []wantProblem{{2, "E", Error, `the status "gone" is neither present nor absent`}, {3, "E", Warning, portalWarning}},
		},
		{
			name: "a mix in one sheet",
			csv: head + "a@example.com,A,B,Sales,Active\nleft.company@demo.example,L,C,Sales,absent\n" +
				"b@example.com,B,C,Sales,Invited\nc@example.com,C,D,Sales,present\nd@example.com,D,E,Sales,deleted\ne@example.com,E,F,Sales,\n",
			present:  []string{"a@example.com", "b@example.com", "c@example.com", "e@example.com"},
			absent:   []string{"left.company@demo.example"},
			rejected: []string{"d@example.com"},
			problems: []wantProblem{{2, "E", Warning, portalWarning}, {6, "E", Error, `the status "deleted" is neither present nor absent, nor a portal status`}},
		},
		{
			name:     "a State column is not lenient",
			csv:      "Email,First Name,Last Name,Permissions,State\na@example.com,A,B,Sales,Active\n",
			rejected: []string{"a@example.com"},
			problems: []wantProblem{{2, "E", Error, `the state "Active" is neither present nor absent`}},
		},
		{
			name:     "State wins over a Status column left of it",
			csv:      "Email,Status,First Name,Last Name,Permissions,State\na@example.com,Active,A,B,Sales,absent\nb@example.com,absent,B,C,Sales,\n",
			present:  []string{"b@example.com"},
			absent:   []string{"a@example.com"},
			problems: []wantProblem{{1, "B", Warning, `column B "Status" is ignored: column F "State" says`}},
		},
		{
			name:     "State wins over a Status column right of it",
			csv:      "Email,First Name,Last Name,Permissions,State,Status\na@example.com,A,B,Sales,absent,Active\n",
			absent:   []string{"a@example.com"},
			problems: []wantProblem{{1, "F", Warning, `column F "Status" also means State, already read from column E "State"`}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "t.csv", []byte(tt.csv))
			d, ps := Read([]string{path}, Options{})
			checkProblems(t, ps, tt.problems)
			var present, absent, rejected []string
			for _, c := range d.Colleagues {
				if c.State() == Absent {
					absent = append(absent, c.Email())
				} else {
					present = append(present, c.Email())
				}
			}
			for _, c := range d.RejectedColleagues {
				rejected = append(rejected, c.Email())
			}
			if diff := cmp.Diff(tt.present, present); diff != "" {
				t.Errorf("present (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.absent, absent); diff != "" {
				t.Errorf("absent (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.rejected, rejected); diff != "" {
				t.Errorf("rejected (-want +got):\n%s", diff)
			}
		})
	}
}

// The portal-status warning is one per table: each file gets its own.
func TestStatusWarningPerFile(t *testing.T) {
	const head = "Email,First Name,Last Name,Permissions,Status\n"
	one := writeFile(t, "one.csv", []byte(head+"a@example.com,A,B,Sales,Active\nb@example.com,B,C,Sales,Pending\n"))
	two := writeFile(t, "two.csv", []byte(head+"c@example.com,C,D,Sales,absent\nd@example.com,D,E,Sales,Disabled\n"))
	d, ps := Read([]string{one, two}, Options{})
	checkProblems(t, ps, []wantProblem{
		{2, "E", Warning, "Status holds portal statuses, read as present"},
		{3, "E", Warning, "Status holds portal statuses, read as present"},
	})
	var files []string
	for _, p := range ps {
		files = append(files, p.Source.File)
	}
	if diff := cmp.Diff([]string{"one.csv", "two.csv"}, files); diff != "" {
		t.Errorf("warned files (-want +got):\n%s", diff)
	}
	var absent []string
	for _, c := range d.Colleagues {
		if c.State() == Absent {
			absent = append(absent, c.Email())
		}
	}
	if len(d.Colleagues) != 4 || !slices.Equal(absent, []string{"c@example.com"}) {
		t.Errorf("colleagues = %+v", d.Colleagues)
	}
}

// TestManyCopiesOfOneAddress: each of 2,000 rows of one e-mail is rejected with a
// problem naming three of the others and counting the rest, so the problems grow with
// the rows, not their square (naming every other row took 2 GB for 10,000 such rows,
// a 0.6 MB file).
func TestManyCopiesOfOneAddress(t *testing.T) {
	var b strings.Builder
	b.WriteString("Email,First Name,Last Name,Permissions\n")
	const n = 2000
	for range n {
		b.WriteString("same@example.com,Ann,Lee,Sales\n")
	}
	path := writeFile(t, "same.csv", []byte(b.String()))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	d, ps := Read([]string{path}, Options{})
	runtime.ReadMemStats(&after)
	if len(d.Colleagues) != 0 || len(d.RejectedColleagues) != n {
		t.Fatalf("%d accepted, %d rejected; want all %d rejected", len(d.Colleagues), len(d.RejectedColleagues), n)
	}
	dups := 0
	for _, p := range ps {
		if strings.Contains(p.Message, "appears more than once") {
			dups++
			if !strings.HasSuffix(p.Message, "and 1,996 more rows") || strings.Count(p.Message, "same.csv row") != 3 {
				t.Fatalf("row %d: %q, want three places named and 1,996 more", p.Source.Row, p.Message)
			}
		}
	}
	if dups != n {
		t.Errorf("%d duplicate problems, want %d", dups, n)
	}
	// 16 KB a row is generous; naming every other row allocated over 100 MB here.
	if got := after.TotalAlloc - before.TotalAlloc; got > 32<<20 {
		t.Errorf("reading allocated %d MB, want under 32 MB", got>>20)
	}
}

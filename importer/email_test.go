package importer

import (
	"strings"
	"testing"
)

func TestEmailProblem(t *testing.T) {
	long := strings.Repeat("a", 65)
	tests := []struct {
		in      string
		msg     string // "" when the address is accepted
		meaning string // the address the fix suggests, "" when none
	}{
		{"ann@x.example", "", ""},
		{"ann.lee+sales@x.example", "", ""},
		{"o'brien@x.example", "", ""},
		{"a!#$%&'*+-/=?^_`{|}~z@x.example", "", ""},
		{"ann@bücher.example", "", ""},
		{".leading@x.example", "starts with a dot", "leading@x.example"},
		{"a..b@x.example", "two dots in a row before the @", "a.b@x.example"},
		{"trail.@x.example", "dot just before the @", "trail@x.example"},
		{"ann@x.example.", "misplaced dot in the domain", "ann@x.example"},
		{"ann@x..example", "misplaced dot in the domain", "ann@x.example"},
		{"Ann Lee <ann@x.example>", "has a display name", "ann@x.example"},
		{"Ann Lee < ann@x.example >", "has a display name", "ann@x.example"},
		{"mailto:ann@x.example", "starts with mailto:", "ann@x.example"},
		{"MAILTO:ann@x.example", "starts with mailto:", "ann@x.example"},
		{"ann lee@x.example", "contains a space", "annlee@x.example"},
		{"ann@x.example,", "contains a comma or semicolon", "ann@x.example"},
		{"ann,bob@x.example", "contains a comma or semicolon", ""},
		{`"ann"@x.example`, `the character '"' before the @`, ""},
		{"ann(work)@x.example", `the character '(' before the @`, ""},
		{"zoë@x.example", `the character 'ë' before the @`, ""},
		{long + "@x.example", "65 characters, more than the 64", ""},
		{"a@" + strings.Repeat("b", 250) + ".example", "260 characters, more than the 254", ""},
		{"ann@x_y.example", `the character '_' in the domain`, ""},
		{"ann@-x.example", "starts or ends with a hyphen", ""},
		{"ann@localhost", "no dot in the domain", ""},
		{"@x.example", "nothing before the @", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			msg, fix := emailProblem(tt.in)
			if tt.msg == "" {
				if msg != "" {
					t.Fatalf("emailProblem(%q) = %q, %q; want it accepted", tt.in, msg, fix)
				}
				return
			}
			if !strings.Contains(msg, tt.msg) {
				t.Errorf("message = %q, want it to contain %q", msg, tt.msg)
			}
			if fix == "" {
				t.Errorf("no fix for %q", tt.in)
			}
			hasMeaning := strings.Contains(fix, "did you mean")
			switch {
			case tt.meaning == "" && hasMeaning:
				t.Errorf("fix = %q, want no suggestion", fix)
			case tt.meaning != "" && !strings.Contains(fix, "did you mean "+tt.meaning+"?"):
				t.Errorf("fix = %q, want did you mean %s?", fix, tt.meaning)
			}
		})
	}
}

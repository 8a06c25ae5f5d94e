package importer

import (
	"strings"
	"testing"
)

// TestControlCharactersRejectTheirRow: ESC, BEL, 0x01, NUL past the first 4 KiB and a
// right-to-left override are not text: the row is rejected with its column named, the
// value shown escaped, and the other rows go on.
func TestControlCharactersRejectTheirRow(t *testing.T) {
	pad := strings.Repeat("x", 5000) // NUL past the first 4 KiB, where no binary sniffing looks
	csv := "Email,First Name,Last Name,Permissions,Remark\n" +
		"ok@demo.example,Ok,Row,Dashboard,fine\n" +
		"esc@demo.example,E\x1b[2Ksc,Row,Dashboard,\n" +
		"bel@demo.example,Bel,Row,Dashboard,ring\x07\n" +
		"soh@demo.example,Soh,Row,Dashboard\x01,\n" +
		"nul@demo.example,Nul,Row,Dashboard," + pad + "\x00\n" +
		"rtl@demo.example,Evil\u202egnp.exe,Row,Dashboard,\n" +
		"lines@demo.example,Lines,Row,Dashboard,\"two\nlines\"\n"
	d, ps := Read([]string{writeFile(t, "wave.csv", []byte(csv))}, Options{})
	want := map[int]string{3: "B", 4: "E", 5: "D", 6: "E", 7: "B"}
	got := map[int]string{}
	for _, p := range ps {
		if p.Severity == Error && strings.Contains(p.Message, "control character") {
			got[p.Source.Row] = p.Column
			if strings.ContainsFunc(p.Value, isControlChar) {
				t.Errorf("row %d: the value %q is shown raw", p.Source.Row, p.Value)
			}
		}
	}
	for row, col := range want {
		if got[row] != col {
			t.Errorf("row %d: control character reported in column %q, want %q\n%s", row, got[row], col, problemsText(ps))
		}
	}
	if len(d.Colleagues) != 2 || len(d.RejectedColleagues) != 5 {
		t.Errorf("%d accepted, %d rejected; want 2 (ok, lines) and 5", len(d.Colleagues), len(d.RejectedColleagues))
	}
	if got := EscapeControl("a\x1b[2Kb\u202ec"); got != `a\x1b[2Kb\u202ec` {
		t.Errorf("EscapeControl = %q", got)
	}
}

// TestRejectedRowsAreCheckedToo: a row with a bad e-mail is also checked against the
// portal, so one upload names its misspelled permission as well.
func TestRejectedRowsAreCheckedToo(t *testing.T) {
	csv := "Email,First Name,Permissions\nann.example.com,Ann,Dashbord\nbo@demo.example,Bo,Dashboard\n"
	d, ps := Read([]string{writeFile(t, "wave.csv", []byte(csv))}, Options{})
	ps = append(ps, Check(d, Catalog{Permissions: []string{"Dashboard"}})...)
	cols := map[string]bool{}
	for _, p := range ps {
		if p.Source.Row == 2 && p.Severity == Error {
			cols[p.Column] = true
		}
	}
	if !cols["A"] || !cols["C"] {
		t.Errorf("row 2's errors are in columns %v, want A (e-mail) and C (permission)\n%s", cols, problemsText(ps))
	}
	if len(d.Colleagues) != 1 || len(d.RejectedColleagues) != 1 {
		t.Errorf("%d accepted, %d rejected; want 1 and 1", len(d.Colleagues), len(d.RejectedColleagues))
	}
}

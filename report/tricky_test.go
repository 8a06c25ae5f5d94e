package report

import (
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/ycm-onboard/ycm-onboard/reconcile"
)

// TestTrickyText writes names a spreadsheet could mangle and reads them back.
func TestTrickyText(t *testing.T) {
	names := []struct{ in, want string }{
		{"  padded  ", "  padded  "},
		{"tab\there", "tab\there"},
		{"two\r\nlines", "two\r\nlines"},
		{"<b>&amp;</b>", "<b>&amp;</b>"},
		{"_x0041_", "_x0041_"}, // Excel's own escape, as literal text
		{"0012", "0012"},
		{"1e5", "1e5"},
		{"TRUE", "TRUE"},
		{"2026-03-02", "2026-03-02"},
		{"'quoted", "'quoted"},
		{"=cmd", "=cmd"},
		{"nul\x00bell\x07", "nul\ufffdbell\ufffd"}, // XML 1.0 cannot hold them
		{"日本語 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 👍", "日本語 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 👍"},
		{strings.Repeat("x", 40000), strings.Repeat("x", 32767)}, // Excel's cell limit
	}
	r := Run{Mode: "plan", Now: t0}
	for _, n := range names {
		r.Plan.Actions = append(r.Plan.Actions, reconcile.Action{Kind: reconcile.Noop, Label: "a@b.example", Name: n.in, Source: src(2)})
	}
	path := writeTemp(t, r)
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	for i, n := range names {
		cell, _ := excelize.CoordinatesToCellName(3, i+2)
		got := cellText(t, f, sheetColleagues, cell)
		if got != n.want {
			t.Errorf("name %q read back as %q, want %q", trim(n.in), trim(got), trim(n.want))
		}
		typ, err := f.GetCellType(sheetColleagues, cell)
		if err != nil {
			t.Fatal(err)
		}
		if typ != excelize.CellTypeInlineString {
			t.Errorf("name %q stored as type %v, want an inline string", trim(n.in), typ)
		}
	}
}

func trim(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

package report

import (
	"archive/zip"
	"bytes"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ycm-onboard/ycm-onboard/importer"
	"github.com/ycm-onboard/ycm-onboard/reconcile"
)

// TestRowsAsExcelizeWrites checks that the rows rendered while saving are, byte for
// byte, what excelize's StreamWriter.SetRow writes for the same cells, and that every
// other part of the workbook is unchanged.
func TestRowsAsExcelizeWrites(t *testing.T) {
	tricky := Run{Mode: "plan", Now: t0}
	for _, s := range []string{
		"  padded  ", "tab\there", "two\r\nlines\n", "\nled", "<b>&amp;</b> \"q\" 'a'", "_x0041_", "_x005F_x0041_",
		"a_x005F_b", "_xZZZZ_", "0012", "1e5", "TRUE", "=cmd", "nul\x00bell\x07", "bad\xffutf8", "\ufffd",
		"日本語 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 👍", strings.Repeat("x", 40000), strings.Repeat("👍", 20000), "",
	} {
		tricky.Plan.Actions = append(tricky.Plan.Actions, reconcile.Action{Kind: reconcile.Update, Label: s, Name: s, Source: src(2),
			Changes: []reconcile.Change{{Field: s, Old: s, New: "x"}}, Reason: s})
		tricky.Problems = append(tricky.Problems, importer.Problem{Source: *src(2), Value: s, Message: s, Fix: s})
	}
	// Dates and hours at the edges: before Excel's epoch, in 1900, far ahead, not UTC.
	dated := applyRun()
	for i, at := range []time.Time{
		time.Date(1899, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1900, 2, 28, 12, 0, 0, 0, time.UTC),
		time.Date(2400, 1, 1, 0, 0, 0, 1, time.UTC), t0.Add(-time.Nanosecond).In(time.FixedZone("X", 5*3600+1800)),
	} {
		dated.Plan.Actions = append(dated.Plan.Actions, reconcile.Action{Kind: reconcile.Noop, Object: reconcile.ColleagueObject,
			Label: "d", Source: src(20 + i), Activation: reconcile.ActivationPending, InvitedAt: at})
		dated.Results = append(dated.Results, reconcile.Result{Outcome: reconcile.Unchanged})
	}
	dated.Now = time.Date(2400, 1, 1, 0, 0, 0, 0, time.UTC).Add(-3*time.Hour - 8*time.Minute - 29*time.Second - 7*time.Millisecond)
	for name, r := range map[string]Run{
		"apply": applyRun(), "plan": planRun(), "interrupted": interruptedRun(), "empty": {Mode: "plan"},
		"tricky": tricky, "dated": dated, "big": bigRun(3000),
	} {
		t.Run(name, func(t *testing.T) {
			want, got := zipParts(t, r, true), zipParts(t, r, false)
			for part, w := range want {
				if g, ok := got[part]; !ok {
					t.Errorf("%s: missing", part)
				} else if !bytes.Equal(g, w) {
					i := 0
					for i < min(len(g), len(w)) && g[i] == w[i] {
						i++
					}
					t.Errorf("%s differs at byte %d:\n got …%s…\nwant …%s…", part, i,
						g[max(i-80, 0):min(i+80, len(g))], w[max(i-80, 0):min(i+80, len(w))])
				}
			}
			if len(got) != len(want) {
				t.Errorf("%d parts, want %d", len(got), len(want))
			}
		})
	}
}

// zipParts writes r and returns its parts by name.
func zipParts(t *testing.T, r Run, viaSetRow bool) map[string][]byte {
	t.Helper()
	var buf bytes.Buffer
	if err := writeTo(&buf, r, viaSetRow); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	parts := map[string][]byte{}
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		_ = rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if zf.Name == "[Content_Types].xml" { // excelize writes its defaults in map order
			elems := strings.Split(string(b), "><")
			slices.Sort(elems)
			b = []byte(strings.Join(elems, "><"))
		}
		parts[zf.Name] = b
	}
	return parts
}

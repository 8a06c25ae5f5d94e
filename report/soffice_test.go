package report

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ycm-onboard/ycm-onboard/internal/soffice"
)

// TestLibreOfficeOpens converts reports to PDF with LibreOffice: a workbook it cannot
// read fails here, and the first page must be the Summary. It needs the Debian packages
// libreoffice-calc-nogui (soffice) and poppler-utils (pdftotext, pdftoppm).
func TestLibreOfficeOpens(t *testing.T) {
	if testing.Short() {
		t.Skip("LibreOffice check skipped in -short mode")
	}
	soffice.Path(t)
	pdftotext, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Skip("pdftotext not found: install poppler-utils to run this check")
	}
	dir := t.TempDir()
	runs := map[string]Run{"apply": applyRun(), "interrupted": interruptedRun(), "plan": planRun()}
	var files []string
	for name, r := range runs {
		path := filepath.Join(dir, name+".xlsx")
		if err := writeFile(path, r); err != nil {
			t.Fatal(err)
		}
		files = append(files, path)
	}
	soffice.Convert(t, dir, "pdf", dir, files...)
	for name, want := range map[string][]string{
		"apply":       {"ycm-onboard apply report", "Actions by outcome", "Most frequent errors"},
		"interrupted": {"STOPPED by a portal error", "INTERRUPTED", "Actions by outcome"},
		"plan":        {"ycm-onboard plan report", "GUARD TRIPPED", "Sign-off"},
	} {
		pdf := filepath.Join(dir, name+".pdf")
		out, err := exec.CommandContext(t.Context(), pdftotext, "-f", "1", "-l", "1", "-layout", pdf, "-").Output()
		if err != nil {
			t.Fatalf("pdftotext %s: %v (LibreOffice did not convert it)", pdf, err)
		}
		page := strings.Join(strings.Fields(string(out)), " ")
		for _, w := range want {
			if !strings.Contains(page, w) {
				t.Errorf("%s.pdf page 1 lacks %q; it reads:\n%s", name, w, out)
			}
		}
	}
	// LibreOffice itself must show the input as written, not evaluate it: export the
	// Colleagues sheet (sheet 2) to CSV.
	csvFilter := "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,2"
	soffice.Convert(t, dir, csvFilter, filepath.Join(dir, "csv"), filepath.Join(dir, "apply.xlsx"))
	csv, err := os.ReadFile(filepath.Join(dir, "csv", "apply-Colleagues.csv"))
	if err != nil {
		t.Fatalf("LibreOffice wrote no CSV of the Colleagues sheet: %v", err)
	}
	for _, want := range []string{`"=HYPERLINK(""http://evil.example"",""x"")"`, `+cmd|' /C calc'!A0`, ",-2+3,", "Remark: 0012 → @SUM(A1:A2)"} {
		if !strings.Contains(string(csv), want) {
			t.Errorf("LibreOffice's CSV of Colleagues lacks %s; it reads:\n%s", want, csv)
		}
	}

	if png, err := exec.LookPath("pdftoppm"); err == nil {
		out := filepath.Join(dir, "apply-summary")
		if b, err := exec.CommandContext(t.Context(), png, "-png", "-r", "60", "-f", "1", "-l", "1",
			filepath.Join(dir, "apply.pdf"), out).CombinedOutput(); err != nil {
			t.Errorf("pdftoppm: %v\n%s", err, b)
		}
		if keep := os.Getenv("REPORT_KEEP_PNG"); keep != "" {
			matches, _ := filepath.Glob(out + "*.png")
			for _, m := range matches {
				if b, err := os.ReadFile(m); err == nil {
					_ = os.WriteFile(filepath.Join(keep, filepath.Base(m)), b, 0o644)
				}
			}
		}
	}
}

package importer

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ycm-onboard/ycm-onboard/internal/soffice"
)

// TestLibreOfficeResaves opens the template and an export in LibreOffice and saves
// them again as .xlsx, as a person would: both must still read as the same input, and
// the template keeps its drop-downs. It needs soffice (libreoffice-calc-nogui).
func TestLibreOfficeResaves(t *testing.T) {
	if testing.Short() {
		t.Skip("LibreOffice check skipped in -short mode")
	}
	soffice.Path(t)
	dir := t.TempDir()
	var tmpl, export bytes.Buffer
	if err := WriteTemplate(&tmpl, testCatalog); err != nil {
		t.Fatal(err)
	}
	cols, insts := exportFixture(200)
	if err := WriteExport(&export, cols, insts); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "in")
	if err := os.Mkdir(in, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"template.xlsx": tmpl.Bytes(), "export.xlsx": export.Bytes()} {
		if err := os.WriteFile(filepath.Join(in, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "out")
	soffice.Convert(t, dir, "xlsx:Calc MS Excel 2007 XML", out, filepath.Join(in, "template.xlsx"), filepath.Join(in, "export.xlsx"))

	tp := filepath.Join(out, "template.xlsx")
	if d, ps := Read([]string{tp}, Options{}); !onlyNothingToDo(ps) || len(d.Colleagues)+len(d.Instances) > 0 {
		t.Errorf("template saved by LibreOffice: %+v\n%s", d, problemsText(ps))
	}
	f := openXLSX(t, tp)
	var lists []string
	for _, v := range validations(t, f, "Colleagues") {
		if v.Type == "list" {
			lists = append(lists, v.Formula1)
		}
	}
	if len(lists) != 4 {
		t.Errorf("drop-downs after LibreOffice: %q", lists)
	}

	ep := filepath.Join(out, "export.xlsx")
	d, ps := Read([]string{ep}, Options{})
	if len(ps) > 0 {
		t.Fatalf("export saved by LibreOffice:\n%s", problemsText(ps[:min(len(ps), 20)]))
	}
	if len(d.Colleagues) != len(cols) || len(d.Instances) != len(insts) {
		t.Fatalf("%d colleagues and %d PBXs, want %d and %d", len(d.Colleagues), len(d.Instances), len(cols), len(insts))
	}
	for i, c := range cols {
		got := d.Colleagues[i]
		want := NewColleague(ColleagueFields{Email: c.Email, FirstName: c.FirstName, LastName: c.LastName, Permissions: c.Permissions,
			YCMManager: ptr(c.YCMManager), Owner: ptr(c.Owner), Remark: ptr(c.Remark)})
		if diff := cmp.Diff(want, got, byFields, cmpopts.IgnoreFields(ColleagueFields{}, "Source")); diff != "" {
			t.Errorf("row %d after LibreOffice (-want +got):\n%s", i+2, diff)
		}
	}
}

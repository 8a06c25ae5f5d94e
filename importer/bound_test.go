package importer

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rewriteZip copies a workbook, replacing the named parts' contents.
func rewriteZip(t *testing.T, src string, parts map[string]func(w io.Writer)) string {
	t.Helper()
	zr, err := zip.OpenReader(src)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	seen := map[string]bool{}
	for _, f := range zr.File {
		w, err := zw.Create(f.Name)
		if err != nil {
			t.Fatal(err)
		}
		if fill, ok := parts[f.Name]; ok {
			fill(w)
			seen[f.Name] = true
			continue
		}
		rc, _ := f.Open()
		io.Copy(w, rc)
		rc.Close()
	}
	for name, fill := range parts {
		if !seen[name] {
			w, _ := zw.Create(name)
			fill(w)
		}
	}
	zw.Close()
	out := filepath.Join(t.TempDir(), "crafted.xlsx")
	if err := os.WriteFile(out, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestHostileWorkbooksAreRefusedWhileStreaming: one giant cell, or millions of tiny
// shared strings in a small file, are refused from the bytes as they stream past,
// before excelize holds them.
func TestHostileWorkbooksAreRefusedWhileStreaming(t *testing.T) {
	good := writeXLSX(t, "team.xlsx", sheet{"Colleagues", [][]any{{"Email", "First Name", "Permissions"}, {"a@demo.example", "A", "Dashboard"}}})
	header := `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`
	for _, tt := range []struct {
		name  string
		parts map[string]func(w io.Writer)
		want  string
	}{
		{"one giant inline string", map[string]func(w io.Writer){"xl/worksheets/sheet1.xml": func(w io.Writer) {
			io.WriteString(w, header+`<row r="1"><c r="A1" t="inlineStr"><is><t>`)
			chunk := strings.Repeat("x", 64<<10)
			for range 64 { // 4 MiB in one cell
				io.WriteString(w, chunk)
			}
			io.WriteString(w, `</t></is></c></row></sheetData></worksheet>`)
		}}, "worksheet sheet1 holds a text of more than"},
		{"millions of tiny shared strings", map[string]func(w io.Writer){"xl/sharedStrings.xml": func(w io.Writer) {
			io.WriteString(w, `<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`)
			for range maxSharedStrings + 1 {
				io.WriteString(w, `<si><t>a</t></si>`)
			}
			io.WriteString(w, `</sst>`)
		}}, "the shared strings holds more than 2000000 texts"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := rewriteZip(t, good, tt.parts)
			if fi, _ := os.Stat(path); fi.Size() > 1<<20 {
				t.Fatalf("the crafted file is %d bytes: it should be small", fi.Size())
			}
			d, ps := Read([]string{path}, Options{})
			if len(ps) == 0 || !strings.Contains(ps[0].Message, tt.want) || len(d.Colleagues) != 0 {
				t.Errorf("got %s, want refused: %q", problemsText(ps), tt.want)
			}
		})
	}
	// The good workbook itself reads.
	if d, ps := Read([]string{good}, Options{}); len(d.Colleagues) != 1 || HasErrors(ps) {
		t.Errorf("the good workbook: %s", problemsText(ps))
	}
}

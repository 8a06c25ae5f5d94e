//go:build linux

package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
)

// writeQuoteCSV writes a colleagues CSV whose first row opens a quote in its Email
// cell and never closes it, padded to about size bytes with lines of text of 1 KiB
// (no delimiter, no quote), each different: a lenient CSV reader takes everything
// after the quote for that one cell. The lines differ so that they are not also one
// address repeated (case 10c).
func writeQuoteCSV(path string, size int) error {
	return writeCSV(path, func(w io.Writer) {
		io.WriteString(w, "\"chaos-quote@chaos.example,Chaos,Quote,Dashboard; Customers,no\n")
		pad := bytes.Repeat([]byte("A"), 1015)
		for i := 0; i*1024 < size; i++ {
			fmt.Fprintf(w, "%s%08d\n", pad, i)
		}
	})
}

// writeSameAddressCSV writes a colleagues CSV of n rows, all the same colleague.
func writeSameAddressCSV(path string, n int) error {
	return writeCSV(path, func(w io.Writer) {
		for range n {
			io.WriteString(w, "chaos-same@chaos.example,Chaos,Same,Dashboard; Customers,no\n")
		}
	})
}

// writeCSV writes the colleagues header, then what rows writes.
func writeCSV(path string, rows func(w io.Writer)) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	io.WriteString(w, "Email,First Name,Last Name,Permissions,YCM Manager\n")
	rows(w)
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// The parts of a minimal workbook: one sheet, Colleagues, its cells inline strings.
const (
	xlsxContentTypes = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>`
	xlsxRels = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`
	xlsxWorkbook = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Colleagues" sheetId="1" r:id="rId1"/></sheets></workbook>`
	xlsxWorkbookRels = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`
	xlsxSheetHead = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>` +
		`<row r="1"><c r="A1" t="inlineStr"><is><t>Email</t></is></c><c r="B1" t="inlineStr"><is><t>First Name</t></is></c>` +
		`<c r="C1" t="inlineStr"><is><t>Last Name</t></is></c><c r="D1" t="inlineStr"><is><t>Permissions</t></is></c>` +
		`<c r="E1" t="inlineStr"><is><t>YCM Manager</t></is></c></row>`
	xlsxControlRow = `<row r="2"><c r="A2" t="inlineStr"><is><t>chaos-control@chaos.example</t></is></c><c r="B2" t="inlineStr"><is><t>Chaos</t></is></c>` +
		`<c r="C2" t="inlineStr"><is><t>Control</t></is></c><c r="D2" t="inlineStr"><is><t>Dashboard; Customers</t></is></c>` +
		`<c r="E2" t="inlineStr"><is><t>no</t></is></c></row>`
	xlsxSheetTail = `</sheetData></worksheet>`
)

// writeBombXLSX writes a valid workbook whose row 2 holds, in A2, one inline string of
// cell bytes of 'A', streamed through the zip writer (it compresses about 1000-fold);
// cell 0 writes an ordinary colleague's row instead, the control. It returns the
// file's size.
func writeBombXLSX(path string, cell int) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	for _, p := range []struct{ name, body string }{
		{"[Content_Types].xml", xlsxContentTypes},
		{"_rels/.rels", xlsxRels},
		{"xl/workbook.xml", xlsxWorkbook},
		{"xl/_rels/workbook.xml.rels", xlsxWorkbookRels},
	} {
		w, err := zw.Create(p.name)
		if err != nil {
			return 0, err
		}
		if _, err := io.WriteString(w, p.body); err != nil {
			return 0, err
		}
	}
	w, err := zw.Create("xl/worksheets/sheet1.xml")
	if err != nil {
		return 0, err
	}
	io.WriteString(w, xlsxSheetHead)
	if cell == 0 {
		io.WriteString(w, xlsxControlRow)
	} else {
		io.WriteString(w, `<row r="2"><c r="A2" t="inlineStr"><is><t>`)
		chunk := bytes.Repeat([]byte("A"), 1<<20)
		for n := 0; n < cell; n += len(chunk) {
			if _, err := w.Write(chunk[:min(len(chunk), cell-n)]); err != nil {
				return 0, err
			}
		}
		io.WriteString(w, `</t></is></c></row>`)
	}
	if _, err := io.WriteString(w, xlsxSheetTail); err != nil {
		return 0, err
	}
	if err := zw.Close(); err != nil {
		return 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), f.Close()
}

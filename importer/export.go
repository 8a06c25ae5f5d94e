package importer

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// ExportColleague is a colleague as the portal has it, to be written by WriteExport.
type ExportColleague struct {
	Email       string
	FirstName   string
	LastName    string
	Permissions []string
	YCMManager  bool
	Owner       string // subordinate partner e-mail or ID; "" for one's own company
	Remark      string
}

// ExportInstance is a cloud PBX as the portal has it, to be written by WriteExport.
type ExportInstance struct {
	Name            string
	SN              string
	Extensions      int // 0: unknown, left blank
	ConcurrentCalls int // 0: unknown, left blank
}

// WriteExport writes the portal's colleagues and cloud PBXs to w as an input workbook
// that Read accepts: the Colleagues and Instances sheets (streamed, so 100,000 rows
// stay cheap) and an Instructions sheet. Every value is a text cell, so one that
// starts with = + - @ stays text. Permissions are joined with "; ". The PBX column
// holds the SN (a name may repeat), or the name when the SN is unknown; the name is
// shown as a note on the cell.
//
// Read gives back the same values, except that it trims spaces around a value and
// splits a permission name that itself holds ; or , in two.
func WriteExport(w io.Writer, cols []ExportColleague, insts []ExportInstance) error {
	f := excelize.NewFile()
	defer f.Close()
	st, err := newTemplateStyles(f)
	if err != nil {
		return fmt.Errorf("export styles: %w", err)
	}
	if err := f.SetSheetName("Sheet1", sheetColleagues); err != nil {
		return fmt.Errorf("export sheet %s: %w", sheetColleagues, err)
	}
	for _, s := range []string{sheetInstances, sheetInstructions} {
		if _, err := f.NewSheet(s); err != nil {
			return fmt.Errorf("export sheet %s: %w", s, err)
		}
	}
	if err := writeInstructions(f, st, false); err != nil {
		return fmt.Errorf("export sheet %s: %w", sheetInstructions, err)
	}

	yesNo := [2]string{"no", "yes"}
	var perms strings.Builder
	err = streamSheet(f, st, sheetColleagues, colleagueColumns, len(cols), func(i int, row []string) {
		c := &cols[i]
		perms.Reset()
		for j, p := range c.Permissions {
			if j > 0 {
				perms.WriteString("; ")
			}
			perms.WriteString(p)
		}
		yes := 0
		if c.YCMManager {
			yes = 1
		}
		copy(row, []string{c.Email, c.FirstName, c.LastName, perms.String(), yesNo[yes], c.Owner, c.Remark, "present"})
	}, nil)
	if err != nil {
		return fmt.Errorf("export sheet %s: %w", sheetColleagues, err)
	}

	ref := func(in *ExportInstance) string {
		if in.SN != "" {
			return in.SN
		}
		return in.Name
	}
	size := func(n int) string {
		if n == 0 {
			return ""
		}
		return strconv.Itoa(n)
	}
	err = streamSheet(f, st, sheetInstances, instanceColumns, len(insts), func(i int, row []string) {
		in := &insts[i]
		copy(row, []string{ref(in), size(in.Extensions), size(in.ConcurrentCalls)})
	}, func() error {
		// Notes are not part of the stream: added before Flush, they are kept.
		for i, in := range insts {
			if in.SN == "" || in.Name == "" {
				continue
			}
			err := f.AddComment(sheetInstances, excelize.Comment{
				Cell:   "A" + strconv.Itoa(i+2),
				Author: "ycm-onboard",
				Text:   "PBX name: " + in.Name,
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("export sheet %s: %w", sheetInstances, err)
	}
	f.SetActiveSheet(0)
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("write export: %w", err)
	}
	return nil
}

// maxExportWidth bounds a column's width, in characters.
const maxExportWidth = 50

// streamSheet writes a table of n rows with the stream writer: styled, frozen header,
// widths fitted to the content. fill sets row i's values; text columns are written
// as text cells, the others as whole numbers ("" for blank). before, if not nil, runs
// after the rows and before Flush.
func streamSheet(f *excelize.File, st templateStyles, sheet string, cols []templateColumn, n int, fill func(i int, row []string), before func() error) error {
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	row := make([]string, len(cols))
	widths := make([]float64, len(cols))
	for j, c := range cols {
		widths[j] = max(c.width, float64(utf8.RuneCountInString(fieldSpecs[c.f].name))+2)
	}
	// First pass: widths, which the stream writer needs before the first row.
	for i := range n {
		fill(i, row)
		for j, v := range row {
			widths[j] = max(widths[j], min(float64(utf8.RuneCountInString(v))+2, maxExportWidth))
		}
	}
	for j, c := range cols {
		if err := sw.SetColWidth(j+1, j+1, widths[j]); err != nil {
			return err
		}
		style := st.number
		if c.text {
			style = st.text
		}
		if err := sw.SetColStyle(j+1, j+1, style); err != nil {
			return err
		}
	}
	if err := sw.SetPanes(frozenHeader()); err != nil {
		return err
	}
	// Pointers in vals: SetRow takes *Cell without boxing a copy for every cell.
	cells := make([]excelize.Cell, len(cols))
	vals := make([]any, len(cols))
	for j, c := range cols {
		cells[j] = excelize.Cell{StyleID: st.header, Value: fieldSpecs[c.f].name}
		vals[j] = &cells[j]
	}
	if err := sw.SetRow("A1", vals, excelize.RowOpts{Height: 20}); err != nil {
		return err
	}
	for i := range n {
		fill(i, row)
		for j, c := range cols {
			v := row[j]
			switch {
			case v == "":
				vals[j] = nil // no cell
				continue
			case c.text:
				// A string is written as an inline string, never parsed as a formula.
				cells[j] = excelize.Cell{StyleID: st.text, Value: v}
			default:
				k, err := strconv.Atoi(v)
				if err != nil {
					return fmt.Errorf("row %d column %s: %q is not a whole number", i+2, fieldSpecs[c.f].name, v)
				}
				cells[j] = excelize.Cell{StyleID: st.number, Value: k}
			}
			vals[j] = &cells[j]
		}
		if err := sw.SetRow("A"+strconv.Itoa(i+2), vals); err != nil {
			return err
		}
	}
	if before != nil {
		if err := before(); err != nil {
			return err
		}
	}
	return sw.Flush()
}

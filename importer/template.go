package importer

import (
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"
)

// Sheet names of the template and the export. Read takes the first two by name and
// leaves every other sheet alone, so Instructions and Lists are never read as input.
const (
	sheetColleagues   = "Colleagues"
	sheetInstances    = "Instances"
	sheetInstructions = "Instructions"
	sheetLists        = "Lists"
)

// templateColumn is one column of the template: its field, width and help.
type templateColumn struct {
	f     field
	width float64
	text  bool   // formatted as text: what people type stays as typed
	hint  string // input prompt, at most 255 characters
	help  string // the Instructions sheet's line
}

var colleagueColumns = []templateColumn{
	{fEmail, 32, true, "The colleague's e-mail address: their Yeastar ID. Required, one row per colleague.",
		"Required. The colleague's e-mail address, which is their Yeastar ID. One row per colleague."},
	{fFirstName, 16, true, "Required unless Last Name is given. At most 63 characters.",
		"First name. A first name or a last name is required; at most 63 characters each."},
	{fLastName, 16, true, "Required unless First Name is given. At most 63 characters.",
		"Last name."},
	{fPermissions, 28, true, "Pick a permission, or type several separated by ; (Dashboard; Technical Support).",
		"Required for present colleagues. One or more permission names of the Partner Portal, separated by ; (for example Dashboard; Technical Support)."},
	{fYCMManager, 13, true, "yes: the colleague may manage Yeastar Central Management. Blank means no.",
		"yes or no: whether the colleague may use Yeastar Central Management. Blank means no."},
	{fOwner, 28, true, "A subordinate partner's e-mail or ID. Blank: your own company.",
		"The e-mail or ID of the subordinate partner the colleague belongs to. Blank: your own company."},
	{fRemark, 28, true, "A free note, shown in the portal.",
		"A free note kept with the colleague in the portal."},
	{fState, 10, true, "present (blank) keeps or creates the colleague; absent deletes them.",
		"present (or blank): the colleague should exist. absent: the colleague is DELETED from the portal."},
}

var instanceColumns = []templateColumn{
	{fPBX, 28, true, "The cloud PBX's name, or its serial number (SN) when names repeat.",
		"Required. The cloud PBX's name as shown in Yeastar Central Management, or its serial number (SN) when two PBXs share a name."},
	{fExtensions, 12, false, "Target extension capacity: a whole number from 5 to 500. Blank: unchanged.",
		"Target extension capacity, a whole number from 5 to 500. Blank leaves it unchanged."},
	{fConcurrentCalls, 17, false, "Target concurrent call capacity: a whole number, 1 or more. Blank: unchanged.",
		"Target concurrent call capacity, a whole number of 1 or more. Blank leaves it unchanged."},
}

// templateStyles are the cell styles of the template and the export.
type templateStyles struct {
	header, text, number, title, bold, wrap int
}

func newTemplateStyles(f *excelize.File) (templateStyles, error) {
	var st templateStyles
	var err error
	mk := func(s *excelize.Style) int {
		if err != nil {
			return 0
		}
		var id int
		id, err = f.NewStyle(s)
		return id
	}
	st.header = mk(&excelize.Style{
		Font:      &excelize.Font{Bold: true, Color: "FFFFFF"},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"305496"}},
		Alignment: &excelize.Alignment{Vertical: "center"},
		Border:    []excelize.Border{{Type: "bottom", Color: "1F3864", Style: 1}},
		NumFmt:    49, // text: a header is never a formula
	})
	// Number format 49 is "@" (text): a spreadsheet program keeps "=..." and "007" as typed.
	st.text = mk(&excelize.Style{NumFmt: 49})
	st.number = mk(&excelize.Style{NumFmt: 1, Alignment: &excelize.Alignment{Horizontal: "center"}})
	st.title = mk(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 16}})
	st.bold = mk(&excelize.Style{Font: &excelize.Font{Bold: true}, Alignment: &excelize.Alignment{Vertical: "top"}})
	st.wrap = mk(&excelize.Style{Alignment: &excelize.Alignment{Vertical: "top", WrapText: true}})
	return st, err
}

// WriteTemplate writes an empty input workbook to w: an Instructions sheet, the
// Colleagues and Instances sheets with drop-down lists and input hints taken from cat,
// and a hidden Lists sheet holding the drop-downs' values. Read accepts it as it is.
func WriteTemplate(w io.Writer, cat Catalog) error {
	f := excelize.NewFile()
	defer f.Close()
	st, err := newTemplateStyles(f)
	if err != nil {
		return fmt.Errorf("template styles: %w", err)
	}
	if err := f.SetSheetName("Sheet1", sheetInstructions); err != nil {
		return fmt.Errorf("template sheet %s: %w", sheetInstructions, err)
	}
	for _, s := range []string{sheetColleagues, sheetInstances, sheetLists} {
		if _, err := f.NewSheet(s); err != nil {
			return fmt.Errorf("template sheet %s: %w", s, err)
		}
	}
	if err := writeInstructions(f, st, true); err != nil {
		return fmt.Errorf("template sheet %s: %w", sheetInstructions, err)
	}
	lists, err := writeLists(f, st, cat)
	if err != nil {
		return fmt.Errorf("template sheet %s: %w", sheetLists, err)
	}
	for _, s := range []struct {
		name string
		cols []templateColumn
	}{{sheetColleagues, colleagueColumns}, {sheetInstances, instanceColumns}} {
		if err := writeTemplateSheet(f, st, s.name, s.cols, lists); err != nil {
			return fmt.Errorf("template sheet %s: %w", s.name, err)
		}
	}
	f.SetActiveSheet(0)
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("write template: %w", err)
	}
	return nil
}

// listRefs are the ranges of the Lists sheet a drop-down takes its values from;
// "" when the catalogue has none.
type listRefs struct {
	permissions, owners, pbxs string
}

// writeLists fills the hidden Lists sheet: permission names, partner e-mails and PBX
// names, one column each. A PBX name shared by several PBXs is listed by SN instead,
// since Read cannot tell them apart by name.
func writeLists(f *excelize.File, st templateStyles, cat Catalog) (listRefs, error) {
	var owners []string
	for _, p := range cat.Partners {
		if p.Email != "" {
			owners = append(owners, p.Email)
		}
	}
	names := map[string]int{}
	for _, p := range cat.PBXs {
		names[strings.ToLower(p.Name)]++
	}
	var pbxs []string
	for _, p := range cat.PBXs {
		switch {
		case p.Name != "" && names[strings.ToLower(p.Name)] == 1:
			pbxs = append(pbxs, p.Name)
		case p.SN != "":
			pbxs = append(pbxs, p.SN)
		}
	}
	var refs listRefs
	for i, col := range []struct {
		header string
		values []string
		ref    *string
	}{
		{"Permissions", cat.Permissions, &refs.permissions},
		{"Owners", owners, &refs.owners},
		{"PBXs", pbxs, &refs.pbxs},
	} {
		letter := colLetter(i)
		if err := f.SetCellStr(sheetLists, letter+"1", col.header); err != nil {
			return refs, err
		}
		if err := f.SetCellStyle(sheetLists, letter+"1", letter+"1", st.bold); err != nil {
			return refs, err
		}
		for r, v := range col.values {
			// SetCellStr: a value is text even when it starts with =.
			if err := f.SetCellStr(sheetLists, fmt.Sprintf("%s%d", letter, r+2), v); err != nil {
				return refs, err
			}
		}
		if len(col.values) > 0 {
			*col.ref = fmt.Sprintf("%s!$%s$2:$%s$%d", sheetLists, letter, letter, len(col.values)+1)
		}
		if err := f.SetColWidth(sheetLists, letter, letter, 32); err != nil {
			return refs, err
		}
	}
	return refs, f.SetSheetVisible(sheetLists, false)
}

// writeTemplateSheet writes a table's header, widths, formats and data validations.
func writeTemplateSheet(f *excelize.File, st templateStyles, sheet string, cols []templateColumn, lists listRefs) error {
	for i, c := range cols {
		letter := colLetter(i)
		cell := letter + "1"
		if err := f.SetCellStr(sheet, cell, fieldSpecs[c.f].name); err != nil {
			return err
		}
		if err := f.SetColWidth(sheet, letter, letter, c.width); err != nil {
			return err
		}
		style := st.number
		if c.text {
			style = st.text
		}
		if err := f.SetColStyle(sheet, letter, style); err != nil {
			return err
		}
		if err := f.SetCellStyle(sheet, cell, cell, st.header); err != nil {
			return err
		}
		dv, err := validation(c, lists)
		if err != nil {
			return err
		}
		dv.Sqref = fmt.Sprintf("%s2:%s%d", letter, letter, excelize.TotalRows)
		dv.SetInput(fieldSpecs[c.f].name, c.hint)
		if err := f.AddDataValidation(sheet, dv); err != nil {
			return err
		}
	}
	if err := f.SetRowHeight(sheet, 1, 20); err != nil {
		return err
	}
	return f.SetPanes(sheet, frozenHeader())
}

func frozenHeader() *excelize.Panes {
	return &excelize.Panes{
		Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}},
	}
}

// validation is the data validation of a column, before its range and hint are set.
func validation(c templateColumn, lists listRefs) (*excelize.DataValidation, error) {
	dv := excelize.NewDataValidation(true)
	list := func(ref string, style excelize.DataValidationErrorStyle, title, msg string) {
		if ref == "" {
			return // nothing to pick from: the input hint alone
		}
		dv.SetSqrefDropList(ref)
		dv.SetError(style, title, msg)
	}
	switch c.f {
	case fPermissions:
		// A cell may hold several names ("Dashboard; Technical Support"), which no list matches. A
		// stop alert would refuse them, so the list only suggests: the information
		// alert lets any text through with OK, and validate checks the names.
		list(lists.permissions, excelize.DataValidationErrorStyleInformation, "Permissions",
			"Not a single name from the list. Several names separated by ; are fine; ycm-onboard validate checks each name.")
	case fOwner:
		// A partner ID is accepted too, and is not in the list: warn, do not refuse.
		list(lists.owners, excelize.DataValidationErrorStyleWarning, "Owner",
			"Not the e-mail of a subordinate partner in the list. A partner ID is also accepted. Keep it?")
	case fPBX:
		// An SN is accepted as well as a name.
		list(lists.pbxs, excelize.DataValidationErrorStyleWarning, "PBX",
			"Not a cloud PBX name from the list. A serial number (SN) is also accepted. Keep it?")
	case fYCMManager:
		if err := dv.SetDropList([]string{"yes", "no"}); err != nil {
			return nil, err
		}
		dv.SetError(excelize.DataValidationErrorStyleStop, "YCM Manager", "Write yes or no (blank means no).")
	case fState:
		if err := dv.SetDropList([]string{"present", "absent"}); err != nil {
			return nil, err
		}
		dv.SetError(excelize.DataValidationErrorStyleStop, "State", "Write present or absent (blank means present).")
	case fExtensions:
		if err := dv.SetRange(minExtensions, maxExtensions, excelize.DataValidationTypeWhole, excelize.DataValidationOperatorBetween); err != nil {
			return nil, err
		}
		dv.SetError(excelize.DataValidationErrorStyleStop, "Extensions", "Write a whole number from 5 to 500.")
	case fConcurrentCalls:
		if err := dv.SetRange(1, 1, excelize.DataValidationTypeWhole, excelize.DataValidationOperatorGreaterThanOrEqual); err != nil {
			return nil, err
		}
		dv.Formula2 = "" // one bound
		dv.SetError(excelize.DataValidationErrorStyleStop, "Concurrent Calls", "Write a whole number of 1 or more.")
	}
	return dv, nil
}

// writeInstructions fills the Instructions sheet. template says whether the workbook
// is the empty template (true) or an export of the portal.
func writeInstructions(f *excelize.File, st templateStyles, template bool) error {
	s := sheetInstructions
	type line struct{ a, b string }
	var lines []line
	add := func(a, b string) { lines = append(lines, line{a, b}) }
	if template {
		add("How to fill in this workbook", "")
		add("", "Fill in the Colleagues sheet (one row per colleague) and, to resize cloud PBXs, the Instances sheet (one row per PBX). Headers stay in row 1; keep the sheet names. Hover over a column for a hint; drop-down lists show what the portal knows.")
	} else {
		add("The portal as it is now", "")
		add("", "The Colleagues and Instances sheets hold the portal's colleagues and cloud PBXs as they were when this workbook was made, in the input format: edit them and apply the file. The PBX column holds each PBX's serial number (SN).")
	}
	add("", "")
	add("Colleagues", "")
	for _, c := range colleagueColumns {
		add(fieldSpecs[c.f].name, c.help)
	}
	add("", "")
	add("Instances", "")
	for _, c := range instanceColumns {
		add(fieldSpecs[c.f].name, c.help)
	}
	add("", "")
	add("Deleting", "")
	add("", "A row whose State is absent DELETES that colleague from the portal. Colleagues left out of the sheet are not touched.")
	add("", "")
	add("Then run", "")
	add("ycm-onboard validate FILE", "checks the file against the portal and lists every problem by sheet, row and column; changes nothing.")
	add("ycm-onboard plan FILE", "shows what would be created, changed and deleted; changes nothing.")
	add("ycm-onboard apply FILE", "makes those changes in the portal and writes a report workbook.")

	for i, l := range lines {
		r := i + 1
		a, b := fmt.Sprintf("A%d", r), fmt.Sprintf("B%d", r)
		for cell, v := range map[string]string{a: l.a, b: l.b} {
			if v == "" {
				continue // an empty cell lets the title run over
			}
			if err := f.SetCellStr(s, cell, v); err != nil {
				return err
			}
		}
		style := st.bold
		if i == 0 {
			style = st.title
		}
		if err := f.SetCellStyle(s, a, a, style); err != nil {
			return err
		}
		if err := f.SetCellStyle(s, b, b, st.wrap); err != nil {
			return err
		}
		if n := wrappedRows(l.b, 90); n > 1 {
			if err := f.SetRowHeight(s, r, float64(n)*15+2); err != nil {
				return err
			}
		}
	}
	if err := f.SetColWidth(s, "A", "A", 28); err != nil {
		return err
	}
	return f.SetColWidth(s, "B", "B", 90)
}

// wrappedRows is about how many lines s takes in a wrapped column width characters wide.
func wrappedRows(s string, width int) int {
	n := len([]rune(s))
	return max(1, (n+width-1)/width)
}

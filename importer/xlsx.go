package importer

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/richardlehane/mscfb"
	"github.com/xuri/excelize/v2"
)

// xmlInMemoryLimit is how much of a worksheet or shared-string table excelize keeps
// in memory; larger parts go to temporary files.
const xmlInMemoryLimit = 1 << 20

// checkZip looks inside a zip file before excelize opens it: the declared uncompressed
// size (archive/zip refuses entries that inflate past it) and whether it is a workbook.
// It reports whether any worksheet holds a formula or merged cells.
func checkZip(path string, opts *Options) (found partMarks, p *Problem) {
	base := filepath.Base(path)
	zr, err := zip.OpenReader(path)
	if err != nil {
		pr := fileProblem(path, fmt.Sprintf("%s looks like an Excel workbook but is damaged (%v)", base, err), "open it in a spreadsheet program and save it again as Excel Workbook (.xlsx)")
		return found, &pr
	}
	defer zr.Close()
	var total uint64
	names := map[string]bool{}
	for _, f := range zr.File {
		total += f.UncompressedSize64
		names[strings.ToLower(f.Name)] = true
	}
	if total > uint64(opts.MaxUnzipBytes) {
		pr := fileProblem(path, fmt.Sprintf("%s would unpack to %s, more than the limit of %s; it is refused as a possible zip bomb", base, byteSize(int64(min(total, 1<<62))), byteSize(opts.MaxUnzipBytes)),
			"if it is a genuine workbook, delete unused sheets and images, or raise the limit")
		return found, &pr
	}
	switch {
	case names["xl/workbook.xml"]:
	case names["xl/workbook.bin"]:
		pr := fileProblem(path, fmt.Sprintf("%s is an Excel Binary Workbook (.xlsb), which cannot be read", base), "open it in Excel and save it as Excel Workbook (.xlsx)")
		return found, &pr
	case names["word/document.xml"]:
		pr := fileProblem(path, fmt.Sprintf("%s is a Word document, not a spreadsheet", base), "put the table in a spreadsheet and save it as .xlsx or .csv")
		return found, &pr
	case names["ppt/presentation.xml"]:
		pr := fileProblem(path, fmt.Sprintf("%s is a PowerPoint presentation, not a spreadsheet", base), "put the table in a spreadsheet and save it as .xlsx or .csv")
		return found, &pr
	case names["content.xml"] && names["mimetype"]:
		pr := fileProblem(path, fmt.Sprintf("%s is an OpenDocument file (.ods), which cannot be read", base), "open it in LibreOffice and save it as Excel 2007-365 (.xlsx)")
		return found, &pr
	default:
		pr := fileProblem(path, fmt.Sprintf("%s is a zip archive, not an Excel workbook", base), "unpack it and name the .xlsx or .csv file inside, or save the spreadsheet as .xlsx")
		return found, &pr
	}
	// Bounded while the bytes stream past, before excelize holds any of it: one cell
	// of hundreds of megabytes, or tens of millions of shared strings in a file of a
	// few, would otherwise take gigabytes.
	for _, f := range zr.File {
		n := strings.ToLower(f.Name)
		shared := n == "xl/sharedstrings.xml"
		if !shared && (!strings.HasPrefix(n, "xl/worksheets/") || !strings.HasSuffix(n, ".xml")) {
			continue
		}
		what := "the shared strings"
		if !shared {
			what = "worksheet " + strings.TrimSuffix(filepath.Base(f.Name), ".xml")
		}
		if msg, err := boundText(f, opts.MaxCellChars, opts.interrupted); err != nil || msg != "" {
			if errors.Is(err, ErrInterrupted) {
				pr := interruptedProblem(path)
				return found, &pr
			}
			if err != nil {
				msg = fmt.Sprintf("is damaged: %v", err)
			}
			pr := fileProblem(path, fmt.Sprintf("%s: %s %s; the file is refused before it is read", base, what, msg),
				"open it in a spreadsheet program, shorten or remove that text, and save it again; a workbook made by a program rather than a person may be a deliberate attack")
			return found, &pr
		}
	}
	for _, f := range zr.File {
		n := strings.ToLower(f.Name)
		if !strings.HasPrefix(n, "xl/worksheets/") || !strings.HasSuffix(n, ".xml") {
			continue
		}
		marks, err := scanPart(f, opts.interrupted)
		if errors.Is(err, ErrInterrupted) {
			pr := interruptedProblem(path)
			return found, &pr
		}
		if err != nil {
			pr := fileProblem(path, fmt.Sprintf("%s is a damaged workbook: %v", base, err), "open it in a spreadsheet program and save it again as Excel Workbook (.xlsx)")
			return found, &pr
		}
		found.formulas = found.formulas || marks.formulas
		found.merges = found.merges || marks.merges
		if found.formulas && found.merges {
			break
		}
	}
	return found, nil
}

// maxSharedStrings bounds a workbook's shared strings: 200,000 rows of 10 distinct
// texts each. Every one costs memory however short.
const maxSharedStrings = 2_000_000

// boundText streams an XML part and says what is wrong if a text run is longer than a
// cell may be (maxChars characters, each at most 6 bytes as UTF-8 or an entity) or the
// part holds more than maxSharedStrings strings; "" when it is within bounds. Memory
// stays at one buffer whatever the part holds.
func boundText(f *zip.File, maxChars int, check func() error) (string, error) {
	r, err := f.Open()
	if err != nil {
		return "", err
	}
	defer r.Close()
	rc := &checkedReader{r: r, check: check}
	maxRun := maxChars * 6
	buf := make([]byte, 256<<10)
	inTag, run, texts := false, 0, 0
	var name [2]byte // the first two bytes of the tag's name
	nameLen := 0
	for {
		n, err := rc.Read(buf)
		for _, b := range buf[:n] {
			switch {
			case b == '<':
				inTag, run, nameLen = true, 0, 0
				continue
			case inTag && (b == '>' || b == ' ' || b == '/' || b == '\t' || b == '\n' || b == '\r'):
				if nameLen == 2 && name == [2]byte{'s', 'i'} {
					texts++ // <si> or <si ...>: a shared string
				}
				nameLen = 3 // the name has ended
				if b == '>' {
					inTag, run = false, 0
					continue
				}
			case inTag && nameLen < 2:
				name[nameLen] = b
				nameLen++
			case inTag && nameLen == 2:
				nameLen = 3 // a longer name: not <si>
			}
			run++ // text, or a tag's attributes: either can hold a giant value
			if run > maxRun {
				return fmt.Sprintf("holds a text of more than %d bytes, far past the %d characters a cell may hold", maxRun, maxChars), nil
			}
		}
		if texts > maxSharedStrings {
			return fmt.Sprintf("holds more than %d texts", maxSharedStrings), nil
		}
		if err == io.EOF {
			return "", nil
		}
		if err != nil {
			return "", err
		}
	}
}

// partMarks is what a scan of worksheet parts found.
type partMarks struct {
	formulas bool // a formula element
	merges   bool // a merged range
}

// scanPart scans a worksheet part for formula and merged-cell elements without
// parsing it.
func scanPart(f *zip.File, check func() error) (partMarks, error) {
	var m partMarks
	r, err := f.Open()
	if err != nil {
		return m, err
	}
	defer r.Close()
	rc := &checkedReader{r: r, check: check}
	buf := make([]byte, 64<<10)
	keep := 0
	for {
		n, err := rc.Read(buf[keep:])
		chunk := buf[:keep+n]
		if !m.formulas && (bytes.Contains(chunk, []byte("<f>")) || bytes.Contains(chunk, []byte("<f ")) || bytes.Contains(chunk, []byte(":f>")) || bytes.Contains(chunk, []byte(":f "))) {
			m.formulas = true
		}
		if !m.merges && (bytes.Contains(chunk, []byte("<mergeCell ")) || bytes.Contains(chunk, []byte(":mergeCell "))) {
			m.merges = true
		}
		if err == io.EOF || m.formulas && m.merges {
			return m, nil
		}
		if err != nil {
			return m, err
		}
		keep = min(len(chunk), len(":mergeCell "))
		copy(buf, chunk[len(chunk)-keep:])
	}
}

// oleProblem says what an OLE compound file is: a legacy .xls or an encrypted workbook.
func oleProblem(path string) Problem {
	base := filepath.Base(path)
	kind := "an Excel 97-2003 workbook (.xls) or a password-protected workbook"
	fix := "open it in Excel, remove any password (File > Info > Protect Workbook), and save it as Excel Workbook (.xlsx)"
	if f, err := os.Open(path); err == nil {
		defer f.Close()
		if r, err := mscfb.New(f); err == nil {
			for e, err := r.Next(); err == nil; e, err = r.Next() {
				switch e.Name {
				case "EncryptionInfo", "EncryptedPackage":
					kind = "a password-protected (encrypted) workbook"
					fix = "open it in Excel, remove the password (File > Info > Protect Workbook > Encrypt with Password, clear it), and save it again"
				case "Workbook", "Book":
					kind = "an Excel 97-2003 workbook (.xls)"
					fix = "open it in Excel or LibreOffice and save it as Excel Workbook (.xlsx)"
				case "WordDocument":
					kind = "a Word 97-2003 document"
					fix = "put the table in a spreadsheet and save it as .xlsx or .csv"
				}
			}
		}
	}
	return fileProblem(path, fmt.Sprintf("%s is %s, which cannot be read", base, kind), fix)
}

// readXLSX reads the Colleagues and Instances sheets of a workbook. want limits the
// tables read (kindThreeCX reads the first sheet as a 3CX export: see readThreeCX).
func readXLSX(path string, opts *Options, d *Desired, want tableKind, cx *threeCXCount) []Problem {
	base := filepath.Base(path)
	marks, zp := checkZip(path, opts)
	if zp != nil {
		return []Problem{*zp}
	}
	tmp, err := TempDir()
	if err != nil {
		fix := setTMPDIR
		if te := (*TempDirError)(nil); errors.As(err, &te) {
			fix = te.Fix
		}
		return []Problem{fileProblem(path, fmt.Sprintf("%s cannot be read: %v", base, err), fix)}
	}
	removeStale(tmp, time.Now())
	f, err := excelize.OpenFile(path, excelize.Options{
		TmpDir:            tmp,
		RawCellValue:      true,
		UnzipSizeLimit:    opts.MaxUnzipBytes,
		UnzipXMLSizeLimit: min(xmlInMemoryLimit, opts.MaxUnzipBytes),
	})
	if err != nil {
		if f != nil {
			_ = f.Close()
		}
		return []Problem{excelizeOpenProblem(path, err)}
	}
	defer f.Close()

	date1904 := false
	if wp, err := f.GetWorkbookProps(); err == nil && wp.Date1904 != nil {
		date1904 = *wp.Date1904
	}
	sheets := f.GetSheetList()
	x := &xlsxFile{f: f, path: path, base: base, opts: opts, d: d, date1904: date1904, formulas: marks.formulas, merges: marks.merges}
	if want == kindThreeCX {
		return x.countThreeCX(sheets, cx)
	}
	var ps []Problem
	found := map[tableKind]string{}
	for _, s := range sheets {
		n := normHeader(s)
		for _, k := range []tableKind{kindColleagues, kindInstances} {
			for _, a := range sheetAliases[k] {
				if n == normHeader(a) {
					if prev, ok := found[k]; ok {
						ps = append(ps, Problem{Source: Source{File: base, Sheet: s}, Severity: Warning,
							Message: fmt.Sprintf("sheet %q is ignored: sheet %q is already read as the %s table", s, prev, k),
							Fix:     "merge the two sheets or rename one"})
						continue
					}
					found[k] = s
				}
			}
		}
	}
	if len(found) == 0 {
		// No sheet named for a table: look at the first sheet's header row.
		if len(sheets) == 0 {
			return append(ps, fileProblem(path, "the workbook has no sheets", "add a Colleagues or Instances sheet"))
		}
		hdr, err := x.headerOf(sheets[0])
		if err != nil {
			return append(ps, fileProblem(path, fmt.Sprintf("sheet %q cannot be read: %v", sheets[0], err), "open it in a spreadsheet program and save it again as Excel Workbook (.xlsx)"))
		}
		switch k := classify(hdr); k {
		case kindThreeCX:
			return append(ps, threeCXAsInput(path, Source{File: base, Sheet: sheets[0]}))
		case kindColleagues, kindInstances:
			found[k] = sheets[0]
			ps = append(ps, Problem{Source: Source{File: base, Sheet: sheets[0]}, Severity: Warning,
				Message: fmt.Sprintf("no sheet is named Colleagues or Instances; sheet %q was read as the %s table from its headers", sheets[0], k),
				Fix:     fmt.Sprintf("rename the sheet to %s", k)})
		default:
			quoted := make([]string, len(sheets))
			for i, s := range sheets {
				quoted[i] = strQuote(s)
			}
			return append(ps, fileProblem(path, fmt.Sprintf("the workbook has no Colleagues or Instances sheet (its sheets: %s)", strings.Join(quoted, ", ")),
				"name the sheet of colleagues Colleagues and the sheet of cloud PBX sizes Instances"))
		}
	}
	for _, k := range []tableKind{kindColleagues, kindInstances} {
		if s, ok := found[k]; ok {
			if opts.interrupted() != nil {
				return append(ps, interruptedProblem(path))
			}
			ps = append(ps, x.readSheet(s, k)...)
		}
	}
	return ps
}

func excelizeOpenProblem(path string, err error) Problem {
	base := filepath.Base(path)
	switch {
	case strings.Contains(err.Error(), "unzip size exceeds") || strings.Contains(err.Error(), "unzip size limit"):
		return fileProblem(path, fmt.Sprintf("%s unpacks to more than the size limit; it is refused as a possible zip bomb", base), "if it is a genuine workbook, delete unused sheets and images, or raise the limit")
	case errors.Is(err, excelize.ErrWorkbookFileFormat), errors.Is(err, zip.ErrFormat):
		return fileProblem(path, fmt.Sprintf("%s is not a valid Excel workbook (%v)", base, err), "open it in a spreadsheet program and save it again as Excel Workbook (.xlsx)")
	}
	return fileProblem(path, fmt.Sprintf("%s cannot be opened as a workbook: %v", base, err), "open it in a spreadsheet program and save it again as Excel Workbook (.xlsx)")
}

// xlsxFile is an open workbook being read.
type xlsxFile struct {
	f        *excelize.File
	path     string
	base     string
	opts     *Options
	d        *Desired
	date1904 bool
	formulas bool
	merges   bool         // whether any worksheet has merged cells
	dateFmt  map[int]bool // style index → is a date format
	anyDate  *bool        // whether any style is a date format; nil until asked
}

// headerOf returns the header row of a sheet: its first non-blank row, or one of
// the few below it when that one is a title rather than headers.
func (x *xlsxFile) headerOf(sheet string) ([]string, error) {
	rows, err := x.f.Rows(sheet)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var first []string
	tries := 0
	for i := 0; rows.Next() && i < 100 && tries <= maxTitleRows; i++ {
		cells, err := rows.Columns()
		if err != nil {
			return nil, err
		}
		if allBlank(cells) {
			continue
		}
		if first == nil {
			first = cells
		}
		if classify(cells) != kindUnknown {
			return cells, nil
		}
		tries++
	}
	if err := rows.Error(); err != nil {
		return nil, err
	}
	return first, nil
}

func allBlank(cells []string) bool {
	for _, c := range cells {
		if !isBlank(c) {
			return false
		}
	}
	return true
}

// readSheet streams one sheet into the desired state.
func (x *xlsxFile) readSheet(sheet string, kind tableKind) []Problem {
	var ps []Problem
	src := Source{File: x.base, Sheet: sheet}
	rows, err := x.f.Rows(sheet)
	if err != nil {
		return []Problem{{Source: src, Severity: Error, Message: fmt.Sprintf("the sheet cannot be read: %v", err), Fix: "open the file in a spreadsheet program and save it again as Excel Workbook (.xlsx)"}}
	}
	defer rows.Close()
	mark := x.d.mark()
	var t *tableReader
	meta := &xlsxMeta{x: x, sheet: sheet}
	rowNum := 0
	var hidden struct { // hidden rows, as a filter leaves them: applied all the same
		n    int
		rows []string
	}
	var first []string // the first non-blank row, when it is not the header row
	firstRow, tries := 0, 0
	fail := func(msg, fix string) {
		p := Problem{Source: src, Severity: Error, Message: msg, Fix: fix}
		p.Source.Row = rowNum
		ps = append(ps, p)
		x.d.rejectSince(mark)
	}
	for rows.Next() {
		rowNum++
		if rowNum%4096 == 0 && x.opts.interrupted() != nil {
			x.d.rejectSince(mark)
			return []Problem{interruptedProblem(x.path)}
		}
		cells, err := rows.Columns()
		if err != nil {
			fail(fmt.Sprintf("the sheet cannot be read past row %d (%v); none of its rows are used", rowNum-1, err), "open the file in a spreadsheet program and save it again as Excel Workbook (.xlsx)")
			return ps
		}
		if t == nil {
			if allBlank(cells) {
				continue
			}
			if k := classify(cells); k == kindThreeCX {
				return append(ps, threeCXAsInput(x.path, src))
			}
			hdrSrc := Source{File: x.base, Sheet: sheet, Row: rowNum}
			switch {
			case first == nil && classify(cells) != kindUnknown:
				// The header row, where it belongs.
			case first != nil && isHeaderRow(kind, cells):
				ps = append(ps, titleRowsProblem(hdrSrc, first, firstRow))
			default:
				// A title or a note above the table: look a few rows further for the
				// headers; if none is found, the first row's problems are reported.
				if first == nil {
					first, firstRow = cells, rowNum
				}
				if tries++; tries <= maxTitleRows {
					continue
				}
				cells, hdrSrc.Row = first, firstRow
			}
			l, hp := mapHeaders(kind, cells, hdrSrc)
			ps = append(ps, hp...)
			if HasErrors(hp) {
				return ps
			}
			x.d.addLayout(src, l)
			x.reserve(sheet, kind, rowNum)
			t = &tableReader{src: src, l: l, opts: x.opts, d: x.d, ps: &ps}
			continue
		}
		if len(cells) < t.l.width {
			cells = append(cells, make([]string, t.l.width-len(cells))...)
		} else if len(cells) > t.l.width {
			cells = cells[:t.l.width]
		}
		meta.row = rowNum
		if rows.GetRowOpts().Hidden && !allBlank(cells) {
			if hidden.n++; hidden.n <= 5 {
				hidden.rows = append(hidden.rows, strconv.Itoa(rowNum))
			}
		}
		t.row(rowNum, cells, meta)
		if t.rowCount > x.opts.MaxRows {
			fail(fmt.Sprintf("the sheet has more than %d rows, the limit; none of its rows are used", x.opts.MaxRows), "split the rows over several files, or raise the row limit")
			return ps
		}
	}
	if err := rows.Error(); err != nil {
		fail(fmt.Sprintf("the sheet cannot be read past row %d (%v); none of its rows are used", rowNum, err), "open the file in a spreadsheet program and save it again as Excel Workbook (.xlsx)")
		return ps
	}
	if hidden.n > 0 {
		which := strings.Join(hidden.rows, ", ")
		if hidden.n > len(hidden.rows) {
			which += fmt.Sprintf(" and %d more", hidden.n-len(hidden.rows))
		}
		msg := fmt.Sprintf("%d rows are hidden (rows %s)", hidden.n, which)
		if hidden.n == 1 {
			msg = "row " + which + " is hidden"
		}
		ps = append(ps, Problem{Source: src, Severity: Warning,
			Message: msg + " in the sheet (a filter, or by hand): hidden rows are read and applied like the others",
			Fix:     "clear the filter or unhide the rows to review them, and delete the rows that should not be applied"})
	}
	if t == nil && first != nil {
		// No header row below it either.
		_, hp := mapHeaders(kind, first, Source{File: x.base, Sheet: sheet, Row: firstRow})
		ps = append(ps, hp...)
		return ps
	}
	if t == nil {
		ps = append(ps, Problem{Source: src, Severity: Warning, Message: "the sheet is empty", Fix: fmt.Sprintf("put the headers in the first row: %s", expectedList(kind))})
	}
	return ps
}

// reserve makes room in the desired state for the rows the sheet says it has below
// its header, so that 100,000 rows are not copied each time the list grows. The
// count is the sheet's own dimension, bounded by the row limit.
func (x *xlsxFile) reserve(sheet string, kind tableKind, header int) {
	ref, err := x.f.GetSheetDimension(sheet)
	if err != nil {
		return
	}
	_, last, ok := strings.Cut(ref, ":")
	if !ok {
		return
	}
	_, lastRow, err := excelize.CellNameToCoordinates(last)
	if err != nil {
		return
	}
	n := min(lastRow-header, x.opts.MaxRows)
	if n <= 0 {
		return
	}
	switch kind {
	case kindColleagues:
		x.d.Colleagues = slices.Grow(x.d.Colleagues, n)
	case kindInstances:
		x.d.Instances = slices.Grow(x.d.Instances, n)
	}
}

// xlsxMeta looks up how a cell is typed, only when a value needs it: the lookups load
// the whole sheet, once.
type xlsxMeta struct {
	x      *xlsxFile
	sheet  string
	row    int
	merges []mergedRange // nil until asked
}

// mergedRange is a range of merged cells, in 1-based coordinates.
type mergedRange struct {
	ref                    string // "D10:D11"
	col1, row1, col2, row2 int
}

// merged reports whether the cell is part of merged cells other than their first,
// which alone holds the value; ref is the range ("D10:D11").
func (m *xlsxMeta) merged(col int) (ref string, ok bool) {
	if !m.x.merges {
		return "", false // no worksheet merges cells: spare the whole-sheet load
	}
	if m.merges == nil {
		m.merges = []mergedRange{}
		mcs, err := m.x.f.GetMergeCells(m.sheet)
		if err != nil {
			return "", false
		}
		for _, mc := range mcs {
			c1, r1, err1 := excelize.CellNameToCoordinates(mc.GetStartAxis())
			c2, r2, err2 := excelize.CellNameToCoordinates(mc.GetEndAxis())
			if err1 == nil && err2 == nil {
				m.merges = append(m.merges, mergedRange{mc.GetStartAxis() + ":" + mc.GetEndAxis(), c1, r1, c2, r2})
			}
		}
	}
	c := col + 1
	for _, r := range m.merges {
		if c >= r.col1 && c <= r.col2 && m.row >= r.row1 && m.row <= r.row2 && (c != r.col1 || m.row != r.row1) {
			return r.ref, true
		}
	}
	return "", false
}

func (m *xlsxMeta) cell(col int) string {
	name, _ := excelize.CoordinatesToCellName(col+1, m.row)
	return name
}

func (m *xlsxMeta) dateCell(col int, raw string) (string, bool) {
	if !m.x.hasDateStyles() {
		return "", false // no cell can show a date: spare the whole-sheet load
	}
	v, err := strconv.ParseFloat(raw, 64)
	if err != nil {
		return "", false
	}
	style, err := m.x.f.GetCellStyle(m.sheet, m.cell(col))
	if err != nil || !m.x.isDateStyle(style) {
		return "", false
	}
	t, err := excelize.ExcelDateToTime(v, m.x.date1904)
	if err != nil {
		return "", false
	}
	if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 {
		return t.Format("2006-01-02"), true
	}
	return t.Format("2006-01-02 15:04:05"), true
}

func (m *xlsxMeta) formulaWithoutValue(col int) bool {
	if !m.x.formulas {
		return false
	}
	f, err := m.x.f.GetCellFormula(m.sheet, m.cell(col))
	return err == nil && f != ""
}

// hasDateStyles reports whether any cell style of the workbook shows dates or times.
// Without one, no number needs its cell's style looked up, which would load the
// whole sheet into memory (some 900 MB for 100,000 rows of numeric remarks).
func (x *xlsxFile) hasDateStyles() bool {
	if x.anyDate == nil {
		found := false
		for i := 0; i < 1<<16 && !found; i++ {
			if _, err := x.f.GetStyle(i); err != nil {
				break
			}
			found = x.isDateStyle(i)
		}
		x.anyDate = &found
	}
	return *x.anyDate
}

// isDateStyle reports whether a cell style shows numbers as dates or times.
func (x *xlsxFile) isDateStyle(idx int) bool {
	if v, ok := x.dateFmt[idx]; ok {
		return v
	}
	if x.dateFmt == nil {
		x.dateFmt = map[int]bool{}
	}
	is := false
	if st, err := x.f.GetStyle(idx); err == nil && st != nil {
		if st.CustomNumFmt != nil {
			is = isDateFormatCode(*st.CustomNumFmt)
		} else {
			is = isBuiltinDateFormat(st.NumFmt)
		}
	}
	x.dateFmt[idx] = is
	return is
}

func isBuiltinDateFormat(id int) bool {
	return (id >= 14 && id <= 22) || (id >= 27 && id <= 36) || (id >= 45 && id <= 47) || (id >= 50 && id <= 58)
}

// isDateFormatCode reports whether a number format code shows a date or time: it has
// y, d, h or s (or m) outside quotes, escapes and brackets.
func isDateFormatCode(code string) bool {
	if strings.EqualFold(code, "general") {
		return false
	}
	inQuote, inBracket, escaped := false, false, false
	for _, r := range strings.ToLower(code) {
		switch {
		case escaped:
			escaped = false
		case inQuote:
			inQuote = r != '"'
		case inBracket:
			if r == ']' {
				inBracket = false
			}
		case r == '\\' || r == '_' || r == '*':
			escaped = true
		case r == '"':
			inQuote = true
		case r == '[':
			inBracket = true
		case r == 'y', r == 'd', r == 'h', r == 's', r == 'm':
			return true
		}
	}
	return false
}

// countThreeCX counts the users of a 3CX export saved as a workbook: its first sheet.
func (x *xlsxFile) countThreeCX(sheets []string, cx *threeCXCount) []Problem {
	if len(sheets) == 0 {
		return []Problem{fileProblem(x.path, "the workbook has no sheets", "export the users from 3CX again")}
	}
	rows, err := x.f.Rows(sheets[0])
	if err != nil {
		return []Problem{fileProblem(x.path, fmt.Sprintf("sheet %q cannot be read: %v", sheets[0], err), "export the users from 3CX again")}
	}
	defer rows.Close()
	numberCol := -1
	for n := 1; rows.Next(); n++ {
		if n%4096 == 0 && x.opts.interrupted() != nil {
			return []Problem{interruptedProblem(x.path)}
		}
		cells, err := rows.Columns()
		if err != nil {
			return []Problem{fileProblem(x.path, fmt.Sprintf("sheet %q cannot be read: %v", sheets[0], err), "export the users from 3CX again")}
		}
		switch {
		case allBlank(cells):
		case numberCol < 0:
			if classify(cells) != kindThreeCX {
				return []Problem{fileProblem(x.path, fmt.Sprintf("%s does not look like a 3CX user export: it has no Number and EmailAddress columns", x.base), "export the users from the 3CX management console (Users > Export) and pass that file")}
			}
			numberCol = threeCXNumberColumn(cells)
		default:
			cx.add(cells, numberCol)
			if cx.rows > x.opts.MaxRows {
				return []Problem{fileProblem(x.path, fmt.Sprintf("the 3CX export has more than %d rows, the limit", x.opts.MaxRows), "check that this is the right file, or raise the row limit")}
			}
		}
	}
	if err := rows.Error(); err != nil {
		return []Problem{fileProblem(x.path, fmt.Sprintf("sheet %q cannot be read: %v", sheets[0], err), "export the users from 3CX again")}
	}
	if numberCol < 0 {
		return []Problem{fileProblem(x.path, "the 3CX export has no rows", "export the users from 3CX again")}
	}
	return nil
}

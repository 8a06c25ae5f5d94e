package report

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// The data rows of the streamed sheets are not passed through StreamWriter.SetRow:
// it allocates about 170 bytes for every text cell (a cell struct, an escaped copy
// and its cell reference) and keeps up to 32 MB of XML in memory before spilling to
// a temporary file, which for 100,000 rows doubled the process's peak memory.
// Instead the stream writer writes the sheet with its header row only, and the rows
// are rendered straight into the zip entry when the workbook is saved, into one
// reused buffer. The XML is byte for byte what SetRow writes for the same cells
// (TestRowsAsExcelizeWrites compares the two on every fixture).

// rowSplice renders a streamed sheet's data rows into its zip entry.
type rowSplice struct {
	sheet string
	rows  func(w io.Writer) error
	done  bool
}

// spliceZip is the zip writer handed to excelize: it inserts the rows of each
// streamed sheet before the sheet's closing </sheetData>.
type spliceZip struct {
	zw      *zip.Writer
	splices map[string]*rowSplice // by part name, e.g. xl/worksheets/sheet2.xml
	pending *rowSplice            // the part being buffered, if any
	part    bytes.Buffer          // its XML without the rows: a few kilobytes
	w       io.Writer             // its zip entry
}

func (z *spliceZip) Create(name string) (io.Writer, error) {
	if err := z.finish(); err != nil {
		return nil, err
	}
	w, err := z.zw.Create(name)
	if err != nil {
		return nil, err
	}
	if s, ok := z.splices[name]; ok {
		z.pending, z.w = s, w
		z.part.Reset()
		return &z.part, nil
	}
	return w, nil
}

func (z *spliceZip) AddFS(fsys fs.FS) error {
	if err := z.finish(); err != nil {
		return err
	}
	return z.zw.AddFS(fsys)
}

func (z *spliceZip) Close() error {
	if err := z.finish(); err != nil {
		return err
	}
	return z.zw.Close()
}

// finish writes the buffered part with its rows spliced in.
func (z *spliceZip) finish() error {
	s := z.pending
	if s == nil {
		return nil
	}
	z.pending = nil
	xml := z.part.Bytes()
	at := bytes.Index(xml, []byte("</sheetData>"))
	if at < 0 {
		return fmt.Errorf("sheet %s: no sheetData in the streamed part", s.sheet)
	}
	if _, err := z.w.Write(xml[:at]); err != nil {
		return err
	}
	if err := s.rows(z.w); err != nil {
		return err
	}
	if _, err := z.w.Write(xml[at:]); err != nil {
		return err
	}
	s.done = true
	return nil
}

// check reports a sheet whose rows were never written: excelize saved it elsewhere
// than where it was expected.
func (z *spliceZip) check() error {
	for _, s := range z.splices {
		if !s.done {
			return fmt.Errorf("sheet %s: its rows were not written", s.sheet)
		}
	}
	return nil
}

// sheetPart is the zip part of sheet, as excelize names a new workbook's sheets.
func sheetPart(f *excelize.File, sheet string) (string, error) {
	for id, name := range f.GetSheetMap() {
		if name == sheet {
			return "xl/worksheets/sheet" + strconv.Itoa(id) + ".xml", nil
		}
	}
	return "", fmt.Errorf("sheet %s not found", sheet)
}

// rowXML renders rows as StreamWriter.SetRow does, for the cell kinds of this report.
type rowXML struct {
	buf      []byte
	colNames []string // column letters, "A" for column 1
	date1904 bool
}

func newRowXML(ncols int, date1904 bool) *rowXML {
	x := &rowXML{buf: make([]byte, 0, 1<<16), colNames: make([]string, ncols), date1904: date1904}
	for j := range x.colNames {
		x.colNames[j], _ = excelize.ColumnNumberToName(j + 1)
	}
	return x
}

// row appends row number r with its cells; height 0 leaves the height automatic.
func (x *rowXML) row(r int, cells []cell, height float64) {
	b := append(x.buf, `<row r="`...)
	b = strconv.AppendInt(b, int64(r), 10)
	b = append(b, '"')
	if height > 0 {
		b = append(b, ` ht="`...)
		b = strconv.AppendFloat(b, height, 'f', -1, 64)
		b = append(b, `" customHeight="1"`...)
	}
	b = append(b, '>')
	for j := range cells {
		c := &cells[j]
		b = append(b, `<c r="`...)
		b = append(b, x.colNames[j]...)
		b = strconv.AppendInt(b, int64(r), 10)
		b = append(b, '"')
		if c.style != 0 {
			b = append(b, ` s="`...)
			b = strconv.AppendInt(b, int64(c.style), 10)
			b = append(b, '"')
		}
		switch c.kind {
		case textCell:
			b = appendInlineStr(b, c.s)
		case intCell:
			b = append(b, `><v>`...)
			b = strconv.AppendInt(b, int64(c.i), 10)
			b = append(b, `</v>`...)
		case floatCell:
			if math.IsNaN(c.f) || math.IsInf(c.f, 0) {
				b = appendInlineStr(b, fmt.Sprint(c.f))
				break
			}
			b = append(b, `><v>`...)
			b = append(b, formatCellFloat(c.f)...)
			b = append(b, `</v>`...)
		case timeCell:
			b = x.appendTime(b, c.t)
		default:
			b = append(b, '>')
		}
		b = append(b, `</c>`...)
	}
	x.buf = append(b, `</row>`...)
}

// appendTime is a date cell: a serial number, or the time as text before 1900.
func (x *rowXML) appendTime(b []byte, t time.Time) []byte {
	_, offset := t.Zone()
	t = t.Add(time.Duration(offset) * time.Second)
	serial := timeToExcelTime(t, x.date1904)
	if serial <= 0 {
		s := t.Format(time.RFC3339Nano)
		b = append(b, ` t="inlineStr"><is><t`...)
		if needsPreserve(s) {
			b = append(b, ` xml:space="preserve"`...)
		}
		b = append(b, '>')
		b = append(b, s...)
		return append(b, `</t></is>`...)
	}
	b = append(b, `><v>`...)
	b = strconv.AppendFloat(b, serial, 'f', -1, 64)
	return append(b, `</v>`...)
}

// appendInlineStr is the rest of a text cell's start tag and its value, escaped
// and truncated as excelize does (trimCellValue, then bstrMarshal).
func appendInlineStr(b []byte, s string) []byte {
	if len(s) > excelize.TotalCellChars {
		s = truncateUTF16(s, excelize.TotalCellChars)
	}
	b = append(b, ` t="inlineStr"><is><t`...)
	if needsPreserve(s) {
		b = append(b, ` xml:space="preserve"`...)
	}
	b = append(b, '>')
	start := len(b)
	b = appendEscaped(b, s)
	if bytes.Contains(b[start:], []byte("_x")) {
		esc := bstrMarshal(string(b[start:]))
		b = append(b[:start], esc...)
	}
	return append(b, `</t></is>`...)
}

// needsPreserve: a value starting or ending with white space keeps it.
func needsPreserve(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range [...]byte{9, 10, 13, 32} {
		if s[0] == c || s[len(s)-1] == c {
			return true
		}
	}
	return false
}

// truncateUTF16 cuts s to at most n UTF-16 code units, Excel's measure of a cell.
func truncateUTF16(s string, n int) string {
	cnt := 0
	for i, r := range s {
		if cnt += utf16.RuneLen(r); cnt > n {
			return s[:i]
		}
	}
	return s
}

// appendEscaped is encoding/xml's EscapeText, except that new lines stay as they are.
func appendEscaped(b []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); {
		r, width := utf8.DecodeRuneInString(s[i:])
		i += width
		var esc string
		switch r {
		case '"':
			esc = "&#34;"
		case '\'':
			esc = "&#39;"
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '\t':
			esc = "&#x9;"
		case '\n':
			continue
		case '\r':
			esc = "&#xD;"
		default:
			if !inXMLCharRange(r) || (r == utf8.RuneError && width == 1) {
				esc = "\uFFFD"
				break
			}
			continue
		}
		b = append(b, s[last:i-width]...)
		b = append(b, esc...)
		last = i
	}
	return append(b, s[last:]...)
}

func inXMLCharRange(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

var (
	bstrExp       = regexp.MustCompile(`_x[a-fA-F\d]{4}_`)
	bstrEscapeExp = regexp.MustCompile(`x[a-fA-F\d]{4}_`)
)

// bstrMarshal escapes text that reads as Excel's own _xHHHH_ escapes, as excelize
// does: rare, so it may allocate.
func bstrMarshal(s string) (result string) {
	matches, l, cursor := bstrExp.FindAllStringSubmatchIndex(s, -1), len(s), 0
	for _, match := range matches {
		result += s[cursor:match[0]]
		subStr := s[match[0]:match[1]]
		if subStr == "_x005F_" {
			cursor = match[1]
			if match[1]+6 <= l && bstrEscapeExp.MatchString(s[match[1]:match[1]+6]) {
				_, err := strconv.Unquote(`"\u` + s[match[1]+1:match[1]+5] + `"`)
				if err == nil {
					result += subStr + "x005F" + subStr
					continue
				}
			}
			result += subStr + "x005F_"
			continue
		}
		if bstrExp.MatchString(subStr) {
			cursor = match[1]
			if _, err := strconv.Unquote(`"\u` + s[match[0]+2:match[1]-1] + `"`); err == nil {
				result += "_x005F" + subStr
				continue
			}
		}
	}
	if cursor < l {
		result += s[cursor:]
	}
	return result
}

// formatCellFloat is the shortest decimal of value, cut to Excel's 15 significant digits.
func formatCellFloat(value float64) string {
	str := strconv.FormatFloat(value, 'f', -1, 64)
	if math.Abs(value) == math.MaxFloat64 {
		return str
	}
	const maxPrec = 15
	decimal := strings.IndexByte(str, '.')
	significant := 0
	for idx := range str {
		if str[idx] < '0' || str[idx] > '9' || significant == 0 && str[idx] == '0' {
			continue
		}
		significant++
		if significant <= maxPrec {
			continue
		}
		if decimal >= 0 && idx > decimal {
			return strings.TrimSuffix(str[:idx], ".")
		}
		if decimal < 0 {
			decimal = len(str)
		}
		truncated := []byte(str[:decimal])
		for ; idx < len(truncated); idx++ {
			truncated[idx] = '0'
		}
		return string(truncated)
	}
	return str
}

var (
	excel1904Epoch        = time.Date(1904, time.January, 1, 0, 0, 0, 0, time.UTC)
	excelMinTime1900      = time.Date(1899, time.December, 31, 0, 0, 0, 0, time.UTC)
	excelBuggyPeriodStart = time.Date(1900, time.March, 1, 0, 0, 0, 0, time.UTC).Add(-time.Nanosecond)
)

// timeToExcelTime is t as an Excel serial date, 0 before the epoch.
func timeToExcelTime(t time.Time, date1904 bool) float64 {
	const (
		day         = 24 * time.Hour
		maxDuration = 290 * 364 * day
	)
	date := excelMinTime1900
	if date1904 {
		date = excel1904Epoch
	}
	if t.Before(date) {
		return 0
	}
	tt, diff, result := t, t.Sub(date), 0.0
	for diff >= maxDuration {
		result += float64(maxDuration / day)
		tt = tt.Add(-maxDuration)
		diff = tt.Sub(date)
	}
	rem := diff % day
	result += float64(diff-rem)/float64(day) + float64(rem)/float64(day)
	if !date1904 && t.After(excelBuggyPeriodStart) {
		result++ // Excel's 29 February 1900
	}
	return result
}

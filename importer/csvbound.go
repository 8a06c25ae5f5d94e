package importer

import (
	"fmt"
	"io"
	"strconv"
)

// maxLineBytes bounds a physical line of CSV text: a row of colleagues is a few
// hundred bytes, and eight cells of Excel's longest are about one MiB.
const maxLineBytes = 1 << 20

// maxFields bounds the cells of a record: Excel's 16,384 columns. Each costs
// encoding/csv some 40 bytes however short it is.
const maxFields = 16384

// boundedText counts CSV text as it streams into encoding/csv, following its lenient
// quoting, and stops the stream with a *boundError once a physical line or a cell
// grows past its bound. encoding/csv keeps a whole record in memory, so a quote that
// never closes or one giant cell would otherwise be read whole, and copied, first.
type boundedText struct {
	r        io.Reader
	comma    byte
	maxCell  int // bytes of UTF-8 text a cell may take
	maxLine  int
	check    func() error // called every MiB: an interruption
	sinceChk int
	err      error

	line, lineLen      int // physical line (from 1) and bytes of it so far
	recLine            int // physical line on which the current record starts; 0 between records
	field, fieldLen    int // index of the current field and its bytes so far
	fieldStart         bool
	quoted, afterQuote bool // in a quoted field; just after a quote in one
	quoteLine          int  // where the current quoted field opened
	crAfterQuote       bool
}

func newBoundedText(r io.Reader, comma rune, maxCellChars int, check func() error) *boundedText {
	maxCell := 4 * maxCellChars // a character takes at most 4 bytes of UTF-8
	return &boundedText{r: r, comma: byte(comma), maxCell: maxCell, maxLine: max(maxLineBytes, maxCell),
		check: check, line: 1, fieldStart: true}
}

// boundError is CSV text past a bound. recLine is relative to the reader that found
// it; row is filled in by the rowReader, which knows the spreadsheet's row numbers.
type boundError struct {
	what      string // "line", "cell" or "quote"
	recLine   int
	col       int // zero-based field
	quoteLine int
	limit     int // bytes
	maxChars  int
	row       int
}

func (e *boundError) Error() string {
	switch e.what {
	case "quote":
		return fmt.Sprintf("a quote opened in row %d column %s is never closed: the cell runs on over line breaks past %s bytes, more than the %s characters a cell may hold",
			e.row, colLetter(e.col), thousands(e.limit), thousands(e.maxChars))
	case "cell":
		return fmt.Sprintf("cell %s%d is longer than %s characters (it passes %s bytes)",
			colLetter(e.col), e.row, thousands(e.maxChars), thousands(e.limit))
	case "cells":
		return fmt.Sprintf("row %d has more than %s cells, the most a spreadsheet can have", e.row, thousands(e.limit))
	}
	return fmt.Sprintf("row %d has a line longer than %s bytes", e.row, thousands(e.limit))
}

func (b *boundedText) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.r.Read(p)
	for i, c := range p[:n] {
		if b.step(c) {
			// Hand over the bytes before the one past the bound, then the error.
			return i, b.err
		}
	}
	if b.sinceChk += n; b.sinceChk >= 1<<20 && b.check != nil {
		b.sinceChk = 0
		if cerr := b.check(); cerr != nil {
			b.err = cerr
			return n, cerr
		}
	}
	return n, err
}

// step follows one byte through encoding/csv's lenient parse (LazyQuotes): a quote
// opens a quoted field only at its start, "" is a quote, and a quote followed by
// anything but the delimiter or a line break is text. It reports whether a bound is
// passed.
func (b *boundedText) step(c byte) bool {
	if c == '\n' {
		b.line++
		b.lineLen = 0
	} else if b.lineLen++; b.lineLen > b.maxLine {
		return b.fail("line")
	}
	if b.recLine == 0 {
		if c == '\n' {
			return false // a blank line: no record
		}
		b.recLine = b.line
	}
	if b.fieldStart {
		b.fieldStart, b.fieldLen = false, 0
		if c == '"' {
			b.quoted, b.quoteLine = true, b.line
			return false
		}
	}
	if b.quoted {
		if b.crAfterQuote {
			b.crAfterQuote = false
			if c == '\n' {
				b.endRecord()
				return false
			}
			b.fieldLen += 2 // the quote and the carriage return were text
		}
		switch {
		case b.afterQuote:
			b.afterQuote = false
			switch c {
			case '"': // an escaped quote
				b.fieldLen++
				return b.fieldLen > b.maxCell && b.fail("cell")
			case b.comma:
				b.endField()
				return b.err != nil
			case '\n':
				b.endRecord()
				return false
			case '\r':
				b.crAfterQuote = true
				return false
			}
			b.fieldLen++ // the quote was text
		case c == '"':
			b.afterQuote = true
			return false
		}
		if b.fieldLen++; b.fieldLen > b.maxCell {
			if b.line > b.quoteLine {
				return b.fail("quote")
			}
			return b.fail("cell")
		}
		return false
	}
	switch c {
	case b.comma:
		b.endField()
		return b.err != nil
	case '\n':
		b.endRecord()
	default:
		if b.fieldLen++; b.fieldLen > b.maxCell {
			return b.fail("cell")
		}
	}
	return false
}

func (b *boundedText) endField() {
	if b.field++; b.field >= maxFields {
		b.fail("cells")
	}
	b.fieldStart, b.quoted, b.afterQuote, b.crAfterQuote = true, false, false, false
}

func (b *boundedText) endRecord() {
	b.fieldStart, b.quoted, b.afterQuote, b.crAfterQuote = true, false, false, false
	b.field, b.recLine = 0, 0
}

func (b *boundedText) fail(what string) bool {
	limit := b.maxCell
	switch what {
	case "line":
		limit = b.maxLine
	case "cells":
		limit = maxFields
	}
	recLine := b.recLine
	if recLine == 0 {
		recLine = b.line
	}
	b.err = &boundError{what: what, recLine: recLine, col: b.field, quoteLine: b.quoteLine, limit: limit, maxChars: b.maxCell / 4}
	return true
}

// thousands writes n with commas between groups of three digits: 32,767.
func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

package importer

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/gocarina/gocsv"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

	"github.com/ycm-onboard/ycm-onboard/internal/words"
)

// csvColleague and csvInstance are what gocsv decodes into. The header row handed to
// gocsv is rewritten to these tags after the real one has been checked.
type csvColleague struct {
	Email       string `csv:"email"`
	FirstName   string `csv:"first_name"`
	LastName    string `csv:"last_name"`
	Permissions string `csv:"permissions"`
	YCMManager  string `csv:"ycm_manager"`
	Owner       string `csv:"owner"`
	Remark      string `csv:"remark"`
	State       string `csv:"state"`
}

func (c *csvColleague) cells(l *layout) []string {
	cells := make([]string, l.width)
	set := func(f field, v string) {
		if i := l.cols[f].index; i >= 0 {
			cells[i] = v
		}
	}
	set(fEmail, c.Email)
	set(fFirstName, c.FirstName)
	set(fLastName, c.LastName)
	set(fPermissions, c.Permissions)
	set(fYCMManager, c.YCMManager)
	set(fOwner, c.Owner)
	set(fRemark, c.Remark)
	set(fState, c.State)
	return cells
}

type csvInstance struct {
	PBX             string `csv:"pbx"`
	Extensions      string `csv:"extensions"`
	ConcurrentCalls string `csv:"concurrent_calls"`
}

func (c *csvInstance) cells(l *layout) []string {
	cells := make([]string, l.width)
	set := func(f field, v string) {
		if i := l.cols[f].index; i >= 0 {
			cells[i] = v
		}
	}
	set(fPBX, c.PBX)
	set(fExtensions, c.Extensions)
	set(fConcurrentCalls, c.ConcurrentCalls)
	return cells
}

// textEncoding finds a file's encoding from its first bytes and whether the whole
// of it is valid UTF-8.
type textEncoding struct {
	name  string
	enc   encoding.Encoding // nil: UTF-8
	bom   int               // bytes of byte-order mark to skip
	latin *latinLines       // a mixed file: UTF-8, but these lines Windows-1252
}

// utf16Order detects UTF-16 by its byte-order mark, or by NUL bytes in every other place.
func utf16Order(head []byte) (unicode.Endianness, bool) {
	switch {
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}):
		return unicode.LittleEndian, true
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return unicode.BigEndian, true
	}
	if len(head) < 4 {
		return unicode.BigEndian, false
	}
	n := min(len(head), 512) &^ 1
	var even, odd int
	for i := 0; i < n; i += 2 {
		if head[i] == 0 {
			even++
		}
		if head[i+1] == 0 {
			odd++
		}
	}
	switch {
	case odd*10 >= n/2*9 && even == 0:
		return unicode.LittleEndian, true
	case even*10 >= n/2*9 && odd == 0:
		return unicode.BigEndian, true
	}
	return unicode.BigEndian, false
}

func detectEncoding(path string, head []byte, check func() error) (textEncoding, error) {
	if order, ok := utf16Order(head); ok {
		bom := 0
		if bytes.HasPrefix(head, []byte{0xFF, 0xFE}) || bytes.HasPrefix(head, []byte{0xFE, 0xFF}) {
			bom = 2
		}
		name := "UTF-16LE"
		if order == unicode.BigEndian {
			name = "UTF-16BE"
		}
		return textEncoding{name: name, enc: unicode.UTF16(order, unicode.IgnoreBOM), bom: bom}, nil
	}
	bom := 0
	if bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}) {
		bom = 3
	}
	f, err := os.Open(path)
	if err != nil {
		return textEncoding{}, err
	}
	defer f.Close()
	utf8Lines, otherLines, err := scanLines(&checkedReader{r: f, check: check})
	switch {
	case err != nil:
		return textEncoding{}, err
	case otherLines == 0:
		return textEncoding{name: "UTF-8", bom: bom}, nil
	case utf8Lines > 0:
		return textEncoding{name: "mixed", bom: bom, latin: &latinLines{}}, nil
	}
	return textEncoding{name: "Windows-1252", enc: charmap.Windows1252}, nil
}

// scanLines streams a text and counts its lines that are UTF-8 beyond ASCII and
// those that are not UTF-8 at all.
func scanLines(r io.Reader) (utf8Lines, otherLines int, err error) {
	buf := make([]byte, 64<<10)
	keep := 0
	bad, wide := false, false // of the line so far
	endLine := func() {
		switch {
		case bad:
			otherLines++
		case wide:
			utf8Lines++
		}
		bad, wide = false, false
	}
	for {
		n, err := r.Read(buf[keep:])
		chunk := buf[:keep+n]
		// Hold back an incomplete rune at the end of the chunk.
		end := len(chunk)
		if err == nil {
			end = len(trimPartialRune(chunk))
		}
		data := chunk[:end]
		if isASCII(data) {
			// Only the line in progress can count: the rest are ASCII.
			if bytes.IndexByte(data, '\n') >= 0 {
				endLine()
			}
			data = nil
		}
		for len(data) > 0 {
			seg, rest, found := bytes.Cut(data, []byte{'\n'})
			if !bad {
				if !utf8.Valid(seg) {
					bad = true
				} else if !wide {
					wide = !isASCII(seg)
				}
			}
			if !found {
				break
			}
			endLine()
			data = rest
		}
		if err == io.EOF {
			endLine()
			return utf8Lines, otherLines, nil
		}
		if err != nil {
			return 0, 0, err
		}
		keep = copy(buf, chunk[end:])
	}
}

// isASCII reports whether b is all ASCII, eight bytes at a time.
func isASCII(b []byte) bool {
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b)&0x8080808080808080 != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// latinLines are the physical lines (from 1) of a mixed file that are not UTF-8 and
// were read as Windows-1252, in order. Every reader of the text adds the lines it is
// the first to reach.
type latinLines struct {
	lines []int
	seen  int // lines classified so far
}

// mixedText decodes a text line by line: a line that is valid UTF-8 as it is, one
// that is not as Windows-1252. A line is held whole up to maxLineBytes; past that
// the CSV bound refuses it, so how its pieces are decoded does not matter.
type mixedText struct {
	br    *bufio.Reader
	latin *latinLines
	line  int
	mid   bool // within a line longer than maxLineBytes
	buf   []byte
	out   []byte
	err   error
}

func (m *mixedText) Read(p []byte) (int, error) {
	for len(m.out) == 0 {
		if m.err != nil {
			return 0, m.err
		}
		m.next()
	}
	n := copy(p, m.out)
	m.out = m.out[n:]
	return n, nil
}

func (m *mixedText) next() {
	m.buf = m.buf[:0]
	for {
		b, err := m.br.ReadSlice('\n')
		m.buf = append(m.buf, b...)
		if err == bufio.ErrBufferFull && len(m.buf) < maxLineBytes {
			continue
		}
		if err != nil && err != bufio.ErrBufferFull {
			m.err = err
		}
		break
	}
	if len(m.buf) == 0 {
		return
	}
	if !m.mid {
		m.line++
	}
	m.mid = m.buf[len(m.buf)-1] != '\n'
	if utf8.Valid(m.buf) {
		m.out = m.buf
	} else {
		m.out, _ = charmap.Windows1252.NewDecoder().Bytes(m.buf)
		if m.line > m.latin.seen {
			m.latin.lines = append(m.latin.lines, m.line)
		}
	}
	m.latin.seen = max(m.latin.seen, m.line)
}

// decodeHead decodes the first bytes of a file for sniffing.
func decodeHead(head []byte) (string, textEncoding) {
	if order, ok := utf16Order(head); ok {
		te := textEncoding{name: "UTF-16", enc: unicode.UTF16(order, unicode.IgnoreBOM)}
		s, _, _ := transform.Bytes(te.enc.NewDecoder(), head[:len(head)&^1])
		return string(s), te
	}
	if utf8.Valid(trimPartialRune(head)) {
		return string(head), textEncoding{name: "UTF-8"}
	}
	s, _, _ := transform.Bytes(charmap.Windows1252.NewDecoder(), head)
	return string(s), textEncoding{name: "Windows-1252"}
}

// headerLine is the line to sniff the delimiter from: the first non-blank line
// holding , ; tab or |, among the first few (a title line above the headers may hold
// none); else the first line.
func headerLine(text string) string {
	lines := strings.SplitN(text, "\n", 2+maxTitleRows*2)
	tried := 0
	for _, l := range lines {
		if isBlank(l) {
			continue
		}
		if strings.ContainsAny(l, ",;\t|") {
			return l
		}
		if tried++; tried > maxTitleRows {
			break
		}
	}
	return lines[0]
}

// sniffDelimiter picks , ; or tab: the one that splits the header line (outside
// quotes) into the most fields.
func sniffDelimiter(firstLine string) rune {
	best, bestN := ',', 0
	for _, d := range []rune{',', ';', '\t', '|'} {
		n, inQuote := 0, false
		for _, r := range firstLine {
			switch {
			case r == '"':
				inQuote = !inQuote
			case r == d && !inQuote:
				n++
			}
		}
		if n > bestN {
			best, bestN = d, n
		}
	}
	return best
}

// rowReader is the csv.Reader handed to gocsv. It yields the rewritten header, pads or
// cuts records to the header width, skips blank records and records each record's row
// number as a spreadsheet program would show it. A quote that is never closed would
// swallow every later row into one cell: rowReader re-reads that line as if the quote
// were not there, carries on with the next line, and notes the row in quotes.
type rowReader struct {
	r       *csv.Reader
	header  []string
	width   int
	rows    []int // row number of each record returned after the header
	lastRow int   // spreadsheet row of the previous record
	lastEnd int   // physical line on which the previous record ended
	started bool
	extra   []int // rows with values beyond the header width

	comma     rune
	open      func() (io.Reader, io.Closer, error) // the text again from its start
	closer    io.Closer                            // of the last reopened text
	offset    int                                  // physical lines before the current csv.Reader's first
	quotes    []strayQuote                         // rows re-read without their unclosed quote
	emailCol  int                                  // the Email column, -1 if none
	swallowed []strayQuote                         // closed multi-line cells holding what looks like a row
	scan      quoteScan                            // the text again, to check quoted cells strictly

	latin     *latinLines // a mixed file's lines read as Windows-1252
	li        int         // the first of them not yet placed on a row
	latinRows []int       // rows holding one of them

	maxCellChars int          // bounds the text while it streams (see boundedText)
	maxRows      int          // records after the header; 0: no bound
	check        func() error // an interruption, asked as the text streams
}

// strayQuote is a quote opened in a cell and never closed.
type strayQuote struct {
	row   int    // spreadsheet row
	col   int    // zero-based column of the cell
	value string // the cell as re-read without the quote
}

// unclosedQuoteError is a quote that was never closed where the rows after it cannot
// be recovered.
type unclosedQuoteError struct {
	row, col int
}

func (e *unclosedQuoteError) Error() string {
	return fmt.Sprintf("unterminated quote starting at row %d, column %s", e.row, colLetter(e.col))
}

func (rr *rowReader) close() {
	if rr.closer != nil {
		_ = rr.closer.Close()
		rr.closer = nil
	}
}

// parse is how the rowReader parses the text from r: bounded while it streams.
func (rr *rowReader) parse(r io.Reader) *csv.Reader {
	return newCSVReader(newBoundedText(r, rr.comma, rr.maxCellChars, rr.check), rr.comma)
}

// newCSVReader is how every CSV text is parsed.
func newCSVReader(r io.Reader, comma rune) *csv.Reader {
	cr := csv.NewReader(r)
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = false
	return cr
}

// next reads one record and computes its spreadsheet row.
func (rr *rowReader) next() ([]string, int, error) {
	rec, err := rr.r.Read()
	if err != nil {
		var be *boundError
		if errors.As(err, &be) {
			be.row = rr.lastRow + 1 + (be.recLine + rr.offset - rr.lastEnd - 1)
		}
		return nil, 0, err
	}
	line, _ := rr.r.FieldPos(0)
	line += rr.offset
	// Blank lines are skipped by encoding/csv but show as rows in a spreadsheet.
	row := rr.lastRow + 1 + (line - rr.lastEnd - 1)
	if i := rr.unclosed(rec); i >= 0 {
		qline, qcol := rr.r.FieldPos(i)
		qline += rr.offset
		if qline != line || rr.open == nil || len(rr.quotes) >= maxStrayQuotes {
			return nil, 0, &unclosedQuoteError{row: row + qline - line, col: i}
		}
		fixed, err := rr.reread(qline, qcol)
		if err != nil {
			return nil, 0, &unclosedQuoteError{row: row, col: i}
		}
		value := ""
		if i < len(fixed) {
			value = fixed[i]
		}
		rr.quotes = append(rr.quotes, strayQuote{row: row, col: i, value: value})
		rr.lastEnd, rr.lastRow = qline, row
		rr.placeLatin(line, row)
		return fixed, row, nil
	}
	lastLine, _ := rr.r.FieldPos(len(rec) - 1)
	rr.lastEnd = lastLine + rr.offset + strings.Count(rec[len(rec)-1], "\n")
	rr.lastRow = row
	rr.placeLatin(line, row)
	return rec, row, nil
}

// placeLatin notes the row if a line of the record just read (from first to
// rr.lastEnd) was read as Windows-1252. The decoder has classified every line the
// parser has read.
func (rr *rowReader) placeLatin(first, row int) {
	if rr.latin == nil {
		return
	}
	for ; rr.li < len(rr.latin.lines) && rr.latin.lines[rr.li] <= rr.lastEnd; rr.li++ {
		if l := rr.latin.lines[rr.li]; l >= first && (len(rr.latinRows) == 0 || rr.latinRows[len(rr.latinRows)-1] != row) {
			rr.latinRows = append(rr.latinRows, row)
		}
	}
}

// maxLatinRows is how many rows read as Windows-1252 are named one by one.
const maxLatinRows = 10

// latinProblems names the rows of a mixed file that were read as Windows-1252.
func (rr *rowReader) latinProblems(base string) []Problem {
	var ps []Problem
	for i, row := range rr.latinRows {
		if i == maxLatinRows {
			rest := rr.latinRows[i:]
			ps = append(ps, Problem{Source: Source{File: base, Row: row}, Severity: Warning,
				Message: fmt.Sprintf("%s more are not UTF-8 like the rest of the file: they were read as Windows-1252 (Western European)", words.Count(len(rest), "row")),
				Fix:     "check the names in them, or save the whole file again as \"CSV UTF-8\""})
			break
		}
		ps = append(ps, Problem{Source: Source{File: base, Row: row}, Severity: Warning,
			Message: fmt.Sprintf("row %d is not UTF-8 like the rest of the file: it was read as Windows-1252 (Western European)", row),
			Fix:     "check the names in it, or save the whole file again as \"CSV UTF-8\""})
	}
	return ps
}

// unclosed returns the index of a cell whose quote was never closed, or -1. Only a
// cell that runs over line breaks can have swallowed rows, and such a cell is checked
// by parsing it strictly from its opening quote (see quoteFails): a properly closed
// multi-line cell is an ordinary one, however many delimiters its lines hold.
func (rr *rowReader) unclosed(rec []string) int {
	for i, v := range rec {
		if !strings.Contains(v, "\n") {
			continue
		}
		if line, col := rr.r.FieldPos(i); rr.quoteFails(line+rr.offset, col) {
			return i
		}
	}
	return -1
}

// maxStrayQuotes is how many unclosed quotes are re-read before the file is refused:
// each re-reads the text from its start.
const maxStrayQuotes = 100

// quoteScan reads the text a second time, forward only, to check quoted cells
// strictly. Cells are checked in the order they are read and a closed cell ends where
// the lenient reader's does, so the text is read once; only after a cell that fails
// (an unclosed quote, of which there are at most maxStrayQuotes) may it be reopened.
type quoteScan struct {
	br   *bufio.Reader
	c    io.Closer
	line int    // physical line held in cur, from 1; 0 before the first
	cur  []byte // that line, with its line break if it has one
}

func (q *quoteScan) close() {
	if q.c != nil {
		_ = q.c.Close()
	}
	*q = quoteScan{}
}

// seekLine makes the physical line (from 1) the scan's current one. It returns
// io.EOF when the text has no such line.
func (rr *rowReader) seekLine(line int) error {
	q := &rr.scan
	if q.br == nil || line < q.line {
		q.close()
		r, c, err := rr.open()
		if err != nil {
			return err
		}
		q.br, q.c = bufio.NewReaderSize(r, 64<<10), c
	}
	for ; q.line < line-1; q.line++ {
		// Lines between two checked cells: skipped without keeping them.
		q.cur = nil
		_, err := q.br.ReadSlice('\n')
		for err == bufio.ErrBufferFull {
			_, err = q.br.ReadSlice('\n')
		}
		if err != nil {
			return err
		}
	}
	if q.line == line-1 {
		b, err := q.br.ReadBytes('\n')
		if len(b) == 0 {
			if err == nil {
				err = io.EOF
			}
			return err
		}
		if err != nil && err != io.EOF {
			return err
		}
		q.cur, q.line = b, line
	}
	return nil
}

// quoteFails reports whether the quoted cell starting at line, col (a physical line
// and byte column, both from 1, as encoding/csv counts them) fails a strict parse:
// its quote is never closed before the end of the text, or a quote in it is followed
// by something other than a second quote, the delimiter or the end of the line, which
// encoding/csv without LazyQuotes refuses. The lenient reader takes such a quote as
// text and reads on, over the rows after it.
func (rr *rowReader) quoteFails(line, col int) bool {
	if rr.open == nil {
		return false
	}
	if err := rr.seekLine(line); err != nil {
		return false
	}
	q := &rr.scan
	if col < 1 || col > len(q.cur) || q.cur[col-1] != '"' {
		return false
	}
	comma := string(rr.comma)
	rest := q.cur[col:]
	for {
		i := bytes.IndexByte(rest, '"')
		if i < 0 {
			if err := rr.seekLine(q.line + 1); err != nil {
				return err == io.EOF // never closed; another error is not the cell's
			}
			rest = q.cur
			continue
		}
		after := rest[i+1:]
		switch {
		case len(after) > 0 && after[0] == '"': // an escaped quote
			rest = after[1:]
		case len(after) == 0, after[0] == '\n', bytes.HasPrefix(after, []byte(comma)),
			string(after) == "\r\n", string(after) == "\r": // closed
			return false
		default:
			return true
		}
	}
}

// rawFrom reopens the text at the start of a physical line (from 1), as
// encoding/csv counts them.
func (rr *rowReader) rawFrom(line int) (*bufio.Reader, io.Closer, error) {
	r, c, err := rr.open()
	if err != nil {
		return nil, nil, err
	}
	br := bufio.NewReaderSize(r, 64<<10)
	for range line - 1 {
		if _, err := br.ReadSlice('\n'); err != nil && err != bufio.ErrBufferFull {
			_ = c.Close()
			return nil, nil, err
		} else if err == bufio.ErrBufferFull {
			// A line longer than the buffer: keep reading it.
			for err == bufio.ErrBufferFull {
				_, err = br.ReadSlice('\n')
			}
			if err != nil {
				_ = c.Close()
				return nil, nil, err
			}
		}
	}
	return br, c, nil
}

// reread parses physical line again without the quote at col, and carries on
// reading from the line after it.
func (rr *rowReader) reread(line, col int) ([]string, error) {
	br, c, err := rr.rawFrom(line)
	if err != nil {
		return nil, err
	}
	text, err := br.ReadString('\n')
	if err != nil && err != io.EOF {
		_ = c.Close()
		return nil, err
	}
	text = strings.TrimRight(text, "\r\n")
	if col-1 < len(text) && text[col-1] == '"' {
		text = text[:col-1] + text[col:]
	}
	one := newCSVReader(strings.NewReader(text), rr.comma)
	one.LazyQuotes = true
	rec, err := one.Read()
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	rr.close()
	rr.closer = c
	rr.r = rr.parse(br)
	rr.offset = line
	return rec, nil
}

func (rr *rowReader) Read() ([]string, error) {
	if !rr.started {
		rr.started = true
		return rr.header, nil
	}
	for {
		rec, row, err := rr.next()
		if err != nil {
			return nil, err
		}
		if allBlank(rec) {
			continue
		}
		if len(rec) > rr.width {
			if !allBlank(rec[rr.width:]) {
				rr.extra = append(rr.extra, row)
			}
			rec = rec[:rr.width]
		}
		if i, line := rr.holdsRow(rec); i >= 0 {
			rr.swallowed = append(rr.swallowed, strayQuote{row: row, col: i, value: line})
		}
		rr.rows = append(rr.rows, row)
		if rr.maxRows > 0 && len(rr.rows) > rr.maxRows {
			return nil, &rowLimitError{max: rr.maxRows}
		}
		return rec, nil
	}
}

// holdsRow finds a closed multi-line cell with a line that looks like a colleague's
// row of its own (an address in the Email column and the header's width in cells): a
// quote left open above and closed by chance further down swallows the rows between.
// It returns the cell and that line, or -1.
func (rr *rowReader) holdsRow(rec []string) (int, string) {
	if rr.emailCol < 0 || rr.width < 2 {
		return -1, ""
	}
	for i, v := range rec {
		if !strings.Contains(v, "\n") {
			continue
		}
		for line := range strings.Lines(v) {
			fields := strings.Split(strings.TrimRight(line, "\r\n"), string(rr.comma))
			if len(fields) >= rr.width && rr.emailCol < len(fields) && strings.Contains(fields[rr.emailCol], "@") {
				return i, strings.TrimRight(line, "\r\n")
			}
		}
	}
	return -1, ""
}

func (rr *rowReader) ReadAll() ([][]string, error) {
	var out [][]string
	for {
		rec, err := rr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, rec)
	}
}

// readCSVFile reads a CSV file holding one table. want is kindUnknown for an input
// file (the header decides), kindThreeCX for a sizing source.
func readCSVFile(path string, opts *Options, d *Desired, want tableKind, cx *threeCXCount) (out []Problem) {
	base := filepath.Base(path)
	src := Source{File: base}
	f, err := os.Open(path)
	if err != nil {
		return []Problem{fileProblem(path, fmt.Sprintf("the file cannot be opened: %v", err), "check that the file is readable")}
	}
	head := make([]byte, sniffLen)
	n, _ := io.ReadFull(f, head)
	_ = f.Close()
	head = head[:n]
	te, err := detectEncoding(path, head, opts.interrupted)
	if errors.Is(err, ErrInterrupted) {
		return []Problem{interruptedProblem(path)}
	}
	if err != nil {
		return []Problem{fileProblem(path, fmt.Sprintf("the file cannot be read: %v", err), "check that the file is readable")}
	}
	open := func() (io.Reader, io.Closer, error) { return openText(path, te) }
	text, closer, err := open()
	if err != nil {
		return []Problem{fileProblem(path, fmt.Sprintf("the file cannot be read: %v", err), "check that the file is readable")}
	}
	br := bufio.NewReaderSize(text, 64<<10)
	first, _ := br.Peek(min(br.Buffered()+br.Size(), 64<<10))
	delim := sniffDelimiter(headerLine(string(first)))

	rr := &rowReader{comma: delim, open: open, maxCellChars: opts.MaxCellChars, latin: te.latin, check: opts.interrupted}
	rr.r = rr.parse(br)
	defer func() {
		rr.close()
		rr.scan.close()
		_ = closer.Close()
		out = append(out, rr.latinProblems(base)...)
	}()

	// The header is the first non-blank record.
	var header []string
	headerRow := 0
	for {
		rec, row, err := rr.next()
		if err == io.EOF {
			if want == kindThreeCX {
				return []Problem{fileProblem(path, "the 3CX export has no rows", "export the users from 3CX again")}
			}
			return []Problem{fileProblem(path, "the file holds no table: it has no header row", fmt.Sprintf("put the headers in the first row: %s (or %s)", expectedList(kindColleagues), expectedList(kindInstances)))}
		}
		if err != nil {
			return []Problem{csvProblem(path, rr, err)}
		}
		if !allBlank(rec) {
			header, headerRow = rec, row
			break
		}
	}
	var title *Problem
	if classify(header) == kindUnknown {
		// A title or a note above the table: look a few rows further for the headers.
		for tries := 0; tries < maxTitleRows; {
			rec, row, err := rr.next()
			if err != nil {
				break // the first row's problems are reported below
			}
			if allBlank(rec) {
				continue
			}
			tries++
			if isHeaderRow(want, rec) {
				p := titleRowsProblem(Source{File: base, Row: row}, header, headerRow)
				title = &p
				header, headerRow = rec, row
				break
			}
		}
	}
	src.Row = headerRow
	if len(rr.quotes) > 0 {
		q := rr.quotes[0]
		return []Problem{csvProblem(path, rr, &unclosedQuoteError{row: q.row, col: q.col})}
	}
	var ps []Problem
	if title != nil {
		ps = append(ps, *title)
	}
	if te.name == "Windows-1252" {
		ps = append(ps, Problem{Source: Source{File: base}, Severity: Warning,
			Message: "the file is not UTF-8; it was read as Windows-1252 (Western European)",
			Fix:     "if names look wrong, save the file as \"CSV UTF-8\""})
	}
	kind := classify(header)
	switch {
	case want == kindThreeCX:
		if kind != kindThreeCX {
			return append(ps, fileProblem(path, fmt.Sprintf("%s does not look like a 3CX user export: it has no Number and EmailAddress columns", base), "export the users from the 3CX management console (Users > Export) and pass that file"))
		}
		return append(ps, countThreeCX(path, rr, header, opts, cx)...)
	case kind == kindThreeCX:
		return append(ps, threeCXAsInput(path, Source{File: base}))
	case kind == kindUnknown:
		found := make([]string, 0, len(header))
		for _, h := range header {
			if h = cleanText(h); h != "" {
				found = append(found, strQuote(h))
			}
		}
		return append(ps, fileProblem(path, fmt.Sprintf("the header row names neither colleagues (an Email column) nor cloud PBXs (a PBX or Extensions column); found %s", strings.Join(found, ", ")),
			fmt.Sprintf("put the headers in the first row: %s (or %s)", expectedList(kindColleagues), expectedList(kindInstances))))
	}
	l, hp := mapHeaders(kind, header, src)
	ps = append(ps, hp...)
	if HasErrors(hp) {
		return ps
	}
	rr.width = len(header)
	rr.maxRows = opts.MaxRows
	rr.emailCol = -1
	if kind == kindColleagues {
		rr.emailCol = l.cols[fEmail].index
	}
	rr.header = make([]string, len(header))
	for i := range rr.header {
		rr.header[i] = fmt.Sprintf("-unused-%d", i)
	}
	for f := range numFields {
		if c := l.cols[f]; c.index >= 0 {
			rr.header[c.index] = fieldSpecs[f].tag
		}
	}

	d.addLayout(Source{File: base}, l)
	t := &tableReader{src: Source{File: base}, l: l, opts: opts, d: d, ps: &ps}
	var decodeErr error
	var cellsOf func(i int) []string
	var count int
	switch kind {
	case kindColleagues:
		var recs []csvColleague
		decodeErr = gocsv.UnmarshalCSV(rr, &recs)
		cellsOf, count = func(i int) []string { return recs[i].cells(l) }, len(recs)
	case kindInstances:
		var recs []csvInstance
		decodeErr = gocsv.UnmarshalCSV(rr, &recs)
		cellsOf, count = func(i int) []string { return recs[i].cells(l) }, len(recs)
	}
	if decodeErr != nil && !errors.Is(decodeErr, gocsv.ErrEmptyCSVFile) {
		ps = append(ps, csvProblem(path, rr, decodeErr))
		return ps
	}
	if count > opts.MaxRows {
		ps = append(ps, fileProblem(path, fmt.Sprintf("the file has %d rows, more than the limit of %d; none of its rows are used", count, opts.MaxRows), "split the rows over several files, or raise the row limit"))
		return ps
	}
	faults := map[int]rowFault{}
	for _, q := range rr.quotes {
		faults[q.row] = quoteFault(q)
	}
	for _, q := range rr.swallowed {
		d.Unsure = append(d.Unsure, Source{File: base, Row: q.row})
		faults[q.row] = rowFault{col: q.col, value: q.value,
			msg: fmt.Sprintf("the cell in column %s runs over several lines, and one of them looks like a row of its own (%q): a quote left open above it was probably closed by chance here; the row is skipped", colLetter(q.col), q.value),
			fix: `close the quote where the value should end; if the cell really holds this text, write it on one line`}
	}
	for i := 0; i < count && i < len(rr.rows); i++ {
		if i%4096 == 4095 && opts.interrupted() != nil {
			return append(ps, interruptedProblem(path))
		}
		if f, ok := faults[rr.rows[i]]; ok {
			t.row(rr.rows[i], cellsOf(i), nil, f)
		} else {
			t.row(rr.rows[i], cellsOf(i), nil)
		}
	}
	if len(rr.extra) > 0 {
		ps = append(ps, Problem{Source: Source{File: base, Row: rr.extra[0]}, Severity: Warning,
			Message: fmt.Sprintf("%d %s values beyond the last header column; they are ignored", len(rr.extra), plural(len(rr.extra), "row has", "rows have")),
			Fix:     "give every column a header, or check for a stray delimiter in the row"})
	}
	return ps
}

// quoteFault is the row problem of a quote never closed, once its line is re-read.
func quoteFault(q strayQuote) rowFault {
	return rowFault{col: q.col, value: q.value,
		msg: fmt.Sprintf("unterminated quote starting at row %d, column %s: the value would run over every row below it; the row is skipped and the rows below are read as usual", q.row, colLetter(q.col)),
		fix: `close the quote: put a " at the end of the value, or delete the " at its start`}
}

// openText opens a text file past its byte-order mark, decoded to UTF-8.
func openText(path string, te textEncoding) (io.Reader, io.Closer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	if _, err := f.Seek(int64(te.bom), io.SeekStart); err != nil {
		_ = f.Close()
		return nil, nil, err
	}
	var r io.Reader = bufio.NewReaderSize(f, 64<<10)
	switch {
	case te.latin != nil:
		r = &mixedText{br: r.(*bufio.Reader), latin: te.latin}
	case te.enc != nil:
		r = transform.NewReader(r, te.enc.NewDecoder())
	}
	br := bufio.NewReaderSize(r, 64<<10)
	// Strip a BOM the decoder left (UTF-16 without skip, or a doubled one).
	if p, _ := br.Peek(3); bytes.Equal(p, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	return br, f, nil
}

// rowLimitError is a table with more rows than Options.MaxRows, found as it streams.
type rowLimitError struct{ max int }

func (e *rowLimitError) Error() string { return fmt.Sprintf("more than %d rows", e.max) }

func csvProblem(path string, rr *rowReader, err error) Problem {
	var be *boundError
	var rl *rowLimitError
	switch {
	case errors.Is(err, ErrInterrupted):
		return interruptedProblem(path)
	case errors.As(err, &rl):
		return fileProblem(path, fmt.Sprintf("the file has more than %s rows, the limit; none of its rows are used", thousands(rl.max)), "split the rows over several files, or raise the row limit")
	case errors.As(err, &be):
		fix := "shorten the text in that cell and save the file again; a file made by a program rather than a person may be a deliberate attack"
		switch be.what {
		case "quote":
			fix = `close the quote: put a " at the end of that value, or delete the " at its start`
		case "line", "cells":
			fix = "check that this is the CSV table itself, saved with a line break after every row; a file made by a program rather than a person may be a deliberate attack"
		}
		p := fileProblem(path, fmt.Sprintf("%v; the file is refused as it is read and none of its rows are used", be), fix)
		p.Source.Row = be.row
		if be.what == "cell" || be.what == "quote" {
			p.Column = colLetter(be.col)
		}
		return p
	}
	var uq *unclosedQuoteError
	if errors.As(err, &uq) {
		p := fileProblem(path, fmt.Sprintf("%v: the quoted value runs over the line breaks below it, so the rows after it cannot be told apart; none of the file's rows are used", uq),
			`close the quote: put a " at the end of that value, or delete the " at its start`)
		p.Source.Row = uq.row
		p.Column = colLetter(uq.col)
		return p
	}
	p := fileProblem(path, fmt.Sprintf("the CSV text cannot be read: %v; none of its rows are used", err), "open it in a spreadsheet program and save it again as CSV UTF-8, or as .xlsx")
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		p.Source.Row = pe.StartLine
	}
	return p
}

// trimPartialRune drops an incomplete UTF-8 sequence cut off at the end of b.
func trimPartialRune(b []byte) []byte {
	for i := 1; i <= utf8.UTFMax && i <= len(b); i++ {
		if utf8.RuneStart(b[len(b)-i]) {
			if !utf8.FullRune(b[len(b)-i:]) {
				return b[:len(b)-i]
			}
			break
		}
	}
	return b
}

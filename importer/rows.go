package importer

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// cellMeta answers what a raw value cannot tell: how a spreadsheet cell was typed.
// A CSV has none.
type cellMeta interface {
	// dateCell reports whether the cell is formatted as a date or time, and the
	// value as an ISO date if so.
	dateCell(col int, raw string) (iso string, ok bool)
	// formulaWithoutValue reports whether the empty cell is a formula that was never calculated.
	formulaWithoutValue(col int) bool
	// merged reports whether the cell is part of merged cells other than their
	// first, and the merged range ("D10:D11").
	merged(col int) (ref string, ok bool)
}

// tableReader turns the data rows of one table into colleagues or instances.
type tableReader struct {
	src      Source // File and Sheet
	l        *layout
	opts     *Options
	d        *Desired
	ps       *[]Problem
	rowCount int
	tab      *table // what the rows of this table share; nil until the first row
	// statusWarned is set once a Status column's portal status was read as present.
	statusWarned bool
}

// isBlank reports whether s holds only spaces, including non-breaking and zero-width ones.
func isBlank(s string) bool {
	for _, r := range s {
		if !isSpace(r) {
			return false
		}
	}
	return true
}

func isSpace(r rune) bool {
	switch r {
	case '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff':
		return true
	}
	return unicode.IsSpace(r)
}

// cleanText trims spaces of every kind from both ends.
func cleanText(s string) string { return strings.TrimFunc(s, isSpace) }

// rowFault is an error about a row found before its cells are checked, such as a
// quote that was never closed.
type rowFault struct {
	col             int
	value, msg, fix string
}

// row reads one data row. cells is padded to the header width. A row with faults is
// rejected whatever its cells hold.
func (t *tableReader) row(rowNum int, cells []string, meta cellMeta, faults ...rowFault) {
	blank := len(faults) == 0
	for _, c := range cells {
		if !isBlank(c) {
			blank = false
			break
		}
	}
	if blank {
		if meta != nil {
			for i := range cells {
				if meta.formulaWithoutValue(i) {
					blank = false
					break
				}
			}
		}
		if blank {
			return
		}
	}
	t.rowCount++
	if t.tab == nil {
		t.tab = &table{file: t.src.File, sheet: t.src.Sheet}
	}
	src := t.src
	src.Row = rowNum
	r := &rowCheck{t: t, src: src, cells: cells, meta: meta}
	for _, f := range faults {
		r.problem(Error, f.col, f.value, f.msg, f.fix)
	}
	for i, c := range cells {
		if utf8.RuneCountInString(c) > t.opts.MaxCellChars {
			r.problem(Error, i, c, fmt.Sprintf("the cell holds %d characters, more than the limit of %d", utf8.RuneCountInString(c), t.opts.MaxCellChars), "shorten the text in this cell")
			cells[i] = ""
		} else if at := strings.IndexFunc(c, isControlChar); at >= 0 {
			ch, _ := utf8.DecodeRuneInString(c[at:])
			r.problem(Error, i, EscapeControl(c), fmt.Sprintf("the cell holds the control character U+%04X, which is not text (it can hide or rewrite what the portal and a terminal show)", ch),
				"retype the cell; it may have come with a copy from another program")
			cells[i] = ""
		} else if c == "" && meta != nil && meta.formulaWithoutValue(i) {
			r.problem(Error, i, c, "the cell holds a formula that has no calculated value", "open the file in a spreadsheet program, let it recalculate, and save it again; or type the value instead of the formula")
		}
	}
	switch t.l.kind {
	case kindColleagues:
		c := r.colleague()
		if r.errors > 0 {
			t.d.RejectedColleagues = append(t.d.RejectedColleagues, c)
		} else {
			t.d.Colleagues = append(t.d.Colleagues, c)
		}
	case kindInstances:
		in := r.instance()
		if r.errors > 0 {
			t.d.RejectedInstances = append(t.d.RejectedInstances, in)
		} else {
			t.d.Instances = append(t.d.Instances, in)
		}
	}
}

// rowCheck collects the problems of one row.
type rowCheck struct {
	t      *tableReader
	src    Source
	cells  []string
	meta   cellMeta
	errors int
}

func (r *rowCheck) problem(sev Severity, col int, value, msg, fix string) {
	if col >= 0 && r.meta != nil && isBlank(value) {
		if ref, ok := r.meta.merged(col); ok {
			first, _, _ := strings.Cut(ref, ":")
			msg += fmt.Sprintf(" (the cell is part of the merged cells %s, whose value is only in %s)", ref, first)
			fix = "unmerge the cells and write the value on every row; " + fix
		}
	}
	p := Problem{Source: r.src, Severity: sev, Message: msg, Fix: fix, Value: shorten(value)}
	if col >= 0 {
		p.Column = colLetter(col)
		if col < len(r.t.l.headers) {
			p.Header = cleanText(r.t.l.headers[col])
		}
	}
	if sev == Error {
		r.errors++
	}
	*r.t.ps = append(*r.t.ps, p)
}

// isControlChar reports a character that is not text: the C0 and C1 controls but for
// tab and line breaks (a cell may hold several lines), DEL, and the bidirectional
// overrides that make text read other than it is.
func isControlChar(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return false
	case r < 0x20 || (r >= 0x7f && r <= 0x9f):
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// EscapeControl shows each control character of s as an escape (\x1b, \u202e), so that
// printing s can neither move a terminal's cursor nor break a report's XML.
func EscapeControl(s string) string {
	if strings.IndexFunc(s, isControlChar) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case !isControlChar(r):
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	return b.String()
}

// shorten keeps a value readable in a report.
func shorten(s string) string {
	const max = 200
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	rs := []rune(s)
	return string(rs[:max]) + "…"
}

// get returns the raw value of field f and its column index (-1 when the column is absent).
func (r *rowCheck) get(f field) (string, int) {
	c := r.t.l.cols[f]
	if c.index < 0 || c.index >= len(r.cells) {
		return "", c.index
	}
	return r.cells[c.index], c.index
}

func (r *rowCheck) colleague() Colleague {
	t := r.t.tab
	c := Colleague{tab: t, row: int32(min(r.src.Row, math.MaxInt32))}
	rawEmail, ei := r.get(fEmail)
	c.email = cleanText(rawEmail)
	if msg, fix := emailProblem(c.email); msg != "" {
		r.problem(Error, ei, rawEmail, msg, fix)
	}

	c.state = uint8(r.state())

	rawFirst, fi := r.get(fFirstName)
	rawLast, li := r.get(fLastName)
	first, last := cleanText(rawFirst), cleanText(rawLast)
	c.first, c.last = t.share(first), t.share(last)
	if k := utf8.RuneCountInString(first); k > maxNameChars {
		r.problem(Error, fi, rawFirst, fmt.Sprintf("the first name has %d characters, more than the portal's limit of %d", k, maxNameChars), "shorten it")
	}
	if k := utf8.RuneCountInString(last); k > maxNameChars {
		r.problem(Error, li, rawLast, fmt.Sprintf("the last name has %d characters, more than the portal's limit of %d", k, maxNameChars), "shorten it")
	}
	if first == "" && last == "" && c.State() == Present {
		col := fi
		if col < 0 {
			col = li
		}
		r.problem(Error, col, "", "both first name and last name are empty", "give at least a first name or a last name")
	}

	perms, pi := r.get(fPermissions)
	var n int
	c.perms, n = t.permissions(perms)
	if n == 0 && c.State() == Present {
		r.problem(Error, pi, perms, "no permission given", "list at least one permission, separated by ; or , (an absent colleague needs none)")
	}

	if v, col := r.get(fYCMManager); col >= 0 {
		b, ok := parseYesNo(v)
		if !ok {
			r.problem(Error, col, v, fmt.Sprintf("%q is not a yes/no value", cleanText(v)), "write yes or no (also accepted: y/n, true/false, 1/0, x; blank means no)")
		}
		c.flags |= hasYCMManager
		if b {
			c.flags |= ycmManager
		}
	}
	if v, col := r.get(fOwner); col >= 0 {
		c.flags |= hasOwner
		c.owner = t.share(cleanText(v))
	}
	if v, col := r.get(fRemark); col >= 0 {
		s := cleanText(v)
		if r.meta != nil && s != "" {
			if iso, ok := r.meta.dateCell(col, s); ok {
				s = iso
			}
		}
		c.flags |= hasRemark
		c.remark = t.remark(s)
	}
	return c
}

const maxNameChars = 63

// portalStatuses are the activation statuses a portal export (or a colleague copying
// one) writes in a Status column, folded by normHeader. They do not say whether the
// colleague should exist, so they are read as present: that never deletes anyone.
var portalStatuses = map[string]bool{
	"active": true, "activated": true, "enabled": true,
	"inactive": true, "unactive": true, "notactive": true, "notactivated": true, "deactivated": true,
	"pending": true, "pendingactivation": true, "awaitingactivation": true, "unactivated": true,
	"invited": true, "reinvited": true, "invitationsent": true, "expired": true,
	"frozen": true, "freeze": true, "disabled": true, "locked": true,
}

// state reads the State column: blank or present, absent. A Status column is read
// the same way, except that a portal status such as Active or Pending is read as
// present, with one warning per table.
func (r *rowCheck) state() State {
	raw, col := r.get(fState)
	v := cleanText(raw)
	switch strings.ToLower(v) {
	case "", "present":
		return Present
	case "absent":
		return Absent
	}
	c := r.t.l.cols[fState]
	if isStatusHeader(c.header) {
		if portalStatuses[normHeader(v)] {
			if !r.t.statusWarned {
				r.t.statusWarned = true
				r.problem(Warning, col, raw,
					fmt.Sprintf("%s holds portal statuses, read as present", c.header),
					fmt.Sprintf("write absent in a State column to delete (%q in this row is the first; every portal status in column %s is read the same way)", v, c.letter))
			}
			return Present
		}
		r.problem(Error, col, raw, fmt.Sprintf("the status %q is neither present nor absent, nor a portal status such as Active or Pending", v),
			"write present (the colleague should exist; blank means present) or absent (the colleague should be deleted)")
		return Present
	}
	r.problem(Error, col, raw, fmt.Sprintf("the state %q is neither present nor absent", v),
		"write present (the colleague should exist; blank means present) or absent (the colleague should be deleted)")
	return Present
}

func (r *rowCheck) instance() Instance {
	in := Instance{Source: r.src}
	raw, pi := r.get(fPBX)
	in.Ref = cleanText(raw)
	if in.Ref == "" {
		r.problem(Error, pi, raw, "the PBX is empty", "write the cloud PBX's name or serial number (SN)")
	}
	if v, col := r.get(fExtensions); col >= 0 && !isBlank(v) {
		n, msg := r.integer(col, v)
		switch {
		case msg != "":
			r.problem(Error, col, v, "Extensions "+msg, "write a whole number from 5 to 500")
		case n < minExtensions || n > maxExtensions:
			r.problem(Error, col, v, fmt.Sprintf("Extensions %d is outside the range a cloud PBX allows (5 to 500)", n), "write a whole number from 5 to 500")
		default:
			in.Extensions = n
		}
	}
	if v, col := r.get(fConcurrentCalls); col >= 0 && !isBlank(v) {
		n, msg := r.integer(col, v)
		switch {
		case msg != "":
			r.problem(Error, col, v, "Concurrent Calls "+msg, "write a whole number greater than 0")
		case n < 1:
			r.problem(Error, col, v, fmt.Sprintf("Concurrent Calls %d is not a positive number", n), "write a whole number greater than 0")
		default:
			in.ConcurrentCalls = n
		}
	}
	if in.Ref != "" && in.Extensions == 0 && in.ConcurrentCalls == 0 && r.errors == 0 {
		r.problem(Warning, -1, "", fmt.Sprintf("PBX %q has neither Extensions nor Concurrent Calls: nothing to change", in.Ref), "fill in Extensions or Concurrent Calls, or delete the row")
	}
	return in
}

const (
	minExtensions = 5
	maxExtensions = 500
)

// integer parses a whole number as typed: digits, optionally followed by a zero fraction.
func (r *rowCheck) integer(col int, v string) (int, string) {
	s := cleanText(v)
	if r.meta != nil {
		if iso, ok := r.meta.dateCell(col, s); ok {
			return 0, fmt.Sprintf("is a date (%s), not a number", iso)
		}
	}
	n, ok := parseWhole(s)
	if !ok {
		return 0, fmt.Sprintf("%q is not a whole number", s)
	}
	return n, ""
}

// parseWhole accepts "60", "60.0", "+60" and "-5" (the range check reports the sign);
// it refuses exponents, words and fractions.
func parseWhole(s string) (int, bool) {
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" || len(intPart) > 9 {
		return 0, false
	}
	for _, c := range intPart {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	if hasDot {
		for _, c := range frac {
			if c != '0' {
				return 0, false
			}
		}
	}
	n, err := strconv.Atoi(intPart)
	if err != nil {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// splitList splits a permission cell on ; and , (and line breaks), trimming each name.
func splitList(s string) []string {
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == ',' || r == '\n' || r == '\r' })
	var out []string
	for _, p := range parts {
		if p = cleanText(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func parseYesNo(s string) (bool, bool) {
	switch strings.ToLower(cleanText(s)) {
	case "", "no", "n", "false", "0", "-":
		return false, true
	case "yes", "y", "true", "1", "x", "✓", "✔":
		return true, true
	}
	return false, false
}

// E-mail limits of RFC 5321: the part before the @ and the whole address.
const (
	maxEmailLocal = 64
	maxEmail      = 254
)

// emailProblem returns what is wrong with a trimmed address and what to do, or "".
// When the address can clearly be cleaned up (a display name, mailto:, spaces, a stray
// dot), the fix names the cleaned address.
func emailProblem(e string) (msg, fix string) {
	msg, fix = checkEmail(e)
	if msg == "" {
		return "", ""
	}
	if s := CleanEmail(e); s != "" && s != e {
		if m, _ := checkEmail(s); m == "" {
			fix = fmt.Sprintf("did you mean %s? write that instead", s)
		}
	}
	return msg, fix
}

// CleanEmail undoes the usual damage to a copied address: a display name, mailto:,
// spaces, a dot at either end of the parts or doubled dots. It may return an address
// that is still wrong. The importer suggests it; reconcile keeps the colleague it
// names from --prune while the row is rejected.
func CleanEmail(e string) string {
	s := cleanText(e)
	if i, j := strings.LastIndex(s, "<"), strings.LastIndex(s, ">"); i >= 0 && j > i {
		s = s[i+1 : j]
	}
	s = strings.Map(func(r rune) rune {
		if isSpace(r) {
			return -1
		}
		return r
	}, s)
	if len(s) >= len("mailto:") && strings.EqualFold(s[:len("mailto:")], "mailto:") {
		s = s[len("mailto:"):]
	}
	s = strings.TrimRight(s, ".,;")
	local, domain, ok := strings.Cut(s, "@")
	if !ok {
		return s
	}
	tidy := func(p string) string {
		for strings.Contains(p, "..") {
			p = strings.ReplaceAll(p, "..", ".")
		}
		return strings.Trim(p, ".")
	}
	return tidy(local) + "@" + tidy(domain)
}

// atext holds the characters RFC 5322 allows in a dot-atom besides letters and digits.
const atext = "!#$%&'*+-/=?^_`{|}~"

// checkEmail returns what is wrong with a trimmed address, or "".
func checkEmail(e string) (msg, fix string) {
	const fixPlain = "write only the address, like name@example.com"
	switch {
	case e == "":
		return "the e-mail address is empty", "every row needs the colleague's e-mail address"
	case strings.ContainsAny(e, "<>"):
		if i, j := strings.LastIndex(e, "<"), strings.LastIndex(e, ">"); i >= 0 && j > i {
			return fmt.Sprintf("%q has a display name; only the address is allowed", e), fmt.Sprintf("write %s", strings.TrimSpace(e[i+1:j]))
		}
		return fmt.Sprintf("%q is not an e-mail address (it contains < or >)", e), fixPlain
	case strings.HasPrefix(strings.ToLower(e), "mailto:"):
		return fmt.Sprintf("%q starts with mailto:", e), fmt.Sprintf("write %s", e[len("mailto:"):])
	case strings.IndexFunc(e, isSpace) >= 0:
		return fmt.Sprintf("%q contains a space", e), "remove the spaces inside the address"
	case strings.Count(e, "@") == 0:
		return fmt.Sprintf("%q has no @", e), fixPlain
	case strings.Count(e, "@") > 1:
		return fmt.Sprintf("%q has more than one @", e), "write one address per row"
	case strings.ContainsAny(e, ",;"):
		return fmt.Sprintf("%q contains a comma or semicolon", e), "write one address per row"
	}
	local, domain, _ := strings.Cut(e, "@")
	switch {
	case local == "":
		return fmt.Sprintf("%q has nothing before the @", e), fixPlain
	case strings.HasPrefix(local, "."):
		return fmt.Sprintf("%q starts with a dot; the part before the @ cannot", e), "remove the dot at the start"
	case strings.HasSuffix(local, "."):
		return fmt.Sprintf("%q has a dot just before the @, which an address cannot have", e), "remove the dot before the @"
	case strings.Contains(local, ".."):
		return fmt.Sprintf("%q has two dots in a row before the @, which an address cannot have", e), "remove one of the dots"
	case utf8.RuneCountInString(local) > maxEmailLocal:
		return fmt.Sprintf("the part before the @ of %q has %d characters, more than the %d an address allows", e, utf8.RuneCountInString(local), maxEmailLocal), "check the address; it is probably mistyped or two values run together"
	case utf8.RuneCountInString(e) > maxEmail:
		return fmt.Sprintf("%q has %d characters, more than the %d an address allows", e, utf8.RuneCountInString(e), maxEmail), "check the address; it is probably mistyped or two values run together"
	}
	for _, r := range local {
		if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || strings.ContainsRune(atext, r)) {
			continue
		}
		return fmt.Sprintf("%q has the character %q before the @, which the portal does not accept in an address", e, r),
			fmt.Sprintf("remove it; before the @ an address may hold letters a to z, digits, dots and %s", atext)
	}
	switch {
	case !strings.Contains(domain, "."):
		return fmt.Sprintf("%q has no dot in the domain after the @", e), "write the full domain, like example.com"
	case strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, ".."):
		return fmt.Sprintf("%q has a misplaced dot in the domain", e), fixPlain
	}
	for _, label := range strings.Split(domain, ".") {
		if strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return fmt.Sprintf("%q has a domain part %q that starts or ends with a hyphen", e, label), "check the domain after the @"
		}
		for _, r := range label {
			if r != '-' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				return fmt.Sprintf("%q has the character %q in the domain after the @, which a domain cannot hold", e, r), "check the domain after the @; it holds letters, digits, hyphens and dots"
			}
		}
	}
	return "", ""
}

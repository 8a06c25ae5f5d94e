package importer

import (
	"fmt"
	"strings"
	"unicode"
)

// field is one column the importer understands.
type field int

const (
	fEmail field = iota
	fFirstName
	fLastName
	fPermissions
	fYCMManager
	fOwner
	fRemark
	fState
	fPBX
	fExtensions
	fConcurrentCalls
	numFields
)

// fieldSpec names a field and the headers that mean it.
type fieldSpec struct {
	name    string   // canonical header, as in the template
	tag     string   // gocsv tag
	aliases []string // normalised with normHeader
}

// State's "status" alias is also what a portal export calls its activation status
// (Active, Pending): a Status column reads present and absent as State does, and the
// portal's status words as present (see stateOf).
var fieldSpecs = [numFields]fieldSpec{
	fEmail:           {"Email", "email", []string{"email", "e-mail", "email address", "e-mail address", "mail", "yeastar id", "login email", "user email"}},
	fFirstName:       {"First Name", "first_name", []string{"first name", "firstname", "given name", "forename", "first"}},
	fLastName:        {"Last Name", "last_name", []string{"last name", "lastname", "surname", "family name", "last"}},
	fPermissions:     {"Permissions", "permissions", []string{"permissions", "permission", "roles", "role", "user permissions", "user permission"}},
	fYCMManager:      {"YCM Manager", "ycm_manager", []string{"ycm manager", "ycm", "ycm admin", "ycm administrator", "central management", "yeastar central management"}},
	fOwner:           {"Owner", "owner", []string{"owner", "partner", "subordinate partner", "owner partner", "partner id", "partner email"}},
	fRemark:          {"Remark", "remark", []string{"remark", "remarks", "note", "notes", "comment", "comments"}},
	fState:           {"State", "state", []string{"state", "status", "action"}},
	fPBX:             {"PBX", "pbx", []string{"pbx", "pbx name", "sn", "serial number", "pbx sn", "instance", "instance name", "cloud pbx", "name"}},
	fExtensions:      {"Extensions", "extensions", []string{"extensions", "extension", "extension capacity", "target extensions", "extensions capacity", "max extensions", "extension count"}},
	fConcurrentCalls: {"Concurrent Calls", "concurrent_calls", []string{"concurrent calls", "concurrent call capacity", "concurrent call", "target concurrent calls", "max concurrent calls", "calls"}},
}

// tableKind is which table a sheet or CSV holds.
type tableKind int

const (
	kindUnknown tableKind = iota
	kindColleagues
	kindInstances
	kindThreeCX
)

func (k tableKind) String() string {
	switch k {
	case kindColleagues:
		return "Colleagues"
	case kindInstances:
		return "Instances"
	case kindThreeCX:
		return "3CX export"
	}
	return "unknown"
}

var tableFields = map[tableKind][]field{
	kindColleagues: {fEmail, fFirstName, fLastName, fPermissions, fYCMManager, fOwner, fRemark, fState},
	kindInstances:  {fPBX, fExtensions, fConcurrentCalls},
}

var requiredFields = map[tableKind][]field{
	kindColleagues: {fEmail, fPermissions}, // and First Name or Last Name: see mapHeaders
	kindInstances:  {fPBX},
}

var sheetAliases = map[tableKind][]string{
	kindColleagues: {"colleagues", "colleague", "users", "user", "staff", "people"},
	kindInstances:  {"instances", "instance", "pbx", "pbxs", "pbxes", "cloud pbx", "cloud pbxs"},
}

// normHeader folds a header for matching: lower case, letters and digits only.
func normHeader(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

var aliasIndex = func() map[tableKind]map[string]field {
	m := map[tableKind]map[string]field{}
	for kind, fs := range tableFields {
		m[kind] = map[string]field{}
		for _, f := range fs {
			for _, a := range fieldSpecs[f].aliases {
				m[kind][normHeader(a)] = f
			}
			m[kind][normHeader(fieldSpecs[f].name)] = f
		}
	}
	return m
}()

// threeCXHeaders are columns of a 3CX user export (v15 to v20).
var threeCXHeaders = []string{"number", "firstname", "lastname", "emailaddress", "mobilenumber", "authid", "authpassword"}

// column is one mapped column of a table.
type column struct {
	index  int
	letter string
	header string
}

// layout is a table's header row mapped to fields.
type layout struct {
	kind    tableKind
	cols    [numFields]column // index -1 when absent
	headers []string
	width   int
}

func (l *layout) has(f field) bool { return l.cols[f].index >= 0 }

// classify guesses which table a header row holds.
func classify(headers []string) tableKind {
	norm := map[string]bool{}
	for _, h := range headers {
		norm[normHeader(h)] = true
	}
	n := 0
	for _, h := range threeCXHeaders {
		if norm[h] {
			n++
		}
	}
	if norm["number"] && norm["emailaddress"] && n >= 3 {
		return kindThreeCX
	}
	score := func(k tableKind) int {
		s := 0
		for h := range norm {
			if _, ok := aliasIndex[k][h]; ok {
				s++
			}
		}
		return s
	}
	if firstMatch(norm, kindColleagues, fEmail) != "" {
		return kindColleagues
	}
	if firstMatch(norm, kindInstances, fPBX) != "" || firstMatch(norm, kindInstances, fExtensions) != "" || firstMatch(norm, kindInstances, fConcurrentCalls) != "" {
		return kindInstances
	}
	if c, i := score(kindColleagues), score(kindInstances); c > 0 && c >= i {
		return kindColleagues
	} else if i > 0 {
		return kindInstances
	}
	return kindUnknown
}

func firstMatch(norm map[string]bool, k tableKind, f field) string {
	for h := range norm {
		if g, ok := aliasIndex[k][h]; ok && g == f {
			return h
		}
	}
	return ""
}

// mapHeaders maps a header row for kind and reports unknown, doubled and missing columns.
func mapHeaders(kind tableKind, headers []string, src Source) (*layout, []Problem) {
	l := &layout{kind: kind, headers: headers, width: len(headers)}
	for i := range l.cols {
		l.cols[i].index = -1
	}
	var ps []Problem
	var unknown []string
	near := map[field]string{} // a missing field → the unknown column that looks like a typo of it
	for i, h := range headers {
		h = cleanText(h)
		if h == "" {
			continue
		}
		f, ok := aliasIndex[kind][normHeader(h)]
		if !ok {
			u := fmt.Sprintf("%s (%s)", h, colLetter(i))
			if g, ok := nearestField(kind, h); ok {
				u = fmt.Sprintf("%s (%s, did you mean %s?)", h, colLetter(i), fieldSpecs[g].name)
				if _, seen := near[g]; !seen {
					near[g] = fmt.Sprintf("rename column %s %q to %s", colLetter(i), h, fieldSpecs[g].name)
				}
			}
			unknown = append(unknown, u)
			continue
		}
		if c := l.cols[f]; c.index >= 0 {
			if f == fState && isStatusHeader(c.header) && !isStatusHeader(h) {
				// A State column says what a Status column left of it only hints at.
				ps = append(ps, Problem{Source: src, Column: c.letter, Header: c.header, Severity: Warning,
					Message: fmt.Sprintf("column %s %q is ignored: column %s %q says whether each colleague should exist", c.letter, c.header, colLetter(i), h),
					Fix:     "leave it if it came from a portal export, or delete it"})
				l.cols[f] = column{index: i, letter: colLetter(i), header: h}
				continue
			}
			ps = append(ps, Problem{Source: src, Column: colLetter(i), Header: h, Severity: Warning,
				Message: fmt.Sprintf("column %s %q also means %s, already read from column %s %q; this column is ignored", colLetter(i), h, fieldSpecs[f].name, c.letter, c.header),
				Fix:     "delete or rename one of the two columns"})
			continue
		}
		l.cols[f] = column{index: i, letter: colLetter(i), header: h}
	}
	if len(unknown) > 0 {
		ps = append(ps, Problem{Source: src, Severity: Warning,
			Message: fmt.Sprintf("unknown %s ignored: %s", plural(len(unknown), "column", "columns"), strings.Join(unknown, ", ")),
			Fix:     fmt.Sprintf("the %s table reads %s; rename the column if it was meant as one of them", kind, expectedList(kind))})
	}
	var missing, renames []string
	for _, f := range requiredFields[kind] {
		if !l.has(f) {
			missing = append(missing, fieldSpecs[f].name)
			if r, ok := near[f]; ok {
				renames = append(renames, r)
			}
		}
	}
	if kind == kindColleagues && !l.has(fFirstName) && !l.has(fLastName) {
		missing = append(missing, "First Name or Last Name")
		for _, f := range []field{fFirstName, fLastName} {
			if r, ok := near[f]; ok {
				renames = append(renames, r)
				break
			}
		}
	}
	if kind == kindInstances && !l.has(fExtensions) && !l.has(fConcurrentCalls) {
		missing = append(missing, "Extensions or Concurrent Calls")
	}
	if len(missing) > 0 {
		found := make([]string, 0, len(headers))
		for _, h := range headers {
			if h = cleanText(h); h != "" {
				found = append(found, strQuote(h))
			}
		}
		foundText := "no headers"
		if len(found) > 0 {
			foundText = strings.Join(found, ", ")
		}
		fix := fmt.Sprintf("put the headers in the first row: %s", expectedList(kind))
		if len(renames) > 0 {
			fix = strings.Join(renames, "; ")
		}
		ps = append(ps, Problem{Source: src, Severity: Error,
			Message: fmt.Sprintf("missing required %s %s in the header row; found %s", plural(len(missing), "column", "columns"), strings.Join(missing, ", "), foundText),
			Fix:     fix})
	}
	return l, ps
}

// isStatusHeader reports whether the header h names a Status column, which is read
// as State but may hold the portal's activation statuses.
func isStatusHeader(h string) bool { return normHeader(h) == "status" }

// nearestField returns the field whose name or alias h looks like a typo of.
func nearestField(kind tableKind, h string) (field, bool) {
	var names []string
	for _, f := range tableFields[kind] {
		names = append(names, fieldSpecs[f].name)
		names = append(names, fieldSpecs[f].aliases...)
	}
	n := nearest(h, names)
	if n == "" {
		return 0, false
	}
	f, ok := aliasIndex[kind][normHeader(n)]
	return f, ok
}

// maxTitleRows is how many non-blank rows below a first row that is not a header row
// are searched for the header row: a title or a note above the table.
const maxTitleRows = 5

// isHeaderRow reports whether cells can be the header row of a table of kind want:
// kindUnknown for any table, or a 3CX export (so it can be named as one).
func isHeaderRow(want tableKind, cells []string) bool {
	k := classify(cells)
	switch {
	case k == kindThreeCX:
		return true
	case want == kindThreeCX, k == kindUnknown:
		return false
	}
	// A header row with problems (a missing column) is still the header row: its
	// problems are reported on it, not hidden behind the title above.
	return want == kindUnknown || k == want
}

// titleRowsProblem says that the header row was found below rows that are not one.
func titleRowsProblem(src Source, first []string, firstRow int) Problem {
	text := ""
	for _, c := range first {
		if c = cleanText(c); c != "" {
			text = c
			break
		}
	}
	return Problem{Source: src, Severity: Warning,
		Message: fmt.Sprintf("row %d (%q) does not hold the headers; they were found in row %d, and the rows above it are ignored", firstRow, shorten(text), src.Row),
		Fix:     fmt.Sprintf("delete the rows above the headers so that they are in row 1, or leave them: rows above row %d are not read", src.Row)}
}

func expectedList(kind tableKind) string {
	var names []string
	for _, f := range tableFields[kind] {
		names = append(names, fieldSpecs[f].name)
	}
	return strings.Join(names, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func strQuote(s string) string { return fmt.Sprintf("%q", s) }

// colLetter turns a zero-based column index into its letter ("A", "AB").
func colLetter(i int) string {
	var b []byte
	for i++; i > 0; i = (i - 1) / 26 {
		b = append([]byte{byte('A' + (i-1)%26)}, b...)
	}
	return string(b)
}

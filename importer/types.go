// Package importer turns the spreadsheets people have into the desired state of the
// portal, with every problem found on the way. It knows nothing of HTTP.
package importer

import "fmt"

// Source is where a value came from: the row number is the one a spreadsheet
// program shows (the header is row 1 in a sheet that starts at the top).
type Source struct {
	File  string // base name of the file, as given on the command line
	Sheet string // sheet name; "" for a CSV
	Row   int    // 0 for a problem with the whole file or sheet
}

func (s Source) String() string {
	switch {
	case s.Sheet == "" && s.Row == 0:
		return s.File
	case s.Sheet == "":
		return fmt.Sprintf("%s row %d", s.File, s.Row)
	case s.Row == 0:
		return fmt.Sprintf("%s sheet %s", s.File, s.Sheet)
	default:
		return fmt.Sprintf("%s sheet %s row %d", s.File, s.Sheet, s.Row)
	}
}

// Severity says whether a problem blocks its row.
type Severity int

const (
	Warning Severity = iota // reported, does not block
	Error                   // the row is rejected: nothing is written for it
)

func (s Severity) String() string {
	if s == Error {
		return "error"
	}
	return "warning"
}

// Problem is one thing wrong with the input, said so a person can fix it.
type Problem struct {
	Source   Source
	Column   string // column letter ("C"), "" when the problem is not about one cell
	Header   string // the column's header as written
	Value    string // the offending value as written
	Severity Severity
	Message  string // what is wrong
	Fix      string // what to do about it
	// Refused says the whole file is refused and none of its rows are used, even when
	// the problem names the row where that was found.
	Refused bool
}

func (p Problem) String() string {
	where := p.Source.String()
	if p.Column != "" {
		where += " column " + p.Column
		if p.Header != "" {
			where += fmt.Sprintf(" (%s)", p.Header)
		}
	}
	s := fmt.Sprintf("%s: %s: %s", where, p.Severity, p.Message)
	if p.Fix != "" {
		s += "; " + p.Fix
	}
	return s
}

// State says whether a colleague should exist.
type State int

const (
	Present State = iota
	Absent
)

func (s State) String() string {
	if s == Absent {
		return "absent"
	}
	return "present"
}

// Instance is one row of the Instances table: the target size of a cloud PBX.
type Instance struct {
	Source          Source
	Ref             string // PBX name or SN as written
	Extensions      int    // 0: not given
	ConcurrentCalls int    // 0: not given
	Derivation      string // how Extensions was derived, e.g. "137 users in 3cx.csv + 10% = 151"
}

// File is one input file and its SHA-256 (hex).
type File struct {
	Path   string
	SHA256 string
}

// Desired is the state the input asks for. Rejected rows are kept apart so that a row
// with an error is reported as skipped and never mistaken for an absent colleague.
type Desired struct {
	Files              []File
	Colleagues         []Colleague
	Instances          []Instance
	RejectedColleagues []Colleague
	RejectedInstances  []Instance
	Layouts            []Layout // one per table read
	// Unsure are rows whose text may hide other colleagues' rows (a CSV quote closed by
	// chance further down): while there are any, the sheet cannot say who is absent.
	Unsure []Source
	// Interrupted is set (wrapping ErrInterrupted) when Options.Ctx stopped the read;
	// the rest then holds only Files.
	Interrupted error
}

// Catalog is what the portal knows that the input is checked against.
type Catalog struct {
	Permissions []string  // permission names
	Partners    []Partner // subordinate partners
	PBXs        []PBXRef  // cloud PBXs
}

// Partner is a subordinate partner an Owner cell may name.
type Partner struct {
	ID    int64
	Email string
}

// PBXRef is a cloud PBX an Instances row may name.
type PBXRef struct {
	Name string
	SN   string
}

// Layout says where a table's columns are, so that later checks can name the cell.
type Layout struct {
	File    string
	Sheet   string               // "" for a CSV
	Columns map[string]ColumnRef // by canonical header: "Email", "Permissions", "Owner", "PBX", ...
}

// ColumnRef is one column of a table as written.
type ColumnRef struct {
	Letter string // "C"
	Header string // as written
}

package importer

import (
	"math"
	"slices"
	"strings"
)

// Colleague is one row of the Colleagues table. A sheet of 100,000 rows holds as many,
// so a Colleague is compact: 64 bytes plus its e-mail address and remark. The file,
// sheet and the values rows have in common (names, permission lists, owners) live once
// in the table the row was read from, and the row refers to them. Read it through its
// methods; make one by hand with NewColleague. The zero value is an empty row.
type Colleague struct {
	tab    *table
	email  string
	remark string
	row    int32
	first  ref // FirstName in tab.strs
	last   ref // LastName in tab.strs
	owner  ref // Owner in tab.strs
	perms  ref // Permissions in tab.perms
	state  uint8
	flags  uint8
}

// Colleague flags: which optional columns the row has, and the YCM Manager value.
const (
	hasYCMManager uint8 = 1 << iota
	ycmManager
	hasOwner
	hasRemark
)

// ColleagueFields is a Colleague spelled out: what NewColleague takes and Fields
// returns. Optional columns are pointers: nil means the column is not in the file, so
// the portal's value is left alone.
type ColleagueFields struct {
	Source      Source
	Email       string   // trimmed, as written (compare with strings.EqualFold)
	FirstName   string   // trimmed
	LastName    string   // trimmed
	Permissions []string // permission names as written, trimmed, in sheet order
	YCMManager  *bool    // nil: column absent
	Owner       *string  // subordinate partner e-mail or partner ID; "" own; nil: column absent
	Remark      *string  // nil: column absent
	State       State
}

// NewColleague makes a Colleague from its fields. Source.Row is kept up to
// 2,147,483,647 (a sheet has at most 1,048,576 rows).
func NewColleague(f ColleagueFields) Colleague {
	t := &table{file: f.Source.File, sheet: f.Source.Sheet}
	c := Colleague{tab: t, email: f.Email, row: int32(min(f.Source.Row, math.MaxInt32)), state: uint8(f.State)}
	add := func(s string) ref {
		if s == "" {
			return 0
		}
		return t.strs.add(s)
	}
	c.first, c.last = add(f.FirstName), add(f.LastName)
	if len(f.Permissions) > 0 {
		c.perms = t.perms.add(slices.Clip(slices.Clone(f.Permissions)))
	}
	if f.YCMManager != nil {
		c.flags |= hasYCMManager
		if *f.YCMManager {
			c.flags |= ycmManager
		}
	}
	if f.Owner != nil {
		c.flags |= hasOwner
		c.owner = add(*f.Owner)
	}
	if f.Remark != nil {
		c.flags |= hasRemark
		c.remark = *f.Remark
	}
	return c
}

// Fields returns the colleague spelled out; the pointers are fresh.
func (c Colleague) Fields() ColleagueFields {
	f := ColleagueFields{Source: c.Source(), Email: c.email, FirstName: c.FirstName(), LastName: c.LastName(),
		Permissions: c.Permissions(), State: c.State()}
	if v, ok := c.YCMManager(); ok {
		f.YCMManager = &v
	}
	if v, ok := c.Owner(); ok {
		f.Owner = &v
	}
	if v, ok := c.Remark(); ok {
		f.Remark = &v
	}
	return f
}

// Equal reports whether two colleagues have the same fields.
func (c Colleague) Equal(o Colleague) bool {
	a, b := c.Fields(), o.Fields()
	eq := func(x, y *string) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	return a.Source == b.Source && a.Email == b.Email && a.FirstName == b.FirstName && a.LastName == b.LastName &&
		slices.Equal(a.Permissions, b.Permissions) && a.State == b.State &&
		(a.YCMManager == nil) == (b.YCMManager == nil) && (a.YCMManager == nil || *a.YCMManager == *b.YCMManager) &&
		eq(a.Owner, b.Owner) && eq(a.Remark, b.Remark)
}

// Source is the row the colleague was read from.
func (c Colleague) Source() Source {
	if c.tab == nil {
		return Source{Row: int(c.row)}
	}
	return Source{File: c.tab.file, Sheet: c.tab.sheet, Row: int(c.row)}
}

// Email is the address, trimmed, as written (compare with strings.EqualFold).
func (c Colleague) Email() string { return c.email }

// FirstName is the first name, trimmed.
func (c Colleague) FirstName() string { return c.tab.str(c.first) }

// LastName is the last name, trimmed.
func (c Colleague) LastName() string { return c.tab.str(c.last) }

// Permissions are the permission names as written, trimmed, in sheet order. Rows
// share the slice: do not modify it.
func (c Colleague) Permissions() []string {
	if c.perms == 0 {
		return nil
	}
	return c.tab.perms.at(c.perms)
}

// YCMManager is the YCM Manager column; ok is false when the file has no such column.
func (c Colleague) YCMManager() (v, ok bool) {
	return c.flags&ycmManager != 0, c.flags&hasYCMManager != 0
}

// Owner is the subordinate partner's e-mail or partner ID, "" for one's own company;
// ok is false when the file has no Owner column.
func (c Colleague) Owner() (owner string, ok bool) {
	return c.tab.str(c.owner), c.flags&hasOwner != 0
}

// Remark is the remark; ok is false when the file has no Remark column.
func (c Colleague) Remark() (remark string, ok bool) { return c.remark, c.flags&hasRemark != 0 }

// State says whether the colleague should exist.
func (c Colleague) State() State { return State(c.state) }

// table holds what the rows of one table share: the file and sheet they come from,
// and values that repeat, which rows refer to by number. It is filled while its sheet
// is read, by one goroutine, and never changes afterwards.
type table struct {
	file, sheet string
	strs        chunks[string]   // names and owners
	perms       chunks[[]string] // permission lists
	strRef      map[string]ref   // strs by value, up to maxShared of them
	permRef     map[string]ref   // perms by the cell they were split from, up to maxShared
	remarks     map[string]string
}

// maxShared bounds each map of shared values: past it, new values are stored as read,
// without looking for an equal one.
const maxShared = 10_000

// str returns the string r refers to; 0 is "".
func (t *table) str(r ref) string {
	if r == 0 {
		return ""
	}
	return t.strs.at(r)
}

// share stores s, or finds an equal string stored before.
func (t *table) share(s string) ref {
	if s == "" {
		return 0
	}
	if r, ok := t.strRef[s]; ok {
		return r
	}
	if len(t.strRef) >= maxShared {
		return t.strs.add(s)
	}
	if t.strRef == nil {
		t.strRef = map[string]ref{}
	}
	s = strings.Clone(s) // not a slice of a whole CSV record
	r := t.strs.add(s)
	t.strRef[s] = r
	return r
}

// remark returns s, or an equal remark read before.
func (t *table) remark(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := t.remarks[s]; ok {
		return v
	}
	if len(t.remarks) < maxShared {
		if t.remarks == nil {
			t.remarks = map[string]string{}
		}
		s = strings.Clone(s)
		t.remarks[s] = s
	}
	return s
}

// permissions splits a permission cell, sharing the result between equal cells, and
// says how many names it holds.
func (t *table) permissions(cell string) (ref, int) {
	if r, ok := t.permRef[cell]; ok {
		return r, len(t.perms.at(r))
	}
	p := splitList(cell)
	if len(p) == 0 {
		return 0, 0
	}
	for i := range p {
		p[i] = strings.Clone(p[i])
	}
	p = slices.Clip(p) // an append copies
	r := t.perms.add(p)
	if len(t.permRef) < maxShared {
		if t.permRef == nil {
			t.permRef = map[string]ref{}
		}
		t.permRef[strings.Clone(cell)] = r
	}
	return r, len(p)
}

// ref is the number of a value in chunks, from 1.
type ref uint32

// chunkLen is how many values a chunk holds: lists grow a chunk at a time, so that
// a long one is never copied to grow.
const chunkLen = 1024

// chunks is a list that grows without copying.
type chunks[T any] struct {
	c [][]T
	n int
}

func (l *chunks[T]) add(v T) ref {
	if l.n == math.MaxUint32 {
		panic("importer: more than 4,294,967,295 shared values")
	}
	if l.n%chunkLen == 0 {
		var next []T
		if l.n > 0 {
			next = make([]T, 0, chunkLen)
		}
		l.c = append(l.c, next)
	}
	last := &l.c[len(l.c)-1]
	*last = append(*last, v)
	l.n++
	return ref(l.n)
}

func (l *chunks[T]) at(r ref) T {
	i := int(r) - 1
	return l.c[i/chunkLen][i%chunkLen]
}

package importer

import (
	"fmt"
	"strings"
)

// mark is a position in the desired state's lists.
type mark struct{ colleagues, instances int }

func (d *Desired) mark() mark { return mark{len(d.Colleagues), len(d.Instances)} }

// rejectSince moves every row accepted after m to the rejected lists: used when a
// table cannot be read to its end, so that none of it is applied.
func (d *Desired) rejectSince(m mark) {
	d.RejectedColleagues = append(d.RejectedColleagues, d.Colleagues[m.colleagues:]...)
	d.Colleagues = d.Colleagues[:m.colleagues]
	d.RejectedInstances = append(d.RejectedInstances, d.Instances[m.instances:]...)
	d.Instances = d.Instances[:m.instances]
}

// addLayout records where a table's columns are.
func (d *Desired) addLayout(src Source, l *layout) {
	cols := map[string]ColumnRef{}
	for f := range numFields {
		if c := l.cols[f]; c.index >= 0 {
			cols[fieldSpecs[f].name] = ColumnRef{Letter: c.letter, Header: c.header}
		}
	}
	d.Layouts = append(d.Layouts, Layout{File: src.File, Sheet: src.Sheet, Columns: cols})
}

// column returns where a field of the table at src is.
func (d *Desired) column(src Source, name string) ColumnRef {
	for _, l := range d.Layouts {
		if l.File == src.File && l.Sheet == src.Sheet {
			return l.Columns[name]
		}
	}
	return ColumnRef{}
}

// dedupe rejects every colleague (by e-mail) and PBX (by reference) that appears more
// than once, in one file or across files.
func dedupe(d *Desired) []Problem {
	var ps []Problem
	d.Colleagues, d.RejectedColleagues = rejectDuplicates(d.Colleagues, d.RejectedColleagues,
		func(c Colleague) string { return strings.ToLower(c.Email()) },
		func(c Colleague, others []Colleague, more int) {
			places := make([]string, len(others))
			for i, o := range others {
				places[i] = o.Source().String()
			}
			col := d.column(c.Source(), "Email")
			ps = append(ps, Problem{Source: c.Source(), Column: col.Letter, Header: col.Header, Value: c.Email(), Severity: Error,
				Message: fmt.Sprintf("colleague %s appears more than once: also in %s", c.Email(), placesAnd(places, more)),
				Fix:     "keep one row per colleague; none of these rows is applied until then"})
		})
	d.Instances, d.RejectedInstances = rejectDuplicates(d.Instances, d.RejectedInstances,
		func(in Instance) string { return strings.ToLower(in.Ref) },
		func(in Instance, others []Instance, more int) {
			places := make([]string, len(others))
			for i, o := range others {
				places[i] = o.Place()
			}
			col := d.column(in.Source, "PBX")
			ps = append(ps, Problem{Source: in.Source, Column: col.Letter, Header: col.Header, Value: in.Ref, Severity: Error,
				Message: fmt.Sprintf("PBX %s is sized more than once: here and in %s", in.Ref, placesAnd(places, more)),
				Fix:     "size each PBX in one place only (one Instances row, or one --3cx export); none of these sizes is applied until then"})
		})
	return ps
}

// namedDuplicates is how many of the other rows a duplicate's problem names; the rest
// are counted. Naming every one made k copies of one address cost k² (10,000 rows of
// one e-mail, a 0.6 MB file, took more than 2 GB).
const namedDuplicates = 3

// placesAnd lists places, and how many more there are.
func placesAnd(places []string, more int) string {
	s := strings.Join(places, ", ")
	switch {
	case more == 1:
		s += " and 1 more row"
	case more > 1:
		s += " and " + thousands(more) + " more rows"
	}
	return s
}

// rejectDuplicates finds the keys that more than one row has, kept or rejected (an
// empty key counts for nothing), calls report for each such row with the first few
// others (namedDuplicates) and how many more there are, and moves the kept ones among
// them to the rejected rows.
func rejectDuplicates[T any](kept, rejected []T, key func(T) string, report func(row T, others []T, more int)) ([]T, []T) {
	type ref struct {
		rejected bool
		i        int
	}
	get := func(r ref) T {
		if r.rejected {
			return rejected[r.i]
		}
		return kept[r.i]
	}
	byKey := map[string][]ref{}
	var order []string
	add := func(row T, r ref) {
		k := key(row)
		if k == "" {
			return
		}
		if _, ok := byKey[k]; !ok {
			order = append(order, k)
		}
		byKey[k] = append(byKey[k], r)
	}
	for i, row := range kept {
		add(row, ref{false, i})
	}
	for i, row := range rejected {
		add(row, ref{true, i})
	}
	reject := map[int]bool{}
	for _, k := range order {
		refs := byKey[k]
		if len(refs) < 2 {
			continue
		}
		for _, r := range refs {
			var others []T
			for _, o := range refs {
				if len(others) == namedDuplicates {
					break
				}
				if o != r {
					others = append(others, get(o))
				}
			}
			report(get(r), others, len(refs)-1-len(others))
			if !r.rejected {
				reject[r.i] = true
			}
		}
	}
	if len(reject) == 0 {
		return kept, rejected
	}
	still := kept[:0:0]
	for i, row := range kept {
		if reject[i] {
			rejected = append(rejected, row)
		} else {
			still = append(still, row)
		}
	}
	return still, rejected
}

// Place says where a PBX's size came from: a sheet row, or a 3CX export.
func (in Instance) Place() string {
	if in.Derivation != "" && in.Source.Row == 0 {
		return "the 3CX export " + in.Source.File
	}
	return in.Source.String()
}

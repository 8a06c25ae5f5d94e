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

	type cref struct {
		rejected bool
		i        int
	}
	byEmail := map[string][]cref{}
	var emails []string
	add := func(c Colleague, ref cref) {
		k := strings.ToLower(c.Email())
		if k == "" {
			return
		}
		if _, ok := byEmail[k]; !ok {
			emails = append(emails, k)
		}
		byEmail[k] = append(byEmail[k], ref)
	}
	for i, c := range d.Colleagues {
		add(c, cref{false, i})
	}
	for i, c := range d.RejectedColleagues {
		add(c, cref{true, i})
	}
	reject := map[int]bool{}
	for _, k := range emails {
		refs := byEmail[k]
		if len(refs) < 2 {
			continue
		}
		get := func(r cref) Colleague {
			if r.rejected {
				return d.RejectedColleagues[r.i]
			}
			return d.Colleagues[r.i]
		}
		for _, r := range refs {
			c := get(r)
			var others []string
			for _, o := range refs {
				if o != r {
					others = append(others, get(o).Source().String())
				}
			}
			col := d.column(c.Source(), "Email")
			ps = append(ps, Problem{Source: c.Source(), Column: col.Letter, Header: col.Header, Value: c.Email(), Severity: Error,
				Message: fmt.Sprintf("colleague %s appears more than once: also in %s", c.Email(), strings.Join(others, ", ")),
				Fix:     "keep one row per colleague; none of these rows is applied until then"})
			if !r.rejected {
				reject[r.i] = true
			}
		}
	}
	if len(reject) > 0 {
		kept := d.Colleagues[:0:0]
		for i, c := range d.Colleagues {
			if reject[i] {
				d.RejectedColleagues = append(d.RejectedColleagues, c)
			} else {
				kept = append(kept, c)
			}
		}
		d.Colleagues = kept
	}

	byRef := map[string][]cref{}
	var refsOrder []string
	addI := func(in Instance, ref cref) {
		k := strings.ToLower(in.Ref)
		if k == "" {
			return
		}
		if _, ok := byRef[k]; !ok {
			refsOrder = append(refsOrder, k)
		}
		byRef[k] = append(byRef[k], ref)
	}
	for i, in := range d.Instances {
		addI(in, cref{false, i})
	}
	for i, in := range d.RejectedInstances {
		addI(in, cref{true, i})
	}
	rejectI := map[int]bool{}
	for _, k := range refsOrder {
		refs := byRef[k]
		if len(refs) < 2 {
			continue
		}
		get := func(r cref) Instance {
			if r.rejected {
				return d.RejectedInstances[r.i]
			}
			return d.Instances[r.i]
		}
		for _, r := range refs {
			in := get(r)
			var others []string
			for _, o := range refs {
				if o != r {
					others = append(others, instancePlace(get(o)))
				}
			}
			col := d.column(in.Source, "PBX")
			ps = append(ps, Problem{Source: in.Source, Column: col.Letter, Header: col.Header, Value: in.Ref, Severity: Error,
				Message: fmt.Sprintf("PBX %s is sized more than once: here and in %s", in.Ref, strings.Join(others, ", ")),
				Fix:     "size each PBX in one place only (one Instances row, or one --3cx export); none of these sizes is applied until then"})
			if !r.rejected {
				rejectI[r.i] = true
			}
		}
	}
	if len(rejectI) > 0 {
		kept := d.Instances[:0:0]
		for i, in := range d.Instances {
			if rejectI[i] {
				d.RejectedInstances = append(d.RejectedInstances, in)
			} else {
				kept = append(kept, in)
			}
		}
		d.Instances = kept
	}
	return ps
}

func instancePlace(in Instance) string {
	if in.Derivation != "" && in.Source.Row == 0 {
		return "the 3CX export " + in.Source.File
	}
	return in.Source.String()
}

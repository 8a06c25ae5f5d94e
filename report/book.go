package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/ycm-onboard/ycm-onboard/importer"
	"github.com/ycm-onboard/ycm-onboard/reconcile"
)

// Sheet names, in workbook order.
const (
	sheetSummary    = "Summary"
	sheetColleagues = "Colleagues"
	sheetInstances  = "Instances"
	sheetProblems   = "Problems"
)

// Excel-style "good", "bad" and "neutral" colours.
const (
	greenFill, greenFont = "C6EFCE", "006100"
	redFill, redFont     = "FFC7CE", "9C0006"
	amberFill, amberFont = "FFEB9C", "9C5700"
)

const (
	dateFormat     = `yyyy-mm-dd hh:mm "UTC"`
	durationFormat = `[h]:mm:ss`
	hoursFormat    = `0.0`
)

type styles struct {
	header, text, wrap, number, date, hours, duration int
	outcome                                           [reconcile.NotRun + 1]int
	amber, red                                        int // text cells flagged amber or red
	title, bannerRed, bannerAmber, label, section     int
}

type book struct {
	f        *excelize.File
	r        *Run
	st       styles
	outcomes []reconcile.Outcome
	probs    map[importer.Source][]importer.Problem
	// Indexes into r.Plan.Actions of the colleague and PBX actions.
	colleagues, instances []int
}

func newBook(f *excelize.File, r Run) (*book, error) {
	b := &book{f: f, r: &r}
	if err := b.newStyles(); err != nil {
		return nil, fmt.Errorf("report styles: %w", err)
	}
	b.outcomes = make([]reconcile.Outcome, len(r.Plan.Actions))
	for i, a := range r.Plan.Actions {
		b.outcomes[i] = OutcomeOf(r, i)
		if a.Object == reconcile.InstanceObject {
			b.instances = append(b.instances, i)
		} else {
			b.colleagues = append(b.colleagues, i)
		}
	}
	b.probs = make(map[importer.Source][]importer.Problem)
	for _, p := range r.Problems {
		b.probs[p.Source] = append(b.probs[p.Source], p)
	}
	return b, nil
}

func (b *book) newStyles() error {
	top := &excelize.Alignment{Vertical: "top"}
	var err error
	mk := func(s *excelize.Style) int {
		if err != nil {
			return 0
		}
		var id int
		id, err = b.f.NewStyle(s)
		return id
	}
	fill := func(c string) excelize.Fill {
		return excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{c}}
	}
	custom := func(s string) *string { return &s }
	st := &b.st
	st.header = mk(&excelize.Style{
		Font:      &excelize.Font{Bold: true, Color: "FFFFFF"},
		Fill:      fill("305496"),
		Alignment: &excelize.Alignment{Vertical: "center"},
		Border:    []excelize.Border{{Type: "bottom", Color: "1F3864", Style: 1}},
	})
	st.text = mk(&excelize.Style{Alignment: top})
	st.wrap = mk(&excelize.Style{Alignment: &excelize.Alignment{Vertical: "top", WrapText: true}})
	st.number = mk(&excelize.Style{Alignment: top, NumFmt: 1})
	st.date = mk(&excelize.Style{Alignment: top, CustomNumFmt: custom(dateFormat)})
	st.hours = mk(&excelize.Style{Alignment: top, CustomNumFmt: custom(hoursFormat)})
	st.duration = mk(&excelize.Style{Alignment: top, CustomNumFmt: custom(durationFormat)})
	coloured := func(bg, fg string) int {
		return mk(&excelize.Style{Alignment: top, Fill: fill(bg), Font: &excelize.Font{Color: fg}})
	}
	green, red, amber := coloured(greenFill, greenFont), coloured(redFill, redFont), coloured(amberFill, amberFont)
	st.outcome = [...]int{
		reconcile.Planned:   st.text,
		reconcile.Applied:   green,
		reconcile.Unchanged: green,
		reconcile.Failed:    red,
		reconcile.Skipped:   amber,
		reconcile.Blocked:   amber,
		reconcile.NotRun:    st.text,
	}
	st.amber, st.red = amber, red
	st.title = mk(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 16}})
	st.bannerRed = mk(&excelize.Style{
		Font: &excelize.Font{Bold: true, Color: "FFFFFF"}, Fill: fill("C00000"),
		Alignment: &excelize.Alignment{Vertical: "center", WrapText: true},
	})
	st.bannerAmber = mk(&excelize.Style{
		Font: &excelize.Font{Bold: true, Color: amberFont}, Fill: fill(amberFill),
		Alignment: &excelize.Alignment{Vertical: "center", WrapText: true},
	})
	st.label = mk(&excelize.Style{Font: &excelize.Font{Bold: true}, Alignment: top})
	st.section = mk(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 13, Color: "1F3864"}})
	return err
}

func (b *book) write() error {
	f := b.f
	if err := f.SetSheetName("Sheet1", sheetSummary); err != nil {
		return fmt.Errorf("report sheet %s: %w", sheetSummary, err)
	}
	for _, name := range []string{sheetColleagues, sheetInstances, sheetProblems} {
		if _, err := f.NewSheet(name); err != nil {
			return fmt.Errorf("report sheet %s: %w", name, err)
		}
	}
	if err := b.writeSummary(); err != nil {
		return fmt.Errorf("report sheet %s: %w", sheetSummary, err)
	}
	if err := b.writeColleagues(); err != nil {
		return fmt.Errorf("report sheet %s: %w", sheetColleagues, err)
	}
	if err := b.writeInstances(); err != nil {
		return fmt.Errorf("report sheet %s: %w", sheetInstances, err)
	}
	if err := b.writeProblems(); err != nil {
		return fmt.Errorf("report sheet %s: %w", sheetProblems, err)
	}
	f.SetActiveSheet(0)
	return b.setDocProps()
}

func (b *book) setDocProps() error {
	created := b.r.Finished
	if created.IsZero() {
		created = b.r.Now
	}
	p := &excelize.DocProperties{
		Creator:        "ycm-onboard " + b.r.Version,
		LastModifiedBy: "ycm-onboard " + b.r.Version,
		Title:          "ycm-onboard " + b.r.Mode + " report",
	}
	if !created.IsZero() {
		p.Created = created.UTC().Format(time.RFC3339)
		p.Modified = p.Created
	}
	return b.f.SetDocProps(p)
}

// column is one column of a streamed table.
type column struct {
	header string
	max    float64 // the widest the column gets
}

// streamTable writes a table of n rows to sheet with the StreamWriter: styled, frozen
// header; widths fitted to the content; an autofilter. fill sets row i's cells.
func (b *book) streamTable(sheet, table string, cols []column, n int, fill func(i int, row []excelize.Cell)) error {
	sw, err := b.f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	row := make([]excelize.Cell, len(cols))
	widths := make([]float64, len(cols))
	for j, c := range cols {
		widths[j] = float64(utf8.RuneCountInString(c.header)) + 4 // room for the filter button
	}
	// First pass: widths (the stream writer needs them before the first row).
	for i := range n {
		clear(row)
		fill(i, row)
		for j, c := range row {
			widths[j] = max(widths[j], width(c.Value)+2)
		}
	}
	for j, c := range cols {
		if err := sw.SetColWidth(j+1, j+1, math.Min(widths[j], c.max)); err != nil {
			return err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{
		Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}},
	}); err != nil {
		return err
	}
	vals := make([]any, len(cols))
	for j, c := range cols {
		vals[j] = excelize.Cell{StyleID: b.st.header, Value: c.header}
	}
	if err := sw.SetRow("A1", vals, excelize.RowOpts{Height: 20}); err != nil {
		return err
	}
	for i := range n {
		clear(row)
		fill(i, row)
		for j, c := range row {
			vals[j] = c
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, vals); err != nil {
			return err
		}
	}
	last, _ := excelize.CoordinatesToCellName(len(cols), max(n+1, 2))
	off := false
	if err := sw.AddTable(&excelize.Table{
		Range: "A1:" + last, Name: table, StyleName: "TableStyleLight15", ShowRowStripes: &off,
	}); err != nil {
		return err
	}
	return sw.Flush()
}

// width is about how many characters wide v shows.
func width(v any) float64 {
	switch v := v.(type) {
	case string:
		w := 0
		for line := range strings.SplitSeq(v, "\n") {
			w = max(w, utf8.RuneCountInString(line))
		}
		return float64(w)
	case int:
		return float64(len(strconv.Itoa(v)))
	case float64:
		return 6
	case time.Time:
		return 20
	case time.Duration:
		return 10
	}
	return 0
}

// text is a cell holding s as text, never as a formula or a number.
func text(s string, style int) excelize.Cell { return excelize.Cell{StyleID: style, Value: s} }

func (b *book) textOrBlank(s string) excelize.Cell {
	if s == "" {
		return excelize.Cell{StyleID: b.st.text}
	}
	return text(s, b.st.text)
}

func (b *book) wrapped(s string) excelize.Cell {
	if s == "" {
		return excelize.Cell{StyleID: b.st.wrap}
	}
	return text(s, b.st.wrap)
}

func (b *book) num(n int) excelize.Cell { return excelize.Cell{StyleID: b.st.number, Value: n} }

func (b *book) date(t time.Time) excelize.Cell {
	if t.IsZero() {
		return excelize.Cell{StyleID: b.st.date}
	}
	return excelize.Cell{StyleID: b.st.date, Value: t.UTC()}
}

func changesText(cs []reconcile.Change) string {
	lines := make([]string, len(cs))
	for i, c := range cs {
		lines[i] = c.String()
	}
	return strings.Join(lines, "\n")
}

var colleagueColumns = []column{
	{"Row", 40}, {"Email", 45}, {"Name", 35}, {"Action", 12}, {"Changes", 70},
	{"Outcome", 12}, {"Message", 90}, {"Attempts", 12}, {"Activation", 14},
	{"Invited", 22}, {"Expires", 22}, {"Hours Left", 14},
}

func (b *book) writeColleagues() error {
	return b.streamTable(sheetColleagues, "ColleagueTable", colleagueColumns, len(b.colleagues), func(k int, row []excelize.Cell) {
		i := b.colleagues[k]
		a := &b.r.Plan.Actions[i]
		o := b.outcomes[i]
		res := b.r.result(i)
		row[0] = text(sourceText(a.Source), b.st.text)
		row[1] = b.textOrBlank(a.Label)
		row[2] = b.textOrBlank(a.Name)
		row[3] = text(a.Kind.String(), b.st.text)
		row[4] = b.wrapped(changesText(a.Changes))
		row[5] = text(o.String(), b.st.outcome[o])
		row[6] = b.wrapped(b.r.message(i, o, b.probs))
		row[7] = excelize.Cell{StyleID: b.st.number}
		if res.Attempts > 0 {
			row[7].Value = res.Attempts
		}
		act, inv := b.r.activation(i, o)
		row[8] = b.textOrBlank(string(act))
		if act == reconcile.ActivationExpired {
			row[8].StyleID = b.st.amber
		}
		row[9] = b.date(inv)
		row[10] = excelize.Cell{StyleID: b.st.date}
		row[11] = excelize.Cell{StyleID: b.st.hours}
		// An activation link matters only until the colleague activates.
		if !inv.IsZero() && (act == reconcile.ActivationPending || act == reconcile.ActivationReinvited ||
			act == reconcile.ActivationExpired) {
			exp := inv.Add(reconcile.InviteValidity)
			row[10] = b.date(exp)
			if !b.r.Now.IsZero() {
				left := max(exp.Sub(b.r.Now).Hours(), 0)
				row[11].Value = math.Floor(left*10) / 10
			}
		}
	})
}

var instanceColumns = []column{
	{"Row", 40}, {"PBX", 35}, {"SN", 24}, {"Action", 12},
	{"Extensions Before", 20}, {"Extensions After", 20}, {"Calls Before", 16}, {"Calls After", 16},
	{"Extensions In Use", 20}, {"Pool Left", 12}, {"Outcome", 12}, {"Message", 90},
	{"Attempts", 12}, {"3CX Derivation", 60},
}

func (b *book) writeInstances() error {
	return b.streamTable(sheetInstances, "InstanceTable", instanceColumns, len(b.instances), func(k int, row []excelize.Cell) {
		i := b.instances[k]
		a := &b.r.Plan.Actions[i]
		o := b.outcomes[i]
		res := b.r.result(i)
		pos := func(n int) excelize.Cell {
			if n <= 0 || a.Kind == reconcile.Skip {
				return excelize.Cell{StyleID: b.st.number}
			}
			return b.num(n)
		}
		row[0] = text(sourceText(a.Source), b.st.text)
		row[1] = b.textOrBlank(a.Label)
		row[2] = b.textOrBlank(a.Key)
		row[3] = text(a.Kind.String(), b.st.text)
		row[4], row[5] = pos(a.Before.Extensions), pos(a.After.Extensions)
		row[6], row[7] = pos(a.Before.ConcurrentCalls), pos(a.After.ConcurrentCalls)
		row[8] = excelize.Cell{StyleID: b.st.number}
		if a.ExtensionsUsed >= 0 && a.Kind != reconcile.Skip {
			row[8].Value = a.ExtensionsUsed
		}
		row[9] = excelize.Cell{StyleID: b.st.number}
		if left, ok := b.r.PoolLeft[a.Key]; ok && a.Key != "" {
			row[9].Value = left
		}
		row[10] = text(o.String(), b.st.outcome[o])
		row[11] = b.wrapped(b.r.message(i, o, b.probs))
		row[12] = excelize.Cell{StyleID: b.st.number}
		if res.Attempts > 0 {
			row[12].Value = res.Attempts
		}
		row[13] = b.textOrBlank(a.Derivation)
	})
}

var problemColumns = []column{
	{"File", 40}, {"Sheet", 24}, {"Row", 10}, {"Column", 10}, {"Header", 24},
	{"Value", 40}, {"Severity", 12}, {"Problem", 80}, {"Fix", 80},
}

func (b *book) writeProblems() error {
	ps := b.r.Problems
	return b.streamTable(sheetProblems, "ProblemTable", problemColumns, len(ps), func(i int, row []excelize.Cell) {
		p := &ps[i]
		row[0] = b.textOrBlank(p.Source.File)
		row[1] = b.textOrBlank(p.Source.Sheet)
		row[2] = excelize.Cell{StyleID: b.st.number}
		if p.Source.Row > 0 {
			row[2].Value = p.Source.Row
		}
		row[3] = b.textOrBlank(p.Column)
		row[4] = b.textOrBlank(p.Header)
		row[5] = b.textOrBlank(p.Value)
		row[6] = text(p.Severity.String(), b.st.amber)
		if p.Severity == importer.Error {
			row[6].StyleID = b.st.red
		}
		row[7] = b.wrapped(p.Message)
		row[8] = b.wrapped(p.Fix)
	})
}

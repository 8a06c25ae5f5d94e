package report

import (
	"fmt"
	"io"
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
	field                                             int // a box to fill in by hand
}

type book struct {
	f        *excelize.File
	r        *Run
	st       styles
	outcomes []reconcile.Outcome
	probs    map[importer.Source][]importer.Problem
	// Indexes into r.Plan.Actions of the colleague and PBX actions.
	colleagues, instances []int
	// splices are the streamed sheets' rows, written as the workbook is saved.
	splices   map[string]*rowSplice
	date1904  bool
	viaSetRow bool // write the rows with StreamWriter.SetRow instead (tests)
}

func newBook(f *excelize.File, r Run) (*book, error) {
	b := &book{f: f, r: &r, splices: map[string]*rowSplice{}}
	if p, err := f.GetWorkbookProps(); err == nil && p.Date1904 != nil {
		b.date1904 = *p.Date1904
	}
	if err := b.newStyles(); err != nil {
		return nil, fmt.Errorf("report styles: %w", err)
	}
	b.outcomes = make([]reconcile.Outcome, len(r.Plan.Actions))
	for i, a := range r.Plan.Actions {
		b.outcomes[i] = OutcomeOf(r, i)
		switch {
		case a.Object == reconcile.InstanceObject:
			b.instances = append(b.instances, i)
		case a.Source != nil || a.Kind != reconcile.Noop: // portal-only rows only when touched
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
	st.number = mk(&excelize.Style{Alignment: &excelize.Alignment{Vertical: "top", Horizontal: "center"}, NumFmt: 1})
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
	st.field = mk(&excelize.Style{
		Fill:   fill("F2F2F2"),
		Border: []excelize.Border{{Type: "bottom", Color: "7F7F7F", Style: 1}},
	})
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

// cell is one value of a streamed row, kept unboxed so that measuring the widths
// allocates nothing.
type cell struct {
	kind  cellKind
	style int
	s     string
	i     int
	f     float64
	t     time.Time
}

type cellKind uint8

const (
	blankCell cellKind = iota
	textCell
	intCell
	floatCell
	timeCell
)

// width is about how many characters wide the cell shows.
func (c *cell) width() float64 {
	switch c.kind {
	case textCell:
		w, line := 0, 0
		for _, r := range c.s {
			if r == '\n' {
				w, line = max(w, line), 0
				continue
			}
			line++
		}
		return float64(max(w, line))
	case intCell:
		w := 1
		for n := c.i; n >= 10 || n <= -10; n /= 10 {
			w++
		}
		return float64(w)
	case floatCell:
		return 6
	case timeCell:
		return 20
	}
	return 0
}

// excel is the cell as the stream writer takes it. A text cell is always a string,
// never a formula or a number.
func (c *cell) excel() excelize.Cell {
	e := excelize.Cell{StyleID: c.style}
	switch c.kind {
	case textCell:
		e.Value = c.s
	case intCell:
		e.Value = c.i
	case floatCell:
		e.Value = c.f
	case timeCell:
		e.Value = c.t
	}
	return e
}

// streamTable writes a table of n rows to sheet with the StreamWriter: styled, frozen
// header; widths fitted to the content; an autofilter. fill sets row i's cells.
func (b *book) streamTable(sheet, table string, cols []column, n int, fill func(i int, row []cell)) error {
	// Print across, header repeated. Set before the stream writer takes the sheet over:
	// normal-mode settings made after its Flush are lost.
	if err := b.printSetup(sheet, false); err != nil {
		return err
	}
	if err := b.f.SetDefinedName(&excelize.DefinedName{
		Name: "_xlnm.Print_Titles", Scope: sheet, RefersTo: fmt.Sprintf("'%s'!$1:$1", sheet),
	}); err != nil {
		return err
	}
	sw, err := b.f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	row := make([]cell, len(cols))
	widths := make([]float64, len(cols))
	for j, c := range cols {
		widths[j] = float64(utf8.RuneCountInString(c.header)) + 4 // room for the filter button
	}
	// First pass: widths (the stream writer needs them before the first row).
	for i := range n {
		clear(row)
		fill(i, row)
		for j := range row {
			widths[j] = max(widths[j], row[j].width()+2)
		}
	}
	for j, c := range cols {
		widths[j] = math.Min(widths[j], c.max)
		if err := sw.SetColWidth(j+1, j+1, widths[j]); err != nil {
			return err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{
		Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}},
	}); err != nil {
		return err
	}
	// Pointers in vals: SetRow takes *Cell without boxing a copy for every cell.
	cells := make([]excelize.Cell, len(cols))
	vals := make([]any, len(cols))
	for j, c := range cols {
		cells[j] = excelize.Cell{StyleID: b.st.header, Value: c.header}
		vals[j] = &cells[j]
	}
	if err := sw.SetRow("A1", vals, excelize.RowOpts{Height: 20}); err != nil {
		return err
	}
	// height is row i's height for its wrapped text, 0 for one line: spreadsheet
	// programs do not grow a row for wrapped text on opening.
	height := func(row []cell) float64 {
		lines := 1
		for j := range row {
			if row[j].style == b.st.wrap {
				lines = max(lines, wrappedLines(row[j].s, widths[j]))
			}
		}
		if lines == 1 {
			return 0
		}
		return min(float64(lines)*lineHeight+2, maxRowHeight)
	}
	if b.viaSetRow { // the reference the rendered rows are tested against
		for i := range n {
			clear(row)
			fill(i, row)
			for j := range row {
				cells[j] = row[j].excel()
			}
			var opts []excelize.RowOpts
			if h := height(row); h > 0 {
				opts = append(opts, excelize.RowOpts{Height: h})
			}
			if err := sw.SetRow("A"+strconv.Itoa(i+2), vals, opts...); err != nil {
				return err
			}
		}
	} else if n > 0 {
		part, err := sheetPart(b.f, sheet)
		if err != nil {
			return err
		}
		b.splices[part] = &rowSplice{sheet: sheet, rows: func(w io.Writer) error {
			x := newRowXML(len(cols), b.date1904)
			for i := range n {
				clear(row)
				fill(i, row)
				x.row(i+2, row, height(row))
				if len(x.buf) >= 1<<15 || i == n-1 {
					if _, err := w.Write(x.buf); err != nil {
						return err
					}
					x.buf = x.buf[:0]
				}
			}
			return nil
		}}
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

// printSetup prints sheet landscape, fitted to the page width (and to one page if whole).
func (b *book) printSetup(sheet string, onePage bool) error {
	tall := 0
	if onePage {
		tall = 1
	}
	if err := b.f.SetPageLayout(sheet, &excelize.PageLayoutOptions{
		Orientation: ptr("landscape"), FitToWidth: ptr(1), FitToHeight: ptr(tall),
	}); err != nil {
		return err
	}
	return b.f.SetSheetProps(sheet, &excelize.SheetPropsOptions{FitToPage: ptr(true)})
}

// Row heights in points: one line of the default 11-point font, and Excel's maximum.
const (
	lineHeight   = 15
	maxRowHeight = 409
)

// wrappedLines is about how many lines s takes in a wrapped column width characters wide.
func wrappedLines(s string, width float64) int {
	per := max(int(width)-1, 1)
	n := 0
	for line := range strings.SplitSeq(s, "\n") {
		n += max(1, (utf8.RuneCountInString(line)+per-1)/per)
	}
	return n
}

// text is a cell holding s as text.
func text(s string, style int) cell { return cell{kind: textCell, style: style, s: s} }

// textOrBlank is a text cell, or a blank one for "".
func textOrBlank(s string, style int) cell {
	if s == "" {
		return cell{style: style}
	}
	return text(s, style)
}

func (b *book) textOrBlank(s string) cell { return textOrBlank(s, b.st.text) }

func (b *book) wrapped(s string) cell { return textOrBlank(s, b.st.wrap) }

// num is a number cell, blank unless ok.
func (b *book) num(n int, ok bool) cell {
	if !ok {
		return cell{style: b.st.number}
	}
	return cell{kind: intCell, style: b.st.number, i: n}
}

func (b *book) date(t time.Time) cell {
	if t.IsZero() {
		return cell{style: b.st.date}
	}
	return cell{kind: timeCell, style: b.st.date, t: t.UTC()}
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
	return b.streamTable(sheetColleagues, "ColleagueTable", colleagueColumns, len(b.colleagues), func(k int, row []cell) {
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
		row[7] = b.num(res.Attempts, res.Attempts > 0)
		act, inv := b.r.activation(i, o)
		row[8] = b.textOrBlank(string(act))
		if act == reconcile.ActivationExpired {
			row[8].style = b.st.amber
		}
		row[9] = b.date(inv)
		row[10] = b.date(time.Time{})
		row[11] = cell{style: b.st.hours}
		// An activation link matters only until the colleague activates.
		if !inv.IsZero() && (act == reconcile.ActivationPending || act == reconcile.ActivationReinvited ||
			act == reconcile.ActivationExpired) {
			exp := inv.Add(reconcile.InviteValidity)
			row[10] = b.date(exp)
			if !b.r.Now.IsZero() {
				left := max(exp.Sub(b.r.Now).Hours(), 0)
				row[11].kind, row[11].f = floatCell, math.Floor(left*10)/10
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

// poolLeft is the extensions left in the hosting package after each PBX row, walking
// the resizes in plan order as the portal sees them; nil when the pool is unknown.
func (b *book) poolLeft() []int {
	if b.r.ExtensionPool <= 0 {
		return nil
	}
	left := make([]int, len(b.instances))
	free := b.r.ExtensionPool - b.r.ExtensionsAllocated
	for k, i := range b.instances {
		a := &b.r.Plan.Actions[i]
		if o := b.outcomes[i]; a.Kind == reconcile.Resize && a.Sizing != nil && (o == reconcile.Applied || o == reconcile.Planned) {
			free -= a.After.Extensions - a.Before.Extensions
		}
		left[k] = free
	}
	return left
}

func (b *book) writeInstances() error {
	pool := b.poolLeft()
	return b.streamTable(sheetInstances, "InstanceTable", instanceColumns, len(b.instances), func(k int, row []cell) {
		i := b.instances[k]
		a := b.r.Plan.Actions[i] // a copy: a PBX action without sizing gets an empty one here
		if a.Sizing == nil {
			a.Sizing = &reconcile.Sizing{ExtensionsUsed: -1}
		}
		o := b.outcomes[i]
		res := b.r.result(i)
		pos := func(n int) cell { return b.num(n, n > 0 && a.Kind != reconcile.Skip) }
		row[0] = text(sourceText(a.Source), b.st.text)
		row[1] = b.textOrBlank(a.Label)
		row[2] = b.textOrBlank(a.Key)
		row[3] = text(a.Kind.String(), b.st.text)
		row[4], row[5] = pos(a.Before.Extensions), pos(a.After.Extensions)
		row[6], row[7] = pos(a.Before.ConcurrentCalls), pos(a.After.ConcurrentCalls)
		row[8] = b.num(a.ExtensionsUsed, a.ExtensionsUsed >= 0 && a.Kind != reconcile.Skip)
		row[9] = b.num(0, false)
		if pool != nil {
			row[9] = b.num(pool[k], true)
		}
		row[10] = text(o.String(), b.st.outcome[o])
		row[11] = b.wrapped(b.r.message(i, o, b.probs))
		row[12] = b.num(res.Attempts, res.Attempts > 0)
		row[13] = b.textOrBlank(a.Derivation)
	})
}

var problemColumns = []column{
	{"File", 40}, {"Sheet", 24}, {"Row", 10}, {"Column", 10}, {"Header", 24},
	{"Value", 40}, {"Severity", 12}, {"Problem", 80}, {"Fix", 80},
}

func (b *book) writeProblems() error {
	ps := b.r.Problems
	return b.streamTable(sheetProblems, "ProblemTable", problemColumns, len(ps), func(i int, row []cell) {
		p := &ps[i]
		row[0] = b.textOrBlank(p.Source.File)
		row[1] = b.textOrBlank(p.Source.Sheet)
		row[2] = b.num(p.Source.Row, p.Source.Row > 0)
		row[3] = b.textOrBlank(p.Column)
		row[4] = b.textOrBlank(p.Header)
		row[5] = b.textOrBlank(p.Value)
		row[6] = text(p.Severity.String(), b.st.amber)
		if p.Severity == importer.Error {
			row[6].style = b.st.red
		}
		row[7] = b.wrapped(p.Message)
		row[8] = b.wrapped(p.Fix)
	})
}

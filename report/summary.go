package report

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/ycm-onboard/ycm-onboard/importer"
	"github.com/ycm-onboard/ycm-onboard/internal/words"
	"github.com/ycm-onboard/ycm-onboard/reconcile"
)

// Summary is the run in short, for schedulers (--json).
type Summary struct {
	Version         string           `json:"version"`
	Mode            string           `json:"mode"`
	Report          string           `json:"report"`
	ExitCode        int              `json:"exit_code"`
	Interrupted     bool             `json:"interrupted"`
	Fatal           string           `json:"fatal,omitempty"`
	Tripped         []string         `json:"tripped"`
	Started         time.Time        `json:"started,omitzero"`
	Finished        time.Time        `json:"finished,omitzero"`
	DurationSeconds float64          `json:"duration_seconds"`
	Actions         ActionCounts     `json:"actions"`
	Outcomes        OutcomeCounts    `json:"outcomes"`
	Activation      ActivationCounts `json:"activation"`
	Problems        ProblemCounts    `json:"problems"`
	TopErrors       []ErrorCount     `json:"top_errors"`
}

// OutcomeCounts counts actions by outcome.
type OutcomeCounts struct {
	Planned   int `json:"planned"`
	Applied   int `json:"applied"`
	Unchanged int `json:"unchanged"`
	Failed    int `json:"failed"`
	Skipped   int `json:"skipped"`
	Blocked   int `json:"blocked"`
	NotRun    int `json:"not_run"`
	Total     int `json:"total"`
}

func (c *OutcomeCounts) add(o reconcile.Outcome) {
	*c.at(o)++
	c.Total++
}

func (c *OutcomeCounts) at(o reconcile.Outcome) *int {
	ps := [...]*int{&c.Planned, &c.Applied, &c.Unchanged, &c.Failed, &c.Skipped, &c.Blocked, &c.NotRun}
	if int(o) >= len(ps) || o < 0 {
		return new(int) // an outcome this report does not know: in the total only
	}
	return ps[o]
}

// ActionCounts counts outcomes for each kind of action.
type ActionCounts struct {
	Create   OutcomeCounts `json:"create"`
	Update   OutcomeCounts `json:"update"`
	Delete   OutcomeCounts `json:"delete"`
	Reinvite OutcomeCounts `json:"re_invite"`
	Resize   OutcomeCounts `json:"resize"`
	Noop     OutcomeCounts `json:"no_op"`
	Skip     OutcomeCounts `json:"skip"`
}

func (c *ActionCounts) of(k reconcile.Kind) *OutcomeCounts {
	ps := [...]*OutcomeCounts{&c.Noop, &c.Create, &c.Update, &c.Delete, &c.Reinvite, &c.Resize, &c.Skip}
	if int(k) >= len(ps) {
		return new(OutcomeCounts) // a kind this report does not know
	}
	return ps[k]
}

// ActivationCounts counts colleagues by where they stand with the activation e-mail.
type ActivationCounts struct {
	Active    int `json:"active"`
	Pending   int `json:"pending"`
	Expired   int `json:"expired"`
	Reinvited int `json:"re_invited"`
	Frozen    int `json:"frozen"`
}

// ProblemCounts counts the input's problems.
type ProblemCounts struct {
	Errors   int `json:"errors"`
	Warnings int `json:"warnings"`
}

// ErrorCount is one error message and how many actions failed with it.
type ErrorCount struct {
	Message string `json:"message"`
	Count   int    `json:"count"`
}

// Summarize is the run in short; reportPath is where the workbook was written.
func Summarize(r Run, reportPath string) Summary {
	outcomes := make([]reconcile.Outcome, len(r.Plan.Actions))
	for i := range outcomes {
		outcomes[i] = OutcomeOf(r, i)
	}
	s := tally(&r, outcomes)
	s.Report = reportPath
	return s
}

// kindOrder is the order of the actions in the counts table.
var kindOrder = []reconcile.Kind{
	reconcile.Create, reconcile.Update, reconcile.Delete, reconcile.Reinvite,
	reconcile.Resize, reconcile.Noop, reconcile.Skip,
}

// outcomeOrder is the order of the outcomes in the counts table and chart.
var outcomeOrder = []reconcile.Outcome{
	reconcile.Planned, reconcile.Applied, reconcile.Unchanged, reconcile.Failed,
	reconcile.Skipped, reconcile.Blocked, reconcile.NotRun,
}

const topErrors = 5

func tally(r *Run, outcomes []reconcile.Outcome) Summary {
	s := Summary{
		Version: r.Version, Mode: r.Mode, ExitCode: r.ExitCode,
		Interrupted: r.Interrupted, Fatal: r.Fatal,
		Tripped: append([]string{}, r.tripped()...),
		Started: r.Started, Finished: r.Finished,
		TopErrors: []ErrorCount{},
	}
	if !r.Started.IsZero() && !r.Finished.IsZero() {
		s.DurationSeconds = r.Finished.Sub(r.Started).Seconds()
	}
	errs := map[string]int{}
	for i, a := range r.Plan.Actions {
		o := outcomes[i]
		s.Actions.of(a.Kind).add(o)
		s.Outcomes.add(o)
		if a.Object == reconcile.ColleagueObject && a.Kind != reconcile.Skip {
			act, _ := r.activation(i, o)
			switch act {
			case reconcile.ActivationActive:
				s.Activation.Active++
			case reconcile.ActivationPending:
				s.Activation.Pending++
			case reconcile.ActivationExpired:
				s.Activation.Expired++
			case reconcile.ActivationReinvited:
				s.Activation.Reinvited++
			case reconcile.ActivationFrozen:
				s.Activation.Frozen++
			}
		}
		if o == reconcile.Failed {
			errs[r.message(i, o, nil)]++
		}
	}
	for m, n := range errs {
		s.TopErrors = append(s.TopErrors, ErrorCount{Message: m, Count: n})
	}
	slices.SortFunc(s.TopErrors, func(a, b ErrorCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Message, b.Message))
	})
	s.TopErrors = s.TopErrors[:min(len(s.TopErrors), topErrors)]
	for _, p := range r.Problems {
		if p.Severity == importer.Error {
			s.Problems.Errors++
		} else {
			s.Problems.Warnings++
		}
	}
	return s
}

// summarySheet writes the Summary sheet in normal mode: it is small.
type summarySheet struct {
	b   *book
	f   *excelize.File
	row int // the last row written
	err error
}

const summaryLastCol = "I" // the counts table's last column; banners span A to it

const bannerWidth = 22 + 22 + 7*12 - 10 // columns A to I, less the bold text's extra width

func (b *book) writeSummary() error {
	s := tally(b.r, b.outcomes)
	w := &summarySheet{b: b, f: b.f}
	st := &b.st
	r := b.r

	w.set("A1", "ycm-onboard "+r.Mode+" report", st.title)
	w.row = 1
	for _, bn := range b.banners(s) {
		w.row++
		cell := fmt.Sprintf("A%d", w.row)
		w.set(cell, bn.text, bn.style)
		w.do(w.f.MergeCell(sheetSummary, cell, fmt.Sprintf("%s%d", summaryLastCol, w.row)))
		w.do(w.f.SetRowHeight(sheetSummary, w.row, float64(wrappedLines(bn.text, bannerWidth))*lineHeight+4))
	}

	w.section("Run")
	w.pair("Tool version", r.Version)
	w.pair("Mode", r.Mode)
	for _, f := range r.Files {
		w.pair("Input file", f.Path)
		w.pair("SHA-256", f.SHA256)
	}
	if len(r.Files) == 0 {
		w.pair("Input file", "")
	}
	w.pair("Partner Portal", cleanURL(r.PartnerURL))
	w.pair("YCM", cleanURL(r.YCMURL))
	w.pairValue("Started", r.Started, st.date)
	w.pairValue("Finished", r.Finished, st.date)
	if !r.Started.IsZero() && !r.Finished.IsZero() {
		w.pairValue("Duration", r.Finished.Sub(r.Started).Seconds()/86400, st.duration)
	} else {
		w.pair("Duration", "")
	}
	w.pairValue("Concurrency", r.Concurrency, st.number)
	if len(r.Guards) == 0 {
		w.pair("Guards", "none")
	}
	for _, g := range r.Guards {
		w.pair("Guards", g)
	}
	if t := r.tripped(); len(t) > 0 {
		w.pairStyled("Guards tripped", "yes: "+strings.Join(t, "; "), st.amber)
	} else {
		w.pair("Guards tripped", "no")
	}
	w.pairValue("Exit code", r.ExitCode, st.number)
	w.pair("Plan fingerprint", r.Plan.Fingerprint)
	w.pair("Input problems", words.Count(s.Problems.Errors, "error")+", "+words.Count(s.Problems.Warnings, "warning")+" (see the Problems sheet)")

	// Counts by action × outcome.
	w.section("Actions by outcome")
	w.row++
	head := w.row
	w.set(fmt.Sprintf("A%d", head), "Action", st.header)
	for j, o := range outcomeOrder {
		w.set(cellAt(j+2, head), o.String(), st.header)
	}
	w.set(cellAt(len(outcomeOrder)+2, head), "Total", st.header)
	for _, k := range kindOrder {
		w.row++
		c := s.Actions.of(k)
		w.set(cellAt(1, w.row), k.String(), st.text)
		for j, o := range outcomeOrder {
			w.set(cellAt(j+2, w.row), *c.at(o), st.number)
		}
		w.set(cellAt(len(outcomeOrder)+2, w.row), c.Total, st.number)
	}
	w.table("CountTable", fmt.Sprintf("A%d:%s", head, cellAt(len(outcomeOrder)+2, w.row)))
	w.row++
	total := w.row
	w.set(cellAt(1, total), "Total", st.label)
	for j, o := range outcomeOrder {
		w.set(cellAt(j+2, total), *s.Outcomes.at(o), st.number)
	}
	w.set(cellAt(len(outcomeOrder)+2, total), s.Outcomes.Total, st.number)

	// Activation.
	w.section("Activation")
	w.row++
	actHead := w.row
	w.set(cellAt(1, actHead), "Activation", st.header)
	w.set(cellAt(2, actHead), "Colleagues", st.header)
	for _, a := range []struct {
		name string
		n    int
	}{
		{"Active", s.Activation.Active}, {"Pending", s.Activation.Pending},
		{"Expired", s.Activation.Expired}, {"Re-invited", s.Activation.Reinvited},
		{"Frozen", s.Activation.Frozen},
	} {
		w.row++
		w.set(cellAt(1, w.row), a.name, st.text)
		w.set(cellAt(2, w.row), a.n, st.number)
	}
	w.table("ActivationTable", fmt.Sprintf("A%d:B%d", actHead, w.row))

	// Top errors.
	w.section("Most frequent errors")
	w.row++
	errHead := w.row
	w.set(cellAt(1, errHead), "Count", st.header)
	w.set(cellAt(2, errHead), "Error", st.header)
	for _, e := range s.TopErrors {
		w.row++
		w.set(cellAt(1, w.row), e.Count, st.number)
		w.set(cellAt(2, w.row), e.Message, st.text)
	}
	if len(s.TopErrors) == 0 {
		w.row++
		w.set(cellAt(1, w.row), 0, st.number)
		w.set(cellAt(2, w.row), "none", st.text)
	}
	w.table("ErrorTable", fmt.Sprintf("A%d:B%d", errHead, w.row))

	if r.Mode == "plan" {
		w.signOff()
	}

	w.do(w.f.SetColWidth(sheetSummary, "A", "A", 22))
	w.do(w.f.SetColWidth(sheetSummary, "B", "B", 22)) // wide enough for a date-time
	w.do(w.f.SetColWidth(sheetSummary, "C", summaryLastCol, 12))
	w.charts(head, total, actHead)
	w.do(b.printSetup(sheetSummary, true))
	return w.err
}

// signOff leaves room to review and approve a plan in the file itself.
func (w *summarySheet) signOff() {
	w.section("Sign-off")
	for _, label := range []string{"Reviewed by", "Approved (yes / no)", "Date", "Notes"} {
		w.row++
		w.set(cellAt(1, w.row), label, w.b.st.label)
		w.do(w.f.MergeCell(sheetSummary, cellAt(2, w.row), cellAt(5, w.row)))
		w.do(w.f.SetCellStyle(sheetSummary, cellAt(2, w.row), cellAt(5, w.row), w.b.st.field))
	}
}

func ptr[T any](v T) *T { return &v }

type banner struct {
	text  string
	style int
}

// banners are the warnings at the top of the Summary.
func (b *book) banners(s Summary) []banner {
	var out []banner
	if b.r.Fatal != "" {
		out = append(out, banner{
			"STOPPED by a portal error: " + b.r.Fatal + ". Actions after it were not run (" +
				fmt.Sprint(s.Outcomes.NotRun) + "); fix the cause, then run apply again.",
			b.st.bannerRed,
		})
	}
	if b.r.Interrupted {
		out = append(out, banner{
			fmt.Sprintf("INTERRUPTED: the run was stopped before it finished; %d actions were not run. Run apply again to finish.", s.Outcomes.NotRun),
			b.st.bannerRed,
		})
	}
	if t := b.r.tripped(); len(t) > 0 {
		then := "Nothing was applied"
		if b.r.Mode == "plan" {
			then = "Apply will refuse this plan"
		}
		out = append(out, banner{
			"GUARD TRIPPED: " + strings.Join(t, "; ") + ". " + then + "; review the plan, then raise the guard or fix the input.",
			b.st.bannerAmber,
		})
	}
	return out
}

func cellAt(col, row int) string {
	c, _ := excelize.CoordinatesToCellName(col, row)
	return c
}

func (w *summarySheet) do(err error) {
	if w.err == nil && err != nil {
		w.err = err
	}
}

// set writes v to cell; a string is always written as text.
func (w *summarySheet) set(cell string, v any, style int) {
	switch v := v.(type) {
	case string:
		w.do(w.f.SetCellStr(sheetSummary, cell, v))
	case time.Time:
		if !v.IsZero() {
			w.do(w.f.SetCellValue(sheetSummary, cell, v.UTC()))
		}
	default:
		w.do(w.f.SetCellValue(sheetSummary, cell, v))
	}
	w.do(w.f.SetCellStyle(sheetSummary, cell, cell, style))
}

func (w *summarySheet) section(title string) {
	w.row += 2
	w.set(cellAt(1, w.row), title, w.b.st.section)
}

func (w *summarySheet) pair(label, value string) { w.pairStyled(label, value, w.b.st.text) }

func (w *summarySheet) pairStyled(label, value string, style int) {
	w.row++
	w.set(cellAt(1, w.row), label, w.b.st.label)
	if value != "" {
		w.set(cellAt(2, w.row), value, style)
	}
}

func (w *summarySheet) pairValue(label string, v any, style int) {
	w.row++
	w.set(cellAt(1, w.row), label, w.b.st.label)
	w.set(cellAt(2, w.row), v, style)
}

func (w *summarySheet) table(name, ref string) {
	off := false
	w.do(w.f.AddTable(sheetSummary, &excelize.Table{
		Range: ref, Name: name, StyleName: "TableStyleLight15", ShowRowStripes: &off,
	}))
}

// charts draws the outcomes (from the counts table's Total row) and the activation
// counts to the right of the tables.
func (w *summarySheet) charts(head, total, actHead int) {
	last := len(outcomeOrder) + 1
	colName := func(c int) string { n, _ := excelize.ColumnNumberToName(c); return n }
	ref := func(c1, r1, c2, r2 int) string {
		return fmt.Sprintf("'%s'!$%s$%d:$%s$%d", sheetSummary, colName(c1), r1, colName(c2), r2)
	}
	title := func(s string) excelize.ChartTitle {
		return excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: s, Font: &excelize.Font{Bold: true, Size: 12}}}}
	}
	off := false
	w.do(w.f.AddChart(sheetSummary, "K2", &excelize.Chart{
		Type: excelize.Col,
		Series: []excelize.ChartSeries{{
			Name:       "Actions",
			Categories: ref(2, head, last, head),
			Values:     ref(2, total, last, total),
			Fill:       excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"4472C4"}},
		}},
		Title:      title("Outcomes"),
		Legend:     excelize.ChartLegend{Position: "none"},
		VaryColors: &off,
		PlotArea:   excelize.ChartPlotArea{ShowVal: true},
		Format:     excelize.GraphicOptions{AltText: "Actions by outcome"},
		Dimension:  excelize.ChartDimension{Width: 560, Height: 280},
	}))
	act := make([]excelize.ChartDataPoint, 5)
	for j, c := range activationColours {
		act[j] = excelize.ChartDataPoint{Index: j, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{c}}}
	}
	w.do(w.f.AddChart(sheetSummary, "K18", &excelize.Chart{
		Type: excelize.Pie,
		Series: []excelize.ChartSeries{{
			Name:       "Colleagues",
			Categories: ref(1, actHead+1, 1, actHead+5),
			Values:     ref(2, actHead+1, 2, actHead+5),
			DataPoint:  act,
		}},
		Title:     title("Activation"),
		Legend:    excelize.ChartLegend{Position: "right"},
		PlotArea:  excelize.ChartPlotArea{ShowVal: true},
		Format:    excelize.GraphicOptions{AltText: "Colleagues by activation status"},
		Dimension: excelize.ChartDimension{Width: 560, Height: 280},
	}))
}

// activationColours are the pie's colours: active, pending, expired, re-invited, frozen.
var activationColours = []string{"70AD47", "FFC000", "C00000", "4472C4", "7F7F7F"}

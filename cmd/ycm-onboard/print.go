package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/ycm-onboard/ycm-onboard/importer"
	"github.com/ycm-onboard/ycm-onboard/internal/words"
	"github.com/ycm-onboard/ycm-onboard/reconcile"
)

// printPlan lists every action that changes something, or is blocked or skipped (with
// the row's first error), then the stable summary line.
func printPlan(w io.Writer, p reconcile.Plan, problems []importer.Problem) {
	rowErrors := map[importer.Source][]importer.Problem{}
	for _, pr := range problems {
		if pr.Severity == importer.Error && pr.Source.Row > 0 {
			rowErrors[pr.Source] = append(rowErrors[pr.Source], pr)
		}
	}
	// tabwriter writes each cell and its padding apart: buffered, a long plan is a few writes.
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	w = bw
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, a := range p.Actions {
		if a.Kind == reconcile.Noop && a.Activation != reconcile.ActivationExpired {
			continue // an expired link left alone is shown, with why
		}
		where := "portal"
		if a.Source != nil {
			where = a.Source.String()
		}
		label := a.Label
		if a.Object == reconcile.InstanceObject && a.Key != "" && !strings.EqualFold(a.Key, a.Label) {
			label = fmt.Sprintf("%s (%s)", a.Label, a.Key)
		}
		var detail []string
		for _, c := range a.Changes {
			detail = append(detail, c.String())
		}
		switch {
		case a.Kind == reconcile.Skip && a.Blocked == "":
			detail = append(detail, skipReason(a, rowErrors))
		case a.Reason != "":
			detail = append(detail, a.Reason)
		}
		if a.Sizing != nil && a.Derivation != "" {
			detail = append(detail, a.Derivation)
		}
		mark, kind := a.Kind.Symbol(), a.Kind.String()
		if a.Kind == reconcile.Noop {
			mark = "="
		}
		if a.Blocked != "" {
			mark, kind = "!", "blocked "+kind
			if a.Kind == reconcile.Skip {
				kind = "skip"
			}
			detail = append(detail, a.Blocked)
		}
		fmt.Fprintf(tw, "%s %s\t%s\t%s\t%s\n", mark, kind, oneLine(label), where, oneLine(strings.Join(detail, "; ")))
	}
	tw.Flush()
	c := p.Counts()
	if c.Skipped > 0 || c.Blocked > 0 {
		fmt.Fprintf(w, "%s skipped for errors, %s blocked.\n", words.Count(c.Skipped, "row"), words.Count(c.Blocked, "change"))
	}
	fmt.Fprintln(w, c.Line())
}

// skipReason is why a row was skipped, in short: its first error, and how many more.
func skipReason(a reconcile.Action, rowErrors map[importer.Source][]importer.Problem) string {
	var errs []importer.Problem
	if a.Source != nil {
		errs = rowErrors[*a.Source]
	}
	if len(errs) == 0 {
		return a.Reason
	}
	what := errs[0].Header
	if what == "" {
		what = errs[0].Column
	}
	r := errs[0].Message
	if what != "" {
		r = what + ": " + r
	}
	if len(errs) > 1 {
		r += fmt.Sprintf(" (and %s)", words.Count(len(errs)-1, "more error"))
	}
	return r
}

// printProblems lists the input's problems, errors first.
func printProblems(w io.Writer, ps []importer.Problem) {
	for _, sev := range []importer.Severity{importer.Error, importer.Warning} {
		for _, p := range ps {
			if p.Severity == sev {
				fmt.Fprintln(w, importer.EscapeControl(p.String()))
			}
		}
	}
}

func countProblems(ps []importer.Problem) (errs, warns int) {
	for _, p := range ps {
		if p.Severity == importer.Error {
			errs++
		} else {
			warns++
		}
	}
	return errs, warns
}

// lineBreaks shows a multi-line cell (a remark, say) on the plan's one line per action.
var lineBreaks = strings.NewReplacer("\r\n", "⏎", "\n", "⏎", "\r", "⏎", "\t", " ")

// oneLine also escapes control characters: a cell never moves the terminal's cursor or
// rewrites a line of the plan above it.
func oneLine(s string) string { return importer.EscapeControl(lineBreaks.Replace(s)) }

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ycm-onboard/ycm-onboard/importer"
	"github.com/ycm-onboard/ycm-onboard/internal/words"
	"github.com/ycm-onboard/ycm-onboard/job"
)

func (a *app) validateCommand() *cobra.Command {
	var (
		in      inputFlags
		pf      portalFlags
		format  string
		offline bool
	)
	cmd := &cobra.Command{
		Use:   "validate FILE...",
		Short: "Read and check the input; print every problem; exit 2 if any is an error",
		Long: `Read and check the input; print every problem with its file, sheet, row and column.

Permission, owner and PBX names are checked against the portal when one is reachable
(the built-in simulator when none is configured); --offline checks the files alone.`,
		Args: in.args,
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "table" && format != "json" {
				return exitf(exitUsage, fmt.Sprintf("--format %q: use table or json", format))
			}
			if err := a.portalConfig(cmd, &pf); err != nil {
				return err
			}
			opts, err := in.options()
			if err != nil {
				return err
			}
			opts.Ctx = cmd.Context()
			desired, problems := importer.Read(args, opts)
			if desired.Interrupted != nil {
				return exitf(exitInterrupted, "interrupted while reading the input")
			}
			if !offline && !job.Unreadable(problems, desired) {
				problems = append(problems, a.checkAgainstPortal(cmd.Context(), pf, desired)...)
				importer.SortProblems(problems)
			}
			errs, warns := countProblems(problems)
			if format == "json" {
				writeProblemsJSON(a.stdout, problems)
			} else {
				writeProblemsTable(a.stdout, problems)
				fmt.Fprintf(a.stdout, "%s, %s in %s and %s.\n", words.Count(errs, "error"), words.Count(warns, "warning"),
					words.Count(len(desired.Colleagues)+len(desired.RejectedColleagues), "colleague"),
					words.Count(len(desired.Instances)+len(desired.RejectedInstances), "PBX"))
			}
			if errs > 0 {
				return exitf(exitUsage, "")
			}
			return nil
		},
	}
	in.add(cmd.Flags())
	addPortalFlags(cmd.Flags(), &pf)
	cmd.Flags().StringVar(&format, "format", "table", "output: table or json")
	cmd.Flags().BoolVar(&offline, "offline", false, "check the files alone, without the portal")
	return cmd
}

func writeProblemsTable(w io.Writer, ps []importer.Problem) {
	if len(ps) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEVERITY\tWHERE\tCOLUMN\tVALUE\tPROBLEM\tFIX")
	for _, sev := range []importer.Severity{importer.Error, importer.Warning} {
		for _, p := range ps {
			if p.Severity != sev {
				continue
			}
			col := p.Column
			if p.Header != "" {
				col += " " + p.Header
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%q\t%s\t%s\n", p.Severity, oneLine(p.Source.String()), oneLine(col), p.Value,
				oneLine(p.Message), oneLine(p.Fix))
		}
	}
	tw.Flush()
}

func writeProblemsJSON(w io.Writer, ps []importer.Problem) {
	type jp struct {
		File     string `json:"file"`
		Sheet    string `json:"sheet,omitempty"`
		Row      int    `json:"row,omitempty"`
		Column   string `json:"column,omitempty"`
		Header   string `json:"header,omitempty"`
		Value    string `json:"value,omitempty"`
		Severity string `json:"severity"`
		Problem  string `json:"problem"`
		Fix      string `json:"fix,omitempty"`
	}
	out := make([]jp, 0, len(ps))
	for _, p := range ps {
		out = append(out, jp{p.Source.File, p.Source.Sheet, p.Source.Row, p.Column, p.Header, p.Value,
			p.Severity.String(), p.Message, p.Fix})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(out)
}

// checkAgainstPortal checks names against the portal when it can be reached; otherwise
// it says so and the files are checked alone.
func (a *app) checkAgainstPortal(ctx context.Context, pf portalFlags, d *importer.Desired) []importer.Problem {
	c, err := a.connect(pf)
	if err != nil {
		fmt.Fprintln(a.stderr, "ycm-onboard: "+err.Error()+": checked the files alone")
		return nil
	}
	defer c.close()
	actual, err := a.readPortal(ctx, c)
	if err != nil {
		fmt.Fprintln(a.stderr, "ycm-onboard: "+err.Error()+": checked the files alone")
		return nil
	}
	return importer.Check(d, job.Catalog(actual))
}

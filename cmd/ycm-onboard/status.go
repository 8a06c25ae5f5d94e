package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/xuri/excelize/v2"

	"github.com/ycm-onboard/ycm-onboard/job"
	"github.com/ycm-onboard/ycm-onboard/state"
)

func (a *app) statusCommand() *cobra.Command {
	var (
		hf     historyFlags
		format string
		out    string
		force  bool
		runs   int
	)
	cmd := &cobra.Command{
		Use:   "status",
		Short: "List pending, expired and activated invitations, and the last runs, from the run history",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runs < 1 {
				return exitf(exitUsage, fmt.Sprintf("--runs %d: give 1 or more", runs))
			}
			if format == "xlsx" && out == "" {
				out = "ycm-onboard-status.xlsx"
			}
			if format == "xlsx" {
				if err := refuseExisting(out, force); err != nil {
					return err
				}
			}
			c, err := a.loadConfig()
			if err != nil {
				return err
			}
			if c != nil {
				setter{cmd.Flags()}.str("state-dir", &hf.stateDir, c.StateDir)
			}
			dir, err := a.stateDir(hf)
			if err != nil {
				return exitf(exitUsage, err.Error())
			}
			if _, err := os.Stat(filepath.Join(dir, state.DBName)); err != nil {
				return exitf(exitUsage, fmt.Sprintf("no run history in %s yet: run apply first, or pass --state-dir", dir))
			}
			store, err := state.Open(dir, a.now)
			if err != nil {
				return exitf(exitUsage, err.Error())
			}
			defer store.Close()
			ctx := cmd.Context()
			inv, err := store.Invitations(ctx)
			if err != nil {
				return exitf(exitUsage, err.Error())
			}
			last, err := store.LastRuns(ctx, runs)
			if err != nil {
				return exitf(exitUsage, err.Error())
			}
			pending, err := store.Proposals(ctx, state.ProposalPending)
			if err != nil {
				return exitf(exitUsage, err.Error())
			}
			st := state.Status{Invitations: inv, Runs: last, Proposals: pending, Now: a.now()}
			switch format {
			case "table", "json":
				return state.WriteStatus(a.stdout, format, st)
			case "xlsx":
				_, err := a.writeWorkbook(out, force, false, func(w io.Writer) error { return writeStatusXLSX(w, st) })
				return err
			}
			return exitf(exitUsage, fmt.Sprintf("--format %q: use table, json or xlsx", format))
		},
	}
	cmd.Flags().StringVar(&hf.stateDir, "state-dir", "", "run history directory (default $XDG_STATE_HOME/ycm-onboard or ~/.local/state/ycm-onboard; on Windows %LOCALAPPDATA%\\ycm-onboard)")
	cmd.Flags().StringVar(&format, "format", "table", "output: table, json or xlsx")
	cmd.Flags().StringVar(&out, "out", "", "with --format xlsx: the workbook to write (default ycm-onboard-status.xlsx; an existing one is kept unless --force)")
	cmd.Flags().BoolVar(&force, "force", false, "replace --out if it exists")
	cmd.Flags().IntVar(&runs, "runs", 10, "how many of the last runs to list")
	return cmd
}

func writeStatusXLSX(w io.Writer, st state.Status) error {
	f := excelize.NewFile()
	defer f.Close()
	now := st.Now
	_ = f.SetSheetName("Sheet1", "Invitations")
	rows := [][]any{{"Email", "Status", "Invited", "Expires", "Hours Left", "Re-invites", "Activated"}}
	for _, i := range st.Invitations {
		rows = append(rows, []any{i.Email, string(i.Status(now)), excelTime(i.InvitedAt), excelTime(i.ExpiresAt),
			i.HoursLeft(now), i.Reinvites, excelTime(i.ActivatedAt)})
	}
	if err := putRows(f, "Invitations", rows); err != nil {
		return err
	}
	if _, err := f.NewSheet("Runs"); err != nil {
		return err
	}
	rows = [][]any{{"Run", "Mode", "Started", "Finished", "Exit Code", "Report"}}
	for _, r := range st.Runs {
		rows = append(rows, []any{r.ID, r.Mode, excelTime(r.Started), excelTime(r.Finished), r.ExitCode, r.ReportPath})
	}
	if err := putRows(f, "Runs", rows); err != nil {
		return err
	}
	if _, err := f.NewSheet("Proposals"); err != nil {
		return err
	}
	rows = [][]any{{"Run", "Author", "Proposed", "Status", "Why", "Plan", "Approve With"}}
	for _, p := range st.Proposals {
		rows = append(rows, []any{p.ID, p.Author, excelTime(p.Created), string(p.Status), p.Reason, p.PlanLine, job.ApproveCommand(p.ID)})
	}
	if err := putRows(f, "Proposals", rows); err != nil {
		return err
	}
	_, err := f.WriteTo(w)
	return err
}

func excelTime(t interface{ IsZero() bool }) any {
	if t.IsZero() {
		return ""
	}
	return t
}

func putRows(f *excelize.File, sheet string, rows [][]any) error {
	style, err := f.NewStyle(&excelize.Style{NumFmt: 22})
	if err != nil {
		return err
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow(sheet, cell, &r); err != nil {
			return err
		}
		for j, v := range r {
			if _, ok := v.(interface{ IsZero() bool }); ok && i > 0 {
				c, _ := excelize.CoordinatesToCellName(j+1, i+1)
				_ = f.SetCellStyle(sheet, c, c, style)
			}
		}
	}
	return f.SetPanes(sheet, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"})
}

package main

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// manCommand writes the manual pages, one per command, for packaging (a release's
// archives carry them; see .goreleaser.yaml).
func (a *app) manCommand() *cobra.Command {
	return &cobra.Command{
		Use:    "man DIR",
		Short:  "Write the manual pages (section 1) into DIR",
		Args:   cobra.ExactArgs(1),
		Hidden: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return exitf(exitUsage, err.Error())
			}
			date := manDate(a.getenv("SOURCE_DATE_EPOCH"))
			h := &doc.GenManHeader{Title: "YCM-ONBOARD", Section: "1", Source: "ycm-onboard " + readBuildInfo().Version,
				Manual: "ycm-onboard manual", Date: &date}
			root := cmd.Root()
			root.DisableAutoGenTag = true
			if err := doc.GenManTree(root, h, dir); err != nil {
				return exitf(exitUsage, fmt.Sprintf("write the manual pages: %v", err))
			}
			return nil
		},
	}
}

// manDate is the date the pages carry: SOURCE_DATE_EPOCH when set (reproducible
// builds), else the commit's time, else today.
func manDate(epoch string) time.Time {
	if s, err := strconv.ParseInt(epoch, 10, 64); err == nil {
		return time.Unix(s, 0).UTC()
	}
	if t, err := time.Parse(time.RFC3339, readBuildInfo().Built); err == nil {
		return t.UTC()
	}
	return time.Now().UTC()
}

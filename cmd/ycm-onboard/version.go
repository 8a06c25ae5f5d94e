package main

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// buildInfo is what a binary says of itself: the version it was built as (-ldflags),
// else the module's, and the commit and time the Go toolchain recorded.
type buildInfo struct {
	Version  string `json:"version"`
	Commit   string `json:"commit,omitempty"`
	Modified bool   `json:"modified,omitempty"` // built from a work tree with changes
	Built    string `json:"commit_time,omitempty"`
	Go       string `json:"go"`
	Platform string `json:"platform"`
}

// commit and commitTime are set at build time (-ldflags "-X main.commit=…") by builds
// that do not record the repository themselves, like a release's (.goreleaser.yaml).
var commit, commitTime string

func readBuildInfo() buildInfo {
	b := buildInfo{Version: version, Commit: commit, Built: commitTime, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if b.Version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			b.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				b.Commit = s.Value
			case "vcs.time":
				b.Built = s.Value
			case "vcs.modified":
				b.Modified = s.Value == "true"
			}
		}
	}
	return b
}

func (a *app) versionCommand() *cobra.Command {
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version, the commit it was built from and the platform",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b := readBuildInfo()
			if jsonOut {
				return json.NewEncoder(a.stdout).Encode(b)
			}
			fmt.Fprintf(a.stdout, "ycm-onboard %s", b.Version)
			if b.Commit != "" {
				fmt.Fprintf(a.stdout, " (commit %.12s", b.Commit)
				if b.Modified {
					fmt.Fprint(a.stdout, ", with changes")
				}
				if b.Built != "" {
					fmt.Fprintf(a.stdout, ", %s", b.Built)
				}
				fmt.Fprint(a.stdout, ")")
			}
			fmt.Fprintf(a.stdout, " %s %s\n", b.Go, b.Platform)
			return nil
		},
	}
	cmd.Flags().BoolVar(&jsonOut, "json", false, "print it as JSON")
	return cmd
}

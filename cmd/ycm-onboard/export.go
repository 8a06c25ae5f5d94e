package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/spf13/cobra"

	"github.com/ycm-onboard/ycm-onboard/importer"
	"github.com/ycm-onboard/ycm-onboard/internal/place"
	"github.com/ycm-onboard/ycm-onboard/internal/words"
	"github.com/ycm-onboard/ycm-onboard/job"
)

func (a *app) templateCommand() *cobra.Command {
	var (
		pf      portalFlags
		out     string
		offline bool
		force   bool
	)
	cmd := &cobra.Command{
		Use:   "template",
		Short: "Write a workbook ready to fill: both sheets, drop-down lists from the portal, hints",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.portalConfig(cmd, &pf); err != nil {
				return err
			}
			if err := refuseExisting(out, force); err != nil {
				return err // before the portal is read: the filled-in sheet is safe
			}
			var cat importer.Catalog
			if !offline {
				c, err := a.connect(pf)
				if err != nil {
					return err
				}
				defer c.close()
				actual, err := a.readPortal(cmd.Context(), c)
				if err != nil {
					return err
				}
				cat = job.Catalog(actual)
			}
			_, err := a.writeWorkbook(out, force, false, func(w io.Writer) error { return importer.WriteTemplate(w, cat) })
			return err
		},
	}
	addPortalFlags(cmd.Flags(), &pf)
	cmd.Flags().StringVar(&out, "out", "ycm-onboard-template.xlsx", "the workbook to write (an existing one is kept unless --force)")
	cmd.Flags().BoolVar(&force, "force", false, "replace --out if it exists")
	cmd.Flags().BoolVar(&offline, "offline", false, "without the portal: no permission, owner or PBX lists")
	return cmd
}

func (a *app) exportCommand() *cobra.Command {
	var (
		pf    portalFlags
		out   string
		force bool
	)
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write the portal's colleagues and PBXs as an input workbook, to edit in bulk and plan again",
		Long: `Write the portal's colleagues and cloud PBXs as an input workbook. Planned again
unchanged it shows no change (except re-invitations of expired activation links, which
--no-reinvite leaves out): edit it and plan it to change the portal in bulk.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.portalConfig(cmd, &pf); err != nil {
				return err
			}
			unique := out == ""                                // the default name: a run in the same second gets -2
			if err := refuseExisting(out, force); err != nil { // "" (the default) never exists
				return err
			}
			c, err := a.connect(pf)
			if err != nil {
				return err
			}
			defer c.close()
			actual, err := a.readPortal(cmd.Context(), c)
			if err != nil {
				return err
			}
			cols, insts := job.Export(actual)
			if unique {
				out = "ycm-onboard-export-" + a.now().UTC().Format("20060102T150405Z") + ".xlsx"
			}
			if _, err := a.writeWorkbook(out, force, unique, func(w io.Writer) error { return importer.WriteExport(w, cols, insts) }); err != nil {
				return err
			}
			fmt.Fprintf(a.stderr, "ycm-onboard: %s and %s exported\n", words.Count(len(cols), "colleague"), words.Count(len(insts), "PBX"))
			return nil
		},
	}
	addPortalFlags(cmd.Flags(), &pf)
	cmd.Flags().StringVar(&out, "out", "", "the workbook to write (default ycm-onboard-export-<UTC time>.xlsx); an existing one is kept unless --force")
	cmd.Flags().BoolVar(&force, "force", false, "replace --out if it exists")
	return cmd
}

// writeWorkbook writes a workbook through place.Write. It replaces an existing file only
// when forced; a unique (default) name that is taken gets -2, -3... It returns the path
// written.
func (a *app) writeWorkbook(path string, force, unique bool, write func(io.Writer) error) (string, error) {
	taken := place.Refuse
	switch {
	case force:
		taken = place.Replace
	case unique:
		taken = place.Number
	}
	got, err := place.Write(path, taken, write)
	if taken == place.Refuse && errors.Is(err, fs.ErrExist) {
		return "", existsErr(path)
	}
	if err != nil {
		return "", exitf(exitUsage, "cannot write "+path+": "+err.Error())
	}
	fmt.Fprintln(a.stderr, "ycm-onboard: wrote "+got)
	return got, nil
}

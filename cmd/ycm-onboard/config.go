package main

import (
	"github.com/spf13/cobra"

	"github.com/ycm-onboard/ycm-onboard/config"
)

// applyConfig sets every flag the command line did not set from the configuration
// file: flags override the file, the file overrides the defaults.
func (a *app) applyConfig(cmd *cobra.Command, f *runFlags) error {
	if a.configPath == "" {
		return nil
	}
	c, err := config.Load(a.configPath)
	if err != nil {
		return exitf(exitUsage, err.Error())
	}
	fs := cmd.Flags()
	set := func(name string, apply func()) {
		if fs.Lookup(name) != nil && !fs.Changed(name) {
			apply()
		}
	}
	str := func(name string, dst *string, v *string) {
		if v != nil {
			set(name, func() { *dst = *v })
		}
	}
	if !fs.Changed("portal") { // --portal points both APIs elsewhere
		str("partner-url", &f.portal.partnerURL, c.PartnerURL)
		str("ycm-url", &f.portal.ycmURL, c.YCMURL)
	}
	str("report-dir", &f.reportDir, c.ReportDir)
	str("state-dir", &f.hist.stateDir, c.StateDir)
	if c.Concurrency != nil {
		set("concurrency", func() { f.concurrency = *c.Concurrency })
	}
	if c.Rate != nil {
		set("rate", func() { f.portal.rate = *c.Rate })
	}
	if c.MaxDelete != nil {
		set("max-delete", func() { f.diff.MaxDelete = *c.MaxDelete })
	}
	if c.MaxDeletePercent != nil {
		set("max-delete-percent", func() { f.diff.MaxDeletePercent = *c.MaxDeletePercent })
	}
	if c.AllowShrink != nil {
		set("allow-shrink", func() { f.diff.AllowShrink = *c.AllowShrink })
	}
	if c.Prune != nil {
		set("prune", func() { f.diff.Prune = *c.Prune })
	}
	if c.NoReinvite != nil {
		set("no-reinvite", func() { f.diff.NoReinvite = *c.NoReinvite })
	}
	if c.KeepReports != nil {
		set("keep-reports", func() { f.hist.keepReports = *c.KeepReports })
	}
	if c.LockTimeout != nil {
		set("lock-timeout", func() { f.hist.lockTimeout = *c.LockTimeout })
	}
	for _, e := range []struct {
		dst *string
		v   *string
	}{{&f.portal.partnerIDEnv, c.PartnerClientIDEnv}, {&f.portal.partnerSecretEnv, c.PartnerClientSecretEnv},
		{&f.portal.ycmIDEnv, c.YCMClientIDEnv}, {&f.portal.ycmSecretEnv, c.YCMClientSecretEnv}} {
		if e.v != nil {
			*e.dst = *e.v
		}
	}
	return nil
}

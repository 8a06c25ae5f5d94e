package main

import (
	"fmt"
	"math"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ycm-onboard/ycm-onboard/config"
	"github.com/ycm-onboard/ycm-onboard/reconcile"
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

// check refuses values the configuration file would refuse too, naming the flag, once
// flags and file are merged (so a value from the file is named by its flag as well).
// A flag's 0 may mean "none" where the file simply leaves the key out.
func (f *runFlags) check(fs *pflag.FlagSet, apply bool) error {
	var errs []string
	bad := func(flag, format string, v ...any) {
		errs = append(errs, fmt.Sprintf("--%s %s", flag, fmt.Sprintf(format, v...)))
	}
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	if apply && (f.concurrency < 1 || f.concurrency > reconcile.MaxConcurrency) {
		bad("concurrency", "%d: give 1 to %d", f.concurrency, reconcile.MaxConcurrency)
	}
	if f.portal.rate < 0 || !finite(f.portal.rate) {
		bad("rate", "%g: give 0 (no cap) or more requests per second", f.portal.rate)
	}
	if f.portal.timeout <= 0 {
		bad("timeout", "%s: give a time above zero, such as 30s", f.portal.timeout)
	}
	if f.diff.MaxDelete < 0 {
		bad("max-delete", "%d: give 0 or more", f.diff.MaxDelete)
	}
	if p := f.diff.MaxDeletePercent; p < 0 || p > 100 || !finite(p) {
		bad("max-delete-percent", "%g: give 0 to 100", p)
	}
	if f.diff.ExtensionPool < 0 {
		bad("extension-pool", "%d: give 0 (not checked) or more", f.diff.ExtensionPool)
	}
	if f.hist.keepReports < 0 {
		bad("keep-reports", "%d: give 0 (keep every report) or more", f.hist.keepReports)
	}
	if f.hist.lockTimeout < 0 {
		bad("lock-timeout", "%s: give 0 (do not wait) or more", f.hist.lockTimeout)
	}
	if strings.TrimSpace(f.reportDir) == "" {
		bad("report-dir", "is empty: give a directory, or leave it out for the current one")
	}
	if fs.Changed("state-dir") && strings.TrimSpace(f.hist.stateDir) == "" {
		bad("state-dir", "is empty: give a directory, or leave it out for the default")
	}
	if apply {
		if f.canary < 0 {
			bad("canary", "%d: give 0 (no canary) or more changes", f.canary)
		}
		if p := f.canaryFail; p < 0 || p > 100 || !finite(p) {
			bad("canary-max-fail", "%g: give 0 to 100", p)
		}
	}
	if len(errs) > 0 {
		return exitf(exitUsage, strings.Join(errs, "; "))
	}
	return nil
}

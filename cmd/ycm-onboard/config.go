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

// loadConfig reads --config; without one it returns nil.
func (a *app) loadConfig() (*config.Config, error) {
	if a.configPath == "" {
		return nil, nil
	}
	c, err := config.Load(a.configPath)
	if err != nil {
		return nil, exitf(exitUsage, err.Error())
	}
	return &c, nil
}

// setter sets a flag's value from the configuration file unless the command line set it
// (or the command has no such flag).
type setter struct{ fs *pflag.FlagSet }

func (s setter) set(name string, apply func()) {
	if s.fs.Lookup(name) != nil && !s.fs.Changed(name) {
		apply()
	}
}

func (s setter) str(name string, dst *string, v *string) {
	if v != nil {
		s.set(name, func() { *dst = *v })
	}
}

// fromConfig sets the portal settings the command line did not set from the file: the
// two URLs, the rate and the names of the credentials' variables.
func (pf *portalFlags) fromConfig(fs *pflag.FlagSet, c *config.Config) {
	if c == nil {
		return
	}
	s := setter{fs}
	if !fs.Changed("portal") { // --portal points both APIs elsewhere
		s.str("partner-url", &pf.partnerURL, c.PartnerURL)
		s.str("ycm-url", &pf.ycmURL, c.YCMURL)
	}
	if c.Rate != nil {
		s.set("rate", func() { pf.rate = *c.Rate })
	}
	for _, e := range []struct {
		dst *string
		v   *string
	}{{&pf.partnerIDEnv, c.PartnerClientIDEnv}, {&pf.partnerSecretEnv, c.PartnerClientSecretEnv},
		{&pf.ycmIDEnv, c.YCMClientIDEnv}, {&pf.ycmSecretEnv, c.YCMClientSecretEnv}} {
		if e.v != nil {
			*e.dst = *e.v
		}
	}
}

// check names the portal flags whose values would be refused.
func (pf *portalFlags) check() []string {
	var errs []string
	if pf.rate < 0 || !finite(pf.rate) {
		errs = append(errs, fmt.Sprintf("--rate %g: give 0 (no cap) or more requests per second", pf.rate))
	}
	if pf.timeout <= 0 {
		errs = append(errs, fmt.Sprintf("--timeout %s: give a time above zero, such as 30s", pf.timeout))
	}
	return errs
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// portalConfig is the configuration of the commands that only read the portal (validate,
// template, export): the portal settings from --config under the flags, then checked.
func (a *app) portalConfig(cmd *cobra.Command, pf *portalFlags) error {
	c, err := a.loadConfig()
	if err != nil {
		return err
	}
	pf.fromConfig(cmd.Flags(), c)
	if errs := pf.check(); len(errs) > 0 {
		return exitf(exitUsage, strings.Join(errs, "; "))
	}
	return nil
}

// applyConfig sets every flag the command line did not set from the configuration
// file: flags override the file, the file overrides the defaults.
func (a *app) applyConfig(cmd *cobra.Command, f *runFlags) error {
	c, err := a.loadConfig()
	if err != nil || c == nil {
		return err
	}
	fs := cmd.Flags()
	f.portal.fromConfig(fs, c)
	set, str := setter{fs}.set, setter{fs}.str
	str("report-dir", &f.reportDir, c.ReportDir)
	str("state-dir", &f.hist.stateDir, c.StateDir)
	str("metrics-file", &f.metricsFile, c.MetricsFile)
	f.notify = c.Notify
	if c.RequireApproval != nil {
		f.approval = *c.RequireApproval
	}
	if c.Concurrency != nil {
		set("concurrency", func() { f.concurrency = *c.Concurrency })
	}
	if c.MaxDelete != nil {
		set("max-delete", func() { f.diff.MaxDelete = *c.MaxDelete })
	}
	if c.MaxReinvites != nil {
		set("max-reinvites", func() { f.diff.MaxReinvites = *c.MaxReinvites })
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
	if apply && (f.concurrency < 1 || f.concurrency > reconcile.MaxConcurrency) {
		bad("concurrency", "%d: give 1 to %d", f.concurrency, reconcile.MaxConcurrency)
	}
	errs = append(errs, f.portal.check()...)
	if f.diff.MaxDelete < 0 {
		bad("max-delete", "%d: give 0 or more", f.diff.MaxDelete)
	}
	if f.diff.MaxReinvites < 0 {
		bad("max-reinvites", "%d: give 0 (no limit) or more", f.diff.MaxReinvites)
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

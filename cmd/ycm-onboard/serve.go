package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/ycm-onboard/ycm-onboard/web"
)

// The demo world's accounts: named on its sign-in page, never created elsewhere.
var demoAccounts = []web.DemoAccount{
	{Name: "demo-uploader", Password: "demo-uploader-password", Role: "uploader"},
	{Name: "demo-approver", Password: "demo-approver-password", Role: "approver"},
}

func (a *app) serveCommand() *cobra.Command {
	var (
		f                 runFlags
		addr              string
		certFile, keyFile string
		idle              time.Duration
		workDir           string
		maxUpload         int64
		proxies           []string
		keepUploads       int
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the account managers' page: upload a workbook, see the plan, apply, download the report",
		Long: `Serve the account managers' page on --addr. People sign in with the accounts of
"ycm-onboard users"; uploaders upload and plan, approvers also apply. Every run is the
same job as the command line's: same checks, plan, guards, run history, lock and report.

With no portal configured it serves the built-in simulator's demo world, with a demo
uploader and a demo approver named on its sign-in page.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.applyConfig(cmd, &f); err != nil {
				return err
			}
			if err := f.check(cmd.Flags(), true); err != nil {
				return err
			}
			if maxUpload < 1 {
				return exitf(exitUsage, fmt.Sprintf("--max-upload %d: give 1 or more megabytes", maxUpload))
			}
			var trusted []netip.Prefix
			for _, p := range proxies {
				pr, err := netip.ParsePrefix(p)
				if err != nil {
					a, aerr := netip.ParseAddr(p)
					if aerr != nil {
						return exitf(exitUsage, fmt.Sprintf("--trusted-proxy %q: give an address (10.0.0.5) or a range (10.0.0.0/8)", p))
					}
					pr = netip.PrefixFrom(a, a.BitLen())
				}
				trusted = append(trusted, pr)
			}
			if keepUploads < 1 {
				return exitf(exitUsage, fmt.Sprintf("--keep-uploads %d: give 1 or more days", keepUploads))
			}
			if (certFile == "") != (keyFile == "") {
				return exitf(exitUsage, "give both --tls-cert and --tls-key, or neither")
			}
			if f.hist.stateDir != "" {
				f.portal.noDemo = "--state-dir keeps a real portal's run history and accounts, and the demo world's are never kept: " +
					"drop --state-dir to try the demo, or set --partner-url and --ycm-url for the real portal"
			}
			c, err := a.connect(f.portal)
			if err != nil {
				return err
			}
			defer c.close()
			dir, cleanup, err := a.runStateDir(f.hist, c.embedded)
			if err != nil {
				return exitf(exitUsage, err.Error())
			}
			defer cleanup()
			if workDir == "" {
				workDir = filepath.Join(dir, "uploads")
			}
			cfg := web.Config{Partner: c.partner, YCM: c.ycm, PartnerURL: c.partnerURL, YCMURL: c.ycmURL,
				StateDir: dir, WorkDir: workDir, Diff: f.diff, Concurrency: f.concurrency, LockTimeout: f.hist.lockTimeout,
				Secure: certFile != "", IdleTimeout: idle, MaxUpload: maxUpload << 20, TrustedProxies: trusted,
				KeepUploads: time.Duration(keepUploads) * 24 * time.Hour, Version: version, Log: a.log, Now: a.now}
			if c.embedded {
				cfg.DemoAccounts = demoAccounts
			}
			s, err := web.New(cfg)
			if err != nil {
				return exitf(exitUsage, err.Error())
			}
			defer s.Close()
			ctx := cmd.Context()
			if c.embedded {
				if err := s.AddDemoAccounts(ctx); err != nil {
					return exitf(exitUsage, err.Error())
				}
			} else if ok, err := s.HasAdmin(ctx); err == nil && !ok {
				fmt.Fprintf(a.stderr, "ycm-onboard: no account can sign in yet: make the first admin with\n  ycm-onboard users add NAME --role admin --state-dir %s\n", dir)
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return exitf(exitUsage, fmt.Sprintf("cannot listen on %s: %v", addr, err))
			}
			scheme := "http"
			if certFile != "" {
				scheme = "https"
			}
			srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 5 * time.Minute}
			fmt.Fprintf(a.stderr, "ycm-onboard: serving the page at %s://%s\n", scheme, ln.Addr())
			a.log.Info().Str("addr", scheme+"://"+ln.Addr().String()).Msg("serving the account managers' page")
			stop := context.AfterFunc(ctx, func() {
				sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_ = srv.Shutdown(sctx)
			})
			defer stop()
			if certFile != "" {
				err = srv.ServeTLS(ln, certFile, keyFile)
			} else {
				err = srv.Serve(ln)
			}
			if err != nil && !errors.Is(err, http.ErrServerClosed) {
				return exitf(exitFatal, err.Error())
			}
			return nil
		},
	}
	fs := cmd.Flags()
	f.add(fs, true)
	fs.StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&certFile, "tls-cert", "", "serve HTTPS with this certificate (PEM); cookies are then Secure")
	fs.StringVar(&keyFile, "tls-key", "", "the certificate's private key (PEM)")
	fs.DurationVar(&idle, "idle-timeout", 30*time.Minute, "sign out a session unused this long")
	fs.Int64Var(&maxUpload, "max-upload", 20, "megabytes one upload may hold in all")
	fs.StringSliceVar(&proxies, "trusted-proxy", nil, "a reverse proxy's address or range: its X-Forwarded-For/-Proto/-Host are believed (cookies Secure behind an HTTPS proxy)")
	fs.IntVar(&keepUploads, "keep-uploads", 7, "days to keep uploads and their reports")
	fs.StringVar(&workDir, "work-dir", "", "where uploads and their reports are kept (default: uploads in the state directory)")
	// The run flags a page has no use for: each upload picks its files and gets its report.
	for _, name := range []string{"plan", "canary", "canary-max-fail", "yes", "json", "report", "report-dir",
		"keep-reports", "strict", "3cx", "pbx", "headroom"} {
		_ = fs.MarkHidden(name)
	}
	return cmd
}

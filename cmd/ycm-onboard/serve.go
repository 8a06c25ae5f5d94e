package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ycm-onboard/ycm-onboard/job"
	"github.com/ycm-onboard/ycm-onboard/metrics"
	"github.com/ycm-onboard/ycm-onboard/state"
	"github.com/ycm-onboard/ycm-onboard/web"
)

// The demo world's accounts: named on its sign-in page, never created elsewhere.
// shutdownWait bounds how long serve waits, on a signal, for the requests in flight:
// an approval applied within its request stops sending at once and finishes its calls
// within the apply's grace period (10 s), then writes its report.
const shutdownWait = time.Minute

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
		metricsAddr       string
		sso               ssoFlags
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the account managers' page: upload a workbook, see the plan, apply, download the report",
		Long: `Serve the account managers' page on --addr. People sign in with the accounts of
"ycm-onboard users"; uploaders upload and plan, approvers also apply. Every run is the
same job as the command line's: same checks, plan, guards, run history, lock and report.
The receivers under notify: in --config hear of the page's applies, proposals,
approvals and refusals, naming who signed in.

With no portal configured it serves the built-in simulator's demo world, with a demo
uploader and a demo approver named on its sign-in page.

With --oidc-issuer, people may also sign in with their company account (OpenID
Connect): --oidc-role and --oidc-domain give them a role at each sign-in. Register
https://HOST/oidc/callback with the provider.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.applyConfig(cmd, &f); err != nil {
				return err
			}
			if err := f.check(cmd.Flags(), true); err != nil {
				return err
			}
			// As for plan and apply: a receiver whose secret is not set refuses to serve.
			rs, err := a.receivers(f.notify, a.notifyRoots)
			if err != nil {
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
			oidcCfg, err := sso.config(a.getenv)
			if err != nil {
				return err
			}
			m := metrics.New(metrics.Options{Runtime: true, Modes: []job.Mode{job.Plan, job.Apply}})
			f.portal.observe = m.Response
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
				StateDir: dir, WorkDir: workDir, Diff: f.diff, Approval: f.approval, Concurrency: f.concurrency, LockTimeout: f.hist.lockTimeout,
				Secure: certFile != "", IdleTimeout: idle, MaxUpload: maxUpload << 20, TrustedProxies: trusted,
				KeepUploads: time.Duration(keepUploads) * 24 * time.Hour, Version: version, Log: a.log, Now: a.now,
				Ran:    func(mode job.Mode, out job.Outcome, err error) { m.Run(mode, endingOf(err), out, a.now()) },
				Notify: rs}
			cfg.Host, _ = os.Hostname()
			if c.embedded {
				cfg.DemoAccounts = demoAccounts
			}
			cfg.OIDC = oidcCfg
			s, err := web.New(cfg)
			if err != nil {
				return exitf(exitUsage, err.Error())
			}
			defer s.Close()
			m.Invitations(s.Invitations, a.now)
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
			if metricsAddr != "" {
				stop, err := a.serveMetrics(metricsAddr, m)
				if err != nil {
					ln.Close()
					return err
				}
				defer stop()
			}
			scheme := "http"
			if certFile != "" {
				scheme = "https"
			}
			srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 5 * time.Minute}
			fmt.Fprintf(a.stderr, "ycm-onboard: serving the page at %s://%s\n", scheme, ln.Addr())
			a.log.Info().Str("addr", scheme+"://"+ln.Addr().String()).Msg("serving the account managers' page")
			// On a signal the runs in flight stop sending (each finishes its calls and
			// writes its report), then the requests in flight get shutdownWait to end;
			// an approval applied within its request is one. Serve returns at once, so
			// the shutdown is waited for before Close.
			shut := make(chan struct{})
			stop := context.AfterFunc(ctx, func() {
				defer close(shut)
				s.Stop()
				sctx, cancel := context.WithTimeout(context.Background(), shutdownWait)
				defer cancel()
				if srv.Shutdown(sctx) != nil {
					_ = srv.Close() // past the wait: the requests still open are cut
				}
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
			<-shut
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
	fs.StringVar(&metricsAddr, "metrics-addr", "", "serve Prometheus metrics at http://ADDR/metrics, on a listener of their own without sign-in (e.g. 127.0.0.1:9464; default: none)")
	sso.add(fs)
	// The run flags a page has no use for: each upload picks its files and gets its report.
	for _, name := range []string{"plan", "canary", "canary-max-fail", "yes", "json", "report", "report-dir",
		"keep-reports", "strict", "3cx", "pbx", "headroom", "metrics-file"} {
		_ = fs.MarkHidden(name)
	}
	return cmd
}

// serveMetrics serves m at http://addr/metrics until stop is called. It is
// a listener of its own rather than a route of the page: a scraper cannot sign in, and
// the page's sign-in, sessions and tokens stay as they are. The figures hold no
// secret and no e-mail, only counts, but they say how runs went: bound beyond this
// machine, that is said.
func (a *app) serveMetrics(addr string, m *metrics.Metrics) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, exitf(exitUsage, fmt.Sprintf("--metrics-addr: cannot listen on %s: %v", addr, err))
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
	if beyondLoopback(ln.Addr().String()) {
		a.log.Warn().Str("addr", ln.Addr().String()).Msg("metrics are served beyond this machine without sign-in: they hold counts only, no secret or e-mail; restrict who can reach the port")
	}
	fmt.Fprintf(a.stderr, "ycm-onboard: serving metrics at http://%s/metrics\n", ln.Addr())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error().Err(err).Msg("the metrics listener stopped")
		}
	})
	shutdown := func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}
	// Stopped by the caller, after the page has drained: scrapes go on meanwhile.
	return func() {
		shutdown()
		wg.Wait()
	}, nil
}

// ssoFlags are serve's single sign-on flags (web.OIDC). The client id and secret are
// read from environment variables the flags name, so the secret is in no command line,
// shell history or process list, and it is never printed.
type ssoFlags struct {
	issuer, idEnv, secretEnv, redirect, groupsClaim string
	scopes, roles, domains                          []string
}

func (f *ssoFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&f.issuer, "oidc-issuer", "", "offer \"Sign in with your company account\" through this OpenID Connect issuer (e.g. https://accounts.google.com)")
	fs.StringVar(&f.idEnv, "oidc-client-id-env", "", "the environment variable holding the OpenID Connect client id")
	fs.StringVar(&f.secretEnv, "oidc-client-secret-env", "", "the environment variable holding the OpenID Connect client secret")
	fs.StringVar(&f.redirect, "oidc-redirect-url", "", "the redirect URL registered with the provider (default: the page's own https://HOST/oidc/callback)")
	fs.StringVar(&f.groupsClaim, "oidc-groups-claim", "groups", "the ID token claim listing the person's groups")
	fs.StringSliceVar(&f.scopes, "oidc-scope", nil, "scopes to ask for (default openid,email,profile; add groups where the provider puts groups behind a scope, as Okta can)")
	fs.StringArrayVar(&f.roles, "oidc-role", nil, "GROUP=ROLE: members of GROUP get ROLE (uploader, approver or admin); repeatable")
	fs.StringArrayVar(&f.domains, "oidc-domain", nil, "DOMAIN=ROLE: verified addresses @DOMAIN get ROLE; repeatable")
}

// config is the web.OIDC the flags ask for, nil without --oidc-issuer.
func (f *ssoFlags) config(getenv func(string) string) (*web.OIDC, error) {
	if f.issuer == "" {
		if f.idEnv != "" || f.secretEnv != "" || len(f.roles) > 0 || len(f.domains) > 0 || f.redirect != "" {
			return nil, exitf(exitUsage, "the --oidc-* flags need --oidc-issuer")
		}
		return nil, nil
	}
	if f.idEnv == "" || f.secretEnv == "" {
		return nil, exitf(exitUsage, "--oidc-issuer needs --oidc-client-id-env and --oidc-client-secret-env (the names of the environment variables holding them)")
	}
	id, secret := getenv(f.idEnv), getenv(f.secretEnv)
	if id == "" {
		return nil, exitf(exitUsage, fmt.Sprintf("--oidc-client-id-env %s: the variable %s is empty or not set", f.idEnv, f.idEnv))
	}
	if secret == "" {
		return nil, exitf(exitUsage, fmt.Sprintf("--oidc-client-secret-env %s: the variable %s is empty or not set", f.secretEnv, f.secretEnv))
	}
	o := &web.OIDC{Issuer: f.issuer, ClientID: id, ClientSecret: secret, RedirectURL: f.redirect,
		GroupsClaim: f.groupsClaim, Scopes: f.scopes, Groups: map[string]state.Role{}, Domains: map[string]state.Role{}}
	for _, rule := range []struct {
		flag  string
		given []string
		into  map[string]state.Role
	}{{"--oidc-role", f.roles, o.Groups}, {"--oidc-domain", f.domains, o.Domains}} {
		for _, g := range rule.given {
			k, v, ok := strings.Cut(g, "=")
			role, err := state.ParseRole(v)
			if !ok || strings.TrimSpace(k) == "" || err != nil {
				return nil, exitf(exitUsage, fmt.Sprintf("%s %q: give NAME=ROLE, ROLE one of uploader, approver, admin", rule.flag, g))
			}
			rule.into[strings.TrimSpace(k)] = role
		}
	}
	if len(o.Groups) == 0 && len(o.Domains) == 0 {
		return nil, exitf(exitUsage, "--oidc-issuer needs at least one --oidc-role GROUP=ROLE or --oidc-domain DOMAIN=ROLE: with none, nobody could sign in with a company account")
	}
	return o, nil
}

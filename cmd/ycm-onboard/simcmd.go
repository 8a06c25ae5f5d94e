package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ycm-onboard/ycm-onboard/portal/sim"
)

func (a *app) simCommand() *cobra.Command {
	var (
		addr    string
		dialect string
		opts    sim.Options
	)
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Serve the Partner Portal and YCM simulator (demo world) on one address",
		Long: `Serve the Partner Portal and YCM simulator on one address, holding the demo world.

Demo credentials: partner client demo-partner / demo-secret, YCM client demo-ycm /
demo-secret. Point a run at it with --portal http://ADDR. The admin API under /_sim/
reads and advances the clock, lists the activation e-mails sent, sets faults and
shows request statistics (see docs/wire.md).

--dialect picks the wire shapes where Yeastar's guides are silent: a preset,
then key=value overrides, e.g. "legacy,create=true" or "ids=number,partners=page".
Presets: ` + dialectNames() + `.
The default is documented; docs/wire.md lists the keys and their values.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := sim.ParseDialect(dialect)
			if err != nil {
				return exitf(exitUsage, "--dialect: "+err.Error())
			}
			opts.Dialect = d
			opts.Logger = a.log
			s, err := sim.New(opts)
			if err != nil {
				return exitf(exitUsage, err.Error())
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return exitf(exitUsage, fmt.Sprintf("cannot listen on %s: %v", addr, err))
			}
			if beyondLoopback(ln.Addr().String()) {
				fmt.Fprintf(a.stderr, "ycm-onboard: warning: the simulator listens on %s, beyond this machine: anyone who reaches it can use its admin API (/_sim/: faults, clock, state) without a password; use 127.0.0.1 unless that is what you want\n", ln.Addr())
			}
			srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
			a.log.Info().Str("addr", "http://"+ln.Addr().String()).Str("dialect", d.String()).
				Msg("simulator serving the Partner Portal and YCM APIs")
			ctx := cmd.Context()
			stop := context.AfterFunc(ctx, func() {
				sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = srv.Shutdown(sctx)
			})
			defer stop()
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return exitf(exitFatal, err.Error())
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.DurationVar(&opts.TokenTTL, "token-ttl", 30*time.Minute, "access token lifetime")
	fs.StringVar(&opts.StatePath, "state", "", "keep the world in this JSON file across restarts")
	fs.StringVar(&dialect, "dialect", "documented", "wire shapes where the guides are silent: a preset, then key=value overrides")
	fs.DurationVar(&opts.Faults.Latency, "latency", 0, "latency added to every API request")
	fs.DurationVar(&opts.Faults.Jitter, "jitter", 0, "random latency added on top, up to this")
	fs.Float64Var(&opts.Faults.ErrorRate, "error-rate", 0, "fraction of requests answered 5xx")
	fs.Float64Var(&opts.Faults.DropBeforeWriteRate, "drop-before-write-rate", 0, "fraction of writes whose connection drops before they take effect")
	fs.Float64Var(&opts.Faults.DropAfterWriteRate, "drop-after-write-rate", 0, "fraction of writes whose connection drops after they take effect")
	fs.Float64Var(&opts.Faults.ThrottleRate, "throttle-rate", 0, "requests per second per API, refilled smoothly, before refusing (0: no limit)")
	fs.IntVar(&opts.Faults.ThrottleBurst, "throttle-burst", 10, "throttle bucket size; the bucket starts full")
	fs.IntVar(&opts.Faults.ThrottleLump, "throttle-lump", 0, "requests added at once every --throttle-every (YCM's kind of limit; instead of --throttle-rate)")
	fs.DurationVar(&opts.Faults.ThrottleEvery, "throttle-every", 0, "interval of the --throttle-lump refills, e.g. 3m (0: no lumps)")
	return cmd
}

// dialectNames lists the simulator's named dialects, for the help.
func dialectNames() string {
	var names []string
	for _, n := range sim.Dialects() {
		names = append(names, n.Name)
	}
	return strings.Join(names, ", ")
}

// beyondLoopback reports whether a listening address is reachable from other machines.
func beyondLoopback(addr string) bool {
	ap, err := netip.ParseAddrPort(addr)
	return err != nil || !ap.Addr().IsLoopback()
}

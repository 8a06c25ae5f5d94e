package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/ycm-onboard/ycm-onboard/job"
	"github.com/ycm-onboard/ycm-onboard/portal"
	"github.com/ycm-onboard/ycm-onboard/portal/sim"
	"github.com/ycm-onboard/ycm-onboard/reconcile"
)

// Credentials come from these environment variables, never from flags or files.
const (
	envPartnerID     = "YCM_PARTNER_CLIENT_ID"
	envPartnerSecret = "YCM_PARTNER_CLIENT_SECRET"
	envYCMID         = "YCM_CLIENT_ID"
	envYCMSecret     = "YCM_CLIENT_SECRET"
)

type portalFlags struct {
	portal     string
	partnerURL string
	ycmURL     string
	rate       float64
	timeout    time.Duration
	insecure   bool // --insecure-http
	attempts   int  // tries per call, when a command wants fewer than the client's default
	// The environment variables holding the credentials (a configuration file may rename them).
	partnerIDEnv, partnerSecretEnv, ycmIDEnv, ycmSecretEnv string
	noDemo                                                 string // why the built-in demo simulator must not run here, if it must not

	observe func(api string, status int, throttled bool) // told of every request (the metrics), if set
}

// addPortalFlags adds the flags of every command that reads the portal; --config may
// set them too (see portalFlags.fromConfig).
func addPortalFlags(fs *pflag.FlagSet, pf *portalFlags) {
	fs.StringVar(&pf.portal, "portal", "", "base URL serving both APIs (a simulator)")
	fs.StringVar(&pf.partnerURL, "partner-url", "", "Partner Portal API base URL, e.g. https://openapi.partner.yeastar.com")
	fs.StringVar(&pf.ycmURL, "ycm-url", "", "YCM API base URL")
	fs.Float64Var(&pf.rate, "rate", 0, "requests per second per API at most (0: as fast as the portal allows)")
	fs.DurationVar(&pf.timeout, "timeout", 30*time.Second, "per-request timeout")
	fs.BoolVar(&pf.insecure, "insecure-http", false, "allow a plain http:// portal URL to another machine: the secret and tokens then cross the network unencrypted")
}

// unset reports whether no portal is configured: the built-in simulator is used.
func (pf portalFlags) unset() bool {
	return pf.portal == "" && pf.partnerURL == "" && pf.ycmURL == ""
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// conn is the two clients of a run and what to say about them.
type conn struct {
	partner    *portal.PartnerClient
	ycm        *portal.YCMClient
	partnerURL string
	ycmURL     string
	embedded   bool
	close      func()
}

// portalSummary says in the --json summary which portal a run used.
type portalSummary struct {
	Simulator  bool   `json:"simulator,omitempty"` // the built-in demo world
	PartnerURL string `json:"partner_url,omitempty"`
	YCMURL     string `json:"ycm_url,omitempty"`
}

func (c *conn) summary() portalSummary {
	if c.embedded {
		return portalSummary{Simulator: true}
	}
	return portalSummary{PartnerURL: c.partnerURL, YCMURL: c.ycmURL}
}

// connect returns clients for the configured portal, or for an embedded simulator
// holding the demo world when none is configured.
func (a *app) connect(pf portalFlags) (*conn, error) {
	partnerURL, ycmURL := pf.partnerURL, pf.ycmURL
	if pf.portal != "" {
		if partnerURL == "" {
			partnerURL = pf.portal
		}
		if ycmURL == "" {
			ycmURL = pf.portal
		}
	}
	c := &conn{close: func() {}}
	pidEnv, psecEnv := orDefault(pf.partnerIDEnv, envPartnerID), orDefault(pf.partnerSecretEnv, envPartnerSecret)
	yidEnv, ysecEnv := orDefault(pf.ycmIDEnv, envYCMID), orDefault(pf.ycmSecretEnv, envYCMSecret)
	// Surrounding whitespace is never part of a credential, but a Kubernetes Secret or a
	// file read into a variable often ends with a newline: sent as is, it costs a failed
	// login, and YCM blocks the IP after five.
	env := func(name string) string { return strings.TrimSpace(a.getenv(name)) }
	pid, psec := env(pidEnv), env(psecEnv)
	yid, ysec := env(yidEnv), env(ysecEnv)
	switch {
	case pf.unset():
		if err := a.refuseDemo(pidEnv, psecEnv, yidEnv, ysecEnv); err != nil {
			return nil, err
		}
		if pf.noDemo != "" {
			return nil, exitf(exitUsage, pf.noDemo)
		}
		addr, stop, err := startEmbedded()
		if err != nil {
			return nil, exitf(exitFatal, "cannot start the built-in simulator: "+err.Error())
		}
		fmt.Fprintf(a.stderr, "ycm-onboard: no portal configured: using the built-in simulator with the demo world at %s (set --portal, or --partner-url and --ycm-url, for a real one)\n", addr)
		partnerURL, ycmURL = addr, addr
		c.embedded, c.close = true, stop
		pid, psec, yid, ysec = sim.DemoPartnerID, sim.DemoPartnerSecret, sim.DemoYCMID, sim.DemoYCMSecret
	case partnerURL == "" || ycmURL == "":
		return nil, exitf(exitUsage, "set both --partner-url and --ycm-url, or --portal for a simulator serving both")
	}
	var missing []string
	for _, kv := range [][2]string{{pidEnv, pid}, {psecEnv, psec}, {yidEnv, yid}, {ysecEnv, ysec}} {
		if kv[1] == "" {
			missing = append(missing, kv[0])
		}
	}
	if len(missing) > 0 {
		return nil, exitf(exitUsage, "credentials missing: set "+strings.Join(missing, ", ")+
			" in the environment (Partner Portal: System > API; YCM: the API client of your account)")
	}
	base := portal.Config{Rate: pf.rate, CallTimeout: pf.timeout, Logger: a.log, InsecureHTTP: pf.insecure, MaxAttempts: pf.attempts,
		OnResponse: pf.observe}
	pc := base
	pc.BaseURL, pc.ClientID, pc.ClientSecret = partnerURL, pid, psec
	yc := base
	yc.BaseURL, yc.ClientID, yc.ClientSecret = ycmURL, yid, ysec
	var err error
	if c.partner, err = portal.NewPartner(pc); err != nil {
		c.close()
		return nil, exitf(exitUsage, err.Error())
	}
	if c.ycm, err = portal.NewYCM(yc); err != nil {
		c.close()
		return nil, exitf(exitUsage, err.Error())
	}
	c.partnerURL, c.ycmURL = redactURL(partnerURL), redactURL(ycmURL)
	return c, nil
}

// refuseDemo stops a run meant for a real portal from going to the demo world: with
// credentials in the environment or a configuration file, a missing portal URL is a
// mistake, not a wish to try the simulator. Only the variables' names are shown.
func (a *app) refuseDemo(envNames ...string) error {
	var set []string
	for _, name := range envNames {
		if strings.TrimSpace(a.getenv(name)) != "" {
			set = append(set, name)
		}
	}
	const fix = "set --partner-url and --ycm-url (or partner_url and ycm_url in the configuration file); " +
		"the built-in demo simulator runs only without --config and without credentials in the environment"
	switch {
	case a.configPath != "":
		return exitf(exitUsage, fmt.Sprintf("no portal URL configured: %s sets none and the command line neither: %s", a.configPath, fix))
	case len(set) == 1:
		return exitf(exitUsage, fmt.Sprintf("no portal URL configured, but %s is set in the environment: %s", set[0], fix))
	case len(set) > 1:
		return exitf(exitUsage, fmt.Sprintf("no portal URL configured, but %s are set in the environment: %s", strings.Join(set, ", "), fix))
	}
	return nil
}

// redactURL drops user information and the query from a URL shown to people.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}

// startEmbedded serves a demo-world simulator on a loopback port.
func startEmbedded() (addr string, stop func(), err error) {
	s, err := sim.New(sim.Options{})
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	var wg sync.WaitGroup
	wg.Go(func() { _ = srv.Serve(ln) })
	return "http://" + ln.Addr().String(), func() {
		_ = srv.Close()
		wg.Wait()
	}, nil
}

// readPortal reads everything a plan is made from, for the commands other than plan
// and apply (which read it as a step of the job).
func (a *app) readPortal(ctx context.Context, c *conn) (reconcile.Actual, error) {
	actual, f := job.ReadPortal(ctx, c.partner, c.ycm)
	if f != nil {
		return actual, f
	}
	return actual, nil
}

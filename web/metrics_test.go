package web

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/ycm-onboard/ycm-onboard/internal/promtest"
	"github.com/ycm-onboard/ycm-onboard/job"
	"github.com/ycm-onboard/ycm-onboard/metrics"
	"github.com/ycm-onboard/ycm-onboard/portal"
	"github.com/ycm-onboard/ycm-onboard/portal/sim"
)

// TestRunsFromThePageAreCounted: the page's plan and apply reach Config.Ran, and the
// figures scraped over loopback count them, the portal's requests and the run
// history's invitations; the scrape holds no e-mail, secret, session or form token.
func TestRunsFromThePageAreCounted(t *testing.T) {
	m := metrics.New(metrics.Options{Runtime: true, Modes: []job.Mode{job.Plan, job.Apply}})
	st := newSiteWith(t, func(c *Config) {
		var err error
		cfg := portal.Config{BaseURL: c.PartnerURL, ClientID: sim.DemoPartnerID, ClientSecret: sim.DemoPartnerSecret, OnResponse: m.Response}
		if c.Partner, err = portal.NewPartner(cfg); err != nil {
			t.Fatal(err)
		}
		cfg.BaseURL, cfg.ClientID, cfg.ClientSecret = c.YCMURL, sim.DemoYCMID, sim.DemoYCMSecret
		if c.YCM, err = portal.NewYCM(cfg); err != nil {
			t.Fatal(err)
		}
		c.Ran = func(mode job.Mode, out job.Outcome, err error) {
			e := job.Done
			var f *job.Failure
			if errors.As(err, &f) {
				e = f.Ending
			}
			m.Run(mode, e, out, c.Now())
		}
	})
	m.Invitations(st.srv.Invitations, st.cfgd.Now)
	scrape := httptest.NewServer(m.Handler())
	defer scrape.Close()

	una := st.client(t)
	una.signin("una", "uploader-password-1")
	_, body := una.upload("../samples/onboarding.xlsx")
	page := pageOf(body)
	abe := st.client(t)
	abe.signin("abe", "approver-password-1")
	if code, _ := abe.post(page+"/apply", url.Values{"csrf": {abe.csrf()}}); code != http.StatusOK {
		t.Fatalf("apply: %d", code)
	}
	if body := abe.waitApplied(page); !strings.Contains(body, "Applied: 25 succeeded") {
		t.Fatalf("after the apply:\n%s", body)
	}

	resp, err := http.Get(scrape.URL)
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fams := promtest.Parse(t, string(text))
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"ycm_onboard_runs_total", []string{"mode", "plan", "outcome", "done"}, 1},
		{"ycm_onboard_runs_total", []string{"mode", "apply", "outcome", "done"}, 1},
		{"ycm_onboard_runs_total", []string{"mode", "apply", "outcome", "portal_down"}, 0},
		{"ycm_onboard_actions_total", []string{"mode", "apply", "kind", "create", "outcome", "applied"}, 21},
		{"ycm_onboard_actions_total", []string{"mode", "apply", "kind", "resize", "outcome", "applied"}, 2},
		{"ycm_onboard_actions_total", []string{"mode", "plan", "kind", "create", "outcome", "planned"}, 21},
		{"ycm_onboard_apply_duration_seconds", nil, 1},
		{"ycm_onboard_last_run_exit_code", []string{"mode", "apply"}, 0},
		{"ycm_onboard_invitations", []string{"status", "pending"}, 22},
		{"ycm_onboard_invitations", []string{"status", "expired"}, 0},
	} {
		if got := promtest.Value(fams, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	for _, api := range []string{"partner", "ycm"} {
		if got := promtest.Value(fams, "ycm_onboard_portal_requests_total", "api", api, "status", "200"); got < 1 {
			t.Errorf("%s requests answered 200: %v", api, got)
		}
	}
	if _, ok := fams["go_goroutines"]; !ok {
		t.Error("no Go runtime figures")
	}
	secrets := []string{"@", sim.DemoPartnerSecret, sim.DemoYCMSecret, "uploader-password-1", "approver-password-1", abe.csrf()}
	u, _ := url.Parse(st.url)
	for _, c := range abe.c.Jar.Cookies(u) {
		secrets = append(secrets, c.Value)
	}
	for _, s := range secrets {
		if strings.Contains(string(text), s) {
			t.Errorf("the scrape holds %q", s)
		}
	}
}

package main

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/ycm-onboard/ycm-onboard/internal/promtest"
	"github.com/ycm-onboard/ycm-onboard/portal/sim"
)

// promFile reads a metrics file as node_exporter's textfile collector does, and checks
// it was placed whole: mode 0644, and no temporary file left beside it.
func promFile(t *testing.T, path string) (map[string]*dto.MetricFamily, string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no metrics file: %v", err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Errorf("metrics file mode %v, want 0644 (node_exporter runs as another user)", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range entries {
		if e.Name() != filepath.Base(path) {
			t.Errorf("%s left beside the metrics file", e.Name())
		}
	}
	return promtest.Parse(t, string(data)), string(data)
}

// noSecrets fails when the exposition holds a credential or an e-mail address.
func noSecrets(t *testing.T, text string, secrets ...string) {
	t.Helper()
	for _, s := range append(secrets, sim.DemoPartnerSecret, sim.DemoYCMSecret, "@") {
		if strings.Contains(text, s) {
			t.Errorf("the metrics hold %q:\n%s", s, text)
		}
	}
}

// TestMetricsFileAfterPlanAndApply: a plan and an apply against the simulator each
// write their own figures: the run's ending, its actions by kind and outcome, the
// portal requests by API and status, the invitations pending in the run history, and
// nothing that names a colleague.
func TestMetricsFileAfterPlanAndApply(t *testing.T) {
	s, _ := sim.New(sim.Options{})
	ts := httptest.NewServer(s)
	defer ts.Close()
	a, _, errb := testApp(t, nil)
	dir := t.TempDir()
	wave := waveCSV(t, 3)

	plan := filepath.Join(dir, "plan", "ycm-onboard.prom")
	_ = os.Mkdir(filepath.Dir(plan), 0o755)
	if code := runApp(t.Context(), a, "plan", wave, "--portal", ts.URL, "--report", filepath.Join(t.TempDir(), "p.xlsx"),
		"--metrics-file", plan); code != exitOK {
		t.Fatalf("plan: exit %d\n%s", code, errb)
	}
	fams, text := promFile(t, plan)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"ycm_onboard_runs_total", []string{"mode", "plan", "outcome", "done"}, 1},
		{"ycm_onboard_runs_total", []string{"mode", "plan", "outcome", "portal_down"}, 0},
		{"ycm_onboard_runs_total", []string{"mode", "apply"}, -1}, // the apply's file holds those
		{"ycm_onboard_actions_total", []string{"mode", "plan", "kind", "create", "outcome", "planned"}, 3},
		{"ycm_onboard_last_run_exit_code", []string{"mode", "plan"}, 0},
		{"ycm_onboard_apply_duration_seconds", nil, 0},
	} {
		if got := promtest.Value(fams, c.name, c.labels...); got != c.want {
			t.Errorf("plan: %s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	noSecrets(t, text)

	apply := filepath.Join(dir, "apply", "ycm-onboard.prom")
	_ = os.Mkdir(filepath.Dir(apply), 0o755)
	if code := runApp(t.Context(), a, "apply", wave, "--portal", ts.URL, "--report", filepath.Join(t.TempDir(), "a.xlsx"),
		"--metrics-file", apply); code != exitOK {
		t.Fatalf("apply: exit %d\n%s", code, errb)
	}
	fams, text = promFile(t, apply)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"ycm_onboard_runs_total", []string{"mode", "apply", "outcome", "done"}, 1},
		{"ycm_onboard_actions_total", []string{"mode", "apply", "kind", "create", "outcome", "applied"}, 3},
		{"ycm_onboard_actions_total", []string{"mode", "apply", "kind", "create", "outcome", "failed"}, -1},
		{"ycm_onboard_apply_duration_seconds", nil, 1},
		{"ycm_onboard_run_duration_seconds", []string{"mode", "apply"}, 1},
		{"ycm_onboard_last_run_exit_code", []string{"mode", "apply"}, 0},
		{"ycm_onboard_invitations", []string{"status", "pending"}, 3},
		{"ycm_onboard_invitations", []string{"status", "expired"}, 0},
	} {
		if got := promtest.Value(fams, c.name, c.labels...); got != c.want {
			t.Errorf("apply: %s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	// The logins, the reads and the three creates: each API answered 200 at least once.
	for _, api := range []string{"partner", "ycm"} {
		if n := promtest.Value(fams, "ycm_onboard_portal_requests_total", "api", api, "status", "200"); n < 1 {
			t.Errorf("%s requests with status 200: %v", api, n)
		}
	}
	if n := promtest.Value(fams, "ycm_onboard_portal_requests_total", "api", "partner", "status", "200"); n < 5 {
		t.Errorf("%v partner requests: a login, the reads and three creates make at least 5", n)
	}
	if ts := promtest.Value(fams, "ycm_onboard_last_run_timestamp_seconds", "mode", "apply"); ts < float64(a.now().Unix()-600) {
		t.Errorf("last run at %v", ts)
	}
	noSecrets(t, text)
}

// TestMetricsFileWhenTheRunFails: a refused login (exit 4) still writes the file, with
// the run's ending and exit code and the refused requests; so does a setting refused
// before anything is read (exit 2), taken from the configuration file.
func TestMetricsFileWhenTheRunFails(t *testing.T) {
	s, _ := sim.New(sim.Options{})
	ts := httptest.NewServer(s)
	defer ts.Close()
	const wrong = "not-the-secret-0123456789"
	a, _, errb := testApp(t, map[string]string{envPartnerSecret: wrong})
	path := filepath.Join(t.TempDir(), "ycm-onboard.prom")
	if code := runApp(t.Context(), a, "apply", waveCSV(t, 3), "--portal", ts.URL, "--report", filepath.Join(t.TempDir(), "a.xlsx"),
		"--metrics-file", path); code != exitFatal {
		t.Fatalf("exit %d, want %d\n%s", code, exitFatal, errb)
	}
	fams, text := promFile(t, path)
	if got := promtest.Value(fams, "ycm_onboard_runs_total", "mode", "apply", "outcome", "portal_down"); got != 1 {
		t.Errorf("runs_total{outcome=portal_down} = %v, want 1\n%s", got, text)
	}
	if got := promtest.Value(fams, "ycm_onboard_last_run_exit_code", "mode", "apply"); got != exitFatal {
		t.Errorf("last_run_exit_code = %v, want %d", got, exitFatal)
	}
	var partner float64
	for _, m := range fams["ycm_onboard_portal_requests_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "api" && l.GetValue() == "partner" {
				partner += m.GetCounter().GetValue()
			}
		}
	}
	if partner < 1 {
		t.Errorf("no partner request counted:\n%s", text)
	}
	noSecrets(t, text, wrong)

	// Refused before the run: a concurrency out of range, the file named by --config.
	cfg := filepath.Join(t.TempDir(), "ycm-onboard.yaml")
	refused := filepath.Join(t.TempDir(), "refused.prom")
	if err := os.WriteFile(cfg, []byte("partner_url: "+ts.URL+"\nycm_url: "+ts.URL+"\nmetrics_file: "+refused+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a, _, errb = testApp(t, nil)
	if code := runApp(t.Context(), a, "apply", waveCSV(t, 3), "--config", cfg, "--concurrency", "0"); code != exitUsage {
		t.Fatalf("exit %d, want %d\n%s", code, exitUsage, errb)
	}
	fams, _ = promFile(t, refused)
	if got := promtest.Value(fams, "ycm_onboard_runs_total", "mode", "apply", "outcome", "refused"); got != 1 {
		t.Errorf("runs_total{outcome=refused} = %v, want 1", got)
	}
	if got := promtest.Value(fams, "ycm_onboard_last_run_exit_code", "mode", "apply"); got != exitUsage {
		t.Errorf("last_run_exit_code = %v, want %d", got, exitUsage)
	}
}

// TestMetricsFileIsChecked: a metrics file node_exporter would not read, one that
// cannot be written, or one that is an input is refused before the portal is read,
// and nothing is written there.
func TestMetricsFileIsChecked(t *testing.T) {
	dir := t.TempDir()
	wave := waveCSV(t, 1)
	for _, c := range []struct{ path, want string }{
		{filepath.Join(dir, "metrics.txt"), "name it *.prom"},
		{filepath.Join(dir, "missing", "x.prom"), "cannot be written"},
		{wave[:len(wave)-len(".csv")] + ".prom", ""}, // fine: written
	} {
		a, _, errb := testApp(t, nil)
		code := runApp(t.Context(), a, "plan", wave, "--portal", "http://127.0.0.1:1", "--metrics-file", c.path,
			"--report", filepath.Join(t.TempDir(), "p.xlsx"))
		if c.want == "" {
			if _, err := os.Stat(c.path); err != nil {
				t.Errorf("%s: not written after exit %d", c.path, code)
			}
			continue
		}
		if code != exitUsage || !strings.Contains(errb.String(), c.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit 2 saying %q", c.path, code, errb, c.want)
		}
		if _, err := os.Stat(c.path); err == nil {
			t.Errorf("%s was written", c.path)
		}
	}
	// An input named as the metrics file is refused, and kept.
	prom := filepath.Join(dir, "in.prom")
	if err := os.WriteFile(prom, []byte("Email,First Name\nx@demo.example,X\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	a, _, errb := testApp(t, nil)
	if code := runApp(t.Context(), a, "plan", prom, "--metrics-file", prom); code != exitUsage || !strings.Contains(errb.String(), "replace the input") {
		t.Errorf("exit %d, stderr %q", code, errb)
	}
	if b, _ := os.ReadFile(prom); !strings.HasPrefix(string(b), "Email") {
		t.Errorf("the input was replaced: %q", b)
	}
}

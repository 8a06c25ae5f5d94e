package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"
)

// TestServeTheDemo: with no portal configured, serve runs the demo world with its demo
// accounts named on the sign-in page, and stops cleanly when cancelled (exit 0).
func TestServeTheDemo(t *testing.T) {
	a, _, errb := testApp(t, map[string]string{envPartnerID: "", envPartnerSecret: "", envYCMID: "", envYCMSecret: ""})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan int, 1)
	go func() { done <- runApp(ctx, a, "serve", "--addr", "127.0.0.1:0") }()

	base := servedAt(t, errb, `serving the page at (http://127\.0\.0\.1:\d+)`, cancel)
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"Sign in", "demo-uploader", "demo-approver", "built-in simulator"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the sign-in page lacks %q", want)
		}
	}
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("serve exited %d after it was stopped\n%s", code, errb)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
}

// TestSimWarnsBeyondLoopback: the simulator's admin API has no password, so serving it
// beyond this machine is said on stderr (decided from the address it listens on).
func TestSimWarnsBeyondLoopback(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:8080": false, "[::1]:8080": false,
		"0.0.0.0:8080": true, "[::]:8080": true, "192.0.2.10:8080": true} {
		if got := beyondLoopback(addr); got != want {
			t.Errorf("%s: beyond loopback %v, want %v", addr, got, want)
		}
	}
}

// TestServeMetricsOnTheirOwnListener: --metrics-addr serves /metrics without sign-in
// on its own address, the Go runtime's figures and every run outcome at 0 before any
// run; the page's address does not serve them, nor the metrics' address the page.
func TestServeMetricsOnTheirOwnListener(t *testing.T) {
	a, _, errb := testApp(t, map[string]string{envPartnerID: "", envPartnerSecret: "", envYCMID: "", envYCMSecret: ""})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan int, 1)
	go func() { done <- runApp(ctx, a, "serve", "--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0") }()

	page := servedAt(t, errb, `serving the page at (http://127\.0\.0\.1:\d+)`, cancel)
	metricsURL := servedAt(t, errb, `serving metrics at (http://127\.0\.0\.1:\d+)/metrics`, cancel)
	get := func(u string) (int, string) {
		t.Helper()
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	code, body := get(metricsURL + "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d\n%s", code, body)
	}
	for _, want := range []string{`ycm_onboard_runs_total{mode="apply",outcome="portal_down"} 0`, `ycm_onboard_invitations{status="pending"} 0`, "go_goroutines"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, body)
		}
	}
	if code, body := get(page + "/metrics"); code == http.StatusOK || strings.Contains(body, "ycm_onboard_") {
		t.Errorf("the page's address serves the metrics: %d", code)
	}
	if code, _ := get(metricsURL + "/"); code != http.StatusNotFound {
		t.Errorf("the metrics' address serves / with %d, want 404", code)
	}
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("serve exited %d after it was stopped\n%s", code, errb)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
}

// TestServeSingleSignOnFlags: the --oidc-* flags read the client id and secret from the
// variables they name, refuse what cannot work with exit 2, and never print the
// secret; with a real provider (mockoidc) the sign-in page offers the company account.
func TestServeSingleSignOnFlags(t *testing.T) {
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	const secret = "s3cret-never-shown"
	env := map[string]string{envPartnerID: "", envPartnerSecret: "", envYCMID: "", envYCMSecret: "",
		"SSO_ID": m.ClientID, "SSO_SECRET": secret}
	flags := func(extra ...string) []string {
		return append([]string{"serve", "--addr", "127.0.0.1:0", "--oidc-client-id-env", "SSO_ID", "--oidc-client-secret-env", "SSO_SECRET"}, extra...)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no issuer", []string{"serve", "--oidc-domain", "example.com=uploader"}, "need --oidc-issuer"},
		{"no rule", flags("--oidc-issuer", m.Issuer()), "at least one --oidc-role"},
		{"bad rule", flags("--oidc-issuer", m.Issuer(), "--oidc-role", "leads=boss"), `--oidc-role "leads=boss"`},
		{"unset secret", []string{"serve", "--oidc-issuer", m.Issuer(), "--oidc-client-id-env", "SSO_ID",
			"--oidc-client-secret-env", "NOT_SET", "--oidc-domain", "example.com=uploader"}, "the variable NOT_SET is empty or not set"},
		{"unreachable issuer", flags("--oidc-issuer", "http://127.0.0.1:1/oidc", "--oidc-domain", "example.com=uploader"), "discover the provider at http://127.0.0.1:1/oidc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, out, errb := testApp(t, env)
			if code := runApp(t.Context(), a, tc.args...); code != exitUsage {
				t.Errorf("exit %d, want %d\n%s", code, exitUsage, errb)
			}
			if !strings.Contains(errb.String(), tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, errb)
			}
			if strings.Contains(out.String()+errb.String(), secret) {
				t.Errorf("the secret is printed:\n%s%s", out, errb)
			}
		})
	}

	a, out, errb := testApp(t, env)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan int, 1)
	go func() {
		done <- runApp(ctx, a, flags("--oidc-issuer", m.Issuer(), "--oidc-role", "leads=approver", "--oidc-domain", "example.com=uploader")...)
	}()
	base := servedAt(t, errb, `serving the page at (http://127\.0\.0\.1:\d+)`, cancel)
	resp, err := http.Get(base + "/signin")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "Sign in with your company account") {
		t.Errorf("the sign-in page does not offer the company account:\n%s", body)
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Errorf("serve exited %d\n%s", code, errb)
	}
	if strings.Contains(string(body)+out.String()+errb.String(), secret) {
		t.Errorf("the secret is printed or on the page")
	}
}

// servedAt waits up to 20 s for serve's log to say where it listens (the first group
// of pattern), and stops serve (cancel) and the test when it does not.
func servedAt(t *testing.T, log *lockedBuffer, pattern string, cancel func()) string {
	t.Helper()
	re := regexp.MustCompile(pattern)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := re.FindStringSubmatch(log.String()); m != nil {
			return m[1]
		}
	}
	cancel()
	t.Fatalf("serve did not say where it serves (%s):\n%s", pattern, log)
	return ""
}

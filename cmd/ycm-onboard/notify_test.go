package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/ycm-onboard/ycm-onboard/internal/smtptest"
	"github.com/ycm-onboard/ycm-onboard/notify"
	"github.com/ycm-onboard/ycm-onboard/portal/sim"
)

// webhookSecret is the secret part of the test webhook's URL: it must never show.
const webhookSecret = "/services/T0/B0/s3cr3tHookT0ken"

// summaries is a json-format webhook receiver on 127.0.0.1 answering status. The
// first summaries it takes also go to arrived, for a test to wait on.
type summaries struct {
	*httptest.Server
	mu      sync.Mutex
	got     []notify.Summary
	arrived chan notify.Summary
}

func newSummaries(t *testing.T, status int) *summaries {
	t.Helper()
	s := &summaries{arrived: make(chan notify.Summary, 16)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var sum notify.Summary
		b, _ := io.ReadAll(r.Body)
		if r.URL.Path != webhookSecret || json.Unmarshal(b, &sum) != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.got = append(s.got, sum)
		s.mu.Unlock()
		select {
		case s.arrived <- sum:
		default:
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *summaries) all() []notify.Summary {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]notify.Summary(nil), s.got...)
}

// writeConfig writes a configuration file and returns its path.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ycm-onboard.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// countRequests serves h and counts the requests it got.
func countRequests(h http.Handler, n *atomic.Int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h.ServeHTTP(w, r)
	})
}

const hookConfig = "notify:\n  - webhook: {url_env: YCM_WEBHOOK_URL, format: json}\n    when: %s\n"

func TestNotifyWebhookAfterApply(t *testing.T) {
	s, _ := sim.New(sim.Options{})
	ts := httptest.NewServer(s)
	defer ts.Close()
	hook := newSummaries(t, http.StatusOK)
	a, _, errb := testApp(t, map[string]string{"YCM_WEBHOOK_URL": hook.URL + webhookSecret})
	cfg := writeConfig(t, strings.Replace(hookConfig, "%s", "changes", 1))
	report := filepath.Join(t.TempDir(), "r.xlsx")
	if code := runApp(t.Context(), a, "apply", waveCSV(t, 3), "--config", cfg, "--portal", ts.URL, "--report", report); code != exitOK {
		t.Fatalf("exit %d\n%s", code, errb)
	}
	got := hook.all()
	if len(got) != 1 {
		t.Fatalf("%d notifications, want 1", len(got))
	}
	sum := got[0]
	if sum.Mode != "apply" || sum.ExitCode != 0 || sum.Ending != "done" || sum.Applied.Created != 3 || sum.Planned.Create != 3 ||
		sum.Report != report || !strings.HasPrefix(sum.PlanLine, "Plan: 3 to create") || !strings.HasPrefix(sum.AppliedLine, "Applied: 3 succeeded, 0 failed") {
		t.Errorf("summary %+v: want apply, exit 0, 3 created, the report", sum)
	}

	// The same sheet again has no changes: a "changes" receiver is not told.
	a, _, errb = testApp(t, map[string]string{"YCM_WEBHOOK_URL": hook.URL + webhookSecret})
	if code := runApp(t.Context(), a, "plan", waveCSV(t, 3), "--config", cfg, "--portal", ts.URL, "--report-dir", t.TempDir()); code != exitOK {
		t.Fatalf("exit %d\n%s", code, errb)
	}
	if n := len(hook.all()); n != 1 {
		t.Errorf("%d notifications after a plan without changes, want still 1", n)
	}
}

// A run that fails before its apply (the portal refuses the login) is told of, with
// its ending and message.
func TestNotifyWebhookWhenTheRunFails(t *testing.T) {
	s, _ := sim.New(sim.Options{})
	ts := httptest.NewServer(s)
	defer ts.Close()
	hook := newSummaries(t, http.StatusOK)
	a, _, errb := testApp(t, map[string]string{"YCM_WEBHOOK_URL": hook.URL + webhookSecret, envPartnerSecret: "not-the-secret-0123456789"})
	cfg := writeConfig(t, strings.Replace(hookConfig, "%s", "failure", 1))
	if code := runApp(t.Context(), a, "apply", waveCSV(t, 3), "--config", cfg, "--portal", ts.URL, "--report-dir", t.TempDir()); code != exitFatal {
		t.Fatalf("exit %d, want %d\n%s", code, exitFatal, errb)
	}
	got := hook.all()
	if len(got) != 1 || got[0].ExitCode != exitFatal || got[0].Ending != "portal_down" || got[0].Message == "" {
		t.Fatalf("notifications %+v: want one saying portal_down, exit %d, and why", got, exitFatal)
	}
}

// A receiver that refuses (500) changes nothing in the run's exit code; the warning
// names the receiver's kind and host, never its URL.
func TestNotifyWebhookRefusedKeepsExitCode(t *testing.T) {
	s, _ := sim.New(sim.Options{})
	ts := httptest.NewServer(s)
	defer ts.Close()
	hook := newSummaries(t, http.StatusInternalServerError)
	a, out, errb := testApp(t, map[string]string{"YCM_WEBHOOK_URL": hook.URL + webhookSecret})
	cfg := writeConfig(t, strings.Replace(hookConfig, "%s", "always", 1))
	if code := runApp(t.Context(), a, "plan", waveCSV(t, 3), "--config", cfg, "--portal", ts.URL, "--report-dir", t.TempDir()); code != exitOK {
		t.Fatalf("exit %d, want 0 whatever the receiver said\n%s", code, errb)
	}
	if !strings.Contains(errb.String(), "warning: notify by webhook (127.0.0.1)") || !strings.Contains(errb.String(), "500") {
		t.Errorf("stderr %q: want a warning naming the webhook, its host and the status", errb)
	}
	if n := len(hook.all()); n != 2 {
		t.Errorf("%d attempts, want 2 (one retry)", n)
	}
	for _, w := range []string{out.String(), errb.String()} {
		if strings.Contains(w, "s3cr3tHookT0ken") || strings.Contains(w, webhookSecret) {
			t.Errorf("the webhook's secret shows:\n%s", w)
		}
	}
}

// A receiver whose variable is not set refuses the run before the portal is read.
func TestNotifyMissingVariableRefusesTheRun(t *testing.T) {
	s, _ := sim.New(sim.Options{})
	var requests atomic.Int64
	ts := httptest.NewServer(countRequests(s, &requests))
	defer ts.Close()
	a, _, errb := testApp(t, nil)
	cfg := writeConfig(t, strings.Replace(hookConfig, "%s", "failure", 1))
	if code := runApp(t.Context(), a, "apply", waveCSV(t, 3), "--config", cfg, "--portal", ts.URL, "--report-dir", t.TempDir()); code != exitUsage {
		t.Fatalf("exit %d, want %d\n%s", code, exitUsage, errb)
	}
	if !strings.Contains(errb.String(), "set YCM_WEBHOOK_URL") {
		t.Errorf("stderr %q: want the variable named", errb)
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("the portal got %d requests, want none", n)
	}
}

const smtpPassword = "smtp-S3cret-for-the-test"

// bothConfig names a json webhook and an e-mail to the test's SMTP server, both told
// of every run.
func bothConfig(t *testing.T, srv *smtptest.Server) string {
	t.Helper()
	return writeConfig(t, fmt.Sprintf(`notify:
  - webhook: {url_env: YCM_WEBHOOK_URL, format: json}
    when: always
  - email:
      host: %s
      port: %d
      from: ycm@example.com
      to: [ops@example.com]
      username: ycm
      password_env: YCM_SMTP_PASSWORD
    when: always
`, srv.Host, srv.Port))
}

// TestNotifyBothReceiversAfterApply: an apply from the command line against the
// simulator tells the webhook and mails the summary with the report attached.
func TestNotifyBothReceiversAfterApply(t *testing.T) {
	s, _ := sim.New(sim.Options{})
	ts := httptest.NewServer(s)
	defer ts.Close()
	hook := newSummaries(t, http.StatusOK)
	srv := smtptest.New(t, "ycm", smtpPassword)
	a, _, errb := testApp(t, map[string]string{"YCM_WEBHOOK_URL": hook.URL + webhookSecret, "YCM_SMTP_PASSWORD": smtpPassword})
	a.notifyRoots = srv.RootCAs
	report := filepath.Join(t.TempDir(), "apply.xlsx")
	if code := runApp(t.Context(), a, "apply", waveCSV(t, 3), "--config", bothConfig(t, srv), "--portal", ts.URL, "--report", report); code != exitOK {
		t.Fatalf("exit %d\n%s", code, errb)
	}
	if strings.Contains(errb.String(), "warning") {
		t.Errorf("stderr has a warning:\n%s", errb)
	}
	got := hook.all()
	if len(got) != 1 || got[0].Applied.Created != 3 || got[0].Applied.Failed != 0 || got[0].ExitCode != 0 || got[0].Report != report {
		t.Errorf("webhook got %+v: want one summary of 3 created, exit 0", got)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d e-mails, want 1", len(msgs))
	}
	m := smtptest.Parse(t, msgs[0].Data)
	if m.Subject != "ycm-onboard apply: 3 created (exit 0)" {
		t.Errorf("subject %q", m.Subject)
	}
	for _, line := range []string{"Plan: 3 to create", "Applied: 3 succeeded, 0 failed, 0 skipped, 0 not run.", "Report: " + report} {
		if !strings.Contains(m.Text, line) {
			t.Errorf("body lacks %q:\n%s", line, m.Text)
		}
	}
	xlsx, ok := m.Attachments["apply.xlsx"]
	if !ok {
		t.Fatalf("no report attached: %v", m.Attachments)
	}
	f, err := excelize.OpenReader(bytes.NewReader(xlsx))
	if err != nil {
		t.Fatalf("the attached report does not open: %v", err)
	}
	defer f.Close()
	if !slices.Contains(f.GetSheetList(), "Summary") {
		t.Errorf("the attached report has no Summary sheet: %v", f.GetSheetList())
	}
}

// An SMTP server refusing the login changes nothing in the exit code; the warning
// does not hold the password, and the webhook is told all the same.
func TestNotifyEmailRefusedKeepsExitCode(t *testing.T) {
	s, _ := sim.New(sim.Options{})
	ts := httptest.NewServer(s)
	defer ts.Close()
	hook := newSummaries(t, http.StatusOK)
	srv := smtptest.New(t, "ycm", "another-password")
	a, out, errb := testApp(t, map[string]string{"YCM_WEBHOOK_URL": hook.URL + webhookSecret, "YCM_SMTP_PASSWORD": smtpPassword})
	a.notifyRoots = srv.RootCAs
	if code := runApp(t.Context(), a, "plan", waveCSV(t, 2), "--config", bothConfig(t, srv), "--portal", ts.URL, "--report-dir", t.TempDir()); code != exitOK {
		t.Fatalf("exit %d, want 0 whatever the receivers said\n%s", code, errb)
	}
	if !strings.Contains(errb.String(), "warning: notify by email (127.0.0.1)") || !strings.Contains(errb.String(), "535") {
		t.Errorf("stderr %q: want a warning naming the e-mail, its host and the refusal", errb)
	}
	for _, w := range []string{out.String(), errb.String()} {
		if strings.Contains(w, smtpPassword) {
			t.Errorf("the SMTP password shows:\n%s", w)
		}
	}
	if n := len(hook.all()); n != 1 {
		t.Errorf("webhook told %d times, want 1", n)
	}
}

// serveUntil runs serve with args until the test ends, and returns where the page is
// served.
func serveUntil(t *testing.T, a *app, errb *lockedBuffer, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int, 1)
	go func() { done <- runApp(ctx, a, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return servedAt(t, errb, `serving the page at (http://127\.0\.0\.1:\d+)`, cancel)
}

// TestServeNotifiesPageRuns: serve reads the configuration file's notify list, and a
// run started on the page (a re-invite) is told to the webhook, naming who signed in.
func TestServeNotifiesPageRuns(t *testing.T) {
	s, _ := sim.New(sim.Options{})
	ts := httptest.NewServer(s)
	defer ts.Close()
	hook := newSummaries(t, http.StatusOK)
	dir := historyWithBea(t)
	a, out, errb := testApp(t, map[string]string{"YCM_WEBHOOK_URL": hook.URL + webhookSecret})
	cfg := writeConfig(t, strings.Replace(hookConfig, "%s", "always", 1))
	base := serveUntil(t, a, errb, "--config", cfg, "--portal", ts.URL, "--state-dir", dir)

	post, csrf := signInAsBea(t, base)
	if body, err := post("/invitations/reinvite", url.Values{"csrf": {csrf}, "email": {"stale.invite@demo.example"}}); err != nil || !strings.Contains(body, "was re-invited") {
		t.Fatalf("re-invite (%v):\n%s", err, body)
	}
	select {
	case sum := <-hook.arrived:
		if sum.Mode != "apply" || sum.ExitCode != 0 || sum.StartedBy != "bea" || sum.From != "page" || sum.Applied.Reinvited != 1 {
			t.Errorf("summary %+v: want bea's re-invite from the page", sum)
		}
	case <-time.After(time.Minute):
		t.Fatalf("the webhook heard nothing of the page's re-invite\n%s", errb)
	}
	if strings.Contains(out.String()+errb.String(), "s3cr3tHookT0ken") {
		t.Errorf("the webhook's secret shows:\n%s%s", out, errb)
	}
}

// TestServeRefusesAMissingVariable: a receiver whose variable is not set refuses to
// serve (exit 2, naming it), as it refuses plan and apply.
func TestServeRefusesAMissingVariable(t *testing.T) {
	a, _, errb := testApp(t, nil)
	cfg := writeConfig(t, strings.Replace(hookConfig, "%s", "failure", 1))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan int, 1)
	go func() {
		done <- runApp(ctx, a, "serve", "--addr", "127.0.0.1:0", "--config", cfg, "--portal", "http://127.0.0.1:1", "--state-dir", t.TempDir())
	}()
	select {
	case code := <-done:
		if code != exitUsage {
			t.Errorf("exit %d, want %d\n%s", code, exitUsage, errb)
		}
	case <-time.After(20 * time.Second):
		cancel()
		<-done
		t.Fatalf("serve did not refuse to start:\n%s", errb)
	}
	if !strings.Contains(errb.String(), "set YCM_WEBHOOK_URL, which holds the webhook's URL (configuration line 2)") || strings.Contains(errb.String(), "serving the page") {
		t.Errorf("stderr %q: want the variable named, and no page served", errb)
	}
}

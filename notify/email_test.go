package notify

import (
	"bytes"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/ycm-onboard/ycm-onboard/internal/smtptest"
	"github.com/ycm-onboard/ycm-onboard/report"
)

const smtpPassword = "hunter2-smtp-S3cret"

// writeReport writes a real report workbook and returns its path.
func writeReport(t *testing.T) string {
	t.Helper()
	s := applied()
	path := t.TempDir() + "/ycm-onboard-apply.xlsx"
	var b bytes.Buffer
	if err := report.WriteTo(&b, report.Run{Mode: "apply", Started: s.Started, Finished: s.Finished}); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, b.Bytes())
	return path
}

func TestEmailArrivesWithTheReport(t *testing.T) {
	srv := smtptest.New(t, "ycm", smtpPassword)
	e, err := NewEmail(EmailOptions{Host: srv.Host, Port: srv.Port, From: "ycm@example.com", To: []string{"ops@example.com", "it@example.com"},
		Username: "ycm", Password: smtpPassword, RootCAs: srv.RootCAs})
	if err != nil {
		t.Fatal(err)
	}
	s := applied()
	s.Report = writeReport(t)
	if err := e.Send(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	m := smtptest.Parse(t, msgs[0].Data)
	if m.Subject != "ycm-onboard apply: 3 created, 1 failed (exit 1)" {
		t.Errorf("subject %q", m.Subject)
	}
	if got := strings.Join(msgs[0].To, ","); got != "ops@example.com,it@example.com" {
		t.Errorf("sent to %s", got)
	}
	for _, line := range []string{"ycm-onboard apply on cron1 ended partial (exit 1).", "Plan: 4 to create", "Applied: 3 succeeded, 1 failed", "Failed rows: 1", "Run: 7"} {
		if !strings.Contains(m.Text, line) {
			t.Errorf("body lacks %q:\n%s", line, m.Text)
		}
	}
	xlsx, ok := m.Attachments["ycm-onboard-apply.xlsx"]
	if !ok {
		t.Fatalf("no report attached; attachments %v", m.Attachments)
	}
	f, err := excelize.OpenReader(bytes.NewReader(xlsx))
	if err != nil {
		t.Fatalf("the attached report does not open: %v", err)
	}
	defer f.Close()
	if idx, err := f.GetSheetIndex("Summary"); err != nil || idx < 0 {
		t.Errorf("the attached report has no Summary sheet: %v", f.GetSheetList())
	}
}

// A wrong password is an error naming the receiver, never the password.
func TestEmailAuthFailureKeepsTheSecret(t *testing.T) {
	srv := smtptest.New(t, "ycm", "the-right-one")
	e, err := NewEmail(EmailOptions{Host: srv.Host, Port: srv.Port, From: "ycm@example.com", To: []string{"ops@example.com"},
		Username: "ycm", Password: smtpPassword, RootCAs: srv.RootCAs})
	if err != nil {
		t.Fatal(err)
	}
	errs := Send(t.Context(), []Receiver{{When: Always, Sender: e}}, applied())
	if len(errs) != 1 {
		t.Fatalf("errors %v, want 1", errs)
	}
	if msg := errs[0].Error(); strings.Contains(msg, smtpPassword) || !strings.Contains(msg, "email (127.0.0.1)") {
		t.Errorf("error %q: want the kind and host, not the password", msg)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("%d messages accepted", n)
	}
}

// Without the test's authority the server's certificate is refused: STARTTLS checks it.
func TestEmailChecksTheCertificate(t *testing.T) {
	srv := smtptest.New(t, "ycm", smtpPassword)
	e, err := NewEmail(EmailOptions{Host: srv.Host, Port: srv.Port, From: "ycm@example.com", To: []string{"ops@example.com"},
		Username: "ycm", Password: smtpPassword})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Send(t.Context(), applied()); err == nil || strings.Contains(err.Error(), smtpPassword) {
		t.Errorf("error %v: want the self-signed certificate refused", err)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("%d messages accepted", n)
	}
}

func TestNewEmailRefusesClearTextElsewhere(t *testing.T) {
	if _, err := NewEmail(EmailOptions{Host: "smtp.example.com", To: []string{"a@example.com"}, TLS: NoTLS}); err == nil {
		t.Error("tls none to a remote host was taken")
	}
}

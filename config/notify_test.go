package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseNotify(t *testing.T) {
	c, err := Parse([]byte(`notify:
  - webhook: {url_env: YCM_WEBHOOK_URL, format: slack}
    when: failure
  - email: {host: smtp.example.com, port: 587, from: ycm@example.com, to: [ops@example.com, it@example.com], username: ycm, password_env: YCM_SMTP_PASSWORD}
    when: always
  - webhook:
      url_env: OPS_HOOK_URL
    when: changes
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []Notify{
		{Line: 2, When: "failure", Webhook: &Webhook{URLEnv: "YCM_WEBHOOK_URL", Format: "slack"}},
		{Line: 4, When: "always", Email: &Email{Host: "smtp.example.com", Port: 587, From: "ycm@example.com",
			To: []string{"ops@example.com", "it@example.com"}, Username: "ycm", PasswordEnv: "YCM_SMTP_PASSWORD", TLS: "starttls"}},
		{Line: 6, When: "changes", Webhook: &Webhook{URLEnv: "OPS_HOOK_URL", Format: "slack"}},
	}
	if d := cmp.Diff(want, c.Notify); d != "" {
		t.Errorf("notify (-want +got):\n%s", d)
	}
}

func TestParseNotifyRefuses(t *testing.T) {
	for _, tc := range []struct{ name, file, want string }{
		{"unknown format", "notify:\n  - webhook: {url_env: YCM_WEBHOOK_URL, format: teams}\n", `line 2: notify: webhook: format: "teams": give slack or json`},
		{"unknown when", "notify:\n  - webhook: {url_env: YCM_WEBHOOK_URL}\n    when: sometimes\n", `line 2: notify: when: "sometimes": give failure, changes or always`},
		{"url in the file", "notify:\n  - webhook: {url: https://hooks.slack.com/services/T/B/x}\n", `"url" would put a credential in the file; put it in an environment variable and give that variable's name with url_env`},
		{"secret as env name", "notify:\n  - webhook: {url_env: https://hooks.slack.com/x}\n", "not the URL itself"},
		{"password in the file", "notify:\n  - email: {host: h.example.com, from: a@example.com, to: [b@example.com], username: u, password: hunter2}\n", `"password" would put a credential in the file`},
		{"unknown key", "notify:\n  - email: {hots: smtp.example.com, from: a@example.com, to: b@example.com}\n", `unknown key "hots"; did you mean "host"?`},
		{"clear text elsewhere", "notify:\n  - email: {host: smtp.example.com, from: a@example.com, to: b@example.com, tls: none}\n", "allowed to a loopback host only"},
		{"both in one item", "notify:\n  - webhook: {url_env: YCM_WEBHOOK_URL}\n    email: {host: smtp.example.com, from: a@example.com, to: b@example.com}\n", "one receiver per item"},
		{"no address", "notify:\n  - email: {host: smtp.example.com, from: a@example.com, to: []}\n", "to: empty"},
		{"not a list", "notify:\n  webhook: {url_env: YCM_WEBHOOK_URL}\n", "expected a list of receivers"},
		{"user without password", "notify:\n  - email: {host: smtp.example.com, from: a@example.com, to: b@example.com, username: u}\n", "give both username and password_env"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.file))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one saying %q", err, tc.want)
			}
			if err != nil && (strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "/services/T/B/x")) {
				t.Errorf("the error echoes a secret: %v", err)
			}
		})
	}
}

package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func ptr[T any](v T) *T { return &v }

func TestLoadGoodFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ycm-onboard.yaml")
	const file = `# nightly onboarding
partner_url: https://openapi.partner.yeastar.com
ycm_url: https://ycm.example.com/openapi
partner_client_id_env: ACME_PARTNER_ID
partner_client_secret_env: ACME_PARTNER_SECRET
ycm_client_id_env: ACME_YCM_ID
ycm_client_secret_env: ACME_YCM_SECRET
concurrency: 8
rate: 5
max_delete: 10
max_delete_percent: 2.5
allow_shrink: false
prune: true
no_reinvite: false
max_reinvites: 2
report_dir: /var/lib/ycm-onboard/reports
keep_reports: 30
state_dir: /var/lib/ycm-onboard/state
lock_timeout: 10m
metrics_file: /var/lib/node_exporter/textfile/ycm-onboard.prom
`
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		PartnerURL: ptr("https://openapi.partner.yeastar.com"), YCMURL: ptr("https://ycm.example.com/openapi"),
		PartnerClientIDEnv: ptr("ACME_PARTNER_ID"), PartnerClientSecretEnv: ptr("ACME_PARTNER_SECRET"),
		YCMClientIDEnv: ptr("ACME_YCM_ID"), YCMClientSecretEnv: ptr("ACME_YCM_SECRET"),
		Concurrency: ptr(8), Rate: ptr(5.0), MaxDelete: ptr(10), MaxDeletePercent: ptr(2.5),
		AllowShrink: ptr(false), Prune: ptr(true), NoReinvite: ptr(false), MaxReinvites: ptr(2),
		ReportDir: ptr("/var/lib/ycm-onboard/reports"), KeepReports: ptr(30),
		StateDir: ptr("/var/lib/ycm-onboard/state"), LockTimeout: ptr(10 * time.Minute),
		MetricsFile: ptr("/var/lib/node_exporter/textfile/ycm-onboard.prom"),
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Load (-want +got):\n%s", d)
	}
}

// TestParseLeavesUnsetKeysNil: what the file does not say stays nil, so flags and
// defaults apply.
func TestParseLeavesUnsetKeysNil(t *testing.T) {
	for _, src := range []string{"", "# nothing yet\n", "concurrency: 2\n"} {
		c, err := Parse([]byte(src))
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		want := Config{}
		if strings.Contains(src, "concurrency") {
			want.Concurrency = ptr(2)
		}
		if d := cmp.Diff(want, c); d != "" {
			t.Errorf("%q (-want +got):\n%s", src, d)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string // substrings of the error
		not       string   // must not appear (a secret)
	}{
		{"unknown key with line", "concurrency: 2\nconcurency_max: 3\n", []string{`line 2: unknown key "concurency_max"`}, ""},
		{"typo suggests", "\n\nconcurency: 3\n", []string{`line 3: unknown key "concurency"; did you mean "concurrency"?`}, ""},
		{"client secret in clear", "partner_url: https://p.example.com\nclient_secret: s3cr3t-value\n",
			[]string{`line 2: "client_secret" looks like a credential`, "environment variable", "partner_client_secret_env or ycm_client_secret_env"}, "s3cr3t-value"},
		{"partner secret in clear", "partner_client_secret: s3cr3t-value\n",
			[]string{`line 1: "partner_client_secret" looks like a credential`, "partner_client_secret_env"}, "s3cr3t-value"},
		{"token in clear", "ycm_access_token: s3cr3t-value\n", []string{`line 1: "ycm_access_token" looks like a credential`, "ycm_client_secret_env"}, "s3cr3t-value"},
		{"password in clear", "portal_password: s3cr3t-value\n", []string{`"portal_password" looks like a credential`}, "s3cr3t-value"},
		{"secret in an _env key", "ycm_client_secret_env: 'aB3$kk9-x'\n",
			[]string{"line 1: ycm_client_secret_env: give the name of an environment variable"}, "aB3$kk9-x"},
		{"wrong type", "concurrency: lots\n", []string{`line 1: concurrency: expected a whole number, got "lots"`}, ""},
		{"float for int", "max_delete: 2.5\n", []string{"line 1: max_delete: expected a whole number"}, ""},
		{"bool as text", "prune: maybe\n", []string{"line 1: prune: expected true or false"}, ""},
		{"number for text", "report_dir: 12\n", []string{"line 1: report_dir: expected text"}, ""},
		{"number in an _env key", "ycm_client_id_env: 8812345\n", []string{"line 1: ycm_client_id_env: expected text"}, "8812345"},
		{"letters-and-digits secret in an _env key", "ycm_client_secret_env: a8F3kQ9zX2mP7vL1\n",
			[]string{"line 1: ycm_client_secret_env: give the name of an environment variable", "like YCM_CLIENT_SECRET"}, "a8F3kQ9zX2mP7vL1"},
		{"upper case secret in an _env key", "ycm_client_secret_env: A8F3KQ9ZX2MP7VL1\n",
			[]string{"line 1: ycm_client_secret_env: give the name of an environment variable"}, "A8F3KQ9ZX2MP7VL1"},
		{"bad duration", "lock_timeout: 10\n", []string{"line 1: lock_timeout: expected a duration such as 30s or 10m"}, ""},
		{"empty value", "rate:\n", []string{"line 1: rate: no value given"}, ""},
		{"list value", "rate: [1, 2]\n", []string{"line 1: rate: expected a single value"}, ""},
		{"duplicate", "rate: 1\nrate: 2\n", []string{`line 2: "rate" is already set on line 1`}, ""},
		{"range", "concurrency: 0\nmax_delete_percent: 120\nkeep_reports: 0\nmax_reinvites: -1\n",
			[]string{"line 1: concurrency: 0: give 1 or more", "line 2: max_delete_percent: 120: give 0 to 100", "line 3: keep_reports: 0",
				"line 4: max_reinvites: -1: give 0 (no limit) or more"}, ""},
		{"not a URL", "ycm_url: ycm.example.com\n", []string{`line 1: ycm_url: "ycm.example.com" is not an http(s) URL`}, ""},
		{"credentials in URL", "partner_url: https://id:s3cr3t-value@p.example.com\n", []string{"line 1: partner_url: the URL carries a user name or password"}, "s3cr3t-value"},
		{"top level list", "- a\n- b\n", []string{"line 1: expected \"key: value\" lines"}, ""},
		{"not YAML", "a: [\n", []string{"not valid YAML"}, ""},
		{"all errors at once", "concurency: 1\nclient_secret: x\n", []string{"line 1: unknown key", "line 2: \"client_secret\""}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.src))
			if err == nil {
				t.Fatalf("no error for %q", tc.src)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if tc.not != "" && strings.Contains(err.Error(), tc.not) {
				t.Errorf("error %q repeats the secret", err)
			}
		})
	}
}

func TestLoadNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(path, []byte("bogus: 1\n"), 0o600)
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("Load: %v; want the path and line", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Error("a missing file gave no error")
	}
}

// Package config reads the job's configuration file. Every field is a pointer: nil
// means the file does not set it, so the caller can apply flags over the file over
// defaults. Credentials are never in the file, only the names of the environment
// variables that hold them.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ycm-onboard/ycm-onboard/reconcile"
)

// Config is the configuration file's content. Keys are the command's flag names with
// "_" for "-", plus the names of the credential variables.
type Config struct {
	PartnerURL *string `yaml:"partner_url"`
	YCMURL     *string `yaml:"ycm_url"`

	// Names of the environment variables holding the credentials.
	PartnerClientIDEnv     *string `yaml:"partner_client_id_env"`
	PartnerClientSecretEnv *string `yaml:"partner_client_secret_env"`
	YCMClientIDEnv         *string `yaml:"ycm_client_id_env"`
	YCMClientSecretEnv     *string `yaml:"ycm_client_secret_env"`

	Concurrency *int     `yaml:"concurrency"`
	Rate        *float64 `yaml:"rate"` // requests per second per API; 0: no cap

	// Guards.
	MaxDelete        *int     `yaml:"max_delete"`
	MaxDeletePercent *float64 `yaml:"max_delete_percent"`
	AllowShrink      *bool    `yaml:"allow_shrink"`
	Prune            *bool    `yaml:"prune"`
	NoReinvite       *bool    `yaml:"no_reinvite"`
	MaxReinvites     *int     `yaml:"max_reinvites"`

	ReportDir   *string        `yaml:"report_dir"`
	KeepReports *int           `yaml:"keep_reports"`
	StateDir    *string        `yaml:"state_dir"`
	LockTimeout *time.Duration `yaml:"lock_timeout"` // e.g. "10m"; 0: fail at once when locked
	MetricsFile *string        `yaml:"metrics_file"` // plan and apply: the run's figures for node_exporter (*.prom)

	// Notify lists who is told of a plan's or an apply's end, and when.
	Notify []Notify `yaml:"notify"`

	// RequireApproval says which plans an apply only proposes, for another approver
	// to approve: never (nil or the zero value), always, or a list of triggers.
	RequireApproval *reconcile.Approval `yaml:"require_approval"`
}

// Notify is one receiver of the notify list: a webhook or an e-mail, and when.
type Notify struct {
	Line    int    // the item's line in the file, for messages
	When    string // failure (the default), changes or always
	Webhook *Webhook
	Email   *Email
}

// Webhook is a notify item's webhook. Its URL is its credential: the file names the
// environment variable holding it.
type Webhook struct {
	URLEnv string // url_env
	Format string // slack (the default) or json
}

// Email is a notify item's e-mail over SMTP.
type Email struct {
	Host        string
	Port        int // 587 by default
	From        string
	To          []string
	Username    string // "": no authentication
	PasswordEnv string // password_env: the variable holding the password
	TLS         string // starttls (the default) or none (a loopback host only)
}

// maxSize bounds the file read: a configuration is a few hundred bytes.
const maxSize = 1 << 20

// Load reads and checks the configuration file at path.
func Load(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read configuration: %w", err)
	}
	if len(b) > maxSize {
		return Config{}, fmt.Errorf("configuration %s: larger than %d bytes; is it the right file?", path, maxSize)
	}
	c, err := Parse(b)
	if err != nil {
		return Config{}, fmt.Errorf("configuration %s: %w", path, err)
	}
	return c, nil
}

// Parse reads a configuration from YAML. Errors name the line.
func Parse(b []byte) (Config, error) {
	var c Config
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return c, fmt.Errorf("not valid YAML: %w", err)
	}
	if len(bytes.TrimSpace(b)) == 0 || len(doc.Content) == 0 {
		return c, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return c, fmt.Errorf("line %d: expected \"key: value\" lines at the top level", root.Line)
	}
	fields := fieldsOf(&c)
	seen := map[string]int{}
	var errs []error
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		key := k.Value
		if line, dup := seen[key]; dup {
			errs = append(errs, fmt.Errorf("line %d: %q is already set on line %d", k.Line, key, line))
			continue
		}
		seen[key] = k.Line
		if looksSecret(key) {
			errs = append(errs, fmt.Errorf("line %d: %q looks like a credential written in clear; remove it, put the secret in an environment variable and give that variable's name with %s",
				k.Line, key, envKeyFor(key)))
			continue
		}
		dst, ok := fields[key]
		if !ok {
			errs = append(errs, fmt.Errorf("line %d: unknown key %q%s", k.Line, key, suggest(key, fields)))
			continue
		}
		if p, ok := dst.(*[]Notify); ok {
			var nerrs []error
			*p, nerrs = parseNotify(v)
			errs = append(errs, nerrs...)
			continue
		}
		if p, ok := dst.(**reconcile.Approval); ok {
			a, err := parseApproval(v)
			if err != nil {
				errs = append(errs, err)
			}
			*p = &a
			continue
		}
		if err := decode(v, dst); err != nil {
			errs = append(errs, fmt.Errorf("line %d: %s: %w", v.Line, key, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	if err := c.check(seen); err != nil {
		return Config{}, err
	}
	return c, nil
}

// fieldsOf maps each key to the pointer field it fills.
func fieldsOf(c *Config) map[string]any {
	return map[string]any{
		"partner_url": &c.PartnerURL, "ycm_url": &c.YCMURL,
		"partner_client_id_env": &c.PartnerClientIDEnv, "partner_client_secret_env": &c.PartnerClientSecretEnv,
		"ycm_client_id_env": &c.YCMClientIDEnv, "ycm_client_secret_env": &c.YCMClientSecretEnv,
		"concurrency": &c.Concurrency, "rate": &c.Rate,
		"max_delete": &c.MaxDelete, "max_delete_percent": &c.MaxDeletePercent,
		"allow_shrink": &c.AllowShrink, "prune": &c.Prune, "no_reinvite": &c.NoReinvite, "max_reinvites": &c.MaxReinvites,
		"report_dir": &c.ReportDir, "keep_reports": &c.KeepReports,
		"state_dir": &c.StateDir, "lock_timeout": &c.LockTimeout, "metrics_file": &c.MetricsFile,
		"notify": &c.Notify, "require_approval": &c.RequireApproval,
	}
}

// decode fills *dst (a pointer to a pointer field) from a scalar node.
func decode(v *yaml.Node, dst any) error {
	if v.Kind != yaml.ScalarNode {
		return errors.New("expected a single value")
	}
	if v.Tag == "!!null" {
		return errors.New("no value given; remove the line to keep the default")
	}
	switch p := dst.(type) {
	case **string:
		if v.Tag != "!!str" {
			return errors.New("expected text; quote the value") // not echoed: an *_env value may be a secret
		}
		s := v.Value
		*p = &s
	case **int:
		var n int
		if v.Tag != "!!int" || v.Decode(&n) != nil {
			return fmt.Errorf("expected a whole number, got %q", v.Value)
		}
		*p = &n
	case **float64:
		var f float64
		if (v.Tag != "!!int" && v.Tag != "!!float") || v.Decode(&f) != nil {
			return fmt.Errorf("expected a number, got %q", v.Value)
		}
		*p = &f
	case **bool:
		var b bool
		if v.Tag != "!!bool" || v.Decode(&b) != nil {
			return fmt.Errorf("expected true or false, got %q", v.Value)
		}
		*p = &b
	case **time.Duration:
		d, err := time.ParseDuration(v.Value)
		if err != nil {
			return fmt.Errorf("expected a duration such as 30s or 10m, got %q", v.Value)
		}
		*p = &d
	default:
		panic(fmt.Sprintf("config: no decoder for %T", dst))
	}
	return nil
}

// envName is the shape of a variable name an _env key may hold: upper case words
// joined by _, like YCM_CLIENT_SECRET. A pasted secret (mixed case, or one word of
// letters and digits) does not have it, so it is refused rather than echoed later in
// "credentials missing: set <value>".
var envName = regexp.MustCompile(`^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$`)

// check validates values, naming the line each key was on.
func (c Config) check(lines map[string]int) error {
	var errs []error
	bad := func(key, format string, a ...any) {
		errs = append(errs, fmt.Errorf("line %d: %s: %s", lines[key], key, fmt.Sprintf(format, a...)))
	}
	for key, u := range map[string]*string{"partner_url": c.PartnerURL, "ycm_url": c.YCMURL} {
		if u == nil {
			continue
		}
		p, err := url.Parse(*u)
		if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			bad(key, "%q is not an http(s) URL", *u)
		} else if p.User != nil {
			bad(key, "the URL carries a user name or password; credentials belong in the environment")
		}
	}
	for key, e := range map[string]*string{
		"partner_client_id_env": c.PartnerClientIDEnv, "partner_client_secret_env": c.PartnerClientSecretEnv,
		"ycm_client_id_env": c.YCMClientIDEnv, "ycm_client_secret_env": c.YCMClientSecretEnv,
	} {
		if e != nil && !envName.MatchString(*e) {
			// Do not echo the value: it may be the secret itself.
			bad(key, "give the name of an environment variable in upper case words joined by _ (like YCM_CLIENT_SECRET), not the credential itself")
		}
	}
	if c.Concurrency != nil && *c.Concurrency < 1 {
		bad("concurrency", "%d: give 1 or more", *c.Concurrency)
	}
	if c.Rate != nil && *c.Rate < 0 {
		bad("rate", "%g: give 0 (no cap) or more", *c.Rate)
	}
	if c.MaxReinvites != nil && *c.MaxReinvites < 0 {
		bad("max_reinvites", "%d: give 0 (no limit) or more", *c.MaxReinvites)
	}
	if c.MaxDelete != nil && *c.MaxDelete < 0 {
		bad("max_delete", "%d: give 0 or more", *c.MaxDelete)
	}
	if c.MaxDeletePercent != nil && (*c.MaxDeletePercent < 0 || *c.MaxDeletePercent > 100) {
		bad("max_delete_percent", "%g: give 0 to 100", *c.MaxDeletePercent)
	}
	if c.KeepReports != nil && *c.KeepReports < 1 {
		bad("keep_reports", "%d: keep at least 1 (remove the line to keep every report)", *c.KeepReports)
	}
	if c.LockTimeout != nil && *c.LockTimeout < 0 {
		bad("lock_timeout", "%s: give 0 or more", *c.LockTimeout)
	}
	for key, d := range map[string]*string{"report_dir": c.ReportDir, "state_dir": c.StateDir, "metrics_file": c.MetricsFile} {
		if d != nil && strings.TrimSpace(*d) == "" {
			bad(key, "empty; remove the line to use the default")
		}
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}

// looksSecret reports whether a key seems to hold a credential rather than name one.
func looksSecret(key string) bool {
	k := strings.ToLower(key)
	if strings.HasSuffix(k, "_env") {
		return false
	}
	for _, s := range []string{"secret", "token", "password", "passwd", "api_key", "apikey"} {
		if strings.HasSuffix(k, s) {
			return true
		}
	}
	return false
}

// envKeyFor names the *_env key to use instead of a secret key.
func envKeyFor(key string) string {
	k := strings.ToLower(key)
	switch {
	case strings.HasPrefix(k, "ycm"):
		return "ycm_client_secret_env"
	case strings.HasPrefix(k, "partner"):
		return "partner_client_secret_env"
	default:
		return "partner_client_secret_env or ycm_client_secret_env"
	}
}

// suggest offers the known key closest to an unknown one, if one is close.
func suggest(key string, fields map[string]any) string {
	best, bestD := "", 3
	for k := range fields {
		if d := distance(key, k); d < bestD || (d == bestD && best != "" && k < best) {
			best, bestD = k, d
		}
	}
	if best == "" {
		return "; see the documentation for the keys this version knows"
	}
	return fmt.Sprintf("; did you mean %q?", best)
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

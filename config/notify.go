package config

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/ycm-onboard/ycm-onboard/notify"
)

// parseNotify reads the notify list, strictly: every key known, every value checked,
// each error naming its line.
func parseNotify(v *yaml.Node) ([]Notify, []error) {
	if v.Kind != yaml.SequenceNode {
		return nil, []error{fmt.Errorf("line %d: notify: expected a list of receivers, each a line starting \"- webhook:\" or \"- email:\"", v.Line)}
	}
	var out []Notify
	var errs []error
	for _, item := range v.Content {
		n, ierrs := parseReceiver(item)
		errs = append(errs, ierrs...)
		out = append(out, n)
	}
	return out, errs
}

func parseReceiver(item *yaml.Node) (Notify, []error) {
	n := Notify{Line: item.Line}
	var when *string
	var hook, email *yaml.Node
	errs := mapping(item, "notify", map[string]any{"when": &when, "webhook": &hook, "email": &email})
	if when != nil {
		n.When = *when
		if _, err := notify.ParseWhen(*when); err != nil {
			errs = append(errs, fmt.Errorf("line %d: notify: when: %w", item.Line, err))
		}
	}
	switch {
	case hook == nil && email == nil && len(errs) == 0:
		errs = append(errs, fmt.Errorf("line %d: notify: give a webhook: or an email: receiver", item.Line))
	case hook != nil && email != nil:
		errs = append(errs, fmt.Errorf("line %d: notify: one receiver per item: start another item (\"- \") for the e-mail", email.Line))
	case hook != nil:
		w, werrs := parseWebhook(hook)
		n.Webhook, errs = &w, append(errs, werrs...)
	case email != nil:
		e, eerrs := parseEmail(email)
		n.Email, errs = &e, append(errs, eerrs...)
	}
	return n, errs
}

func parseWebhook(v *yaml.Node) (Webhook, []error) {
	var w Webhook
	var urlEnv, format *string
	errs := mapping(v, "notify: webhook", map[string]any{"url_env": &urlEnv, "format": &format})
	switch {
	case urlEnv == nil:
		errs = append(errs, fmt.Errorf("line %d: notify: webhook: url_env missing: name the environment variable that holds the webhook's URL (like YCM_WEBHOOK_URL)", v.Line))
	case !envName.MatchString(*urlEnv):
		errs = append(errs, fmt.Errorf("line %d: notify: webhook: url_env: give the name of an environment variable in upper case words joined by _ (like YCM_WEBHOOK_URL), not the URL itself", v.Line))
	default:
		w.URLEnv = *urlEnv
	}
	w.Format = "slack"
	if format != nil {
		w.Format = *format
		if _, err := notify.ParseFormat(*format); err != nil {
			errs = append(errs, fmt.Errorf("line %d: notify: webhook: format: %w", v.Line, err))
		}
	}
	return w, errs
}

func parseEmail(v *yaml.Node) (Email, []error) {
	e := Email{Port: 587, TLS: "starttls"}
	var host, from, user, passEnv, tls *string
	var port *int
	var to *yaml.Node
	errs := mapping(v, "notify: email", map[string]any{"host": &host, "port": &port, "from": &from, "to": &to,
		"username": &user, "password_env": &passEnv, "tls": &tls})
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("line %d: notify: email: %s", v.Line, fmt.Sprintf(format, a...)))
	}
	if host == nil || strings.TrimSpace(*host) == "" {
		bad("host missing: give the SMTP server's name, like smtp.example.com")
	} else {
		e.Host = strings.TrimSpace(*host)
	}
	if port != nil {
		e.Port = *port
		if *port < 1 || *port > 65535 {
			bad("port %d: give 1 to 65535 (587 for STARTTLS)", *port)
		}
	}
	if from == nil {
		bad("from missing: give the sender's address, like ycm@example.com")
	} else if _, err := mail.ParseAddress(*from); err != nil {
		bad("from %q is not an e-mail address", *from)
	} else {
		e.From = *from
	}
	if to == nil {
		bad("to missing: give the list of addresses to tell, like [ops@example.com]")
	} else {
		var err error
		if e.To, err = addresses(to); err != nil {
			errs = append(errs, fmt.Errorf("line %d: notify: email: to: %w", to.Line, err))
		}
	}
	if user != nil {
		e.Username = *user
	}
	if passEnv != nil {
		if !envName.MatchString(*passEnv) {
			bad("password_env: give the name of an environment variable in upper case words joined by _ (like YCM_SMTP_PASSWORD), not the password itself")
		} else {
			e.PasswordEnv = *passEnv
		}
	}
	if (user == nil) != (passEnv == nil) {
		bad("give both username and password_env to log in to the server, or neither")
	}
	if tls != nil {
		e.TLS = *tls
		switch *tls {
		case "starttls":
		case "none":
			if e.Host != "" && !notify.IsLoopback(e.Host) {
				bad("tls: none sends the mail and the password in clear: it is allowed to a loopback host only (localhost, 127.0.0.1); use starttls")
			}
		default:
			bad("tls %q: give starttls (the default) or none (a loopback host only)", *tls)
		}
	}
	return e, errs
}

// addresses reads a list of addresses, or a single one.
func addresses(v *yaml.Node) ([]string, error) {
	items := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		items = v.Content
	}
	var out []string
	for _, it := range items {
		if it.Kind != yaml.ScalarNode || it.Tag != "!!str" {
			return nil, errors.New("expected addresses, like [ops@example.com, it@example.com]")
		}
		if _, err := mail.ParseAddress(it.Value); err != nil {
			return nil, fmt.Errorf("%q is not an e-mail address", it.Value)
		}
		out = append(out, it.Value)
	}
	if len(out) == 0 {
		return nil, errors.New("empty: give at least one address")
	}
	return out, nil
}

// mapping fills fields from a mapping node: scalars through decode, and **yaml.Node
// fields with the node itself. Unknown and repeated keys are refused; what names
// the place in messages.
func mapping(v *yaml.Node, what string, fields map[string]any) []error {
	if v.Kind != yaml.MappingNode {
		return []error{fmt.Errorf("line %d: %s: expected \"key: value\" pairs", v.Line, what)}
	}
	var errs []error
	seen := map[string]int{}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], v.Content[i+1]
		key := k.Value
		if line, dup := seen[key]; dup {
			errs = append(errs, fmt.Errorf("line %d: %s: %q is already set on line %d", k.Line, what, key, line))
			continue
		}
		seen[key] = k.Line
		dst, ok := fields[key]
		switch {
		case !ok && (looksSecret(key) || key == "url"):
			errs = append(errs, fmt.Errorf("line %d: %s: %q would put a credential in the file; put it in an environment variable and give that variable's name with %s",
				k.Line, what, key, key+"_env"))
			continue
		case !ok:
			errs = append(errs, fmt.Errorf("line %d: %s: unknown key %q%s", k.Line, what, key, suggest(key, fields)))
			continue
		}
		if p, ok := dst.(**yaml.Node); ok {
			*p = val
			continue
		}
		if err := decode(val, dst); err != nil {
			errs = append(errs, fmt.Errorf("line %d: %s: %s: %w", val.Line, what, key, err))
		}
	}
	return errs
}

package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Format is a webhook's body.
type Format int

const (
	// Slack is {"text": "…"} in simple Markdown, which Slack's incoming webhooks and
	// Microsoft Teams' (legacy connector) both take.
	Slack Format = iota
	// JSON is the Summary itself, for a receiver of one's own.
	JSON
)

var formatNames = [...]string{"slack", "json"}

func (f Format) String() string { return formatNames[f] }

// ParseFormat reads a configuration file's webhook format: slack or json.
func ParseFormat(s string) (Format, error) {
	for i, n := range formatNames {
		if s == n {
			return Format(i), nil
		}
	}
	return 0, fmt.Errorf("%q: give slack or json", s)
}

// WebhookTimeout bounds each of a webhook's attempts.
const WebhookTimeout = 10 * time.Second

// Webhook posts the summary as JSON to a URL.
type Webhook struct {
	url       *url.URL
	raw       string
	format    Format
	client    *http.Client
	retryWait time.Duration
}

// WebhookOptions configure a webhook.
type WebhookOptions struct {
	// URL is the webhook's address, which is its credential: it is never written
	// out. https, or http to a loopback host (a local relay, a test).
	URL    string
	Format Format
	// RetryWait is the pause before the one retry (default 2s).
	RetryWait time.Duration
}

// NewWebhook checks the URL; its errors never echo it.
func NewWebhook(o WebhookOptions) (*Webhook, error) {
	u, err := url.Parse(o.URL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, errors.New("the webhook URL is not an http(s) URL")
	}
	if u.Scheme == "http" && !IsLoopback(u.Hostname()) {
		return nil, errors.New("the webhook URL is plain http: give an https URL (http is allowed to a loopback host only)")
	}
	w := &Webhook{url: u, raw: o.URL, format: o.Format, retryWait: o.RetryWait}
	if w.retryWait <= 0 {
		w.retryWait = 2 * time.Second
	}
	w.client = &http.Client{
		Timeout: WebhookTimeout,
		// A redirect within the same host is followed (a few times); one to another
		// host is not: the summary goes where the file says, nowhere else.
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Host != via[0].URL.Host || len(via) >= 3 {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
	return w, nil
}

func (w *Webhook) Kind() string { return "webhook" }
func (w *Webhook) Host() string { return w.url.Hostname() }

// Send posts s, and once more if the first attempt got no answer, a 5xx or a 429.
func (w *Webhook) Send(ctx context.Context, s Summary) error {
	body, err := w.body(s)
	if err != nil {
		return err
	}
	err, again := w.post(ctx, body)
	if err == nil || !again {
		return err
	}
	t := time.NewTimer(w.retryWait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("%w; not tried again: %v", err, ctx.Err())
	case <-t.C:
	}
	if err2, _ := w.post(ctx, body); err2 != nil {
		return fmt.Errorf("tried twice: %w", err2)
	}
	return nil
}

func (w *Webhook) body(s Summary) ([]byte, error) {
	if w.format == JSON {
		return json.Marshal(s)
	}
	return json.Marshal(struct {
		Text string `json:"text"`
	}{SlackText(s)})
}

// SlackText is the summary in the simple Markdown Slack and Teams both render, with
// &, < and > escaped as Slack asks (a message such as "<fix the sheet>" would
// otherwise be read as a link).
func SlackText(s Summary) string {
	return "*" + slackEscape.Replace(s.Title()) + "*\n" + slackEscape.Replace(strings.TrimRight(s.Text(), "\n"))
}

var slackEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// post sends body once; again says whether one more attempt may do better.
func (w *Webhook) post(ctx context.Context, body []byte) (err error, again bool) {
	ctx, cancel := context.WithTimeout(ctx, WebhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.raw, bytes.NewReader(body))
	if err != nil {
		return errors.New("cannot build the request"), false
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "ycm-onboard")
	resp, err := w.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // *url.Error's text holds the URL
		}
		return w.scrub(fmt.Errorf("no answer: %w", err)), ctx.Err() == nil || errors.Is(err, context.DeadlineExceeded)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil, false
	}
	msg := fmt.Sprintf("answered %s", resp.Status)
	if t := strings.TrimSpace(string(b)); t != "" && len(t) <= 200 {
		msg += ": " + t
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		msg += " (a redirect to another host is not followed)"
	}
	return w.scrub(errors.New(msg)), resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests
}

// scrub removes the URL and its path (a Slack or Teams webhook's secret) from err.
func (w *Webhook) scrub(err error) error {
	secrets := []string{w.raw, w.url.String(), w.url.RawQuery}
	if p := strings.Trim(w.url.EscapedPath(), "/"); p != "" {
		secrets = append(secrets, p, w.url.Path)
	}
	return scrub(err, secrets...)
}

// IsLoopback reports whether host (a name or an address) is this machine.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

package notify

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// hook is a webhook receiver on 127.0.0.1 that records the bodies it was sent.
type hook struct {
	*httptest.Server
	mu     sync.Mutex
	bodies [][]byte
}

func newHook(t *testing.T, status int) *hook {
	t.Helper()
	h := &hook{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.bodies = append(h.bodies, b)
		h.mu.Unlock()
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "want a JSON POST", http.StatusBadRequest)
			return
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hook) got() [][]byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([][]byte(nil), h.bodies...)
}

// secretURL is the receiver's URL with a Slack-like secret path.
func (h *hook) secretURL() string { return h.URL + "/services/T000/B000/s3cr3tT0ken" }

func TestWebhookSlack(t *testing.T) {
	h := newHook(t, http.StatusOK)
	w, err := NewWebhook(WebhookOptions{URL: h.secretURL(), Format: Slack})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Send(t.Context(), applied()); err != nil {
		t.Fatal(err)
	}
	bodies := h.got()
	if len(bodies) != 1 {
		t.Fatalf("%d posts, want 1", len(bodies))
	}
	var m map[string]string
	if err := json.Unmarshal(bodies[0], &m); err != nil {
		t.Fatalf("body %s: %v", bodies[0], err)
	}
	if len(m) != 1 || !strings.HasPrefix(m["text"], "*ycm-onboard apply: 3 created, 1 failed (exit 1)*\n") {
		t.Errorf("body %s: want only a text starting with the title in bold", bodies[0])
	}
	for _, line := range []string{"Plan: 4 to create", "Applied: 3 succeeded, 1 failed", "Report: /tmp/r.xlsx", "Failed rows: 1"} {
		if !strings.Contains(m["text"], line) {
			t.Errorf("text lacks %q:\n%s", line, m["text"])
		}
	}
}

func TestWebhookJSON(t *testing.T) {
	h := newHook(t, http.StatusNoContent)
	w, err := NewWebhook(WebhookOptions{URL: h.secretURL(), Format: JSON})
	if err != nil {
		t.Fatal(err)
	}
	want := applied()
	if err := w.Send(t.Context(), want); err != nil {
		t.Fatal(err)
	}
	bodies := h.got()
	if len(bodies) != 1 {
		t.Fatalf("%d posts, want 1", len(bodies))
	}
	var got Summary
	if err := json.Unmarshal(bodies[0], &got); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("summary posted (-want +got):\n%s", d)
	}
}

// A receiver answering 500 is tried once more, and the error names neither the URL
// nor its secret path.
func TestWebhookRefusedKeepsTheSecret(t *testing.T) {
	h := newHook(t, http.StatusInternalServerError)
	w, err := NewWebhook(WebhookOptions{URL: h.secretURL(), RetryWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	errs := Send(t.Context(), []Receiver{{When: Always, Sender: w}}, applied())
	if len(errs) != 1 {
		t.Fatalf("errors %v, want 1", errs)
	}
	msg := errs[0].Error()
	if strings.Contains(msg, "s3cr3tT0ken") || strings.Contains(msg, "/services/") {
		t.Errorf("the error shows the webhook's secret: %s", msg)
	}
	if !strings.Contains(msg, "webhook (127.0.0.1)") || !strings.Contains(msg, "500") {
		t.Errorf("error %q: want the kind, the host and the status", msg)
	}
	if n := len(h.got()); n != 2 {
		t.Errorf("%d attempts, want 2 (one retry)", n)
	}
}

// A receiver that cannot be reached at all: the transport's error quotes the URL,
// which must not come through.
func TestWebhookUnreachableKeepsTheSecret(t *testing.T) {
	h := newHook(t, http.StatusOK)
	u := h.secretURL()
	h.Close()
	w, err := NewWebhook(WebhookOptions{URL: u, RetryWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	err = w.Send(t.Context(), applied())
	if err == nil || strings.Contains(err.Error(), "s3cr3tT0ken") {
		t.Errorf("error %v: want one without the secret", err)
	}
}

func TestWebhookDoesNotFollowARedirectElsewhere(t *testing.T) {
	other := newHook(t, http.StatusOK)
	redir := httptest.NewServer(http.RedirectHandler(strings.Replace(other.URL, "127.0.0.1", "localhost", 1)+"/x", http.StatusTemporaryRedirect))
	t.Cleanup(redir.Close)
	w, err := NewWebhook(WebhookOptions{URL: redir.URL + "/hook"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Send(t.Context(), applied()); err == nil || !strings.Contains(err.Error(), "307") {
		t.Errorf("error %v, want the redirect refused", err)
	}
	if n := len(other.got()); n != 0 {
		t.Errorf("the other host got %d posts", n)
	}
}

func TestWhenRulesDecideWhoIsTold(t *testing.T) {
	fail, changes, always := newHook(t, http.StatusOK), newHook(t, http.StatusOK), newHook(t, http.StatusOK)
	var rs []Receiver
	for _, r := range []struct {
		h *hook
		w When
	}{{fail, OnFailure}, {changes, OnChanges}, {always, Always}} {
		s, err := NewWebhook(WebhookOptions{URL: r.h.URL, Format: JSON})
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, Receiver{When: r.w, Sender: s})
	}
	for _, s := range []Summary{{Mode: "plan"}, {Mode: "plan", Changes: true}, {Mode: "apply", ExitCode: 1}} {
		if errs := Send(t.Context(), rs, s); len(errs) != 0 {
			t.Fatal(errs)
		}
	}
	if got := [3]int{len(fail.got()), len(changes.got()), len(always.got())}; got != [3]int{1, 2, 3} {
		t.Errorf("posts (failure, changes, always) = %v, want [1 2 3]", got)
	}
}

func TestNewWebhookRefusesPlainHTTPElsewhere(t *testing.T) {
	_, err := NewWebhook(WebhookOptions{URL: "http://hooks.example.com/services/s3cr3t"})
	if err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("error %v: want plain http refused, the URL not echoed", err)
	}
}

// TestSlackTextEscapes: &, < and > in a run's text reach Slack as text, not markup.
func TestSlackTextEscapes(t *testing.T) {
	got := SlackText(Summary{Mode: "apply", Fatal: "refused <portal> & stopped"})
	if strings.Contains(got, "<portal>") || !strings.Contains(got, "&lt;portal&gt; &amp; stopped") {
		t.Errorf("SlackText = %q, want &, < and > escaped", got)
	}
}

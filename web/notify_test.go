package web

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ycm-onboard/ycm-onboard/internal/smtptest"
	"github.com/ycm-onboard/ycm-onboard/notify"
)

// hookSecret is the secret part of the test webhooks' URL: it must never show.
const hookSecret = "/services/T0/B0/pageH00kS3cret"

// hook is a json-format webhook receiver on 127.0.0.1: each summary it takes goes to
// got. While held, a request waits for release (or for its sender to give up, counted
// in abandoned).
type hook struct {
	*httptest.Server
	got       chan notify.Summary
	status    int
	mu        sync.Mutex
	hold      chan struct{}
	abandoned atomic.Int64
	n         atomic.Int64 // summaries taken
}

func newHook(t *testing.T, status int) *hook {
	t.Helper()
	h := &hook{got: make(chan notify.Summary, 16), status: status}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var sum notify.Summary
		b, _ := io.ReadAll(r.Body)
		if r.URL.Path != hookSecret || json.Unmarshal(b, &sum) != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		hold := h.hold
		h.mu.Unlock()
		if hold != nil {
			select {
			case <-hold:
			case <-r.Context().Done():
				h.abandoned.Add(1)
				return
			}
		}
		w.WriteHeader(h.status)
		if h.status == http.StatusOK {
			h.n.Add(1)
			h.got <- sum
		}
	}))
	t.Cleanup(h.Close)
	return h
}

// receiver is the hook as a receiver told of runs by when.
func (h *hook) receiver(t *testing.T, when notify.When) notify.Receiver {
	t.Helper()
	w, err := notify.NewWebhook(notify.WebhookOptions{URL: h.URL + hookSecret, Format: notify.JSON, RetryWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return notify.Receiver{When: when, Sender: w}
}

// next is the next summary the hook takes, waited for up to a minute.
func (h *hook) next(t *testing.T, what string) notify.Summary {
	t.Helper()
	select {
	case s := <-h.got:
		return s
	case <-time.After(time.Minute):
		t.Fatalf("no notification of %s within a minute", what)
		return notify.Summary{}
	}
}

const smtpPassword = "smtp-Pag3-S3cret"

// TestPageApplyNotifies: an apply from the page is told to the configured receivers
// (an e-mail with the report attached, a json webhook), naming who started it; the
// upload's plan is told of to no one; nothing secret reaches the page or the log.
func TestPageApplyNotifies(t *testing.T) {
	mail := smtptest.New(t, "ycm", smtpPassword)
	email, err := notify.NewEmail(notify.EmailOptions{Host: mail.Host, Port: mail.Port, From: "ycm@example.com",
		To: []string{"ops@example.com"}, Username: "ycm", Password: smtpPassword, RootCAs: mail.RootCAs})
	if err != nil {
		t.Fatal(err)
	}
	h := newHook(t, http.StatusOK)
	logs := &syncBuffer{}
	st := newSiteWith(t, func(c *Config) {
		c.Log = zerolog.New(logs)
		c.Host = "web1"
		// The e-mail first: receivers are told in order, so once the webhook has its
		// summary the e-mail was sent.
		c.Notify = []notify.Receiver{{When: notify.Always, Sender: email}, h.receiver(t, notify.OnChanges)}
	})
	una := st.client(t)
	una.signin("una", "uploader-password-1")
	_, body := una.upload("../samples/onboarding.xlsx")
	page := pageOf(body)
	abe := st.client(t)
	abe.signin("abe", "approver-password-1")
	_, applied := abe.post(page+"/apply", url.Values{"csrf": {abe.csrf()}})

	sum := h.next(t, "the apply")
	if sum.Mode != "apply" || sum.ExitCode != 0 || sum.StartedBy != "abe" || sum.From != "page" || sum.Host != "web1" ||
		sum.Applied.Succeeded != 25 || sum.Applied.Created != 21 || sum.Proposal != nil || sum.Decision != nil || sum.Report == "" {
		t.Errorf("summary %+v: want abe's apply from the page, 25 succeeded, with its report", sum)
	}
	msgs := mail.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d e-mails, want 1", len(msgs))
	}
	m := smtptest.Parse(t, msgs[0].Data)
	if !strings.HasPrefix(m.Subject, "ycm-onboard apply by abe: 21 created") || !strings.Contains(m.Text, "Started by abe on the page.") {
		t.Errorf("e-mail %q:\n%s", m.Subject, m.Text)
	}
	if len(m.Attachments) != 1 {
		t.Errorf("the report is not attached: %v", m.Attachments)
	}

	_, done := abe.get(page)
	if err := st.srv.Close(); err != nil { // waits for every send
		t.Fatal(err)
	}
	if n := h.n.Load(); n != 1 {
		t.Errorf("the webhook was told %d times, want once: the upload's plan is told of to no one", n)
	}
	if n := len(mail.Messages()); n != 1 {
		t.Errorf("%d e-mails, want 1: the upload's plan is told of to no one", n)
	}
	for _, text := range []string{logs.String(), body, applied, done} {
		if strings.Contains(text, "pageH00kS3cret") || strings.Contains(text, smtpPassword) {
			t.Errorf("a secret shows in the log or on the page:\n%s", text)
		}
	}
}

// TestPageProposalsNotify: a proposal saved from the page is told to every receiver,
// whatever its when, and so is its refusal; an approval follows the apply's rules,
// and the page answers without waiting for the receivers.
func TestPageProposalsNotify(t *testing.T) {
	onFailure, onChanges := newHook(t, http.StatusOK), newHook(t, http.StatusOK)
	st := newApprovalSite(t, func(c *Config) {
		c.Notify = []notify.Receiver{onFailure.receiver(t, notify.OnFailure), onChanges.receiver(t, notify.OnChanges)}
	})
	abe := st.client(t)
	abe.signin("abe", "approver-password-1")
	propose := func() int64 {
		t.Helper()
		_, body := abe.upload("../samples/onboarding.xlsx")
		abe.post(pageOf(body)+"/apply", url.Values{"csrf": {abe.csrf()}})
		var id int64
		for _, h := range []*hook{onFailure, onChanges} {
			s := h.next(t, "the proposal")
			if s.Proposal == nil || s.StartedBy != "abe" || s.From != "page" || s.ExitCode != 3 || s.Ending != "guarded" {
				t.Fatalf("summary %+v: want abe's proposal from the page", s)
			}
			id = s.Proposal.ID
		}
		return id
	}
	id := propose()
	ada := st.client(t)
	ada.signin("ada", "approver-password-2")
	if code, _ := ada.post(fmt.Sprintf("/proposals/%d/refuse", id), url.Values{"csrf": {ada.csrf()}, "reason": {"not before Monday"}}); code != http.StatusOK {
		t.Fatalf("refuse: %d", code)
	}
	want := notify.Decision{Proposal: id, Status: "refused", Author: "abe", By: "ada", Reason: "not before Monday"}
	for _, h := range []*hook{onFailure, onChanges} {
		s := h.next(t, "the refusal")
		if s.Mode != "refuse" || s.StartedBy != "ada" || s.From != "page" || s.Decision == nil || *s.Decision != want {
			t.Errorf("summary %+v (decision %+v): want ada's refusal", s, s.Decision)
		}
	}

	// The approval of a new proposal: the receiver holds the request; the page
	// answers all the same.
	id = propose()
	onChanges.mu.Lock()
	onChanges.hold = make(chan struct{})
	onChanges.mu.Unlock()
	code, body := ada.post(fmt.Sprintf("/proposals/%d/approve", id), url.Values{"csrf": {ada.csrf()}})
	if code != http.StatusOK || !strings.Contains(body, "approved by ada and applied") {
		t.Fatalf("approve: %d\n%s", code, body)
	}
	if n := onChanges.abandoned.Load(); n != 0 {
		t.Fatalf("the page answered only after its notification had timed out (%d attempts): it waited for the receiver", n)
	}
	close(onChanges.hold)
	s := onChanges.next(t, "the approval")
	want = notify.Decision{Proposal: id, Status: "approved", Author: "abe", By: "ada"}
	if s.Mode != "apply" || s.ExitCode != 0 || s.StartedBy != "ada" || s.Decision == nil || *s.Decision != want || s.Applied.Succeeded != 25 {
		t.Errorf("summary %+v (decision %+v): want ada's approval of abe's proposal, applied", s, s.Decision)
	}
	if err := st.srv.Close(); err != nil {
		t.Fatal(err)
	}
	if n := onFailure.n.Load(); n != 3 {
		t.Errorf("the failure receiver was told %d times, want 3: two proposals and the refusal, not the approval that went well", n)
	}
}

// TestPageNotifyFailuresAreLogged: receivers that fail (a 500, a refused SMTP login)
// change nothing on the page; the log names their kind and host, never the webhook's
// URL or the password. A re-invite from the page is a run like the others.
func TestPageNotifyFailuresAreLogged(t *testing.T) {
	mail := smtptest.New(t, "ycm", "another-password")
	email, err := notify.NewEmail(notify.EmailOptions{Host: mail.Host, Port: mail.Port, From: "ycm@example.com",
		To: []string{"ops@example.com"}, Username: "ycm", Password: smtpPassword, RootCAs: mail.RootCAs})
	if err != nil {
		t.Fatal(err)
	}
	refusing, ok := newHook(t, http.StatusInternalServerError), newHook(t, http.StatusOK)
	logs := &syncBuffer{}
	st := newSiteWith(t, func(c *Config) {
		c.Log = zerolog.New(logs)
		c.Notify = []notify.Receiver{{When: notify.Always, Sender: email}, refusing.receiver(t, notify.Always), ok.receiver(t, notify.Always)}
	})
	abe := st.client(t)
	abe.signin("abe", "approver-password-1")
	code, body := abe.post("/invitations/reinvite", url.Values{"csrf": {abe.csrf()}, "email": {"stale.invite@demo.example"}})
	if code != http.StatusOK || !strings.Contains(body, "stale.invite@demo.example was re-invited") {
		t.Fatalf("re-invite: %d\n%s", code, body)
	}
	if s := ok.next(t, "the re-invite"); s.Mode != "apply" || s.StartedBy != "abe" || s.Applied.Reinvited != 1 {
		t.Errorf("summary %+v: want abe's re-invite", s)
	}
	if err := st.srv.Close(); err != nil {
		t.Fatal(err)
	}
	log := logs.String()
	for _, want := range []string{`"receiver":"webhook","host":"127.0.0.1"`, `"receiver":"email","host":"127.0.0.1"`, "500", "535", `"user":"abe"`} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %s:\n%s", want, log)
		}
	}
	for _, text := range []string{log, body} {
		if strings.Contains(text, "pageH00kS3cret") || strings.Contains(text, smtpPassword) {
			t.Errorf("a secret shows in the log or on the page:\n%s", text)
		}
	}
}

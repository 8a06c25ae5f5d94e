package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/oauth2-proxy/mockoidc"
	"github.com/xuri/excelize/v2"

	"github.com/ycm-onboard/ycm-onboard/internal/browser"
)

// shots keeps the screenshots where a person can look at them: $WEB_SHOTS, else the
// test's temporary directory.
func shots(t *testing.T) string {
	if d := os.Getenv("WEB_SHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// TestTheWholeFlowInABrowser is an account manager and an approver in Debian's
// chromium: sign in with the keyboard, upload the sample workbook, read the plan, see
// that only an approver may apply, apply, watch it finish, and find the report.
func TestTheWholeFlowInABrowser(t *testing.T) {
	st := newSite(t)
	st.srv.cfg.IdleTimeout, st.srv.cfg.MaxSessionAge = 100*time.Hour, 100*time.Hour // the test moves the clocks two days on
	ctx := browser.New(t)
	dir := shots(t)

	// Every console error or uncaught exception fails the test (a script the
	// Content-Security-Policy blocked shows as one).
	var (
		consoleMu sync.Mutex
		console   []string
	)
	listening := make(chan struct{})
	go func() {
		close(listening)
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				consoleMu.Lock()
				console = append(console, m.String())
				consoleMu.Unlock()
			}
		}
	}()
	<-listening
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`console.error("listener probe")`)); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		consoleMu.Lock()
		n := len(console)
		consoleMu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the console listener does not hear console.error")
		}
	}
	consoleMu.Lock()
	console = nil
	consoleMu.Unlock()
	t.Cleanup(func() {
		consoleMu.Lock()
		defer consoleMu.Unlock()
		if len(console) > 0 {
			t.Errorf("the browser's console:\n%s", strings.Join(console, "\n"))
		}
	})
	sample, err := filepath.Abs("../samples/onboarding.xlsx")
	if err != nil {
		t.Fatal(err)
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return s
	}
	signin := func(name, pw string) {
		t.Helper()
		// The name field has the focus: type, Tab to the password, Enter to sign in.
		if err := chromedp.Do(ctx,
			chromedp.Navigate(st.url+"/"),
			chromedp.WaitVisible(chromedp.ID("name")),
			chromedp.KeyEvent(name+kb.Tab+pw+kb.Enter),
			chromedp.WaitVisible(chromedp.ID("files")),
		); err != nil {
			t.Fatalf("sign in as %s: %v", name, err)
		}
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(st.url+"/"), chromedp.WaitVisible(chromedp.ID("name"))); err != nil {
		t.Fatal(err)
	}
	if body := text("main"); !strings.Contains(body, "Demo accounts") || !strings.Contains(body, "una") {
		t.Errorf("the sign-in page does not name the demo accounts:\n%s", body)
	}
	browser.Screenshot(t, ctx, filepath.Join(dir, "1-signin.png"))

	signin("una", "uploader-password-1")

	// A sheet with mistakes: the rows to fix, each bad cell marked with its fix.
	bad := filepath.Join(t.TempDir(), "wave-with-mistakes.csv")
	if err := os.WriteFile(bad, []byte("Email,First Name,Last Name,Permissions\n"+
		"zoe.quinn@demo.example,Zoe,Quinn,Dashboard\n"+
		"ann.example.com,Ann,Lee,Dashboard\n"+
		"bo@demo.example,Bo,Chan,Dashbord\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.SetUploadFiles(chromedp.ID("files"), []string{bad}),
		chromedp.Click(chromedp.CSS(`form[action="/uploads"] button`)),
		chromedp.WaitVisible(chromedp.CSS("article mark")),
	); err != nil {
		t.Fatalf("upload with mistakes: %v", err)
	}
	marked, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("article mark")].map(m => m.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(marked, "ann.example.com") || !slices.Contains(marked, "Dashbord") {
		t.Errorf("marked cells %q, want the bad e-mail and the misspelled permission", marked)
	}
	if body := text("main"); !strings.Contains(body, "Rows to fix") || !strings.Contains(body, "row 3") || !strings.Contains(body, "Fix:") {
		t.Errorf("the rows to fix are not shown:\n%s", body)
	}
	browser.Screenshot(t, ctx, filepath.Join(dir, "2a-rows-to-fix.png"))

	// The fixed workbook, uploaded again in one step from the rows to fix.
	if err := chromedp.Do(ctx,
		chromedp.SetUploadFiles(chromedp.ID("files"), []string{sample}),
		chromedp.Click(chromedp.CSS(`form[action="/uploads"] button`)),
	); err != nil {
		t.Fatalf("upload: %v", err)
	}
	// The page being left has an #apply too: wait for the new one by its title.
	waitFor(t, ctx, `document.title.startsWith("Upload onboarding.xlsx") && document.getElementById("apply") !== null`)
	page, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	body := text("main")
	for _, want := range []string{"Plan: 21 to create, 1 to update, 0 to delete, 1 to re-invite, 2 to resize, 3 unchanged.",
		"amelia.ward@demo.example", "An approver applies this plan"} {
		if !strings.Contains(body, want) {
			t.Errorf("the plan page lacks %q", want)
		}
	}
	browser.Screenshot(t, ctx, filepath.Join(dir, "2-plan-uploader.png"))

	// The uploader tries anyway, with the page's own token: refused.
	status, err := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch(location.pathname + "/apply", {method: "POST",
		body: new URLSearchParams({csrf: document.querySelector('input[name="csrf"]').value})}).then(r => r.status)`,
		chromedp.EvalAwaitPromise))
	if err != nil || status != 403 {
		t.Errorf("an uploader's apply: HTTP %d (%v), want 403", status, err)
	}
	// The console reports the refused request, as it should: that one is expected.
	refused := func(m string) bool { return strings.Contains(m, "status of 403") }
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		consoleMu.Lock()
		seen := slices.ContainsFunc(console, refused)
		console = slices.DeleteFunc(console, refused)
		consoleMu.Unlock()
		if seen {
			break
		}
	}
	if n := len(st.sim.Outbox()); n != 0 {
		t.Fatalf("an uploader's apply sent %d e-mails", n)
	}

	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`form[action="/signout"] button`)), chromedp.WaitVisible(chromedp.ID("name"))); err != nil {
		t.Fatalf("sign out: %v", err)
	}
	signin("abe", "approver-password-1")
	if err := chromedp.Do(ctx,
		chromedp.Navigate(page),
		chromedp.WaitVisible(chromedp.CSS(`#apply button`)),
		chromedp.Click(chromedp.CSS(`#apply button`)),
	); err != nil {
		t.Fatalf("apply: %v\n%s", err, text("main"))
	}
	// The page polls the progress and reloads itself when the run is done.
	waitFor(t, ctx, `document.body.innerText.includes("Applied by abe")`)
	body = text("main")
	if !strings.Contains(body, "Applied: 25 succeeded, 0 failed, 0 skipped, 0 not run.") || !strings.Contains(body, "Download the report") {
		t.Errorf("after the apply the page says:\n%s", body)
	}
	browser.Screenshot(t, ctx, filepath.Join(dir, "3-applied.png"))

	// The report, fetched by the page's own link with the browser's session, opens in excelize.
	b64, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(async () => {
		const a = [...document.querySelectorAll("a")].find(a => a.textContent === "Download the report");
		const buf = new Uint8Array(await (await fetch(a.href)).arrayBuffer());
		let s = ""; for (const b of buf) s += String.fromCharCode(b);
		return btoa(s);
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("download the report: %v", err)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	book, err := excelize.OpenReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("the downloaded report (%d bytes) does not open: %v", len(raw), err)
	}
	rows, err := book.GetRows("Colleagues")
	book.Close()
	found := false
	for _, r := range rows {
		found = found || (slices.Contains(r, "amelia.ward@demo.example") && slices.Contains(r, "applied"))
	}
	if err != nil || !found {
		t.Errorf("the report's Colleagues sheet does not say amelia.ward was applied (%v):\n%q", err, rows)
	}
	if n := len(st.sim.Outbox()); n != 22 {
		t.Errorf("%d activation e-mails, want 22", n)
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(st.url+"/invitations"), chromedp.WaitVisible(chromedp.CSS("table"))); err != nil {
		t.Fatal(err)
	}
	if body := text("main"); !strings.Contains(body, "amelia.ward@demo.example") {
		t.Errorf("the invitations page lacks the new colleagues:\n%s", body)
	}
	browser.Screenshot(t, ctx, filepath.Join(dir, "4-invitations.png"))

	// Two days later nobody has activated: re-invite one from the Invitations page.
	st.sim.Advance(49 * time.Hour)
	st.now = st.now.Add(49 * time.Hour)
	const who = "emma.lindqvist@demo.example" // a YCM manager: YCM sends the e-mail
	if err := chromedp.Do(ctx,
		chromedp.Navigate(st.url+"/invitations"),
		chromedp.WaitVisible(chromedp.CSS(`button[aria-label="Re-invite `+who+`"]`)),
		chromedp.Click(chromedp.CSS(`button[aria-label="Re-invite `+who+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`p[role="status"]`)),
	); err != nil {
		t.Fatalf("re-invite: %v", err)
	}
	if note := text(`p[role="status"]`); !strings.Contains(note, who+" was re-invited (YCM activation e-mail)") {
		t.Errorf("after Re-invite the page says %q", note)
	}
	browser.Screenshot(t, ctx, filepath.Join(dir, "5-reinvited.png"))
	sent := 0
	for _, e := range st.sim.Outbox() {
		if e.To == who {
			sent++
		}
	}
	if sent != 2 {
		t.Errorf("%s got %d e-mails, want 2", who, sent)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(st.url+"/runs"), chromedp.WaitVisible(chromedp.CSS("table"))); err != nil {
		t.Fatal(err)
	}
	if body := text("main"); !strings.Contains(body, "abe") || !strings.Contains(body, "una") || strings.Contains(body, "sign-in") {
		t.Errorf("the runs page does not say who started each run, or shows an approver the sign-ins:\n%s", body)
	}
	events, err := st.srv.store.Events(t.Context(), 50)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, e := range events {
		kinds[e.User+" "+e.Kind] = true
	}
	for _, want := range []string{"una sign-in", "una upload", "abe apply", "abe re-invite", "una sign-out"} {
		if !kinds[want] {
			t.Errorf("the run history lacks %q: %v", want, kinds)
		}
	}
	browser.Screenshot(t, ctx, filepath.Join(dir, "6-runs.png"))
}

// waitFor waits until a JavaScript expression is true on the page, through the page
// loads it may take on the way (a navigation ends a chromedp.Poll with an error).
func waitFor(t *testing.T, ctx context.Context, expr string) {
	t.Helper()
	deadline := time.Now().Add(browser.Timeout / 2)
	for time.Now().Before(deadline) {
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr)); err == nil && ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("waited %s for %s", browser.Timeout/2, expr)
}

// TestCompanySignInInABrowser is an account manager in chromium pressing "Sign in with
// your company account": through the provider (mockoidc, which approves at once) and
// back, onto the upload page with the role their group gives.
func TestCompanySignInInABrowser(t *testing.T) {
	m := provider(t, nil)
	st, _ := ssoSite(t, m)
	ctx := browser.New(t)
	dir := shots(t)
	m.QueueUser(&mockoidc.MockUser{Subject: "s1", Email: "lee@partner.example", EmailVerified: true, Groups: []string{"onboarding-leads"}})
	if err := chromedp.Do(ctx, chromedp.Navigate(st.url+"/"), chromedp.WaitVisible(chromedp.ID("sso"))); err != nil {
		t.Fatal(err)
	}
	browser.Screenshot(t, ctx, filepath.Join(dir, "sso-1-signin.png"))
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("sso")), chromedp.WaitVisible(chromedp.ID("files"))); err != nil {
		t.Fatalf("sign in with a company account: %v", err)
	}
	nav, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("header nav")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(nav, "lee@partner.example (approver)") {
		t.Errorf("the page does not name the company account and its role:\n%s", nav)
	}
	browser.Screenshot(t, ctx, filepath.Join(dir, "sso-2-upload.png"))
}

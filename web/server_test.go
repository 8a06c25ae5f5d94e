package web

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/ycm-onboard/ycm-onboard/portal"
	"github.com/ycm-onboard/ycm-onboard/portal/sim"
	"github.com/ycm-onboard/ycm-onboard/reconcile"
	"github.com/ycm-onboard/ycm-onboard/state"
)

var testAccounts = []DemoAccount{
	{Name: "una", Password: "uploader-password-1", Role: "uploader"},
	{Name: "abe", Password: "approver-password-1", Role: "approver"},
}

type site struct {
	sim  *sim.Server
	srv  *Server
	url  string
	now  time.Time
	cfgd Config
}

// newSite serves the page on 127.0.0.1 against a demo-world simulator, with an
// uploader and an approver. now moves the page's clock.
func newSite(t *testing.T) *site {
	t.Helper()
	return newSiteWith(t, nil)
}

// newSiteWith is newSite with its configuration changed by configure before the page
// starts.
func newSiteWith(t *testing.T, configure func(*Config)) *site {
	t.Helper()
	s, err := sim.New(sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	portalSrv := httptest.NewServer(s)
	t.Cleanup(portalSrv.Close)
	p, err := portal.NewPartner(portal.Config{BaseURL: portalSrv.URL, ClientID: sim.DemoPartnerID, ClientSecret: sim.DemoPartnerSecret})
	if err != nil {
		t.Fatal(err)
	}
	y, err := portal.NewYCM(portal.Config{BaseURL: portalSrv.URL, ClientID: sim.DemoYCMID, ClientSecret: sim.DemoYCMSecret})
	if err != nil {
		t.Fatal(err)
	}
	st := &site{sim: s, now: time.Now()}
	dir := t.TempDir()
	st.cfgd = Config{Partner: p, YCM: y, PartnerURL: portalSrv.URL, YCMURL: portalSrv.URL, StateDir: filepath.Join(dir, "state"),
		WorkDir: filepath.Join(dir, "uploads"), Diff: reconcile.DefaultOptions(), DemoAccounts: testAccounts,
		IdleTimeout: time.Hour, Now: func() time.Time { return st.now }}
	if configure != nil {
		configure(&st.cfgd)
	}
	st.srv, err = New(st.cfgd)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.srv.AddDemoAccounts(t.Context()); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(st.srv)
	t.Cleanup(func() { hs.Close(); st.srv.Close() })
	st.url = hs.URL
	return st
}

type client struct {
	t *testing.T
	c *http.Client
	u string
}

func (st *site) client(t *testing.T) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, u: st.url, c: &http.Client{Jar: jar}}
}

func (b *client) get(path string) (int, string) {
	b.t.Helper()
	resp, err := b.c.Get(b.u + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func (b *client) post(path string, form url.Values) (int, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.u+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.u)
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

func (b *client) csrf() string {
	b.t.Helper()
	_, body := b.get("/")
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		b.t.Fatalf("no CSRF token on the home page:\n%s", body)
	}
	return m[1]
}

func (b *client) signin(name, pw string) {
	b.t.Helper()
	code, body := b.post("/signin", url.Values{"name": {name}, "password": {pw}})
	if code != http.StatusOK || !strings.Contains(body, "Check and plan") {
		b.t.Fatalf("sign in as %s: %d\n%s", name, code, body)
	}
}

func (b *client) upload(files ...string) (int, string) {
	b.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("csrf", b.csrf())
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.t.Fatal(err)
		}
		w, _ := mw.CreateFormFile("files", filepath.Base(f))
		w.Write(data)
	}
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, b.u+"/uploads", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", b.u)
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body) + "\nURL " + resp.Request.URL.Path
}

// pageOf is the path of the page an upload landed on (upload appends it to the body).
func pageOf(body string) string { return strings.TrimSpace(body[strings.LastIndex(body, "\nURL ")+5:]) }

// rawSignin posts the sign-in form as a bare client (no cookies, no redirects followed)
// with extra headers, and returns the answer.
func (st *site) rawSignin(t *testing.T, name, pw string, headers map[string]string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, st.url+"/signin", strings.NewReader(url.Values{"name": {name}, "password": {pw}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestSignInIsRequired(t *testing.T) {
	st := newSite(t)
	b := st.client(t)
	if code, body := b.get("/"); code != http.StatusOK || !strings.Contains(body, "Sign in") || !strings.Contains(body, "una") {
		t.Errorf("signed out, / gives %d without the sign-in page and its demo accounts:\n%s", code, body)
	}
	if code, _ := b.post("/signin", url.Values{"name": {"una"}, "password": {"wrong-password-1"}}); code != http.StatusUnauthorized {
		t.Errorf("a wrong password: %d", code)
	}
	b.signin("una", "uploader-password-1")
	u, _ := url.Parse(st.url)
	var found bool
	for _, c := range b.c.Jar.Cookies(u) {
		found = found || c.Name == cookieName
	}
	if !found {
		t.Fatal("no session cookie")
	}
	// An idle session ends.
	st.now = st.now.Add(2 * time.Hour)
	if _, body := b.get("/"); !strings.Contains(body, "Sign in") {
		t.Error("a session idle past the timeout still works")
	}
}

func TestCookieIsHttpOnlyAndLax(t *testing.T) {
	st := newSite(t)
	h := st.rawSignin(t, "una", "uploader-password-1", nil).Header.Get("Set-Cookie")
	if !strings.Contains(h, "HttpOnly") || !strings.Contains(h, "SameSite=Lax") || strings.Contains(h, "Secure") {
		t.Errorf("Set-Cookie %q: want HttpOnly, SameSite=Lax, not Secure over plain HTTP", h)
	}
}

func TestFormsNeedTheirToken(t *testing.T) {
	st := newSite(t)
	b := st.client(t)
	b.signin("una", "uploader-password-1")
	if code, _ := b.post("/signout", url.Values{}); code != http.StatusForbidden {
		t.Errorf("a post without the CSRF token: %d, want 403", code)
	}
	req, _ := http.NewRequest(http.MethodPost, st.url+"/signout", strings.NewReader("csrf="+b.csrf()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a post from another site: %d, want 403", resp.StatusCode)
	}
}

func TestUploadPlanApply(t *testing.T) {
	st := newSite(t)
	una := st.client(t)
	una.signin("una", "uploader-password-1")
	if code, body := una.upload("../README.md"); code != http.StatusBadRequest || !strings.Contains(body, "is not a .xlsx or .csv file") {
		t.Errorf("a README upload: %d\n%s", code, body)
	}
	code, body := una.upload("../samples/onboarding.xlsx")
	if code != http.StatusOK || !strings.Contains(body, "Plan: 21 to create, 1 to update, 0 to delete, 1 to re-invite, 2 to resize, 3 unchanged.") {
		t.Fatalf("upload: %d\n%s", code, body)
	}
	if !strings.Contains(body, "An approver applies this plan") || strings.Contains(body, `action="/uploads/`) {
		t.Errorf("an uploader is offered the Apply button:\n%s", body)
	}
	page := pageOf(body)
	if code, _ := una.post(page+"/apply", url.Values{"csrf": {una.csrf()}}); code != http.StatusForbidden {
		t.Errorf("an uploader's apply: %d, want 403", code)
	}
	if n := len(st.sim.Outbox()); n != 0 {
		t.Fatalf("%d e-mails before any apply", n)
	}

	abe := st.client(t)
	abe.signin("abe", "approver-password-1")
	_, body = abe.get(page)
	if !strings.Contains(body, "Apply Plan: 21 to create") {
		t.Fatalf("the approver has no Apply button:\n%s", body)
	}
	if code, _ := abe.post(page+"/apply", url.Values{"csrf": {abe.csrf()}}); code != http.StatusOK {
		t.Fatalf("apply: %d", code)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, body = abe.get(page)
		if strings.Contains(body, "Applied by abe") || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(body, "Applied: 25 succeeded, 0 failed, 0 skipped, 0 not run.") || !strings.Contains(body, "Download the report") {
		t.Fatalf("after the apply:\n%s", body)
	}
	if n := len(st.sim.Outbox()); n != 22 {
		t.Errorf("%d e-mails, want 22", n)
	}
	code, report := abe.get(page + "/report?run=apply")
	if code != http.StatusOK || !strings.HasPrefix(report, "PK") {
		t.Fatalf("the report download: %d, %d bytes", code, len(report))
	}
	book, err := excelize.OpenReader(strings.NewReader(report))
	if err != nil {
		t.Fatal(err)
	}
	defer book.Close()
	rows, err := book.GetRows("Colleagues")
	if err != nil || len(rows) < 2 || !strings.Contains(strings.Join(rows[0], "|"), "Outcome") {
		t.Errorf("the report's Colleagues sheet: %v %v", rows, err)
	}
	if _, body := abe.get("/invitations"); !strings.Contains(body, "amelia.ward@demo.example") {
		t.Errorf("the invitations page lacks the new colleagues:\n%s", body)
	}
}

func TestSignInLocksOutAfterFiveFailures(t *testing.T) {
	st := newSite(t)
	b := st.client(t)
	for range maxFailures {
		if code, _ := b.post("/signin", url.Values{"name": {"abe"}, "password": {"not-the-password"}}); code != http.StatusUnauthorized {
			t.Fatalf("a wrong password: %d", code)
		}
	}
	code, body := b.post("/signin", url.Values{"name": {"abe"}, "password": {"approver-password-1"}})
	if code != http.StatusTooManyRequests || !strings.Contains(body, "Too many failed sign-ins") {
		t.Errorf("the sixth try, right this time: %d, want 429 and why", code)
	}
	// The window passes.
	st.now = st.now.Add(failWindow + time.Minute)
	b.signin("abe", "approver-password-1")
}

func TestUploadTooLarge(t *testing.T) {
	st := newSite(t)
	st.srv.cfg.MaxUpload = 1 << 10
	b := st.client(t)
	b.signin("una", "uploader-password-1")
	code, body := b.upload("../samples/onboarding.xlsx")
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(body, "larger than") {
		t.Errorf("an upload over the limit: %d\n%s", code, body)
	}
}

func TestSignedOutGetsNoReport(t *testing.T) {
	st := newSite(t)
	una := st.client(t)
	una.signin("una", "uploader-password-1")
	_, body := una.upload("../samples/colleagues.csv")
	page := pageOf(body)
	if code, _ := una.get(page + "/report?run=plan"); code != http.StatusOK {
		t.Fatalf("signed in, the plan report: %d", code)
	}
	anon := st.client(t)
	anon.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if code, body := anon.get(page + "/report?run=plan"); code != http.StatusSeeOther || strings.HasPrefix(body, "PK") {
		t.Errorf("signed out, the report: %d, want a redirect to sign in", code)
	}
}

func TestSpreadsheetValuesAreText(t *testing.T) {
	st := newSite(t)
	b := st.client(t)
	b.signin("una", "uploader-password-1")
	csv := filepath.Join(t.TempDir(), "hostile.csv")
	data := "Email,First Name,Last Name,Permissions\n" +
		"x1@demo.example,<script>alert(1)</script>,Doe,Dashboard\n" +
		"x2@demo.example,\"=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\",Doe,Dashboard\n" +
		"not-an-address,<img src=x onerror=alert(2)>,Doe,Dashboard\n"
	if err := os.WriteFile(csv, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	_, body := b.upload(csv)
	if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
		t.Errorf("a spreadsheet value became markup:\n%s", body)
	}
	if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") || !strings.Contains(body, "=HYPERLINK(&#34;http://evil.example&#34;") {
		t.Errorf("the values are not shown as text:\n%s", body)
	}
}

func TestStalePlanIsRefused(t *testing.T) {
	st := newSite(t)
	abe := st.client(t)
	abe.signin("abe", "approver-password-1")
	_, body := abe.upload("../samples/onboarding.xlsx")
	page := pageOf(body)
	// Someone changes a colleague the plan updates, after the page showed the plan.
	w := st.sim.State()
	for i, c := range w.Colleagues {
		if c.YeastarID == "finance@demo.example" {
			w.Colleagues[i].LastName = "Changed"
		}
	}
	if err := st.sim.LoadState(w); err != nil {
		t.Fatal(err)
	}
	abe.post(page+"/apply", url.Values{"csrf": {abe.csrf()}})
	body = abe.waitApplied(page)
	if !strings.Contains(body, "Not applied") || !strings.Contains(body, "the saved plan is stale") || len(st.sim.Outbox()) != 0 {
		t.Errorf("a stale plan was applied, or the page does not say why (%d e-mails):\n%s", len(st.sim.Outbox()), body)
	}
	// Planned again from the same files, it can be applied.
	abe.post(page+"/replan", url.Values{"csrf": {abe.csrf()}})
	if _, body := abe.get(page); !strings.Contains(body, `action="`+page+`/apply"`) {
		t.Errorf("planned again after a stale refusal, no Apply button:\n%s", body)
	}
}

func TestConcurrentAppliesTakeTurns(t *testing.T) {
	st := newSite(t)
	st.sim.SetFaults(sim.Faults{Latency: 20 * time.Millisecond})
	abe := st.client(t)
	abe.signin("abe", "approver-password-1")
	_, body := abe.upload("../samples/onboarding.xlsx")
	first := pageOf(body)
	_, body = abe.upload("../samples/colleagues.csv")
	second := pageOf(body)

	// Another apply on this page: refused, saying who runs what.
	abe.post(first+"/apply", url.Values{"csrf": {abe.csrf()}})
	code, body := abe.post(second+"/apply", url.Values{"csrf": {abe.csrf()}})
	if code != http.StatusConflict || !strings.Contains(body, "abe is applying onboarding.xlsx since") {
		t.Errorf("a second apply while one runs: %d\n%s", code, body)
	}
	if body := abe.waitApplied(first); !strings.Contains(body, "Applied: 25 succeeded") {
		t.Fatalf("the first apply:\n%s", body)
	}

	// The nightly job or the command line holds the lock: the page's apply says so.
	lock, err := state.AcquireLock(t.Context(), st.cfgd.StateDir, 0)
	if err != nil {
		t.Fatal(err)
	}
	abe.post(second+"/apply", url.Values{"csrf": {abe.csrf()}})
	body = abe.waitApplied(second)
	lock.Release()
	if !strings.Contains(body, "lock") {
		t.Errorf("an apply while another process holds the lock:\n%s", body)
	}
}

// waitApplied waits for an upload's apply to end and returns its page.
func (b *client) waitApplied(page string) string {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, body := b.get(page)
		if strings.Contains(body, "Applied by") || strings.Contains(body, "Not applied") || time.Now().After(deadline) {
			return body
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestAnOldPlanIsPlannedAgain(t *testing.T) {
	st := newSite(t)
	abe := st.client(t)
	abe.signin("abe", "approver-password-1")
	_, body := abe.upload("../samples/colleagues.csv")
	page := pageOf(body)
	if !strings.Contains(body, "Guards: at most 5 deletions") || !strings.Contains(body, "None tripped.") {
		t.Errorf("the plan does not show its guards:\n%s", body)
	}
	st.now = st.now.Add(planMaxAge + time.Minute)
	_, body = abe.get(page)
	if !strings.Contains(body, "plan again to see the portal as it is now") || strings.Contains(body, `action="`+page+`/apply"`) {
		t.Fatalf("an old plan can still be applied:\n%s", body)
	}
	abe.post(page+"/apply", url.Values{"csrf": {abe.csrf()}})
	if n := len(st.sim.Outbox()); n != 0 {
		t.Fatalf("an old plan was applied: %d e-mails", n)
	}
	abe.post(page+"/replan", url.Values{"csrf": {abe.csrf()}})
	if _, body = abe.get(page); !strings.Contains(body, `action="`+page+`/apply"`) {
		t.Errorf("planned again, still no Apply button:\n%s", body)
	}
}

func TestTemplateDownload(t *testing.T) {
	st := newSite(t)
	b := st.client(t)
	b.signin("una", "uploader-password-1")
	code, body := b.get("/template")
	if code != http.StatusOK || !strings.HasPrefix(body, "PK") {
		t.Fatalf("template: %d", code)
	}
	book, err := excelize.OpenReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer book.Close()
	if sheets := book.GetSheetList(); !slices.Contains(sheets, "Colleagues") || !slices.Contains(sheets, "Instances") {
		t.Errorf("template sheets %v", sheets)
	}
}

func TestBehindATrustedProxy(t *testing.T) {
	st := newSite(t)
	signin := func(headers map[string]string) string {
		t.Helper()
		return st.rawSignin(t, "una", "uploader-password-1", headers).Header.Get("Set-Cookie")
	}
	https := map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
	if c := signin(https); strings.Contains(c, "Secure") {
		t.Errorf("an untrusted client's X-Forwarded-Proto made the cookie Secure: %q", c)
	}
	st.srv.cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	if c := signin(https); !strings.Contains(c, "Secure") {
		t.Errorf("behind a trusted HTTPS proxy the cookie is not Secure: %q", c)
	}
	// Lock-outs count the client the proxy names, not the proxy.
	b := st.client(t)
	for range maxFailures {
		req, _ := http.NewRequest(http.MethodPost, st.url+"/signin", strings.NewReader("name=abe&password=wrong-password-x"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", "203.0.113.9")
		resp, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if c := signin(map[string]string{"X-Forwarded-For": "198.51.100.7"}); c == "" {
		t.Error("another client behind the same proxy is locked out too")
	}
}

func TestOldUploadsAreRemoved(t *testing.T) {
	st := newSite(t)
	b := st.client(t)
	b.signin("una", "uploader-password-1")
	_, body := b.upload("../samples/colleagues.csv")
	page := pageOf(body)
	entries, _ := os.ReadDir(st.cfgd.WorkDir)
	if len(entries) != 1 {
		t.Fatalf("%d upload directories, want 1", len(entries))
	}
	st.now = st.now.Add(8 * 24 * time.Hour)
	st.srv.cfg.IdleTimeout, st.srv.cfg.MaxSessionAge = 10*24*time.Hour, 10*24*time.Hour
	st.srv.removeOldUploads()
	if entries, _ := os.ReadDir(st.cfgd.WorkDir); len(entries) != 0 {
		t.Errorf("an upload older than --keep-uploads is still there")
	}
	if code, _ := b.get(page); code != http.StatusNotFound {
		t.Errorf("its page: %d, want 404", code)
	}
}

func TestSizeAPBXFromA3CXExport(t *testing.T) {
	st := newSite(t)
	b := st.client(t)
	b.signin("una", "uploader-password-1")
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("csrf", b.csrf())
	_ = mw.WriteField("pbx", "Acme HQ")
	_ = mw.WriteField("headroom", "10%")
	data, err := os.ReadFile("../importer/testdata/3cx-export-v20.csv")
	if err != nil {
		t.Fatal(err)
	}
	w, _ := mw.CreateFormFile("threecx", "users.csv")
	w.Write(data)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, st.url+"/uploads", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", st.url)
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "resize") || !strings.Contains(string(body), "users in 3cx-users.csv &#43; 10% = 13") {
		t.Errorf("a 3CX export does not size Acme HQ:\n%s", body)
	}
}

// TestInvitationsFromThePortal: colleagues invited before the job (by hand, or before
// its run history) are listed from the portal, and an expired one can be re-invited.
func TestInvitationsFromThePortal(t *testing.T) {
	st := newSite(t)
	abe := st.client(t)
	abe.signin("abe", "approver-password-1")
	_, body := abe.get("/invitations")
	// The demo world: new.hire invited 2 hours ago, stale.invite 72 hours ago, none by the job.
	if !strings.Contains(body, "new.hire@demo.example</td><td>Pending") || !strings.Contains(body, "stale.invite@demo.example</td><td>Expired") {
		t.Fatalf("the portal's invitations are not listed:\n%s", body)
	}
	if !strings.Contains(body, `aria-label="Re-invite stale.invite@demo.example"`) {
		t.Errorf("no Re-invite beside the expired invitation")
	}
	_, body = abe.post("/invitations/reinvite", url.Values{"csrf": {abe.csrf()}, "email": {"stale.invite@demo.example"}})
	if !strings.Contains(body, "stale.invite@demo.example was re-invited (delete and create again)") {
		t.Errorf("re-invite:\n%s", body)
	}
	if n := len(st.sim.Outbox()); n != 1 {
		t.Errorf("%d e-mails, want 1", n)
	}
	// Pressed again (a second tab, say): the new link has not expired, nothing is sent.
	_, body = abe.post("/invitations/reinvite", url.Values{"csrf": {abe.csrf()}, "email": {"stale.invite@demo.example"}})
	if !strings.Contains(body, "Nothing was sent to stale.invite@demo.example") || len(st.sim.Outbox()) != 1 {
		t.Errorf("a second re-invite sent again:\n%s", body)
	}
}

// TestAccountChangesTakeEffectAtOnce: a removed approver, or one whose password was
// changed, is signed out at their next request; a demoted one loses the right at once.
func TestAccountChangesTakeEffectAtOnce(t *testing.T) {
	st := newSite(t)
	abe := st.client(t)
	abe.signin("abe", "approver-password-1")
	_, body := abe.upload("../samples/colleagues.csv")
	page := pageOf(body)
	csrf := abe.csrf()

	if err := st.srv.store.SetRole(t.Context(), "abe", state.RoleUploader); err != nil {
		t.Fatal(err)
	}
	if code, _ := abe.post(page+"/apply", url.Values{"csrf": {csrf}}); code != http.StatusForbidden {
		t.Errorf("a demoted approver's apply: %d, want 403", code)
	}
	st.now = st.now.Add(time.Second)
	if err := st.srv.store.SetPassword(t.Context(), "abe", "a-brand-new-password"); err != nil {
		t.Fatal(err)
	}
	if _, body := abe.get("/"); !strings.Contains(body, "Sign in") {
		t.Error("a session from before a password change still works")
	}
	if n := len(st.sim.Outbox()); n != 0 {
		t.Errorf("%d e-mails sent", n)
	}
	una := st.client(t)
	una.signin("una", "uploader-password-1")
	if err := st.srv.store.RemoveUser(t.Context(), "una"); err != nil {
		t.Fatal(err)
	}
	if _, body := una.get("/"); !strings.Contains(body, "Sign in") {
		t.Error("a removed account's session still works")
	}
}

// TestBodiesAreBoundedBeforeTheyAreRead: a chunked upload (no Content-Length) past the
// limit is refused, and so is a large post to the sign-in form, whatever its session.
func TestBodiesAreBoundedBeforeTheyAreRead(t *testing.T) {
	st := newSite(t)
	st.srv.cfg.MaxUpload = 1 << 20
	b := st.client(t)
	b.signin("una", "uploader-password-1")
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("csrf", b.csrf())
	w, _ := mw.CreateFormFile("files", "big.csv")
	w.Write(bytes.Repeat([]byte("x"), 3<<20))
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, st.url+"/uploads", io.MultiReader(&buf)) // no length: chunked
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", st.url)
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a chunked upload over the limit: %d, want 413", resp.StatusCode)
	}
	if entries, _ := os.ReadDir(st.cfgd.WorkDir); len(entries) != 0 {
		t.Errorf("%d uploads kept", len(entries))
	}
	big := strings.NewReader("name=x&password=" + strings.Repeat("y", 1<<20))
	resp, err = http.Post(st.url+"/signin", "application/x-www-form-urlencoded", big)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a 1 MB sign-in: %d, want 413", resp.StatusCode)
	}
}

// TestSecondReviewFindings: a password typed in the name field is never recorded;
// two files of one name are refused, not one dropped; a redirect after sign-in keeps
// its query and refuses control characters.
func TestSecondReviewFindings(t *testing.T) {
	st := newSite(t)
	anon := st.client(t)
	anon.post("/signin", url.Values{"name": {"S3cret-Passw0rd!"}, "password": {"x"}})
	events, err := st.srv.store.Events(t.Context(), 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if strings.Contains(strings.ToLower(e.User+e.Detail), "s3cret") {
			t.Errorf("the run history recorded a password typed as a name: %+v", e)
		}
	}
	b := st.client(t)
	b.signin("una", "uploader-password-1")
	dir1, dir2 := t.TempDir(), t.TempDir()
	for i, d := range []string{dir1, dir2} {
		if err := os.WriteFile(filepath.Join(d, "wave.csv"), []byte(fmt.Sprintf("Email,First Name,Permissions\nw%d@demo.example,W,Dashboard\n", i)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if code, body := b.upload(filepath.Join(dir1, "wave.csv"), filepath.Join(dir2, "wave.csv")); code != http.StatusBadRequest || !strings.Contains(body, "Two files are named wave.csv") {
		t.Errorf("two files of one name: %d\n%s", code, body)
	}
	for in, want := range map[string]string{"/uploads/x/report?run=plan": "/uploads/x/report?run=plan", "/\t/evil.example": "/", "//evil.example": "/"} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestAStrangerCannotEasilyLockAColleagueOut: five wrong passwords for one name lock
// that name out from that address only; from another address the colleague signs in.
func TestAStrangerCannotEasilyLockAColleagueOut(t *testing.T) {
	st := newSite(t)
	st.srv.cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")} // addresses from X-Forwarded-For
	try := func(from, pw string) int {
		t.Helper()
		return st.rawSignin(t, "abe", pw, map[string]string{"X-Forwarded-For": from}).StatusCode
	}
	for range maxFailures {
		try("203.0.113.66", "guess-guess-guess")
	}
	if code := try("203.0.113.66", "approver-password-1"); code != http.StatusTooManyRequests {
		t.Errorf("the guesser's address: %d, want 429", code)
	}
	if code := try("198.51.100.7", "approver-password-1"); code != http.StatusSeeOther {
		t.Errorf("the colleague from their own address: %d, want signed in (303)", code)
	}
}

package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ycm-onboard/ycm-onboard/state"
)

// beaPassword is the password of bea, the approver historyWithBea makes.
const beaPassword = "bea-approver-password"

// historyWithBea is a state directory whose run history has one page account, bea, an
// approver.
func historyWithBea(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	store, err := state.Open(dir, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.AddUser(t.Context(), "bea", state.RoleApprover, beaPassword); err != nil {
		t.Fatal(err)
	}
	return dir
}

// signInAsBea signs in to the page served at base as bea, and returns a poster of
// forms (safe to call from any goroutine) and the session's form token.
func signInAsBea(t *testing.T, base string) (post func(path string, form url.Values) (string, error), csrf string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	post = func(path string, form url.Values) (string, error) {
		req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", base)
		resp, err := c.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	home, err := post("/signin", url.Values{"name": {"bea"}, "password": {beaPassword}})
	m := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`).FindStringSubmatch(home)
	if err != nil || m == nil {
		t.Fatalf("not signed in (%v):\n%s", err, home)
	}
	return post, m[1]
}

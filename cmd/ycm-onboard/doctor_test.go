package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ycm-onboard/ycm-onboard/portal"
	"github.com/ycm-onboard/ycm-onboard/portal/sim"
)

type doctorJSON struct {
	portal.Diagnosis
	Ready    bool `json:"ready"`
	ExitCode int  `json:"exit_code"`
}

func (d doctorJSON) list(a portal.APIDiagnosis, name string) portal.ListShape {
	for _, l := range a.Lists {
		if l.Name == name {
			return l
		}
	}
	return portal.ListShape{}
}

// serveDialect serves a simulator speaking d on 127.0.0.1 until the test ends.
func serveDialect(t *testing.T, d sim.Dialect) (*sim.Server, *httptest.Server) {
	t.Helper()
	s, err := sim.New(sim.Options{Dialect: d})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts
}

// TestDoctorNamesEachDialectsShapes: doctor reports the shapes each dialect serves.
func TestDoctorNamesEachDialectsShapes(t *testing.T) {
	for _, nd := range sim.Dialects() {
		t.Run(nd.Name, func(t *testing.T) {
			t.Parallel()
			_, ts := serveDialect(t, nd.Dialect)
			a, out, errb := testApp(t, nil)
			if code := runApp(t.Context(), a, "doctor", "--portal", ts.URL, "--json"); code != exitOK {
				t.Fatalf("exit %d\n%s\n%s", code, out, errb)
			}
			var d doctorJSON
			if err := json.Unmarshal(out.Bytes(), &d); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if !d.Ready || !d.Partner.LoggedIn || !d.YCM.LoggedIn {
				t.Errorf("ready %v, logged in %v %v", d.Ready, d.Partner.LoggedIn, d.YCM.LoggedIn)
			}
			dl := nd.Dialect
			idType := "string"
			if dl.IDs == sim.IDsNumber {
				idType = "number"
			}
			cols := d.list(d.Partner, "colleagues")
			if cols.IDTypes["colleaguesId"] != idType || cols.IDTypes["ownerId"] != idType || d.Partner.TokenLifetimeType != idType {
				t.Errorf("colleaguesId %s, ownerId %s, expiresIn %s; want %s", cols.IDTypes["colleaguesId"],
					cols.IDTypes["ownerId"], d.Partner.TokenLifetimeType, idType)
			}
			resType := "number"
			if dl.IDs == sim.IDsAllStrings {
				resType = "string"
			}
			if cols.IDTypes["resourceIds"] != resType {
				t.Errorf("resourceIds %s, want %s", cols.IDTypes["resourceIds"], resType)
			}
			partnerShape := "array"
			if dl.Partners == sim.PartnersPage {
				partnerShape = "page object"
			}
			if got := d.list(d.Partner, "subordinate partners").Shape; got != partnerShape {
				t.Errorf("subordinate partners: %s, want %s", got, partnerShape)
			}
			pe := d.Partner.Error
			if pe == nil || !pe.Recognised || pe.HTTPStatus != 404 {
				t.Fatalf("partner portal error: %+v", pe)
			}
			switch dl.PPCodes {
			case sim.PPCodesLower:
				if pe.Code != strings.ToLower(pe.Code) || !strings.Contains(pe.Code, "not_found") {
					t.Errorf("partner portal code %q, want a lower-case word", pe.Code)
				}
			case sim.PPCodesUpper:
				if pe.Code != "DATA_NOT_FOUND" {
					t.Errorf("partner portal code %q, want DATA_NOT_FOUND", pe.Code)
				}
			}
			ye := d.YCM.Error
			if ye == nil || !ye.Recognised || ye.Errno != 1000005 {
				t.Fatalf("YCM error: %+v", ye)
			}
			if !slices.Contains(ye.Fields, string(dl.YCMErrors)) {
				t.Errorf("YCM error fields %v lack %q", ye.Fields, dl.YCMErrors)
			}
			if ye.HTTPStatus != 200 { // a missing PBX is a business error: HTTP 200 in every dialect
				t.Errorf("YCM error status %d, want 200", ye.HTTPStatus)
			}
			used := "absent"
			if dl.ExtensionUsed == sim.ExtensionUsedPresent {
				used = "number"
			}
			pbxs := d.list(d.YCM, "cloud PBXs")
			if pbxs.IDTypes["extensionUsed"] != used {
				t.Errorf("extensionUsed %s, want %s", pbxs.IDTypes["extensionUsed"], used)
			}
			note := "does not say how many extensions are in use"
			if used == "number" {
				note = "says how many extensions are in use"
			}
			if !slices.ContainsFunc(d.YCM.Notes, func(n string) bool { return strings.Contains(n, note) }) {
				t.Errorf("notes %q lack %q", d.YCM.Notes, note)
			}
			if users := d.list(d.YCM, "YCM users"); users.Failure != "" || users.Items == 0 {
				t.Errorf("YCM users: %+v", users)
			}
		})
	}
}

// TestDoctorWithAWrongSecret: one login attempt per API, then exit 4; the human
// report marks the failure and never shows the secret.
func TestDoctorWithAWrongSecret(t *testing.T) {
	for _, nd := range sim.Dialects() {
		t.Run(nd.Name, func(t *testing.T) {
			t.Parallel()
			s, ts := serveDialect(t, nd.Dialect)
			const wrong = "wrong-secret-4f1d"
			a, out, errb := testApp(t, map[string]string{envPartnerSecret: wrong, envYCMSecret: wrong})
			if code := runApp(t.Context(), a, "doctor", "--portal", ts.URL); code != exitFatal {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, exitFatal, out, errb)
			}
			logins := map[string]int64{}
			for _, rc := range s.Stats().Routes {
				if strings.HasSuffix(rc.Route, "/oauth/token") {
					logins[rc.Route] += rc.Count
				}
			}
			if logins["POST /auth/openapi/v1/oauth/token"] != 1 || logins["POST /dm/open_api/oauth/token"] != 1 {
				t.Errorf("logins %v, want one per API", logins)
			}
			if !strings.Contains(out.String(), "✗ login") || !strings.Contains(out.String(), "Not ready") {
				t.Errorf("the report does not mark the refused login:\n%s", out)
			}
			if strings.Contains(out.String()+errb.String(), wrong) {
				t.Errorf("the secret shows:\n%s\n%s", out, errb)
			}
		})
	}
}

// TestDoctorReadsAPortalThatListsEveryone: a portal whose listing without ownerId holds
// subordinates' colleagues is said so, not called per-owner; a failing doctor --json
// prints one object.
func TestDoctorReadsAPortalThatListsEveryone(t *testing.T) {
	legacy, err := sim.ParseDialect("legacy")
	if err != nil {
		t.Fatal(err)
	}
	s, ts := serveDialect(t, legacy)
	st := s.State()
	st.Colleagues = append(st.Colleagues, sim.Colleague{ColleaguesID: 10009, YeastarID: "sub@demo.example", FirstName: "Sub",
		UserStatus: sim.StatusActive, ResourceIDs: []int64{101}, OwnerID: 2001})
	if err := s.LoadState(st); err != nil {
		t.Fatal(err)
	}
	a, out, _ := testApp(t, nil)
	if code := runApp(t.Context(), a, "doctor", "--portal", ts.URL); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(out.String(), "also lists subordinate partners' colleagues") || strings.Contains(out.String(), "listed per owner") {
		t.Errorf("doctor misreads the listing:\n%s", out)
	}

	a, out, _ = testApp(t, map[string]string{envYCMSecret: "wrong"})
	if code := runApp(t.Context(), a, "doctor", "--portal", ts.URL, "--json"); code != exitFatal {
		t.Fatalf("exit %d", code)
	}
	if n := strings.Count(strings.TrimSpace(out.String()), "\n") + 1; n != 1 {
		t.Errorf("%d lines of JSON on stdout, want 1:\n%s", n, out)
	}
}

// TestDoctorAgainstAWebSite: a URL that serves a web page, not the Yeastar API, is said
// so soon, with exit 4 (nothing can run there).
func TestDoctorAgainstAWebSite(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<!doctype html><html><body><h1>Welcome to our intranet</h1></body></html>")
	}))
	defer ts.Close()
	a, out, errb := testApp(t, nil)
	start := time.Now()
	if code := runApp(t.Context(), a, "doctor", "--portal", ts.URL); code != exitFatal {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, exitFatal, out, errb)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("doctor took %s", took)
	}
	if !strings.Contains(errb.String(), "not the Yeastar API's: check the portal URL") {
		t.Errorf("the message does not point at the URL:\n%s", errb)
	}
}

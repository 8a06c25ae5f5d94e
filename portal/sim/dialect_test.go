package sim

import (
	"bytes"
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const documentedSpec = "ids=string,partners=array,colleagues=per-owner,create=true,pp-codes=lower,ycm-errors=errcode,ycm-status=200,extension-used=absent"
const legacySpec = "ids=number,partners=page,colleagues=everyone,create=object,pp-codes=upper,ycm-errors=errno,ycm-status=http,extension-used=present"

func TestParseDialect(t *testing.T) {
	tests := []struct {
		in   string
		want string // canonical form, or the words the error must hold
		err  bool
	}{
		{"", documentedSpec, false},
		{"documented", documentedSpec, false},
		{"legacy", legacySpec, false},
		{"legacy,create=true", strings.Replace(legacySpec, "create=object", "create=true", 1), false},
		{"ids=number,partners=page", strings.Replace(strings.Replace(documentedSpec, "ids=string", "ids=number", 1), "partners=array", "partners=page", 1), false},
		{" ids = all-strings , ", strings.Replace(documentedSpec, "ids=string", "ids=all-strings", 1), false},
		{"strings-opaque", "ids=all-strings,partners=array,colleagues=per-owner,create=string,pp-codes=opaque,ycm-errors=code,ycm-status=200,extension-used=absent", false},
		{"ids=text", `"text" is not one of string, number, all-strings`, true},
		{"colour=red", "unknown key \"colour\"; the keys are ids, partners, colleagues, create, pp-codes, ycm-errors, ycm-status, extension-used", true},
		{"fancy", "neither a preset (documented, legacy, strings-opaque, numbers-http, legacy-string-ids) nor key=value", true},
		{"ids=number,legacy", `the preset "legacy" must come first`, true},
		{"create=", `create="" is not one of true, string, object, null`, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			d, err := ParseDialect(tt.in)
			switch {
			case tt.err && err == nil:
				t.Fatalf("ParseDialect(%q) = %v, want an error", tt.in, d)
			case tt.err && !strings.Contains(err.Error(), tt.want):
				t.Errorf("error %q does not say %q", err, tt.want)
			case !tt.err && err != nil:
				t.Fatal(err)
			case !tt.err && d.String() != tt.want:
				t.Errorf("ParseDialect(%q) = %s, want %s", tt.in, d, tt.want)
			}
		})
	}
	if s := (Dialect{}).String(); s != documentedSpec {
		t.Errorf("the zero Dialect is %s", s)
	}
	if _, err := New(Options{Dialect: Dialect{IDs: "text"}}); err == nil || !strings.Contains(err.Error(), "ids") {
		t.Errorf("New with an unknown ids value: %v", err)
	}
}

// The named dialects read back by name and by their canonical form, and
// between them serve every value of every field.
func TestDialectsCoverEveryValue(t *testing.T) {
	seen := map[string]bool{}
	for _, nd := range Dialects() {
		for _, name := range []string{nd.Name, nd.Dialect.String()} {
			d, err := ParseDialect(name)
			if err != nil || d != nd.Dialect {
				t.Errorf("ParseDialect(%q) = %v, %v; want %v", name, d, err, nd.Dialect)
			}
		}
		for _, kv := range strings.Split(nd.Dialect.String(), ",") {
			seen[kv] = true
		}
	}
	if ds := Dialects(); ds[0].Name != "documented" || ds[0].Dialect != (Dialect{}).norm() || ds[1].Name != "legacy" || ds[1].Dialect.String() != legacySpec {
		t.Errorf("the first two dialects: %v", ds[:2])
	}
	for _, k := range dialectKeys {
		for _, v := range k.values {
			if !seen[k.name+"="+v] {
				t.Errorf("no named dialect serves %s=%s", k.name, v)
			}
		}
	}
}

func formOf(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

// decodeAny decodes JSON keeping numbers as json.Number.
func decodeAny(t testing.TB, data []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	return v
}

// kind is the JSON kind of a value from decodeAny.
func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "bool"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "?"
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// ppResultAny checks a Partner Portal success and returns its result.
func (r resp) ppResultAny(t testing.TB) any {
	t.Helper()
	r.ppResult(t, nil)
	return decodeAny(t, r.body).(map[string]any)["result"]
}

// Every named dialect serves the shapes it names.
func TestDialectShapes(t *testing.T) {
	for _, nd := range Dialects() {
		t.Run(nd.Name, func(t *testing.T) { testDialectShapes(t, nd.Dialect) })
	}
}

func testDialectShapes(t *testing.T, d Dialect) {
	e := newEnv(t, Options{Dialect: d})
	idKind, allKind := "string", "number"
	switch d.IDs {
	case IDsNumber:
		idKind = "number"
	case IDsAllStrings:
		allKind = "string"
	}
	wantKinds := func(what string, obj any, want map[string]string) {
		t.Helper()
		m, ok := obj.(map[string]any)
		if !ok {
			t.Fatalf("%s: %v is not an object", what, obj)
		}
		for k, w := range want {
			if got := kind(m[k]); got != w {
				t.Errorf("%s: %s is a %s (%v), want a %s", what, k, got, m[k], w)
			}
		}
	}

	// Token.
	login := e.do("POST", pathPPToken, "", formOf("client_id", DemoPartnerID, "client_secret", DemoPartnerSecret,
		"grant_type", "pp_credentials")).ppResultAny(t)
	wantKinds("token", login, map[string]string{"token": "string", "expiresIn": idKind})
	tok := login.(map[string]any)["token"].(string)

	// Create: a subordinate's colleague.
	res := e.do("POST", pathColleagues, tok, `{"yeastarId":"sub@x.example","resourceIds":[101],"firstName":"S","ownerId":"2001","isRmUser":1}`).ppResultAny(t)
	switch d.Create {
	case CreateTrue:
		if res != true {
			t.Errorf("create answered %v, want true", res)
		}
	case CreateString:
		if res != "10006" {
			t.Errorf("create answered %#v, want \"10006\"", res)
		}
	case CreateObject:
		wantKinds("create", res, map[string]string{"colleaguesId": idKind})
		if m := res.(map[string]any); len(m) != 1 || string(marshal(t, m["colleaguesId"])) != map[string]string{"string": `"10006"`, "number": "10006"}[idKind] {
			t.Errorf("create answered %v", m)
		}
	case CreateNull:
		if res != nil {
			t.Errorf("create answered %v, want null", res)
		}
	}

	// List without ownerId: the partner's own, or everyone.
	page := e.do("GET", pathColleagues, tok, nil).ppResultAny(t)
	counts := map[string]string{}
	for _, k := range []string{"count", "pageNo", "pageSize", "total", "totalPage"} {
		counts[k] = allKind
	}
	counts["results"] = "array"
	wantKinds("colleague page", page, counts)
	var ids []string
	for _, c := range page.(map[string]any)["results"].([]any) {
		ids = append(ids, marshal(t, c.(map[string]any)["colleaguesId"]))
	}
	wantIDs := []string{"10001", "10002", "10003", "10004", "10005"}
	if d.Colleagues == ColleaguesEveryone {
		wantIDs = append(wantIDs, "10006")
	}
	for i := range wantIDs {
		if idKind == "string" {
			wantIDs[i] = `"` + wantIDs[i] + `"`
		}
	}
	if diff := cmp.Diff(wantIDs, ids); diff != "" {
		t.Errorf("colleagues listed without ownerId (-want +got):\n%s", diff)
	}
	sub := e.do("GET", pathColleagues+"?ownerId=2001", tok, nil).ppResultAny(t).(map[string]any)["results"].([]any)
	if len(sub) != 1 {
		t.Fatalf("ownerId=2001 lists %v", sub)
	}
	one := e.do("GET", pathColleagues+"/10006", tok, nil).ppResultAny(t)
	for _, c := range []any{sub[0], one} {
		wantKinds("colleague", c, map[string]string{"colleaguesId": idKind, "twoFactorAuthentication": idKind,
			"ownerId": idKind, "isRmUser": allKind, "createTime": allKind, "resourceIds": "array", "yeastarId": "string"})
		if k := kind(c.(map[string]any)["resourceIds"].([]any)[0]); k != allKind {
			t.Errorf("a resourceIds item is a %s, want a %s", k, allKind)
		}
	}

	// Permissions.
	perms := e.do("GET", pathResources, tok, nil).ppResultAny(t).([]any)
	wantKinds("permission", perms[0], map[string]string{"resourceId": allKind, "resourceName": "string"})

	// Subordinate partners: the documented list ignores any query parameter.
	partners := e.do("GET", pathPartners+"?pageNo=2&pageSize=1", tok, nil).ppResultAny(t)
	if d.Partners == PartnersArray {
		list, ok := partners.([]any)
		if !ok || len(list) != 2 {
			t.Fatalf("partner list %v, want an array of 2", partners)
		}
		wantKinds("partner", list[0], map[string]string{"partnerId": idKind, "email": "string", "company": "string", "userType": "string"})
	} else {
		wantKinds("partner page", partners, counts)
		list := partners.(map[string]any)["results"].([]any)
		if len(list) != 1 {
			t.Fatalf("partner page 2 of size 1: %v", partners)
		}
		wantKinds("partner", list[0], map[string]string{"partnerId": idKind, "email": "string", "company": "string"})
		if got := keys(list[0].(map[string]any)); len(got) != 3 {
			t.Errorf("partner fields %v", got)
		}
	}

	// Partner Portal error words; the HTTP statuses never change.
	words := map[string]string{}
	for _, c := range []struct {
		name   string
		r      resp
		status int
		lower  string
	}{
		{"not found", e.do("GET", pathColleagues+"/99", tok, nil), 404, "data_not_found"},
		{"validation", e.do("GET", pathColleagues+"?pageSize=0", tok, nil), 400, "parameter_validation_failed"},
		{"invalid token", e.do("GET", pathColleagues, "nonsense", nil), 401, "invalid_token"},
		{"exists", e.do("POST", pathColleagues, tok, `{"yeastarId":"SUB@x.example","resourceIds":[101],"firstName":"S"}`), 409, "email_address_already_exists"},
		{"media type", e.do("POST", pathColleagues, tok, `{}`, "Content-Type", "text/plain"), 415, "unsupported_media_type"},
		{"bad login", e.do("POST", pathPPToken, "", formOf("client_id", "x", "client_secret", "y", "grant_type", "pp_credentials")), 401, "authentication_failed"},
	} {
		env := c.r.pp(t)
		if c.r.status != c.status {
			t.Errorf("%s: HTTP %d, want %d", c.name, c.r.status, c.status)
		}
		switch d.PPCodes {
		case PPCodesLower:
			if env.Code != c.lower {
				t.Errorf("%s: code %q, want %q", c.name, env.Code, c.lower)
			}
		case PPCodesUpper:
			if want := strings.ToUpper(strings.Replace(c.lower, "parameter_", "param_", 1)); env.Code != want {
				t.Errorf("%s: code %q, want %q", c.name, env.Code, want)
			}
		case PPCodesOpaque:
			if !regexp.MustCompile(`^e[0-9]{5}$`).MatchString(env.Code) || words[env.Code] != "" {
				t.Errorf("%s: code %q, want an opaque word of its own (others: %v)", c.name, env.Code, words)
			}
		}
		words[env.Code] = c.name
	}

	// YCM: PBX objects.
	ytok := e.ycmLogin().AccessToken
	for _, id := range []string{"7701", "7702"} {
		r := e.do("GET", pathPBXInstance+id, ytok, nil)
		r.ycmData(t, nil)
		pbx := decodeAny(t, r.ycm(t).Data).(map[string]any)
		_, used := pbx["extensionUsed"]
		if used != (d.ExtensionUsed == ExtensionUsedPresent) {
			t.Errorf("PBX %s: extensionUsed present %v in %s", id, used, d.ExtensionUsed)
		}
		if _, tr := pbx["transcriptionCapacity"]; tr != (id == "7702") {
			t.Errorf("PBX %s: transcriptionCapacity present %v", id, tr)
		}
	}

	// YCM errors: field names and HTTP status.
	wantFields := map[YCMErrorFields][]string{
		YCMErrorsErrcode: {"errcode", "errmsg", "requestId", "status", "time"},
		YCMErrorsErrno:   {"detail", "errmsg", "errno", "requestId", "status", "time"},
		YCMErrorsCode:    {"code", "message", "requestId", "status", "time"},
	}[d.YCMErrors]
	notFound := e.do("GET", pathPBXInstance+"99", ytok, nil)
	e.s.SetFaults(Faults{ThrottleRate: 0.5, ThrottleBurst: 1})
	e.do("GET", pathPBXList, ytok, nil).ycmData(t, nil) // the one token
	throttled := e.do("GET", pathPBXInstance+"7701", ytok, nil)
	e.s.SetFaults(Faults{})
	for _, c := range []struct {
		name       string
		r          resp
		code, http int
		retryAfter string
	}{
		{"not found", notFound, 1000005, 200, ""},
		{"throttled", throttled, 1000040, 429, "2"},
	} {
		status, retryAfter := c.http, c.retryAfter
		if d.YCMStatus == YCMStatus200 {
			status, retryAfter = 200, ""
		}
		c.r.ycmErr(t, status, c.code)
		if got := keys(decodeAny(t, c.r.body).(map[string]any)); !slices.Equal(got, wantFields) {
			t.Errorf("%s: error fields %v, want %v", c.name, got, wantFields)
		}
		if got := c.r.header.Get("Retry-After"); got != retryAfter {
			t.Errorf("%s: Retry-After %q, want %q", c.name, got, retryAfter)
		}
	}
	status := 401
	if d.YCMStatus == YCMStatus200 {
		status = 200
	}
	e.do("GET", pathPBXList, "nonsense", nil).ycmErr(t, status, 1000036)
	e.do("POST", pathYCMToken, "", formOf("client_id", "x", "client_secret", "y", "grant_type", "client_credentials")).ycmErr(t, status, 1000002)

	// The admin API says which dialect is served.
	var got struct {
		Spec string `json:"spec"`
		Dialect
	}
	if e.admin("GET", "/_sim/dialect", "", &got); got.Spec != d.String() || got.Dialect != d.norm() {
		t.Errorf("GET /_sim/dialect: %+v, want %s", got, d)
	}
}

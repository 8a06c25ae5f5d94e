package portal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Diagnosis is what Diagnose learned of both APIs: for `ycm-onboard doctor`, before a
// first run against a real portal, and for support tickets.
type Diagnosis struct {
	Partner APIDiagnosis `json:"partner_portal"`
	YCM     APIDiagnosis `json:"ycm"`
}

// APIDiagnosis is what one API answered.
type APIDiagnosis struct {
	LoggedIn bool `json:"logged_in"`
	// TokenLifetime is what the token answer said, e.g. "30m0s"; TokenLifetimeType
	// whether it came as a JSON "number" or "string".
	TokenLifetime     string      `json:"token_lifetime,omitempty"`
	TokenLifetimeType string      `json:"token_lifetime_type,omitempty"`
	Lists             []ListShape `json:"lists"`
	Error             *ErrorShape `json:"error_shape,omitempty"`
	ThrottleHeaders   []string    `json:"throttle_headers"` // "Name: value" seen on any answer
	Throttled         int         `json:"throttled"`        // answers that said slow down
	Notes             []string    `json:"notes"`            // what the job will do about what was found
	Failure           string      `json:"failure,omitempty"`
	Kind              string      `json:"failure_kind,omitempty"`
	err               error
}

// ListShape is the shape of a list's first page.
type ListShape struct {
	Name    string            `json:"name"`
	Shape   string            `json:"shape"` // "page object" or "array"
	Items   int               `json:"items"` // on the first page
	Total   int               `json:"total,omitempty"`
	IDTypes map[string]string `json:"id_types,omitempty"` // field → "number", "string", "absent" or "mixed"
	Failure string            `json:"failure,omitempty"`
}

// ErrorShape is how the API answered a harmless mistake (an unknown id).
type ErrorShape struct {
	Asked      string   `json:"asked"`
	HTTPStatus int      `json:"http_status"`
	Fields     []string `json:"fields"` // the error body's top-level field names
	Code       string   `json:"code,omitempty"`
	Errno      int      `json:"errno,omitempty"`
	Kind       string   `json:"kind"`       // as the client reads it
	Recognised bool     `json:"recognised"` // read as "not found", as it should be
}

// Fatal is the first failure that stops any run against this portal (a refused login,
// a blocked IP, no answer), nil if none.
func (d Diagnosis) Fatal() error {
	for _, a := range []APIDiagnosis{d.Partner, d.YCM} {
		if a.err != nil && stops(a.err) {
			return a.err
		}
	}
	return nil
}

// stops reports an error after which nothing more can be learned from this API: a
// refused login, a blocked IP, no answer, or answers that are not the API's (a wrong URL
// serving a web page, or a portal failing outright).
func stops(err error) bool {
	switch KindOf(err) {
	case KindNetwork, KindUnknown, KindServer:
		return true
	}
	return Fatal(err)
}

// Ready reports whether the job can run against this portal: both logins worked, every
// list the job reads was read, and errors are recognised.
func (d Diagnosis) Ready() bool {
	for _, a := range []APIDiagnosis{d.Partner, d.YCM} {
		if !a.LoggedIn || a.Failure != "" || (a.Error != nil && !a.Error.Recognised) {
			return false
		}
		for _, l := range a.Lists {
			if l.Failure != "" && l.Name != "YCM users" { // without them, re-invites re-create
				return false
			}
		}
	}
	return true
}

const unknownID = "999999999999"

// Diagnose logs in to each API once, reads the first page of every list the job
// reads, asks for an unknown colleague and an unknown PBX to see the error shape, and
// says what it found. It writes nothing. A refused login is not tried again (the
// clients never retry one), so a wrong secret costs one failed login per API.
func Diagnose(ctx context.Context, p *PartnerClient, y *YCMClient) Diagnosis {
	var d Diagnosis
	d.Partner = diagnose(ctx, p.c, "/auth/openapi/v1/oauth/token", "expiresIn", []probe{
		{name: "colleagues", path: colleaguesPath, query: url.Values{"pageNo": {"1"}, "pageSize": {"25"}},
			ids: []string{"colleaguesId", "ownerId", "twoFactorAuthentication", "resourceIds"}},
		{name: "subordinate partners", path: "/user/openapi/user/v1/client/partner_list", ids: []string{"partnerId"}},
		{name: "permissions", path: "/user/openapi/user/v1/users/resource_list", ids: []string{"resourceId"}},
	}, "colleague "+unknownID, colleaguesPath+"/"+unknownID)
	d.YCM = diagnose(ctx, y.c, "/dm/open_api/oauth/token", "expires_in", []probe{
		{name: "cloud PBXs", path: "/dm/open_api/v2/cloud_pbx/instances", query: url.Values{"pageSize": {"50"}, "pageNumber": {"1"}},
			ids: []string{"cloudPbxId", "extensionCapacity", "extensionUsed", "transcriptionCapacity"}},
		{name: "YCM users", path: "/dm/open_api/v2/users", query: url.Values{"pageSize": {"50"}, "pageNumber": {"1"}},
			ids: []string{"userId"}},
	}, "cloud PBX "+unknownID, "/dm/open_api/v1/cloud_pbx/instances/"+unknownID)
	d.notes()
	return d
}

type probe struct {
	name  string
	path  string
	query url.Values
	ids   []string
}

func diagnose(ctx context.Context, c *conn, tokenPath, lifetimeKey string, lists []probe, asked, errPath string) APIDiagnosis {
	a := APIDiagnosis{Lists: []ListShape{}, ThrottleHeaders: []string{}, Notes: []string{}}
	headers := map[string]bool{}
	errFields := []string{}
	c.tap = func(path string, status int, h http.Header, body []byte) {
		if path == c.base.Path+errPath {
			var m map[string]json.RawMessage
			if json.Unmarshal(body, &m) == nil {
				errFields = slices.Sorted(maps.Keys(m))
			}
		}
		for name, vs := range h {
			l := strings.ToLower(name)
			if strings.Contains(l, "ratelimit") || strings.Contains(l, "rate-limit") || l == "retry-after" {
				headers[name+": "+strings.Join(vs, ", ")] = true
			}
		}
		if strings.HasSuffix(path, tokenPath) && status < 300 {
			// Only the lifetime's type and value: the rest holds the token.
			v := tokenField(body, lifetimeKey)
			if n, err := parseNum(v); err == nil && n > 0 {
				a.TokenLifetime = (time.Duration(n) * time.Second).String()
				a.TokenLifetimeType = jsonType(v)
			}
		}
	}
	defer func() { c.tap = nil }()
	var st CallStats
	ctx = WithCallStats(ctx, &st)
	everyone := false // the own listing holds subordinates' colleagues

	for _, pr := range lists {
		ls := ListShape{Name: pr.name}
		var raw json.RawMessage
		_, err := c.do(ctx, request{op: "read " + pr.name, method: http.MethodGet, path: pr.path, query: pr.query}, &raw)
		if err != nil {
			ls.Failure = err.Error()
			a.Lists = append(a.Lists, ls)
			if stops(err) {
				a.fail(err)
				break
			}
			continue
		}
		var l list[map[string]json.RawMessage]
		if err := json.Unmarshal(raw, &l); err != nil {
			ls.Failure = "unreadable: " + err.Error()
		}
		ls.Shape, ls.Items, ls.Total = "array", len(l.Items), l.Total
		if l.Paged {
			ls.Shape = "page object"
		}
		ls.IDTypes = map[string]string{}
		for _, f := range pr.ids {
			ls.IDTypes[f] = fieldType(l.Items, f)
		}
		if pr.name == "colleagues" {
			for _, it := range l.Items {
				if n, err := parseNum(it["ownerId"]); err == nil && n != 0 {
					everyone = true
				}
			}
		}
		a.Lists = append(a.Lists, ls)
	}
	if a.err == nil {
		var raw json.RawMessage
		_, err := c.do(ctx, request{op: "read " + asked, method: http.MethodGet, path: errPath}, &raw)
		es := &ErrorShape{Asked: asked, Fields: []string{}}
		var pe *Error
		switch {
		case err == nil:
			es.Kind = "none: the portal answered success"
		case errors.As(err, &pe):
			es.HTTPStatus, es.Code, es.Errno, es.Kind = pe.HTTPStatus, pe.Code, pe.Errno, pe.Kind.String()
			es.Recognised = pe.Kind == KindNotFound
			if Fatal(err) || pe.Kind == KindNetwork {
				a.fail(err)
			}
		default:
			es.Kind = err.Error()
		}
		es.Fields = errFields
		a.Error = es
	}
	if _, err, ok := c.tokens.current(); ok && err == nil {
		a.LoggedIn = true
	}
	if everyone {
		a.Notes = append(a.Notes, "listing colleagues without ownerId also lists subordinate partners' colleagues: "+
			"the job asks per owner anyway and keeps each colleague once")
	} else if a.LoggedIn && len(a.Lists) > 0 && a.Lists[0].Name == "colleagues" && a.Lists[0].Failure == "" {
		a.Notes = append(a.Notes, "colleagues are listed per owner: once for the partner and once per subordinate partner")
	}
	a.ThrottleHeaders = nonNil(slices.Sorted(maps.Keys(headers)))
	a.Throttled = int(st.Throttled.Load())
	return a
}

func (a *APIDiagnosis) fail(err error) {
	a.err, a.Failure, a.Kind = err, err.Error(), KindOf(err).String()
	if KindOf(err) == KindAuth || KindOf(err) == KindIPBlocked {
		a.LoggedIn = false
	}
}

// tokenField is one field of a token answer, enveloped (Partner Portal) or not (YCM).
func tokenField(body []byte, key string) json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return nil
	}
	if v, ok := m[key]; ok {
		return v
	}
	var inner map[string]json.RawMessage
	if json.Unmarshal(m["result"], &inner) == nil {
		return inner[key]
	}
	return nil
}

func jsonType(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	switch {
	case len(v) == 0:
		return "absent"
	case v[0] == '"':
		return "string"
	case v[0] == '[':
		return "array"
	case v[0] == '{':
		return "object"
	case string(v) == "true" || string(v) == "false":
		return "boolean"
	case string(v) == "null":
		return "null"
	}
	return "number"
}

// fieldType is the JSON type a field has across items: an array's items' type for a
// list field such as resourceIds.
func fieldType(items []map[string]json.RawMessage, field string) string {
	seen := map[string]bool{}
	for _, it := range items {
		v, ok := it[field]
		if !ok {
			seen["absent"] = true
			continue
		}
		t := jsonType(v)
		if t == "array" {
			var elems []json.RawMessage
			if json.Unmarshal(v, &elems) == nil && len(elems) > 0 {
				t = jsonType(elems[0])
			} else {
				continue
			}
		}
		seen[t] = true
	}
	switch len(seen) {
	case 0:
		return "unknown (no items)"
	case 1:
		for t := range seen {
			return t
		}
	}
	ts := slices.Sorted(maps.Keys(seen))
	return "mixed (" + strings.Join(ts, ", ") + ")"
}

// notes says what the job will do about what was found.
func (d *Diagnosis) notes() {
	for _, l := range d.YCM.Lists {
		switch {
		case l.Name == "cloud PBXs" && l.Failure == "":
			switch t := l.IDTypes["extensionUsed"]; {
			case l.Items == 0:
			case t == "absent":
				d.YCM.Notes = append(d.YCM.Notes, "YCM does not say how many extensions are in use: a shrink needs --allow-shrink")
			case strings.HasPrefix(t, "mixed"):
				d.YCM.Notes = append(d.YCM.Notes, "YCM says how many extensions are in use for some PBXs only: shrinking the others needs --allow-shrink")
			default:
				d.YCM.Notes = append(d.YCM.Notes, "YCM says how many extensions are in use: no shrink goes below it")
			}
			if t := l.IDTypes["transcriptionCapacity"]; l.Items > 0 && t != "absent" {
				d.YCM.Notes = append(d.YCM.Notes, "PBXs carry a transcription capacity: every resize sends it back unchanged")
			}
		case l.Name == "YCM users" && l.Failure != "":
			d.YCM.Notes = append(d.YCM.Notes, "YCM does not list its users: expired invitations are re-sent by deleting and creating the colleague again")
		case l.Name == "YCM users":
			d.YCM.Notes = append(d.YCM.Notes, "YCM lists its users: an expired colleague listed there gets YCM's activation e-mail and keeps the account")
		}
	}
	if d.YCM.LoggedIn && len(d.YCM.ThrottleHeaders) == 0 && d.YCM.Throttled == 0 {
		d.YCM.Notes = append(d.YCM.Notes, "no rate-limit headers seen: the client slows down when YCM answers 1000040 or HTTP 429")
	}
	for _, a := range []*APIDiagnosis{&d.Partner, &d.YCM} {
		if a.Throttled > 0 && len(a.ThrottleHeaders) == 0 {
			a.Notes = append(a.Notes, "throttled without rate-limit headers: the client backs off and slows its pace by itself")
		}
	}
}

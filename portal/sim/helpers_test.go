package sim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// start is a fixed base clock: tests move the simulated time with Advance.
var start = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

type env struct {
	t   testing.TB
	s   *Server
	url string
	hc  *http.Client
}

func newEnv(t testing.TB, opts Options) *env {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return start }
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return &env{t: t, s: s, url: ts.URL, hc: ts.Client()}
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request; a string body is sent as is, anything else as JSON.
func (e *env) do(method, path, token string, body any, hdr ...string) resp {
	e.t.Helper()
	r, err := e.send(method, path, token, body, hdr...)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

func (e *env) send(method, path, token string, body any, hdr ...string) (resp, error) {
	e.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
		ct = "application/json"
	case url.Values:
		rd = strings.NewReader(b.Encode())
		ct = "application/x-www-form-urlencoded"
	default:
		data, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
		ct = "application/json"
	}
	req, err := http.NewRequestWithContext(e.t.Context(), method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("User-Agent", "sim-test")
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1]) // "" sends no User-Agent at all

	}
	res, err := e.hc.Do(req)
	if err != nil {
		return resp{}, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return resp{}, err
	}
	return resp{res.StatusCode, res.Header, data}, nil
}

// ppEnvelope is the Partner Portal envelope.
type ppEnvelope struct {
	Code          string          `json:"code"`
	DetailMessage string          `json:"detailMessage"`
	RequestID     string          `json:"requestId"`
	Result        json.RawMessage `json:"result"`
	Status        int             `json:"status"`
}

// ycmEnvelope is both YCM envelopes, with the error fields of every dialect.
type ycmEnvelope struct {
	Data      json.RawMessage `json:"data"`
	Errcode   int             `json:"errcode"` // ycm-errors=errcode
	Errno     int             `json:"errno"`   // ycm-errors=errno
	Code      int             `json:"code"`    // ycm-errors=code
	Errmsg    string          `json:"errmsg"`
	Detail    string          `json:"detail"`
	Message   string          `json:"message"`
	RequestID string          `json:"requestId"`
	Status    string          `json:"status"`
	Time      int64           `json:"time"`
}

// code is the error code, whichever field carries it.
func (e ycmEnvelope) code() int { return e.Errcode + e.Errno + e.Code }

// reason is the error's explanation, where the dialect carries one.
func (e ycmEnvelope) reason() string { return e.Detail + e.Message }

func strictDecode(t testing.TB, data []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
}

func (r resp) pp(t testing.TB) ppEnvelope {
	t.Helper()
	var env ppEnvelope
	strictDecode(t, r.body, &env)
	if env.Status != r.status {
		t.Errorf("envelope status %d, HTTP %d", env.Status, r.status)
	}
	if env.RequestID == "" {
		t.Errorf("no requestId in %s", r.body)
	}
	return env
}

func (r resp) ycm(t testing.TB) ycmEnvelope {
	t.Helper()
	var env ycmEnvelope
	strictDecode(t, r.body, &env)
	if env.RequestID == "" || env.Time == 0 {
		t.Errorf("no requestId or time in %s", r.body)
	}
	return env
}

// ppResult checks a Partner Portal success and decodes its result strictly.
func (r resp) ppResult(t testing.TB, v any) {
	t.Helper()
	env := r.pp(t)
	if r.status != 200 || env.Code != "success" {
		t.Fatalf("want success, got HTTP %d %s", r.status, r.body)
	}
	if v != nil {
		strictDecode(t, env.Result, v)
	}
}

// ppErr checks a Partner Portal error.
func (r resp) ppErr(t testing.TB, status int, code string) ppEnvelope {
	t.Helper()
	env := r.pp(t)
	if r.status != status || env.Code != code {
		t.Fatalf("want HTTP %d %s, got HTTP %d %s", status, code, r.status, r.body)
	}
	return env
}

func (r resp) ycmData(t testing.TB, v any) {
	t.Helper()
	env := r.ycm(t)
	if r.status != 200 || env.Status != "Success" || env.code() != 0 {
		t.Fatalf("want success, got HTTP %d %s", r.status, r.body)
	}
	if v != nil {
		strictDecode(t, env.Data, v)
	}
}

func (r resp) ycmErr(t testing.TB, status, errno int) ycmEnvelope {
	t.Helper()
	env := r.ycm(t)
	if r.status != status || env.code() != errno || env.Status != "Failed" {
		t.Fatalf("want HTTP %d code %d, got HTTP %d %s", status, errno, r.status, r.body)
	}
	return env
}

type tokPP struct {
	Token        string `json:"token"`
	TokenHead    string `json:"tokenHead"`
	RefreshToken string `json:"refreshToken"`
	ExpiresIn    int    `json:"expiresIn,string"` // documented as a String
}

type tokYCM struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	JTI          string `json:"jti"`
}

func (e *env) ppLogin() tokPP {
	e.t.Helper()
	var tok tokPP
	e.do("POST", pathPPToken, "", url.Values{"client_id": {DemoPartnerID}, "client_secret": {DemoPartnerSecret},
		"grant_type": {"pp_credentials"}}).ppResult(e.t, &tok)
	return tok
}

func (e *env) ycmLogin() tokYCM {
	e.t.Helper()
	r := e.do("POST", pathYCMToken, "", url.Values{"client_id": {DemoYCMID}, "client_secret": {DemoYCMSecret},
		"grant_type": {"client_credentials"}})
	if r.status != 200 {
		e.t.Fatalf("YCM login: HTTP %d %s", r.status, r.body)
	}
	var tok tokYCM
	strictDecode(e.t, r.body, &tok)
	return tok
}

// checkWire compares every colleague the API lists, owner by owner, with the
// simulator's own view.
func (e *env) checkWire() {
	e.t.Helper()
	tok := e.ppLogin().Token
	var listed []wireColleague
	for _, owner := range []string{"", "2001", "2002"} {
		for pageNo := 1; ; pageNo++ {
			var page wirePage[wireColleague]
			e.do("GET", pathColleagues+"?pageSize=100&ownerId="+owner+"&pageNo="+strconv.Itoa(pageNo), tok, nil).ppResult(e.t, &page)
			listed = append(listed, page.Results...)
			if pageNo >= page.TotalPage {
				break
			}
		}
	}
	slices.SortFunc(listed, func(a, b wireColleague) int { return cmpInt(a.ColleaguesID, b.ColleaguesID) })
	var want []wireColleague
	for _, c := range e.s.Colleagues() {
		want = append(want, wireColleague{c.ColleaguesID, c.YeastarID, c.FirstName, c.LastName, c.UserStatus,
			c.TwoFactorAuthentication, c.ResourceIDs, c.IsRmUser, c.Remark, c.OwnerID, c.CreateTime})
	}
	if diff := cmp.Diff(want, listed); diff != "" {
		e.t.Errorf("listed colleagues differ from the world (-world +listed):\n%s", diff)
	}
}

// create creates a colleague and returns its id, which the documented answer
// does not carry: the simulator's world tells.
func (e *env) create(tok string, body any) int64 {
	e.t.Helper()
	e.do("POST", pathColleagues, tok, body).ppResult(e.t, nil)
	cols := e.s.Colleagues()
	return cols[len(cols)-1].ColleaguesID
}

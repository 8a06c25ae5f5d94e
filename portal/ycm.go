package portal

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// PBX is a cloud PBX instance in Yeastar Central Management.
type PBX struct {
	ID               int64
	SN               string
	Name             string
	Plan             string
	Extensions       int
	ConcurrentCalls  int
	RecordingStatus  string // Enabled or Disabled
	RecordingMinutes int
	Transcription    int // transcription capacity; -1 when the PBX has none
	ExtensionsUsed   int // -1 when the portal does not say (YCM documents no such field)
	Status           string
	Activation       string
	URL              string
	Region           string
}

// Capacity is the size of a PBX, as a resize sets it. A resize sends every capacity
// the API takes, so one it does not mean to change keeps its value.
type Capacity struct {
	Extensions       int
	ConcurrentCalls  int
	RecordingStatus  string
	RecordingMinutes int
	Transcription    int // sent when HasTranscription
	HasTranscription bool
}

// CapacityOf is a PBX's current capacity.
func CapacityOf(p PBX) Capacity {
	c := Capacity{Extensions: p.Extensions, ConcurrentCalls: p.ConcurrentCalls,
		RecordingStatus: p.RecordingStatus, RecordingMinutes: p.RecordingMinutes}
	if p.Transcription >= 0 {
		c.Transcription, c.HasTranscription = p.Transcription, true
	}
	return c
}

// YCMUser is a user of Yeastar Central Management (GET /dm/open_api/v2/users).
type YCMUser struct {
	ID        int64
	Email     string
	FirstName string
	LastName  string
	Type      string // "My Colleague", "Reseller" or "Hosting User"
}

// Colleague reports whether the user is one of the partner's colleagues.
func (u YCMUser) Colleague() bool {
	t := strings.ToLower(strings.ReplaceAll(u.Type, " ", ""))
	return t == "" || t == "mycolleague" || t == "colleague"
}

// YCMClient is the Yeastar Central Management API client.
type YCMClient struct{ c *conn }

// NewYCM returns a YCM client. It does not log in until the first call.
func NewYCM(cfg Config) (*YCMClient, error) {
	c, err := newConn(cfg, ycmDialect{})
	if err != nil {
		return nil, err
	}
	return &YCMClient{c: c}, nil
}

// Calls is the number of API requests sent so far (logins excluded).
func (y *YCMClient) Calls() int64 { return y.c.calls.Load() }

// RateLimit is the limiter's current pace in requests per second.
func (y *YCMClient) RateLimit() float64 { return y.c.lim.Limit() }

type wirePBX struct {
	CloudPbxID             num    `json:"cloudPbxId"`
	SN                     string `json:"sn"`
	Name                   string `json:"name"`
	Plan                   string `json:"plan"`
	ExtensionCapacity      num    `json:"extensionCapacity"`
	ConcurrentCallCapacity num    `json:"concurrentCallCapacity"`
	RecordingStatus        string `json:"recordingStatus"`
	RecordingCapacity      num    `json:"recordingCapacity"`
	TranscriptionCapacity  *num   `json:"transcriptionCapacity"`
	ExtensionUsed          *num   `json:"extensionUsed"`
	PbxStatus              string `json:"pbxStatus"`
	ActivationStatus       string `json:"activationStatus"`
	URL                    string `json:"url"`
	Region                 string `json:"region"`
}

func (w wirePBX) pbx() PBX {
	p := PBX{ID: int64(w.CloudPbxID), SN: w.SN, Name: w.Name, Plan: w.Plan, Extensions: int(w.ExtensionCapacity),
		ConcurrentCalls: int(w.ConcurrentCallCapacity), RecordingStatus: w.RecordingStatus,
		RecordingMinutes: int(w.RecordingCapacity), Transcription: -1, ExtensionsUsed: -1, Status: w.PbxStatus,
		Activation: w.ActivationStatus, URL: w.URL, Region: w.Region}
	if w.TranscriptionCapacity != nil {
		p.Transcription = int(*w.TranscriptionCapacity)
	}
	if w.ExtensionUsed != nil {
		p.ExtensionsUsed = int(*w.ExtensionUsed)
	}
	return p
}

const ycmPageSize = 50 // the documented maximum

// ycmPages fetches every item of a YCM list: the first page tells the total, the rest
// are fetched concurrently (at most 4 at once) and yielded in order.
func ycmPages[T any](ctx context.Context, c *conn, op, path string) iter.Seq2[T, error] {
	return allPages(func(n int) ([]T, int, error) {
		var l list[T]
		_, err := c.do(ctx, request{op: op, method: http.MethodGet, path: path,
			query: url.Values{"pageSize": {strconv.Itoa(ycmPageSize)}, "pageNumber": {strconv.Itoa(n)}}}, &l)
		return l.Items, l.pageCount(), err
	})
}

// PBXs lists every cloud PBX.
func (y *YCMClient) PBXs(ctx context.Context) iter.Seq2[PBX, error] {
	return func(yield func(PBX, error) bool) {
		for w, err := range ycmPages[wirePBX](ctx, y.c, "list cloud PBXs", "/dm/open_api/v2/cloud_pbx/instances") {
			if !yield(w.pbx(), err) {
				return
			}
		}
	}
}

// PBX reads one cloud PBX.
func (y *YCMClient) PBX(ctx context.Context, id int64) (PBX, error) {
	var w wirePBX
	_, err := y.c.do(ctx, request{op: fmt.Sprintf("read cloud PBX %d", id), method: http.MethodGet,
		path: "/dm/open_api/v1/cloud_pbx/instances/" + strconv.FormatInt(id, 10)}, &w)
	return w.pbx(), err
}

// Resize sets a PBX's capacity. It is idempotent, so a lost answer is simply retried.
func (y *YCMClient) Resize(ctx context.Context, id int64, c Capacity) error {
	body := map[string]any{
		"extensionCapacity":      c.Extensions,
		"concurrentCallCapacity": c.ConcurrentCalls,
		"recordingStatus":        c.RecordingStatus,
		"recordingCapacity":      c.RecordingMinutes,
	}
	if c.HasTranscription {
		body["transcriptionCapacity"] = c.Transcription
	}
	_, err := y.c.do(ctx, request{op: fmt.Sprintf("resize cloud PBX %d", id), method: http.MethodPut,
		path: "/dm/open_api/v1/cloud_pbx/instances/" + strconv.FormatInt(id, 10) + "/capacity",
		body: body, write: true}, nil)
	return err
}

// Users lists the users of YCM.
func (y *YCMClient) Users(ctx context.Context) iter.Seq2[YCMUser, error] {
	type wire struct {
		UserID    num    `json:"userId"`
		Email     string `json:"email"`
		FirstName string `json:"firstName"`
		LastName  string `json:"lastName"`
		UserType  string `json:"userType"`
	}
	return func(yield func(YCMUser, error) bool) {
		for w, err := range ycmPages[wire](ctx, y.c, "list YCM users", "/dm/open_api/v2/users") {
			u := YCMUser{ID: int64(w.UserID), Email: w.Email, FirstName: w.FirstName, LastName: w.LastName, Type: w.UserType}
			if !yield(u, err) {
				return
			}
		}
	}
}

// SendActivation sends a YCM user a new account activation e-mail. Whether an e-mail
// went out cannot be read back, so an attempt whose answer was lost (no answer, or a
// server error) is not repeated: the call fails, and the next run sends it once more
// if the link still looks expired. Retrying here sent up to one e-mail per attempt.
func (y *YCMClient) SendActivation(ctx context.Context, userID int64) error {
	_, err := y.c.do(ctx, request{op: fmt.Sprintf("send YCM user %d an activation e-mail", userID), method: http.MethodPost,
		path: "/dm/open_api/v1/users/" + strconv.FormatInt(userID, 10) + "/activation_email", write: true, sendOnce: true}, nil)
	return err
}

const ycmAPI = "ycm"

type ycmDialect struct{}

func (ycmDialect) name() string { return ycmAPI }

var ycmCodes = map[int]Kind{
	1000002: KindAuth,
	1000004: KindValidation,
	1000005: KindNotFound,
	1000007: KindExists,
	1000019: KindExists,
	1000035: KindAuth,
	1000036: KindAuth,
	1000040: KindThrottled,
	1000042: KindIPBlocked,
	1000043: KindAuth,
}

// The guides show YCM's error codes but not the names of the fields that hold them:
// these are the names Yeastar's APIs use, tried in order.
var (
	ycmCodeKeys    = [...]string{"errcode", "errno", "errCode", "error_code", "errorCode", "code"}
	ycmMessageKeys = [...]string{"errmsg", "errMsg", "message", "msg", "error_description", "errorMessage", "detailMessage", "error"}
)

// ycmError reads an error answer whatever its field names: the code from the first
// field that holds a number, else from any field holding one of YCM's codes.
func ycmError(status int, env map[string]json.RawMessage) *Error {
	e := &Error{HTTPStatus: status}
	str := func(k string) string {
		var v string
		if raw, ok := env[k]; ok && json.Unmarshal(raw, &v) == nil {
			return strings.TrimSpace(v)
		}
		return ""
	}
	e.RequestID = str("requestId")
	for _, k := range ycmCodeKeys {
		if raw, ok := env[k]; ok {
			if n, err := parseNum(raw); err == nil && n != 0 {
				e.Errno = int(n)
				break
			}
		}
	}
	if e.Errno == 0 {
		for k, raw := range env {
			if n, err := parseNum(raw); err == nil && k != "time" {
				if _, known := ycmCodes[int(n)]; known {
					e.Errno = int(n)
					break
				}
			}
		}
	}
	for _, k := range ycmMessageKeys {
		if m := str(k); m != "" {
			if isWord(m) && e.Code == "" {
				e.Code = m // RATE_LIMIT_EXCEEDED: a code word, not an explanation
				continue
			}
			e.Message = m
			break
		}
	}
	if d := str("detail"); d != "" && e.Message == "" {
		e.Message = d
	}
	if k, ok := ycmCodes[e.Errno]; ok {
		e.Kind = k
	} else if k := statusKind(status); k != KindUnknown {
		e.Kind = k
	} else {
		e.Kind = KindValidation
	}
	if status >= 500 && e.Kind != KindThrottled {
		e.Kind = KindServer
	}
	return e
}

// isWord reports whether s looks like an error word (RATE_LIMIT_EXCEEDED), not a sentence.
func isWord(s string) bool {
	if s == "" || strings.ContainsAny(s, " .,:;") {
		return false
	}
	return strings.ToUpper(s) == s && strings.Contains(s, "_")
}

// ycmToken is the token endpoint's answer, which is not enveloped (OAuth style).
type ycmToken struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    num    `json:"expires_in"`
}

func (ycmDialect) decode(status int, h http.Header, body []byte, out any) error {
	var env map[string]json.RawMessage
	if err := json.Unmarshal(body, &env); err != nil || env == nil {
		if status >= 300 {
			return &Error{Kind: statusKind(status), HTTPStatus: status, Message: snippet(body)}
		}
		return &Error{Kind: KindServer, HTTPStatus: status, Message: "unreadable answer: " + snippet(body)}
	}
	rawStatus, enveloped := env["status"]
	var st string
	if enveloped && json.Unmarshal(rawStatus, &st) != nil {
		enveloped = false // a status that is not Success or Failed: not YCM's envelope
	}
	if tok, ok := out.(*ycmToken); ok && status < 300 && rawStatus == nil {
		if err := json.Unmarshal(body, tok); err != nil {
			return &Error{Kind: KindServer, HTTPStatus: status, Message: "unreadable answer: " + err.Error()}
		}
		return nil
	}
	switch {
	case enveloped && status < 300 && strings.EqualFold(st, "Success"):
		data := env["data"]
		if out == nil || len(data) == 0 || string(data) == "null" {
			return nil
		}
		if err := json.Unmarshal(data, out); err != nil {
			var rid string
			_ = json.Unmarshal(env["requestId"], &rid)
			return &Error{Kind: KindServer, HTTPStatus: status, RequestID: rid, Message: "unexpected answer: " + err.Error()}
		}
		return nil
	case enveloped || status >= 300:
		return ycmError(status, env)
	}
	if e := ycmError(status, env); e.Errno != 0 {
		return e
	}
	return &Error{Kind: KindServer, HTTPStatus: status, Message: "unreadable answer: " + snippet(body)}
}

func (ycmDialect) login(ctx context.Context, c *conn, refresh string) (token, error) {
	form := url.Values{"client_id": {c.cfg.ClientID}, "client_secret": {c.cfg.ClientSecret}}
	if refresh != "" {
		form.Set("grant_type", "refresh_token")
		form.Set("refresh_token", refresh)
	} else {
		form.Set("grant_type", "client_credentials")
	}
	var res ycmToken
	if err := c.postForm(ctx, "/dm/open_api/oauth/token", form, &res); err != nil {
		return token{}, err
	}
	if res.AccessToken == "" {
		return token{}, &Error{Kind: KindAuth, API: ycmAPI, Message: "the token endpoint answered without a token"}
	}
	return newToken(c.cfg.Now(), res.AccessToken, res.RefreshToken, int64(res.ExpiresIn)), nil
}

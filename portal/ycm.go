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
	"time"
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
	ExtensionsUsed   int // -1 when the portal does not say
	Status           string
	Activation       string
	URL              string
	Region           string
}

// Capacity is the size of a PBX, as a resize sets it.
type Capacity struct {
	Extensions       int
	ConcurrentCalls  int
	RecordingStatus  string
	RecordingMinutes int
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
	CloudPbxID             int64  `json:"cloudPbxId"`
	SN                     string `json:"sn"`
	Name                   string `json:"name"`
	Plan                   string `json:"plan"`
	ExtensionCapacity      int    `json:"extensionCapacity"`
	ConcurrentCallCapacity int    `json:"concurrentCallCapacity"`
	RecordingStatus        string `json:"recordingStatus"`
	RecordingCapacity      int    `json:"recordingCapacity"`
	ExtensionUsed          *int   `json:"extensionUsed"`
	PbxStatus              string `json:"pbxStatus"`
	ActivationStatus       string `json:"activationStatus"`
	URL                    string `json:"url"`
	Region                 string `json:"region"`
}

func (w wirePBX) pbx() PBX {
	p := PBX{ID: w.CloudPbxID, SN: w.SN, Name: w.Name, Plan: w.Plan, Extensions: w.ExtensionCapacity,
		ConcurrentCalls: w.ConcurrentCallCapacity, RecordingStatus: w.RecordingStatus,
		RecordingMinutes: w.RecordingCapacity, ExtensionsUsed: -1, Status: w.PbxStatus,
		Activation: w.ActivationStatus, URL: w.URL, Region: w.Region}
	if w.ExtensionUsed != nil {
		p.ExtensionsUsed = *w.ExtensionUsed
	}
	return p
}

const pbxPageSize = 50 // the documented maximum

// PBXs lists every cloud PBX: the first page tells the total, the rest are fetched
// concurrently (at most 4 at once) and yielded in order.
func (y *YCMClient) PBXs(ctx context.Context) iter.Seq2[PBX, error] {
	type page struct {
		PageSize   int       `json:"pageSize"`
		PageNumber int       `json:"pageNumber"`
		Total      int       `json:"total"`
		List       []wirePBX `json:"list"`
	}
	return func(yield func(PBX, error) bool) {
		for w, err := range allPages(func(n int) ([]wirePBX, int, error) {
			var pg page
			_, err := y.c.do(ctx, request{op: "list cloud PBXs", method: http.MethodGet,
				path:  "/dm/open_api/v2/cloud_pbx/instances",
				query: url.Values{"pageSize": {strconv.Itoa(pbxPageSize)}, "pageNumber": {strconv.Itoa(n)}}}, &pg)
			size := pg.PageSize
			if size <= 0 {
				size = pbxPageSize
			}
			return pg.List, ceilDiv(pg.Total, size), err
		}) {
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
	_, err := y.c.do(ctx, request{op: fmt.Sprintf("resize cloud PBX %d", id), method: http.MethodPut,
		path: "/dm/open_api/v1/cloud_pbx/instances/" + strconv.FormatInt(id, 10) + "/capacity",
		body: body, write: true}, nil)
	return err
}

const ycmAPI = "ycm"

type ycmDialect struct{}

func (ycmDialect) name() string { return ycmAPI }

type ycmEnvelope struct {
	Data      json.RawMessage `json:"data"`
	RequestID string          `json:"requestId"`
	Status    string          `json:"status"`
	Errno     json.RawMessage `json:"errno"`
	Errmsg    string          `json:"errmsg"`
	Detail    string          `json:"detail"`
}

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

func (ycmDialect) decode(status int, h http.Header, body []byte, out any) error {
	var env ycmEnvelope
	if err := json.Unmarshal(body, &env); err != nil || env.Status == "" {
		if status >= 300 {
			return &Error{Kind: statusKind(status), HTTPStatus: status, Message: snippet(body)}
		}
		// The token endpoint answers without an envelope.
		if out != nil && err == nil {
			if err := json.Unmarshal(body, out); err == nil {
				return nil
			}
		}
		return &Error{Kind: KindServer, HTTPStatus: status, Message: "unreadable answer: " + snippet(body)}
	}
	if strings.EqualFold(env.Status, "Success") && status < 300 {
		if out == nil || len(env.Data) == 0 || string(env.Data) == "null" {
			return nil
		}
		if err := json.Unmarshal(env.Data, out); err != nil {
			return &Error{Kind: KindServer, HTTPStatus: status, RequestID: env.RequestID,
				Message: "unexpected answer: " + err.Error()}
		}
		return nil
	}
	errno, _ := strconv.Atoi(strings.Trim(string(env.Errno), `"`))
	e := &Error{HTTPStatus: status, Errno: errno, Code: env.Errmsg, Message: env.Detail, RequestID: env.RequestID}
	if k, ok := ycmCodes[errno]; ok {
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

func (ycmDialect) login(ctx context.Context, c *conn, refresh string) (token, error) {
	form := url.Values{"client_id": {c.cfg.ClientID}, "client_secret": {c.cfg.ClientSecret}}
	if refresh != "" {
		form.Set("grant_type", "refresh_token")
		form.Set("refresh_token", refresh)
	} else {
		form.Set("grant_type", "client_credentials")
	}
	var res struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		ExpiresIn    int64  `json:"expires_in"`
	}
	if err := c.postForm(ctx, "/dm/open_api/oauth/token", form, &res); err != nil {
		return token{}, err
	}
	if res.AccessToken == "" {
		return token{}, &Error{Kind: KindAuth, API: ycmAPI, Message: "the token endpoint answered without a token"}
	}
	return token{access: res.AccessToken, refresh: res.RefreshToken,
		expiry: c.cfg.Now().Add(time.Duration(res.ExpiresIn) * time.Second)}, nil
}

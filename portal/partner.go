package portal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	conciter "github.com/sourcegraph/conc/iter"
)

// Status is a colleague's account status as the Partner Portal reports it.
type Status string

const (
	StatusActive   Status = "Active"
	StatusUnActive Status = "UnActive" // invited, not yet activated
	StatusFrozen   Status = "Freeze"
)

// Colleague is a Partner Portal colleague.
type Colleague struct {
	ID            int64
	Email         string // the Yeastar ID
	FirstName     string
	LastName      string
	Status        Status
	PermissionIDs []int64
	YCMManager    bool
	Remark        string
	OwnerID       int64     // 0: the partner's own colleague; else a subordinate partner
	CreatedAt     time.Time // zero when the portal does not say
}

// NewColleague is what creating a colleague takes.
type NewColleague struct {
	Email         string
	FirstName     string
	LastName      string
	PermissionIDs []int64
	YCMManager    bool
	Remark        string
	OwnerID       int64
}

// ColleagueEdit is the whole editable state of a colleague (the API replaces it).
type ColleagueEdit struct {
	FirstName     string
	LastName      string
	PermissionIDs []int64
	YCMManager    bool
	Remark        string
}

// Permission is one entry of the portal's permission list.
type Permission struct {
	ID   int64
	Name string
}

// Partner is a subordinate partner that may own colleagues.
type Partner struct {
	ID      int64
	Email   string
	Company string
}

// PartnerClient is the Partner Portal API client.
type PartnerClient struct{ c *conn }

// NewPartner returns a Partner Portal client. It does not log in until the first call.
func NewPartner(cfg Config) (*PartnerClient, error) {
	c, err := newConn(cfg, partnerDialect{})
	if err != nil {
		return nil, err
	}
	return &PartnerClient{c: c}, nil
}

// Calls is the number of API requests sent so far (logins excluded).
func (p *PartnerClient) Calls() int64 { return p.c.calls.Load() }

// RateLimit is the limiter's current pace in requests per second.
func (p *PartnerClient) RateLimit() float64 { return p.c.lim.Limit() }

// PortalNow is the time on the portal's clock (from its answers' Date header), which
// decides when an activation link expires.
func (p *PartnerClient) PortalNow() time.Time { return p.c.portalNow() }

const colleaguesPath = "/user/openapi/user/v1/colleagues"

type wireColleague struct {
	ColleaguesID int64   `json:"colleaguesId"`
	YeastarID    string  `json:"yeastarId"`
	FirstName    string  `json:"firstName"`
	LastName     string  `json:"lastName"`
	UserStatus   string  `json:"userStatus"`
	ResourceIDs  []int64 `json:"resourceIds"`
	IsRmUser     int     `json:"isRmUser"`
	Remark       string  `json:"remark"`
	OwnerID      int64   `json:"ownerId"`
	CreateTime   int64   `json:"createTime"`
}

func (w wireColleague) colleague() Colleague {
	c := Colleague{ID: w.ColleaguesID, Email: w.YeastarID, FirstName: w.FirstName, LastName: w.LastName,
		Status: Status(w.UserStatus), PermissionIDs: w.ResourceIDs, YCMManager: w.IsRmUser == 1,
		Remark: w.Remark, OwnerID: w.OwnerID}
	if c.Status == "Frozen" {
		c.Status = StatusFrozen
	}
	if w.CreateTime > 0 {
		c.CreatedAt = time.Unix(w.CreateTime, 0).UTC()
	}
	return c
}

type ppPage[T any] struct {
	Count     int `json:"count"`
	PageNo    int `json:"pageNo"`
	PageSize  int `json:"pageSize"`
	Results   []T `json:"results"`
	Total     int `json:"total"`
	TotalPage int `json:"totalPage"`
}

const ppPageSize = 100

// pages fetches every page of a paged Partner Portal list.
func pages[T any](ctx context.Context, c *conn, op, path string, q url.Values) iter.Seq2[T, error] {
	return allPages(func(n int) ([]T, int, error) {
		qq := url.Values{}
		for k, v := range q {
			qq[k] = v
		}
		qq.Set("pageNo", strconv.Itoa(n))
		qq.Set("pageSize", strconv.Itoa(ppPageSize))
		var pg ppPage[T]
		_, err := c.do(ctx, request{op: op, method: http.MethodGet, path: path, query: qq}, &pg)
		total := pg.TotalPage
		if total == 0 {
			total = ceilDiv(pg.Total, max(pg.PageSize, 1))
		}
		return pg.Results, total, err
	})
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// allPages yields the items of every page: the first page tells how many there are,
// the rest are fetched concurrently (at most 4 at once) and yielded in order.
func allPages[T any](fetch func(n int) (items []T, pages int, err error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		first, total, err := fetch(1)
		if err != nil {
			yield(zero, err)
			return
		}
		for _, it := range first {
			if !yield(it, nil) {
				return
			}
		}
		if total <= 1 {
			return
		}
		rest := make([]int, 0, total-1)
		for n := 2; n <= total; n++ {
			rest = append(rest, n)
		}
		m := conciter.Mapper[int, []T]{MaxGoroutines: 4}
		got, err := m.MapErr(rest, func(n *int) ([]T, error) {
			items, _, err := fetch(*n)
			return items, err
		})
		for _, items := range got {
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
		}
		if err != nil {
			yield(zero, err)
		}
	}
}

// Colleagues lists every colleague the partner sees, its own and its subordinates'.
func (p *PartnerClient) Colleagues(ctx context.Context) iter.Seq2[Colleague, error] {
	return func(yield func(Colleague, error) bool) {
		for w, err := range pages[wireColleague](ctx, p.c, "list colleagues", colleaguesPath, nil) {
			if !yield(w.colleague(), err) {
				return
			}
		}
	}
}

// Colleague reads one colleague.
func (p *PartnerClient) Colleague(ctx context.Context, id int64) (Colleague, error) {
	var w wireColleague
	_, err := p.c.do(ctx, request{op: fmt.Sprintf("read colleague %d", id), method: http.MethodGet,
		path: colleaguesPath + "/" + strconv.FormatInt(id, 10)}, &w)
	return w.colleague(), err
}

// FindColleague looks a colleague up by e-mail, case-insensitively.
func (p *PartnerClient) FindColleague(ctx context.Context, email string) (Colleague, error) {
	for c, err := range p.Colleagues(ctx) {
		if err != nil {
			return Colleague{}, err
		}
		if strings.EqualFold(c.Email, email) {
			return c, nil
		}
	}
	return Colleague{}, &Error{Kind: KindNotFound, API: partnerAPI, Op: "find colleague",
		Message: fmt.Sprintf("no colleague %s", email)}
}

func rm(b bool) int {
	if b {
		return 1
	}
	return 0
}

// CreateColleague creates a colleague, which sends the activation e-mail. If an attempt's
// answer was lost and a retry finds the e-mail taken, the colleague is read back and the
// create counts as done (recovered is true), so no second e-mail is sent.
func (p *PartnerClient) CreateColleague(ctx context.Context, n NewColleague) (id int64, recovered bool, err error) {
	body := map[string]any{
		"yeastarId":   n.Email,
		"resourceIds": nonNil(n.PermissionIDs),
		"firstName":   n.FirstName,
		"lastName":    n.LastName,
		"remark":      n.Remark,
		"isRmUser":    rm(n.YCMManager),
	}
	if n.OwnerID != 0 {
		body["ownerId"] = n.OwnerID
	}
	var res struct {
		ColleaguesID int64 `json:"colleaguesId"`
	}
	var found Colleague
	settle := func(ctx context.Context) (bool, error) {
		c, err := p.FindColleague(ctx, n.Email)
		if err != nil {
			if KindOf(err) == KindNotFound {
				return false, nil
			}
			return false, err
		}
		found = c
		return true, nil
	}
	oc, err := p.c.do(ctx, request{op: "create colleague " + n.Email, method: http.MethodPost,
		path: colleaguesPath, body: body, write: true, settle: settle}, &res)
	if err == nil && oc.settled {
		if st := callStats(ctx); st != nil {
			st.Recovered.Add(1)
		}
		return found.ID, true, nil
	}
	if err == nil {
		return res.ColleaguesID, false, nil
	}
	if oc.ambiguous && KindOf(err) == KindExists {
		c, ferr := p.FindColleague(ctx, n.Email)
		if ferr != nil {
			return 0, false, err
		}
		if st := callStats(ctx); st != nil {
			st.Recovered.Add(1)
		}
		return c.ID, true, nil
	}
	return 0, false, err
}

// EditColleague replaces a colleague's editable state.
func (p *PartnerClient) EditColleague(ctx context.Context, id int64, e ColleagueEdit) error {
	body := map[string]any{
		"resourceIds": nonNil(e.PermissionIDs),
		"firstName":   e.FirstName,
		"lastName":    e.LastName,
		"remark":      e.Remark,
		"isRmUser":    rm(e.YCMManager),
	}
	_, err := p.c.do(ctx, request{op: fmt.Sprintf("edit colleague %d", id), method: http.MethodPut,
		path: colleaguesPath + "/" + strconv.FormatInt(id, 10), body: body, write: true}, nil)
	return err
}

// DeleteColleagues deletes colleagues. A retry that finds them gone after a lost
// answer counts as done.
func (p *PartnerClient) DeleteColleagues(ctx context.Context, ids ...int64) error {
	settle := func(ctx context.Context) (bool, error) {
		for _, id := range ids {
			_, err := p.Colleague(ctx, id)
			if err == nil {
				return false, nil
			}
			if KindOf(err) != KindNotFound {
				return false, err
			}
		}
		return true, nil
	}
	oc, err := p.c.do(ctx, request{op: fmt.Sprintf("delete colleagues %v", ids), method: http.MethodDelete,
		path: colleaguesPath, body: map[string]any{"colleaguesIds": nonNil(ids)}, write: true, settle: settle}, nil)
	if err == nil && oc.settled {
		if st := callStats(ctx); st != nil {
			st.Recovered.Add(1)
		}
		return nil
	}
	if err != nil && oc.ambiguous && KindOf(err) == KindNotFound {
		if st := callStats(ctx); st != nil {
			st.Recovered.Add(1)
		}
		return nil
	}
	return err
}

// Permissions lists the permissions colleagues may be given.
func (p *PartnerClient) Permissions(ctx context.Context) ([]Permission, error) {
	var res []struct {
		ResourceID   int64  `json:"resourceId"`
		ResourceName string `json:"resourceName"`
	}
	_, err := p.c.do(ctx, request{op: "list permissions", method: http.MethodGet,
		path: "/user/openapi/user/v1/users/resource_list"}, &res)
	if err != nil {
		return nil, err
	}
	out := make([]Permission, len(res))
	for i, r := range res {
		out[i] = Permission{ID: r.ResourceID, Name: r.ResourceName}
	}
	return out, nil
}

// Partners lists the subordinate partners.
func (p *PartnerClient) Partners(ctx context.Context) ([]Partner, error) {
	type wire struct {
		PartnerID int64  `json:"partnerId"`
		Email     string `json:"email"`
		Company   string `json:"company"`
	}
	var out []Partner
	for w, err := range pages[wire](ctx, p.c, "list partners", "/user/openapi/user/v1/client/partner_list", nil) {
		if err != nil {
			return nil, err
		}
		out = append(out, Partner{ID: w.PartnerID, Email: w.Email, Company: w.Company})
	}
	return out, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

const partnerAPI = "partner portal"

type partnerDialect struct{}

func (partnerDialect) name() string { return partnerAPI }

type ppEnvelope struct {
	Code          string          `json:"code"`
	DetailMessage string          `json:"detailMessage"`
	RequestID     string          `json:"requestId"`
	Result        json.RawMessage `json:"result"`
	Status        int             `json:"status"`
}

func (partnerDialect) decode(status int, h http.Header, body []byte, out any) error {
	var env ppEnvelope
	if err := json.Unmarshal(body, &env); err != nil || env.Code == "" {
		if status >= 300 {
			return &Error{Kind: statusKind(status), HTTPStatus: status, Message: snippet(body)}
		}
		return &Error{Kind: KindServer, HTTPStatus: status, Message: "unreadable answer: " + snippet(body)}
	}
	if strings.EqualFold(env.Code, "success") && status < 300 {
		if out == nil || len(env.Result) == 0 || string(env.Result) == "null" {
			return nil
		}
		if err := json.Unmarshal(env.Result, out); err != nil {
			return &Error{Kind: KindServer, HTTPStatus: status, RequestID: env.RequestID,
				Message: "unexpected answer: " + err.Error()}
		}
		return nil
	}
	e := &Error{HTTPStatus: status, Code: env.Code, Message: env.DetailMessage, RequestID: env.RequestID}
	e.Kind = ppKind(env.Code, status)
	if e.Kind == KindValidation && len(env.Result) > 0 {
		_ = json.Unmarshal(env.Result, &e.Fields) // details are a bonus
	}
	return e
}

func ppKind(code string, status int) Kind {
	switch strings.ToUpper(code) {
	case "RATE_LIMIT_EXCEEDED":
		return KindThrottled
	case "AUTHENTICATION_FAILED", "INVALID_TOKEN", "TOKEN_EXPIRED", "PERMISSION_DENIED":
		return KindAuth
	case "ACCESS_DENIED", "IP_BLOCKED":
		return KindIPBlocked
	case "DATA_NOT_FOUND":
		return KindNotFound
	case "EMAIL_ADDRESS_ALREADY_EXISTS", "DATA_ALREADY_EXISTS":
		return KindExists
	case "SERVER_ERROR", "INTERNAL_ERROR":
		return KindServer
	}
	if k := statusKind(status); k != KindUnknown {
		return k
	}
	return KindValidation
}

func (partnerDialect) login(ctx context.Context, c *conn, refresh string) (token, error) {
	form := url.Values{"client_id": {c.cfg.ClientID}}
	if refresh != "" {
		form.Set("grant_type", "refresh_token")
		form.Set("refresh_token", refresh)
	} else {
		form.Set("grant_type", "pp_credentials")
		form.Set("client_secret", c.cfg.ClientSecret)
	}
	var res struct {
		Token        string `json:"token"`
		TokenHead    string `json:"tokenHead"`
		RefreshToken string `json:"refreshToken"`
		ExpiresIn    int64  `json:"expiresIn"`
	}
	if err := c.postForm(ctx, "/auth/openapi/v1/oauth/token", form, &res); err != nil {
		return token{}, err
	}
	if res.Token == "" {
		return token{}, &Error{Kind: KindAuth, API: partnerAPI, Message: "the token endpoint answered without a token"}
	}
	return token{access: res.Token, refresh: res.RefreshToken,
		expiry: c.cfg.Now().Add(time.Duration(res.ExpiresIn) * time.Second)}, nil
}

// postForm sends a token request.
func (c *conn) postForm(ctx context.Context, path string, form url.Values, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.CallTimeout)
	defer cancel()
	u := *c.base
	u.Path += path
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", userAgent())
	req.Header.Set("Accept", "application/json")
	err = c.send(req, out)
	if pe := (*Error)(nil); errors.As(err, &pe) && pe.Kind != KindNetwork && pe.HTTPStatus < 300 {
		// An answer that could not be read may hold a token: say so, never show it.
		pe.Message = "the token endpoint's answer could not be read (not shown: it may hold a token)"
	}
	return err
}

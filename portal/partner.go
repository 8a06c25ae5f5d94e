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
	Type    string // userType, when the portal says
}

// PartnerClient is the Partner Portal API client.
type PartnerClient struct {
	c    *conn
	find finder // lookups of creates whose answer was lost
}

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
	ColleaguesID num    `json:"colleaguesId"`
	YeastarID    string `json:"yeastarId"`
	FirstName    string `json:"firstName"`
	LastName     string `json:"lastName"`
	UserStatus   string `json:"userStatus"`
	ResourceIDs  []num  `json:"resourceIds"`
	IsRmUser     num    `json:"isRmUser"`
	Remark       string `json:"remark"`
	OwnerID      num    `json:"ownerId"`
	CreateTime   num    `json:"createTime"`
}

func (w wireColleague) colleague() Colleague {
	c := Colleague{ID: int64(w.ColleaguesID), Email: w.YeastarID, FirstName: w.FirstName, LastName: w.LastName,
		Status: Status(w.UserStatus), PermissionIDs: nums(w.ResourceIDs), YCMManager: w.IsRmUser == 1,
		Remark: w.Remark, OwnerID: int64(w.OwnerID)}
	switch {
	case strings.EqualFold(w.UserStatus, "Frozen"), strings.EqualFold(w.UserStatus, string(StatusFrozen)):
		c.Status = StatusFrozen
	case strings.EqualFold(w.UserStatus, string(StatusActive)):
		c.Status = StatusActive
	case strings.EqualFold(w.UserStatus, string(StatusUnActive)), strings.EqualFold(w.UserStatus, "Inactive"):
		c.Status = StatusUnActive
	}
	switch t := int64(w.CreateTime); {
	case t > 1e12: // milliseconds
		c.CreatedAt = time.UnixMilli(t).UTC()
	case t > 0:
		c.CreatedAt = time.Unix(t, 0).UTC()
	}
	return c
}

const ppPageSize = 100

// pages fetches every item of a Partner Portal list, which may answer a page object
// (then the other pages are asked for) or a plain array (then that is all of it).
// paged says whether to send pageNo and pageSize at all.
func pages[T any](ctx context.Context, c *conn, op, path string, q url.Values, paged bool) iter.Seq2[T, error] {
	return allPages(func(n int) ([]T, int, error) {
		qq := url.Values{}
		for k, v := range q {
			qq[k] = v
		}
		if paged || n > 1 {
			qq.Set("pageNo", strconv.Itoa(n))
			qq.Set("pageSize", strconv.Itoa(ppPageSize))
		}
		var l list[T]
		_, err := c.do(ctx, request{op: op, method: http.MethodGet, path: path, query: qq}, &l)
		return l.Items, l.pageCount(), err
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

// ColleaguesOf lists the colleagues of one owner: 0 for the partner's own, else a
// subordinate partner's id. The portal has no listing of everyone: a partner with
// subordinates asks once for itself and once for each of them (see Colleagues).
func (p *PartnerClient) ColleaguesOf(ctx context.Context, owner int64) iter.Seq2[Colleague, error] {
	var q url.Values
	op := "list colleagues"
	if owner != 0 {
		q = url.Values{"ownerId": {strconv.FormatInt(owner, 10)}}
		op = fmt.Sprintf("list colleagues of partner %d", owner)
	}
	return func(yield func(Colleague, error) bool) {
		for w, err := range pages[wireColleague](ctx, p.c, op, colleaguesPath, q, true) {
			if !yield(w.colleague(), err) {
				return
			}
		}
	}
}

// Colleagues lists the partner's own colleagues and those of each subordinate partner,
// each once. A colleague listed under a subordinate is theirs, whatever its ownerId
// says; one in the partner's own list belongs to a subordinate only when its ownerId
// names one (a portal that lists everyone at once), else to the partner.
func (p *PartnerClient) Colleagues(ctx context.Context, partners []Partner) ([]Colleague, error) {
	return p.colleagues(ctx, partners, func() ([]Colleague, error) { return p.ColleaguesOwnedBy(ctx, 0) })
}

// PartnersAndColleagues lists the subordinate partners and then every colleague, as
// Colleagues does; the partner's own colleagues are listed while the partners are, so
// a partner without subordinates waits for one round of calls, not two.
func (p *PartnerClient) PartnersAndColleagues(ctx context.Context) ([]Partner, []Colleague, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type listed struct {
		cs  []Colleague
		err error
	}
	own := make(chan listed, 1)
	go func() {
		cs, err := p.ColleaguesOwnedBy(ctx, 0)
		own <- listed{cs, err}
	}()
	partners, err := p.Partners(ctx)
	if err != nil {
		cancel()
		<-own
		return nil, nil, err
	}
	cs, err := p.colleagues(ctx, partners, func() ([]Colleague, error) { l := <-own; return l.cs, l.err })
	if err != nil {
		return nil, nil, err
	}
	return partners, cs, nil
}

// ColleaguesOwnedBy lists the colleagues of one owner (0: the partner's own), as the
// portal gives them.
func (p *PartnerClient) ColleaguesOwnedBy(ctx context.Context, owner int64) ([]Colleague, error) {
	var out []Colleague
	for c, err := range p.ColleaguesOf(ctx, owner) {
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// colleagues is Colleagues with the partner's own list from own.
func (p *PartnerClient) colleagues(ctx context.Context, partners []Partner, own func() ([]Colleague, error)) ([]Colleague, error) {
	known := make(map[int64]bool, len(partners))
	owners := []int64{0}
	for _, pt := range partners {
		if pt.ID != 0 && !known[pt.ID] {
			known[pt.ID] = true
			owners = append(owners, pt.ID)
		}
	}
	m := conciter.Mapper[int64, []Colleague]{MaxGoroutines: 4}
	lists, err := m.MapErr(owners, func(owner *int64) ([]Colleague, error) {
		if *owner == 0 {
			cs, err := own()
			for i, c := range cs {
				if !known[c.OwnerID] {
					cs[i].OwnerID = 0
				}
			}
			return cs, err
		}
		var out []Colleague
		for c, err := range p.ColleaguesOf(ctx, *owner) {
			if err != nil {
				return nil, err
			}
			c.OwnerID = *owner
			out = append(out, c)
		}
		return out, nil
	})
	if err != nil {
		return nil, firstError(err)
	}
	seen := map[int64]int{}
	var out []Colleague
	for _, l := range lists {
		for _, c := range l {
			if i, dup := seen[c.ID]; dup {
				if c.OwnerID != 0 {
					out[i].OwnerID = c.OwnerID
				}
				continue
			}
			seen[c.ID] = len(out)
			out = append(out, c)
		}
	}
	return out, nil
}

// firstError is the first of joined errors: concurrent listings that fail alike
// report it once.
func firstError(err error) error {
	for {
		j, ok := err.(interface{ Unwrap() []error })
		if !ok || len(j.Unwrap()) == 0 {
			return err
		}
		err = j.Unwrap()[0]
	}
}

// Colleague reads one colleague.
func (p *PartnerClient) Colleague(ctx context.Context, id int64) (Colleague, error) {
	var w wireColleague
	_, err := p.c.do(ctx, request{op: fmt.Sprintf("read colleague %d", id), method: http.MethodGet,
		path: colleaguesPath + "/" + strconv.FormatInt(id, 10)}, &w)
	return w.colleague(), err
}

// FindColleague looks a colleague of owner (0: the partner's own) up by e-mail,
// case-insensitively. Lookups made at the same time share one listing.
func (p *PartnerClient) FindColleague(ctx context.Context, email string, owner int64) (Colleague, error) {
	return p.find.find(ctx, email, owner, func(ctx context.Context) ([]Colleague, error) {
		return p.ColleaguesOwnedBy(ctx, owner)
	})
}

func rm(b bool) int {
	if b {
		return 1
	}
	return 0
}

// CreateColleague creates a colleague, which sends the activation e-mail, and returns
// its id when the answer holds one, else 0. The guides do not show what the create
// answers: an object holding colleaguesId, the id itself, true or nothing are all read.
//
// An attempt whose answer was lost is sent again as it is: the e-mail is the
// colleague's unique login, so if the lost attempt took effect the portal refuses the
// second one as existing, and no second e-mail goes out. That refusal counts as done
// (recovered is true, the id 0), for the caller to check against the list once for
// many (reconcile does at the end of an apply). After
// lookUpAfter lost answers in a row, or a refusal in other words, the colleague is
// looked up in the list, one listing shared by the lookups waiting at the time.
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
		body["ownerId"] = strconv.FormatInt(n.OwnerID, 10) // a String, as the guide types it
	}
	var res json.RawMessage
	var found Colleague
	lost := 0
	settle := func(ctx context.Context) (bool, error) {
		if lost++; lost < lookUpAfter {
			return false, nil // the retry itself tells: created, or refused as existing
		}
		c, err := p.FindColleague(ctx, n.Email, n.OwnerID)
		if KindOf(err) == KindNotFound {
			return false, nil
		}
		found = c
		return err == nil, err
	}
	oc, err := p.c.do(ctx, request{op: "create colleague " + n.Email, method: http.MethodPost,
		path: colleaguesPath, body: body, write: true, settle: settle}, &res)
	counted := func() {
		if st := callStats(ctx); st != nil {
			st.Recovered.Add(1)
		}
	}
	switch {
	case err == nil && oc.settled:
		counted()
		return found.ID, true, nil
	case err == nil:
		// 0 when the answer does not say: the next read of the portal lists the
		// colleague with its id, so no call per create is spent on asking.
		return createdID(res), false, nil
	case !oc.ambiguous:
		return 0, false, err
	case KindOf(err) == KindExists:
		counted()
		return 0, true, nil
	case KindOf(err) == KindValidation:
		c, ferr := p.FindColleague(ctx, n.Email, n.OwnerID)
		if ferr != nil {
			return 0, false, err
		}
		counted()
		return c.ID, true, nil
	}
	return 0, false, err
}

// lookUpAfter is how many answers of one create may be lost before the colleague is
// looked up in the list (a whole pass over it) instead of sending the create again.
// With 4% of answers lost, 20,000 creates then expect about one pass; looking up
// after the second, about 32.
const lookUpAfter = 3

// createdID is the new colleague's id in a create answer, 0 when it holds none.
func createdID(res json.RawMessage) int64 {
	var obj struct {
		ColleaguesID num `json:"colleaguesId"`
		ID           num `json:"id"`
	}
	if json.Unmarshal(res, &obj) == nil {
		return max(int64(obj.ColleaguesID), int64(obj.ID))
	}
	switch strings.TrimSpace(string(res)) {
	case "true", "false", "null", "":
		return 0
	}
	id, _ := parseNum(res)
	return max(id, 0)
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
	type wire struct {
		ResourceID   num    `json:"resourceId"`
		ResourceName string `json:"resourceName"`
	}
	var out []Permission
	for r, err := range pages[wire](ctx, p.c, "list permissions", "/user/openapi/user/v1/users/resource_list", nil, false) {
		if err != nil {
			return nil, err
		}
		out = append(out, Permission{ID: int64(r.ResourceID), Name: r.ResourceName})
	}
	return out, nil
}

// Partners lists the subordinate partners. The guide documents a plain list and no
// query parameters; a page object is read too.
func (p *PartnerClient) Partners(ctx context.Context) ([]Partner, error) {
	type wire struct {
		PartnerID num    `json:"partnerId"`
		Email     string `json:"email"`
		Company   string `json:"company"`
		UserType  string `json:"userType"`
	}
	var out []Partner
	for w, err := range pages[wire](ctx, p.c, "list partners", "/user/openapi/user/v1/client/partner_list", nil, false) {
		if err != nil {
			return nil, err
		}
		out = append(out, Partner{ID: int64(w.PartnerID), Email: w.Email, Company: w.Company, Type: w.UserType})
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
	Status        num             `json:"status"`
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
	if bs := int(env.Status); status < 300 && bs >= 300 {
		status = bs // an error answered with HTTP 200: the body's status mirrors the real one
	}
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
		ExpiresIn    num    `json:"expiresIn"`
	}
	if err := c.postForm(ctx, "/auth/openapi/v1/oauth/token", form, &res); err != nil {
		return token{}, err
	}
	if res.Token == "" {
		return token{}, &Error{Kind: KindAuth, API: partnerAPI, Message: "the token endpoint answered without a token"}
	}
	return newToken(c.cfg.Now(), res.Token, res.RefreshToken, int64(res.ExpiresIn)), nil
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
	if pe := (*Error)(nil); errors.As(err, &pe) && pe.Kind != KindNetwork && pe.HTTPStatus < 300 && pe.Code == "" && pe.Errno == 0 {
		// An answer that could not be read may hold a token: say so, never show it.
		pe.Message = "the token endpoint's answer could not be read (not shown: it may hold a token)"
	}
	return err
}

package sim

import (
	"encoding/json"
	"fmt"
	"net/mail"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Partner Portal paging (wire.md).
const (
	ppDefaultPageSize = 25
	ppMaxPageSize     = 100
	maxNameLen        = 63
)

// appendPPPage appends a Partner Portal page of items; the counts are typed per d.
func appendPPPage[T any](b []byte, items []T, pageNo, pageSize int, d *Dialect, enc func([]byte, T) []byte) []byte {
	total := len(items)
	var page []T
	if pageNo-1 < (total+pageSize-1)/pageSize {
		start := (pageNo - 1) * pageSize
		page = items[start:min(start+pageSize, total)]
	}
	q := d.allStrings()
	b = appendNumField(append(b, '{'), "count", int64(len(page)), q)
	b = append(b, ',')
	b = appendNumField(b, "pageNo", int64(pageNo), q)
	b = append(b, ',')
	b = appendNumField(b, "pageSize", int64(pageSize), q)
	b = append(b, `,"results":[`...)
	for i, it := range page {
		if i > 0 {
			b = append(b, ',')
		}
		b = enc(b, it)
	}
	b = append(b, "],"...)
	b = appendNumField(b, "total", int64(total), q)
	b = append(b, ',')
	b = appendNumField(b, "totalPage", int64((total+pageSize-1)/pageSize), q)
	return append(b, '}')
}

// listColleagues: GET /user/openapi/user/v1/colleagues?pageNo&pageSize&ownerId.
func listColleagues(c *call) {
	q := rawQuery(c.r.URL.RawQuery)
	var fields []fieldError
	pageNo := queryInt(q, "pageNo", 1, 0, &fields)
	pageSize := queryInt(q, "pageSize", ppDefaultPageSize, ppMaxPageSize, &fields)
	s := c.s
	owner := int64(0) // the partner's own colleagues
	if s.dialect.Colleagues == ColleaguesEveryone {
		owner = -1 // every colleague
	}
	if v := q.Get("ownerId"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || !isDigits(v) {
			fields = append(fields, fieldError{"ownerId", "must be 0 or a partnerId"})
		}
		owner = n
	}
	if e := fieldErrs(fields); e != nil {
		c.fail(e)
		return
	}
	s.mu.RLock()
	if owner > 0 && !s.w.partnerKnown(owner) {
		s.mu.RUnlock()
		c.fail(fieldErr("ownerId", fmt.Sprintf("no subordinate partner %d", owner)))
		return
	}
	cols := s.w.cols
	if owner >= 0 {
		cols = nil
		for _, col := range s.w.cols {
			if col.OwnerID == owner {
				cols = append(cols, col)
			}
		}
	}
	b := appendPPPage(c.resultKey(c.begin()), cols, pageNo, pageSize, &s.dialect, s.w.appendColleague)
	s.mu.RUnlock()
	c.ok(b)
}

// colleagueID parses the {colleaguesId} of the path.
func (c *call) colleagueID() (int64, *apiError) {
	id, err := strconv.ParseInt(c.id, 10, 64)
	if err != nil || id <= 0 {
		return 0, fieldErr("colleaguesId", fmt.Sprintf("%q is not a colleague id", c.id))
	}
	return id, nil
}

func notFoundColleague(id int64) *apiError {
	return errf(eNotFound, "no colleague %d", id)
}

// getColleague: GET /user/openapi/user/v1/colleagues/{colleaguesId}.
func getColleague(c *call) {
	id, e := c.colleagueID()
	if e != nil {
		c.fail(e)
		return
	}
	s := c.s
	s.mu.RLock()
	col := s.w.colByID[id]
	if col == nil {
		s.mu.RUnlock()
		c.fail(notFoundColleague(id))
		return
	}
	b := s.w.appendColleague(c.resultKey(c.begin()), col)
	s.mu.RUnlock()
	c.ok(b)
}

type createRequest struct {
	YeastarID   *string `json:"yeastarId"`
	ResourceIDs []int64 `json:"resourceIds"`
	FirstName   *string `json:"firstName"`
	LastName    *string `json:"lastName"`
	Remark      *string `json:"remark"`
	OwnerID     *flexID `json:"ownerId"`
	IsRmUser    *int    `json:"isRmUser"`
}

// flexID is an id sent as a JSON number or a string of digits: the guides type
// ownerId as a String, and clients send either.
type flexID int64

func (f *flexID) UnmarshalJSON(b []byte) error {
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		uq, err := strconv.Unquote(s)
		if err != nil || !isDigits(uq) {
			return &json.UnmarshalTypeError{Value: "string " + s, Type: reflect.TypeFor[flexID]()}
		}
		s = uq
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return &json.UnmarshalTypeError{Value: jsonKind(b), Type: reflect.TypeFor[flexID]()}
	}
	*f = flexID(n)
	return nil
}

// isDigits says whether s is one or more ASCII digits.
func isDigits(s string) bool {
	return s != "" && strings.TrimLeft(s, "0123456789") == ""
}

// jsonKind names the kind of a JSON value for an error message.
func jsonKind(b []byte) string {
	switch {
	case len(b) == 0:
		return "nothing"
	case b[0] == '"':
		return "string"
	case b[0] == '{':
		return "object"
	case b[0] == '[':
		return "array"
	case b[0] == 't' || b[0] == 'f':
		return "bool"
	case b[0] == 'n':
		return "null"
	}
	return "number " + string(b)
}

type editRequest struct {
	ResourceIDs *[]int64 `json:"resourceIds"`
	FirstName   *string  `json:"firstName"`
	LastName    *string  `json:"lastName"`
	Remark      *string  `json:"remark"`
	IsRmUser    *int     `json:"isRmUser"`
	UserStatus  *string  `json:"userStatus"`
	Password    *string  `json:"password"` // documented; type-checked, then ignored
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Name == "" && a.Address == s && len(s) <= 254
}

// checkResources appends what is wrong with ids and returns them sorted, without repeats.
func (w *world) checkResources(ids []int64, fields *[]fieldError) []int64 {
	if len(ids) == 0 {
		*fields = append(*fields, fieldError{"resourceIds", "at least one permission is required"})
		return nil
	}
	var unknown []string
	for _, id := range ids {
		if !w.permSet[id] {
			unknown = append(unknown, strconv.FormatInt(id, 10))
		}
	}
	if len(unknown) > 0 {
		*fields = append(*fields, fieldError{"resourceIds", "unknown permission id " + strings.Join(unknown, ", ")})
	}
	ids = slices.Clone(ids)
	slices.Sort(ids)
	return slices.Compact(ids)
}

// checkNames appends what is wrong with a colleague's names.
func checkNames(first, last string, fields *[]fieldError) {
	if strings.TrimSpace(first) == "" && strings.TrimSpace(last) == "" {
		*fields = append(*fields, fieldError{"firstName", "firstName or lastName is required"})
	}
	for _, f := range []struct{ name, v string }{{"firstName", first}, {"lastName", last}} {
		if n := utf8.RuneCountInString(f.v); n > maxNameLen {
			*fields = append(*fields, fieldError{f.name, fmt.Sprintf("at most %d characters, not %d", maxNameLen, n)})
		}
	}
}

func checkFlag(name string, v *int, fields *[]fieldError) {
	if v != nil && *v != 0 && *v != 1 {
		*fields = append(*fields, fieldError{name, "must be 0 or 1"})
	}
}

// createColleague: POST /user/openapi/user/v1/colleagues. Sends the activation e-mail.
func createColleague(c *call) {
	var req createRequest
	if e := c.decodeJSON(&req); e != nil {
		c.fail(e)
		return
	}
	var fields []fieldError
	email := strings.TrimSpace(deref(req.YeastarID))
	switch {
	case email == "":
		fields = append(fields, fieldError{"yeastarId", "required"})
	case !validEmail(email):
		fields = append(fields, fieldError{"yeastarId", fmt.Sprintf("%q is not an e-mail address", email)})
	}
	checkNames(deref(req.FirstName), deref(req.LastName), &fields)
	checkFlag("isRmUser", req.IsRmUser, &fields)

	s := c.s
	now := s.Clock().Truncate(time.Second)
	s.mu.Lock()
	w := s.w
	res := w.checkResources(req.ResourceIDs, &fields)
	owner := int64(deref(req.OwnerID))
	if owner != 0 && !w.partnerKnown(owner) {
		fields = append(fields, fieldError{"ownerId", fmt.Sprintf("no subordinate partner %d", owner)})
	}
	if e := fieldErrs(fields); e != nil {
		s.mu.Unlock()
		c.fail(e)
		return
	}
	if old := w.colByKey[emailKey(email)]; old != nil {
		s.mu.Unlock()
		c.fail(errf(eExists, "a colleague with Yeastar ID %s exists (colleague %d)", old.YeastarID, old.ColleaguesID))
		return
	}
	col := &Colleague{
		ColleaguesID: w.nextCol,
		YeastarID:    email,
		FirstName:    strings.TrimSpace(deref(req.FirstName)),
		LastName:     strings.TrimSpace(deref(req.LastName)),
		UserStatus:   StatusUnActive,
		ResourceIDs:  res,
		IsRmUser:     deref(req.IsRmUser),
		Remark:       deref(req.Remark),
		OwnerID:      owner,
		CreateTime:   now.Unix(),
		InvitedAt:    now,

		InviteExpiresAt: now.Add(InviteValidity),
	}
	w.nextCol++
	w.addColleague(col)
	w.outbox = append(w.outbox, Email{To: email, SentAt: now, ExpiresAt: col.InviteExpiresAt})
	s.mu.Unlock()
	s.log.Debug().Str("to", email).Msg("activation e-mail sent")

	c.dirty = true
	b := c.resultKey(c.begin())
	switch s.dialect.Create {
	case CreateString:
		b = appendInt(b, col.ColleaguesID, true)
	case CreateObject:
		b = appendNumField(append(b, '{'), "colleaguesId", col.ColleaguesID, s.dialect.idStrings())
		b = append(b, '}')
	case CreateNull:
		b = append(b, "null"...)
	default:
		b = append(b, "true"...)
	}
	c.ok(b)
}

// editColleague: PUT /user/openapi/user/v1/colleagues/{colleaguesId}.
func editColleague(c *call) {
	id, e := c.colleagueID()
	if e != nil {
		c.fail(e)
		return
	}
	var req editRequest
	if e := c.decodeJSON(&req); e != nil {
		c.fail(e)
		return
	}
	var fields []fieldError
	checkFlag("isRmUser", req.IsRmUser, &fields)
	if req.UserStatus != nil && *req.UserStatus != "UnActive" && *req.UserStatus != "Frozen" {
		fields = append(fields, fieldError{"userStatus", fmt.Sprintf("must be UnActive or Frozen, not %q", *req.UserStatus)})
	}
	s := c.s
	s.mu.Lock()
	var res []int64
	if req.ResourceIDs == nil {
		fields = append(fields, fieldError{"resourceIds", "required"})
	} else {
		res = s.w.checkResources(*req.ResourceIDs, &fields)
	}
	col := s.w.colByID[id]
	if col != nil {
		first, last := col.FirstName, col.LastName
		if req.FirstName != nil {
			first = strings.TrimSpace(*req.FirstName)
		}
		if req.LastName != nil {
			last = strings.TrimSpace(*req.LastName)
		}
		checkNames(first, last, &fields)
		if e := fieldErrs(fields); e == nil {
			col.FirstName, col.LastName = first, last
			col.ResourceIDs = res
			if req.Remark != nil {
				col.Remark = *req.Remark
			}
			if req.IsRmUser != nil {
				col.IsRmUser = *req.IsRmUser
			}
			switch deref(req.UserStatus) {
			case "Frozen":
				col.UserStatus = StatusFreeze
			case "UnActive": // unfreeze
				if col.UserStatus == StatusFreeze {
					col.UserStatus = StatusUnActive
					if !col.ActivatedAt.IsZero() {
						col.UserStatus = StatusActive
					}
				}
			}
			s.w.touch(col)
		}
	}
	s.mu.Unlock()
	switch {
	case fieldErrs(fields) != nil:
		c.fail(fieldErrs(fields))
	case col == nil:
		c.fail(notFoundColleague(id))
	default:
		c.dirty = true
		c.okNull()
	}
}

// deleteColleagues: DELETE /user/openapi/user/v1/colleagues, all or nothing.
func deleteColleagues(c *call) {
	var req struct {
		ColleaguesIDs []int64 `json:"colleaguesIds"`
	}
	if e := c.decodeJSON(&req); e != nil {
		c.fail(e)
		return
	}
	if len(req.ColleaguesIDs) == 0 {
		c.fail(fieldErr("colleaguesIds", "at least one colleague id is required"))
		return
	}
	s := c.s
	ids := map[int64]bool{}
	var missing []string
	s.mu.Lock()
	for _, id := range req.ColleaguesIDs {
		ids[id] = true
		if s.w.colByID[id] == nil {
			missing = append(missing, strconv.FormatInt(id, 10))
		}
	}
	if len(missing) == 0 {
		s.w.deleteColleagues(ids)
	}
	s.mu.Unlock()
	if len(missing) > 0 {
		c.fail(errf(eNotFound, "no colleague %s; nothing was deleted", strings.Join(missing, ", ")))
		return
	}
	c.dirty = true
	c.okNull()
}

// listResources: GET /user/openapi/user/v1/users/resource_list?userId=.
func listResources(c *call) {
	if v := rawQuery(c.r.URL.RawQuery).Get("userId"); v != "" {
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			c.fail(fieldErr("userId", "must be a number"))
			return
		}
	}
	s := c.s
	s.mu.RLock()
	b := append(c.resultKey(c.begin()), '[')
	for i := range s.w.perms {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendPermission(b, &s.w.perms[i], &s.dialect)
	}
	s.mu.RUnlock()
	c.ok(append(b, ']'))
}

// listPartners: GET /user/openapi/user/v1/client/partner_list. Documented: no
// query parameters and a plain array; the page dialect honours pageNo and pageSize.
func listPartners(c *call) {
	s := c.s
	d := &s.dialect
	enc := func(b []byte, p Partner) []byte { return appendPartner(b, &p, d) }
	if d.Partners == PartnersArray {
		s.mu.RLock()
		b := append(c.resultKey(c.begin()), '[')
		for i, p := range s.w.partners {
			if i > 0 {
				b = append(b, ',')
			}
			b = enc(b, p)
		}
		s.mu.RUnlock()
		c.ok(append(b, ']'))
		return
	}
	q := rawQuery(c.r.URL.RawQuery)
	var fields []fieldError
	pageNo := queryInt(q, "pageNo", 1, 0, &fields)
	pageSize := queryInt(q, "pageSize", ppDefaultPageSize, ppMaxPageSize, &fields)
	if e := fieldErrs(fields); e != nil {
		c.fail(e)
		return
	}
	s.mu.RLock()
	b := appendPPPage(c.resultKey(c.begin()), s.w.partners, pageNo, pageSize, d, enc)
	s.mu.RUnlock()
	c.ok(b)
}

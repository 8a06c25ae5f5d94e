package sim

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// YCM paging and capacity limits (wire.md).
const (
	ycmDefaultPageSize = 10
	ycmMaxPageSize     = 50
	minExtensions      = 5
	maxExtensions      = 500
)

// ycmPageQuery reads a YCM list's pageNumber and pageSize; on a bad value it
// answers the call and returns !ok.
func ycmPageQuery(c *call) (q rawQuery, pageNumber, pageSize int, ok bool) {
	q = rawQuery(c.r.URL.RawQuery)
	var fields []fieldError
	pageNumber = queryInt(q, "pageNumber", 1, 0, &fields)
	pageSize = queryInt(q, "pageSize", ycmDefaultPageSize, ycmMaxPageSize, &fields)
	if e := fieldErrs(fields); e != nil {
		c.fail(e)
		return q, 0, 0, false
	}
	return q, pageNumber, pageSize, true
}

// listPBXs: GET /dm/open_api/v2/cloud_pbx/instances?pageSize&pageNumber&sort&search.
// search matches name, SN or URL, ignoring case; sort is accepted and ignored
// (the order is by cloudPbxId).
func listPBXs(c *call) {
	q, pageNumber, pageSize, ok := ycmPageQuery(c)
	if !ok {
		return
	}
	search := strings.ToLower(q.Get("search"))
	s := c.s
	s.mu.RLock()
	pbxs := s.w.pbxs
	if search != "" {
		pbxs = nil
		for _, p := range s.w.pbxs {
			if strings.Contains(strings.ToLower(p.Name), search) || strings.Contains(strings.ToLower(p.SN), search) ||
				strings.Contains(strings.ToLower(p.URL), search) {
				pbxs = append(pbxs, p)
			}
		}
	}
	b := appendYCMPage(c.begin(), pbxs, pageNumber, pageSize, func(b []byte, p *PBX) []byte { return appendPBX(b, p, &s.dialect) })
	s.mu.RUnlock()
	c.ok(b)
}

// appendYCMPage appends a YCM page of items: {"pageSize","pageNumber","total","list"}.
func appendYCMPage[T any](b []byte, items []T, pageNumber, pageSize int, enc func([]byte, T) []byte) []byte {
	total := len(items)
	var page []T
	if pageNumber-1 < (total+pageSize-1)/pageSize {
		start := (pageNumber - 1) * pageSize
		page = items[start:min(start+pageSize, total)]
	}
	b = appendIntField(append(b, '{'), "pageSize", int64(pageSize))
	b = append(b, ',')
	b = appendIntField(b, "pageNumber", int64(pageNumber))
	b = append(b, ',')
	b = appendIntField(b, "total", int64(total))
	b = append(b, `,"list":[`...)
	for i, it := range page {
		if i > 0 {
			b = append(b, ',')
		}
		b = enc(b, it)
	}
	return append(b, "]}"...)
}

func (c *call) pbxID() (int64, *apiError) {
	id, err := strconv.ParseInt(c.id, 10, 64)
	if err != nil || id <= 0 {
		return 0, fieldErr("cloudPbxId", fmt.Sprintf("%q is not a cloud PBX id", c.id))
	}
	return id, nil
}

// getPBX: GET /dm/open_api/v1/cloud_pbx/instances/{cloudPbxId}.
func getPBX(c *call) {
	id, e := c.pbxID()
	if e != nil {
		c.fail(e)
		return
	}
	s := c.s
	s.mu.RLock()
	p := s.w.pbxByID[id]
	if p == nil {
		s.mu.RUnlock()
		c.fail(errf(eNotFound, "no cloud PBX %d", id))
		return
	}
	b := appendPBX(c.begin(), p, &s.dialect)
	s.mu.RUnlock()
	c.ok(b)
}

type resizeRequest struct {
	ExtensionCapacity      *int    `json:"extensionCapacity"`
	ConcurrentCallCapacity *int    `json:"concurrentCallCapacity"`
	RecordingStatus        *string `json:"recordingStatus"`
	RecordingCapacity      *int    `json:"recordingCapacity"`
	TranscriptionCapacity  *int    `json:"transcriptionCapacity"`
}

// resizePBX: PUT /dm/open_api/v1/cloud_pbx/instances/{cloudPbxId}/capacity.
func resizePBX(c *call) {
	id, e := c.pbxID()
	if e != nil {
		c.fail(e)
		return
	}
	var req resizeRequest
	if e := c.decodeJSON(&req); e != nil {
		c.fail(e)
		return
	}
	var fields []fieldError
	required := func(name string, missing bool) {
		if missing {
			fields = append(fields, fieldError{name, "required"})
		}
	}
	required("extensionCapacity", req.ExtensionCapacity == nil)
	required("concurrentCallCapacity", req.ConcurrentCallCapacity == nil)
	required("recordingStatus", req.RecordingStatus == nil)
	required("recordingCapacity", req.RecordingCapacity == nil)
	if e := fieldErrs(fields); e != nil {
		c.fail(e)
		return
	}
	ext, calls, rec := *req.ExtensionCapacity, *req.ConcurrentCallCapacity, *req.RecordingCapacity
	if st := *req.RecordingStatus; st != "Enabled" && st != "Disabled" {
		fields = append(fields, fieldError{"recordingStatus", fmt.Sprintf("must be Enabled or Disabled, not %q", st)})
	}
	if ext < minExtensions || ext > maxExtensions {
		fields = append(fields, fieldError{"extensionCapacity",
			fmt.Sprintf("%d is outside %d..%d extensions", ext, minExtensions, maxExtensions)})
	}
	if calls < 1 {
		fields = append(fields, fieldError{"concurrentCallCapacity", fmt.Sprintf("must be at least 1, not %d", calls)})
	}
	if t := req.TranscriptionCapacity; t != nil && *t < 0 {
		fields = append(fields, fieldError{"transcriptionCapacity", "must not be negative"})
	}

	s := c.s
	s.mu.Lock()
	p := s.w.pbxByID[id]
	if p == nil {
		s.mu.Unlock()
		c.fail(errf(eNotFound, "no cloud PBX %d", id))
		return
	}
	if pkg := s.w.pkg(p.PackageID); pkg != nil {
		if ext < pkg.MinExtensionsPerPBX {
			fields = append(fields, fieldError{"extensionCapacity", fmt.Sprintf(
				"%d is below the minimum of %d extensions per PBX of hosting package %q", ext, pkg.MinExtensionsPerPBX, pkg.Name)})
		}
		sum := 0
		for _, q := range s.w.pbxs {
			if q.PackageID == pkg.ID && q.CloudPbxID != id {
				sum += q.ExtensionCapacity
			}
		}
		if sum+ext > pkg.ExtensionPool {
			fields = append(fields, fieldError{"extensionCapacity", fmt.Sprintf(
				"%d would take hosting package %q to %d extensions, over its pool of %d (%d free for this PBX)",
				ext, pkg.Name, sum+ext, pkg.ExtensionPool, pkg.ExtensionPool-sum)})
		}
	}
	if ext < p.ExtensionUsed {
		fields = append(fields, fieldError{"extensionCapacity",
			fmt.Sprintf("%d is below the %d extensions in use", ext, p.ExtensionUsed)})
	}
	if rec < p.RecordingCapacity {
		fields = append(fields, fieldError{"recordingCapacity",
			fmt.Sprintf("recording minutes cannot be reduced (from %d to %d)", p.RecordingCapacity, rec)})
	}
	if e := fieldErrs(fields); e != nil {
		s.mu.Unlock()
		c.fail(e)
		return
	}
	p.ExtensionCapacity = ext
	p.ConcurrentCallCapacity = calls
	p.RecordingStatus = *req.RecordingStatus
	p.RecordingCapacity = rec
	// A PUT sets what it is given: an omitted transcriptionCapacity clears it
	// (chosen, the pessimistic reading).
	p.TranscriptionCapacity = deref(req.TranscriptionCapacity)
	s.mu.Unlock()
	c.dirty = true
	c.okNull()
}

// listYCMUsers: GET /dm/open_api/v2/users?pageSize&pageNumber&sort. sort is
// accepted and ignored (the order is by userId).
func listYCMUsers(c *call) {
	_, pageNumber, pageSize, ok := ycmPageQuery(c)
	if !ok {
		return
	}
	s := c.s
	s.mu.RLock()
	users := s.w.ycmUsers()
	s.mu.RUnlock()
	c.ok(appendYCMPage(c.begin(), users, pageNumber, pageSize, func(b []byte, u YCMUser) []byte { return appendYCMUser(b, &u) }))
}

// activationEmail: POST /dm/open_api/v1/users/{userId}/activation_email. For a
// colleague's user waiting for activation it renews the invitation: a new
// e-mail, valid InviteValidity from now.
func activationEmail(c *call) {
	id, err := strconv.ParseInt(c.id, 10, 64)
	if err != nil || id <= 0 {
		c.fail(fieldErr("userId", fmt.Sprintf("%q is not a user id", c.id)))
		return
	}
	if e := c.readNoBody(); e != nil {
		c.fail(e)
		return
	}
	s := c.s
	now := s.Clock().Truncate(time.Second)
	s.mu.Lock()
	w := s.w
	var to string
	var e *apiError
	if id > ColleagueUserBase {
		col := w.colByID[id-ColleagueUserBase]
		switch {
		case col == nil || col.IsRmUser != 1:
			e = errf(eNotFound, "no YCM user %d", id)
		case col.UserStatus == StatusActive:
			e = fieldErr("userId", fmt.Sprintf("user %d (%s) is already activated", id, col.YeastarID))
		case col.UserStatus != StatusUnActive:
			e = fieldErr("userId", fmt.Sprintf("user %d (%s) is %s", id, col.YeastarID, col.UserStatus))
		default:
			col.InvitedAt, col.InviteExpiresAt = now, now.Add(InviteValidity)
			to = col.YeastarID
		}
	} else {
		i, found := slices.BinarySearchFunc(w.users, id, func(u YCMUser, id int64) int { return cmpInt(u.UserID, id) })
		if found {
			to = w.users[i].Email
		} else {
			e = errf(eNotFound, "no YCM user %d", id)
		}
	}
	if e == nil {
		w.outbox = append(w.outbox, Email{To: to, SentAt: now, ExpiresAt: now.Add(InviteValidity)})
	}
	s.mu.Unlock()
	if e != nil {
		c.fail(e)
		return
	}
	s.log.Debug().Str("to", to).Msg("activation e-mail sent again")
	c.dirty = true
	c.okNoData()
}

package sim

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Demo credentials of the two APIs.
const (
	DemoPartnerID     = "demo-partner"
	DemoPartnerSecret = "demo-secret"
	DemoYCMID         = "demo-ycm"
	DemoYCMSecret     = "demo-secret"
)

// Colleague statuses as the portal reports them.
const (
	StatusActive   = "Active"
	StatusUnActive = "UnActive"
	StatusFreeze   = "Freeze"
)

// InviteValidity is how long an activation link works.
const InviteValidity = 48 * time.Hour

// Permission is one entry of the permission list (resource_list).
type Permission struct {
	ResourceID   int64  `json:"resourceId"`
	ResourceName string `json:"resourceName"`
}

// Partner is a subordinate partner (partner_list).
type Partner struct {
	PartnerID int64  `json:"partnerId"`
	Email     string `json:"email"`
	Company   string `json:"company"`
	UserType  string `json:"userType"`
}

// HostingPackage bounds the extensions of its PBXs.
type HostingPackage struct {
	ID                  int64  `json:"id"`
	Name                string `json:"name"`
	ExtensionPool       int    `json:"extensionPool"`       // sum of extensionCapacity over its PBXs
	MinExtensionsPerPBX int    `json:"minExtensionsPerPbx"` // per PBX
}

// Colleague is a Partner Portal colleague: the wire object plus what the
// simulator tracks about the invitation.
type Colleague struct {
	ColleaguesID            int64   `json:"colleaguesId"`
	YeastarID               string  `json:"yeastarId"`
	FirstName               string  `json:"firstName"`
	LastName                string  `json:"lastName"`
	UserStatus              string  `json:"userStatus"`
	TwoFactorAuthentication int     `json:"twoFactorAuthentication"`
	ResourceIDs             []int64 `json:"resourceIds"`
	IsRmUser                int     `json:"isRmUser"`
	Remark                  string  `json:"remark"`
	OwnerID                 int64   `json:"ownerId"`
	CreateTime              int64   `json:"createTime"`

	// Not on the wire.
	InvitedAt       time.Time `json:"invitedAt,omitzero"`
	InviteExpiresAt time.Time `json:"inviteExpiresAt,omitzero"`
	ActivatedAt     time.Time `json:"activatedAt,omitzero"`
}

func (c Colleague) clone() Colleague {
	c.ResourceIDs = slices.Clone(c.ResourceIDs)
	return c
}

// PBX is a YCM cloud PBX: the wire object plus the simulator's own fields.
type PBX struct {
	CloudPbxID             int64  `json:"cloudPbxId"`
	SN                     string `json:"sn"`
	Name                   string `json:"name"`
	Plan                   string `json:"plan"`
	ExtensionCapacity      int    `json:"extensionCapacity"`
	ConcurrentCallCapacity int    `json:"concurrentCallCapacity"`
	RecordingStatus        string `json:"recordingStatus"`
	RecordingCapacity      int    `json:"recordingCapacity"`
	PbxStatus              string `json:"pbxStatus"`
	ActivationStatus       string `json:"activationStatus"`
	URL                    string `json:"url"`
	Region                 string `json:"region"`
	TranscriptionCapacity  int    `json:"transcriptionCapacity,omitzero"` // on the wire when > 0
	ExtensionUsed          int    `json:"extensionUsed"`                  // on the wire under extension-used=present; resizes never go below it

	// Not on the wire.
	PackageID int64 `json:"packageId"`
}

// YCM user types (GET /dm/open_api/v2/users).
const (
	UserTypeColleague   = "My Colleague"
	UserTypeReseller    = "Reseller"
	UserTypeHostingUser = "Hosting User"
)

// ColleagueUserBase is added to a colleague's colleaguesId to make its YCM
// userId. Colleagues with isRmUser 1 are YCM users, derived from the colleague
// on every call; the other YCM users (State.YCMUsers) have ids up to this.
const ColleagueUserBase = 900000

// YCMUser is a YCM user as GET /dm/open_api/v2/users lists it.
type YCMUser struct {
	UserID                        int64  `json:"userId"`
	Email                         string `json:"email"`
	FirstName                     string `json:"firstName"`
	LastName                      string `json:"lastName"`
	UserType                      string `json:"userType"`
	TwoFactorAuthenticationEnable bool   `json:"twoFactorAuthenticationEnable"`
}

func (c *Colleague) ycmUser() YCMUser {
	return YCMUser{UserID: c.ColleaguesID + ColleagueUserBase, Email: c.YeastarID, FirstName: c.FirstName,
		LastName: c.LastName, UserType: UserTypeColleague, TwoFactorAuthenticationEnable: c.TwoFactorAuthentication != 0}
}

// Email is an activation e-mail the simulator sent.
type Email struct {
	To        string    `json:"to"`
	SentAt    time.Time `json:"sentAt"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// State is the whole world: what GET /_sim/state shows and the state file holds.
type State struct {
	Clock           time.Time        `json:"clock"`
	Permissions     []Permission     `json:"permissions"`
	Partners        []Partner        `json:"partners"`
	Packages        []HostingPackage `json:"packages"`
	Colleagues      []Colleague      `json:"colleagues"`
	PBXs            []PBX            `json:"pbxs"`
	YCMUsers        []YCMUser        `json:"ycmUsers"` // those not derived from colleagues
	Outbox          []Email          `json:"outbox"`
	NextColleagueID int64            `json:"nextColleagueId"`
	NextPBXID       int64            `json:"nextPbxId"`
}

// world is the mutable state behind Server.mu.
type world struct {
	d        *Dialect // of the Server: how colWire is encoded
	perms    []Permission
	permSet  map[int64]bool
	partners []Partner
	packages []HostingPackage
	cols     []*Colleague // ascending colleaguesId
	colByID  map[int64]*Colleague
	colByKey map[string]*Colleague // lower-case yeastarId
	colWire  map[*Colleague][]byte // each colleague's wire object, kept current by touch
	pbxs     []*PBX                // ascending cloudPbxId
	pbxByID  map[int64]*PBX
	users    []YCMUser // ascending userId, all up to ColleagueUserBase
	outbox   []Email
	nextCol  int64
	nextPBX  int64
}

func emailKey(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// demoState is the default world; times are relative to now.
func demoState(now time.Time) State {
	now = now.Truncate(time.Second)
	week := 7 * 24 * time.Hour
	active := func(id int64, email, first, last string, created time.Time, res []int64, rm int) Colleague {
		return Colleague{ColleaguesID: id, YeastarID: email, FirstName: first, LastName: last,
			UserStatus: StatusActive, ResourceIDs: res, IsRmUser: rm, CreateTime: created.Unix(),
			InvitedAt: created, InviteExpiresAt: created.Add(InviteValidity), ActivatedAt: created.Add(3 * time.Hour)}
	}
	invited := func(id int64, email, first, last string, at time.Time, res []int64) Colleague {
		return Colleague{ColleaguesID: id, YeastarID: email, FirstName: first, LastName: last,
			UserStatus: StatusUnActive, ResourceIDs: res, CreateTime: at.Unix(),
			InvitedAt: at, InviteExpiresAt: at.Add(InviteValidity)}
	}
	former := active(10005, "former.staff@demo.example", "Frank", "Former", now.Add(-20*week), []int64{101}, 0)
	former.UserStatus = StatusFreeze
	pbx := func(id int64, name, sn string, ext, calls, used int, url, region string) PBX {
		return PBX{CloudPbxID: id, SN: sn, Name: name, Plan: "Enterprise Plan", ExtensionCapacity: ext,
			ConcurrentCallCapacity: calls, RecordingStatus: "Enabled", RecordingCapacity: 500,
			PbxStatus: "Running", ActivationStatus: "Activated", URL: url, Region: region,
			ExtensionUsed: used, PackageID: 1}
	}
	globex := pbx(7702, "Globex Branch", "PCE-GLBX-0002", 20, 5, 12, "globex.example.yeastar.com", "US")
	globex.TranscriptionCapacity = 100
	return State{
		Clock: now,
		Permissions: []Permission{
			{101, "Dashboard"}, {102, "Customers"}, {103, "Orders"}, {104, "Licenses"}, {105, "Billing"},
			{106, "Deal Registration"}, {107, "Technical Support"}, {108, "Marketing Resources"}, {109, "YCM"},
		},
		Partners: []Partner{
			{2001, "reseller-north@demo.example", "North Reseller", "Reseller"},
			{2002, "reseller-south@demo.example", "South Reseller", "Reseller"},
		},
		Packages: []HostingPackage{{ID: 1, Name: "Demo Hosting", ExtensionPool: 400, MinExtensionsPerPBX: 5}},
		Colleagues: []Colleague{
			active(10001, "ops.lead@demo.example", "Olivia", "Lead", now.Add(-6*week), []int64{101, 102, 103, 109}, 1),
			active(10002, "finance@demo.example", "Fiona", "Nance", now.Add(-4*week), []int64{101, 105}, 0),
			invited(10003, "new.hire@demo.example", "Noah", "Hire", now.Add(-2*time.Hour), []int64{101}),
			invited(10004, "stale.invite@demo.example", "Sam", "Stale", now.Add(-72*time.Hour), []int64{101, 102}),
			former,
		},
		PBXs: []PBX{
			pbx(7701, "Acme HQ", "PCE-ACME-0001", 50, 10, 42, "acme.example.yeastar.com", "EU"),
			globex,
			pbx(7703, "Initech Cloud", "PCE-INIT-0003", 100, 20, 97, "initech.example.yeastar.com", "EU"),
		},
		YCMUsers: []YCMUser{
			{UserID: 300001, Email: "ycm.reseller@demo.example", FirstName: "Rita", LastName: "Reseller", UserType: UserTypeReseller},
			{UserID: 300002, Email: "ycm.hosting@demo.example", FirstName: "Hugo", LastName: "Host", UserType: UserTypeHostingUser},
		},
		Outbox:          []Email{},
		NextColleagueID: 10006,
		NextPBXID:       7704,
	}
}

// newWorld checks st and builds the indexed world from a copy of it.
func newWorld(st State, d *Dialect) (*world, error) {
	w := &world{
		d:        d,
		perms:    slices.Clone(st.Permissions),
		permSet:  map[int64]bool{},
		partners: slices.Clone(st.Partners),
		packages: slices.Clone(st.Packages),
		colByID:  map[int64]*Colleague{},
		colByKey: map[string]*Colleague{},
		colWire:  map[*Colleague][]byte{},
		pbxByID:  map[int64]*PBX{},
		users:    slices.Clone(st.YCMUsers),
		outbox:   slices.Clone(st.Outbox),
		nextCol:  st.NextColleagueID,
		nextPBX:  st.NextPBXID,
	}
	for _, p := range w.perms {
		if w.permSet[p.ResourceID] {
			return nil, fmt.Errorf("permission %d appears twice", p.ResourceID)
		}
		w.permSet[p.ResourceID] = true
	}
	for _, c := range st.Colleagues {
		c := c.clone()
		key := emailKey(c.YeastarID)
		if c.ColleaguesID <= 0 || w.colByID[c.ColleaguesID] != nil {
			return nil, fmt.Errorf("colleague id %d is not positive or appears twice", c.ColleaguesID)
		}
		if w.colByKey[key] != nil {
			return nil, fmt.Errorf("colleague %q appears twice", c.YeastarID)
		}
		switch c.UserStatus {
		case StatusActive, StatusUnActive, StatusFreeze:
		default:
			return nil, fmt.Errorf("colleague %q: unknown userStatus %q", c.YeastarID, c.UserStatus)
		}
		w.colByID[c.ColleaguesID] = &c
		w.colByKey[key] = &c
		w.cols = append(w.cols, &c)
		w.touch(&c)
		w.nextCol = max(w.nextCol, c.ColleaguesID+1)
	}
	slices.SortFunc(w.cols, func(a, b *Colleague) int { return cmpInt(a.ColleaguesID, b.ColleaguesID) })
	for _, p := range st.PBXs {
		p := p
		if p.CloudPbxID <= 0 || w.pbxByID[p.CloudPbxID] != nil {
			return nil, fmt.Errorf("cloud PBX id %d is not positive or appears twice", p.CloudPbxID)
		}
		if w.pkg(p.PackageID) == nil {
			return nil, fmt.Errorf("cloud PBX %d: no hosting package %d", p.CloudPbxID, p.PackageID)
		}
		w.pbxByID[p.CloudPbxID] = &p
		w.pbxs = append(w.pbxs, &p)
		w.nextPBX = max(w.nextPBX, p.CloudPbxID+1)
	}
	slices.SortFunc(w.pbxs, func(a, b *PBX) int { return cmpInt(a.CloudPbxID, b.CloudPbxID) })
	slices.SortFunc(w.users, func(a, b YCMUser) int { return cmpInt(a.UserID, b.UserID) })
	for i, u := range w.users {
		switch {
		case u.UserID <= 0 || u.UserID > ColleagueUserBase:
			return nil, fmt.Errorf("YCM user %d: the id is not within 1..%d (colleagues' users are above)", u.UserID, ColleagueUserBase)
		case i > 0 && w.users[i-1].UserID == u.UserID:
			return nil, fmt.Errorf("YCM user id %d appears twice", u.UserID)
		case u.UserType != UserTypeReseller && u.UserType != UserTypeHostingUser:
			return nil, fmt.Errorf("YCM user %d: userType %q is not %q or %q", u.UserID, u.UserType, UserTypeReseller, UserTypeHostingUser)
		}
	}
	if w.nextCol <= 0 {
		w.nextCol = 10001
	}
	if w.nextPBX <= 0 {
		w.nextPBX = 7701
	}
	return w, nil
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// state copies the world out.
func (w *world) state(now time.Time) State {
	st := State{
		Clock:           now,
		Permissions:     slices.Clone(w.perms),
		Partners:        slices.Clone(w.partners),
		Packages:        slices.Clone(w.packages),
		Colleagues:      make([]Colleague, 0, len(w.cols)),
		PBXs:            make([]PBX, 0, len(w.pbxs)),
		YCMUsers:        slices.Clone(w.users),
		Outbox:          slices.Clone(w.outbox),
		NextColleagueID: w.nextCol,
		NextPBXID:       w.nextPBX,
	}
	for _, c := range w.cols {
		st.Colleagues = append(st.Colleagues, c.clone())
	}
	for _, p := range w.pbxs {
		st.PBXs = append(st.PBXs, *p)
	}
	if st.Outbox == nil {
		st.Outbox = []Email{}
	}
	if st.YCMUsers == nil {
		st.YCMUsers = []YCMUser{}
	}
	return st
}

func (w *world) pkg(id int64) *HostingPackage {
	for i := range w.packages {
		if w.packages[i].ID == id {
			return &w.packages[i]
		}
	}
	return nil
}

func (w *world) partnerKnown(id int64) bool {
	for _, p := range w.partners {
		if p.PartnerID == id {
			return true
		}
	}
	return false
}

// ycmUsers lists every YCM user by ascending userId: the fixed ones, then the
// colleagues with isRmUser 1.
func (w *world) ycmUsers() []YCMUser {
	out := slices.Clone(w.users)
	for _, c := range w.cols {
		if c.IsRmUser == 1 {
			out = append(out, c.ycmUser())
		}
	}
	return out
}

func (w *world) addColleague(c *Colleague) {
	w.cols = append(w.cols, c) // ids only grow, so the slice stays sorted
	w.colByID[c.ColleaguesID] = c
	w.colByKey[emailKey(c.YeastarID)] = c
	w.touch(c)
}

// touch encodes c's wire object again after a change; list calls copy it.
func (w *world) touch(c *Colleague) {
	w.colWire[c] = appendColleague(w.colWire[c][:0], c, w.d)
}

func (w *world) appendColleague(b []byte, c *Colleague) []byte {
	return append(b, w.colWire[c]...)
}

func (w *world) deleteColleagues(ids map[int64]bool) {
	w.cols = slices.DeleteFunc(w.cols, func(c *Colleague) bool {
		if !ids[c.ColleaguesID] {
			return false
		}
		delete(w.colByID, c.ColleaguesID)
		delete(w.colWire, c)
		delete(w.colByKey, emailKey(c.YeastarID))
		return true
	})
}

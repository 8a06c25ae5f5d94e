package reconcile

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ycm-onboard/ycm-onboard/importer"
	"github.com/ycm-onboard/ycm-onboard/internal/words"
	"github.com/ycm-onboard/ycm-onboard/portal"
)

// Actual is the portal's state, as read before planning.
type Actual struct {
	Colleagues  []portal.Colleague
	PBXs        []portal.PBX
	Permissions []portal.Permission
	Partners    []portal.Partner
	Now         time.Time
	Reinvited   map[string]int // re-invites so far by lower-case e-mail, from the run history
	// YCMUsers are YCM's users: an expired colleague listed there as the partner's
	// colleague is re-invited through YCM's activation e-mail. Read only when the
	// plan re-invites someone (see NeedsYCMUsers).
	YCMUsers []portal.YCMUser
}

// NeedsYCMUsers reports whether the plan re-invites someone: only then are YCM's
// users worth reading, and the plan made again with them (see Actual.YCMUsers).
func NeedsYCMUsers(p Plan) bool {
	for _, a := range p.Actions {
		if a.Kind == Reinvite && a.Runs() {
			return true
		}
	}
	return false
}

// Options steer Diff and the guards.
type Options struct {
	Prune            bool    // delete portal colleagues the sheet lacks
	NoReinvite       bool    // leave expired invitations alone
	MaxReinvites     int     // re-invites of one colleague across runs (0: no limit)
	AllowShrink      bool    // allow lowering a PBX's extension capacity
	MaxDelete        int     // deletes allowed in one run (re-invites not counted)
	MaxDeletePercent float64 // of the portal's colleagues, once it holds 50 or more
	ExtensionPool    int     // the hosting package's extensions across its PBXs; 0: unknown, not checked
}

// DefaultOptions are the guards' defaults.
func DefaultOptions() Options { return Options{MaxDelete: 5, MaxDeletePercent: 10, MaxReinvites: 1} }

// Diff compares the desired state with the portal's and returns the plan. It is pure:
// the same inputs give the same plan.
func Diff(d *importer.Desired, a Actual, opts Options) Plan {
	idx := newIndex(a)
	p := Plan{Made: a.Now, Fingerprint: idx.fingerprint(),
		Actions: make([]Action, 0, len(d.Colleagues)+len(d.RejectedColleagues)+len(d.Instances)+len(d.RejectedInstances))}
	for _, c := range d.RejectedColleagues {
		src := c.Source()
		p.Actions = append(p.Actions, Action{Kind: Skip, Object: ColleagueObject, Key: strings.ToLower(c.Email()),
			Label: c.Email(), Name: fullName(c.FirstName(), c.LastName()), Source: &src, Reason: "the row has errors"})
	}
	match, matched := idx.join(d)
	srcs := make([]importer.Source, len(d.Colleagues)) // one allocation for every row's Source
	for j, c := range d.Colleagues {
		srcs[j] = c.Source()
		p.Actions = append(p.Actions, idx.colleague(c, &srcs[j], idx.colleagueMatch(c.Email(), match[j]), a.Now, opts))
	}
	if opts.Prune {
		blind := blindRows(d)
		for i := range a.Colleagues {
			if matched[i] {
				continue
			}
			act := idx.existing(i, a.Now)
			act.Kind = Delete
			act.Reason = "not in the sheet (--prune)"
			act.Blocked = blind
			p.Actions = append(p.Actions, act)
		}
	}
	p.Actions = append(p.Actions, idx.instances(d, opts)...)
	sortActions(p.Actions)
	if opts.ExtensionPool > 0 {
		checkPool(p.Actions, a.PBXs, opts.ExtensionPool)
	}
	p.Tripped = Guards(p, len(a.Colleagues), opts)
	return p
}

// blindRows says why nothing may be pruned while some rejected row names no e-mail
// address at all, or some row may hide others (importer.Desired.Unsure): either could
// be any colleague the portal has. "" when there is none.
func blindRows(d *importer.Desired) string {
	var rows []string
	n := 0
	note := func(s importer.Source) {
		if n++; n <= 3 {
			rows = append(rows, s.String())
		}
	}
	for _, c := range d.RejectedColleagues {
		if len(salvageEmails(c.Email())) == 0 {
			note(c.Source())
		}
	}
	for _, s := range d.Unsure {
		note(s)
	}
	if n == 0 {
		return ""
	}
	where := strings.Join(rows, ", ")
	if n > 3 {
		where += fmt.Sprintf(" and %d more", n-3)
	}
	if n == 1 {
		return fmt.Sprintf("not pruned: a row has no usable e-mail or may hide other rows (%s), so the sheet cannot say who is absent: fix it, or run without --prune", where)
	}
	return fmt.Sprintf("not pruned: %d rows have no usable e-mail or may hide other rows (%s), so the sheet cannot say who is absent: fix them, or run without --prune", n, where)
}

// sortActions puts colleague rows in source order (portal-only ones after, by e-mail),
// then PBXs with shrinks before grows, so capacity is freed before it is used. Actions
// are large, so a permutation is sorted rather than the actions themselves.
func sortActions(as []Action) {
	rank := func(a *Action) int {
		switch {
		case a.Object == ColleagueObject:
			return 0
		case a.Shrink():
			return 1
		default:
			return 2
		}
	}
	less := func(x, y *Action) int {
		if c := cmp.Compare(rank(x), rank(y)); c != 0 {
			return c
		}
		if (x.Source == nil) != (y.Source == nil) {
			if x.Source == nil {
				return 1
			}
			return -1
		}
		if x.Source != nil {
			if c := cmp.Compare(x.Source.File, y.Source.File); c != 0 {
				return c
			}
			if c := cmp.Compare(x.Source.Sheet, y.Source.Sheet); c != 0 {
				return c
			}
			if c := cmp.Compare(x.Source.Row, y.Source.Row); c != 0 {
				return c
			}
		}
		return cmp.Compare(x.Key, y.Key)
	}
	sorted := true
	for i := 1; i < len(as) && sorted; i++ {
		sorted = less(&as[i-1], &as[i]) <= 0
	}
	if sorted {
		return
	}
	perm := make([]int, len(as))
	for i := range perm {
		perm[i] = i
	}
	slices.SortStableFunc(perm, func(i, j int) int { return less(&as[i], &as[j]) })
	out := make([]Action, len(as))
	for i, j := range perm {
		out[i] = as[j]
	}
	copy(as, out)
}

type index struct {
	all        []portal.Colleague
	states     []uint64 // colleagueState of all, computed once
	permByName map[string]portal.Permission
	permByID   map[int64]portal.Permission
	permOrder  map[int64]int
	partners   []portal.Partner
	pbxStates  []uint64
	pbxBySN    map[string]portal.PBX
	pbxByName  map[string][]portal.PBX
	reinvited  map[string]int
	ycmUsers   map[string]int64 // the partner's colleagues among YCM's users, by lower-case e-mail
}

func newIndex(a Actual) *index {
	ix := &index{
		all:        a.Colleagues,
		states:     make([]uint64, len(a.Colleagues)),
		permByName: map[string]portal.Permission{},
		permByID:   map[int64]portal.Permission{},
		permOrder:  map[int64]int{},
		partners:   a.Partners,
		pbxBySN:    map[string]portal.PBX{},
		pbxByName:  map[string][]portal.PBX{},
		reinvited:  a.Reinvited,
		ycmUsers:   map[string]int64{},
	}
	for _, u := range a.YCMUsers {
		k := strings.ToLower(strings.TrimSpace(u.Email))
		if _, dup := ix.ycmUsers[k]; !dup && u.ID != 0 && k != "" && u.Colleague() {
			ix.ycmUsers[k] = u.ID
		}
	}
	for i, c := range a.Colleagues {
		ix.states[i] = colleagueState(c)
	}
	ix.pbxStates = make([]uint64, len(a.PBXs))
	for i, p := range a.PBXs {
		ix.pbxStates[i] = pbxState(p)
	}
	for i, p := range a.Permissions {
		ix.permByName[strings.ToLower(p.Name)] = p
		ix.permByName[p.Name] = p
		ix.permByID[p.ID] = p
		ix.permOrder[p.ID] = i
	}
	for _, p := range a.PBXs {
		ix.pbxBySN[strings.ToLower(p.SN)] = p
		n := strings.ToLower(p.Name)
		ix.pbxByName[n] = append(ix.pbxByName[n], p)
	}
	return ix
}

func fullName(first, last string) string {
	switch {
	case last == "":
		return strings.TrimSpace(first)
	case first == "":
		return strings.TrimSpace(last)
	}
	return strings.TrimSpace(first + " " + last)
}

// ActivationOf is where a portal colleague stands with the activation e-mail at now.
func ActivationOf(c portal.Colleague, now time.Time) Activation { return activation(c, now) }

func activation(c portal.Colleague, now time.Time) Activation {
	switch c.Status {
	case portal.StatusActive:
		return ActivationActive
	case portal.StatusFrozen:
		return ActivationFrozen
	case portal.StatusUnActive:
		if !c.CreatedAt.IsZero() && !now.Before(c.CreatedAt.Add(InviteValidity)) {
			return ActivationExpired
		}
		return ActivationPending
	}
	return ActivationNone
}

// emailKey hashes an e-mail case-insensitively, without allocating for ASCII.
func emailKey(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return shortHash([]byte(strings.ToLower(s)))
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

// existing is the action skeleton for the portal's colleague i.
func (ix *index) existing(i int, now time.Time) Action {
	c := &ix.all[i]
	return Action{Object: ColleagueObject, Key: strings.ToLower(c.Email), Label: c.Email, Was: ix.states[i],
		Name: fullName(c.FirstName, c.LastName), ColleagueID: c.ID, Activation: activation(*c, now),
		InvitedAt: c.CreatedAt, Frozen: c.Status == portal.StatusFrozen,
		Want: portal.NewColleague{Email: c.Email, FirstName: c.FirstName, LastName: c.LastName,
			PermissionIDs: c.PermissionIDs, YCMManager: c.YCMManager, Remark: c.Remark, OwnerID: c.OwnerID}}
}

// resolvePermissions maps names to IDs in the portal's order; unknown names are returned.
func (ix *index) resolvePermissions(names []string) (ids []int64, unknown []string) {
	ids = make([]int64, 0, len(names))
	for _, n := range names {
		p, ok := ix.permByName[n]
		if !ok {
			p, ok = ix.permByName[strings.ToLower(strings.TrimSpace(n))]
		}
		if !ok {
			unknown = append(unknown, n)
			continue
		}
		if !slices.Contains(ids, p.ID) {
			ids = append(ids, p.ID)
		}
	}
	ix.sortPerms(ids)
	return ids, unknown
}

func (ix *index) sortPerms(ids []int64) {
	slices.SortFunc(ids, func(a, b int64) int {
		oa, oka := ix.permOrder[a]
		ob, okb := ix.permOrder[b]
		if oka && okb {
			return cmp.Compare(oa, ob)
		}
		return cmp.Compare(a, b)
	})
}

func (ix *index) permNames(ids []int64) string {
	sorted := slices.Clone(ids)
	ix.sortPerms(sorted)
	names := make([]string, 0, len(sorted))
	for _, id := range sorted {
		if p, ok := ix.permByID[id]; ok {
			names = append(names, p.Name)
		} else {
			names = append(names, "#"+strconv.FormatInt(id, 10))
		}
	}
	if len(names) == 0 {
		return "(none)"
	}
	return strings.Join(names, "; ")
}

// resolveOwner maps an Owner cell (partner e-mail or ID, "" for own) to an owner ID.
func (ix *index) resolveOwner(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, true
	}
	for _, p := range ix.partners {
		if strings.EqualFold(p.Email, s) || strconv.FormatInt(p.ID, 10) == s {
			return p.ID, true
		}
	}
	return 0, false
}

func (ix *index) ownerLabel(id int64) string {
	if id == 0 {
		return "(own)"
	}
	for _, p := range ix.partners {
		if p.ID == id {
			return p.Email
		}
	}
	return strconv.FormatInt(id, 10)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func orNone(s string) string {
	if s == "" {
		return "(empty)"
	}
	return s
}

// colleague plans one input row; pi is the portal colleague it matches, or -1.
func (ix *index) colleague(c importer.Colleague, src *importer.Source, pi int, now time.Time, opts Options) Action {
	email, first, last := c.Email(), c.FirstName(), c.LastName()
	key := strings.ToLower(email)
	exists := pi >= 0
	var pc portal.Colleague
	if exists {
		pc = ix.all[pi]
	}

	if c.State() == importer.Absent {
		if !exists {
			return Action{Kind: Noop, Object: ColleagueObject, Key: key, Label: email,
				Name: fullName(first, last), Source: src, Reason: "absent, as asked"}
		}
		a := ix.existing(pi, now)
		a.Kind, a.Source, a.Label, a.Reason = Delete, src, email, "State absent"
		return a
	}

	ids, unknown := ix.resolvePermissions(c.Permissions())
	want := portal.NewColleague{Email: email, FirstName: first, LastName: last, PermissionIDs: ids}
	var a Action
	if exists {
		a = ix.existing(pi, now)
		want.Email = pc.Email // the portal's spelling is the login
		want.YCMManager, want.Remark, want.OwnerID = pc.YCMManager, pc.Remark, pc.OwnerID
	} else {
		a = Action{Object: ColleagueObject, Key: key}
	}
	a.Source, a.Label = src, email
	if name := fullName(first, last); name != a.Name {
		a.Name = name
	}
	if v, ok := c.YCMManager(); ok {
		want.YCMManager = v
	}
	if v, ok := c.Remark(); ok {
		want.Remark = v
	}
	ownerOK := true
	owner, hasOwner := c.Owner()
	if hasOwner {
		want.OwnerID, ownerOK = ix.resolveOwner(owner)
	}
	a.Want = want

	switch {
	case len(unknown) > 0:
		a.Kind = Skip
		a.Blocked = fmt.Sprintf("unknown permission %s: use the names the portal lists", strings.Join(unknown, ", "))
		return a
	case !ownerOK:
		a.Kind = Skip
		a.Blocked = fmt.Sprintf("owner %q is not a subordinate partner of this account", owner)
		return a
	}

	if !exists {
		a.Kind = Create
		a.Changes = []Change{{Field: "permissions", Old: "", New: ix.permNames(want.PermissionIDs)}}
		if want.YCMManager {
			a.Changes = append(a.Changes, Change{Field: "YCM manager", Old: "", New: "yes"})
		}
		if want.OwnerID != 0 {
			a.Changes = append(a.Changes, Change{Field: "owner", Old: "", New: ix.ownerLabel(want.OwnerID)})
		}
		return a
	}

	var ch []Change
	add := func(field, old, new string) {
		if old != new {
			ch = append(ch, Change{Field: field, Old: old, New: new})
		}
	}
	add("first name", orNone(pc.FirstName), orNone(want.FirstName))
	add("last name", orNone(pc.LastName), orNone(want.LastName))
	if !sameIDs(pc.PermissionIDs, want.PermissionIDs) {
		add("permissions", ix.permNames(pc.PermissionIDs), ix.permNames(want.PermissionIDs))
	}
	add("YCM manager", yesNo(pc.YCMManager), yesNo(want.YCMManager))
	add("remark", orNone(pc.Remark), orNone(want.Remark))
	ownerChange := pc.OwnerID != want.OwnerID
	if ownerChange {
		add("owner", ix.ownerLabel(pc.OwnerID), ix.ownerLabel(want.OwnerID))
	}
	a.Changes = ch

	if a.Activation == ActivationExpired && opts.NoReinvite {
		a.Reason = "the activation link expired: not re-invited (--no-reinvite)"
	}
	if a.Activation == ActivationExpired && !opts.NoReinvite {
		n := ix.reinvited[strings.ToLower(pc.Email)]
		if opts.MaxReinvites > 0 && n >= opts.MaxReinvites {
			// Someone who never activates is not mailed every two days for ever.
			a.Reason = fmt.Sprintf("the activation link expired again after %s: not re-invited (--max-reinvites %d); "+
				"send a new link from the Partner Portal's colleague page, or raise --max-reinvites", words.Count(n, "re-invite"), opts.MaxReinvites)
		} else {
			a.Kind = Reinvite
			a.Reason = fmt.Sprintf("the activation link sent %s expired %s ago", pc.CreatedAt.Format("2006-01-02 15:04 MST"),
				Ago(now.Sub(pc.CreatedAt.Add(InviteValidity))))
			if u, ok := ix.ycmUsers[strings.ToLower(pc.Email)]; ok && !ownerChange {
				a.Via, a.YCMUserID = YCMEmail, u
				a.Reason += ": YCM sends a new activation e-mail (the account is kept)"
			} else {
				a.Reason += ": deleted and created again, which sends a new e-mail (the Partner Portal API has no resend call)"
			}
			return a
		}
	}
	switch {
	case len(ch) == 0:
		a.Kind = Noop
	case ownerChange:
		a.Kind = Update
		a.Blocked = "the owner of a colleague cannot be changed through the API: set State absent, run, then add the colleague again under the new owner"
	default:
		a.Kind = Update
	}
	return a
}

func (ix *index) instances(d *importer.Desired, opts Options) []Action {
	var out []Action
	for _, in := range d.RejectedInstances {
		src := in.Source
		out = append(out, Action{Kind: Skip, Object: InstanceObject, Key: strings.ToLower(in.Ref), Label: in.Ref,
			Source: &src, Reason: "the row has errors", Sizing: &Sizing{ExtensionsUsed: -1}})
	}
	first := len(out)
	bySN := make(map[string][]int, len(d.Instances))
	for _, in := range d.Instances {
		a := ix.instance(in, opts)
		if a.Kind != Skip { // found in YCM: Key is its SN
			bySN[a.Key] = append(bySN[a.Key], len(out))
		}
		out = append(out, a)
	}
	// Rows naming one PBX differently (by name and by SN, or a sheet row and a 3CX
	// export) would race each other: none of them runs.
	for _, is := range bySN {
		if len(is) < 2 {
			continue
		}
		for _, i := range is {
			var others []string
			for _, j := range is {
				if j != i {
					others = append(others, d.Instances[j-first].Place())
				}
			}
			a := &out[i]
			a.Kind, a.Changes, a.After = Skip, nil, a.Before
			a.Blocked = fmt.Sprintf("PBX %s (%s) is sized more than once: also by %s: size each PBX in one place only",
				a.Label, a.Key, strings.Join(others, ", "))
		}
	}
	return out
}

func (ix *index) findPBX(ref string) (portal.PBX, string) {
	r := strings.ToLower(strings.TrimSpace(ref))
	if p, ok := ix.pbxBySN[r]; ok {
		return p, ""
	}
	switch ps := ix.pbxByName[r]; len(ps) {
	case 0:
		return portal.PBX{}, fmt.Sprintf("no cloud PBX is named or has the SN %q: check the name in YCM, or use the SN", ref)
	case 1:
		return ps[0], ""
	default:
		sns := make([]string, len(ps))
		for i, p := range ps {
			sns[i] = p.SN
		}
		return portal.PBX{}, fmt.Sprintf("%d cloud PBXs are named %q (%s): use the SN instead", len(ps), ref, strings.Join(sns, ", "))
	}
}

func (ix *index) instance(in importer.Instance, opts Options) Action {
	src := in.Source
	a := Action{Object: InstanceObject, Key: strings.ToLower(in.Ref), Label: in.Ref, Source: &src,
		Sizing: &Sizing{Derivation: in.Derivation, ExtensionsUsed: -1}}
	p, problem := ix.findPBX(in.Ref)
	if problem != "" {
		a.Kind, a.Blocked = Skip, problem
		return a
	}
	a.Key, a.Label, a.PBXID, a.ExtensionsUsed, a.Was = p.SN, p.Name, p.ID, p.ExtensionsUsed, pbxState(p)
	a.Before = portal.CapacityOf(p)
	a.After = a.Before
	if in.Extensions > 0 {
		a.After.Extensions = in.Extensions
	}
	if in.ConcurrentCalls > 0 {
		a.After.ConcurrentCalls = in.ConcurrentCalls
	}
	if a.After == a.Before {
		a.Kind = Noop
		return a
	}
	a.Kind = Resize
	if a.After.Extensions != a.Before.Extensions {
		a.Changes = append(a.Changes, Change{Field: "extensions",
			Old: strconv.Itoa(a.Before.Extensions), New: strconv.Itoa(a.After.Extensions)})
	}
	if a.After.ConcurrentCalls != a.Before.ConcurrentCalls {
		a.Changes = append(a.Changes, Change{Field: "concurrent calls",
			Old: strconv.Itoa(a.Before.ConcurrentCalls), New: strconv.Itoa(a.After.ConcurrentCalls)})
	}
	switch {
	case a.ExtensionsUsed >= 0 && a.After.Extensions < a.ExtensionsUsed:
		a.Blocked = fmt.Sprintf("%d extensions are in use: a PBX cannot shrink below that", a.ExtensionsUsed)
	case a.Shrink() && !opts.AllowShrink && a.ExtensionsUsed < 0:
		a.Blocked = fmt.Sprintf("lowers extensions from %d to %d and YCM does not say how many are in use: "+
			"check on the PBX, then pass --allow-shrink to allow it", a.Before.Extensions, a.After.Extensions)
	case a.Shrink() && !opts.AllowShrink:
		a.Blocked = fmt.Sprintf("lowers extensions from %d to %d: pass --allow-shrink to allow it",
			a.Before.Extensions, a.After.Extensions)
	case a.After.ConcurrentCalls < a.Before.ConcurrentCalls && !opts.AllowShrink:
		a.Blocked = fmt.Sprintf("lowers concurrent calls from %d to %d: pass --allow-shrink to allow it",
			a.Before.ConcurrentCalls, a.After.ConcurrentCalls)
	case a.Shrink() && a.ExtensionsUsed < 0:
		a.Reason = "extensions in use unknown (YCM does not say): shrinking on --allow-shrink"
	}
	return a
}

// fingerprint identifies a portal state: any change to a colleague or PBX changes it.
func (ix *index) fingerprint() string {
	hs := make([]keyed, 0, len(ix.states)+len(ix.pbxStates))
	for _, x := range ix.states {
		hs = append(hs, keyed{h: x})
	}
	for _, x := range ix.pbxStates {
		hs = append(hs, keyed{h: x})
	}
	radixSort(hs)
	h := sha256.New()
	var b [8]byte
	for _, x := range hs {
		binary.LittleEndian.PutUint64(b[:], x.h)
		h.Write(b[:])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// sameIDs reports whether two permission lists hold the same IDs, in any order.
func sameIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	if slices.Equal(a, b) {
		return true
	}
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

// colleagueState and pbxState are short hashes of what a saved plan compares to tell
// it is stale.
func colleagueState(c portal.Colleague) uint64 {
	var buf [256]byte
	b := append(buf[:0], 'c')
	b = strconv.AppendInt(b, c.ID, 10)
	for _, s := range []string{strings.ToLower(c.Email), c.FirstName, c.LastName, string(c.Status), c.Remark} {
		b = append(b, 0)
		b = append(b, s...)
	}
	ids := c.PermissionIDs
	if !slices.IsSorted(ids) {
		ids = slices.Sorted(slices.Values(ids))
	}
	for _, id := range ids {
		b = append(b, ',')
		b = strconv.AppendInt(b, id, 10)
	}
	b = append(b, 0)
	b = strconv.AppendBool(b, c.YCMManager)
	b = append(b, 0)
	b = strconv.AppendInt(b, c.OwnerID, 10)
	return shortHash(b)
}

func pbxState(p portal.PBX) uint64 {
	var buf [128]byte
	b := append(buf[:0], 'p')
	b = strconv.AppendInt(b, p.ID, 10)
	b = append(b, 0)
	b = append(b, p.SN...)
	for _, n := range []int{p.Extensions, p.ConcurrentCalls, p.RecordingMinutes, p.Transcription} {
		b = append(b, 0)
		b = strconv.AppendInt(b, int64(n), 10)
	}
	b = append(b, 0)
	b = append(b, p.RecordingStatus...)
	return shortHash(b)
}

// shortHash is 64-bit FNV-1a, written out so that hashing allocates nothing.
func shortHash(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

// checkPool walks the resizes in plan order (shrinks first) against the hosting
// package's pool and blocks each grow that cannot fit, so none fails halfway.
func checkPool(as []Action, pbxs []portal.PBX, pool int) {
	used := 0
	for _, p := range pbxs {
		used += p.Extensions
	}
	for i := range as {
		a := &as[i]
		if a.Kind != Resize || a.Blocked != "" {
			continue
		}
		delta := a.After.Extensions - a.Before.Extensions
		if delta > 0 && used+delta > pool {
			a.Blocked = fmt.Sprintf("capacity: the hosting package has %d of its %d extensions free, this grow needs %d",
				max(pool-used, 0), pool, delta)
			continue
		}
		used += delta
	}
}

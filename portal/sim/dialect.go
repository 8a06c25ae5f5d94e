package sim

import (
	"fmt"
	"slices"
	"strings"
)

// Dialect chooses the wire shapes where Yeastar's guides are silent or where
// older readings of them differ. The zero value of each field is the
// documented shape (or, where nothing is documented, the default chosen in
// docs/wire.md); "legacy" is the simulator's wire before dialects.
type Dialect struct {
	IDs           IDStyle            `json:"ids"`
	Partners      PartnerList        `json:"partners"`
	Colleagues    ColleagueScope     `json:"colleagues"`
	Create        CreateResult       `json:"create"`
	PPCodes       CodeStyle          `json:"ppCodes"`
	YCMErrors     YCMErrorFields     `json:"ycmErrors"`
	YCMStatus     YCMStatusStyle     `json:"ycmStatus"`
	ExtensionUsed ExtensionUsedStyle `json:"extensionUsed"`
}

// IDStyle: how the Partner Portal types its ids and counts.
type IDStyle string

const (
	// IDsString: colleaguesId, ownerId, partnerId, twoFactorAuthentication and the
	// token's expiresIn are JSON strings; the rest are numbers (documented).
	IDsString IDStyle = "string"
	// IDsNumber: every id and count is a JSON number.
	IDsNumber IDStyle = "number"
	// IDsAllStrings: as IDsString, and resourceIds items, the permission list's
	// resourceId, isRmUser, createTime and the page counts are strings too.
	IDsAllStrings IDStyle = "all-strings"
)

// PartnerList: the result of the subordinate partner list.
type PartnerList string

const (
	PartnersArray PartnerList = "array" // a plain array; no query parameters (documented)
	PartnersPage  PartnerList = "page"  // a page object, pageNo and pageSize honoured
)

// ColleagueScope: what listing colleagues without ownerId returns.
type ColleagueScope string

const (
	ColleaguesPerOwner ColleagueScope = "per-owner" // the partner's own colleagues (documented)
	ColleaguesEveryone ColleagueScope = "everyone"  // own and every subordinate's
)

// CreateResult: the result of creating a colleague.
type CreateResult string

const (
	CreateTrue   CreateResult = "true"   // JSON true, like the sibling writes
	CreateString CreateResult = "string" // the new id as a JSON string
	CreateObject CreateResult = "object" // {"colleaguesId":…}, the id typed per IDs
	CreateNull   CreateResult = "null"   // null
)

// CodeStyle: the Partner Portal's error words.
type CodeStyle string

const (
	PPCodesLower  CodeStyle = "lower"  // invalid_token, data_not_found, … (documented style)
	PPCodesUpper  CodeStyle = "upper"  // INVALID_TOKEN, DATA_NOT_FOUND, …
	PPCodesOpaque CodeStyle = "opaque" // e40017, …: only the HTTP status tells
)

// YCMErrorFields: the field names of YCM's error body.
type YCMErrorFields string

const (
	YCMErrorsErrcode YCMErrorFields = "errcode" // errcode, errmsg (the word), as Yeastar's P-Series API
	YCMErrorsErrno   YCMErrorFields = "errno"   // errno, errmsg (the word), detail (the reason)
	YCMErrorsCode    YCMErrorFields = "code"    // code, message (the reason)
)

// YCMStatusStyle: the HTTP status of YCM's errors.
type YCMStatusStyle string

const (
	// YCMStatus200: every YCM error comes with HTTP 200 and no Retry-After.
	YCMStatus200 YCMStatusStyle = "200"
	// YCMStatusHTTP: 401 authentication, 403 blocked IP, 429 and Retry-After
	// throttled, 400/404/413/415 for requests the API cannot take; 200 for the rest.
	YCMStatusHTTP YCMStatusStyle = "http"
)

// ExtensionUsedStyle: whether PBX objects carry extensionUsed.
type ExtensionUsedStyle string

const (
	ExtensionUsedAbsent  ExtensionUsedStyle = "absent" // documented: not in the PBX object
	ExtensionUsedPresent ExtensionUsedStyle = "present"
)

// dialectKey is one key of ParseDialect; values[0] is the default.
type dialectKey struct {
	name   string
	values []string
	get    func(*Dialect) string
	set    func(*Dialect, string)
}

func key[T ~string](name string, field func(*Dialect) *T, values ...T) dialectKey {
	k := dialectKey{name: name,
		get: func(d *Dialect) string { return string(*field(d)) },
		set: func(d *Dialect, v string) { *field(d) = T(v) }}
	for _, v := range values {
		k.values = append(k.values, string(v))
	}
	return k
}

var dialectKeys = []dialectKey{
	key("ids", func(d *Dialect) *IDStyle { return &d.IDs }, IDsString, IDsNumber, IDsAllStrings),
	key("partners", func(d *Dialect) *PartnerList { return &d.Partners }, PartnersArray, PartnersPage),
	key("colleagues", func(d *Dialect) *ColleagueScope { return &d.Colleagues }, ColleaguesPerOwner, ColleaguesEveryone),
	key("create", func(d *Dialect) *CreateResult { return &d.Create }, CreateTrue, CreateString, CreateObject, CreateNull),
	key("pp-codes", func(d *Dialect) *CodeStyle { return &d.PPCodes }, PPCodesLower, PPCodesUpper, PPCodesOpaque),
	key("ycm-errors", func(d *Dialect) *YCMErrorFields { return &d.YCMErrors }, YCMErrorsErrcode, YCMErrorsErrno, YCMErrorsCode),
	key("ycm-status", func(d *Dialect) *YCMStatusStyle { return &d.YCMStatus }, YCMStatus200, YCMStatusHTTP),
	key("extension-used", func(d *Dialect) *ExtensionUsedStyle { return &d.ExtensionUsed }, ExtensionUsedAbsent, ExtensionUsedPresent),
}

// NamedDialect is a dialect with the name ParseDialect knows it by.
type NamedDialect struct {
	Name    string
	Dialect Dialect
}

// Dialects returns the named dialects: together they serve every value of
// every field at least once. The first is the documented default.
func Dialects() []NamedDialect {
	legacy := Dialect{IDs: IDsNumber, Partners: PartnersPage, Colleagues: ColleaguesEveryone, Create: CreateObject,
		PPCodes: PPCodesUpper, YCMErrors: YCMErrorsErrno, YCMStatus: YCMStatusHTTP, ExtensionUsed: ExtensionUsedPresent}
	legacyStrings := legacy
	legacyStrings.IDs = IDsString
	out := []NamedDialect{
		{"documented", Dialect{}},
		{"legacy", legacy},
		{"strings-opaque", Dialect{IDs: IDsAllStrings, Create: CreateString, PPCodes: PPCodesOpaque, YCMErrors: YCMErrorsCode}},
		{"numbers-http", Dialect{IDs: IDsNumber, Create: CreateNull, Partners: PartnersPage, YCMStatus: YCMStatusHTTP}},
		{"legacy-string-ids", legacyStrings},
	}
	for i := range out {
		out[i].Dialect = out[i].Dialect.norm()
	}
	return out
}

// ParseDialect reads a dialect: "" or a preset (a name of Dialects, e.g.
// "documented" or "legacy"), then comma-separated key=value overrides, e.g.
// "legacy,create=true" or "ids=number,partners=page". Every field of the
// answer is set.
func ParseDialect(s string) (Dialect, error) {
	var d Dialect
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, v, ok := strings.Cut(part, "=")
		name, v = strings.TrimSpace(name), strings.TrimSpace(v)
		if !ok {
			p, found := presetDialect(name)
			switch {
			case !found:
				return Dialect{}, fmt.Errorf("dialect %q: %q is neither a preset (%s) nor key=value (keys %s)",
					s, name, presetNames(), keyNames())
			case i > 0:
				return Dialect{}, fmt.Errorf("dialect %q: the preset %q must come first", s, name)
			}
			d = p
			continue
		}
		k := dialectKeyNamed(name)
		if k == nil {
			return Dialect{}, fmt.Errorf("dialect %q: unknown key %q; the keys are %s", s, name, keyNames())
		}
		if !slices.Contains(k.values, v) {
			return Dialect{}, fmt.Errorf("dialect %q: %s=%q is not one of %s", s, name, v, strings.Join(k.values, ", "))
		}
		k.set(&d, v)
	}
	return d.norm(), nil
}

// String is the canonical form: every key=value, in a fixed order.
func (d Dialect) String() string {
	d = d.norm()
	var b strings.Builder
	for i, k := range dialectKeys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k.name)
		b.WriteByte('=')
		b.WriteString(k.get(&d))
	}
	return b.String()
}

// norm sets the empty fields to their defaults.
func (d Dialect) norm() Dialect {
	for _, k := range dialectKeys {
		if k.get(&d) == "" {
			k.set(&d, k.values[0])
		}
	}
	return d
}

func (d Dialect) validate() error {
	for _, k := range dialectKeys {
		if v := k.get(&d); v != "" && !slices.Contains(k.values, v) {
			return fmt.Errorf("dialect: %s %q is not one of %s", k.name, v, strings.Join(k.values, ", "))
		}
	}
	return nil
}

func presetDialect(name string) (Dialect, bool) {
	for _, n := range Dialects() {
		if n.Name == name {
			return n.Dialect, true
		}
	}
	return Dialect{}, false
}

func presetNames() string {
	var names []string
	for _, n := range Dialects() {
		names = append(names, n.Name)
	}
	return strings.Join(names, ", ")
}

func keyNames() string {
	var names []string
	for _, k := range dialectKeys {
		names = append(names, k.name)
	}
	return strings.Join(names, ", ")
}

func dialectKeyNamed(name string) *dialectKey {
	for i := range dialectKeys {
		if dialectKeys[i].name == name {
			return &dialectKeys[i]
		}
	}
	return nil
}

// Shorthands for the encoders; d is normalized.

// idStrings: the ids the guides type as String are strings.
func (d *Dialect) idStrings() bool { return d.IDs != IDsNumber }

// allStrings: every id and count of the Partner Portal is a string.
func (d *Dialect) allStrings() bool { return d.IDs == IDsAllStrings }

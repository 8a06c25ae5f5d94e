package sim

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzAppendString: the hand-written encoder means what encoding/json means.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", `q"uo\te`, "tab\tnl\ncr\r\x00\x1f\x7f", "é ü 漢字 😀", "bad \xff\xfe utf8", "<a&b>", "\u2028\u2029"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var got, want string
		if err := json.Unmarshal(appendString(nil, s), &got); err != nil {
			t.Fatalf("appendString(%q) is not JSON: %v", s, err)
		}
		data, _ := json.Marshal(s)
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("appendString(%q) decodes to %q, encoding/json's to %q", s, got, want)
		}
	})
}

// marshal is encoding/json's encoding of v, without HTML escaping (which the
// hand-written encoder does not do, and need not).
func marshal(t *testing.T, v any) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// num is v as encoding/json should see it: a string when quoted.
func num(v int64, quoted bool) any {
	if quoted {
		return strconv.FormatInt(v, 10)
	}
	return v
}

// The reference shapes of wire.md per dialect, for encoding/json.

func refColleague(c *Colleague, d Dialect) any {
	ids, all := d.IDs != IDsNumber, d.IDs == IDsAllStrings
	res := []any{}
	for _, id := range c.ResourceIDs {
		res = append(res, num(id, all))
	}
	return struct {
		ColleaguesID            any    `json:"colleaguesId"`
		YeastarID               string `json:"yeastarId"`
		FirstName               string `json:"firstName"`
		LastName                string `json:"lastName"`
		UserStatus              string `json:"userStatus"`
		TwoFactorAuthentication any    `json:"twoFactorAuthentication"`
		ResourceIDs             []any  `json:"resourceIds"`
		IsRmUser                any    `json:"isRmUser"`
		Remark                  string `json:"remark"`
		OwnerID                 any    `json:"ownerId"`
		CreateTime              any    `json:"createTime"`
	}{num(c.ColleaguesID, ids), c.YeastarID, c.FirstName, c.LastName, c.UserStatus,
		num(int64(c.TwoFactorAuthentication), ids), res, num(int64(c.IsRmUser), all), c.Remark,
		num(c.OwnerID, ids), num(c.CreateTime, all)}
}

func refPBX(p *PBX, d Dialect) any {
	var transcription, used *int
	if p.TranscriptionCapacity > 0 {
		transcription = &p.TranscriptionCapacity
	}
	if d.ExtensionUsed == ExtensionUsedPresent {
		used = &p.ExtensionUsed
	}
	return struct {
		CloudPbxID             int64  `json:"cloudPbxId"`
		SN                     string `json:"sn"`
		Name                   string `json:"name"`
		Plan                   string `json:"plan"`
		ExtensionCapacity      int    `json:"extensionCapacity"`
		ConcurrentCallCapacity int    `json:"concurrentCallCapacity"`
		RecordingStatus        string `json:"recordingStatus"`
		RecordingCapacity      int    `json:"recordingCapacity"`
		TranscriptionCapacity  *int   `json:"transcriptionCapacity,omitempty"`
		PbxStatus              string `json:"pbxStatus"`
		ActivationStatus       string `json:"activationStatus"`
		URL                    string `json:"url"`
		Region                 string `json:"region"`
		ExtensionUsed          *int   `json:"extensionUsed,omitempty"`
	}{p.CloudPbxID, p.SN, p.Name, p.Plan, p.ExtensionCapacity, p.ConcurrentCallCapacity, p.RecordingStatus,
		p.RecordingCapacity, transcription, p.PbxStatus, p.ActivationStatus, p.URL, p.Region, used}
}

func refPartner(p *Partner, d Dialect) any {
	type base struct {
		PartnerID any    `json:"partnerId"`
		Email     string `json:"email"`
		Company   string `json:"company"`
	}
	b := base{num(p.PartnerID, d.IDs != IDsNumber), p.Email, p.Company}
	if d.Partners == PartnersPage {
		return b
	}
	return struct {
		base
		UserType string `json:"userType"`
	}{b, p.UserType}
}

func refPermission(p *Permission, d Dialect) any {
	return struct {
		ResourceID   any    `json:"resourceId"`
		ResourceName string `json:"resourceName"`
	}{num(p.ResourceID, d.IDs == IDsAllStrings), p.ResourceName}
}

// The hand-written encoders write, byte for byte, what encoding/json writes
// for the shapes of every dialect.
func TestAppendObjects(t *testing.T) {
	cols := []Colleague{
		{ColleaguesID: 10009, YeastarID: `o"dd@x.example`, FirstName: "Zoë", LastName: "\t",
			UserStatus: StatusFreeze, TwoFactorAuthentication: 1, ResourceIDs: []int64{101, 109}, IsRmUser: 1,
			Remark: "line\nbreak", OwnerID: 2002, CreateTime: 1764100000},
		{}, // no permissions: [], not null
	}
	pbxs := []PBX{
		{CloudPbxID: 1, SN: "S", Name: `N\`, Plan: "P", ExtensionCapacity: 2, ConcurrentCallCapacity: 3,
			RecordingStatus: "Disabled", RecordingCapacity: 4, PbxStatus: "Stopped", ActivationStatus: "Inactivated",
			URL: "u", Region: "r", ExtensionUsed: 5, TranscriptionCapacity: 6, PackageID: 7},
		{CloudPbxID: 2, Name: "no transcription", ExtensionUsed: 9},
	}
	partner := Partner{2001, "p&q@x.example", "<Co>", "Reseller"}
	perm := Permission{109, "YCM"}
	for _, nd := range Dialects() {
		t.Run(nd.Name, func(t *testing.T) {
			d := nd.Dialect
			check := func(what string, got []byte, ref any) {
				t.Helper()
				if want := marshal(t, ref); string(got) != want {
					t.Errorf("%s:\n got %s\nwant %s", what, got, want)
				}
			}
			for i := range cols {
				check("colleague", appendColleague(nil, &cols[i], &d), refColleague(&cols[i], d))
			}
			for i := range pbxs {
				check("PBX", appendPBX(nil, &pbxs[i], &d), refPBX(&pbxs[i], d))
			}
			check("partner", appendPartner(nil, &partner, &d), refPartner(&partner, d))
			check("permission", appendPermission(nil, &perm, &d), refPermission(&perm, d))
		})
	}
	u := YCMUser{910001, "a@x.example", "A", "\"B\"", UserTypeColleague, true}
	if got, want := string(appendYCMUser(nil, &u)), marshal(t, u); got != want {
		t.Errorf("YCM user:\n got %s\nwant %s", got, want)
	}

	// The documented shapes decode strictly into the test's wire types.
	var d Dialect
	var gotC wireColleague
	strictDecode(t, appendColleague(nil, &cols[0], &d), &gotC)
	c := cols[0]
	wantC := wireColleague{c.ColleaguesID, c.YeastarID, c.FirstName, c.LastName, c.UserStatus, c.TwoFactorAuthentication,
		c.ResourceIDs, c.IsRmUser, c.Remark, c.OwnerID, c.CreateTime}
	if diff := cmp.Diff(wantC, gotC); diff != "" {
		t.Errorf("colleague (-want +got):\n%s", diff)
	}
	var gotP wirePBX
	strictDecode(t, appendPBX(nil, &pbxs[0], &d), &gotP)
	wantP := wirePBX{1, "S", `N\`, "P", 2, 3, "Disabled", 4, 6, "Stopped", "Inactivated", "u", "r"}
	if diff := cmp.Diff(wantP, gotP); diff != "" {
		t.Errorf("PBX (-want +got):\n%s", diff)
	}
}

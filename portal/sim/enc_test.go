package sim

import (
	"encoding/json"
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

func TestAppendObjects(t *testing.T) {
	c := Colleague{ColleaguesID: 10009, YeastarID: `o"dd@x.example`, FirstName: "Zoë", LastName: "\t",
		UserStatus: StatusFreeze, TwoFactorAuthentication: 1, ResourceIDs: []int64{101, 109}, IsRmUser: 1,
		Remark: "line\nbreak", OwnerID: 2002, CreateTime: 1764100000}
	var gotC wireColleague
	strictDecode(t, appendColleague(nil, &c), &gotC)
	wantC := wireColleague{c.ColleaguesID, c.YeastarID, c.FirstName, c.LastName, c.UserStatus, c.TwoFactorAuthentication,
		c.ResourceIDs, c.IsRmUser, c.Remark, c.OwnerID, c.CreateTime}
	if diff := cmp.Diff(wantC, gotC); diff != "" {
		t.Errorf("colleague (-want +got):\n%s", diff)
	}
	var empty wireColleague
	strictDecode(t, appendColleague(nil, &Colleague{}), &empty)
	if empty.ResourceIDs == nil {
		t.Error("no permissions encode as null, want []")
	}

	p := PBX{CloudPbxID: 1, SN: "S", Name: `N\`, Plan: "P", ExtensionCapacity: 2, ConcurrentCallCapacity: 3,
		RecordingStatus: "Disabled", RecordingCapacity: 4, PbxStatus: "Stopped", ActivationStatus: "Inactivated",
		URL: "u", Region: "r", ExtensionUsed: 5, TranscriptionCapacity: 6, PackageID: 7}
	var gotP wirePBX
	strictDecode(t, appendPBX(nil, &p), &gotP)
	wantP := wirePBX{1, "S", `N\`, "P", 2, 3, "Disabled", 4, 6, "Stopped", "Inactivated", "u", "r", 5}
	if diff := cmp.Diff(wantP, gotP); diff != "" {
		t.Errorf("PBX (-want +got):\n%s", diff)
	}
}

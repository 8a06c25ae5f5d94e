package sim

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDemoPBXs(t *testing.T) {
	e := newEnv(t, Options{})
	tok := e.ycmLogin().AccessToken
	var page wirePBXPage
	e.do("GET", pathPBXList, tok, nil).ycmData(t, &page)
	want := []wirePBX{
		{7701, "PCE-ACME-0001", "Acme HQ", "Enterprise Plan", 50, 10, "Enabled", 500, 0, "Running", "Activated", "acme.example.yeastar.com", "EU"},
		{7702, "PCE-GLBX-0002", "Globex Branch", "Enterprise Plan", 20, 5, "Enabled", 500, 100, "Running", "Activated", "globex.example.yeastar.com", "US"},
		{7703, "PCE-INIT-0003", "Initech Cloud", "Enterprise Plan", 100, 20, "Enabled", 500, 0, "Running", "Activated", "initech.example.yeastar.com", "EU"},
	}
	if diff := cmp.Diff(wirePBXPage{PageSize: 10, PageNumber: 1, Total: 3, List: want}, page); diff != "" {
		t.Errorf("PBX list (-want +got):\n%s", diff)
	}
	var one wirePBX
	e.do("GET", pathPBXInstance+"7702", tok, nil).ycmData(t, &one)
	if diff := cmp.Diff(want[1], one); diff != "" {
		t.Errorf("one PBX (-want +got):\n%s", diff)
	}
	env := e.do("GET", pathPBXInstance+"99", tok, nil).ycmErr(t, 200, 1000005)
	if env.Errmsg != "DATA_NOT_FOUND" || env.reason() != "" {
		t.Errorf("not found: %+v, want errmsg DATA_NOT_FOUND and no explanation (ycm-errors=errcode)", env)
	}
	e.do("GET", pathPBXInstance+"x", tok, nil).ycmErr(t, 200, 1000004)
}

func TestPBXPaging(t *testing.T) {
	e := newEnv(t, Options{})
	for i := range 117 { // 120 with the demo's
		if _, err := e.s.AddPBX(PBX{Name: fmt.Sprintf("Extra %03d", i), ExtensionCapacity: 5}); err != nil {
			t.Fatal(err)
		}
	}
	tok := e.ycmLogin().AccessToken
	tests := []struct {
		query             string
		pageSize, pageNo  int
		total, n          int
		firstID           int64
		firstName, lastSN string
	}{
		{"", 10, 1, 120, 10, 7701, "Acme HQ", "PCE-SIM-7710"},
		{"?pageSize=50", 50, 1, 120, 50, 7701, "Acme HQ", "PCE-SIM-7750"},
		{"?pageSize=50&pageNumber=3", 50, 3, 120, 20, 7801, "Extra 097", "PCE-SIM-7820"},
		{"?pageSize=50&pageNumber=4", 50, 4, 120, 0, 0, "", ""},
		{"?search=acme", 10, 1, 1, 1, 7701, "Acme HQ", "PCE-ACME-0001"},
		{"?search=XTRA%2001&sort=name", 10, 1, 10, 10, 7714, "Extra 010", "PCE-SIM-7723"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			var p wirePBXPage
			e.do("GET", pathPBXList+tt.query, tok, nil).ycmData(t, &p)
			var first wirePBX
			last := ""
			if len(p.List) > 0 {
				first, last = p.List[0], p.List[len(p.List)-1].SN
			}
			got := []any{p.PageSize, p.PageNumber, p.Total, len(p.List), first.CloudPbxID, first.Name, last}
			want := []any{tt.pageSize, tt.pageNo, tt.total, tt.n, tt.firstID, tt.firstName, tt.lastSN}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("pageSize pageNumber total len firstID firstName lastSN (-want +got):\n%s", diff)
			}
		})
	}
	for _, q := range []string{"?pageSize=51", "?pageSize=0", "?pageNumber=0", "?pageNumber=-1"} {
		t.Run(q, func(t *testing.T) {
			e.do("GET", pathPBXList+q, tok, nil).ycmErr(t, 200, 1000004)
		})
	}
}

func TestResizeRules(t *testing.T) {
	for _, nd := range Dialects() {
		t.Run(nd.Name, func(t *testing.T) { testResizeRules(t, nd.Dialect) })
	}
}

func testResizeRules(t *testing.T, d Dialect) {
	e := newEnv(t, Options{Dialect: d})
	st := e.s.State()
	st.Packages[0].MinExtensionsPerPBX = 15
	if err := e.s.LoadState(st); err != nil {
		t.Fatal(err)
	}
	tok := e.ycmLogin().AccessToken
	// Acme HQ: 50 ext (42 used), 10 calls, 500 minutes; the package holds 170 of 400.
	tests := []struct {
		name   string
		pbx    int64
		body   string
		detail string // "" for success
	}{
		{"grow", 7701, `{"extensionCapacity":60,"concurrentCallCapacity":12,"recordingStatus":"Enabled","recordingCapacity":600}`, ""},
		{"shrink to use", 7702, `{"extensionCapacity":15,"concurrentCallCapacity":1,"recordingStatus":"Disabled","recordingCapacity":500,"transcriptionCapacity":30}`, ""},
		{"over 500", 7703, `{"extensionCapacity":501,"concurrentCallCapacity":20,"recordingStatus":"Enabled","recordingCapacity":500}`, "outside 5..500"},
		{"under 5", 7702, `{"extensionCapacity":4,"concurrentCallCapacity":5,"recordingStatus":"Enabled","recordingCapacity":500}`, "outside 5..500"},
		{"package minimum", 7702, `{"extensionCapacity":14,"concurrentCallCapacity":5,"recordingStatus":"Enabled","recordingCapacity":500}`, "below the minimum of 15 extensions per PBX"},
		{"in use", 7703, `{"extensionCapacity":96,"concurrentCallCapacity":20,"recordingStatus":"Enabled","recordingCapacity":500}`, "below the 97 extensions in use"},
		{"pool", 7703, `{"extensionCapacity":326,"concurrentCallCapacity":20,"recordingStatus":"Enabled","recordingCapacity":500}`, "over its pool of 400 (325 free for this PBX)"},
		{"pool exactly", 7703, `{"extensionCapacity":325,"concurrentCallCapacity":20,"recordingStatus":"Enabled","recordingCapacity":500}`, ""},
		{"no calls", 7701, `{"extensionCapacity":60,"concurrentCallCapacity":0,"recordingStatus":"Enabled","recordingCapacity":600}`, "concurrentCallCapacity: must be at least 1"},
		{"fewer minutes", 7701, `{"extensionCapacity":60,"concurrentCallCapacity":12,"recordingStatus":"Enabled","recordingCapacity":599}`, "cannot be reduced (from 600 to 599)"},
		{"recording status", 7701, `{"extensionCapacity":60,"concurrentCallCapacity":12,"recordingStatus":"On","recordingCapacity":600}`, "recordingStatus: must be Enabled or Disabled"},
		{"missing field", 7701, `{"extensionCapacity":60,"concurrentCallCapacity":12,"recordingStatus":"Enabled"}`, "recordingCapacity: required"},
		{"unknown PBX", 99, `{"extensionCapacity":60,"concurrentCallCapacity":12,"recordingStatus":"Enabled","recordingCapacity":600}`, "no cloud PBX 99"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.s.PBXs()
			r := e.do("PUT", fmt.Sprintf("%s%d/capacity", pathPBXInstance, tt.pbx), tok, tt.body)
			if tt.detail == "" {
				r.ycmData(t, nil)
				if string(r.ycm(t).Data) != "null" {
					t.Errorf("data %s, want null", r.ycm(t).Data)
				}
				return
			}
			errno := 1000004
			if tt.pbx == 99 {
				errno = 1000005
			}
			env := r.ycmErr(t, 200, errno)
			if d.YCMErrors != YCMErrorsErrcode && !strings.Contains(env.reason(), tt.detail) {
				t.Errorf("explanation %q does not say %q", env.reason(), tt.detail)
			}
			if diff := cmp.Diff(before, e.s.PBXs()); diff != "" {
				t.Errorf("a refused resize changed the PBXs:\n%s", diff)
			}
		})
	}
	var got []string
	for _, p := range e.s.PBXs() {
		got = append(got, fmt.Sprintf("%d %d %s %d %d", p.ExtensionCapacity, p.ConcurrentCallCapacity,
			p.RecordingStatus, p.RecordingCapacity, p.TranscriptionCapacity))
	}
	want := []string{"60 12 Enabled 600 0", "15 1 Disabled 500 30", "325 20 Enabled 500 0"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("PBXs after the resizes (-want +got):\n%s", diff)
	}
}

// A resize sets transcriptionCapacity to what it sends: omitted, it clears it.
func TestResizeTranscription(t *testing.T) {
	e := newEnv(t, Options{})
	tok := e.ycmLogin().AccessToken
	path := pathPBXInstance + "7702/capacity"
	get := func() wirePBX {
		var p wirePBX
		e.do("GET", pathPBXInstance+"7702", tok, nil).ycmData(t, &p)
		return p
	}
	if p := get(); p.TranscriptionCapacity != 100 {
		t.Fatalf("demo Globex Branch transcriptionCapacity %d, want 100", p.TranscriptionCapacity)
	}
	e.do("PUT", path, tok, `{"extensionCapacity":25,"concurrentCallCapacity":5,"recordingStatus":"Enabled","recordingCapacity":500,"transcriptionCapacity":100}`).ycmData(t, nil)
	if p := get(); p.ExtensionCapacity != 25 || p.TranscriptionCapacity != 100 {
		t.Errorf("sent back: %+v, want 25 extensions and transcription 100 kept", p)
	}
	e.do("PUT", path, tok, `{"extensionCapacity":30,"concurrentCallCapacity":5,"recordingStatus":"Enabled","recordingCapacity":500}`).ycmData(t, nil)
	r := e.do("GET", pathPBXInstance+"7702", tok, nil)
	if p := get(); p.ExtensionCapacity != 30 || p.TranscriptionCapacity != 0 || strings.Contains(string(r.body), "transcription") {
		t.Errorf("omitted: %+v %s, want transcription cleared and absent from the wire", p, r.body)
	}
	if p := e.s.PBXs()[1]; p.TranscriptionCapacity != 0 {
		t.Errorf("world transcription %d after a resize without it", p.TranscriptionCapacity)
	}
	e.do("PUT", path, tok, `{"extensionCapacity":30,"concurrentCallCapacity":5,"recordingStatus":"Enabled","recordingCapacity":500,"transcriptionCapacity":-1}`).ycmErr(t, 200, 1000004)
}

type wireYCMUser struct {
	UserID                        int64  `json:"userId"`
	Email                         string `json:"email"`
	FirstName                     string `json:"firstName"`
	LastName                      string `json:"lastName"`
	UserType                      string `json:"userType"`
	TwoFactorAuthenticationEnable bool   `json:"twoFactorAuthenticationEnable"`
}

type wireYCMUserPage struct {
	PageSize   int           `json:"pageSize"`
	PageNumber int           `json:"pageNumber"`
	Total      int           `json:"total"`
	List       []wireYCMUser `json:"list"`
}

func TestYCMUsers(t *testing.T) {
	e := newEnv(t, Options{})
	tok := e.ycmLogin().AccessToken
	ptok := e.ppLogin().Token
	var page wireYCMUserPage
	e.do("GET", pathYCMUsers, tok, nil).ycmData(t, &page)
	want := wireYCMUserPage{PageSize: 10, PageNumber: 1, Total: 3, List: []wireYCMUser{
		{300001, "ycm.reseller@demo.example", "Rita", "Reseller", "Reseller", false},
		{300002, "ycm.hosting@demo.example", "Hugo", "Host", "Hosting User", false},
		{910001, "ops.lead@demo.example", "Olivia", "Lead", "My Colleague", false},
	}}
	if diff := cmp.Diff(want, page); diff != "" {
		t.Errorf("YCM users (-want +got):\n%s", diff)
	}

	// The colleagues' users follow isRmUser.
	e.do("PUT", pathColleagues+"/10002", ptok, `{"resourceIds":[101],"isRmUser":1}`).ppResult(t, nil)
	e.do("PUT", pathColleagues+"/10001", ptok, `{"resourceIds":[101],"isRmUser":0}`).ppResult(t, nil)
	e.do("GET", pathYCMUsers+"?pageSize=2&pageNumber=2&sort=email", tok, nil).ycmData(t, &page)
	want = wireYCMUserPage{PageSize: 2, PageNumber: 2, Total: 3, List: []wireYCMUser{
		{910002, "finance@demo.example", "Fiona", "Nance", "My Colleague", false},
	}}
	if diff := cmp.Diff(want, page); diff != "" {
		t.Errorf("YCM users after isRmUser edits (-want +got):\n%s", diff)
	}
	if got := len(e.s.YCMUsers()); got != 3 {
		t.Errorf("Server.YCMUsers: %d users, want 3", got)
	}
	for _, q := range []string{"?pageSize=51", "?pageSize=0", "?pageNumber=0"} {
		e.do("GET", pathYCMUsers+q, tok, nil).ycmErr(t, 200, 1000004)
	}
}

// The activation e-mail renews an expired invitation of a colleague's YCM user.
func TestActivationEmail(t *testing.T) {
	e := newEnv(t, Options{})
	ptok := e.ppLogin().Token
	e.do("POST", pathColleagues, ptok, `{"yeastarId":"late.rm@x.example","resourceIds":[101,109],"firstName":"L","isRmUser":1}`).ppResult(t, nil)
	col := e.s.Colleagues()[5]
	userID := col.ColleaguesID + ColleagueUserBase
	e.s.Advance(49 * time.Hour)
	tok := e.ycmLogin().AccessToken
	send := func(id int64, body any, hdr ...string) resp {
		return e.do("POST", fmt.Sprintf("%s%d/activation_email", pathYCMUser, id), tok, body, hdr...)
	}
	if err := e.s.Activate("late.rm@x.example"); !errors.Is(err, ErrInviteExpired) {
		t.Fatalf("activate after 49h: %v, want ErrInviteExpired", err)
	}
	r := send(userID, nil)
	r.ycmData(t, nil)
	if r.ycm(t).Data != nil {
		t.Errorf("data in %s, want none", r.body)
	}
	outbox := e.s.Outbox()
	now := start.Add(49 * time.Hour)
	if len(outbox) != 2 || outbox[1] != (Email{"late.rm@x.example", now, now.Add(InviteValidity)}) {
		t.Errorf("outbox %v", outbox)
	}
	if err := e.s.Activate("late.rm@x.example"); err != nil {
		t.Errorf("activate after the new e-mail: %v", err)
	}
	after := e.s.Colleagues()[5]
	if after.ColleaguesID != col.ColleaguesID || after.CreateTime != col.CreateTime || after.UserStatus != StatusActive {
		t.Errorf("colleague after renewal and activation: %+v, was %+v", after, col)
	}

	send(userID, `{}`).ycmErr(t, 200, 1000004) // already activated
	send(999999, nil).ycmErr(t, 200, 1000005)
	send(910002, nil).ycmErr(t, 200, 1000005) // finance is not a YCM user
	send(300003, nil).ycmErr(t, 200, 1000005)
	send(300002, `{}`).ycmData(t, nil) // a hosting user
	send(300002, `{"resend":true}`).ycmErr(t, 200, 1000004)
	send(300002, `{}`, "Content-Type", "text/plain").ycmErr(t, 200, 1000004)
	e.do("POST", pathYCMUser+"x/activation_email", tok, nil).ycmErr(t, 200, 1000004)
	if n := len(e.s.Outbox()); n != 3 {
		t.Errorf("%d e-mails, want 3", n)
	}
	if n := e.statusCount(rActivation.name, 200); n != 9 {
		t.Errorf("stats: %d activation e-mail calls answered, want 9", n)
	}
}

package sim

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDemoColleagues(t *testing.T) {
	e := newEnv(t, Options{})
	tok := e.ppLogin().Token
	var page wirePage[wireColleague]
	e.do("GET", pathColleagues, tok, nil).ppResult(t, &page)
	type row struct {
		ID      int64
		Email   string
		Name    string
		Status  string
		Res     []int64
		RM      int
		Created time.Duration // before the clock start
	}
	var got []row
	for _, c := range page.Results {
		got = append(got, row{c.ColleaguesID, c.YeastarID, c.FirstName + " " + c.LastName, c.UserStatus,
			c.ResourceIDs, c.IsRmUser, start.Sub(time.Unix(c.CreateTime, 0))})
	}
	week := 7 * 24 * time.Hour
	want := []row{
		{10001, "ops.lead@demo.example", "Olivia Lead", "Active", []int64{101, 102, 103, 109}, 1, 6 * week},
		{10002, "finance@demo.example", "Fiona Nance", "Active", []int64{101, 105}, 0, 4 * week},
		{10003, "new.hire@demo.example", "Noah Hire", "UnActive", []int64{101}, 0, 2 * time.Hour},
		{10004, "stale.invite@demo.example", "Sam Stale", "UnActive", []int64{101, 102}, 0, 72 * time.Hour},
		{10005, "former.staff@demo.example", "Frank Former", "Freeze", []int64{101}, 0, 20 * week},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("demo colleagues (-want +got):\n%s", diff)
	}
	if page.Count != 5 || page.Total != 5 || page.TotalPage != 1 || page.PageNo != 1 || page.PageSize != 25 {
		t.Errorf("page %+v", page)
	}
	if len(e.s.Outbox()) != 0 {
		t.Errorf("outbox not empty at start: %v", e.s.Outbox())
	}

	var perms []Permission
	e.do("GET", pathResources+"?userId=10001", tok, nil).ppResult(t, &perms)
	if len(perms) != 9 || perms[0] != (Permission{101, "Dashboard"}) || perms[8] != (Permission{109, "YCM"}) {
		t.Errorf("permissions %v", perms)
	}
	var partners []wirePartner
	e.do("GET", pathPartners+"?pageNo=2&pageSize=1", tok, nil).ppResult(t, &partners) // parameters ignored
	wantPartners := []wirePartner{{2001, "reseller-north@demo.example", "North Reseller", "Reseller"},
		{2002, "reseller-south@demo.example", "South Reseller", "Reseller"}}
	if diff := cmp.Diff(wantPartners, partners); diff != "" {
		t.Errorf("partners (-want +got):\n%s", diff)
	}
}

// addColleagues creates n colleagues a0@x.example … and returns their ids.
func (e *env) addColleagues(tok string, n int, owner int64) []int64 {
	e.t.Helper()
	var ids []int64
	for i := range n {
		ids = append(ids, e.create(tok, map[string]any{"yeastarId": fmt.Sprintf("a%d.%d@x.example", i, owner),
			"resourceIds": []int{101}, "firstName": "A", "ownerId": owner}))
	}
	return ids
}

func TestColleaguePaging(t *testing.T) {
	e := newEnv(t, Options{})
	tok := e.ppLogin().Token
	e.addColleagues(tok, 230, 0) // 235 with the demo's
	e.addColleagues(tok, 3, 2001)

	// Without ownerId, the partner's own colleagues only.
	tests := []struct {
		query                   string
		count, pageNo, pageSize int
		total, totalPage        int
		firstID                 int64
	}{
		{"", 25, 1, 25, 235, 10, 10001},
		{"?pageNo=2", 25, 2, 25, 235, 10, 10026},
		{"?pageSize=100", 100, 1, 100, 235, 3, 10001},
		{"?pageSize=100&pageNo=3", 35, 3, 100, 235, 3, 10201},
		{"?pageSize=100&pageNo=4", 0, 4, 100, 235, 3, 0},
		{"?ownerId=2001", 3, 1, 25, 3, 1, 10236},
		{"?ownerId=0&pageSize=1", 1, 1, 1, 235, 235, 10001},
		{"?ownerId=2002", 0, 1, 25, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			var p wirePage[wireColleague]
			e.do("GET", pathColleagues+tt.query, tok, nil).ppResult(t, &p)
			var first int64
			if len(p.Results) > 0 {
				first = p.Results[0].ColleaguesID
			}
			got := []int{p.Count, p.PageNo, p.PageSize, p.Total, p.TotalPage, len(p.Results), int(first)}
			want := []int{tt.count, tt.pageNo, tt.pageSize, tt.total, tt.totalPage, tt.count, int(tt.firstID)}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("count pageNo pageSize total totalPage len firstID (-want +got):\n%s", diff)
			}
		})
	}
	for _, q := range []string{"?pageSize=101", "?pageSize=0", "?pageNo=0", "?pageNo=x", "?ownerId=9", "?ownerId=-1", "?ownerId=%2B2001", "?ownerId=x"} {
		t.Run(q, func(t *testing.T) {
			e.do("GET", pathColleagues+q, tok, nil).ppErr(t, 400, "parameter_validation_failed")
		})
	}
}

func TestCreateColleague(t *testing.T) {
	e := newEnv(t, Options{})
	e.s.Advance(time.Hour)
	now := start.Add(time.Hour)
	tok := e.ppLogin().Token

	var res bool
	e.do("POST", pathColleagues, tok, map[string]any{"yeastarId": "Pat.New@Demo.example", "resourceIds": []int{103, 101, 103},
		"firstName": "Pat", "lastName": "New", "remark": "row 7", "ownerId": 2002, "isRmUser": 1}).ppResult(t, &res)
	if !res {
		t.Error("create answered false, want true")
	}
	var got wireColleague
	e.do("GET", pathColleagues+"/10006", tok, nil).ppResult(t, &got)
	want := wireColleague{ColleaguesID: 10006, YeastarID: "Pat.New@Demo.example", FirstName: "Pat", LastName: "New",
		UserStatus: "UnActive", ResourceIDs: []int64{101, 103}, IsRmUser: 1, Remark: "row 7", OwnerID: 2002, CreateTime: now.Unix()}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("created colleague (-want +got):\n%s", diff)
	}
	wantMail := []Email{{To: "Pat.New@Demo.example", SentAt: now, ExpiresAt: now.Add(48 * time.Hour)}}
	if diff := cmp.Diff(wantMail, e.s.Outbox()); diff != "" {
		t.Errorf("outbox (-want +got):\n%s", diff)
	}

	// The e-mail address is unique whatever its case.
	r := e.do("POST", pathColleagues, tok, map[string]any{"yeastarId": "pat.new@demo.EXAMPLE", "resourceIds": []int{101}, "lastName": "X"})
	r.ppErr(t, 409, "email_address_already_exists")
	e.do("POST", pathColleagues, tok, map[string]any{"yeastarId": "OPS.LEAD@demo.example", "resourceIds": []int{101}, "lastName": "X"}).
		ppErr(t, 409, "email_address_already_exists")
	if n := len(e.s.Outbox()); n != 1 {
		t.Errorf("%d e-mails after refused creates, want 1", n)
	}

	e.do("GET", pathColleagues+"/99", tok, nil).ppErr(t, 404, "data_not_found")
	e.do("GET", pathColleagues+"/abc", tok, nil).ppErr(t, 400, "parameter_validation_failed")
}

func TestCreateColleagueValidation(t *testing.T) {
	e := newEnv(t, Options{})
	tok := e.ppLogin().Token
	long := strings.Repeat("é", 64)
	tests := []struct {
		name string
		body any
		want []string // refused fields
	}{
		{"unknown permission", `{"yeastarId":"a@x.example","resourceIds":[101,999],"firstName":"A"}`, []string{"resourceIds"}},
		{"no permissions", `{"yeastarId":"a@x.example","resourceIds":[],"firstName":"A"}`, []string{"resourceIds"}},
		{"no names", `{"yeastarId":"a@x.example","resourceIds":[101],"firstName":" ","lastName":""}`, []string{"firstName"}},
		{"long names", `{"yeastarId":"a@x.example","resourceIds":[101],"firstName":"` + long + `","lastName":"` + long + `"}`, []string{"firstName", "lastName"}},
		{"63 characters", `{"yeastarId":"a@x.example","resourceIds":[101],"firstName":"` + long[2:] + `"}`, nil},
		{"bad e-mail", `{"yeastarId":"Pat <a@x.example>","resourceIds":[101],"firstName":"A"}`, []string{"yeastarId"}},
		{"no e-mail", `{"resourceIds":[101],"firstName":"A"}`, []string{"yeastarId"}},
		{"unknown owner", `{"yeastarId":"b@x.example","resourceIds":[101],"firstName":"A","ownerId":7}`, []string{"ownerId"}},
		{"owner as a string", `{"yeastarId":"s1@x.example","resourceIds":[101],"firstName":"A","ownerId":"2001"}`, nil},
		{"own as a string", `{"yeastarId":"s2@x.example","resourceIds":[101],"firstName":"A","ownerId":"0"}`, nil},
		{"own as null", `{"yeastarId":"s3@x.example","resourceIds":[101],"firstName":"A","ownerId":null}`, nil},
		{"unknown owner as a string", `{"yeastarId":"b@x.example","resourceIds":[101],"firstName":"A","ownerId":"7"}`, []string{"ownerId"}},
		{"owner not digits", `{"yeastarId":"b@x.example","resourceIds":[101],"firstName":"A","ownerId":"20O1"}`, []string{"ownerId"}},
		{"owner empty", `{"yeastarId":"b@x.example","resourceIds":[101],"firstName":"A","ownerId":""}`, []string{"ownerId"}},
		{"owner fraction", `{"yeastarId":"b@x.example","resourceIds":[101],"firstName":"A","ownerId":2001.5}`, []string{"ownerId"}},
		{"owner bool", `{"yeastarId":"b@x.example","resourceIds":[101],"firstName":"A","ownerId":true}`, []string{"ownerId"}},
		{"isRmUser 2", `{"yeastarId":"b@x.example","resourceIds":[101],"firstName":"A","isRmUser":2}`, []string{"isRmUser"}},
		{"unknown field", `{"yeastarId":"b@x.example","resourceIds":[101],"firstName":"A","email":"b@x.example"}`, []string{"email"}},
		{"wrong type", `{"yeastarId":"b@x.example","resourceIds":["101"],"firstName":"A"}`, []string{"resourceIds"}},
		{"malformed", `{"yeastarId":`, []string{"body"}},
		{"trailing data", `{"yeastarId":"b@x.example","resourceIds":[101],"firstName":"A"} {}`, []string{"body"}},
		{"empty", ``, []string{"body"}},
		{"everything", `{"resourceIds":[0]}`, []string{"yeastarId", "firstName", "resourceIds"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("POST", pathColleagues, tok, tt.body)
			if tt.want == nil {
				r.ppResult(t, nil)
				return
			}
			env := r.ppErr(t, 400, "parameter_validation_failed")
			var fields []wireFieldError
			strictDecode(t, env.Result, &fields)
			var got []string
			for _, f := range fields {
				got = append(got, f.Field)
				if f.Message == "" {
					t.Errorf("field %s without a message", f.Field)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("refused fields (-want +got):\n%s\n%s", diff, r.body)
			}
		})
	}
	if n := len(e.s.Outbox()); n != 4 {
		t.Errorf("%d e-mails, want 4 (from the valid creates)", n)
	}
	owners := map[string]int64{}
	for _, c := range e.s.Colleagues() {
		owners[c.YeastarID] = c.OwnerID
	}
	if owners["s1@x.example"] != 2001 || owners["s2@x.example"] != 0 || owners["s3@x.example"] != 0 {
		t.Errorf("owners %v", owners)
	}
}

func TestBadBodies(t *testing.T) {
	e := newEnv(t, Options{})
	tok := e.ppLogin().Token
	ytok := e.ycmLogin().AccessToken
	big := `{"yeastarId":"` + strings.Repeat("a", 1<<20) + `"}`
	e.do("POST", pathColleagues, tok, big).ppErr(t, 413, "payload_too_large")
	e.do("POST", pathColleagues, tok, `{}`, "Content-Type", "text/plain").ppErr(t, 415, "unsupported_media_type")
	e.do("POST", pathColleagues, tok, `{}`, "Content-Type", "").ppErr(t, 415, "unsupported_media_type")
	e.do("POST", pathColleagues, tok, `{"yeastarId":"a@x.example","resourceIds":[101],"firstName":"A"}`,
		"Content-Type", "application/json; charset=utf-8").ppResult(t, nil)

	capPath := pathPBXInstance + "7701/capacity"
	e.do("PUT", capPath, ytok, big).ycmErr(t, 200, 1000004)
	e.do("PUT", capPath, ytok, `{}`, "Content-Type", "application/xml").ycmErr(t, 200, 1000004)
	e.do("PUT", capPath, ytok, `{"extensionCapacity":`).ycmErr(t, 200, 1000004)
	e.do("PUT", capPath, ytok, `{"extensionCapacity":60,"concurrentCallCapacity":10,"recordingStatus":"Enabled","recordingCapacity":500,"x":1}`).
		ycmErr(t, 200, 1000004)
}

func TestEditColleague(t *testing.T) {
	e := newEnv(t, Options{})
	tok := e.ppLogin().Token
	get := func(id int64) wireColleague {
		var c wireColleague
		e.do("GET", pathColleagues+"/"+strconv.FormatInt(id, 10), tok, nil).ppResult(t, &c)
		return c
	}
	put := func(id int64, body string) resp {
		return e.do("PUT", pathColleagues+"/"+strconv.FormatInt(id, 10), tok, body)
	}

	put(10002, `{"resourceIds":[105,104],"lastName":"Finance","remark":"moved","isRmUser":1}`).ppResult(t, nil)
	c := get(10002)
	if c.FirstName != "Fiona" || c.LastName != "Finance" || c.Remark != "moved" || c.IsRmUser != 1 ||
		!cmp.Equal(c.ResourceIDs, []int64{104, 105}) || c.UserStatus != "Active" {
		t.Errorf("after edit: %+v", c)
	}

	put(10002, `{"resourceIds":[101],"userStatus":"Frozen"}`).ppResult(t, nil)
	if c := get(10002); c.UserStatus != "Freeze" {
		t.Errorf("frozen colleague is %s", c.UserStatus)
	}
	put(10002, `{"resourceIds":[101],"userStatus":"UnActive"}`).ppResult(t, nil)
	if c := get(10002); c.UserStatus != "Active" {
		t.Errorf("unfrozen activated colleague is %s, want Active", c.UserStatus)
	}

	put(10002, `{"resourceIds":[101],"password":"n3w-Secret!"}`).ppResult(t, nil) // documented, accepted
	put(10002, `{"resourceIds":[101],"password":42}`).ppErr(t, 400, "parameter_validation_failed")
	put(10002, `{"resourceIds":[101],"passwd":"x"}`).ppErr(t, 400, "parameter_validation_failed")
	put(10002, `{"firstName":"F"}`).ppErr(t, 400, "parameter_validation_failed")                                  // resourceIds required
	put(10002, `{"resourceIds":[101],"firstName":"","lastName":""}`).ppErr(t, 400, "parameter_validation_failed") // a name stays
	put(10002, `{"resourceIds":[101],"userStatus":"Freeze"}`).ppErr(t, 400, "parameter_validation_failed")
	put(10002, `{"resourceIds":[42]}`).ppErr(t, 400, "parameter_validation_failed")
	put(99, `{"resourceIds":[101]}`).ppErr(t, 404, "data_not_found")
	if c := get(10002); c.LastName != "Finance" || !cmp.Equal(c.ResourceIDs, []int64{101}) {
		t.Errorf("refused edits changed the colleague: %+v", c)
	}
	e.checkWire()
}

func TestDeleteColleagues(t *testing.T) {
	e := newEnv(t, Options{})
	tok := e.ppLogin().Token
	e.do("DELETE", pathColleagues, tok, `{"colleaguesIds":[10004,99]}`).ppErr(t, 404, "data_not_found")
	if n := len(e.s.Colleagues()); n != 5 {
		t.Fatalf("%d colleagues after a refused delete, want 5", n)
	}
	e.do("DELETE", pathColleagues, tok, `{"colleaguesIds":[]}`).ppErr(t, 400, "parameter_validation_failed")
	e.do("DELETE", pathColleagues, tok, `{"colleaguesIds":[10004,10005]}`).ppResult(t, nil)
	var ids []int64
	for _, c := range e.s.Colleagues() {
		ids = append(ids, c.ColleaguesID)
	}
	if diff := cmp.Diff([]int64{10001, 10002, 10003}, ids); diff != "" {
		t.Errorf("after delete (-want +got):\n%s", diff)
	}
	e.do("GET", pathColleagues+"/10004", tok, nil).ppErr(t, 404, "data_not_found")
	// A deleted address can be invited again, with a new id.
	e.do("POST", pathColleagues, tok, `{"yeastarId":"stale.invite@demo.example","resourceIds":[101],"firstName":"Sam"}`).ppResult(t, nil)
	if c := e.s.Colleagues(); c[len(c)-1].ColleaguesID != 10006 {
		t.Errorf("re-invited colleague got id %d", c[len(c)-1].ColleaguesID)
	}
	e.checkWire()
}

func TestUnknownPaths(t *testing.T) {
	e := newEnv(t, Options{})
	tok := e.ppLogin().Token
	e.do("GET", "/user/openapi/user/v1/nothing", tok, nil).ppErr(t, 404, "data_not_found")
	e.do("PATCH", pathColleagues, tok, nil).ppErr(t, 404, "data_not_found")
	e.do("GET", "/dm/open_api/v1/nothing", "", nil).ycmErr(t, 200, 1000005)
	e.do("DELETE", pathPBXInstance+"7701", "", nil).ycmErr(t, 200, 1000005)
}

package portal

import (
	"encoding/json"
	"testing"
)

func TestNumReadsNumbersAndStrings(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
		bad  bool
	}{
		{`10001`, 10001, false}, {`"10001"`, 10001, false}, {`" 7 "`, 7, false}, {`1800.0`, 1800, false},
		{`"1.8e3"`, 1800, false}, {`true`, 1, false}, {`false`, 0, false}, {`null`, 0, false}, {`""`, 0, false},
		{`-3`, -3, false}, {`"abc"`, 0, true}, {`1.5`, 0, true}, {`[1]`, 0, true}, {`{"a":1}`, 0, true},
	} {
		var n num
		err := json.Unmarshal([]byte(tt.in), &n)
		if (err != nil) != tt.bad || (!tt.bad && int64(n) != tt.want) {
			t.Errorf("%s: got %d, %v; want %d (error %v)", tt.in, n, err, tt.want, tt.bad)
		}
	}
}

func TestListReadsArraysAndPages(t *testing.T) {
	type item struct {
		ID num `json:"id"`
	}
	for _, tt := range []struct {
		name  string
		in    string
		items int
		paged bool
		pages int
	}{
		{"array", `[{"id":1},{"id":"2"}]`, 2, false, 1},
		{"null", `null`, 0, false, 1},
		{"partner page", `{"count":2,"pageNo":1,"pageSize":2,"results":[{"id":1},{"id":2}],"total":5,"totalPage":3}`, 2, true, 3},
		{"ycm page", `{"pageSize":"2","pageNumber":"1","total":"5","list":[{"id":1},{"id":2}]}`, 2, true, 3},
		{"page without totals", `{"results":[{"id":1}]}`, 1, true, 1},
		{"page size capped below the asked", `{"pageSize":100,"total":60,"results":[` + repeat(`{"id":1}`, 25) + `]}`, 25, true, 3},
		{"empty page", `{"total":0,"list":[]}`, 0, true, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var l list[item]
			if err := json.Unmarshal([]byte(tt.in), &l); err != nil {
				t.Fatal(err)
			}
			if len(l.Items) != tt.items || l.Paged != tt.paged || l.pageCount() != tt.pages {
				t.Errorf("got %d items, paged %v, %d pages; want %d, %v, %d", len(l.Items), l.Paged, l.pageCount(), tt.items, tt.paged, tt.pages)
			}
		})
	}
	var l list[item]
	if err := json.Unmarshal([]byte(`"nope"`), &l); err == nil {
		t.Error("a string was read as a list")
	}
}

func repeat(s string, n int) string {
	out := s
	for range n - 1 {
		out += "," + s
	}
	return out
}

func TestCreatedID(t *testing.T) {
	for in, want := range map[string]int64{
		`true`: 0, `false`: 0, `null`: 0, ``: 0, `{}`: 0, `"10006"`: 10006, `10006`: 10006,
		`{"colleaguesId":"10006"}`: 10006, `{"colleaguesId":10006}`: 10006, `{"id":"10006"}`: 10006,
	} {
		if got := createdID(json.RawMessage(in)); got != want {
			t.Errorf("%s: got %d, want %d", in, got, want)
		}
	}
}

func TestYCMErrorsWhateverTheirFieldNames(t *testing.T) {
	for _, tt := range []struct {
		name   string
		status int
		body   string
		kind   Kind
		errno  int
	}{
		{"errcode at 200", 200, `{"errcode":1000040,"errmsg":"RATE_LIMIT_EXCEEDED","requestId":"r","status":"Failed","time":1}`, KindThrottled, 1000040},
		{"errno as a string", 200, `{"errno":"1000035","errmsg":"TOKEN_EXPIRED","status":"Failed"}`, KindAuth, 1000035},
		{"code and message", 200, `{"code":1000005,"message":"no cloud PBX 9","status":"Failed"}`, KindNotFound, 1000005},
		{"a field name nobody documented", 200, `{"error_no":1000042,"status":"Failed"}`, KindIPBlocked, 1000042},
		{"an unknown code", 200, `{"errcode":1234567,"errmsg":"something","status":"Failed"}`, KindValidation, 1234567},
		{"429 with no code", 429, `{"status":"Failed"}`, KindThrottled, 0},
		{"401 with no body fields", 401, `{}`, KindAuth, 0},
		{"500 with a code", 500, `{"errcode":1000004,"status":"Failed"}`, KindServer, 1000004},
		{"not JSON", 502, `Bad Gateway`, KindServer, 0},
		{"no envelope at 200", 200, `{"hello":"world"}`, KindServer, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out json.RawMessage
			err := ycmDialect{}.decode(tt.status, nil, []byte(tt.body), &out)
			pe, ok := err.(*Error)
			if !ok {
				t.Fatalf("got %v, want a *Error", err)
			}
			if pe.Kind != tt.kind || pe.Errno != tt.errno {
				t.Errorf("got %s %d, want %s %d (%v)", pe.Kind, pe.Errno, tt.kind, tt.errno, err)
			}
		})
	}
	var out struct {
		N num `json:"n"`
	}
	if err := (ycmDialect{}).decode(200, nil, []byte(`{"data":{"n":"3"},"requestId":"r","status":"Success","time":1}`), &out); err != nil || out.N != 3 {
		t.Errorf("success: %v, %d", err, out.N)
	}
}

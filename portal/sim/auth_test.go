package sim

import (
	"bytes"
	"mime/multipart"
	"net/url"
	"testing"
	"time"
)

func TestTokens(t *testing.T) {
	e := newEnv(t, Options{})
	pp := e.ppLogin()
	if pp.TokenHead != "Bearer" || pp.ExpiresIn != 1800 || pp.Token == "" || pp.RefreshToken == "" {
		t.Errorf("partner token %+v", pp)
	}
	y := e.ycmLogin()
	if y.TokenType != "bearer" || y.ExpiresIn != 1799 || y.AccessToken == "" || y.RefreshToken == "" || y.JTI == "" {
		t.Errorf("YCM token %+v", y)
	}
	e.do("GET", pathColleagues, pp.Token, nil).ppResult(t, nil)
	e.do("GET", pathPBXList, y.AccessToken, nil).ycmData(t, nil)

	// A token works only on its own API.
	e.do("GET", pathColleagues, y.AccessToken, nil).ppErr(t, 401, "invalid_token")
	e.do("GET", pathPBXList, pp.Token, nil).ycmErr(t, 200, 1000036)
	// Refresh tokens are not access tokens.
	e.do("GET", pathColleagues, pp.RefreshToken, nil).ppErr(t, 401, "invalid_token")
	e.do("GET", pathColleagues, "", nil).ppErr(t, 401, "invalid_token")
	e.do("GET", pathPBXList, "nonsense", nil).ycmErr(t, 200, 1000036)

	// Refresh gives a new pair and uses the old refresh token up.
	var pp2 tokPP
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {pp.RefreshToken}}
	e.do("POST", pathPPToken, "", refresh).ppResult(t, &pp2)
	if pp2.Token == pp.Token || pp2.RefreshToken == pp.RefreshToken {
		t.Errorf("refresh gave the same tokens: %+v", pp2)
	}
	e.do("POST", pathPPToken, "", refresh).ppErr(t, 401, "invalid_token")

	r := e.do("POST", pathYCMToken, "", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {y.RefreshToken}})
	var y2 tokYCM
	strictDecode(t, r.body, &y2)
	if r.status != 200 || y2.AccessToken == "" || y2.AccessToken == y.AccessToken {
		t.Errorf("YCM refresh: HTTP %d %s", r.status, r.body)
	}
}

// The token endpoints take multipart/form-data as well as a urlencoded form.
func TestMultipartToken(t *testing.T) {
	e := newEnv(t, Options{})
	post := func(path string, fields map[string]string) resp {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		for k, v := range fields {
			mw.WriteField(k, v)
		}
		mw.Close()
		return e.do("POST", path, "", body.String(), "Content-Type", mw.FormDataContentType())
	}
	var pp tokPP
	post(pathPPToken, map[string]string{"client_id": DemoPartnerID, "client_secret": DemoPartnerSecret,
		"grant_type": "pp_credentials"}).ppResult(t, &pp)
	e.do("GET", pathColleagues, pp.Token, nil).ppResult(t, nil)
	post(pathPPToken, map[string]string{"grant_type": "refresh_token", "refresh_token": pp.RefreshToken}).ppResult(t, nil)

	r := post(pathYCMToken, map[string]string{"client_id": DemoYCMID, "client_secret": DemoYCMSecret,
		"grant_type": "client_credentials"})
	var y tokYCM
	strictDecode(t, r.body, &y)
	if r.status != 200 || y.AccessToken == "" {
		t.Fatalf("YCM multipart login: HTTP %d %s", r.status, r.body)
	}
	post(pathPPToken, map[string]string{"client_id": DemoPartnerID, "client_secret": "wrong",
		"grant_type": "pp_credentials"}).ppErr(t, 401, "authentication_failed")
	e.do("POST", pathPPToken, "", "--x\r\nnonsense", "Content-Type", "multipart/form-data; boundary=x").
		ppErr(t, 400, "parameter_validation_failed")
}

func TestTokenFailures(t *testing.T) {
	e := newEnv(t, Options{})
	tests := []struct {
		name string
		path string
		body any
		ct   string
		want int    // HTTP
		code string // partner code
		no   int    // YCM errno
	}{
		{"partner bad secret", pathPPToken, url.Values{"client_id": {DemoPartnerID}, "client_secret": {"x"}, "grant_type": {"pp_credentials"}}, "", 401, "authentication_failed", 0},
		{"partner YCM grant", pathPPToken, url.Values{"client_id": {DemoPartnerID}, "client_secret": {DemoPartnerSecret}, "grant_type": {"client_credentials"}}, "", 400, "parameter_validation_failed", 0},
		{"partner JSON body", pathPPToken, `{"client_id":"demo-partner"}`, "", 415, "unsupported_media_type", 0},
		{"partner bad refresh", pathPPToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, "", 401, "invalid_token", 0},
		{"ycm bad id", pathYCMToken, url.Values{"client_id": {"x"}, "client_secret": {DemoYCMSecret}, "grant_type": {"client_credentials"}}, "", 200, "", 1000002},
		{"ycm partner credentials", pathYCMToken, url.Values{"client_id": {DemoPartnerID}, "client_secret": {DemoPartnerSecret}, "grant_type": {"client_credentials"}}, "", 200, "", 1000002},
		{"ycm no grant", pathYCMToken, url.Values{"client_id": {DemoYCMID}, "client_secret": {DemoYCMSecret}}, "", 200, "", 1000004},
		{"ycm JSON body", pathYCMToken, `{}`, "", 200, "", 1000004},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.s.Unblock()
			r := e.do("POST", tt.path, "", tt.body)
			if tt.code != "" {
				r.ppErr(t, tt.want, tt.code)
			} else {
				r.ycmErr(t, tt.want, tt.no)
			}
		})
	}
}

func TestSixthBadLoginBlocksTheIP(t *testing.T) {
	e := newEnv(t, Options{})
	bad := func(api int) resp {
		if api == 0 {
			return e.do("POST", pathPPToken, "", url.Values{"client_id": {DemoPartnerID}, "client_secret": {"wrong"}, "grant_type": {"pp_credentials"}})
		}
		return e.do("POST", pathYCMToken, "", url.Values{"client_id": {DemoYCMID}, "client_secret": {"wrong"}, "grant_type": {"client_credentials"}})
	}
	tok := e.ppLogin().Token
	ytok := e.ycmLogin().AccessToken

	// A success between failures starts that API's count again.
	for range 5 {
		bad(0).ppErr(t, 401, "authentication_failed")
	}
	e.ppLogin()
	// Five failures on each API block neither: the counts are separate.
	for range 5 {
		bad(0).ppErr(t, 401, "authentication_failed")
		bad(1).ycmErr(t, 200, 1000002)
	}
	e.do("GET", pathColleagues, tok, nil).ppResult(t, nil)
	e.do("GET", pathPBXList, ytok, nil).ycmData(t, nil)
	bad(0).ppErr(t, 401, "authentication_failed") // the sixth in a row blocks

	// Now every Partner Portal request from this IP is refused, the token endpoint too;
	// YCM still answers, and its count is still at five.
	e.do("GET", pathColleagues, tok, nil).ppErr(t, 403, "access_denied")
	e.do("POST", pathPPToken, "", url.Values{"client_id": {DemoPartnerID}, "client_secret": {DemoPartnerSecret},
		"grant_type": {"pp_credentials"}}).ppErr(t, 403, "access_denied")
	e.do("GET", pathPBXList, ytok, nil).ycmData(t, nil)
	bad(1).ycmErr(t, 200, 1000002) // YCM's sixth
	e.do("POST", pathYCMToken, "", url.Values{"client_id": {DemoYCMID}, "client_secret": {DemoYCMSecret},
		"grant_type": {"client_credentials"}}).ycmErr(t, 200, 1000042)
	e.do("GET", pathPBXList, ytok, nil).ycmErr(t, 200, 1000042)

	var n map[string]int
	if e.admin("POST", "/_sim/unblock", "", &n); n["unblocked"] != 2 {
		t.Errorf("unblock: %v, want 2 blocks cleared", n)
	}
	e.do("GET", pathColleagues, tok, nil).ppResult(t, nil)
	e.do("GET", pathPBXList, ytok, nil).ycmData(t, nil)
	// The counts start again after an unblock.
	for range 5 {
		bad(0).ppErr(t, 401, "authentication_failed")
	}
	e.ppLogin()
	e.ycmLogin()
}

func TestTokenExpiry(t *testing.T) {
	e := newEnv(t, Options{TokenTTL: 10 * time.Minute})
	pp := e.ppLogin()
	y := e.ycmLogin()
	if pp.ExpiresIn != 600 || y.ExpiresIn != 599 {
		t.Errorf("expiresIn %d and expires_in %d for a 10m TTL", pp.ExpiresIn, y.ExpiresIn)
	}
	e.s.Advance(10*time.Minute - time.Second)
	e.do("GET", pathColleagues, pp.Token, nil).ppResult(t, nil)
	e.do("GET", pathPBXList, y.AccessToken, nil).ycmData(t, nil)

	e.s.Advance(time.Second)
	e.do("GET", pathColleagues, pp.Token, nil).ppErr(t, 401, "token_expired")
	e.do("GET", pathPBXList, y.AccessToken, nil).ycmErr(t, 200, 1000035)

	// The refresh token lives 15 days.
	var pp2 tokPP
	e.do("POST", pathPPToken, "", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {pp.RefreshToken}}).ppResult(t, &pp2)
	e.do("GET", pathColleagues, pp2.Token, nil).ppResult(t, nil)
	e.s.Advance(RefreshTTL)
	e.do("POST", pathPPToken, "", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {pp2.RefreshToken}}).ppErr(t, 401, "token_expired")
}

func TestUserAgentRequired(t *testing.T) {
	e := newEnv(t, Options{})
	tok := e.ppLogin().Token
	env := e.do("GET", pathColleagues, tok, nil, "User-Agent", "").ppErr(t, 400, "parameter_validation_failed")
	var fields []wireFieldError
	strictDecode(t, env.Result, &fields)
	if len(fields) != 1 || fields[0].Field != "User-Agent" {
		t.Errorf("fields %+v", fields)
	}
	e.do("GET", pathPBXList, "", nil, "User-Agent", "").ycmErr(t, 200, 1000004)
}

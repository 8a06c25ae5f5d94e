package sim

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"mime/multipart"
	"net/url"
	"strconv"
	"strings"
	"time"
)

func newOpaque() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func secretEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// authorize checks the bearer token of an API call.
func (s *Server) authorize(c *call) *apiError {
	h := c.r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		if h == "" {
			return errf(eInvalidToken, "the Authorization header is missing")
		}
		return errf(eInvalidToken, "the Authorization header is not \"Bearer <token>\"")
	}
	now := s.Clock()
	s.mu.RLock()
	t, found := s.tokens[strings.TrimSpace(tok)]
	s.mu.RUnlock()
	switch {
	case !found || t.refresh || t.api != c.api:
		return errf(eInvalidToken, "the access token is not known")
	case !now.Before(t.expires):
		return errf(eTokenExpired, "the access token expired at %s", t.expires.UTC().Format(time.RFC3339))
	}
	return nil
}

// loginFailed counts a failed login to api from ip and blocks ip on that API
// when the count goes over blockAfter.
func (s *Server) loginFailed(api apiKind, ip string) {
	k := apiIP{api, ip}
	s.mu.Lock()
	s.fails[k]++
	if s.fails[k] > blockAfter {
		s.blocked[k] = true
	}
	s.mu.Unlock()
}

// issue makes an access and a refresh token, consuming oldRefresh if set.
// The login succeeded, so ip's count of failed logins to api starts again.
func (s *Server) issue(api apiKind, ip, oldRefresh string) (access, refresh string) {
	now := s.Clock()
	access, refresh = newOpaque(), newOpaque()
	s.mu.Lock()
	if oldRefresh != "" {
		delete(s.tokens, oldRefresh)
	}
	// Drop expired tokens now and then so that a long run does not grow the map.
	if len(s.tokens) > 1024 {
		for k, t := range s.tokens {
			if !now.Before(t.expires) {
				delete(s.tokens, k)
			}
		}
	}
	s.tokens[access] = token{api: api, expires: now.Add(s.ttl)}
	s.tokens[refresh] = token{api: api, refresh: true, expires: now.Add(RefreshTTL)}
	delete(s.fails, apiIP{api, ip})
	s.mu.Unlock()
	return access, refresh
}

// login checks a token request; it returns the refresh token consumed, if any.
func (s *Server) login(c *call, form url.Values, grant, id, secret string) (oldRefresh string, e *apiError) {
	switch form.Get("grant_type") {
	case grant:
		if !secretEqual(form.Get("client_id"), id) || !secretEqual(form.Get("client_secret"), secret) {
			s.loginFailed(c.api, c.ip)
			return "", errf(eAuthFailed, "the client id or client secret is wrong")
		}
		return "", nil
	case "refresh_token":
		rt := form.Get("refresh_token")
		now := s.Clock()
		s.mu.RLock()
		t, ok := s.tokens[rt]
		s.mu.RUnlock()
		switch {
		case rt == "":
			return "", fieldErr("refresh_token", "required with grant_type=refresh_token")
		case !ok || !t.refresh || t.api != c.api:
			s.loginFailed(c.api, c.ip)
			return "", errf(eInvalidToken, "the refresh token is not known")
		case !now.Before(t.expires):
			s.loginFailed(c.api, c.ip)
			return "", errf(eTokenExpired, "the refresh token expired at %s", t.expires.UTC().Format(time.RFC3339))
		}
		return rt, nil
	case "":
		return "", fieldErr("grant_type", "required")
	default:
		return "", fieldErr("grant_type", "must be "+grant+" or refresh_token")
	}
}

// readForm reads a token request, form-encoded or multipart.
func (c *call) readForm() (url.Values, *apiError) {
	const urlencoded, multi = "application/x-www-form-urlencoded", "multipart/form-data"
	body, mt, params, e := c.readBodyOf(urlencoded, multi)
	if e != nil {
		return nil, e
	}
	if mt == urlencoded {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fieldErr("body", "malformed form: "+err.Error())
		}
		return form, nil
	}
	f, err := multipart.NewReader(bytes.NewReader(body), params["boundary"]).ReadForm(maxBody)
	if err != nil {
		return nil, fieldErr("body", "malformed multipart form: "+err.Error())
	}
	defer f.RemoveAll()
	return url.Values(f.Value), nil
}

// partnerToken: POST /auth/openapi/v1/oauth/token.
func partnerToken(c *call) {
	form, e := c.readForm()
	if e == nil {
		var old string
		if old, e = c.s.login(c, form, "pp_credentials", DemoPartnerID, DemoPartnerSecret); e == nil {
			access, refresh := c.s.issue(apiPartner, c.ip, old)
			b := c.resultKey(c.begin())
			b = appendStringField(append(b, '{'), "token", access)
			b = append(b, `,"tokenHead":"Bearer",`...)
			b = appendStringField(b, "refreshToken", refresh)
			b = append(b, ',')
			b = appendNumField(b, "expiresIn", int64(c.s.ttl/time.Second), c.s.dialect.idStrings())
			c.ok(append(b, '}'))
			return
		}
	}
	c.fail(e)
}

// ycmToken: POST /dm/open_api/oauth/token. The answer is not enveloped.
func ycmToken(c *call) {
	form, e := c.readForm()
	if e == nil {
		var old string
		if old, e = c.s.login(c, form, "client_credentials", DemoYCMID, DemoYCMSecret); e == nil {
			access, refresh := c.s.issue(apiYCM, c.ip, old)
			b := c.buf[:0]
			b = appendStringField(append(b, '{'), "access_token", access)
			b = append(b, ',')
			b = appendStringField(b, "refresh_token", refresh)
			b = append(b, `,"token_type":"bearer","expires_in":`...)
			b = strconv.AppendInt(b, int64(max(c.s.ttl/time.Second-1, 1)), 10)
			b = append(b, ',')
			b = appendStringField(b, "jti", newOpaque())
			c.send(200, append(b, '}'))
			return
		}
	}
	if e.kind == eValidation && e.status == 0 {
		e.status = 400 // OAuth style: a bad token request is a 400, not a business error
	}
	c.fail(e)
}

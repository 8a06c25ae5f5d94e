package sim

import "strings"

// route is one endpoint; name is its method and path pattern, as counted in Stats.
type route struct {
	name   string
	h      func(*call)
	public bool // no bearer token (the token endpoints)
	write  bool // changes the world: subject to the drop faults
}

const (
	pathPPToken     = "/auth/openapi/v1/oauth/token"
	pathColleagues  = "/user/openapi/user/v1/colleagues"
	pathResources   = "/user/openapi/user/v1/users/resource_list"
	pathPartners    = "/user/openapi/user/v1/client/partner_list"
	pathYCMToken    = "/dm/open_api/oauth/token"
	pathPBXList     = "/dm/open_api/v2/cloud_pbx/instances"
	pathPBXInstance = "/dm/open_api/v1/cloud_pbx/instances/"
	pathYCMUsers    = "/dm/open_api/v2/users"
	pathYCMUser     = "/dm/open_api/v1/users/"
)

var (
	rPPToken         = &route{name: "POST " + pathPPToken, h: partnerToken, public: true}
	rListColleagues  = &route{name: "GET " + pathColleagues, h: listColleagues}
	rGetColleague    = &route{name: "GET " + pathColleagues + "/{colleaguesId}", h: getColleague}
	rCreateColleague = &route{name: "POST " + pathColleagues, h: createColleague, write: true}
	rEditColleague   = &route{name: "PUT " + pathColleagues + "/{colleaguesId}", h: editColleague, write: true}
	rDeleteColleague = &route{name: "DELETE " + pathColleagues, h: deleteColleagues, write: true}
	rResources       = &route{name: "GET " + pathResources, h: listResources}
	rPartners        = &route{name: "GET " + pathPartners, h: listPartners}
	rPPUnknown       = &route{name: "partner: unknown path"}

	rYCMToken   = &route{name: "POST " + pathYCMToken, h: ycmToken, public: true}
	rListPBXs   = &route{name: "GET " + pathPBXList, h: listPBXs}
	rGetPBX     = &route{name: "GET " + pathPBXInstance + "{cloudPbxId}", h: getPBX}
	rResizePBX  = &route{name: "PUT " + pathPBXInstance + "{cloudPbxId}/capacity", h: resizePBX, write: true}
	rYCMUsers   = &route{name: "GET " + pathYCMUsers, h: listYCMUsers}
	rActivation = &route{name: "POST " + pathYCMUser + "{userId}/activation_email", h: activationEmail, write: true}
	rYCMUnknown = &route{name: "ycm: unknown path"}
)

// match finds the route of a request and the id in its path.
func match(api apiKind, method, p string) (*route, string) {
	if api == apiYCM {
		switch {
		case p == pathYCMToken && method == "POST":
			return rYCMToken, ""
		case p == pathPBXList && method == "GET":
			return rListPBXs, ""
		case p == pathYCMUsers && method == "GET":
			return rYCMUsers, ""
		}
		if rest, ok := strings.CutPrefix(p, pathYCMUser); ok && method == "POST" {
			if id, ok := strings.CutSuffix(rest, "/activation_email"); ok && id != "" && !strings.Contains(id, "/") {
				return rActivation, id
			}
		}
		if rest, ok := strings.CutPrefix(p, pathPBXInstance); ok && rest != "" {
			if id, ok := strings.CutSuffix(rest, "/capacity"); ok && method == "PUT" && !strings.Contains(id, "/") {
				return rResizePBX, id
			}
			if method == "GET" && !strings.Contains(rest, "/") {
				return rGetPBX, rest
			}
		}
		return rYCMUnknown, ""
	}
	switch p {
	case pathPPToken:
		if method == "POST" {
			return rPPToken, ""
		}
	case pathColleagues:
		switch method {
		case "GET":
			return rListColleagues, ""
		case "POST":
			return rCreateColleague, ""
		case "DELETE":
			return rDeleteColleague, ""
		}
	case pathResources:
		if method == "GET" {
			return rResources, ""
		}
	case pathPartners:
		if method == "GET" {
			return rPartners, ""
		}
	}
	if id, ok := strings.CutPrefix(p, pathColleagues+"/"); ok && id != "" && !strings.Contains(id, "/") {
		switch method {
		case "GET":
			return rGetColleague, id
		case "PUT":
			return rEditColleague, id
		}
	}
	return rPPUnknown, ""
}

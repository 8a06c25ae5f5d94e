package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// serveAdmin serves /_sim/: no token, no faults, not counted in Stats.
// Errors are {"error":"…"}.
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	type now struct {
		Now string `json:"now"`
	}
	clock := func() now { return now{s.Clock().Format(time.RFC3339Nano)} }
	route := r.Method + " " + r.URL.Path
	switch route {
	case "GET /_sim/clock":
		adminJSON(w, http.StatusOK, clock())
	case "POST /_sim/clock/advance":
		var req struct {
			By string `json:"by"`
		}
		if !adminDecode(w, r, &req) {
			return
		}
		d, err := time.ParseDuration(req.By)
		if err != nil || d < 0 {
			adminError(w, http.StatusBadRequest, fmt.Sprintf(`"by" %q is not a positive duration like "49h"`, req.By))
			return
		}
		s.Advance(d)
		adminJSON(w, http.StatusOK, clock())
	case "GET /_sim/outbox":
		adminJSON(w, http.StatusOK, s.Outbox())
	case "POST /_sim/activate":
		var req struct {
			Email string `json:"email"`
		}
		if !adminDecode(w, r, &req) {
			return
		}
		err := s.Activate(req.Email)
		switch {
		case err == nil:
			adminJSON(w, http.StatusOK, map[string]string{"email": req.Email, "userStatus": StatusActive})
		case errors.Is(err, ErrNoColleague):
			adminError(w, http.StatusNotFound, err.Error())
		case errors.Is(err, ErrInviteExpired):
			adminError(w, http.StatusGone, err.Error())
		case errors.Is(err, ErrNotInvited):
			adminError(w, http.StatusConflict, err.Error())
		default:
			adminError(w, http.StatusInternalServerError, err.Error())
		}
	case "GET /_sim/dialect":
		adminJSON(w, http.StatusOK, struct {
			Spec string `json:"spec"` // ParseDialect reads it back
			Dialect
		}{s.dialect.String(), s.dialect})
	case "GET /_sim/stats":
		adminJSON(w, http.StatusOK, s.Stats())
	case "GET /_sim/faults":
		adminJSON(w, http.StatusOK, s.Faults())
	case "POST /_sim/faults":
		f := s.Faults() // the fields not given stay as they are
		if !adminDecode(w, r, &f) {
			return
		}
		if err := f.validate(); err != nil {
			adminError(w, http.StatusBadRequest, err.Error())
			return
		}
		s.SetFaults(f)
		adminJSON(w, http.StatusOK, f)
	case "POST /_sim/unblock":
		adminJSON(w, http.StatusOK, map[string]int{"unblocked": s.unblock()})
	case "POST /_sim/reset":
		s.Reset()
		adminJSON(w, http.StatusOK, clock())
	case "GET /_sim/state":
		adminJSON(w, http.StatusOK, s.State())
	case "PUT /_sim/state":
		var st State
		if !adminDecode(w, r, &st) {
			return
		}
		if err := s.LoadState(st); err != nil {
			adminError(w, http.StatusBadRequest, err.Error())
			return
		}
		adminJSON(w, http.StatusOK, clock())
	default:
		adminError(w, http.StatusNotFound, "no such simulator call: "+route)
	}
}

func adminJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		status, data = http.StatusInternalServerError, []byte(`{"error":"encode answer"}`)
	}
	w.Header()["Content-Type"] = ctJSON
	w.WriteHeader(status)
	w.Write(append(data, '\n'))
}

func adminError(w http.ResponseWriter, status int, msg string) {
	adminJSON(w, status, map[string]string{"error": msg})
}

func adminDecode(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<20))
	if err == nil {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		err = dec.Decode(v)
	}
	if err != nil {
		adminError(w, http.StatusBadRequest, "malformed request: "+err.Error())
		return false
	}
	return true
}

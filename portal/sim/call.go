package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// call is one API request on its way through the simulator.
type call struct {
	s          *Server
	w          http.ResponseWriter
	r          *http.Request
	api        apiKind
	rt         *route
	id         string // the {id} of the path, if any
	ip         string
	status     int // answered status; 0 when the connection was dropped
	retryAfter time.Duration
	dirty      bool // the world changed: save before answering
	counted    bool // the stats have it
	buf        []byte
}

var callPool = sync.Pool{New: func() any { return &call{buf: make([]byte, 0, 8<<10)} }}

func getCall(s *Server, w http.ResponseWriter, r *http.Request, api apiKind, rt *route, id string) *call {
	c := callPool.Get().(*call)
	*c = call{s: s, w: w, r: r, api: api, rt: rt, id: id, buf: c.buf[:0]}
	return c
}

func putCall(c *call) {
	if cap(c.buf) > 1<<20 {
		c.buf = nil
	}
	b := c.buf
	*c = call{buf: b}
	callPool.Put(c)
}

// errKind is an error independent of the API that reports it.
type errKind uint8

const (
	eAuthFailed errKind = iota
	eInvalidToken
	eTokenExpired
	eAccessDenied
	eValidation
	eExists
	eNotFound
	eThrottled
	eMediaType
	eTooLarge
	eServer // Partner Portal only: YCM's server faults are plain text
)

type errInfo struct {
	words  [3]string // Partner Portal code: lower, upper, opaque (CodeStyle order)
	status int       // Partner Portal HTTP status
	errno  int       // YCM code
	msg    string    // YCM word
	ycm    int       // YCM HTTP status under YCMStatusHTTP
}

var errTable = [...]errInfo{
	eAuthFailed:   {[3]string{"authentication_failed", "AUTHENTICATION_FAILED", "e20031"}, 401, 1000002, "AUTHENTICATION_FAILED", 401},
	eInvalidToken: {[3]string{"invalid_token", "INVALID_TOKEN", "e20047"}, 401, 1000036, "INVALID_TOKEN", 401},
	eTokenExpired: {[3]string{"token_expired", "TOKEN_EXPIRED", "e20048"}, 401, 1000035, "TOKEN_EXPIRED", 401},
	eAccessDenied: {[3]string{"access_denied", "ACCESS_DENIED", "e20090"}, 403, 1000042, "ACCESS_DENIED", 403},
	eValidation:   {[3]string{"parameter_validation_failed", "PARAM_VALIDATION_FAILED", "e40017"}, 400, 1000004, "INVALID_PARAMETER", 200},
	eExists:       {[3]string{"email_address_already_exists", "EMAIL_ADDRESS_ALREADY_EXISTS", "e40023"}, 409, 1000019, "EMAIL_ADDRESS_ALREADY_EXISTS", 200},
	eNotFound:     {[3]string{"data_not_found", "DATA_NOT_FOUND", "e40031"}, 404, 1000005, "DATA_NOT_FOUND", 200},
	eThrottled:    {[3]string{"rate_limit_exceeded", "RATE_LIMIT_EXCEEDED", "e30002"}, 429, 1000040, "RATE_LIMIT_EXCEEDED", 429},
	eMediaType:    {[3]string{"unsupported_media_type", "UNSUPPORTED_MEDIA_TYPE", "e40102"}, 415, 1000004, "INVALID_PARAMETER", 415},
	eTooLarge:     {[3]string{"payload_too_large", "PAYLOAD_TOO_LARGE", "e40103"}, 413, 1000004, "INVALID_PARAMETER", 413},
	eServer:       {[3]string{"server_error", "SERVER_ERROR", "e10001"}, 500, 0, "", 500},
}

// word is the Partner Portal code of an error in dialect d.
func (i *errInfo) word(d *Dialect) string {
	switch d.PPCodes {
	case PPCodesUpper:
		return i.words[1]
	case PPCodesOpaque:
		return i.words[2]
	}
	return i.words[0]
}

// fieldError is one refused parameter, as in the Partner Portal's error result.
type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// apiError is a refusal, rendered in the envelope of the API that was called.
type apiError struct {
	kind   errKind
	status int // overrides the table's status for both APIs when set
	msg    string
	fields []fieldError
}

func errf(k errKind, format string, args ...any) *apiError {
	return &apiError{kind: k, msg: fmt.Sprintf(format, args...)}
}

func fieldErr(field, msg string) *apiError {
	return &apiError{kind: eValidation, msg: field + ": " + msg, fields: []fieldError{{field, msg}}}
}

// fieldErrs joins the refused fields into one validation error; nil if none.
func fieldErrs(fields []fieldError) *apiError {
	if len(fields) == 0 {
		return nil
	}
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return &apiError{kind: eValidation, msg: strings.Join(parts, "; "), fields: fields}
}

func withStatus(status int, e *apiError) *apiError {
	e.status = status
	return e
}

var (
	ctJSON = []string{"application/json; charset=utf-8"}
	ctText = []string{"text/plain; charset=utf-8"}
)

func (c *call) appendRequestID(b []byte) []byte {
	b = append(b, `"sim-`...)
	b = strconv.AppendUint(b, c.s.seq.Add(1), 16)
	return append(b, '"')
}

// begin starts a success answer: the envelope up to where the result goes.
func (c *call) begin() []byte {
	b := c.buf[:0]
	if c.api == apiYCM {
		return append(b, `{"data":`...)
	}
	return append(b, `{"code":"success","detailMessage":"","requestId":`...)
}

// resultKey continues begin for the Partner Portal, whose requestId comes first.
func (c *call) resultKey(b []byte) []byte {
	if c.api == apiYCM {
		return b
	}
	b = c.appendRequestID(b)
	return append(b, `,"result":`...)
}

// ok ends a success answer begun with begin and sends it.
func (c *call) ok(b []byte) {
	if c.api == apiYCM {
		b = append(b, `,"requestId":`...)
		b = c.appendRequestID(b)
		b = append(b, `,"status":"Success","time":`...)
		b = strconv.AppendInt(b, c.s.Clock().Unix(), 10)
		b = append(b, '}')
	} else {
		b = append(b, `,"status":200}`...)
	}
	c.send(http.StatusOK, b)
}

// okNoData answers the YCM success envelope without data.
func (c *call) okNoData() {
	b := append(c.buf[:0], `{"requestId":`...)
	b = c.appendRequestID(b)
	b = append(b, `,"status":"Success","time":`...)
	b = strconv.AppendInt(b, c.s.Clock().Unix(), 10)
	c.send(http.StatusOK, append(b, '}'))
}

// okNull answers success with a null result.
func (c *call) okNull() {
	c.ok(append(c.resultKey(c.begin()), "null"...))
}

// fail sends e in the API's error envelope, shaped by the dialect.
func (c *call) fail(e *apiError) {
	info := &errTable[e.kind]
	d := &c.s.dialect
	b := c.buf[:0]
	var status int
	if c.api == apiYCM {
		status = info.ycm
		if e.status != 0 {
			status = e.status
		}
		if d.YCMStatus == YCMStatus200 {
			status = http.StatusOK
			c.retryAfter = 0
		}
		switch d.YCMErrors {
		case YCMErrorsErrno:
			b = appendIntField(append(b, '{'), "errno", int64(info.errno))
			b = append(b, ',')
			b = appendStringField(b, "errmsg", info.msg)
			b = append(b, ',')
			b = appendStringField(b, "detail", e.msg)
		case YCMErrorsCode:
			b = appendIntField(append(b, '{'), "code", int64(info.errno))
			b = append(b, ',')
			b = appendStringField(b, "message", e.msg)
		default:
			b = appendIntField(append(b, '{'), "errcode", int64(info.errno))
			b = append(b, ',')
			b = appendStringField(b, "errmsg", info.msg)
		}
		b = append(b, `,"requestId":`...)
		b = c.appendRequestID(b)
		b = append(b, `,"status":"Failed","time":`...)
		b = strconv.AppendInt(b, c.s.Clock().Unix(), 10)
		b = append(b, '}')
		c.send(status, b)
		return
	}
	status = info.status
	if e.status != 0 {
		status = e.status
	}
	c.send(status, c.appendPPError(b, info.word(d), e.msg, e.fields, status))
}

// appendPPError appends the Partner Portal error envelope.
func (c *call) appendPPError(b []byte, word, msg string, fields []fieldError, status int) []byte {
	b = appendStringField(append(b, '{'), "code", word)
	b = append(b, ',')
	b = appendStringField(b, "detailMessage", msg)
	b = append(b, `,"requestId":`...)
	b = c.appendRequestID(b)
	b = append(b, `,"result":`...)
	if len(fields) == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, f := range fields {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendStringField(append(b, '{'), "field", f.Field)
			b = append(b, ',')
			b = appendStringField(b, "message", f.Message)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	return append(b, '}')
}

// serverFault answers an injected 500 or 503.
func (c *call) serverFault() {
	status := http.StatusInternalServerError
	if rand.IntN(2) == 0 {
		status = http.StatusServiceUnavailable
	}
	if c.api == apiYCM {
		c.w.Header()["Content-Type"] = ctText
		c.status = status
		c.count()
		c.w.WriteHeader(status)
		io.WriteString(c.w, http.StatusText(status)+" (simulated fault)\n")
		return
	}
	word := errTable[eServer].word(&c.s.dialect)
	c.send(status, c.appendPPError(c.buf[:0], word, "simulated server fault", nil, status))
}

// send saves the world if it changed, then answers, unless a drop-after-write
// fault closes the connection instead.
func (c *call) send(status int, body []byte) {
	c.buf = body
	if c.dirty {
		if err := c.s.save(); err != nil {
			c.s.log.Error().Err(err).Msg("save simulator state")
		}
	}
	if c.rt.write {
		if f := c.s.faults.Load(); f.DropAfterWriteRate > 0 && rand.Float64() < f.DropAfterWriteRate {
			c.drop()
			return
		}
	}
	h := c.w.Header()
	h["Content-Type"] = ctJSON
	// The simulated clock, so a client can tell the portal's time as it would a real one's.
	h["Date"] = []string{c.s.Clock().UTC().Format(http.TimeFormat)}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	if c.retryAfter > 0 {
		h["Retry-After"] = []string{strconv.Itoa(int(math.Ceil(c.retryAfter.Seconds())))}
	}
	c.status = status
	c.count() // before the answer: a large one reaches the client before the handler returns
	c.w.WriteHeader(status)
	c.w.Write(body)
}

// count records the call in the stats, once, before the client can see the answer.
func (c *call) count() {
	if !c.counted {
		c.counted = true
		c.s.stats.leave(c.rt.name, c.status)
	}
}

// drop closes the connection without an answer. The stats have the drop
// before the client can see it.
func (c *call) drop() {
	c.status = 0
	c.count()
	rc := http.NewResponseController(c.w)
	conn, _, err := rc.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // HTTP/2: the server resets the stream
	}
	conn.Close()
}

// readBody reads the request body, refusing one over maxBody or of another
// media type than want.
func (c *call) readBody(want string) ([]byte, *apiError) {
	body, _, _, e := c.readBodyOf(want)
	return body, e
}

// readBodyOf reads the request body, refusing one over maxBody or of a media
// type not in want; it returns the media type and its parameters.
func (c *call) readBodyOf(want ...string) (body []byte, mt string, params map[string]string, e *apiError) {
	ct := c.r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || !slices.Contains(want, mt) {
		return nil, "", nil, errf(eMediaType, "Content-Type %q is not %s", ct, strings.Join(want, " or "))
	}
	body, err = io.ReadAll(http.MaxBytesReader(c.w, c.r.Body, maxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, "", nil, errf(eTooLarge, "the request body is over %d bytes", maxBody)
		}
		return nil, "", nil, errf(eValidation, "read the request body: %v", err)
	}
	return body, mt, params, nil
}

// decodeJSON reads a JSON body into v, refusing unknown fields and trailing data.
func (c *call) decodeJSON(v any) *apiError {
	body, e := c.readBody("application/json")
	if e != nil {
		return e
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return fieldErr("body", "the request body is empty")
	}
	return decodeJSONBody(body, v)
}

// readNoBody accepts a request with no body, or an empty JSON object.
func (c *call) readNoBody() *apiError {
	body, err := io.ReadAll(http.MaxBytesReader(c.w, c.r.Body, maxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return errf(eTooLarge, "the request body is over %d bytes", maxBody)
		}
		return errf(eValidation, "read the request body: %v", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	ct := c.r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		return errf(eMediaType, "Content-Type %q is not application/json", ct)
	}
	return decodeJSONBody(body, &struct{}{})
}

func decodeJSONBody(body []byte, v any) *apiError {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = errors.New("data after the JSON value")
		}
	}
	if err == nil {
		return nil
	}
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok && te.Field != "" {
		if te.Type == reflect.TypeFor[flexID]() {
			return fieldErr(te.Field, "must be a number or a string of digits, not "+te.Value)
		}
		return fieldErr(te.Field, fmt.Sprintf("must be %s, not %s", jsonType(te.Type.Kind().String()), te.Value))
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		f, _ := strconv.Unquote(name)
		return fieldErr(f, "unknown field")
	}
	return fieldErr("body", "malformed JSON: "+err.Error())
}

func jsonType(kind string) string {
	switch {
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"), strings.HasPrefix(kind, "float"):
		return "a number"
	case kind == "slice":
		return "an array"
	case kind == "string":
		return "a string"
	case kind == "struct", kind == "map":
		return "an object"
	}
	return kind
}

// rawQuery reads a query string without building a url.Values.
type rawQuery string

// Get returns the first value of key, like url.Values.Get.
func (q rawQuery) Get(key string) string {
	s := string(q)
	for s != "" {
		var kv string
		kv, s, _ = strings.Cut(s, "&")
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		if strings.ContainsAny(k, "%+") {
			if u, err := url.QueryUnescape(k); err == nil {
				k = u
			}
		}
		if k != key {
			continue
		}
		if strings.ContainsAny(v, "%+") {
			u, err := url.QueryUnescape(v)
			if err != nil {
				return ""
			}
			v = u
		}
		return v
	}
	return ""
}

// queryInt reads an optional positive integer query parameter.
func queryInt(q rawQuery, name string, def, maxV int, fields *[]fieldError) int {
	v := q.Get(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	switch {
	case err != nil || n < 1:
		*fields = append(*fields, fieldError{name, "must be a positive integer"})
	case maxV > 0 && n > maxV:
		*fields = append(*fields, fieldError{name, fmt.Sprintf("must be at most %d", maxV)})
	default:
		return n
	}
	return def
}

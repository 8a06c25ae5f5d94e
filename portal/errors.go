package portal

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Kind sorts portal errors by what a caller can do about them.
type Kind int

const (
	KindUnknown    Kind = iota
	KindThrottled       // rate limit hit; RetryAfter says how long to wait
	KindAuth            // credentials refused, token unusable or permission denied
	KindIPBlocked       // this machine's IP is blocked (too many failed logins) or not allowed
	KindNotFound        // the object does not exist
	KindExists          // the object already exists
	KindValidation      // the portal refused the parameters; Fields says which
	KindServer          // the portal failed (5xx)
	KindNetwork         // no answer: connection refused or dropped, timeout
)

var kindNames = [...]string{"unknown", "throttled", "authentication", "ip blocked", "not found",
	"already exists", "validation", "server error", "network error"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Sentinels for errors.Is: errors.Is(err, portal.ErrNotFound).
var (
	ErrThrottled  = &Error{Kind: KindThrottled}
	ErrAuth       = &Error{Kind: KindAuth}
	ErrIPBlocked  = &Error{Kind: KindIPBlocked}
	ErrNotFound   = &Error{Kind: KindNotFound}
	ErrExists     = &Error{Kind: KindExists}
	ErrValidation = &Error{Kind: KindValidation}
	ErrServer     = &Error{Kind: KindServer}
	ErrNetwork    = &Error{Kind: KindNetwork}
)

// FieldError is one refused parameter.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is every failure the client returns. It never holds a token or a secret.
type Error struct {
	Kind       Kind
	API        string // "partner portal" or "ycm"
	Op         string // what the client was doing, e.g. "create colleague"
	HTTPStatus int
	Code       string // the API's error word, e.g. EMAIL_ADDRESS_ALREADY_EXISTS
	Errno      int    // YCM's numeric code
	Message    string // the portal's explanation
	RequestID  string
	Fields     []FieldError
	RetryAfter time.Duration // for KindThrottled
	Err        error         // the underlying cause for KindNetwork
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	if e.API != "" {
		b.WriteString(e.API)
		b.WriteString(" ")
	}
	b.WriteString(e.Kind.String())
	switch {
	case e.Code != "" && e.Errno != 0:
		fmt.Fprintf(&b, " (%s %d)", e.Code, e.Errno)
	case e.Code != "":
		fmt.Fprintf(&b, " (%s)", e.Code)
	case e.HTTPStatus != 0:
		fmt.Fprintf(&b, " (HTTP %d)", e.HTTPStatus)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	for _, f := range e.Fields {
		fm := f.Field + ": " + f.Message
		if !strings.Contains(e.Message, fm) { // portals often repeat the fields in the message
			b.WriteString("; ")
			b.WriteString(fm)
		}
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " [request %s]", e.RequestID)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Is matches the sentinels by kind.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Op == "" && t.API == "" && t.Code == "" && t.Kind == e.Kind
}

// KindOf returns the kind of a portal error, KindUnknown for anything else.
func KindOf(err error) Kind {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Kind
	}
	return KindUnknown
}

// Fatal reports whether err means no further call can succeed in this run:
// credentials refused or the IP blocked.
func Fatal(err error) bool {
	k := KindOf(err)
	return k == KindAuth || k == KindIPBlocked
}

// retryable reports whether a call that failed with err may be tried again.
func retryable(err error) bool {
	switch KindOf(err) {
	case KindThrottled, KindServer, KindNetwork:
		return true
	}
	return false
}

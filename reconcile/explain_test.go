package reconcile

import (
	"errors"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/ycm-onboard/ycm-onboard/portal"
)

// TestExplainNetwork: a wrong host or port is told apart from a portal that is down,
// so that a cron job's owner checks the URL instead of waiting for tomorrow.
func TestExplainNetwork(t *testing.T) {
	// The shape net.Dial gives a refused connection; the CLI's TestUnreachablePortalSaysCheckTheURL
	// gets a real one over loopback.
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"no such host", &net.DNSError{Err: "no such host", Name: "portal.invalid", IsNotFound: true},
			"No such host: check the portal URL"},
		{"connection refused", refused, "Nothing answers at that address: check the portal URL and port"},
		{"timed out", &net.DNSError{Err: "i/o timeout", Name: "portal.example", IsTimeout: true},
			"The portal did not answer after retries: run again later"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := &portal.Error{Kind: portal.KindNetwork, API: "partner portal", Op: "list colleagues", Err: tt.err}
			if got := Explain(err); !strings.Contains(got, tt.want) {
				t.Errorf("Explain = %q, want it to say %q", got, tt.want)
			}
			if Classify(err) != ClassRetryable {
				t.Error("a network error is not classed retryable")
			}
		})
	}
	if got := Explain(errors.New("plain")); got != "plain" {
		t.Errorf("Explain of a plain error = %q", got)
	}
}

// TestExplainAuth: a refused login points at the credentials of the API that refused it.
func TestExplainAuth(t *testing.T) {
	for api, want := range map[string]string{
		"partner portal": "Check the Partner Portal client ID and secret (System > API in the Partner Portal)",
		"ycm":            "Check the YCM client ID and secret",
	} {
		err := &portal.Error{Kind: portal.KindAuth, API: api, Op: "log in"}
		if got := Explain(err); !strings.Contains(got, want) {
			t.Errorf("%s: Explain = %q, want it to say %q", api, got, want)
		}
		if Classify(err) != ClassFatal {
			t.Errorf("%s: a refused login is not fatal", api)
		}
	}
}

func TestExplainSaysWhatToDo(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
		want string
	}{
		{"a refused login", &portal.Error{Kind: portal.KindAuth, API: "ycm", Op: "log in", HTTPStatus: 200},
			"counts towards YCM's block of this IP after more than five"},
		{"no token endpoint at the URL", &portal.Error{Kind: portal.KindAuth, API: "partner portal", Op: "log in", HTTPStatus: 404},
			"check the portal URL"},
		{"a refused resize", &portal.Error{Kind: portal.KindValidation, API: "ycm", Op: "resize cloud PBX 7701", Errno: 1000004},
			"below the extensions in use (which YCM does not show)"},
		{"a refused row", &portal.Error{Kind: portal.KindValidation, API: "partner portal", Op: "create colleague a@b.example"},
			"Fix the row and run again"},
	} {
		if got := Explain(tt.err); !strings.Contains(got, tt.want) {
			t.Errorf("%s: Explain = %q, want it to say %q", tt.name, got, tt.want)
		}
	}
}

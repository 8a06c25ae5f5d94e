package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ycm-onboard/ycm-onboard/importer"
	"github.com/ycm-onboard/ycm-onboard/reconcile"
)

// TestPrintingEscapesControlCharacters: a name from the portal or a problem's value
// can hold ESC; printed, it must not erase the plan's line above it.
func TestPrintingEscapesControlCharacters(t *testing.T) {
	var b bytes.Buffer
	p := reconcile.Plan{Actions: []reconcile.Action{{Kind: reconcile.Delete, Label: "x@demo.example\x1b[1A\x1b[2K",
		Reason: "State absent\a"}}}
	printPlan(&b, p, nil)
	printProblems(&b, []importer.Problem{{Severity: importer.Error, Message: "bad\x1b]0;title\x07", Value: "v\x1b"}})
	if out := b.String(); strings.ContainsAny(out, "\x1b\a") || !strings.Contains(out, `x@demo.example\x1b[1A\x1b[2K`) {
		t.Errorf("printed raw control characters:\n%q", out)
	}
}

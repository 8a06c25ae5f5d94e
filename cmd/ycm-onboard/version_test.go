package main

import "testing"

// TestVersionFromLinkerFlags: a release build sets the commit and its time with
// -ldflags (go build records no repository there); version says them.
func TestVersionFromLinkerFlags(t *testing.T) {
	defer func(v, c, ct string) { version, commit, commitTime = v, c, ct }(version, commit, commitTime)
	version, commit, commitTime = "1.2.3", "abcdef1234567890", "2026-11-30T21:00:00Z"
	b := readBuildInfo()
	if b.Version != "1.2.3" || b.Commit != "abcdef1234567890" || b.Built != "2026-11-30T21:00:00Z" {
		t.Errorf("readBuildInfo = %+v, want the linker's version, commit and time", b)
	}
}

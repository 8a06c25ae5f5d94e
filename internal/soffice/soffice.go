// Package soffice runs LibreOffice headless for the tests that check how it opens the
// workbooks the job reads and writes.
package soffice

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Timeout bounds one conversion: a LibreOffice that hangs fails the test with its
// output instead of holding the suite until go test's own 10-minute limit.
const Timeout = 3 * time.Minute

// Path is soffice's path; the test is skipped, saying what to install, without it.
func Path(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("soffice")
	if err != nil {
		t.Skip("soffice not found: install libreoffice-calc-nogui to run this check")
	}
	return p
}

// Convert runs `soffice --convert-to filter --outdir outdir files...` with a private
// profile under dir (no clash with a running LibreOffice or another test).
func Convert(t testing.TB, dir, filter, outdir string, files ...string) {
	t.Helper()
	soffice := Path(t)
	ctx, cancel := context.WithTimeout(t.Context(), Timeout)
	defer cancel()
	// A file URL, escaped: LibreOffice hangs on a raw space in it.
	profile := (&url.URL{Scheme: "file", Path: filepath.ToSlash(filepath.Join(dir, "profile"))}).String()
	args := append([]string{"-env:UserInstallation=" + profile,
		"--headless", "--norestore", "--convert-to", filter, "--outdir", outdir}, files...)
	cmd := exec.CommandContext(ctx, soffice, args...)
	cmd.Env = append(os.Environ(), "HOME="+dir)
	// soffice hands the work to soffice.bin, which keeps the output pipes open when the
	// timeout kills soffice: stop waiting for them too, or the test hangs with it.
	cmd.WaitDelay = 10 * time.Second
	if out, err := cmd.CombinedOutput(); err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		t.Fatalf("soffice --convert-to %s: %v\n%s", filter, err, out)
	}
}

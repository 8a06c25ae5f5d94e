// Package browser drives Debian's Chromium, headless, from tests through the DevTools
// protocol (chromedp), so that a test of the web page clicks, waits and reads what a
// person would see, htmx and CSS included, and can keep a screenshot of it.
package browser

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Timeout bounds one test's browser, from its start to the last action: a page that
// never shows what a test waits for fails the test instead of holding the suite until
// go test's own 10-minute limit.
const Timeout = 60 * time.Second

// debianPath is where Debian's chromium package puts its launcher.
const debianPath = "/usr/bin/chromium"

// install says what to do when Chromium is missing. The test fails rather than
// skips: a suite that quietly skips its browser tests reads as green while proving
// nothing about the page.
const install = "install Debian's chromium (apt-get install -y chromium; .ci/run does it)"

// execPath finds Chromium: Debian's launcher first, then `chromium` on PATH.
func execPath() (string, error) {
	if _, err := os.Stat(debianPath); err == nil {
		return debianPath, nil
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("chromium not found at %s nor on PATH", debianPath)
}

// New starts a headless Chromium for t and returns the context of its first tab: pass
// it to chromedp.Do and chromedp.Run. Each call has its own browser and an empty
// profile in t.TempDir(). The window is 1280x900; headless Chromium keeps room for its
// toolbars in that, so the page's viewport is 1280 wide and about 757 high. The context ends after Timeout, or when t ends, and the
// browser is closed at t.Cleanup. New fails t, saying what to install, when Chromium
// is missing or does not start.
func New(t testing.TB) context.Context {
	t.Helper()
	path, err := execPath()
	if err != nil {
		t.Fatalf("browser: %v: %s", err, install)
	}
	profile := filepath.Join(t.TempDir(), "chromium-profile")
	out := new(lockedBuffer)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		// Only these flags, not chromedp's defaults. The background-networking,
		// component-update, sync and QUIC ones keep Chromium off the network: the test
		// machines reach only their package registries, and Chromium's own connections
		// would be refused, many at a time. --no-sandbox because tests run as root.
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
		chromedp.CombinedOutput(out),
	}

	ctx, cancelTimeout := context.WithTimeout(t.Context(), Timeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		// Close the browser gracefully, then make sure it has gone, children included,
		// before t.TempDir removes the profile they write to.
		if err := chromedp.Cancel(tabCtx); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			t.Logf("browser: close chromium: %v", err)
		}
		cancelTab()
		cancelAlloc()
		cancelTimeout()
		killLeftovers(profile)
		if t.Failed() {
			if o := out.useful(); o != "" {
				t.Logf("browser: chromium's output:\n%s", o)
			}
		}
	})

	// Start the browser now, so that a Chromium that cannot start fails here, with its
	// output, and not in the test's first action.
	if err := chromedp.Do(tabCtx); err != nil {
		// t.Cleanup above logs Chromium's output after this, once it has all of it.
		t.Fatalf("browser: start %s: %v: if Chromium is broken or missing, %s", path, err, install)
	}
	return tabCtx
}

// Screenshot writes a PNG of the whole page in ctx's tab, beyond the window's height
// too, to path. It fails t when the browser cannot take it or the file cannot be
// written.
func Screenshot(t testing.TB, ctx context.Context, path string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG, not JPEG
	if err != nil {
		t.Fatalf("browser: screenshot for %s: %v", path, err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatalf("browser: save screenshot: %v", err)
	}
}

// killLeftovers ends the processes still started with profile as their user data
// directory. Chromium passes --user-data-dir to each child (zygote, renderers,
// network service), and a child can outlive the main process by a moment and write
// into the profile while t.TempDir removes it, which fails the test with "directory
// not empty". chromedp does this for the profiles it makes itself, not for one given
// to it. It reads /proc, so it does nothing where there is none.
func killLeftovers(profile string) {
	flag := []byte("--user-data-dir=" + profile + "\x00")
	deadline := time.Now().Add(2 * time.Second)
	for quiet := 0; quiet < 3 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		entries, err := os.ReadDir("/proc")
		if err != nil {
			return
		}
		found := false
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil || pid == os.Getpid() {
				continue
			}
			cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
			if err != nil || !bytes.Contains(cmdline, flag) {
				continue
			}
			found = true
			if p, err := os.FindProcess(pid); err == nil {
				_ = p.Signal(syscall.SIGKILL)
			}
		}
		if found {
			quiet = 0
		} else {
			quiet++
		}
	}
}

// lockedBuffer collects Chromium's output, which chromedp writes from its own
// goroutines while the test may read it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// useful is the output less the lines about D-Bus, which Chromium prints by the dozen
// on a machine without a session bus (a container, CI) and which never matter here.
func (b *lockedBuffer) useful() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var keep []string
	for line := range strings.Lines(b.buf.String()) {
		if !strings.Contains(line, ":ERROR:dbus/") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "")
}

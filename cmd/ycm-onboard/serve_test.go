package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestServeTheDemo: with no portal configured, serve runs the demo world with its demo
// accounts named on the sign-in page, and stops cleanly when cancelled (exit 0).
func TestServeTheDemo(t *testing.T) {
	a, _, errb := testApp(t, map[string]string{envPartnerID: "", envPartnerSecret: "", envYCMID: "", envYCMSecret: ""})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan int, 1)
	go func() { done <- runApp(ctx, a, "serve", "--addr", "127.0.0.1:0") }()

	addr := regexp.MustCompile(`serving the page at (http://127\.0\.0\.1:\d+)`)
	var base string
	for deadline := time.Now().Add(20 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := addr.FindStringSubmatch(errb.String()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		cancel()
		t.Fatalf("serve did not say where it serves:\n%s", errb)
	}
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"Sign in", "demo-uploader", "demo-approver", "built-in simulator"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the sign-in page lacks %q", want)
		}
	}
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("serve exited %d after it was stopped\n%s", code, errb)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
}

// TestSimWarnsBeyondLoopback: the simulator's admin API has no password, so serving it
// beyond this machine is said on stderr (decided from the address it listens on).
func TestSimWarnsBeyondLoopback(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:8080": false, "[::1]:8080": false,
		"0.0.0.0:8080": true, "[::]:8080": true, "192.0.2.10:8080": true} {
		if got := beyondLoopback(addr); got != want {
			t.Errorf("%s: beyond loopback %v, want %v", addr, got, want)
		}
	}
}

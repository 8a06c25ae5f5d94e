package browser_test

import (
	"bytes"
	"image/png"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ycm-onboard/ycm-onboard/internal/browser"
	"github.com/ycm-onboard/ycm-onboard/web"
)

const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>browser self-test</title>
<link rel="stylesheet" href="/static/pico.classless.min.css">
<script src="/static/htmx.min.js"></script>
</head>
<body>
<main>
<h1>Browser self-test</h1>
<p>The button asks the server for a fragment; htmx puts it in the box below.</p>
<button id="load" hx-get="/fragment" hx-target="#out">Load the fragment</button>
<article id="out">Nothing loaded yet.</article>
</main>
</body>
</html>`

const fragment = `<strong>Fragment loaded by htmx</strong>`

// serve starts the page, the fragment and web.Static on 127.0.0.1, as the server of
// `ycm-onboard serve` mounts them.
func serve(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.FileServerFS(web.Static))
	mux.HandleFunc("GET /fragment", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("HX-Request") != "true" {
			http.Error(w, "not an htmx request", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(fragment))
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(page))
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &httptest.Server{Listener: l, Config: &http.Server{Handler: mux}}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// TestSelfTest proves the harness end to end: Chromium starts, loads the vendored
// htmx and Pico CSS from web.Static, a click swaps in a fragment from the server, and
// the screenshot is a real PNG.
func TestSelfTest(t *testing.T) {
	srv := serve(t)
	ctx := browser.New(t)

	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("load")),
		// htmx sets window.htmx and processes hx- attributes when it loads.
		chromedp.Poll[chromedp.Void](`typeof window.htmx === "object" && htmx.version.startsWith("2.")`),
		chromedp.Click(chromedp.ID("load")),
		chromedp.WaitVisible(chromedp.CSS("#out strong")),
	); err != nil {
		t.Fatalf("load the page and click the button: %v", err)
	}
	got, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("out")))
	if err != nil {
		t.Fatal(err)
	}
	if want := "Fragment loaded by htmx"; strings.TrimSpace(got) != want {
		t.Errorf("#out after the click = %q, want %q", got, want)
	}

	// Pico sets the body's font to its system-ui stack (the browser's own default is a
	// serif) and gives a button its primary colour.
	font, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.body).fontFamily`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(font, "system-ui") {
		t.Errorf("body font-family = %q, want Pico's system-ui stack: did pico.classless.min.css load?", font)
	}
	picoVar, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.documentElement).getPropertyValue("--pico-font-family").trim()`))
	if err != nil {
		t.Fatal(err)
	}
	if picoVar == "" {
		t.Error("the root has no --pico-font-family: Pico's stylesheet did not apply")
	}

	shot := filepath.Join(t.TempDir(), "selftest.png")
	browser.Screenshot(t, ctx, shot)
	b, err := os.ReadFile(shot)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if r := img.Bounds(); r.Dx() == 0 || r.Dy() == 0 {
		t.Fatalf("screenshot is empty: %v", r)
	} else if r.Dx() != 1280 {
		t.Errorf("screenshot is %d pixels wide, want the window's 1280", r.Dx())
	}
	if keep := os.Getenv("BROWSER_SELFTEST_PNG"); keep != "" {
		// A copy for a person to look at: BROWSER_SELFTEST_PNG=/tmp/browser-selftest.png.
		if err := os.WriteFile(keep, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

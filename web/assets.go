// Package web holds the front-end files of the server-rendered page (`ycm-onboard
// serve`), embedded in the binary so the page works without a network or a build step.
package web

import "embed"

// Static holds the vendored front-end files under the folder name "static":
// static/htmx.min.js (htmx 2.x), static/pico.classless.min.css (Pico CSS 2.x, classless),
// their licences and a README naming each package, version and sha256.
// scripts/vendor-web.sh writes them; serve them with
// http.FileServerFS(web.Static) so that /static/htmx.min.js maps to the file.
//
//go:embed static
var Static embed.FS

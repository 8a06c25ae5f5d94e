#!/usr/bin/env bash
# Vendors the web page's front-end files into web/static from the npm registry, by package
# name and pinned version, with no build step and no node_modules in the repository:
# `npm pack` downloads each tarball into a temporary folder (npm checks it against the
# registry's integrity hash), and only the files the page serves are copied out.
# Writes web/static/README.md with each package, version, tarball integrity and the sha256
# of every vendored file. To update: change a version below, run this, review the diff.
# Usage: scripts/vendor-web.sh
set -euo pipefail

# htmx stays on 2.x: 4.x is a new major with breaking changes (latest on the registry).
HTMX_VERSION=2.0.11
PICO_VERSION=2.1.1

cd "$(dirname "$0")/.."
command -v npm >/dev/null || { echo "needs npm (Node.js) to download the packages" >&2; exit 2; }
out=web/static
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# pack NAME VERSION: downloads NAME@VERSION into $tmp/NAME-dir/package and prints its integrity.
pack() {
	local dir="$tmp/$(echo "$1" | tr -c 'a-zA-Z0-9.\n' '-')"
	mkdir -p "$dir"
	(cd "$dir" && npm pack --silent --json "$1@$2" >pack.json)
	tar -xzf "$dir"/*.tgz -C "$dir"
	echo "$dir"
}

htmx=$(pack htmx.org "$HTMX_VERSION")
pico=$(pack @picocss/pico "$PICO_VERSION")

mkdir -p "$out"
install -m 0644 "$htmx/package/dist/htmx.min.js" "$out/htmx.min.js"
install -m 0644 "$htmx/package/LICENSE" "$out/LICENSE-htmx"
install -m 0644 "$pico/package/css/pico.classless.min.css" "$out/pico.classless.min.css"
install -m 0644 "$pico/package/LICENSE.md" "$out/LICENSE-pico"

integrity() { node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1]))[0].integrity)' "$1/pack.json"; }
sum() { sha256sum "$out/$1" | cut -d' ' -f1; }

cat >"$out/README.md" <<MD
# Vendored front-end files

Served by \`ycm-onboard serve\` from the embedded \`web.Static\` (web/assets.go). Copied
unchanged from the npm registry's tarballs by \`scripts/vendor-web.sh\`; do not edit them
by hand: change the versions at the top of that script and run it again.

| File | Package | Version | Path in the package | sha256 |
| --- | --- | --- | --- | --- |
| htmx.min.js | htmx.org | $HTMX_VERSION | dist/htmx.min.js | $(sum htmx.min.js) |
| LICENSE-htmx | htmx.org | $HTMX_VERSION | LICENSE (Zero-Clause BSD) | $(sum LICENSE-htmx) |
| pico.classless.min.css | @picocss/pico | $PICO_VERSION | css/pico.classless.min.css | $(sum pico.classless.min.css) |
| LICENSE-pico | @picocss/pico | $PICO_VERSION | LICENSE.md (MIT) | $(sum LICENSE-pico) |

Tarball integrity as the registry gave it:

- htmx.org@$HTMX_VERSION: \`$(integrity "$htmx")\`
- @picocss/pico@$PICO_VERSION: \`$(integrity "$pico")\`

htmx is held on 2.x: the registry's \`latest\` is 4.x, a new major with breaking changes.
MD

echo "vendored htmx.org@$HTMX_VERSION and @picocss/pico@$PICO_VERSION into $out"

#!/usr/bin/env bash
# Builds the release image from the Dockerfile, with the context GoReleaser gives it
# (the static binary plus the extra_files of .goreleaser.yaml), and runs it offline:
# `version`, then the demo apply as the image's non-root user, which must write its
# report and history in the working directory.
# Needs podman or docker. Usage: scripts/image-check.sh
# ENGINE="podman --runtime runc" picks the engine and its flags.
set -euo pipefail
cd "$(dirname "$0")/.."
engine=${ENGINE:-$(command -v podman || command -v docker || true)}
[ -n "$engine" ] || { echo "image-check: needs podman or docker" >&2; exit 2; }
ctx=$(mktemp -d "${TMPDIR:-/tmp}/ycm-image.XXXXXX")
tag=localhost/ycm-onboard:image-check
trap 'rm -rf "$ctx"; $engine rmi -f "$tag" >/dev/null 2>&1 || true' EXIT
CGO_ENABLED=0 go build -trimpath -o "$ctx/ycm-onboard" ./cmd/ycm-onboard
# The before hooks of .goreleaser.yaml that make the image's extra files.
mkdir -p "$ctx/.release/rootfs/tmp" "$ctx/.release/rootfs/var/lib/ycm-onboard"
chmod 1777 "$ctx/.release/rootfs/tmp"
cp /etc/ssl/certs/ca-certificates.crt "$ctx/.release/ca-certificates.crt"
cp Dockerfile "$ctx/"
$engine build -q -t "$tag" "$ctx" >/dev/null
$engine run --rm --network none "$tag" version
$engine run --rm --network none -v "$PWD/samples:/in:ro" "$tag" \
	apply /in/onboarding.xlsx --yes >"$ctx/out" 2>&1 || { cat "$ctx/out"; echo "image-check: the demo apply failed in the image" >&2; exit 1; }
grep -E '^(Applied:|ycm-onboard: report written)' "$ctx/out"
echo "image-check: the image runs the demo apply as user 65532, offline"

#!/usr/bin/env bash
# Measures the simulator's throughput for list calls, without faults, from a separate
# process: `ycm-onboard sim` on loopback and wrk (Debian package) with keep-alive.
# Usage: scripts/bench-sim.sh [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
conns=${2:-16}
command -v wrk >/dev/null || { echo "needs wrk: apt-get install -y wrk" >&2; exit 2; }
addr=127.0.0.1:18089
go build -o "${TMPDIR:-/tmp}/ycm-onboard-sim-bench.bin" ./cmd/ycm-onboard
"${TMPDIR:-/tmp}/ycm-onboard-sim-bench.bin" sim --addr "$addr" --log-level warn &
pid=$!
trap 'kill $pid 2>/dev/null' EXIT
for _ in $(seq 50); do curl -fs "http://$addr/_sim/clock" >/dev/null && break; sleep 0.1; done
token=$(curl -fs -A bench -d client_id=demo-partner -d client_secret=demo-secret -d grant_type=pp_credentials \
	"http://$addr/auth/openapi/v1/oauth/token" | sed -E 's/.*"token":"([^"]+)".*/\1/')
ytoken=$(curl -fs -A bench -d client_id=demo-ycm -d client_secret=demo-secret -d grant_type=client_credentials \
	"http://$addr/dm/open_api/oauth/token" | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
echo "== list colleagues (Partner Portal), $conns connections, 2 wrk threads, ${secs}s"
wrk -t2 -c"$conns" -d"${secs}s" -H "User-Agent: bench" -H "Authorization: Bearer $token" \
	"http://$addr/user/openapi/user/v1/colleagues?pageNo=1&pageSize=25"
echo "== list cloud PBXs (YCM)"
wrk -t2 -c"$conns" -d"${secs}s" -H "User-Agent: bench" -H "Authorization: Bearer $ytoken" \
	"http://$addr/dm/open_api/v2/cloud_pbx/instances?pageSize=50&pageNumber=1"

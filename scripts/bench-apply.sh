#!/usr/bin/env bash
# Measures a whole apply as a user runs it: the ycm-onboard binary against
# `ycm-onboard sim` in a separate process on loopback.
# Usage: scripts/bench-apply.sh ROWS CONCURRENCY LATENCY [extra sim flags...]
#   e.g. scripts/bench-apply.sh 5000 16 20ms
#        scripts/bench-apply.sh 20000 16 0s --drop-before-write-rate 0.02 --drop-after-write-rate 0.02
# PROFILE=FILE writes the job's CPU profile there (go tool pprof FILE).
# Prints wall time, actions/s, the share of the latency bound (CONCURRENCY/LATENCY),
# the job's CPU (user + system) per action, and the requests the simulator served.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:?rows}; conc=${2:?concurrency}; lat=${3:?latency}; shift 3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ycm-bench-apply.XXXXXX")
bin=$tmp/ycm-onboard
go build -o "$bin" ./cmd/ycm-onboard
port=$((20000 + RANDOM % 20000)); addr=127.0.0.1:$port
"$bin" sim --addr "$addr" --latency "$lat" --log-level warn "$@" &
sim=$!
trap 'kill $sim 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do curl -fs "http://$addr/_sim/clock" >/dev/null && break; sleep 0.05; done
{
	echo "Email,First Name,Last Name,Permissions,YCM Manager"
	for i in $(seq 1 "$rows"); do echo "bench$i@bench.example,Bench,User$i,Dashboard; Customers,no"; done
} >"$tmp/in.csv"
export YCM_PARTNER_CLIENT_ID=demo-partner YCM_PARTNER_CLIENT_SECRET=demo-secret YCM_CLIENT_ID=demo-ycm YCM_CLIENT_SECRET=demo-secret
set +e
/usr/bin/time -f '%e %U %S %M' -o "$tmp/time" "$bin" apply "$tmp/in.csv" --portal "http://$addr" --yes \
	--concurrency "$conc" --state-dir "$tmp/state" --report "$tmp/report.xlsx" --log-level warn \
	${PROFILE:+--cpu-profile "$PROFILE"} >"$tmp/out" 2>&1
rc=$?
set -e
grep -E '^(Plan|Applied):' "$tmp/out" || tail -5 "$tmp/out"
curl -fs "http://$addr/_sim/stats" >"$tmp/stats.json"
curl -fs "http://$addr/_sim/outbox" >"$tmp/outbox.json"
read -r wall user sys maxrss <"$tmp/time"
python3 - "$rows" "$conc" "$lat" "$wall" "$user" "$sys" "$maxrss" "$rc" "$tmp/stats.json" "$tmp/outbox.json" <<'PY'
import json, sys
rows, conc, lat, wall, user, sys_, rss, rc, stats, outbox = sys.argv[1:]
rows, conc, wall, user, sys_ = int(rows), int(conc), float(wall), float(user), float(sys_)
def secs(d):
    for unit, f in (("ms", 1e-3), ("us", 1e-6), ("s", 1)):
        if d.endswith(unit):
            return float(d[:-len(unit)]) * f
    return float(d)
lat_s = secs(lat)
st = json.load(open(stats))
lists = sum(r["count"] for r in st["routes"] if r["route"].startswith("GET "))
print(f"exit {rc}; {rows} rows, --concurrency {conc}, latency {lat}")
print(f"wall {wall:.2f} s, {rows/wall:.1f} actions/s", end="")
if lat_s > 0:
    bound = conc / lat_s
    print(f" = {100*rows/wall/bound:.1f}% of the {bound:.0f}/s bound", end="")
print()
print(f"CPU user {user:.2f} s + system {sys_:.2f} s = {1e6*(user+sys_)/rows:.0f} µs per action; peak RSS {int(rss)/1024:.0f} MB")
print(f"simulator: {st['total']} requests ({lists} reads), peak {st['peakInFlight']} in flight")
sent = {}
for m in json.load(open(outbox)):
    if m["to"].startswith("bench"):
        sent[m["to"]] = sent.get(m["to"], 0) + 1
dups = sum(n - 1 for n in sent.values() if n > 1)
print(f"activation e-mails: {len(sent)} colleagues of {rows} reached, {dups} duplicates, {rows - len(sent)} missing")
PY

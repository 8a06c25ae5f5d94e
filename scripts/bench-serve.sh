#!/usr/bin/env bash
# Measures the web page against the command line, each as a whole process, with the
# simulator in a third process on loopback:
#   1. plan of a 100,000-row CSV: `ycm-onboard plan` vs an upload to `serve` (wall time,
#      and peak RSS of the CLI vs the server's growth over its idle size);
#   2. 50 signed-in users loading the plan page at once (latency percentiles).
# Usage: scripts/bench-serve.sh   (numbers go to BENCHMARKS.md)
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT
bin=$tmp/ycm-onboard
go build -o "$bin" ./cmd/ycm-onboard
sim=127.0.0.1:18090 page=127.0.0.1:18091
export YCM_PARTNER_CLIENT_ID=demo-partner YCM_PARTNER_CLIENT_SECRET=demo-secret YCM_CLIENT_ID=demo-ycm YCM_CLIENT_SECRET=demo-secret

{ echo "Email,First Name,Last Name,Permissions"
  for i in $(seq -w 0 99999); do echo "user$i@example.com,First$i,Last$i,Dashboard; Customers"; done; } > "$tmp/big.csv"

"$bin" sim --addr "$sim" --log-level warn &
for _ in $(seq 50); do curl -fs "http://$sim/_sim/clock" >/dev/null && break; sleep 0.1; done

echo "== CLI: plan of 100,000 rows"
/usr/bin/time -f "wall %e s, peak RSS %M KB" "$bin" plan "$tmp/big.csv" --portal "http://$sim" --state-dir "$tmp/cli-state" \
	--report "$tmp/cli.xlsx" --log-level warn >/dev/null || true

echo "== page: upload and plan of the same 100,000 rows"
printf '%s\n' 'bench-password-123' | "$bin" users add bench --role approver --state-dir "$tmp/page-state" >/dev/null
"$bin" serve --addr "$page" --portal "http://$sim" --state-dir "$tmp/page-state" --max-upload 64 --log-level warn 2>/dev/null &
spid=$!
for _ in $(seq 50); do curl -fs "http://$page/signin" >/dev/null && break; sleep 0.1; done
idle=$(awk '/VmRSS/ {print $2}' /proc/$spid/status)
jar=$tmp/jar
curl -fs -c "$jar" -b "$jar" -o /dev/null -d name=bench -d password=bench-password-123 "http://$page/signin"
csrf=$(curl -fs -b "$jar" "http://$page/" | sed -nE 's/.*name="csrf" value="([0-9a-f]+)".*/\1/p' | head -1)
curl -fs -b "$jar" -o "$tmp/upload.html" -D "$tmp/headers" -w "wall %{time_total} s\n" \
	-H "Origin: http://$page" -F csrf="$csrf" -F "files=@$tmp/big.csv" "http://$page/uploads"
peak=$(awk '/VmHWM/ {print $2}' /proc/$spid/status)
echo "server RSS idle ${idle} KB, peak ${peak} KB, growth $((peak - idle)) KB"
where=$(sed -nE 's/^[Ll]ocation: (.*)\r$/\1/p' "$tmp/headers")

echo "== page: 50 users loading the plan page for 10 s"
printf '%s\n' 'bench-password-123' | "$bin" users add small --role uploader --state-dir "$tmp/page-state" >/dev/null
csrf=$(curl -fs -b "$jar" "http://$page/" | sed -nE 's/.*name="csrf" value="([0-9a-f]+)".*/\1/p' | head -1)
curl -fs -b "$jar" -o /dev/null -D "$tmp/h2" -H "Origin: http://$page" -F csrf="$csrf" \
	-F "files=@samples/onboarding.xlsx" "http://$page/uploads"
small=$(sed -nE 's/^[Ll]ocation: (.*)\r$/\1/p' "$tmp/h2")
go run ./scripts/loadgen -url "http://$page" -path "$small" -users 50 -for 10s -name small -password bench-password-123
echo "== page: the 100,000-row plan page, once"
curl -fs -b "$jar" -o "$tmp/big.html" -w "wall %{time_total} s, %{size_download} bytes\n" "http://$page$where"

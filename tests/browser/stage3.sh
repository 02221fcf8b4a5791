#!/usr/bin/env bash
# The web UI through the stage 3 edge without Docker: a real Redis, the five stage 3 services
# (redirect twice), and a real HAProxy with docker/haproxy/common.cfg and stage3.cfg, its
# server-templates replaced by the services' 127.0.0.1 ports. Then stack.test.mjs (run.sh with
# KURZ_BASE_URL) checks the UI through it: shorten, follow, the click counted, and the instances
# panel listing every service's instances (/info/{service}) with their versions.
#   KURZ_LINKS=... KURZ_REDIRECT=... KURZ_STATS=... KURZ_QR=... KURZ_WEB=... tests/browser/stage3.sh
# Finally every service is stopped and the edge must answer 503 in kurz's JSON error shape.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../../scripts/lib.sh
source "$here/../../scripts/lib.sh"
repo=$KURZ_ROOT
for name in LINKS REDIRECT STATS QR WEB; do
  var=KURZ_$name
  [[ -x ${!var:-} ]] || die "set $var to the kurz-${name,,} binary"
done
command -v redis-server >/dev/null || die "redis-server is missing (Debian package redis-server)"
haproxy=$(command -v haproxy || echo /usr/sbin/haproxy)
[[ -x $haproxy ]] || die "haproxy is missing (Debian package haproxy)"

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

wait_for() { ops wait-status "$1" "$2" 20 || die "$1 did not answer $2"; }  # url status: up to 20 s

redis_port=$(ops free-port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >"$work/redis.log" 2>&1 &
pids+=($!)

declare -A port service_pid
for instance in links redirect redirect-2 stats qr web; do
  name=${instance%-2}
  var=KURZ_${name^^}
  port[$instance]=$(ops free-port)
  env -i PATH="$PATH" PORT="${port[$instance]}" LISTEN_ADDRESS=127.0.0.1 SHUTDOWN_DELAY_MS=0 LOG_LEVEL=warn \
    REDIS_URL="redis://127.0.0.1:$redis_port" HOSTNAME="kurz-$instance" PUBLIC_BASE_URL=http://kurz.test \
    "${!var}" >"$work/$instance.log" 2>&1 &
  pids+=($!)
  service_pid[$instance]=$!
done
for instance in "${!port[@]}"; do wait_for "http://127.0.0.1:${port[$instance]}/health/ready" 200; done

edge=$(ops free-port)
sed -e "s/bind :8404/bind 127.0.0.1:$(ops free-port)/" -e 's/ init-addr none resolvers docker resolve-prefer ipv4//' \
  "$repo/docker/haproxy/common.cfg" >"$work/edge.cfg"
sed -e "s/bind :8080/bind 127.0.0.1:$edge/" \
    -e "s/server-template links- 10 links:8080/server links-1 127.0.0.1:${port[links]}/" \
    -e "s/server-template redirect- 10 redirect:8080/server redirect-1 127.0.0.1:${port[redirect]}\n    server redirect-2 127.0.0.1:${port[redirect-2]}/" \
    -e "/server-template redirect-live-/d" \
    -e "s/server-template stats- 10 stats:8080/server stats-1 127.0.0.1:${port[stats]}/" \
    -e "s/server-template qr- 10 qr:8080/server qr-1 127.0.0.1:${port[qr]}/" \
    -e "s/server-template web- 10 web:8080/server web-1 127.0.0.1:${port[web]}/" \
    "$repo/docker/haproxy/stage3.cfg" >>"$work/edge.cfg"
! grep -q '^ *server-template' "$work/edge.cfg" || die "a server-template was left in edge.cfg"
"$haproxy" -db -f "$work/edge.cfg" >"$work/haproxy.log" 2>&1 &
pids+=($!)
for path in / /index.html /info/links /info/redirect /info/stats /info/qr /info/web; do
  wait_for "http://127.0.0.1:$edge$path" 200
done

KURZ_BASE_URL="http://127.0.0.1:$edge" KURZ_EXPECT_INSTANCES=2 bash "$here/run.sh"

# No replica up: the edge's own 503, as JSON.
for instance in "${!service_pid[@]}"; do kill "${service_pid[$instance]}"; done
wait_for "http://127.0.0.1:$edge/abc123" 503
python3 - "http://127.0.0.1:$edge/abc123" <<'PY'
import json, sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(sys.argv[1], timeout=5)
    sys.exit("expected 503")
except urllib.error.HTTPError as e:
    assert e.code == 503, e.code
    assert e.headers["Content-Type"] == "application/json", e.headers["Content-Type"]
    assert json.loads(e.read())["error"]["code"] == "unavailable"
print("browser stage 3: no replica up: 503 unavailable, as JSON")
PY

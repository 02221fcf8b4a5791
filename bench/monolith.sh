#!/usr/bin/env bash
# Stage 1 benchmark: the monolith's redirect path (GET /{code} -> 302) against nginx answering a
# fixed 302 on the same machine, plus the monolith's start-up time and memory. Prints a table and
# writes the same figures as JSON to bench/results/monolith-<date>.json. Not a test: it fails only
# when it cannot measure (build, start-up, or wrong answers).
#
# Everything runs on 127.0.0.1 with free ports; nginx and the monolith are stopped and the temp
# directory removed on exit. Installs wrk, nginx-light and the build dependencies when missing.
#
# Env: DURATION (s, 10), WARMUP (s, 2), THREADS (2), CONNECTIONS (64),
#      KURZ_BENCH_NGINX_ONLY=1 measures the nginx reference alone (checks the harness).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

duration=${DURATION:-10}
warmup=${WARMUP:-2}
threads=${THREADS:-2}
conns=${CONNECTIONS:-64}
nginx_only=${KURZ_BENCH_NGINX_ONLY:-0}
for v in duration warmup threads conns; do
  [[ ${!v} =~ ^[0-9]+$ && ${!v} -gt 0 ]] || die "$v must be a positive integer, got '${!v}'"
done
cores=$(nproc)
bin=$KURZ_ROOT/build/release/services/monolith/kurz-monolith

tmp=
nginx_pid=
monolith_pid=
sampler_pid=
child_pid=

# stop_pid <pid> <signal>: signals a process and waits for it (at most 10 s), then kills it.
stop_pid() {
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill "-$2" "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  say "pid $pid did not stop in 10 s: killing it"
  kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
  [[ -n $child_pid ]] && kill "$child_pid" 2>/dev/null
  [[ -n $sampler_pid ]] && kill "$sampler_pid" 2>/dev/null
  [[ -n $monolith_pid ]] && stop_pid "$monolith_pid" TERM
  [[ -n $nginx_pid ]] && stop_pid "$nginx_pid" TERM
  [[ -n $tmp ]] && rm -rf "$tmp"
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# rss_kb <pid>: the resident set size in kB.
rss_kb() {
  local key value _
  while read -r key value _; do
    [[ $key == VmRSS: ]] && { echo "$value"; return 0; }
  done <"/proc/$1/status"
  return 1
}

# interruptible <command...>: runs it in the background and waits, so that a signal to this script
# runs the trap at once instead of after the command; cleanup stops the command.
interruptible() {
  local rc=0
  "$@" &
  child_pid=$!
  wait "$child_pid" || rc=$?
  child_pid=
  return "$rc"
}

mb() { awk -v kb="$1" 'BEGIN { printf "%.1f", kb / 1024 }'; }

# wrk_to_ms <value with unit>: wrk prints latencies as 523.00us, 1.10ms, 1.02s, 1.00m.
wrk_to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : -1
    if (f < 0) exit 1
    printf "%.2f", n * f }'
}

# bench_target <name> <url>: warm-up, then the measured wrk run; output in $tmp/wrk-<name>.txt.
# Sets rps, p50, p99 (ms), and fails loudly on non-3xx answers or on no requests at all.
bench_target() {
  local name=$1 url=$2 out="$tmp/wrk-$1.txt"
  say "warming up $name for ${warmup}s ..."
  interruptible timeout $((warmup + 30)) wrk -t"$threads" -c"$conns" -d"${warmup}s" "$url" >/dev/null ||
    die "wrk warm-up failed against $url"
  say "measuring $name for ${duration}s ..."
  interruptible timeout $((duration + 30)) wrk -t"$threads" -c"$conns" -d"${duration}s" --latency "$url" >"$out" ||
    die "wrk failed against $url"
  if grep -q 'Non-2xx or 3xx responses' "$out"; then
    cat "$out" >&2
    die "$name answered non-3xx responses (see wrk output above): the figures are not valid"
  fi
  rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$out")
  p50=$(wrk_to_ms "$(awk '$1 == "50%" { print $2 }' "$out")") || die "no p50 in wrk output"
  p99=$(wrk_to_ms "$(awk '$1 == "99%" { print $2 }' "$out")") || die "no p99 in wrk output"
  [[ -n $rps && $rps -gt 0 ]] || { cat "$out" >&2; die "$name: no requests completed"; }
  errors=$(awk '/Socket errors:/ { sub(/^ *Socket errors: */, ""); print }' "$out")
  [[ -z $errors ]] || say "$name socket errors: $errors"
}

# expect_302 <url> <location or empty>: one request by curl, checked before loading the target.
expect_302() {
  local got
  got=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' --max-time 5 "$1") || got="000"
  [[ $got == "302 "* ]] || die "expected 302 from $1, got '$got'"
  [[ -z $2 || $got == "302 $2" ]] || die "expected Location $2 from $1, got '$got'"
}

start_nginx() {
  local dir=$tmp/nginx port
  mkdir -p "$dir"
  port=$(free_port) || die "no free port"
  cat >"$dir/nginx.conf" <<EOF
worker_processes 2;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 100000;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  server {
    listen 127.0.0.1:$port;
    location / { return 302 https://example.com/; }
  }
}
EOF
  nginx -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log" &
  nginx_pid=$!
  wait_http_302 "http://127.0.0.1:$port/x" || { cat "$dir/error.log" >&2; die "nginx did not start"; }
  nginx_url="http://127.0.0.1:$port/x"
}

# wait_http_302 <url>: nginx answers 302 on every path, so wait for that (at most 10 s).
wait_http_302() {
  local i
  for ((i = 0; i < 200; i++)); do
    kill -0 "$nginx_pid" 2>/dev/null || return 1
    [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$1") == 302 ]] && return 0
    sleep 0.05
  done
  return 1
}

# start_monolith: spawns the monolith and measures start -> first 200 on /health/ready.
start_monolith() {
  local port t0 deadline code
  port=$(free_port) || die "no free port"
  monolith_base="http://127.0.0.1:$port"
  t0=$(now_ms)
  env -u REDIS_URL -u PORT0 -u PORT -u API_KEY \
    MONOLITH_PORT="$port" LISTEN_ADDRESS=127.0.0.1 ACCESS_LOG=true LOG_LEVEL=info \
    PUBLIC_BASE_URL="$monolith_base" "$bin" >"$tmp/monolith.log" 2>&1 &
  monolith_pid=$!
  # Poll without sleeping: each curl costs a few ms, which bounds the resolution.
  deadline=$((t0 + 10000))
  while :; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$monolith_base/health/ready") ||
      code=000
    [[ $code == 200 ]] && break
    if ! kill -0 "$monolith_pid" 2>/dev/null || (($(now_ms) > deadline)); then
      tail -n 20 "$tmp/monolith.log" >&2
      die "the monolith did not become ready within 10 s"
    fi
  done
  ready_ms=$(($(now_ms) - t0))
  startup_ms=$(grep -m 1 '"msg" *: *"ready"' "$tmp/monolith.log" |
    sed -nE 's/.*"startup_ms" *: *([0-9.]+).*/\1/p') || true
  startup_ms=${startup_ms:-null}
}

# sample_rss <pid> <file>: keeps the maximum VmRSS (kB) in the file until stopped (bounded).
sample_rss() {
  local pid=$1 file=$2 max=0 kb i
  for ((i = 0; i < (duration + warmup + 30) * 10; i++)); do
    kb=$(rss_kb "$pid" 2>/dev/null) || break
    ((kb > max)) && { max=$kb; echo "$max" >"$file"; }
    sleep 0.1
  done
}

ensure_packages "${KURZ_BENCH_PACKAGES[@]}"
if [[ $nginx_only != 1 ]]; then
  ensure_packages "${KURZ_BUILD_PACKAGES[@]}"
  build_preset release kurz-monolith || die "build failed (preset release)"
  [[ -x $bin ]] || die "no binary at $bin"
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kurz-bench.XXXXXX")

start_nginx
expect_302 "$nginx_url" "https://example.com/"
bench_target nginx "$nginx_url"
nginx_rps=$rps nginx_p50=$p50 nginx_p99=$p99 nginx_errors=$errors
stop_pid "$nginx_pid" TERM
nginx_pid=

if [[ $nginx_only != 1 ]]; then
  start_monolith
  sleep 1
  idle_kb=$(rss_kb "$monolith_pid") || die "cannot read the monolith's memory"
  code=$(curl -s -o "$tmp/seed.json" -w '%{http_code}' --max-time 5 -X POST \
    "$monolith_base/api/links" -H 'Content-Type: application/json' \
    -d '{"url":"https://example.com/landing","slug":"bench"}') || code=000
  [[ $code == 201 ]] || { cat "$tmp/seed.json" >&2 || true; die "seeding the link: expected 201, got $code"; }
  expect_302 "$monolith_base/bench" "https://example.com/landing"
  echo "$idle_kb" >"$tmp/rss-max"
  sample_rss "$monolith_pid" "$tmp/rss-max" &
  sampler_pid=$!
  bench_target kurz "$monolith_base/bench"
  kill "$sampler_pid" 2>/dev/null || true
  sampler_pid=
  load_kb=$(<"$tmp/rss-max")
  kurz_rps=$rps kurz_p50=$p50 kurz_p99=$p99 kurz_errors=$errors
  expect_302 "$monolith_base/bench" "https://example.com/landing"
fi

# The report: a table on stdout, the same figures as JSON in bench/results/.
row() { printf '%-20s %8s %8s %8s\n' "$@"; }
echo
echo "kurz stage 1 benchmark ($cores cores, wrk -t$threads -c$conns -d${duration}s)"
row target req/s p50 p99
row "nginx return 302" "$nginx_rps" "${nginx_p50}ms" "${nginx_p99}ms"
if [[ $nginx_only != 1 ]]; then
  ratio=$(awk -v a="$kurz_rps" -v b="$nginx_rps" 'BEGIN { printf "%.2f", a / b }')
  row "kurz GET /{code}" "$kurz_rps" "${kurz_p50}ms" "${kurz_p99}ms"
  printf '%-20s %8s\n' "ratio kurz/nginx" "$ratio"
  printf '%-20s %8s MB   (target <= 10 MB)\n' "idle RSS" "$(mb "$idle_kb")"
  printf '%-20s %8s MB\n' "RSS under load" "$(mb "$load_kb")"
  printf '%-20s %8s ms   (target <= 100 ms; log says startup_ms=%s)\n' "start -> ready" \
    "$ready_ms" "$startup_ms"
fi

results=$KURZ_ROOT/bench/results
mkdir -p "$results"
file=$results/monolith-$(date +%Y%m%d-%H%M%S).json
commit=$(git -C "$KURZ_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$KURZ_ROOT" status --porcelain 2>/dev/null | head -c 1 | wc -c)
{
  printf '{\n  "benchmark": "monolith",\n  "date": "%s",\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  printf '  "commit": "%s",\n  "dirty": %s,\n  "cores": %s,\n' "$commit" \
    "$([[ $dirty -gt 0 ]] && echo true || echo false)" "$cores"
  printf '  "wrk": {"threads": %s, "connections": %s, "duration_s": %s, "warmup_s": %s},\n' \
    "$threads" "$conns" "$duration" "$warmup"
  printf '  "nginx": {"rps": %s, "p50_ms": %s, "p99_ms": %s, "socket_errors": "%s"}' \
    "$nginx_rps" "$nginx_p50" "$nginx_p99" "$nginx_errors"
  if [[ $nginx_only != 1 ]]; then
    printf ',\n  "kurz": {"rps": %s, "p50_ms": %s, "p99_ms": %s, "socket_errors": "%s"},\n' \
      "$kurz_rps" "$kurz_p50" "$kurz_p99" "$kurz_errors"
    printf '  "ratio_kurz_nginx": %s,\n  "idle_rss_mb": %s,\n  "load_rss_mb": %s,\n' \
      "$ratio" "$(mb "$idle_kb")" "$(mb "$load_kb")"
    printf '  "start_to_ready_ms": %s,\n  "startup_ms_logged": %s,\n' "$ready_ms" "$startup_ms"
    printf '  "targets": {"idle_rss_mb": 10, "start_to_ready_ms": 100}'
  fi
  printf '\n}\n'
} >"$file"
say "figures written to ${file#"$KURZ_ROOT"/}"

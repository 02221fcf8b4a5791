#!/usr/bin/env bash
# Stage 1 benchmark: the monolith's redirect path (GET /{code} -> 302) against nginx answering a
# fixed 302 on the same machine, plus the monolith's start-up time and memory. Prints a table and
# writes the same figures as JSON to bench/results/monolith-<date>.json. Not a test: it fails only
# when it cannot measure (build, start-up, or wrong answers).
#
# Everything runs on 127.0.0.1 with free ports; nginx and the monolith are stopped and the temp
# directory removed on exit. Load: bench/load (kurz-load, saturate). Installs wrk, nginx-light and the build dependencies when missing.
#
# Env: DURATION (s, 10), WARMUP (s, 2), THREADS (2), CONNECTIONS (64),
#      KURZ_BENCH_NGINX_ONLY=1 measures the nginx reference alone (checks the harness).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

load_settings 10 2
nginx_only=${KURZ_BENCH_NGINX_ONLY:-0}
positive_ints duration warmup threads conns
cores=$(nproc)
bin=$KURZ_ROOT/build/release/services/monolith/kurz-monolith
bench_traps

# start_monolith: spawns the monolith and measures start -> first 200 on /health/ready.
start_monolith() {
  local port t0 deadline code
  port=$(ops free-port) || die "no free port"
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

bench_nginx

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
echo "kurz stage 1 benchmark ($cores cores, bench/load -t$threads -c$conns -d${duration}s)"
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

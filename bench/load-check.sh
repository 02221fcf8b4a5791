#!/usr/bin/env bash
# Checks bench/load's two modes against each other and against a stall, and prints the figures.
# Not a test (the load tool's correctness is tests/load/test_load.py): it fails only when it cannot
# measure. For each target (the monolith, nginx `return 302`):
#   1. throughput at saturation, all redirects: bench/load --mode saturate --check every (wrk +
#      mix.lua), then ROUNDS pairs of bench/load --mode saturate on one code (wrk, lean: the
#      request prepared once, no Lua per answer) and bench/load --mode rate at 1.5x that rate (above
#      capacity, open loop) right after it. Goal: the open-loop tool reaches wrk's throughput
#      within 10 % (the median ratio >= 0.90).
#   2. a stall: the server frozen with SIGSTOP for STALL seconds while each mode runs. The open
#      loop measures from each request's scheduled time, so its p90 and max must show the stall;
#      wrk's closed loop stops sending while it waits and hides it from p90 (only max shows it;
#      against nginx, which does not echo X-Request-Id, the figures are wrk's own histogram,
#      which is not one sample per request and can miss the stall even in max).
# Prints a table and writes the figures as JSON to bench/results/load-check-<date>.json.
#
# Everything runs on 127.0.0.1 with free ports; the processes are stopped and the temp directory
# removed on exit. Env: DURATION (s, 5), WARMUP (s, 1), THREADS (2), CONNECTIONS (64), STALL (s, 1),
# STALL_RATE (req/s, 1000), ROUNDS (3 pairs of wrk and open-loop runs), TARGETS ("monolith nginx").
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

load_settings 5 1
stall=${STALL:-1}
stall_rate=${STALL_RATE:-1000}
rounds=${ROUNDS:-3}
target_list=${TARGETS:-monolith nginx}
positive_ints duration warmup threads conns stall stall_rate rounds
for t in $target_list; do [[ $t == monolith || $t == nginx ]] || die "unknown target '$t' (monolith, nginx)"; done
load=$KURZ_ROOT/bench/load
monolith_bin=$KURZ_ROOT/build/release/services/monolith/kurz-monolith

bench_traps

ensure_packages "${KURZ_BENCH_PACKAGES[@]}"
ensure_packages "${KURZ_BUILD_PACKAGES[@]}"
build_preset release kurz-monolith kurz-load || die "build failed (preset release)"
export KURZ_LOAD=$KURZ_ROOT/build/release/bench/kurz-load
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kurz-load-check.XXXXXX")

start_monolith() {
  local port
  port=$(ops free-port) || die "no free port"
  monolith_url="http://127.0.0.1:$port"
  env -u REDIS_URL -u PORT0 -u PORT -u API_KEY MONOLITH_PORT="$port" LISTEN_ADDRESS=127.0.0.1 \
    ACCESS_LOG=false RATE_LIMIT_CREATES=0 LOG_LEVEL=warn PUBLIC_BASE_URL="$monolith_url" \
    "$monolith_bin" >"$tmp/monolith.log" 2>&1 &
  monolith_pid=$!
  ops wait-http "$monolith_url/health/ready" 10 "$monolith_pid" ||
    { tail -n 20 "$tmp/monolith.log" >&2; die "the monolith did not become ready"; }
}

# json_get <file> <python expression on d>: one figure from a bench/load JSON file.
json_get() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

# stall_pids <target>: what SIGSTOP freezes (nginx: the master and its workers).
stall_pids() {
  if [[ $1 == nginx ]]; then
    echo "$nginx_pid"
    pgrep -P "$nginx_pid" || true
  else
    echo "$monolith_pid"
  fi
}

# with_stall <target> <delay s> <command...>: runs the command; after <delay> seconds freezes the
# target for $stall seconds (SIGSTOP, then SIGCONT).
with_stall() {
  local target=$1 delay=$2 pids pid rc=0
  shift 2
  "$@" &
  child_pid=$!
  sleep "$delay"
  pids=$(stall_pids "$target" | tr '\n' ' ')
  stopped_pids=$pids
  for pid in $pids; do kill -STOP "$pid"; done
  sleep "$stall"
  for pid in $pids; do kill -CONT "$pid"; done
  stopped_pids=
  wait "$child_pid" || rc=$?
  child_pid=
  return "$rc"
}

declare -A fig=()
load_before=$(cut -d ' ' -f 1-3 /proc/loadavg)
check_target() {
  local name=$1 base=$2 links_args=() code path rate out
  say "--- $name ($base)"
  if [[ $name == monolith ]]; then
    links_args=(--links 1000 --save-codes "$tmp/$name-codes.txt")
  else
    links_args=(--links 0 --save-codes "$tmp/$name-codes.txt")
  fi
  # 1. Saturation throughput.
  out=$tmp/$name-sat.json
  interruptible "$load" --base-url "$base" --mode saturate --check every --mix redirect=1 --duration "$duration" \
    --warmup "$warmup" --connections "$conns" "${links_args[@]}" --quiet --out "$out" ||
    die "bench/load --mode saturate failed against $name"
  fig[$name.mix_rps]=$(json_get "$out" 'd["rps"]')
  code=$(head -n 1 "$tmp/$name-codes.txt" | cut -f 1)
  path=/$code
  # The closed-loop reference: bench/load --mode saturate on that one code (--check sample: wrk
  # with the request prepared once, no Lua per answer; the same headers as the open loop).
  # The machine is shared and its load moves: pairs of runs, each open loop right after its
  # closed-loop run and at 1.5x that rate; the ratio is the median of the pairs'.
  local r ratios=() pairs=()
  for ((r = 1; r <= rounds; r++)); do
    say "round $r of $rounds: closed loop (wrk, lean) on $path ..."
    interruptible "$load" --base-url "$base" --mode saturate --mix redirect=1 --duration "$duration" \
      --warmup "$warmup" --connections "$conns" --threads "$threads" --links 0 --path "$path" \
      --quiet --out "$tmp/$name-closed-$r.json" ||
      die "bench/load --mode saturate failed against $name"
    load_figures "$name" "$tmp/$name-closed-$r.json"
    rate=$((rps * 3 / 2))
    out=$tmp/$name-open-$r.json
    say "round $r of $rounds: kurz-load open loop at $rate req/s (1.5x wrk) ..."
    interruptible "$load" --base-url "$base" --mode rate --rate "$rate" --mix redirect=1 \
      --duration "$duration" --warmup "$warmup" --connections "$conns" \
      --codes "$tmp/$name-codes.txt" --quiet --out "$out" || die "bench/load --mode rate failed against $name"
    open_rps=$(json_get "$out" 'd["rps"]')
    pairs+=("$rps/$open_rps")
    ratios+=("$(awk -v a="$open_rps" -v b="$rps" 'BEGIN { printf "%.2f", a / b }')")
  done
  fig[$name.pairs]=${pairs[*]}
  fig[$name.ratios]=${ratios[*]}
  fig[$name.ratio]=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{ v[NR] = $1 } END {
    print (NR % 2) ? v[(NR + 1) / 2] : sprintf("%.2f", (v[NR / 2] + v[NR / 2 + 1]) / 2) }')

  # 2. The stall, in both modes: the server frozen from 1 s into the measurement.
  local stall_duration=$((stall + 3))
  out=$tmp/$name-stall-open.json
  say "open loop at $stall_rate req/s for ${stall_duration}s, frozen ${stall}s ..."
  with_stall "$name" 1.2 "$load" --base-url "$base" --mode rate --rate "$stall_rate" \
    --duration "$stall_duration" --warmup 0 --connections "$conns" --codes "$tmp/$name-codes.txt" \
    --quiet --out "$out" || die "bench/load --mode rate failed during the stall"
  fig[$name.stall_open_p50]=$(json_get "$out" 'd["latency_ms"]["p50"]')
  fig[$name.stall_open_p90]=$(json_get "$out" 'd["latency_ms"]["p90"]')
  fig[$name.stall_open_max]=$(json_get "$out" 'd["latency_ms"]["max"]')
  out=$tmp/$name-stall-wrk.json
  say "wrk (closed loop) for ${stall_duration}s, frozen ${stall}s ..."
  with_stall "$name" 1.2 "$load" --base-url "$base" --mode saturate --check every --duration "$stall_duration" \
    --warmup 0 --connections "$conns" --codes "$tmp/$name-codes.txt" --mix redirect=1 --quiet \
    --out "$out" || die "bench/load --mode saturate failed during the stall"
  # The per-request timing of mix.lua where the server echoes X-Request-Id, else wrk's own.
  fig[$name.stall_wrk_p50]=$(json_get "$out" 'd["latency_ms"]["p50"]')
  fig[$name.stall_wrk_p90]=$(json_get "$out" 'd["latency_ms"]["p90"]')
  fig[$name.stall_wrk_max]=$(json_get "$out" 'd["latency_ms"]["max"]')
  fig[$name.stall_wrk_from]=$(json_get "$out" '"per request (mix.lua)" if "mix.lua" in d["latency_from"] else "wrk histogram"')
}

for target in $target_list; do
  if [[ $target == monolith ]]; then
    start_monolith
    check_target monolith "$monolith_url"
    stop_pid "$monolith_pid" TERM
    monolith_pid=
  else
    start_nginx
    check_target nginx "${nginx_url%/x}"
    stop_pid "$nginx_pid" TERM
    nginx_pid=
  fi
done

load_after=$(cut -d ' ' -f 1-3 /proc/loadavg)
echo
echo "bench/load check ($(nproc) cores; ${duration}s runs, ${conns} connections; stall ${stall}s;" \
  "load average $load_before before, $load_after after)"
printf '%-9s %12s %8s  %s\n' target "mix.lua r/s" "open/wrk" "pairs: wrk req/s / open-loop req/s (ratio)"
for target in $target_list; do
  read -r -a p <<<"${fig[$target.pairs]}"
  read -r -a q <<<"${fig[$target.ratios]}"
  line=
  for i in "${!p[@]}"; do line+="${p[$i]} (${q[$i]})  "; done
  printf '%-9s %12s %8s  %s\n' "$target" "${fig[$target.mix_rps]}" "${fig[$target.ratio]}" "$line"
done
echo "(open loop at 1.5x the wrk run just before it, all redirects; open/wrk: the median ratio,"
echo " goal >= 0.90; mix.lua: bench/load --mode saturate, redirects only, for comparison)"
echo
printf '%-9s %-28s %9s %9s %9s\n' target "during a ${stall}s SIGSTOP" p50 p90 max
for target in $target_list; do
  printf '%-9s %-28s %9s %9s %9s\n' "$target" "open loop ${stall_rate}/s" "${fig[$target.stall_open_p50]}ms" \
    "${fig[$target.stall_open_p90]}ms" "${fig[$target.stall_open_max]}ms"
  printf '%-9s %-28s %9s %9s %9s\n' "$target" "closed, ${fig[$target.stall_wrk_from]}" "${fig[$target.stall_wrk_p50]}ms" \
    "${fig[$target.stall_wrk_p90]}ms" "${fig[$target.stall_wrk_max]}ms"
done

results=$KURZ_ROOT/bench/results
mkdir -p "$results"
file=$results/load-check-$(date +%Y%m%d-%H%M%S).json
{
  printf '{\n  "benchmark": "load-check",\n  "date": "%s",\n  "cores": %s,\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(nproc)"
  printf '  "commit": "%s",\n' "$(git -C "$KURZ_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  printf '  "settings": {"duration_s": %s, "warmup_s": %s, "connections": %s, "stall_s": %s, "stall_rate": %s},\n' \
    "$duration" "$warmup" "$conns" "$stall" "$stall_rate"
  printf '  "load_average": {"before": "%s", "after": "%s"},\n' "$load_before" "$load_after"
  first=1
  printf '  "targets": {'
  for target in $target_list; do
    ((first)) || printf ','
    first=0
    printf '\n    "%s": {"mix_lua_rps": %s, "pairs_wrk_open_rps": "%s", "ratios": "%s", "ratio_open_wrk_median": %s,\n' \
      "$target" "${fig[$target.mix_rps]}" "${fig[$target.pairs]}" "${fig[$target.ratios]}" "${fig[$target.ratio]}"
    printf '      "stall_open_ms": {"p50": %s, "p90": %s, "max": %s}, "stall_closed_ms": {"p50": %s, "p90": %s, "max": %s, "from": "%s"}}' \
      "${fig[$target.stall_open_p50]}" "${fig[$target.stall_open_p90]}" "${fig[$target.stall_open_max]}" \
      "${fig[$target.stall_wrk_p50]}" "${fig[$target.stall_wrk_p90]}" "${fig[$target.stall_wrk_max]}" "${fig[$target.stall_wrk_from]}"
  done
  printf '\n  }\n}\n'
} >"$file"
say "figures written to ${file#"$KURZ_ROOT"/}"

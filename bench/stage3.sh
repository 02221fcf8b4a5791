#!/usr/bin/env bash
# Stage 3 benchmark: the redirect service and the click stream, in one run on this machine.
#   1. kurz-redirect on a cache hit against nginx `return 302` (target >= 0.5x);
#   2. kurz-redirect on a cache miss (LINK_CACHE_TTL_MS=0: every request reads Redis once), the
#      latency it adds at one connection, and Redis's own round trip (redis-benchmark PING);
#   3. kurz-stats consumption rate (target >= 50k clicks/s): EVENTS clicks pushed into the stream
#      while kurz-stats is stopped, then the time from its start until it applied them all, and the
#      totals checked through GET /api/stats/{code};
#   4. the stream lag while bench/load (wrk, lean) drives kurz-redirect flat out with kurz-stats running (target:
#      bounded, and drains after), checked against the load tool's count and kurz_clicks_dropped_total.
# Prints a table and writes the same figures as JSON to bench/results/stage3-<date>.json. Not a
# test: it fails only when it cannot measure (build, start-up, wrong answers, lost clicks).
#
# Everything runs on 127.0.0.1 with free ports and its own redis-server (no persistence); every
# process is stopped and the temp directory removed on exit.
#
# Env: DURATION (s, 10), WARMUP (s, 2), THREADS (2), CONNECTIONS (64) as in monolith.sh;
#      EVENTS (300000) clicks for the consumption rate; HTTP_THREADS (2) and ACCESS_LOG (true)
#      for kurz-redirect and kurz-stats; DRAIN_MAX (s, 120) the longest wait for the stream to drain.
#      If build/ci/services/stats/redis/kurz_click_bench exists it is run too (on Redis db 1).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

load_settings 10 2
events=${EVENTS:-300000}
http_threads=${HTTP_THREADS:-2}
access_log=${ACCESS_LOG:-true}
drain_max=${DRAIN_MAX:-120}
positive_ints duration warmup threads conns events http_threads drain_max
[[ $access_log == true || $access_log == false ]] || die "ACCESS_LOG must be true or false"
cores=$(nproc)
bindir=$KURZ_ROOT/build/release/services
click_bench=$KURZ_ROOT/build/ci/services/stats/redis/kurz_click_bench
hot=s3hot
hot_target=https://example.com/landing
ncodes=10 # the consumption phase spreads its clicks over s3c0 .. s3c9

declare -A svc_pid=() svc_base=()
bench_traps

rcli() { redis-cli -h 127.0.0.1 -p "$redis_port" "$@"; }

start_redis() {
  redis_port=$(ops free-port) || die "no free port"
  mkdir -p "$tmp/redis"
  redis-server --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no --daemonize no \
    --dir "$tmp/redis" --logfile "$tmp/redis/redis.log" &
  redis_pid=$!
  local i
  for ((i = 0; i < 100; i++)); do
    [[ $(rcli ping 2>/dev/null) == PONG ]] && { redis_url=redis://127.0.0.1:$redis_port; return 0; }
    kill -0 "$redis_pid" 2>/dev/null || break
    sleep 0.05
  done
  tail -n 20 "$tmp/redis/redis.log" >&2 || true
  die "redis-server did not start"
}

# start_service <instance> <binary name> [VAR=value...]: PORT=0, waits for the ready line and for
# /health/ready; sets svc_pid[instance], svc_base[instance] and started_ms (spawn time).
start_service() {
  local name=$1 bin=$bindir/$2/kurz-$2 log=$tmp/$1.log port i upper
  shift 2
  [[ -x $bin ]] || die "no binary at $bin"
  upper=$(basename "$bin" | sed 's/^kurz-//' | tr '[:lower:]' '[:upper:]')
  started_ms=$(now_ms)
  env -u PORT0 -u "${upper}_PORT" -u API_KEY -u INSTANCE_ID -u MESOS_TASK_ID \
    PORT=0 LISTEN_ADDRESS=127.0.0.1 REDIS_URL="$redis_url" LOG_LEVEL=info \
    ACCESS_LOG="$access_log" HTTP_THREADS="$http_threads" RATE_LIMIT_CREATES=0 \
    SHUTDOWN_DELAY_MS=0 HOSTNAME="bench-$name" "$@" "$bin" >"$log" 2>&1 &
  svc_pid[$name]=$!
  port=
  for ((i = 0; i < 200; i++)); do
    port=$(grep -m 1 '"msg" *: *"ready"' "$log" | sed -nE 's/.*"port" *: *([0-9]+).*/\1/p') || true
    [[ -n $port ]] && break
    kill -0 "${svc_pid[$name]}" 2>/dev/null || break
    sleep 0.05
  done
  [[ -n $port ]] || { tail -n 20 "$log" >&2; die "$name did not log ready"; }
  svc_base[$name]=http://127.0.0.1:$port
  ops wait-http "${svc_base[$name]}/health/ready" 10 "${svc_pid[$name]}" ||
    { tail -n 20 "$log" >&2; die "$name did not become ready"; }
}

stop_service() {
  stop_pid "${svc_pid[$1]}" TERM
  unset "svc_pid[$1]"
}

# metric <base url> <name> [label text]: the sum of a metric's samples (lines that contain the
# label text), as an integer; 0 when absent.
metric() {
  { curl -s --max-time 2 "$1/metrics" || true; } | awk -v m="$2" -v l="${3:-}" '
    { n = $1; sub(/\{.*/, "", n) }
    n == m && (l == "" || index($0, l)) { s += $NF }
    END { printf "%.0f\n", s }'
}

# redis_lag: clicks the stats group has not counted yet, from Redis itself (see
# services/clickstream's stream.h): in kurz:clicks (format 1, one click per entry: the group's lag
# + pending, or the stream length when there is no group yet) plus in kurz:clicks:v2 (format 2,
# what the redirect writes: kurz:clicks:v2:appended - kurz:clicks:v2:acked:stats).
redis_lag() {
  local legacy v2
  legacy=$({ rcli --no-raw XINFO GROUPS kurz:clicks 2>/dev/null || true; } | awk '
    /"name"/ { getline; mine = ($0 ~ /"stats"/) }
    /"pending"/ { getline; if (mine) p = $NF }
    /"lag"/ { getline; if (mine) { l = $NF; found = 1 } }
    END { if (found) print l + p; else print -1 }')
  if ((legacy < 0)); then legacy=$(rcli XLEN kurz:clicks); fi
  v2=$(rcli MGET kurz:clicks:v2:appended kurz:clicks:v2:acked:stats | awk '
    NR == 1 { a = $1 + 0 } NR == 2 { k = $1 + 0 } END { print (a > k ? a - k : 0) }')
  echo $((legacy + v2))
}

create_link() {
  local code
  code=$(curl -s -o "$tmp/create.json" -w '%{http_code}' --max-time 5 -X POST \
    "${svc_base[links]}/api/links" -H 'Content-Type: application/json' \
    -d "{\"url\":\"$2\",\"slug\":\"$1\"}") || code=000
  [[ $code == 201 ]] || { cat "$tmp/create.json" >&2 || true; die "creating $1: expected 201, got $code"; }
}

stats_total() {
  curl -s --max-time 5 "${svc_base[stats]}/api/stats/$1" |
    sed -nE 's/.*"total" *: *([0-9]+).*/\1/p'
}

ensure_packages "${KURZ_BENCH_PACKAGES[@]}" redis-server redis-tools
ensure_packages "${KURZ_BUILD_PACKAGES[@]}"
build_preset release kurz-redirect kurz-stats kurz-links || die "build failed (preset release)"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kurz-bench3.XXXXXX")

start_redis
start_service links links
create_link "$hot" "$hot_target"
for ((k = 0; k < ncodes; k++)); do create_link "s3c$k" "https://example.com/c$k"; done
stop_service links

# --- 1. cache hit against nginx ------------------------------------------------------------------
bench_nginx

start_service redirect redirect
rbase=${svc_base[redirect]}
expect_302 "$rbase/$hot" "$hot_target"
bench_target hit "$rbase/$hot"
hit_rps=$rps hit_p50=$p50 hit_p99=$p99 hit_errors=$errors
threads=1 conns=1 bench_target hit-c1 "$rbase/$hot"
hit1_p50=$p50 hit1_p99=$p99 hit1_rps=$rps
hit_misses=$(metric "$rbase" kurz_link_cache_lookups_total 'result="miss"')

# --- 2. cache miss: LINK_CACHE_TTL_MS=0 never answers from the cache (now - fetched < 0 is false) --
start_service miss redirect LINK_CACHE_TTL_MS=0
mbase=${svc_base[miss]}
expect_302 "$mbase/$hot" "$hot_target"
bench_target miss "$mbase/$hot"
miss_rps=$rps miss_p50=$p50 miss_p99=$p99 miss_errors=$errors miss_requests=$requests
threads=1 conns=1 bench_target miss-c1 "$mbase/$hot"
miss1_p50=$p50 miss1_p99=$p99 miss1_rps=$rps
miss_hits=$(metric "$mbase" kurz_link_cache_lookups_total 'result="hit"')
miss_misses=$(metric "$mbase" kurz_link_cache_lookups_total 'result="miss"')
# A handful of hits is possible: CachedLinkReader::find reads the clock before taking its lock, so
# a thread that read it earlier can find an entry that another thread stored "later" (negative age).
((miss_hits * 1000 <= miss_misses && miss_misses >= miss_requests)) ||
  die "the TTL 0 instance answered from its cache (hits $miss_hits, misses $miss_misses)"
stop_service miss
added_us=$(awk -v a="$miss1_p50" -v b="$hit1_p50" 'BEGIN { printf "%.0f", (a - b) * 1000 }')
cost_us=$(awk -v a="$miss_rps" -v b="$hit_rps" 'BEGIN { printf "%.1f", 1e6 / a - 1e6 / b }')

say "measuring Redis's round trip (redis-benchmark PING, 1 connection) ..."
redis-benchmark -h 127.0.0.1 -p "$redis_port" -q -n 100000 -c 1 -P 1 -t ping 2>/dev/null |
  tr '\r' '\n' | grep 'PING_MBULK.*requests per second' | tail -n 1 >"$tmp/ping.txt" || true
ping_rps=$(sed -nE 's/.*: ([0-9.]+) requests per second.*/\1/p' "$tmp/ping.txt")
ping_p50_ms=$(sed -nE 's/.*p50=([0-9.]+) msec.*/\1/p' "$tmp/ping.txt")
[[ -n $ping_rps ]] || die "no figures from redis-benchmark"
ping_rtt_us=$(awk -v r="$ping_rps" 'BEGIN { printf "%.0f", 1e6 / r }')

# --- 3. consumption rate ---------------------------------------------------------------------------
# The clicks of the runs above are flushed, then dropped from the stream: this phase counts exactly
# $events synthetic clicks in format 1 (kurz:clicks, one entry per click: t, c, r, u; existing
# codes; 50 referrers, 20 user agents, every fifth without referrer), as redirect replicas before
# format 2 wrote them; the workers still read it (services/clickstream's stream.h). The redirect's
# own format (one aggregated entry per batch) is measured by kurz_click_bench, below. One timestamp for all: t stays a string
# (mawk prints large numbers as 1.79e+12 after arithmetic, which the consumer rightly skips).
prev=-1
for ((i = 0; i < 100; i++)); do # until nothing is buffered and nothing was published for 0.2 s
  pub=$(metric "$rbase" kurz_clicks_published_total)
  (($(metric "$rbase" kurz_clicks_buffered) == 0 && pub == prev)) && break
  prev=$pub
  sleep 0.2
done
rcli DEL kurz:clicks >/dev/null
say "pushing $events clicks into kurz:clicks (redis-cli --pipe) ..."
push_t0=$(now_ms)
awk -v n="$events" -v nc="$ncodes" -v t="$(now_ms)" 'function bulk(s) { printf "$%d\r\n%s\r\n", length(s), s }
  BEGIN {
    for (i = 0; i < n; i++) {
      r = (i % 5 == 0) ? "" : "https://r" (i % 50) ".example/page"
      printf "*11\r\n"; bulk("XADD"); bulk("kurz:clicks"); bulk("*")
      bulk("t"); bulk(t); bulk("c"); bulk("s3c" (i % nc)); bulk("r"); bulk(r)
      bulk("u"); bulk("Mozilla/5.0 (X11; Linux x86_64) bench/" (i % 20))
    }
  }' | rcli --pipe >"$tmp/pipe.txt" 2>&1 || { cat "$tmp/pipe.txt" >&2; die "redis-cli --pipe failed"; }
push_ms=$(($(now_ms) - push_t0))
xlen=$(rcli XLEN kurz:clicks)
((xlen == events)) || die "the stream holds $xlen clicks, expected $events"
push_rate=$((events * 1000 / (push_ms > 0 ? push_ms : 1)))

start_service stats stats
stats_t0=$started_ms
sbase=${svc_base[stats]}
consume_ms=
first_ms=
for ((i = 0; i < 3000; i++)); do # 0.1 s steps: 300 s at most
  applied=$(metric "$sbase" kurz_clicks_applied_total)
  [[ -z $first_ms ]] && ((applied > 0)) && first_ms=$(($(now_ms) - stats_t0))
  ((applied >= events)) && { consume_ms=$(($(now_ms) - stats_t0)); break; }
  kill -0 "${svc_pid[stats]}" 2>/dev/null || die "kurz-stats exited"
  sleep 0.1
done
[[ -n $consume_ms ]] || die "kurz-stats applied $applied of $events clicks in 300 s"
consume_rate=$((events * 1000 / consume_ms))
((applied == events)) || die "kurz-stats applied $applied clicks, expected $events"
for ((i = 0; i < 50; i++)); do # the lag metric is refreshed every second
  (($(metric "$sbase" kurz_click_stream_lag) == 0)) && break
  sleep 0.1
done
lag_metric_after=$(metric "$sbase" kurz_click_stream_lag)
totals_ok=true
for ((k = 0; k < ncodes; k++)); do
  want=$(((events - k + ncodes - 1) / ncodes))
  got=$(stats_total "s3c$k")
  [[ $got == "$want" ]] || { say "s3c$k: total $got, expected $want"; totals_ok=false; }
done
[[ $totals_ok == true ]] || die "the stats totals are not exact"

# --- 4. stream lag under maximum redirect load -------------------------------------------------------
sample() { # every 0.5 s: seconds since start, stats lag metric, Redis's lag, redirect buffer
  local i t0
  t0=$(now_ms)
  for ((i = 0; i < (duration + drain_max + 30) * 2; i++)); do
    printf '%s %s %s %s\n' "$(($(now_ms) - t0))" "$(metric "$sbase" kurz_click_stream_lag)" \
      "$(redis_lag)" "$(metric "$rbase" kurz_clicks_buffered)" >>"$tmp/samples.txt"
    [[ -e $tmp/stop-sampling ]] && break
    sleep 0.5
  done
}
pub0=$(metric "$rbase" kurz_clicks_published_total)
found0=$(metric "$rbase" kurz_redirects_total 'result="found"')
applied0=$(metric "$sbase" kurz_clicks_applied_total)
total0=$(stats_total "$hot")
: >"$tmp/samples.txt"
sample &
sampler_pid=$!
load_t0=$(now_ms)
say "loading kurz-redirect for ${duration}s with kurz-stats consuming ..."
interruptible timeout $((duration + 60)) "$KURZ_ROOT/bench/load" --base-url "$rbase" --mode saturate \
  --links 0 --path "/$hot" --threads "$threads" --connections "$conns" \
  --warmup 0 --duration "$duration" --quiet --out "$tmp/load-load.json" ||
  die "bench/load failed against $rbase/$hot"
load_end=$(($(now_ms) - load_t0))
load_figures load "$tmp/load-load.json"
load_rps=$rps load_requests=$requests load_errors=$errors
load_timeouts=$(jq '.error_detail.timeout // 0' "$tmp/load-load.json")
drain_ms=
for ((i = 0; i < drain_max * 10; i++)); do
  pub=$(metric "$rbase" kurz_clicks_published_total)
  applied=$(metric "$sbase" kurz_clicks_applied_total)
  if (($(metric "$rbase" kurz_clicks_buffered) == 0 && applied - applied0 == pub - pub0)) &&
    (($(redis_lag) == 0)); then
    drain_ms=$(($(now_ms) - load_t0 - load_end))
    break
  fi
  sleep 0.1
done
for ((i = 0; i < 30; i++)); do # the samples end with the lag metric back at 0
  (($(metric "$sbase" kurz_click_stream_lag) == 0)) && break
  sleep 0.1
done
sleep 0.6
touch "$tmp/stop-sampling"
wait "$sampler_pid" || true
sampler_pid=
[[ -n $drain_ms ]] || say "the stream did not drain within ${drain_max}s after the load"
clicks=$((pub - pub0))
applied_delta=$((applied - applied0))
found=$(($(metric "$rbase" kurz_redirects_total 'result="found"') - found0))
dropped=$(metric "$rbase" kurz_clicks_dropped_total)
hot_delta=$(($(stats_total "$hot") - total0))
# Samples while the load ran: the last one before load_end is "at the end of load".
read -r max_lag max_lag_redis max_buffered < <(awk '{ if ($2 > a) a = $2; if ($3 > b) b = $3
  if ($4 > c) c = $4 } END { print a + 0, b + 0, c + 0 }' "$tmp/samples.txt")
read -r end_lag end_lag_redis end_buffered < <(awk -v e="$load_end" '$1 <= e { a = $2; b = $3; c = $4 }
  END { print a + 0, b + 0, c + 0 }' "$tmp/samples.txt")
# The load tool (wrk) counts completed responses; a request in flight when it stops (at most one per connection)
# or one that timed out was still served and clicked. So: requests <= clicks <= requests + conns
# + timeouts, and the server's own count (kurz_redirects_total) must equal the clicks exactly.
accounting_ok=false
((clicks == applied_delta && clicks == found && hot_delta == clicks && dropped == 0 &&
  clicks >= load_requests && clicks <= load_requests + conns + load_timeouts)) && accounting_ok=true
[[ $accounting_ok == true ]] ||
  say "accounting: load tool $load_requests, served $found, published $clicks, applied $applied_delta, stats total +$hot_delta, dropped $dropped"

# --- optional: the in-process micro-benchmark ------------------------------------------------------
cb_publish=null cb_consume=null
if [[ -x $click_bench ]]; then
  say "running kurz_click_bench ($events events, Redis db 1) ..."
  if REDIS_URL="$redis_url/1" CLICK_BENCH_EVENTS=$events interruptible timeout 300 \
    "$click_bench" >"$tmp/click-bench.txt" 2>&1; then
    cb_publish=$(sed -nE 's/^publish: *([0-9]+) clicks.*/\1/p' "$tmp/click-bench.txt")
    cb_consume=$(sed -nE 's/^consume: *([0-9]+) clicks.*/\1/p' "$tmp/click-bench.txt")
  else
    say "kurz_click_bench failed: $(tail -n 1 "$tmp/click-bench.txt")"
  fi
  cb_publish=${cb_publish:-null} cb_consume=${cb_consume:-null}
fi

# --- report ----------------------------------------------------------------------------------------
ratio=$(awk -v a="$hit_rps" -v b="$nginx_rps" 'BEGIN { printf "%.2f", a / b }')
secs() { awk -v ms="$1" 'BEGIN { printf "%.1f", ms / 1000 }'; }
row() { printf '%-34s %9s %9s %9s  %s\n' "$@"; }
echo
echo "kurz stage 3 benchmark ($cores cores, bench/load -t$threads -c$conns -d${duration}s;" \
  "HTTP_THREADS=$http_threads ACCESS_LOG=$access_log)"
row target req/s p50 p99 ""
row "nginx return 302" "$nginx_rps" "${nginx_p50}ms" "${nginx_p99}ms"
row "redirect, cache hit" "$hit_rps" "${hit_p50}ms" "${hit_p99}ms" "ratio/nginx $ratio (target >= 0.5)"
row "redirect, cache miss (TTL 0)" "$miss_rps" "${miss_p50}ms" "${miss_p99}ms" "+${cost_us} us CPU per request"
row "redirect, hit, 1 connection" "$hit1_rps" "${hit1_p50}ms" "${hit1_p99}ms"
row "redirect, miss, 1 connection" "$miss1_rps" "${miss1_p50}ms" "${miss1_p99}ms" "miss adds ${added_us} us (p50)"
row "redis PING, 1 connection" "$(printf '%.0f' "$ping_rps")" "${ping_p50_ms}ms" "" "round trip ${ping_rtt_us} us"
echo
printf '%-34s %s\n' "push $events clicks (redis-cli --pipe)" "$(secs "$push_ms") s ($push_rate clicks/s)"
printf '%-34s %s\n' "stats consumption" \
  "$consume_rate clicks/s ($(secs "$consume_ms") s from spawn, first applied at ${first_ms} ms; target >= 50000)"
printf '%-34s %s\n' "stats totals via /api/stats" "exact ($ncodes codes)"
printf '%-34s %s\n' "redirect flat out, stats running" "$load_rps req/s, $load_requests requests, errors: ${load_errors:-none}"
printf '%-34s %s\n' "stream lag: max / end of load" "$max_lag / $end_lag (metric); $max_lag_redis / $end_lag_redis (Redis XINFO)"
printf '%-34s %s\n' "redirect buffer: max / end" "$max_buffered / $end_buffered"
printf '%-34s %s\n' "drain after load" "${drain_ms:-not drained} ms"
printf '%-34s %s\n' "clicks: served/published/applied" "$found / $clicks / $applied_delta (load tool $load_requests, dropped $dropped): $([[ $accounting_ok == true ]] && echo ok || echo MISMATCH)"
[[ -x $click_bench ]] &&
  printf '%-34s %s\n' "kurz_click_bench publish/consume" "$cb_publish / $cb_consume clicks/s"

results=$KURZ_ROOT/bench/results
mkdir -p "$results"
file=$results/stage3-$(date +%Y%m%d-%H%M%S).json
commit=$(git -C "$KURZ_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$KURZ_ROOT" status --porcelain 2>/dev/null | head -c 1 | wc -c)
wrk_json() { printf '{"rps": %s, "p50_ms": %s, "p99_ms": %s, "socket_errors": "%s"}' "$1" "$2" "$3" "${4:-}"; }
{
  printf '{\n  "benchmark": "stage3",\n  "date": "%s",\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  printf '  "commit": "%s",\n  "dirty": %s,\n  "cores": %s,\n' "$commit" \
    "$([[ $dirty -gt 0 ]] && echo true || echo false)" "$cores"
  printf '  "wrk": {"threads": %s, "connections": %s, "duration_s": %s, "warmup_s": %s},\n' \
    "$threads" "$conns" "$duration" "$warmup"
  printf '  "services": {"http_threads": %s, "access_log": %s},\n' "$http_threads" "$access_log"
  printf '  "nginx": %s,\n' "$(wrk_json "$nginx_rps" "$nginx_p50" "$nginx_p99" "$nginx_errors")"
  printf '  "hit": %s,\n  "ratio_hit_nginx": %s,\n' "$(wrk_json "$hit_rps" "$hit_p50" "$hit_p99" "$hit_errors")" "$ratio"
  printf '  "miss": %s,\n' "$(wrk_json "$miss_rps" "$miss_p50" "$miss_p99" "$miss_errors")"
  printf '  "hit_1conn": %s,\n' "$(wrk_json "$hit1_rps" "$hit1_p50" "$hit1_p99")"
  printf '  "miss_1conn": %s,\n' "$(wrk_json "$miss1_rps" "$miss1_p50" "$miss1_p99")"
  printf '  "miss_added_latency_us": %s,\n  "miss_added_cpu_us_per_request": %s,\n' "$added_us" "$cost_us"
  printf '  "hit_instance_cache_misses": %s,\n  "miss_instance_cache": {"hits": %s, "misses": %s},\n' \
    "$hit_misses" "$miss_hits" "$miss_misses"
  printf '  "redis_ping": {"rps": %s, "p50_ms": %s, "round_trip_us": %s},\n' "$ping_rps" \
    "${ping_p50_ms:-null}" "$ping_rtt_us"
  printf '  "consume": {"events": %s, "push_ms": %s, "ms": %s, "first_applied_ms": %s, "clicks_per_s": %s, "totals_exact": %s, "lag_metric_after": %s},\n' \
    "$events" "$push_ms" "$consume_ms" "${first_ms:-null}" "$consume_rate" "$totals_ok" "$lag_metric_after"
  printf '  "load": {"rps": %s, "wrk_requests": %s, "wrk_timeouts": %s, "socket_errors": "%s",\n' \
    "$load_rps" "$load_requests" "$load_timeouts" "$load_errors"
  printf '    "served": %s, "published": %s, "applied": %s, "stats_total_delta": %s, "dropped": %s, "accounting_ok": %s,\n' \
    "$found" "$clicks" "$applied_delta" "$hot_delta" "$dropped" "$accounting_ok"
  printf '    "max_lag": %s, "end_lag": %s, "max_lag_redis": %s, "end_lag_redis": %s,\n' \
    "$max_lag" "$end_lag" "$max_lag_redis" "$end_lag_redis"
  printf '    "max_buffered": %s, "end_buffered": %s, "drain_ms": %s},\n' \
    "$max_buffered" "$end_buffered" "${drain_ms:-null}"
  printf '  "click_bench": {"publish_per_s": %s, "consume_per_s": %s},\n' "$cb_publish" "$cb_consume"
  printf '  "targets": {"ratio_hit_nginx": 0.5, "consume_per_s": 50000}\n}\n'
} >"$file"
say "figures written to ${file#"$KURZ_ROOT"/}"

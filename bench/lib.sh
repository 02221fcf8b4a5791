# shellcheck shell=bash disable=SC2034,SC2154 # the globals are set and read by the sourcing script
# Shared helpers for the benchmark scripts (monolith.sh, stage3.sh, load-check.sh, haproxy-tuning.sh;
# the experiments too: option parsing, usage errors). Sourcing it sources scripts/lib.sh; it defines
# functions only. They use these globals of the sourcing script:
#   tmp        the run's temp directory          child_pid  set/cleared by interruptible
#   nginx_pid  set by start_nginx                warmup, duration, threads, conns  (load settings)
# bench_target sets rps, p50, p99 (ms), errors (the load tool's error counts), requests (count).

# shellcheck source-path=SCRIPTDIR source=../scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

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

# load_figures <name> <bench/load JSON>: sets rps, p50, p99, errors and requests from a bench/load
# --out file; fails loudly on answers of 400 or more, or on no requests at all.
load_figures() {
  local name=$1 out=$2 bad
  bad=$(jq '(.status_classes["400_or_more"] // 0) + ([.status | to_entries[] | select(.key | tonumber >= 400) | .value] | add // 0)' "$out")
  if ((bad > 0)); then
    jq -c '{status, status_classes, error_detail}' "$out" >&2
    die "$name answered $bad requests with 4xx/5xx (see above): the figures are not valid"
  fi
  rps=$(jq '.rps | round' "$out")
  p50=$(jq '.latency_ms.p50' "$out")
  p99=$(jq '.latency_ms.p99' "$out")
  [[ -n $rps && $rps -gt 0 ]] || { cat "$out" >&2; die "$name: no requests completed"; }
  requests=$(jq '.requests' "$out")
  errors=$(jq -r '.error_detail | to_entries | map(select(.value > 0) | "\(.key) \(.value)") | join(", ")' "$out")
  [[ -z $errors ]] || say "$name socket errors: $errors"
}

# bench_target <name> <url>: bench/load --mode saturate --path (the lean path: wrk with the one
# request prepared once, no Lua per answer) on the URL, warm-up then the measured run; output in
# $tmp/load-<name>.json. Sets rps, p50, p99 (ms), errors, requests (see load_figures). bench/load
# is the one load driver of bench/.
bench_target() {
  local name=$1 url=$2 out="$tmp/load-$1.json" base path
  base=$(sed -E 's|^(http://[^/]+).*|\1|' <<<"$url")
  path=${url#"$base"}
  say "measuring $name: warm-up ${warmup}s, then ${duration}s (bench/load, $threads threads, $conns connections) ..."
  interruptible timeout $((warmup + duration + 60)) "$KURZ_ROOT/bench/load" --base-url "$base" \
    --mode saturate --links 0 --path "${path:-/}" --threads "$threads" --connections "$conns" \
    --warmup "$warmup" --duration "$duration" --quiet --out "$out" ||
    die "bench/load failed against $url"
  load_figures "$name" "$out"
}

# bench_nginx: the reference, nginx `return 302`, measured like the target (bench_target) and
# stopped; sets nginx_rps, nginx_p50, nginx_p99, nginx_errors.
bench_nginx() {
  start_nginx
  expect_302 "$nginx_url" "https://example.com/"
  bench_target nginx "$nginx_url"
  nginx_rps=$rps nginx_p50=$p50 nginx_p99=$p99 nginx_errors=$errors
  stop_pid "$nginx_pid" TERM
  nginx_pid=
}

# expect_302 <url> <location or empty>: one request by curl, checked before loading the target.
expect_302() {
  local got
  got=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' --max-time 5 "$1") || got="000"
  [[ $got == "302 "* ]] || die "expected 302 from $1, got '$got'"
  [[ -z $2 || $got == "302 $2" ]] || die "expected Location $2 from $1, got '$got'"
}

# start_nginx: nginx answering a fixed 302 on a free port (2 workers, no access log); sets
# nginx_pid and nginx_url.
start_nginx() {
  local dir=$tmp/nginx port
  mkdir -p "$dir"
  port=$(ops free-port) || die "no free port"
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
  ops wait-status "http://127.0.0.1:$port/x" 302 10 "$nginx_pid" || { cat "$dir/error.log" >&2; die "nginx did not start"; }
  nginx_url="http://127.0.0.1:$port/x"
}

# --- the scripts' common frame ------------------------------------------------------------------

# usage_error <message>: bad usage is exit 2 with the message and the script's usage.
usage_error() {
  say "error: $1"
  usage >&2
  exit 2
}

# parse_options <value options> <flag options> <args...>: a bench script's command line. -h/--help
# prints its usage (exit 0); every option named in the two lists goes to the script's
# `option <name> [value]` (a value option takes the next argument); anything else is a usage error.
parse_options() {
  local values=" $1 " flags=" $2 "
  shift 2
  while (($#)); do
    if [[ $1 == -h || $1 == --help ]]; then
      usage
      exit 0
    elif [[ $1 == --* && $flags == *" $1 "* ]]; then
      option "$1"
      shift
    elif [[ $1 == --* && $values == *" $1 "* ]]; then
      (($# >= 2)) || usage_error "$1 needs a value"
      option "$1" "$2"
      shift 2
    else
      usage_error "unknown argument '$1'"
    fi
  done
}

# check_count <option> <value> <min> <max> [unit]: a whole number in min..max, else a usage error.
check_count() {
  if ! [[ $2 =~ ^[0-9]+$ ]] || (($2 < $3 || $2 > $4)); then
    usage_error "$1 must be $3..$4${5:+ $5}, got '$2'"
  fi
}

# load_settings <duration s> <warmup s>: duration, warmup, threads and conns of the load from the
# environment (DURATION, WARMUP, THREADS, CONNECTIONS; defaults: the arguments, 2 threads, 64
# connections).
load_settings() {
  duration=${DURATION:-$1}
  warmup=${WARMUP:-$2}
  threads=${THREADS:-2}
  conns=${CONNECTIONS:-64}
}

# positive_ints <variable...>: each a whole number above 0, else an error that names it.
positive_ints() {
  local v
  for v in "$@"; do
    [[ ${!v} =~ ^[0-9]+$ && ${!v} -gt 0 ]] || die "$v must be a positive integer, got '${!v}'"
  done
}

# bench_cleanup: the EXIT trap of the scripts that start processes of their own (bench_traps sets
# it): resumes what a stall froze (stopped_pids), stops the background command (child_pid), the
# sampler, the servers (hap_pid, monolith_pid, svc_pid[...], nginx_pid, redis_pid) and removes tmp.
bench_cleanup() {
  local pid name
  for pid in ${stopped_pids:-}; do kill -CONT "$pid" 2>/dev/null || true; done
  [[ -n ${child_pid:-} ]] && kill "$child_pid" 2>/dev/null
  [[ -n ${sampler_pid:-} ]] && kill "$sampler_pid" 2>/dev/null
  [[ -n ${hap_pid:-} ]] && stop_pid "$hap_pid" TERM
  [[ -n ${monolith_pid:-} ]] && stop_pid "$monolith_pid" TERM
  if declare -p svc_pid >/dev/null 2>&1; then
    for name in "${!svc_pid[@]}"; do stop_pid "${svc_pid[$name]}" TERM; done
  fi
  [[ -n ${nginx_pid:-} ]] && stop_pid "$nginx_pid" TERM
  [[ -n ${redis_pid:-} ]] && stop_pid "$redis_pid" TERM
  [[ -n ${tmp:-} ]] && rm -rf "$tmp"
  return 0
}

# bench_traps: bench_cleanup at exit; a signal exits (130), which runs it. Empties the pid globals
# that bench_cleanup reads (tmp is kept when set).
bench_traps() {
  tmp=${tmp:-} nginx_pid='' child_pid='' sampler_pid='' hap_pid='' monolith_pid='' redis_pid='' stopped_pids=''
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

# check_cpus <option> <value>: a CPU share, a positive number up to 64, else a usage error.
check_cpus() {
  if ! [[ $2 =~ ^[0-9]*\.?[0-9]+$ ]] || ! awk -v c="$2" 'BEGIN { exit !(c > 0 && c <= 64) }'; then
    usage_error "$1 must be a positive number up to 64, got '$2'"
  fi
}

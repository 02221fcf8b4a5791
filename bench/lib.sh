# shellcheck shell=bash disable=SC2034,SC2154 # the globals are set and read by the sourcing script
# Shared helpers for the benchmark scripts (monolith.sh, stage3.sh). Source it after
# scripts/lib.sh; it defines functions only. They use these globals of the sourcing script:
#   tmp        the run's temp directory          child_pid  set/cleared by interruptible
#   nginx_pid  set by start_nginx                warmup, duration, threads, conns  (load settings)
# bench_target sets rps, p50, p99 (ms), errors (the load tool's error counts), requests (count).

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

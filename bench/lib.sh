# shellcheck shell=bash disable=SC2034,SC2154 # the globals are set and read by the sourcing script
# Shared helpers for the benchmark scripts (monolith.sh, stage3.sh). Source it after
# scripts/lib.sh; it defines functions only. They use these globals of the sourcing script:
#   tmp        the run's temp directory          child_pid  set/cleared by interruptible
#   nginx_pid  set by start_nginx                warmup, duration, threads, conns  (wrk settings)
# bench_target sets rps, p50, p99 (ms), errors (wrk's socket errors line), requests (count).

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

# wrk_to_ms <value with unit>: wrk prints latencies as 523.00us, 1.10ms, 1.02s, 1.00m.
wrk_to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : -1
    if (f < 0) exit 1
    printf "%.2f", n * f }'
}

# wrk_figures <name> <wrk output file>: sets rps, p50, p99, errors and requests from a wrk --latency
# output; fails loudly on non-3xx answers or on no requests at all.
wrk_figures() {
  local name=$1 out=$2
  if grep -q 'Non-2xx or 3xx responses' "$out"; then
    cat "$out" >&2
    die "$name answered non-3xx responses (see wrk output above): the figures are not valid"
  fi
  rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$out")
  p50=$(wrk_to_ms "$(awk '$1 == "50%" { print $2 }' "$out")") || die "no p50 in wrk output"
  p99=$(wrk_to_ms "$(awk '$1 == "99%" { print $2 }' "$out")") || die "no p99 in wrk output"
  [[ -n $rps && $rps -gt 0 ]] || { cat "$out" >&2; die "$name: no requests completed"; }
  requests=$(awk '/ requests in / { print $1 }' "$out")
  errors=$(awk '/Socket errors:/ { sub(/^ *Socket errors: */, ""); print }' "$out")
  [[ -z $errors ]] || say "$name socket errors: $errors"
}

# bench_target <name> <url> [wrk option...]: warm-up, then the measured wrk run; output in
# $tmp/wrk-<name>.txt. Sets rps, p50, p99 (ms), errors, requests (see wrk_figures).
bench_target() {
  local name=$1 url=$2 out="$tmp/wrk-$1.txt"
  shift 2
  say "warming up $name for ${warmup}s ..."
  interruptible timeout $((warmup + 30)) wrk -t"$threads" -c"$conns" -d"${warmup}s" "$@" "$url" >/dev/null ||
    die "wrk warm-up failed against $url"
  say "measuring $name for ${duration}s ..."
  interruptible timeout $((duration + 30)) wrk -t"$threads" -c"$conns" -d"${duration}s" --latency "$@" "$url" >"$out" ||
    die "wrk failed against $url"
  wrk_figures "$name" "$out"
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

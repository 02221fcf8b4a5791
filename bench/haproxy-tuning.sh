#!/usr/bin/env bash
# HAProxy's CPU per request, configuration against configuration, in one run: what each tuning
# line buys. HAProxy (the same Debian 2.6 binary as the kurz/haproxy image) with the global and
# defaults sections of docker/haproxy/common.cfg and stage 3's frontend and backends (read live:
# what the stacks run today, minus the DNS resolvers and the health checks, which need Docker's
# DNS) in front of nginx `return 302`, all on 127.0.0.1;
# the load is bench/load --mode saturate --path (one request prepared once).
#
#   bench/haproxy-tuning.sh [--rounds 3] [--duration S] [--connections C] [--cpu N] [--callgrind]
#
# HAProxy runs stage 3's frontend and backends (docker/haproxy/stage3.cfg, read live: its routing
# ACLs, the X-Request-Id header, layer 7 retries), each backend's server-template replaced by one
# server, nginx. Variants (each = the stack's configuration + the lines shown; `base` adds nothing):
#   base             what the stacks run today
#   log-all          a log line for every request (KURZ_HAPROXY_LOG_ALL=1)
#   no-log           no log at all (the floor of what logging costs)
#   reuse-always     http-reuse always
#   nbthread-1       nbthread 1 (HAProxy alone on one CPU: no inter-thread work)
#   pattern-cache-0  tune.pattern.cache-size 0 (no LRU lookup per ACL evaluation)
#   no-request-id    without `http-request set-header X-Request-Id %[uuid()]`
#   no-l7-retry      retries on connection failures only (no copy of each request kept for a retry)
#   tuned            the lines kept for the stacks
#   floor            a minimal configuration: no logging, routing, retries or header (the least
#                    HAProxy costs per request on this machine, whatever the configuration)
# The variants run in short slices, one after the other, round after round (ABCD... ABCD...), so
# that a change in the machine's load lands on every variant; per variant the table gives the
# median HAProxy CPU per request (user+system of the HAProxy process from /proc/<pid>/stat / the
# requests answered in the slice), the spread, and the ratio to base in the same round (median of
# the per-round ratios). --callgrind adds valgrind's instruction count per request of HAProxy
# (load-independent) for every variant, from about 2000 requests each (10 s at 200 req/s, counted
# from after start-up: callgrind_control -z). --rounds 0 --callgrind: the instruction counts only.
# HAProxy and nginx are pinned to CPU --cpu (default the last), the load tool to the others.
# Files: bench/results/haproxy-tuning-<timestamp>/ (table.md, results.json, the configurations).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '8,9s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }
rounds=3 duration=4 conns=32 cpu=$(($(nproc) - 1)) callgrind=0
option() {
  case $1 in
    --callgrind) callgrind=1 ;;
    --rounds) rounds=$2 ;;
    --duration) duration=$2 ;;
    --connections) conns=$2 ;;
    --cpu) cpu=$2 ;;
  esac
}
parse_options "--rounds --duration --connections --cpu" --callgrind "$@"
for v in rounds duration conns cpu; do
  [[ ${!v} =~ ^[0-9]+$ ]] || usage_error "--${v/conns/connections} must be a whole number"
done
((rounds <= 20 && (rounds >= 1 || callgrind) && duration >= 1 && duration <= 120 && conns >= 1 && conns <= 1024)) ||
  usage_error "--rounds 1..20 (0 with --callgrind), --duration 1..120, --connections 1..1024"
((cpu < $(nproc))) || die "--cpu $cpu: this machine has CPUs 0..$(($(nproc) - 1))"
ensure_packages haproxy nginx-light jq wrk
((callgrind == 0)) || ensure_packages valgrind
load_cpus=$( (($(nproc) > 1)) && seq -s, 0 $(($(nproc) - 1)) | tr , '\n' | grep -vx "$cpu" | paste -sd, || echo 0)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kurz-haproxy-tuning.XXXXXX")
run_dir=${KURZ_RESULTS_DIR:-$KURZ_ROOT/bench/results}/haproxy-tuning-$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$run_dir"
bench_traps
loadavg0=$(cut -d' ' -f1-3 /proc/loadavg)
awk -v l="${loadavg0%% *}" 'BEGIN { exit !(l > 1.5) }' &&
  say "WARNING: the load average is ${loadavg0%% *} at the start (above 1.5): the machine is busy; read the ratios, not the figures"

warmup=0 threads=1
start_nginx
taskset -a -pc "$cpu" "$nginx_pid" >/dev/null
nginx_port=${nginx_url#http://127.0.0.1:}
nginx_port=${nginx_port%%/*}

declare -A variant=(
  [base]=""
  [log-all]="defaults|no option dontlog-normal"
  [no-log]="defaults|no log"
  [reuse-always]="defaults|http-reuse always"
  [nbthread-1]="global|nbthread 1"
  [pattern-cache-0]="global|tune.pattern.cache-size 0"
  [no-request-id]="drop|X-Request-Id"
  [no-l7-retry]="defaults|retry-on conn-failure;drop|retry-on"
  [tuned]="global|nbthread 1;global|tune.pattern.cache-size 0"
  [floor]=floor
)
order=(base log-all no-log reuse-always nbthread-1 pattern-cache-0 no-request-id no-l7-retry tuned floor)

# config <variant> <port>: common.cfg's global and defaults (no resolvers, no DNS
# default-server), the variant's lines at the end of their section, a frontend and nginx behind.
config() {
  local name=$1 port=$2 spec
  spec=${variant[$name]}
  if [[ $spec == floor ]]; then
    # The least HAProxy can do for a request here: no logging, no routing, no retries, no header.
    printf '%s\n' global '    maxconn 4096' defaults '    mode http' '    option http-keep-alive' \
      '    timeout connect 2s' '    timeout client 30s' '    timeout server 30s' \
      frontend\ http "    bind 127.0.0.1:$port" '    default_backend redirect' backend\ redirect \
      "    server nginx 127.0.0.1:$nginx_port"
    return
  fi
  awk -v spec="$spec" '
    BEGIN { n = split(spec, items, ";"); for (i = 1; i <= n; i++) { split(items[i], kv, "|"); add[kv[1]] = add[kv[1]] "    " kv[2] "\n" } }
    # The variant lines go at the END of their section: the last of two settings wins.
    /^[a-z]/ { if (keep) printf "%s\n", add[section]; section = $1; keep = (section == "global" || section == "defaults") }
    !keep { next }
    /^[[:space:]]*default-server/ { next }
    { print }
    END { if (keep) printf "%s", add[section] }' "$KURZ_ROOT/docker/haproxy/common.cfg"
  # stage 3's frontend and backends as the stack runs them (read live), on 127.0.0.1: each
  # backend's server-template (Docker DNS slots) becomes one server, nginx; its other lines stay.
  echo
  # A variant's "drop|<regex>" items remove the lines that match from these sections.
  awk -v port="$port" -v ng="127.0.0.1:$nginx_port" -v spec="$spec" '
    BEGIN { n = split(spec, items, ";"); for (i = 1; i <= n; i++) { split(items[i], kv, "|"); if (kv[1] == "drop") drop[kv[2]] = 1 } }
    /^[a-z]/ { section = $1; keep = (section == "frontend" || section == "backend"); done = 0 }
    !keep || /^[[:space:]]*#/ { next }
    { for (d in drop) if ($0 ~ d) next }
    /^[[:space:]]*bind / { print "    bind 127.0.0.1:" port; next }
    /^[[:space:]]*server-template / {
      if (!done++) { line = "    server nginx " ng; for (i = 5; i <= NF; i++) if ($i != "backup") line = line " " $i; print line }
      next
    }
    { print }' "$KURZ_ROOT/docker/haproxy/stage3.cfg"
}
# proc_ticks <pid>: utime + stime (clock ticks).
proc_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# slice <variant> <label>: HAProxy with that configuration, a saturate slice; prints "us_per_request rps".
slice() {
  local name=$1 port cfg=$run_dir/haproxy-$1.cfg t0 t1 out=$run_dir/$2.json n
  port=$(ops free-port)
  config "$name" "$port" >"$cfg"
  haproxy -c -q -f "$cfg" >/dev/null || die "HAProxy rejects the $name configuration ($cfg)"
  taskset -c "$cpu" haproxy -db -f "$cfg" >"$tmp/$name.log" 2>&1 &
  hap_pid=$!
  ops wait-status "http://127.0.0.1:$port/x" 302 5 "$hap_pid" ||
    { cat "$tmp/$name.log" >&2; die "HAProxy ($name) did not answer"; }
  t0=$(proc_ticks "$hap_pid")
  interruptible taskset -c "$load_cpus" "$KURZ_ROOT/bench/load" --base-url "http://127.0.0.1:$port" \
    --mode saturate --links 0 --path /x --connections "$conns" --warmup 0 --duration "$duration" \
    --quiet --out "$out" || die "bench/load failed against HAProxy ($name)"
  t1=$(proc_ticks "$hap_pid")
  stop_pid "$hap_pid" TERM
  hap_pid=
  n=$(jq '.requests' "$out")
  awk -v a="$t0" -v b="$t1" -v hz="$(getconf CLK_TCK)" -v n="$n" -v r="$(jq .rps "$out")" \
    'BEGIN { printf "%.1f %.0f\n", (n > 0 ? (b - a) / hz * 1e6 / n : 0), r }'
}

declare -A us rps ratios
for name in "${order[@]}"; do us[$name]='' rps[$name]='' ratios[$name]=''; done
for ((r = 1; r <= rounds; r++)); do
  for name in "${order[@]}"; do
    read -r u q < <(slice "$name" "$name-$r")
    us[$name]+="$u " rps[$name]+="$q "
    [[ $name == base ]] && base_us=$u
    ratios[$name]+="$(awk -v a="$u" -v b="$base_us" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }') "
    say "round $r, $name: HAProxy $u us/request at $q req/s"
  done
done

median() { printf '%s\n' "$@" | grep . | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) { print "n/a n/a"; exit }; m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%s %.0f\n", m, (m > 0 ? 100 * (v[NR] - v[1]) / m : 0) }'; }

declare -A ir
if ((callgrind)); then
  for name in "${order[@]}"; do
    port=$(ops free-port)
    config "$name" "$port" >"$run_dir/haproxy-$name.cfg"
    taskset -c "$cpu" valgrind --tool=callgrind --callgrind-out-file="$tmp/cg-$name.out" \
      haproxy -db -f "$run_dir/haproxy-$name.cfg" >"$tmp/cg-$name.log" 2>&1 &
    hap_pid=$!
    ops wait-status "http://127.0.0.1:$port/x" 302 30 "$hap_pid" ||
      { cat "$tmp/cg-$name.log" >&2; die "HAProxy under valgrind ($name) did not answer"; }
    # Counted from here: start-up and the readiness probes above are zeroed out.
    callgrind_control -z "$hap_pid" >/dev/null 2>&1 || die "callgrind_control -z failed ($name)"
    # A modest rate that HAProxy under valgrind keeps up with; the figure is per request answered.
    interruptible taskset -c "$load_cpus" "$KURZ_ROOT/bench/load" --base-url "http://127.0.0.1:$port" \
      --mode rate --rate 200 --links 0 --connections 8 --warmup 0 --duration 10 --quiet \
      --out "$run_dir/cg-$name.json" || die "bench/load failed against HAProxy under valgrind ($name)"
    # Under valgrind HAProxy stops slowly; callgrind writes its counts when it exits.
    kill -TERM "$hap_pid" 2>/dev/null || true
    for ((i = 0; i < 600; i++)); do kill -0 "$hap_pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$hap_pid" 2>/dev/null && { kill -KILL "$hap_pid"; die "HAProxy under valgrind ($name) did not stop in 60 s"; }
    hap_pid=
    total=$(callgrind_annotate "$tmp/cg-$name.out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
    n=$(jq '.requests' "$run_dir/cg-$name.json")
    [[ -n $total ]] || die "callgrind wrote no counts for $name"
    ir[$name]=$(awk -v t="$total" -v n="$n" 'BEGIN { printf "%.0f", (n > 0 ? t / n : 0) }')
    say "callgrind, $name: ${ir[$name]} instructions per request ($n requests)"
  done
fi

{
  echo "## HAProxy CPU per request, configuration against configuration (stage 3's frontend and backends, HAProxy -> nginx \`return 302\`, 127.0.0.1)"
  echo
  awk -v l="${loadavg0%% *}" 'BEGIN { exit !(l > 1.5) }' &&
    { echo "**Warning: the load average was ${loadavg0%% *} at the start (above 1.5): read the ratios, not the figures.**"; echo; }
  echo "| variant | lines added to the stack's configuration | HAProxy CPU us/request (median of $rounds) | spread | ratio to base (median of per-round ratios) | req/s (median) |$( ((callgrind)) && echo ' instructions/request (callgrind) |')"
  echo "|---|---|---|---|---|---|$( ((callgrind)) && echo '---|')"
  for name in "${order[@]}"; do
    # shellcheck disable=SC2086 # the values are words
    read -r mu sp < <(median ${us[$name]})
    # shellcheck disable=SC2086
    read -r mr _ < <(median ${ratios[$name]})
    # shellcheck disable=SC2086
    read -r mq _ < <(median ${rps[$name]})
    lines=${variant[$name]//;/, }
    lines=${lines//defaults|/}
    lines=${lines//global|/}
    lines=${lines//drop|/without }
    [[ $lines == floor ]] && lines="a minimal configuration instead (see the script's header)"
    echo "| $name | ${lines:-(none)} | $mu | ±$sp % | $mr | $mq |$( ((callgrind)) && echo " ${ir[$name]:-} |")"
  done
  echo
  echo "Each slice: HAProxy started with the variant's configuration, pinned to CPU $cpu with nginx (1 worker), bench/load --mode saturate --path /x ($conns connections, ${duration}s, no warm-up) from CPU $load_cpus; HAProxy's CPU = utime + stime of its process (/proc/<pid>/stat) over the slice / the requests answered. Variants in turn, round after round ($rounds rounds). Logging goes to HAProxy's stdout, a file here (in the stacks: Docker's json-file, which costs dockerd too)."
  echo
  echo "Command: \`bench/haproxy-tuning.sh --rounds $rounds --duration $duration --connections $conns --cpu $cpu$( ((callgrind)) && echo ' --callgrind')\`; load average at the start $loadavg0, at the end $(cut -d' ' -f1-3 /proc/loadavg); $(haproxy -v | head -n 1 | awk '{ print "HAProxy", $3 }'); commit $(git -C "$KURZ_ROOT" rev-parse --short HEAD 2>/dev/null)"
} >"$run_dir/table.md"
echo "bench/haproxy-tuning.sh --rounds $rounds --duration $duration --connections $conns --cpu $cpu$( ((callgrind)) && echo ' --callgrind')" >"$run_dir/command.txt"
for name in "${order[@]}"; do
  # shellcheck disable=SC2086 # the values are words
  jq -n --arg name "$name" --arg lines "${variant[$name]}" --arg us "${us[$name]}" --arg rps "${rps[$name]}" \
    --arg ratios "${ratios[$name]}" --arg ir "${ir[$name]:-}" '
    def nums(s): [s | split(" ")[] | select(. != "") | tonumber];
    {variant: $name, lines: $lines, haproxy_us_per_request: nums($us), rps: nums($rps),
     ratio_to_base: nums($ratios), instructions_per_request: (if $ir == "" then null else ($ir | tonumber) end)}'
done | jq -s --arg load0 "$loadavg0" --arg load1 "$(cut -d' ' -f1-3 /proc/loadavg)" \
  --arg commit "$(git -C "$KURZ_ROOT" rev-parse --short HEAD 2>/dev/null)" \
  '{experiment: "haproxy-tuning", load_average_start: $load0, load_average_end: $load1, commit: $commit, variants: .}' \
  >"$run_dir/results.json"
cat "$run_dir/table.md"
say "results in ${run_dir#"$KURZ_ROOT"/}: table.md"

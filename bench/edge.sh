#!/usr/bin/env bash
# The edge overhead experiment: the same redirect (GET /{code}) through HAProxy to kurz's redirect
# service, and through the same HAProxy configuration (docker/haproxy/stage3.cfg, same image, same
# limits) to nginx answering `return 302`, INTERLEAVED in one run: short slices alternate kurz and
# nginx (ABAB...), so that a change in the machine's load lands on both sides of a pair. The
# throughput ratio is the median of the per-pair ratios (with their spread); then, in pairs too,
# p99 at a fixed rate of half kurz's median maximum.
#
#   bench/edge.sh [--replicas 2] [--pairs 5] [--duration S] [--warmup S] [--connections C]
#                 [--links N] [--perf]
#
# One stage 3 stack with a compose override (written to the run directory) that adds a second
# HAProxy (`haproxy-nginx`, its own network) and nginx replicas (bench/experiments/nginx) that
# answer to the name `redirect` on that network: the HAProxy configuration is the very same file.
# nginx gets the same replica count, CPU limit and CPU as kurz's redirect (compose: cpus 1.0 each),
# one worker per replica. Placement: redirect and nginx replicas on the last CPU, both HAProxys,
# Redis, the other services and Prometheus on the others, with the load tool (taskset), which
# runs inside each HAProxy's network namespace (nsenter -n: no docker-proxy on the load path).
# The load: bench/load --mix redirect=100; kurz seeds --links links once and nginx gets the very
# same paths (--codes, without targets: nginx answers every path alike). Every table gives the
# edge CPU's and HAProxy's CPU per request (measured window only).
# Files: bench/results/edge-<timestamp>/ (table.md, edge.png, results.json, every slice's JSON).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=experiments/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/experiments/lib.sh"

usage() {
  sed -n '8,9s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
  echo "  --replicas N      redirect replicas, and nginx replicas (default 2)"
  echo "  --pairs P         kurz/nginx slice pairs, interleaved (default 5; --duration: each slice, default 8)"
  exp_usage_common
}

replicas=2 pairs=5 duration=8 warmup=2 conns=64 links=1000 mix=redirect=100
option() {
  case $1 in
    --replicas) replicas=$2 ;;
    --pairs) pairs=$2 ;;
    *) exp_option "$@" ;;
  esac
}
parse_options "--replicas --pairs --duration --warmup --connections --links" --perf "$@"
check_count --replicas "$replicas" 1 10
check_count --pairs "$pairs" 1 20
exp_check_options

exp_init edge
echo "bench/edge.sh --replicas $replicas --pairs $pairs --duration $duration --warmup $warmup --connections $conns --links $links$( ((exp_perf)) && echo " --perf")" >"$run_dir/command.txt"

nginx_image="kurz-bench/nginx:dev"
say "building $nginx_image (bench/experiments/nginx) ..."
"$KURZ_ROOT/scripts/docker/base-image.sh" >>"$run_dir/stack.log" 2>&1 || die "no base image (see $run_dir/stack.log)"
interruptible timeout 600 docker build -q -t "$nginx_image" "$KURZ_ROOT/bench/experiments/nginx" \
  >>"$run_dir/stack.log" 2>&1 || { tail -n 20 "$run_dir/stack.log" >&2; die "building $nginx_image failed"; }

ov=$run_dir/edge.yml
placement_override stage3 "$ov" redirect
cat >>"$ov" <<EOF
  # The reference, added by bench/edge.sh: nginx replicas that answer to \`redirect\` on a network
  # of their own, behind a second HAProxy with the very same configuration as the kurz edge.
  nginx:
    image: $nginx_image
    scale: $replicas
    cpus: 1.0
    cpuset: "$app_cpus"
    cpu_shares: $exp_cpu_shares
    mem_limit: 128m
    networks:
      nginx-edge:
        aliases: [redirect]
  haproxy-nginx:
    image: kurz/haproxy:\${KURZ_TAG:-dev}
    command: ["-f", "/etc/haproxy/stage3.cfg"]
    read_only: true
    cap_drop: [ALL]
    security_opt: ["no-new-privileges:true"]
    pids_limit: 256
    ports: ["127.0.0.1::8080", "127.0.0.1::8404"]
    cpus: 1.0
    cpuset: "$edge_cpus"
    cpu_shares: $exp_cpu_shares
    mem_limit: 128m
    networks: [nginx-edge]
    depends_on: [nginx]
networks:
  nginx-edge: {}
EOF

stack_up stage3 "$ov" --scale "redirect=$replicas"
lb=$(stack_ids stage3 haproxy | sed -n 1p)
lbn=$(stack_ids stage3 haproxy-nginx | sed -n 1p)
kurz=$(edge_url "$lb" 8080) kurz_stats=$(published "$lb" 8404)
nginx=$(edge_url "$lbn" 8080) nginx_stats=$(published "$lbn" 8404)
ops wait-backend "$kurz_stats" redirect "$replicas" 90
ops wait-backend "$nginx_stats" redirect "$replicas" 90
expect_302 "$(published "$lbn" 8080)/load0" "https://example.com/landing"
say "kurz edge $kurz, nginx edge $nginx: $replicas replicas each UP in HAProxy; load $exp_load_path"

# Seeding once (a short kurz run that also warms the caches); every slice loads the same codes.
measure seed-kurz stage3 "$kurz" "$kurz_stats" --mode saturate --mix "$mix" --links "$links" \
  --save-codes "$run_dir/codes.txt"
awk '{ print $1 }' "$run_dir/codes.txt" >"$run_dir/codes-nginx.txt"

# Interleaved slices, kurz then nginx, pair after pair (ABAB...): a change in the machine's load
# lands on both sides of a pair; the ratio is the median of the per-pair ratios.
pair_ratios=() kurz_rps=() nginx_rps=()
for ((p = 1; p <= pairs; p++)); do
  measure "sat-kurz-$p" stage3 "$kurz" "$kurz_stats" --mode saturate --mix "$mix" --links 0 \
    --codes "$run_dir/codes.txt"
  measure "sat-nginx-$p" stage3 "$nginx" "$nginx_stats" --mode saturate --mix "$mix" --links 0 \
    --codes "$run_dir/codes-nginx.txt"
  kurz_rps+=("$(jq .rps "$run_dir/sat-kurz-$p.json")") nginx_rps+=("$(jq .rps "$run_dir/sat-nginx-$p.json")")
  pair_ratios+=("$(ratio "${kurz_rps[p - 1]}" "${nginx_rps[p - 1]}" 3)")
done
read -r kurz_med _ < <(stats3 "${kurz_rps[@]}")
read -r nginx_med _ < <(stats3 "${nginx_rps[@]}")
read -r tput_ratio tput_spread < <(stats3 "${pair_ratios[@]}")
rate=$(awk -v r="$kurz_med" 'BEGIN { printf "%.0f", r / 2 }')
p99_ratios=()
for ((p = 1; p <= pairs; p++)); do
  measure "rate-kurz-$p" stage3 "$kurz" "$kurz_stats" --mode rate --rate "$rate" --mix "$mix" --links 0 \
    --codes "$run_dir/codes.txt"
  measure "rate-nginx-$p" stage3 "$nginx" "$nginx_stats" --mode rate --rate "$rate" --mix "$mix" --links 0 \
    --codes "$run_dir/codes-nginx.txt"
  p99_ratios+=("$(ratio "$(jq .latency_ms.p99 "$run_dir/rate-kurz-$p.json")" "$(jq .latency_ms.p99 "$run_dir/rate-nginx-$p.json")" 3)")
done
read -r p99_ratio p99_spread < <(stats3 "${p99_ratios[@]}")
verdict() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN { ok = (op == ">=") ? v >= t : v <= t; print ok ? "met" : "missed" }'; }

# Medians over the pairs of a figure of each side's runs.
med_of() { # <run prefix> <jq path>
  local p vals=()
  for ((p = 1; p <= pairs; p++)); do vals+=("$(jq "$2 // 0" "$run_dir/$1-$p.json")"); done
  stats3 "${vals[@]}" | awk '{ print $1 }'
}
# Per-request CPU (medians over the pairs, measured window): edge CPUs, replicas, HAProxy, Redis.
figs_of() { # <side> <replica prefix> <haproxy prefix>: medians of window_figs over the pairs
  local p col f=$run_dir/.figs-$1 line=
  for ((p = 1; p <= pairs; p++)); do window_figs "$run_dir/sat-$1-$p.sys.json" "$2" "$3"; done >"$f"
  for col in 1 2 4 5 6; do
    # shellcheck disable=SC2046 # the column's values are words
    line+="$(stats3 $(awk -v c="$col" '{ print $c }' "$f") | awk '{ print $1 }') "
  done
  rm -f "$f"
  echo "$line"
}
read -r k_busy k_edge k_rep k_lb k_redis < <(figs_of kurz redirect_ haproxy_)
read -r n_busy n_edge n_rep n_lb _ < <(figs_of nginx nginx_ haproxy-nginx_)

printf '1 kurz %s %s\n2 nginx %s %s\n' "$kurz_med" "$(med_of rate-kurz .latency_ms.p99)" \
  "$nginx_med" "$(med_of rate-nginx .latency_ms.p99)" >"$run_dir/edge.dat"
plot edge.gp edge.png "rate='$rate'" "replicas='$replicas'"
jq -n --argjson rate "$rate" --argjson tr "$tput_ratio" --argjson pr "$p99_ratio" \
  --arg ts "$tput_spread" --arg ps "$p99_spread" --argjson pairs "$pairs" \
  --argjson trs "$(printf '%s\n' "${pair_ratios[@]}" | jq -s .)" --argjson prs "$(printf '%s\n' "${p99_ratios[@]}" | jq -s .)" \
  --slurpfile sk "$run_dir/sat-kurz-1.json" --slurpfile sn "$run_dir/sat-nginx-1.json" \
  --slurpfile rk "$run_dir/rate-kurz-1.json" --slurpfile rn "$run_dir/rate-nginx-1.json" \
  --slurpfile yk "$run_dir/sat-kurz-1.sys.json" --slurpfile yn "$run_dir/sat-nginx-1.sys.json" \
  --arg app "$app_cpus" --arg edge "$edge_cpus" --arg path "$exp_load_path" \
  --arg klb "$k_lb" --arg nlb "$n_lb" --arg kedge "$k_edge" --arg nedge "$n_edge" \
  --argjson km "$kurz_med" --argjson nm "$nginx_med" '
  def num: tonumber? // null;
  {experiment: "edge", placement: {replicas_cpu: $app, edge_and_load_cpu: $edge}, load_path: $path,
    pairs: $pairs, fixed_rate: $rate,
    throughput_ratio_kurz_nginx: $tr, throughput_ratio_spread_pct: ($ts | num), throughput_ratios: $trs,
    p99_ratio_at_half_max: $pr, p99_ratio_spread_pct: ($ps | num), p99_ratios: $prs,
    targets: {throughput_ratio_min: 0.8, p99_ratio_max: 1.5},
    kurz: {rps_median: $km, haproxy_us_per_request: ($klb | num), edge_us_per_request: ($kedge | num),
           saturate: $sk[0], rate: $rk[0], system: $yk[0]},
    nginx: {rps_median: $nm, haproxy_us_per_request: ($nlb | num), edge_us_per_request: ($nedge | num),
            saturate: $sn[0], rate: $rn[0], system: $yn[0]}}' >"$run_dir/results.json"

{
  echo "## Edge overhead: the same redirect through HAProxy to kurz and to nginx \`return 302\`, interleaved"
  echo
  [[ -z $exp_busy_warning ]] || { echo "$exp_busy_warning"; echo; }
  echo "| pair | kurz req/s | nginx req/s | kurz / nginx | p99 kurz ms at $rate req/s | p99 nginx ms | p99 kurz / nginx |"
  echo "|---|---|---|---|---|---|---|"
  for ((p = 1; p <= pairs; p++)); do
    echo "| $p | $(fig "$run_dir/sat-kurz-$p.json" .rps) | $(fig "$run_dir/sat-nginx-$p.json" .rps) | ${pair_ratios[p - 1]} | $(fig "$run_dir/rate-kurz-$p.json" .latency_ms.p99) | $(fig "$run_dir/rate-nginx-$p.json" .latency_ms.p99) | ${p99_ratios[p - 1]} |"
  done
  echo
  echo "- throughput kurz / nginx: **$(rnd "$tput_ratio" 2)** (median of $pairs per-pair ratios, spread ±$tput_spread %; target >= 0.8: $(verdict "$tput_ratio" 0.8 '>='))"
  echo "- p99 at $rate req/s (half kurz's median maximum, open loop), kurz / nginx: **$(rnd "$p99_ratio" 2)** (median of $pairs per-pair ratios, spread ±$p99_spread %; target <= 1.5: $(verdict "$p99_ratio" 1.5 '<='))"
  echo
  echo "| saturation slices (medians) | edge CPU busy % | edge CPU us/request | replicas' CPU us/request | HAProxy CPU us/request | Redis CPU us/request |"
  echo "|---|---|---|---|---|---|"
  echo "| kurz redirect x$replicas | $(rnd "$k_busy") | $(rnd "$k_edge") | $(rnd "$k_rep") | $(rnd "$k_lb") | $(rnd "$k_redis") |"
  echo "| nginx return 302 x$replicas | $(rnd "$n_busy") | $(rnd "$n_edge") | $(rnd "$n_rep") | $(rnd "$n_lb") | n/a |"
  echo
  if [[ -s $run_dir/sat-kurz-1.redis.txt ]]; then
    echo "Redis's own count (INFO commandstats) over kurz's first slice, per request answered in the same window, the costliest commands: $(awk '
      NR <= 5 { top = top sprintf("%s%s %.2f calls / %.1f us", (NR > 1 ? ", " : ""), toupper($1), $4, $5) }
      END { print top }' "$run_dir/sat-kurz-1.redis.txt") — the click stream, which nginx does not have; Redis runs on CPU $edge_cpus with HAProxy."
    echo
  fi
  echo "Slices: kurz and nginx alternate (ABAB...), $pairs pairs of warm-up ${warmup}s + ${duration}s each at saturation, then $pairs pairs at the fixed rate; bench/load --mix redirect=100, $conns connections; kurz seeded $links links once (Zipf popularity) and nginx got the same paths. CPU per request: over the measured window only (edge CPU busy time, containers' cgroup CPU) / the requests answered in it. Placement: redirect and nginx replicas on CPU $app_cpus (cpuset, cpus 1.0 each), both HAProxys, Redis, the other services and Prometheus on CPU $edge_cpus, the load tool too (taskset)."
  exp_table_end
} >"$run_dir/table.md"
exp_show edge.png

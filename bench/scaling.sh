#!/usr/bin/env bash
# The scaling experiment: how throughput grows with replicas of one stage 3 service, each limited
# to a CPU share, on the stage 3 compose stack through HAProxy — measured so that the replicas, not
# the machine, set the figure.
#
#   bench/scaling.sh [--service redirect] [--instances 1,2,4] [--cpus 0.15] [--repeat 3]
#                    [--duration S] [--warmup S] [--connections C] [--links N] [--mix M] [--perf]
#
# For each N (ascending; 1 must be in the list): `--scale <service>=N` (every replica limited to
# --cpus with `cpus`), wait until HAProxy's statistics list exactly N servers of the backend UP,
# then --repeat runs of bench/load --mode saturate (warm-up first; the lean path: requests prepared
# once, Location checked on a sample), then one --mode rate at half the N=1 median x N. The table
# gives per step the median throughput and its spread ((max - min) / median over the repeats), the
# scaling efficiency median(N) / (N x median(1)), and the capacity line that explains it: the edge
# CPU's busy share (a step is marked "edge-bound" above 70 %: it measured the edge), edge CPU us
# per request (everything on the edge CPU: HAProxy, Redis, the load tool, the kernel), the
# replicas' CPU us per request and HAProxy's, and the throughput predicted from them,
# min(edge CPUs / edge us, N x cpus / replica us), against the measured one.
# Default: 1,2,4 replicas of 0.15 CPU (the largest step leaves headroom on the replica CPU), and 8
# when 8 x cpus fits in 80 % of the replica CPUs. All CPU figures cover the measured window only.
#
# The load reaches HAProxy inside its network namespace (nsenter -n, 127.0.0.1 there), not
# through docker-proxy; the published port stays for people (bench/experiments/lib.sh, edge_url).
# The load average is recorded; above 1.5 at the start the run warns loudly, in the table too.
#
# CPU placement (a compose override, written to the run directory): the replicas of the service
# on the last CPU (`cpuset`), every other container (HAProxy, Redis, the other services,
# Prometheus) on the others ("edge" CPUs), the load tool (`taskset`) there too. On 2 CPUs:
# replicas on CPU 1, everything else on CPU 0.
#
# Files: bench/results/scaling-<timestamp>/ (table.md, scaling.png, scaling.dat, results.json, and
# every load run's JSON, HAProxy CSV, docker stats). The stack is a compose project of its own on
# 127.0.0.1 ports Docker picks, removed at exit (also on failure or Ctrl-C). Every run is bounded.
# Default mix: only requests of the scaled service (redirect=100, create=100, stats=100, qr=100).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=experiments/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/experiments/lib.sh"

usage() {
  sed -n '6,7s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
  echo "  --service NAME    redirect (default), links, stats or qr"
  echo "  --instances LIST  replica counts, comma-separated, including 1 (default 1,2,4, and 8"
  echo "                    when 8 x cpus fits in 80 % of the replica CPUs)"
  echo "  --cpus C          CPU limit of every replica (default 0.15)"
  echo "  --repeat R        saturation runs per step; the table gives median and spread (default 3)"
  exp_usage_common
  echo "  --mix M           the load tool's mix (default: the service's own kind only)"
}

service=redirect instances='' cpus=0.15 repeat=3 duration=20 warmup=5 conns=64 links=1000 mix=
option() {
  case $1 in
    --service) service=$2 ;;
    --instances) instances=$2 ;;
    --cpus) cpus=$2 ;;
    --repeat) repeat=$2 ;;
    *) exp_option "$@" ;;
  esac
}
parse_options "--service --instances --cpus --repeat --duration --warmup --connections --links --mix" --perf "$@"
case $service in
  redirect) kind=redirect ;;
  links) kind=create ;;
  stats) kind=stats ;;
  qr) kind=qr ;;
  *) usage_error "--service must be redirect, links, stats or qr, got '$service'" ;;
esac
mix=${mix:-$kind=100}
check_cpus --cpus "$cpus"
check_count --repeat "$repeat" 1 9
if [[ -z $instances ]]; then
  # 8 where the shares fit: 8 x cpus within 80 % of the replica CPUs (all but one CPU's worth).
  exp_cpus
  n_app=$(cpu_list "$app_cpus" | wc -w)
  instances=1,2,4
  awk -v c="$cpus" -v n="$n_app" 'BEGIN { exit !(8 * c <= 0.8 * n) }' && instances=1,2,4,8
fi
[[ $instances =~ ^[0-9]+(,[0-9]+)*$ ]] || usage_error "--instances must look like 1,2,4"
mapfile -t ns < <(tr , '\n' <<<"$instances" | sort -n -u)
((ns[0] == 1)) || usage_error "--instances must include 1 (the efficiency is relative to N=1)"
((ns[${#ns[@]} - 1] <= 10)) || usage_error "at most 10 replicas (HAProxy's server-template has 10 slots)"
exp_check_options

exp_init scaling
echo "bench/scaling.sh --service $service --instances $instances --cpus $cpus --repeat $repeat --duration $duration --warmup $warmup --connections $conns --links $links --mix $mix$( ((exp_perf)) && echo " --perf")" >"$run_dir/command.txt"
placement_override stage3 "$run_dir/placement.yml" "$service:$cpus"
ov=$run_dir/placement.yml
n_edge=$(cpu_list "$edge_cpus" | wc -w)

: >"$run_dir/scaling.dat"
rows=() diag=() t1=
for n in "${ns[@]}"; do
  stack_up stage3 "$ov" --no-recreate --scale "$service=$n"
  if [[ -z ${edge:-} ]]; then
    lb=$(stack_ids stage3 haproxy | sed -n 1p)
    edge=$(edge_url "$lb" 8080)
    stats=$(published "$lb" 8404)
    say "load to $edge ($exp_load_path); HAProxy statistics $stats/stats"
  fi
  ops wait-backend "$stats" "$service" "$n" 90
  say "N=$n: HAProxy has $n $service servers UP"
  rps_all=() p50_all=() p99_all=() busy_all=() edge_us_all=() rep_us_all=() lb_us_all=() redis_us_all=() app_busy_all=()
  for ((k = 1; k <= repeat; k++)); do
    # The first run seeds the links and saves them; every later run loads the same codes (and
    # checks the redirects' targets on a sample).
    if [[ -s $run_dir/codes.txt ]]; then
      codes=(--links 0 --codes "$run_dir/codes.txt")
    else
      codes=(--links "$links" --save-codes "$run_dir/codes.txt")
    fi
    label=sat-$n-$k
    measure "$label" stage3 "$edge" "$stats" --mode saturate --mix "$mix" "${codes[@]}"
    rps_all+=("$(jq '.rps' "$run_dir/$label.json")")
    p50_all+=("$(jq '.latency_ms.p50' "$run_dir/$label.json")")
    p99_all+=("$(jq '.latency_ms.p99' "$run_dir/$label.json")")
    read -r b eus abusy rus hus dus < <(window_figs "$run_dir/$label.sys.json" "${service}_" haproxy_)
    busy_all+=("$b") edge_us_all+=("$eus") app_busy_all+=("$abusy") rep_us_all+=("$rus") lb_us_all+=("$hus") redis_us_all+=("$dus")
  done
  read -r rps rps_spread < <(stats3 "${rps_all[@]}")
  read -r p50 _ < <(stats3 "${p50_all[@]}")
  read -r p99 _ < <(stats3 "${p99_all[@]}")
  read -r busy _ < <(stats3 "${busy_all[@]}")
  read -r app_busy _ < <(stats3 "${app_busy_all[@]}")
  read -r edge_us _ < <(stats3 "${edge_us_all[@]}")
  read -r rep_us _ < <(stats3 "${rep_us_all[@]}")
  read -r lb_us _ < <(stats3 "${lb_us_all[@]}")
  read -r redis_us _ < <(stats3 "${redis_us_all[@]}")
  [[ -n $t1 ]] || t1=$rps
  eff=$(awk -v t="$rps" -v t1="$t1" -v n="$n" 'BEGIN { printf "%.2f", t / (n * t1) }')
  bound=$(edge_bound "$busy")
  # Capacity line: what each side could carry at its per-request CPU cost, against the measured.
  read -r cap_edge cap_rep predicted ratio < <(awk -v e="$edge_us" -v r="$rep_us" -v ne="$n_edge" \
    -v n="$n" -v c="$cpus" -v m="$rps" 'BEGIN {
      ce = (e + 0 > 0) ? ne * 1e6 / e : 0; cr = (r + 0 > 0) ? n * c * 1e6 / r : 0
      p = (ce > 0 && cr > 0) ? (ce < cr ? ce : cr) : (ce > 0 ? ce : cr)
      printf "%.0f %.0f %.0f %s\n", ce, cr, p, (p > 0 ? sprintf("%.2f", m / p) : "n/a") }')
  rate=$(awk -v t="$t1" -v n="$n" 'BEGIN { printf "%.0f", t / 2 * n }')
  measure "rate-$n" stage3 "$edge" "$stats" --mode rate --rate "$rate" --mix "$mix" --links 0 \
    --codes "$run_dir/codes.txt"
  # The replicas' throttling and HAProxy's queue/errors, from the median run (by throughput).
  med=1
  for ((k = 1; k <= repeat; k++)); do [[ ${rps_all[k - 1]} == "$rps" ]] && med=$k; done
  read -r rep_periods rep_throttled < <(jq -r --arg s "${service}_" '
    [.containers | to_entries[] | select(.key | startswith($s)) | .value] |
    "\(map(.nr_periods) | add) \(map(.nr_throttled) | add)"' "$run_dir/sat-$n-$med.sys.json")
  read -r qmax econ eresp < <(awk -F, -v b="$service" '
    NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    $c["pxname"] == b && $c["svname"] == "BACKEND" { print $c["qmax"] + 0, $c["econ"] + 0, $c["eresp"] + 0 }' \
    "$run_dir/sat-$n-$med.haproxy.csv")
  thr_pct=$(awk -v a="$rep_throttled" -v b="$rep_periods" 'BEGIN { printf "%.0f", b ? 100 * a / b : 0 }')
  run_files=() sys_files=()
  for ((k = 1; k <= repeat; k++)); do
    run_files+=("$run_dir/sat-$n-$k.json") sys_files+=("$run_dir/sat-$n-$k.sys.json")
  done
  rf() { fig "$run_dir/rate-$n.json" "$1"; }
  rows+=("| $n | $cpus | $(printf '%.0f' "$rps") | ±$rps_spread % | $(rnd "$p50" 2) | $(rnd "$p99" 2) | $(jq -s 'map(.errors) | add' "${run_files[@]}") | **$eff** | $(rnd "$busy") %${bound:+ **$bound**} | $rate | $(rf .rps) | $(rf .latency_ms.p50) | $(rf .latency_ms.p99) | $(rf .errors) |")
  diag+=("| $n | $(rnd "$busy") | $(rnd "$edge_us") | $(rnd "$app_busy") | $(rnd "$rep_us") | $(rnd "$lb_us") | $(rnd "$redis_us") | $cap_edge | $cap_rep | $predicted | $(printf '%.0f' "$rps") | $ratio | $rep_throttled / $rep_periods ($thr_pct %) | $qmax | $econ / $eresp |")
  echo "$n $rps $(awk -v t="$t1" -v n="$n" 'BEGIN { print t * n }') $eff $p50 $p99 $(jq '.latency_ms.p99' "$run_dir/rate-$n.json") $(printf '%s\n' "${rps_all[@]}" | sort -g | sed -n '1p') $(printf '%s\n' "${rps_all[@]}" | sort -g | tail -n 1) $predicted $busy" >>"$run_dir/scaling.dat"
  runs=$(jq -s '.' "${run_files[@]}")
  sys_runs=$(jq -s '.' "${sys_files[@]}")
  jq -n --argjson n "$n" --argjson eff "$eff" --argjson rate "$rate" --argjson rps "$rps" \
    --arg spread "$rps_spread" --argjson runs "$runs" --argjson sysr "$sys_runs" \
    --slurpfile fr "$run_dir/rate-$n.json" --slurpfile frsys "$run_dir/rate-$n.sys.json" \
    --arg busy "$busy" --arg bound "$bound" --arg eus "$edge_us" --arg rus "$rep_us" --arg hus "$lb_us" \
    --arg dus "$redis_us" --arg pred "$predicted" --arg ce "$cap_edge" --arg cr "$cap_rep" --argjson med "$med" '
    def num: tonumber? // null;
    {n: $n, efficiency: $eff, rps_median: $rps, rps_spread_pct: ($spread | num),
     edge_busy_pct: ($busy | num), edge_bound: ($bound != ""),
     capacity: {edge_us_per_request: ($eus | num), replica_us_per_request: ($rus | num),
                haproxy_us_per_request: ($hus | num), redis_us_per_request: ($dus | num),
                edge_capacity_rps: ($ce | num), replica_capacity_rps: ($cr | num),
                predicted_rps: ($pred | num), measured_rps: $rps},
     saturate: $runs[$med - 1], saturate_runs: $runs, system: $sysr[$med - 1], system_runs: $sysr,
     rate: $rate, fixed_rate: $fr[0], fixed_rate_system: $frsys[0]}' >"$run_dir/step-$n.json"
done
jq -s --arg svc "$service" --arg cpus "$cpus" --arg mix "$mix" --arg app "$app_cpus" --arg edge "$edge_cpus" \
  --argjson repeat "$repeat" --arg path "$exp_load_path" --arg la "$exp_loadavg0" \
  '{experiment: "scaling", service: $svc, cpus_per_replica: ($cpus | tonumber), mix: $mix, repeat: $repeat,
    load_path: $path, loadavg_start: $la,
    placement: {replicas_cpu: $app, edge_and_load_cpu: $edge}, steps: (. | sort_by(.n))}' "$run_dir"/step-*.json >"$run_dir/results.json"

plot scaling.gp scaling.png "svc='$service'" "cpus='$cpus'"

marathon_note=
if [[ -x $KURZ_ROOT/marathon/deploy ]]; then
  marathon_note="Marathon variant: needs a real Marathon cluster (on this machine marathon/deploy can only drive a stand-in, not a cluster to measure). With marathon/stage3/kurz.json deployed and the app's \`cpus\` set to $cpus: for each N, \`MARATHON_URL=http://<marathon>:8080 marathon/deploy scale /kurz/$service N\` (it follows the deployment to its end), then \`bench/load --base-url http://kurz.example --mode saturate --mix $mix --links $links\` against marathon-lb (vhost kurz.example on the public agent)."
fi

{
  echo "## Scaling: $service x N, $cpus CPU each (stage 3 stack, through HAProxy)"
  echo
  [[ -z $exp_busy_warning ]] || { echo "$exp_busy_warning"; echo; }
  echo "| N | CPU/replica | saturation req/s (median of $repeat) | spread | p50 ms | p99 ms | errors | efficiency | edge CPU busy | fixed rate req/s | achieved req/s | p50 ms | p99 ms | errors |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "Efficiency = median(N) / (N x median(1)). Spread = (max - min) / median over the $repeat saturation runs of the step. Edge CPU busy: CPU $edge_cpus (HAProxy, Redis, the load tool and the kernel's work for them); above 70 % the step is **edge-bound**: it measured the edge, not the replicas. Fixed rate = half the N=1 median x N (open loop, one run; latency from the scheduled send time)."
  echo
  echo "Capacity line (medians over the repeats, measured window only): what each side costs per request and could carry at that cost, against the measured throughput."
  echo
  echo "| N | edge CPU busy % | edge CPU us/request | replica CPU busy % | replicas' CPU us/request | HAProxy CPU us/request | Redis CPU us/request | edge capacity req/s | replica capacity req/s | predicted req/s | measured req/s | measured / predicted | throttled periods | HAProxy qmax | HAProxy econ / eresp |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${diag[@]}"
  echo
  echo "Edge CPU us/request: the busy time of CPU $edge_cpus ($n_edge CPU) over the window / the requests answered in it (HAProxy, Redis, the load tool, the kernel's network work, Docker's processes). Replicas' and HAProxy's: their containers' cgroup CPU (cpuacct.usage) / the same requests. Edge capacity = $n_edge x 10^6 / edge us; replica capacity = N x $cpus x 10^6 / replica us; predicted = the smaller. Throttled periods: the replicas' CFS throttling (cpu.stat) in the median run."
  echo
  echo "Saturation runs: warm-up ${warmup}s + ${duration}s each, $conns connections, mix $mix, $links seeded links; bench/load --mode saturate (lean: requests prepared once, no Lua per answer; redirects' Location checked on a sample of codes before each run)."
  echo "Placement: replicas of $service on CPU $app_cpus (cpuset, cpus $cpus each); HAProxy, Redis, the other services, Prometheus on CPU $edge_cpus; the load tool there too (taskset)."
  exp_table_end "$marathon_note"
} >"$run_dir/table.md"
exp_show scaling.png

#!/usr/bin/env bash
# The scaling experiment: how throughput grows with replicas of one stage 3 service, each limited
# to a CPU share, on the stage 3 compose stack through HAProxy.
#
#   bench/scaling.sh [--service redirect] [--instances 1,2,4] [--cpus 0.25] [--duration S]
#                    [--warmup S] [--connections C] [--links N] [--mix M] [--perf]
#
# For each N (ascending; 1 must be in the list): `--scale <service>=N` (every replica limited to
# --cpus with `cpus`), wait until HAProxy's statistics list exactly N servers of the backend UP,
# then bench/load --mode saturate (warm-up first), then --mode rate at half the N=1 maximum x N.
# Prints throughput, p50/p90/p99 and the scaling efficiency throughput(N) / (N x throughput(1)),
# and the numbers that explain it: per-CPU busy share, CPU seconds and CFS throttling
# (cpu.stat nr_throttled) of the replicas, HAProxy's queue and errors.
#
# CPU placement (a compose override, written to the run directory): the replicas of the service
# on the last CPU (`cpuset`), every other container (HAProxy, Redis, the other services,
# Prometheus) on the others; the load tool (`taskset`) and docker-proxy, which carries the
# published port, there too. On 2 CPUs: replicas on CPU 1, everything else on CPU 0.
#
# Files: bench/results/scaling-<timestamp>/ (table.md, scaling.png, scaling.dat, results.json, and
# every load run's JSON, HAProxy CSV, docker stats). The stack is a compose project of its own on
# 127.0.0.1 ports Docker picks, removed at exit (also on failure or Ctrl-C). Every run is bounded.
# Default mix: only requests of the scaled service (redirect=100, create=100, stats=100, qr=100).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$KURZ_ROOT/bench/lib.sh"
# shellcheck source-path=SCRIPTDIR source=experiments/lib.sh
source "$KURZ_ROOT/bench/experiments/lib.sh"

usage() {
  sed -n '5,6s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
  echo "  --service NAME    redirect (default), links, stats or qr"
  echo "  --instances LIST  replica counts, comma-separated, including 1 (default 1,2,4)"
  echo "  --cpus C          CPU limit of every replica (default 0.25)"
  exp_usage_common
  echo "  --mix M           the load tool's mix (default: the service's own kind only)"
}

service=redirect instances=1,2,4 cpus=0.25 duration=20 warmup=5 conns=64 links=1000 mix=
while (($#)); do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --perf)
      command -v perf >/dev/null || usage_error "--perf needs perf (Debian package linux-perf)"
      exp_option --perf 1
      shift ;;
    --service | --instances | --cpus | --duration | --warmup | --connections | --links | --mix)
      (($# >= 2)) || usage_error "$1 needs a value"
      case $1 in
        --service) service=$2 ;;
        --instances) instances=$2 ;;
        --cpus) cpus=$2 ;;
        *) exp_option "$1" "$2" ;;
      esac
      shift 2 ;;
    *) usage_error "unknown argument '$1'" ;;
  esac
done
case $service in
  redirect) kind=redirect ;;
  links) kind=create ;;
  stats) kind=stats ;;
  qr) kind=qr ;;
  *) usage_error "--service must be redirect, links, stats or qr, got '$service'" ;;
esac
mix=${mix:-$kind=100}
[[ $instances =~ ^[0-9]+(,[0-9]+)*$ ]] || usage_error "--instances must look like 1,2,4"
mapfile -t ns < <(tr , '\n' <<<"$instances" | sort -n -u)
((ns[0] == 1)) || usage_error "--instances must include 1 (the efficiency is relative to N=1)"
((ns[${#ns[@]} - 1] <= 10)) || usage_error "at most 10 replicas (HAProxy's server-template has 10 slots)"
if ! [[ $cpus =~ ^[0-9]*\.?[0-9]+$ ]] || ! awk -v c="$cpus" 'BEGIN { exit !(c > 0 && c <= 64) }'; then
  usage_error "--cpus must be a positive number up to 64, got '$cpus'"
fi
exp_check_options

exp_init scaling
echo "bench/scaling.sh --service $service --instances $instances --cpus $cpus --duration $duration --warmup $warmup --connections $conns --links $links --mix $mix$( ((exp_perf)) && echo " --perf")" >"$run_dir/command.txt"
placement_override stage3 "$run_dir/placement.yml" "$service:$cpus"
ov=$run_dir/placement.yml

: >"$run_dir/scaling.dat"
rows=()
t1=
for n in "${ns[@]}"; do
  stack_up stage3 "$ov" --no-recreate --scale "$service=$n"
  if [[ -z ${edge:-} ]]; then
    lb=$(stack_ids stage3 haproxy | sed -n 1p)
    edge=$(published "$lb" 8080)
    stats=$(published "$lb" 8404)
    pin_docker_proxy "$edge" "$stats"
    say "edge $edge, HAProxy statistics $stats/stats"
  fi
  wait_backend "$stats" "$service" "$n" 90
  say "N=$n: HAProxy has $n $service servers UP"
  # The first run seeds the links and saves them; every later run loads the same codes (and checks
  # each redirect's target).
  if [[ -s $run_dir/codes.txt ]]; then
    codes=(--links 0 --codes "$run_dir/codes.txt")
  else
    codes=(--links "$links" --save-codes "$run_dir/codes.txt")
  fi
  measure "sat-$n" stage3 "$edge" "$stats" --mode saturate --mix "$mix" "${codes[@]}"
  rps=$(jq '.rps' "$run_dir/sat-$n.json")
  [[ -n $t1 ]] || t1=$rps
  rate=$(awk -v t="$t1" -v n="$n" 'BEGIN { printf "%.0f", t / 2 * n }')
  measure "rate-$n" stage3 "$edge" "$stats" --mode rate --rate "$rate" --mix "$mix" --links 0 \
    --codes "$run_dir/codes.txt"
  # Diagnostics: the replicas' CPU and throttling, the CPUs' busy share, HAProxy's queue/errors.
  read -r rep_cpu rep_periods rep_throttled rep_throttled_ms < <(jq -r --arg s "${service}_" '
    [.containers | to_entries[] | select(.key | startswith($s)) | .value] |
    "\(map(.cpu_s) | add * 100 | round / 100) \(map(.nr_periods) | add) \(map(.nr_throttled) | add) \(map(.throttled_ms) | add)"' \
    "$run_dir/sat-$n.sys.json")
  read -r busy0 busy1 < <(jq -r --arg e "${edge_cpus%%-*}" --arg a "$app_cpus" \
    '"\(.cpu_busy_pct[$e]) \(.cpu_busy_pct[$a])"' "$run_dir/sat-$n.sys.json")
  read -r qmax econ eresp < <(awk -F, -v b="$service" '
    NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    $c["pxname"] == b && $c["svname"] == "BACKEND" { print $c["qmax"] + 0, $c["econ"] + 0, $c["eresp"] + 0 }' \
    "$run_dir/sat-$n.haproxy.csv")
  host=$(jq -r '.host_cpu_s | "\(."load-tool" // 0) / \(."docker-proxy" // 0) / \((.dockerd // 0) + (.containerd // 0) | . * 100 | round / 100)"' \
    "$run_dir/sat-$n.sys.json")
  eff=$(awk -v t="$rps" -v t1="$t1" -v n="$n" 'BEGIN { printf "%.2f", t / (n * t1) }')
  elapsed=$(jq '.elapsed_s' "$run_dir/sat-$n.sys.json")
  requests=$(jq '.requests' "$run_dir/sat-$n.json")
  # CPU per request of the replicas (us): their CPU seconds over the run / requests measured+warm-up
  # (the run includes seeding and warm-up: an estimate).
  us_req=$(awk -v c="$rep_cpu" -v r="$requests" -v d="$duration" -v w="$warmup" \
    'BEGIN { printf "%.0f", c * 1e6 / (r * (d + w) / d) }')
  thr_pct=$(awk -v a="$rep_throttled" -v b="$rep_periods" 'BEGIN { printf "%.0f", b ? 100 * a / b : 0 }')
  rf() { fig "$run_dir/rate-$n.json" "$1"; }
  rate_cols="$rate | $(rf .rps) | $(rf .latency_ms.p50) | $(rf .latency_ms.p90) | $(rf .latency_ms.p99) | $(rf .errors)"
  rate_p99=$(jq '.latency_ms.p99' "$run_dir/rate-$n.json")
  sf() { fig "$run_dir/sat-$n.json" "$1"; }
  rows+=("| $n | $cpus | $(sf .rps) | $(sf .latency_ms.p50) | $(sf .latency_ms.p90) | $(sf .latency_ms.p99) | $(sf .errors) | **$eff** | $rate_cols |")
  diag+=("| $n | $busy0 | $busy1 | $rep_cpu | $us_req | $rep_throttled / $rep_periods ($thr_pct %) | $(printf '%.0f' "$rep_throttled_ms") | $host | $qmax | $econ / $eresp |")
  echo "$n $rps $(awk -v t="$t1" -v n="$n" 'BEGIN { print t * n }') $eff $(jq '.latency_ms | "\(.p50) \(.p90) \(.p99)"' -r "$run_dir/sat-$n.json") $rate_p99" >>"$run_dir/scaling.dat"
  jq -n --argjson n "$n" --argjson eff "$eff" --argjson rate "$rate" \
    --slurpfile sat "$run_dir/sat-$n.json" --slurpfile sys "$run_dir/sat-$n.sys.json" \
    --slurpfile fr "$run_dir/rate-$n.json" --slurpfile frsys "$run_dir/rate-$n.sys.json" \
    '{n: $n, efficiency: $eff, saturate: $sat[0], system: $sys[0], rate: $rate, fixed_rate: $fr[0],
      fixed_rate_system: $frsys[0]}' >"$run_dir/step-$n.json"
done
jq -s --arg svc "$service" --arg cpus "$cpus" --arg mix "$mix" --arg app "$app_cpus" --arg edge "$edge_cpus" \
  '{experiment: "scaling", service: $svc, cpus_per_replica: ($cpus | tonumber), mix: $mix,
    placement: {replicas_cpu: $app, edge_and_load_cpu: $edge}, steps: .}' "$run_dir"/step-*.json >"$run_dir/results.json"

plot scaling.gp scaling.png "svc='$service'" "cpus='$cpus'"

marathon_note=
if [[ -x $KURZ_ROOT/marathon/deploy ]]; then
  marathon_note="Marathon variant: needs a real Marathon cluster (on this machine marathon/deploy can only drive a stand-in, not a cluster to measure). With marathon/stage3/kurz.json deployed and the app's \`cpus\` set to $cpus: for each N, \`MARATHON_URL=http://<marathon>:8080 marathon/deploy scale /kurz/$service N\` (it follows the deployment to its end), then \`bench/load --base-url http://kurz.example --mode saturate --mix $mix --links $links\` against marathon-lb (vhost kurz.example on the public agent)."
fi

{
  echo "## Scaling: $service x N, $cpus CPU each (stage 3 stack, through HAProxy)"
  echo
  echo "| N | CPU/replica | saturation req/s | p50 ms | p90 ms | p99 ms | errors | efficiency | fixed rate req/s | achieved req/s | p50 ms | p90 ms | p99 ms | errors |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "Efficiency = throughput(N) / (N x throughput(1)); target >= 0.9 at 4 x 0.25 CPU. Fixed rate = half the N=1 maximum x N (open loop; latency from the scheduled send time)."
  echo
  echo "| N | CPU $edge_cpus busy % (edge, load) | CPU $app_cpus busy % (replicas) | replicas' CPU s | replica CPU us/request | throttled periods | throttled ms | load tool / docker-proxy / dockerd+containerd CPU s | HAProxy qmax | HAProxy econ / eresp |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${diag[@]}"
  echo
  echo "Saturation runs (warm-up ${warmup}s + ${duration}s, $conns connections, mix $mix, $links seeded links). CPU figures are deltas over the whole load-tool run (seeding, warm-up, measurement) from /proc/stat and the containers' cgroups (cpuacct.usage, cpu.stat)."
  echo "Placement: replicas of $service on CPU $app_cpus (cpuset), HAProxy, Redis, the other services, Prometheus on CPU $edge_cpus; load tool and docker-proxy pinned to CPU $edge_cpus (taskset)."
  [[ -n $marathon_note ]] && { echo; echo "$marathon_note"; }
  echo
  echo "Command: \`$(<"$run_dir/command.txt")\`"
  echo
  machine_md
} >"$run_dir/table.md"
cat "$run_dir/table.md"
say "results in ${run_dir#"$KURZ_ROOT"/}: table.md, scaling.png, results.json"

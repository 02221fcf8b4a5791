#!/usr/bin/env bash
# The stages experiment: the same load against stage 1 x2 (the in-memory monolith twice behind
# HAProxy), stage 2 x2 (the monolith twice with Redis) and stage 3 (the services), in one run.
#
#   bench/stages.sh [--duration S] [--warmup S] [--connections C] [--links N] [--mix M]
#                   [--verify-links N] [--verify-rounds R] [--perf]
#
# For each stage, one after the other (one stack at a time): up with its compose file, wait until
# HAProxy has both replicas UP, a verification pass through the balancer (bench/experiments/
# verify_links.py: create --verify-links links, look each up --verify-rounds times, count 404s for
# links that exist and 302s to another link's target), then bench/load --mode saturate with the
# mix, then --mode rate at half that stage's maximum, then down. Prints throughput, p50/p90/p99,
# the share of wrong redirects (verification pass, and 404s among the load tool's redirects) and
# the CPU figures.
#
# CPU placement (a compose override per stage, in the run directory): the kurz services (the
# monolith replicas; in stage 3 links, redirect, stats, qr, web) on the last CPU, HAProxy, Redis and
# Prometheus on the others with the load tool (taskset), which runs inside HAProxy's network
# namespace (nsenter -n: no docker-proxy on the load path). Compose CPU limits as
# in the stage files. Files: bench/results/stages-<timestamp>/ (table.md, stages.png,
# results.json, every run's JSON). 127.0.0.1 ports only; every stack removed at exit.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=experiments/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/experiments/lib.sh"

usage() {
  sed -n '5,6s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
  exp_usage_common
  echo "  --mix M           the load tool's mix (default redirect=90,create=3,stats=4,qr=3)"
  echo "  --verify-links N  links of the verification pass (default 100)"
  echo "  --verify-rounds R lookups of each (default 4)"
}

duration=20 warmup=5 conns=64 links=1000 mix=redirect=90,create=3,stats=4,qr=3
verify_links=100 verify_rounds=4
option() {
  case $1 in
    --verify-links) verify_links=$2 ;;
    --verify-rounds) verify_rounds=$2 ;;
    *) exp_option "$@" ;;
  esac
}
parse_options "--duration --warmup --connections --links --mix --verify-links --verify-rounds" --perf "$@"
check_count --verify-links "$verify_links" 1 10000
check_count --verify-rounds "$verify_rounds" 1 20
exp_check_options

exp_init stages
echo "bench/stages.sh --duration $duration --warmup $warmup --connections $conns --links $links --mix $mix --verify-links $verify_links --verify-rounds $verify_rounds$( ((exp_perf)) && echo " --perf")" >"$run_dir/command.txt"

# stage  label  HAProxy service  backend  replicas  kurz services (on the replicas' CPU)
stages=(
  "stage1-scaled|stage 1 x2 (memory)|lb|monolith|2|monolith"
  "stage2|stage 2 x2 (Redis)|lb|monolith|2|monolith"
  "stage3|stage 3 (services)|haproxy|redirect|2|links redirect stats qr web"
)
rows=() diag=()
: >"$run_dir/stages.dat"
i=0
for entry in "${stages[@]}"; do
  i=$((i + 1))
  stage_entry "$entry"
  say "$label: edge $edge, HAProxy has $replicas $backend servers UP; verification pass ..."
  ns_pid='' edge_plain=''
  split_url "$edge" ns_pid edge_plain
  ns=()
  [[ -z $ns_pid ]] || ns=(nsenter -t "$ns_pid" -n --)
  interruptible timeout 330 "${ns[@]}" taskset -c "$edge_cpus" /usr/bin/python3 \
    "$KURZ_ROOT/bench/experiments/verify_links.py" --base-url "$edge_plain" --links "$verify_links" \
    --rounds "$verify_rounds" --max-seconds 300 --out "$run_dir/verify-$stage.json" >/dev/null ||
    die "$label: the verification pass failed"
  say "$label: $(jq -r '"\(.lookups) lookups: \(.not_found) 404, \(.wrong_target) wrong target (share \(.wrong_share))"' "$run_dir/verify-$stage.json")"
  # --check every: the lesson of stage 1 x2 is the wrong redirects UNDER LOAD, every one counted.
  measure "sat-$stage" "$stage" "$edge" "$stats" --mode saturate --check every --mix "$mix" --links "$links" \
    --save-codes "$run_dir/codes-$stage.txt"
  rate=$(jq '.rps / 2 | round' "$run_dir/sat-$stage.json")
  measure "rate-$stage" "$stage" "$edge" "$stats" --mode rate --rate "$rate" --mix "$mix" --links 0 \
    --codes "$run_dir/codes-$stage.txt"
  stack_down "$stage"

  sat=$run_dir/sat-$stage.json sys=$run_dir/sat-$stage.sys.json ver=$run_dir/verify-$stage.json
  sf() { fig "$sat" "$1"; }
  # The load tool checks every redirect to the codes it seeded through the balancer.
  r404=$(jq -r '.redirects | if (.checked // 0) == 0 then "n/a" else
    "\(.wrong_share * 1000 | round / 10) % (\(.not_found) 404 + \(.wrong_target) wrong target of \(.checked))" end' "$sat")
  wrong=$(jq -r '"\(.wrong_share * 1000 | round / 10) % (\(.not_found) 404 + \(.wrong_target) wrong target of \(.lookups))" +
    (if .other > 0 then "; \(.other) other answers" else "" end) +
    (if .create_failed > 0 then "; \(.create_failed) of \(.links + .create_failed) creates failed \(.create_failed_by | tostring)" else "" end)' "$ver")
  rf() { fig "$run_dir/rate-$stage.json" "$1"; }
  rate_cols="$rate | $(rf .rps) | $(rf .latency_ms.p50) | $(rf .latency_ms.p90) | $(rf .latency_ms.p99)"
  rows+=("| $label | $(sf .rps) | $(sf .latency_ms.p50) | $(sf .latency_ms.p90) | $(sf .latency_ms.p99) | $(sf .errors) | $r404 | $wrong | $rate_cols |")
  app_s=$(jq -r --arg a "$app" '[.containers | to_entries[] | select(.key | sub("_[0-9]+$"; "") as $s | ($a | split(" ") | index($s)) != null) | .value.cpu_s] | add * 100 | round / 100' "$sys")
  thr=$(jq -r --arg a "$app" '[.containers | to_entries[] | select(.key | sub("_[0-9]+$"; "") as $s | ($a | split(" ") | index($s)) != null) | .value] | "\(map(.nr_throttled) | add) / \(map(.nr_periods) | add)"' "$sys")
  read -r _ edge_us _ _ lb_us _ < <(window_figs "$sys" none_ "${lbsvc}_")
  diag+=("| $label | $(jq -r --arg e "${edge_cpus%%-*}" '.cpu_busy_pct[$e]' "$sys") | $edge_us | $lb_us | $(jq -r --arg a "$app_cpus" '.cpu_busy_pct[$a]' "$sys") | $app_s | $thr | $(jq -r '.host_cpu_s | "\(."load-tool" // 0) / \(."docker-proxy" // 0) / \((.dockerd // 0) + (.containerd // 0) | . * 100 | round / 100)"' "$sys") |")
  printf '%d "%s" %s %s %s\n' "$i" "${label%% (*}" "$(jq -r '"\(.rps) \(.latency_ms.p50) \(.latency_ms.p99)"' "$sat")" \
    "$(jq '.wrong_share * 100' "$ver")" \
    "$(jq '.latency_ms.p99' "$run_dir/rate-$stage.json")" >>"$run_dir/stages.dat"
  jq -n --arg stage "$stage" --arg name "$label" --argjson rate "$rate" --slurpfile sat "$sat" \
    --slurpfile sys "$sys" --slurpfile ver "$ver" --slurpfile fr "$run_dir/rate-$stage.json" \
    '{stage: $stage, label: $name, saturate: $sat[0], system: $sys[0], verification: $ver[0],
      rate: $rate, fixed_rate: $fr[0]}' >"$run_dir/step-$i.json"
done
jq -s --arg mix "$mix" --arg app "$app_cpus" --arg edge "$edge_cpus" \
  '{experiment: "stages", mix: $mix, placement: {kurz_cpu: $app, edge_and_load_cpu: $edge}, stages: .}' \
  "$run_dir"/step-*.json >"$run_dir/results.json"

plot stages.gp stages.png

{
  echo "## Stages: the same load against stage 1 x2, stage 2 x2 and stage 3 (through HAProxy)"
  echo
  [[ -z $exp_busy_warning ]] || { echo "$exp_busy_warning"; echo; }
  echo "| stage | saturation req/s | p50 ms | p90 ms | p99 ms | errors | wrong redirects under load | wrong redirects (verification pass) | fixed rate req/s | achieved | p50 ms | p90 ms | p99 ms |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "Wrong redirects: a verification pass through the balancer before the load ($verify_links links with generated codes, each looked up $verify_rounds times in shuffled order): a 404 for a link that exists, or a 302 to another link's target. Wrong redirects under load: the load tool checks every redirect to the links it seeded through the balancer (404, or a Location that is not the link's target). Fixed rate: half of that stage's saturation throughput, open loop."
  echo
  echo "| stage | CPU $edge_cpus busy % (edge, load) | edge CPU us/request | HAProxy CPU us/request | CPU $app_cpus busy % (kurz) | kurz containers' CPU s | throttled periods | load tool / docker-proxy / dockerd+containerd CPU s |"
  echo "|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${diag[@]}"
  echo
  echo "Saturation runs: warm-up ${warmup}s + ${duration}s, $conns connections, mix $mix, $links seeded links. Placement: kurz services on CPU $app_cpus (cpuset; compose CPU limits as in the stage files: monolith 1.0 each, redirect 1.0 each, the other services 0.5), HAProxy, Redis, Prometheus on CPU $edge_cpus; the load tool on CPU $edge_cpus (taskset)."
  exp_table_end
} >"$run_dir/table.md"
exp_show stages.png

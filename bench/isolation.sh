#!/usr/bin/env bash
# The isolation experiment: "each service fails and scales on its own" as a number that fits on
# one machine. Redirects at a fixed rate (open loop) with and without a flood of QR renders, in
# stage 2 x2 (the monolith twice: QR codes and redirects share the processes and their CPU) and in
# stage 3 (QR in its own CPU-limited service): redirect p50/p99 without and with the flood in each.
#
#   bench/isolation.sh [--rate R] [--flood-connections C] [--qr-cpus C] [--duration S] [--warmup S]
#                      [--connections C] [--links N] [--perf]
#
# For each stage, one stack at a time: up (placement below), wait until HAProxy has the replicas
# UP, seed --links links, then
#   1. quiet:  bench/load --mode rate --rate R --mix redirect=100 (warm-up, then the window);
#   2. flood:  bench/load --mode saturate --mix qr=100 with --flood-connections connections in the
#              background (started first, running through the whole redirect run), and the same
#              redirect run as 1 beside it;
# then down. The table gives redirect p50/p99/max and errors without and with the flood, the ratio
# p99(flood) / p99(quiet) per stage (target for stage 3: <= 1.5; stage 2 beside it is the result,
# whatever it shows), the QR renders per second the flood got, and the CPU figures of the window.
# Both load tools run inside HAProxy's network namespace (nsenter -n: no docker-proxy).
#
# CPU placement (compose overrides in the run directory): kurz's services on the last CPU (stage 2:
# the two monoliths, cpus 1.0 each as in the stage file; stage 3: links, redirect, stats, web as in
# the stage file, qr limited to --qr-cpus), HAProxy, Redis, Prometheus and the load tools on the
# others. Files: bench/results/isolation-<timestamp>/ (table.md, isolation.png, isolation.dat,
# results.json, every run's JSON). 127.0.0.1 ports only; every stack removed at exit.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=experiments/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/experiments/lib.sh"

usage() {
  sed -n '7,8s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
  echo "  --rate R              redirects per second, open loop (default 200)"
  echo "  --flood-connections C connections of the QR flood, closed loop (default 16)"
  echo "  --qr-cpus C           stage 3: CPU limit of the qr service (default 0.3)"
  exp_usage_common
}

rate=200 flood_conns=16 qr_cpus=0.3 duration=20 warmup=5 conns=16 links=200 mix=redirect=100
option() {
  case $1 in
    --rate) rate=$2 ;;
    --flood-connections) flood_conns=$2 ;;
    --qr-cpus) qr_cpus=$2 ;;
    *) exp_option "$@" ;;
  esac
}
parse_options "--rate --flood-connections --qr-cpus --duration --warmup --connections --links" --perf "$@"
check_count --rate "$rate" 1 100000 "requests per second"
check_count --flood-connections "$flood_conns" 1 1024
check_cpus --qr-cpus "$qr_cpus"
exp_check_options

exp_init isolation
echo "bench/isolation.sh --rate $rate --flood-connections $flood_conns --qr-cpus $qr_cpus --duration $duration --warmup $warmup --connections $conns --links $links$( ((exp_perf)) && echo " --perf")" >"$run_dir/command.txt"

# flood <stage> <edge url> <codes file> <label>: the QR flood in the background, long enough to
# cover the redirect run beside it (its warm-up and window) with a margin; sets flood_pid.
flood() {
  local stage=$1 url=$2 codes=$3 label=$4
  # shellcheck disable=SC2030,SC2031 # the flood's own settings, in its subshell only
  (
    duration=$((warmup + duration + 6)) warmup=2 conns=$flood_conns
    run_load "$run_dir/$label.json" "$run_dir/$label.log" --base-url "$url" --mode saturate \
      --mix qr=100 --codes "$codes" --quiet 2>/dev/null
  ) &
  flood_pid=$!
  exp_child=$flood_pid
}

# stage  label  HAProxy service  backend  replicas  kurz services on the replicas' CPU[:cpus]
stages=(
  "stage2|stage 2 x2 (QR in the monolith)|lb|monolith|2|monolith"
  "stage3|stage 3 (QR in its own service)|haproxy|redirect|2|links redirect stats qr:$qr_cpus web"
)
rows=() diag=()
: >"$run_dir/isolation.dat"
i=0
for entry in "${stages[@]}"; do
  i=$((i + 1))
  stage_entry "$entry"
  say "$label: load to $edge ($exp_load_path)"
  # 1. Quiet: the redirects alone (this run seeds the links).
  measure "quiet-$stage" "$stage" "$edge" "$stats" --mode rate --rate "$rate" --mix "$mix" \
    --links "$links" --save-codes "$run_dir/codes-$stage.txt"
  # 2. The same redirects beside a QR flood.
  flood "$stage" "$edge" "$run_dir/codes-$stage.txt" "qrflood-$stage"
  sleep 2
  kill -0 "$flood_pid" 2>/dev/null || die "$label: the QR flood stopped at once (see $run_dir/qrflood-$stage.log)"
  measure "flood-$stage" "$stage" "$edge" "$stats" --mode rate --rate "$rate" --mix "$mix" \
    --links 0 --codes "$run_dir/codes-$stage.txt"
  wait "$flood_pid" || die "$label: the QR flood failed (see $run_dir/qrflood-$stage.log)"
  exp_child=
  stack_down "$stage"

  q=$run_dir/quiet-$stage.json f=$run_dir/flood-$stage.json fl=$run_dir/qrflood-$stage.json
  p99_ratio=$(ratio "$(jq .latency_ms.p99 "$f")" "$(jq .latency_ms.p99 "$q")")
  qr_rps=$(fig "$fl" .rps)
  qr_err=$(jq '.errors' "$fl")
  target=
  [[ $stage == stage3 ]] && target=" (target <= 1.5: $(awk -v r="$p99_ratio" 'BEGIN { print (r <= 1.5) ? "met" : "missed" }'))"
  rows+=("| $label | $(fig "$q" .latency_ms.p50) | $(fig "$q" .latency_ms.p99) | $(fig "$q" .latency_ms.max) | $(fig "$q" .errors) | $(fig "$f" .latency_ms.p50) | $(fig "$f" .latency_ms.p99) | $(fig "$f" .latency_ms.max) | $(fig "$f" .errors) | **$p99_ratio**$target | $qr_rps ($qr_err errors) |")
  read -r qb _ qa _ qh _ < <(window_figs "$run_dir/quiet-$stage.sys.json" none_ "${lbsvc}_")
  read -r fb _ fa _ _ _ < <(window_figs "$run_dir/flood-$stage.sys.json" none_ "${lbsvc}_")
  qr_thr=$(jq -r '[.containers | to_entries[] | select(.key | startswith("qr_")) | .value] |
    if length == 0 then "n/a" else "\(map(.nr_throttled) | add) / \(map(.nr_periods) | add)" end' "$run_dir/flood-$stage.sys.json")
  lb_flood_s=$(jq -r --arg h "${lbsvc}_" '[.containers | to_entries[] | select(.key | startswith($h)) | .value.cpu_s] | add // "n/a"' "$run_dir/flood-$stage.sys.json")
  diag+=("| $label | $(rnd "$qb") / $(rnd "$fb") | $(rnd "$qa") / $(rnd "$fa") | $(rnd "$qh") | $(rnd "$lb_flood_s" 2) s over $(jq .window_s "$run_dir/flood-$stage.sys.json") s | $qr_thr |")
  printf '%d "%s" %s %s %s %s\n' "$i" "${label%% (*}" "$(jq .latency_ms.p50 "$q")" "$(jq .latency_ms.p99 "$q")" \
    "$(jq .latency_ms.p50 "$f")" "$(jq .latency_ms.p99 "$f")" >>"$run_dir/isolation.dat"
  jq -n --arg stage "$stage" --arg name "$label" --argjson ratio "$p99_ratio" \
    --slurpfile q "$q" --slurpfile f "$f" --slurpfile fl "$fl" \
    --slurpfile qs "$run_dir/quiet-$stage.sys.json" --slurpfile fs "$run_dir/flood-$stage.sys.json" \
    '{stage: $stage, label: $name, p99_ratio_flood_quiet: $ratio, quiet: $q[0], flood: $f[0],
      qr_flood: $fl[0], quiet_system: $qs[0], flood_system: $fs[0]}' >"$run_dir/step-$i.json"
done
jq -s --argjson rate "$rate" --arg app "$app_cpus" --arg edge "$edge_cpus" --arg path "$exp_load_path" \
  --arg qr "$qr_cpus" --argjson fc "$flood_conns" \
  '{experiment: "isolation", rate: $rate, qr_cpus_stage3: ($qr | tonumber), flood_connections: $fc,
    load_path: $path, placement: {kurz_cpu: $app, edge_and_load_cpu: $edge},
    targets: {stage3_p99_ratio_max: 1.5}, stages: .}' "$run_dir"/step-*.json >"$run_dir/results.json"

plot isolation.gp isolation.png "rate='$rate'"

# shellcheck disable=SC2031 # the flood's subshell changed its own copies only
{
  echo "## Isolation: redirects at $rate req/s with and without a flood of QR renders"
  echo
  [[ -z $exp_busy_warning ]] || { echo "$exp_busy_warning"; echo; }
  echo "| stage | quiet p50 ms | quiet p99 ms | quiet max ms | errors | flood p50 ms | flood p99 ms | flood max ms | errors | p99 flood / quiet | QR renders/s of the flood |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "Redirects: bench/load --mode rate --rate $rate --mix redirect=100 (open loop, latency from the scheduled send time), warm-up ${warmup}s + ${duration}s, $conns connections, $links seeded links. Flood: bench/load --mode saturate --mix qr=100 (.svg and .png alternating), $flood_conns connections, running through the whole redirect run. Stage 2 x2: QR codes and redirects share the two monolith processes (cpus 1.0 each). Stage 3: QR in its own service, limited to $qr_cpus CPU; redirect, links, stats, web as in the stage file; all of kurz on CPU $app_cpus."
  echo
  echo "| stage | edge CPU busy % quiet / flood | kurz CPU $app_cpus busy % quiet / flood | HAProxy CPU us/request (quiet) | HAProxy CPU with the flood (redirects and QR) | qr throttled periods (flood) |"
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${diag[@]}"
  echo
  echo "Placement: kurz's services on CPU $app_cpus (cpuset), HAProxy, Redis, Prometheus and both load tools on CPU $edge_cpus."
  exp_table_end
} >"$run_dir/table.md"
exp_show isolation.png

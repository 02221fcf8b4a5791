#!/usr/bin/env bash
# The edge overhead experiment: the same redirect (GET /{code}) through HAProxy to kurz's redirect
# service, and through the same HAProxy configuration (docker/haproxy/stage3.cfg, same image, same
# limits) to nginx answering `return 302`, in the same run: the throughput ratio at saturation,
# then p99 at a fixed rate of half kurz's measured maximum, for both.
#
#   bench/edge.sh [--replicas 2] [--duration S] [--warmup S] [--connections C] [--links N] [--perf]
#
# One stage 3 stack with a compose override (written to the run directory) that adds a second
# HAProxy (`haproxy-nginx`, its own network) and nginx replicas (bench/experiments/nginx) that
# answer to the name `redirect` on that network: the HAProxy configuration is the very same file.
# nginx gets the same replica count, CPU limit and CPU as kurz's redirect (compose: cpus 1.0 each),
# one worker per replica. Placement: redirect and nginx replicas on the last CPU, both HAProxys,
# Redis, the other services and Prometheus on the others, with the load tool and docker-proxy
# (taskset). The load: bench/load --mix redirect=100; kurz seeds --links links and nginx gets the
# very same paths (--codes, without targets: nginx answers every path alike).
# Files: bench/results/edge-<timestamp>/ (table.md, edge.png, results.json, every run's JSON).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$KURZ_ROOT/bench/lib.sh"
# shellcheck source-path=SCRIPTDIR source=experiments/lib.sh
source "$KURZ_ROOT/bench/experiments/lib.sh"

usage() {
  sed -n '7s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
  echo "  --replicas N      redirect replicas, and nginx replicas (default 2)"
  exp_usage_common
}

replicas=2 duration=20 warmup=5 conns=64 links=1000 mix=redirect=100
while (($#)); do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --perf)
      command -v perf >/dev/null || usage_error "--perf needs perf (Debian package linux-perf)"
      exp_option --perf 1
      shift ;;
    --replicas | --duration | --warmup | --connections | --links)
      (($# >= 2)) || usage_error "$1 needs a value"
      if [[ $1 == --replicas ]]; then replicas=$2; else exp_option "$1" "$2"; fi
      shift 2 ;;
    *) usage_error "unknown argument '$1'" ;;
  esac
done
if ! [[ $replicas =~ ^[0-9]+$ ]] || ((replicas < 1 || replicas > 10)); then
  usage_error "--replicas must be 1..10"
fi
exp_check_options

exp_init edge
echo "bench/edge.sh --replicas $replicas --duration $duration --warmup $warmup --connections $conns --links $links$( ((exp_perf)) && echo " --perf")" >"$run_dir/command.txt"

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
kurz=$(published "$lb" 8080) kurz_stats=$(published "$lb" 8404)
nginx=$(published "$lbn" 8080) nginx_stats=$(published "$lbn" 8404)
pin_docker_proxy "$kurz" "$kurz_stats" "$nginx" "$nginx_stats"
wait_backend "$kurz_stats" redirect "$replicas" 90
wait_backend "$nginx_stats" redirect "$replicas" 90
expect_302 "$nginx/load0" "https://example.com/landing"
say "kurz edge $kurz, nginx edge $nginx: $replicas replicas each UP in HAProxy"

measure sat-kurz stage3 "$kurz" "$kurz_stats" --mode saturate --mix "$mix" --links "$links" \
  --save-codes "$run_dir/codes.txt"
awk '{ print $1 }' "$run_dir/codes.txt" >"$run_dir/codes-nginx.txt"
measure sat-nginx stage3 "$nginx" "$nginx_stats" --mode saturate --mix "$mix" --links 0 \
  --codes "$run_dir/codes-nginx.txt"
rate=$(jq '.rps / 2 | round' "$run_dir/sat-kurz.json")
measure rate-kurz stage3 "$kurz" "$kurz_stats" --mode rate --rate "$rate" --mix "$mix" --links 0 \
  --codes "$run_dir/codes.txt"
measure rate-nginx stage3 "$nginx" "$nginx_stats" --mode rate --rate "$rate" --mix "$mix" --links 0 \
  --codes "$run_dir/codes-nginx.txt"

tput_ratio=$(ratio "$(jq .rps "$run_dir/sat-kurz.json")" "$(jq .rps "$run_dir/sat-nginx.json")")
p99_ratio=$(ratio "$(jq .latency_ms.p99 "$run_dir/rate-kurz.json")" "$(jq .latency_ms.p99 "$run_dir/rate-nginx.json")")
verdict() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN { ok = (op == ">=") ? v >= t : v <= t; print ok ? "met" : "missed" }'; }

# Per-request CPU of each side's containers in its saturation run (us), from the cgroups.
cpu_us() { # <run> <container name prefix>
  jq -r --arg p "$2" --slurpfile l "$run_dir/$1.json" '
    [.containers | to_entries[] | select(.key | startswith($p)) | .value.cpu_s] | add as $s |
    ($l[0].requests * (($l[0].duration_s + $l[0].warmup_s) / $l[0].duration_s)) as $n |
    if $s == null or $n == 0 then "n/a" else ($s * 1e6 / $n | round) end' "$run_dir/$1.sys.json"
}
row() { # <label> <side>
  local s=$run_dir/sat-$2.json r=$run_dir/rate-$2.json
  echo "| $1 | $(fig "$s" .rps) | $(fig "$s" .latency_ms.p50) | $(fig "$s" .latency_ms.p90) | $(fig "$s" .latency_ms.p99) | $(fig "$s" .errors) | $(fig "$r" .rps) | $(fig "$r" .latency_ms.p50) | $(fig "$r" .latency_ms.p90) | $(fig "$r" .latency_ms.p99) | $(fig "$r" .latency_ms.max) | $(fig "$r" .errors) |"
}
diag() { # <label> <side> <backend prefix> <haproxy name>
  local y=$run_dir/sat-$2.sys.json
  echo "| $1 | $(jq -r --arg e "${edge_cpus%%-*}" '.cpu_busy_pct[$e]' "$y") | $(jq -r --arg a "$app_cpus" '.cpu_busy_pct[$a]' "$y") | $(cpu_us "sat-$2" "$3") | $(cpu_us "sat-$2" "$4_") | $(cpu_us "sat-$2" redis_) | $(jq -r '.host_cpu_s | "\(."load-tool" // 0) / \(."docker-proxy" // 0) / \((.dockerd // 0) + (.containerd // 0) | . * 100 | round / 100)"' "$y") |"
}

printf '1 kurz %s %s\n2 nginx %s %s\n' \
  "$(jq .rps "$run_dir/sat-kurz.json")" "$(jq .latency_ms.p99 "$run_dir/rate-kurz.json")" \
  "$(jq .rps "$run_dir/sat-nginx.json")" "$(jq .latency_ms.p99 "$run_dir/rate-nginx.json")" >"$run_dir/edge.dat"
plot edge.gp edge.png "rate='$rate'" "replicas='$replicas'"
jq -n --argjson rate "$rate" --argjson tr "$tput_ratio" --argjson pr "$p99_ratio" \
  --slurpfile sk "$run_dir/sat-kurz.json" --slurpfile sn "$run_dir/sat-nginx.json" \
  --slurpfile rk "$run_dir/rate-kurz.json" --slurpfile rn "$run_dir/rate-nginx.json" \
  --slurpfile yk "$run_dir/sat-kurz.sys.json" --slurpfile yn "$run_dir/sat-nginx.sys.json" \
  --arg app "$app_cpus" --arg edge "$edge_cpus" \
  '{experiment: "edge", placement: {replicas_cpu: $app, edge_and_load_cpu: $edge}, fixed_rate: $rate,
    throughput_ratio_kurz_nginx: $tr, p99_ratio_at_half_max: $pr,
    targets: {throughput_ratio_min: 0.8, p99_ratio_max: 2},
    kurz: {saturate: $sk[0], rate: $rk[0], system: $yk[0]},
    nginx: {saturate: $sn[0], rate: $rn[0], system: $yn[0]}}' >"$run_dir/results.json"

{
  echo "## Edge overhead: the same redirect through HAProxy to kurz and to nginx \`return 302\`"
  echo
  echo "| through HAProxy to | saturation req/s | p50 ms | p90 ms | p99 ms | errors | at $rate req/s: achieved | p50 ms | p90 ms | p99 ms | max ms | errors |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
  row "kurz redirect x$replicas" kurz
  row "nginx return 302 x$replicas" nginx
  echo
  echo "- throughput kurz / nginx: **$tput_ratio** (target >= 0.8: $(verdict "$tput_ratio" 0.8 '>='))"
  echo "- p99 at $rate req/s (half kurz's maximum, open loop), kurz / nginx: **$p99_ratio** (target <= 2: $(verdict "$p99_ratio" 2 '<='))"
  echo
  echo "| saturation run | CPU $edge_cpus busy % (edge, load) | CPU $app_cpus busy % (replicas) | replicas' CPU us/request | HAProxy CPU us/request | Redis CPU us/request | load tool / docker-proxy / dockerd+containerd CPU s |"
  echo "|---|---|---|---|---|---|---|"
  diag kurz kurz redirect_ haproxy
  diag nginx nginx nginx_ haproxy-nginx
  echo
  if [[ -s $run_dir/sat-kurz.redis.txt ]]; then
    echo "Redis's own count (INFO commandstats) over kurz's saturation run, per request answered, the costliest commands: $(awk '
      NR <= 5 { top = top sprintf("%s%s %.2f calls / %.1f us", (NR > 1 ? ", " : ""), toupper($1), $4, $5) }
      END { print top }' "$run_dir/sat-kurz.redis.txt") (EVALSHA is kurz-stats' batch script; the commands it runs count under their own names too) — the click stream (the redirect publishes, kurz-stats consumes and counts), which nginx does not have; Redis runs on CPU $edge_cpus with HAProxy."
    echo
  fi
  echo "Load: bench/load --mix redirect=100, warm-up ${warmup}s + ${duration}s, $conns connections; kurz seeded $links links (Zipf popularity) and nginx got the same paths. CPU per request: the containers' cgroup CPU over the whole load-tool run / the requests scaled to it (an estimate). Placement: redirect and nginx replicas on CPU $app_cpus (cpuset, cpus 1.0 each), both HAProxys, Redis, the other services and Prometheus on CPU $edge_cpus, the load tool and docker-proxy too (taskset)."
  echo
  echo "Command: \`$(<"$run_dir/command.txt")\`"
  echo
  machine_md
} >"$run_dir/table.md"
cat "$run_dir/table.md"
say "results in ${run_dir#"$KURZ_ROOT"/}: table.md, edge.png, results.json"

# shellcheck shell=bash disable=SC2034,SC2154 # globals are shared with the sourcing script
# Shared machinery of the experiments (bench/scaling.sh, bench/stages.sh, bench/edge.sh,
# bench/isolation.sh). Sourcing it sources bench/lib.sh and scripts/lib.sh; it defines functions
# only, and these globals:
#   run_dir    bench/results/<experiment>-<timestamp>/ (exp_init): every file of the run
#   edge_cpus  CPUs of HAProxy, Redis, Prometheus, docker-proxy and the load tool (exp_cpus)
#   app_cpus   CPUs of the measured replicas: the last CPU; the edge gets the others
#   duration warmup conns links   load settings (exp_option parses --duration, --warmup, ...)
# Every stack is a compose project of its own (exp-<experiment>-<random>), published on 127.0.0.1
# with ports Docker picks, and removed with its volumes at exit, failure or signal (exp_cleanup).
# The load tool is `bench/load` (KURZ_LOAD_CMD overrides it), always under `taskset -c $edge_cpus`;
# its progress goes to stderr and to <label>.log. It reaches HAProxy without Docker's userland
# proxy: edge_url gives "netns:<pid>:http://127.0.0.1:<port>" and run_load runs the tool inside
# that container's network namespace (`nsenter -t <pid> -n`), where it loads 127.0.0.1. The
# published ports stay for people (and the statistics page). Not root: the published port, said
# loudly and in every table (exp_load_path).

# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

exp_stacks=()  # "stage project overrides" of every stack started and not yet removed
exp_child=     # a background command to stop at exit (interruptible)
exp_cpu_shares=${KURZ_EXP_CPU_SHARES:-8192}  # CFS weight of every container of the stacks
exp_nice=${KURZ_EXP_NICE:--10}  # the load tool's niceness (root only; others' work runs at 0)
declare -A exp_built=()  # stages whose images this run has built (stack.sh up builds them)
exp_perf=0     # --perf: perf record -a (cpu-clock) during each measured run
exp_load_version=
exp_busy_warning=  # set by exp_init when the load average is above 1.5 at the start
exp_load_path=     # how the load reaches HAProxy (exp_init), for the tables

# exp_init <experiment>: the run directory, CPU placement, packages, cleanup trap, images.
exp_init() {
  exp_name=$1
  ensure_packages jq gnuplot-nox curl util-linux
  command -v docker >/dev/null || die "no docker CLI (Debian package docker.io)"
  docker info >/dev/null 2>&1 || die "the Docker engine does not answer (start dockerd)"
  exp_run_id=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
  run_dir=${KURZ_RESULTS_DIR:-$KURZ_ROOT/bench/results}/$exp_name-$(date -u +%Y%m%d-%H%M%S)
  mkdir -p "$run_dir"
  exp_cpus
  exp_loadavg0=$(cut -d' ' -f1-3 /proc/loadavg)
  if awk -v l="${exp_loadavg0%% *}" 'BEGIN { exit !(l > 1.5) }'; then
    say "WARNING: ****************************************************************************"
    say "WARNING: the load average is ${exp_loadavg0%% *} at the start (above 1.5): the machine is busy,"
    say "WARNING: the figures of this run measure that too. Publish only runs from a quiet machine."
    say "WARNING: ****************************************************************************"
    exp_busy_warning="**Warning: the load average was ${exp_loadavg0%% *} at the start (above 1.5): the machine was busy; these figures are not a result.**"
  fi
  if ((EUID == 0)) && command -v nsenter >/dev/null; then
    exp_load_path="inside HAProxy's network namespace (nsenter -n, 127.0.0.1:8080 there; no docker-proxy)"
  else
    exp_load_path="through the published 127.0.0.1 port (docker-proxy on every request: not root, no nsenter)"
    say "WARNING: not root (or no nsenter): the load goes through docker-proxy, the published port"
  fi
  trap exp_cleanup EXIT
  trap 'exit 130' INT TERM HUP
  exp_load_cmd
  say "run directory ${run_dir#"$KURZ_ROOT"/}; replicas on CPU $app_cpus, edge and load tool on CPU $edge_cpus"
}

# exp_cpus: the measured replicas get the last CPU, everything else the others (one CPU: both 0).
exp_cpus() {
  local n
  n=$(nproc)
  if ((n >= 2)); then
    app_cpus=$((n - 1))
    edge_cpus=$( ((n == 2)) && echo 0 || echo "0-$((n - 2))")
  else
    app_cpus=0 edge_cpus=0
    say "one CPU only: the replicas share it with HAProxy and the load tool"
  fi
}

exp_cleanup() {
  local rc=$? entry stage project ov
  [[ -n $exp_child ]] && kill "$exp_child" 2>/dev/null
  for entry in "${exp_stacks[@]}"; do
    read -r stage project ov <<<"$entry"
    [[ ${KURZ_EXP_KEEP:-0} == 1 ]] && { say "KURZ_EXP_KEEP=1: left $stage up (project $project)"; continue; }
    say "removing $stage (project $project) ..."
    KURZ_PROJECT=$project KURZ_COMPOSE_OVERRIDES=$ov "$KURZ_ROOT/scripts/docker/stack.sh" down "$stage" \
      >/dev/null 2>&1 || say "could not remove project $project: docker-compose -p $project down -v"
  done
  exp_stacks=()
  exit "$rc"
}

# exp_option <name> [value]: the options every experiment takes (the script's `option` hands them
# on; parse_options of bench/lib.sh reads the command line); returns 1 for an unknown name. Sets
# duration, warmup, conns, links, mix, exp_perf (--perf, no value). Validation: exp_check_options.
exp_option() {
  case $1 in
    --duration) duration=$2 ;;
    --warmup) warmup=$2 ;;
    --connections) conns=$2 ;;
    --links) links=$2 ;;
    --mix) mix=$2 ;;
    --perf)
      command -v perf >/dev/null || usage_error "--perf needs perf (Debian package linux-perf)"
      exp_perf=1 ;;
    *) return 1 ;;
  esac
}

exp_usage_common() {
  cat <<'EOF'
  --duration S      seconds measured per load run (default 20)
  --warmup S        seconds of warm-up load before each measured run (default 5)
  --connections C   connections of the load tool (default 64)
  --links N         links the load tool seeds through the API (default 1000)
  --perf            sample every CPU with perf (cpu-clock) in each measured run: <run>.perf.txt
                    has the CPU time by CPU and command, and by CPU, command and binary/kernel
EOF
}

exp_check_options() {
  local v
  for v in duration warmup conns links; do
    [[ ${!v} =~ ^[0-9]+$ ]] || usage_error "--${v/conns/connections} must be a whole number, got '${!v}'"
  done
  ((duration > 0 && duration <= 600)) || usage_error "--duration must be 1..600 s"
  ((warmup <= 300)) || usage_error "--warmup must be 0..300 s"
  ((conns > 0 && conns <= 4096)) || usage_error "--connections must be 1..4096"
  ((links > 0 && links <= 1000000)) || usage_error "--links must be 1..1000000"
  [[ $mix =~ ^[a-z]+=[0-9]+(,[a-z]+=[0-9]+)*$ ]] || usage_error "--mix must look like redirect=90,create=3"
}

# exp_load_cmd: bench/load (it builds kurz-load when missing); KURZ_LOAD_CMD overrides it.
exp_load_cmd() {
  if [[ -n ${KURZ_LOAD_CMD:-} ]]; then
    read -r -a load_cmd <<<"$KURZ_LOAD_CMD"
  else
    load_cmd=("$KURZ_ROOT/bench/load")
  fi
  [[ -x ${load_cmd[0]} ]] || command -v "${load_cmd[0]}" >/dev/null || die "no load tool ${load_cmd[0]}"
}

# --- stacks -----------------------------------------------------------------------------------

# stack_up <stage> <overrides> [compose up args...]: starts (or changes) a stack with the
# project of this run for that stage and waits until every container is healthy. The overrides
# (':'-separated compose files) are kept for later calls on the same stage.
stack_up() {
  local stage=$1 ov=$2 project entry found=0 no_build=0
  shift 2
  project=$(stack_project "$stage")
  for entry in "${exp_stacks[@]}"; do [[ $entry == "$stage $project "* ]] && found=1; done
  ((found)) || exp_stacks+=("$stage $project $ov")
  # The images of a stage are built once per run; later calls on it only change the stack.
  [[ -v exp_built[$stage] ]] && no_build=1
  say "stack $stage (project $project): up $*"
  KURZ_NO_BUILD=$no_build KURZ_PROJECT=$project KURZ_COMPOSE_OVERRIDES=$ov KURZ_HTTP_PORT='' KURZ_LB_STATS_PORT='' \
    KURZ_PROMETHEUS_PORT='' KURZ_RATE_LIMIT_CREATES=0 KURZ_UP_TIMEOUT=${KURZ_UP_TIMEOUT:-240} \
    interruptible "$KURZ_ROOT/scripts/docker/stack.sh" up "$stage" "$@" >>"$run_dir/stack.log" 2>&1 ||
    { tail -n 40 "$run_dir/stack.log" >&2; die "stack $stage did not come up (see $run_dir/stack.log)"; }
  exp_built[$stage]=1
}

# stack_down <stage>: removes the stack of this run for that stage (and forgets it).
stack_down() {
  local stage=$1 entry keep=() s p ov
  for entry in "${exp_stacks[@]}"; do
    read -r s p ov <<<"$entry"
    if [[ $s == "$stage" ]]; then
      say "removing $stage (project $p) ..."
      KURZ_PROJECT=$p KURZ_COMPOSE_OVERRIDES=$ov interruptible "$KURZ_ROOT/scripts/docker/stack.sh" \
        down "$stage" >>"$run_dir/stack.log" 2>&1 || say "could not remove project $p"
    else
      keep+=("$entry")
    fi
  done
  exp_stacks=("${keep[@]}")
}

# stage_edge <stage> <HAProxy service> <backend> <replicas> <kurz service[:cpus]...>: the stage's
# stack up with its placement (placement-<stage>.yml in the run directory: the kurz services on
# the replicas' CPU), until HAProxy has exactly <replicas> servers of <backend> UP. Sets lb
# (HAProxy's container), edge (its edge_url) and stats (its statistics page).
stage_edge() {
  local stage=$1 lbsvc=$2 backend=$3 replicas=$4
  shift 4
  placement_override "$stage" "$run_dir/placement-$stage.yml" "$@"
  stack_up "$stage" "$run_dir/placement-$stage.yml"
  lb=$(stack_ids "$stage" "$lbsvc" | sed -n 1p)
  edge=$(edge_url "$lb" 8080)
  stats=$(published "$lb" 8404)
  ops wait-backend "$stats" "$backend" "$replicas" 90
}

# stage_entry <"stage|label|HAProxy service|backend|replicas|kurz services">: one row of an
# experiment's table of stages: sets stage, label, lbsvc, backend, replicas and app (the kurz
# services, words, each [:cpus]) and brings the stage up (stage_edge).
stage_entry() {
  IFS='|' read -r stage label lbsvc backend replicas app <<<"$1"
  # shellcheck disable=SC2086 # the services are words
  stage_edge "$stage" "$lbsvc" "$backend" "$replicas" $app
}

# stack_project <stage>: the project name of this run for a stage.
stack_project() { echo "exp${exp_name//-/}${1//-/}$exp_run_id"; }

# stack_ids <stage> [service]: container ids of the stack (of one service).
stack_ids() {
  local entry s p ov
  for entry in "${exp_stacks[@]}"; do
    read -r s p ov <<<"$entry"
    [[ $s == "$1" ]] || continue
    KURZ_PROJECT=$p KURZ_COMPOSE_OVERRIDES=$ov "$KURZ_ROOT/scripts/docker/stack.sh" ps "$s" -q ${2:+"$2"} |
      grep -E '^[0-9a-f]{12,}$' || true
    return 0
  done
}

# published <container id> <container port>: http://127.0.0.1:<host port>.
published() {
  local hp
  hp=$(docker port "$1" "$2/tcp" | awk -F: '/^127\.0\.0\.1:/ { print $NF; exit }')
  [[ -n $hp ]] || die "container ${1:0:12} publishes no 127.0.0.1 port for $2"
  echo "http://127.0.0.1:$hp"
}

# edge_url <container id> <container port>: the URL the load tool uses for that container's port:
# "netns:<pid>:http://127.0.0.1:<port>" (run_load enters the network namespace of the container's
# first process), or the published port when this shell is not root.
edge_url() {
  local pid
  if ((EUID == 0)) && command -v nsenter >/dev/null; then
    pid=$(docker inspect -f '{{.State.Pid}}' "$1") || die "cannot inspect container ${1:0:12}"
    [[ $pid =~ ^[1-9][0-9]*$ ]] || die "container ${1:0:12} has no running process (pid '$pid')"
    echo "netns:$pid:http://127.0.0.1:$2"
  else
    local url
    url=$(published "$1" "$2")
    # docker-proxy carries every byte of the published port: on the edge CPUs with the load tool.
    pin_docker_proxy "$url"
    echo "$url"
  fi
}

# split_url <edge url> <pid var> <url var>: the namespace's pid (empty: none) and the plain URL.
split_url() {
  local u=$1 p=
  if [[ $u == netns:* ]]; then
    u=${u#netns:}
    p=${u%%:*}
    u=${u#*:}
  fi
  printf -v "$2" '%s' "$p"
  printf -v "$3" '%s' "$u"
}

# in_edge <edge url> <command...>: runs a command where the load tool runs (inside the namespace
# of a netns: URL); the command gets the plain URL in $EDGE_URL.
in_edge() {
  local pid url
  split_url "$1" pid url
  shift
  if [[ -n $pid ]]; then
    EDGE_URL=$url nsenter -t "$pid" -n -- "$@"
  else
    EDGE_URL=$url "$@"
  fi
}

# pin_docker_proxy <url...>: docker-proxy copies every byte between a published 127.0.0.1 port and
# the container; it is on the load path, so it goes to the edge CPUs like HAProxy, with the load
# tool's niceness.
pin_docker_proxy() {
  local url port pid
  for url in "$@"; do
    port=${url##*:}
    port=${port%%/*}
    for pid in $(ps -eo pid=,args= | awk -v p="$port" '$2 ~ /docker-proxy$/ && index($0, "-host-port " p " ") { print $1 }'); do
      taskset -a -pc "$edge_cpus" "$pid" >/dev/null || say "could not pin docker-proxy $pid"
      ((EUID == 0)) && { renice -n "$exp_nice" -p "$pid" >/dev/null || say "could not renice docker-proxy $pid"; }
    done
  done
}

# container_name <id>: the compose name without the project (redirect_1, haproxy_1).
container_name() {
  docker inspect -f '{{.Name}}' "$1" | sed -E 's|^/||; s|^[^_]+_||'
}

# stage_services <stage>: the services of the stage's compose file, in file order.
stage_services() {
  awk '/^services:/ { s = 1; next } /^[^ #]/ { s = 0 }
    s && /^  [a-z][a-z0-9_-]*:/ { sub(/^  /, ""); sub(/:.*/, ""); print }' "$KURZ_ROOT/$(ops stage-files "$1" | sed -n 1p)"
}

# placement_override <stage> <out.yml> <service[:cpus]...>: a compose override that puts the named
# services on the replicas' CPUs (with that CPU limit per replica when given) and every other
# service of the stage on the edge CPUs, and lifts the create rate limit (the load tool creates
# links from one client).
placement_override() {
  local stage=$1 out=$2 svc entry cpus
  shift 2
  local -A measured=()
  for entry in "$@"; do
    measured[${entry%%:*}]=
    [[ $entry == *:* ]] && measured[${entry%%:*}]=${entry#*:}
  done
  {
    echo "# Generated by bench/experiments/lib.sh (placement_override $stage $*): CPU placement"
    echo "# for the experiment. Measured replicas on CPU $app_cpus, the rest on CPU $edge_cpus."
    echo 'version: "2.4"'
    echo 'services:'
    for svc in $(stage_services "$stage"); do
      echo "  $svc:"
      # The machine is shared: a high CFS weight (default 1024) keeps other containers from
      # starving this stack below its CPU limits while it is measured; the limits still cap it.
      echo "    cpu_shares: $exp_cpu_shares"
      if [[ -v measured[$svc] ]]; then
        echo "    cpuset: \"$app_cpus\""
        cpus=${measured[$svc]}
        if [[ -n $cpus ]]; then echo "    cpus: $cpus"; fi
      else
        echo "    cpuset: \"$edge_cpus\""
      fi
      if [[ $svc == monolith || $svc == links ]]; then
        printf '    environment:\n      RATE_LIMIT_CREATES: "0"\n'
      fi
    done
  } >"$out"
}

# HAProxy's statistics: `ops haproxy-csv`, `ops haproxy-up`, `ops wait-backend` (scripts/kurzops).

# --- Redis ------------------------------------------------------------------------------------

# redis_commandstats <container id>: "command calls usec" of Redis's INFO commandstats.
redis_commandstats() {
  docker exec "$1" redis-cli INFO commandstats 2>/dev/null | tr -d '\r' |
    sed -nE 's/^cmdstat_([^:]+):calls=([0-9]+),usec=([0-9]+).*/\1 \2 \3/p'
}

# --- measuring --------------------------------------------------------------------------------

# cpu_times: "cpuN busy total" per CPU from /proc/stat (jiffies; busy excludes idle and iowait).
cpu_times() {
  awk '/^cpu[0-9]/ { t = 0; for (i = 2; i <= NF; i++) t += $i; print $1, t - $5 - $6, t }' /proc/stat
}

# host_times: "name ticks" of the Docker plumbing outside the containers: dockerd (it also copies
# every container's log lines into json-file), containerd and its shims, docker-proxy (every byte
# of a published port). Not pinned by us: their CPU shows where the machine's time went.
host_times() {
  # A process can exit between the glob and the read: cat fails then, harmlessly.
  { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk '
    { c = $2; gsub(/[()]/, "", c) }
    c == "dockerd" || c == "containerd" || c ~ /^containerd-shim/ || c == "docker-proxy" {
      if (c ~ /^containerd/) c = "containerd"; print $1 "/" c, $14 + $15 }'
}

# children_cpu <variable>: sets it to the CPU seconds (user + system) of this shell's finished
# children so far (`times`, in this shell: a subshell would count its own); the load tool's own CPU
# is the difference around its run (wrk included: kurz-load waits for it).
children_cpu() {
  times >"$run_dir/.times"
  printf -v "$1" '%s' "$(awk 'NR == 2 { t = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/)
    t += a[1] * 60 + a[2] }; printf "%.2f", t }' "$run_dir/.times")"
  rm -f "$run_dir/.times"
}

# cgroup_times <id...>: "id cpu_ns nr_periods nr_throttled throttled_ns" per container (cgroup v1
# cgroupfs layout, or v2 where it exists; missing files read as 0).
cgroup_times() {
  local id base ns stat
  for id in "$@"; do
    ns=0 stat=
    for base in /sys/fs/cgroup/cpuacct/docker/$id /sys/fs/cgroup/cpu,cpuacct/docker/$id; do
      [[ -r $base/cpuacct.usage ]] && { ns=$(<"$base/cpuacct.usage"); break; }
    done
    for base in /sys/fs/cgroup/cpu/docker/$id /sys/fs/cgroup/cpu,cpuacct/docker/$id \
      /sys/fs/cgroup/system.slice/docker-$id.scope; do
      [[ -r $base/cpu.stat ]] && { stat=$base/cpu.stat; break; }
    done
    if [[ -n $stat ]]; then
      awk -v id="$id" -v ns="$ns" '
        { v[$1] = $2 }
        END { if (ns == 0 && v["usage_usec"] != "") ns = v["usage_usec"] * 1000
              tt = (v["throttled_time"] != "") ? v["throttled_time"] : v["throttled_usec"] * 1000
              printf "%s %.0f %d %d %.0f\n", id, ns, v["nr_periods"], v["nr_throttled"], tt }' "$stat"
    else
      echo "$id $ns 0 0 0"
    fi
  done
}

# snapshot <prefix> <0|1> <redis id or empty> <container id...>: the system's counters at one end
# of a measured window: per-CPU times, Docker's host processes, the containers' cgroups, Redis's
# commandstats, and the wall clock.
snapshot() {
  local p=$1 end=$2 redis=$3
  shift 3
  echo "${EPOCHREALTIME/,/.}" >"$p.t$end"
  cpu_times >"$p.cpu$end"
  host_times >"$p.host$end"
  cgroup_times "$@" >"$p.cg$end"
  [[ -z $redis ]] || redis_commandstats "$redis" >"$p.redis$end"
}

# window_watch <prefix> <log> <deadline s> <redis id or empty> <container id...>: takes the window's
# snapshots when the load tool's log says "measured window: start" and "... end" (polls every
# 50 ms, bounded by the deadline). Runs in the background; measure() waits for it.
window_watch() {
  local p=$1 log=$2 deadline=$((SECONDS + $3)) end=0
  shift 3
  while ((SECONDS < deadline)); do
    if ((end == 0)) && grep -q 'measured window: start' "$log" 2>/dev/null; then
      snapshot "$p" 0 "$@"
      end=1
    elif ((end == 1)) && grep -q 'measured window: end' "$log" 2>/dev/null; then
      snapshot "$p" 1 "$@"
      return 0
    fi
    sleep 0.05
  done
  return 1
}

# measure <label> <stage> <edge url> <stats url or -> <load args...>: one run of the load tool
# (under taskset on the edge CPUs; inside HAProxy's network namespace for a netns: URL, see
# edge_url), with the system around it over the MEASURED WINDOW only (the tool marks its start
# and end; seeding and warm-up are left out, so that every CPU figure and Redis's commandstats
# cover the same window as the requests counted): per-CPU busy share and seconds, CPU seconds and
# CFS throttling of every container of the stage, Redis's commands per request, `docker stats`
# half way through, and HAProxy's statistics after. Files: <label>.json (the load tool's),
# <label>.sys.json, <label>.haproxy.csv, <label>.docker-stats.txt, <label>.redis.txt, <label>.log.
measure() {
  local label=$1 stage=$2 base=$3 stats=$4 out=$run_dir/$1
  shift 4
  local -a ids
  mapfile -t ids < <(stack_ids "$stage")
  local redis_id
  redis_id=$(stack_ids "$stage" redis | sed -n 1p)
  rm -f "$out".{t,cpu,host,cg,redis}[01] "$out.log"
  : >"$out.log"
  window_watch "$out" "$out.log" $((warmup + duration + 240)) "$redis_id" "${ids[@]}" &
  local watch_pid=$!
  (sleep $((warmup + duration / 2 + 1)) && timeout 20 docker stats --no-stream \
    --format 'table {{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.NetIO}}' >"$out.docker-stats.txt" 2>&1) &
  local stats_pid=$!
  local perf_pid=
  if ((exp_perf)); then
    # The measured part only: after seeding and warm-up (about), for most of the duration.
    (sleep $((warmup + 2)) && timeout $((duration + 20)) perf record -q -a -e cpu-clock -F 499 \
      -o "$out.perf.data" -- sleep $((duration > 4 ? duration - 3 : 1)) >/dev/null 2>&1) &
    perf_pid=$!
  fi
  say "$label: bench/load $* (progress in ${out#"$KURZ_ROOT"/}.log)"
  local t0=$SECONDS load_cpu0 load_cpu
  children_cpu load_cpu0
  run_load "$out.json" "$out.log" --base-url "$base" "$@" ||
    { kill "$stats_pid" "$watch_pid" 2>/dev/null; tail -n 20 "$out.log" >&2; die "$label: the load tool failed"; }
  local elapsed=$((SECONDS - t0))
  children_cpu load_cpu
  load_cpu=$(awk -v a="$load_cpu0" -v b="$load_cpu" 'BEGIN { printf "%.2f", b - a }')
  # The watcher has seen the end marker by now (or within its 50 ms poll) and is taking its last
  # snapshot (`docker exec redis-cli` can take seconds on a busy machine: up to 30 s); without
  # markers (a --quiet tool) the whole run is the window.
  local i
  for ((i = 0; i < 600; i++)); do kill -0 "$watch_pid" 2>/dev/null || break; sleep 0.05; done
  kill "$watch_pid" 2>/dev/null || true
  wait "$watch_pid" 2>/dev/null || true
  if [[ ! -s $out.cpu1 || ! -s $out.cpu0 ]]; then
    say "$label: no measured-window markers in the load tool's log: the figures cover its whole run"
    snapshot "$out" 1 "$redis_id" "${ids[@]}"
    [[ -s $out.cpu0 ]] || cp "$out.cpu1" "$out.cpu0"
  fi
  wait "$stats_pid" 2>/dev/null || true
  # Requests answered inside the measured window (the count the window's CPU is divided by).
  local window_requests
  window_requests=$(jq '(.rps * .duration_s) | round' "$out.json")
  if [[ -n $redis_id && -s $out.redis0 && -s $out.redis1 ]]; then
    # Redis's own count of what the window cost it: calls and CPU (usec) per command, per request.
    join -a 2 <(sort "$out.redis0") <(sort "$out.redis1") | awk -v n="$window_requests" '
      NF == 3 { $4 = $2; $5 = $3; $2 = 0; $3 = 0 }
      { c = $4 - $2; u = $5 - $3; if (c > 0 && n > 0) printf "%s %d %d %.3f %.2f\n", $1, c, u, c / n, u / n }' |
      sort -k3,3nr >"$out.redis.txt" || true
  fi
  rm -f "$out.redis0" "$out.redis1"
  if [[ -n $perf_pid ]]; then
    wait "$perf_pid" 2>/dev/null || true
    if [[ -s $out.perf.data ]]; then
      {
        echo "# perf record -a -e cpu-clock -F 499 during $label; share of all samples"
        echo "## by CPU and command"
        perf report -i "$out.perf.data" --sort cpu,comm --stdio -q 2>/dev/null | head -n 30 || true
        echo "## by CPU, command and binary ([kernel.kallsyms] = the kernel: network stack, scheduler)"
        perf report -i "$out.perf.data" --sort cpu,comm,dso --stdio -q 2>/dev/null | head -n 40 || true
      } >"$out.perf.txt"
      rm -f "$out.perf.data"
    fi
  fi
  [[ $stats == - ]] || ops haproxy-csv "$stats" >"$out.haproxy.csv"
  local id names=()
  for id in "${ids[@]}"; do names+=("$id=$(container_name "$id")"); done
  sys_json "$out" "$elapsed" "$load_cpu" "$window_requests" "${names[@]}" >"$out.sys.json"
  rm -f "$out".{t,cpu,host,cg}[01]
  local j=$out.json
  say "$label: $(jq -r '"\(.rps | floor) req/s, p50 \(.latency_ms.p50) ms, p99 \(.latency_ms.p99) ms, errors \(.errors)"' "$j"); CPU busy: $(jq -r '.cpu_busy_pct | to_entries | map("\(.key) \(.value)%") | join(", ")' "$out.sys.json")"
}

# sys_json <prefix> <elapsed s> <load tool CPU s> <window requests> <id=name...>: the deltas of
# measure() as JSON. Everything but elapsed_s and the load tool's CPU (its whole run: seeding,
# warm-up, measurement) covers the measured window: window_s, window_requests, cpu_busy_pct and
# cpu_busy_s per CPU, the containers' CPU, Docker's host processes.
sys_json() {
  local p=$1 elapsed=$2 load_cpu=$3 wreq=$4
  shift 4
  {
    echo "elapsed $elapsed"
    echo "window $(awk -v a="$(<"$p.t0")" -v b="$(<"$p.t1")" 'BEGIN { printf "%.3f", b - a }') $wreq"
    echo "host load-tool $load_cpu"
    join <(sort "$p.cpu0") <(sort "$p.cpu1") | awk -v hz="$(getconf CLK_TCK)" '{ t = $5 - $3
      printf "cpu %s %.1f %.3f\n", $1, (t > 0 ? 100 * ($4 - $2) / t : 0), ($4 - $2) / hz }'
    join <(sort "$p.cg0") <(sort "$p.cg1") | awk '{ printf "cg %s %.3f %d %d %.1f\n", $1, ($6 - $2) / 1e9, $7 - $3, $8 - $4, ($9 - $5) / 1e6 }'
    # Per process present at both ends (others' stacks come and go), summed by name.
    join <(sort "$p.host0") <(sort "$p.host1") | awk -v hz="$(getconf CLK_TCK)" '
      { split($1, pc, "/"); t[pc[2]] += $3 - $2 }
      END { for (c in t) printf "host %s %.2f\n", c, t[c] / hz }'
    if (($#)); then printf 'name %s\n' "$@"; fi
  } | awk '
    $1 == "elapsed" { el = $2 }
    $1 == "window" { win = $2; wreq = $3 }
    $1 == "host" { host[++nh] = sprintf("\"%s\": %s", $2, $3) }
    $1 == "cpu" { cpu[++nc] = sprintf("\"%s\": %s", substr($2, 4), $3); cpus[nc] = sprintf("\"%s\": %s", substr($2, 4), $4) }
    $1 == "cg" { cg[$2] = sprintf("\"cpu_s\": %s, \"nr_periods\": %d, \"nr_throttled\": %d, \"throttled_ms\": %s", $3, $4, $5, $6) }
    $1 == "name" { split($2, kv, "="); nm[kv[1]] = kv[2]; order[++nn] = kv[1] }
    END {
      printf "{\"elapsed_s\": %d, \"window_s\": %s, \"window_requests\": %d, \"cpu_busy_pct\": {", el, win, wreq
      for (i = 1; i <= nc; i++) printf "%s%s", (i > 1 ? ", " : ""), cpu[i]
      printf "}, \"cpu_busy_s\": {"
      for (i = 1; i <= nc; i++) printf "%s%s", (i > 1 ? ", " : ""), cpus[i]
      printf "}, \"host_cpu_s\": {"
      for (i = 1; i <= nh; i++) printf "%s%s", (i > 1 ? ", " : ""), host[i]
      printf "}, \"containers\": {"
      for (i = 1; i <= nn; i++) { id = order[i]
        printf "%s\"%s\": {\"id\": \"%s\", %s}", (i > 1 ? ", " : ""), nm[id], substr(id, 1, 12), cg[id] }
      print "}}" }'
}

# run_load <out.json> <log> <bench/load args...>: the load tool on the edge CPUs, bounded in time.
run_load() {
  local json=$1 log=$2
  shift 2
  rm -f "$json"
  # Seeding, warm-up and measurement: a generous bound, the tool stops by itself well before.
  local -a nice=()
  ((EUID == 0)) && nice=(nice -n "$exp_nice")
  # --base-url netns:<pid>:URL: the tool runs in that network namespace and loads URL there.
  local -a args=() ns=()
  local pid url
  while (($#)); do
    if [[ $1 == --base-url && $2 == netns:* ]]; then
      split_url "$2" pid url
      ns=(nsenter -t "$pid" -n --)
      args+=(--base-url "$url")
      shift 2
    else
      args+=("$1")
      shift
    fi
  done
  interruptible timeout $((warmup + duration + 180)) "${ns[@]}" "${nice[@]}" taskset -c "$edge_cpus" \
    "${load_cmd[@]}" "${args[@]}" --warmup "$warmup" --duration "$duration" --connections "$conns" \
    --out "$json" 2> >(tee "$log" >&2)
  [[ -s $json ]]
}

# --- reporting --------------------------------------------------------------------------------

# machine_md: the machine and software, as markdown lines.
machine_md() {
  local model
  model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
  echo "- machine: $(nproc) CPUs ($model), $(awk '/MemTotal/ { printf "%.1f GB", $2 / 1048576 }' /proc/meminfo) RAM, kernel $(uname -r); load average at the start $exp_loadavg0, at the end $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared: others' work shows here and in the CPU busy figures)"
  echo "- priority on the shared machine: every container of the stacks cpu_shares $exp_cpu_shares (Docker's default 1024), the load tool nice $exp_nice; dockerd and containerd are left alone"
  echo "- Docker $(docker version -f '{{.Server.Version}}' 2>/dev/null), $(docker info -f 'cgroup v{{.CgroupVersion}}, {{.CgroupDriver}}' 2>/dev/null), $(docker-compose version --short 2>/dev/null | sed 's/^/docker-compose /')"
  echo "- HAProxy $(docker run --rm "kurz/haproxy:${KURZ_TAG:-dev}" -v 2>/dev/null | awk 'NR == 1 { print $3 }') (kurz/haproxy image), load tool bench/load (kurz-load; saturation by $(wrk -v 2>&1 | awk 'NR == 1 { print $1, $2 }'))"
  # What was measured: the services, the images, the stacks and the load tool (others may edit
  # other parts of the tree meanwhile).
  local dirty
  dirty=$(git -C "$KURZ_ROOT" status --porcelain -- services platform health docker docker-compose.yml \
    'docker-compose.*.yml' scripts/docker bench 2>/dev/null | grep -v '^?? bench/results' | wc -l) || dirty=0
  echo "- commit $(git -C "$KURZ_ROOT" rev-parse --short HEAD 2>/dev/null)$( ((dirty == 0)) || echo " ($dirty uncommitted changes under services/, platform/, docker/, bench/ ...)"), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
}

# fig <json file> <jq path>: one figure, rounded (rps to an integer, ms to 2 decimals).
fig() {
  jq -r "$2 // \"n/a\" | if type == \"number\" then (if . >= 100 then (. + 0.5 | floor) else (. * 100 | round / 100) end) else . end" "$1"
}

# ratio <a> <b> [decimals]: a / b.
ratio() { awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN { if (b == 0) print "n/a"; else printf "%.*f\n", d, a / b }'; }

# plot <gnuplot script> <png> [var=value...]: renders a plot of the run (data files in run_dir).
plot() {
  local script=$1 png=$2 kv args=()
  shift 2
  for kv in "$@"; do args+=(-e "$kv"); done
  (cd "$run_dir" && gnuplot -e "out='$png'" "${args[@]}" "$KURZ_ROOT/bench/experiments/$script") ||
    die "gnuplot failed on $script"
  [[ -s $run_dir/$png ]] || die "gnuplot wrote no $png"
}

# --- per-request figures of a measured window ---------------------------------------------------

# cpu_list <list>: "0-2,4" -> "0 1 2 4".
cpu_list() {
  local part out=()
  IFS=, read -r -a parts <<<"$1"
  for part in "${parts[@]}"; do
    if [[ $part == *-* ]]; then
      local i
      for ((i = ${part%-*}; i <= ${part#*-}; i++)); do out+=("$i"); done
    else
      out+=("$part")
    fi
  done
  echo "${out[@]}"
}

# window_figs <sys.json> <replica container prefix> <haproxy container prefix>: one line,
#   edge_busy_pct edge_us replica_busy_pct replica_us haproxy_us redis_us
# over the measured window: the edge CPUs' mean busy share and their busy CPU time per request
# (everything on them: HAProxy, Redis, the load tool, the kernel's network work, Docker), the
# replica CPU's, the replicas' and HAProxy's containers' CPU time per request (cgroup cpuacct),
# Redis's container's. "n/a" where the window counted no request.
window_figs() {
  jq -r --arg edge "$(cpu_list "$edge_cpus")" --arg app "$(cpu_list "$app_cpus")" --arg r "$2" --arg h "$3" '
    .window_requests as $n |
    def us(s): if $n > 0 and s != null then (s * 1e6 / $n * 10 | round / 10) else "n/a" end;
    . as $root |
    def busy(l): [l | split(" ")[] | select(. != "") | $root.cpu_busy_pct[.] // 0] |
      (add / length * 10 | round / 10);
    def busy_s(l): [l | split(" ")[] | select(. != "") | $root.cpu_busy_s[.] // 0] | add;
    def cg(p): [.containers | to_entries[] | select(.key | startswith(p)) | .value.cpu_s] | add;
    "\(busy($edge)) \(us(busy_s($edge))) \(busy($app)) \(us(cg($r))) \(us(cg($h))) \(us(cg("redis_")))"' "$1"
}

# edge_bound <edge busy %>: "edge-bound" when the edge CPUs were more than 70 % busy (the step then
# measured the edge, not the replicas), else empty.
edge_bound() { awk -v b="$1" 'BEGIN { if (b + 0 > 70) print "edge-bound" }'; }

# stats3 <values...>: "median spread" of the numbers among them (spread = (max - min) / median, in
# %); "n/a n/a" when there is none.
stats3() {
  printf '%s\n' "$@" | grep -E '^-?[0-9]+(\.[0-9]+)?$' | sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "n/a n/a"; exit }
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%s %s\n", m, (m > 0 ? sprintf("%.0f", 100 * (v[NR] - v[1]) / m) : "n/a") }'
}

# rnd <value> [decimals]: a number rounded (0 decimals by default); anything else as it is.
rnd() { if [[ $1 =~ ^-?[0-9]+(\.[0-9]+)?$ ]]; then printf "%.${2:-0}f" "$1"; else printf '%s' "$1"; fi; }

# load_path_md: how the load reached HAProxy, for the tables.
load_path_md() { echo "- load path: the load tool ran $exp_load_path"; }

# exp_table_end [note]: the lines every table ends with: the load path, the note (a paragraph of
# its own, when given), the command of the run and the machine.
exp_table_end() {
  load_path_md
  [[ -z ${1:-} ]] || { echo; echo "$1"; }
  echo
  echo "Command: \`$(<"$run_dir/command.txt")\`"
  echo
  machine_md
}

# exp_show <plot png>: prints the run's table and says where its files are.
exp_show() {
  cat "$run_dir/table.md"
  say "results in ${run_dir#"$KURZ_ROOT"/}: table.md, $1, results.json"
}

#!/usr/bin/env bash
# scripts/swarm/cluster.sh <command>   a three-node Docker Swarm on this machine, for kurz
#   up        the node image (swarm/node, from debian:bookworm-slim), a private bridge network, the
#             registry (Debian's docker-registry), three nodes (one manager, two workers: each a
#             container running its own dockerd; containers, not machines), the Swarm, and the
#             kurz images pushed to the registry (`push`)
#   push [name...]   builds (if missing) and pushes kurz/<name>:$KURZ_TAG to the registry (all images
#             of swarm/kurz.yml when no name is given)
#   deploy    `docker stack deploy -c swarm/kurz.yml kurz` on the manager, then waits until every
#             service runs all its replicas, healthy
#   status    nodes, services and the URLs
#   url       the edge's URL (HAProxy on the manager, published on 127.0.0.1)
#   redis-failover   (kurz-ha.yml) kill the node of the Redis primary; a JSON line: time to a new
#             primary, acknowledged keys lost (must be 0), the old primary back as a replica
#   docker ARGS...   the docker CLI on the manager node (e.g. `cluster.sh docker service ls`)
#   down      removes everything `up` made: stack, nodes, their volumes, the registry, the network
# Every step is bounded in time (KURZ_SWARM_TIMEOUT s for `up` and `deploy`, default 300); when
# `up` fails half-way, what it made is removed (KURZ_SWARM_KEEP=1 keeps it for a look).
# Environment: KURZ_SWARM_NAME (kurz-swarm: prefix of every container, volume and the network),
# KURZ_TAG (dev), KURZ_SWARM_HTTP_PORT (8180), KURZ_SWARM_STATS_PORT (8184),
# KURZ_SWARM_PROMETHEUS_PORT (9190), KURZ_SWARM_REGISTRY_PORT (5050): host ports on 127.0.0.1,
# empty = Docker picks a free one. KURZ_SWARM_NODE_IMAGE (kurz/swarm-node:dev). KURZ_SWARM_STACK
# (kurz.yml): the stack file under swarm/ that `deploy` deploys (kurz-ha.yml: Redis failover).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
root=$KURZ_ROOT

usage() { sed -n '2,23s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2; exit 2; }

name=${KURZ_SWARM_NAME:-kurz-swarm}
[[ $name =~ ^[a-z][a-z0-9-]{0,30}$ ]] || { say "error: KURZ_SWARM_NAME must be [a-z][a-z0-9-]*, at most 31 characters"; exit 2; }
tag=${KURZ_TAG:-dev}
# The stack file under swarm/: kurz.yml, or kurz-ha.yml (Redis with replicas and Sentinel).
stack_file=${KURZ_SWARM_STACK:-kurz.yml}
[[ $stack_file =~ ^[a-z0-9-]+\.yml$ && -f $root/swarm/$stack_file ]] || { say "error: KURZ_SWARM_STACK: no file swarm/$stack_file"; exit 2; }
node_image=${KURZ_SWARM_NODE_IMAGE:-kurz/swarm-node:dev}
timeout_s=${KURZ_SWARM_TIMEOUT:-300}
label=org.kurz.swarm=$name
network=$name
registry=$name-registry
manager=$name-1
nodes=("$name-1" "$name-2" "$name-3")
stack=kurz
# Inside the cluster: the registry's DNS name on the bridge network (nodes trust it over plain HTTP).
registry_in=registry:5000

port_arg() { # port_arg <host port or empty> <container port>
  echo "127.0.0.1:${1}:$2"
}
host_port() { # host_port <container> <container port>: the 127.0.0.1 port it is published on
  docker port "$1" "$2/tcp" 2>/dev/null | sed -n 's/^127\.0\.0\.1:\([0-9]*\)$/\1/p' | head -n 1
}
mgr() { docker exec -i "$manager" docker "$@"; }
deadline=0
start_clock() { deadline=$((SECONDS + timeout_s)); }
# check_time: dies (in the main shell) once the bound is over; left: the seconds that remain, at
# least 1, for `timeout "$(left)" ...` (a die inside $(...) would only end the subshell).
check_time() { ((SECONDS < deadline)) || die "over the time bound of ${timeout_s}s (KURZ_SWARM_TIMEOUT)"; }
left() { local l=$((deadline - SECONDS)); echo $((l > 0 ? l : 1)); }

# Waits (bounded) until `docker info` answers in a node.
wait_engine() {
  local c=$1 until=$((SECONDS + 60))
  until docker exec "$c" docker info --format '{{.ID}}' >/dev/null 2>&1; do
    ((SECONDS < until)) || { docker logs --tail 30 "$c" >&2 || true; die "the engine in $c did not answer within 60 s"; }
    check_time
    sleep 0.5
  done
}

# The node's container: every capability but CAP_SYS_RESOURCE (not in this host's bounding set, so
# --privileged cannot start), no seccomp or AppArmor profile, /proc unmasked, a private cgroup
# namespace (the node's containers get cgroups below its own). Its dockerd trusts the registry.
start_node() {
  local c=$1 i=$2
  local -a publish=()
  if ((i == 1)); then
    publish=(-p "$(port_arg "${KURZ_SWARM_HTTP_PORT-8180}" 8080)" -p "$(port_arg "${KURZ_SWARM_STATS_PORT-8184}" 8404)"
      -p "$(port_arg "${KURZ_SWARM_PROMETHEUS_PORT-9190}" 9090)")
  fi
  docker run -d --name "$c" --hostname "$c" --label "$label" --label org.kurz.swarm.role=node \
    --network "$network" --cap-add ALL --cap-drop SYS_RESOURCE \
    --security-opt seccomp=unconfined --security-opt apparmor=unconfined --security-opt systempaths=unconfined \
    --cgroupns private --tmpfs /run --tmpfs /tmp \
    -v "$c-docker:/var/lib/docker" "${publish[@]}" \
    "$node_image" dockerd --insecure-registry "$registry_in" --log-level warn >/dev/null
}

node_ip() { docker inspect -f "{{(index .NetworkSettings.Networks \"$network\").IPAddress}}" "$1"; }

cmd_down() {
  local ids vols
  ids=$(docker ps -aq --filter "label=$label")
  if [[ -n $ids ]]; then
    say "removing the containers of $name ..."
    # shellcheck disable=SC2086
    docker rm -f -v $ids >/dev/null
  fi
  vols=$(docker volume ls -q --filter "label=$label")
  for v in "$name-1-docker" "$name-2-docker" "$name-3-docker" "$name-registry-data" $vols; do
    docker volume rm -f "$v" >/dev/null 2>&1 || true
  done
  if docker network inspect "$network" >/dev/null 2>&1; then
    docker network rm "$network" >/dev/null
  fi
  say "$name is down: no container, volume or network of it is left"
}

# The kurz images of the stack file, in file order.
stack_images() { grep -oE 'kurz/[a-z0-9-]+:' "$root/swarm/kurz.yml" | sed 's|kurz/||; s|:$||' | awk '!seen[$0]++'; }

cmd_push() {
  ((deadline > 0)) || start_clock
  local -a names
  if (($# > 0)); then names=("$@"); else mapfile -t names < <(stack_images); fi
  local rport n missing=()
  rport=$(host_port "$registry" 5000)
  [[ -n $rport ]] || die "the registry $registry is not running: run 'cluster.sh up' first"
  for n in "${names[@]}"; do
    docker image inspect "kurz/$n:$tag" >/dev/null 2>&1 || missing+=("$n")
  done
  if ((${#missing[@]} > 0)); then
    "$root/scripts/docker/base-image.sh"
    KURZ_TAG=$tag "$root/scripts/docker/build-images.sh" "${missing[@]}"
  fi
  # This engine trusts 127.0.0.0/8 registries over plain HTTP; the nodes reach the same registry as
  # registry:5000 on the cluster network. The repository names are the same.
  for n in "${names[@]}"; do
    docker tag "kurz/$n:$tag" "127.0.0.1:$rport/kurz/$n:$tag"
    timeout "$(left)" docker push -q "127.0.0.1:$rport/kurz/$n:$tag" >/dev/null ||
      die "pushing kurz/$n:$tag to the registry failed"
    docker rmi "127.0.0.1:$rport/kurz/$n:$tag" >/dev/null
    say "pushed kurz/$n:$tag to $registry_in"
  done
}

cmd_up() {
  start_clock
  command -v docker >/dev/null 2>&1 || die "docker is not installed (Debian package docker.io)"
  docker info >/dev/null 2>&1 || die "no Docker engine answers: start dockerd"
  if docker ps -aq --filter "label=$label" | grep -q .; then
    die "$name exists already: 'cluster.sh status', or 'cluster.sh down' first"
  fi
  local t0
  t0=$(now_ms)
  if [[ ${KURZ_SWARM_KEEP:-0} != 1 ]]; then
    trap 'rc=$?; if ((rc != 0)); then say "up failed: removing what it made"; cmd_down || true; fi' EXIT
    trap 'exit 130' INT TERM HUP
  fi
  "$root/scripts/docker/base-image.sh"
  say "building the node image $node_image (swarm/node) ..."
  local blog
  blog=$(mktemp /tmp/kurz-swarm-node-build.XXXXXX)
  if ! timeout "$(left)" docker build -t "$node_image" "$root/swarm/node" >"$blog" 2>&1; then
    tail -n 30 "$blog" >&2
    rm -f "$blog"
    die "building $node_image failed"
  fi
  rm -f "$blog"

  say "network $network, registry $registry, nodes ${nodes[*]} ..."
  docker network create --driver bridge --label "$label" "$network" >/dev/null
  docker run -d --name "$registry" --hostname registry --label "$label" --label org.kurz.swarm.role=registry \
    --network "$network" --network-alias registry -v "$name-registry-data:/var/lib/docker-registry" \
    -p "$(port_arg "${KURZ_SWARM_REGISTRY_PORT-5050}" 5000)" --health-cmd 'docker-registry --version' \
    "$node_image" registry >/dev/null
  local i
  for i in 1 2 3; do start_node "${nodes[i - 1]}" "$i"; done
  for i in 1 2 3; do wait_engine "${nodes[i - 1]}"; done

  check_time
  say "the Swarm: $manager manager, $name-2 and $name-3 workers ..."
  local mip token
  mip=$(node_ip "$manager")
  # Heartbeat 2 s (default 5 s): a node that stops answering is marked down within seconds.
  timeout "$(left)" docker exec "$manager" docker swarm init --advertise-addr "$mip" --dispatcher-heartbeat 2s --task-history-limit 3 >/dev/null
  token=$(timeout "$(left)" docker exec "$manager" docker swarm join-token -q worker)
  for i in 2 3; do
    timeout "$(left)" docker exec "${nodes[i - 1]}" docker swarm join --token "$token" "$mip:2377" >/dev/null
  done
  mgr node update --label-add kurz.redis=true "$manager" >/dev/null
  # swarm/kurz-ha.yml pins one Redis data node and one sentinel to each slot; slot 1 (the first
  # primary) is a worker, so that killing the primary's node leaves the manager running.
  for i in 1 2 3; do mgr node update --label-add "kurz.slot=$i" "${nodes[i % 3]}" >/dev/null; done
  local until=$((SECONDS + 60)) ready
  while :; do
    ready=$(mgr node ls --format '{{.Status}}' | grep -c '^Ready$' || true)
    ((ready == 3)) && break
    ((SECONDS < until)) || die "only $ready of 3 nodes Ready after 60 s"
    check_time
    sleep 0.5
  done

  check_time
  say "pushing the kurz images to the registry ..."
  cmd_push
  trap - EXIT INT TERM HUP
  say "$name is up in $((($(now_ms) - t0) / 1000)) s: 3 nodes Ready, images in $registry_in; next: cluster.sh deploy"
}

# Every service of the stack runs all its replicas, healthy, and no update is in progress:
# "name running/desired update-state" lines; fails on the first service that is not there yet.
converged() {
  local svc reps want have state
  mgr service ls --filter "label=com.docker.stack.namespace=$stack" --format '{{.Name}} {{.Replicas}}' |
    while read -r svc reps; do
      want=${reps#*/}
      want=${want%% *}
      have=$(mgr service ps "$svc" --filter desired-state=running --format '{{.CurrentState}}' | grep -c '^Running' || true)
      state=$(mgr service inspect -f '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}' "$svc")
      echo "$svc $have/$want ${state:-new}"
      ((have == want)) || return 1
      [[ $state != updating && $state != rollback_started ]] || return 1
    done
}

cmd_deploy() {
  start_clock
  docker inspect "$manager" >/dev/null 2>&1 || die "no cluster $name: run 'cluster.sh up' first"
  local t0 dir=/kurz
  t0=$(now_ms)
  docker exec "$manager" rm -rf "$dir"
  docker exec "$manager" mkdir -p "$dir"
  tar -C "$root/swarm" -c "$stack_file" haproxy.cfg prometheus.yml | docker exec -i "$manager" tar -C "$dir" -x
  say "docker stack deploy -c swarm/$stack_file $stack (KURZ_TAG=$tag) ..."
  local public
  public=${KURZ_PUBLIC_BASE_URL:-$(cmd_url | sed 's/127\.0\.0\.1/localhost/')}
  docker exec -w "$dir" -e KURZ_TAG="$tag" -e KURZ_RATE_LIMIT_CREATES="${KURZ_RATE_LIMIT_CREATES:-60}" \
    -e KURZ_PUBLIC_BASE_URL="$public" \
    "$manager" timeout "$(left)" docker stack deploy --prune -c "$stack_file" "$stack" >&2
  local out
  while ! out=$(converged); do
    if ((SECONDS >= deadline)); then
      printf '%s\n' "$out" >&2
      mgr service ps --no-trunc --filter desired-state=running "$(mgr stack services -q $stack)" >&2 || true
      die "the stack did not converge within ${timeout_s}s"
    fi
    sleep 1
  done
  # Healthy = the edge answers, and HAProxy has found (DNS, tasks.<service>) and checked at least
  # one server of every backend: converged tasks are not yet in HAProxy's view for a second or two.
  local url stats backend
  url=$(cmd_url)
  ops wait-http "$url/health/ready" 60 || die "$url/health/ready is not 200 after 60 s"
  stats="http://127.0.0.1:$(host_port "$manager" 8404)"
  for backend in links redirect stats qr web; do
    ops wait-backend-min "$stats" "$backend" 1 "$(left)" ||
      die "HAProxy has no $backend server UP within ${timeout_s}s ($stats/stats;csv)"
  done
  say "stack $stack converged in $((($(now_ms) - t0) / 1000)) s; open $url"
  echo "$url"
}

cmd_url() {
  local p
  p=$(host_port "$manager" 8080)
  [[ -n $p ]] || die "the manager $manager does not publish the edge: is the cluster up?"
  echo "http://127.0.0.1:$p"
}

cmd_status() {
  docker inspect "$manager" >/dev/null 2>&1 || { say "no cluster $name"; return 1; }
  echo "== nodes"
  mgr node ls
  echo "== services"
  mgr service ls
  echo "== urls (127.0.0.1 only)"
  echo "edge        $(cmd_url)"
  echo "haproxy     http://127.0.0.1:$(host_port "$manager" 8404)/stats"
  echo "prometheus  http://127.0.0.1:$(host_port "$manager" 9090)"
  echo "registry    http://127.0.0.1:$(host_port "$registry" 5000)/v2/_catalog"
}

(($# >= 1)) || usage
cmd=$1
shift
# The container of a service's running task, as "node container-id".
task_container() {
  local node
  node=$(mgr service ps "${stack}_$1" --filter desired-state=running --format '{{.Node}} {{.CurrentState}}' |
    awk '$2 == "Running" { print $1; exit }')
  [[ -n $node ]] || return 1
  echo "$node $(docker exec "$node" docker ps -q --filter "name=${stack}_$1.")"
}

# redis-failover (the kurz-ha.yml stack): writes 200 keys, each acknowledged by WAIT for both
# replicas, kills the node that runs the current primary (its container: the machine), waits for
# the sentinels to name a new primary, checks that every acknowledged key is on it, starts the
# node again and waits for the old primary to rejoin as a replica. One JSON line on stdout.
cmd_redis_failover() {
  start_clock
  local primary pnode sentinel snode scid i new t0 t_new keys=200 found role rejoined_s=null
  local -a ask
  for i in 1 2 3; do
    read -r snode scid < <(task_container "sentinel-$i") || continue
    [[ -n $scid ]] || continue
    ask=(docker exec "$snode" docker exec "$scid" redis-cli)
    primary=$("${ask[@]}" -p 26379 sentinel get-master-addr-by-name kurz | head -1)
    [[ -n $primary ]] && break
  done
  [[ -n ${primary:-} ]] || die "no sentinel answers (is swarm/kurz-ha.yml deployed? KURZ_SWARM_STACK=kurz-ha.yml $0 deploy)"
  read -r pnode _ < <(task_container "$primary") || die "no running task of $primary"
  [[ $pnode != "$manager" ]] || die "the primary $primary runs on the manager: killing it would stop the Swarm"
  # Ask a sentinel that is not on the node about to die.
  for i in 1 2 3; do
    read -r snode scid < <(task_container "sentinel-$i") || continue
    [[ $snode != "$pnode" && -n $scid ]] && { sentinel=sentinel-$i; break; }
  done
  [[ -n ${sentinel:-} ]] || die "no sentinel outside $pnode"
  ask=(docker exec "$snode" docker exec "$scid" redis-cli)
  { for i in $(seq "$keys"); do echo "SET kurz:failover:$i $i"; done; echo "WAIT 2 2000"; } |
    docker exec -i "$snode" docker exec -i "$scid" redis-cli -h "$primary" >/dev/null
  [[ $("${ask[@]}" -h "$primary" wait 2 2000) == 2 ]] || die "the writes did not reach both replicas"
  say "primary $primary on $pnode; $keys keys acknowledged by both replicas; killing $pnode (asking $sentinel on $snode) ..."
  t0=$(now_ms)
  docker kill "$pnode" >/dev/null
  while :; do
    new=$("${ask[@]}" -p 26379 sentinel get-master-addr-by-name kurz | head -1)
    [[ -n $new && $new != "$primary" ]] && break
    check_time
    sleep 0.2
  done
  t_new=$(($(now_ms) - t0))
  found=$("${ask[@]}" -h "$new" eval "return #redis.call('keys', 'kurz:failover:*')" 0)
  say "new primary $new after $((t_new / 1000)).$((t_new % 1000 / 100)) s: $found of $keys keys; starting $pnode again ..."
  docker start "$pnode" >/dev/null
  t0=$(now_ms)
  while :; do
    role=$("${ask[@]}" -h "$primary" role 2>/dev/null | head -1 || true)
    if [[ $role == slave ]]; then rejoined_s=$((($(now_ms) - t0) / 1000)); break; fi
    check_time
    sleep 1
  done
  printf '{"scenario":"swarm-redis-failover","killed_node":"%s","old_primary":"%s","new_primary":"%s","new_primary_after_ms":%d,"acknowledged_keys":%d,"keys_lost":%d,"old_primary_rejoined_as_replica_after_s":%s}\n' \
    "$pnode" "$primary" "$new" "$t_new" "$keys" $((keys - found)) "$rejoined_s"
  ((found == keys)) || die "$((keys - found)) acknowledged keys lost"
}

case $cmd in
  up) (($# == 0)) || usage; cmd_up ;;
  down) (($# == 0)) || usage; cmd_down ;;
  push) cmd_push "$@" ;;
  deploy) (($# == 0)) || usage; cmd_deploy ;;
  status) (($# == 0)) || usage; cmd_status ;;
  url) (($# == 0)) || usage; cmd_url ;;
  docker) mgr "$@" ;;
  redis-failover) (($# == 0)) || usage; cmd_redis_failover ;;
  -h | --help | help) usage ;;
  *) say "error: unknown command '$cmd'"; usage ;;
esac

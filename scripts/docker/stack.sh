#!/usr/bin/env bash
# scripts/docker/stack.sh <command> <stage> [args...]
#   up    <stage> [compose up args, e.g. --scale monolith=3]
#           makes the base image if needed, builds the stage's images (docker/<name>.Dockerfile
#           for every `image: kurz/<name>` of its compose file), starts the stack, waits until
#           every container is running and healthy (at most KURZ_UP_TIMEOUT s, default 180), and
#           prints the URL
#   down  <stage>            stops and removes the stack, its network and its volumes
#   ps    <stage>            the stack's containers
#   logs  <stage> [args]     their logs (e.g. -f, --tail=50, a service name)
#   build <stage>            only the base image and the images
#   url   <stage>            the URL of the edge (HAProxy, or the monolith in stage1)
# Stages: stage1 (monolith), stage1-scaled (monolith x2 behind HAProxy), stage2, stage3,
# stage3-ha (stage 3 with a Redis primary, two replicas and three sentinels: docker-compose.yml
# merged with docker-compose.ha.yml).
# Uses `docker compose` (v2) when present, else `docker-compose` (1.29); KURZ_COMPOSE overrides.
# KURZ_PROJECT names the compose project (default kurz-<stage>): tests use a unique one per run.
# KURZ_HTTP_PORT: host port of the edge on 127.0.0.1 (default 8080; empty: Docker picks one).
# KURZ_COMPOSE_OVERRIDES: extra compose files (':'-separated, relative to the repository root),
# merged over the stage's file in order (the experiments of bench/ pin CPUs this way).
# KURZ_NO_BUILD=1: `up` skips the image builds (a stack changed again in the same run).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
here=$KURZ_ROOT/scripts/docker
root=$KURZ_ROOT
usage() { sed -n '2,20s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2; exit 2; }

(($# >= 2)) || usage
cmd=$1 stage=$2
shift 2
# The stage's compose files (the first is the stage's own, the others merged over it) and the
# compose command: the operations library (scripts/kurzops/compose.py) holds both.
stage_files=$(ops stage-files "$stage") || exit 1
mapfile -t files <<<"$stage_files"
file=${files[0]}
stage_overrides=()
for f in "${files[@]:1}"; do stage_overrides+=(-f "$f"); done
for f in "${files[@]}"; do [[ -f $root/$f ]] || die "$f does not exist yet"; done
compose_words=$(ops compose-command) || exit 1
read -r -a compose <<<"$compose_words"
project=${KURZ_PROJECT:-kurz-$stage}
overrides=()
if [[ -n ${KURZ_COMPOSE_OVERRIDES:-} ]]; then
  IFS=: read -r -a extra <<<"$KURZ_COMPOSE_OVERRIDES"
  for f in "${extra[@]}"; do
    [[ -f $root/$f || -f $f ]] || die "KURZ_COMPOSE_OVERRIDES: no file $f"
    overrides+=(-f "$f")
  done
fi
dc() { (cd "$root" && "${compose[@]}" -p "$project" -f "$file" "${stage_overrides[@]}" "${overrides[@]}" "$@"); }

# kurz images of the stage, in file order; each is built from docker/<name>.Dockerfile.
stage_images() { grep -oE '^[[:space:]]+image:[[:space:]]*kurz/[a-z0-9-]+' "$root/$file" | sed 's|.*kurz/||' | awk '!seen[$0]++'; }

build() {
  "$here/base-image.sh"
  local -a names
  mapfile -t names < <(stage_images)
  ((${#names[@]} == 0)) || "$here/build-images.sh" "${names[@]}"
}

# The published edge: the first service that publishes container port 8080.
url() {
  local svc hostport
  for svc in $(dc config --services); do
    hostport=$(dc port "$svc" 8080 2>/dev/null | head -n 1) || continue
    [[ -n $hostport && $hostport != *:0 ]] && { echo "http://$hostport"; return 0; }
  done
  return 1
}

wait_healthy() {
  local timeout=${KURZ_UP_TIMEOUT:-180} start=$SECONDS id state pending bad ids
  while :; do
    ids=$(dc ps -q)
    [[ -n $ids ]] || die "no container was started"
    pending=0 bad=
    for id in $ids; do
      state=$(docker inspect -f '{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$id")
      case $state in
        *" running healthy" | *" running none") ;;
        *" running starting") pending=$((pending + 1)) ;;
        *) bad+="${bad:+, }${state#/}" ;;
      esac
    done
    if [[ -n $bad ]]; then
      dc ps >&2 || true
      dc logs --tail=30 >&2 || true
      die "not healthy: $bad"
    fi
    ((pending == 0)) && return 0
    if ((SECONDS - start >= timeout)); then
      dc ps >&2 || true
      die "still starting after ${timeout}s"
    fi
    sleep 0.5
  done
}

case $cmd in
  up)
    [[ ${KURZ_NO_BUILD:-0} == 1 ]] || build
    say "starting $stage (project $project, $file) ..."
    t0=$SECONDS
    dc up -d --no-build "$@"
    wait_healthy
    say "$stage is up and healthy after $((SECONDS - t0))s"
    dc ps
    u=$(url) && say "open $u" && echo "$u"
    ;;
  down)
    dc down --volumes --remove-orphans --timeout 30 "$@"
    ;;
  ps) dc ps "$@" ;;
  logs) dc logs "$@" ;;
  build) build ;;
  url) url ;;
  *) usage ;;
esac

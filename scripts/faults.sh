#!/usr/bin/env bash
# scripts/faults.sh [options] [scenario...]   fault injection under load against the stage 3 stack
# Scenarios (default: all, in this order):
#   sigterm-redirect   SIGTERM to one redirect replica                  bound: 0 failed
#   sigkill-redirect   SIGKILL to one of 3 redirect replicas            bound: <= 20 failed, out of HAProxy <= 2 s
#   redis-outage       Redis stopped for 10 s                           bounds: no restart, readiness 503 and
#                      liveness 200, cached redirects 302 (>= 90 % of those cached by one replica only),
#                      ready <= 5 s after Redis returns, clicks exact
#   redis-aof          SIGKILL to Redis, restarted from its AOF         bound: every link created before resolves
#   stats-kill         SIGKILL to stats mid-stream, restarted           bound: clicks counted == served
#   haproxy-reload     master-worker reload (SIGUSR2) of HAProxy        bound: 0 failed
#   compose-restart    `docker-compose restart` of the whole stack      bounds: no link, no click lost
# Against stage3-ha (Redis primary, 2 replicas, 3 sentinels; run it alone, it is not in "all"):
#   redis-failover     SIGKILL to the Redis primary, Sentinel promotes a replica
#                      bounds: creates succeed again <= 10 s after the kill, 0 acknowledged links
#                      lost, 0 clicks lost, 0 counted twice, every redirect answered (cached links)
# While each runs, bench/load --mode rate sends the default mix (redirect 90, create 3, stats 4,
# qr 3) at --rate, from inside HAProxy's network namespace (nsenter -n, 127.0.0.1:8080 there: no
# docker-proxy on the load path; needs root) except in compose-restart, where HAProxy's container
# restarts under the load (the published port then); each line says which (load_path=). Each prints one line: sent, failed by kind, time until whole again, links and
# clicks lost, and its bounds. Exit 0: every bound met; 1: one missed or a step failed; 2: usage.
# Options: --rate R (150 req/s), --connections C (16), --duration S (12: base seconds of load per
#   scenario), --json FILE (every figure), --keep (leave the stack up).
# The stack: KURZ_PROJECT (default kurz-faults). Already up: it is used and left up. Else it is
# brought up (scripts/docker/stack.sh up stage3, or stage3-ha, on free host ports, KURZ_HTTP_PORT etc. override;
# creates not rate limited) and taken down at the end unless --keep.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
usage() { sed -n '2,27s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2; exit 2; }

keep=0
stage=stage3
args=()
while (($#)); do
  case $1 in
    -h | --help) usage ;;
    --keep) keep=1 ;;
    --rate | --connections | --duration | --json)
      (($# >= 2)) || { say "error: $1 needs a value"; exit 2; }
      args+=("$1" "$2")
      shift
      ;;
    -*) say "error: unknown option $1"; exit 2 ;;
    redis-failover) stage=stage3-ha args+=("$1") ;;
    *) args+=("$1") ;;
  esac
  shift
done

python=/usr/bin/python3
[[ -x $python ]] || python=$(command -v python3) || die "python3 is missing (Debian package python3)"
command -v docker >/dev/null 2>&1 || die "docker is missing (Debian packages docker.io docker-compose)"
compose=$(ops compose-command) || exit 1
# The load tool (built here when missing), and usage errors before anything starts.
"$KURZ_ROOT/bench/load" --help >/dev/null 2>&1 || die "bench/load does not run (see bench/load --help)"
# A private copy of the binary: a rebuild of the tree during the run cannot take it away.
load_bin=$(ops load-tool) || exit 1
private=$(mktemp -d)
cp "$load_bin" "$private/kurz-load"
export KURZ_LOAD=$private/kurz-load
"$python" "$KURZ_ROOT/scripts/faults/faults.py" --project x --compose x --check-usage "${args[@]}" || exit $?

export KURZ_PROJECT=${KURZ_PROJECT:-kurz-faults}
export KURZ_RATE_LIMIT_CREATES=${KURZ_RATE_LIMIT_CREATES:-0}
export KURZ_COMPOSE=$compose
stack=$KURZ_ROOT/scripts/docker/stack.sh
if [[ -z $(docker ps -q --filter "label=com.docker.compose.project=$KURZ_PROJECT" --filter label=com.docker.compose.service=haproxy) ]]; then
  # Fixed host ports (free now), so that they stay the same across the restart of the stack.
  KURZ_HTTP_PORT=${KURZ_HTTP_PORT:-$(ops free-port)}
  KURZ_LB_STATS_PORT=${KURZ_LB_STATS_PORT:-$(ops free-port)}
  KURZ_PROMETHEUS_PORT=${KURZ_PROMETHEUS_PORT:-$(ops free-port)}
  export KURZ_HTTP_PORT KURZ_LB_STATS_PORT KURZ_PROMETHEUS_PORT
  say "bringing up $stage as project $KURZ_PROJECT ..."
  down() {
    rm -rf "$private"
    ((keep)) && { say "--keep: $KURZ_PROJECT left up"; return; }
    "$stack" down "$stage" >/dev/null 2>&1 || true
  }
  trap down EXIT
  trap 'exit 130' INT TERM
  "$stack" up "$stage" --scale redirect=3 >/dev/null
else
  trap 'rm -rf "$private"' EXIT
  say "using the running stack $KURZ_PROJECT (left up)"
fi
rc=0
"$python" "$KURZ_ROOT/scripts/faults/faults.py" --project "$KURZ_PROJECT" --compose "$compose" --stage "$stage" \
  "${args[@]}" || rc=$?
exit $rc

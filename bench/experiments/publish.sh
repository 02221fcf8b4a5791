#!/usr/bin/env bash
# bench/experiments/publish.sh [--as NAME] <run directory>...: copies what a run of bench/scaling.sh,
# bench/stages.sh or bench/edge.sh measured into docs/results/<experiment or NAME>/ (replacing what was
# there): the table, the plot, results.json (every load run's JSON and the system figures), the
# gnuplot data, the compose override (the CPU placement), the command, HAProxy's statistics and
# `docker stats` of each load run. The progress logs and the seeded codes stay behind.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../../scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"

as=
if [[ ${1:-} == --as ]]; then
  [[ ${2:-} =~ ^[a-z0-9][a-z0-9-]*$ ]] || { echo "publish.sh: --as needs a name (a-z, 0-9, -)" >&2; exit 2; }
  as=$2
  shift 2
fi
(($# >= 1)) || { echo "usage: bench/experiments/publish.sh [--as NAME] <bench/results/<experiment>-<timestamp>>..." >&2; exit 2; }
for run in "$@"; do
  [[ -f $run/results.json && -f $run/table.md ]] || { say "error: $run is not a finished run (no results.json/table.md)"; exit 2; }
  name=$(basename "$run")
  exp=${as:-${name%%-*}}
  dest=$KURZ_ROOT/docs/results/$exp
  rm -rf "$dest"
  mkdir -p "$dest"
  cp "$run"/table.md "$run"/results.json "$run"/command.txt "$dest"/
  for f in "$run"/*.png "$run"/*.dat "$run"/*.yml "$run"/*.cfg "$run"/*.haproxy.csv \
    "$run"/*.docker-stats.txt "$run"/*.perf.txt "$run"/*.redis.txt; do
    [[ -e $f ]] && cp "$f" "$dest"/
  done
  echo "$name" >"$dest/run.txt"
  say "published $name -> ${dest#"$KURZ_ROOT"/}"
done

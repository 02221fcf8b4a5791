#!/usr/bin/env bash
# scripts/docker/build-images.sh <name>...   builds kurz/<name>:$KURZ_TAG from docker/<name>.Dockerfile
# One at a time, on purpose: every Dockerfile starts with the same build stage, so the first image
# compiles the code and the others reuse its cached layers (built in parallel, each would compile).
# Environment: KURZ_TAG (dev; a version-like tag is also the image's version, below), KURZ_CONTEXT (the repository root; any folder with the same layout,
# e.g. a `git archive` export), KURZ_BUILD_LOGS (folder for the full build logs; default a temp
# folder that is removed). Prints each image's size and build time.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

root=$KURZ_ROOT
context=${KURZ_CONTEXT:-$root}
tag=${KURZ_TAG:-dev}

(($# > 0)) || die "usage: build-images.sh <name>... (docker/<name>.Dockerfile)"
docker info >/dev/null 2>&1 || die "no Docker engine answers: start dockerd"
docker image inspect debian:bookworm-slim >/dev/null 2>&1 ||
  die "no debian:bookworm-slim image: run scripts/docker/base-image.sh first"

version=$(sed -n 's/^project(kurz VERSION \([0-9.]*\).*/\1/p' "$context/CMakeLists.txt" | head -n 1)
# A tag that is a version (0.2.0, v0.2.0, 0.3.0-rc1) is the image's version: the services report it
# in /info and their `ready` log line (KURZ_VERSION), so a rolling update is visible task by task.
# Other tags (dev) keep CMakeLists.txt's version.
if [[ $tag =~ ^v?[0-9][A-Za-z0-9._+-]*$ ]]; then
  version=${tag#v}
fi
revision=$(git -C "$root" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
git -C "$root" diff --quiet HEAD 2>/dev/null || revision="$revision-dirty"
source_url=$(git -C "$root" remote get-url origin 2>/dev/null || true)
logs=${KURZ_BUILD_LOGS:-}
if [[ -z $logs ]]; then
  logs=$(mktemp -d /tmp/kurz-build.XXXXXX)
  trap 'rm -rf "$logs"' EXIT
fi
mkdir -p "$logs"

for name in "$@"; do
  dockerfile=$context/docker/$name.Dockerfile
  [[ -f $dockerfile ]] || die "no Dockerfile for '$name': $dockerfile"
  say "building kurz/$name:$tag from docker/$name.Dockerfile ..."
  t0=$(now_ms)
  if ! docker build -f "$dockerfile" -t "kurz/$name:$tag" \
    --build-arg KURZ_VERSION="${version:-0.0.0}" --build-arg KURZ_REVISION="$revision" \
    --build-arg KURZ_SOURCE="$source_url" "$context" >"$logs/build-$name.log" 2>&1; then
    tail -n 40 "$logs/build-$name.log" >&2
    die "building kurz/$name:$tag failed (log: $logs/build-$name.log)"
  fi
  dt=$(($(now_ms) - t0))
  size=$(docker image inspect -f '{{.Size}}' "kurz/$name:$tag")
  say "built kurz/$name:$tag: $(awk -v s="$size" 'BEGIN {printf "%.1f MB", s / 1e6}') in $((dt / 1000)).$((dt % 1000 / 100))s"
done

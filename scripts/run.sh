#!/usr/bin/env bash
# Command 1: build the monolith (preset release) and run it in the foreground.
# Installs the build dependencies when they are missing (Debian; root or sudo). The environment
# passes through to the monolith, e.g.: MONOLITH_PORT=9000 LOG_LEVEL=debug scripts/run.sh
# Extra arguments go to the binary.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_packages "${KURZ_BUILD_PACKAGES[@]}"
build_preset release kurz-monolith || die "build failed (preset release)"

bin=$KURZ_ROOT/build/release/services/monolith/kurz-monolith
[[ -x $bin ]] || die "no binary at $bin"
port=${MONOLITH_PORT:-${PORT0:-${PORT:-8080}}}
say "serving on http://localhost:${port} (Ctrl-C or SIGTERM to stop)"
exec "$bin" "$@"

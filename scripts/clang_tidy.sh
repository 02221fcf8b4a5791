#!/usr/bin/env bash
# clang-tidy (the top-level .clang-tidy) over kurz's own C++ sources: health/, platform/, services/,
# tests/, bench/, fuzz/; never build/ or system headers. Every finding fails (WarningsAsErrors).
# Usage: scripts/clang_tidy.sh [build-dir] [file-regex]: the build directory's
# compile_commands.json (default build/ci; configuring it is enough, nothing needs to be built),
# and optionally a narrower regex of files. Run in CI as the ctest test lint.clang_tidy.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
build=${1:-$KURZ_ROOT/build/ci}
files=${2:-^$KURZ_ROOT/(health|platform|services|tests|bench|fuzz)/}
[[ -f $build/compile_commands.json ]] || die "no $build/compile_commands.json (cmake --preset ci)"
command -v run-clang-tidy >/dev/null || die "run-clang-tidy is missing (Debian package clang-tidy)"
# run-clang-tidy exits non-zero when any file has a finding; -quiet drops the per-file banner.
run-clang-tidy -p "$build" -quiet -j "$(nproc)" "$files"

#!/usr/bin/env bash
# clang-tidy (the top-level .clang-tidy) over kurz's own C++; never build/ or system headers. Every
# finding fails (WarningsAsErrors).
# Usage: scripts/clang_tidy.sh [--all] [build-dir] [file-regex]
#   default   the code that ships: health/, platform/, services/ and bench/loadgen/ (kurz-load),
#             their tests/ folders left out. This is the ctest test lint.clang_tidy in the ci pass:
#             on CI's 2 cores the whole tree takes ~7.5 CPU-minutes, this ~60 % of it.
#   --all     also every test, benchmark and fuzz target (clean today too: run it before a
#             change to tests lands).
# build-dir: its compile_commands.json (default build/ci; configuring is enough, nothing needs to
# be built). file-regex: a narrower set of files.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
scope=shipped
if [[ ${1:-} == --all ]]; then
  scope=all
  shift
fi
build=${1:-$KURZ_ROOT/build/ci}
if [[ $scope == all ]]; then
  default_files="^$KURZ_ROOT/(health|platform|services|tests|bench|fuzz)/"
else
  # run-clang-tidy matches with Python's re: the lookahead leaves any tests/ folder out.
  default_files="^$KURZ_ROOT/(health|platform|services|bench/loadgen)/(?!(.*/)?tests/)"
fi
files=${2:-$default_files}
[[ -f $build/compile_commands.json ]] || die "no $build/compile_commands.json (cmake --preset ci)"
command -v run-clang-tidy >/dev/null || die "run-clang-tidy is missing (Debian package clang-tidy)"
# run-clang-tidy exits non-zero when any file has a finding; -quiet drops the per-file banner.
run-clang-tidy -p "$build" -quiet -j "$(nproc)" "$files"

#!/usr/bin/env bash
# fuzz/run.sh [--build] [seconds] [target...]   runs the libFuzzer targets of build/fuzz
#   --build   configures and builds the preset `fuzz` first (clang, ASan + UBSan, coverage)
#   seconds   per target (default 10); targets: url location slug rfc3339 redis_url click_decoder
#             json_request router request_guard (default: all)
# First every file of fuzz/regressions/<target>/ (inputs that once crashed) runs once; then each
# target fuzzes a scratch copy of fuzz/corpus/<target>/ (the repository's seeds stay as they
# are) with fuzz/<target>.dict when there is one. One line per target: executions, coverage
# (libFuzzer's cov: edges reached, of the edges instrumented in the binary; ft: features), corpus size. A crash leaves its input in
# test-artifacts/fuzz/ and fails the run: add it to fuzz/regressions/<target>/ with the fix.
# Exit 0: no crash; 1: a crash or a build failure; 2: bad usage.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
here=$KURZ_ROOT/fuzz
all=(url location slug rfc3339 redis_url click_decoder json_request router request_guard)
build=0
if [[ ${1:-} == --build ]]; then build=1; shift; fi
secs=10
if [[ ${1:-} =~ ^[0-9]+$ ]]; then secs=$1; shift; fi
((secs >= 1 && secs <= 3600)) || { say "error: seconds must be 1..3600"; exit 2; }
targets=("$@")
((${#targets[@]})) || targets=("${all[@]}")
for t in "${targets[@]}"; do
  [[ " ${all[*]} " == *" $t "* ]] || { say "error: unknown target '$t' (${all[*]})"; exit 2; }
done

bin=$KURZ_ROOT/build/fuzz/fuzz
if ((build)); then
  command -v clang++ >/dev/null 2>&1 || ensure_packages clang libclang-rt-14-dev
  t0=$SECONDS
  say "building the preset fuzz (build/fuzz) ..."
  (cd "$KURZ_ROOT" && cmake --preset fuzz >/dev/null && cmake --build --preset fuzz -j "$(nproc)" >&2) ||
    die "building the fuzz targets failed"
  say "built in $((SECONDS - t0)) s"
fi
artifacts=$KURZ_ROOT/test-artifacts/fuzz
mkdir -p "$artifacts"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
for t in "${targets[@]}"; do
  exe=$bin/kurz-fuzz-$t
  [[ -x $exe ]] || die "no $exe: build with fuzz/run.sh --build (or cmake --build --preset fuzz)"
  regressions=$here/regressions/$t
  if [[ -d $regressions ]] && compgen -G "$regressions/*" >/dev/null; then
    if ! "$exe" -runs=1 "$regressions"/* >"$work/$t.regress.log" 2>&1; then
      say "$t: a regression input crashes again:"
      tail -n 30 "$work/$t.regress.log" >&2
      failed=1
      continue
    fi
  fi
  mkdir -p "$work/$t"
  seeds=$(find "$here/corpus/$t" -type f 2>/dev/null | wc -l)
  dict=()
  [[ -f $here/$t.dict ]] && dict=(-dict="$here/$t.dict")
  rc=0
  "$exe" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 \
    -artifact_prefix="$artifacts/$t-" "${dict[@]}" "$work/$t" "$here/corpus/$t" >"$work/$t.log" 2>&1 || rc=$?
  done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$work/$t.log" | tail -n 1 || true)
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t.log" | tail -n 1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$done_line")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$done_line")
  # Every edge instrumented in the binary (the target's code and all it links, reachable or not).
  edges=$(sed -n 's/^INFO: Loaded [0-9]* modules *(\([0-9]*\) inline 8-bit counters).*/\1/p' "$work/$t.log" | head -n 1)
  corpus=$(find "$work/$t" -type f | wc -l)
  if ((rc != 0)); then
    failed=1
    say "$t: CRASH after ${runs:-?} executions (exit $rc); input in $artifacts/:"
    grep -E 'ERROR|SUMMARY|property violated|handler threw|runtime error|Test unit written' "$work/$t.log" | head -n 12 >&2
    cp "$work/$t.log" "$artifacts/$t.log"
    continue
  fi
  printf 'fuzz: %-13s %9s executions in %ss, cov %s of %s edges, ft %s, corpus %s seeds + %s new, no crash\n' \
    "$t" "${runs:-?}" "$secs" "${cov:-?}" "${edges:-?}" "${ft:-?}" "$seeds" "$corpus"
done
exit "$failed"

# shellcheck shell=bash disable=SC2034 # SC2034: the package arrays are used by the scripts that source this
# Shared helpers for the kurz scripts. Source it; it defines functions and arrays only and does not
# change shell options. Needs bash >= 4.4 and a Debian-like system (dpkg, apt-get).

KURZ_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Debian packages, in one place. Build: compile every preset. Test: what the tests start or call.
# Bench: the load generator and the reference server.
KURZ_BUILD_PACKAGES=(
  cmake ninja-build g++ pkg-config
  libpistache-dev prometheus-cpp-dev nlohmann-json3-dev libhiredis-dev libspdlog-dev
  libgtest-dev libgmock-dev libbenchmark-dev libqrencode-dev libpng-dev libidn2-dev
)
# "command:package" installs the package only when the command is missing: a machine may have
# Node.js from elsewhere (NodeSource's nodejs ships its own npm and conflicts with Debian's).
KURZ_TEST_PACKAGES=(redis-server redis-sentinel python3 python3-yaml python3-jsonschema python3-marathon
  docker-registry curl prometheus chromium clang-tidy
  fonts-liberation node:nodejs npm:npm)
KURZ_DOCKER_PACKAGES=(docker.io docker-compose debootstrap haproxy)
KURZ_BENCH_PACKAGES=(wrk nginx-light curl gnuplot-nox)

# Progress line on stderr, so that stdout stays for what a script produces.
say() { printf 'kurz: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# ops <command> [args...]: the operations library's command line (scripts/kurzops; python3 -m
# kurzops --help lists the commands): compose, HAProxy statistics, free ports, waits, kurz-load.
# The one way for bash to do those jobs: `ops free-port`, `ops wait-http URL SECONDS [PID]` (200),
# `ops wait-status URL STATUS SECONDS [PID]`, `ops compose-command`, `ops stage-files STAGE` ...
ops() { PYTHONPATH="$KURZ_ROOT/scripts${PYTHONPATH:+:$PYTHONPATH}" python3 -m kurzops "$@"; }

# Milliseconds since the epoch (bash 5 EPOCHREALTIME; no subprocess).
now_ms() {
  local t=${EPOCHREALTIME/[.,]/}
  echo $((t / 1000))
}

# Runs apt-get update unless this run (or a parent script) already did, or the lists are fresher
# than 6 hours. Arguments: [force] then the privilege prefix (nothing or "sudo").
_kurz_apt_update() {
  local force=0
  [[ ${1:-} == force ]] && { force=1; shift; }
  [[ ${KURZ_APT_UPDATED:-} == 1 ]] && return 0
  if ((force == 0)) &&
    [[ -n $(find /var/lib/apt/lists -maxdepth 1 -type f -name '*Packages*' -mmin -360 2>/dev/null | head -n 1) ]]; then
    return 0
  fi
  say "running apt-get update ..."
  "$@" apt-get -o DPkg::Lock::Timeout=300 update -qq >&2 || return 1
  export KURZ_APT_UPDATED=1
}

# ensure_packages pkg...: installs the packages that dpkg does not report as installed; an entry
# "command:package" is skipped when the command exists.
ensure_packages() {
  local pkg status
  local -a missing=() priv=()
  command -v dpkg-query >/dev/null 2>&1 || die "no dpkg-query: install by hand: $*"
  for pkg in "$@"; do
    if [[ $pkg == *:* ]]; then
      command -v "${pkg%%:*}" >/dev/null 2>&1 && continue
      pkg=${pkg#*:}
    fi
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null) || status=
    [[ $status == "install ok installed" ]] || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0
  say "installing ${missing[*]} ..."
  if ((EUID != 0)); then
    command -v sudo >/dev/null 2>&1 ||
      die "packages missing (${missing[*]}) and not root without sudo: install them by hand"
    priv=(sudo)
  fi
  local -a install=("${priv[@]}" env DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}")
  _kurz_apt_update "${priv[@]}" || die "apt-get update failed"
  if ! "${install[@]}" >&2; then
    # Fresh-looking lists can still lack a package (another suite, a new name): update once, retry.
    [[ ${KURZ_APT_UPDATED:-} == 1 ]] && die "could not install: ${missing[*]}"
    _kurz_apt_update force "${priv[@]}" || die "apt-get update failed"
    "${install[@]}" >&2 || die "could not install: ${missing[*]}"
  fi
}

# build_preset <preset> [target...]: configures and builds one CMake preset (build/<preset>).
# Output goes to stderr. KURZ_KEEP_GOING=1 builds past errors (ninja -k 0) to report them all.
build_preset() {
  local preset=$1
  shift
  local -a targets=() native=()
  (($# > 0)) && targets=(--target "$@")
  [[ ${KURZ_KEEP_GOING:-0} == 1 ]] && native=(-- -k 0)
  say "configuring preset $preset ..."
  (cd "$KURZ_ROOT" && cmake --preset "$preset" --log-level=WARNING) >&2 || return 1
  say "building preset $preset${*:+ (targets: $*)} ..."
  (cd "$KURZ_ROOT" && cmake --build --preset "$preset" -j "$(nproc)" "${targets[@]}" "${native[@]}") >&2 || return 1
}

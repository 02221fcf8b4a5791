#!/usr/bin/env bash
# Runs the browser tests of the web UI (ui.test.mjs): playwright-core from npm, Debian's Chromium.
#   KURZ_MONOLITH=build/dev/services/monolith/kurz-monolith tests/browser/run.sh
# Installs the npm dependencies (npm ci) only when node_modules is missing or older than the lock
# file. Never downloads a browser. Exits non-zero when a test fails or something is missing.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../../scripts/lib.sh
source "$here/../../scripts/lib.sh"
cd "$here"

chromium=${KURZ_CHROMIUM:-/usr/bin/chromium}
command -v node >/dev/null 2>&1 ||
  die "node is missing: install Debian's nodejs and npm (scripts/test.sh installs them)"
command -v npm >/dev/null 2>&1 ||
  die "npm is missing: install Debian's npm (scripts/test.sh installs it)"
[[ -x $chromium ]] ||
  die "$chromium is missing: install Debian's chromium (scripts/test.sh installs it)"
if [[ -z ${KURZ_BASE_URL:-} ]]; then
  [[ -n ${KURZ_MONOLITH:-} ]] || die "set KURZ_MONOLITH to the kurz-monolith binary (or KURZ_BASE_URL)"
  [[ -x $KURZ_MONOLITH ]] || die "KURZ_MONOLITH=$KURZ_MONOLITH is not an executable"
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
(( node_major >= 18 )) || die "node $(node --version) is too old: playwright-core needs node >= 18"

# npm writes node_modules/.package-lock.json on every install: stale when the lock file is newer.
stamp=node_modules/.package-lock.json
if [[ ! -f $stamp || package-lock.json -nt $stamp || ! -d node_modules/playwright-core ]]; then
  echo "browser tests: npm ci (playwright-core, no browser download)" >&2
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
fi

export KURZ_CHROMIUM=$chromium
if [[ -n ${KURZ_BASE_URL:-} ]]; then
  # A running stack (e.g. stage 3 through HAProxy) instead of a monolith of our own.
  exec node --test --test-reporter=spec stack.test.mjs
fi
exec node --test --test-reporter=spec ui.test.mjs

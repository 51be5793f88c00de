#!/usr/bin/env bash
# sdk-js's whole test suite from a fresh clone: installs the pinned packages from
# package-lock.json, checks that the committed dist/ is what src/ builds to, and runs every
# test/*.test.mjs with Node's built-in test runner (vectors, encoding, Ed25519 strictness,
# and the differential tests against the Rust CLI).
#   TICKCHAIN_CLI=PATH        the Rust CLI (default: ../target/debug/tickchain); the
#                             differential tests FAIL when it is missing, they never skip
#   TICKCHAIN_DIFF_COUNT=N    random proof mutations (default 2000)
#   TICKCHAIN_DIFF_SEED=N     their seed (default 20251206)
set -euo pipefail
cd "$(dirname "$0")/.."

command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || {
  echo "sdk-js/scripts/test.sh: node and npm are needed (Node.js 20.19 or later)" >&2
  exit 1
}
node -e '
  const [maj, min] = process.versions.node.split(".").map(Number);
  if (maj < 20 || (maj === 20 && min < 19)) {
    console.error(`sdk-js/scripts/test.sh: Node.js ${process.versions.node} is too old; 20.19 or later is needed`);
    process.exit(1);
  }'
# Exactly the locked versions, integrity-checked; no lifecycle scripts run. (TypeScript 7's
# compiler is a native binary in an optional per-platform package; npm ci installs the one for
# this platform and skips the others.)
npm ci --ignore-scripts --no-audit --no-fund
bash scripts/check-dist.sh
node --test test/*.test.mjs

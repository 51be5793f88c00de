#!/usr/bin/env bash
# Rebuilds sdk-js from src/ into a temporary directory with the pinned TypeScript and fails if
# the result differs from the committed dist/ (so a stale build never lands). Needs the
# packages installed (npm ci). Fix a failure with: npm run build, then commit dist/.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x node_modules/.bin/tsc ]; then
  echo "check-dist: node_modules/.bin/tsc not found; run npm ci --ignore-scripts first" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
node_modules/.bin/tsc -p tsconfig.json --outDir "$tmp/dist"
if ! diff -r "$tmp/dist" dist >"$tmp/diff" 2>&1; then
  echo "check-dist: dist/ is not what src/ builds to (run: npm run build, and commit dist/):" >&2
  head -n 60 "$tmp/diff" >&2
  exit 1
fi
echo "check-dist: dist/ matches src/ ($(find dist -type f | wc -l) files)"

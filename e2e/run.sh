#!/usr/bin/env bash
# Browser test of the Rempart console in Debian's Chromium.
# The caller builds the binary first: `cargo build -p rempart` (or sets REMPART_BIN).
# Screenshots and the server log land in e2e/artifacts/.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# Resolve REMPART_BIN against the caller's folder before moving.
if [[ -n "${REMPART_BIN:-}" ]]; then
  case "$REMPART_BIN" in /*) ;; *) REMPART_BIN="$PWD/$REMPART_BIN" ;; esac
else
  REMPART_BIN="$here/../target/debug/rempart"
fi
export REMPART_BIN
cd "$here"

chromium_bin="${CHROMIUM_BIN:-/usr/bin/chromium}"
if [[ ! -x "$chromium_bin" ]]; then
  echo "e2e: Chromium is missing at $chromium_bin (install Debian's: apt-get install -y chromium)" >&2
  exit 1
fi
if [[ ! -x "$REMPART_BIN" ]]; then
  echo "e2e: rempart binary missing at $REMPART_BIN (run \`cargo build -p rempart\` first)" >&2
  exit 1
fi
command -v npm >/dev/null || { echo "e2e: npm is missing (Node 20+ needed)" >&2; exit 1; }

if [[ -f package-lock.json ]]; then
  npm ci --no-audit --no-fund
else
  npm install --no-audit --no-fund
fi

mkdir -p artifacts
rm -f artifacts/axe.jsonl artifacts/failure-*.png  # from an earlier run
echo "e2e: $("$chromium_bin" --version 2>/dev/null || true), rempart at $REMPART_BIN"
npm test

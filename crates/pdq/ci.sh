#!/usr/bin/env bash
# CI steps for rempart-pdq beyond `cargo test --workspace` (run from anywhere):
#  1. rebuild the browser module from source and fail if it differs from the committed
#     js/rempart_pdq.wasm (same stable toolchain => same bytes);
#  2. run the Chromium browser test (e2e/): the PNG test images hashed by js/pdq.js +
#     the wasm must equal the server-side hashes.
# Expects Chromium at $CHROMIUM or /usr/bin/chromium (the caller installs it:
# apt-get install -y chromium) and the shared test data (REMPART_REQUIRE_SHARED=1 makes
# its absence fatal, as in CI).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
chromium="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  echo "ci.sh: Chromium not found at $chromium — install it (apt-get install -y chromium) or set CHROMIUM" >&2
  exit 1
fi
rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown \
  || { echo "ci.sh: rustup target add wasm32-unknown-unknown is needed" >&2; exit 1; }

fresh="$(mktemp -d)/rempart_pdq.wasm"
"$here/build-wasm.sh" "$fresh"
if ! cmp "$fresh" "$here/js/rempart_pdq.wasm"; then
  echo "ci.sh: js/rempart_pdq.wasm is stale: run crates/pdq/build-wasm.sh and commit the result" >&2
  exit 1
fi
echo "wasm: committed module matches the source"

cd "$here/e2e"
npm ci --no-audit --no-fund
CHROMIUM="$chromium" npm test

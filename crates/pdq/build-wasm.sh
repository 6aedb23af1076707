#!/usr/bin/env bash
# Builds the browser module crates/pdq/js/rempart_pdq.wasm from source with the stable
# toolchain alone (target wasm32-unknown-unknown; no wasm-bindgen, no wasm-opt).
# Deterministic: same toolchain + same source -> same bytes (paths are remapped and
# debug info stripped), which ci.sh checks by rebuilding and comparing.
#   usage: crates/pdq/build-wasm.sh [OUTPUT]   (default: crates/pdq/js/rempart_pdq.wasm)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${1:-$here/js/rempart_pdq.wasm}"
target_dir="${CARGO_TARGET_DIR:-$root/target}/wasm-pdq"
cd "$root"
# The flags live in the environment of this build only; the separate target dir keeps
# them from invalidating the normal builds.
# simd128: the filters' lanes run four at a time (the same float operations in the same
# order per value, so the hash stays bit-exact); every current browser engine has it.
RUSTFLAGS="--remap-path-prefix=$root=/rempart --remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=/cargo -C strip=symbols -C target-feature=+simd128" \
CARGO_PROFILE_RELEASE_DEBUG=false \
CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 \
CARGO_PROFILE_RELEASE_LTO=true \
CARGO_PROFILE_RELEASE_PANIC=abort \
CARGO_PROFILE_RELEASE_OPT_LEVEL=3 \
CARGO_PROFILE_RELEASE_INCREMENTAL=false \
  cargo build --locked --release --target wasm32-unknown-unknown -p rempart-pdq --no-default-features --features png --lib \
  --target-dir "$target_dir"
cp "$target_dir/wasm32-unknown-unknown/release/rempart_pdq.wasm" "$out"
echo "wrote $out ($(wc -c <"$out") bytes, sha256 $(sha256sum "$out" | cut -d' ' -f1))"

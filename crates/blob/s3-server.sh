#!/usr/bin/env bash
# The S3-compatible server the blob store's tests talk to: s3s-fs, from crates.io, installed
# into target/tools (or $REMPART_TOOLS). 0.14.1 is the newest release that builds with the
# workspace's rustc (1.95); it serves a folder, one sub-folder per bucket.
#   s3-server.sh install   installs it if missing and prints the binary's path
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# beside the cargo target directory, so that one kept between runs keeps the server too
tools="${REMPART_TOOLS:-${CARGO_TARGET_DIR:-$here/target}/tools}"
version=0.14.1
bin="$tools/bin/s3s-fs"
case "${1:-}" in
  install)
    if [ -x "$bin" ] && [ "$(cat "$tools/s3s-fs.version" 2>/dev/null)" = "$version" ]; then
      echo "$bin"; exit 0
    fi
    timeout 900 cargo install --quiet --locked --root "$tools" --version "$version" \
      --features binary s3s-fs >&2
    echo "$version" > "$tools/s3s-fs.version"
    echo "$bin"
    ;;
  *)
    echo "usage: $0 install" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Side-by-side benchmark of rempart-pdq against the reference PDQ (PyPI pdqhash, C++
# core compiled from source) and faiss (faiss-cpu), same inputs, one run, one thread.
#   crates/pdq/bench/compare.sh [SIZES]      (SIZES default: 1000000,10000000)
# Needs: python3 with venv, internet access to PyPI (first run), ~6 GB RAM for 10M,
# the shared test data (REMPART_PDQ_TESTDATA or ../shared/testdata/pdq).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
venv="$target/venv-bench"
work="${TMPDIR:-/tmp}/rempart-pdq-bench"
data="${REMPART_PDQ_TESTDATA:-$(cd "$root/.." && pwd)/shared/testdata/pdq}"
[ -d "$data/expected" ] || { echo "PDQ TEST DATA ABSENT: $data" >&2; exit 1; }
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q pdqhash faiss-cpu numpy pillow
cd "$root"
cargo bench -p rempart-pdq --bench pdq_bench --no-run 2>&1 | tail -1
bin="$(cargo bench -p rempart-pdq --bench pdq_bench --no-run --message-format=json 2>/dev/null \
  | "$venv/bin/python" -c 'import json,sys
for l in sys.stdin:
    m=json.loads(l)
    if m.get("reason")=="compiler-artifact" and m.get("executable") and m["target"]["name"]=="pdq_bench": print(m["executable"])' | tail -1)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2); rustc $(rustc --version | cut -d' ' -f2); $("$venv/bin/pip" freeze | grep -iE '^(pdqhash|faiss-cpu)=' | tr '\n' ' ')"
OMP_NUM_THREADS=1 "$venv/bin/python" "$here/compare.py" "$work" "$bin" "$data" "${1:-1000000,10000000}"

#!/usr/bin/env bash
# Measures `rempart demo`: wall time from launch to the first successful /readyz, for the
# first start (seeding the demo data) and for later starts, and the resident memory of an
# idle server. Usage: scripts/bench-demo.sh [path/to/rempart]   (default: target/release/rempart)
set -euo pipefail
bin="${1:-target/release/rempart}"
dir="$(mktemp -d)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
pid=""
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT

start() {
  local t0 t1
  t0=$(date +%s%N)
  "$bin" demo --listen "127.0.0.1:$port" --data-dir "$dir" >/dev/null 2>&1 &
  pid=$!
  until curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; do sleep 0.005; done
  t1=$(date +%s%N)
  ms=$(( (t1 - t0) / 1000000 ))
}

start; echo "first start (seeds ~200 cases): $ms ms"
sleep 5
echo "first start: idle RSS after 5 s: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status)"
kill "$pid"; wait "$pid" 2>/dev/null || true
for i in 1 2 3 4 5; do
  start; echo "start $((i + 1)): $ms ms"
  if [ "$i" -lt 5 ]; then kill "$pid"; wait "$pid" 2>/dev/null || true; fi
done
sleep 5
echo "idle RSS after 5 s: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status)"
# a few pages, then idle again
for i in $(seq 1 20); do curl -sf "http://127.0.0.1:$port/login" >/dev/null; done
sleep 5
echo "idle RSS after 20 requests: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status)"

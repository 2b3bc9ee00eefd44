#!/usr/bin/env bash
# P7: 200 sequential calls of a trivial Python task in a reusable environment (container mode), per-call cost next
# to the single-shot container per-call cost and the local warm-interpreter cost, then 200 concurrent calls on 4
# replicas against the sequential time; all in one process, with the driver's peak RSS.
#   usage: bench/reuse-latency.sh [calls] [single-shot calls] [rounds]      (default 200 10 3)
# Needs what scripts/setup.sh installs (podman, docker-registry, debootstrap); starts its own registry.
set -euo pipefail
cd "$(dirname "$0")/.."
calls="${1:-200}"
single="${2:-10}"
rounds="${3:-3}"

source bench/registry.sh

echo "reuse-latency: registry 127.0.0.1:$port, $calls calls ($single single-shot), $rounds rounds"
FLYTESHARP_BENCH_REGISTRY="127.0.0.1:$port" \
  dotnet run -c Release --project bench/FlyteSharp.Benchmarks -- reuse-latency "$calls" "$single" "$rounds"

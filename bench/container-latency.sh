#!/usr/bin/env bash
# Edit-to-result latency in container mode after a one-line Python edit, next to a bare `podman run` of
# the same image running the same function, measured in the same process. Prints each iteration, the
# median breakdown (bundle, upload, container start, unpack, run, teardown) and the ratio.
#   usage: bench/container-latency.sh [iterations]      (default 7)
# Needs what scripts/setup.sh installs (podman, docker-registry, debootstrap); starts its own registry.
set -euo pipefail
cd "$(dirname "$0")/.."
iterations="${1:-7}"

source bench/registry.sh

echo "container-latency: registry 127.0.0.1:$port, $iterations iterations"
FLYTESHARP_BENCH_REGISTRY="127.0.0.1:$port" \
  dotnet run -c Release --project bench/FlyteSharp.Benchmarks -- container-latency "$iterations"

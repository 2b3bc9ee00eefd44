#!/usr/bin/env bash
# P8: `deploy --copy-style none` after a one-line Python edit, the code layer pushed through the registry API (no
# builder) next to the same deploy through `podman build`, measured in the same process. Prints each iteration, the
# medians, the builder invocations and the ratio.
#   usage: bench/deploy-code-layer.sh [iterations]      (default 5)
# Needs what scripts/setup.sh installs (podman, docker-registry, debootstrap); starts its own registry.
set -euo pipefail
cd "$(dirname "$0")/.."
iterations="${1:-5}"

source bench/registry.sh

echo "deploy-code-layer: registry 127.0.0.1:$port, $iterations iterations"
FLYTESHARP_BENCH_REGISTRY="127.0.0.1:$port" \
  dotnet run -c Release --project bench/FlyteSharp.Benchmarks -- deploy-code-layer "$iterations"

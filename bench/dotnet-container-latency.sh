#!/usr/bin/env bash
# P9: edit-to-result latency of a one-line C# edit in container mode (dotnet build, .NET bundle, store, container start,
# bundle fetch + verify + unpack, assembly load + run, teardown), next to a bare `podman run` of the same image running
# the same worker on the same bundle, measured in the same process. Prints each iteration, the median breakdown and
# the ratio of the run after the build to the bare podman run.
#   usage: bench/dotnet-container-latency.sh [iterations]      (default 7)
# Needs what scripts/setup.sh installs (podman, docker-registry, debootstrap); starts its own registry and makes the
# local .NET base (scripts/dotnet-base-image.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
iterations="${1:-7}"

./scripts/dotnet-base-image.sh >/dev/null
source bench/registry.sh

echo "dotnet-container-latency: registry 127.0.0.1:$port, $iterations iterations"
FLYTESHARP_BENCH_REGISTRY="127.0.0.1:$port" \
  dotnet run -c Release --project bench/FlyteSharp.Benchmarks -- dotnet-container-latency "$iterations"

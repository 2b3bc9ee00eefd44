#!/usr/bin/env bash
# Per-call cost of a trivial C# task in container mode on a warm replica of a reusable environment (ReusePolicy), next
# to the same task with one container per call, measured in one process. Prints both and their ratio.
#   usage: bench/dotnet-reuse-latency.sh [reusable calls] [single-shot calls]      (default 200 and 5)
# Needs what scripts/setup.sh installs (podman, docker-registry, debootstrap); starts its own registry and makes the
# local .NET base (scripts/dotnet-base-image.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
calls="${1:-200}"
single="${2:-5}"

./scripts/dotnet-base-image.sh >/dev/null
source bench/registry.sh

echo "dotnet-reuse-latency: registry 127.0.0.1:$port, $calls reusable calls, $single single-shot calls"
FLYTESHARP_BENCH_REGISTRY="127.0.0.1:$port" \
  dotnet run -c Release --project bench/FlyteSharp.Benchmarks -- dotnet-reuse-latency "$calls" "$single"

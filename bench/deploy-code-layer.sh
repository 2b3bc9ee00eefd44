#!/usr/bin/env bash
# P8: `deploy --copy-style none` after a one-line Python edit, the code layer pushed through the registry API (no
# builder) next to the same deploy through `podman build`, measured in the same process. Prints each iteration, the
# medians, the builder invocations and the ratio.
#   usage: bench/deploy-code-layer.sh [iterations]      (default 5)
# Needs what scripts/setup.sh installs (podman, docker-registry, debootstrap); starts its own registry.
set -euo pipefail
cd "$(dirname "$0")/.."
iterations="${1:-5}"

./scripts/base-image.sh >/dev/null

work="$(mktemp -d /tmp/flytesharp-bench-registry.XXXXXX)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
cat >"$work/config.yml" <<CONF
version: 0.1
log: { level: warn, accesslog: { disabled: true } }
storage: { filesystem: { rootdirectory: $work/storage }, delete: { enabled: true } }
http: { addr: 127.0.0.1:$port }
CONF
docker-registry serve "$work/config.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
trap 'kill "$registry_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break
  sleep 0.1
done

echo "deploy-code-layer: registry 127.0.0.1:$port, $iterations iterations"
FLYTESHARP_BENCH_REGISTRY="127.0.0.1:$port" \
  dotnet run -c Release --project bench/FlyteSharp.Benchmarks -- deploy-code-layer "$iterations"

#!/usr/bin/env bash
# Runs the .NET tasks example (examples/dotnet-tasks) end to end in container mode, on this machine only:
# a throwaway registry on 127.0.0.1, the local test base images (scripts/base-image.sh, scripts/dotnet-base-image.sh)
# as [images] python_base / dotnet_base, and the C# and Python actions each in their own container.
# Prints the run URL, the output and where each action ran; removes the registry and the images it pushed.
# The run stays in the run store ($FLYTESHARP_HOME, default ~/.flytesharp): open its URL after starting the console,
#   dotnet run --project src/FlyteSharp.Cli -- serve
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
python_base="localhost/flytesharp-test/debian-python:bookworm"
dotnet_base="localhost/flytesharp-test/debian-dotnet:bookworm"
./scripts/base-image.sh "$python_base"
./scripts/dotnet-base-image.sh "$dotnet_base"

scratch="$(mktemp -d)"
registry_pid=""
host=""
cleanup() {
  if [ -n "$registry_pid" ]; then
    kill "$registry_pid" 2>/dev/null || true
    wait "$registry_pid" 2>/dev/null || true
  fi
  if [ -n "$host" ]; then
    # Only the images pushed to this run's registry (its port is unique), never the base images.
    podman images --format '{{.Repository}}:{{.Tag}}' | grep "^$host/" | sort -u | xargs -r podman rmi --force >/dev/null 2>&1 || true
  fi
  rm -rf "$scratch"
}
trap cleanup EXIT

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
host="127.0.0.1:$port"
mkdir -p "$scratch/storage"
cat >"$scratch/registry.yml" <<YAML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $scratch/storage
  delete:
    enabled: true
http:
  addr: $host
YAML
docker-registry serve "$scratch/registry.yml" >"$scratch/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 1 60); do
  curl -fsS "http://$host/v2/" >/dev/null 2>&1 && break
  kill -0 "$registry_pid" 2>/dev/null || { cat "$scratch/registry.log" >&2; echo "example-dotnet: the registry did not start" >&2; exit 1; }
  sleep 0.5
done
curl -fsS "http://$host/v2/" >/dev/null || { cat "$scratch/registry.log" >&2; echo "example-dotnet: the registry did not answer on $host" >&2; exit 1; }
echo "registry: $host (throwaway)"

# The example's flytesharp.toml with [images] pointed at the throwaway registry and the local bases.
example="$PWD/examples/dotnet-tasks"
cat "$example/flytesharp.toml" >"$scratch/flytesharp.toml"
sed -i "s#^root_dir = \"python\"#root_dir = \"$example/python\"#" "$scratch/flytesharp.toml"
cat >>"$scratch/flytesharp.toml" <<TOML

[images]
registry = "$host"
name = "flytesharp-example/dotnet-tasks"
python_base = "$python_base"
dotnet_base = "$dotnet_base"
builder = "podman"
insecure_registries = ["$host"]
TOML

FLYTESHARP_CONFIG="$scratch/flytesharp.toml" dotnet run --project examples/dotnet-tasks/dotnet -v q -- --mode container

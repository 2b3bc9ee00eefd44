# Sourced by the bench scripts that need a registry: builds (or reuses) the local base image, starts the CNCF
# distribution registry on a free loopback port and waits for it. Sets $work and $port; the EXIT trap stops the
# registry and removes $work.
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

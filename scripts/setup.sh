#!/usr/bin/env bash
# Installs what FlyteSharp's tests and examples need on a Debian machine (idempotent).
#   - podman (image builds and container runs), configured for this kind of host
#   - docker-registry (the CNCF distribution registry, started by the tests on 127.0.0.1)
#   - debootstrap (builds the local Debian+Python base image the container tests use)
#   - chromium + chromium-driver (headless browser test of the run page)
#   - sqlite3 (handy for inspecting the run store)
set -euo pipefail

need=()
command -v podman >/dev/null || need+=(podman)
command -v docker-registry >/dev/null || need+=(docker-registry)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v chromium >/dev/null || need+=(chromium)
command -v chromedriver >/dev/null || need+=(chromium-driver)
command -v sqlite3 >/dev/null || need+=(sqlite3)
command -v runc >/dev/null || need+=(runc)
command -v python3 >/dev/null || need+=(python3)

if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

# podman on this kind of host needs two settings: no default ulimits (setrlimit is refused)
# and cgroupfs + runc (crun refuses the hybrid cgroup layout). Only written when absent.
conf=/etc/containers/containers.conf
if [ ! -f "$conf" ] || ! grep -q 'cgroup_manager' "$conf"; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO mkdir -p /etc/containers
  $SUDO tee "$conf" >/dev/null <<'CONF'
[containers]
default_ulimits = []
[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
CONF
fi
storage=/etc/containers/storage.conf
if [ ! -f "$storage" ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO tee "$storage" >/dev/null <<'CONF'
[storage]
driver = "overlay"
runroot = "/run/containers/storage"
graphroot = "/var/lib/containers/storage"
CONF
fi
echo "setup: ok (podman $(podman --version | awk '{print $3}'), python $(python3 --version | awk '{print $2}'), dotnet $(dotnet --version))"

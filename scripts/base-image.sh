#!/usr/bin/env bash
# Ensures the local Debian + Python base image the container tests and benchmarks use exists in podman.
# No public registry is reachable on CI machines, so the base is made with debootstrap (bookworm,
# python3 3.11) and imported. Cached twice: the podman image itself (skip when present) and the
# rootfs tarball under ${XDG_CACHE_HOME:-~/.cache}/flytesharp (re-import without debootstrap).
#   usage: scripts/base-image.sh [image]     (default localhost/flytesharp-test/debian-python:bookworm)
#   FLYTESHARP_BASE_IMAGE_REBUILD=1 forces a fresh debootstrap.
set -euo pipefail

image="${1:-localhost/flytesharp-test/debian-python:bookworm}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/flytesharp"
tarball="$cache/debian-python-bookworm-rootfs.tar"
mirror="${FLYTESHARP_DEBIAN_MIRROR:-http://deb.debian.org/debian}"

if [ "${FLYTESHARP_BASE_IMAGE_REBUILD:-0}" != 1 ] && podman image exists "$image"; then
  echo "base-image: $image exists"
  exit 0
fi

mkdir -p "$cache"
if [ "${FLYTESHARP_BASE_IMAGE_REBUILD:-0}" = 1 ] || [ ! -s "$tarball" ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  command -v debootstrap >/dev/null || { echo "base-image: debootstrap is missing; run scripts/setup.sh" >&2; exit 1; }
  rootfs="$(mktemp -d "$cache/rootfs.XXXXXX")"
  trap '$SUDO rm -rf "$rootfs"' EXIT
  echo "base-image: debootstrap bookworm (minbase + python3) into $rootfs"
  $SUDO debootstrap --variant=minbase --include=python3 bookworm "$rootfs" "$mirror" >"$cache/debootstrap.log" 2>&1 \
    || { tail -n 30 "$cache/debootstrap.log" >&2; exit 1; }
  # Smaller image, same function: apt lists and caches are not needed at run time.
  $SUDO rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  # temp + rename: a killed run never leaves a truncated tarball that a later run trusts.
  $SUDO tar -C "$rootfs" -c . >"$tarball.tmp"
  mv "$tarball.tmp" "$tarball"
fi

echo "base-image: importing $tarball as $image"
podman import --change 'CMD ["/usr/bin/python3"]' --change 'ENV LANG=C.UTF-8' "$tarball" "$image" >/dev/null
podman run --rm "$image" python3 -c 'import sys; print("base-image: ok, python", sys.version.split()[0])'

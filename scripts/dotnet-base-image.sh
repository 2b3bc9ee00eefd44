#!/usr/bin/env bash
# Ensures the local Debian + Python + .NET runtime base image that C# container tests and examples use exists in podman.
# No public registry is reachable on CI machines, so the image is the debootstrap Python base (scripts/base-image.sh)
# plus the host's own .NET runtime copied in: the `dotnet` host, host/fxr and shared/Microsoft.NETCore.App/<version>
# (~80 MB), with invariant globalization (the rootfs has no ICU). Cached as the podman image itself; the image is
# rebuilt when the host's runtime version changes (the version is part of the image's label).
#   usage: scripts/dotnet-base-image.sh [image]     (default localhost/flytesharp-test/debian-dotnet:bookworm)
#   FLYTESHARP_BASE_IMAGE_REBUILD=1 forces a rebuild.
set -euo pipefail
cd "$(dirname "$0")/.."

image="${1:-localhost/flytesharp-test/debian-dotnet:bookworm}"
python_base="localhost/flytesharp-test/debian-python:bookworm"

dotnet_root="$(dirname "$(readlink -f "$(command -v dotnet)")")"
runtime_version="$(dotnet --list-runtimes | awk '$1 == "Microsoft.NETCore.App" { v = $2 } END { print v }')"
[ -n "$runtime_version" ] || { echo "dotnet-base-image: no Microsoft.NETCore.App runtime on this host" >&2; exit 1; }

if [ "${FLYTESHARP_BASE_IMAGE_REBUILD:-0}" != 1 ] && podman image exists "$image" \
   && [ "$(podman image inspect --format '{{ index .Labels "org.flytesharp.dotnet-runtime" }}' "$image")" = "$runtime_version" ]; then
  echo "dotnet-base-image: $image exists (.NET $runtime_version)"
  exit 0
fi

./scripts/base-image.sh "$python_base" >/dev/null

context="$(mktemp -d)"
trap 'rm -rf "$context"' EXIT
mkdir -p "$context/dotnet/shared/Microsoft.NETCore.App"
cp -a "$dotnet_root/dotnet" "$context/dotnet/"
cp -a "$dotnet_root/host" "$context/dotnet/"
cp -a "$dotnet_root/shared/Microsoft.NETCore.App/$runtime_version" "$context/dotnet/shared/Microsoft.NETCore.App/"
cat >"$context/Containerfile" <<CONTAINERFILE
FROM $python_base
COPY dotnet /usr/share/dotnet
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet
ENV DOTNET_ROOT=/usr/share/dotnet DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LABEL org.flytesharp.dotnet-runtime=$runtime_version
CONTAINERFILE

echo "dotnet-base-image: building $image (.NET $runtime_version from $dotnet_root)"
podman build --quiet -t "$image" "$context" >/dev/null
podman run --rm "$image" dotnet --list-runtimes | sed 's/^/dotnet-base-image: ok, /'

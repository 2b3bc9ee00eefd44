#!/usr/bin/env bash
# Runs every FlyteSharp test: unit tests, then integration tests (real podman, registry, python).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
dotnet build FlyteSharp.slnx -c Release -warnaserror
dotnet test tests/FlyteSharp.Tests -c Release --no-build
dotnet test tests/FlyteSharp.IntegrationTests -c Release --no-build

#!/usr/bin/env bash
# Runs the main example (seed Pattern A, the shared-lockfile monorepo) end to end, locally:
# prints each environment's image URI, the code bundle digest, both run URLs and the outputs.
# Open a printed run URL after starting the console: dotnet run --project src/FlyteSharp.Cli -- serve
set -euo pipefail
cd "$(dirname "$0")/.."
command -v python3 >/dev/null || ./scripts/setup.sh
dotnet run --project examples/workspace-monorepo/dotnet -v q

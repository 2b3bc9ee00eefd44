#!/usr/bin/env bash
# Resident memory of the real .NET worker process (--serve) through many code versions loaded one after another, as a
# developer's Global replica lives through edits: after the first 10 versions (the baseline) and after all of them, their
# ratio, and what keeping every version would have added. No containers: the worker runs on the host.
#   usage: bench/dotnet-reload-memory.sh [versions] [MiB held by each version]      (default 200 and 4)
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet run -c Release --project bench/FlyteSharp.Benchmarks -- dotnet-reload-memory "${1:-200}" "${2:-4}"

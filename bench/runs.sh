#!/usr/bin/env bash
# Run benchmarks (issue 4): both print their baseline in the same run.
#   fanout: 10,000 trivial C# child actions with the SQLite run store on vs plain Task.WhenAll (the floor), peak memory
#   python: 200 calls of a trivial Python task, cold process per call vs the warm interpreter, per-call cost breakdown
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/FlyteSharp.Benchmarks -c Release -v q -nologo
dotnet run -c Release --no-build --project bench/FlyteSharp.Benchmarks -- fanout "${1:-10000}"
dotnet run -c Release --no-build --project bench/FlyteSharp.Benchmarks -- python "${2:-200}"

#!/usr/bin/env bash
# Runs the main example (seed Pattern A, the shared-lockfile monorepo) end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
echo "example: not wired yet"
exit 1

#!/usr/bin/env bash
# Code bundle benchmark: a generated tree of 5,000 files / ~100 MB.
#   cold  = `flytesharp bundle` with an empty cache, next to `tar -czf` of the same tree in the same run (ratio printed)
#   warm  = `flytesharp bundle` again on the unchanged tree, as a new process and as a library call in a
#           running process (goal: < 5% of cold)
#   peak  = peak RSS of the bundling process (goal: < 150 MB)
# Usage: bench/bundle.sh [files] [megabytes]
set -euo pipefail
cd "$(dirname "$0")/.."
FILES=${1:-5000}
MB=${2:-100}
WORK=$(mktemp -d /tmp/flytesharp-bench-XXXXXX)
trap 'rm -rf "$WORK"' EXIT

dotnet build src/FlyteSharp.Cli -c Release -v q -nologo >/dev/null
CLI="src/FlyteSharp.Cli/bin/Release/net10.0/FlyteSharp.Cli.dll"

python3 bench/generate_tree.py "$WORK/tree" "$FILES" "$MB"
echo "tree: $(find "$WORK/tree" -type f | wc -l) files, $(du -sm "$WORK/tree" | cut -f1) MB"
# Let the tree age past the racy-timestamp window, as a real tree between runs would.
sleep 1

export FLYTESHARP_HOME="$WORK/home" FLYTESHARP_STORE="file://$WORK/store"
# Warm the page cache so both tools read from memory.
tar -cf - -C "$WORK/tree" . >/dev/null

read -r TAR_S TAR_MB < <(python3 bench/measure.py tar -czf "$WORK/baseline.tar.gz" -C "$WORK/tree" .)
read -r COLD_S COLD_MB < <(python3 bench/measure.py dotnet "$CLI" bundle "$WORK/tree" --json)
read -r WARM_S WARM_MB < <(python3 bench/measure.py dotnet "$CLI" bundle "$WORK/tree" --json)
read -r NOOP_S _ < <(python3 bench/measure.py dotnet "$CLI" version)
INPROC_S=$(dotnet run -c Release bench/bundle-warm.cs "$WORK/tree" "$WORK/home/cache/bundles" 2>/dev/null | tail -1)

OURS=$(ls -l "$WORK"/home/cache/bundles/blobs/sha256/*.tar.gz | awk '{print $5}')
THEIRS=$(stat -c %s "$WORK/baseline.tar.gz")
python3 - "$TAR_S" "$COLD_S" "$WARM_S" "$COLD_MB" "$WARM_MB" "$NOOP_S" "$OURS" "$THEIRS" "$INPROC_S" <<'PY'
import sys
tar, cold, warm, cold_mb, warm_mb, noop, ours, theirs, inproc = map(float, sys.argv[1:])
print(f"tar -czf            {tar:7.3f} s   ({theirs / 1e6:.1f} MB archive)")
print(f"flytesharp cold     {cold:7.3f} s   ({ours / 1e6:.1f} MB archive)  ratio cold/tar = {cold / tar:.2f}  (goal <= 1.00)")
print(f"flytesharp warm     {warm:7.3f} s   warm/cold = {100 * warm / cold:.1f}%  (goal < 5%)")
print(f"  (of which .NET process start: {noop:.3f} s, measured as `flytesharp version`)")
print(f"warm in-process     {inproc:7.3f} s   warm/cold = {100 * inproc / cold:.1f}%  (library call in a running process, median of 5)")
print(f"peak RSS            cold {cold_mb:.0f} MB, warm {warm_mb:.0f} MB  (goal < 150 MB)")
PY

#!/usr/bin/env bash
# Code bundle benchmark: a generated tree of 5,000 files / ~100 MB.
#   cold  = `flytesharp bundle` with an empty cache, next to `tar -czf` of the same tree in the same run (ratio printed)
#   warm  = `flytesharp bundle` again on the unchanged tree, as a new process and as a library call in a
#           running process (goal: < 5% of cold)
#   peak  = peak RSS of the bundling process (goal: < 150 MB)
#   floor = `find -printf` of the same stat fields (size, mtime, ctime, inode, device) over the same tree:
#           the cost of the metadata calls any stat-based warm check must make, measured in the same run
# Timings are medians of several runs (the machine is shared; single runs are noisy).
# Usage: bench/bundle.sh [files] [megabytes]
set -euo pipefail
cd "$(dirname "$0")/.."
FILES=${1:-5000}
MB=${2:-100}
WORK=$(mktemp -d /tmp/flytesharp-bench-XXXXXX)
trap 'rm -rf "$WORK"' EXIT

dotnet build src/FlyteSharp.Cli -c Release -v q -nologo >/dev/null
CLI="src/FlyteSharp.Cli/bin/Release/net10.0/FlyteSharp.Cli.dll"
# The same CLI published ReadyToRun (precompiled: a short-lived process then JITs almost nothing).
dotnet publish src/FlyteSharp.Cli -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true -o "$WORK/r2r" -v q -nologo >/dev/null
R2R="$WORK/r2r/FlyteSharp.Cli.dll"

python3 bench/generate_tree.py "$WORK/tree" "$FILES" "$MB"
echo "tree: $(find "$WORK/tree" -type f | wc -l) files, $(du -sm "$WORK/tree" | cut -f1) MB"
# Let the tree age past the racy-timestamp window, as a real tree between runs would.
sleep 1

export FLYTESHARP_HOME="$WORK/home" FLYTESHARP_STORE="file://$WORK/store"
# Warm the page cache so both tools read from memory.
tar -cf - -C "$WORK/tree" . >/dev/null

# median of N runs of a command: prints "<seconds> <peak MiB>"
median() {
  local n=$1; shift
  for _ in $(seq "$n"); do python3 bench/measure.py "$@"; done | sort -n | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}'
}

read -r TAR_S TAR_MB < <(median 3 tar -czf "$WORK/baseline.tar.gz" -C "$WORK/tree" .)
read -r COLD_S COLD_MB < <(python3 bench/measure.py dotnet "$CLI" bundle "$WORK/tree" --json)
for _ in 1 2 3; do rm -rf "$WORK/home2"; FLYTESHARP_HOME="$WORK/home2" python3 bench/measure.py dotnet "$CLI" bundle "$WORK/tree" --json; done \
  | sort -n | awk '{a[NR]=$0} END {print a[2]}' > "$WORK/cold"
read -r COLD_S COLD_MB < "$WORK/cold"
read -r FIND_S _ < <(median 5 sh -c "find '$WORK/tree' -printf '%s %T@ %C@ %i %D\n' >/dev/null")
read -r WARM_S WARM_MB < <(median 5 dotnet "$CLI" bundle "$WORK/tree" --json)
read -r R2R_S R2R_MB < <(median 5 dotnet "$R2R" bundle "$WORK/tree" --json)
read -r NOOP_S _ < <(median 5 dotnet "$CLI" version)
read -r R2R_NOOP_S _ < <(median 5 dotnet "$R2R" version)
INPROC_S=$(dotnet run -c Release bench/bundle-warm.cs "$WORK/tree" "$WORK/home/cache/bundles" 2>/dev/null | tail -1)

OURS=$(ls -l "$WORK"/home/cache/bundles/blobs/sha256/*.tar.gz | awk '{print $5}')
THEIRS=$(stat -c %s "$WORK/baseline.tar.gz")
python3 - "$TAR_S" "$COLD_S" "$WARM_S" "$COLD_MB" "$WARM_MB" "$NOOP_S" "$OURS" "$THEIRS" "$INPROC_S" "$FIND_S" "$R2R_S" "$R2R_NOOP_S" "$R2R_MB" <<'PY'
import sys
tar, cold, warm, cold_mb, warm_mb, noop, ours, theirs, inproc, find, r2r, r2r_noop, r2r_mb = map(float, sys.argv[1:])
print(f"tar -czf              {tar:7.3f} s   ({theirs / 1e6:.1f} MB archive)")
print(f"flytesharp cold       {cold:7.3f} s   ({ours / 1e6:.1f} MB archive)  cold/tar = {cold / tar:.2f}  (goal <= 1.00)")
print(f"warm in-process       {inproc:7.3f} s   warm/cold = {100 * inproc / cold:.1f}%  (goal < 5%; library call in a running process, median of 9)")
print(f"  stat floor (find)   {find:7.3f} s   warm in-process / find = {inproc / find:.2f}  (find -printf of size, mtime, ctime, inode, device; incl. its process start)")
print(f"warm CLI (JIT)        {warm:7.3f} s   warm/cold = {100 * warm / cold:.1f}%  (.NET start, `flytesharp version`: {noop:.3f} s; without it {100 * max(warm - noop, 0) / cold:.1f}%)")
print(f"warm CLI (ReadyToRun) {r2r:7.3f} s   warm/cold = {100 * r2r / cold:.1f}%  (.NET start, `flytesharp version`: {r2r_noop:.3f} s; without it {100 * max(r2r - r2r_noop, 0) / cold:.1f}%)")
print(f"peak RSS              cold {cold_mb:.0f} MB, warm {warm_mb:.0f} MB, warm ReadyToRun {r2r_mb:.0f} MB  (goal < 150 MB)")
PY

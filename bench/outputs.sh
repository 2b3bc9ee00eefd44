#!/usr/bin/env bash
# Large outputs and logs (issue 8.7): peak RSS (VmHWM of that one process) of
#   driver  = `flytesharp run` of a Python task (the run's whole life: bundle, worker, store writes),
#   show    = `flytesharp runs show` of the finished run,
#   serve   = `flytesharp serve` while it answers GET of the run page, /api/runs/<run>, the whole output
#             (/api/runs/<run>/output, streamed) and the whole log (/runs/<run>/logs, streamed),
#   output  = `flytesharp runs output <run> -o FILE`,
# for a ~200 MB output and a ~100 MB log, next to the same run with a tiny output (the baseline, same run of this
# script). Goal: every large case <= 150 MB. The Python worker's own memory (the task builds its 200 MB value) is
# the task's, not FlyteSharp's, and is not counted.
# Usage: bench/outputs.sh [output MB] [log MB]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT_MB=${1:-200}
LOG_MB=${2:-100}
WORK=$(mktemp -d /tmp/flytesharp-bench-outputs-XXXXXX)
trap 'rm -rf "$WORK"' EXIT

dotnet build src/FlyteSharp.Cli -c Release -v q -nologo >/dev/null
dotnet build bench/outputs -v q -nologo >/dev/null
CLI="src/FlyteSharp.Cli/bin/Release/net10.0/FlyteSharp.Cli.dll"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$WORK/flytesharp.toml" <<TOML
home = "$WORK/home"
root_dir = "$PWD/bench/outputs/src"
[storage]
uri = "file://$WORK/store"
[runs]
database = "$WORK/runs.db"
console_url = "http://localhost:$PORT"
TOML
export FLYTESHARP_CONFIG="$WORK/flytesharp.toml"
URL="http://localhost:$PORT"

measure() { python3 bench/peak_rss.py "$@" | tail -1 | cut -d' ' -f2; }

declare -A DRIVER SHOW SERVE OUTPUT
sizes=()
for case in tiny output log; do
  case $case in
    tiny) task=tiny; input="n=1" ;;
    output) task=big_output; input="mb=$OUT_MB" ;;
    log) task=big_log; input="mb=$LOG_MB" ;;
  esac
  run="bench-$case"
  DRIVER[$case]=$(measure -- dotnet "$CLI" run bench/outputs "$task" --no-build --name "$run" --input "$input")
  SHOW[$case]=$(measure -- dotnet "$CLI" runs show "$run")
  SERVE[$case]=$(measure --during "curl -sf $URL/runs/$run -o /dev/null && curl -sf $URL/api/runs/$run -o /dev/null \
    && curl -sf $URL/api/runs/$run/output -o $WORK/served.json && curl -sf $URL/runs/$run/logs -o $WORK/served.log" \
    -- dotnet "$CLI" serve --port "$PORT")
  OUTPUT[$case]=$(measure -- dotnet "$CLI" runs output "$run" -o "$WORK/output.json" 2>/dev/null)
  sizes[${#sizes[@]}]="$case: output $(stat -c %s "$WORK/output.json") B (served $(stat -c %s "$WORK/served.json") B), log served $(stat -c %s "$WORK/served.log") B"
done

echo "peak RSS, MiB (VmHWM of the one process; output ${OUT_MB} MB, log ${LOG_MB} MB)"
printf '%-16s %9s %9s %9s %9s\n' case driver "runs show" serve "runs output"
for case in tiny output log; do
  printf '%-16s %9s %9s %9s %9s\n' "$case" "${DRIVER[$case]}" "${SHOW[$case]}" "${SERVE[$case]}" "${OUTPUT[$case]}"
done
for case in output log; do
  python3 - "$case" "${DRIVER[$case]}" "${DRIVER[tiny]}" "${SERVE[$case]}" "${SERVE[tiny]}" "${SHOW[$case]}" "${SHOW[tiny]}" <<'PY'
import sys
name, d, d0, s, s0, r, r0 = sys.argv[1], *map(float, sys.argv[2:])
print(f"{name:<16} vs tiny: driver x{d / d0:.2f}, serve x{s / s0:.2f}, runs show x{r / r0:.2f}; "
      f"goal <= 150 MB: {'met' if max(d, s, r) <= 150 else 'MISSED'}")
PY
done
printf '%s\n' "${sizes[@]}"

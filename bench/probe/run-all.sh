#!/usr/bin/env bash
# The whole probe, for both suite versions: export the tasks (bench/probe/export-all.sh), then the answer probe
# (4 minutes) and the counting probe (3 minutes) per version, niced (the machine is shared). Writes
# OUT/answer-<v>.json, OUT/count-<v>.json and prints the tables. Usage: bench/probe/run-all.sh [OUT=/tmp/probe]
set -euo pipefail
out=${1:-/tmp/probe}
cd "$(dirname "$0")/../.."
for suite in v1 v2; do
  nice -n 10 bench/probe/export-all.sh "$suite" "$out"
  nice -n 10 /usr/bin/python3 bench/probe/answerProbe.py "$out/$suite-perceptual" "$out/$suite-reasoning" \
    --seconds 240 --eval-every 60 --json "$out/answer-$suite.json"
  nice -n 10 /usr/bin/python3 bench/probe/countProbe.py "$out/$suite-perceptual" --reasoning "$out/$suite-reasoning" \
    --seconds 180 --json "$out/count-$suite.json"
done

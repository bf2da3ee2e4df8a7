#!/usr/bin/env bash
# Exports the probe's data for one suite version: the perceptual knob at reasoning level 0 (seed 1) and the
# reasoning knob at perceptual level 0 (seed 2), train and validation. Usage: bench/probe/export-all.sh v2 /tmp/probe [train] [validation]
set -euo pipefail
suite=$1 out=$2 train=${3:-8000} validation=${4:-1200}
cd "$(dirname "$0")/../.."
for split in train validation; do
  n=$train; [ "$split" = validation ] && n=$validation
  node --import tsx bench/probe/exportSuite.ts --suite "$suite" --split "$split" --n "$n" --seed 1 \
    --perceptual-levels 0,1,2,3 --reasoning-levels 0 --out "$out/$suite-perceptual"
  node --import tsx bench/probe/exportSuite.ts --suite "$suite" --split "$split" --n "$n" --seed 2 \
    --perceptual-levels 0 --reasoning-levels 0,1,2,3 --out "$out/$suite-reasoning"
done

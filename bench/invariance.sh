#!/usr/bin/env bash
# Phantom invariance study (docs/METRICS.md, "Where it comes from: JPEG"): drift of the primary
# metrics under capture nuisance alone, 16 patients x 6 sessions with JPEG q85-95 (and the drift
# the run's recapture bootstrap predicts for it), the same without
# JPEG, the same with each pair's compression matched, then one factor at a time for patient 23.
# bench/results/invariance.txt (~60 s).
set -u
BUILD=${BUILD:-build}
cd "$(dirname "$0")/.."
mkdir -p bench/results
out=bench/results/invariance.txt
{
    "$BUILD/bench/bench_invariance" --patients 16 --sessions 6 --predict 8 &&
    echo &&
    "$BUILD/bench/bench_invariance" --patients 16 --sessions 6 --lossless &&
    echo &&
    "$BUILD/bench/bench_invariance" --patients 16 --sessions 6 --match &&
    echo &&
    "$BUILD/bench/bench_invariance" --factors 23
} > "$out.tmp" || { rm -f "$out.tmp"; exit 1; }
mv "$out.tmp" "$out"
cat "$out"
echo "wrote $out"

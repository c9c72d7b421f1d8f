#!/usr/bin/env bash
# Pipeline benchmark: a 24 MP before/after pair vs libjpeg-turbo decode, its time per stage, the
# 2-core throughput and peak RSS. Writes bench/results/pipeline.txt and bench/results/pipeline.csv
# (stage,ms,share); the last line is `pipeline_to_decode_ratio=R pairs_per_minute_2cores=P`.
set -euo pipefail
BUILD=${BUILD:-build}
cd "$(dirname "$0")/.."
mkdir -p bench/results
OPENBLAS_NUM_THREADS=1 "$BUILD/bench/bench_pipeline" "$BUILD/bench-pipeline" | tee bench/results/pipeline.txt.tmp
mv bench/results/pipeline.txt.tmp bench/results/pipeline.txt

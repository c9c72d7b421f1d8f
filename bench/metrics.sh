#!/usr/bin/env bash
# Skin metrics: all metrics for the 13 regions of one 1600x2000 canonical image, one thread, per
# CPU level (thread CPU time). bench/results/metrics.csv.
set -u
BUILD=${BUILD:-build}
cd "$(dirname "$0")/.."
mkdir -p bench/results
"$BUILD/bench/bench_metrics" bench/results/metrics.csv "$@" || exit 1
echo "wrote bench/results/metrics.csv"

#!/usr/bin/env bash
# `make bench`: the kernel benchmark (build/bench/bench_kernels: table on stdout,
# bench/results/kernels.csv + kernels.svg), then every other bench/*.sh script.
set -u
BUILD=${BUILD:-build}
cd "$(dirname "$0")/.."
rc=0
"$BUILD/bench/bench_kernels" "$@" || rc=1
for s in bench/*.sh; do
    [ "$(basename "$s")" = run.sh ] && continue
    [ -f "$s" ] || continue
    echo
    echo "== $s"
    BUILD="$BUILD" bash "$s" || rc=1
done
exit $rc

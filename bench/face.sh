#!/usr/bin/env bash
# Face stage speed: detection (sizes 320, 416, 608) + 68 landmarks (with re-crop passes) on a
# 1920x1280 photo and on a 6000x4000 JPEG (decode included), one OpenBLAS thread. The test
# photos are made here from tests/data/face/astronaut.png with libvips (nothing big is
# committed). Appends to bench/results/face.csv.
set -eu
BUILD=${BUILD:-build}
BIN=${SKINDELTA_BIN:-$BUILD/skindelta}
RUNS=${FACE_BENCH_RUNS:-15}
export OPENBLAS_NUM_THREADS=1
if ! command -v vips >/dev/null 2>&1; then
    echo "bench/face.sh: the vips command line tool is missing; skipped"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
src=tests/data/face/astronaut.png
# 1920x1280: the portrait scaled to the frame height, centred on grey (face ~290 px wide).
vips resize "$src" "$tmp/a1280.v" 2.5
vips embed "$tmp/a1280.v" "$tmp/photo_1920x1280.png" 320 0 1920 1280 --extend background --background "128 128 128"
vips copy "$tmp/photo_1920x1280.png" "$tmp/photo_1920x1280.jpg[Q=92]"
# 6000x4000 JPEG (24 MP), face ~900 px wide.
vips resize "$src" "$tmp/a4000.v" 7.8125
vips embed "$tmp/a4000.v" "$tmp/photo_6000x4000.jpg[Q=92]" 1000 0 6000 4000 --extend background --background "128 128 128"

mkdir -p bench/results
csv=bench/results/face.csv
# wall medians, and CPU medians (decode: all threads of the process; nets: the one thread)
[ -f "$csv" ] || echo "date,git,image,width,height,runs,decode_detect_landmarks_ms,detect_landmarks_ms,decode_detect_landmarks_cpu_ms,detect_landmarks_cpu_ms" > "$csv"
for img in photo_1920x1280.png photo_1920x1280.jpg photo_6000x4000.jpg; do
    line=$("$BIN" landmarks "$tmp/$img" --bench "$RUNS")
    echo "$line" | sed "s|$tmp/||"
    tot=$(echo "$line" | sed -E 's/.*decode\+detect\+landmarks median ([0-9.]+) ms.*/\1/')
    net=$(echo "$line" | sed -E 's/.*; detect\+landmarks median ([0-9.]+) ms.*/\1/')
    totc=$(echo "$line" | sed -E 's/.*decode\+detect\+landmarks median [0-9.]+ ms \(min [0-9.]+, cpu median ([0-9.]+)\).*/\1/')
    netc=$(echo "$line" | sed -E 's/.*; detect\+landmarks median [0-9.]+ ms \(min [0-9.]+, cpu median ([0-9.]+)\).*/\1/')
    wh=$(echo "$line" | sed -E 's/^bench [^ ]+ ([0-9]+)x([0-9]+) .*/\1,\2/')
    echo "$(date -u +%FT%TZ),$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown),$img,$wh,$RUNS,$tot,$net,$totc,$netc" >> "$csv"
done
echo "face: results appended to $csv (targets: 1920x1280 < 80 ms, 6000x4000 JPEG with decode < 250 ms;"
echo "      on a loaded machine the CPU medians are the figures to compare)"

#!/usr/bin/env bash
# Integration test of `skindelta bench --kernels` on a small size: usage errors exit 2, the CSV has
# the contract header and one row per kernel x supported level with positive MP/s and scalar = 1.
ITEST_NAME=benchk; . "$(dirname "$0")/../lib/itest.sh"

"$BIN" bench --help > "$T/help.txt"; rc=$?
check "help exits 0" '[ $rc = 0 ] && grep -q -- "--kernels" "$T/help.txt"'
"$BIN" bench 2>/dev/null; rc=$?
check "nothing to run: exit 2" '[ $rc = 2 ]'
"$BIN" bench --kernels --only no_such_kernel --no-opencv --no-files >/dev/null 2>&1; rc=$?
check "unknown kernel: exit 2" '[ $rc = 2 ]'
"$BIN" bench --kernels --reps 0 2>/dev/null; rc=$?
check "bad --reps: exit 2" '[ $rc = 2 ]'

"$BIN" bench --kernels --quick --reps 1 --no-opencv --only gauss_s2,warp_affine,rgb_to_lab \
    --out "$T/res" > "$T/out.txt" 2>&1; rc=$?
check "quick run exits 0" '[ $rc = 0 ]'
csv="$T/res/kernels.csv"
check "CSV header" '[ "$(head -n 1 "$csv")" = "kernel,width,height,isa,mpix_per_s,speedup_vs_scalar,opencv_mpix_per_s,ratio_vs_opencv" ]'
levels=$(grep -c '^gauss_s2,' "$csv")
check "one row per kernel x level" '[ "$(($(wc -l < "$csv") - 1))" = "$((3 * levels))" ] && [ "$levels" -ge 1 ]'
check "scalar rows have speed-up 1.00" '[ "$(grep ",scalar," "$csv" | cut -d, -f6 | sort -u)" = "1.00" ]'
check "all MP/s positive" '! cut -d, -f5 "$csv" | tail -n +2 | grep -qvE "^[0-9]+\.[0-9]+$" && ! cut -d, -f5 "$csv" | tail -n +2 | grep -qE "^0\.0$"'
check "OpenCV cells empty with --no-opencv" '[ "$(cut -d, -f7,8 "$csv" | tail -n +2 | sort -u)" = "," ]'
check "SVG written" 'grep -q "<svg" "$T/res/kernels.svg"'
check "table printed" 'grep -q "^gauss_s2 *scalar" "$T/out.txt"'

itest_end

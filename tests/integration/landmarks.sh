#!/usr/bin/env bash
# Integration test of `skindelta landmarks`: usage errors exit 2, the package-compatible mode
# reproduces the reference landmarks, JSON has 68 points, the overlay is written, and an image
# without a face exits 1 with a clear message.
ITEST_NAME=landmarks; . "$(dirname "$0")/../lib/itest.sh"
IMG=tests/data/face/astronaut.png

"$BIN" landmarks --help > "$T/help.txt"; rc=$?
check "help exits 0" '[ $rc = 0 ] && grep -q "usage: skindelta landmarks" "$T/help.txt"'
"$BIN" landmarks 2>/dev/null; rc=$?
check "no image: exit 2" '[ $rc = 2 ]'
"$BIN" landmarks "$IMG" --input-size 100 2>/dev/null; rc=$?
check "bad input size: exit 2" '[ $rc = 2 ]'
"$BIN" landmarks "$IMG" --frobnicate 2>/dev/null; rc=$?
check "unknown option: exit 2" '[ $rc = 2 ]'

"$BIN" landmarks "$IMG" --compat > "$T/compat.txt"; rc=$?
# the package's own point 0 and 30 (nose tip) on this image: (176.61, 100.62), (223.32, 128.05)
check "compat run exits 0" '[ $rc = 0 ]'
check "compat point 0 matches the package" 'grep -qx "0 176.61 100.62" "$T/compat.txt"'
check "compat point 30 matches the package" 'grep -qx "30 223.32 128.05" "$T/compat.txt"'
check "compat box matches the package" 'grep -qx "box 163.25 75.66 116.04 110.98" "$T/compat.txt"'

"$BIN" landmarks "$IMG" --json -o "$T/overlay.png" > "$T/lm.json"; rc=$?
check "json run exits 0" '[ $rc = 0 ]'
n=$(grep -oE '\[-?[0-9.]+,-?[0-9.]+\]' "$T/lm.json" | wc -l)
check "json has 68 points ($n)" '[ "$n" = 68 ]'
check "json reports faces and sizes" 'grep -q "\"faces_found\":1" "$T/lm.json" && grep -q "\"input_sizes\":\[320,416,608\]" "$T/lm.json"'
check "overlay written at the input's size" 'file "$T/overlay.png" | grep -q "$(file "$IMG" | grep -oE "[0-9]+ x [0-9]+")"'

# A flat grey picture (binary PPM) has no face.
{ printf 'P6\n96 80\n255\n'; head -c $((96 * 80 * 3)) /dev/zero | tr '\0' '\200'; } > "$T/grey.ppm"
"$BIN" landmarks "$T/grey.ppm" 2> "$T/noface.err" > /dev/null; rc=$?
check "no face: exit 1" '[ $rc = 1 ]'
check "no face: message" 'grep -q "no face found" "$T/noface.err"'

itest_end

#!/usr/bin/env bash
# Integration test of `skindelta align`: usage errors exit 2; the astronaut pair gives every output
# (canonical 1600x2000 images, side-by-side, blink page, difference, region overlay) and an
# alignment.csv with the contract columns, status ok and the follow-up's transform near the truth;
# `--roi whole` registers a rotated, scaled, shifted crop without landmarks.
# SD_CPU_SENSITIVE
ITEST_NAME=align; . "$(dirname "$0")/../lib/itest.sh"
A=tests/data/face/astronaut.png
B=tests/data/face/astronaut_moved.png

"$BIN" align --help > "$T/help.txt"; rc=$?
check "help exits 0" '[ $rc = 0 ] && grep -q "usage: skindelta align" "$T/help.txt"'
"$BIN" align "$A" 2>/dev/null; rc=$?
check "one image: exit 2" '[ $rc = 2 ]'
"$BIN" align "$A" "$B" 2>/dev/null; rc=$?
check "no -o: exit 2" '[ $rc = 2 ]'
"$BIN" align "$A" "$B" -o "$T/x" --motion spiral 2>/dev/null; rc=$?
check "bad motion: exit 2" '[ $rc = 2 ]'
"$BIN" align "$A" "$B" -o "$T/x" --photometry chart 2>/dev/null; rc=$?
check "chart without --chart: exit 2" '[ $rc = 2 ]'

"$BIN" align "$A" "$B" -o "$T/out" > "$T/log.txt"; rc=$?
check "astronaut pair exits 0" '[ $rc = 0 ]'
for f in before.png after.png side_by_side.png blink.html difference.png regions.png alignment.csv; do
    check "writes $f" '[ -s "$T/out/$f" ]'
done
check "csv header has the contract columns" \
    'head -1 "$T/out/alignment.csv" | grep -q "^patient,view,session,face_score,landmark_rms_px,ecc,a11,a12,tx,a21,a22,ty,status"'
check "follow-up row status ok" '[ "$(sed -n 3p "$T/out/alignment.csv" | cut -d, -f13)" = ok ]'
check "ecc is reported" 'awk -F, "NR==3 && \$6 > 0.5 {f=1} END {exit !f}" "$T/out/alignment.csv"'
check "before.png is 1600x2000" 'file "$T/out/before.png" | grep -q "1600 x 2000"'
check "side_by_side.png is 3200x2000" 'file "$T/out/side_by_side.png" | grep -q "3200 x 2000"'

# roi whole: the same pair (7 deg, x1.08, shifted) registered without landmarks
"$BIN" align "$A" "$B" -o "$T/whole" --roi whole > "$T/whole.txt"; rc=$?
check "roi whole exits 0" '[ $rc = 0 ]'
check "roi whole: one region, no face score" '[ "$(sed -n 2p "$T/whole/alignment.csv" | cut -d, -f4)" = "" ]'
check "roi whole: status not failed" '[ "$(sed -n 3p "$T/whole/alignment.csv" | cut -d, -f13)" != failed ]'

itest_end

#!/usr/bin/env bash
# Integration test of `skindelta align`: usage errors exit 2; the astronaut pair gives every output
# (canonical 1600x2000 JPEG previews, side-by-side, blink page, difference, the regions' overlay
# mask as an indexed PNG; lossless PNGs only with --save-aligned) and an
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
for f in before.jpg after.jpg side_by_side.jpg blink.html difference.jpg regions.png alignment.csv; do
    check "writes $f" '[ -s "$T/out/$f" ]'
done
check "csv header has the contract columns" \
    'head -1 "$T/out/alignment.csv" | grep -q "^patient,view,session,face_score,landmark_rms_px,ecc,a11,a12,tx,a21,a22,ty,status"'
check "follow-up row status ok" '[ "$(sed -n 3p "$T/out/alignment.csv" | cut -d, -f13)" = ok ]'
# the follow-up's transform composed with the baseline's (both from original photo px to the
# canonical frame) is the fixture's known photo-to-photo transform: linear part within 0.005,
# shift within 1 px
F=$(awk -F, -v b=2 -v a=3 -f tests/lib/affine.awk "$T/out/alignment.csv"); echo "  F = $F"
check "follow-up transform is the fixture's (astronaut_moved_transform.txt)" \
    "echo '$F' | awk 'NR==FNR { n = split(\$0, g, \" \"); next } !/^#/ { for (i = 1; i <= 3; i++) w[++k] = \$i }
        END { if (n != 6 || k != 6) exit 1; for (i = 1; i <= 6; i++) { d = g[i] - w[i]; d = d < 0 ? -d : d
              if (d > ((i == 3 || i == 6) ? 1.0 : 0.005)) exit 1 } }' - tests/data/face/astronaut_moved_transform.txt"
check "baseline transform: the canonical scale (px_per_mm / sqrt det of the photo part) is consistent" \
    "awk -F, 'NR==2 { s = sqrt(\$7 * \$11 - \$8 * \$10); exit !(s > 1 && \$16 > 5 && \$7 > 0 && (\$7 - \$11) ^ 2 < 1e-12) }' \"\$T/out/alignment.csv\""
check "ecc is reported" 'awk -F, "NR==3 && \$6 > 0.5 {f=1} END {exit !f}" "$T/out/alignment.csv"'
check "before.jpg is 1600x2000" 'file "$T/out/before.jpg" | grep -q "1600x2000"'
check "side_by_side.jpg is 3200x2000" 'file "$T/out/side_by_side.jpg" | grep -q "3200x2000"'
check "after.jpg, difference.jpg are 1600x2000 too, regions.png a 1600x2000 indexed PNG" \
    'file "$T/out/after.jpg" | grep -q "1600x2000" && file "$T/out/difference.jpg" | grep -q "1600x2000" &&
     file "$T/out/regions.png" | grep -q "1600 x 2000, 8-bit colormap"'
check "no lossless copies without --save-aligned" '[ ! -e "$T/out/before.png" ] && [ ! -e "$T/out/after.png" ]'
check "under 2 MB written" '[ $(cat "$T"/out/* | wc -c) -lt 2000000 ]'
check "blink.html shows before.jpg and after.jpg" 'grep -q "before.jpg" "$T/out/blink.html" && grep -q "after.jpg" "$T/out/blink.html"'
check "the log warns of the mostly masked perioral region (the open mouth)" \
    'grep -Eq "^warning: region perioral is mostly masked out \([0-9]+ of [0-9]+ px\)" "$T/log.txt"'
check "the log names the status and the ECC" 'grep -Eq "status (ok|warn), ecc 0\.[5-9]" "$T/log.txt"'

# a small frame (--iod 64: 160 x 200) with --save-aligned: the lossless before.png and after.png
# are the same alignment as the previews
"$BIN" align "$A" "$B" -o "$T/small" --iod 64 --save-aligned > /dev/null; rc=$?
check "--iod 64 --save-aligned: a 160x200 frame, lossless copies too (rc $rc)" \
    '[ $rc = 0 ] && file "$T/small/before.png" | grep -q "160 x 200" && file "$T/small/after.png" | grep -q "160 x 200" &&
     file "$T/small/before.jpg" | grep -q "160x200" && file "$T/small/side_by_side.jpg" | grep -q "320x200"'
"$BIN" align "$A" "$B" -o "$T/small" --iod 64 > /dev/null; rc=$?
check "the same OUT again without --save-aligned: the lossless copies removed (rc $rc)" \
    '[ $rc = 0 ] && [ ! -e "$T/small/before.png" ] && [ -s "$T/small/before.jpg" ]'

# roi whole: the same pair (7 deg, x1.08, shifted) registered without landmarks
"$BIN" align "$A" "$B" -o "$T/whole" --roi whole > "$T/whole.txt"; rc=$?
check "roi whole exits 0" '[ $rc = 0 ]'
check "roi whole: one region, no face score" '[ "$(sed -n 2p "$T/whole/alignment.csv" | cut -d, -f4)" = "" ]'
check "roi whole: status not failed" '[ "$(sed -n 3p "$T/whole/alignment.csv" | cut -d, -f13)" != failed ]'
# the overlap thresholds (this pair's skin overlap is 0.92): above it, fail or warn as asked
"$BIN" align "$A" "$B" -o "$T/ofail" --roi whole --overlap-fail 0.95 > /dev/null; rc=$?
check "--overlap-fail 0.95 above the overlap: status failed, exit 1 (rc $rc)" \
    '[ $rc = 1 ] && [ "$(sed -n 3p "$T/ofail/alignment.csv" | cut -d, -f13)" = failed ]'
"$BIN" align "$A" "$B" -o "$T/owarn" --roi whole --overlap-warn 0.95 > /dev/null; rc=$?
check "--overlap-warn 0.95 above the overlap: status warn, exit 0 (rc $rc)" \
    '[ $rc = 0 ] && [ "$(sed -n 3p "$T/owarn/alignment.csv" | cut -d, -f13)" = warn ]'
F=$(awk -F, -v b=2 -v a=3 -f tests/lib/affine.awk "$T/whole/alignment.csv"); echo "  roi whole: F = $F"
check "roi whole: the transform is the fixture's too (linear 0.01, shift 2 px)" \
    "echo '$F' | awk 'NR==FNR { n = split(\$0, g, \" \"); next } !/^#/ { for (i = 1; i <= 3; i++) w[++k] = \$i }
        END { if (n != 6 || k != 6) exit 1; for (i = 1; i <= 6; i++) { d = g[i] - w[i]; d = d < 0 ? -d : d
              if (d > ((i == 3 || i == 6) ? 2.0 : 0.01)) exit 1 } }' - tests/data/face/astronaut_moved_transform.txt"

itest_end

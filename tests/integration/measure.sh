#!/usr/bin/env bash
# `skindelta measure IMG... -o OUT`: per-image metrics without a course. Its rows equal the
# baseline rows `run` writes for the same photo (face and --roi whole), it writes the documented
# tables, images and masks, and a photo that cannot be measured is an errors.csv row and exit 1.
ITEST_NAME=measure; . "$(dirname "$0")/../lib/itest.sh"
FACE=samples/faces/astronaut.png
[ -f $FACE ] || FACE=tests/data/face/astronaut.png
MH='patient,view,session,session_index,days,region,metric,value,unit,better,qc'

"$BIN" measure --help > $T/help.txt; rc=$?
check "measure --help (rc $rc)" "[ $rc -eq 0 ] && grep -q 'usage: skindelta measure IMG... -o OUT' $T/help.txt && grep -q 'masks/' $T/help.txt"
"$BIN" measure $FACE 2>$T/e1; rc1=$?
"$BIN" measure -o $T/none 2>$T/e2; rc2=$?
check "no -o, no image: exit 2 (rc $rc1 $rc2)" "[ $rc1 -eq 2 ] && [ $rc2 -eq 2 ] && grep -q 'measure --help' $T/e1 && [ ! -e $T/none ]"

# ---- face: two photos of one name, and a missing one
mkdir -p $T/b && cp $FACE $T/b/astronaut.png
"$BIN" measure $FACE $T/b/astronaut.png $T/missing.jpg -o $T/m --quiet 2>$T/m.err; rc=$?
check "a missing photo: exit 1, an errors.csv row naming it (rc $rc)" \
      "[ $rc -eq 1 ] && grep -q '^$T/missing.jpg,load,' $T/m/errors.csv && grep -q 'missing.jpg' $T/m.err"
check "measurements.csv has run's header and 13 regions x 12 metrics per photo" \
      "[ \"\$(head -n 1 $T/m/measurements.csv)\" = '$MH' ] && [ \$(grep -c '^astronaut,front,measure,0,,' $T/m/measurements.csv) -eq 156 ] && [ \$(grep -c '^astronaut_2,front,measure,0,,' $T/m/measurements.csv) -eq 156 ]"
check "images.csv: one row per measured photo, with its sha256" \
      "[ \$(wc -l < $T/m/images.csv) -eq 3 ] && grep -q \"^astronaut_2,$T/b/astronaut.png,\$(sha256sum $FACE | cut -c1-64),512,512,\" $T/m/images.csv"
png() { [ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = '211PNG' ]; }
jpg() { [ "$(head -c 3 "$1" | od -An -tx1 | tr -d ' ')" = 'ffd8ff' ]; }
check "images/: the canonical image's JPEG preview and its overlay masks (indexed PNG), no lossless copy" \
      "jpg $T/m/images/astronaut.jpg && png $T/m/images/astronaut_regions.png && png $T/m/images/astronaut_wrinkles.png && png $T/m/images/astronaut_spots.png &&
       file $T/m/images/astronaut_regions.png | grep -q colormap && file $T/m/images/astronaut_spots.png | grep -q colormap &&
       [ ! -e $T/m/images/astronaut.png ]"
check "masks/: the skin and each region's mask, 1-bit" \
      "png $T/m/masks/astronaut_skin.png && png $T/m/masks/astronaut_cheek_l.png && [ \$(ls $T/m/masks | grep -c '^astronaut_2_') -eq 14 ] &&
       file $T/m/masks/astronaut_skin.png | grep -q '1-bit grayscale'"
"$BIN" measure $FACE -o $T/ms --quiet --save-aligned 2>/dev/null; rc=$?
check "--save-aligned: the lossless canonical image too (rc $rc)" \
      "[ $rc -eq 0 ] && png $T/ms/images/astronaut.png && jpg $T/ms/images/astronaut.jpg"
check "codebook.csv beside the tables" "\"$BIN\" metrics --csv | cmp -s - $T/m/codebook.csv"

# ---- the same numbers as run's baseline rows
mkdir -p $T/c/p1/s1 $T/c/p1/s2 && cp $FACE $T/c/p1/s1/front.png && cp $FACE $T/c/p1/s2/front.png
"$BIN" run $T/c -o $T/r --bootstrap 0 --no-images --no-report --quiet -j1 2>/dev/null; rc=$?
awk -F, '$3 == "s1" {print $6 "," $7 "," $8 "," $9 "," $11}' $T/r/measurements.csv > $T/run.rows
awk -F, '$1 == "astronaut" {print $6 "," $7 "," $8 "," $9 "," $11}' $T/m/measurements.csv > $T/measure.rows
check "face: region,metric,value,unit,qc equal run's baseline rows (rc $rc, $(wc -l < $T/run.rows) rows)" \
      "[ $rc -eq 0 ] && [ \$(wc -l < $T/run.rows) -eq 156 ] && cmp -s $T/run.rows $T/measure.rows"

"$BIN" synth -o $T/syn --size 200 --patients 1 --sessions 2 --seed 9 >/dev/null
"$BIN" measure $T/syn/p001/s1/front.jpg -o $T/w --roi=whole --px-per-mm=10 --no-images --quiet; rc1=$?
"$BIN" run $T/syn -o $T/rw --roi whole --px-per-mm 10 --bootstrap 0 --no-images --no-report --quiet 2>/dev/null; rc2=$?
awk -F, '$3 == "s1" {print $6 "," $7 "," $8 "," $9}' $T/rw/measurements.csv > $T/runw.rows
awk -F, 'NR > 1 {print $6 "," $7 "," $8 "," $9}' $T/w/measurements.csv > $T/measw.rows
check "--roi whole: the rows equal run's baseline rows (rc $rc1 $rc2)" \
      "[ $rc1 -eq 0 ] && [ $rc2 -eq 0 ] && [ \$(wc -l < $T/runw.rows) -eq 12 ] && cmp -s $T/runw.rows $T/measw.rows && [ ! -e $T/w/images ]"
check "--roi whole names the photo after its file (front)" "grep -q '^front,front,measure,0,,whole,texture_roughness,' $T/w/measurements.csv"

itest_end

#!/usr/bin/env bash
# Integration test of `skindelta run` (SD_CPU_SENSITIVE: also run with SKINDELTA_CPU=scalar):
# contract files and columns, failure handling (corrupt follow-up, missing baseline, no face),
# exit codes, kill -9 then --resume equal to an uninterrupted run, shard + merge equal to one run,
# compare and repeatability.
ITEST_NAME=run_batch; . "$(dirname "$0")/../lib/itest.sh"

FACE=tests/data/face/astronaut.png
MOVED=tests/data/face/astronaut_moved.png
IN=$T/in
mkdir -p $IN/p1/s1 $IN/p1/s2 $IN/p1/s3 $IN/p2/s1 $IN/p2/s2 $IN/p3/s1 $IN/p3/s2 $IN/p4/v1 $IN/p4/v2 $IN/p5/a $IN/p5/b
cp $FACE  $IN/p1/s1/front.png; cp $MOVED $IN/p1/s2/front.png; cp $MOVED $IN/p1/s3/front.png
cp $MOVED $IN/p2/s1/front.png; head -c 3000 $FACE > $IN/p2/s2/front.png          # corrupt follow-up
cp $FACE  $IN/p3/s2/front.png; cp $FACE $IN/p3/s1/side.png                       # front missing in baseline
printf 'x' > $IN/p4/v1/front.png; head -c 2000 $FACE > $IN/p4/v2/front.png     # baseline unreadable
# p5: no face in the baseline (a 1x1 image)
cp tests/fuzz/corpus/load/one_pixel.png $IN/p5/a/front.png; cp $FACE $IN/p5/b/front.png

OPTS="--iod 120 --bootstrap 2 --jobs 2 --quiet"

"$BIN" run $IN -o $T/out $OPTS 2>$T/stderr.txt
rc=$?
check "run exits 1 when some inputs failed (got $rc)" '[ $rc -eq 1 ]'
for f in measurements.csv changes.csv cohort.csv alignment.csv errors.csv trends.csv uncertainty.csv; do
    check "output $f has a header and rows" "[ \$(wc -l < $T/out/$f) -ge 2 ]"
done
check "run.json is JSON with the command line" "python3 -m json.tool $T/out/run.json >/dev/null && grep -q '\"command_line\": \"skindelta run ' $T/out/run.json"
check "measurements: p1 has 13 regions x 12 metrics x 3 sessions" "[ \$(grep -c '^p1,front,' $T/out/measurements.csv) -eq 468 ]"
check "changes: p1 has 13 x 12 rows for each follow-up" "[ \$(grep -c '^p1,front,s2,' $T/out/changes.csv) -eq 156 ] && [ \$(grep -c '^p1,front,s3,' $T/out/changes.csv) -eq 156 ]"
check "errors.csv: one row per input not scored (6)" "[ \$(tail -n +2 $T/out/errors.csv | wc -l) -eq 6 ]"
check "measurements.csv header" "head -1 $T/out/measurements.csv | grep -qx 'patient,view,session,session_index,days,region,metric,value,unit,better,qc'"
check "changes.csv header" "head -1 $T/out/changes.csv | grep -qx 'patient,view,session,session_index,days,region,metric,baseline,value,delta,pct_change,improvement_pct,mdc95,beyond_noise,unit'"
check "alignment.csv header starts with the contract" "head -1 $T/out/alignment.csv | grep -q '^patient,view,session,face_score,landmark_rms_px,ecc,a11,a12,tx,a21,a22,ty,status'"
check "errors.csv header" "head -1 $T/out/errors.csv | grep -qx 'path,stage,code,message'"
check "p1 follow-ups scored (changes rows for s2 and s3)" "grep -q '^p1,front,s2,1,' $T/out/changes.csv && grep -q '^p1,front,s3,2,' $T/out/changes.csv"
check "p1 has all 13 regions" "[ \$(grep '^p1,front,s1,' $T/out/measurements.csv | cut -d, -f6 | sort -u | wc -l) -eq 13 ]"
check "primary metrics present" "grep -q ',face,texture_roughness,' $T/out/measurements.csv && grep -q ',face,wrinkle_density,' $T/out/measurements.csv && grep -q ',face,pigment_unevenness,' $T/out/measurements.csv"
check "corrupt follow-up is an error row naming the file" "grep -q 'p2/s2/front.png,load,EFORMAT' $T/out/errors.csv"
check "missing baseline view reported" "grep -q 'p3/s2/front.png,catalog,' $T/out/errors.csv"
check "unreadable baseline reported, its follow-up not scored" "grep -q 'p4/v1/front.png,load,' $T/out/errors.csv && grep -q 'p4/v2/front.png,baseline,' $T/out/errors.csv"
check "no face reported as ENOFACE" "grep -q 'p5/a/front.png,face,ENOFACE' $T/out/errors.csv"
check "stderr names failing files" "grep -q 'p2/s2/front.png' $T/stderr.txt"
check "alignment row of p1 s2 has ecc and status ok|warn" "grep -E '^p1,front,s2,' $T/out/alignment.csv | cut -d, -f13 | grep -Eq '^(ok|warn)$'"
check "run.json records cpu level, models and input hashes" "grep -q '\"cpu_level\"' $T/out/run.json && grep -q 'sha256' $T/out/run.json && grep -q 'stage_seconds' $T/out/run.json"
fsize() { file "$1" | grep -oE '[0-9]+ ?x ?[0-9]+' | tail -n 1 | tr -d ' '; }
check "aligned previews written as JPEG, both of the canonical frame's size" \
    "file $T/out/aligned/p1/front_s1.jpg | grep -q 'JPEG image data' && [ \"\$(fsize $T/out/aligned/p1/front_s1.jpg)\" = 300x375 ] && [ \"\$(fsize $T/out/aligned/p1/front_s2.jpg)\" = 300x375 ]"
check "no lossless aligned photo without --save-aligned" "[ ! -e $T/out/aligned/p1/front_s1.png ] && [ ! -e $T/out/aligned/p1/front_s2.png ]"
for k in regions wrinkles spots; do
    check "overlay $k is an indexed PNG mask of the frame's size" \
        "file $T/out/aligned/p1/front_s2_$k.png | grep -q 'colormap' && [ \"\$(fsize $T/out/aligned/p1/front_s2_$k.png)\" = 300x375 ]"
done
check "wrinkle and spot masks are 2-bit (3 colours: clear, dimmed, detected)" \
    "file $T/out/aligned/p1/front_s1_wrinkles.png | grep -q '2-bit colormap' && file $T/out/aligned/p1/front_s1_spots.png | grep -q '2-bit colormap'"
check "report links the masks and stacks them on the photo" \
    "[ -s $T/out/report/img/p1/front_s2_regions.png ] && grep -q 'class=\"ovl\"' $T/out/report/p1.html"
check "report written, listing p1 and p2" "grep -q 'p1' $T/out/report/index.html && grep -q 'p2' $T/out/report/index.html"
check "report says where MDC95 came from" "grep -q 'MDC95 from the calibrated noise model' $T/out/report/index.html && grep -q 'widened where a per-photo bootstrap found more' $T/out/report/index.html"
check "uncertainty has bootstrap sd" "awk -F, 'NR>1 && \$7==2 {n++} END{exit !(n>0)}' $T/out/uncertainty.csv"

# a follow-up turned 90 deg without an EXIF tag: the face is found in a quarter turn and scored
R9=$T/rot; mkdir -p $R9/q/s1 $R9/q/s2
cp $FACE $R9/q/s1/front.png; cp tests/data/face/astronaut_rot90cw.png $R9/q/s2/front.png
"$BIN" run $R9 -o $T/rotout --iod 120 --bootstrap 0 --quiet >/dev/null 2>$T/rot.err; rc=$?
check "sideways follow-up scored (exit $rc)" '[ $rc -eq 0 ] && grep -q "^q,front,s2,1," $T/rotout/changes.csv'
check "sideways follow-up: the turn is said in alignment.csv and on stderr" "grep -q 'turned 90 deg counter-clockwise' $T/rotout/alignment.csv && grep -q 'turned' $T/rot.err"

# a follow-up saved at another JPEG quality and subsampling than its baseline: scored, with the
# compression of both recorded and the difference said (it moves the skin metrics: METRICS.md)
CJ=$T/comp; mkdir -p $CJ/c/s1 $CJ/c/s2
cp tests/data/face/astronaut_q95.jpg $CJ/c/s1/front.jpg; cp tests/data/face/astronaut_moved_q80.jpg $CJ/c/s2/front.jpg
"$BIN" run $CJ -o $T/compout --iod 120 --bootstrap 0 --quiet >/dev/null 2>$T/comp.err; rc=$?
check "mixed compression scored (exit $rc)" '[ $rc -eq 0 ] && grep -q "^c,front,s2,1," $T/compout/changes.csv'
check "mixed compression said on stderr and in alignment.csv" "grep -q 'compression differs from the baseline (JPEG q80 4:2:0 vs JPEG q95 4:4:4)' $T/comp.err && grep -q 'compression differs from the baseline' $T/compout/alignment.csv"
check "run.json records each input's JPEG quality and chroma" "grep -q '\"jpeg_quality\": 95, \"chroma\": \"4:4:4\"' $T/compout/run.json && grep -q '\"jpeg_quality\": 80, \"chroma\": \"4:2:0\"' $T/compout/run.json"
check "the mixed-compression pair is flagged warn (alignment status, measurements qc)" \
    "grep '^c,front,s2,' $T/compout/alignment.csv | cut -d, -f13 | grep -qx warn && ! grep '^c,front,s2,' $T/compout/measurements.csv | grep -vq ',warn\$'"
check "same compression is not flagged" "! grep -q 'compression differs' $T/out/alignment.csv"

# an overexposed follow-up (the portrait x1.45, red and much of the skin at 255): scored, flagged
OV=$T/over; mkdir -p $OV/c/s1 $OV/c/s2
cp tests/data/face/astronaut_q95.jpg $OV/c/s1/front.jpg; cp tests/data/face/astronaut_moved_overexposed_q95.jpg $OV/c/s2/front.jpg
"$BIN" run $OV -o $T/overout --iod 120 --bootstrap 0 --quiet --no-images --no-report >/dev/null 2>&1; rc=$?
check "overexposed follow-up scored and flagged warn with the clipped share (exit $rc)" \
    "[ $rc -eq 0 ] && grep '^c,front,s2,' $T/overout/alignment.csv | grep -q ',warn,.*% of the skin clipped (overexposed channel)'"
check "the baseline it is compared with is not flagged" "grep '^c,front,s1,' $T/overout/alignment.csv | grep -q ',ok,'"
check "report lists the mixed-compression follow-up under Capture" "grep -q '<h3>Capture</h3>' $T/compout/report/index.html && grep -q 'compression differs from the baseline (JPEG q80' $T/compout/report/index.html"
check "no Capture section when compression is the same" "! grep -q '<h3>Capture</h3>' $T/out/report/index.html"

# usage errors exit 2
"$BIN" run >/dev/null 2>&1; rc=$?
check "run without arguments exits 2" '[ $rc -eq 2 ]'
"$BIN" run $IN -o $T/x --jobs 0 >/dev/null 2>&1; rc=$?
check "bad --jobs exits 2" '[ $rc -eq 2 ]'
"$BIN" run $T/does-not-exist -o $T/x >/dev/null 2>&1; rc=$?
check "missing ROOT exits 2" '[ $rc -eq 2 ]'

# kill -9 mid-run, then --resume: same tables as the uninterrupted run
# (SKINDELTA_TEST_KILL_AFTER=2: the process SIGKILLs itself once 2 patients are written)
SKINDELTA_TEST_KILL_AFTER=2 "$BIN" run $IN -o $T/killed $OPTS --jobs 1 >/dev/null 2>&1 &
{ wait $!; rc=$?; } 2>/dev/null
check "the killed run died by SIGKILL (exit $rc)" '[ $rc -eq 137 ]'
check "the killed run left 2 finished patients and no top-level tables" "[ \$(ls $T/killed/patients/*/done.json | wc -l) -eq 2 ] && [ ! -e $T/killed/measurements.csv ]"
# the finished patients are kept, not scored again (their files keep their inodes: atomic writes
# would replace them)
before_resume=$(stat -c '%n %i' $T/killed/patients/*/measurements.csv $T/killed/patients/*/done.json | sort)
"$BIN" run $IN -o $T/killed $OPTS --resume >/dev/null 2>&1
after_resume=$(stat -c '%n %i' $(echo "$before_resume" | cut -d' ' -f1) | sort)
check "--resume keeps the 2 finished patients' files as they were" \
    '[ -n "$before_resume" ] && [ "$before_resume" = "$after_resume" ] && [ $(echo "$before_resume" | wc -l) -eq 4 ]'
for f in measurements.csv changes.csv cohort.csv alignment.csv errors.csv trends.csv uncertainty.csv; do
    check "kill -9 + --resume: $f equals the uninterrupted run" "cmp -s $T/out/$f $T/killed/$f"
done

# shard + merge == one run
"$BIN" run $IN -o $T/sh0 $OPTS --shard 0/2 --no-report >/dev/null 2>&1
"$BIN" run $IN -o $T/sh1 $OPTS --shard 1/2 --no-report >/dev/null 2>&1
check "shards hold disjoint patients" "! cut -d, -f1 $T/sh0/measurements.csv | sort -u | grep -v patient | grep -qxf <(cut -d, -f1 $T/sh1/measurements.csv | sort -u | grep -v patient)"
"$BIN" merge $T/sh0 $T/sh1 -o $T/merged >/dev/null 2>&1; rc=$?
check "merge exits 1 like the unsharded run: inputs failed in the shards (got $rc)" '[ $rc -eq 1 ]'
for f in measurements.csv changes.csv cohort.csv trends.csv; do
    check "shard + merge: $f equals one run" "cmp -s $T/out/$f $T/merged/$f"
done

# compare: one pair
"$BIN" compare $FACE $MOVED -o $T/cmp --iod 120 --bootstrap 0 --save-aligned --quiet >/dev/null 2>&1; rc=$?
check "compare exits 0 (got $rc)" '[ $rc -eq 0 ]'
check "--save-aligned writes both aligned photos losslessly (RGB PNG, frame size) next to the previews" \
    "for s in before after; do file $T/cmp/aligned/pair/front_\$s.png | grep -q 'PNG image data, 300 x 375, 8-bit/color RGB' && [ -s $T/cmp/aligned/pair/front_\$s.jpg ] || exit 1; done"
check "compare writes changes for pair/after" "grep -q '^pair,front,after,1,' $T/cmp/changes.csv"

# repeatability: p1's sessions as repeat captures of one subject + p2.. need >= 2 subjects
R=$T/rep; mkdir -p $R/a/1 $R/a/2 $R/b/1 $R/b/2
cp $FACE $R/a/1/front.png; cp $FACE $R/a/2/front.png; cp $MOVED $R/b/1/front.png; cp $MOVED $R/b/2/front.png
"$BIN" repeatability $R -o $T/repout --iod 120 --quiet >/dev/null 2>&1; rc=$?
check "repeatability exits 0 (got $rc)" '[ $rc -eq 0 ]'
check "repeatability.csv header" "head -1 $T/repout/repeatability.csv | grep -qx 'region,metric,n_subjects,n_repeats,icc31,cv_w_pct,sem,mdc95'"
"$BIN" run $IN -o $T/withmdc $OPTS --mdc $T/repout/repeatability.csv --no-report >/dev/null 2>&1
check "run --mdc uses the repeatability MDC95" "awk -F, 'NR>1 && \$13!=\"\" {n++} END{exit !(n>0)}' $T/withmdc/changes.csv"

itest_end

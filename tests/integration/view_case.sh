#!/usr/bin/env bash
# View names match without regard to case: Front.jpg at baseline and front.jpg at follow-up are
# one view (the course is scored), spelled in the outputs as the first photo of it spells it, with
# one warning per other spelling; two patients spelling it differently share one cohort view.
ITEST_NAME=viewcase; . "$(dirname "$0")/../lib/itest.sh"

"$BIN" synth -o $T/syn --size 160 --patients 2 --sessions 2 --seed 4 >/dev/null
mkdir -p $T/in/p1/s1 $T/in/p1/s2 $T/in/p2/s1 $T/in/p2/s2
cp $T/syn/p001/s1/front.jpg $T/in/p1/s1/Front.jpg
cp $T/syn/p001/s2/front.jpg $T/in/p1/s2/front.jpg
cp $T/syn/p002/s1/front.jpg $T/in/p2/s1/FRONT.jpg
cp $T/syn/p002/s2/front.jpg $T/in/p2/s2/Front.jpg
"$BIN" catalog $T/in --csv --no-exif > $T/cat.csv 2>$T/cat.err; rc=$?
check "catalog: exit 0, every entry is view Front (rc $rc)" \
      "[ $rc -eq 0 ] && [ \$(cut -d, -f2 $T/cat.csv | tail -n +2 | sort -u) = Front ] && [ \$(tail -n +2 $T/cat.csv | wc -l) -eq 4 ]"
check "catalog: one warning per other spelling, naming the file" \
      "[ \$(grep -c 'matches\|read as' $T/cat.err) -eq 2 ] && grep -q \"p1/s2/front.jpg: view 'front' is read as 'Front'\" $T/cat.err && grep -q \"p2/s1/FRONT.jpg: view 'FRONT' is read as 'Front'\" $T/cat.err"
check "no 'missing in the baseline' problem" "! grep -q 'missing in the baseline' $T/cat.err"
"$BIN" run $T/in -o $T/out --roi whole --px-per-mm 10 --bootstrap 0 --no-images --no-report --quiet 2>$T/run.err; rc=$?
check "run scores both follow-ups (rc $rc)" "[ $rc -eq 0 ] && [ \$(grep -c ',whole,texture_roughness,' $T/out/changes.csv) -eq 2 ]"
check "outputs keep the spelling Front" \
      "! cut -d, -f2 $T/out/measurements.csv | tail -n +2 | grep -vqx Front && grep -q '^Front,1,whole,texture_roughness,2,' $T/out/cohort.csv"
check "errors.csv is empty" "[ \$(wc -l < $T/out/errors.csv) -eq 1 ]"

itest_end

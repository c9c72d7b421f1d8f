#!/usr/bin/env bash
# The codebook: `skindelta metrics [--csv]` lists every metric with its unit, better direction,
# primary flag and definition from the library's one table; the same rows sit as codebook.csv in
# every output folder (run, compare, repeatability, merge); units are ASCII in every CSV.
ITEST_NAME=codebook; . "$(dirname "$0")/../lib/itest.sh"

"$BIN" metrics > $T/table.txt; rc1=$?
"$BIN" metrics --csv > $T/cb.csv; rc2=$?
check "metrics and metrics --csv exit 0 (rc $rc1 $rc2)" "[ $rc1 -eq 0 ] && [ $rc2 -eq 0 ]"
check "CSV header and 12 metric rows" \
      "[ \"\$(head -n 1 $T/cb.csv)\" = 'metric,unit,better,primary,definition' ] && [ \$(tail -n +2 $T/cb.csv | wc -l) -eq 12 ]"
check "the three primary metrics are marked" \
      "[ \"\$(awk -F, '\$4 == 1 {print \$1}' $T/cb.csv | sort | tr '\n' ' ')\" = 'pigment_unevenness texture_roughness wrinkle_density ' ]"
check "ASCII units (1/cm2, mm/cm2) and directions" \
      "grep -q '^pigment_spot_density,1/cm2,lower,0,' $T/cb.csv && grep -q '^wrinkle_length_density,mm/cm2,lower,0,' $T/cb.csv && grep -q '^texture_glcm_homogeneity,-,higher,0,' $T/cb.csv"
check "every definition is a non-empty line" "! awk -F, 'NR > 1 && \$5 == \"\"' $T/cb.csv | grep -q ."
check "the table lists the same ids" "[ \"\$(tail -n +2 $T/table.txt | awk '{print \$1}')\" = \"\$(tail -n +2 $T/cb.csv | cut -d, -f1)\" ]"
"$BIN" metrics --json 2>$T/e.err; rc=$?
check "metrics --json: unknown option, exit 2 (rc $rc)" "[ $rc -eq 2 ] && grep -q 'metrics --help' $T/e.err"

# ---- codebook.csv in every OUT, units consistent with the measurements
W="--roi whole --px-per-mm 10 --bootstrap 0 --no-images --no-report --quiet -j1"
"$BIN" synth -o $T/in --size 160 --patients 2 --sessions 2 --seed 4 >/dev/null
"$BIN" run $T/in -o $T/run $W 2>/dev/null; r1=$?
"$BIN" run $T/in -o $T/s0 $W --shard 0/2 2>/dev/null
"$BIN" run $T/in -o $T/s1 $W --shard 1/2 2>/dev/null
"$BIN" merge $T/s0 $T/s1 -o $T/merged --no-report --quiet; r2=$?
"$BIN" compare $T/in/p001/s1/front.jpg $T/in/p001/s2/front.jpg -o $T/cmp ${W% -j1} 2>/dev/null; r3=$?
"$BIN" repeatability $T/in -o $T/rep $W 2>/dev/null; r4=$?
for d in run s0 merged cmp rep; do
    check "$d/codebook.csv equals skindelta metrics --csv" "cmp -s $T/$d/codebook.csv $T/cb.csv"
done
check "the runs succeeded (rc $r1 $r2 $r3 $r4)" "[ $r1 -eq 0 ] && [ $r2 -eq 0 ] && [ $r3 -eq 0 ] && [ $r4 -le 1 ]"
check "measurements.csv units are the codebook's" \
      "[ -z \"\$(awk -F, 'NR == FNR {u[\$1] = \$2; next} FNR > 1 && u[\$7] != \$9' $T/cb.csv $T/run/measurements.csv)\" ] && grep -q ',pigment_spot_density,.*,1/cm2,' $T/run/measurements.csv"
for f in changes cohort; do
    check "$f.csv ends with the unit column, the codebook's unit of each row's metric" \
          "head -n 1 $T/run/$f.csv | grep -q ',unit\$' && [ \$(tail -n +2 $T/run/$f.csv | wc -l) -gt 0 ] && [ -z \"\$(awk -F, 'NR == FNR {u[\$1] = \$2; next} FNR == 1 {for (i = 1; i <= NF; i++) c[\$i] = i; next} u[\$c[\"metric\"]] != \$NF' $T/cb.csv $T/run/$f.csv)\" ]"
done
check "merge recomputes them with the unit too" "head -n 1 $T/merged/changes.csv | grep -q ',unit\$' && grep -q ',1/cm2\$' $T/merged/cohort.csv"
check "no byte outside ASCII in any CSV of the run" "! LC_ALL=C grep -l '[^ -~]' $T/run/*.csv $T/merged/*.csv"

itest_end

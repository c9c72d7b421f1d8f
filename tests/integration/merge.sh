#!/usr/bin/env bash
# Integration test of `skindelta merge` on hand-written shard folders: two shards merge into the
# same tables as the unsplit folder, overlapping shards and differing headers are refused with
# exit 2 and nothing written, --mdc supplies MDC95, run.json lists the inputs.
ITEST_NAME=merge; . "$(dirname "$0")/../lib/itest.sh"

MH='patient,view,session,session_index,days,region,metric,value,unit,better,qc'
UH='patient,view,session,region,metric,sd,n_boot,paired_baseline'
AH='patient,view,session,face_score,landmark_rms_px,ecc,a11,a12,tx,a21,a22,ty,status'
EH='path,stage,code,message'

meas() {   # patient base d1 d2 -> 3 sessions of texture_roughness (lower is better)
    echo "$1,front,s1,0,0,face,texture_roughness,$2,%,lower,ok"
    echo "$1,front,s2,1,30,face,texture_roughness,$(echo "$2 + $3" | bc -l),%,lower,ok"
    echo "$1,front,s3,2,61,face,texture_roughness,$(echo "$2 + $4" | bc -l),%,lower,warn"
}
unc() { for s in s1 s2 s3; do echo "$1,front,$s,face,texture_roughness,0.05,16,"; done; }
ali() { for s in s2 s3; do echo "$1,front,$s,0.99,1.5,0.97,1,0,0,0,1,0,ok"; done; }
shard() {   # dir patients...
    local d=$1; shift
    mkdir -p "$d"
    { echo "$MH"; for p in "$@"; do meas $p ${BASE[$p]} ${D1[$p]} ${D2[$p]}; done; } > "$d/measurements.csv"
    { echo "$UH"; for p in "$@"; do unc $p; done; } > "$d/uncertainty.csv"
    { echo "$AH"; for p in "$@"; do ali $p; done; } > "$d/alignment.csv"
    { echo "$EH"; echo 'in/x.csv:2,catalog,EFORMAT,bad date'; } > "$d/catalog_errors.csv"
    { echo "$EH"; echo 'in/x.csv:2,catalog,EFORMAT,bad date';
      for p in "$@"; do [ $p = p3 ] && echo "in/p3/s4/front.jpg,load,EFORMAT,\"truncated, 3000 bytes\""; done; } > "$d/errors.csv"
    for p in "$@"; do
        mkdir -p "$d/patients/$p"
        { echo "$EH"; [ $p = p3 ] && echo "in/p3/s4/front.jpg,load,EFORMAT,\"truncated, 3000 bytes\""; } > "$d/patients/$p/errors.csv"
        echo '{}' > "$d/patients/$p/done.json"
    done
    mkdir -p "$d/aligned/$1"; echo "img $1" > "$d/aligned/$1/s2.png"
}
declare -A BASE=([p1]=5.1 [p2]=4.7 [p3]=6.2 [p10]=5.5 [p11]=4.9)
declare -A D1=([p1]=-0.4 [p2]=-0.1 [p3]=-0.9 [p10]=0.2 [p11]=-0.3)
declare -A D2=([p1]=-0.8 [p2]=-0.3 [p3]=-1.1 [p10]=-0.2 [p11]=-0.6)

shard $T/full p1 p2 p3 p10 p11
shard $T/a p1 p3 p11
shard $T/b p2 p10

# the shards list inputs they could not score (a catalog error, p3's truncated photo): the merged
# run exits 1 as the unsharded run would
"$BIN" merge $T/full -o $T/ref --no-report --quiet; rc=$?
check "merge of one folder exits 1: its errors.csv lists failed inputs (got $rc)" '[ $rc -eq 1 ]'
"$BIN" merge $T/b $T/a -o $T/m --no-report 2>$T/stderr.txt; rc=$?
check "merge of two shards exits 1: failed inputs in the shards (got $rc)" '[ $rc -eq 1 ]'
check "stderr says how many inputs failed" "grep -q '2 input(s) could not be scored' $T/stderr.txt"
cp -r $T/b $T/clean
for f in $T/clean/errors.csv $T/clean/catalog_errors.csv $T/clean/patients/*/errors.csv; do echo "$EH" > "$f"; done
"$BIN" merge $T/clean -o $T/cleanm --no-report --quiet; rc=$?
check "merge of shards without failed inputs exits 0 (got $rc)" '[ $rc -eq 0 ]'
check "summary line names 5 patients" "grep -q '5 patients' $T/stderr.txt"
for f in measurements.csv uncertainty.csv alignment.csv errors.csv catalog_errors.csv changes.csv trends.csv cohort.csv; do
    check "shard merge: $f equals the unsplit result" "cmp -s $T/ref/$f $T/m/$f"
done
check "catalog error kept once" "[ \$(grep -c 'bad date' $T/m/errors.csv) -eq 1 ]"
check "patients natural order in alignment (p3 before p10)" "[ \$(grep -n '^p3,' $T/m/alignment.csv | head -1 | cut -d: -f1) -lt \$(grep -n '^p10,' $T/m/alignment.csv | head -1 | cut -d: -f1) ]"
check "changes.csv holds 10 follow-up rows" "[ \$(tail -n +2 $T/m/changes.csv | wc -l) -eq 10 ]"
check "p3 s3 change: delta -1.1, improvement 17.7419355 %" "grep -q '^p3,front,s3,2,61,face,texture_roughness,6.2,5.1,-1.1[0-9]*,-17.74193[0-9]*,17.74193[0-9]*,' $T/m/changes.csv"
check "cohort has n=5 for both follow-ups" "[ \$(tail -n +2 $T/m/cohort.csv | cut -d, -f5 | sort -u) = 5 ]"
check "aligned/ and patients/ copied" "[ -f $T/m/aligned/p2/s2.png ] && [ -f $T/m/aligned/p1/s2.png ] && [ -f $T/m/patients/p10/done.json ]"
check "run.json lists the inputs" "grep -q '\"command\": \"merge\"' $T/m/run.json && grep -q '$T/a' $T/m/run.json && grep -q '$T/b' $T/m/run.json"

# MDC95 from a repeatability table
printf 'region,metric,n_subjects,n_repeats,icc31,cv_w_pct,sem,mdc95\nface,texture_roughness,10,2,0.9,2.5,0.3,0.5\n' > $T/rep.csv
"$BIN" merge $T/a $T/b -o $T/mdc --mdc $T/rep.csv --no-report --quiet; rc=$?
check "merge --mdc exits 1 (failed inputs), output written" '[ $rc -eq 1 ] && [ -s $T/mdc/changes.csv ]'
check "--mdc sets mdc95 and beyond_noise" "grep -q '^p1,front,s2,1,30,face,texture_roughness,5.1,4.7[0-9]*,-0.4[0-9]*,[-0-9.e]*,[-0-9.e]*,0.5,0,%$' $T/mdc/changes.csv && grep -q '^p1,front,s3,.*,0.5,1,%$' $T/mdc/changes.csv"

# refusals
shard $T/c p2
"$BIN" merge $T/a $T/c $T/b -o $T/bad --no-report 2>$T/stderr.txt; rc=$?
check "overlapping shards exit 2 (got $rc)" '[ $rc -eq 2 ]'
check "overlap message names the patient and both folders" "grep -q \"patient 'p2' is in both .*/c and .*/b\" $T/stderr.txt || grep -q \"patient 'p2' is in both .*/b and .*/c\" $T/stderr.txt"
check "nothing written on refusal" "[ ! -e $T/bad ]"
sed -i '1s/$/,extra/' $T/c/alignment.csv
rm -r $T/c/patients; sed -i 's/^p2,/p99,/' $T/c/measurements.csv $T/c/uncertainty.csv $T/c/alignment.csv
"$BIN" merge $T/a $T/c -o $T/bad --no-report 2>$T/stderr.txt; rc=$?
check "differing headers exit 2 (got $rc)" '[ $rc -eq 2 ]'
check "header message names alignment.csv" "grep -q 'alignment.csv: header' $T/stderr.txt"
"$BIN" merge $T/a $T/b -o $T/a --no-report 2>/dev/null; rc=$?
check "output among the inputs exits 2" '[ $rc -eq 2 ]'
"$BIN" merge $T/a $T/b 2>/dev/null; rc=$?
check "missing -o exits 2" '[ $rc -eq 2 ]'
"$BIN" merge --help >/dev/null; rc=$?
check "--help exits 0" '[ $rc -eq 0 ]'
printf 'patient,view\n' > $T/c/measurements.csv
"$BIN" merge $T/c -o $T/bad2 --no-report 2>$T/stderr.txt; rc=$?
check "malformed measurements.csv exits 1 naming the file (got $rc)" "[ $rc -eq 1 ] && grep -q 'c/measurements.csv:1: header' $T/stderr.txt"

itest_end

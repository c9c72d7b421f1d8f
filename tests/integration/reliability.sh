#!/usr/bin/env bash
# Nothing silently lost or mixed (issue 16), black box through $SKINDELTA_BIN: OUT inside ROOT and
# ROOT inside OUT refused, a patient folder holding photos never skipped without an error row;
# merge refuses shards run with different result-changing parameters (naming the parameter), a
# partial merge without --allow-partial, and symbolic links in a shard; a photo with two faces is
# flagged and the follow-up face matching the baseline's is scored; a canonical frame beyond the
# loader's pixel limit is a usage error; a second run on a locked OUT fails at once naming the
# holder; a run commits as a unit (report and merge refuse a folder mixing two runs); stale
# patients and report pages of an earlier run are cleared; duplicate manifest rows with other
# paths and duplicated header columns are errors; `report` exits 1 on non-numeric values; the
# run summary counts failed image writes.
# Small inputs (synth patches, --roi whole) so it stays fast under ASan too.
ITEST_NAME=reliability; . "$(dirname "$0")/../lib/itest.sh"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=86"
WHOLE="--roi whole --px-per-mm 10 --bootstrap 0 --no-images --no-report --quiet --jobs 2"

"$BIN" synth --kind patch -o $T/syn --patients 3 --sessions 2 --seed 1 --size 256 >/dev/null 2>&1
check "synth course written" "[ -s $T/syn/p003/s2/front.jpg ]"

# ---- 1. OUT inside ROOT, ROOT inside OUT; a patient folder with photos is never skipped silently
TR=$T/tree; mkdir -p $TR; cp -r $T/syn/p001 $T/syn/p002 $TR/
"$BIN" run $TR -o $TR/p001 $WHOLE 2>$T/in.err; rc=$?
check "OUT inside ROOT refused with exit 2 (rc $rc)" "[ $rc -eq 2 ] && grep -q 'inside the input folder' $T/in.err"
"$BIN" run $TR -o $TR/newout $WHOLE 2>/dev/null; rc=$?
check "OUT inside ROOT: nothing written into the patient folder or the tree (rc $rc)" \
      "[ $rc -eq 2 ] && [ ! -e $TR/p001/run.json ] && [ ! -e $TR/p001/patients ] && [ ! -e $TR/newout ]"
mkdir -p $T/outer; cp -r $TR $T/outer/tree
"$BIN" run $T/outer/tree -o $T/outer $WHOLE 2>$T/out.err; rc=$?
check "ROOT inside OUT refused with exit 2 (rc $rc)" "[ $rc -eq 2 ] && grep -q 'inside the output folder' $T/out.err"
# an earlier version's run wrote into a patient folder: its photos must not vanish from the tables
cp -r $TR $T/tree2; mkdir -p $T/tree2/p001/patients; echo '{}' > $T/tree2/p001/run.json
"$BIN" run $T/tree2 -o $T/o2 $WHOLE 2>$T/o2.err; rc=$?
check "a patient folder holding photos and a run's output: exit 1 and an error row (rc $rc)" \
      "[ $rc -eq 1 ] && grep -q '^$T/tree2/p001,catalog,' $T/o2/errors.csv"

# ---- 2.-4. merge: parameters, partial, symbolic links
"$BIN" run $T/syn -o $T/s0 $WHOLE --shard 0/2 2>/dev/null
"$BIN" run $T/syn -o $T/w1 --roi whole --px-per-mm 12 --bootstrap 0 --no-images --no-report --quiet --shard 1/2 2>/dev/null
"$BIN" run $T/syn -o $T/s1 $WHOLE --shard 1/2 --jobs 1 2>/dev/null
check "shards written" "[ -s $T/s0/run.json ] && [ -s $T/w1/run.json ] && [ -s $T/s1/run.json ]"
"$BIN" merge $T/s0 $T/w1 -o $T/mx --no-report --quiet 2>$T/mx.err; rc=$?
check "merge of shards with different --px-per-mm refused naming it (rc $rc)" \
      "[ $rc -eq 2 ] && grep -q \"'px_per_mm\" $T/mx.err && [ ! -e $T/mx ]"
"$BIN" merge $T/s0 $T/s1 -o $T/mok --no-report --quiet 2>$T/mok.err; rc=$?
check "merge of compatible shards (different --jobs) accepted (rc $rc)" "[ $rc -eq 0 ] && [ -s $T/mok/cohort.csv ]"
"$BIN" merge $T/s0 -o $T/mp --no-report --quiet 2>$T/mp.err; rc=$?
check "partial merge refused (rc $rc)" "[ $rc -eq 2 ] && grep -q 'shard 1 of 2 is missing' $T/mp.err && [ ! -e $T/mp ]"
"$BIN" merge $T/s0 -o $T/mp2 --allow-partial --quiet 2>$T/mp2.err; rc=$?
check "--allow-partial merges and says so in run.json and the report (rc $rc)" \
      "[ $rc -eq 0 ] && grep -q '\"partial\": true' $T/mp2/run.json && grep -q 'missing\": \[1\]' $T/mp2/run.json && grep -qi 'partial merge' $T/mp2/report/index.html"
cp -r $T/s0 $T/f4; mkdir -p $T/f4/aligned/p001; ln -s /etc/passwd $T/f4/aligned/p001/front_s1.png
"$BIN" merge $T/f4 $T/s1 -o $T/ml --copy --no-report --quiet 2>$T/ml.err; rc=$?
check "merge --copy refuses a symbolic link in a shard (rc $rc)" \
      "[ $rc -eq 2 ] && grep -q 'symbolic link' $T/ml.err && ! grep -rqs root: $T/ml"

# ---- 5. two faces: flagged, and the follow-up face at the baseline's position is scored
# (baseline: the astronaut on the right half of a black 1024x512 photo; follow-up: a second,
# better-scoring face on the left, the astronaut on the right)
F=$T/faces; mkdir -p $F/p1/s1 $F/p1/s2
cp tests/data/face/astronaut_right_of_blank.jpg $F/p1/s1/front.jpg; cp tests/data/face/two_faces.jpg $F/p1/s2/front.jpg
"$BIN" run $F -o $T/fo --iod 120 --bootstrap 0 --no-images --no-report --quiet --jobs 1 2>/dev/null
txb=$(awk -F, '$3=="s1"{print $9}' $T/fo/alignment.csv); txf=$(awk -F, '$3=="s2"{print $9}' $T/fo/alignment.csv)
check "two faces: the follow-up is registered on the baseline's face (tx $txb vs $txf)" \
      "[ -n \"$txf\" ] && awk -v a=$txb -v b=$txf 'BEGIN{exit !((a-b)^2 < 100^2)}'"
check "two faces: the pair is flagged (status warn, the reason says so)" \
      "grep -q '^p1,front,s2,.*,warn,.*2 faces in the photo' $T/fo/alignment.csv && grep -q '^p1,front,s2,.*,warn$' $T/fo/measurements.csv"

# ---- 6. the canonical frame is bounded by the loader's pixel limit
"$BIN" run $T/syn -o $T/big --iod 4000 --bootstrap 0 --no-images --no-report --quiet 2>$T/big.err; rc=$?
check "--iod 4000: usage error naming the pixel limit, nothing scored (rc $rc)" \
      "[ $rc -eq 2 ] && grep -q 'canonical frame' $T/big.err && [ ! -e $T/big/measurements.csv ]"

# ---- 7. one run at a time on an OUT
mkdir -p $T/lk
if command -v flock >/dev/null 2>&1; then
    flock $T/lk/.skindelta.lock sh -c "echo \$\$ > $T/lk/.skindelta.lock; sleep 20" &
    holder=$!
    for i in $(seq 50); do [ -s $T/lk/.skindelta.lock ] && break; sleep 0.1; done
    "$BIN" run $T/syn -o $T/lk $WHOLE 2>$T/lk.err; rc=$?
    hp=$(cat $T/lk/.skindelta.lock)
    kill $holder 2>/dev/null; wait $holder 2>/dev/null
    check "a second run on a locked OUT fails at once naming the holder's pid (rc $rc)" \
          "[ $rc -ne 0 ] && grep -q \"pid $hp\" $T/lk.err && [ ! -e $T/lk/measurements.csv ]"
else
    bad "a second run on a locked OUT fails at once" "flock(1) is not installed"
fi

# ---- 8. a run commits as a unit: the readers refuse a folder mixing two runs
"$BIN" run $T/syn -o $T/c1 $WHOLE 2>/dev/null
check "a run writes its commit record" "grep -q run_id $T/c1/run.json && grep -q \"\$(grep -o '\"run_id\": \"[^\"]*\"' $T/c1/run.json)\" $T/c1/tables.json"
cp -r $T/c1 $T/c2; "$BIN" run $T/syn -o $T/c2 --roi whole --px-per-mm 11 --bootstrap 0 --no-images --no-report --quiet 2>/dev/null
cp $T/c1/cohort.csv $T/c2/cohort.csv      # a table of the earlier run next to the new run.json
"$BIN" report $T/c2 >/dev/null 2>$T/c2.err; rc=$?
check "report refuses a folder mixing two runs (rc $rc)" "[ $rc -ne 0 ] && grep -q 'cohort.csv' $T/c2.err && grep -q 'two runs' $T/c2.err"
"$BIN" merge $T/c2 -o $T/mc2 --quiet --no-report 2>$T/mc2.err; rc=$?
check "merge refuses an input mixing two runs (rc $rc)" "[ $rc -ne 0 ] && grep -q 'two runs' $T/mc2.err"
# a run stopped while writing its tables (cohort.csv could not be replaced: a folder in its way)
cp -r $T/c1 $T/c3; rm $T/c3/cohort.csv; mkdir $T/c3/cohort.csv
"$BIN" run $T/syn -o $T/c3 --roi whole --px-per-mm 11 --bootstrap 0 --no-images --no-report --quiet 2>/dev/null; rc=$?
rmdir $T/c3/cohort.csv; cp $T/c1/cohort.csv $T/c3/cohort.csv
"$BIN" report $T/c3 >/dev/null 2>$T/c3.err; rc2=$?
check "a run that failed writing its tables leaves OUT uncommitted; report refuses it (rc $rc, $rc2)" \
      "[ $rc -ne 0 ] && [ $rc2 -ne 0 ] && grep -q 'did not finish' $T/c3.err"
# --resume: a patient folder whose tables are not the ones its done.json recorded is scored again
"$BIN" run $T/syn -o $T/r1 $WHOLE 2>/dev/null
cp $T/r1/patients/p001/measurements.csv $T/p1m.csv
sed -i '2s/,ok$/,XX/;2s/,warn$/,ok/;2s/,XX$/,warn/' $T/r1/patients/p001/measurements.csv
"$BIN" run $T/syn -o $T/r1 $WHOLE --resume 2>/dev/null
"$BIN" run $T/syn -o $T/r1 $WHOLE --resume --quiet 2>/dev/null
check "--resume does not trust a patient folder changed after its run" "cmp -s $T/p1m.csv $T/r1/patients/p001/measurements.csv"

# ---- 9. stale results, manifest duplicates, non-numeric values, failed image writes
"$BIN" run $T/syn -o $T/st --roi whole --px-per-mm 10 --bootstrap 0 --no-images --quiet 2>/dev/null
mkdir -p $T/syn2; cp -r $T/syn/p001 $T/syn2/
"$BIN" run $T/syn2 -o $T/st --roi whole --px-per-mm 10 --bootstrap 0 --no-images --no-report --quiet 2>/dev/null
check "stale patients/ folders and report pages of an earlier run are cleared" \
      "[ -d $T/st/patients/p001 ] && [ ! -e $T/st/patients/p002 ] && [ ! -e $T/st/report ]"
printf 'patient,session,date,view,path\nP1,1,,front,%s\nP1,2,,front,%s\nP1,2,,front,%s\n' \
       $T/syn/p001/s1/front.jpg $T/syn/p001/s2/front.jpg $T/syn/p002/s2/front.jpg > $T/dup.csv
"$BIN" catalog --manifest $T/dup.csv >/dev/null 2>$T/dup.err; rc=$?
check "duplicate manifest rows with different paths are an error (rc $rc)" "[ $rc -eq 1 ] && grep -q 'error:.*duplicate' $T/dup.err"
printf 'patient,session,view,path,session\nP1,1,front,%s,2\n' $T/syn/p001/s1/front.jpg > $T/dupcol.csv
"$BIN" catalog --manifest $T/dupcol.csv >/dev/null 2>$T/dupcol.err; rc=$?
check "a duplicated header column is an error (rc $rc)" "[ $rc -ne 0 ] && grep -q \"'session'.*twice\" $T/dupcol.err"
cp -r $T/c1 $T/nn; rm -f $T/nn/tables.json $T/nn/run.json
sed -i '2s/^\(\([^,]*,\)\{7\}\)[^,]*/\1abc/' $T/nn/measurements.csv
"$BIN" report $T/nn >/dev/null 2>$T/nn.err; rc=$?
check "report exits 1 on a non-numeric value naming the file (rc $rc)" "[ $rc -eq 1 ] && grep -q 'measurements.csv' $T/nn.err && grep -q abc $T/nn.err"
mkdir -p $T/wf/aligned/p001; chmod a-w $T/wf/aligned/p001
"$BIN" run $T/syn -o $T/wf --roi whole --px-per-mm 10 --bootstrap 0 --no-report --jobs 1 2>$T/wf.err; rc=$?
chmod u+w $T/wf/aligned/p001
nw=$(grep -c ',write,' $T/wf/errors.csv)
if [ "$(id -u)" = 0 ]; then   # root writes anyway: make the folder a file instead
    rm -rf $T/wf; mkdir -p $T/wf/aligned; : > $T/wf/aligned/p001
    "$BIN" run $T/syn -o $T/wf --roi whole --px-per-mm 10 --bootstrap 0 --no-report --jobs 1 2>$T/wf.err; rc=$?
    nw=$(grep -c ',write,' $T/wf/errors.csv)
fi
nrows=$(($(grep -c '' $T/wf/errors.csv) - 1))
check "failed image writes are rows of errors.csv and counted as failed in the summary (rc $rc, $nw of $nrows rows)" \
      "[ $rc -eq 1 ] && [ $nw -ge 1 ] && grep -q \"images, $nrows failed\" $T/wf.err"

itest_end

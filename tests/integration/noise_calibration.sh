#!/usr/bin/env bash
# The calibrated noise model (models/noise_model.csv) on a null course it was not fitted on
# (synth --effect-scale 0, patches 4 x 3, 384 px at 15 px/mm, seed 8301; the fit uses seeds
# 7101-7106): a reduced version of the coverage study in docs/STATISTICS.md
# (tools/noise_coverage.sh). With the default options (model, no bootstrap) MDC95 is known for
# every change, few primary-metric changes fire, and the observed
# spread of the null changes is within a factor of the predicted one (model e29ff485, 5fc7a8f:
# 0 of 24 fired, obs / pred 0.89 / 0.80 / 0.54; a model fitted with these small patches scored at
# the wrong scale fired on 6 of 8 wrinkle changes here, obs / pred 2.4). A model made 10x too
# confident must fail the same checks (so they can fail), and --noise-model none with no
# bootstrap leaves mdc95 empty. run.json records the model's sha256.
ITEST_NAME=noisecal; . "$(dirname "$0")/../lib/itest.sh"

"$BIN" synth -o $T/in --kind patch --patients 4 --sessions 3 --seed 8301 --size 384 --px-per-mm 15 \
    --effect-scale 0 >/dev/null; rc=$?
check "synth null course (rc $rc)" "[ $rc -eq 0 ] && [ -f $T/in/p004/s3/front.jpg ]"
run() { "$BIN" run $T/in -o "$1" --roi whole --px-per-mm 15 --jobs 2 --no-images --no-report --quiet "${@:2}" 2>/dev/null; }
run $T/m; rc=$?
check "default run scores everything (rc $rc)" "[ $rc -eq 0 ] && [ -f $T/m/changes.csv ]"
check "run.json names the model and its sha256" \
    "grep -q '\"noise_model\": \".*noise_model.csv\"' $T/m/run.json && grep -q '\"noise_model_sha256\": \"[0-9a-f]\{64\}\"' $T/m/run.json"
check "uncertainty.csv: model SDs (n_boot 0) for every measurement" \
    "[ \$(awk -F, 'NR>1 && \$6 > 0 && \$7 == 0' $T/m/uncertainty.csv | wc -l) -eq \$((\$(wc -l < $T/m/measurements.csv) - 1)) ]"
table() { awk -F, -v PRIMARY=1 -f tools/noise_calibration.awk "$1/changes.csv"; }
table $T/m | sed 's/^/  /'
# per primary metric: n, fired, obs/pred
read n f r < <(table $T/m | awk 'NR>1{n+=$2; f+=$2*$3/100; if ($8>r) r=$8} END{printf "%d %.0f %.3f\n", n, f, r}')
check "24 primary changes, all with an MDC95 ($n)" "[ $n -eq 24 ]"
check "at most 3 of 24 null primary changes beyond noise ($f)" "[ $f -le 3 ]"
check "observed spread at most 2x the predicted one per metric (max ratio $r; 8 changes each)" "awk 'BEGIN{exit !($r <= 2.0)}'"
read rmin < <(table $T/m | awk 'NR>1{if (min=="" || $8<min) min=$8} END{print min}')
check "observed spread at least 0.1x the predicted one (min ratio $rmin: not uselessly wide)" "awk 'BEGIN{exit !($rmin >= 0.1)}'"

# the same checks fail for an overconfident model (every intercept ln 10 lower)
awk -F, 'BEGIN{OFS=","} /^#/ || /^metric,/ || /^@/ {print; next} {$3 = $3 - log(10); print}' \
    models/noise_model.csv > $T/bad_model.csv
run $T/b --noise-model $T/bad_model.csv; rc=$?
read fb < <(table $T/b | awk 'NR>1{f+=$2*$3/100} END{printf "%.0f\n", f}')
check "a 10x overconfident model fires on more than 3 of 24 ($fb), so the check can fail" "[ $rc -eq 0 ] && [ $fb -gt 3 ]"

run $T/n --noise-model none; rc=$?
check "--noise-model none, no bootstrap: mdc95 and beyond_noise empty" \
    "[ $rc -eq 0 ] && [ \$(awk -F, 'NR>1 && \$13 != \"\"' $T/n/changes.csv | wc -l) -eq 0 ]"
"$BIN" run $T/in -o $T/x --roi whole --noise-model $T/missing.csv --quiet >/dev/null 2>$T/err; rc=$?
check "a missing model file is an error naming it (rc $rc)" "[ $rc -ne 0 ] && grep -q missing.csv $T/err"
itest_end

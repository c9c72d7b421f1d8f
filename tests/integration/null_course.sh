#!/usr/bin/env bash
# A null course (skindelta synth --effect-scale 0: capture nuisance, no treatment) scored with
# `run --roi whole`: the per-follow-up MDC95 must not call the capture drift a change. With the
# bootstrap's JPEG recapture (the default) fewer primary-metric changes are "beyond noise" than
# without it (--no-recapture: jitter and noise only). The bound on false calls: a nominal 5% rate
# over n = 24 changes allows at most 4 (binomial, P(X >= 5) = 0.004); the bootstrap does not reach
# the nominal rate (gamma 0.9-1.1 of the phantoms' captures is not in it, and --roi whole has no
# tone correction: docs/METRICS.md, "Uncertainty on a null course"). With the 0.2 metrics, which
# JPEG moves less, the bootstrap's recaptures spread less while the gamma drift stays: measured 9
# of 24 (texture 4, wrinkle 5, pigment 0; 5 with the 0.1 metrics; 8 at calib15 5fc7a8f), so the
# check holds the measured 9 with one of margin. The default uncertainty, the calibrated noise
# model (fitted with gamma in the nuisance, and seeing the tone-curve mismatch through its dtone
# covariate), must keep to the nominal 4 of 24: measured 0 (model e29ff485). Said on a line of its own
# whenever the nominal limit is exceeded. The course is fixed (seed 3), so the counts are
# reproducible.
# run.json says which bootstrap ran; synth's truth.json records the scale.
ITEST_NAME=nullc; . "$(dirname "$0")/../lib/itest.sh"

"$BIN" synth -o $T/in --kind patch --patients 4 --sessions 3 --seed 3 --size 384 --px-per-mm 15 \
    --effect-scale 0 >/dev/null; rc=$?
check "synth --effect-scale 0 writes a course: 4 patients x 3 sessions (rc $rc)" \
    "[ $rc -eq 0 ] && [ \$(ls $T/in/p00[1-4]/s[1-3]/front.jpg | wc -l) -eq 12 ] && [ ! -e $T/in/p005 ] && [ ! -e $T/in/p001/s4 ]"
check "truth.json records the scale and four responders, all 0" \
    "grep -q '\"effect_scale\": 0,' $T/in/truth.json && [ \$(grep -o '\"responder\": [0-9.]*' $T/in/truth.json | wc -l) -eq 4 ] &&
     ! grep -o '\"responder\": [0-9.]*' $T/in/truth.json | grep -vqx '\"responder\": 0.000000'"
"$BIN" synth -o $T/bad --effect-scale 2 2>/dev/null; rc=$?
check "--effect-scale out of 0..1 exits 2" "[ $rc -eq 2 ]"

beyond() {   # out -> "beyond rows" over the three primary metrics
    awk -F, 'NR==1{for(i=1;i<=NF;i++)c[$i]=i;next}
        $c["metric"]=="texture_roughness"||$c["metric"]=="wrinkle_density"||$c["metric"]=="pigment_unevenness" {
        n++; b+=($c["beyond_noise"]==1)} END{print b+0, n+0}' "$1/changes.csv"
}
# (the bootstrap alone, as it was the default before the noise model: --bootstrap 5 --noise-model none)
"$BIN" run $T/in -o $T/rc --roi whole --px-per-mm 15 --jobs 2 --no-images --no-report --quiet --bootstrap 5 --noise-model none 2>/dev/null; rc1=$?
"$BIN" run $T/in -o $T/nr --roi whole --px-per-mm 15 --jobs 2 --no-images --no-report --quiet --no-recapture --bootstrap 5 --noise-model none 2>/dev/null; rc2=$?
"$BIN" run $T/in -o $T/nm --roi whole --px-per-mm 15 --jobs 2 --no-images --no-report --quiet 2>/dev/null; rc3=$?
check "the three runs score everything (rc $rc1, $rc2, $rc3)" "[ $rc1 -eq 0 ] && [ $rc2 -eq 0 ] && [ $rc3 -eq 0 ]"
check "run.json names the bootstrap" \
    "grep -q '\"bootstrap_recapture\": true' $T/rc/run.json && grep -q '\"bootstrap_recapture\": false' $T/nr/run.json"
read b1 n1 < <(beyond $T/rc)
read b2 n2 < <(beyond $T/nr)
read b3 n3 < <(beyond $T/nm)
echo "  beyond MDC95 on a null course, primary metrics: noise model (default) $b3/$n3; bootstrap alone: recapture $b1/$n1, jitter+noise only $b2/$n2"
check "the default noise model: at most 4 of 24 beyond noise (nominal 5%) ($b3/$n3)" "[ $n3 -eq 24 ] && [ $b3 -le 4 ]"
check "24 primary-metric changes each" "[ $n1 -eq 24 ] && [ $n2 -eq 24 ]"
[ $b1 -gt 4 ] && echo "  known limitation: the bootstrap alone calls $b1 of 24 null changes beyond noise, above the nominal 5% limit (4 of 24)"
check "bootstrap alone, recapture: at most 10 of 24 beyond noise (measured 9; nominal 5% allows 4) ($b1/$n1)" "[ $n1 -eq 24 ] && [ $b1 -le 10 ]"
check "recapture calls fewer null changes real than jitter+noise ($b1 < $b2)" "[ $b1 -lt $b2 ]"

itest_end

#!/usr/bin/env bash
# Coverage and power of the calibrated noise model on courses it was NOT fitted on (other seeds
# than tools/fit_noise_model.sh): null courses (synth --effect-scale 0, full capture nuisance, 16
# patients x 3 sessions, face and patch), where beyond_noise should fire on <= 5% of the primary
# changes per metric, and treated courses (effect scale 1; faces 8 x 3, patches 16 x 3) from the
# same generator. On a treated course every phantom improves (responder r > 0, effects only
# towards better), so a change beyond noise in the better direction is a true improvement and one
# in the worse direction a false alarm. Each course is scored with the model (the default) and
# with the perturbation bootstrap alone (`--bootstrap 5 --noise-model none`, the default before
# the model), and tools/noise_power.awk compares the two at an equal false-positive rate: the MDC
# multiplier of each is set so that 5% of its null changes fire, and the true improvements found
# on the treated course at that multiplier are counted.
#   tools/noise_coverage.sh [WORK]     (default build/noise-coverage)
# Env: NOISE_MODEL (default models/noise_model.csv); COVERAGE_PATIENTS (16), COVERAGE_TREATED_FACE
# (8); COVERAGE_NO_BOOTSTRAP=1 skips the bootstrap runs (and the power table). Runs already in WORK
# are reused: the model's runs are named by the model file's sha256, the bootstrap's are not (they
# do not depend on it) -- use a fresh WORK after any change of the metrics.
# Prints the calibration table (tools/noise_calibration.awk) of each run, then the power table,
# and writes everything to WORK/summary.txt.
set -euo pipefail
BUILD=${BUILD:-build}
BIN=$BUILD/skindelta
WORK=${1:-$BUILD/noise-coverage}
MODEL=${NOISE_MODEL:-models/noise_model.csv}
P=${COVERAGE_PATIENTS:-16}
PT=${COVERAGE_TREATED_FACE:-8}   # treated face course (the bootstrap runs are the slow part)
make -s -j2 "$BIN" >/dev/null
mkdir -p "$WORK"
MS=$(sha256sum "$MODEL" | cut -c1-12)
make_course() {   # name, synth options...
    local name=$1; shift
    [ -f "$WORK/$name/truth.json" ] || "$BIN" synth -o "$WORK/$name" "$@" >/dev/null
}
score() {   # course, out, run options... (the covariates are traced: bench_noise_fit --score
            # rescores a run with another model file without measuring again)
    local c=$1 o=$2; shift 2
    [ -f "$WORK/$o/changes.csv" ] && return 0
    rm -rf "$WORK/$o"; mkdir -p "$WORK/$o"
    SKINDELTA_NOISE_TRACE=$WORK/$o/noise_trace.csv \
        "$BIN" run "$WORK/$c" -o "$WORK/$o" --no-images --no-report --quiet "$@" 2>/dev/null || [ $? -eq 1 ]
}
make_course nullface  --kind face  --patients "$P" --sessions 3 --seed 8201 --effect-scale 0
make_course nullpatch --kind patch --patients "$P" --sessions 3 --seed 8202 --effect-scale 0
make_course trface    --kind face  --patients "$PT" --sessions 3 --seed 8203
make_course trpatch   --kind patch --patients "$P" --sessions 3 --seed 8204
M=model-$MS
score nullface  nullface.$M  --noise-model "$MODEL"
score nullpatch nullpatch.$M --noise-model "$MODEL" --roi whole
score trface    trface.$M    --noise-model "$MODEL"
score trpatch   trpatch.$M   --noise-model "$MODEL" --roi whole
if [ -z "${COVERAGE_NO_BOOTSTRAP:-}" ]; then
    score nullface  nullface.boot  --bootstrap 5 --noise-model none
    score nullpatch nullpatch.boot --roi whole --bootstrap 5 --noise-model none
    score trface    trface.boot    --bootstrap 5 --noise-model none
    score trpatch   trpatch.boot   --roi whole --bootstrap 5 --noise-model none
fi
{
    echo "# noise coverage: model $MODEL (sha256 $MS...), skindelta $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- src include 2>/dev/null || echo '+dirty'), WORK $WORK"
    for o in nullface.$M nullpatch.$M trface.$M trpatch.$M nullface.boot nullpatch.boot trface.boot trpatch.boot; do
        [ -f "$WORK/$o/changes.csv" ] || continue
        echo "== $o: calibration, primary metrics"
        awk -F, -v PRIMARY=1 -f tools/noise_calibration.awk "$WORK/$o/changes.csv"
        echo "== $o: calibration, all metrics"
        awk -F, -f tools/noise_calibration.awk "$WORK/$o/changes.csv"
        case $o in nullface.*)
            echo "== $o: region face only, primary metrics"
            awk -F, 'NR==1 || $6=="face"' "$WORK/$o/changes.csv" | awk -F, -v PRIMARY=1 -f tools/noise_calibration.awk
        esac
    done
    if [ -z "${COVERAGE_NO_BOOTSTRAP:-}" ]; then
        for k in face patch; do
            echo "== power at an equal false-positive rate (5%): $k courses, primary metrics, all regions"
            awk -F, -v PRIMARY=1 -v FPR=0.05 -v SWEEP="${COVERAGE_SWEEP:-}" \
                -v NULLS="model=$WORK/null$k.$M/changes.csv boot=$WORK/null$k.boot/changes.csv" \
                -v TREATED="model=$WORK/tr$k.$M/changes.csv boot=$WORK/tr$k.boot/changes.csv" \
                -f tools/noise_power.awk "$WORK/null$k.$M/changes.csv" "$WORK/null$k.boot/changes.csv" \
                "$WORK/tr$k.$M/changes.csv" "$WORK/tr$k.boot/changes.csv"
        done
    fi
} | tee "$WORK/summary.txt"

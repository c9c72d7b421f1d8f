#!/usr/bin/env bash
# Refit the calibrated noise model, models/noise_model.csv, in one command (docs/STATISTICS.md,
# "The noise model"; models/README.md). Deterministic; 14 min wall on the shared 2-core machine
# (861 s, 2026-12-08, niced, load 3-4). tools/noise_refit.sh runs this and then the coverage and
# power tables in one command.
#   tools/fit_noise_model.sh [OUT.csv]        (default models/noise_model.csv)
# Makes null phantom courses (synth --effect-scale 0: every follow-up is a recapture of its
# baseline under the full capture nuisance), scores them with `skindelta run` on one job while
# the runner writes each image x region's covariates (SKINDELTA_NOISE_TRACE), and fits
# ln sd = b0[metric, region] + sum_k b_k[metric] x_k with build/bench/bench_noise_fit.
# Run it again after any change of a metric, the regions or the registration. The seeds here are
# for FITTING only; tools/noise_coverage.sh checks the model on other seeds.
set -euo pipefail
BUILD=${BUILD:-build}
BIN=$BUILD/skindelta
OUT=${1:-models/noise_model.csv}
WORK=${NOISE_FIT_WORK:-$BUILD/noise-fit}
make -s -j2 "$BIN" "$BUILD/bench/bench_noise_fit" >/dev/null
rm -rf "$WORK"; mkdir -p "$WORK"
runs=()
course() {   # name, run options, synth options...
    local name=$1 ropts=$2; shift 2
    echo "fit_noise_model: $name: synth $*"
    "$BIN" synth -o "$WORK/$name" --effect-scale 0 "$@" >/dev/null
    echo "fit_noise_model: $name: run"
    SKINDELTA_NOISE_TRACE=$WORK/$name.out/noise_trace.csv \
        "$BIN" run "$WORK/$name" -o "$WORK/$name.out" --jobs 1 --bootstrap 0 --no-images \
        --no-report --quiet $ropts 2>/dev/null || [ $? -eq 1 ]
    runs+=("$WORK/$name.out")
}
mkdir -p "$WORK/face.out" "$WORK/facec.out" "$WORK/patch.out" "$WORK/patchs.out" "$WORK/patch7105.out" \
    "$WORK/patch7106.out"
# faces: random capture settings per session (full nuisance), and a consistent clinic's capture
course face ""  --kind face --patients 10 --sessions 4 --seed 7101
course facec "" --kind face --patients 4 --sessions 3 --seed 7102 --capture consistent
# close-up patches (--roi whole): the default 1024 px at 10 px/mm (three courses: the level of
# `whole` is calibrated on its own, and its tail needs data) and small 384 px at 15 px/mm
course patch "--roi whole"  --kind patch --patients 16 --sessions 4 --seed 7103
course patchs "--roi whole --px-per-mm 15" --kind patch --patients 16 --sessions 3 --seed 7104 --size 384 --px-per-mm 15
course patch7105 "--roi whole" --kind patch --patients 16 --sessions 4 --seed 7105
course patch7106 "--roi whole" --kind patch --patients 16 --sessions 4 --seed 7106
"$BUILD/bench/bench_noise_fit" -o "$OUT" --quantile 0.98 \
    --note "courses: face 10x4 seed 7101, face consistent 4x3 seed 7102, patch 16x4 seeds 7103 7105 7106, patch 384px at 15 px/mm 16x3 seed 7104 (tools/fit_noise_model.sh)" \
    "${runs[@]}"
echo "fit_noise_model: wrote $OUT"

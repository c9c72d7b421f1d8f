#!/usr/bin/env bash
# One command after any change of a metric, the skin mask, the regions, the registration or the
# photometry: refit the calibrated noise model (tools/fit_noise_model.sh -> models/noise_model.csv)
# and rerun its coverage, calibration and equal-false-positive-rate power tables on courses the
# fit did not see (tools/noise_coverage.sh, in a fresh WORK: every run there depends on the
# metrics). The tables go to WORK/summary.txt; copy them into docs/STATISTICS.md and
# models/README.md with the commit they are of. Deterministic; heavy (about an hour of CPU on one
# core; see models/README.md for the measured time): run it niced on a shared machine.
#   tools/noise_refit.sh [WORK]          (default build/noise-refit)
# NOISE_REFIT_SKIP_FIT=1 keeps the current model file and only remeasures.
set -euo pipefail
WORK=${1:-build/noise-refit}
t0=$(date +%s)
if [ -z "${NOISE_REFIT_SKIP_FIT:-}" ]; then
    NOISE_FIT_WORK=$WORK/fit tools/fit_noise_model.sh models/noise_model.csv
fi
t1=$(date +%s)
rm -rf "$WORK/coverage"
tools/noise_coverage.sh "$WORK/coverage"
t2=$(date +%s)
echo "noise_refit: fit $((t1 - t0)) s, coverage and power $((t2 - t1)) s, total $((t2 - t0)) s (wall clock)" |
    tee -a "$WORK/coverage/summary.txt"

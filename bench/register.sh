#!/usr/bin/env bash
# Registration: our ECC (per CPU level) and OpenCV's findTransformECC on the same skin-texture pair
# (1500x1000, affine, same start ~3 px off), one thread each. bench/results/register.csv.
set -u
BUILD=${BUILD:-build}
cd "$(dirname "$0")/.."
mkdir -p bench/results
csv=bench/results/register.csv
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "impl,criteria,motion,size,start_err_px,final_err_px,ms,iterations" > "$csv"
"$BUILD/bench/bench_register" "$tmp" "$csv" "$@" || exit 1
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import cv2' 2>/dev/null; then
    /usr/bin/python3 bench/ecc_opencv.py "$tmp" "$csv"
else
    echo "register.sh: /usr/bin/python3 with cv2 (python3-opencv) not found; OpenCV comparison skipped"
fi
echo "wrote $csv"

#!/usr/bin/env bash
# `make demo`: generate the sample course (deterministic phantoms built on samples/faces/astronaut.png)
# when missing, score it with `skindelta run`, and print where the report is plus the headline
# cohort rows.
set -euo pipefail
BUILD=${BUILD:-build}
BIN="$BUILD/skindelta"
SAMPLES=samples/demo
OUT=${DEMO_OUT:-$BUILD/demo-out}
[ -x "$BIN" ] || { echo "demo: $BIN is missing; run make first" >&2; exit 1; }
if [ ! -f "$SAMPLES/truth.json" ]; then
    echo "demo: generating the sample course in $SAMPLES (4 patients x 3 sessions, seed 4)"
    rm -rf "$SAMPLES.tmp"
    "$BIN" synth --kind face -o "$SAMPLES.tmp" --patients 4 --sessions 3 --seed 4
    rm -rf "$SAMPLES"; mv "$SAMPLES.tmp" "$SAMPLES"
fi
rm -rf "$OUT"
echo "demo: skindelta run $SAMPLES -o $OUT"
set +e
"$BIN" run "$SAMPLES" -o "$OUT"
rc=$?
set -e
if [ $rc -gt 1 ]; then echo "demo: the run failed (exit $rc)" >&2; exit $rc; fi
echo
echo "Headline (cohort, primary metrics; improvement_pct > 0 = better):"
awk -F, 'NR==1{for(i=1;i<=NF;i++)c[$i]=i; printf "%-6s %-3s %-14s %-20s %3s %10s %10s %9s\n","view","ses","region","metric","n","impr_pct","mean_delta","holm_p"; next}
  ($c["metric"]=="texture_roughness"||$c["metric"]=="wrinkle_density"||$c["metric"]=="pigment_unevenness") && ($c["region"]=="face"||$c["region"]=="whole"||$c["region"]=="forehead"||$c["region"]=="cheek_l") {
  printf "%-6s %-3s %-14s %-20s %3s %10.2f %10.4g %9.3g\n",$c["view"],$c["session_index"],$c["region"],$c["metric"],$c["n"],$c["mean_improvement_pct"],$c["mean_delta"],$c["holm_p"]}' "$OUT/cohort.csv"
echo
echo "Truth of the phantom course: $SAMPLES/truth.json"
echo "Report: $(cd "$OUT" && pwd)/report/index.html"
[ $rc -eq 0 ] || echo "demo: some inputs failed; see $OUT/errors.csv"

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
# The course is captured like a careful clinic (one camera setting: --capture consistent) with
# one deliberately bad capture (patient 3's first follow-up: JPEG q70, overexposed with a red
# cast) to show what QC catches. A course made by an older demo (no stamp) is made again.
DEMO_SYNTH="--kind face --patients 4 --sessions 3 --seed 4 --capture consistent --bad-capture 3:2"
# (the stamp also names the phantoms' generation: 0.3 added hair strands and nasolabial folds)
STAMP="$DEMO_SYNTH (phantoms 0.3)"
if [ ! -f "$SAMPLES/truth.json" ] || [ "$(cat "$SAMPLES/.synth_options" 2>/dev/null)" != "$STAMP" ]; then
    echo "demo: generating the sample course in $SAMPLES ($DEMO_SYNTH)"
    rm -rf "$SAMPLES.tmp"
    "$BIN" synth -o "$SAMPLES.tmp" $DEMO_SYNTH
    echo "$STAMP" > "$SAMPLES.tmp/.synth_options"
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
awk -F, 'NR==1{for(i=1;i<=NF;i++)c[$i]=i; printf "%-6s %-3s %-14s %-20s %3s %10s %10s %9s %-12s\n","view","ses","region","metric","n","impr_pct","mean_delta","adj_p","family"; next}
  ($c["metric"]=="texture_roughness"||$c["metric"]=="wrinkle_density"||$c["metric"]=="pigment_unevenness") && ($c["region"]=="face"||$c["region"]=="whole"||$c["region"]=="forehead"||$c["region"]=="cheek_l") {
  p = $c["family"]=="confirmatory" ? $c["holm_p"] : $c["bh_q"]
  printf "%-6s %-3s %-14s %-20s %3s %10s %10.4g %9s %-12s\n",$c["view"],$c["session_index"],$c["region"],$c["metric"],$c["n"],$c["mean_improvement_pct"]==""?"-":sprintf("%.2f",$c["mean_improvement_pct"]),$c["mean_delta"],p==""?"-":sprintf("%.3g",p),$c["family"]}' "$OUT/cohort.csv"
echo "(adj_p: Holm within the confirmatory family, Benjamini-Hochberg q within the exploratory one;"
echo " with 4 patients the smallest attainable Wilcoxon p is 0.125: see the report's verdicts)"
echo
echo "Truth of the phantom course: $SAMPLES/truth.json"
echo "Report: $(cd "$OUT" && pwd)/report/index.html"
[ $rc -eq 0 ] || echo "demo: some inputs failed; see $OUT/errors.csv"

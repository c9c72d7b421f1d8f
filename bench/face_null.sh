#!/usr/bin/env bash
# Face phantoms with no treatment (issue 14's face study): `synth --kind face --effect-scale 0`,
# 16 patients x 3 sessions with the full random capture nuisance (pose, gain, white balance,
# gamma 0.9-1.1, noise, JPEG q80-95); even-numbered patients wear hair strands that fall anew at
# every session, odd-numbered ones nasolabial folds. Each follow-up's relative drift from its
# baseline, per primary metric, on `face` (all patients) and on `forehead` (the hair patients),
# RMS and worst. Writes bench/results/face_null.txt (~10 min on one core).
# Options (environment): PATIENTS (16), SESSIONS (3), SEED (41), SIZE (1600), KEEP=1 keeps the
# course and the run in bench/results/face_null.d.
set -u
BUILD=${BUILD:-build}
cd "$(dirname "$0")/.."
PATIENTS=${PATIENTS:-16}
SESSIONS=${SESSIONS:-3}
SEED=${SEED:-41}
SIZE=${SIZE:-1600}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p bench/results
out=bench/results/face_null.txt
"$BUILD/skindelta" synth --kind face --patients "$PATIENTS" --sessions "$SESSIONS" --seed "$SEED" \
    --size "$SIZE" --effect-scale 0 -o "$work/course" >/dev/null || exit 1
"$BUILD/skindelta" run "$work/course" -o "$work/out" --no-images >/dev/null 2>"$work/run.err" || {
    cat "$work/run.err" >&2
    exit 1
}
{
    echo "face null course: $PATIENTS patients x $SESSIONS sessions, seed $SEED, ${SIZE} px, full nuisance incl. gamma"
    echo "drift = follow-up / baseline - 1 of the region's value (changes.csv), % ; bar (issue 14): face RMS <= 2%, forehead (hair moved only) <= 3%"
    awk -F, '
        FNR == 1 { f++ }
        f == 1 { if (FNR > 1) qc[$1 SUBSEP $3 SUBSEP $6 SUBSEP $7] = $11; next }
        FNR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
        {
            m = $c["metric"]; r = $c["region"]; p = $c["patient"]
            if (m != "texture_roughness" && m != "wrinkle_density" && m != "pigment_unevenness") next
            b = $c["baseline"]; v = $c["value"]
            if (b == "" || v == "" || b + 0 == 0) next
            d = 100 * (v / b - 1)
            pn = substr(p, 2) + 0
            if (r == "face") {
                key = "face (all patients)"
                if (qc[p SUBSEP $c["session"] SUBSEP r SUBSEP m] == "ok") {
                    k = "face (follow-ups with qc ok)" SUBSEP m
                    n[k]++; ss[k] += d * d; a = d < 0 ? -d : d
                    if (a > w[k]) w[k] = a
                    keys["face (follow-ups with qc ok)"] = 1
                }
            } else if (r == "forehead" && pn % 2 == 0) key = "forehead (hair patients)"
            else if ((r == "nasolabial_l" || r == "nasolabial_r") && pn % 2 == 1) key = "nasolabial (fold patients)"
            else next
            k = key SUBSEP m
            n[k]++; ss[k] += d * d
            if (d < 0) d = -d
            if (d > w[k]) w[k] = d
            keys[key] = 1
        }
        END {
            split("texture_roughness wrinkle_density pigment_unevenness", ms, " ")
            for (key in keys) {
                line = sprintf("%-28s", key)
                for (j = 1; j <= 3; j++) {
                    k = key SUBSEP ms[j]
                    if (n[k]) line = line sprintf("  %s RMS %.2f%% worst %.2f%% (n %d)", ms[j], sqrt(ss[k] / n[k]), w[k], n[k])
                }
                print line
            }
        }' "$work/out/measurements.csv" "$work/out/changes.csv" | sort
    echo "beyond_noise among these changes (face region): $(awk -F, 'NR==1{for(i=1;i<=NF;i++)c[$i]=i;next} $c["region"]=="face" && ($c["metric"]=="texture_roughness"||$c["metric"]=="wrinkle_density"||$c["metric"]=="pigment_unevenness"){n++; if($c["beyond_noise"]=="1"||$c["beyond_noise"]=="true")b++} END{printf "%d of %d", b, n}' "$work/out/changes.csv")"
} > "$out.tmp" || { rm -f "$out.tmp"; exit 1; }
mv "$out.tmp" "$out"
if [ "${KEEP:-0}" = 1 ]; then
    rm -rf bench/results/face_null.d
    mkdir -p bench/results/face_null.d
    cp -r "$work/course" "$work/out" bench/results/face_null.d/
fi
cat "$out"
echo "wrote $out"

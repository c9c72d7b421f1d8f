#!/usr/bin/env bash
# What `skindelta run` writes, checked by value (run_batch.sh checks the files and failure paths):
# - alignment.csv: the follow-up's transform, composed with the baseline's, equals the fixture's
#   known photo-to-photo transform (tests/data/face/astronaut_moved_transform.txt);
# - changes.csv: delta, pct_change, improvement_pct and beyond_noise follow from measurements.csv;
#   without --mdc, mdc95 = 1.96 sqrt(sd_b^2 + sd_f^2) of uncertainty.csv; with --mdc, mdc95 is the
#   repeatability file's MDC95 exactly (and so differs from the run without it);
# - cohort.csv (two patients at session 1, one at session 2) and trends.csv (three sessions of p1)
#   recomputed from changes.csv and measurements.csv with the formulas of docs/STATISTICS.md;
# - the scalar kernels (SKINDELTA_CPU=scalar) give the same measurements as the default level
#   within the tolerances stated below.
# Fast (a few seconds): also the mutation campaign's test of src/run/ (tools/mutate.py).
ITEST_NAME=run_contents; . "$(dirname "$0")/../lib/itest.sh"
D=tests/data/face
FACE=$D/astronaut.png; MOVED=$D/astronaut_moved.png
mkdir -p $T/in/p1/s1 $T/in/p1/s2 $T/in/p1/s3 $T/in/p2/s1 $T/in/p2/s2 $T/rep/a/1 $T/rep/a/2 $T/rep/b/1 $T/rep/b/2
cp $FACE $T/in/p1/s1/front.png; cp $MOVED $T/in/p1/s2/front.png; cp $D/astronaut_moved_q80.jpg $T/in/p1/s3/front.jpg
cp $MOVED $T/in/p2/s1/front.png; cp $FACE $T/in/p2/s2/front.png
# repeat captures that differ (compression), so that MDC95 is not zero
cp $FACE $T/rep/a/1/front.png; cp $D/astronaut_q95.jpg $T/rep/a/2/front.jpg
cp $MOVED $T/rep/b/1/front.png; cp $D/astronaut_moved_q80.jpg $T/rep/b/2/front.jpg
OPTS="--iod 120 --bootstrap 3 --jobs 2 --quiet --no-report --no-images"

"$BIN" repeatability $T/rep -o $T/repout --iod 120 --quiet >/dev/null 2>&1; rc=$?
MDC=$T/repout/repeatability.csv
check "repeatability exits 0 (rc $rc)" "[ $rc -eq 0 ] && [ -s $MDC ]"
check "repeatability: some MDC95 values are > 0" "awk -F, 'NR>1 && \$8 > 0 {n++} END{exit !(n >= 20)}' $MDC"
"$BIN" run $T/in -o $T/plain $OPTS 2>$T/plain.err; rc1=$?
"$BIN" run $T/in -o $T/mdc $OPTS --mdc $MDC 2>$T/mdc.err; rc2=$?
check "both runs exit 0 (rc $rc1, $rc2)" "[ $rc1 -eq 0 ] && [ $rc2 -eq 0 ]"

# ---- alignment.csv: F = A^-1 B against the fixture (linear part within 0.005, shift within 1 px)
fixture_ok() {   # alignment.csv baseline-row follow-up-row
    local got
    got=$(awk -F, -v b=$2 -v a=$3 -f tests/lib/affine.awk "$1") || return 1
    echo "  $1: F = $got" >&2
    awk -v got="$got" 'BEGIN { n = split(got, g, " "); if (n != 6) exit 1 }
        !/^#/ { for (i = 1; i <= 3; i++) want[++k] = $i }
        END { for (i = 1; i <= 6; i++) { tol = (i == 3 || i == 6) ? 1.0 : 0.005
              d = g[i] - want[i]; if (d < 0) d = -d; if (d > tol) { print "  element " i ": " g[i] " vs " want[i] > "/dev/stderr"; exit 1 } } }' \
        $D/astronaut_moved_transform.txt
}
check "alignment.csv: rows p1 s1 (baseline) then p1 s2" \
    "sed -n 2p $T/plain/alignment.csv | grep -q '^p1,front,s1,' && sed -n 3p $T/plain/alignment.csv | grep -q '^p1,front,s2,'"
check "run: follow-up transform composed with the baseline's is the fixture's transform" "fixture_ok $T/plain/alignment.csv 2 3"
check "run: the baseline transform is a similarity (a11 = a22, a12 = -a21)" \
    "awk -F, 'NR==2 {d1=\$7-\$11; d2=\$8+\$10; exit !(d1*d1 < 1e-12 && d2*d2 < 1e-12 && \$7 > 0)}' $T/plain/alignment.csv"

# ---- changes.csv from measurements.csv
# joins changes rows (patient,session,region,metric) with the baseline and follow-up measurement
# (the baseline is the follow-up's paired_baseline of uncertainty.csv when the run measured it on
# the pair's skin, else the baseline's own row)
check "changes: baseline, value, delta, pct_change, improvement_pct follow from measurements.csv" \
    "awk -F, 'FNR==1 {f++; next}
        f==1 { if (\$8 != \"\") pb[\$1 SUBSEP \$3 SUBSEP \$4 SUBSEP \$5] = \$8; next }
        f==2 { v[\$1 SUBSEP \$3 SUBSEP \$6 SUBSEP \$7] = \$8; b[\$7] = \$10; next }
        { n++; k = \$1 SUBSEP \$3 SUBSEP \$6 SUBSEP \$7; bv = (k in pb) ? pb[k] : v[\$1 SUBSEP \"s1\" SUBSEP \$6 SUBSEP \$7]; fv = v[k]; np += (k in pb)
          if (bv == \"\" || fv == \"\" || \$8 + 0 != bv + 0 || \$9 + 0 != fv + 0) { bad++; next }
          d = fv - bv; if ((\$10 - d) ^ 2 > 1e-12 * (1 + d * d)) { bad++; next }
          if (\$11 == \"\") { if (\$12 != \"\") bad++; empty++; next }   # below the metric floor: absolute change only
          if (bv != 0) { p = 100 * d / (bv < 0 ? -bv : bv); if ((\$11 - p) ^ 2 > 1e-10 * (1 + p * p)) { bad++; next }
            s = b[\$7] == \"lower\" ? -1 : 1; if ((\$12 - s * p) ^ 2 > 1e-10 * (1 + p * p)) { bad++; next } } }
        END { print \"  changes rows \" n \", paired baselines \" np + 0 \", without pct (floor) \" empty + 0 \", inconsistent \" bad + 0 > \"/dev/stderr\"
              exit !(n >= 100 && n - empty >= 100 && np >= 100 && bad == 0) }' \
        $T/plain/uncertainty.csv $T/plain/measurements.csv $T/plain/changes.csv"
check "changes without --mdc: mdc95 = 1.96 sqrt(sd_b^2 + sd_f^2) from uncertainty.csv" \
    "awk -F, 'FNR==1 {f++; next}
        f==1 { sd[\$1 SUBSEP \$3 SUBSEP \$4 SUBSEP \$5] = \$6; next }
        { a = sd[\$1 SUBSEP \"s1\" SUBSEP \$6 SUBSEP \$7]; c = sd[\$1 SUBSEP \$3 SUBSEP \$6 SUBSEP \$7]
          if (a == \"\" || c == \"\" || \$13 == \"\") next
          n++; m = 1.96 * sqrt(a * a + c * c); if ((\$13 - m) ^ 2 > 1e-10 * (1e-12 + m * m)) bad++ }
        END { print \"  mdc95 rows \" n \", off \" bad + 0 > \"/dev/stderr\"; exit !(n >= 100 && bad == 0) }' \
        $T/plain/uncertainty.csv $T/plain/changes.csv"
beyond_ok() {   # beyond_noise = |delta| > mdc95
    awk -F, 'NR > 1 && $13 != "" { n++; d = $10 < 0 ? -$10 : $10; if ($14 != (d > $13 ? 1 : 0)) bad++ }
        END { exit !(n >= 100 && bad == 0) }' "$1"
}
check "changes: beyond_noise = |delta| > mdc95 (no --mdc)" "beyond_ok $T/plain/changes.csv"
check "changes: beyond_noise = |delta| > mdc95 (--mdc)" "beyond_ok $T/mdc/changes.csv"

# ---- cohort.csv from changes.csv: n, mean and SD (n-1) of delta, CI mean +- t(0.975, n-1) SD/sqrt(n)
# (t = 12.7062047 for n = 2; empty for n = 1), t_p (n = 2: the t distribution with 1 degree of
# freedom is Cauchy, p = 1 - 2 atan(|t|)/pi), cohens_dz = mean/SD, responders_pct = % of the
# changes with an mdc95 that improve by more than it, mean pct_change and improvement_pct
cohort_ok() {   # measurements.csv changes.csv cohort.csv (a responder: beyond noise and better-signed delta > 0)
    awk -F, 'function rel(a, b) { d = a - b; d = d < 0 ? -d : d; m = (a < 0 ? -a : a) + (b < 0 ? -b : b); return d <= 1e-6 * m + 1e-12 }
        FNR == 1 { f++; next }
        f == 1 { better[$7] = $10 == "lower" ? -1 : 1; next }
        f == 2 { k = $2 SUBSEP $4 SUBSEP $6 SUBSEP $7; n[k]++; s[k] += $10; ss[k] += $10 * $10
                 if ($11 != "") { np[k]++; pc[k] += $11; ip[k] += $12 }; if ($13 != "") { nm[k]++; if ($14 == 1 && better[$7] * $10 > 0) r[k]++ }; next }
        { k = $1 SUBSEP $2 SUBSEP $3 SUBSEP $4; rows++
          if (!(k in n) || $5 != n[k]) { bad++; print "  n " $0 > "/dev/stderr"; next }
          N = n[k]; mu = s[k] / N
          if (!rel($6, mu) || (np[k] && (!rel($15, pc[k] / np[k]) || !rel($16, ip[k] / np[k]))) || (!np[k] && $15 != "")) { bad++; print "  mean " $0 > "/dev/stderr"; next }
          if (nm[k] && !rel($14, 100 * r[k] / nm[k])) { bad++; print "  responders " $0 > "/dev/stderr"; next }
          if (N == 1) { if ($7 != "" || $8 != "" || $9 != "" || $10 != "") { bad++; print "  n=1 " $0 > "/dev/stderr" }; next }
          sd = sqrt((ss[k] - N * mu * mu) / (N - 1)); checked++
          if (sd < 1e-9 * (mu < 0 ? -mu : mu) + 1e-12) next
          t = mu / (sd / sqrt(N)); tt = t < 0 ? -t : t; half = 12.7062047 * sd / sqrt(N)
          if (!rel($7, sd) || !rel($8, mu - half) || !rel($9, mu + half) || !rel($13, mu / sd) ||
              ($10 != "" && !rel($10, 1 - 2 * atan2(tt, 1) / 3.14159265358979)) || $10 == "") {
              bad++; print "  stats " $0 " (sd " sd ", t " t ")" > "/dev/stderr" } }
        END { print "  cohort rows " rows ", with n = 2 " checked ", off " bad + 0 > "/dev/stderr"
              exit !(rows >= 300 && checked >= 100 && bad == 0) }' "$1" "$2" "$3"
}
check "cohort.csv follows from changes.csv (n, mean, SD, CI, t_p, d_z, responders, mean %)" "cohort_ok $T/plain/measurements.csv $T/plain/changes.csv $T/plain/cohort.csv"
check "cohort.csv with --mdc: responders counted against the file's MDC95" "cohort_ok $T/mdc/measurements.csv $T/mdc/changes.csv $T/mdc/cohort.csv"
# ---- trends.csv from measurements.csv: OLS of value on the session index (no dates); p1 has 3
# sessions (CI slope +- t(0.975, 1) SE, SE = sqrt(SSres / (n - 2) / Sxx)), p2 has 2 (CI empty)
check "trends.csv follows from measurements.csv (slope, CI, unit)" \
    "awk -F, 'function rel(a, b) { d = a - b; d = d < 0 ? -d : d; m = (a < 0 ? -a : a) + (b < 0 ? -b : b); return d <= 1e-6 * m + 1e-9 }
        FNR == 1 { f++; next }
        f == 1 { k = \$1 SUBSEP \$2 SUBSEP \$6 SUBSEP \$7; v[k, \$4] = \$8; ns[k]++; next }
        { k = \$1 SUBSEP \$2 SUBSEP \$3 SUBSEP \$4; rows++
          if (\$5 != ns[k] || \$7 != \"per_session\") { bad++; next }
          if (ns[k] == 2) { if (!rel(\$6, v[k, 1] - v[k, 0]) || \$8 != \"\" || \$9 != \"\") bad++; n2++; next }
          b = (v[k, 2] - v[k, 0]) / 2; a = (v[k, 0] + v[k, 1] + v[k, 2]) / 3 - b
          res = 0; for (i = 0; i < 3; i++) { e = v[k, i] - a - b * i; res += e * e }
          half = 12.7062047 * sqrt(res / 2); n3++
          if (!rel(\$6, b) || !rel(\$8, b - half) || !rel(\$9, b + half)) { bad++; print \"  \" \$0 \" want \" b \" +- \" half > \"/dev/stderr\" } }
        END { print \"  trends rows: \" n3 \" of 3 sessions, \" n2 \" of 2, off \" bad + 0 > \"/dev/stderr\"
              exit !(n3 >= 150 && n2 >= 150 && bad == 0) }' $T/plain/measurements.csv $T/plain/trends.csv"

# ---- --mdc: the file's MDC95, exactly, on every row the file covers
mdc_from_file() {   # changes.csv -> "rows equal differing"
    awk -F, 'FNR==1 {f++; next}
        f==1 { m[$1 SUBSEP $2] = $8; next }
        ($6 SUBSEP $7) in m { n++; a = m[$6 SUBSEP $7]; if (($13 - a) ^ 2 <= 1e-12 * (1e-24 + a * a)) e++; else d++ }
        END { print n + 0, e + 0, d + 0 }' $MDC "$1"
}
read n1 e1 d1 < <(mdc_from_file $T/mdc/changes.csv)
read n2 e2 d2 < <(mdc_from_file $T/plain/changes.csv)
echo "  --mdc: $e1 of $n1 rows carry the file's MDC95; without --mdc: $e2 of $n2"
check "run --mdc: every changes row carries the repeatability file's MDC95 ($e1 of $n1)" "[ $n1 -ge 100 ] && [ $e1 -eq $n1 ]"
check "run without --mdc: mdc95 differs from the file's (on $d2 of $n2 rows)" "[ $n2 -ge 100 ] && [ $d2 -ge $((n2 * 8 / 10)) ]"
check "--mdc changes only mdc95 and beyond_noise: measurements.csv identical" "cmp -s $T/plain/measurements.csv $T/mdc/measurements.csv"
check "--mdc: run.json names the file" "grep -q 'repeatability.csv' $T/mdc/run.json && ! grep -q 'repeatability.csv' $T/plain/run.json"

# ---- run.json records the settings that made the numbers
check "run.json: px_per_mm_given null (not given), the QC thresholds, the detector's input sizes" \
    "grep -q '\"px_per_mm_given\": null,' $T/plain/run.json && grep -q '\"qc_overlap_warn\": 0.9,' $T/plain/run.json &&
     grep -q '\"qc_overlap_fail\": 0.6,' $T/plain/run.json && grep -q '\"face_input_sizes\": \[320, 416, 608\]' $T/plain/run.json"
check "run.json: each model file's sha256 is the file's" \
    "(n=0; for m in models/*.bin; do grep -q \"\\\"\$(basename \$m)\\\": \\\"sha256:\$(sha256sum \$m | cut -c1-64)\\\"\" $T/plain/run.json || exit 1; n=\$((n+1)); done; [ \$n -ge 3 ])"

# ---- the scalar kernels against the default level, end to end
# Tolerances (relative to the largest of the metric's spread over the 13 regions and the value
# itself, so near-zero values do not demand exact equality): 0.5% for every metric but the GLCM
# features, 1% for those (their quantisation of the band into 32 levels can move a pixel across a
# level when float sums round differently). Measured here (AVX-512 default level): the largest
# difference is 1.7e-4 of the spread. Transforms: linear part within 1e-4, shift within 0.05 px.
if [ -z "${SKINDELTA_CPU:-}" ]; then
    SKINDELTA_CPU=scalar "$BIN" run $T/in -o $T/scalar $OPTS 2>/dev/null; rc=$?
    check "scalar run exits 0 (rc $rc)" "[ $rc -eq 0 ]"
    check "run.json records the scalar level" "grep -q '\"cpu_level\": \"scalar\"' $T/scalar/run.json && ! grep -q '\"cpu_level\": \"scalar\"' $T/plain/run.json"
    check "scalar vs default: measurements equal within the stated tolerances" \
        "awk -F, 'FNR==1 {f++; next}
            f==1 { v[\$1 SUBSEP \$3 SUBSEP \$6 SUBSEP \$7] = \$8; lo[\$7] = (\$7 in lo && lo[\$7] < \$8) ? lo[\$7] : \$8
                   hi[\$7] = (\$7 in hi && hi[\$7] > \$8) ? hi[\$7] : \$8; next }
            { k = \$1 SUBSEP \$3 SUBSEP \$6 SUBSEP \$7; if (!(k in v)) { miss++; next }
              n++; s = hi[\$7] - lo[\$7]; a = v[k] < 0 ? -v[k] : v[k]; s = s > a ? s : a; if (s == 0) s = 1
              tol = \$7 ~ /glcm/ ? 0.01 : 0.005; d = \$8 - v[k]; d = d < 0 ? -d : d
              if (d > tol * s) { bad++; print \"  \" \$6 \" \" \$7 \": \" v[k] \" vs \" \$8 > \"/dev/stderr\" }
              if (d / s > worst) worst = d / s }
            END { printf \"  scalar vs default: %d values, worst %.2g of the spread\n\", n, worst > \"/dev/stderr\"
                  exit !(n >= 300 && bad == 0 && miss == 0) }' $T/plain/measurements.csv $T/scalar/measurements.csv"
    check "scalar vs default: alignment transforms equal" \
        "paste -d, <(cut -d, -f7-12 $T/plain/alignment.csv) <(cut -d, -f7-12 $T/scalar/alignment.csv) |
         awk -F, 'NR > 1 { for (i = 1; i <= 6; i++) { d = \$i - \$(i + 6); d = d < 0 ? -d : d
             if (d > ((i == 3 || i == 6) ? 0.05 : 1e-4)) bad++ } n++ } END { exit !(n == 5 && bad == 0) }'"
    check "scalar run: transform equals the fixture's too" "fixture_ok $T/scalar/alignment.csv 2 3"
fi

itest_end

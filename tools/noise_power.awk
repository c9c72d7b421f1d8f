# Power at an equal false-positive rate (run by tools/noise_coverage.sh; docs/STATISTICS.md, "Power at an
# equal false-positive rate"). Reads changes.csv files given as NAME=FILE pairs through -v:
#   awk -F, -v NULLS="model=A/changes.csv boot=B/changes.csv" \
#           -v TREATED="model=C/changes.csv boot=D/changes.csv" [-v FPR=0.05] [-v SWEEP=1] \
#           -v PRIMARY=1 -f tools/noise_power.awk A/changes.csv B/changes.csv C/changes.csv D/changes.csv
# Per method and metric, z = |delta| / mdc95 of every change with an MDC95. On the null course the
# multiplier k is set so that at most FPR of the null changes have z > k (k = the
# (floor(FPR n) + 1)-th largest null z; with fewer than 1 / FPR null changes that is the largest,
# a rate of 0); on the treated course (every phantom improves) the changes
# with z > k are counted as true (better direction) and false (worse) detections. The same at the
# nominal k = 1 (beyond_noise as written). SWEEP=1 also prints null rate and detections for a
# grid of k. Metrics: lower is better except texture_glcm_homogeneity.
function qsortd(A, lo, hi,    i, last, t) {   # descending
    if (lo >= hi) return
    t = A[lo]; A[lo] = A[int((lo + hi) / 2)]; A[int((lo + hi) / 2)] = t
    last = lo
    for (i = lo + 1; i <= hi; i++)
        if (A[i] > A[lo]) { last++; t = A[last]; A[last] = A[i]; A[i] = t }
    t = A[lo]; A[lo] = A[last]; A[last] = t
    qsortd(A, lo, last - 1); qsortd(A, last + 1, hi)
}
BEGIN {
    if (FPR == "") FPR = 0.05
    nn = split(NULLS, a, " ");   for (i = 1; i <= nn; i++) { split(a[i], b, "="); role[b[2]] = "null"; meth[b[2]] = b[1]; if (!(b[1] in seen)) { seen[b[1]] = 1; morder[++nmeth] = b[1] } }
    nt = split(TREATED, a, " "); for (i = 1; i <= nt; i++) { split(a[i], b, "="); role[b[2]] = "tr";   meth[b[2]] = b[1] }
}
FNR == 1 { delete c; for (i = 1; i <= NF; i++) c[$i] = i; next }
{
    m = $c["metric"]
    if (PRIMARY && m != "texture_roughness" && m != "wrinkle_density" && m != "pigment_unevenness") next
    if ($c["mdc95"] == "" || $c["delta"] == "" || $c["mdc95"] + 0 <= 0) next
    if (!(m in mseen)) { mseen[m] = 1; order[++nm] = m }
    z = ($c["delta"] < 0 ? -$c["delta"] : $c["delta"]) / $c["mdc95"]
    key = meth[FILENAME] SUBSEP m
    if (role[FILENAME] == "null") { nz[key]++; Z[key, nz[key]] = z }
    else {
        dir = (m == "texture_glcm_homogeneity") ? 1 : -1
        nt2[key]++; TZ[key, nt2[key]] = z; TB[key, nt2[key]] = (dir * $c["delta"] > 0)
    }
}
function count(key, k, which,    i, s) {   # which: 0 null fired, 1 treated better, 2 treated worse
    s = 0
    if (which == 0) { for (i = 1; i <= nz[key]; i++) s += Z[key, i] > k }
    else for (i = 1; i <= nt2[key]; i++) s += TZ[key, i] > k && TB[key, i] == (which == 1)
    return s
}
END {
    printf "%-20s %-6s %5s %8s %7s | %6s %9s %9s | %6s %7s %7s %7s\n", "metric", "method", "null", "fired@1", "k@" 100 * FPR "%", \
        "nullFP", "treated", "true@1", "false@1", "true@k", "false@k", "k"
    for (j = 1; j <= nm; j++) for (q = 1; q <= nmeth; q++) {
        m = order[j]; key = morder[q] SUBSEP m
        if (!(key in nz) && !(key in nt2)) continue
        nmax = int(FPR * nz[key] + 1e-9)
        delete S; for (i = 1; i <= nz[key]; i++) S[i] = Z[key, i]
        qsortd(S, 1, nz[key])
        k = nz[key] > nmax ? S[nmax + 1] : 0
        kk[key] = k
        printf "%-20s %-6s %5d %7.1f%% %7.3g | %5.1f%% %9d %9d | %6d %7d %7d %7.3g\n", m, morder[q], nz[key], \
            nz[key] ? 100 * count(key, 1, 0) / nz[key] : 0, k, nz[key] ? 100 * count(key, k, 0) / nz[key] : 0, \
            nt2[key], count(key, 1, 1), count(key, 1, 2), count(key, k, 1), count(key, k, 2), k
    }
    if (SWEEP) {
        print ""
        printf "%-20s %-6s %6s %8s %8s %8s\n", "metric", "method", "k", "null%", "true", "false"
        for (j = 1; j <= nm; j++) for (q = 1; q <= nmeth; q++) {
            m = order[j]; key = morder[q] SUBSEP m
            for (k = 0.25; k <= 4.001; k += 0.25)
                printf "%-20s %-6s %6.2f %7.1f%% %8d %8d\n", m, morder[q], k, nz[key] ? 100 * count(key, k, 0) / nz[key] : 0, \
                    count(key, k, 1), count(key, k, 2)
        }
    }
}

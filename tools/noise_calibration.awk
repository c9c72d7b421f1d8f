# Calibration table of a run's changes.csv (awk -F, -f tools/noise_calibration.awk changes.csv):
# per metric the changes with an MDC95, how many fired beyond noise (better / worse), the spread
# the model predicts (RMS of mdc95 / 1.96, the SD of a change) against the spread observed (RMS of
# delta), and their ratio. On a null course fired% is the false-positive rate and observed /
# predicted should be near 1 or below. PRIMARY=1 (-v) restricts to the three primary metrics.
NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
{
    m = $c["metric"]
    if (PRIMARY && m != "texture_roughness" && m != "wrinkle_density" && m != "pigment_unevenness") next
    if ($c["mdc95"] == "" || $c["delta"] == "") next
    if (!(m in n)) order[++nm] = m
    n[m]++; d = $c["delta"] + 0; s = $c["mdc95"] / 1.96
    obs[m] += d * d; pre[m] += s * s
    if ($c["beyond_noise"] == 1) {
        fired[m]++
        dir = (m == "texture_glcm_homogeneity") ? 1 : -1   # every other metric: lower is better
        if (dir * d > 0) fb[m]++; else fw[m]++
    }
}
END {
    printf "%-26s %6s %7s %6s %6s %11s %11s %7s\n", "metric", "n", "fired%", "better", "worse", "pred_sd", "obs_sd", "obs/pred"
    for (k = 1; k <= nm; k++) {
        m = order[k]
        printf "%-26s %6d %7.1f %6d %6d %11.4g %11.4g %7.2f\n", m, n[m], 100 * fired[m] / n[m], fb[m], fw[m], \
            sqrt(pre[m] / n[m]), sqrt(obs[m] / n[m]), sqrt(obs[m] / n[m]) / sqrt(pre[m] / n[m])
    }
}

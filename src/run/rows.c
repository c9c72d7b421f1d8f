/* Table rows of the batch runner: errors.csv, measurements (one per region and metric) and
 * alignment.csv, plus the free-text notes the alignment rows carry. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "src/run/run_int.h"
#include "src/core/core.h"

/* One errors.csv row; the message always names the file (prefixed when the stage's own text
 * does not). */
void sd__run_add_error(SdPatientOut *po, const char *path, const char *stage, int code, const char *msg)
{
    if (!msg || !*msg) msg = sd_strerror(code);
    if (strstr(msg, path))
        sd_rowlist_addf(&po->error_rows, "%s\x1f%s\x1f%s\x1f%s", path, stage, sd_errname(code), msg);
    else
        sd_rowlist_addf(&po->error_rows, "%s\x1f%s\x1f%s\x1f%s: %s", path, stage, sd_errname(code), path, msg);
    po->failed++;
}

void sd__run_push_values(SdPatientOut *po, const SdCatEntry *e, const SdRegions *rg,
                         double (*val)[SD_NMETRICS], double (*sd)[SD_NMETRICS], int nboot,
                         double (*paired)[SD_NMETRICS], const char *qc)
{
    for (int r = 0; r < rg->n; r++)
        for (int m = 0; m < SD_NMETRICS; m++) {
            const SdMetricInfo *mi = sd_metric_info(m);
            SdMeasRow row = {
                .patient = e->patient, .view = e->view, .session = e->session,
                .session_index = e->session_index, .days = e->days,
                .region = (char *)rg->name[r], .metric = (char *)mi->id, .value = val[r][m],
                .unit = (char *)mi->unit, .better = mi->better, .qc = (char *)qc,
                .sd = sd ? sd[r][m] : NAN, .n_boot = sd ? nboot : 0,
                .has_paired = paired && isfinite(paired[r][m]), .paired_base = paired ? paired[r][m] : NAN,
            };
            if (!isfinite(row.value)) continue;   /* region too small / masked out: no row */
            sd_meas_push(&po->meas, &row);
        }
}

/* alignment.csv row. The transform is reported from the ORIGINAL photo's pixels: T o P, with P
 * original -> loaded photo (a DCT downscale, and a quarter turn when the face was found only in
 * a rotated copy). note (may be NULL/"") is added to the reason. */
void sd__run_alignment_row(SdPatientOut *po, const SdCatEntry *e, const SdAligned *al,
                           const SdTransform *P, const SdAlignQC *qc, const char *status,
                           const char *photometry, const char *note)
{
    SdTransform TS;
    sd_transform_mul(&al->T, P, &TS);
    const double *m = TS.m;
    char score[32] = "", rms[32] = "", ecc[32] = "", ov[32] = "", it[32] = "";
    if (al->has_lm) snprintf(score, sizeof(score), "%.4f", al->lm.face.score);
    if (qc) {
        if (isfinite(qc->lm_rms_px)) snprintf(rms, sizeof(rms), "%.3f", qc->lm_rms_px);
        if (isfinite(qc->ecc)) snprintf(ecc, sizeof(ecc), "%.5f", qc->ecc);
        if (isfinite(qc->overlap)) snprintf(ov, sizeof(ov), "%.4f", qc->overlap);
        if (qc->iterations > 0) snprintf(it, sizeof(it), "%d", qc->iterations);
    }
    char reason[800];
    snprintf(reason, sizeof(reason), "%s%s%s", qc && qc->reason[0] ? qc->reason : "",
             qc && qc->reason[0] && note && note[0] ? "; " : "", note ? note : "");
    sd_rowlist_addf(&po->align_rows,
        "%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%.9g\x1f%.9g\x1f%.6f\x1f%.9g\x1f%.9g\x1f%.6f\x1f%s"
        "\x1f%s\x1f%s\x1f%.5f\x1f%s\x1f%s",
        e->patient, e->view, e->session, score, rms, ecc, m[0], m[1], m[2], m[3], m[4], m[5], status,
        ov, it, al->px_per_mm, photometry ? photometry : "", reason);
}

/* Adds text to a note, "; "-separated from what it already says. */
void sd__run_note_add(char *note, size_t cap, const char *text)
{
    const size_t k = strlen(note);
    snprintf(note + k, cap - k, "%s%s", k ? "; " : "", text);
}

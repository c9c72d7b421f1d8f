/* The calibrated noise model: load models/noise_model.csv and predict the SD of a measurement
 * from its covariates (include/skindelta/noise.h; the file format is in models/README.md).
 * ln sd = b0[metric, region] + sum_k b_k[metric, region] * clamp(x_k, min_k, max_k). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "skindelta/noise.h"
#include "skindelta/util.h"
#include "src/core/core.h"
#include "src/core/csv.h"

typedef struct NoiseRow {
    char metric[48], region[32];
    double b[1 + SD_NCOV];
} NoiseRow;

struct SdNoiseModel {
    NoiseRow *rows;
    int n;
    double lo[SD_NCOV], hi[SD_NCOV];
    char sha256[65];
};

void sd_noise_model_free(SdNoiseModel *m)
{
    if (!m) return;
    free(m->rows);
    free(m);
}

const char *sd_noise_model_sha256(const SdNoiseModel *m)
{
    return m ? m->sha256 : "";
}

static int parse_num(const char *s, double *v)
{
    char *end;
    if (!s || !*s) return -1;
    *v = strtod(s, &end);
    return *end || !isfinite(*v) ? -1 : 0;
}

/* Lines starting with '#' before the header are comments (the fit's provenance). */
static int parse_model(SdCtx *ctx, const char *path, const char *text, size_t len, SdNoiseModel *m)
{
    const char *p = text;
    int skipped = 0;
    while (*p == '#') {
        const char *nl = strchr(p, '\n');
        if (!nl) break;
        p = nl + 1;
        skipped++;
    }
    SdCsv csv;
    memset(&csv, 0, sizeof(csv));
    int err = sd_csv_parse(ctx, path, p, len - (size_t)(p - text), &csv);
    if (err) return err;
    int col[2 + SD_NCOV + 1];
    col[0] = sd_csv_col(&csv, "metric");
    col[1] = sd_csv_col(&csv, "region");
    col[2] = sd_csv_col(&csv, "b0");
    for (int k = 0; k < SD_NCOV; k++) col[3 + k] = sd_csv_col(&csv, sd_noise_cov_name(k));
    /* covariates from SD_NC_DTONE on came after the first fits: a file without their column
     * (or with their cells empty) has slope 0 and range 0 for them */
    for (int k = 0; k < 3 + SD_NC_DTONE; k++)
        if (col[k] < 0) {
            err = sd_fail(ctx, SD_EFORMAT, "%s: the header lacks column %d of metric,region,b0,%s,...",
                          path, k + 1, sd_noise_cov_name(0));
            goto fail;
        }
    m->rows = sd_calloc_checked(csv.nrows ? (size_t)csv.nrows : 1, sizeof(NoiseRow));
    if (!m->rows) { err = sd_fail(ctx, SD_ENOMEM, "%s: out of memory", path); goto fail; }
    int have_lo = 0, have_hi = 0;
    for (int r = 0; r < csv.nrows; r++) {
        const char *metric = sd_csv_get(&csv, r, col[0]);
        const int line = csv.rows[r].line + skipped;
        double b[1 + SD_NCOV];
        const int range = !strcmp(metric, "@min") || !strcmp(metric, "@max");
        for (int k = range ? 1 : 0; k < 1 + SD_NCOV; k++) {
            const char *cell = col[2 + k] >= 0 ? sd_csv_get(&csv, r, col[2 + k]) : "";
            if (k >= 1 + SD_NC_DTONE && !*cell) { b[k] = 0; continue; }
            if (parse_num(cell, &b[k])) {
                err = sd_fail(ctx, SD_EFORMAT, "%s:%d: column %s is not a number", path, line,
                              k ? sd_noise_cov_name(k - 1) : "b0");
                goto fail;
            }
        }
        if (range) {
            double *dst = metric[1] == 'm' && metric[2] == 'i' ? m->lo : m->hi;
            memcpy(dst, b + 1, sizeof(double) * SD_NCOV);
            if (dst == m->lo) have_lo = 1; else have_hi = 1;
            continue;
        }
        NoiseRow *nr = &m->rows[m->n++];
        snprintf(nr->metric, sizeof(nr->metric), "%s", metric);
        snprintf(nr->region, sizeof(nr->region), "%s", sd_csv_get(&csv, r, col[1]));
        memcpy(nr->b, b, sizeof(b));
    }
    if (!have_lo || !have_hi || !m->n) {
        err = sd_fail(ctx, SD_EFORMAT, "%s: needs the @min and @max rows and at least one metric row", path);
        goto fail;
    }
fail:
    sd_csv_free(&csv);
    return err;
}

int sd_noise_model_load(SdCtx *ctx, const char *path, SdNoiseModel **out)
{
    *out = NULL;
    char *text = NULL;
    size_t len = 0;
    if (sd_read_file(path, (size_t)16 << 20, &text, &len))
        return sd_fail(ctx, SD_EIO, "%s: cannot read the noise model", path);
    SdNoiseModel *m = calloc(1, sizeof(*m));
    if (!m) { free(text); return sd_fail(ctx, SD_ENOMEM, "%s: out of memory", path); }
    int err = parse_model(ctx, path, text, len, m);
    if (!err) sd_sha256(text, len, m->sha256);
    free(text);
    if (err) { sd_noise_model_free(m); return err; }
    *out = m;
    return 0;
}

int sd_noise_model_load_default(SdCtx *ctx, SdNoiseModel **out)
{
    char path[4096];
    *out = NULL;
    if (sd_model_file("noise_model.csv", path, sizeof(path)))
        return sd_fail(ctx, SD_EIO, "noise_model.csv: not found in the models folder "
                       "(set SKINDELTA_MODELS or refit it with tools/fit_noise_model.sh)");
    return sd_noise_model_load(ctx, path, out);
}

double sd_noise_model_sd(const SdNoiseModel *m, const char *metric, const char *region,
                         const double x[SD_NCOV])
{
    if (!m) return NAN;
    const NoiseRow *hit = NULL, *any = NULL;
    for (int i = 0; i < m->n && !hit; i++) {
        if (strcmp(m->rows[i].metric, metric)) continue;
        if (!strcmp(m->rows[i].region, region)) hit = &m->rows[i];
        else if (!strcmp(m->rows[i].region, "*")) any = &m->rows[i];
    }
    if (!hit) hit = any;
    if (!hit) return NAN;
    double s = hit->b[0];
    for (int k = 0; k < SD_NCOV; k++) {
        const double v = fmin(fmax(x[k], m->lo[k]), m->hi[k]);
        s += hit->b[1 + k] * v;
    }
    /* a region smaller than any the model saw (a change map's square): the SD of a mean grows as
     * 1 / sqrt(area), so extrapolate with that slope rather than clamp */
    if (x[SD_NC_AREA] < m->lo[SD_NC_AREA])
        s += 0.5 * (m->lo[SD_NC_AREA] - x[SD_NC_AREA]);
    return exp(s);
}

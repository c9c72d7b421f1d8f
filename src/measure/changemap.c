/* The change map of a follow-up (report: "where the skin changed"): the skin is cut into squares
 * of 6 mm, every primary metric is measured on each square in the baseline and in the registered
 * follow-up, and each square is coloured by its change in units of its own MDC95 from the noise
 * model (green better, red worse, uncoloured within noise). One panel per primary metric, side by
 * side, on the baseline photo (grey). A square is a small region, so its MDC95 is large: the map
 * shows where a change is concentrated, the tables say whether it is real. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "skindelta/noise.h"
#include "src/core/core.h"
#include "src/measure/noise_int.h"

#define TILE_MM 6.0
#define MAXP 4

typedef struct Tile { int x0, y0, x1, y1; double z[MAXP]; } Tile;

/* Measure one square (tile mask set on entry) in both states; z = better * delta / mdc95. */
static int tile_z(SdCtx *ctx, const SdMetricsState *sb, const SdMetricsState *sf,
                  const SdAligned *base, const SdAligned *fu, const SdMask *tile, const Tile *q,
                  const SdNoiseModel *model, const SdNoiseImage *ib, const SdNoiseImage *ifu,
                  const int *mi, int np, double *z)
{
    double vb[SD_NMETRICS], vf[SD_NMETRICS], xb[SD_NCOV], xf[SD_NCOV];
    int err = sd_metrics_region(ctx, sb, tile, NULL, vb);
    if (!err) err = sd_metrics_region(ctx, sf, tile, NULL, vf);
    if (err) return err;
    sd__noise_covariates_box(base, tile, q->x0, q->y0, q->x1, q->y1, ib, xb);
    sd__noise_covariates_box(fu, tile, q->x0, q->y0, q->x1, q->y1, ifu, xf);
    for (int k = 0; k < np; k++) {
        const SdMetricInfo *in = sd_metric_info(mi[k]);
        const double s1 = sd_noise_model_sd(model, in->id, "face", xb);
        const double s2 = sd_noise_model_sd(model, in->id, "face", xf);
        const double mdc = 1.96 * sqrt(s1 * s1 + s2 * s2);
        const double d = vf[mi[k]] - vb[mi[k]];
        z[k] = isfinite(d) && mdc > 0 ? in->better * d / mdc : NAN;
    }
    return 0;
}

/* Grey baseline, downscaled by 2, np panels side by side with the squares coloured. */
static int render(SdCtx *ctx, const SdImage *img, const Tile *t, int nt, int np, const char *path)
{
    const int w = img->w / 2, h = img->h / 2, gap = 12;
    SdImage out = {0};
    int err = sd_image_create(&out, np * w + (np - 1) * gap, h, 3, SD_FMT_F32);
    if (err) return sd_fail(ctx, err, "%s: out of memory", path);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < h; y++) {
            float *o = sd_image_rowf(&out, c, y);
            for (int x = 0; x < out.w; x++) o[x] = 1.0f;
        }
    for (int p = 0; p < np; p++)
        for (int y = 0; y < h; y++) {
            const float *r0 = sd_image_rowf(img, 0, 2 * y), *r1 = sd_image_rowf(img, 1, 2 * y),
                        *r2 = sd_image_rowf(img, 2, 2 * y);
            for (int x = 0; x < w; x++) {
                const float g = 0.35f + 0.55f * (0.3f * r0[2 * x] + 0.59f * r1[2 * x] + 0.11f * r2[2 * x]);
                for (int c = 0; c < 3; c++) sd_image_rowf(&out, c, y)[p * (w + gap) + x] = g;
            }
        }
    static const float good[3] = {0.10f, 0.50f, 0.22f}, bad[3] = {0.71f, 0.14f, 0.09f};
    for (int i = 0; i < nt; i++)
        for (int p = 0; p < np; p++) {
            const double z = t[i].z[p];
            if (!(fabs(z) >= 1)) continue;
            const float a = (float)(0.35 + 0.45 * fmin(1.0, fabs(z) - 1.0));
            const float *col = z > 0 ? good : bad;
            for (int y = t[i].y0 / 2; y < t[i].y1 / 2 && y < h; y++)
                for (int x = t[i].x0 / 2; x < t[i].x1 / 2 && x < w; x++) {
                    const int edge = y == t[i].y0 / 2 || x == t[i].x0 / 2;
                    for (int c = 0; c < 3; c++) {
                        float *o = &sd_image_rowf(&out, c, y)[p * (w + gap) + x];
                        *o = edge ? 0.85f * *o : (1 - a) * *o + a * col[c];
                    }
                }
        }
    err = sd_image_save(ctx, &out, path, 0);
    sd_image_free(&out);
    return err;
}

int sd_change_map(SdCtx *ctx, const SdMetricsState *sb, const SdMetricsState *sf,
                  const SdAligned *base, const SdAligned *fu, const SdMask *skin,
                  const SdNoiseModel *model, const SdNoiseImage *ib, const SdNoiseImage *ifu,
                  const char *path)
{
    int mi[MAXP], np = 0;
    for (int k = 0; k < SD_NMETRICS && np < MAXP; k++)
        if (sd_metric_info(k)->primary) mi[np++] = k;
    const double ppm = base->px_per_mm > 0 ? base->px_per_mm : 10.0;
    const int T = (int)fmax(8, lround(TILE_MM * ppm));
    const int W = skin->w, H = skin->h, nx = W / T, ny = H / T;
    if (!np || !model || nx < 1 || ny < 1) return 0;
    SdMask m = {0};
    Tile *t = sd_calloc_checked((size_t)nx * (size_t)ny, sizeof(Tile));
    int err = !t ? SD_ENOMEM : sd_mask_create(&m, W, H);
    if (err) { free(t); return sd_fail(ctx, SD_ENOMEM, "%s: out of memory", path); }
    memset(m.data, 0, (size_t)m.stride * (size_t)H);
    int nt = 0;
    for (int ty = 0; ty < ny && !err; ty++)
        for (int tx = 0; tx < nx && !err; tx++) {
            Tile *q = &t[nt];
            q->x0 = tx * T; q->y0 = ty * T; q->x1 = q->x0 + T; q->y1 = q->y0 + T;
            long n = 0;
            for (int y = q->y0; y < q->y1; y++) {
                const uint8_t *s = skin->data + (size_t)y * (size_t)skin->stride;
                uint8_t *d = m.data + (size_t)y * (size_t)m.stride;
                for (int x = q->x0; x < q->x1; x++) n += (d[x] = s[x] != 0);
            }
            if (n >= (long)T * T / 2) {   /* mostly skin: measure it */
                err = tile_z(ctx, sb, sf, base, fu, &m, q, model, ib, ifu, mi, np, q->z);
                nt++;
            }
            for (int y = q->y0; y < q->y1; y++)
                memset(m.data + (size_t)y * (size_t)m.stride + q->x0, 0, (size_t)T);
        }
    if (!err) err = render(ctx, &base->img, t, nt, np, path);
    sd_mask_free(&m);
    free(t);
    return err;
}

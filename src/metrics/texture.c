/* Texture: illumination-flattened shading log-luminance band (0.1-0.7 mm), its RMS roughness under
 * soft wrinkle and spot exclusion weights, and Haralick GLCM features away from detections. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/ops.h"
#include "kernels/skinmap.h"
#include "src/metrics/metrics_int.h"
#include "src/core/core.h"

int sd__mx_texture_map(SdCtx *ctx, SdMetricsState *st, const float *ls, float *tmp)
{
    int err;
    const double s0 = st->o.tex_fine_mm * st->ppm, s1 = st->o.tex_flat_mm * st->ppm;
    /* tex = G_fine ls - G_flat ls, the difference taken as the G_flat output is made */
    const SdMxComb cb = { st->tex, st->tex, tmp, NULL, { 1.0f, -1.0f, 0.0f } };
    if ((err = sd__mx_gauss(ctx, st, ls, st->tex, s0)) || (err = sd__mx_gauss_comb(ctx, st, ls, tmp, s1, &cb)))
        return err;
    return 0;
}

long sd_glcm_features_from_counts(const uint32_t *counts, int levels, double out[3])
{
    const int L = levels;
    long total = 0;
    int ndir = 0;
    out[0] = out[1] = out[2] = 0;
    for (int dir = 0; dir < 4; dir++) {
        const uint32_t *c = counts + (size_t)dir * (size_t)L * (size_t)L;
        double n = 0;
        for (int i = 0; i < L * L; i++)
            n += c[i];
        if (n <= 0)
            continue;
        total += (long)n;
        /* symmetric: P(i,j) = (C(i,j) + C(j,i)) / (2n) */
        double con = 0, hom = 0, ent = 0, inv = 1.0 / (2.0 * n);
        for (int i = 0; i < L; i++)
            for (int j = 0; j < L; j++) {
                double p = (c[i * L + j] + c[j * L + i]) * inv;
                if (p <= 0)
                    continue;
                double dd = (double)(i - j) * (double)(i - j);
                con += dd * p;
                hom += p / (1.0 + dd);
                ent -= p * log2(p);
            }
        out[0] += con; out[1] += hom; out[2] += ent;
        ndir++;
    }
    if (ndir == 0) {
        out[0] = out[1] = out[2] = NAN;
        return 0;
    }
    for (int k = 0; k < 3; k++)
        out[k] /= ndir;
    return total;
}

long sd_glcm_features(SdCtx *ctx, const uint8_t *q, ptrdiff_t q_stride, const uint8_t *mask,
                      ptrdiff_t m_stride, int w, int h, int levels, int d, double out[3])
{
    uint32_t *counts = sd_calloc_checked((size_t)4 * (size_t)levels * (size_t)levels, sizeof(uint32_t));
    if (!counts)
        return SD_ENOMEM;
    int err = sd_op_glcm(ctx, q, q_stride, mask, m_stride, w, h, d, levels, counts);
    long n = err ? err : sd_glcm_features_from_counts(counts, levels, out);
    free(counts);
    return n;
}

/* The byte loops below run in fixed blocks of 16, a form the compiler vectorises. */

/* d = a | b */
static void or_bytes(uint8_t *restrict d, const uint8_t *restrict a, const uint8_t *restrict b, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int k = 0; k < 16; k++)
            d[i + k] = a[i + k] | b[i + k];
    for (; i < n; i++)
        d[i] = a[i] | b[i];
}

/* keep = in && !keep (keep is 0/1); returns the number kept */
static long keep_bytes(uint8_t *restrict keep, const uint8_t *restrict in, size_t n)
{
    long nk = 0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        uint8_t c = 0;
        for (int k = 0; k < 16; k++) {
            keep[i + k] = (uint8_t)((in[i + k] != 0) & (keep[i + k] == 0));
            c = (uint8_t)(c + keep[i + k]);
        }
        nk += c;
    }
    for (; i < n; i++) {
        keep[i] = (uint8_t)((in[i] != 0) & (keep[i] == 0));
        nk += keep[i];
    }
    return nk;
}

/* Texture moments with the soft exclusion weights of wrinkles and spots (d->wr_w, d->sp_w). */
static void soft_moments(const SdMetricsState *st, const SdMxRegion *r, const SdMxDetect *d, double *sw,
                         double *s1, double *s2)
{
    double a = 0, b = 0, c = 0;
    for (int y = 0; y < r->h; y++) {
        const float *t = sd__mx_row(st, st->tex, y + r->y0) + r->x0;
        const size_t o = (size_t)y * (size_t)r->w;
        for (int x = 0; x < r->w; x++) {
            if (!r->in[o + x])
                continue;
            double wt = (double)d->wr_w[o + x] * (double)d->sp_w[o + x];
            a += wt; b += wt * t[x]; c += wt * (double)t[x] * t[x];
        }
    }
    *sw = a; *s1 = b; *s2 = c;
}

int sd__mx_texture_region(SdCtx *ctx, const SdMetricsState *st, const SdMxRegion *r,
                          const SdMxDetect *d, double out[SD_NMETRICS])
{
    size_t n = (size_t)r->w * (size_t)r->h;
    uint8_t *keep = NULL, *q = NULL;
    int err = 0;
    if (!(keep = malloc(n)) || !(q = malloc(n)))
        goto nomem;
    /* roughness: the band's RMS under the soft exclusion weights of wrinkles and spots (a
     * continuous function of the image); at least a quarter of the region's weight (and 2 mm²)
     * must remain */
    double sw = 0, s1m = 0, s2m = 0;
    soft_moments(st, r, d, &sw, &s1m, &s2m);
    if (sw < r->n / 4.0 || sw < 2.0 * st->ppm * st->ppm)
        goto done;
    /* noise floor: the sensor noise the band lets through (white-noise estimate) is removed */
    double s0 = st->o.tex_fine_mm * st->ppm, s1 = st->o.tex_flat_mm * st->ppm;
    double noise = st->noise_ls * sd__mx_band_gain(s0 < 0.3 ? 0 : s0, s1 > 64 ? 64 : s1);
    double mean = s1m / sw, var = s2m / sw - mean * mean - noise;
    out[SD_M_TEXTURE_ROUGHNESS] = 100.0 * sqrt(var > 0 ? var : 0);
    /* GLCM features (secondary): on the pixels away from detected wrinkles and spots */
    or_bytes(keep, d->wrinkles, d->spots, n);
    if ((err = sd__mx_dilate(keep, r->w, r->h, (int)lround(st->o.tex_exclude_mm * st->ppm))))
        goto fail;
    const long nk = keep_bytes(keep, r->in, n);
    if (nk < r->n / 4 || (double)nk < 2.0 * st->ppm * st->ppm)
        goto done;
    const float *tex0 = sd__mx_row(st, st->tex, r->y0) + r->x0;
    const int L = st->o.tex_glcm_levels;
    const float range = (float)st->o.tex_glcm_range;
    if ((err = sd_op_quantize_u8(ctx, tex0, st->fs, q, r->w, r->w, r->h, -range, range, L)))
        goto fail;
    int dist = (int)lround(0.15 * st->ppm);
    dist = dist < 1 ? 1 : dist > 2 ? 2 : dist;
    double f[3];
    long pairs = sd_glcm_features(ctx, q, r->w, keep, r->w, r->w, r->h, L, dist, f);
    if (pairs < 0) {
        err = (int)pairs;
        goto fail;
    }
    if (pairs > 0) {
        out[SD_M_TEXTURE_GLCM_CONTRAST] = f[0];
        out[SD_M_TEXTURE_GLCM_HOMOGENEITY] = f[1];
        out[SD_M_TEXTURE_GLCM_ENTROPY] = f[2];
    }
done:
    free(keep); free(q);
    return 0;
nomem:
    err = sd_fail(ctx, SD_ENOMEM, "metrics: out of memory");
fail:
    free(keep); free(q);
    return err;
}

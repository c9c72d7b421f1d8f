/* Image-level wrappers of the kernels the alignment stages use: borders, padding, temporaries. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "src/align/align_int.h"
#include "src/core/core.h"

void sd__align_dsp_init(SdAlignDSP *d, unsigned cpu_flags)
{
    sd_warp_dsp_init(&d->warp, cpu_flags);
    sd_filter_dsp_init(&d->filt, cpu_flags);
    sd_stats_dsp_init(&d->stats, cpu_flags);
    sd_eccproj_dsp_init(&d->eccp, cpu_flags);
    sd_warpcubic_dsp_init(&d->cubic, cpu_flags);
}

static int reflect101(int i, int n)
{
    if (n == 1) return 0;
    while (i < 0 || i >= n) {
        if (i < 0) i = -i;
        if (i >= n) i = 2 * n - 2 - i;
    }
    return i;
}

#define SD_BLUR_RMAX 64

/* Rows per strip of a blur into another plane (a multiple of 4). */
#define BLUR_STRIP 64

int sd__px_blur(const SdAlignDSP *d, const SdImage *src, int p, SdImage *dst, int q, double sigma)
{
    const int w = src->w, h = src->h;
    if (sigma <= 0.05) {
        if (src != dst || p != q)
            for (int y = 0; y < h; y++)
                memmove(sd_image_rowf(dst, q, y), sd_image_rowf(src, p, y), sizeof(float) * w);
        return 0;
    }
    int r = (int)ceil(3.0 * sigma);
    if (r > SD_BLUR_RMAX) r = SD_BLUR_RMAX;
    float k[SD_BLUR_RMAX + 1];
    double s = 0;
    for (int i = 0; i <= r; i++) {
        k[i] = (float)exp(-0.5 * i * i / (sigma * sigma));
        s += i ? 2.0 * k[i] : k[i];
    }
    for (int i = 0; i <= r; i++) k[i] = (float)(k[i] / s);

    /* Vertical pass into a padded temporary (r floats each side, rounded to keep rows aligned),
     * then the horizontal pass from it. Into another plane: in strips of BLUR_STRIP rows through
     * one small temporary that stays in cache (a multiple of 4 rows: the vertical kernels' row
     * blocks fall where they fall for the whole image, so every row is computed as there). In
     * place: the whole plane first, as the source rows must not change under the vertical pass. */
    const int pad = (r + 15) & ~15;
    const int inplace = src == dst && p == q;
    const int strip = inplace ? h : (h < BLUR_STRIP ? h : BLUR_STRIP);
    SdImage tmp = {0};
    const float **rows = NULL;
    int err = sd_image_create(&tmp, w + 2 * pad, strip, 1, SD_FMT_F32);
    if (err) return err;
    rows = sd_calloc_checked((size_t)h + 2 * (size_t)r, sizeof(*rows));
    if (!rows) { err = SD_ENOMEM; goto fail; }
    for (int y = -r; y < h + r; y++)
        rows[y + r] = sd_image_rowf(src, p, reflect101(y, h));
    for (int y0 = 0; y0 < h; y0 += strip) {
        const int n = h - y0 < strip ? h - y0 : strip;
        d->filt.v_sym(sd_image_rowf(&tmp, 0, 0) + pad, tmp.stride, rows + y0, w, n, k, r);
        for (int y = 0; y < n; y++) {
            float *t = sd_image_rowf(&tmp, 0, y) + pad;
            for (int i = 1; i <= r; i++) {
                t[-i] = t[reflect101(-i, w)];
                t[w - 1 + i] = t[reflect101(w - 1 + i, w)];
            }
        }
        d->filt.h_sym(sd_image_rowf(dst, q, y0), dst->stride, sd_image_rowf(&tmp, 0, 0) + pad,
                      tmp.stride, w, n, k, r);
    }
fail:
    free(rows);
    sd_image_free(&tmp);
    return err;
}

int sd__px_down2(const SdAlignDSP *d, const SdImage *src, SdImage *dst)
{
    const int w = (src->w + 1) / 2, h = (src->h + 1) / 2;
    int err = sd_image_create(dst, w, h, src->c, SD_FMT_F32);
    if (err) return err;
    for (int p = 0; p < src->c; p++)
        d->warp.down2(sd_image_rowf(dst, p, 0), dst->stride, sd_image_rowf(src, p, 0),
                      src->stride, w, h, src->w, src->h);
    return 0;
}

void sd__px_warp(const SdAlignDSP *d, SdImage *dst, SdMask *mask, const SdImage *src,
                 const double M[9], float fill, int y0, int y1)
{
    SdWarpParams wp;
    memcpy(wp.m, M, sizeof(wp.m));
    wp.x0 = 0;
    wp.y0 = y0;
    wp.fill = fill;
    const int affine = M[6] == 0.0 && M[7] == 0.0 && M[8] == 1.0;
    sd_warp_fn fn = affine ? d->warp.affine : d->warp.homog;
    for (int p = 0; p < dst->c; p++)
        fn(sd_image_rowf(dst, p, y0), dst->stride,
           p == 0 && mask ? mask->data + (size_t)y0 * mask->stride : NULL, mask ? mask->stride : 0,
           sd_image_rowf(src, p, 0), src->stride, src->w, src->h, dst->w, y1 - y0, &wp);
    if (mask)   /* the kernel writes 255/0; masks here are 0/1 */
        for (int y = y0; y < y1; y++) {
            uint8_t *m = mask->data + (size_t)y * mask->stride;
            for (int x = 0; x < dst->w; x++) m[x] = m[x] ? 1 : 0;
        }
}

void sd__px_warp_cubic(const SdAlignDSP *d, SdImage *dst, SdMask *mask, const SdImage *src,
                       const double M[9], float fill, float lo, float hi, int y0, int y1)
{
    SdWarpParams wp;
    memcpy(wp.m, M, sizeof(wp.m));
    wp.x0 = 0;
    wp.y0 = y0;
    wp.fill = fill;
    d->cubic.cubic(sd_image_rowf(dst, 0, y0), dst->stride, (ptrdiff_t)dst->plane_bytes,
                   mask ? mask->data + (size_t)y0 * mask->stride : NULL, mask ? mask->stride : 0,
                   sd_image_rowf(src, 0, 0), src->stride, (ptrdiff_t)src->plane_bytes, dst->c,
                   src->w, src->h, dst->w, y1 - y0, &wp, lo, hi);
    if (mask)
        for (int y = y0; y < y1; y++) {
            uint8_t *m = mask->data + (size_t)y * mask->stride;
            for (int x = 0; x < dst->w; x++) m[x] = m[x] ? 1 : 0;
        }
}

int sd__px_grad(const SdAlignDSP *d, const SdImage *src, SdImage *gx, SdImage *gy)
{
    const int w = src->w, h = src->h;
    static const float k[2] = { 0.0f, 0.5f };
    SdImage pad = {0};
    const float **rows = NULL;
    int err = sd_image_create(gx, w, h, 1, SD_FMT_F32);
    if (!err) err = sd_image_create(gy, w, h, 1, SD_FMT_F32);
    if (!err) err = sd_image_create(&pad, w + 32, h, 1, SD_FMT_F32);
    if (err) goto fail;
    rows = sd_calloc_checked((size_t)h + 2, sizeof(*rows));
    if (!rows) { err = SD_ENOMEM; goto fail; }
    for (int y = -1; y <= h; y++)
        rows[y + 1] = sd_image_rowf(src, 0, y < 0 ? 0 : y >= h ? h - 1 : y);
    d->filt.v_anti(sd_image_rowf(gy, 0, 0), gy->stride, rows, w, h, k, 1);
    for (int y = 0; y < h; y++) {
        float *t = sd_image_rowf(&pad, 0, y) + 16;
        memcpy(t, sd_image_rowf(src, 0, y), sizeof(float) * w);
        t[-1] = t[0];
        t[w] = t[w - 1];
    }
    d->filt.h_anti(sd_image_rowf(gx, 0, 0), gx->stride, sd_image_rowf(&pad, 0, 0) + 16,
                   pad.stride, w, h, k, 1);
    free(rows);
    sd_image_free(&pad);
    return 0;
fail:
    free(rows);
    sd_image_free(&pad);
    sd_image_free(gx);
    sd_image_free(gy);
    return err ? err : SD_ENOMEM;
}

/* ---- masks (byte loops: the compiler vectorises them; no kernel table needed) */

int sd__mask_erode(SdMask *m, int r)
{
    return sd__mask_erode_ex(m, r, 0);
}

/* Separable (2r+1)^2 erosion by sliding-window counts of unset pixels: O(1) per pixel, rows
 * processed in order (the column pass keeps one count per column), so it vectorises. */
int sd__mask_erode_ex(SdMask *m, int r, int outside_set)
{
    if (r <= 0) return 0;
    const int w = m->w, h = m->h;
    const uint8_t pad = outside_set ? 1 : 0;
    uint8_t *row = malloc((size_t)w + 2 * (size_t)r), *copy = NULL;
    int *cnt = sd_calloc_checked((size_t)w, sizeof(int));
    size_t bytes;
    if (sd_mul_overflow((size_t)m->stride, (size_t)h, &bytes) || !row || !cnt || !(copy = malloc(bytes))) {
        free(row); free(cnt); free(copy);
        return SD_ENOMEM;
    }
    /* horizontal */
    for (int y = 0; y < h; y++) {
        uint8_t *d = m->data + (size_t)y * m->stride;
        memset(row, pad, (size_t)r);
        memcpy(row + r, d, (size_t)w);
        memset(row + r + w, pad, (size_t)r);
        int zeros = 0;
        for (int k = 0; k < 2 * r; k++) zeros += !row[k];
        for (int x = 0; x < w; x++) {
            zeros += !row[x + 2 * r];
            d[x] = zeros == 0;
            zeros -= !row[x];
        }
    }
    /* vertical: cnt[x] = unset pixels in rows y-r .. y+r of the horizontal result */
    memcpy(copy, m->data, bytes);
    const int out_rows_below = pad ? 0 : 1;   /* rows outside the image count as unset or set */
    for (int x = 0; x < w; x++) cnt[x] = out_rows_below * r;
    for (int k = 0; k < r && k < h; k++) {
        const uint8_t *s = copy + (size_t)k * m->stride;
        for (int x = 0; x < w; x++) cnt[x] += !s[x];
    }
    for (int k = h; k < r; k++)
        for (int x = 0; x < w; x++) cnt[x] += out_rows_below;
    for (int y = 0; y < h; y++) {
        const int yin = y + r, yout = y - r;
        if (yin < h) {
            const uint8_t *s = copy + (size_t)yin * m->stride;
            for (int x = 0; x < w; x++) cnt[x] += !s[x];
        } else if (out_rows_below)
            for (int x = 0; x < w; x++) cnt[x]++;
        uint8_t *d = m->data + (size_t)y * m->stride;
        for (int x = 0; x < w; x++) d[x] = cnt[x] == 0;
        if (yout >= 0) {
            const uint8_t *s = copy + (size_t)yout * m->stride;
            for (int x = 0; x < w; x++) cnt[x] -= !s[x];
        } else if (out_rows_below)
            for (int x = 0; x < w; x++) cnt[x]--;
    }
    free(row); free(cnt); free(copy);
    return 0;
}

long sd__mask_count(const SdMask *m)
{
    long n = 0;
    for (int y = 0; y < m->h; y++) {
        const uint8_t *row = m->data + (size_t)y * m->stride;
        for (int x = 0; x < m->w; x++) n += row[x] != 0;
    }
    return n;
}

int sd__mask_down2(const SdMask *src, SdMask *dst)
{
    const int w = (src->w + 1) / 2, h = (src->h + 1) / 2;
    int err = sd_mask_create(dst, w, h);
    if (err) return err;
    for (int y = 0; y < h; y++) {
        const uint8_t *r0 = src->data + (size_t)(2 * y) * src->stride;
        const uint8_t *r1 = 2 * y + 1 < src->h ? r0 + src->stride : r0;
        uint8_t *o = dst->data + (size_t)y * dst->stride;
        for (int x = 0; x < w; x++) {
            const int x0 = 2 * x, x1 = 2 * x + 1 < src->w ? 2 * x + 1 : 2 * x;
            o[x] = (r0[x0] && r0[x1] && r1[x0] && r1[x1]) ? 1 : 0;
        }
    }
    return 0;
}

void sd__mask_fill_poly(SdMask *m, const SdPoint *pts, int n, uint8_t v)
{
    if (n < 3) return;
    float ymin = pts[0].y, ymax = pts[0].y;
    for (int i = 1; i < n; i++) {
        if (pts[i].y < ymin) ymin = pts[i].y;
        if (pts[i].y > ymax) ymax = pts[i].y;
    }
    int y0 = (int)ceil(ymin), y1 = (int)floor(ymax);
    if (y0 < 0) y0 = 0;
    if (y1 > m->h - 1) y1 = m->h - 1;
    double xs[256];
    for (int y = y0; y <= y1; y++) {
        int nx = 0;
        for (int i = 0, j = n - 1; i < n; j = i++) {
            double ya = pts[j].y, yb = pts[i].y;
            if ((ya <= y && yb > y) || (yb <= y && ya > y)) {
                if (nx < 256)
                    xs[nx++] = pts[j].x + (y - ya) * (pts[i].x - pts[j].x) / (yb - ya);
            }
        }
        for (int a = 1; a < nx; a++)          /* insertion sort: few crossings */
            for (int b = a; b > 0 && xs[b - 1] > xs[b]; b--) {
                double t = xs[b]; xs[b] = xs[b - 1]; xs[b - 1] = t;
            }
        uint8_t *row = m->data + (size_t)y * m->stride;
        for (int k = 0; k + 1 < nx; k += 2) {
            int xa = (int)ceil(xs[k]), xb = (int)floor(xs[k + 1]);
            if (xa < 0) xa = 0;
            if (xb > m->w - 1) xb = m->w - 1;
            for (int x = xa; x <= xb; x++) row[x] = v;
        }
    }
}

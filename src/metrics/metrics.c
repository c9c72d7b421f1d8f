/* Metric table, per-image preparation (colour maps, fills, erosion) and the per-region driver;
 * the families live in metrics_texture.c, metrics_wrinkle.c and metrics_pigment.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/mman.h>
#include <stdio.h>

#include "kernels/ops.h"
#include "kernels/skinmap.h"
#include "src/metrics/metrics_int.h"
#include "src/core/core.h"

/* Units are ASCII ("1/cm2", not "1/cm²"): the CSVs carry them, and a spreadsheet that guesses a
 * legacy code page garbles UTF-8 without a BOM. `what` is the codebook's one-line definition. */
static const SdMetricInfo metric_table[SD_NMETRICS] = {
    { "texture_roughness", "%", SD_BETTER_LOWER, 1,
      "Rq (RMS) of the illumination-flattened log-luminance band (0.1-0.7 mm detail), in % of the luminance" },
    { "texture_glcm_contrast", "-", SD_BETTER_LOWER, 0,
      "Haralick GLCM contrast of the texture band (32 levels, 4 directions averaged)" },
    { "texture_glcm_homogeneity", "-", SD_BETTER_HIGHER, 0,
      "Haralick GLCM homogeneity of the texture band (32 levels, 4 directions averaged)" },
    { "texture_glcm_entropy", "-", SD_BETTER_LOWER, 0,
      "Haralick GLCM entropy of the texture band in bits (32 levels, 4 directions averaged)" },
    { "wrinkle_density", "%", SD_BETTER_LOWER, 1,
      "soft share of the region's area on wrinkles: smooth membership of the multi-scale Hessian dark-valley response, spots, folds and shading edges excluded" },
    { "wrinkle_length_density", "mm/cm2", SD_BETTER_LOWER, 0,
      "wrinkle skeleton length per region area" },
    { "wrinkle_severity", "-", SD_BETTER_LOWER, 0,
      "100 x mean ridge response on the wrinkle skeleton (a groove depth proxy)" },
    { "pigment_unevenness", "OD x100", SD_BETTER_LOWER, 1,
      "SD of the melanin optical-density band (0.5-3 mm) read through its covariance with the luma band, x100" },
    { "pigment_spot_area", "%", SD_BETTER_LOWER, 0,
      "share of the region's area on pigment spots (melanin blobs >= 0.5 mm above their surround)" },
    { "pigment_spot_density", "1/cm2", SD_BETTER_LOWER, 0,
      "pigment spots per region area" },
    { "pigment_ita_sd", "deg", SD_BETTER_LOWER, 0,
      "SD of the individual typology angle (ITA, Chardon 1991) over the region" },
    { "redness_unevenness", "OD x100", SD_BETTER_LOWER, 0,
      "SD of the haemoglobin optical-density map band-passed to 0.5-3 mm, x100" },
};

const SdMetricInfo *sd_metric_info(int i)
{
    return i >= 0 && i < SD_NMETRICS ? &metric_table[i] : NULL;
}

int sd_metric_index(const char *id)
{
    for (int i = 0; id && i < SD_NMETRICS; i++)
        if (!strcmp(metric_table[i].id, id))
            return i;
    return -1;
}

const char *sd_metric_better_name(int better)
{
    return better == SD_BETTER_HIGHER ? "higher" : "lower";
}

void sd_metrics_opts_default(SdMetricsOpts *o)
{
    memset(o, 0, sizeof(*o));
    o->tex_fine_mm = 0.1;
    o->tex_flat_mm = 0.7;
    o->tex_glcm_range = 0.16;
    o->tex_glcm_levels = 32;
    o->tex_exclude_mm = 0.4;
    o->tex_exclude_gain = 4.0;
    o->wr_sigma_mm[0] = 0.12;
    o->wr_sigma_mm[1] = 0.22;
    o->wr_sigma_mm[2] = 0.38;
    o->wr_sigma_mm[3] = 0.6;
    o->wr_nscales = 4;
    o->wr_line_mm = 2.0;
    o->wr_mu_lo = 0.008;
    o->wr_mu_hi = 0.03;
    o->wr_spot_weight = 1.0;
    o->wr_fold_mm = 1.5;
    o->wr_fold_lo = 0.0;
    o->wr_fold_hi = 0.02;
    o->wr_edge_lo = 0.04;
    o->wr_edge_hi = 0.08;
    o->wr_abs_high = 0.030;
    o->wr_abs_low = 0.012;
    o->wr_k_high = 0.0;
    o->wr_min_len_mm = 2.0;
    o->wr_prior = 0.5;
    o->pg_band_lo_mm = 0.25;
    o->pg_band_hi_mm = 1.5;
    o->pg_k_high = 4.0;
    o->pg_k_low = 2.0;
    o->pg_min_diam_mm = 0.5;
    o->pg_mu_lo = 1.0;
    o->pg_mu_hi = 3.0;
    o->pg_remove_mm = 0.75;
    o->pg_ita_smooth_mm = 0.25;
    o->erode_mm = 1.0;
}

/* ---- small helpers shared by the families */

/* Order-preserving key of a float (NaN-free data): negative values bit-inverted, positive ones
 * with the sign bit set. */
static inline uint32_t fkey(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof(u));
    return u & 0x80000000u ? ~u : u | 0x80000000u;
}

/* k-th smallest of a large array by two 16-bit radix passes (histogram of the high halves of the
 * keys, then of the low halves among those sharing the k-th's high half): two linear passes,
 * the same value as the comparison selection. Returns 0 on success, SD_ENOMEM. */
static int radix_select(const float *v, long n, long k, float *out)
{
    uint32_t *hist = calloc(65536, sizeof(uint32_t));
    if (!hist)
        return SD_ENOMEM;
    for (long i = 0; i < n; i++)
        hist[fkey(v[i]) >> 16]++;
    uint32_t hi = 0;
    long before = 0;
    while (before + (long)hist[hi] <= k)
        before += hist[hi++];
    memset(hist, 0, 65536 * sizeof(uint32_t));
    for (long i = 0; i < n; i++) {
        const uint32_t u = fkey(v[i]);
        if (u >> 16 == hi)
            hist[u & 0xffffu]++;
    }
    uint32_t lo = 0;
    while (before + (long)hist[lo] <= k)
        before += hist[lo++];
    free(hist);
    uint32_t key = hi << 16 | lo;
    key = key & 0x80000000u ? key & 0x7fffffffu : ~key;
    memcpy(out, &key, sizeof(*out));
    return 0;
}

double sd__mx_select(float *v, long n, long k)
{
    float r;
    if (n >= 16384 && k >= 0 && k < n && !radix_select(v, n, k, &r))
        return r;
    long lo = 0, hi = n - 1;
    while (hi > lo) {
        float a = v[lo], b = v[(lo + hi) / 2], c = v[hi];
        float piv = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
        long i = lo, j = hi;
        while (i <= j) {
            while (v[i] < piv) i++;
            while (v[j] > piv) j--;
            if (i <= j) {
                float t = v[i]; v[i] = v[j]; v[j] = t;
                i++; j--;
            }
        }
        if (k <= j) hi = j;
        else if (k >= i) lo = i;
        else break;
    }
    return v[k];
}

double sd__mx_median(float *v, long n)
{
    if (n <= 0)
        return NAN;
    return sd__mx_select(v, n, n / 2);
}

/* A growable stack of pixel indices (flood fills rarely need more than a few thousand). */
typedef struct PxStack {
    int32_t *v;
    long n, cap;
} PxStack;

static int px_push(PxStack *s, int32_t p)
{
    if (s->n == s->cap) {
        long nc = s->cap ? 2 * s->cap : 4096;
        int32_t *t = realloc(s->v, sizeof(*t) * (size_t)nc);
        if (!t)
            return SD_ENOMEM;
        s->v = t;
        s->cap = nc;
    }
    s->v[s->n++] = p;
    return 0;
}

/* Room for `need` entries in the component-size array (doubling); 0 or SD_ENOMEM. */
static int sizes_reserve(long **sz, long *cap, long need)
{
    if (need <= *cap)
        return 0;
    long nc = *cap ? *cap * 2 : 256;
    while (nc < need)
        nc *= 2;
    long *t = realloc(*sz, (size_t)nc * sizeof(*t));
    if (!t)
        return SD_ENOMEM;
    *sz = t;
    *cap = nc;
    return 0;
}

long sd__mx_label(const uint8_t *mask, int w, int h, int32_t *labels, long **sizes)
{
    size_t n = (size_t)w * (size_t)h;
    PxStack st = { 0 };
    long *sz = NULL, cap = 0, count = 0;
    memset(labels, 0, n * sizeof(*labels));
    for (size_t i = 0; i < n; i++) {
        if (!mask[i] || labels[i])
            continue;
        if (sizes_reserve(&sz, &cap, count + 2))
            goto nomem;
        int32_t lab = (int32_t)++count;
        long size = 0;
        labels[i] = lab;
        st.n = 0;
        if (px_push(&st, (int32_t)i))
            goto nomem;
        while (st.n) {
            int32_t p = st.v[--st.n];
            int px = p % w, py = p / w;
            size++;
            for (int dy = -1; dy <= 1; dy++) {
                int yy = py + dy;
                if (yy < 0 || yy >= h) continue;
                for (int dx = -1; dx <= 1; dx++) {
                    int xx = px + dx;
                    if (xx < 0 || xx >= w) continue;
                    size_t q = (size_t)yy * (size_t)w + (size_t)xx;
                    if (mask[q] && !labels[q]) {
                        labels[q] = lab;
                        if (px_push(&st, (int32_t)q))
                            goto nomem;
                    }
                }
            }
        }
        sz[lab] = size;
    }
    free(st.v);
    if (sizes) {
        if (!sz && !(sz = calloc(1, sizeof(*sz))))
            return SD_ENOMEM;
        sz[0] = 0;
        *sizes = sz;
    } else {
        free(sz);
    }
    return count;
nomem:
    free(st.v);
    free(sz);
    return SD_ENOMEM;
}

int sd__mx_hysteresis(const float *resp, const uint8_t *in, int w, int h, float lo, float hi,
                      uint8_t *out)
{
    size_t n = (size_t)w * (size_t)h;
    PxStack st = { 0 };
    memset(out, 0, n);
    for (size_t i = 0; i < n; i++) {
        if (out[i] || !in[i] || !(resp[i] >= hi))
            continue;
        out[i] = 1;
        st.n = 0;
        if (px_push(&st, (int32_t)i))
            goto nomem;
        while (st.n) {
            int32_t p = st.v[--st.n];
            int px = p % w, py = p / w;
            for (int dy = -1; dy <= 1; dy++) {
                int yy = py + dy;
                if (yy < 0 || yy >= h) continue;
                for (int dx = -1; dx <= 1; dx++) {
                    int xx = px + dx;
                    if (xx < 0 || xx >= w) continue;
                    size_t q = (size_t)yy * (size_t)w + (size_t)xx;
                    if (!out[q] && in[q] && resp[q] >= lo) {
                        out[q] = 1;
                        if (px_push(&st, (int32_t)q))
                            goto nomem;
                    }
                }
            }
        }
    }
    free(st.v);
    return 0;
nomem:
    free(st.v);
    return SD_ENOMEM;
}

/* Any unreached seed (bit 4 without bit 2) among p[0..7] (unaligned read). */
static inline int seed_any(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof(v));
    return ((v >> 2) & ~(v >> 1) & 0x0101010101010101u) != 0;
}

/* One row of the flood's state map: bit 1 = in && resp >= lo, bit 4 = in && resp >= hi; returns
 * the number of pixels with either. Blocks of 16 in two fixed-length steps, a form the compiler
 * vectorises. */
static long state_row(uint8_t *restrict e, const float *restrict resp, const uint8_t *restrict in,
                      int w, float lo, float hi, const float *next)
{
    long n = 0;
    int x = 0;
    for (; x + 16 <= w; x += 16) {
        /* the next response row (a box of a wider plane: the hardware prefetcher does not follow
         * the stride) one line ahead per 16 pixels */
        if (next) __builtin_prefetch(next + x);
        uint8_t t[16], c = 0;
        for (int k = 0; k < 16; k++)
            t[k] = (uint8_t)((resp[x + k] >= lo) | (resp[x + k] >= hi) << 2);
        for (int k = 0; k < 16; k++) {
            e[x + k] = (uint8_t)(t[k] & -(in[x + k] != 0));
            c = (uint8_t)(c + (e[x + k] != 0));
        }
        n += c;
    }
    for (; x < w; x++) {
        e[x] = (uint8_t)(-(in[x] != 0) & ((resp[x] >= lo) | (resp[x] >= hi) << 2));
        n += e[x] != 0;
    }
    return n;
}

long sd__mx_hysteresis_label(const float *resp, ptrdiff_t resp_stride, const uint8_t *in, int w, int h,
                             float lo, float hi, uint8_t *out, int32_t *labels, long **sizes)
{
    /* The flood runs on a map padded by one pixel (the border 0), bits: 1 = may grow into
     * (in && resp >= lo), 2 = reached, 4 = seed (in && resp >= hi); a neighbour needs one load and
     * no bounds check, seeds are found 8 pixels at a time. The stack holds (padded, unpadded)
     * index pairs (no division per pixel); every pixel enters it at most once, so it is sized
     * once by the pixels with a nonzero state. */
    const size_t W = (size_t)w + 2;
    size_t n = (size_t)w * (size_t)h, pn;
    long *sz = NULL, cap = 0, count = 0, marked = 0;
    uint8_t *e = NULL;
    int32_t *stk = NULL;
    if (sd_mul_overflow(W, (size_t)h + 2, &pn) || pn > INT32_MAX || !(e = calloc(pn, 1)))
        return SD_ENOMEM;
    for (int y = 0; y < h; y++) {
        const float *rr = (const float *)((const uint8_t *)resp + (size_t)y * (size_t)resp_stride);
        const uint8_t *ir = in + (size_t)y * (size_t)w;
        uint8_t *er = e + (size_t)(y + 1) * W + 1;
        marked += state_row(er, rr, ir, w, lo, hi,
                            y + 1 < h ? (const float *)((const uint8_t *)rr + resp_stride) : NULL);
    }
    if (!(stk = malloc(sizeof(*stk) * 2 * (size_t)(marked + 1))))
        goto nomem;
    const int32_t dp[8] = { -(int32_t)W - 1, -(int32_t)W, -(int32_t)W + 1, -1, 1,
                            (int32_t)W - 1, (int32_t)W, (int32_t)W + 1 };
    const int32_t du[8] = { -w - 1, -w, -w + 1, -1, 1, w - 1, w, w + 1 };
    memset(out, 0, n);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const size_t i = (size_t)y * (size_t)w + (size_t)x, q = (size_t)(y + 1) * W + (size_t)x + 1;
            if (x + 8 <= w && !seed_any(e + q)) {
                x += 7;
                continue;
            }
            if ((e[q] & 6) != 4)
                continue;
            if (sizes_reserve(&sz, &cap, count + 2))
                goto nomem;
            /* one flood = one 8-connected component of the grown set (a pixel next to it would
             * have been reached by it) */
            const int32_t lab = (int32_t)++count;
            long size = 0, ns = 0;
            e[q] |= 2;
            out[i] = 1;
            labels[i] = lab;
            stk[ns++] = (int32_t)q;
            stk[ns++] = (int32_t)i;
            while (ns) {
                const int32_t pu = stk[--ns], pp = stk[--ns];
                size++;
                for (int k = 0; k < 8; k++) {
                    const int32_t qq = pp + dp[k];
                    if ((e[qq] & 3) != 1)
                        continue;
                    const int32_t qu = pu + du[k];
                    e[qq] |= 2;
                    out[qu] = 1;
                    labels[qu] = lab;
                    stk[ns++] = qq;
                    stk[ns++] = qu;
                }
            }
            sz[lab] = size;
        }
    free(stk);
    free(e);
    if (!sz && !(sz = calloc(1, sizeof(*sz))))
        return SD_ENOMEM;
    sz[0] = 0;
    *sizes = sz;
    return count;
nomem:
    free(stk);
    free(sz);
    free(e);
    return SD_ENOMEM;
}

/* acc[x] |= src[x] (dilate) or &= (erode) for x < n, 8 bytes at a time (the values are 0 or 1). */
static void window_step(uint8_t *restrict acc, const uint8_t *restrict src, int n, int dilate)
{
    int x = 0;
    /* fixed blocks of 32 (vectorised), then words */
    if (dilate)
        for (; x + 32 <= n; x += 32)
            for (int k = 0; k < 32; k++)
                acc[x + k] |= src[x + k];
    else
        for (; x + 32 <= n; x += 32)
            for (int k = 0; k < 32; k++)
                acc[x + k] &= src[x + k];
    for (; x + 8 <= n; x += 8) {
        uint64_t a, b;
        memcpy(&a, acc + x, sizeof(a));
        memcpy(&b, src + x, sizeof(b));
        a = dilate ? a | b : a & b;
        memcpy(acc + x, &a, sizeof(a));
    }
    for (; x < n; x++)
        acc[x] = (uint8_t)(dilate ? acc[x] | src[x] : acc[x] & src[x]);
}

/* Square dilation (max) or erosion (min) of radius r, separable: any (dilate) or all (erode)
 * of the (2r+1) pixels of the row window, then of the column window, the windows clipped at the
 * image edges (outside counts as neutral: clear for a dilation, set for an erosion). */
static int morph(uint8_t *m, int w, int h, ptrdiff_t stride, int r, int dilate)
{
    if (r <= 0)
        return 0;
    const uint8_t neutral = dilate ? 0 : 1;
    uint8_t *line = NULL, *src = NULL;
    size_t bytes;
    if (sd_mul_overflow((size_t)stride, (size_t)h, &bytes) || (size_t)w > SIZE_MAX / 2 - (size_t)r ||
        !(line = malloc((size_t)w + 2 * (size_t)r)) || !(src = malloc(bytes))) {
        free(line); free(src);
        return SD_ENOMEM;
    }
    memset(line, neutral, (size_t)r);
    memset(line + r + w, neutral, (size_t)r);
    for (int y = 0; y < h; y++) {
        uint8_t *row = m + (size_t)y * (size_t)stride;
        int x = 0;
        for (; x + 32 <= w; x += 32)
            for (int k = 0; k < 32; k++)
                line[r + x + k] = row[x + k] != 0;
        for (; x < w; x++)
            line[r + x] = row[x] != 0;
        memcpy(row, line, (size_t)w);
        for (int i = 1; i <= 2 * r; i++)
            window_step(row, line + i, w, dilate);
    }
    /* columns, from a copy of the row-filtered mask */
    memcpy(src, m, bytes);
    for (int y = 0; y < h; y++) {
        const int lo = y - r < 0 ? 0 : y - r, hi = y + r >= h ? h - 1 : y + r;
        uint8_t *d = m + (size_t)y * (size_t)stride;
        memcpy(d, src + (size_t)lo * (size_t)stride, (size_t)w);
        for (int yy = lo + 1; yy <= hi; yy++)
            window_step(d, src + (size_t)yy * (size_t)stride, w, dilate);
    }
    free(line); free(src);
    return 0;
}

int sd__mx_dilate(uint8_t *m, int w, int h, int r)
{
    return morph(m, w, h, w, r, 1);
}

/* Rows per band of the 2x upsampling + linear combination of sd__mx_gauss_comb. */
#define SD_MX_UPBAND 32

/* Gaussian of a full-frame plane with sigma in px: identity below 0.3 px; sigma >= 6 px on a 2x
 * reduced plane (2x2 mean, Gaussian, bilinear 2x; the three variances add up to sigma^2: 1/4 +
 * 4 sh^2 + 3/4), which costs an eighth of the full-size filter and differs from it by well under
 * 1% of the response at these widths. */

int sd__mx_gauss_comb(SdCtx *ctx, const SdMetricsState *st, const float *src, float *dst, double s,
                      const SdMxComb *cb)
{
    const int w = st->w, h = st->h;
    const SdSkinmapDSP *dsp = sd_skinmap_dsp(ctx->cpu_flags);
    int err = 0;
    if (s < 0.3) {
        for (int y = 0; y < h; y++)
            memmove(sd__mx_row(st, dst, y), sd__mx_row(st, (float *)src, y), sizeof(float) * (size_t)w);
    } else if (s < 6.0 || w < 64 || h < 64) {
        err = sd_op_gauss(ctx, src, st->fs, dst, st->fs, w, h, (float)(s > 64 ? 64 : s));
    } else {
        const int hw = (w + 1) / 2, hh = (h + 1) / 2;
        const ptrdiff_t hs = (ptrdiff_t)(((size_t)hw * sizeof(float) + SD_ROW_ALIGN - 1) & ~(size_t)(SD_ROW_ALIGN - 1));
        float *a = sd_alloc_aligned((size_t)hs * (size_t)hh + SD_ROW_ALIGN);
        float *b = sd_alloc_aligned((size_t)hs * (size_t)hh + SD_ROW_ALIGN);
        if (!a || !b) {
            err = sd_fail(ctx, SD_ENOMEM, "metrics: out of memory");
        } else {
            double sh = sqrt(s * s - 1.0) / 2.0;
            if (sh > 64) sh = 64;
            if (!(err = sd_op_down2(ctx, src, st->fs, w, h, a, hs)) &&
                !(err = sd_op_gauss(ctx, a, hs, b, hs, hw, hh, (float)sh))) {
                /* upsampled in bands of rows; a combination is applied to each band while it is
                 * still in cache (the same operations as one pass over the planes) */
                for (int y0 = 0; y0 < h; y0 += SD_MX_UPBAND) {
                    const int nb = h - y0 < SD_MX_UPBAND ? h - y0 : SD_MX_UPBAND;
                    dsp->up2(sd__mx_row(st, dst, y0), st->fs, w, y0, nb, b, hs, hw, hh);
                    if (cb)
                        dsp->lincomb(sd__mx_row(st, cb->dst, y0), st->fs, sd__mx_row(st, (float *)cb->a, y0),
                                     sd__mx_row(st, (float *)cb->b, y0),
                                     cb->c ? sd__mx_row(st, (float *)cb->c, y0) : NULL, st->fs, w, nb, cb->k);
                }
                cb = NULL;
            }
        }
        sd_free_aligned(a);
        sd_free_aligned(b);
    }
    if (!err && cb)
        dsp->lincomb(cb->dst, st->fs, cb->a, cb->b, cb->c, st->fs, w, h, cb->k);
    return err;
}

int sd__mx_gauss(SdCtx *ctx, const SdMetricsState *st, const float *src, float *dst, double s)
{
    return sd__mx_gauss_comb(ctx, st, src, dst, s, NULL);
}

/* ---- preparation */

/* Full-frame float planes (~13 MB each at 1600x2000): sd_alloc_aligned gives them 2 MiB alignment
 * and transparent huge pages (faulting in 4 KiB pages otherwise costs about a sixth of the
 * preparation time). Freed with sd_free_aligned. */
float *sd__mx_plane_alloc(const SdMetricsState *st)
{
    size_t bytes;
    if (sd_mul_overflow((size_t)st->fs, (size_t)st->h, &bytes) || bytes > SIZE_MAX - 2 * SD_ROW_ALIGN)
        return NULL;
    return sd_alloc_aligned(bytes + SD_ROW_ALIGN);
}

/* Replace the pixels outside `valid` by a normalised-convolution extrapolation of the inside
 * (then the plain filters that follow see no artificial edge at the coverage border). The
 * Gaussians (sigma 2 mm) run on the 2x-reduced plane (sd__mx_gauss): 47 ms less per image with
 * uncovered pixels, metric values within 5e-5 relative of the full-size filters. */
static int fill_invalid(SdCtx *ctx, SdMetricsState *st, float *const p[3], const uint8_t *valid,
                        ptrdiff_t vstride, float *wt, float *num, float *den)
{
    int w = st->w, h = st->h, err;
    float sigma = (float)(2.0 * st->ppm);
    if (sigma > 64.0f) sigma = 64.0f;
    if (sigma < 0.3f) sigma = 0.3f;
    for (int y = 0; y < h; y++) {
        float *wr = sd__mx_row(st, wt, y);
        const uint8_t *v = valid + (size_t)y * (size_t)vstride;
        for (int x = 0; x < w; x++)
            wr[x] = v[x] ? 1.0f : 0.0f;
    }
    if ((err = sd__mx_gauss(ctx, st, wt, den, sigma)))
        return err;
    for (int c = 0; c < 3; c++) {
        double sum = 0, cnt = 0;
        for (int y = 0; y < h; y++) {
            float *pr = sd__mx_row(st, p[c], y), *nr = sd__mx_row(st, num, y);
            const float *wr = sd__mx_row(st, wt, y);
            for (int x = 0; x < w; x++) {
                nr[x] = pr[x] * wr[x];
                sum += nr[x];
                cnt += wr[x];
            }
        }
        float mean = cnt > 0 ? (float)(sum / cnt) : 0.5f;
        if ((err = sd__mx_gauss(ctx, st, num, num, sigma)))
            return err;
        for (int y = 0; y < h; y++) {
            float *pr = sd__mx_row(st, p[c], y);
            const float *nr = sd__mx_row(st, num, y), *dr = sd__mx_row(st, den, y),
                        *wr = sd__mx_row(st, wt, y);
            for (int x = 0; x < w; x++)
                if (wr[x] == 0.0f)
                    pr[x] = dr[x] > 1e-3f ? nr[x] / dr[x] : mean;
        }
    }
    return 0;
}

int sd_metrics_prepare(SdCtx *ctx, const SdImage *img, const SdMask *valid, double px_per_mm,
                       const SdMetricsOpts *opts, SdMetricsState **out)
{
    SdMetricsState *st = NULL;
    float *A[3] = { 0 }, *B[3] = { 0 };
    int err = 0;
    *out = NULL;
    if (!img || img->fmt != SD_FMT_F32 || img->c < 3 || !(px_per_mm > 0.5 && px_per_mm < 500))
        return sd_fail(ctx, SD_EINVAL, "metrics: need a 3-channel float image and px/mm > 0.5");
    if (valid && (valid->w != img->w || valid->h != img->h))
        return sd_fail(ctx, SD_EINVAL, "metrics: valid mask %dx%d does not match image %dx%d",
                       valid->w, valid->h, img->w, img->h);
    if (img->w < 16 || img->h < 16)
        return sd_fail(ctx, SD_EINVAL, "metrics: image %dx%d too small", img->w, img->h);
    if (!(st = calloc(1, sizeof(*st))))
        return sd_fail(ctx, SD_ENOMEM, "metrics: out of memory");
    st->w = img->w; st->h = img->h; st->ppm = px_per_mm;
    st->fs = (ptrdiff_t)((((size_t)img->w * sizeof(float)) + SD_ROW_ALIGN - 1) & ~(size_t)(SD_ROW_ALIGN - 1));
    st->ms = (ptrdiff_t)(((size_t)img->w + SD_ROW_ALIGN - 1) & ~(size_t)(SD_ROW_ALIGN - 1));
    if (opts) st->o = *opts;
    else sd_metrics_opts_default(&st->o);
    if (st->o.wr_nscales < 1 || st->o.wr_nscales > 4 || st->o.tex_glcm_levels < 2 ||
        st->o.tex_glcm_levels > 256) {
        err = sd_fail(ctx, SD_EINVAL, "metrics: bad options");
        goto fail;
    }
    for (int c = 0; c < 3; c++) {
        if (!(A[c] = sd__mx_plane_alloc(st)) || !(B[c] = sd__mx_plane_alloc(st)))
            goto nomem;
    }
    size_t mbytes;
    if (sd_mul_overflow((size_t)st->ms, (size_t)st->h, &mbytes) || !(st->valid = sd_alloc_aligned(mbytes)))
        goto nomem;
    /* seven full-frame planes in all (each fresh one costs the kernel's zeroing on first touch):
     * A and B are the colour planes and scratch, the state takes over five of them as they fall
     * free (melb = A[2], hbb = B[0], tex = B[1], theta = A[1], and ridge = B[2], the shading
     * log-luminance, written only after the wrinkle map's last read of it); ita is its own */
    if (!(st->ita = sd__mx_plane_alloc(st)))
        goto nomem;

    /* valid mask (all when NULL), then its erosion for the statistics */
    int any_invalid = 0;
    for (int y = 0; y < st->h; y++) {
        uint8_t *d = st->valid + (size_t)y * (size_t)st->ms;
        if (valid) {
            const uint8_t *v = valid->data + (size_t)y * (size_t)valid->stride;
            for (int x = 0; x < st->w; x++) {
                d[x] = v[x] != 0;
                any_invalid |= !v[x];
            }
        } else {
            memset(d, 1, (size_t)st->w);
        }
    }

    /* linear RGB, filled outside the coverage */
    for (int c = 0; c < 3; c++)
        if ((err = sd_op_srgb_to_linear(ctx, (const float *)(img->data + (size_t)c * img->plane_bytes),
                                        img->stride, A[c], st->fs, st->w, st->h)))
            goto fail;
    if (any_invalid && (err = fill_invalid(ctx, st, A, st->valid, st->ms, B[0], B[1], B[2])))
        goto fail;
    {
        /* (an all-valid mask erodes to itself: the window is clipped at the image edges) */
        int r = (int)lround(st->o.erode_mm * st->ppm);
        if (any_invalid && (err = morph(st->valid, st->w, st->h, st->ms, r, 0)))
            goto fail;
    }
    {
        float *const lin[3] = { A[0], A[1], A[2] }, *const mhs[3] = { B[0], B[1], B[2] };
        st->melb = A[2];
        st->hbb = B[0];
        A[2] = B[0] = NULL;
        if ((err = sd__mx_pigment_maps(ctx, st, lin, mhs)))   /* lin -> od -> scratch; m, h, s */
            goto fail;
    }
    /* B[2] now holds the shading log-luminance; A[0], A[1] and B[1] are free */
    const float *ls = B[2];
    st->tex = B[1];
    st->theta = A[1];
    st->ridge = B[2];
    B[1] = B[2] = A[1] = NULL;
    if ((err = sd__mx_texture_map(ctx, st, ls, A[0])))
        goto fail;
    if ((err = sd__mx_wrinkle_map(ctx, st, ls, A[0])))
        goto fail;
    for (int c = 0; c < 3; c++) {
        sd_free_aligned(A[c]); sd_free_aligned(B[c]);
    }
    *out = st;
    return 0;
nomem:
    err = sd_fail(ctx, SD_ENOMEM, "metrics: out of memory for %dx%d maps", img->w, img->h);
fail:
    for (int c = 0; c < 3; c++) {
        sd_free_aligned(A[c]); sd_free_aligned(B[c]);
    }
    sd_metrics_free(st);
    return err;
}

void sd_metrics_restrict(const SdMetricsState *st, SdMask *m)
{
    if (!st || !m || !m->data || m->w != st->w || m->h != st->h)
        return;
    for (int y = 0; y < st->h; y++) {
        uint8_t *d = m->data + (size_t)y * (size_t)m->stride;
        const uint8_t *v = st->valid + (size_t)y * (size_t)st->ms;
        for (int x = 0; x < st->w; x++)
            d[x] = d[x] && v[x];
    }
}

void sd_metrics_free(SdMetricsState *st)
{
    if (!st)
        return;
    sd_free_aligned(st->valid);
    sd_free_aligned(st->tex);
    sd_free_aligned(st->ridge);
    sd_free_aligned(st->theta);
    sd_free_aligned(st->melb);
    sd_free_aligned(st->hbb);
    sd_free_aligned(st->ita);
    sd_free_aligned(st->yb);
    sd_free_aligned(st->fold);
    free(st);
}

/* ---- per region */

/* Any nonzero byte among p[0..7] (unaligned read). */
static inline int word_any(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof(v));
    return v != 0;
}

/* d = v && (m == NULL || m) as 0/1, in fixed blocks of 16 (vectorised); returns the count. */
static long and_row(uint8_t *restrict d, const uint8_t *restrict v, const uint8_t *restrict m, int w)
{
    long n = 0;
    int x = 0;
    for (; m && x + 16 <= w; x += 16) {
        uint8_t c = 0;
        for (int k = 0; k < 16; k++) {
            d[x + k] = (uint8_t)((v[x + k] != 0) & (m[x + k] != 0));
            c = (uint8_t)(c + d[x + k]);
        }
        n += c;
    }
    for (; x < w; x++) {
        d[x] = (uint8_t)(v[x] && (!m || m[x]));
        n += d[x];
    }
    return n;
}

int sd__mx_region_box(SdCtx *ctx, const SdMetricsState *st, const SdMask *region, SdMxRegion *r)
{
    memset(r, 0, sizeof(*r));
    if (region && (region->w != st->w || region->h != st->h))
        return sd_fail(ctx, SD_EINVAL, "metrics: region mask %dx%d does not match image %dx%d",
                       region->w, region->h, st->w, st->h);
    int x0 = st->w, y0 = st->h, x1 = -1, y1 = -1;
    for (int y = 0; y < st->h; y++) {
        const uint8_t *v = st->valid + (size_t)y * (size_t)st->ms;
        const uint8_t *m = region ? region->data + (size_t)y * (size_t)region->stride : NULL;
        /* first and last pixel of the row inside both masks; the region's empty stretches are
         * skipped 8 bytes at a time (most rows of a small region are empty) */
        int a = 0, b = st->w - 1;
        if (m) {
            while (a + 32 <= st->w && !word_any(m + a) && !word_any(m + a + 8) && !word_any(m + a + 16) &&
                   !word_any(m + a + 24))
                a += 32;
            while (a + 8 <= st->w && !word_any(m + a)) a += 8;
            while (b >= 7 && b >= a && !word_any(m + b - 7)) b -= 8;
        }
        while (a <= b && !(v[a] && (!m || m[a]))) a++;
        if (a > b)
            continue;
        while (!(v[b] && (!m || m[b]))) b--;
        if (a < x0) x0 = a;
        if (b > x1) x1 = b;
        if (y < y0) y0 = y;
        y1 = y;
    }
    if (x1 < 0)
        return 0;
    r->x0 = x0; r->y0 = y0; r->w = x1 - x0 + 1; r->h = y1 - y0 + 1;
    if (!(r->in = sd_calloc_checked((size_t)r->w, (size_t)r->h)))
        return sd_fail(ctx, SD_ENOMEM, "metrics: out of memory");
    for (int y = 0; y < r->h; y++) {
        const uint8_t *v = st->valid + (size_t)(y + y0) * (size_t)st->ms + x0;
        const uint8_t *m = region ? region->data + (size_t)(y + y0) * (size_t)region->stride + x0 : NULL;
        r->n += and_row(r->in + (size_t)y * (size_t)r->w, v, m, r->w);
    }
    r->area_mm2 = (double)r->n / (st->ppm * st->ppm);
    return 0;
}

void sd__mx_detect_free(SdMxDetect *d)
{
    free(d->spots); free(d->wrinkles); free(d->skel); free(d->wr_mu); free(d->sp_mu); free(d->wr_w); free(d->sp_w);
    memset(d, 0, sizeof(*d));
}

/* Exclusion weight of a membership: 1 - min(1, gain x its Gaussian spread of sigma
 * tex_exclude_mm) (continuous; reaches 0 on and just around a full member). */
static int exclusion_weight(SdCtx *ctx, const SdMetricsState *st, const SdMxRegion *r, const float *mu,
                            float *wt)
{
    const size_t n = (size_t)r->w * (size_t)r->h;
    const ptrdiff_t bs = (ptrdiff_t)(sizeof(float) * (size_t)r->w);
    const double sg = st->o.tex_exclude_mm * st->ppm;
    const float k = (float)st->o.tex_exclude_gain;
    int err;
    if (sg >= 0.3) {
        if ((err = sd_op_gauss(ctx, mu, bs, wt, bs, r->w, r->h, (float)(sg > 64 ? 64 : sg))))
            return err;
    } else {
        memcpy(wt, mu, sizeof(float) * n);
    }
    for (size_t i = 0; i < n; i++) {
        const float u = k * wt[i];
        wt[i] = 1.0f - (u > 1.0f ? 1.0f : u);
    }
    return 0;
}

int sd__mx_detect(SdCtx *ctx, const SdMetricsState *st, const SdMxRegion *r,
                      const char *name, SdMxDetect *d)
{
    int err;
    memset(d, 0, sizeof(*d));
    size_t n = (size_t)r->w * (size_t)r->h;
    if (!(d->spots = calloc(n, 1)) || !(d->wrinkles = calloc(n, 1)) || !(d->skel = calloc(n, 1)) ||
        !(d->wr_mu = calloc(n, sizeof(float))) || !(d->sp_mu = calloc(n, sizeof(float))) ||
        !(d->wr_w = calloc(n, sizeof(float))) || !(d->sp_w = calloc(n, sizeof(float))))
        return sd_fail(ctx, SD_ENOMEM, "metrics: out of memory");
    /* spots first: their exclusion weight also keeps the rims of spots out of the wrinkles */
    if ((err = sd__mx_spots(ctx, st, r, d)) || (err = exclusion_weight(ctx, st, r, d->sp_mu, d->sp_w)) ||
        (err = sd__mx_wrinkles(ctx, st, r, name, d)) || (err = exclusion_weight(ctx, st, r, d->wr_mu, d->wr_w)))
        return err;
    return 0;
}

/* Smallest region measured: 4 mm² (below that the band statistics are noise). */
#define SD_MX_MIN_AREA_MM2 4.0

int sd_metrics_region(SdCtx *ctx, const SdMetricsState *st, const SdMask *region,
                      const char *region_name, double out[SD_NMETRICS])
{
    SdMxRegion r;
    SdMxDetect d = { 0 };
    int err;
    for (int i = 0; i < SD_NMETRICS; i++)
        out[i] = NAN;
    if (!st)
        return sd_fail(ctx, SD_EINVAL, "metrics: no state");
    if ((err = sd__mx_region_box(ctx, st, region, &r)))
        return err;
    if (r.area_mm2 < SD_MX_MIN_AREA_MM2)
        goto done;
    if ((err = sd__mx_detect(ctx, st, &r, region_name, &d)))
        goto done;
    if ((err = sd__mx_texture_region(ctx, st, &r, &d, out)))
        goto done;
    if ((err = sd__mx_pigment_region(ctx, st, &r, &d, out)))
        goto done;
    out[SD_M_WRINKLE_DENSITY] = 100.0 * d.wr_soft / (double)r.n;
    out[SD_M_WRINKLE_LENGTH_DENSITY] = d.wr_len_mm / (r.area_mm2 / 100.0);
    out[SD_M_WRINKLE_SEVERITY] = d.n_skel ? 100.0 * d.wr_resp_sum / (double)d.n_skel : 0.0;
    out[SD_M_PIGMENT_SPOT_AREA] = 100.0 * (double)d.n_spot_px / (double)r.n;
    out[SD_M_PIGMENT_SPOT_DENSITY] = (double)d.n_spots / (r.area_mm2 / 100.0);
done:
    if (err)
        for (int i = 0; i < SD_NMETRICS; i++)
            out[i] = NAN;
    sd__mx_detect_free(&d);
    free(r.in);
    return err;
}

int sd_metrics_overlay(SdCtx *ctx, const SdMetricsState *st, const SdImage *img,
                       const SdMask *region, const char *region_name, const char *wrinkle_png,
                       const char *spot_png)
{
    SdMxRegion r;
    SdMxDetect d = { 0 };
    SdImage ov = { 0 };
    int err;
    if (!st || !img || img->fmt != SD_FMT_F32 || img->c < 3 || img->w != st->w || img->h != st->h)
        return sd_fail(ctx, SD_EINVAL, "metrics overlay: image does not match the state");
    if ((err = sd__mx_region_box(ctx, st, region, &r)))
        return err;
    if (r.n > 0 && (err = sd__mx_detect(ctx, st, &r, region_name, &d)))
        goto done;
    for (int k = 0; k < 2; k++) {
        const char *path = k == 0 ? wrinkle_png : spot_png;
        const uint8_t *m = k == 0 ? d.wrinkles : d.spots;
        static const float col[2][3] = { { 1.0f, 0.1f, 0.1f }, { 0.0f, 0.9f, 1.0f } };
        if (!path)
            continue;
        if ((err = sd_image_copy(img, &ov)))
            goto done;
        /* dim outside the region so the reader sees what was measured */
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < ov.h; y++) {
                float *row = sd_image_rowf(&ov, c, y);
                for (int x = 0; x < ov.w; x++) {
                    int xi = x - r.x0, yi = y - r.y0;
                    int inside = r.n && xi >= 0 && yi >= 0 && xi < r.w && yi < r.h &&
                                 r.in[(size_t)yi * (size_t)r.w + (size_t)xi];
                    if (!inside)
                        row[x] *= 0.55f;
                    else if (m[(size_t)yi * (size_t)r.w + (size_t)xi])
                        row[x] = 0.25f * row[x] + 0.75f * col[k][c];
                }
            }
        err = sd_image_save(ctx, &ov, path, 90);
        sd_image_free(&ov);
        if (err)
            goto done;
    }
done:
    sd_image_free(&ov);
    sd__mx_detect_free(&d);
    free(r.in);
    return err;
}

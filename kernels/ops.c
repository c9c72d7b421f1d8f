/* Image-level operations: border handling, scratch rows and kernel selection around the DSP
 * tables. Filters run row by row (vertical pass into a padded scratch row, then the horizontal
 * pass straight into dst) so each source row is read from cache 2r+1 times but from memory once. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/ops.h"
#include "kernels/cpu.h"
#include "src/core/core.h"

#include "kernels/rows.h"

/* ---- one read-only table per CPU level (index = flags & 3), built on first use */
static SdKernels tables[4];
static pthread_once_t once[4] = { PTHREAD_ONCE_INIT, PTHREAD_ONCE_INIT, PTHREAD_ONCE_INIT,
                                  PTHREAD_ONCE_INIT };
static void build(unsigned f)
{
    SdKernels *k = &tables[f];
    sd_colour_dsp_init(&k->colour, f);
    sd_filter_dsp_init(&k->filter, f);
    sd_hessian_dsp_init(&k->hessian, f);
    sd_warp_dsp_init(&k->warp, f);
    sd_stats_dsp_init(&k->stats, f);
}
static void build0(void) { build(0); }
static void build1(void) { build(1); }
static void build2(void) { build(2); }
static void build3(void) { build(3); }

const SdKernels *sd_kernels(unsigned cpu_flags)
{
    static void (*const fn[4])(void) = { build0, build1, build2, build3 };
    const unsigned f = cpu_flags & 3u;
    pthread_once(&once[f], fn[f]);
    return &tables[f];
}

/* reflect-101 for any overshoot */
static inline int mirror(int i, int n)
{
    if (n == 1) return 0;
    const int p = 2 * (n - 1);
    i %= p;
    if (i < 0) i += p;
    return i < n ? i : p - i;
}

static void pad_row(float *row, int w, int r)   /* row[0..w) valid; fills row[-r..0) and [w..w+r) */
{
    if (r < w) {   /* a single reflection (what mirror() gives there), without its modulo */
        for (int i = 1; i <= r; i++) {
            row[-i] = row[i];
            row[w - 1 + i] = row[w - 1 - i];
        }
        return;
    }
    for (int i = 1; i <= r; i++) {
        row[-i] = row[mirror(-i, w)];
        row[w - 1 + i] = row[mirror(w - 1 + i, w)];
    }
}

/* Scratch: nrows padded float rows of w + 2r (rounded up to 16 floats), each aligned. */
typedef struct Scratch {
    float *buf;
    size_t row_floats;
} Scratch;

static int scratch_alloc(Scratch *s, int w, int r, int nrows)
{
    size_t n = (size_t)w + 2 * (size_t)r + 32;
    n = (n + 15) & ~(size_t)15;
    size_t bytes;
    if (sd_mul_overflow(n, (size_t)nrows * sizeof(float), &bytes)) return SD_ENOMEM;
    s->buf = sd_alloc_aligned(bytes);
    s->row_floats = n;
    return s->buf ? 0 : SD_ENOMEM;
}
/* Row i's first valid pixel: leaves r (rounded to 16) floats of left padding. */
static inline float *scratch_row(const Scratch *s, int i, int r)
{
    return s->buf + (size_t)i * s->row_floats + (((size_t)r + 15) & ~(size_t)15);
}

static int check_plane(SdCtx *ctx, const char *op, const void *p, ptrdiff_t stride, int w, int h)
{
    if (!p || w < 1 || h < 1 || stride < (ptrdiff_t)sizeof(float) * w)
        return sd_fail(ctx, SD_EINVAL, "%s: bad plane (w=%d h=%d stride=%td)", op, w, h, stride);
    return 0;
}

int sd_gauss_radius(float sigma)
{
    int r = (int)ceilf(3.0f * sigma - 1e-4f);
    return r < 1 ? 1 : r;
}

void sd_gauss_kernel(float *k, int r, float sigma, int order)
{
    double g[1024 + 1], s = 0;
    const double is2 = 1.0 / ((double)sigma * sigma);
    for (int i = 0; i <= r; i++) {
        g[i] = exp(-0.5 * i * i * is2);
        s += i ? 2 * g[i] : g[i];
    }
    if (order == 0) {
        for (int i = 0; i <= r; i++) k[i] = (float)(g[i] / s);
    } else if (order == 1) {
        double m = 0;                       /* response to I = x: sum_i k_i * 2i */
        for (int i = 1; i <= r; i++) m += 2.0 * i * (i * is2 * g[i]);
        k[0] = 0;
        for (int i = 1; i <= r; i++) k[i] = (float)(i * is2 * g[i] / m);
    } else {
        double t[1024 + 1], mean = 0, m = 0;
        for (int i = 0; i <= r; i++) {
            t[i] = ((double)i * i * is2 - 1.0) * is2 * g[i];
            mean += i ? 2 * t[i] : t[i];
        }
        mean /= 2 * r + 1;                  /* zero sum: no response to a constant */
        for (int i = 0; i <= r; i++) {
            t[i] -= mean;
            m += i ? 2 * t[i] * 0.5 * i * i : 0;   /* response to I = x^2/2 */
        }
        for (int i = 0; i <= r; i++) k[i] = (float)(t[i] / m);
    }
}

#define SD_MAX_SIGMA 64.0f

/* Source rows y-r .. y+nb-1+r, mirrored at the top and bottom. */
static void fill_rows(const float **rows, const float *src, ptrdiff_t ss, int y, int h, int r, int nb)
{
    for (int j = 0; j < 2 * r + nb; j++)
        rows[j] = CROW(float, src, ss, mirror(y - r + j, h));
}

/* Output rows per vertical-kernel call: SIMD kernels filter a block at once, reading each source
 * row once per block instead of once per output row. */
#define VBLOCK 4

int sd_op_gauss(SdCtx *ctx, const float *src, ptrdiff_t ss, float *dst, ptrdiff_t ds, int w, int h,
                float sigma)
{
    return sd_op_gauss_rows(ctx, src, ss, dst, ds, w, h, 0, h, sigma);
}

int sd_op_gauss_rows(SdCtx *ctx, const float *src, ptrdiff_t ss, float *dst, ptrdiff_t ds, int w, int h,
                     int y0, int nrows, float sigma)
{
    int err;
    if ((err = check_plane(ctx, "gauss", src, ss, w, h)))
        return err;
    if (y0 < 0 || nrows < 1 || nrows > h - y0)
        return sd_fail(ctx, SD_EINVAL, "gauss: rows %d+%d outside 0..%d", y0, nrows, h);
    if ((err = check_plane(ctx, "gauss", dst, ds, w, nrows)))
        return err;
    if (!(sigma >= 0.3f && sigma <= SD_MAX_SIGMA))
        return sd_fail(ctx, SD_EINVAL, "gauss: sigma %g outside [0.3, %g]", sigma, SD_MAX_SIGMA);
    const SdFilterDSP *f = &sd_kernels(ctx->cpu_flags)->filter;
    const int r = sd_gauss_radius(sigma);
    float k[1024 + 1];
    sd_gauss_kernel(k, r, sigma, 0);
    Scratch s = { 0 };
    const float **rows = malloc(sizeof(*rows) * (size_t)(2 * r + VBLOCK));
    if (!rows || scratch_alloc(&s, w, r, VBLOCK)) {
        err = sd_fail(ctx, SD_ENOMEM, "gauss: out of memory");
        goto fail;
    }
    const ptrdiff_t ts = (ptrdiff_t)(s.row_floats * sizeof(float));
    for (int y = y0; y < y0 + nrows; y += VBLOCK) {
        const int nb = y0 + nrows - y < VBLOCK ? y0 + nrows - y : VBLOCK;
        fill_rows(rows, src, ss, y, h, r, nb);
        f->v_sym(scratch_row(&s, 0, r), ts, rows, w, nb, k, r);
        for (int j = 0; j < nb; j++) {
            float *t = scratch_row(&s, j, r);
            /* the source row the next block adds, fetched during this row's horizontal pass */
            if (y + VBLOCK + j + r < h) {
                const float *nr = CROW(float, src, ss, y + VBLOCK + j + r);
                for (int x = 0; x < w; x += 16)
                    __builtin_prefetch(nr + x);
            }
            pad_row(t, w, r);
            f->h_sym(ROW(float, dst, ds, y - y0 + j), 0, t, 0, w, 1, k, r);
        }
    }
    err = 0;
fail:
    free(rows);
    sd_free_aligned(s.buf);
    return err;
}

int sd_op_gauss_deriv(SdCtx *ctx, const float *src, ptrdiff_t ss, const SdDerivOut *o,
                      ptrdiff_t ds, int w, int h, float sigma)
{
    return sd_op_gauss_deriv_rows(ctx, src, ss, o, ds, w, h, 0, h, sigma);
}

int sd_op_gauss_deriv_rows(SdCtx *ctx, const float *src, ptrdiff_t ss, const SdDerivOut *o,
                           ptrdiff_t ds, int w, int h, int y0, int nrows, float sigma)
{
    int err;
    if ((err = check_plane(ctx, "gauss_deriv", src, ss, w, h)))
        return err;
    if (!o || ds < (ptrdiff_t)sizeof(float) * w)
        return sd_fail(ctx, SD_EINVAL, "gauss_deriv: bad output");
    if (y0 < 0 || nrows < 0 || nrows > h - y0)
        return sd_fail(ctx, SD_EINVAL, "gauss_deriv: rows %d+%d outside 0..%d", y0, nrows, h);
    if (!(sigma >= 0.3f && sigma <= SD_MAX_SIGMA))
        return sd_fail(ctx, SD_EINVAL, "gauss_deriv: sigma %g outside [0.3, %g]", sigma, SD_MAX_SIGMA);
    const SdFilterDSP *f = &sd_kernels(ctx->cpu_flags)->filter;
    const int r = sd_gauss_radius(sigma);
    float g[1024 + 1], d1[1024 + 1], d2[1024 + 1];
    sd_gauss_kernel(g, r, sigma, 0);
    sd_gauss_kernel(d1, r, sigma, 1);
    sd_gauss_kernel(d2, r, sigma, 2);
    const int need_g = o->ix || o->ixx, need_d1 = o->iy || o->ixy, need_d2 = o->iyy != NULL;
    Scratch s = { 0 };
    const float **rows = malloc(sizeof(*rows) * (size_t)(2 * r + VBLOCK));
    if (!rows || scratch_alloc(&s, w, r, 3 * VBLOCK)) {
        err = sd_fail(ctx, SD_ENOMEM, "gauss_deriv: out of memory");
        goto fail;
    }
    const ptrdiff_t ts = (ptrdiff_t)(s.row_floats * sizeof(float));
    for (int y = y0; y < y0 + nrows; y += VBLOCK) {
        const int nb = y0 + nrows - y < VBLOCK ? y0 + nrows - y : VBLOCK;
        fill_rows(rows, src, ss, y, h, r, nb);
        if (need_g) f->v_sym(scratch_row(&s, 0, r), ts, rows, w, nb, g, r);
        if (need_d1) f->v_anti(scratch_row(&s, VBLOCK, r), ts, rows, w, nb, d1, r);
        if (need_d2) f->v_sym(scratch_row(&s, 2 * VBLOCK, r), ts, rows, w, nb, d2, r);
        for (int j = 0; j < nb; j++) {
            float *tg = scratch_row(&s, j, r), *t1 = scratch_row(&s, VBLOCK + j, r),
                  *t2 = scratch_row(&s, 2 * VBLOCK + j, r);
            if (need_g) pad_row(tg, w, r);
            if (need_d1) pad_row(t1, w, r);
            if (need_d2) pad_row(t2, w, r);
            const int yy = y - y0 + j;
            if (o->ix) f->h_anti(ROW(float, o->ix, ds, yy), 0, tg, 0, w, 1, d1, r);
            if (o->iy) f->h_sym(ROW(float, o->iy, ds, yy), 0, t1, 0, w, 1, g, r);
            if (o->ixx) f->h_sym(ROW(float, o->ixx, ds, yy), 0, tg, 0, w, 1, d2, r);
            if (o->ixy) f->h_anti(ROW(float, o->ixy, ds, yy), 0, t1, 0, w, 1, d1, r);
            if (o->iyy) f->h_sym(ROW(float, o->iyy, ds, yy), 0, t2, 0, w, 1, g, r);
        }
    }
    err = 0;
fail:
    free(rows);
    sd_free_aligned(s.buf);
    return err;
}

int sd_op_box_meanvar(SdCtx *ctx, const float *src, ptrdiff_t ss, float *mean, float *var,
                      ptrdiff_t ds, int w, int h, int r)
{
    int err;
    if ((err = check_plane(ctx, "box", src, ss, w, h)) || (err = check_plane(ctx, "box", mean, ds, w, h)))
        return err;
    if (r < 0 || r > 1024)
        return sd_fail(ctx, SD_EINVAL, "box: radius %d outside [0, 1024]", r);
    const SdFilterDSP *f = &sd_kernels(ctx->cpu_flags)->filter;
    const int n = 2 * r + 1;
    Scratch s = { 0 };
    const float **rows = malloc(sizeof(*rows) * (size_t)n);
    if (!rows || scratch_alloc(&s, w, r, 2)) {
        err = sd_fail(ctx, SD_ENOMEM, "box: out of memory");
        goto fail;
    }
    float *ts = scratch_row(&s, 0, r), *tq = scratch_row(&s, 1, r);
    const float inv = 1.0f / ((float)n * (float)n);
    for (int y = 0; y < h; y++) {
        fill_rows(rows, src, ss, y, h, r, 1);
        f->box_v(ts, tq, rows, w, n);
        pad_row(ts, w, r);
        pad_row(tq, w, r);
        f->box_h(ROW(float, mean, ds, y), var ? ROW(float, var, ds, y) : NULL, ts, tq, w, r, inv);
    }
    err = 0;
fail:
    free(rows);
    sd_free_aligned(s.buf);
    return err;
}

int sd_op_hessian_eig(SdCtx *ctx, const float *ixx, const float *ixy, const float *iyy,
                      ptrdiff_t hs, float *l1, float *l2, float *theta, ptrdiff_t ds, int w, int h,
                      float sigma)
{
    int err;
    if ((err = check_plane(ctx, "hessian_eig", ixx, hs, w, h)) || !ixy || !iyy ||
        (err = check_plane(ctx, "hessian_eig", l1, ds, w, h)) || !l2)
        return err ? err : sd_fail(ctx, SD_EINVAL, "hessian_eig: missing plane");
    sd_kernels(ctx->cpu_flags)->hessian.eig2(l1, l2, theta, ds, ixx, ixy, iyy, hs, w, h,
                                             sigma * sigma);
    return 0;
}

int sd_op_ridge(SdCtx *ctx, const float *ixx, const float *ixy, const float *iyy, ptrdiff_t hs,
                float *dst, ptrdiff_t ds, int w, int h, float sigma, float beta, float c)
{
    int err;
    if ((err = check_plane(ctx, "ridge", ixx, hs, w, h)) || !ixy || !iyy ||
        (err = check_plane(ctx, "ridge", dst, ds, w, h)))
        return err ? err : sd_fail(ctx, SD_EINVAL, "ridge: missing plane");
    if (!(beta > 0) || !(c > 0))
        return sd_fail(ctx, SD_EINVAL, "ridge: beta and c must be > 0");
    const SdRidgeParams p = { sigma * sigma, beta, c };
    sd_kernels(ctx->cpu_flags)->hessian.ridge(dst, ds, ixx, ixy, iyy, hs, w, h, &p);
    return 0;
}

static int invert3(const double m[9], double o[9])
{
    const double a = m[4] * m[8] - m[5] * m[7], b = m[5] * m[6] - m[3] * m[8],
                 c = m[3] * m[7] - m[4] * m[6];
    const double det = m[0] * a + m[1] * b + m[2] * c;
    if (!(fabs(det) > 1e-300) || !isfinite(det)) return -1;
    const double id = 1.0 / det;
    o[0] = a * id; o[1] = (m[2] * m[7] - m[1] * m[8]) * id; o[2] = (m[1] * m[5] - m[2] * m[4]) * id;
    o[3] = b * id; o[4] = (m[0] * m[8] - m[2] * m[6]) * id; o[5] = (m[2] * m[3] - m[0] * m[5]) * id;
    o[6] = c * id; o[7] = (m[1] * m[6] - m[0] * m[7]) * id; o[8] = (m[0] * m[4] - m[1] * m[3]) * id;
    return 0;
}

int sd_op_warp_inv(SdCtx *ctx, const float *src, ptrdiff_t ss, int sw, int sh, const double inv[9],
                   float *dst, ptrdiff_t ds, int dw, int dh, uint8_t *mask, ptrdiff_t ms, float fill)
{
    int err;
    if ((err = check_plane(ctx, "warp", src, ss, sw, sh)) || (err = check_plane(ctx, "warp", dst, ds, dw, dh)))
        return err;
    if (mask && ms < dw)
        return sd_fail(ctx, SD_EINVAL, "warp: mask stride %td < width %d", ms, dw);
    SdWarpParams p = { .x0 = 0, .y0 = 0, .fill = fill };
    for (int i = 0; i < 9; i++) {
        if (!isfinite(inv[i])) return sd_fail(ctx, SD_EINVAL, "warp: non-finite transform");
        p.m[i] = inv[i];
    }
    /* The SIMD samplers gather with 32-bit float offsets: fall back to C for sources they
     * cannot address. */
    const int gather_ok = ss % (ptrdiff_t)sizeof(float) == 0 &&
                          (double)ss / sizeof(float) * sh < 2147483647.0;
    const SdWarpDSP *k = &sd_kernels(gather_ok ? ctx->cpu_flags : 0)->warp;
    if (p.m[6] == 0 && p.m[7] == 0 && p.m[8] != 0) {
        for (int i = 0; i < 6; i++) p.m[i] /= p.m[8];
        p.m[8] = 1;
        k->affine(dst, ds, mask, ms, src, ss, sw, sh, dw, dh, &p);
    } else {
        k->homog(dst, ds, mask, ms, src, ss, sw, sh, dw, dh, &p);
    }
    return 0;
}

int sd_op_warp(SdCtx *ctx, const float *src, ptrdiff_t ss, int sw, int sh, const SdTransform *t,
               float *dst, ptrdiff_t ds, int dw, int dh, uint8_t *mask, ptrdiff_t ms, float fill)
{
    double inv[9];
    if (!t || invert3(t->m, inv))
        return sd_fail(ctx, SD_EINVAL, "warp: singular or missing transform");
    return sd_op_warp_inv(ctx, src, ss, sw, sh, inv, dst, ds, dw, dh, mask, ms, fill);
}

int sd_op_down2(SdCtx *ctx, const float *src, ptrdiff_t ss, int w, int h, float *dst, ptrdiff_t ds)
{
    int err;
    const int dw = (w + 1) / 2, dh = (h + 1) / 2;
    if ((err = check_plane(ctx, "down2", src, ss, w, h)) || (err = check_plane(ctx, "down2", dst, ds, dw, dh)))
        return err;
    sd_kernels(ctx->cpu_flags)->warp.down2(dst, ds, src, ss, dw, dh, w, h);
    return 0;
}

int sd_op_srgb8_to_linear(SdCtx *ctx, const uint8_t *src, ptrdiff_t ss, float *const dst[3],
                          ptrdiff_t ds, int w, int h)
{
    if (!src || !dst || !dst[0] || !dst[1] || !dst[2] || w < 1 || h < 1 || ss < 3 * (ptrdiff_t)w ||
        ds < (ptrdiff_t)sizeof(float) * w)
        return sd_fail(ctx, SD_EINVAL, "srgb8_to_linear: bad arguments");
    const SdColourDSP *c = &sd_kernels(ctx->cpu_flags)->colour;
    c->srgb8_to_lin(dst, ds, src, ss, w, h, c->lut8);
    return 0;
}

int sd_op_srgb_to_linear(SdCtx *ctx, const float *src, ptrdiff_t ss, float *dst, ptrdiff_t ds,
                         int w, int h)
{
    int err;
    if ((err = check_plane(ctx, "srgb_to_linear", src, ss, w, h)) ||
        (err = check_plane(ctx, "srgb_to_linear", dst, ds, w, h)))
        return err;
    const SdColourDSP *c = &sd_kernels(ctx->cpu_flags)->colour;
    c->srgbf_to_lin(dst, ds, src, ss, w, h, c->lutf);
    return 0;
}

static int check3(SdCtx *ctx, const char *op, const float *const p[3], ptrdiff_t s, int w, int h)
{
    int err = 0;
    if (!p) return sd_fail(ctx, SD_EINVAL, "%s: missing planes", op);
    for (int i = 0; i < 3 && !err; i++) err = check_plane(ctx, op, p[i], s, w, h);
    return err;
}

int sd_op_rgb_to_lab(SdCtx *ctx, const float *const src[3], ptrdiff_t ss, float *const dst[3],
                     ptrdiff_t ds, int w, int h)
{
    int err;
    if ((err = check3(ctx, "rgb_to_lab", src, ss, w, h)) || !dst ||
        (err = check_plane(ctx, "rgb_to_lab", dst[0], ds, w, h)) ||
        (dst[1] && (err = check_plane(ctx, "rgb_to_lab", dst[1], ds, w, h))) ||
        (err = check_plane(ctx, "rgb_to_lab", dst[2], ds, w, h)))
        return err ? err : sd_fail(ctx, SD_EINVAL, "rgb_to_lab: missing planes");
    sd_kernels(ctx->cpu_flags)->colour.rgb_to_lab(dst, ds, src, ss, w, h);
    return 0;
}

int sd_op_optical_density(SdCtx *ctx, const float *src, ptrdiff_t ss, float *dst, ptrdiff_t ds,
                          int w, int h, float eps)
{
    int err;
    if ((err = check_plane(ctx, "optical_density", src, ss, w, h)) ||
        (err = check_plane(ctx, "optical_density", dst, ds, w, h)))
        return err;
    if (!(eps > 0))
        return sd_fail(ctx, SD_EINVAL, "optical_density: eps must be > 0");
    sd_kernels(ctx->cpu_flags)->colour.od(dst, ds, src, ss, w, h, eps);
    return 0;
}

int sd_op_mat3(SdCtx *ctx, const float *const src[3], ptrdiff_t ss, float *const dst[3],
               ptrdiff_t ds, int w, int h, const float m[9])
{
    int err;
    if ((err = check3(ctx, "mat3", src, ss, w, h)) ||
        (err = check3(ctx, "mat3", (const float *const *)dst, ds, w, h)))
        return err;
    if (!m) return sd_fail(ctx, SD_EINVAL, "mat3: missing matrix");
    sd_kernels(ctx->cpu_flags)->colour.mat3(dst, ds, src, ss, w, h, m);
    return 0;
}

int sd_op_moments(SdCtx *ctx, const float *src, ptrdiff_t ss, const uint8_t *mask, ptrdiff_t ms,
                  int w, int h, SdMoments *m)
{
    int err;
    if ((err = check_plane(ctx, "moments", src, ss, w, h)))
        return err;
    if (!m || (mask && ms < w))
        return sd_fail(ctx, SD_EINVAL, "moments: bad arguments");
    memset(m, 0, sizeof(*m));
    m->min = INFINITY;
    m->max = -INFINITY;
    sd_kernels(ctx->cpu_flags)->stats.moments(m, src, ss, mask, ms, w, h);
    return 0;
}

#define QUANT_ROWS 32

static int quant_args(SdCtx *ctx, const char *op, float lo, float hi, int n, int nmax, float *scale)
{
    if (!(hi > lo) || !isfinite(lo) || !isfinite(hi) || n < 1 || n > nmax)
        return sd_fail(ctx, SD_EINVAL, "%s: need lo < hi and 1..%d bins", op, nmax);
    *scale = (float)((double)n / ((double)hi - (double)lo));
    return 0;
}

int sd_op_histogram(SdCtx *ctx, const float *src, ptrdiff_t ss, const uint8_t *mask,
                    ptrdiff_t ms, int w, int h, float lo, float hi, int nbins, uint32_t *counts)
{
    int err;
    float scale;
    if ((err = check_plane(ctx, "histogram", src, ss, w, h)) ||
        (err = quant_args(ctx, "histogram", lo, hi, nbins, 65536, &scale)))
        return err;
    if (!counts || (mask && ms < w))
        return sd_fail(ctx, SD_EINVAL, "histogram: bad arguments");
    const SdStatsDSP *k = &sd_kernels(ctx->cpu_flags)->stats;
    const ptrdiff_t qs = (ptrdiff_t)((((size_t)w * 2) + 63) & ~(size_t)63);
    uint16_t *q = sd_calloc_checked((size_t)qs, QUANT_ROWS);
    if (!q) return sd_fail(ctx, SD_ENOMEM, "histogram: out of memory");
    memset(counts, 0, sizeof(*counts) * (size_t)nbins);
    for (int y = 0; y < h; y += QUANT_ROWS) {
        const int n = h - y < QUANT_ROWS ? h - y : QUANT_ROWS;
        k->quant(q, qs, CROW(float, src, ss, y), ss, w, n, lo, scale, nbins);
        k->hist(counts, q, qs, mask ? CROW(uint8_t, mask, ms, y) : NULL, ms, w, n);
    }
    free(q);
    return 0;
}

int sd_op_quantize_u8(SdCtx *ctx, const float *src, ptrdiff_t ss, uint8_t *dst, ptrdiff_t ds,
                      int w, int h, float lo, float hi, int levels)
{
    int err;
    float scale;
    if ((err = check_plane(ctx, "quantize_u8", src, ss, w, h)) ||
        (err = quant_args(ctx, "quantize_u8", lo, hi, levels, 256, &scale)))
        return err;
    if (!dst || ds < w)
        return sd_fail(ctx, SD_EINVAL, "quantize_u8: bad output");
    const SdStatsDSP *k = &sd_kernels(ctx->cpu_flags)->stats;
    uint16_t *q = sd_calloc_checked((size_t)w, sizeof(*q));
    if (!q) return sd_fail(ctx, SD_ENOMEM, "quantize_u8: out of memory");
    for (int y = 0; y < h; y++) {
        /* in pieces of 256 pixels, each after a hint for the same piece of the next row (a box of
         * a wider plane: the hardware prefetcher does not follow the stride) */
        const float *r = CROW(float, src, ss, y), *next = y + 1 < h ? CROW(float, src, ss, y + 1) : NULL;
        for (int x = 0; x < w; x += 256) {
            for (int i = 0; next && i < 256 && x + i < w; i += 16)
                __builtin_prefetch(next + x + i);
            k->quant(q + x, 0, r + x, 0, w - x < 256 ? w - x : 256, 1, lo, scale, levels);
        }
        uint8_t *d = ROW(uint8_t, dst, ds, y);
        for (int x = 0; x < w; x++) d[x] = (uint8_t)q[x];
    }
    free(q);
    return 0;
}

int sd_op_glcm(SdCtx *ctx, const uint8_t *src, ptrdiff_t ss, const uint8_t *mask, ptrdiff_t ms,
               int w, int h, int d, int levels, uint32_t *counts)
{
    if (!src || !counts || w < 1 || h < 1 || ss < w || (mask && ms < w) || d < 1 ||
        levels < 2 || levels > 256)
        return sd_fail(ctx, SD_EINVAL, "glcm: bad arguments");
    for (int y = 0; y < h; y++) {          /* the kernel indexes counts by value: check first */
        const uint8_t *r = CROW(uint8_t, src, ss, y);
        for (int x = 0; x < w; x++)
            if (r[x] >= levels)
                return sd_fail(ctx, SD_EINVAL, "glcm: value %d at (%d,%d) >= levels %d", r[x], x, y, levels);
    }
    memset(counts, 0, sizeof(*counts) * 4 * (size_t)levels * (size_t)levels);
    sd_kernels(ctx->cpu_flags)->stats.glcm(counts, src, ss, mask, ms, w, h, d, levels);
    return 0;
}

int sd_op_ecc_accumulate(SdCtx *ctx, const float *gx, const float *gy, const float *warped,
                         const float *tmpl, ptrdiff_t ss, const uint8_t *mask, ptrdiff_t ms,
                         int w, int h, float x0, float y0, SdEccAcc *acc)
{
    int err;
    if ((err = check_plane(ctx, "ecc", gx, ss, w, h)))
        return err;
    if (!gy || !warped || !tmpl || !acc || (mask && ms < w))
        return sd_fail(ctx, SD_EINVAL, "ecc: bad arguments");
    memset(acc, 0, sizeof(*acc));
    sd_kernels(ctx->cpu_flags)->stats.ecc(acc, gx, gy, warped, tmpl, ss, mask, ms, w, h, x0, y0);
    return 0;
}

void sd_ecc_affine_system(const SdEccAcc *a, double H[36], double jw[6], double jt[6], double j1[6])
{
    /* Jacobian column c = coordinate monomial cm[c] (0: 1, 1: x, 2: y) times gradient gi[c]. */
    static const int cm[6] = { 1, 1, 2, 2, 0, 0 }, gi[6] = { 0, 1, 0, 1, 0, 1 };
    static const int prod[3][3] = { { 0, 1, 2 }, { 1, 3, 4 }, { 2, 4, 5 } };   /* mono index */
    for (int r = 0; r < 6; r++) {
        for (int c = 0; c < 6; c++)
            H[r * 6 + c] = a->gg[gi[r] + gi[c]][prod[cm[r]][cm[c]]];
        j1[r] = a->gv[0][gi[r]][cm[r]];
        jw[r] = a->gv[1][gi[r]][cm[r]];
        jt[r] = a->gv[2][gi[r]][cm[r]];
    }
}

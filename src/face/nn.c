/* Tensor operations for the face CNNs: im2col + sgemm convolutions, depthwise 3x3, max-pool,
 * activations, and the two ways of turning an image region into a network input. */
#include "src/face/nn.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "src/core/core.h"

/* Bias + activation over rows x n outputs, in place. Loops run in fixed blocks of 16 so that
 * GCC vectorises them at -O2 (its cheap cost model wants trip counts it can see). */
#define NN_VB 16

static inline float act1(float v, int act)
{
    return act == SD_NN_RELU ? (v > 0.0f ? v : 0.0f)
         : act == SD_NN_LEAKY ? (v > 0.0f ? v : v * SD_NN_LEAKY_ALPHA) : v;
}

static void bias_act(float *restrict o, size_t rows, int n, const float *restrict bias, int act)
{
    for (size_t r = 0; r < rows; r++, o += n) {
        int j = 0;
        for (; j + NN_VB <= n; j += NN_VB) {
            float v[NN_VB];
            if (bias)
                for (int k = 0; k < NN_VB; k++)
                    v[k] = o[j + k] + bias[j + k];
            else
                for (int k = 0; k < NN_VB; k++)
                    v[k] = o[j + k];
            if (act == SD_NN_RELU)
                for (int k = 0; k < NN_VB; k++)
                    v[k] = v[k] > 0.0f ? v[k] : 0.0f;
            else if (act == SD_NN_LEAKY)
                for (int k = 0; k < NN_VB; k++) {
                    /* max(v,0) + a*min(v,0) without branches (GCC -O2 will not if-convert);
                     * v +- |v| is 2v or 0 exactly, so the result is exact */
                    const float av = fabsf(v[k]);
                    v[k] = 0.5f * (v[k] + av) + SD_NN_LEAKY_ALPHA * (0.5f * (v[k] - av));
                }
            for (int k = 0; k < NN_VB; k++)
                o[j + k] = v[k];
        }
        for (; j < n; j++)
            o[j] = act1(o[j] + (bias ? bias[j] : 0.0f), act);
    }
}

static int conv_rows_per_chunk(int ow, int cin)
{
    /* Bound the im2col buffer to ~1 MiB so it stays in cache and memory stays small. */
    const long per_row = (long)ow * 9 * cin;
    long r = (1L << 18) / (per_row > 0 ? per_row : 1);
    return r < 1 ? 1 : (int)r;
}

size_t sd__nn_conv3x3_scratch(int ow, int cin)
{
    return (size_t)conv_rows_per_chunk(ow, cin) * (size_t)ow * 9 * (size_t)cin;
}

void sd__nn_conv3x3(float *out, const float *in, int h, int w, int cin, int cout, int stride,
                    int pad_t, int pad_l, int oy0, int oy1, int ow, const float *filt,
                    const float *bias, int act, float *col)
{
    const int K = 9 * cin;
    const int R = conv_rows_per_chunk(ow, cin);
    for (int y0 = oy0; y0 < oy1; y0 += R) {
        const int rows = oy1 - y0 < R ? oy1 - y0 : R;
        for (int r = 0; r < rows; r++) {
            const int oy = y0 + r;
            for (int ox = 0; ox < ow; ox++) {
                float *c = col + ((size_t)r * ow + ox) * K;
                const int ix0 = ox * stride - pad_l;
                const int inside_x = ix0 >= 0 && ix0 + 2 < w;
                for (int ky = 0; ky < 3; ky++, c += 3 * cin) {
                    const int iy = oy * stride - pad_t + ky;
                    if (iy < 0 || iy >= h) {
                        for (int j = 0; j < 3 * cin; j++)
                            c[j] = 0.0f;
                        continue;
                    }
                    const float *src = in + ((size_t)iy * w + ix0) * cin;
                    if (inside_x) {   /* the three taps of a row are contiguous in NHWC */
                        for (int j = 0; j < 3 * cin; j++)
                            c[j] = src[j];
                        continue;
                    }
                    for (int kx = 0; kx < 3; kx++) {
                        const int ix = ix0 + kx;
                        for (int j = 0; j < cin; j++)
                            c[kx * cin + j] = ix >= 0 && ix < w ? src[kx * cin + j] : 0.0f;
                    }
                }
            }
        }
        float *o = out + (size_t)(y0 - oy0) * ow * cout;
        const int M = rows * ow;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, cout, K, 1.0f, col, K, filt,
                    cout, 0.0f, o, cout);
        bias_act(o, (size_t)M, cout, bias, act);
    }
}

/* Channels in blocks of DW_BLOCK accumulate in registers across the nine taps. */
#define DW_BLOCK 16

static inline void dw_pixel(float *o, const float *in, int h, int w, int c, int iy0, int ix0,
                            const float *filt)
{
    const int interior = iy0 >= 0 && iy0 + 2 < h && ix0 >= 0 && ix0 + 2 < w;
    int c0 = 0;
    for (; c0 + DW_BLOCK <= c; c0 += DW_BLOCK) {
        float acc[DW_BLOCK] = {0};
        for (int ky = 0; ky < 3; ky++) {
            const int iy = iy0 + ky;
            if (!interior && (iy < 0 || iy >= h))
                continue;
            for (int kx = 0; kx < 3; kx++) {
                const int ix = ix0 + kx;
                if (!interior && (ix < 0 || ix >= w))
                    continue;
                const float *s = in + ((size_t)iy * w + ix) * c + c0;
                const float *f = filt + (size_t)(ky * 3 + kx) * c + c0;
                for (int j = 0; j < DW_BLOCK; j++)
                    acc[j] += s[j] * f[j];
            }
        }
        for (int j = 0; j < DW_BLOCK; j++)
            o[c0 + j] = acc[j];
    }
    for (; c0 < c; c0++) {   /* tail channels */
        float acc = 0.0f;
        for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++) {
                const int iy = iy0 + ky, ix = ix0 + kx;
                if (iy >= 0 && iy < h && ix >= 0 && ix < w)
                    acc += in[((size_t)iy * w + ix) * c + c0] * filt[(size_t)(ky * 3 + kx) * c + c0];
            }
        o[c0] = acc;
    }
}

void sd__nn_dwconv3x3(float *out, const float *in, int h, int w, int c, int stride, int pad_t,
                      int pad_l, int oy0, int oy1, int ow, const float *filt)
{
    for (int oy = oy0; oy < oy1; oy++)
        for (int ox = 0; ox < ow; ox++)
            dw_pixel(out + ((size_t)(oy - oy0) * ow + ox) * c, in, h, w, c, oy * stride - pad_t,
                     ox * stride - pad_l, filt);
}

void sd__nn_pointwise(float *out, const float *in, int p, int cin, int cout, const float *wts,
                      const float *bias, int act)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, p, cout, cin, 1.0f, in, cin, wts,
                cout, 0.0f, out, cout);
    bias_act(out, (size_t)p, cout, bias, act);
}

static void max4(float *restrict o, const float *restrict a, const float *restrict b,
                 const float *restrict c, const float *restrict d)
{
    for (int j = 0; j < NN_VB; j++) {
        const float m0 = a[j] > b[j] ? a[j] : b[j], m1 = c[j] > d[j] ? c[j] : d[j];
        o[j] = m0 > m1 ? m0 : m1;
    }
}

void sd__nn_maxpool2(float *out, const float *in, int h, int w, int c, int stride, int oh, int ow)
{
    for (int oy = 0; oy < oh; oy++) {
        const int ya = oy * stride, yb = ya + 1 < h ? ya + 1 : ya;
        for (int ox = 0; ox < ow; ox++) {
            const int xa = ox * stride, xb = xa + 1 < w ? xa + 1 : xa;
            const float *p00 = in + ((size_t)ya * w + xa) * c, *p01 = in + ((size_t)ya * w + xb) * c;
            const float *p10 = in + ((size_t)yb * w + xa) * c, *p11 = in + ((size_t)yb * w + xb) * c;
            float *o = out + ((size_t)oy * ow + ox) * c;
            int j = 0;
            for (; j + NN_VB <= c; j += NN_VB)
                max4(o + j, p00 + j, p01 + j, p10 + j, p11 + j);
            for (; j < c; j++) {
                const float m0 = p00[j] > p01[j] ? p00[j] : p01[j];
                const float m1 = p10[j] > p11[j] ? p10[j] : p11[j];
                o[j] = m0 > m1 ? m0 : m1;
            }
        }
    }
}

void sd__nn_relu(float *x, size_t n)
{
    size_t i = 0;
    for (; i + NN_VB <= n; i += NN_VB)
        for (int k = 0; k < NN_VB; k++)
            x[i + k] = x[i + k] > 0.0f ? x[i + k] : 0.0f;
    for (; i < n; i++)
        x[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void sd__nn_add(float *restrict dst, const float *restrict src, size_t n)
{
    size_t i = 0;
    for (; i + NN_VB <= n; i += NN_VB)
        for (int k = 0; k < NN_VB; k++)
            dst[i + k] += src[i + k];
    for (; i < n; i++)
        dst[i] += src[i];
}

/* ---- network input */

/* An 8-bit level as the nets see it from a float photo of the same pixels (the loader stores
 * level / 255 in float; times 255 is the level again to within an ulp, not always exactly): a
 * photo gives the same landmarks whether it was loaded as 8-bit or as float. */
static inline float u8_255(uint8_t v)
{
    return ((float)v * (1.0f / 255.0f)) * 255.0f;
}

static inline float pix255(const SdImage *img, int ch, int x, int y, int round8)
{
    if (img->fmt == SD_FMT_U8) {
        const uint8_t *r = sd_image_row8(img, y);
        const float v = u8_255(r[(size_t)x * img->c + (img->c == 1 ? 0 : ch)]);
        return round8 ? nearbyintf(v) : v;
    }
    float v = sd_image_rowf(img, img->c == 1 ? 0 : ch, y)[x] * 255.0f;
    return round8 ? nearbyintf(v) : v;
}

int sd__nn_input_tf(float *out, int S, const SdImage *img, int x0, int y0, int cw, int ch,
                    int ox, int oy, int side, const float mean[3], int round8)
{
    const float scale = (float)side / (float)S;
    for (int r = 0; r < S; r++) {
        const float fy = (float)r * scale;
        const int ya = (int)floorf(fy);
        int yb = (int)ceilf(fy);
        if (yb > side - 1) yb = side - 1;
        const float wy = fy - (float)ya;
        /* content rows (-1: padding) */
        const int iya = ya - oy >= 0 && ya - oy < ch ? y0 + ya - oy : -1;
        const int iyb = yb - oy >= 0 && yb - oy < ch ? y0 + yb - oy : -1;
        for (int c = 0; c < S; c++) {
            const float fx = (float)c * scale;
            const int xa = (int)floorf(fx);
            int xb = (int)ceilf(fx);
            if (xb > side - 1) xb = side - 1;
            const float wx = fx - (float)xa;
            const int ixa = xa - ox >= 0 && xa - ox < cw ? x0 + xa - ox : -1;
            const int ixb = xb - ox >= 0 && xb - ox < cw ? x0 + xb - ox : -1;
            float *o = out + ((size_t)r * S + c) * 3;
            for (int k = 0; k < 3; k++) {
                const float tl = iya >= 0 && ixa >= 0 ? pix255(img, k, ixa, iya, round8) : 0.0f;
                const float tr = iya >= 0 && ixb >= 0 ? pix255(img, k, ixb, iya, round8) : 0.0f;
                const float bl = iyb >= 0 && ixa >= 0 ? pix255(img, k, ixa, iyb, round8) : 0.0f;
                const float br = iyb >= 0 && ixb >= 0 ? pix255(img, k, ixb, iyb, round8) : 0.0f;
                const float top = tl + (tr - tl) * wx;
                const float bot = bl + (br - bl) * wx;
                const float v = top + (bot - top) * wy;
                o[k] = (v - mean[k]) / 255.0f;
            }
        }
    }
    return 0;
}

/* a[0..15] += w * r[0..15] */
static void axpy_u8(float *restrict a, const uint8_t *restrict r, float w)
{
    for (int j = 0; j < NN_VB; j++)
        a[j] += w * u8_255(r[j]);
}

/* a[0..n) += w * x[0..n) */
static void axpy_f32(float *restrict a, const float *restrict x, float w, size_t n)
{
    size_t i = 0;
    for (; i + NN_VB <= n; i += NN_VB) {
        float *restrict ap = a + i;
        const float *restrict xp = x + i;
        for (int j = 0; j < NN_VB; j++)
            ap[j] += w * xp[j];
    }
    for (; i < n; i++)
        a[i] += w * x[i];
}

/* Tent-filter taps along one axis: output i samples position p0 + i*step with half-width
 * a = max(step, 1). Taps lie on the lattice of multiples of q (q = 1 unless the support is wider
 * than max_taps pixels), which bounds the cost on big images while the weights stay centred on
 * the exact position. Taps outside [0, n) are zero padding: dropped, but they count in the
 * normalisation. Tap k of output i is pixel start[i] + k*q. */
typedef struct Taps {
    int *start, *cnt;
    float *wt;    /* S * maxt */
    int maxt, q;
} Taps;

static int taps_make(Taps *t, int S, double p0, double step, int n, int max_taps)
{
    const double a = step > 1.0 ? step : 1.0;
    int q = (int)floor(2.0 * a / (max_taps > 2 ? max_taps - 1 : 1));
    t->q = q < 1 ? 1 : q;
    t->maxt = (int)ceil(2.0 * a / t->q) + 2;
    t->start = malloc(sizeof(int) * (size_t)S);
    t->cnt = malloc(sizeof(int) * (size_t)S);
    t->wt = sd_calloc_checked((size_t)S * (size_t)t->maxt, sizeof(float));
    if (!t->start || !t->cnt || !t->wt)
        return SD_ENOMEM;
    for (int i = 0; i < S; i++) {
        const double p = p0 + i * step;
        const long ja = (long)ceil((p - a) / t->q), jb = (long)floor((p + a) / t->q);
        double sum = 0.0;
        for (long j = ja; j <= jb; j++)
            sum += fmax(0.0, 1.0 - fabs((double)(j * t->q) - p) / a);
        int k = 0;
        long s = -1;
        for (long j = ja; j <= jb && k < t->maxt; j++) {
            const long x = j * t->q;
            if (x < 0 || x >= n)
                continue;
            if (s < 0)
                s = x;
            const double wgt = fmax(0.0, 1.0 - fabs((double)x - p) / a);
            t->wt[(size_t)i * t->maxt + k++] = sum > 0.0 ? (float)(wgt / sum) : 0.0f;
        }
        t->start[i] = s < 0 ? 0 : (int)s;
        t->cnt[i] = k;
    }
    return 0;
}

static void taps_free(Taps *t)
{
    free(t->start);
    free(t->cnt);
    free(t->wt);
}

int sd__nn_input_aa(float *out, int S, const SdImage *img, double X0, double Y0, double L,
                    const float mean[3], int round8, int max_taps)
{
    const double step = L / S;
    Taps tx = {0}, ty = {0};
    float *acc = NULL, *col = NULL;
    int err = SD_ENOMEM;
    if (taps_make(&tx, S, X0, step, img->w, max_taps) ||
        taps_make(&ty, S, Y0, step, img->h, max_taps))
        goto fail;
    /* Lattice columns any output touches: xa + x*q for x in [0, nx). */
    const int q = tx.q;
    int xa = img->w, xb = -1;
    for (int i = 0; i < S; i++)
        if (tx.cnt[i]) {
            if (tx.start[i] < xa) xa = tx.start[i];
            if (tx.start[i] + (tx.cnt[i] - 1) * q > xb) xb = tx.start[i] + (tx.cnt[i] - 1) * q;
        }
    const int nx = xb >= xa ? (xb - xa) / q + 1 : 0;
    /* acc[x][3]: the vertically filtered lattice columns, interleaved RGB */
    const size_t na = (size_t)3 * (size_t)(nx > 0 ? nx : 1);
    acc = sd_calloc_checked(na, sizeof(float));
    col = sd_calloc_checked(na, sizeof(float));
    if (!acc || !col)
        goto fail;
    const int rgb8 = img->fmt == SD_FMT_U8 && img->c == 3;
    float lut[256];
    for (int i = 0; i < 256; i++) lut[i] = u8_255((uint8_t)i);
    for (int r = 0; r < S; r++) {
        memset(acc, 0, sizeof(float) * na);
        for (int k = 0; k < ty.cnt[r]; k++) {
            const float wgt = ty.wt[(size_t)r * ty.maxt + k];
            const int y = ty.start[r] + k * ty.q;
            if (wgt == 0.0f)
                continue;
            if (rgb8 && q == 1) {   /* contiguous bytes: one flat, vectorisable loop */
                const uint8_t *restrict row = sd_image_row8(img, y) + (size_t)xa * 3;
                float *restrict a = acc;
                const size_t n3 = (size_t)nx * 3;
                size_t i = 0;
                for (; i + NN_VB <= n3; i += NN_VB)
                    axpy_u8(a + i, row + i, wgt);
                for (; i < n3; i++)
                    a[i] += wgt * u8_255(row[i]);
            } else if (img->fmt == SD_FMT_U8) {
                /* the lattice columns of the row as values first (a strided gather), then one
                 * flat, vectorisable multiply-add: the same sums */
                const int st = img->c;
                const size_t xs = (size_t)q * (size_t)st;
                const uint8_t *row = sd_image_row8(img, y) + (size_t)xa * st;
                if (st == 1)
                    for (int x = 0; x < nx; x++)
                        col[3 * x] = col[3 * x + 1] = col[3 * x + 2] = lut[row[(size_t)x * xs]];
                else
                    for (int x = 0; x < nx; x++) {
                        const uint8_t *px = row + (size_t)x * xs;
                        col[3 * x] = lut[px[0]];
                        col[3 * x + 1] = lut[px[1]];
                        col[3 * x + 2] = lut[px[2]];
                    }
                axpy_f32(acc, col, wgt, na);
            } else {
                for (int ch = 0; ch < 3; ch++) {
                    const float *row = sd_image_rowf(img, img->c == 1 ? 0 : ch, y) + xa;
                    for (int x = 0; x < nx; x++) {
                        const float v = row[(size_t)x * q] * 255.0f;
                        acc[3 * x + ch] += wgt * (round8 ? nearbyintf(v) : v);
                    }
                }
            }
        }
        for (int c = 0; c < S; c++) {
            float v[3] = {0, 0, 0};
            const float *a = acc + 3 * (size_t)(tx.cnt[c] ? (tx.start[c] - xa) / q : 0);
            const float *w = tx.wt + (size_t)c * tx.maxt;
            for (int k = 0; k < tx.cnt[c]; k++) {
                v[0] += w[k] * a[3 * k];
                v[1] += w[k] * a[3 * k + 1];
                v[2] += w[k] * a[3 * k + 2];
            }
            float *o = out + ((size_t)r * S + c) * 3;
            for (int ch = 0; ch < 3; ch++)
                o[ch] = (v[ch] - mean[ch]) / 255.0f;
        }
    }
    err = 0;
fail:
    taps_free(&tx);
    taps_free(&ty);
    free(acc);
    free(col);
    return err;
}

int sd__nn_resize_hwc(float *out, int S, const float *in, int n, int c)
{
    Taps t = {0};
    float *row = NULL;
    int err = SD_ENOMEM;
    if (taps_make(&t, S, 0.0, (double)n / S, n, n + 2))
        goto fail;
    if (!(row = sd_calloc_checked((size_t)n * (size_t)c, sizeof(float))))
        goto fail;
    /* Taps past the far edge were dropped: renormalise the rest (an edge clamp in effect). */
    for (int i = 0; i < S; i++) {
        float sw = 0.0f;
        for (int k = 0; k < t.cnt[i]; k++)
            sw += t.wt[(size_t)i * t.maxt + k];
        for (int k = 0; k < t.cnt[i]; k++)
            t.wt[(size_t)i * t.maxt + k] = sw > 0.0f ? t.wt[(size_t)i * t.maxt + k] / sw : 0.0f;
    }
    for (int r = 0; r < S; r++) {
        memset(row, 0, sizeof(float) * (size_t)n * c);
        for (int k = 0; k < t.cnt[r]; k++)
            axpy_f32(row, in + (size_t)(t.start[r] + k) * n * c, t.wt[(size_t)r * t.maxt + k],
                     (size_t)n * c);
        for (int x = 0; x < S; x++) {
            float *o = out + ((size_t)r * S + x) * c;
            const float *wt = t.wt + (size_t)x * t.maxt;
            const float *src = row + (size_t)t.start[x] * c;
            for (int j = 0; j < c; j++) {
                float v = 0.0f;
                for (int k = 0; k < t.cnt[x]; k++)
                    v += wt[k] * src[(size_t)k * c + j];
                o[j] = v;
            }
        }
    }
    err = 0;
fail:
    taps_free(&t);
    free(row);
    return err;
}

/* Tensor operations for the face CNNs: im2col + sgemm convolutions, depthwise 3x3, max-pool,
 * activations, and the two ways of turning an image region into a network input. */
#include "src/nn.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "src/util.h"

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
                    const float *bias, float *col)
{
    const int K = 9 * cin;
    const int R = conv_rows_per_chunk(ow, cin);
    for (int y0 = oy0; y0 < oy1; y0 += R) {
        const int rows = oy1 - y0 < R ? oy1 - y0 : R;
        for (int r = 0; r < rows; r++) {
            const int oy = y0 + r;
            for (int ox = 0; ox < ow; ox++) {
                float *c = col + ((size_t)r * ow + ox) * K;
                for (int ky = 0; ky < 3; ky++) {
                    const int iy = oy * stride - pad_t + ky;
                    for (int kx = 0; kx < 3; kx++, c += cin) {
                        const int ix = ox * stride - pad_l + kx;
                        if (iy < 0 || iy >= h || ix < 0 || ix >= w)
                            memset(c, 0, sizeof(float) * cin);
                        else
                            memcpy(c, in + ((size_t)iy * w + ix) * cin, sizeof(float) * cin);
                    }
                }
            }
        }
        float *o = out + (size_t)(y0 - oy0) * ow * cout;
        const int M = rows * ow;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, cout, K, 1.0f, col, K, filt,
                    cout, 0.0f, o, cout);
        if (bias)
            for (int m = 0; m < M; m++)
                for (int j = 0; j < cout; j++)
                    o[(size_t)m * cout + j] += bias[j];
    }
}

void sd__nn_dwconv3x3(float *out, const float *in, int h, int w, int c, int stride, int pad_t,
                      int pad_l, int oh, int ow, const float *filt)
{
    for (int oy = 0; oy < oh; oy++) {
        for (int ox = 0; ox < ow; ox++) {
            float *o = out + ((size_t)oy * ow + ox) * c;
            memset(o, 0, sizeof(float) * c);
            for (int ky = 0; ky < 3; ky++) {
                const int iy = oy * stride - pad_t + ky;
                if (iy < 0 || iy >= h)
                    continue;
                for (int kx = 0; kx < 3; kx++) {
                    const int ix = ox * stride - pad_l + kx;
                    if (ix < 0 || ix >= w)
                        continue;
                    const float *s = in + ((size_t)iy * w + ix) * c;
                    const float *f = filt + (size_t)(ky * 3 + kx) * c;
                    for (int j = 0; j < c; j++)
                        o[j] += s[j] * f[j];
                }
            }
        }
    }
}

void sd__nn_pointwise(float *out, const float *in, int p, int cin, int cout, const float *wts,
                      const float *bias)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, p, cout, cin, 1.0f, in, cin, wts,
                cout, 0.0f, out, cout);
    if (bias)
        for (int m = 0; m < p; m++)
            for (int j = 0; j < cout; j++)
                out[(size_t)m * cout + j] += bias[j];
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
            for (int j = 0; j < c; j++) {
                float m0 = p00[j] > p01[j] ? p00[j] : p01[j];
                float m1 = p10[j] > p11[j] ? p10[j] : p11[j];
                o[j] = m0 > m1 ? m0 : m1;
            }
        }
    }
}

void sd__nn_leaky(float *x, size_t n, float alpha)
{
    for (size_t i = 0; i < n; i++)
        x[i] = x[i] > 0.0f ? x[i] : x[i] * alpha;
}

void sd__nn_relu(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

/* ---- network input */

static inline float pix255(const SdImage *img, int ch, int x, int y, int round8)
{
    if (img->fmt == SD_FMT_U8) {
        const uint8_t *r = sd_image_row8(img, y);
        return (float)r[(size_t)x * img->c + (img->c == 1 ? 0 : ch)];
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

/* Tent-filter taps along one axis: output i samples position p0 + i*step with half-width a;
 * taps outside [0, n) are dropped (zero padding) but still count in the normalisation. */
typedef struct Taps {
    int *start, *cnt;
    float *wt;    /* S * maxt */
    int maxt;
} Taps;

static int taps_make(Taps *t, int S, double p0, double step, int n)
{
    const double a = step > 1.0 ? step : 1.0;
    t->maxt = (int)ceil(2.0 * a) + 2;
    t->start = malloc(sizeof(int) * (size_t)S);
    t->cnt = malloc(sizeof(int) * (size_t)S);
    t->wt = sd_calloc_checked((size_t)S * (size_t)t->maxt, sizeof(float));
    if (!t->start || !t->cnt || !t->wt)
        return SD_ENOMEM;
    for (int i = 0; i < S; i++) {
        const double p = p0 + i * step;
        const long ja = (long)floor(p - a) + 1, jb = (long)ceil(p + a) - 1;
        double sum = 0.0;
        for (long j = ja; j <= jb; j++)
            sum += fmax(0.0, 1.0 - fabs((double)j - p) / a);
        int s = -1, k = 0;
        for (long j = ja; j <= jb && k < t->maxt; j++) {
            const double wgt = fmax(0.0, 1.0 - fabs((double)j - p) / a);
            if (j < 0 || j >= n || wgt <= 0.0)
                continue;
            if (s < 0)
                s = (int)j;
            /* keep taps contiguous from s: fill skipped zero weights */
            while (s + k < j && k < t->maxt)
                t->wt[(size_t)i * t->maxt + k++] = 0.0f;
            if (k < t->maxt)
                t->wt[(size_t)i * t->maxt + k++] = (float)(wgt / sum);
        }
        t->start[i] = s < 0 ? 0 : s;
        t->cnt[i] = s < 0 ? 0 : k;
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
                    const float mean[3], int round8)
{
    const double step = L / S;
    Taps tx = {0}, ty = {0};
    float *acc = NULL;
    int err = SD_ENOMEM;
    if (taps_make(&tx, S, X0, step, img->w) || taps_make(&ty, S, Y0, step, img->h))
        goto fail;
    /* Columns any output touches. */
    int xa = img->w, xb = 0;
    for (int i = 0; i < S; i++)
        if (tx.cnt[i]) {
            if (tx.start[i] < xa) xa = tx.start[i];
            if (tx.start[i] + tx.cnt[i] > xb) xb = tx.start[i] + tx.cnt[i];
        }
    const int nx = xb > xa ? xb - xa : 0;
    acc = sd_calloc_checked((size_t)3 * (size_t)(nx > 0 ? nx : 1), sizeof(float));
    if (!acc)
        goto fail;
    for (int r = 0; r < S; r++) {
        memset(acc, 0, sizeof(float) * 3 * (size_t)(nx > 0 ? nx : 1));
        for (int k = 0; k < ty.cnt[r]; k++) {
            const float wgt = ty.wt[(size_t)r * ty.maxt + k];
            const int y = ty.start[r] + k;
            if (wgt == 0.0f)
                continue;
            for (int ch = 0; ch < 3; ch++) {
                float *a = acc + (size_t)ch * nx;
                if (img->fmt == SD_FMT_U8) {
                    const uint8_t *row = sd_image_row8(img, y);
                    const int cc = img->c == 1 ? 0 : ch, st = img->c;
                    for (int x = 0; x < nx; x++)
                        a[x] += wgt * (float)row[(size_t)(xa + x) * st + cc];
                } else {
                    const float *row = sd_image_rowf(img, img->c == 1 ? 0 : ch, y) + xa;
                    if (round8)
                        for (int x = 0; x < nx; x++)
                            a[x] += wgt * nearbyintf(row[x] * 255.0f);
                    else
                        for (int x = 0; x < nx; x++)
                            a[x] += wgt * (row[x] * 255.0f);
                }
            }
        }
        for (int c = 0; c < S; c++) {
            float v[3] = {0, 0, 0};
            for (int k = 0; k < tx.cnt[c]; k++) {
                const float wgt = tx.wt[(size_t)c * tx.maxt + k];
                const int x = tx.start[c] + k - xa;
                for (int ch = 0; ch < 3; ch++)
                    v[ch] += wgt * acc[(size_t)ch * nx + x];
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
    return err;
}

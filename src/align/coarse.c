/* Coarse registration without landmarks (`--roi whole`): rotation and scale from the phase
 * correlation of log-polar magnitude spectra (Fourier-Mellin; Reddy & Chatterji 1996), then the
 * shift by phase correlation, on a pyramid level of <= 256 px. Small FFTs (2^k, double): a few ms,
 * so they stay here rather than in kernels/. ECC refines the result. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "skindelta/align.h"
#include "src/align/align_int.h"
#include "src/core/core.h"

#define PI 3.14159265358979323846

/* In-place radix-2 complex FFT of n (power of two) points; sign -1 forward, +1 inverse (unscaled). */
static void fft1(double *re, double *im, int n, int sign)
{
    for (int i = 1, j = 0; i < n; i++) {
        int bit = n >> 1;
        for (; j & bit; bit >>= 1) j ^= bit;
        j ^= bit;
        if (i < j) {
            double t = re[i]; re[i] = re[j]; re[j] = t;
            t = im[i]; im[i] = im[j]; im[j] = t;
        }
    }
    for (int len = 2; len <= n; len <<= 1) {
        const double ang = sign * 2.0 * PI / len;
        const double wr = cos(ang), wi = sin(ang);
        for (int i = 0; i < n; i += len) {
            double cr = 1, ci = 0;
            for (int k = 0; k < len / 2; k++) {
                const int a = i + k, b = i + k + len / 2;
                const double xr = re[b] * cr - im[b] * ci, xi = re[b] * ci + im[b] * cr;
                re[b] = re[a] - xr; im[b] = im[a] - xi;
                re[a] += xr; im[a] += xi;
                const double t = cr * wr - ci * wi;
                ci = cr * wi + ci * wr;
                cr = t;
            }
        }
    }
}

/* 2-D FFT of a h x w (powers of two) row-major complex array. */
static int fft2(double *re, double *im, int w, int h, int sign)
{
    for (int y = 0; y < h; y++) fft1(re + (size_t)y * w, im + (size_t)y * w, w, sign);
    double *cr = malloc(sizeof(double) * 2 * (size_t)h);
    if (!cr) return SD_ENOMEM;
    double *ci = cr + h;
    for (int x = 0; x < w; x++) {
        for (int y = 0; y < h; y++) { cr[y] = re[(size_t)y * w + x]; ci[y] = im[(size_t)y * w + x]; }
        fft1(cr, ci, h, sign);
        for (int y = 0; y < h; y++) { re[(size_t)y * w + x] = cr[y]; im[(size_t)y * w + x] = ci[y]; }
    }
    free(cr);
    return 0;
}

/* Phase correlation: d such that b(x) ~ a(x - d), sub-pixel (parabola), wrapped to +-n/2.
 * a and b are h x w real arrays (re parts), destroyed. peak gets the normalised peak height. */
static int phase_corr(double *ar, double *ai, double *br, double *bi, int w, int h,
                      double *dx, double *dy, double *peak)
{
    int err;
    memset(ai, 0, sizeof(double) * (size_t)w * h);
    memset(bi, 0, sizeof(double) * (size_t)w * h);
    if ((err = fft2(ar, ai, w, h, -1)) || (err = fft2(br, bi, w, h, -1))) return err;
    const size_t n = (size_t)w * h;
    for (size_t i = 0; i < n; i++) {   /* B conj(A) / |.| */
        const double r = br[i] * ar[i] + bi[i] * ai[i], m = bi[i] * ar[i] - br[i] * ai[i];
        const double mag = hypot(r, m);
        ar[i] = mag > 1e-12 ? r / mag : 0;
        ai[i] = mag > 1e-12 ? m / mag : 0;
    }
    if ((err = fft2(ar, ai, w, h, +1))) return err;
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (ar[i] > ar[best]) best = i;
    const int px = (int)(best % (size_t)w), py = (int)(best / (size_t)w);
    const double c = ar[best];
    const double l = ar[(size_t)py * w + (px + w - 1) % w], r = ar[(size_t)py * w + (px + 1) % w];
    const double u = ar[(size_t)((py + h - 1) % h) * w + px], d = ar[(size_t)((py + 1) % h) * w + px];
    double ox = 0, oy = 0;
    if (2 * c - l - r > 0) ox = 0.5 * (r - l) / (2 * c - l - r);
    if (2 * c - u - d > 0) oy = 0.5 * (d - u) / (2 * c - u - d);
    double fx = px + ox, fy = py + oy;
    if (fx > w / 2) fx -= w;
    if (fy > h / 2) fy -= h;
    *dx = fx;
    *dy = fy;
    if (peak) *peak = c / (double)n;
    return 0;
}

/* Mean-free, windowed copy of plane 0 of img centred in an n x n array. */
static void load_windowed(const SdImage *img, int n, double *out)
{
    memset(out, 0, sizeof(double) * (size_t)n * n);
    const int ox = (n - img->w) / 2, oy = (n - img->h) / 2;
    double s = 0;
    for (int y = 0; y < img->h; y++) {
        const float *r = sd_image_rowf(img, 0, y);
        for (int x = 0; x < img->w; x++) s += r[x];
    }
    const double m = s / ((double)img->w * img->h);
    for (int y = 0; y < img->h; y++) {
        const float *r = sd_image_rowf(img, 0, y);
        const double wy = 0.5 - 0.5 * cos(2 * PI * (y + 0.5) / img->h);
        for (int x = 0; x < img->w; x++) {
            const double wx = 0.5 - 0.5 * cos(2 * PI * (x + 0.5) / img->w);
            out[(size_t)(y + oy) * n + x + ox] = (r[x] - m) * wx * wy;
        }
    }
}

/* High-passed log magnitude spectrum, centred (DC at n/2, n/2). */
static int log_spectrum(double *re, double *im, int n, double *mag)
{
    memset(im, 0, sizeof(double) * (size_t)n * n);
    int err = fft2(re, im, n, n, -1);
    if (err) return err;
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            const int sx = (x + n / 2) % n, sy = (y + n / 2) % n;
            const double fx = (double)(x - n / 2) / n, fy = (double)(y - n / 2) / n;
            const double X = cos(PI * fx) * cos(PI * fy);
            const size_t i = (size_t)sy * n + sx;
            mag[(size_t)y * n + x] = (1.0 - X) * (2.0 - X) * log1p(hypot(re[i], im[i]));
        }
    return 0;
}

#define NTH 256   /* angle bins over [0, pi) */
#define NRH 128   /* log-radius bins */

static void log_polar(const double *mag, int n, double rmin, double rmax, double *lp)
{
    const double c = n / 2, lstep = log(rmax / rmin) / NRH;
    for (int t = 0; t < NTH; t++) {
        const double th = PI * t / NTH, ct = cos(th), st = sin(th);
        for (int k = 0; k < NRH; k++) {
            const double r = rmin * exp(k * lstep);
            const double x = c + r * ct, y = c + r * st;
            const int x0 = (int)floor(x), y0 = (int)floor(y);
            const double fx = x - x0, fy = y - y0;
            double v = 0;
            if (x0 >= 0 && y0 >= 0 && x0 + 1 < n && y0 + 1 < n) {
                const double *a = mag + (size_t)y0 * n + x0;
                v = (1 - fy) * ((1 - fx) * a[0] + fx * a[1]) + fy * ((1 - fx) * a[n] + fx * a[n + 1]);
            }
            lp[(size_t)t * NRH + k] = v;
        }
    }
}

int sd_align_coarse(SdCtx *ctx, const SdImage *tmpl, const SdImage *input, SdTransform *W)
{
    if (tmpl->w != input->w || tmpl->h != input->h)
        return sd_fail(ctx, SD_EINVAL, "coarse: size mismatch");
    SdAlignDSP d;
    sd__align_dsp_init(&d, ctx->cpu_flags);
    SdImage a = {0}, b = {0}, t = {0}, bw = {0};
    double *buf = NULL;
    int err = 0, lev = 0;
    const int cap = 256;
    if ((err = sd_image_copy(tmpl, &a)) || (err = sd_image_copy(input, &b))) goto fail;
    a.c = b.c = 1;
    while (a.w > cap || a.h > cap) {
        if ((err = sd__px_down2(&d, &a, &t))) goto fail;
        sd_image_free(&a); a = t; memset(&t, 0, sizeof(t));
        if ((err = sd__px_down2(&d, &b, &t))) goto fail;
        sd_image_free(&b); b = t; memset(&t, 0, sizeof(t));
        lev++;
    }
    int n = 16;
    while (n < a.w || n < a.h) n *= 2;
    const size_t nn = (size_t)n * n, nl = (size_t)NTH * NRH;
    buf = sd_calloc_checked(6 * nn + 4 * nl, sizeof(double));
    if (!buf) { err = SD_ENOMEM; goto fail; }
    double *r1 = buf, *i1 = r1 + nn, *r2 = i1 + nn, *i2 = r2 + nn, *m1 = i2 + nn, *m2 = m1 + nn;
    double *l1 = m2 + nn, *l2 = l1 + nl, *l1i = l2 + nl, *l2i = l1i + nl;
    /* 1. rotation + scale */
    load_windowed(&a, n, r1);
    load_windowed(&b, n, r2);
    if ((err = log_spectrum(r1, i1, n, m1)) || (err = log_spectrum(r2, i2, n, m2))) goto fail;
    const double rmin = 2.0, rmax = 0.45 * n;
    log_polar(m1, n, rmin, rmax, l1);
    log_polar(m2, n, rmin, rmax, l2);
    double dr, dt;
    if ((err = phase_corr(l1, l1i, l2, l2i, NRH, NTH, &dr, &dt, NULL))) goto fail;
    const double theta = dt * PI / NTH;
    const double scale = exp(-dr * log(rmax / rmin) / NRH);
    /* 2. shift, after undoing rotation/scale about the centre: input(Wrs x) ~ tmpl(x - d) */
    const double cx = 0.5 * (a.w - 1), cy = 0.5 * (a.h - 1);
    const double c = scale * cos(theta), s = scale * sin(theta);
    SdTransform Wrs;
    sd_transform_identity(&Wrs);
    Wrs.m[0] = c; Wrs.m[1] = -s; Wrs.m[2] = cx - c * cx + s * cy;
    Wrs.m[3] = s; Wrs.m[4] = c;  Wrs.m[5] = cy - s * cx - c * cy;
    if ((err = sd_image_create(&bw, b.w, b.h, 1, SD_FMT_F32))) goto fail;
    {
        /* fill outside with the mean so the border adds no edge */
        double sm = 0;
        for (int y = 0; y < b.h; y++) {
            const float *rr = sd_image_rowf(&b, 0, y);
            for (int x = 0; x < b.w; x++) sm += rr[x];
        }
        sd__px_warp(&d, &bw, NULL, &b, Wrs.m, (float)(sm / ((double)b.w * b.h)), 0, b.h);
    }
    load_windowed(&a, n, r1);
    load_windowed(&bw, n, r2);
    double sx, sy;
    if ((err = phase_corr(r1, i1, r2, i2, n, n, &sx, &sy, NULL))) goto fail;
    SdTransform Tr, Wl, S, Si, tt;
    sd_transform_identity(&Tr);
    Tr.m[2] = sx; Tr.m[5] = sy;
    sd_transform_mul(&Wrs, &Tr, &Wl);
    /* level -> level 0: x_l = (x_0 + 0.5)/2^l - 0.5 */
    const double f = ldexp(1.0, -lev), cc = 0.5 * f - 0.5;
    sd_transform_identity(&S);
    S.m[0] = S.m[4] = f; S.m[2] = S.m[5] = cc;
    sd_transform_identity(&Si);
    Si.m[0] = Si.m[4] = 1 / f; Si.m[2] = Si.m[5] = -cc / f;
    sd_transform_mul(&Si, &Wl, &tt);
    sd_transform_mul(&tt, &S, W);
fail:
    free(buf);
    sd_image_free(&a);
    sd_image_free(&b);
    sd_image_free(&t);
    sd_image_free(&bw);
    if (err) return sd_fail(ctx, err, "coarse registration: %s", sd_strerror(err));
    return 0;
}

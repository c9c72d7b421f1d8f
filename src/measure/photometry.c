/* Exposure / white balance of a registered follow-up relative to its baseline, from reference
 * areas only (sclera, background outside the face, or a colour chart), applied in linear RGB.
 * Treated skin never enters the estimate (DESIGN.md §3). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "skindelta/photometry.h"
#include "skindelta/regions.h"
#include "src/align/align_int.h"
#include "src/core/core.h"
#include "kernels/ops.h"
#include "kernels/tone.h"

void sd_photo_opts_default(SdPhotoOpts *o)
{
    memset(o, 0, sizeof(*o));
    o->mode = SD_PHOTO_REFERENCE;
    o->max_gain = 2.0;
}

int sd_photo_mode_parse(const char *s)
{
    if (!s) return -1;
    if (!strcmp(s, "none")) return SD_PHOTO_NONE;
    if (!strcmp(s, "reference")) return SD_PHOTO_REFERENCE;
    if (!strcmp(s, "chart")) return SD_PHOTO_CHART;
    return -1;
}

/* ---- CIEDE2000 (Sharma, Wu & Dalal 2005) */
double sd_de2000(const double l1[3], const double l2[3])
{
    const double PI = 3.14159265358979323846, d2r = PI / 180;
    const double C1 = hypot(l1[1], l1[2]), C2 = hypot(l2[1], l2[2]), Cb = 0.5 * (C1 + C2);
    const double Cb7 = pow(Cb, 7), G = 0.5 * (1 - sqrt(Cb7 / (Cb7 + pow(25.0, 7))));
    const double a1 = (1 + G) * l1[1], a2 = (1 + G) * l2[1];
    const double c1 = hypot(a1, l1[2]), c2 = hypot(a2, l2[2]);
    double h1 = (a1 == 0 && l1[2] == 0) ? 0 : atan2(l1[2], a1) / d2r;
    double h2 = (a2 == 0 && l2[2] == 0) ? 0 : atan2(l2[2], a2) / d2r;
    if (h1 < 0) h1 += 360;
    if (h2 < 0) h2 += 360;
    const double dL = l2[0] - l1[0], dC = c2 - c1;
    double dh = 0;
    if (c1 * c2 != 0) {
        dh = h2 - h1;
        if (dh > 180) dh -= 360;
        else if (dh < -180) dh += 360;
    }
    const double dH = 2 * sqrt(c1 * c2) * sin(dh * d2r / 2);
    const double Lb = 0.5 * (l1[0] + l2[0]), cb = 0.5 * (c1 + c2);
    double hb = h1 + h2;
    if (c1 * c2 != 0) {
        if (fabs(h1 - h2) <= 180) hb = 0.5 * (h1 + h2);
        else hb = h1 + h2 < 360 ? 0.5 * (h1 + h2 + 360) : 0.5 * (h1 + h2 - 360);
    }
    const double T = 1 - 0.17 * cos((hb - 30) * d2r) + 0.24 * cos(2 * hb * d2r) +
                     0.32 * cos((3 * hb + 6) * d2r) - 0.20 * cos((4 * hb - 63) * d2r);
    const double dth = 30 * exp(-((hb - 275) / 25) * ((hb - 275) / 25));
    const double cb7 = pow(cb, 7), Rc = 2 * sqrt(cb7 / (cb7 + pow(25.0, 7)));
    const double Sl = 1 + 0.015 * (Lb - 50) * (Lb - 50) / sqrt(20 + (Lb - 50) * (Lb - 50));
    const double Sc = 1 + 0.045 * cb, Sh = 1 + 0.015 * cb * T;
    const double Rt = -sin(2 * dth * d2r) * Rc;
    const double x = dL / Sl, y = dC / Sc, z = dH / Sh;
    return sqrt(x * x + y * y + z * z + Rt * y * z);
}

static void lin_to_lab(const double rgb[3], double lab[3])
{
    const double X = (0.4124564 * rgb[0] + 0.3575761 * rgb[1] + 0.1804375 * rgb[2]) / 0.95047;
    const double Y = 0.2126729 * rgb[0] + 0.7151522 * rgb[1] + 0.0721750 * rgb[2];
    const double Z = (0.0193339 * rgb[0] + 0.1191920 * rgb[1] + 0.9503041 * rgb[2]) / 1.08883;
    const double e = 216.0 / 24389, k = 24389.0 / 27;
    const double fx = X > e ? cbrt(X) : (k * X + 16) / 116, fy = Y > e ? cbrt(Y) : (k * Y + 16) / 116,
                 fz = Z > e ? cbrt(Z) : (k * Z + 16) / 116;
    lab[0] = 116 * fy - 16;
    lab[1] = 500 * (fx - fy);
    lab[2] = 200 * (fy - fz);
}

/* ---- reference masks */

static void eye_centre(const SdLandmarks *lm, int first, double *x, double *y)
{
    *x = *y = 0;
    for (int i = first; i < first + 6; i++) { *x += lm->pt[i].x / 6; *y += lm->pt[i].y / 6; }
}

/* Sclera: inside the eye outlines, bright (top 40% of the eye's luma in BOTH images), not clipped,
 * low saturation. Background: valid in both, beyond 0.35 IOD outside the face outline, away
 * from clipping, in the upper half of the frame (above the shoulders). */
static long reference_mask(const SdAligned *b, const SdAligned *f, SdMask *m, int *kinds)
{
    const int w = b->img.w, h = b->img.h;
    *kinds = 0;
    if (sd_mask_create(m, w, h)) return -1;
    double lx, ly, rx, ry;
    eye_centre(&b->lm, 36, &lx, &ly);
    eye_centre(&b->lm, 42, &rx, &ry);
    const double iod = hypot(rx - lx, ry - ly);
    long n_scl = 0, n_bg = 0;
    SdMask eye = {0};
    if (sd_mask_create(&eye, w, h)) return -1;
    for (int e = 36; e <= 42; e += 6) {
        SdPoint p[6];
        for (int i = 0; i < 6; i++) p[i] = b->lm.pt[e + i];
        sd__mask_fill_poly(&eye, p, 6, 1);
    }
    /* per-image luma threshold: 60th percentile inside the eyes */
    float thr[2] = { 1, 1 };
    const SdAligned *im[2] = { b, f };
    for (int k = 0; k < 2; k++) {
        long hist[256] = {0}, cnt = 0;
        for (int y = 0; y < h; y++) {
            const uint8_t *em = eye.data + (size_t)y * eye.stride;
            for (int x = 0; x < w; x++) {
                if (!em[x]) continue;
                const float l = (sd_image_rowf(&im[k]->img, 0, y)[x] + sd_image_rowf(&im[k]->img, 1, y)[x] +
                                 sd_image_rowf(&im[k]->img, 2, y)[x]) / 3;
                hist[(int)fminf(255, fmaxf(0, l * 255))]++;
                cnt++;
            }
        }
        long acc = 0;
        int bin = 0;
        while (bin < 255 && (acc += hist[bin]) < cnt * 6 / 10) bin++;
        thr[k] = (bin + 0.5f) / 255;
    }
    SdMask face = {0};
    if (sd_regions_skin_geom(&b->lm, iod, w, h, &face) == 0) {
        /* fill the holes: the face outline only, grown by 0.35 IOD */
        int err = 0;
        for (int y = 0; y < h && !err; y++) {
            uint8_t *r = face.data + (size_t)y * face.stride;
            for (int x = 0; x < w; x++) r[x] = !r[x];   /* invert: background candidates */
        }
        err = sd__mask_erode_ex(&face, (int)lround(0.35 * iod), 1);   /* grows the face */
        (void)err;
    }
    for (int y = 0; y < h; y++) {
        const uint8_t *em = eye.data + (size_t)y * eye.stride;
        const uint8_t *bv = b->valid.data + (size_t)y * b->valid.stride;
        const uint8_t *fv = f->valid.data + (size_t)y * f->valid.stride;
        const uint8_t *bg = face.data ? face.data + (size_t)y * face.stride : NULL;
        uint8_t *o = m->data + (size_t)y * m->stride;
        for (int x = 0; x < w; x++) {
            if (!bv[x] || !fv[x]) continue;
            float v[2][3];
            int clip = 0;
            for (int k = 0; k < 2; k++)
                for (int c = 0; c < 3; c++) {
                    v[k][c] = sd_image_rowf(&im[k]->img, c, y)[x];
                    clip |= v[k][c] >= 0.98f || v[k][c] <= 0.02f;
                }
            if (clip) continue;
            if (em[x]) {
                int ok = 1;
                for (int k = 0; k < 2; k++) {
                    const float l = (v[k][0] + v[k][1] + v[k][2]) / 3;
                    const float mx = fmaxf(v[k][0], fmaxf(v[k][1], v[k][2]));
                    const float mn = fminf(v[k][0], fminf(v[k][1], v[k][2]));
                    if (l < thr[k] || (mx - mn) > 0.35f * mx) ok = 0;
                }
                if (ok) { o[x] = 1; n_scl++; }
            } else if (bg && bg[x] && y < 0.5 * h) {
                o[x] = 2;
                n_bg++;
            }
        }
    }
    sd_mask_free(&eye);
    sd_mask_free(&face);
    /* Sclera only where the photos resolve it: an eye a few photo px wide is a blend of sclera,
     * iris and lids, and its brightest pixels depend on each photo's sharpness. */
    const double photo_iod = fmin(iod / b->scale, iod / f->scale);
    *kinds = (n_scl >= 30 && photo_iod >= 120 ? 1 : 0) | (n_bg >= 500 ? 2 : 0);
    return n_scl + n_bg;
}

static int cmp_float(const void *a, const void *b)
{
    const float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* The reference pixels of kind k (mask value k + 1) both estimators read: every step-th in raster
 * order, step = count / 100000 + 1, so at most ~100k. *pos (malloc'ed) gets x, y pairs; returns
 * how many, 0 when the kind has fewer than min_count pixels, -1 when out of memory. */
static long kind_sample(const SdMask *m, int k, long min_count, int **pos)
{
    *pos = NULL;
    long cnt = 0;
    for (int y = 0; y < m->h; y++) {
        const uint8_t *o = m->data + (size_t)y * m->stride;
        for (int x = 0; x < m->w; x++) cnt += o[x] == k + 1;
    }
    if (cnt < min_count || cnt < 1) return 0;
    const long step = cnt / 100000 + 1;
    const size_t cap = (size_t)(cnt / step + 1);
    int *p = sd_calloc_checked(2 * cap, sizeof(int));
    if (!p) return -1;
    size_t n = 0;
    long seen = 0;
    for (int y = 0; y < m->h; y++) {
        const uint8_t *o = m->data + (size_t)y * m->stride;
        for (int x = 0; x < m->w; x++) {
            if (o[x] != k + 1 || (seen++ % step) || n >= cap) continue;
            p[2 * n] = x;
            p[2 * n + 1] = y;
            n++;
        }
    }
    *pos = p;
    return (long)n;
}

/* Per-channel gain: median over reference pixels of the log ratio base / follow-up in linear RGB
 * (robust to residual misregistration at edges and to blends with fill), per kind; kinds
 * weighted equally. Pixels are subsampled to at most ~100k per kind. */
static int reference_gains(const SdAligned *b, const SdAligned *f, const SdMask *m, int kinds, double g[3],
                           double per_kind[2][3])
{
    int used = 0;
    double lg[3] = {0};
    for (int k = 0; k < 2; k++) {
        if (!(kinds & (1 << k))) continue;
        int *pos;
        const long n = kind_sample(m, k, 1, &pos);
        if (n < 0) return -1;
        if (!n) continue;
        float *r = sd_calloc_checked(3 * (size_t)n, sizeof(float));
        if (!r) { free(pos); return -1; }
        for (long i = 0; i < n; i++) {
            const int x = pos[2 * i], y = pos[2 * i + 1];
            for (int c = 0; c < 3; c++)
                r[c * n + i] = (float)log(sd_srgb_decode(sd_image_rowf(&b->img, c, y)[x]) /
                                          sd_srgb_decode(sd_image_rowf(&f->img, c, y)[x]));
        }
        for (int c = 0; c < 3; c++) {
            qsort(r + c * n, (size_t)n, sizeof(float), cmp_float);
            lg[c] += r[c * n + n / 2];
            per_kind[k][c] = exp(r[c * n + n / 2]);
        }
        free(r);
        free(pos);
        used++;
    }
    if (!used) return -1;
    for (int c = 0; c < 3; c++) g[c] = exp(lg[c] / used);
    return 0;
}

/* Tone curve from two reference kinds of different brightness (sclera and background): per
 * channel and kind the medians of the log ENCODED values in base and follow-up (a camera's tone
 * curve acts on encoded values: there a gamma change is a pure power); the line through the two
 * (log f = a + gamma log b) gives the follow-up's exponent and gain. Medians keep it robust to
 * misregistered edges. Returns -1 when the kinds are too close in brightness (RMS over the channels
 * of their log ratio < 0.15 in encoded values, about a factor 1.4 in linear light) for the slope
 * to be trusted. */
static int reference_tone(const SdAligned *b, const SdAligned *f, const SdMask *m, double a[3],
                          double gam[3])
{
    double med[2][2][3];   /* [kind][image][channel] */
    for (int k = 0; k < 2; k++) {
        int *pos;
        const long n = kind_sample(m, k, 30, &pos);
        if (n <= 0) return -1;
        float *v = sd_calloc_checked(6 * (size_t)n, sizeof(float));
        if (!v) { free(pos); return -1; }
        for (long i = 0; i < n; i++) {
            const int x = pos[2 * i], y = pos[2 * i + 1];
            for (int c = 0; c < 3; c++) {
                v[(0 * 3 + c) * n + i] = (float)log(sd_image_rowf(&b->img, c, y)[x]);
                v[(1 * 3 + c) * n + i] = (float)log(sd_image_rowf(&f->img, c, y)[x]);
            }
        }
        for (int i = 0; i < 6; i++) {
            qsort(v + (size_t)i * n, (size_t)n, sizeof(float), cmp_float);
            med[k][i / 3][i % 3] = v[(size_t)i * n + n / 2];
        }
        free(v);
        free(pos);
    }
    /* One exponent for the three channels (a camera's tone curve is shared; per-channel slopes
     * differ by estimation noise, and those differences would tint the chromophore maps): the
     * least-squares slope through the three channels' (db, df) pairs, which weights each channel
     * by its brightness spread; then per-channel gains through both kinds' medians. */
    double sdd = 0, sdf = 0;
    for (int c = 0; c < 3; c++) {
        const double db = med[0][0][c] - med[1][0][c], df = med[0][1][c] - med[1][1][c];
        sdd += db * db;
        sdf += db * df;
    }
    if (sqrt(sdd / 3) < 0.15) return -1;
    const double g = sdf / sdd;
    for (int c = 0; c < 3; c++) {
        gam[c] = g;
        const double as = med[0][1][c] - g * med[0][0][c], ab = med[1][1][c] - g * med[1][0][c];
        /* one shared exponent must explain both kinds in every channel; when it does not (the
         * background itself changed: another wall, other light), the tone model does not hold */
        if (fabs(as - ab) > 0.04) return -1;
        a[c] = 0.5 * (as + ab);
    }
    return 0;
}

/* Apply log e' = (log e - a) / gamma per channel to the encoded follow-up values e, through a
 * 4096-entry table per channel (the map is smooth and monotone on 0..1). */
static void apply_tone(SdAligned *f, const double a[3], const double gam[3])
{
    enum { N = 4096 };
    static float lut[3][N + 1];
    float (*L)[N + 1] = malloc(sizeof(lut));
    if (!L) return;
    for (int c = 0; c < 3; c++)
        for (int i = 0; i <= N; i++) {
            const double e = (double)i / N;
            const double out = e > 0 ? exp((log(e) - a[c]) / gam[c]) : 0;
            L[c][i] = (float)(out < 0 ? 0 : out > 1 ? 1 : out);
        }
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < f->img.h; y++) {
            float *r = sd_image_rowf(&f->img, c, y);
            for (int x = 0; x < f->img.w; x++) {
                float t = r[x] * N;
                t = t < 0 ? 0 : t > N ? N : t;
                const int i = (int)t < N ? (int)t : N - 1;
                const float w = t - i;
                r[x] = L[c][i] + w * (L[c][i + 1] - L[c][i]);
            }
        }
    free(L);
}

/* Chart: mean linear RGB of the central half of each of the 24 patches. */
static int chart_patches(const SdAligned *a, const double r[4], double out[24][3])
{
    const double pw = r[2] / 6, ph = r[3] / 4;
    for (int j = 0; j < 4; j++)
        for (int i = 0; i < 6; i++) {
            const int x0 = (int)lround(r[0] + (i + 0.25) * pw), x1 = (int)lround(r[0] + (i + 0.75) * pw);
            const int y0 = (int)lround(r[1] + (j + 0.25) * ph), y1 = (int)lround(r[1] + (j + 0.75) * ph);
            double s[3] = {0};
            long n = 0;
            for (int y = y0; y < y1; y++)
                for (int x = x0; x < x1; x++) {
                    if (x < 0 || y < 0 || x >= a->img.w || y >= a->img.h) return -1;
                    if (!a->valid.data[(size_t)y * a->valid.stride + x]) return -1;
                    for (int c = 0; c < 3; c++) s[c] += sd_srgb_decode(sd_image_rowf(&a->img, c, y)[x]);
                    n++;
                }
            if (!n) return -1;
            for (int c = 0; c < 3; c++) out[j * 6 + i][c] = s[c] / n;
        }
    return 0;
}

/* Least squares M (3x3) with M f ~ b over 24 patches: normal equations per output channel. */
static int fit_matrix(double f[24][3], double b[24][3], double M[9])
{
    double A[9] = {0};
    for (int p = 0; p < 24; p++)
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) A[i * 3 + j] += f[p][i] * f[p][j];
    SdTransform a, ai;
    memcpy(a.m, A, sizeof(A));
    if (sd_transform_invert(&a, &ai)) return -1;
    for (int c = 0; c < 3; c++) {
        double rhs[3] = {0};
        for (int p = 0; p < 24; p++)
            for (int i = 0; i < 3; i++) rhs[i] += f[p][i] * b[p][c];
        for (int j = 0; j < 3; j++)
            M[c * 3 + j] = ai.m[j * 3] * rhs[0] + ai.m[j * 3 + 1] * rhs[1] + ai.m[j * 3 + 2] * rhs[2];
    }
    return 0;
}

static int apply_matrix(SdCtx *ctx, SdAligned *f, const double M[9])
{
    SdToneDSP t;
    sd_tone_dsp_init(&t, ctx->cpu_flags);
    float m[9];
    for (int i = 0; i < 9; i++) m[i] = (float)M[i];
    for (int y = 0; y < f->img.h; y++) {
        float *p[3] = { sd_image_rowf(&f->img, 0, y), sd_image_rowf(&f->img, 1, y), sd_image_rowf(&f->img, 2, y) };
        t.mat3_srgb(p, f->img.w, m);
    }
    return 0;
}

int sd_photometry_correct(SdCtx *ctx, const SdAligned *base, SdAligned *fu, const SdPhotoOpts *opts,
                          SdPhotometry *ph)
{
    SdPhotoOpts o;
    sd_photo_opts_default(&o);
    if (opts) o = *opts;
    if (!(o.max_gain > 1)) o.max_gain = 2;
    memset(ph, 0, sizeof(*ph));
    ph->mode = o.mode;
    ph->gain[0] = ph->gain[1] = ph->gain[2] = 1;
    ph->gamma[0] = ph->gamma[1] = ph->gamma[2] = 1;
    ph->matrix[0] = ph->matrix[4] = ph->matrix[8] = 1;
    ph->de2000 = NAN;
    snprintf(ph->source, sizeof(ph->source), "none");
    if (!base || !fu || base->img.c < 3 || fu->img.c < 3 || base->img.w != fu->img.w || base->img.h != fu->img.h)
        return sd_fail(ctx, SD_EINVAL, "photometry: base and follow-up must be registered RGB images");
    if (o.mode == SD_PHOTO_NONE) {
        snprintf(ph->summary, sizeof(ph->summary), "none");
        return 0;
    }
    if (o.mode == SD_PHOTO_CHART) {
        double pb[24][3], pf[24][3], M[9];
        if (chart_patches(base, o.chart, pb) || chart_patches(fu, o.chart, pf))
            return sd_fail(ctx, SD_EINVAL, "photometry: chart rectangle %.0f,%.0f,%.0f,%.0f is not inside "
                           "the area both images cover", o.chart[0], o.chart[1], o.chart[2], o.chart[3]);
        if (fit_matrix(pf, pb, M))
            return sd_fail(ctx, SD_EINVAL, "photometry: chart patches are degenerate (no colour spread)");
        double de = 0;
        for (int p = 0; p < 24; p++) {
            double c[3], l1[3], l2[3];
            for (int i = 0; i < 3; i++)
                c[i] = M[i * 3] * pf[p][0] + M[i * 3 + 1] * pf[p][1] + M[i * 3 + 2] * pf[p][2];
            lin_to_lab(c, l1);
            lin_to_lab(pb[p], l2);
            de += sd_de2000(l1, l2) / 24;
        }
        memcpy(ph->matrix, M, sizeof(M));
        for (int c = 0; c < 3; c++) ph->gain[c] = M[c * 4];
        ph->de2000 = de;
        ph->n_ref = 24;
        snprintf(ph->source, sizeof(ph->source), "chart");
        snprintf(ph->summary, sizeof(ph->summary), "chart matrix, residual dE2000 %.2f", de);
        return apply_matrix(ctx, fu, M);
    }
    /* reference */
    if (base->roi_whole || !base->has_lm) {
        snprintf(ph->source, sizeof(ph->source), "none (no reference)");
        snprintf(ph->summary, sizeof(ph->summary), "reference: no landmarks, no reference area; not corrected");
        return 0;
    }
    SdMask m = {0};
    int kinds = 0;
    const long n = reference_mask(base, fu, &m, &kinds);
    if (n < 0) { sd_mask_free(&m); return sd_fail(ctx, SD_ENOMEM, "photometry: out of memory"); }
    double g[3], ta[3], tg[3], pk[2][3] = {{1, 1, 1}, {1, 1, 1}};
    int bad = !kinds || reference_gains(base, fu, &m, kinds, g, pk);
    /* With sclera and background (two brightness levels) the tone curve is estimated too: a
     * camera gamma change scales every log-contrast measure by gamma (texture, pigment) and moves
     * absolute wrinkle thresholds, so it must go before measuring (docs/METRICS.md, weaknesses). */
    int tone = !bad && kinds == 3 && reference_tone(base, fu, &m, ta, tg) == 0;
    for (int c = 0; c < 3 && tone; c++)
        if (!(tg[c] > 0.75 && tg[c] < 1.33)) tone = 0;
    /* A pure exposure change reads as an exponent within ~1.5% of 1 through sRGB's linear toe:
     * below 2.5% the plain gains (exact for exposure and white balance) are used. */
    if (tone && fabs(tg[0] - 1) < 0.025)
        tone = 0;
    /* Without a tone curve that explains both, sclera and background must agree on the gains:
     * when they differ by more than 15% in a channel, one of them changed by itself (most often
     * the background: another wall, other light), and the sclera, lit like the face, is kept
     * alone. */
    int disagree = 0;
    if (!bad && !tone && kinds == 3)
        for (int c = 0; c < 3; c++)
            if (fabs(log(pk[0][c] / pk[1][c])) > log(1.15)) disagree = 1;
    if (disagree) {
        kinds = 1;
        for (int c = 0; c < 3; c++) g[c] = pk[0][c];
    }
    sd_mask_free(&m);
    if (bad || g[0] > o.max_gain || g[1] > o.max_gain || g[2] > o.max_gain ||
        g[0] < 1 / o.max_gain || g[1] < 1 / o.max_gain || g[2] < 1 / o.max_gain) {
        snprintf(ph->source, sizeof(ph->source), "none (no reference)");
        snprintf(ph->summary, sizeof(ph->summary), bad ? "reference: too few sclera/background pixels; not corrected"
                 : "reference: implausible gains; not corrected");
        return 0;
    }
    snprintf(ph->source, sizeof(ph->source), "%s", kinds == 3 ? "sclera+background" : kinds == 1 ? "sclera" : "background");
    ph->n_ref = n;
    if (tone) {
        for (int c = 0; c < 3; c++) { ph->gamma[c] = tg[c]; ph->gain[c] = exp(-ta[c]); }
        ph->matrix[0] = ph->gain[0]; ph->matrix[4] = ph->gain[1]; ph->matrix[8] = ph->gain[2];
        snprintf(ph->summary, sizeof(ph->summary), "%s tone: gamma %.3f %.3f %.3f, gains %.4f %.4f %.4f",
                 ph->source, tg[0], tg[1], tg[2], ph->gain[0], ph->gain[1], ph->gain[2]);
        apply_tone(fu, ta, tg);
        return 0;
    }
    memcpy(ph->gain, g, sizeof(g));
    double M[9] = { g[0], 0, 0, 0, g[1], 0, 0, 0, g[2] };
    memcpy(ph->matrix, M, sizeof(M));
    snprintf(ph->summary, sizeof(ph->summary), "%s gains %.4f %.4f %.4f%s", ph->source, g[0], g[1], g[2],
             disagree ? " (background disagreed with the sclera: sclera only)" : "");
    return apply_matrix(ctx, fu, M);
}

int sd_photometry_apply(SdCtx *ctx, const SdAligned *base, SdAligned *fu, const char *mode,
                        SdPhotometry *ph)
{
    SdPhotoOpts o;
    sd_photo_opts_default(&o);
    const int m = sd_photo_mode_parse(mode ? mode : "reference");
    if (m < 0 || m == SD_PHOTO_CHART)
        return sd_fail(ctx, SD_EINVAL, "photometry: mode '%s' (use none|reference, or the chart options)",
                       mode ? mode : "");
    o.mode = (SdPhotoMode)m;
    return sd_photometry_correct(ctx, base, fu, &o, ph);
}

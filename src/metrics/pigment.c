/* Pigmentation: optical density -> melanin / haemoglobin / shading by a fixed chromophore
 * decomposition (Tsumura et al. 2003 style), band-passed maps, spots, ITA. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/ops.h"
#include "kernels/skinmap.h"
#include "src/metrics/metrics_int.h"
#include "src/core/core.h"

/* Relative optical-density spectra in the sRGB camera bands (R, G, B), decadic, per unit
 * concentration; copied in models/chromophores.json (a test keeps the two equal). Melanin absorbs
 * more towards blue; haemoglobin peaks in green (the 540-580 nm Q bands) and is weak in red.
 * Shading (geometry, exposure) is the flat direction (1,1,1). */
static const double chrom_mel[3] = { 0.35, 0.62, 1.00 };
static const double chrom_hb[3]  = { 0.12, 1.00, 0.55 };

void sd_metrics_chromophores(double mel[3], double hb[3])
{
    for (int c = 0; c < 3; c++) {
        mel[c] = chrom_mel[c];
        hb[c] = chrom_hb[c];
    }
}

static int invert3(const double a[9], double inv[9])
{
    double det = a[0] * (a[4] * a[8] - a[5] * a[7]) - a[1] * (a[3] * a[8] - a[5] * a[6]) +
                 a[2] * (a[3] * a[7] - a[4] * a[6]);
    if (fabs(det) < 1e-9)
        return SD_EINVAL;
    inv[0] = (a[4] * a[8] - a[5] * a[7]) / det;
    inv[1] = (a[2] * a[7] - a[1] * a[8]) / det;
    inv[2] = (a[1] * a[5] - a[2] * a[4]) / det;
    inv[3] = (a[5] * a[6] - a[3] * a[8]) / det;
    inv[4] = (a[0] * a[8] - a[2] * a[6]) / det;
    inv[5] = (a[2] * a[3] - a[0] * a[5]) / det;
    inv[6] = (a[3] * a[7] - a[4] * a[6]) / det;
    inv[7] = (a[1] * a[6] - a[0] * a[7]) / det;
    inv[8] = (a[0] * a[4] - a[1] * a[3]) / det;
    return 0;
}

/* Rows per band of the smoothing -> Lab -> ITA step (a multiple of 4: see sd_op_gauss_rows). */
#define SD_PG_BAND 16

/* Gaussian with sigma in px (see sd__mx_gauss). */
static int gauss_px(SdCtx *ctx, const SdMetricsState *st, const float *src, float *dst, double s)
{
    return sd__mx_gauss(ctx, st, src, dst, s);
}

/* Per-channel noise variance of the optical density, from the finest scale of the channel
 * DIFFERENCES: shading (relief, wrinkles, exposure) is the same in every channel and cancels,
 * chromophore maps are smooth at the pixel scale, independent sensor noise remains. The
 * second-difference mask [1 -2 1; -2 4 -2; 1 -2 1] has gain 36 on white-noise variance
 * (Immerkaer 1996); its robust spread (1.4826 MAD) resists edges. One pixel in 16 of the valid
 * area is sampled (staggered). q_ab = v_a + v_b gives v_R, v_G, v_B. */
static int od_noise(const SdMetricsState *st, float *const od[3], double v[3])
{
    static const int pa[3] = { 0, 1, 0 }, pb[3] = { 1, 2, 2 };
    long cap = (long)((st->w / 4 + 2)) * (long)((st->h / 4 + 2)), n = 0;
    float *buf = malloc(sizeof(float) * 3 * (size_t)cap);
    double q[3];
    if (!buf)
        return SD_ENOMEM;
    /* one sweep over the sampled rows for the three channel pairs (their planes' rows are read
     * once); pair k's samples go to buf + k cap in the same order as a sweep per pair */
    for (int y = 1; y + 1 < st->h; y += 4) {
        const uint8_t *vm = st->valid + (size_t)y * (size_t)st->ms;
        for (int k = 0; k < 3; k++) {
            const float *a[3], *b[3];
            float *out = buf + (size_t)k * (size_t)cap;
            long nk = n;
            for (int j = 0; j < 3; j++) {
                a[j] = sd__mx_row(st, od[pa[k]], y - 1 + j);
                b[j] = sd__mx_row(st, od[pb[k]], y - 1 + j);
            }
            for (int x = 1 + (y & 2); x + 1 < st->w; x += 4) {
                if (!vm[x])
                    continue;
#define D(j, i) (a[j][x + (i)] - b[j][x + (i)])
                float r = D(0, -1) - 2 * D(0, 0) + D(0, 1) - 2 * D(1, -1) + 4 * D(1, 0) - 2 * D(1, 1) +
                          D(2, -1) - 2 * D(2, 0) + D(2, 1);
#undef D
                out[nk++] = fabsf(r);
            }
            if (k == 2)
                n = nk;
        }
    }
    for (int k = 0; k < 3; k++) {
        double s = n > 16 ? 1.4826 * sd__mx_median(buf + (size_t)k * (size_t)cap, n) / 6.0 : 0.0;
        q[k] = s * s;
    }
    free(buf);
    v[0] = 0.5 * (q[0] + q[2] - q[1]);
    v[1] = 0.5 * (q[0] + q[1] - q[2]);
    v[2] = 0.5 * (q[1] + q[2] - q[0]);
    for (int c = 0; c < 3; c++)
        if (v[c] < 0) v[c] = 0;
    return 0;
}

/* Sum over the 2-D plane of (G_a - G_b)^2 for the discrete kernels the filters use: the factor
 * by which such a band-pass scales the variance of white noise. */
double sd__mx_band_gain(double a, double b)
{
    float ka[200], kb[200];
    int ra = a >= 0.3 ? sd_gauss_radius((float)a) : 0, rb = b >= 0.3 ? sd_gauss_radius((float)b) : 0;
    if (ra > 199) ra = 199;
    if (rb > 199) rb = 199;
    if (ra) sd_gauss_kernel(ka, ra, (float)a, 0); else ka[0] = 1.0f;
    if (rb) sd_gauss_kernel(kb, rb, (float)b, 0); else kb[0] = 1.0f;
    double saa = 0, sbb = 0, sab = 0;
    int r = ra > rb ? ra : rb;
    for (int i = -r; i <= r; i++) {
        int ia = i < 0 ? -i : i;
        double ga = ia <= ra ? ka[ia] : 0, gb = ia <= rb ? kb[ia] : 0;
        saa += ga * ga; sbb += gb * gb; sab += ga * gb;
    }
    return saa * saa + sbb * sbb - 2 * sab * sab;
}

/* The luma OD band, for the pigment's cross-covariance (sd__mx_pigment_region). JPEG keeps the
 * chroma coarsely (subsampled, and quantised harder than the luma); on dark skin the melanin
 * band's whole signal sits within about one level of Cb, so the variance of a melanin map read
 * pixel by pixel moves with the quality (docs/METRICS.md). The luma band Y holds the melanin's
 * share km m of the same spots, finely quantised, plus shading (texture, wrinkles) and
 * haemoglobin. The covariance of the melanin band m with Y is km var(m) + cov(m, h-part): the
 * shading, independent of the melanin, drops out, and so does the chroma's quantisation error,
 * independent of the luma's. What is left of the sensor noise is its correlated part
 * (sum_c inv_mc wy_c v_c, times the band's gain): st->noise_cov. ody: the luma-weighted OD;
 * t0: a free plane. */
static int luma_band(SdCtx *ctx, SdMetricsState *st, const float *ody, float *t0)
{
    const double p = st->ppm, lo = st->o.pg_band_lo_mm * p, hi = st->o.pg_band_hi_mm * p;
    if (!(st->yb = sd__mx_plane_alloc(st)))
        return sd_fail(ctx, SD_ENOMEM, "metrics: out of memory");
    const SdMxComb cy = { st->yb, st->yb, t0, NULL, { -1.0f, 1.0f, 0.0f } };
    int err;
    if ((err = gauss_px(ctx, st, ody, t0, lo)) || (err = sd__mx_gauss_comb(ctx, st, ody, st->yb, hi, &cy)))
        return err;
    return 0;
}

int sd__mx_pigment_maps(SdCtx *ctx, SdMetricsState *st, float *const lin[3], float *const mhs[3])
{
    int err;
    const double p = st->ppm;
    const SdSkinmapDSP *dsp = sd_skinmap_dsp(ctx->cpu_flags);
    if (st->melb != lin[2] || st->hbb != mhs[0])
        return sd_fail(ctx, SD_EINVAL, "metrics: pigment maps need melb = lin[2], hbb = mhs[0]");
    /* ITA on lightly smoothed colour (pixel noise and JPEG blocks would dominate its SD), in bands
     * of rows: the smoothed colour and L*, a*, b* of a band stay in cache (full-frame planes only
     * when the smoothing takes another path than the plain Gaussian, which has no row form) */
    {
        const double si = st->o.pg_ita_smooth_mm * p;
        const int rows_form = si >= 0.3 && (si < 6.0 || st->w < 64 || st->h < 64);
        if (!rows_form)
            for (int c = 0; c < 3; c++)
                if ((err = gauss_px(ctx, st, lin[c], mhs[c], si)))
                    return err;
        float *buf = sd_alloc_aligned((size_t)st->fs * 5 * SD_PG_BAND);
        if (!buf)
            return sd_fail(ctx, SD_ENOMEM, "metrics: out of memory");
        float *const sm[3] = { buf, sd__mx_row(st, buf, SD_PG_BAND), sd__mx_row(st, buf, 2 * SD_PG_BAND) };
        float *const lb[3] = { sd__mx_row(st, buf, 3 * SD_PG_BAND), NULL, sd__mx_row(st, buf, 4 * SD_PG_BAND) };
        float *const *lab = lb;   /* a* is not needed: not computed */
        err = 0;
        for (int y = 0; y < st->h && !err; y += SD_PG_BAND) {
            const int nb = st->h - y < SD_PG_BAND ? st->h - y : SD_PG_BAND;
            const float *src[3];
            for (int c = 0; c < 3 && !err; c++) {
                if (rows_form) {
                    err = sd_op_gauss_rows(ctx, lin[c], st->fs, sm[c], st->fs, st->w, st->h, y, nb,
                                           (float)(si > 64 ? 64 : si));
                    src[c] = sm[c];
                } else {
                    src[c] = sd__mx_row(st, mhs[c], y);
                }
            }
            if (!err && !(err = sd_op_rgb_to_lab(ctx, src, st->fs, lab, st->fs, st->w, nb)))
                dsp->ita(sd__mx_row(st, st->ita, y), st->fs, lb[0], lb[2], st->fs, st->w, nb);
        }
        sd_free_aligned(buf);
        if (err)
            return err;
    }
    /* optical density and the decomposition OD = m*mel + h*hb + s*(1,1,1) */
    for (int c = 0; c < 3; c++)
        if ((err = sd_op_optical_density(ctx, lin[c], st->fs, lin[c], st->fs, st->w, st->h, 1.0f / 4096.0f)))
            return err;
    double v[3], a[9], inv[9];
    if (od_noise(st, lin, v))
        return sd_fail(ctx, SD_ENOMEM, "metrics: out of memory");
    for (int c = 0; c < 3; c++) {
        a[3 * c + 0] = chrom_mel[c];
        a[3 * c + 1] = chrom_hb[c];
        a[3 * c + 2] = 1.0;
    }
    if (invert3(a, inv))
        return sd_fail(ctx, SD_EINVAL, "metrics: singular chromophore matrix");
    /* rows: melanin, haemoglobin, and the luma-weighted OD (JPEG's Y weights: its least
     * quantised channel) */
    static const double wy[3] = { 0.299, 0.587, 0.114 };
    /* noise variance of the maps, per pixel, before any filtering */
    st->noise_ls = st->noise_hb = st->noise_cov = 0;
    for (int c = 0; c < 3; c++) {
        st->noise_cov += inv[c] * wy[c] * v[c];
        st->noise_ls += M_LN10 * M_LN10 * wy[c] * wy[c] * v[c];
        st->noise_hb += inv[3 + c] * inv[3 + c] * v[c];
    }
    float m[9];
    for (int i = 0; i < 6; i++)
        m[i] = (float)inv[i];
    for (int j = 0; j < 3; j++)
        m[6 + j] = (float)wy[j];
    if ((err = sd_op_mat3(ctx, (const float *const *)lin, st->fs, mhs, st->fs, st->w, st->h, m)))
        return err;
    /* band-passed chromophore maps (the low-passed parts go to lin[0], lin[1]: the OD is no
     * longer needed). melb (lin[2]) = G_lo m - G_hi m and hbb likewise, each difference taken as the G_hi output is made; hbb goes into
     * the melanin map's plane once melb is done with it */
    const double lo = st->o.pg_band_lo_mm * p, hi = st->o.pg_band_hi_mm * p;
    float *const low[2] = { lin[0], lin[1] };
    const SdMxComb cm = { st->melb, st->melb, low[0], NULL, { -1.0f, 1.0f, 0.0f } },
                   ch = { st->hbb, st->hbb, low[1], NULL, { -1.0f, 1.0f, 0.0f } };
    if ((err = gauss_px(ctx, st, mhs[0], low[0], lo)) ||
        (err = sd__mx_gauss_comb(ctx, st, mhs[0], st->melb, hi, &cm)) ||
        (err = gauss_px(ctx, st, mhs[1], low[1], lo)) ||
        (err = sd__mx_gauss_comb(ctx, st, mhs[1], st->hbb, hi, &ch)))
        return err;
    if ((err = luma_band(ctx, st, mhs[2], mhs[1])))
        return err;
    /* shading log-luminance: ls = -ln10 (odY - k_m G_r m - k_h G_r h), r = pg_remove_mm: the luma's
     * log without the pigment at the scale of spots and mottling (on faces, without this the
     * wrinkle map follows every freckle). The low-pass is 0.75 mm (0.25 mm until 0.2): a finer
     * one carries the chroma's JPEG block error into texture and wrinkles (16-patient wrinkle
     * drift 17.3% at 0.25 mm, 8.9% at 0.75 mm), a coarser one lets spots through (docs/METRICS.md) */
    double km = 0, kh = 0;
    for (int c = 0; c < 3; c++) {
        km += wy[c] * chrom_mel[c];
        kh += wy[c] * chrom_hb[c];
    }
    {
        const double sr = st->o.pg_remove_mm * p, s1 = st->o.pg_band_lo_mm * p;
        const double sx = sr > s1 ? sqrt(sr * sr - s1 * s1) : 0.0;   /* G_r = G_sx after G_lo */
        float *t = sd__mx_plane_alloc(st);
        if (!t)
            return sd_fail(ctx, SD_ENOMEM, "metrics: out of memory");
        if ((err = gauss_px(ctx, st, low[0], mhs[1], sx)) || (err = gauss_px(ctx, st, low[1], t, sx))) {
            sd_free_aligned(t);
            return err;
        }
        const float kl[3] = { (float)-M_LN10, (float)(M_LN10 * km), (float)(M_LN10 * kh) };
        dsp->lincomb(mhs[2], st->fs, mhs[2], mhs[1], t, st->fs, st->w, st->h, kl);
        sd_free_aligned(t);
    }
    return 0;
}

/* Any nonzero byte among p[0..7]. */
static inline int any8(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof(v));
    return v != 0;
}

/* Robust location and scale (median, 1.4826 MAD) of a map over the region. */
static int robust_stats(const SdMetricsState *st, const float *map, const SdMxRegion *r,
                        double *med, double *sigma)
{
    float *v = malloc(sizeof(float) * (size_t)r->n);
    if (!v)
        return SD_ENOMEM;
    long k = 0;
    /* large regions: every second pixel in x and y is plenty for a median */
    const int step = r->n > 250000 ? 2 : 1;
    for (int y = 0; y < r->h; y += step) {
        const float *row = sd__mx_row(st, (float *)map, y + r->y0) + r->x0;
        const float *next = y + step < r->h ? sd__mx_row(st, (float *)map, y + step + r->y0) + r->x0 : NULL;
        const uint8_t *in = r->in + (size_t)y * (size_t)r->w;
        for (int x = 0; x < r->w; x += step) {
            sd__mx_prefetch(next, x);
            if (in[x]) v[k++] = row[x];
        }
    }
    double m = sd__mx_median(v, k);
    for (long i = 0; i < k; i++)
        v[i] = fabsf(v[i] - (float)m);
    *med = m;
    *sigma = 1.4826 * sd__mx_median(v, k);
    free(v);
    return 0;
}

int sd__mx_spots(SdCtx *ctx, const SdMetricsState *st, const SdMxRegion *r, SdMxDetect *d)
{
    size_t n = (size_t)r->w * (size_t)r->h;
    int32_t *lab = NULL;
    long *sizes = NULL;
    float *gated = NULL;
    int err = 0;
    double med, sig;
    if (!(lab = malloc(n * sizeof(int32_t))))
        goto nomem;
    if (robust_stats(st, st->melb, r, &med, &sig))
        goto nomem;
    if (!(sig > 0))
        goto done;
    /* a spot is not a shading edge (face outline, fold, lid): the band's excess over its median is
     * scaled down, continuously, where the wrinkles' edge weight is (sd__mx_fold_at) */
    const float *src = sd__mx_row(st, st->melb, r->y0) + r->x0;
    ptrdiff_t src_stride = st->fs;
    if (st->fold) {
        if (!(gated = malloc(n * sizeof(float))))
            goto nomem;
        const float *gp = sd__mx_edge_plane(st), ea = (float)st->o.wr_edge_lo, eb = (float)st->o.wr_edge_hi;
        for (int y = 0; y < r->h; y++) {
            const float *row = sd__mx_row(st, st->melb, y + r->y0) + r->x0;
            float *g = gated + (size_t)y * (size_t)r->w;
            for (int x = 0; x < r->w; x++) {
                const float e = r->in[(size_t)y * (size_t)r->w + (size_t)x]
                                ? sd__mx_ramp(sd__mx_fold_at(st, gp, x + r->x0, y + r->y0), ea, eb) : 0.0f;
                g[x] = (float)med + (row[x] - (float)med) * (1.0f - e);
            }
        }
        src = gated;
        src_stride = (ptrdiff_t)(sizeof(float) * (size_t)r->w);
    }
    {
        /* the soft spot membership (used by the primary scores): a ramp on the band's z-score */
        const float k0 = (float)st->o.pg_mu_lo, k1 = (float)st->o.pg_mu_hi;
        for (int y = 0; y < r->h; y++) {
            const float *row = (const float *)((const uint8_t *)src + (size_t)y * (size_t)src_stride);
            const uint8_t *in = r->in + (size_t)y * (size_t)r->w;
            float *mu = d->sp_mu + (size_t)y * (size_t)r->w;
            for (int x = 0; x < r->w; x++)
                mu[x] = in[x] ? sd__mx_ramp((float)((row[x] - med) / sig), k0, k1) : 0.0f;
        }
    }
    /* lab is set on the spot pixels only (the only ones read below); the response is the
     * melanin band map itself, read in place */
    long cnt = sd__mx_hysteresis_label(src, src_stride, r->in, r->w, r->h,
                                       (float)(med + st->o.pg_k_low * sig),
                                       (float)(med + st->o.pg_k_high * sig), d->spots, lab, &sizes);
    if (cnt < 0) {
        err = (int)cnt;
        goto fail;
    }
    const double rad = 0.5 * st->o.pg_min_diam_mm * st->ppm;
    const long min_px = (long)ceil(M_PI * rad * rad);
    for (long i = 1; i <= cnt; i++)
        if (sizes[i] >= min_px) {
            d->n_spots++;
            d->n_spot_px += sizes[i];
        }
    for (size_t i = 0; i < n; i++) {
        if (i + 8 <= n && !any8(d->spots + i)) {   /* spots are sparse */
            i += 7;
            continue;
        }
        if (d->spots[i] && sizes[lab[i]] < min_px)
            d->spots[i] = 0;
    }
done:
    free(lab); free(sizes); free(gated);
    return 0;
nomem:
    err = sd_fail(ctx, SD_ENOMEM, "metrics: out of memory");
fail:
    free(lab); free(sizes); free(gated);
    return err;
}

/* SD over the region after removing the estimated noise variance (noise_var, in the map's
 * units squared; 0 = none). */
static double region_sd(SdCtx *ctx, const SdMetricsState *st, const float *map, const SdMxRegion *r,
                        double noise_var)
{
    SdMoments m = { 0 };
    if (sd_op_moments(ctx, sd__mx_row(st, (float *)map, r->y0) + r->x0, st->fs, r->in, r->w, r->w,
                      r->h, &m) || m.n < 2)
        return NAN;
    double mean = m.sum / m.n, var = m.sumsq / m.n - mean * mean - noise_var;
    return sqrt(var > 0 ? var : 0);
}

/* The melanin band's SD read through its covariance with the luma band (see luma_band):
 * sqrt((cov(melb, yb) - noise_cov) / km), km the melanin's luma weight. */
static double region_cov_sd(const SdMetricsState *st, const SdMxRegion *r, double noise_cov)
{
    static const double wy[3] = { 0.299, 0.587, 0.114 };
    double km = 0, sm = 0, sy = 0, smy = 0;
    long n = 0;
    for (int c = 0; c < 3; c++)
        km += wy[c] * chrom_mel[c];
    for (int y = 0; y < r->h; y++) {
        const float *m = sd__mx_row(st, st->melb, y + r->y0) + r->x0, *l = sd__mx_row(st, st->yb, y + r->y0) + r->x0;
        const uint8_t *in = r->in + (size_t)y * (size_t)r->w;
        double a = 0, b = 0, c = 0;
        long k = 0;
        for (int x = 0; x < r->w; x++)
            if (in[x]) {
                a += m[x];
                b += l[x];
                c += (double)m[x] * (double)l[x];
                k++;
            }
        sm += a; sy += b; smy += c; n += k;
    }
    if (n < 2)
        return NAN;
    const double cov = smy / (double)n - (sm / (double)n) * (sy / (double)n) - noise_cov;
    return sqrt(cov > 0 ? cov / km : 0);
}

int sd__mx_pigment_region(SdCtx *ctx, const SdMetricsState *st, const SdMxRegion *r,
                          const SdMxDetect *d, double out[SD_NMETRICS])
{
    (void)d;
    const double g = sd__mx_band_gain(st->o.pg_band_lo_mm * st->ppm, st->o.pg_band_hi_mm * st->ppm);
    out[SD_M_PIGMENT_UNEVENNESS] = 100.0 * region_cov_sd(st, r, g * st->noise_cov);
    out[SD_M_REDNESS_UNEVENNESS] = 100.0 * region_sd(ctx, st, st->hbb, r, g * st->noise_hb);
    out[SD_M_PIGMENT_ITA_SD] = region_sd(ctx, st, st->ita, r, 0);
    return 0;
}

/* Double-precision reference for tests and documentation: IEC 61966-2-1 primaries, D65 white. */
double sd_ita_deg(double r, double g, double b)
{
    double X = 0.4124564 * r + 0.3575761 * g + 0.1804375 * b;
    double Y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b;
    double Z = 0.0193339 * r + 0.1191920 * g + 0.9503041 * b;
    const double e = 216.0 / 24389.0, k = 24389.0 / 27.0;
    double t[3] = { X / 0.95047, Y, Z / 1.08883 }, f[3];
    for (int i = 0; i < 3; i++)
        f[i] = t[i] > e ? cbrt(t[i]) : (k * t[i] + 16.0) / 116.0;
    double L = 116.0 * f[1] - 16.0, bs = 200.0 * (f[1] - f[2]);
    return atan2(L - 50.0, bs) * (180.0 / M_PI);
}

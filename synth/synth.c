/* Procedural skin phantoms (patch kind) and the simulated camera; see synth.h and docs/METRICS.md
 * (section "Phantoms") for the model. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/ops.h"
#include "skindelta/metrics.h"
#include "synth/synth.h"
#include "synth/synth_int.h"
#include "src/core/core.h"

/* ---- PRNG (splitmix64) */
uint64_t sd_synth_rand(uint64_t *s)
{
    return sd_splitmix64(s);
}

double sd_synth_uniform(uint64_t *s)
{
    return (double)(sd_synth_rand(s) >> 11) * (1.0 / 9007199254740992.0);
}

double sd_synth_gauss(uint64_t *s)
{
    double u = sd_synth_uniform(s), v = sd_synth_uniform(s);
    return sqrt(-2.0 * log(u + 1e-300)) * cos(2.0 * M_PI * v);
}

static double urange(uint64_t *s, double lo, double hi)
{
    return lo + (hi - lo) * sd_synth_uniform(s);
}

void sd_synth_effect_none(SdSynthEffect *e)
{
    e->wrinkle_depth = e->wrinkle_count = e->spot_contrast = e->spot_count = e->texture_amp = 1.0;
}

void sd_synth_nuisance_none(SdSynthNuisance *n)
{
    memset(n, 0, sizeof(*n));
    n->scale = 1.0;
    n->gain = 1.0;
    n->wb[0] = n->wb[1] = n->wb[2] = 1.0;
    n->gamma = 1.0;
}

void sd_synth_nuisance_random(uint64_t *rng, double rot_max, SdSynthNuisance *n)
{
    sd_synth_nuisance_none(n);
    n->rot_deg = urange(rng, -rot_max, rot_max);
    n->scale = urange(rng, 0.98, 1.02);
    n->tx_px = urange(rng, -8, 8);
    n->ty_px = urange(rng, -8, 8);
    n->gain = urange(rng, 0.7, 1.3);
    for (int c = 0; c < 3; c++)
        n->wb[c] = urange(rng, 0.9, 1.1);
    n->gamma = urange(rng, 0.9, 1.1);
    n->noise_sd = urange(rng, 0.0, 0.01);
    n->jpeg_q = 80 + (int)(sd_synth_rand(rng) % 16);
    n->noise_seed = sd_synth_rand(rng);
}

/* ---- fields */

typedef struct Plane {
    int w, h;
    ptrdiff_t fs;   /* bytes */
    float *p;
} Plane;

static int plane_new(Plane *pl, int w, int h)
{
    size_t row = ((size_t)w * sizeof(float) + SD_ROW_ALIGN - 1) & ~(size_t)(SD_ROW_ALIGN - 1), total;
    pl->w = w; pl->h = h; pl->fs = (ptrdiff_t)row;
    if (sd_mul_overflow(row, (size_t)h, &total) || !(pl->p = sd_alloc_aligned(total + SD_ROW_ALIGN)))
        return SD_ENOMEM;
    memset(pl->p, 0, total);
    return 0;
}

static inline float *prow(const Plane *pl, int y)
{
    return (float *)((uint8_t *)pl->p + (size_t)y * (size_t)pl->fs);
}

/* Smooth value noise: random values on a grid of step g px, cosine-interpolated; unit-ish SD. */
static int value_noise_add(Plane *dst, uint64_t seed, double g, double amp)
{
    int gw = (int)(dst->w / g) + 3, gh = (int)(dst->h / g) + 3;
    float *grid = sd_calloc_checked((size_t)gw * (size_t)gh, sizeof(float));
    /* the column weights repeat on every row: computed once */
    double *txs = sd_calloc_checked((size_t)dst->w, sizeof(double));
    int *ixs = sd_calloc_checked((size_t)dst->w, sizeof(int));
    if (!grid || !txs || !ixs) {
        free(grid); free(txs); free(ixs);
        return SD_ENOMEM;
    }
    for (int i = 0; i < gw * gh; i++)
        grid[i] = (float)sd_synth_gauss(&seed);
    for (int x = 0; x < dst->w; x++) {
        double fx = x / g;
        int ix = (int)fx;
        double tx = fx - ix;
        ixs[x] = ix;
        txs[x] = 0.5 - 0.5 * cos(M_PI * tx);
    }
    for (int y = 0; y < dst->h; y++) {
        float *r = prow(dst, y);
        double fy = y / g;
        int iy = (int)fy;
        double ty = fy - iy;
        ty = 0.5 - 0.5 * cos(M_PI * ty);
        for (int x = 0; x < dst->w; x++) {
            const int ix = ixs[x];
            const double tx = txs[x];
            const float *g0 = grid + (size_t)iy * (size_t)gw + ix, *g1 = g0 + gw;
            double v = (1 - ty) * ((1 - tx) * g0[0] + tx * g0[1]) + ty * ((1 - tx) * g1[0] + tx * g1[1]);
            r[x] += (float)(amp * v);
        }
    }
    free(grid); free(txs); free(ixs);
    return 0;
}

/* Band-limited Gaussian noise: white noise blurred at sigma px, normalised to RMS amp, added. */
static int blurred_noise_add(SdCtx *ctx, Plane *dst, Plane *t1, Plane *t2, uint64_t seed,
                             double sigma, double amp)
{
    int err;
    for (int y = 0; y < dst->h; y++) {
        float *r = prow(t1, y);
        for (int x = 0; x < dst->w; x++)
            r[x] = (float)sd_synth_gauss(&seed);
    }
    if (sigma >= 0.3) {
        if ((err = sd_op_gauss(ctx, t1->p, t1->fs, t2->p, t2->fs, dst->w, dst->h, (float)sigma)))
            return err;
    } else {
        for (int y = 0; y < dst->h; y++)
            memcpy(prow(t2, y), prow(t1, y), sizeof(float) * (size_t)dst->w);
    }
    double ss = 0;
    for (int y = 0; y < dst->h; y++) {
        const float *r = prow(t2, y);
        for (int x = 0; x < dst->w; x++)
            ss += (double)r[x] * r[x];
    }
    double k = amp / sqrt(ss / ((double)dst->w * dst->h) + 1e-30);
    for (int y = 0; y < dst->h; y++) {
        float *d = prow(dst, y);
        const float *r = prow(t2, y);
        for (int x = 0; x < dst->w; x++)
            d[x] += (float)(k * r[x]);
    }
    return 0;
}

/* Add amp * exp(-r^2 / 2 s^2) (elliptical: s along angle a, s*asp across) at (cx, cy) px. */
static void blob_add(Plane *dst, double cx, double cy, double s, double asp, double a, double amp)
{
    int r = (int)ceil(3.5 * s * (asp > 1 ? asp : 1));
    int x0 = (int)floor(cx) - r, x1 = (int)ceil(cx) + r, y0 = (int)floor(cy) - r, y1 = (int)ceil(cy) + r;
    double ca = cos(a), sa = sin(a), s2 = s * asp;
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 >= dst->w) x1 = dst->w - 1;
    if (y1 >= dst->h) y1 = dst->h - 1;
    for (int y = y0; y <= y1; y++) {
        float *row = prow(dst, y);
        for (int x = x0; x <= x1; x++) {
            double dx = x - cx, dy = y - cy;
            double u = (dx * ca + dy * sa) / s, v = (-dx * sa + dy * ca) / s2;
            row[x] += (float)(amp * exp(-0.5 * (u * u + v * v)));
        }
    }
}

typedef struct Wrinkle {
    double p[3][2];      /* quadratic Bezier control points, px */
    double b;            /* profile sigma, px */
    double depth;        /* log-luminance depth at the centre */
    double light;        /* -1..1: directional shading of the flanks */
} Wrinkle;

#define SD_SYNTH_SEG 40

static void wrinkle_add(Plane *dst, const Wrinkle *wk, double depth_factor)
{
    double pts[SD_SYNTH_SEG + 1][2];
    double xmin = 1e30, xmax = -1e30, ymin = 1e30, ymax = -1e30;
    for (int i = 0; i <= SD_SYNTH_SEG; i++) {
        double t = (double)i / SD_SYNTH_SEG, a = (1 - t) * (1 - t), b = 2 * t * (1 - t), c = t * t;
        pts[i][0] = a * wk->p[0][0] + b * wk->p[1][0] + c * wk->p[2][0];
        pts[i][1] = a * wk->p[0][1] + b * wk->p[1][1] + c * wk->p[2][1];
        if (pts[i][0] < xmin) xmin = pts[i][0];
        if (pts[i][0] > xmax) xmax = pts[i][0];
        if (pts[i][1] < ymin) ymin = pts[i][1];
        if (pts[i][1] > ymax) ymax = pts[i][1];
    }
    double m = 4.0 * wk->b + 2;
    int x0 = (int)floor(xmin - m), x1 = (int)ceil(xmax + m), y0 = (int)floor(ymin - m), y1 = (int)ceil(ymax + m);
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 >= dst->w) x1 = dst->w - 1;
    if (y1 >= dst->h) y1 = dst->h - 1;
    const double depth = wk->depth * depth_factor, ib = 1.0 / wk->b;
    /* per-segment terms, computed once (same expressions as per pixel, so the same values) */
    double sdx[SD_SYNTH_SEG], sdy[SD_SYNTH_SEG], sl2[SD_SYNTH_SEG], sl[SD_SYNTH_SEG];
    double bcx[SD_SYNTH_SEG], bcy[SD_SYNTH_SEG], bhx[SD_SYNTH_SEG], bhy[SD_SYNTH_SEG];
    for (int i = 0; i < SD_SYNTH_SEG; i++) {
        sdx[i] = pts[i + 1][0] - pts[i][0];
        sdy[i] = pts[i + 1][1] - pts[i][1];
        sl2[i] = sdx[i] * sdx[i] + sdy[i] * sdy[i];
        sl[i] = sqrt(sl2[i]) + 1e-12;
        /* the segment's bounding box (centre, half sizes) */
        bcx[i] = pts[i][0] + 0.5 * sdx[i];
        bcy[i] = pts[i][1] + 0.5 * sdy[i];
        bhx[i] = 0.5 * fabs(sdx[i]);
        bhy[i] = 0.5 * fabs(sdy[i]);
    }
    int prev = 0;   /* the previous pixel's nearest segment */
    for (int y = y0; y <= y1; y++) {
        float *row = prow(dst, y);
        for (int x = x0; x <= x1; x++) {
            /* distance to segment i, as every loop below computes it */
#define SEG_D2(i, tt, exo, eyo) do { \
                const double ax_ = pts[i][0], ay_ = pts[i][1], dx_ = sdx[i], dy_ = sdy[i], l2_ = sl2[i]; \
                tt = l2_ > 0 ? ((x - ax_) * dx_ + (y - ay_) * dy_) / l2_ : 0; \
                if (tt < 0) tt = 0; \
                if (tt > 1) tt = 1; \
                exo = x - (ax_ + tt * dx_); eyo = y - (ay_ + tt * dy_); \
            } while (0)
            /* The first segment of least distance wins. Segments whose bounding box lies
             * farther than the previous pixel's nearest segment (an upper bound of that least
             * distance, with a margin for rounding) cannot be it and are skipped: the same
             * winner as scanning all of them. */
            double ub;
            {
                double t, ex, ey;
                SEG_D2(prev, t, ex, ey);
                ub = (ex * ex + ey * ey) * (1.0 + 1e-9) + 1e-9;
            }
            double best = 1e30, bt = 0, bu = 0;
            for (int i = 0; i < SD_SYNTH_SEG; i++) {
                double gx = fabs(x - bcx[i]) - bhx[i], gy = fabs(y - bcy[i]) - bhy[i];
                gx = gx > 0 ? gx : 0;
                gy = gy > 0 ? gy : 0;
                if (gx * gx + gy * gy > ub)
                    continue;
                double t, ex, ey;
                SEG_D2(i, t, ex, ey);
                const double d2 = ex * ex + ey * ey;
                if (d2 < best) {
                    best = d2;
                    bt = (i + t) / SD_SYNTH_SEG;
                    bu = (sdx[i] * ey - sdy[i] * ex) / sl[i];     /* signed distance */
                    prev = i;
                }
            }
#undef SEG_D2
            double u = bu * ib;
            if (fabs(u) > 4.0)
                continue;
            double taper = sin(M_PI * bt);
            taper = taper > 0 ? sqrt(taper) : 0;
            double g = exp(-0.5 * u * u);
            row[x] += (float)(-depth * taper * (g - 0.3 * wk->light * u * g));
        }
    }
}

void sd__synth_draw_wrinkle(float *plane, ptrdiff_t stride, int w, int h, const double ctrl[3][2],
                            double b, double depth, double light)
{
    Plane pl = { .w = w, .h = h, .fs = stride, .p = plane };
    Wrinkle wk;
    memcpy(wk.p, ctrl, sizeof(wk.p));
    wk.b = b;
    wk.depth = depth;
    wk.light = light;
    wrinkle_add(&pl, &wk, 1.0);
}

/* lin_c = T_c * 10^-(mel_c m + hb_c h) * exp(shading); with prev (the same scene composed from
 * the shading plane prev_sh), only the pixels whose shading differs are recomputed. */
static int compose(const Plane *mel, const Plane *hb, const Plane *sh, const SdImage *prev,
                   const Plane *prev_sh, SdImage *lin)
{
    const int N = mel->w;
    int err;
    if ((err = prev ? sd_image_copy(prev, lin) : sd_image_create(lin, N, N, 3, SD_FMT_F32)))
        return err;
    double vm[3], vh[3];
    static const double base[3] = { 0.95, 0.93, 0.90 };
    sd_metrics_chromophores(vm, vh);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < N; y++) {
            float *d = sd_image_rowf(lin, c, y);
            const float *m = prow(mel, y), *h = prow(hb, y), *s = prow(sh, y);
            const float *ps = prev_sh ? prow(prev_sh, y) : NULL;
            for (int x = 0; x < N; x++) {
                if (ps && ps[x] == s[x])
                    continue;
                double od = vm[c] * m[x] + vh[c] * h[x];
                double v = base[c] * pow(10.0, -od) * exp(s[x]);
                d[x] = (float)(v > 1 ? 1 : v);
            }
        }
    return 0;
}

/* The patch scene; with lin_nowr != NULL also the same scene without any wrinkle (what
 * e->wrinkle_count = 0 gives: the other layers do not depend on the wrinkles), at the cost of one
 * scene. */
static int patch_scene(SdCtx *ctx, const SdSynthPatch *pp, const SdSynthEffect *e, SdImage *lin_nowr,
                       SdImage *lin)
{
    Plane mel = { 0 }, hb = { 0 }, sh = { 0 }, tex = { 0 }, t1 = { 0 }, t2 = { 0 };
    Wrinkle *wr = NULL;
    int err = 0;
    const int N = pp->size;
    const double p = pp->px_per_mm;
    uint64_t rng = pp->seed * 0x2545F4914F6CDD1Dull + 0x1234567ull;
    memset(lin, 0, sizeof(*lin));
    if (lin_nowr)
        memset(lin_nowr, 0, sizeof(*lin_nowr));
    if (N < 32 || N > 8192 || !(p > 1 && p < 200))
        return sd_fail(ctx, SD_EINVAL, "synth: size %d or px/mm %g out of range", N, p);
    if ((err = plane_new(&mel, N, N)) || (err = plane_new(&hb, N, N)) || (err = plane_new(&sh, N, N)) ||
        (err = plane_new(&tex, N, N)) || (err = plane_new(&t1, N, N)) || (err = plane_new(&t2, N, N)))
        goto fail;
    const double area_cm2 = (N / p) * (N / p) / 100.0;
    double mel0 = pp->melanin > 0 ? pp->melanin : urange(&rng, 0.3, 0.8);
    double hb0 = pp->haemoglobin > 0 ? pp->haemoglobin : urange(&rng, 0.10, 0.22);
    int nw0 = pp->n_wrinkles > 0 ? pp->n_wrinkles : (int)lround(2.0 * area_cm2) + 1;
    int ns0 = pp->n_spots > 0 ? pp->n_spots : (int)lround(2.0 * area_cm2) + 1;
    uint64_t s_mel = sd_synth_rand(&rng), s_hb = sd_synth_rand(&rng), s_sh = sd_synth_rand(&rng),
             s_tex = sd_synth_rand(&rng), s_pore = sd_synth_rand(&rng), s_wr = sd_synth_rand(&rng),
             s_sp = sd_synth_rand(&rng);

    /* melanin: base, slow variation (~8 mm), fine background unevenness (~1.5 mm) */
    for (int y = 0; y < N; y++) {
        float *r = prow(&mel, y), *q = prow(&hb, y);
        for (int x = 0; x < N; x++) {
            r[x] = (float)mel0;
            q[x] = (float)hb0;
        }
    }
    if ((err = value_noise_add(&mel, s_mel, 8.0 * p, 0.04)) ||
        (err = value_noise_add(&mel, s_mel ^ 0x55, 1.5 * p, 0.012)) ||
        (err = value_noise_add(&hb, s_hb, 5.0 * p, 0.03)) ||
        (err = value_noise_add(&hb, s_hb ^ 0x55, 2.0 * p, 0.015)))
        goto fail;
    /* shading: face-scale illumination gradient and slow relief */
    {
        double gx = urange(&rng, -0.15, 0.15), gy = urange(&rng, -0.15, 0.15);
        for (int y = 0; y < N; y++) {
            float *r = prow(&sh, y);
            for (int x = 0; x < N; x++)
                r[x] = (float)(gx * (x - N / 2) / N + gy * (y - N / 2) / N);
        }
        if ((err = value_noise_add(&sh, s_sh, 12.0 * p, 0.05)))
            goto fail;
    }
    /* texture: 1/f relief (equal RMS per octave, 0.05..0.8 mm) and pores, scaled by texture_amp */
    {
        static const double oct_mm[5] = { 0.05, 0.1, 0.2, 0.4, 0.8 };
        for (int o = 0; o < 5; o++)
            if ((err = blurred_noise_add(ctx, &tex, &t1, &t2, s_tex + (uint64_t)o * 977, oct_mm[o] * p, 0.011)))
                goto fail;
        int npores = (int)lround(60.0 * area_cm2);
        for (int i = 0; i < npores; i++) {
            double cx = urange(&s_pore, 0, N), cy = urange(&s_pore, 0, N);
            double s = urange(&s_pore, 0.035, 0.07) * p, d = urange(&s_pore, 0.05, 0.12);
            blob_add(&tex, cx, cy, s, 1.0, 0.0, -d);
        }
        for (int y = 0; y < N; y++) {
            float *r = prow(&sh, y);
            const float *t = prow(&tex, y);
            for (int x = 0; x < N; x++)
                r[x] += (float)(e->texture_amp * t[x]);
        }
    }
    /* pigment spots: soft melanin blobs, 0.8-3 mm across (drawn before the wrinkles: they touch
     * the melanin plane, the wrinkles the shading plane) */
    {
        int nmax = 2 * ns0, nuse = (int)lround(e->spot_count * ns0);
        if (nuse > nmax) nuse = nmax;
        for (int i = 0; i < nmax; i++) {
            double cx = urange(&s_sp, 0.05, 0.95) * N, cy = urange(&s_sp, 0.05, 0.95) * N;
            double s = urange(&s_sp, 0.3, 1.1) * p * 0.5, asp = urange(&s_sp, 0.7, 1.4);
            double a = urange(&s_sp, 0, M_PI), c = urange(&s_sp, 0.10, 0.25);
            if (i < nuse)
                blob_add(&mel, cx, cy, s, asp, a, c * e->spot_contrast);
        }
    }
    /* wrinkles: the patient has 2x nw0 candidates; the session draws the first count x nw0 */
    {
        int nmax = 2 * nw0, nuse = (int)lround(e->wrinkle_count * nw0);
        if (nuse > nmax) nuse = nmax;
        if (nuse < 0) nuse = 0;
        if (!(wr = calloc((size_t)nmax, sizeof(*wr)))) {
            err = SD_ENOMEM;
            goto fail;
        }
        double orient = pp->wrinkle_orient_deg * M_PI / 180.0;
        for (int i = 0; i < nmax; i++) {
            Wrinkle *k = &wr[i];
            double len = urange(&s_wr, 6, 16) * p, a = orient + sd_synth_gauss(&s_wr) * 0.2;
            double cx = urange(&s_wr, 0.1, 0.9) * N, cy = urange(&s_wr, 0.1, 0.9) * N;
            double bend = urange(&s_wr, -0.15, 0.15) * len;
            double ux = cos(a), uy = sin(a);
            k->p[0][0] = cx - 0.5 * len * ux; k->p[0][1] = cy - 0.5 * len * uy;
            k->p[2][0] = cx + 0.5 * len * ux; k->p[2][1] = cy + 0.5 * len * uy;
            k->p[1][0] = cx - bend * uy;      k->p[1][1] = cy + bend * ux;
            k->b = urange(&s_wr, 0.08, 0.3) * p;
            k->depth = urange(&s_wr, 0.06, 0.16);
            k->light = urange(&s_wr, -1, 1);
        }
        if (lin_nowr) {
            /* the wrinkle-free scene; t1 keeps its shading to tell the pixels the wrinkles touch */
            if ((err = compose(&mel, &hb, &sh, NULL, NULL, lin_nowr)))
                goto fail;
            for (int y = 0; y < N; y++)
                memcpy(prow(&t1, y), prow(&sh, y), sizeof(float) * (size_t)N);
        }
        for (int i = 0; i < nuse; i++)
            wrinkle_add(&sh, &wr[i], e->wrinkle_depth);
    }
    if ((err = compose(&mel, &hb, &sh, lin_nowr, lin_nowr ? &t1 : NULL, lin)))
        goto fail;
fail:
    sd_free_aligned(mel.p); sd_free_aligned(hb.p); sd_free_aligned(sh.p);
    sd_free_aligned(tex.p); sd_free_aligned(t1.p); sd_free_aligned(t2.p);
    free(wr);
    if (err) {
        sd_image_free(lin);
        if (lin_nowr)
            sd_image_free(lin_nowr);
        return err == SD_ENOMEM ? sd_fail(ctx, err, "synth: out of memory") : err;
    }
    return 0;
}

int sd_synth_patch_scene(SdCtx *ctx, const SdSynthPatch *pp, const SdSynthEffect *e, SdImage *lin)
{
    return patch_scene(ctx, pp, e, NULL, lin);
}

int sd__synth_patch_scene_pair(SdCtx *ctx, const SdSynthPatch *pp, const SdSynthEffect *e,
                               SdImage *lin_nowr, SdImage *lin)
{
    return patch_scene(ctx, pp, e, lin_nowr, lin);
}

/* ---- camera */

void sd_synth_pose(const SdSynthNuisance *n, int w, int h, SdTransform *T)
{
    double a = n->rot_deg * M_PI / 180.0, s = n->scale > 0 ? n->scale : 1.0;
    double c = cos(a) * s, si = sin(a) * s, cx = (w - 1) / 2.0, cy = (h - 1) / 2.0;
    /* photo = R (p - c) + c + t */
    T->m[0] = c;  T->m[1] = -si; T->m[2] = cx - c * cx + si * cy + n->tx_px;
    T->m[3] = si; T->m[4] = c;   T->m[5] = cy - si * cx - c * cy + n->ty_px;
    T->m[6] = 0;  T->m[7] = 0;   T->m[8] = 1;
}

/* The 6 taps lanczos3(f + 2 - k), k = 0..5, of a fractional offset f in [0, 1), with 2 sines and
 * 2 cosines instead of 12 sines: sin(pi (f + n)) = (-1)^n sin(pi f) and sin(pi (f + n) / 3) by
 * angle addition (equal to lanczos3's values within a few ulp). */
static void lanczos3_taps(double f, double w[6])
{
    static const double sn[6] = { 0.86602540378443865, 0.86602540378443865, 0.0,
                                  -0.86602540378443865, -0.86602540378443865, 0.0 };
    static const double cn[6] = { -0.5, 0.5, 1.0, 0.5, -0.5, -1.0 };
    const double s = sin(M_PI * f), s3 = sin(M_PI * f / 3.0), c3 = cos(M_PI * f / 3.0);
    for (int k = 0; k < 6; k++) {
        /* n = 2 - k: sin(pi n / 3) = sn[k], cos(pi n / 3) = cn[k] */
        const double d = f + 2 - k, ad = fabs(d);
        if (ad < 1e-9) {
            w[k] = 1.0;
            continue;
        }
        if (ad >= 3.0) {
            w[k] = 0.0;
            continue;
        }
        const double px = M_PI * d, sa = (k & 1) ? -s : s;
        w[k] = 3.0 * sa * (s3 * cn[k] + c3 * sn[k]) / (px * px);
    }
}

int sd_synth_warp(SdCtx *ctx, const SdImage *src, const SdTransform *T, int dw, int dh,
                  SdImage *dst, SdMask *valid)
{
    const double *m = T->m;
    double det = m[0] * m[4] - m[1] * m[3];
    int err;
    memset(dst, 0, sizeof(*dst));
    if (valid) memset(valid, 0, sizeof(*valid));
    if (src->fmt != SD_FMT_F32 || fabs(det) < 1e-12 || m[6] != 0 || m[7] != 0)
        return sd_fail(ctx, SD_EINVAL, "synth warp: need an F32 image and an invertible affine map");
    double inv[6] = { m[4] / det, -m[1] / det, 0, -m[3] / det, m[0] / det, 0 };
    inv[2] = -(inv[0] * m[2] + inv[1] * m[5]);
    inv[5] = -(inv[3] * m[2] + inv[4] * m[5]);
    if ((err = sd_image_create(dst, dw, dh, src->c, SD_FMT_F32)))
        return sd_fail(ctx, err, "synth warp: out of memory");
    if (valid && (err = sd_mask_create(valid, dw, dh))) {
        sd_image_free(dst);
        return sd_fail(ctx, err, "synth warp: out of memory");
    }
    for (int y = 0; y < dh; y++)
        for (int x = 0; x < dw; x++) {
            double sx = inv[0] * x + inv[1] * y + inv[2], sy = inv[3] * x + inv[4] * y + inv[5];
            int ix = (int)floor(sx), iy = (int)floor(sy);
            double wx[6], wy[6], sxw = 0, syw = 0;
            lanczos3_taps(sx - ix, wx);
            lanczos3_taps(sy - iy, wy);
            for (int k = 0; k < 6; k++) {
                sxw += wx[k];
                syw += wy[k];
            }
            int xs[6], ys[6];
            for (int k = 0; k < 6; k++) {
                int xx = ix - 2 + k, yy = iy - 2 + k;
                xs[k] = xx < 0 ? 0 : xx >= src->w ? src->w - 1 : xx;
                ys[k] = yy < 0 ? 0 : yy >= src->h ? src->h - 1 : yy;
                wx[k] /= sxw;
                wy[k] /= syw;
            }
            for (int c = 0; c < src->c; c++) {
                double acc = 0;
                for (int j = 0; j < 6; j++) {
                    const float *row = sd_image_rowf(src, c, ys[j]);
                    double a = 0;
                    for (int k = 0; k < 6; k++)
                        a += wx[k] * row[xs[k]];
                    acc += wy[j] * a;
                }
                sd_image_rowf(dst, c, y)[x] = (float)acc;
            }
            if (valid)
                valid->data[(size_t)y * (size_t)valid->stride + (size_t)x] =
                    sx >= -0.5 && sy >= -0.5 && sx <= src->w - 0.5 && sy <= src->h - 0.5;
        }
    return 0;
}

/* The camera's 8-bit output level of a clipped linear value v in [0, 1]. */
static int cam_level(double v, double gamma)
{
    double e = pow(sd_srgb_encode(v), gamma);
    return (int)floor(e * 255.0 + 0.5);
}

#define CAM_BUCKETS 16384

int sd_synth_camera(SdCtx *ctx, const SdImage *lin, const SdSynthNuisance *n, SdImage *out)
{
    SdTransform T;
    int err;
    sd_synth_pose(n, lin->w, lin->h, &T);
    if ((err = sd_synth_warp(ctx, lin, &T, lin->w, lin->h, out, NULL)))
        return err;
    uint64_t s = n->noise_seed ^ 0xA5A5A5A5ull;
    const double gamma = n->gamma > 0 ? n->gamma : 1.0;
    /* The 8-bit level of v is monotone in v: a table of the levels at CAM_BUCKETS + 1 evenly
     * spaced v answers every v whose bucket's two ends agree; the rest (buckets holding a level
     * step, and points within 1e-6 of a bucket end) take the exact formula. Same levels as the
     * formula everywhere, about a tenth of the pow calls. */
    uint8_t *lev = malloc(CAM_BUCKETS + 1);
    if (!lev) {
        sd_image_free(out);
        return sd_fail(ctx, SD_ENOMEM, "synth camera: out of memory");
    }
    for (int i = 0; i <= CAM_BUCKETS; i++)
        lev[i] = (uint8_t)cam_level((double)i / CAM_BUCKETS, gamma);
    for (int y = 0; y < out->h; y++)
        for (int c = 0; c < 3; c++) {
            float *r = sd_image_rowf(out, c, y);
            for (int x = 0; x < out->w; x++) {
                double v = r[x] * n->gain * n->wb[c];
                if (n->noise_sd > 0)
                    v += n->noise_sd * sqrt((v > 0 ? v : 0) / 0.5) * sd_synth_gauss(&s);
                v = v < 0 ? 0 : v > 1 ? 1 : v;
                const double t = v * CAM_BUCKETS;
                const int b = (int)t;
                const double f = t - b;
                int l;
                if (b < CAM_BUCKETS && lev[b] == lev[b + 1] && f > 1e-6 && f < 1.0 - 1e-6)
                    l = lev[b];
                else
                    l = cam_level(v, gamma);
                r[x] = (float)(l / 255.0);
            }
        }
    free(lev);
    return 0;
}

int sd_synth_jpeg(SdCtx *ctx, SdImage *img, int q, const char *path)
{
    SdImage back;
    SdLoadOpts lo;
    int err;
    if ((err = sd_image_save(ctx, img, path, q)))
        return err;
    sd_load_opts_default(&lo);
    if ((err = sd_image_load(ctx, path, &lo, &back, NULL)))
        return err;
    sd_image_free(img);
    *img = back;
    return 0;
}

/* ---- courses on disk */

static void effect_for(double r, double t, SdSynthEffect *e)
{
    e->wrinkle_depth = 1.0 - 0.4 * r * t;
    e->wrinkle_count = 1.0 - 0.2 * r * t;
    e->spot_contrast = 1.0 - 0.5 * r * t;
    e->spot_count = 1.0 - 0.3 * r * t;
    e->texture_amp = 1.0 - 0.3 * r * t;
}

static void json_effect(FILE *f, const SdSynthEffect *e)
{
    fprintf(f, "{\"wrinkle_depth\": %.6f, \"wrinkle_count\": %.6f, \"spot_contrast\": %.6f, "
               "\"spot_count\": %.6f, \"texture_amp\": %.6f}",
            e->wrinkle_depth, e->wrinkle_count, e->spot_contrast, e->spot_count, e->texture_amp);
}

static void json_nuisance(FILE *f, const SdSynthNuisance *n)
{
    fprintf(f, "{\"rot_deg\": %.6f, \"scale\": %.6f, \"tx_px\": %.4f, \"ty_px\": %.4f, \"gain\": %.6f, "
               "\"wb\": [%.6f, %.6f, %.6f], \"gamma\": %.6f, \"noise_sd\": %.6f, \"jpeg_q\": %d, "
               "\"noise_seed\": %llu}",
            n->rot_deg, n->scale, n->tx_px, n->ty_px, n->gain, n->wb[0], n->wb[1], n->wb[2],
            n->gamma, n->noise_sd, n->jpeg_q, (unsigned long long)n->noise_seed);
}

/* A curve's control points as [[x, y], [x, y], [x, y]]. */
static void json_curve(FILE *f, const double p[3][2])
{
    fprintf(f, "[[%.3f, %.3f], [%.3f, %.3f], [%.3f, %.3f]]", p[0][0], p[0][1], p[1][0], p[1][1], p[2][0], p[2][1]);
}

static void json_dress(FILE *f, const SdSynthDress *d)
{
    if (d->hair) {
        fprintf(f, ",\n       \"hair\": [");
        for (int k = 0; k < d->n_strands; k++) {
            fprintf(f, "%s{\"bezier\": ", k ? ", " : "");
            json_curve(f, d->strand[k].p);
            fprintf(f, ", \"sd_px\": %.4f}", d->strand[k].sd_px);
        }
        fprintf(f, "]");
    }
    if (d->folds) {
        fprintf(f, ",\n       \"nasolabial_folds\": {\"sd_px\": %.4f, \"depth\": 0.3, \"image_left\": ",
                d->fold_sd_px);
        json_curve(f, d->fold[0]);
        fprintf(f, ", \"image_right\": ");
        json_curve(f, d->fold[1]);
        fprintf(f, "}");
    }
}

int sd_synth_course(SdCtx *ctx, const SdSynthCourse *c, const char *dir)
{
    SdAtomicFile af = { 0 };
    int err = 0;
    char *truth = NULL;
    if (c->patients < 1 || c->patients > 9999 || c->sessions < 1 || c->sessions > 999)
        return sd_fail(ctx, SD_EINVAL, "synth: patients 1..9999 and sessions 1..999");
    if (sd_mkdir_p(dir))
        return sd_fail(ctx, SD_EIO, "%s: cannot create the folder", dir);
    if (!(truth = sd_path_join(dir, "truth.json")))
        return sd_fail(ctx, SD_ENOMEM, "synth: out of memory");
    const int size = c->size > 0 ? c->size : (c->kind == SD_SYNTH_PATCH ? 1024 : 2000);
    double ppm = c->px_per_mm > 0 ? c->px_per_mm : 10.0;
    SdSynthFaceBase fb = { 0 };
    if (c->kind == SD_SYNTH_FACE) {
        char found[4096];
        const char *fp = c->face_path ? c->face_path
                       : sd_data_file("samples/faces/astronaut.png", found, sizeof(found)) == 0
                       ? found : "samples/faces/astronaut.png";
        if ((err = sd__synth_face_init(ctx, fp, size, &fb))) {
            free(truth);
            return err;
        }
        ppm = fb.px_per_mm;
    }
    if ((err = sd_atomic_open(&af, truth))) {
        err = sd_fail(ctx, err, "%s: cannot write", truth);
        free(truth);
        sd__synth_face_free(&fb);
        return err;
    }
    const double rot = c->rot_max_deg > 0 ? c->rot_max_deg : 5.0;
    FILE *f = af.f;
    fprintf(f, "{\n  \"generator\": \"skindelta synth %s\",\n  \"kind\": \"%s\",\n  \"seed\": %llu,\n",
            sd_version(), c->kind == SD_SYNTH_PATCH ? "patch" : "face", (unsigned long long)c->seed);
    fprintf(f, "  \"size\": %d,\n  \"view\": \"front\",\n", size);
    if (c->kind == SD_SYNTH_FACE)
        fprintf(f, "  \"face\": {\"base\": \"%s\", \"width\": %d, \"height\": %d, \"px_per_mm\": %.6f, "
                   "\"skin\": \"geometric skin mask of the regions stage; relief, pores, spots everywhere in "
                   "it\", \"wrinkles\": \"forehead (above the brows): horizontal; crow's feet: 5 per side "
                   "x wrinkle_count, radial from the outer eye corners (+-40 deg, 0.10-0.16 IOD out, "
                   "0.15-0.30 IOD long)\", \"hair\": \"%s\", \"nasolabial_folds\": \"%s\"},\n",
                c->face_path ? c->face_path : "samples/faces/astronaut.png", fb.w, fb.h, fb.px_per_mm,
                c->plain ? "none" : "even-numbered patients: 6-16 strands from the hairline over the forehead "
                "and 0-4 across the brows, drawn anew each session (peak coverage 0.9, profile SD sd_px); "
                "each session lists its strands as quadratic Bezier control points in photo px; a pixel "
                "within 2 sd_px of a centre line is a hair pixel",
                c->plain ? "none" : "odd-numbered patients: a broad groove (profile SD 1.8 mm, depth 0.3 "
                "log units, one flank lit) from beside each nose wing to below the mouth corner, centre "
                "lines in photo px; no wrinkle");
    fprintf(f, "  \"effect_model\": \"factors 1 = baseline skin; session i of K: t = i/(K-1); "
               "wrinkle_depth 1-0.4rt, wrinkle_count 1-0.2rt, spot_contrast 1-0.5rt, spot_count "
               "1-0.3rt, texture_amp 1-0.3rt (r = responder)\",\n");
    fprintf(f, "  \"effect_scale\": %.6g,\n", c->effect_scale_set ? c->effect_scale : 1.0);
    fprintf(f, "  \"patients\": [\n");
    uint64_t rng = c->seed * 0x9E3779B97F4A7C15ull + 12345;
    for (int p = 0; p < c->patients && !err; p++) {
        char pid[16];
        snprintf(pid, sizeof pid, "p%03d", p + 1);
        uint64_t pseed = sd_synth_rand(&rng);
        double resp = sd_synth_uniform(&rng);
        if (c->effect_scale_set)
            resp *= c->effect_scale < 0 ? 0 : c->effect_scale > 1 ? 1 : c->effect_scale;
        fprintf(f, "    {\"id\": \"%s\", \"seed\": %llu, \"responder\": %.6f, \"sessions\": [\n", pid,
                (unsigned long long)pseed, resp);
        for (int s = 0; s < c->sessions && !err; s++) {
            char sid[16], rel[64];
            SdSynthEffect e;
            SdSynthNuisance n;
            SdImage photo = { 0 };
            SdSynthDress dress = { 0 };
            double t = c->sessions > 1 ? (double)s / (c->sessions - 1) : 0.0, pm = ppm;
            snprintf(sid, sizeof sid, "s%d", s + 1);
            snprintf(rel, sizeof rel, "%s/%s/front.jpg", pid, sid);
            effect_for(resp, t, &e);
            sd_synth_nuisance_random(&rng, rot, &n);
            if (c->consistent) {   /* (after the random draw: the pose and the rng stay the same) */
                uint64_t cr = n.noise_seed ^ 0xC0FFEEull;
                n.gain = 1.0 + 0.06 * (sd_synth_uniform(&cr) - 0.5);
                for (int k = 0; k < 3; k++) n.wb[k] = 1.0 + 0.04 * (sd_synth_uniform(&cr) - 0.5);
                n.gamma = 1.0;
                n.noise_sd = 0.003;
                n.jpeg_q = 92;
            }
            if (c->bad_patient == p + 1 && c->bad_session == s + 1) {
                n.gain = 1.4;
                n.wb[0] = 1.12; n.wb[1] = 1.0; n.wb[2] = 0.92;
                n.noise_sd = 0.012;
                n.jpeg_q = 70;
            }
            if (c->kind == SD_SYNTH_PATCH) {
                SdSynthPatch pp = { .size = size, .px_per_mm = ppm, .seed = pseed };
                SdImage lin;
                if (!(err = sd_synth_patch_scene(ctx, &pp, &e, &lin))) {
                    err = sd_synth_camera(ctx, &lin, &n, &photo);
                    sd_image_free(&lin);
                }
            } else {
                dress.hair = !c->plain && p % 2 == 1;
                dress.folds = !c->plain && p % 2 == 0;
                dress.hair_seed = n.noise_seed ^ (uint64_t)(s + 1) * 0x9E3779B97F4A7C15ull;
                err = sd__synth_face_session(ctx, &fb, pseed, &e, &n, &dress, &photo);
            }
            char *sub = NULL, *path = NULL;
            if (!err) {
                char sdir[48];
                snprintf(sdir, sizeof sdir, "%s/%s", pid, sid);
                sub = sd_path_join(dir, sdir);
                path = sd_path_join(dir, rel);
                if (!sub || !path) err = sd_fail(ctx, SD_ENOMEM, "synth: out of memory");
                else if (sd_mkdir_p(sub)) err = sd_fail(ctx, SD_EIO, "%s: cannot create", sub);
                else err = sd_image_save(ctx, &photo, path, n.jpeg_q);
            }
            if (!err) {
                fprintf(f, "      {\"id\": \"%s\", \"index\": %d, \"path\": \"%s\", \"px_per_mm\": %.6f, "
                           "\"progress\": %.6f,\n       \"effect\": ", sid, s, rel, pm, t);
                json_effect(f, &e);
                fprintf(f, ",\n       \"nuisance\": ");
                json_nuisance(f, &n);
                if (dress.hair || dress.folds)
                    json_dress(f, &dress);
                fprintf(f, "}%s\n", s + 1 < c->sessions ? "," : "");
            }
            free(sub);
            free(path);
            sd_image_free(&photo);
        }
        fprintf(f, "    ]}%s\n", p + 1 < c->patients ? "," : "");
    }
    fprintf(f, "  ]\n}\n");
    if (err) {
        sd_atomic_abort(&af);
    } else if ((err = sd_atomic_commit(&af))) {
        err = sd_fail(ctx, err, "%s: cannot write", truth);
    }
    free(truth);
    sd__synth_face_free(&fb);
    return err;
}

/* ECC image registration (Evangelidis & Psarakis, PAMI 2008): maximise the zero-mean normalised
 * correlation between a template and the warped input, in the inverse-compositional form (the
 * template's Jacobian is fixed per level, so each iteration is one warp of the input and one pass
 * of the moment kernel), coarse-to-fine on a 2x2-mean pyramid of band-passed luminance, masked.
 * The per-pixel work (warps, filters, moment sums) runs in kernels/; this file assembles the small
 * normal equations. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "skindelta/align.h"
#include "src/align/align_int.h"
#include "src/core/core.h"

#define SD_ECC_MAXLEV 12

typedef struct EccLevel {
    SdImage T;      /* band-passed template */
    SdImage I;      /* band-passed input, NaN where invalid (band-pass support included) */
    SdImage gx, gy; /* gradients of T (inverse compositional: fixed per level) */
    SdMask tm;      /* template mask */
    int bx0, by0, bx1, by1;   /* bounding box of tm (inclusive-exclusive) */
} EccLevel;

static void level_free(EccLevel *l)
{
    sd_image_free(&l->T); sd_image_free(&l->I); sd_image_free(&l->gx); sd_image_free(&l->gy);
    sd_mask_free(&l->tm);
}

/* Level-l coordinates of a level-0 point: x_l = (x_0 + 0.5) / 2^l - 0.5 (2x2-mean pyramid). */
static void level_scale(int l, SdTransform *S, SdTransform *Si)
{
    const double f = ldexp(1.0, -l), c = 0.5 * f - 0.5;
    sd_transform_identity(S);
    S->m[0] = S->m[4] = f; S->m[2] = S->m[5] = c;
    sd_transform_identity(Si);
    Si->m[0] = Si->m[4] = 1.0 / f; Si->m[2] = Si->m[5] = -c / f;
}

/* Rows of the upsampled low-pass per strip. */
#define LOW_STRIP 64

/* Band-pass of one pyramid level: fine blur (sigma 1) minus a coarse low-pass taken two levels up
 * (sigma 1.5 there, ~6-7 px here) and brought back by bilinear upsampling, in strips of rows
 * through one small buffer (the warp kernel computes each row from its own origin, so a strip's
 * rows are those of the whole plane). */
static int band_pass(const SdAlignDSP *d, const SdImage *P, const SdImage *P2, SdImage *out)
{
    int err = sd_image_create(out, P->w, P->h, 1, SD_FMT_F32);
    if (err) return err;
    if ((err = sd__px_blur(d, P, 0, out, 0, 1.0))) return err;
    SdImage lo2 = {0};
    float *strip = NULL;
    if (P2) {
        if ((err = sd_image_create(&lo2, P2->w, P2->h, 1, SD_FMT_F32))) goto fail;
        if ((err = sd__px_blur(d, P2, 0, &lo2, 0, 1.5))) goto fail;
        /* (with the row slack SIMD tails may write past w) */
        if (!(strip = sd_alloc_aligned((size_t)out->stride * LOW_STRIP + 64))) { err = SD_ENOMEM; goto fail; }
        /* x_{l+2} = (x_l + 0.5)/4 - 0.5 = x_l/4 - 0.375 */
        SdWarpParams wp = { .m = { 0.25, 0, -0.375, 0, 0.25, -0.375, 0, 0, 1 }, .x0 = 0, .fill = 0.0f };
        /* Inside lo2's extent the upsampled low-pass is subtracted as is; beyond it (the outer
         * 1-2 px) the nearest lo2 pixel is used instead of the fill. */
        const int xin0 = 2, xin1 = 4 * (lo2.w - 1) + 1;   /* 0 <= x/4 - 0.375 <= lo2.w - 1 */
        for (int y0 = 0; y0 < P->h; y0 += LOW_STRIP) {
            const int n = P->h - y0 < LOW_STRIP ? P->h - y0 : LOW_STRIP;
            wp.y0 = y0;
            d->warp.affine(strip, out->stride, NULL, 0, sd_image_rowf(&lo2, 0, 0), lo2.stride, lo2.w, lo2.h,
                           P->w, n, &wp);
            for (int y = y0; y < y0 + n; y++) {
                float *o = sd_image_rowf(out, 0, y);
                const float *l = (const float *)((const char *)strip + (size_t)(y - y0) * out->stride);
                const double sy = y * 0.25 - 0.375;
                const int row_in = sy >= 0 && sy <= lo2.h - 1;
                int yi = (int)floor(sy + 0.5);
                yi = yi < 0 ? 0 : yi > lo2.h - 1 ? lo2.h - 1 : yi;
                const float *lr = sd_image_rowf(&lo2, 0, yi);
                const int a = row_in ? (xin0 < P->w ? xin0 : P->w) : P->w;
                const int b = row_in ? (xin1 + 1 < P->w ? xin1 + 1 : P->w) : P->w;
                for (int x = a; x < b; x++) o[x] -= l[x];
                for (int x = 0; x < P->w; x++) {
                    if (x == a && b > a) x = b;   /* skip the interior done above */
                    if (x >= P->w) break;
                    int xi = (int)floor(x * 0.25 - 0.375 + 0.5);
                    xi = xi < 0 ? 0 : xi > lo2.w - 1 ? lo2.w - 1 : xi;
                    o[x] -= lr[xi];
                }
            }
        }
    } else {
        double s = 0;
        for (int y = 0; y < P->h; y++) {
            const float *o = sd_image_rowf(out, 0, y);
            for (int x = 0; x < P->w; x++) s += o[x];
        }
        const float m = (float)(s / ((double)P->w * P->h));
        for (int y = 0; y < P->h; y++) {
            float *o = sd_image_rowf(out, 0, y);
            for (int x = 0; x < P->w; x++) o[x] -= m;
        }
    }
fail:
    sd_free_aligned(strip);
    sd_image_free(&lo2);
    return err;
}

static void mask_bbox(EccLevel *L)
{
    int x0 = L->tm.w, y0 = L->tm.h, x1 = -1, y1 = -1;
    for (int y = 0; y < L->tm.h; y++) {
        const uint8_t *r = L->tm.data + (size_t)y * L->tm.stride;
        for (int x = 0; x < L->tm.w; x++)
            if (r[x]) {
                if (x < x0) x0 = x;
                if (x > x1) x1 = x;
                if (y < y0) y0 = y;
                y1 = y;
            }
    }
    L->bx0 = x0; L->by0 = y0; L->bx1 = x1 + 1; L->by1 = y1 + 1;
}

/* Solve the n x n symmetric system A x = b (Gaussian elimination, partial pivoting). */
static int solve(int n, double *A, double *b, double *x)
{
    for (int c = 0; c < n; c++) {
        int piv = c;
        for (int r = c + 1; r < n; r++)
            if (fabs(A[r * n + c]) > fabs(A[piv * n + c])) piv = r;
        if (!(fabs(A[piv * n + c]) > 1e-300)) return SD_EALIGN;
        if (piv != c) {
            for (int k = 0; k < n; k++) {
                double t = A[c * n + k]; A[c * n + k] = A[piv * n + k]; A[piv * n + k] = t;
            }
            double t = b[c]; b[c] = b[piv]; b[piv] = t;
        }
        for (int r = c + 1; r < n; r++) {
            const double f = A[r * n + c] / A[c * n + c];
            for (int k = c; k < n; k++) A[r * n + k] -= f * A[c * n + k];
            b[r] -= f * b[c];
        }
    }
    for (int r = n - 1; r >= 0; r--) {
        double s = b[r];
        for (int k = r + 1; k < n; k++) s -= A[r * n + k] * x[k];
        x[r] = s / A[r * n + r];
    }
    return 0;
}

typedef struct EccSys {
    int np;
    double n;
    double JJ[64], J[8], J0[8], J1[8];
    double v[5];
} EccSys;

/* Affine sums (kernels/stats.h layout) -> system in the affine parameters
 * (a00, a10, a01, a11, tx, ty) of centred template coordinates, then reduced by C (6 x np). */
static void affine_system(const SdEccAcc *a, const double *C, int np, EccSys *s)
{
    static const int ga[6] = { 0, 1, 0, 1, 0, 1 }, mb[6] = { 1, 1, 2, 2, 0, 0 };
    static const int pidx[2][2] = { { 0, 1 }, { 1, 2 } };
    static const int midx[3][3] = { { 0, 1, 2 }, { 1, 3, 4 }, { 2, 4, 5 } };
    double JJ[36], J[6], J0[6], J1[6];
    for (int k = 0; k < 6; k++) {
        for (int l = 0; l < 6; l++)
            JJ[k * 6 + l] = a->gg[pidx[ga[k]][ga[l]]][midx[mb[k]][mb[l]]];
        J[k] = a->gv[0][ga[k]][mb[k]];
        J0[k] = a->gv[1][ga[k]][mb[k]];
        J1[k] = a->gv[2][ga[k]][mb[k]];
    }
    s->np = np;
    s->n = a->n;
    memcpy(s->v, a->v, sizeof(s->v));
    for (int i = 0; i < np; i++) {
        s->J[i] = s->J0[i] = s->J1[i] = 0;
        for (int k = 0; k < 6; k++) {
            s->J[i] += C[k * np + i] * J[k];
            s->J0[i] += C[k * np + i] * J0[k];
            s->J1[i] += C[k * np + i] * J1[k];
        }
        for (int j = 0; j < np; j++) {
            double t = 0;
            for (int k = 0; k < 6; k++)
                for (int l = 0; l < 6; l++)
                    t += C[k * np + i] * JJ[k * 6 + l] * C[l * np + j];
            s->JJ[i * np + j] = t;
        }
    }
}

static void proj_system(const SdEccProjAcc *a, EccSys *s)
{
    s->np = 8;
    s->n = a->n;
    memcpy(s->v, a->v, sizeof(s->v));
    for (int i = 0; i < 8; i++) {
        s->J[i] = a->j[i]; s->J0[i] = a->j0[i]; s->J1[i] = a->j1[i];
        for (int j = i; j < 8; j++)
            s->JJ[i * 8 + j] = s->JJ[j * 8 + i] = a->jj[i * 8 + j - (i * (i + 1)) / 2];
    }
}

/* One inverse-compositional E&P step from the sums (v0 = template, linearised through its
 * Jacobian; v1 = warped input): dp maximises the correlation of T(W(x; dp)) with I(W(x; p)).
 * The forward-additive formulas of E&P with the roles of template and image swapped. */
static int ecc_step(const EccSys *s, double *dp, double *rho)
{
    const int np = s->np;
    const double n = s->n;
    if (n < 4.0 * np + 16) return SD_EALIGN;
    const double mT = s->v[0] / n, mI = s->v[1] / n;
    const double Tn2 = s->v[2] - n * mT * mT, In2 = s->v[3] - n * mI * mI;
    const double corr = s->v[4] - n * mT * mI;
    if (!(Tn2 > 0) || !(In2 > 0)) return SD_EALIGN;
    *rho = corr / sqrt(Tn2 * In2);
    double H[64], H2[64], tp[8], ip[8], hi[8], ht[8], b[8];
    for (int i = 0; i < np; i++) {
        const double mj = s->J[i] / n;
        tp[i] = s->J0[i] - n * mj * mT;
        ip[i] = s->J1[i] - n * mj * mI;
        for (int j = 0; j < np; j++)
            H[i * np + j] = s->JJ[i * np + j] - n * mj * (s->J[j] / n);
    }
    memcpy(H2, H, sizeof(double) * np * np);
    memcpy(b, ip, sizeof(double) * np);
    if (solve(np, H2, b, hi)) return SD_EALIGN;
    memcpy(H2, H, sizeof(double) * np * np);
    memcpy(b, tp, sizeof(double) * np);
    if (solve(np, H2, b, ht)) return SD_EALIGN;
    double tpHt = 0, ipHt = 0, ipHi = 0;
    for (int i = 0; i < np; i++) { tpHt += tp[i] * ht[i]; ipHt += ip[i] * ht[i]; ipHi += ip[i] * hi[i]; }
    const double ln = Tn2 - tpHt, ld = corr - ipHt;
    double lambda;
    if (ld > 0)
        lambda = ln / ld;
    else {   /* correlation not positive after projection (E&P sec. 3.2) */
        const double den = In2 - ipHi;
        lambda = den > 0 && ln > 0 ? sqrt(ln / den) : sqrt(Tn2 / In2);
    }
    for (int i = 0; i < np; i++) dp[i] = lambda * hi[i] - ht[i];
    return 0;
}

static int motion_np(SdMotion m)
{
    return m == SD_MOTION_TRANSLATION ? 2 : m == SD_MOTION_EUCLIDEAN ? 3 :
           m == SD_MOTION_AFFINE ? 6 : 8;
}

/* Inverse-compositional update: W <- W o D(dp)^-1, D the motion's warp with parameters dp in
 * coordinates centred on (cx, cy). */
static int apply_update(SdMotion motion, SdTransform *W, const double *dp, double cx, double cy)
{
    SdTransform D, Tc, Tci, t, Di;
    sd_transform_identity(&D);
    double *m = D.m;
    if (motion == SD_MOTION_TRANSLATION) {
        m[2] = dp[0]; m[5] = dp[1];
    } else if (motion == SD_MOTION_EUCLIDEAN) {
        const double c = cos(dp[0]), s = sin(dp[0]);
        m[0] = c; m[1] = -s; m[2] = dp[1]; m[3] = s; m[4] = c; m[5] = dp[2];
    } else if (motion == SD_MOTION_AFFINE) {
        m[0] = 1 + dp[0]; m[3] = dp[1]; m[1] = dp[2]; m[4] = 1 + dp[3]; m[2] = dp[4]; m[5] = dp[5];
    } else {
        m[0] = 1 + dp[0]; m[1] = dp[1]; m[2] = dp[2];
        m[3] = dp[3]; m[4] = 1 + dp[4]; m[5] = dp[5];
        m[6] = dp[6]; m[7] = dp[7]; m[8] = 1;
    }
    sd_transform_identity(&Tc);
    Tc.m[2] = cx; Tc.m[5] = cy;
    sd_transform_identity(&Tci);
    Tci.m[2] = -cx; Tci.m[5] = -cy;
    sd_transform_mul(&Tc, &D, &t);
    sd_transform_mul(&t, &Tci, &D);
    if (sd_transform_invert(&D, &Di)) return SD_EALIGN;
    sd_transform_mul(W, &Di, &t);
    if (motion != SD_MOTION_HOMOGRAPHY) { t.m[6] = t.m[7] = 0; t.m[8] = 1; }
    else if (t.m[8] != 0) for (int i = 0; i < 9; i++) t.m[i] /= t.m[8];
    *W = t;
    return 0;
}

/* Reduction matrix C (6 x np) from the affine Jacobian to the motion's parameters. */
static void motion_C(SdMotion motion, const SdTransform *W, double *C)
{
    const int np = motion_np(motion);
    memset(C, 0, sizeof(double) * 6 * (size_t)np);
    if (motion == SD_MOTION_AFFINE) {
        for (int i = 0; i < 6; i++) C[i * 6 + i] = 1;
    } else if (motion == SD_MOTION_TRANSLATION) {
        C[4 * 2 + 0] = 1; C[5 * 2 + 1] = 1;
    } else {   /* rotation of the linear part: dA/dtheta = R' A = [[-a10, -a11], [a00, a01]] */
        const double *m = W->m;
        C[0 * 3 + 0] = -m[3];   /* a00 */
        C[1 * 3 + 0] = m[0];    /* a10 */
        C[2 * 3 + 0] = -m[4];   /* a01 */
        C[3 * 3 + 0] = m[1];    /* a11 */
        C[4 * 3 + 1] = 1; C[5 * 3 + 2] = 1;
    }
}

static double corner_move(const SdTransform *a, const SdTransform *b, const EccLevel *L)
{
    const double xs[2] = { L->bx0, L->bx1 - 1 }, ys[2] = { L->by0, L->by1 - 1 };
    double mx = 0;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            double ax, ay, bx, by;
            sd_transform_apply(a, xs[i], ys[j], &ax, &ay);
            sd_transform_apply(b, xs[i], ys[j], &bx, &by);
            const double dd = hypot(ax - bx, ay - by);
            if (dd > mx) mx = dd;
        }
    return mx;
}

/* What the iterations write: the warped input and its validity over the mask's bounding box.
 * One buffer each for every level (the finest is the largest): a level's iterations see them
 * as tiles with the level images' row stride, so the template and its gradients are read in
 * place, not copied into tiles. */
typedef struct Scratch {
    float *iw;       /* >= the finest level's plane */
    uint8_t *m;      /* >= the finest level's bounding box */
} Scratch;

/* Inverse-compositional iterations on one level: per iteration one warp of the input and one
 * pass of the moment kernel. Returns 0 or SD_EALIGN (degenerate system). */
static int run_level(const SdAlignDSP *d, EccLevel *L, const Scratch *sc, SdMotion motion, int max_iter,
                     double eps, SdTransform *W, double *rho_out, int *iters)
{
    const int bw = L->bx1 - L->bx0, bh = L->by1 - L->by0;
    if (bw < 4 || bh < 4) return SD_EALIGN;
    int err = 0;
    /* tiles over the bounding box, all with the level images' stride */
    const ptrdiff_t st = L->T.stride, mst = bw;
    float *iw = sc->iw;
    uint8_t *mk = sc->m;
    const float *tt = sd_image_rowf(&L->T, 0, L->by0) + L->bx0;
    const float *gx = sd_image_rowf(&L->gx, 0, L->by0) + L->bx0;
    const float *gy = sd_image_rowf(&L->gy, 0, L->by0) + L->bx0;
    const double cx = L->bx0 + 0.5 * (bw - 1), cy = L->by0 + 0.5 * (bh - 1);
    const int np = motion_np(motion);
    double C[48];
    SdTransform id;
    sd_transform_identity(&id);
    if (motion != SD_MOTION_HOMOGRAPHY) motion_C(motion, &id, C);
    static const double hid[9] = { 1, 0, 0, 0, 1, 0, 0, 0, 1 };
    SdTransform best = *W;
    double best_rho = -2;
    int worse = 0;
    for (int it = 0; it < max_iter; it++) {
        SdWarpParams wp;
        memcpy(wp.m, W->m, sizeof(wp.m));
        wp.x0 = L->bx0; wp.y0 = L->by0; wp.fill = 0.0f;
        sd_warp_fn fn = motion == SD_MOTION_HOMOGRAPHY ? d->warp.homog : d->warp.affine;
        fn(iw, st, mk, mst, sd_image_rowf(&L->I, 0, 0), L->I.stride, L->I.w, L->I.h, bw, bh, &wp);
        /* valid = template mask, inside the input, no invalid (NaN) input neighbour */
        for (int y = 0; y < bh; y++) {
            uint8_t *mr = mk + (size_t)y * mst;
            const uint8_t *tr = L->tm.data + (size_t)(L->by0 + y) * L->tm.stride + L->bx0;
            float *ir = (float *)((char *)iw + (size_t)y * st);
            for (int x = 0; x < bw; x++) {
                const int ok = mr[x] && tr[x] && ir[x] == ir[x];
                mr[x] = (uint8_t)ok;
                if (!ok) ir[x] = 0.0f;
            }
        }
        EccSys sys;
        if (motion == SD_MOTION_HOMOGRAPHY) {
            SdEccProjAcc acc;
            memset(&acc, 0, sizeof(acc));
            d->eccp.acc(&acc, gx, gy, tt, iw, st, mk, mst, bw, bh, (float)(L->bx0 - cx), (float)(L->by0 - cy), hid);
            proj_system(&acc, &sys);
        } else {
            SdEccAcc acc;
            memset(&acc, 0, sizeof(acc));
            d->stats.ecc(&acc, gx, gy, tt, iw, st, mk, mst, bw, bh, (float)(L->bx0 - cx), (float)(L->by0 - cy));
            affine_system(&acc, C, np, &sys);
        }
        double dp[8], rho;
        if ((err = ecc_step(&sys, dp, &rho))) break;
        (*iters)++;
        if (rho > best_rho) { best_rho = rho; best = *W; worse = 0; }
        else if (++worse >= 3) break;
        SdTransform Wn = *W;
        if ((err = apply_update(motion, &Wn, dp, cx, cy))) break;
        const double mv = corner_move(W, &Wn, L);
        *W = Wn;
        if (!(mv == mv) || mv > 0.5 * (bw + bh)) { err = SD_EALIGN; break; }
        if (mv < eps) {
            if (rho >= best_rho) best = *W;   /* the last, tiny update is kept */
            break;
        }
    }
    if (best_rho > -2) {
        *W = best;
        *rho_out = best_rho;
        err = 0;
    }
    return err;
}

int sd_align_ecc(SdCtx *ctx, const SdImage *tmpl, const SdMask *mask, const SdImage *input,
                 const SdMask *input_valid, SdMotion motion, const SdAlignOpts *opts,
                 SdTransform *W, SdAlignQC *qc)
{
    SdAlignOpts o;
    sd_align_opts_default(&o);
    if (opts) o = *opts;
    if (o.max_iter <= 0) o.max_iter = 60;
    if (!(o.eps > 0)) o.eps = 1e-3;
    if (o.min_top <= 0) o.min_top = 96;
    if (o.min_top < 16) o.min_top = 16;
    if (tmpl->w != input->w || tmpl->h != input->h || tmpl->fmt != SD_FMT_F32 ||
        input->fmt != SD_FMT_F32 || (mask && (mask->w != tmpl->w || mask->h != tmpl->h)) ||
        (input_valid && (input_valid->w != input->w || input_valid->h != input->h)) ||
        (int)motion < 0 || motion > SD_MOTION_HOMOGRAPHY)
        return sd_fail(ctx, SD_EINVAL, "ecc: image, mask or motion mismatch");
    SdAlignDSP d;
    sd__align_dsp_init(&d, ctx->cpu_flags);

    int nlev = 1;
    while (nlev < SD_ECC_MAXLEV && ((tmpl->w < tmpl->h ? tmpl->w : tmpl->h) >> nlev) >= o.min_top)
        nlev++;
    const int nP = nlev + 2 < SD_ECC_MAXLEV + 2 ? nlev + 2 : SD_ECC_MAXLEV + 2;
    SdImage PT[SD_ECC_MAXLEV + 2] = {{0}}, PI[SD_ECC_MAXLEV + 2] = {{0}};
    EccLevel L[SD_ECC_MAXLEV];
    memset(L, 0, sizeof(L));
    SdMask vm = {0};
    Scratch sc = {0};
    int err = 0, np_built = 1;
    /* luminance pyramids (level 0 borrowed from the caller) */
    PT[0] = *tmpl; PT[0].borrowed = 1; PT[0].c = 1;
    PI[0] = *input; PI[0].borrowed = 1; PI[0].c = 1;
    for (int l = 1; l < nP; l++) {
        if (PT[l - 1].w < 8 || PT[l - 1].h < 8) break;
        if ((err = sd__px_down2(&d, &PT[l - 1], &PT[l])) || (err = sd__px_down2(&d, &PI[l - 1], &PI[l])))
            goto fail;
        np_built = l + 1;
    }
    /* masks level 0 */
    for (int l = 0; l < nlev; l++) {
        EccLevel *lv = &L[l];
        const SdImage *P2T = l + 2 < np_built ? &PT[l + 2] : NULL;
        const SdImage *P2I = l + 2 < np_built ? &PI[l + 2] : NULL;
        if ((err = band_pass(&d, &PT[l], P2T, &lv->T)) || (err = band_pass(&d, &PI[l], P2I, &lv->I)) ||
            (err = sd__px_grad(&d, &lv->T, &lv->gx, &lv->gy)))
            goto fail;
        if (l == 0) {
            if ((err = sd_mask_create(&lv->tm, tmpl->w, tmpl->h))) goto fail;
            for (int y = 0; y < tmpl->h; y++)
                memset(lv->tm.data + (size_t)y * lv->tm.stride, 1, (size_t)tmpl->w);
            if (mask)
                for (int y = 0; y < tmpl->h; y++) {
                    uint8_t *r = lv->tm.data + (size_t)y * lv->tm.stride;
                    const uint8_t *s = mask->data + (size_t)y * mask->stride;
                    for (int x = 0; x < tmpl->w; x++) r[x] = s[x] ? 1 : 0;
                }
            if ((err = sd_mask_create(&vm, input->w, input->h))) goto fail;
            for (int y = 0; y < input->h; y++) {
                uint8_t *r = vm.data + (size_t)y * vm.stride;
                const uint8_t *s = input_valid ? input_valid->data + (size_t)y * input_valid->stride : NULL;
                for (int x = 0; x < input->w; x++) r[x] = s ? (s[x] ? 1 : 0) : 1;
            }
        } else {
            SdMask nv = {0};
            if ((err = sd__mask_down2(&L[l - 1].tm, &lv->tm)) || (err = sd__mask_down2(&vm, &nv)))
                goto fail;
            sd_mask_free(&vm);
            vm = nv;
        }
        /* input validity: band-pass support (~3 px here) and the gradient stencil */
        SdMask ve = {0};
        if ((err = sd_mask_create(&ve, vm.w, vm.h))) goto fail;
        for (int y = 0; y < vm.h; y++)
            memcpy(ve.data + (size_t)y * ve.stride, vm.data + (size_t)y * vm.stride, (size_t)vm.w);
        if (l + 2 < np_built) {
            /* the coarse low-pass reaches further: ~3 sigma of 1.5 px two levels up */
            err = sd__mask_erode(&ve, 4);
        } else
            err = sd__mask_erode(&ve, 3);
        for (int y = 0; !err && y < ve.h; y++) {   /* invalid input: NaN, caught after warping */
            const uint8_t *r = ve.data + (size_t)y * ve.stride;
            float *ir = sd_image_rowf(&lv->I, 0, y);
            for (int x = 0; x < ve.w; x++)
                if (!r[x]) ir[x] = NAN;
        }
        sd_mask_free(&ve);
        if (err) goto fail;
        mask_bbox(lv);
    }

    /* the finest level's plane (with the row slack SIMD tails may read) and bounding box */
    if (!(sc.iw = sd_alloc_aligned((size_t)L[0].T.stride * (size_t)L[0].T.h + 64)) ||
        !(sc.m = sd_alloc_aligned((size_t)tmpl->w * (size_t)tmpl->h + 64))) {
        err = sd_fail(ctx, SD_ENOMEM, "ecc: out of memory");
        goto fail;
    }
    SdTransform Wc = *W;
    int iters = 0, used = 0;
    double rho = NAN;
    for (int l = nlev - 1; l >= 0; l--) {
        if (L[l].bx1 - L[l].bx0 < 8 || L[l].by1 - L[l].by0 < 8) continue;
        SdTransform S, Si, Wl, t;
        level_scale(l, &S, &Si);
        sd_transform_mul(&S, &Wc, &t);
        sd_transform_mul(&t, &Si, &Wl);
        const int mi = l == 0 ? (o.max_iter / 3 > 5 ? o.max_iter / 3 : 5) : o.max_iter;
        double r = NAN;
        int e = run_level(&d, &L[l], &sc, motion, mi, o.eps, &Wl, &r, &iters);
        if (e) {
            if (used) break;   /* keep the coarser result */
            err = sd_fail(ctx, SD_EALIGN, "ecc: degenerate system at pyramid level %d", l);
            goto fail;
        }
        used++;
        rho = r;
        sd_transform_mul(&Si, &Wl, &t);
        sd_transform_mul(&t, &S, &Wc);
    }
    if (!used) {
        err = sd_fail(ctx, SD_EALIGN, "ecc: mask too small for registration");
        goto fail;
    }
    *W = Wc;
    if (qc) {
        qc->ecc = rho;
        qc->iterations = iters;
        qc->levels = nlev;
    }
fail:
    sd_free_aligned(sc.iw);
    sd_free_aligned(sc.m);
    for (int l = 0; l < nP; l++) {
        if (l > 0) { sd_image_free(&PT[l]); sd_image_free(&PI[l]); }
    }
    for (int l = 0; l < nlev; l++) level_free(&L[l]);
    sd_mask_free(&vm);
    return err;
}

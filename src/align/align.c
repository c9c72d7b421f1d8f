/* Canonical face frame (landmark similarity, one resampling of the photo) and registration of
 * follow-ups onto their baseline (ECC refinement composed with the landmark transform, the
 * original photo resampled once with the composition), with quality figures. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "skindelta/align.h"
#include "src/align/align_int.h"
#include "skindelta/regions.h"
#include "src/core/core.h"

/* ---- options */

void sd_align_opts_default(SdAlignOpts *o)
{
    memset(o, 0, sizeof(*o));
    o->iod_px = 640;
    o->iod_mm = 63;
    o->whole_max_side = 2000;
    o->motion = SD_MOTION_AFFINE;
    o->max_iter = 60;
    o->eps = 1e-3;
    o->min_top = 96;
    o->ecc_warn = 0.50;
    o->ecc_fail = 0.20;
    o->lm_rms_warn = 0.04;
    o->lm_rms_fail = 0.10;
    o->overlap_warn = 0.90;
    o->overlap_fail = 0.60;
}

static void frame_size(const SdAlignOpts *o, int *w, int *h)
{
    *w = o->frame_w > 0 ? o->frame_w : (int)lround(2.5 * o->iod_px);
    *h = o->frame_h > 0 ? o->frame_h : (int)lround(3.125 * o->iod_px);
}

static const char *const motion_names[] = { "translation", "euclidean", "affine", "homography" };

int sd_motion_parse(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (name && !strcmp(name, motion_names[i])) return i;
    return -1;
}

const char *sd_motion_name(SdMotion m)
{
    return (int)m >= 0 && m <= SD_MOTION_HOMOGRAPHY ? motion_names[m] : "?";
}

const char *sd_align_status_name(SdAlignStatus s)
{
    return s == SD_ALIGN_OK ? "ok" : s == SD_ALIGN_WARN ? "warn" : "failed";
}

/* ---- 3x3 helpers */

void sd_transform_identity(SdTransform *t)
{
    memset(t, 0, sizeof(*t));
    t->m[0] = t->m[4] = t->m[8] = 1;
}

void sd_transform_mul(const SdTransform *a, const SdTransform *b, SdTransform *ab)
{
    SdTransform r;
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            r.m[i * 3 + j] = a->m[i * 3] * b->m[j] + a->m[i * 3 + 1] * b->m[3 + j] +
                             a->m[i * 3 + 2] * b->m[6 + j];
    *ab = r;
}

int sd_transform_invert(const SdTransform *t, SdTransform *inv)
{
    const double *m = t->m;
    const double c0 = m[4] * m[8] - m[5] * m[7], c1 = m[5] * m[6] - m[3] * m[8],
                 c2 = m[3] * m[7] - m[4] * m[6];
    const double det = m[0] * c0 + m[1] * c1 + m[2] * c2;
    if (!(fabs(det) > 1e-300)) return SD_EINVAL;
    const double id = 1.0 / det;
    SdTransform r;
    r.m[0] = c0 * id; r.m[1] = (m[2] * m[7] - m[1] * m[8]) * id; r.m[2] = (m[1] * m[5] - m[2] * m[4]) * id;
    r.m[3] = c1 * id; r.m[4] = (m[0] * m[8] - m[2] * m[6]) * id; r.m[5] = (m[2] * m[3] - m[0] * m[5]) * id;
    r.m[6] = c2 * id; r.m[7] = (m[1] * m[6] - m[0] * m[7]) * id; r.m[8] = (m[0] * m[4] - m[1] * m[3]) * id;
    if (r.m[8] != 0) {   /* keep affine inverses exactly affine-normalised */
        const double k = r.m[8];
        if (m[6] == 0 && m[7] == 0) {
            r.m[6] = r.m[7] = 0;
            for (int i = 0; i < 9; i++) r.m[i] /= k;
        }
    }
    *inv = r;
    return 0;
}

void sd_transform_apply(const SdTransform *t, double x, double y, double *ox, double *oy)
{
    const double *m = t->m;
    const double z = m[6] * x + m[7] * y + m[8];
    *ox = (m[0] * x + m[1] * y + m[2]) / z;
    *oy = (m[3] * x + m[4] * y + m[5]) / z;
}

/* Linear scale of t at the point (x, y): sqrt |det J|. */
static double local_scale(const SdTransform *t, double x, double y)
{
    const double *m = t->m;
    const double z = m[6] * x + m[7] * y + m[8];
    const double u = (m[0] * x + m[1] * y + m[2]) / z, v = (m[3] * x + m[4] * y + m[5]) / z;
    const double j00 = (m[0] - u * m[6]) / z, j01 = (m[1] - u * m[7]) / z;
    const double j10 = (m[3] - v * m[6]) / z, j11 = (m[4] - v * m[7]) / z;
    return sqrt(fabs(j00 * j11 - j01 * j10));
}

/* ---- canonical similarity from landmarks */

/* Stable points and their template in IOD units around the eye midpoint (y down). The eye centres
 * (midpoints of 36/39 and 42/45) sit at (-0.5, 0) and (0.5, 0). */
#define NSTABLE 9
static const int stable_idx[NSTABLE] = { 36, 39, 42, 45, 27, 28, 29, 30, 33 };
static const double stable_tpl[NSTABLE][2] = {
    { -0.70, -0.01 }, { -0.30, 0.01 }, { 0.30, 0.01 }, { 0.70, -0.01 },
    { 0.0, 0.02 }, { 0.0, 0.22 }, { 0.0, 0.42 }, { 0.0, 0.62 }, { 0.0, 0.75 },
};

/* Least-squares similarity (2-D Umeyama without reflection) from p to q over the points with
 * use[i]; returns the RMS residual, or -1 when degenerate. */
static double fit_similarity(const double (*p)[2], const double (*q)[2], const int *use, int n,
                             double *a, double *b, double *tx, double *ty)
{
    double mpx = 0, mpy = 0, mqx = 0, mqy = 0, k = 0;
    for (int i = 0; i < n; i++)
        if (use[i]) { mpx += p[i][0]; mpy += p[i][1]; mqx += q[i][0]; mqy += q[i][1]; k++; }
    if (k < 2) return -1;
    mpx /= k; mpy /= k; mqx /= k; mqy /= k;
    double sxx = 0, sab = 0, sba = 0;
    for (int i = 0; i < n; i++) {
        if (!use[i]) continue;
        const double px = p[i][0] - mpx, py = p[i][1] - mpy, qx = q[i][0] - mqx, qy = q[i][1] - mqy;
        sxx += px * px + py * py;
        sab += px * qx + py * qy;
        sba += px * qy - py * qx;
    }
    if (!(sxx > 1e-9)) return -1;
    *a = sab / sxx;
    *b = sba / sxx;
    *tx = mqx - (*a * mpx - *b * mpy);
    *ty = mqy - (*b * mpx + *a * mpy);
    double e = 0;
    for (int i = 0; i < n; i++) {
        if (!use[i]) continue;
        const double ux = *a * p[i][0] - *b * p[i][1] + *tx - q[i][0];
        const double uy = *b * p[i][0] + *a * p[i][1] + *ty - q[i][1];
        e += ux * ux + uy * uy;
    }
    return sqrt(e / k);
}

int sd_align_similarity(const SdLandmarks *lm, const SdAlignOpts *opts, SdTransform *T, int *dropped)
{
    SdAlignOpts o;
    sd_align_opts_default(&o);
    if (opts) o = *opts;
    int fw, fh;
    frame_size(&o, &fw, &fh);
    const double iod = o.iod_px, ex = 0.5 * fw, ey = 0.4 * fh;
    double p[NSTABLE][2], q[NSTABLE][2];
    int use[NSTABLE];
    for (int i = 0; i < NSTABLE; i++) {
        p[i][0] = lm->pt[stable_idx[i]].x;
        p[i][1] = lm->pt[stable_idx[i]].y;
        if (!isfinite(p[i][0]) || !isfinite(p[i][1])) return SD_EINVAL;
        q[i][0] = ex + iod * stable_tpl[i][0];
        q[i][1] = ey + iod * stable_tpl[i][1];
        use[i] = 1;
    }
    double a, b, tx, ty;
    double rms = fit_similarity(p, q, use, NSTABLE, &a, &b, &tx, &ty);
    if (rms < 0 || !(hypot(a, b) > 1e-6)) return SD_EINVAL;
    /* Robustness to one bad point: leave each out; drop the one whose removal helps most when its
     * residual under the leave-one-out fit is an outlier (> 3x the others' RMS and > 4% IOD). */
    int drop = -1;
    double best = rms, ba = a, bb = b, btx = tx, bty = ty;
    for (int i = 0; i < NSTABLE; i++) {
        use[i] = 0;
        double a2, b2, tx2, ty2;
        const double r2 = fit_similarity(p, q, use, NSTABLE, &a2, &b2, &tx2, &ty2);
        use[i] = 1;
        if (r2 < 0) continue;
        const double ex2 = a2 * p[i][0] - b2 * p[i][1] + tx2 - q[i][0];
        const double ey2 = b2 * p[i][0] + a2 * p[i][1] + ty2 - q[i][1];
        const double ri = hypot(ex2, ey2);
        if (r2 < best && ri > 3.0 * r2 && ri > 0.04 * iod) {
            best = r2; drop = i; ba = a2; bb = b2; btx = tx2; bty = ty2;
        }
    }
    sd_transform_identity(T);
    T->m[0] = ba; T->m[1] = -bb; T->m[2] = btx;
    T->m[3] = bb; T->m[4] = ba;  T->m[5] = bty;
    if (dropped) *dropped = drop >= 0 ? stable_idx[drop] : -1;
    return 0;
}

static double photo_iod(const SdLandmarks *lm)
{
    double lx = 0, ly = 0, rx = 0, ry = 0;
    for (int i = 36; i < 42; i++) { lx += lm->pt[i].x; ly += lm->pt[i].y; }
    for (int i = 42; i < 48; i++) { rx += lm->pt[i].x; ry += lm->pt[i].y; }
    return hypot(rx - lx, ry - ly) / 6.0;
}

double sd_align_load_scale(const SdLandmarks *lm, const SdAlignOpts *opts)
{
    SdAlignOpts o;
    sd_align_opts_default(&o);
    if (opts) o = *opts;
    const double iod = photo_iod(lm);
    double s = 1.0;
    while (s > 0.125 && iod * s * 0.5 >= 1.25 * o.iod_px) s *= 0.5;
    return s;
}

/* ---- resampling */

static int warp_impl(SdCtx *ctx, const SdImage *photo, const SdTransform *T, int w, int h,
                     SdImage *dst, SdMask *valid, int cubic)
{
    SdAlignDSP d;
    sd__align_dsp_init(&d, ctx->cpu_flags);
    SdImage work = {0}, tmp = {0};
    SdTransform Ti;
    int err;
    memset(dst, 0, sizeof(*dst));
    if (valid) memset(valid, 0, sizeof(*valid));
    if (photo->fmt != SD_FMT_F32 || sd_transform_invert(T, &Ti))
        return sd_fail(ctx, SD_EINVAL, "warp: needs an F32 photo and an invertible transform");
    if ((err = sd_image_create(dst, w, h, photo->c, SD_FMT_F32)) ||
        (valid && (err = sd_mask_create(valid, w, h))))
        goto fail;
    /* Preimage of the frame in photo px, and the photo-px per frame-px scale there. */
    double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    const double cx[4] = { -0.5, w - 0.5, -0.5, w - 0.5 }, cy[4] = { -0.5, -0.5, h - 0.5, h - 0.5 };
    for (int i = 0; i < 4; i++) {
        double u, v;
        sd_transform_apply(&Ti, cx[i], cy[i], &u, &v);
        if (u < x0) x0 = u;
        if (u > x1) x1 = u;
        if (v < y0) y0 = v;
        if (v > y1) y1 = v;
    }
    double k = local_scale(&Ti, 0.5 * w, 0.5 * h);   /* photo px per frame px */
    if (!(k > 0) || !isfinite(k)) k = 1;
    const double margin = 3.0 * k + 8.0;
    int ix0 = (int)floor(x0 - margin), iy0 = (int)floor(y0 - margin);
    int ix1 = (int)ceil(x1 + margin), iy1 = (int)ceil(y1 + margin);
    if (ix0 < 0) ix0 = 0;
    if (iy0 < 0) iy0 = 0;
    if (ix1 > photo->w) ix1 = photo->w;
    if (iy1 > photo->h) iy1 = photo->h;
    if (ix1 - ix0 < 2 || iy1 - iy0 < 2)
        return 0;   /* the frame sees none of the photo: all fill, valid all 0 */
    /* Only the part of the photo the frame needs: a view when the kernel only reads it (no
     * shrinking), else a copy to shrink and blur. */
    if (k <= 1.02) {
        work = *photo;
        work.data = photo->data + (size_t)iy0 * (size_t)photo->stride + (size_t)ix0 * sizeof(float);
        work.w = ix1 - ix0;
        work.h = iy1 - iy0;
        work.borrowed = 1;
    } else if ((err = sd_image_crop(photo, ix0, iy0, ix1 - ix0, iy1 - iy0, &work)))
        goto fail;
    SdTransform M;   /* frame px -> work px */
    sd_transform_identity(&M);
    M.m[2] = -ix0; M.m[5] = -iy0;
    sd_transform_mul(&M, &Ti, &M);
    /* Shrinking: 2x2-mean reductions while the factor is >= 2, then a Gaussian for the rest. */
    while (k >= 2.0 && work.w >= 4 && work.h >= 4) {
        if ((err = sd__px_down2(&d, &work, &tmp))) goto fail;
        sd_image_free(&work);
        work = tmp;
        memset(&tmp, 0, sizeof(tmp));
        SdTransform D;   /* u' = (u - 0.5) / 2 */
        sd_transform_identity(&D);
        D.m[0] = D.m[4] = 0.5; D.m[2] = D.m[5] = -0.25;
        sd_transform_mul(&D, &M, &M);
        k *= 0.5;
    }
    if (k > 1.02)
        for (int p = 0; p < work.c; p++)
            if ((err = sd__px_blur(&d, &work, p, &work, p, 0.5 * sqrt(k * k - 1.0)))) goto fail;
    if (M.m[6] == 0 && M.m[7] == 0) {
        for (int i = 0; i < 9; i++) M.m[i] /= M.m[8];
    }
    /* Bicubic (Keys): the canonical images keep more fine texture than with bilinear, and both
     * sessions get the same kernel; clamped to the photo's [0, 1] range (no ringing overshoot). */
    if (cubic)
        sd__px_warp_cubic(&d, dst, valid, &work, M.m, 0.0f, 0.0f, 1.0f, 0, h);
    else
        sd__px_warp(&d, dst, valid, &work, M.m, 0.0f, 0, h);
    /* The crop's edges lie a margin beyond the frame's preimage or on the photo's edges, so the
     * kernel's inside/outside mask is photo coverage (to within half a frame px after 2x
     * reductions). */
    sd_image_free(&work);
    return 0;
fail:
    sd_image_free(&work);
    sd_image_free(&tmp);
    sd_image_free(dst);
    if (valid) sd_mask_free(valid);
    return sd_fail(ctx, err, "warp: %s", sd_strerror(err));
}

int sd_align_warp(SdCtx *ctx, const SdImage *photo, const SdTransform *T, int w, int h,
                  SdImage *dst, SdMask *valid)
{
    return warp_impl(ctx, photo, T, w, h, dst, valid, 1);
}

/* ---- canonical frame */

#define SD_WHOLE_SCALE 0.95

void sd_aligned_free(SdAligned *a)
{
    if (!a) return;
    sd_image_free(&a->img);
    sd_mask_free(&a->valid);
    memset(a, 0, sizeof(*a));
}

static void whole_transform(double s, SdTransform *T)
{
    sd_transform_identity(T);   /* x' = (x + 0.5) s - 0.5: pixel areas map onto pixel areas */
    T->m[0] = T->m[4] = s;
    T->m[2] = T->m[5] = 0.5 * s - 0.5;
}

static double scale_of(const SdTransform *T)
{
    return sqrt(fabs(T->m[0] * T->m[4] - T->m[1] * T->m[3]));
}

static int finish_aligned(SdCtx *ctx, const SdImage *photo, const SdLandmarks *lm,
                          const SdAlignOpts *o, const SdTransform *T, int fw, int fh, SdAligned *out)
{
    int err = sd_align_warp(ctx, photo, T, fw, fh, &out->img, &out->valid);
    if (err) return err;
    out->T = *T;
    out->scale = scale_of(T);
    out->photo_w = photo->w;
    out->photo_h = photo->h;
    out->roi_whole = o->roi_whole || !lm;
    if (o->px_per_mm > 0)
        out->px_per_mm = o->px_per_mm * out->scale;   /* user calibration is in photo px/mm */
    else
        out->px_per_mm = out->roi_whole ? 0.0 : o->iod_px / o->iod_mm;
    if (lm && !o->roi_whole) {
        out->lm.face = lm->face;
        for (int i = 0; i < SD_NLANDMARKS; i++) {
            double x, y;
            sd_transform_apply(T, lm->pt[i].x, lm->pt[i].y, &x, &y);
            out->lm.pt[i].x = (float)x;
            out->lm.pt[i].y = (float)y;
        }
        double bx0, by0, bx1, by1;
        sd_transform_apply(T, lm->face.x, lm->face.y, &bx0, &by0);
        sd_transform_apply(T, lm->face.x + lm->face.w, lm->face.y + lm->face.h, &bx1, &by1);
        out->lm.face.x = (float)fmin(bx0, bx1);
        out->lm.face.y = (float)fmin(by0, by1);
        out->lm.face.w = (float)fabs(bx1 - bx0);
        out->lm.face.h = (float)fabs(by1 - by0);
        out->has_lm = 1;
    }
    return 0;
}

int sd_align_canonical(SdCtx *ctx, const SdImage *photo, const SdLandmarks *lm,
                       const SdAlignOpts *opts, SdAligned *out)
{
    SdAlignOpts o;
    sd_align_opts_default(&o);
    if (opts) o = *opts;
    memset(out, 0, sizeof(*out));
    out->dropped_point = -1;
    if (!photo || photo->fmt != SD_FMT_F32 || (!lm && !o.roi_whole))
        return sd_fail(ctx, SD_EINVAL, "align: need an F32 photo and landmarks (or roi whole)");
    SdTransform T;
    int fw, fh;
    if (o.roi_whole) {
        /* Never the identity: an identity warp would leave the baseline unsmoothed while every
         * follow-up gets the interpolator's (phase-dependent) smoothing, a fine-texture bias of
         * ~19% in band energy. A 0.95 scale spreads the sampling phases like any follow-up's. */
        const int mx = photo->w > photo->h ? photo->w : photo->h;
        const double s = SD_WHOLE_SCALE *
            (o.whole_max_side > 0 && mx > o.whole_max_side ? (double)o.whole_max_side / mx : 1.0);
        whole_transform(s, &T);
        /* the last pixel centre still maps inside the photo */
        fw = (int)floor((photo->w - 0.5) * s + 0.5);
        fh = (int)floor((photo->h - 0.5) * s + 0.5);
        if (fw < 1) fw = 1;
        if (fh < 1) fh = 1;
    } else {
        frame_size(&o, &fw, &fh);
        if (sd_align_similarity(lm, &o, &T, &out->dropped_point))
            return sd_fail(ctx, SD_EALIGN, "align: degenerate landmarks");
    }
    int err = finish_aligned(ctx, photo, lm, &o, &T, fw, fh, out);
    if (err) sd_aligned_free(out);
    return err;
}

/* ---- follow-up registration */

static double lm_rms(const SdLandmarks *a, const SdLandmarks *b)
{
    double s = 0;
    for (int i = 0; i < SD_NLANDMARKS; i++) {
        const double dx = a->pt[i].x - b->pt[i].x, dy = a->pt[i].y - b->pt[i].y;
        s += dx * dx + dy * dy;
    }
    return sqrt(s / SD_NLANDMARKS);
}

static void qc_status(const SdAlignOpts *o, double iod, SdAlignQC *qc)
{
    char *r = qc->reason;
    const size_t rn = sizeof(qc->reason);
    qc->status = SD_ALIGN_OK;
    r[0] = 0;
    const double lr = isnan(qc->lm_rms_px) ? 0 : qc->lm_rms_px / iod;
    if (isnan(qc->ecc)) {
        qc->status = SD_ALIGN_FAILED;
        snprintf(r, rn, "ECC registration did not converge (degenerate system or too little overlap)");
    } else if (!(qc->ecc >= o->ecc_fail)) {
        qc->status = SD_ALIGN_FAILED;
        snprintf(r, rn, "ECC correlation %.3f < %.2f", qc->ecc, o->ecc_fail);
    } else if (lr > o->lm_rms_fail) {
        qc->status = SD_ALIGN_FAILED;
        snprintf(r, rn, "landmark RMS %.1f px > %.1f px", qc->lm_rms_px, o->lm_rms_fail * iod);
    } else if (!(qc->overlap >= o->overlap_fail)) {
        qc->status = SD_ALIGN_FAILED;
        snprintf(r, rn, "skin overlap %.2f < %.2f", qc->overlap, o->overlap_fail);
    } else if (qc->ecc < o->ecc_warn) {
        qc->status = SD_ALIGN_WARN;
        snprintf(r, rn, "ECC correlation %.3f < %.2f", qc->ecc, o->ecc_warn);
    } else if (lr > o->lm_rms_warn) {
        qc->status = SD_ALIGN_WARN;
        snprintf(r, rn, "landmark RMS %.1f px > %.1f px", qc->lm_rms_px, o->lm_rms_warn * iod);
    } else if (qc->overlap < o->overlap_warn) {
        qc->status = SD_ALIGN_WARN;
        snprintf(r, rn, "skin overlap %.2f < %.2f", qc->overlap, o->overlap_warn);
    }
}

/* Replace the pixels outside valid by a smooth extension of the valid ones (per row: replicate
 * beyond the ends, linear across gaps; rows without valid pixels copy the nearest row that has
 * some), so the band-pass filters of the pyramid see no fill edges (the follow-up's black
 * borders would otherwise leak into the masked area at coarse levels). */
static void fill_invalid(SdImage *L, const SdMask *valid)
{
    const int w = L->w, h = L->h;
    int prev = -1;
    for (int y = 0; y < h; y++) {
        float *r = sd_image_rowf(L, 0, y);
        const uint8_t *v = valid->data + (size_t)y * valid->stride;
        int last = -1;
        for (int x = 0; x < w; x++) {
            if (!v[x]) continue;
            if (last < 0)
                for (int k = 0; k < x; k++) r[k] = r[x];
            else if (x > last + 1)
                for (int k = last + 1; k < x; k++)
                    r[k] = r[last] + (r[x] - r[last]) * (float)(k - last) / (float)(x - last);
            last = x;
        }
        if (last < 0) continue;
        for (int k = last + 1; k < w; k++) r[k] = r[last];
        if (prev < y - 1)   /* rows above without valid pixels */
            for (int k = prev + 1; k < y; k++)
                memcpy(sd_image_rowf(L, 0, k), r, sizeof(float) * w);
        prev = y;
    }
    if (prev >= 0)
        for (int k = prev + 1; k < h; k++)
            memcpy(sd_image_rowf(L, 0, k), sd_image_rowf(L, 0, prev), sizeof(float) * w);
}

/* Registration mask in the base frame: skin both should see (face) or the valid area minus a
 * margin (whole). full (not eroded) is kept for the overlap figure. */
static int base_mask(const SdAligned *base, SdMask *reg, SdMask *full)
{
    const int w = base->img.w, h = base->img.h;
    int err;
    if (base->roi_whole || !base->has_lm) {
        if ((err = sd_mask_create(full, w, h))) return err;
        for (int y = 0; y < h; y++)
            memcpy(full->data + (size_t)y * full->stride, base->valid.data + (size_t)y * base->valid.stride, (size_t)w);
        const int mg = (int)lround(0.02 * (w < h ? w : h)) + 4;
        if ((err = sd__mask_erode(full, mg))) return err;
    } else {
        double iod = hypot(base->lm.pt[45].x + base->lm.pt[42].x - base->lm.pt[39].x - base->lm.pt[36].x,
                           base->lm.pt[45].y + base->lm.pt[42].y - base->lm.pt[39].y - base->lm.pt[36].y) * 0.5;
        if ((err = sd_regions_skin_geom(&base->lm, iod, w, h, full))) return err;
        for (int y = 0; y < h; y++) {
            uint8_t *m = full->data + (size_t)y * full->stride;
            const uint8_t *v = base->valid.data + (size_t)y * base->valid.stride;
            for (int x = 0; x < w; x++) m[x] = m[x] && v[x];
        }
    }
    if ((err = sd_mask_create(reg, w, h))) return err;
    for (int y = 0; y < h; y++)
        memcpy(reg->data + (size_t)y * reg->stride, full->data + (size_t)y * full->stride, (size_t)w);
    return 0;
}

int sd_align_followup(SdCtx *ctx, const SdAligned *base, const SdImage *photo,
                      const SdLandmarks *lm, const SdAlignOpts *opts, SdAligned *out,
                      SdAlignQC *qc)
{
    SdAlignOpts o;
    sd_align_opts_default(&o);
    if (opts) o = *opts;
    memset(out, 0, sizeof(*out));
    out->dropped_point = -1;
    SdAlignQC q;
    memset(&q, 0, sizeof(q));
    q.lm_rms_px = NAN;
    q.ecc = NAN;
    if (!base || !base->img.data || !photo || photo->fmt != SD_FMT_F32)
        return sd_fail(ctx, SD_EINVAL, "align: follow-up needs a base and an F32 photo");
    const int whole = base->roi_whole || !lm || o.roi_whole;
    const int fw = base->img.w, fh = base->img.h;
    SdImage F = {0}, Lb = {0}, Lf = {0};
    SdMask Fv = {0}, reg = {0}, full = {0};
    SdTransform T0, W, Wi, Tfin;
    int err;
    if (whole) {
        whole_transform(base->scale, &T0);
        o.roi_whole = 1;
    } else if (sd_align_similarity(lm, &o, &T0, &out->dropped_point)) {
        err = sd_fail(ctx, SD_EALIGN, "align: degenerate follow-up landmarks");
        goto fail;
    }
    /* Registration copy: the follow-up in the base frame by its own initial transform. It only
     * feeds ECC; the measured image is resampled from the original photo below. */
    /* same kernel as the base frame: a bilinear registration copy (smoother) would bias ECC */
    if ((err = warp_impl(ctx, photo, &T0, fw, fh, &F, &Fv, 1))) goto fail;
    if ((err = sd_image_luma(&base->img, &Lb)) || (err = sd_image_luma(&F, &Lf))) {
        err = sd_fail(ctx, err, "align: out of memory");
        goto fail;
    }
    sd_image_free(&F);
    fill_invalid(&Lb, &base->valid);
    fill_invalid(&Lf, &Fv);
    if ((err = base_mask(base, &reg, &full))) {
        err = sd_fail(ctx, err, "align: cannot build the registration mask");
        goto fail;
    }
    sd_transform_identity(&W);
    if (whole && (err = sd_align_coarse(ctx, &Lb, &Lf, &W))) goto fail;
    err = sd_align_ecc(ctx, &Lb, &reg, &Lf, &Fv, o.motion, &o, &W, &q);
    if (err == SD_EALIGN) {
        /* keep the initial estimate; the pair is reported as failed */
        q.ecc = NAN;
        err = 0;
    } else if (err)
        goto fail;
    sd_image_free(&Lb);
    sd_image_free(&Lf);
    sd_mask_free(&Fv);
    if (sd_transform_invert(&W, &Wi)) {
        err = sd_fail(ctx, SD_EALIGN, "align: singular registration");
        goto fail;
    }
    sd_transform_mul(&Wi, &T0, &Tfin);
    if ((err = finish_aligned(ctx, photo, whole ? NULL : lm, &o, &Tfin, fw, fh, out))) goto fail;
    out->roi_whole = whole;
    out->px_per_mm = base->px_per_mm;
    q.W = W;
    if (!whole && base->has_lm)
        q.lm_rms_px = lm_rms(&out->lm, &base->lm);
    long nf = 0, nb = 0;
    for (int y = 0; y < fh; y++) {
        const uint8_t *a = full.data + (size_t)y * full.stride, *b = out->valid.data + (size_t)y * out->valid.stride;
        for (int x = 0; x < fw; x++) { nf += a[x] != 0; nb += a[x] && b[x]; }
    }
    q.overlap = nf ? (double)nb / nf : 0.0;
    qc_status(&o, whole ? 1.0 : o.iod_px, &q);
    if (qc) *qc = q;
    sd_mask_free(&reg);
    sd_mask_free(&full);
    return 0;
fail:
    sd_image_free(&F);
    sd_image_free(&Lb);
    sd_image_free(&Lf);
    sd_mask_free(&Fv);
    sd_mask_free(&reg);
    sd_mask_free(&full);
    sd_aligned_free(out);
    if (qc) *qc = q;
    return err;
}

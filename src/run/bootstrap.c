/* The per-image uncertainty of the batch runner: a perturbation bootstrap, seeded per image from
 * its patient, view and session so that it does not depend on thread scheduling. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "src/run/run_int.h"
#include "src/core/core.h"

/* FNV-1a over the three names: a deterministic per-image seed. */
uint64_t sd__run_seed(const char *a, const char *b, const char *c)
{
    uint64_t h = 1469598103934665603ull;
    const char *s[3] = {a, b, c};
    for (int k = 0; k < 3; k++) {
        for (const char *p = s[k]; p && *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
        h = (h ^ 0xff) * 1099511628211ull;
    }
    return h;
}

static double rng_uniform(uint64_t *s)
{
    *s = sd_mix64(*s);
    return (double)(*s >> 11) * (1.0 / 9007199254740992.0);
}

/* Near-Gaussian noise, sd 0.5/255: a sum of 4 uniforms (Irwin-Hall, var 1/3) per pixel, all
 * four drawn from one 64-bit random number. */
static void add_noise(SdImage *img, uint64_t *seed)
{
    const float k = (float)((0.5 / 255.0) / sqrt(1.0 / 3.0) / 65536.0);
    uint64_t s = *seed;
    for (int p = 0; p < img->c; p++)
        for (int y = 0; y < img->h; y++) {
            float *row = sd_image_rowf(img, p, y);
            for (int x = 0; x < img->w; x++) {
                s = sd_mix64(s);
                const int32_t u4 = (int32_t)(s & 0xffff) + (int32_t)((s >> 16) & 0xffff) +
                                    (int32_t)((s >> 32) & 0xffff) + (int32_t)(s >> 48) - 131070;
                row[x] += (float)u4 * k;
            }
        }
    *seed = s;
}

/* Recapture support for the bootstrap: the part of the photo the canonical frame sees (plus the
 * interpolation margin), its origin on the 16-px grid of the JPEG blocks so that a new JPEG
 * capture quantises the same blocks as the camera's did. (A photo decoded smaller by DCT scaling
 * has its camera blocks at 8/shrink px: the recapture's 8-px blocks are then coarser than the
 * camera's, which errs towards a larger SD; a photo turned by EXIF or by the quarter-turn search
 * keeps the grid only when its sides are multiples of 16.) */
static int recapture_crop(const SdImage *photo, const SdAligned *al, int *x0, int *y0, int *x1, int *y1)
{
    SdTransform inv;
    if (sd_transform_invert(&al->T, &inv)) return -1;
    double lo[2] = {1e30, 1e30}, hi[2] = {-1e30, -1e30};
    const double cx[4] = {0, al->img.w, 0, al->img.w}, cy[4] = {0, 0, al->img.h, al->img.h};
    for (int k = 0; k < 4; k++) {
        double x, y;
        sd_transform_apply(&inv, cx[k], cy[k], &x, &y);
        lo[0] = fmin(lo[0], x); lo[1] = fmin(lo[1], y);
        hi[0] = fmax(hi[0], x); hi[1] = fmax(hi[1], y);
    }
    /* (an affine follow-up transform maps the frame to a parallelogram: its box is enough) */
    const double m = 8;
    *x0 = (int)fmax(0, floor((lo[0] - m) / 16) * 16);
    *y0 = (int)fmax(0, floor((lo[1] - m) / 16) * 16);
    *x1 = (int)fmin(photo->w, ceil(hi[0] + m));
    *y1 = (int)fmin(photo->h, ceil(hi[1] + m));
    return *x1 - *x0 >= 16 && *y1 - *y0 >= 16 ? 0 : -1;
}

/* Perturbation bootstrap: re-warp the photo with the transform shifted by U(-0.5, 0.5) px in x
 * and y, add near-Gaussian noise of 0.5/255, redo the follow-up's photometry, re-measure; the SD
 * over replicates is the per-image uncertainty (registration jitter, sensor-level noise,
 * photometry estimate). A JPEG photo is also captured again in each replicate
 * (sd_image_jpeg_recapture: each channel's exposure moved by up to 5%, saved at the photo's own
 * quality and chroma subsampling, decoded, exposure restored): JPEG quantisation of a faint
 * pigment or relief pattern changes with where its levels fall, the largest capture-to-capture
 * drift of the skin metrics (docs/METRICS.md), and a replicate without it would not see it. On
 * phantoms this predicts the between-session drift conservatively (bench_invariance --predict).
 * Other capture differences (pose, lighting) are for a repeatability study (`run --mdc`). */
int sd__run_bootstrap_sd(SdCtx *ctx, const SdImage *photo, const SdAligned *al,
                         const SdAligned *photometry_base, const SdRegions *rg,
                         const SdRunOpts *o, const SdCompression *comp, uint64_t seed,
                         double (*sd)[SD_NMETRICS])
{
    const int B = o->bootstrap, R = rg->n;
    double (*sum)[SD_NMETRICS] = calloc((size_t)R, sizeof(*sum));
    double (*sq)[SD_NMETRICS] = calloc((size_t)R, sizeof(*sq));
    double (*v)[SD_NMETRICS] = calloc((size_t)R, sizeof(*v));
    int (*cnt)[SD_NMETRICS] = calloc((size_t)R, sizeof(*cnt));
    int err = (!sum || !sq || !v || !cnt) ? SD_ENOMEM : 0;
    SdImage crop = {0};
    int cx0 = 0, cy0 = 0, cx1 = 0, cy1 = 0;
    const int recap = !err && o->bootstrap_recapture && comp && comp->jpeg_quality > 0 &&
                      recapture_crop(photo, al, &cx0, &cy0, &cx1, &cy1) == 0;
    const int subsample = comp && strcmp(comp->chroma, "4:4:4") != 0;
    if (recap) {
        /* a view, not a copy (x0 is a multiple of 16 floats: rows stay 64-byte aligned) */
        crop = *photo;
        crop.data += (size_t)cy0 * (size_t)photo->stride + (size_t)cx0 * sizeof(float);
        crop.w = cx1 - cx0;
        crop.h = cy1 - cy0;
        crop.borrowed = 1;
    }
    for (int b = 0; b < B && !err; b++) {
        SdAligned j = *al;
        memset(&j.img, 0, sizeof(j.img));
        memset(&j.valid, 0, sizeof(j.valid));
        const double dx = rng_uniform(&seed) - 0.5, dy = rng_uniform(&seed) - 0.5;
        SdTransform shift = {{1, 0, dx, 0, 1, dy, 0, 0, 1}}, Tb;
        sd_transform_mul(&shift, &al->T, &Tb);
        if (recap) {
            SdImage rc = {0};
            const SdTransform off = {{1, 0, cx0, 0, 1, cy0, 0, 0, 1}};
            SdTransform Tc;
            sd_transform_mul(&Tb, &off, &Tc);
            seed = sd_mix64(seed);
            err = sd_image_jpeg_recapture(ctx, &crop, comp->jpeg_quality, subsample, 0.05, seed, &rc);
            if (!err) err = sd_align_warp(ctx, &rc, &Tc, al->img.w, al->img.h, &j.img, &j.valid);
            sd_image_free(&rc);
        } else {
            err = sd_align_warp(ctx, photo, &Tb, al->img.w, al->img.h, &j.img, &j.valid);
        }
        if (err) break;
        add_noise(&j.img, &seed);
        /* follow-ups: the photometry is estimated again on each replicate, so its own
         * uncertainty is part of the spread */
        if (photometry_base) {
            SdPhotometry ph;
            err = sd_photometry_apply(ctx, photometry_base, &j, o->photometry, &ph);
        }
        if (!err) err = sd__run_measure(ctx, &j, rg, o, v, NULL);
        sd_image_free(&j.img);
        sd_mask_free(&j.valid);
        for (int r = 0; r < R && !err; r++)
            for (int m = 0; m < SD_NMETRICS; m++)
                if (isfinite(v[r][m])) { sum[r][m] += v[r][m]; sq[r][m] += v[r][m] * v[r][m]; cnt[r][m]++; }
    }
    for (int r = 0; r < R && !err; r++)
        for (int m = 0; m < SD_NMETRICS; m++) {
            const int n = cnt[r][m];
            if (n < 2) { sd[r][m] = NAN; continue; }
            double var = (sq[r][m] - sum[r][m] * sum[r][m] / n) / (n - 1);
            sd[r][m] = sqrt(var > 0 ? var : 0);
        }
    free(sum); free(sq); free(v); free(cnt);
    sd_image_free(&crop);
    return err;
}


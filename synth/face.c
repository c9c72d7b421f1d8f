/* Face-kind phantoms: a real portrait (samples/faces/astronaut.png, public domain) upscaled, with
 * procedural skin detail (relief, pores, spots, wrinkles) multiplied into its skin; horizontal
 * wrinkles on the forehead, radial crow's feet beside the outer eye corners. Landmarks and the
 * skin mask come from the face and regions stages. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/ops.h"
#include "skindelta/face.h"
#include "skindelta/regions.h"
#include "synth/synth.h"
#include "synth/synth_int.h"
#include "src/core/core.h"

void sd__synth_face_free(SdSynthFaceBase *b)
{
    sd_image_free(&b->lin);
    free(b->skin_w);
    free(b->wr_w);
    memset(b, 0, sizeof(*b));
}


static void eye_centre(const SdLandmarks *lm, int first, double *x, double *y)
{
    *x = *y = 0;
    for (int i = first; i < first + 6; i++) {
        *x += lm->pt[i].x / 6.0;
        *y += lm->pt[i].y / 6.0;
    }
}

/* Feathered weight map from a mask: Gaussian of the 0/1 mask. */
static int feather(SdCtx *ctx, const uint8_t *m, ptrdiff_t ms, int w, int h, double sigma, float **out)
{
    size_t fs = ((size_t)w * sizeof(float) + 63) & ~(size_t)63, bytes;
    float *a = NULL, *b = NULL;
    int err = 0;
    if (sd_mul_overflow(fs, (size_t)h, &bytes) || !(a = sd_alloc_aligned(bytes + 64)) ||
        !(b = sd_alloc_aligned(bytes + 64))) {
        sd_free_aligned(a);
        return SD_ENOMEM;
    }
    for (int y = 0; y < h; y++) {
        float *r = (float *)((uint8_t *)a + (size_t)y * fs);
        for (int x = 0; x < w; x++)
            r[x] = m[(size_t)y * (size_t)ms + (size_t)x] ? 1.0f : 0.0f;
    }
    if (sigma > 64) sigma = 64;
    if ((err = sd_op_gauss(ctx, a, (ptrdiff_t)fs, b, (ptrdiff_t)fs, w, h, (float)sigma)))
        goto done;
    float *o = malloc(sizeof(float) * (size_t)w * (size_t)h);
    if (!o) {
        err = SD_ENOMEM;
        goto done;
    }
    for (int y = 0; y < h; y++)
        memcpy(o + (size_t)y * (size_t)w, (uint8_t *)b + (size_t)y * fs, sizeof(float) * (size_t)w);
    *out = o;
done:
    sd_free_aligned(a);
    sd_free_aligned(b);
    return err;
}

int sd__synth_face_init(SdCtx *ctx, const char *path, int size, SdSynthFaceBase *fb)
{
    SdImage img = { 0 };
    SdLoadOpts lo;
    SdLandmarks lm;
    SdMask skin = { 0 }, wr = { 0 };
    int err;
    memset(fb, 0, sizeof(*fb));
    sd_load_opts_default(&lo);
    if ((err = sd_image_load(ctx, path, &lo, &img, NULL)))
        return err;
    if ((err = sd_face_find(ctx, &img, NULL, &lm, NULL)))
        goto fail;
    /* crop around the face as the canonical frame does (2.5 x 3.125 IOD, eyes' midpoint at 50% /
     * 40%) and upscale it (linear light, Lanczos-3) to `size` px tall */
    double lx, ly, rx, ry;
    eye_centre(&lm, 36, &rx, &ry);
    eye_centre(&lm, 42, &lx, &ly);
    const double iod0 = hypot(lx - rx, ly - ry), ex = 0.5 * (lx + rx), ey = 0.5 * (ly + ry);
    if (!(iod0 > 4)) {
        err = sd_fail(ctx, SD_ENOFACE, "%s: eyes too close to measure", path);
        goto fail;
    }
    const double s = (double)size / (3.125 * iod0);
    const int W = (int)lround(2.5 * iod0 * s), H = size;
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < img.h; y++) {
            float *r = sd_image_rowf(&img, c, y);
            for (int x = 0; x < img.w; x++)
                r[x] = sd_srgb_decodef(r[x]);
        }
    const double tx = 0.5 * W - s * ex, ty = 0.4 * H - s * ey;
    SdTransform T = { { s, 0, tx, 0, s, ty, 0, 0, 1 } };
    if ((err = sd_synth_warp(ctx, &img, &T, W, H, &fb->lin, NULL)))
        goto fail;
    for (int i = 0; i < SD_NLANDMARKS; i++) {
        lm.pt[i].x = (float)(s * lm.pt[i].x + tx);
        lm.pt[i].y = (float)(s * lm.pt[i].y + ty);
    }
    const double iod = iod0 * s;
    fb->lm = lm;
    fb->iod = iod;
    fb->px_per_mm = iod / 63.0;
    fb->w = W;
    fb->h = H;
    if ((err = sd_regions_skin_geom(&lm, iod, W, H, &skin)))
        goto fail;
    /* horizontal wrinkles: forehead (skin above the brows) */
    if ((err = sd_mask_create(&wr, W, H)))
        goto fail;
    double brow = 1e30;
    for (int i = 17; i <= 26; i++)
        if (lm.pt[i].y < brow) brow = lm.pt[i].y;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            if (!skin.data[(size_t)y * (size_t)skin.stride + (size_t)x])
                continue;
            int in = y < brow - 0.05 * iod;
            wr.data[(size_t)y * (size_t)wr.stride + (size_t)x] = (uint8_t)in;
        }
    if ((err = feather(ctx, skin.data, skin.stride, W, H, 1.0 * fb->px_per_mm, &fb->skin_w)) ||
        (err = feather(ctx, wr.data, wr.stride, W, H, 1.5 * fb->px_per_mm, &fb->wr_w)))
        goto fail;
    sd_mask_free(&skin);
    sd_mask_free(&wr);
    sd_image_free(&img);
    return 0;
fail:
    if (err == SD_ENOMEM)
        sd_fail(ctx, err, "synth face: out of memory");
    sd_mask_free(&skin);
    sd_mask_free(&wr);
    sd_image_free(&img);
    sd__synth_face_free(fb);
    return err;
}

/* One session: detail of a patch scene (its colour above ~5 mm removed) multiplied into the
 * face's skin, wrinkles only where wr_w says; then the camera. */
int sd__synth_face_session(SdCtx *ctx, const SdSynthFaceBase *fb, uint64_t pseed,
                           const SdSynthEffect *e, const SdSynthNuisance *n, SdImage *photo)
{
    SdSynthPatch pp = { .size = fb->w > fb->h ? fb->w : fb->h, .px_per_mm = fb->px_per_mm, .seed = pseed };
    SdImage s0 = { 0 }, s1 = { 0 }, lp = { 0 }, out = { 0 };
    const ptrdiff_t cfs = (ptrdiff_t)(((size_t)fb->w * sizeof(float) + 63) & ~(size_t)63);
    float *cf = sd_calloc_checked((size_t)cfs / sizeof(float) * (size_t)fb->h + 16, sizeof(float));
    int err;
    if (!cf)
        return sd_fail(ctx, SD_ENOMEM, "synth face: out of memory");
    if ((err = sd__synth_patch_scene_pair(ctx, &pp, e, &s0, &s1)) ||
        (err = sd_image_create(&lp, s0.w, s0.h, 3, SD_FMT_F32)) ||
        (err = sd_image_create(&out, fb->w, fb->h, 3, SD_FMT_F32)))
        goto done;
    double sig = 5.0 * fb->px_per_mm;
    if (sig > 64) sig = 64;
    for (int c = 0; c < 3; c++)
        if ((err = sd_op_gauss(ctx, sd_image_rowf(&s0, c, 0), s0.stride, sd_image_rowf(&lp, c, 0), lp.stride,
                               s0.w, s0.h, (float)sig)))
            goto done;
    /* crow's feet: grooves radiating from each outer eye corner (36: image left, 45: image
     * right), fanning +-40 deg about the outward horizontal, from 0.12 IOD out, 0.15-0.3 IOD long;
     * the patient owns 2 x 5 per side, the session draws the first count x 5 */
    {
        uint64_t r = pseed ^ 0xC0FFEEull;
        const double iod = fb->iod, ppm = fb->px_per_mm;
        int nuse = (int)lround(5.0 * e->wrinkle_count);
        for (int side = 0; side < 2; side++) {
            const SdPoint cp = fb->lm.pt[side ? 45 : 36];
            const double outward = side ? 0.0 : M_PI;   /* outward direction */
            for (int i = 0; i < 10; i++) {
                double ang = outward + (sd_synth_uniform(&r) * 2 - 1) * (40.0 * M_PI / 180);
                double r0 = (0.10 + 0.06 * sd_synth_uniform(&r)) * iod;
                double len = (0.15 + 0.15 * sd_synth_uniform(&r)) * iod;
                double bend = (sd_synth_uniform(&r) * 2 - 1) * 0.1 * len;
                double b = (0.08 + 0.2 * sd_synth_uniform(&r)) * ppm;
                double depth = 0.06 + 0.1 * sd_synth_uniform(&r), light = sd_synth_uniform(&r) * 2 - 1;
                if (i >= nuse)
                    continue;
                double ux = cos(ang), uy = sin(ang);
                double ctrl[3][2] = {
                    { cp.x + r0 * ux, cp.y + r0 * uy },
                    { cp.x + (r0 + 0.5 * len) * ux - bend * uy, cp.y + (r0 + 0.5 * len) * uy + bend * ux },
                    { cp.x + (r0 + len) * ux, cp.y + (r0 + len) * uy },
                };
                sd__synth_draw_wrinkle(cf, cfs, fb->w, fb->h, ctrl, b, depth * e->wrinkle_depth, light);
            }
        }
    }
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < fb->h; y++) {
            const float *cfr = (const float *)((const uint8_t *)cf + (size_t)y * (size_t)cfs);
            const float *f = sd_image_rowf(&fb->lin, c, y), *a = sd_image_rowf(&s0, c, y),
                        *b = sd_image_rowf(&s1, c, y), *l = sd_image_rowf(&lp, c, y);
            const float *sw = fb->skin_w + (size_t)y * (size_t)fb->w, *ww = fb->wr_w + (size_t)y * (size_t)fb->w;
            float *d = sd_image_rowf(&out, c, y);
            for (int x = 0; x < fb->w; x++) {
                double detail = a[x] > 1e-6f && l[x] > 1e-6f ? log((double)a[x] / l[x]) : 0.0;
                double wrk = a[x] > 1e-6f && b[x] > 1e-6f ? log((double)b[x] / a[x]) : 0.0;
                double v = f[x] * exp(sw[x] * (detail + ww[x] * wrk + cfr[x]));
                d[x] = (float)(v > 1 ? 1 : v);
            }
        }
    err = sd_synth_camera(ctx, &out, n, photo);
done:
    if (err == SD_ENOMEM)
        sd_fail(ctx, err, "synth face: out of memory");
    sd_image_free(&s0);
    sd_image_free(&s1);
    sd_image_free(&lp);
    sd_image_free(&out);
    free(cf);
    return err;
}

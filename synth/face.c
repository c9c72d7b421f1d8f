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
    /* the hairline: the skin's highest row between the eyes' centres */
    fb->top = H;
    for (int y = 0; y < H && fb->top == H; y++)
        for (int x = (int)rx; x <= (int)lx && x < W; x++)
            if (x >= 0 && skin.data[(size_t)y * (size_t)skin.stride + (size_t)x]) {
                fb->top = y;
                break;
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

/* ---- dress: hair strands and folds */

#define NSEG 24

/* The strand's centre line as NSEG segments. */
static void bezier_points(const double p[3][2], double pts[NSEG + 1][2])
{
    for (int i = 0; i <= NSEG; i++) {
        const double t = (double)i / NSEG, a = (1 - t) * (1 - t), b = 2 * t * (1 - t), c = t * t;
        pts[i][0] = a * p[0][0] + b * p[1][0] + c * p[2][0];
        pts[i][1] = a * p[0][1] + b * p[1][1] + c * p[2][1];
    }
}

/* Squared distance from (x, y) to the polyline pts. */
static double polyline_d2(const double pts[NSEG + 1][2], double x, double y)
{
    double best = 1e300;
    for (int i = 0; i < NSEG; i++) {
        const double ax = pts[i][0], ay = pts[i][1], dx = pts[i + 1][0] - ax, dy = pts[i + 1][1] - ay;
        const double l2 = dx * dx + dy * dy;
        double t = l2 > 0 ? ((x - ax) * dx + (y - ay) * dy) / l2 : 0;
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        const double ex = x - ax - t * dx, ey = y - ay - t * dy, d2 = ex * ex + ey * ey;
        if (d2 < best)
            best = d2;
    }
    return best;
}

/* Calls fn(x, y, d2) for every pixel of the w x h grid within r px of the strand. */
#define FOR_NEAR(pts, r, w, h, BODY) do { \
        double xmin_ = 1e30, xmax_ = -1e30, ymin_ = 1e30, ymax_ = -1e30; \
        for (int i_ = 0; i_ <= NSEG; i_++) { \
            if (pts[i_][0] < xmin_) xmin_ = pts[i_][0]; \
            if (pts[i_][0] > xmax_) xmax_ = pts[i_][0]; \
            if (pts[i_][1] < ymin_) ymin_ = pts[i_][1]; \
            if (pts[i_][1] > ymax_) ymax_ = pts[i_][1]; \
        } \
        int x0_ = (int)floor(xmin_ - (r)), x1_ = (int)ceil(xmax_ + (r)); \
        int y0_ = (int)floor(ymin_ - (r)), y1_ = (int)ceil(ymax_ + (r)); \
        if (x0_ < 0) x0_ = 0; \
        if (y0_ < 0) y0_ = 0; \
        if (x1_ > (w) - 1) x1_ = (w) - 1; \
        if (y1_ > (h) - 1) y1_ = (h) - 1; \
        for (int y = y0_; y <= y1_; y++) \
            for (int x = x0_; x <= x1_; x++) { \
                const double d2 = polyline_d2(pts, x, y); \
                if (d2 > (r) * (r)) continue; \
                BODY \
            } \
    } while (0)

int sd_synth_hair_mask(const SdSynthStrand *s, int n, const SdTransform *T, int w, int h,
                       double grow_px, SdMask *out)
{
    int err = sd_mask_create(out, w, h);
    if (err)
        return err;
    for (int k = 0; k < n; k++) {
        double p[3][2], pts[NSEG + 1][2];
        for (int j = 0; j < 3; j++) {
            const double x = s[k].p[j][0], y = s[k].p[j][1];
            p[j][0] = T ? T->m[0] * x + T->m[1] * y + T->m[2] : x;
            p[j][1] = T ? T->m[3] * x + T->m[4] * y + T->m[5] : y;
        }
        const double sc = T ? sqrt(fabs(T->m[0] * T->m[4] - T->m[1] * T->m[3])) : 1.0;
        const double r = 2.0 * s[k].sd_px * sc + grow_px;
        bezier_points(p, pts);
        FOR_NEAR(pts, r, w, h, { out->data[(size_t)y * (size_t)out->stride + (size_t)x] = 1; });
    }
    return 0;
}

/* The patient's hair colour (linear RGB): black, dark brown, brown or blond. */
static void hair_colour(uint64_t pseed, double c[3])
{
    static const double tab[4][3] = {
        { 0.020, 0.018, 0.016 }, { 0.045, 0.030, 0.020 }, { 0.120, 0.075, 0.045 }, { 0.350, 0.260, 0.140 },
    };
    memcpy(c, tab[(pseed >> 17) % 4], sizeof(tab[0]));
}

/* This session's strands in the scene's px: 6-16 falling from the hairline over the forehead,
 * 0-4 short ones across the brows. */
static int draw_strands(const SdSynthFaceBase *fb, uint64_t seed, SdSynthStrand *st)
{
    uint64_t r = seed ^ 0x4A1Bull;
    const double iod = fb->iod, ppm = fb->px_per_mm;
    const double xl = fb->lm.pt[17].x, xr = fb->lm.pt[26].x;
    double brow = 1e30;
    for (int i = 17; i <= 26; i++)
        if (fb->lm.pt[i].y < brow) brow = fb->lm.pt[i].y;
    const int nf = 6 + (int)(sd_synth_uniform(&r) * 11), nb = (int)(sd_synth_uniform(&r) * 5);
    int n = 0;
    for (int i = 0; i < nf + nb && n < SD_SYNTH_MAX_STRANDS; i++, n++) {
        const int over_brow = i >= nf;
        double x0 = xl + (xr - xl) * sd_synth_uniform(&r), y0, len, dx;
        if (!over_brow) {
            y0 = fb->top - 0.04 * iod * sd_synth_uniform(&r);
            len = (0.15 + 0.4 * sd_synth_uniform(&r)) * iod;
            dx = (sd_synth_uniform(&r) * 2 - 1) * 0.25 * iod;
        } else {
            y0 = brow - (0.03 + 0.05 * sd_synth_uniform(&r)) * iod;
            len = (0.08 + 0.12 * sd_synth_uniform(&r)) * iod;
            dx = (sd_synth_uniform(&r) * 2 - 1) * 0.2 * iod;
        }
        const double bend = (sd_synth_uniform(&r) * 2 - 1) * 0.15 * len;
        const double y1 = y0 + len, ym = 0.5 * (y0 + y1), xm = x0 + 0.5 * dx;
        st[n].p[0][0] = x0;       st[n].p[0][1] = y0;
        st[n].p[1][0] = xm + bend; st[n].p[1][1] = ym;
        st[n].p[2][0] = x0 + dx;  st[n].p[2][1] = y1;
        st[n].sd_px = (0.045 + 0.025 * sd_synth_uniform(&r)) * ppm;
        if (st[n].sd_px < 0.45)
            st[n].sd_px = 0.45;
    }
    return n;
}

/* Alpha-composite the strands (peak coverage 0.9) over the linear scene. */
static void composite_strands(SdImage *lin, const SdSynthStrand *st, int n, const double col[3])
{
    for (int k = 0; k < n; k++) {
        double pts[NSEG + 1][2];
        bezier_points(st[k].p, pts);
        const double s = st[k].sd_px, r = 3.5 * s;
        FOR_NEAR(pts, r, lin->w, lin->h, {
            const double a = 0.9 * exp(-0.5 * d2 / (s * s));
            for (int c = 0; c < 3; c++) {
                float *v = sd_image_rowf(lin, c, y) + x;
                *v = (float)(*v * (1 - a) + col[c] * a);
            }
        });
    }
}

/* The nasolabial folds: a broad groove (profile SD 1.8 mm, depth 0.3 log units, the cheek's flank
 * lit) from beside each nose wing to below the mouth corner, into the log-shading plane cf. */
static void draw_folds(const SdSynthFaceBase *fb, float *cf, ptrdiff_t cfs, double fold[2][3][2], double *sd)
{
    const double iod = fb->iod;
    *sd = 1.8 * fb->px_per_mm;
    for (int side = 0; side < 2; side++) {
        const SdPoint nose = fb->lm.pt[side ? 35 : 31], mouth = fb->lm.pt[side ? 54 : 48];
        const double out = side ? 1.0 : -1.0;
        double c[3][2] = {
            { nose.x + out * 0.07 * iod, nose.y - 0.04 * iod },
            { 0.5 * (nose.x + mouth.x) + out * 0.16 * iod, 0.5 * (nose.y + mouth.y) },
            { mouth.x + out * 0.06 * iod, mouth.y + 0.12 * iod },
        };
        memcpy(fold[side], c, sizeof(c));
        sd__synth_draw_wrinkle(cf, cfs, fb->w, fb->h, c, *sd, 0.3, side ? 0.7 : -0.7);
    }
}

/* One session: detail of a patch scene (its colour above ~5 mm removed) multiplied into the
 * face's skin, wrinkles only where wr_w says; then the camera. */
int sd__synth_face_session(SdCtx *ctx, const SdSynthFaceBase *fb, uint64_t pseed,
                           const SdSynthEffect *e, const SdSynthNuisance *n, SdSynthDress *dress,
                           SdImage *photo)
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
    double fold[2][3][2], fold_sd = 0;
    if (dress && dress->folds)
        draw_folds(fb, cf, cfs, fold, &fold_sd);
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
    if (dress) {
        SdSynthStrand st[SD_SYNTH_MAX_STRANDS];
        const int ns = dress->hair ? draw_strands(fb, dress->hair_seed, st) : 0;
        if (ns) {
            double col[3];
            hair_colour(pseed, col);
            composite_strands(&out, st, ns, col);
        }
        /* what was drawn, in the photo's px */
        SdTransform T;
        sd_synth_pose(n, fb->w, fb->h, &T);
        const double sc = n->scale > 0 ? n->scale : 1.0;
        dress->n_strands = ns;
        for (int k = 0; k < ns; k++) {
            for (int j = 0; j < 3; j++) {
                const double x = st[k].p[j][0], y = st[k].p[j][1];
                dress->strand[k].p[j][0] = T.m[0] * x + T.m[1] * y + T.m[2];
                dress->strand[k].p[j][1] = T.m[3] * x + T.m[4] * y + T.m[5];
            }
            dress->strand[k].sd_px = st[k].sd_px * sc;
        }
        dress->fold_sd_px = fold_sd * sc;
        for (int side = 0; dress->folds && side < 2; side++)
            for (int j = 0; j < 3; j++) {
                const double x = fold[side][j][0], y = fold[side][j][1];
                dress->fold[side][j][0] = T.m[0] * x + T.m[1] * y + T.m[2];
                dress->fold[side][j][1] = T.m[3] * x + T.m[4] * y + T.m[5];
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

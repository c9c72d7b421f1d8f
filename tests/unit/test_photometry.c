/* Photometry: CIEDE2000 against Sharma et al.'s published pairs; reference mode recovers a
 * white-balance/exposure change from sclera + background and leaves a treatment effect on the skin
 * intact; changing only the skin does not move the correction; chart mode recovers a 3x3 colour
 * matrix; none leaves the image alone. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/test.h"
#include "tests/lib/fixtures.h"
#include "skindelta/photometry.h"
#include "skindelta/regions.h"
#include "src/core/core.h"

static double dec(double v) { return v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4); }
static double enc(double v)
{
    v = v < 0 ? 0 : v > 1 ? 1 : v;
    return v <= 0.0031308 ? 12.92 * v : 1.055 * pow(v, 1 / 2.4) - 0.055;
}

static void test_de2000(void)
{
    static const double p[][7] = {
        { 50.0, 2.6772, -79.7751, 50.0, 0.0, -82.7485, 2.0425 },
        { 50.0, 3.1571, -77.2803, 50.0, 0.0, -82.7485, 2.8615 },
        { 50.0, 2.8361, -74.0200, 50.0, 0.0, -82.7485, 3.4412 },
        { 50.0, 0.0, 0.0, 50.0, -1.0, 2.0, 2.3669 },
        { 50.0, 2.5, 0.0, 73.0, 25.0, -18.0, 27.1492 },
    };
    for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); i++) {
        CHECK_NEAR(sd_de2000(p[i], p[i] + 3), p[i][6], 1e-4);
        CHECK_NEAR(sd_de2000(p[i] + 3, p[i]), p[i][6], 1e-4);
    }
    const double z[3] = { 40, 10, 10 };
    CHECK_NEAR(sd_de2000(z, z), 0.0, 1e-12);
}


/* The astronaut at 3x (a photo whose eyes are resolved: IOD ~125 px) in a half-size frame. */
static int base_aligned(SdCtx *ctx, SdAligned *a)
{
    SdLoadOpts lo;
    sd_load_opts_default(&lo);
    SdImage img = {0}, big = {0};
    SdLandmarks lm;
    if (sd_image_load(ctx, sd_test_path(sd_test_path(sd_test_data_dir(), "face"), "astronaut.png"), &lo, &img, NULL) ||
        sd_test_fixture_landmarks("astronaut_512x512_416_wasm.json", &lm))
        return -1;
    SdTransform S;
    sd_transform_identity(&S);
    S.m[0] = S.m[4] = 3;
    S.m[2] = S.m[5] = 1;   /* (x + 0.5) * 3 - 0.5 */
    int err = sd_align_warp(ctx, &img, &S, 1536, 1536, &big, NULL);
    for (int i = 0; i < SD_NLANDMARKS; i++) {
        lm.pt[i].x = lm.pt[i].x * 3 + 1;
        lm.pt[i].y = lm.pt[i].y * 3 + 1;
    }
    SdAlignOpts o;
    sd_align_opts_default(&o);
    o.iod_px = 320;
    if (!err) err = sd_align_canonical(ctx, &big, &lm, &o, a);
    sd_image_free(&img);
    sd_image_free(&big);
    return err;
}

static void copy_aligned(const SdAligned *a, SdAligned *b)
{
    *b = *a;
    memset(&b->img, 0, sizeof(b->img));
    memset(&b->valid, 0, sizeof(b->valid));
    CHECK(!sd_image_copy(&a->img, &b->img));
    CHECK(!sd_mask_create(&b->valid, a->valid.w, a->valid.h));
    for (int y = 0; y < a->valid.h; y++)
        memcpy(b->valid.data + (size_t)y * b->valid.stride, a->valid.data + (size_t)y * a->valid.stride, (size_t)a->valid.w);
}

/* Multiply linear RGB by g[c] where sel (may be NULL = everywhere) is set. */
static void scale_linear(SdImage *img, const SdMask *sel, const double g[3])
{
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < img->h; y++) {
            float *r = sd_image_rowf(img, c, y);
            for (int x = 0; x < img->w; x++)
                if (!sel || sel->data[(size_t)y * sel->stride + x])
                    r[x] = (float)enc(dec(r[x]) * g[c]);
        }
}

static double mean_linear(const SdImage *img, const SdMask *m, int c)
{
    double s = 0;
    long n = 0;
    for (int y = 0; y < img->h; y++)
        for (int x = 0; x < img->w; x++)
            if (m->data[(size_t)y * m->stride + x]) { s += dec(sd_image_rowf(img, c, y)[x]); n++; }
    return n ? s / n : NAN;
}

static void test_reference(void)
{
    SdCtx ctx;
    CHECK(!sd_ctx_init(&ctx));
    CHECK(!sd_init(&ctx, NULL));
    SdAligned b = {0}, f = {0};
    SdRegions rg;
    CHECK(!base_aligned(&ctx, &b));
    CHECKF(!sd_regions_build(&ctx, &b, NULL, &rg), "%s", ctx.errmsg);
    SdMask cheeks = {0};
    CHECK(!sd_mask_create(&cheeks, b.img.w, b.img.h));
    for (int y = 0; y < b.img.h; y++)
        for (int x = 0; x < b.img.w; x++)
            cheeks.data[(size_t)y * cheeks.stride + x] = rg.mask[7].data[(size_t)y * rg.mask[7].stride + x] |
                                                         rg.mask[8].data[(size_t)y * rg.mask[8].stride + x];
    /* follow-up: camera white balance/exposure change everywhere + a treatment on the cheeks */
    copy_aligned(&b, &f);
    const double cam[3] = { 1.12, 1.0, 0.90 }, treat[3] = { 0.85, 0.85, 0.85 };
    scale_linear(&f.img, NULL, cam);
    scale_linear(&f.img, &cheeks, treat);
    SdPhotometry ph;
    CHECKF(!sd_photometry_apply(&ctx, &b, &f, "reference", &ph), "%s", ctx.errmsg);
    printf("  reference: %s (%ld px)\n", ph.summary, ph.n_ref);
    CHECK(!strcmp(ph.source, "sclera+background"));
    for (int c = 0; c < 3; c++) CHECK_NEAR(ph.gain[c], 1.0 / cam[c], 0.01 / cam[c]);
    /* the treatment survives: cheeks still 15% darker in linear light */
    for (int c = 0; c < 3; c++) {
        const double r = mean_linear(&f.img, &cheeks, c) / mean_linear(&b.img, &cheeks, c);
        CHECKF(fabs(r - 0.85) < 0.015, "channel %d: cheek ratio %.4f after correction", c, r);
    }
    sd_aligned_free(&f);

    /* only the skin changes (the whole face skin by 20%): no correction */
    copy_aligned(&b, &f);
    const double face[3] = { 0.8, 0.8, 0.8 };
    scale_linear(&f.img, &rg.skin, face);
    CHECK(!sd_photometry_apply(&ctx, &b, &f, "reference", &ph));
    printf("  skin-only change: %s\n", ph.summary);
    for (int c = 0; c < 3; c++) CHECK_NEAR(ph.gain[c], 1.0, 0.005);
    sd_aligned_free(&f);

    /* none: untouched */
    copy_aligned(&b, &f);
    scale_linear(&f.img, NULL, cam);
    SdImage keep = {0};
    CHECK(!sd_image_copy(&f.img, &keep));
    CHECK(!sd_photometry_apply(&ctx, &b, &f, "none", &ph));
    CHECK(!memcmp(keep.data, f.img.data, keep.plane_bytes * 3));
    CHECK(!strcmp(ph.summary, "none"));
    CHECK(sd_photometry_apply(&ctx, &b, &f, "bogus", &ph) == SD_EINVAL);
    sd_image_free(&keep);
    sd_aligned_free(&f);
    sd_mask_free(&cheeks);
    sd_regions_free(&rg);
    sd_aligned_free(&b);
}

static void test_chart(void)
{
    SdCtx ctx;
    CHECK(!sd_ctx_init(&ctx));
    CHECK(!sd_init(&ctx, NULL));
    SdAligned b = {0}, f = {0};
    CHECK(!base_aligned(&ctx, &b));
    /* paint a 6x4 chart of distinct colours into the baseline background */
    const int cx = 20, cy = 60, pw = 30, phh = 30;
    uint64_t s = 12345;
    for (int j = 0; j < 4; j++)
        for (int i = 0; i < 6; i++) {
            float col[3];
            for (int c = 0; c < 3; c++) {
                s = s * 6364136223846793005ULL + 1442695040888963407ULL;
                col[c] = (float)(0.1 + 0.8 * (double)(s >> 11) / 9007199254740992.0);
            }
            for (int y = cy + j * phh; y < cy + (j + 1) * phh; y++)
                for (int x = cx + i * pw; x < cx + (i + 1) * pw; x++)
                    for (int c = 0; c < 3; c++) sd_image_rowf(&b.img, c, y)[x] = col[c];
        }
    /* follow-up: a camera colour matrix in linear RGB */
    copy_aligned(&b, &f);
    const double M[9] = { 0.95, 0.08, 0.0, 0.03, 0.90, 0.05, 0.0, 0.06, 0.85 };
    for (int y = 0; y < f.img.h; y++)
        for (int x = 0; x < f.img.w; x++) {
            double v[3];
            for (int c = 0; c < 3; c++) v[c] = dec(sd_image_rowf(&b.img, c, y)[x]);
            for (int c = 0; c < 3; c++)
                sd_image_rowf(&f.img, c, y)[x] = (float)enc(M[3 * c] * v[0] + M[3 * c + 1] * v[1] + M[3 * c + 2] * v[2]);
        }
    SdPhotoOpts o;
    sd_photo_opts_default(&o);
    o.mode = SD_PHOTO_CHART;
    o.chart[0] = cx; o.chart[1] = cy; o.chart[2] = 6 * pw; o.chart[3] = 4 * phh;
    SdPhotometry ph;
    CHECKF(!sd_photometry_correct(&ctx, &b, &f, &o, &ph), "%s", ctx.errmsg);
    printf("  chart: %s\n", ph.summary);
    CHECK(!strcmp(ph.source, "chart"));
    CHECK(ph.de2000 < 0.3);
    /* matrix ~ M^-1 */
    SdTransform m, mi, prod;
    memcpy(m.m, M, sizeof(M));
    memcpy(mi.m, ph.matrix, sizeof(M));
    sd_transform_mul(&mi, &m, &prod);
    for (int i = 0; i < 9; i++) CHECK_NEAR(prod.m[i], i % 4 == 0 ? 1.0 : 0.0, 0.01);
    /* a chart outside the frame is an error */
    o.chart[0] = -50;
    SdAligned g = {0};
    copy_aligned(&b, &g);
    CHECK(sd_photometry_correct(&ctx, &b, &g, &o, &ph) == SD_EINVAL);
    sd_aligned_free(&g);
    sd_aligned_free(&f);
    sd_aligned_free(&b);
}

static const SdTestCase cases[] = {
    { "de2000", test_de2000 },
    { "reference", test_reference },
    { "chart", test_chart },
};
SD_TEST_MAIN(cases)

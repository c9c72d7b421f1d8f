/* Regions: the 13 ids of DESIGN.md §4 in order, anatomy (subject's left = image right, forehead
 * above the brows, chin below the mouth), skin mask excludes eyes and lips, every region inside
 * `face`, minimum-area flags, `--roi whole`, the overlay file. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/test.h"
#include "tests/lib/fixtures.h"
#include "skindelta/regions.h"
#include "src/core/core.h"
#include "src/align/align_int.h"


static int aligned_astronaut(SdCtx *ctx, SdAligned *a)
{
    SdLoadOpts lo;
    sd_load_opts_default(&lo);
    SdImage img = {0};
    SdLandmarks lm;
    if (sd_image_load(ctx, sd_test_path(sd_test_path(sd_test_data_dir(), "face"), "astronaut.png"), &lo, &img, NULL) ||
        sd_test_fixture_landmarks("astronaut_512x512_416_wasm.json", &lm))
        return -1;
    SdAlignOpts o;
    sd_align_opts_default(&o);
    o.iod_px = 320;   /* half-size frame: faster, same geometry */
    const int err = sd_align_canonical(ctx, &img, &lm, &o, a);
    sd_image_free(&img);
    return err;
}

static void centroid(const SdMask *m, double *cx, double *cy)
{
    double sx = 0, sy = 0, n = 0;
    for (int y = 0; y < m->h; y++)
        for (int x = 0; x < m->w; x++)
            if (m->data[(size_t)y * m->stride + x]) { sx += x; sy += y; n++; }
    *cx = n ? sx / n : NAN;
    *cy = n ? sy / n : NAN;
}

static int find(const SdRegions *r, const char *name)
{
    for (int i = 0; i < r->n; i++)
        if (!strcmp(r->name[i], name)) return i;
    return -1;
}

static void test_names_and_anatomy(void)
{
    static const char *const want[13] = { "face", "forehead", "glabella", "crowsfeet_l", "crowsfeet_r",
        "undereye_l", "undereye_r", "cheek_l", "cheek_r", "nasolabial_l", "nasolabial_r", "perioral", "chin" };
    SdCtx ctx;
    CHECK(!sd_ctx_init(&ctx));
    CHECK(!sd_init(&ctx, NULL));
    SdAligned a = {0};
    SdRegions r;
    CHECK(!aligned_astronaut(&ctx, &a));
    CHECKF(!sd_regions_build(&ctx, &a, NULL, &r), "%s", ctx.errmsg);
    CHECK_EQ_INT(r.n, 13);
    for (int i = 0; i < 13 && i < r.n; i++) {
        CHECKF(!strcmp(r.name[i], want[i]) && !strcmp(sd_region_names[i], want[i]), "region %d: %s", i, r.name[i]);
        CHECKF(r.area[i] > 200, "%s: area %ld", r.name[i], r.area[i]);
    }
    /* every region is inside `face`, which is the skin mask */
    for (int i = 1; i < r.n; i++) {
        long outside = 0;
        for (int y = 0; y < a.img.h; y++)
            for (int x = 0; x < a.img.w; x++)
                outside += r.mask[i].data[(size_t)y * r.mask[i].stride + x] && !r.mask[0].data[(size_t)y * r.mask[0].stride + x];
        CHECKF(outside == 0, "%s: %ld px outside face", r.name[i], outside);
    }
    /* subject's left = image right */
    const double mid = 0.5 * (a.lm.pt[39].x + a.lm.pt[42].x);
    static const char *const pairs[4] = { "crowsfeet", "undereye", "cheek", "nasolabial" };
    for (int k = 0; k < 4; k++) {
        char nl[32], nr[32];
        snprintf(nl, sizeof(nl), "%s_l", pairs[k]);
        snprintf(nr, sizeof(nr), "%s_r", pairs[k]);
        double lx, ly, rx, ry;
        centroid(&r.mask[find(&r, nl)], &lx, &ly);
        centroid(&r.mask[find(&r, nr)], &rx, &ry);
        CHECKF(lx > mid && rx < mid, "%s: _l at x %.0f, _r at x %.0f, midline %.0f", pairs[k], lx, rx, mid);
        CHECKF(fabs(ly - ry) < 0.15 * 320, "%s: left/right at different heights %.0f %.0f", pairs[k], ly, ry);
    }
    double fx, fy, cx, cy, gx, gy;
    centroid(&r.mask[find(&r, "forehead")], &fx, &fy);
    centroid(&r.mask[find(&r, "chin")], &cx, &cy);
    centroid(&r.mask[find(&r, "glabella")], &gx, &gy);
    const double brow_y = 0.5 * (a.lm.pt[19].y + a.lm.pt[24].y);
    CHECKF(fy < brow_y, "forehead centroid %.0f not above the brows %.0f", fy, brow_y);
    CHECKF(cy > a.lm.pt[57].y, "chin centroid %.0f not below the lower lip %.0f", cy, a.lm.pt[57].y);
    CHECK(fabs(gx - mid) < 0.05 * 320);
    /* skin excludes the eye centres and the mouth centre */
    for (int e = 36; e <= 42; e += 6) {
        double ex = 0, ey = 0;
        for (int i = e; i < e + 6; i++) { ex += a.lm.pt[i].x / 6; ey += a.lm.pt[i].y / 6; }
        CHECK(!r.skin.data[(size_t)lround(ey) * r.skin.stride + lround(ex)]);
    }
    CHECK(!r.skin.data[(size_t)lround(a.lm.pt[62].y) * r.skin.stride + lround(a.lm.pt[62].x)]);
    /* the overlay is written */
    const char *png = sd_test_path(sd_test_tmp_dir(), "regions.png");
    CHECKF(!sd_regions_overlay(&ctx, &a.img, &r, png), "%s", ctx.errmsg);
    CHECK(sd_file_exists(png));
    sd_regions_free(&r);
    sd_aligned_free(&a);
}

static void test_restrict_and_warn(void)
{
    SdCtx ctx;
    CHECK(!sd_ctx_init(&ctx));
    CHECK(!sd_init(&ctx, NULL));
    SdAligned a = {0};
    SdRegions r, full;
    SdMask v = {0};
    CHECK(!aligned_astronaut(&ctx, &a));
    CHECK(!sd_regions_build(&ctx, &a, NULL, &full));
    /* a follow-up that misses the image-left half: the `_r` regions vanish and are flagged */
    CHECK(!sd_mask_create(&v, a.img.w, a.img.h));
    const int cut = (int)(0.5 * (a.lm.pt[39].x + a.lm.pt[42].x));
    for (int y = 0; y < v.h; y++)
        for (int x = cut; x < v.w; x++) v.data[(size_t)y * v.stride + x] = 1;
    CHECK(!sd_regions_build(&ctx, &a, &v, &r));
    for (int i = 0; i < r.n; i++) {
        const int right_side = strlen(r.name[i]) > 2 && !strcmp(r.name[i] + strlen(r.name[i]) - 2, "_r");
        const int left_side = strlen(r.name[i]) > 2 && !strcmp(r.name[i] + strlen(r.name[i]) - 2, "_l");
        if (right_side) CHECKF(r.warn[i] && r.area[i] == 0, "%s: warn %d area %ld", r.name[i], r.warn[i], r.area[i]);
        if (left_side) {
            CHECKF(r.area[i] == full.area[i], "%s: %ld vs %ld", r.name[i], r.area[i], full.area[i]);
            CHECK(!r.warn[i]);
        }
    }
    sd_regions_free(&r);
    sd_regions_free(&full);
    sd_mask_free(&v);
    sd_aligned_free(&a);
}

static void test_whole(void)
{
    SdCtx ctx;
    CHECK(!sd_ctx_init(&ctx));
    SdImage img = {0};
    CHECK(!sd_image_create(&img, 300, 200, 3, SD_FMT_F32));
    SdAlignOpts o;
    sd_align_opts_default(&o);
    o.roi_whole = 1;
    SdAligned a = {0};
    SdRegions r;
    CHECK(!sd_align_canonical(&ctx, &img, NULL, &o, &a));
    CHECK(a.roi_whole && !a.has_lm);
    CHECK_EQ_INT(a.img.w, 285);   /* 0.95 x: see SdAlignOpts.roi_whole */
    CHECK_EQ_INT(a.img.h, 190);
    CHECK(!sd_regions_build(&ctx, &a, NULL, &r));
    CHECK_EQ_INT(r.n, 1);
    CHECK(!strcmp(r.name[0], "whole"));
    /* the common area minus a margin of 1% of the short side + 4 px = 6 px */
    CHECK_EQ_INT(r.area[0], (285 - 12) * (190 - 12));
    CHECK(!r.mask[0].data[0]);
    sd_regions_free(&r);
    sd_aligned_free(&a);
    sd_image_free(&img);
}


/* The sliding-window erosion against a brute-force reference, both border conventions. */
static int erode_ref(const SdMask *m, int x, int y, int r, int os)
{
    for (int j = y - r; j <= y + r; j++)
        for (int i = x - r; i <= x + r; i++) {
            const int v = (i < 0 || j < 0 || i >= m->w || j >= m->h) ? os : m->data[(size_t)j * m->stride + i] != 0;
            if (!v) return 0;
        }
    return 1;
}

static void test_mask_erode(void)
{
    uint64_t s = 7;
    int bad = 0;
    for (int t = 0; t < 150; t++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        const int w = 1 + (int)((s >> 33) % 37), h = 1 + (int)((s >> 45) % 29), r = (int)((s >> 20) % 6), os = (int)((s >> 10) & 1);
        SdMask m = {0}, c = {0};
        CHECK(!sd_mask_create(&m, w, h));
        CHECK(!sd_mask_create(&c, w, h));
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                s = s * 6364136223846793005ULL + 1442695040888963407ULL;
                m.data[(size_t)y * m.stride + x] = c.data[(size_t)y * c.stride + x] = ((s >> 40) % 9) != 0;
            }
        CHECK(!sd__mask_erode_ex(&m, r, os));
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                bad += (m.data[(size_t)y * m.stride + x] != 0) != erode_ref(&c, x, y, r, os);
        sd_mask_free(&m);
        sd_mask_free(&c);
    }
    CHECK_EQ_INT(bad, 0);
}

static const SdTestCase cases[] = {
    { "names_and_anatomy", test_names_and_anatomy },
    { "restrict_and_warn", test_restrict_and_warn },
    { "whole", test_whole },
    { "mask_erode", test_mask_erode },
};
SD_TEST_MAIN(cases)

/* A photo read once (src/run/photo.c): a large upright JPEG is decoded whole as 8-bit, the face
 * stage runs once on it and only what the frame sees becomes float; scoring it gives exactly
 * the tables of the same pixels as a PNG (which never takes that path). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vips/vips.h>

#include "skindelta/skindelta.h"
#include "skindelta/run.h"
#include "src/run/run_int.h"
#include "src/core/core.h"
#include "tests/lib/test.h"

static SdCtx ctx;
static char big_jpg[2][1024], big_png[2][1024];

/* The sample face 4x larger on a grey 2448 x 2248 canvas, as a q92 JPEG, and the PNG of the
 * JPEG's decoded pixels. */
static int make_pair(void)
{
    static const char *const src[2] = {"astronaut.png", "astronaut_moved.png"};
    for (int k = 0; k < 2; k++) {
        VipsImage *in = vips_image_new_from_file(sd_test_path(sd_test_path(sd_test_data_dir(), "face"), src[k]), NULL);
        VipsImage *big = NULL, *canvas = NULL, *dec = NULL;
        double bg3[3] = {128, 126, 122};
        VipsArrayDouble *bg = vips_array_double_new(bg3, 3);
        snprintf(big_jpg[k], sizeof(big_jpg[k]), "%s", sd_test_path(sd_test_tmp_dir(), k ? "after.jpg" : "before.jpg"));
        snprintf(big_png[k], sizeof(big_png[k]), "%s", sd_test_path(sd_test_tmp_dir(), k ? "after.png" : "before.png"));
        int bad = !in || vips_resize(in, &big, 4.0, NULL) ||
                  vips_embed(big, &canvas, 200, 100, 2448, 2248, "extend", VIPS_EXTEND_BACKGROUND,
                             "background", bg, NULL) ||
                  vips_jpegsave(canvas, big_jpg[k], "Q", 92, NULL) ||
                  !(dec = vips_image_new_from_file(big_jpg[k], NULL)) || vips_pngsave(dec, big_png[k], NULL);
        vips_area_unref(VIPS_AREA(bg));
        if (in) g_object_unref(in);
        if (big) g_object_unref(big);
        if (canvas) g_object_unref(canvas);
        if (dec) g_object_unref(dec);
        if (bad) {
            printf("  libvips: %s\n", vips_error_buffer());
            vips_error_clear();
            return -1;
        }
    }
    return 0;
}

static void setup(void)
{
    static int done;
    if (done) return;
    done = 1;
    sd_ctx_init(&ctx);
    CHECK(sd_init(&ctx, "test_photo") == 0);
    CHECK(make_pair() == 0);
}

/* The crop holds the whole decode's pixels at its origin, as float. */
static int crop_differs(const SdImage *photo, const SdImage *whole, const int *crop)
{
    int bad = 0;
    for (int y = 0; y < photo->h && !bad; y += 7)
        for (int x = 0; x < photo->w && !bad; x += 5)
            for (int c = 0; c < 3; c++)
                bad |= sd_image_rowf(photo, c, y)[x] !=
                       sd_image_row8(whole, crop[1] + y)[3 * (crop[0] + x) + c] * (1.0f / 255.0f);
    return bad;
}

static void t_crop_path(void)
{
    setup();
    SdRunOpts o;
    sd_run_opts_default(&o);
    SdImage photo = {0}, whole = {0};
    SdImageInfo li;
    SdCompression comp;
    SdPhotoFace pf = {0};
    char hex[65], want[65];
    double tl, tf;
    CHECKF(sd__run_read_photo(&ctx, big_jpg[0], &o, &photo, &li, hex, &comp, &pf, &tl, &tf) == 0,
           "%s", ctx.errmsg);
    CHECK(sd_sha256_file(big_jpg[0], want) == 0 && !strcmp(hex, want));   /* the hash of the bytes read */
    CHECK_EQ_INT(comp.jpeg_quality, 92);
    /* the face stage ran once, on the whole photo as decoded, and gave what it gives there */
    CHECK(pf.done && !pf.whole.data);
    CHECK_EQ_INT(pf.w, 2448);
    CHECK_EQ_INT(pf.h, 2248);
    CHECK_EQ_INT(pf.nfaces, 1);
    char *data = NULL;
    size_t n = 0;
    CHECK(sd_read_file(big_jpg[0], 1 << 26, &data, &n) == 0);
    CHECK(sd__jpeg_decode(&ctx, big_jpg[0], data, n, 1, 1, SD_FMT_U8, SD_MAX_PIXELS_DEFAULT, &whole) == 0);
    SdLandmarks lm;
    int nf = 0;
    CHECK(sd_face_find(&ctx, &whole, &o.face, &lm, &nf) == 0);
    CHECK(!memcmp(&lm, &pf.lm, sizeof(lm)));
    CHECK(photo.fmt == SD_FMT_F32);
    CHECKF(photo.w < whole.w && photo.h <= whole.h && (long)photo.w * photo.h < (long)whole.w * whole.h / 2,
           "crop %dx%d of %dx%d", photo.w, photo.h, whole.w, whole.h);
    CHECK(pf.crop_xy[0] % 16 == 0 && pf.crop_xy[1] % 16 == 0);
    CHECK(!crop_differs(&photo, &whole, pf.crop_xy));
    CHECK(li.scale == 1.0);
    printf("  %dx%d photo: face stage once on the whole (8-bit), %dx%d float crop at (%d, %d)\n", whole.w,
           whole.h, photo.w, photo.h, pf.crop_xy[0], pf.crop_xy[1]);
    sd_image_free(&photo);
    sd_image_free(&whole);
    /* a face large for the frame (IOD 50 px asked): decoded again DCT-scaled 1/2, the
     * face stage left to the caller on those pixels */
    o.align.iod_px = 50;
    o.align.frame_w = 100;
    o.align.frame_h = 125;
    CHECKF(sd__run_read_photo(&ctx, big_jpg[0], &o, &photo, &li, hex, &comp, &pf, &tl, &tf) == 0,
           "%s", ctx.errmsg);
    CHECK(!pf.done && pf.whole.fmt == SD_FMT_U8);
    CHECK_EQ_INT(pf.whole.w, 1224);
    CHECK_EQ_INT(pf.whole.h, 1124);
    CHECK(li.scale == 0.5);
    CHECK(sd__jpeg_decode(&ctx, big_jpg[0], data, n, 2, 1, SD_FMT_U8, SD_MAX_PIXELS_DEFAULT, &whole) == 0);
    CHECK(!memcmp(whole.data, pf.whole.data, (size_t)whole.w * whole.h * 3));
    CHECK(photo.w < whole.w && !crop_differs(&photo, &whole, pf.crop_xy));
    sd_image_free(&photo);
    sd_image_free(&whole);
    sd_image_free(&pf.whole);
    free(data);
    sd_run_opts_default(&o);
    /* without pf: the whole photo as float */
    CHECK(sd__run_read_photo(&ctx, big_jpg[0], &o, &photo, &li, hex, NULL, NULL, &tl, &tf) == 0);
    CHECK_EQ_INT(photo.w, 2448);
    sd_image_free(&photo);
}

static char *slurp(const char *dir, const char *name)
{
    char *d = NULL;
    size_t n;
    return sd_read_file(sd_test_path(dir, name), 1 << 26, &d, &n) ? NULL : d;
}

static void t_same_tables(void)
{
    setup();
    char out[2][1024];
    for (int k = 0; k < 2; k++) {
        SdCatalog cat;
        CHECKF(sd_catalog_pair(&ctx, k ? big_png[0] : big_jpg[0], k ? big_png[1] : big_jpg[1], &cat) == 0, "%s", ctx.errmsg);
        snprintf(out[k], sizeof(out[k]), "%s", sd_test_path(sd_test_tmp_dir(), k ? "out_png" : "out_jpg"));
        SdRunOpts o;
        sd_run_opts_default(&o);
        o.out_dir = out[k];
        o.jobs = 1;
        o.save_images = 0;
        o.report = 0;
        o.noise_model = "none";
        SdRunSummary sum;
        CHECKF(sd_run_batch(&ctx, &cat, &o, &sum) == 0, "%s", ctx.errmsg);
        CHECK_EQ_INT(sum.images_failed, 0);
        sd_catalog_free(&cat);
    }
    static const char *const tables[] = {"measurements.csv", "alignment.csv"};
    for (int t = 0; t < 2; t++) {
        char *a = slurp(out[0], tables[t]), *b = slurp(out[1], tables[t]);
        CHECKF(a && b && !strcmp(a, b), "%s: the cropped JPEG and the PNG of its pixels differ", tables[t]);
        free(a);
        free(b);
    }
}

static const SdTestCase cases[] = {
    {"large upright JPEG: one read, one face stage on the 8-bit whole, float crop for the frame", t_crop_path},
    {"cropped JPEG scores exactly as the PNG of its pixels", t_same_tables},
};

SD_TEST_MAIN(cases)

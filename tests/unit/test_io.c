/* Image loading: good inputs in every layout libvips gives us, and the hostile/broken inputs of
 * issue 2, each generated here (tests/lib/badinputs.c) and required to fail with a clear message
 * naming the file — no crash, no leak (ASan run). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <vips/vips.h>

#include "tests/lib/test.h"
#include "tests/lib/badinputs.h"
#include "skindelta/skindelta.h"
#include "src/core/core.h"

static SdCtx ctx;
static const char *dir;

static void setup(void)
{
    static int done;
    if (done) return;
    done = 1;
    sd_ctx_init(&ctx);
    CHECK(sd_init(&ctx, "test") == 0);
    dir = sd_test_tmp_dir();
    CHECK(sd_make_bad_inputs(dir) == 0);
}

static int load(const char *name, SdImage *img, SdImageInfo *info)
{
    SdLoadOpts o;
    sd_load_opts_default(&o);
    sd_clear_error(&ctx);
    return sd_image_load(&ctx, sd_test_path(dir, name), &o, img, info);
}

/* A failure must be the expected kind and name the file in the message. */
static void expect_fail(const char *name, int want)
{
    SdImage img;
    int err = load(name, &img, NULL);
    CHECKF(err == want, "%s: got %s (%s), want %s", name, sd_errname(err), ctx.errmsg, sd_errname(want));
    CHECKF(strstr(ctx.errmsg, name) != NULL, "%s: message does not name the file: %s", name, ctx.errmsg);
    CHECKF(strchr(ctx.errmsg, '\n') == NULL, "%s: message is not one line: %s", name, ctx.errmsg);
    CHECK(img.data == NULL);
    printf("  %s -> %s: %s\n", name, sd_errname(err), ctx.errmsg);
    if (!err) sd_image_free(&img);
}

static void t_empty(void)      { setup(); expect_fail("empty.jpg", SD_EFORMAT); }
static void t_truncated(void)  { setup(); expect_fail("truncated.jpg", SD_EFORMAT); }
static void t_garbage(void)    { setup(); expect_fail("garbage_after_header.jpg", SD_EFORMAT); }
static void t_bomb(void)       { setup(); expect_fail("huge_100000x100000.png", SD_ELIMIT); }
static void t_textjpg(void)    { setup(); expect_fail("text.jpg", SD_EFORMAT); }
static void t_dirjpg(void)     { setup(); expect_fail("folder.jpg", SD_EIO); }
static void t_missing(void)    { setup(); expect_fail("does_not_exist.png", SD_EIO); }

static void t_unreadable(void)
{
    setup();
    if (geteuid() == 0) {
        /* root reads through permissions: a dangling link is the unreadable case we can make */
        expect_fail("dangling_link.png", SD_EIO);
    } else {
        expect_fail("unreadable.png", SD_EIO);
    }
}

static void t_one_pixel(void)
{
    setup();
    SdImage img;
    CHECK(load("one_pixel.png", &img, NULL) == 0);
    CHECK(img.w == 1 && img.h == 1 && img.c == 3);
    CHECK_NEAR(sd_image_rowf(&img, 0, 0)[0], 200 / 255.0, 1e-6);
    sd_image_free(&img);
}

static void t_grey16(void)
{
    setup();
    SdImage img;
    SdImageInfo info;
    CHECK(load("grey16.png", &img, &info) == 0);
    CHECK(img.c == 3 && img.w == 37 && img.h == 21);
    CHECK_EQ_INT(info.bits, 16);
    /* the generator wrote value 1000*x + 7 at column x: check 16-bit precision survives */
    for (int x = 0; x < img.w; x++) {
        double want = (1000.0 * x + 7) / 65535.0;
        CHECK_NEAR(sd_image_rowf(&img, 0, 3)[x], want, 1e-6);
        CHECK_NEAR(sd_image_rowf(&img, 2, 3)[x], want, 1e-6);
    }
    sd_image_free(&img);
}

static void t_cmyk(void)
{
    setup();
    SdImage img;
    SdImageInfo info;
    CHECK(load("cmyk.jpg", &img, &info) == 0);
    CHECK(img.c == 3);
    CHECK_EQ_INT(info.orig_bands, 4);
    /* generator: C=0,M=0,Y=0,K=0 (white) left half, K=255 (black) right half */
    CHECKF(sd_image_rowf(&img, 1, 10)[2] > 0.85, "white side %f", sd_image_rowf(&img, 1, 10)[2]);
    CHECKF(sd_image_rowf(&img, 1, 10)[img.w - 3] < 0.35, "black side %f", sd_image_rowf(&img, 1, 10)[img.w - 3]);
    sd_image_free(&img);
}

static void t_exif_rotated(void)
{
    setup();
    SdImage img;
    SdImageInfo info;
    /* stored 80x40 landscape with a red marker top-left, orientation 6 (rotate 90 cw to view) */
    CHECK(load("exif_rot6.jpg", &img, &info) == 0);
    CHECK_EQ_INT(info.orientation, 6);
    CHECK_EQ_INT(img.w, 40);
    CHECK_EQ_INT(img.h, 80);
    /* after a 90 cw rotation the stored top-left lands top-right */
    float r_tr = sd_image_rowf(&img, 0, 3)[img.w - 4], g_tr = sd_image_rowf(&img, 1, 3)[img.w - 4];
    float r_tl = sd_image_rowf(&img, 0, 3)[3];
    CHECKF(r_tr > 0.7 && g_tr < 0.3, "marker not at top-right: r=%f g=%f", r_tr, g_tr);
    CHECKF(r_tl < 0.3, "top-left should be dark: %f", r_tl);
    CHECK(strcmp(info.datetime, "2024:03:05 10:20:30") == 0);
    sd_image_free(&img);
}

static void t_alpha_and_u8(void)
{
    setup();
    SdImage img;
    SdLoadOpts o;
    sd_load_opts_default(&o);
    o.fmt = SD_FMT_U8;
    SdImageInfo info;
    CHECK(sd_image_load(&ctx, sd_test_path(dir, "rgba.png"), &o, &img, &info) == 0);
    CHECK(img.c == 3 && img.fmt == SD_FMT_U8 && info.had_alpha);
    CHECK(sd_image_row8(&img, 0)[0] == 10 && sd_image_row8(&img, 0)[1] == 20 && sd_image_row8(&img, 0)[2] == 30);
    sd_image_free(&img);
}

static void t_shrink_on_load(void)
{
    setup();
    SdImage img;
    SdLoadOpts o;
    sd_load_opts_default(&o);
    o.scale = 0.25;
    SdImageInfo info;
    CHECK(sd_image_load(&ctx, sd_test_path(dir, "big.jpg"), &o, &img, &info) == 0);
    CHECK_EQ_INT(info.orig_w, 1600);
    CHECK_EQ_INT(img.w, 400);
    CHECK_EQ_INT(img.h, 300);
    CHECK_NEAR(info.scale, 0.25, 1e-9);
    sd_image_free(&img);
    /* a scale between steps picks the largest power-of-two shrink that stays at or above it */
    o.scale = 0.3;
    CHECK(sd_image_load(&ctx, sd_test_path(dir, "big.jpg"), &o, &img, &info) == 0);
    CHECK_EQ_INT(img.w, 800);
    sd_image_free(&img);
    /* limits */
    o.scale = 1.0;
    o.max_pixels = 1000;
    CHECK(sd_image_load(&ctx, sd_test_path(dir, "big.jpg"), &o, &img, &info) == SD_ELIMIT);
    o.max_pixels = 0;
    o.max_bytes = 100;
    CHECK(sd_image_load(&ctx, sd_test_path(dir, "big.jpg"), &o, &img, &info) == SD_ELIMIT);
    CHECK(strstr(ctx.errmsg, "big.jpg") != NULL);
}

static void t_save_roundtrip(void)
{
    setup();
    SdImage a, b;
    CHECK(sd_image_create(&a, 33, 17, 3, SD_FMT_F32) == 0);
    for (int p = 0; p < 3; p++)
        for (int y = 0; y < a.h; y++)
            for (int x = 0; x < a.w; x++)
                sd_image_rowf(&a, p, y)[x] = ((x * 7 + y * 3 + p * 50) % 256) / 255.0f;
    const char *path = sd_test_path(dir, "roundtrip.png");
    CHECK(sd_image_save(&ctx, &a, path, 0) == 0);
    SdLoadOpts o;
    sd_load_opts_default(&o);
    CHECK(sd_image_load(&ctx, path, &o, &b, NULL) == 0);
    CHECK(b.w == 33 && b.h == 17);
    double maxd = 0;
    for (int p = 0; p < 3; p++)
        for (int y = 0; y < a.h; y++)
            for (int x = 0; x < a.w; x++) {
                double d = fabs(sd_image_rowf(&a, p, y)[x] - sd_image_rowf(&b, p, y)[x]);
                if (d > maxd) maxd = d;
            }
    CHECK(maxd < 1e-6);
    CHECK(sd_image_save(&ctx, &a, sd_test_path(dir, "x.bmpx"), 0) == SD_EINVAL);
    CHECK(sd_image_save(&ctx, &a, "/nonexistent_dir_sd/x.png", 0) == SD_EIO);
    CHECK(strstr(ctx.errmsg, "/nonexistent_dir_sd/x.png") != NULL);
    sd_image_free(&a);
    sd_image_free(&b);
}

/* JPEG compression read from the markers: the IJG quality the file was saved with, libvips'
 * automatic subsampling (4:2:0 below q90, 4:4:4 from q90), and no answer for non-JPEG or damaged
 * headers. */
static void t_jpeg_info(void)
{
    setup();
    SdImage a;
    CHECK(sd_image_create(&a, 40, 24, 3, SD_FMT_F32) == 0);
    for (int p = 0; p < 3; p++)
        for (int y = 0; y < a.h; y++)
            for (int x = 0; x < a.w; x++)
                sd_image_rowf(&a, p, y)[x] = ((x * 5 + y * 9 + p * 70) % 256) / 255.0f;
    static const int qs[] = { 30, 75, 85, 89, 90, 95, 100 };
    for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
        const char *path = sd_test_path(dir, "q.jpg");
        int q = -1;
        char chroma[8];
        CHECK(sd_image_save(&ctx, &a, path, qs[i]) == 0);
        CHECK_EQ_INT(sd_jpeg_info(path, &q, chroma), 0);
        CHECKF(q == qs[i], "saved at q%d, read q%d", qs[i], q);
        CHECKF(!strcmp(chroma, qs[i] < 90 ? "4:2:0" : "4:4:4"), "q%d: chroma %s", qs[i], chroma);
        SdImageInfo info;
        CHECK(sd_image_probe(&ctx, path, &info) == 0);
        CHECK(info.jpeg_quality == qs[i] && !strcmp(info.chroma, chroma));
    }
    int q;
    char chroma[8];
    const char *png = sd_test_path(dir, "roundtrip_ji.png");
    CHECK(sd_image_save(&ctx, &a, png, 0) == 0);
    CHECK(sd_jpeg_info(png, &q, chroma) == SD_EFORMAT && q == 0 && chroma[0] == 0);
    (void)sd_jpeg_info(sd_test_path(dir, "truncated.jpg"), &q, chroma);   /* headers intact or not: no crash */
    CHECK(sd_jpeg_info(sd_test_path(dir, "empty.jpg"), &q, chroma) == SD_EFORMAT);
    CHECK(sd_jpeg_info(sd_test_path(dir, "text.jpg"), &q, chroma) == SD_EFORMAT);
    CHECK(sd_jpeg_info(sd_test_path(dir, "does_not_exist.jpg"), &q, chroma) == SD_EIO);
    /* a header cut inside the quantisation table */
    {
        const char *cut = sd_test_path(dir, "cut_dqt.jpg");
        unsigned char buf[64];
        FILE *f = fopen(sd_test_path(dir, "q.jpg"), "rb");
        size_t n = f ? fread(buf, 1, sizeof(buf), f) : 0;
        if (f) fclose(f);
        f = fopen(cut, "wb");
        CHECK(f != NULL && n == sizeof(buf));
        if (f) {
            fwrite(buf, 1, n, f);
            fclose(f);
        }
        CHECK(sd_jpeg_info(cut, &q, chroma) == SD_EFORMAT && q == 0);
    }
    sd_image_free(&a);
}

static void t_image_helpers(void)
{
    SdImage a, c, u, f;
    CHECK(sd_image_create(&a, 0, 5, 3, SD_FMT_F32) == SD_EINVAL);
    CHECK(sd_image_create(&a, 1 << 21, 5, 3, SD_FMT_F32) == SD_EINVAL);
    CHECK(sd_image_create(&a, 65, 9, 3, SD_FMT_F32) == 0);
    CHECK(a.stride % 64 == 0 && ((uintptr_t)a.data % 64) == 0 && a.stride >= 65 * 4);
    for (int y = 0; y < 9; y++) for (int x = 0; x < 65; x++) sd_image_rowf(&a, 1, y)[x] = (float)(x + y) / 100;
    CHECK(sd_image_crop(&a, 60, 7, 10, 10, &c) == 0);
    CHECK(c.w == 5 && c.h == 2);
    CHECK_NEAR(sd_image_rowf(&c, 1, 1)[4], (64 + 8) / 100.0, 1e-7);
    CHECK(sd_image_crop(&a, 70, 0, 3, 3, &f) == SD_EINVAL);
    CHECK(sd_image_to_u8(&c, &u) == 0);
    CHECK(u.fmt == SD_FMT_U8 && sd_image_row8(&u, 1)[4 * 3 + 1] == 184);
    CHECK(sd_image_to_f32(&u, &f) == 0);
    CHECK_NEAR(sd_image_rowf(&f, 1, 1)[4], 184 / 255.0, 1e-7);
    sd_image_free(&a); sd_image_free(&c); sd_image_free(&u); sd_image_free(&f);
}


/* In-memory JPEG capture: the round trip equals saving as .jpg at that quality and loading it;
 * a recapture moves the JPEG error (a new draw for another seed) but not the exposure, which it
 * restores; odd sizes and bad arguments. */
static void t_jpeg_recapture(void)
{
    setup();
    SdImage a, f, r0, r1, r2, r3;
    CHECK(sd_image_create(&a, 61, 37, 3, SD_FMT_F32) == 0);
    for (int p = 0; p < 3; p++)
        for (int y = 0; y < a.h; y++)
            for (int x = 0; x < a.w; x++) {
                /* a skin-like tone with a faint pattern of a level or two, on 8-bit levels */
                const double v = (0.55 - 0.12 * p) + 0.006 * sin(x * 0.7 + p) * cos(y * 0.45) + 0.003 * ((x * 13 + y * 7) % 5);
                sd_image_rowf(&a, p, y)[x] = (float)(lrint(v * 255) / 255.0);
            }
    const char *path = sd_test_path(dir, "rt.jpg");
    CHECK(sd_image_save(&ctx, &a, path, 85) == 0);
    SdLoadOpts o;
    sd_load_opts_default(&o);
    CHECK(sd_image_load(&ctx, path, &o, &f, NULL) == 0);
    CHECK(sd_image_jpeg_roundtrip(&ctx, &a, 85, 1, &r0) == 0);
    CHECK(r0.w == 61 && r0.h == 37 && r0.c == 3);
    double maxd = 0;
    for (int p = 0; p < 3; p++)
        for (int y = 0; y < a.h; y++)
            for (int x = 0; x < a.w; x++)
                maxd = fmax(maxd, fabs(sd_image_rowf(&f, p, y)[x] - sd_image_rowf(&r0, p, y)[x]));
    CHECKF(maxd < 1e-6, "round trip vs file: %g", maxd);   /* q85: libvips subsamples, as asked */
    CHECK(sd_image_jpeg_recapture(&ctx, &a, 85, 1, 0.05, 1, &r1) == 0);
    CHECK(sd_image_jpeg_recapture(&ctx, &a, 85, 1, 0.05, 1, &r2) == 0);
    CHECK(sd_image_jpeg_recapture(&ctx, &a, 85, 1, 0.05, 2, &r3) == 0);
    double d12 = 0, d13 = 0, m[4][3] = {{0}};
    for (int p = 0; p < 3; p++)
        for (int y = 0; y < a.h; y++)
            for (int x = 0; x < a.w; x++) {
                d12 = fmax(d12, fabs(sd_image_rowf(&r1, p, y)[x] - sd_image_rowf(&r2, p, y)[x]));
                d13 = fmax(d13, fabs(sd_image_rowf(&r1, p, y)[x] - sd_image_rowf(&r3, p, y)[x]));
                m[0][p] += sd_image_rowf(&a, p, y)[x];
                m[1][p] += sd_image_rowf(&r1, p, y)[x];
                m[2][p] += sd_image_rowf(&r3, p, y)[x];
            }
    CHECKF(d12 == 0, "same seed, different result: %g", d12);
    CHECKF(d13 > 0.5 / 255, "another seed gave the same JPEG error (max diff %g)", d13);
    for (int p = 0; p < 3; p++) {
        /* exposure restored: the channel mean within a level of the original's (an exposure left
         * at 0.95-1.05 would move it by ~3 levels; JPEG's own DC quantisation moves a few blocks'
         * means by a fraction of a level) */
        const double n = (double)a.w * a.h;
        CHECKF(fabs(m[1][p] - m[0][p]) / n < 1.0 / 255 && fabs(m[2][p] - m[0][p]) / n < 1.0 / 255,
               "channel %d mean %g / %g vs %g", p, m[1][p] / n, m[2][p] / n, m[0][p] / n);
    }
    /* 4:4:4 keeps more of the chroma than 4:2:0 at the same quality */
    SdImage s444;
    CHECK(sd_image_jpeg_roundtrip(&ctx, &a, 95, 0, &s444) == 0);
    double e444 = 0, e420 = 0;
    for (int y = 0; y < a.h; y++)
        for (int x = 0; x < a.w; x++) {
            e444 += fabs(sd_image_rowf(&s444, 2, y)[x] - sd_image_rowf(&a, 2, y)[x]);
            e420 += fabs(sd_image_rowf(&r0, 2, y)[x] - sd_image_rowf(&a, 2, y)[x]);
        }
    CHECKF(e444 < e420, "q95 4:4:4 error %g vs q85 4:2:0 %g", e444, e420);
    SdImage bad;
    CHECK(sd_image_jpeg_roundtrip(&ctx, &a, 0, 1, &bad) == SD_EINVAL);
    CHECK(sd_image_jpeg_recapture(&ctx, &a, 101, 1, 0.05, 1, &bad) == SD_EINVAL);
    sd_image_free(&a); sd_image_free(&f); sd_image_free(&r0); sd_image_free(&r1);
    sd_image_free(&r2); sd_image_free(&r3); sd_image_free(&s444);
}

/* A w x h JPEG in memory made by libvips (smooth gradients + texture, the EXIF orientation tag
 * o, chroma 4:2:0 or 4:4:4, 1 or 3 bands): *buf is g_free'd by the caller. */
static int make_jpeg(int w, int h, int bands, int o, int subsample, void **buf, size_t *n)
{
    uint8_t *px = malloc((size_t)w * h * bands);
    if (!px) return -1;
    uint64_t seed = 7;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < bands; c++) {
                const int v = (x * 255 / w + y * 97 / h + c * 60) + (int)(sd_splitmix64(&seed) % 40);
                px[((size_t)y * w + x) * bands + c] = (uint8_t)(v % 256);
            }
    VipsImage *im = vips_image_new_from_memory(px, (size_t)w * h * bands, w, h, bands, VIPS_FORMAT_UCHAR), *cp = NULL;
    int r = -1;
    if (im) {
        im->Type = bands == 1 ? VIPS_INTERPRETATION_B_W : VIPS_INTERPRETATION_sRGB;
        if (!vips_copy(im, &cp, NULL)) {
            vips_image_set_int(cp, VIPS_META_ORIENTATION, o);
            r = vips_jpegsave_buffer(cp, buf, n, "Q", 90, "subsample_mode",
                                     subsample ? VIPS_FOREIGN_SUBSAMPLE_ON : VIPS_FOREIGN_SUBSAMPLE_OFF, NULL);
            g_object_unref(cp);
        }
        g_object_unref(im);
    }
    free(px);
    return r;
}

static double max_diff(const SdImage *a, const SdImage *b)
{
    if (a->w != b->w || a->h != b->h || a->fmt != b->fmt) return INFINITY;
    double m = 0;
    for (int y = 0; y < a->h; y++)
        for (int c = 0; c < 3; c++) {
            if (a->fmt == SD_FMT_U8 && c) break;
            for (int x = 0; x < (a->fmt == SD_FMT_U8 ? 3 * a->w : a->w); x++) {
                const double d = a->fmt == SD_FMT_U8 ? fabs((double)sd_image_row8(a, y)[x] - sd_image_row8(b, y)[x]) / 255.0
                                                     : fabs((double)sd_image_rowf(a, c, y)[x] - sd_image_rowf(b, c, y)[x]);
                if (d > m) m = d;
            }
        }
    return m;
}

/* The direct libjpeg-turbo path (sd__jpeg_decode) against libvips' decode of the same bytes:
 * every EXIF orientation, grey and colour, 4:2:0 and 4:4:4, DCT scaling 1..1/8, float and 8-bit. */
static void t_direct_jpeg(void)
{
    setup();
    int cases = 0;
    double worst = 0;
    for (int o = 1; o <= 8; o++)
        for (int k = 0; k < 3; k++) {
            const int bands = k == 2 ? 1 : 3, sub = k == 0;
            void *buf = NULL;
            size_t n = 0;
            if (make_jpeg(203, 131, bands, o, sub, &buf, &n)) { CHECKF(0, "libvips cannot make the JPEG"); continue; }
            CHECK(sd__jpeg_direct_ok(buf, n));
            for (int shrink = 1; shrink <= 8; shrink *= 2)
                for (int f = 0; f < 2; f++) {
                    SdLoadOpts lo;
                    sd_load_opts_default(&lo);
                    lo.scale = 1.0 / shrink;
                    lo.fmt = f ? SD_FMT_U8 : SD_FMT_F32;
                    SdImage a = {0}, b = {0}, c = {0};
                    SdImageInfo ia, ib;
                    CHECKF(sd__image_load_mem(&ctx, "mem.jpg", buf, n, &lo, 0, &a, &ia) == 0, "%s", ctx.errmsg);
                    CHECKF(sd__image_load_mem(&ctx, "mem.jpg", buf, n, &lo, 1, &b, &ib) == 0, "%s", ctx.errmsg);
                    CHECKF(sd__jpeg_decode(&ctx, "mem.jpg", buf, n, shrink, o, lo.fmt, 1u << 30, &c) == 0, "%s", ctx.errmsg);
                    const double d1 = max_diff(&a, &b), d2 = max_diff(&a, &c);
                    CHECKF(d1 <= 0.5 / 255 && d2 <= 0.5 / 255, "orientation %d bands %d sub %d shrink %d fmt %d: "
                           "%dx%d vs %dx%d, max diff %g / %g", o, bands, sub, shrink, f, a.w, a.h, c.w, c.h, d1, d2);
                    CHECK_EQ_INT(ia.orientation, o);
                    CHECK(ia.scale == ib.scale && ia.orig_w == ib.orig_w && ia.jpeg_quality == ib.jpeg_quality);
                    if (d2 > worst) worst = d2;
                    cases++;
                    sd_image_free(&a); sd_image_free(&b); sd_image_free(&c);
                }
            g_free(buf);
        }
    printf("  %d decodes compared with libvips', largest difference %g\n", cases, worst);
}

/* A JPEG cut short anywhere in its scan fails on the direct path too, naming the file. */
static void t_direct_truncated(void)
{
    setup();
    void *buf = NULL;
    size_t n = 0;
    CHECK(make_jpeg(640, 480, 3, 1, 1, &buf, &n) == 0);
    const char *path = sd_test_path(dir, "cut_in_scan.jpg");
    CHECK(sd_write_file_atomic(path, buf, n * 6 / 10) == 0);
    g_free(buf);
    SdImage img = {0};
    SdImageInfo info;
    CHECKF(load("cut_in_scan.jpg", &img, &info) == SD_EFORMAT, "got: %s", ctx.errmsg);
    CHECKF(strstr(ctx.errmsg, "cut_in_scan.jpg") && strstr(ctx.errmsg, "corrupt or truncated"), "%s", ctx.errmsg);
    CHECK(img.data == NULL);
    printf("  %s\n", ctx.errmsg);
}

/* Indexed PNG masks: the smallest bit depth for the palette, colour type 3, a tRNS chunk, and the
 * pixels libvips reads back are the palette's colours. */
static void t_png_indexed(void)
{
    setup();
    static const int ncol[3] = {2, 3, 17}, depth[3] = {1, 2, 8};
    for (int k = 0; k < 3; k++) {
        uint8_t pal[17][4], idx[37 * 23];
        for (int i = 0; i < ncol[k]; i++) {
            pal[i][0] = (uint8_t)(i * 13); pal[i][1] = (uint8_t)(255 - i * 7); pal[i][2] = (uint8_t)(i * 3);
            pal[i][3] = (uint8_t)(i ? 255 - i : 0);
        }
        for (int i = 0; i < 37 * 23; i++) idx[i] = (uint8_t)((i * 7 + i / 37) % ncol[k]);
        const char *path = sd_test_path(dir, k == 0 ? "m1.png" : k == 1 ? "m2.png" : "m8.png");
        CHECKF(sd__png_save_indexed(&ctx, path, idx, 37, 37, 23, (const uint8_t (*)[4])pal, ncol[k]) == 0, "%s", ctx.errmsg);
        char *d = NULL;
        size_t n = 0;
        CHECK(sd_read_file(path, 1 << 20, &d, &n) == 0 && n > 33);
        if (!d) continue;
        CHECK_EQ_INT((uint8_t)d[24], depth[k]);
        CHECK_EQ_INT((uint8_t)d[25], 3);
        CHECK(memmem(d, n, "tRNS", 4) != NULL);
        free(d);
        VipsImage *im = vips_image_new_from_file(path, NULL);
        CHECK(im && im->Xsize == 37 && im->Ysize == 23 && im->Bands == 4);
        size_t nb = 0;
        uint8_t *px = im ? vips_image_write_to_memory(im, &nb) : NULL;
        int bad = !px || nb != 37 * 23 * 4;
        for (int i = 0; !bad && i < 37 * 23; i++)
            bad = memcmp(px + 4 * i, pal[idx[i]], 4) != 0;
        CHECKF(!bad, "%d colours: pixels differ from the palette", ncol[k]);
        g_free(px);
        if (im) g_object_unref(im);
    }
}

/* A one-channel 0/255 image (a mask) is saved as a 1-bit grey PNG, any other grey as 8-bit; both
 * read back as the same pixels. Odd width, so the last byte of a 1-bit row is partly padding. */
static void t_save_bilevel(void)
{
    setup();
    for (int k = 0; k < 2; k++) {
        SdImage a = {0}, b = {0};
        SdLoadOpts o;
        SdImageInfo info;
        sd_load_opts_default(&o);
        o.fmt = SD_FMT_U8;
        CHECK(sd_image_create(&a, 37, 23, 1, SD_FMT_U8) == 0);
        for (int y = 0; y < a.h; y++)
            for (int x = 0; x < a.w; x++)
                sd_image_row8(&a, y)[x] = (uint8_t)(((x * 3 + y * 5) % 7 < 3) ? 255 : k ? 128 : 0);
        const char *path = sd_test_path(dir, k ? "grey8.png" : "bilevel.png");
        CHECKF(sd_image_save(&ctx, &a, path, 0) == 0, "%s", ctx.errmsg);
        char *d = NULL;
        size_t n = 0;
        CHECK(sd_read_file(path, 1 << 20, &d, &n) == 0 && n > 33);
        if (d) {
            CHECK_EQ_INT((uint8_t)d[24], k ? 8 : 1);   /* IHDR bit depth */
            CHECK_EQ_INT((uint8_t)d[25], 0);           /* grey */
        }
        free(d);
        CHECK(sd_image_load(&ctx, path, &o, &b, &info) == 0);
        int bad = b.w != a.w || b.h != a.h;
        for (int y = 0; !bad && y < a.h; y++)
            for (int x = 0; !bad && x < a.w; x++)
                bad = sd_image_row8(&b, y)[3 * x] != sd_image_row8(&a, y)[x];
        CHECKF(!bad, "%s: pixels differ after the round trip", path);
        sd_image_free(&a);
        sd_image_free(&b);
    }
}

static const SdTestCase cases[] = {
    {"empty file", t_empty},
    {"truncated jpeg", t_truncated},
    {"jpeg with garbage after the header", t_garbage},
    {"png claiming 100000x100000", t_bomb},
    {"text file named .jpg", t_textjpg},
    {"directory named .jpg", t_dirjpg},
    {"missing file", t_missing},
    {"unreadable file", t_unreadable},
    {"1x1 image", t_one_pixel},
    {"16-bit grey png", t_grey16},
    {"cmyk jpeg", t_cmyk},
    {"exif-rotated jpeg loads upright", t_exif_rotated},
    {"alpha dropped, u8 output", t_alpha_and_u8},
    {"shrink-on-load and limits", t_shrink_on_load},
    {"save/load round trip", t_save_roundtrip},
    {"image helpers", t_image_helpers},
    {"jpeg quality and subsampling from the markers", t_jpeg_info},
    {"jpeg round trip and recapture in memory", t_jpeg_recapture},
    {"direct libjpeg-turbo decode equals libvips' (orientations, grey, DCT scaling)", t_direct_jpeg},
    {"jpeg cut inside its scan fails naming the file", t_direct_truncated},
    {"indexed png masks", t_png_indexed},
    {"a 0/255 grey image saves as a 1-bit png", t_save_bilevel},
};
SD_TEST_MAIN(cases)

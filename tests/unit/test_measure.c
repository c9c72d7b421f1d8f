/* The one-photo API of include/skindelta/measure.h: run options by name, a photo and a follow-up
 * measured in memory, the accessors, the per-image QC and the errors. (Equality with the batch
 * runner's values is checked through the Python binding in tests/integration/python.sh.) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skindelta/skindelta.h"
#include "skindelta/measure.h"
#include "skindelta/metrics.h"
#include "src/run/run_int.h"
#include "synth/synth.h"
#include "tests/lib/test.h"

static SdCtx ctx;

static void setup(void)
{
    static int done;
    if (!done) {
        sd_init(&ctx, "test_measure");
        sd_ctx_init(&ctx);
        done = 1;
    }
}

static void test_opts_by_name(void)
{
    setup();
    SdRunOpts *o = sd_run_opts_new();
    CHECK(o != NULL);
    if (!o) return;
    char dir[32];
    snprintf(dir, sizeof(dir), "out-a");
    CHECK_EQ_INT(sd_run_opts_set(&ctx, o, "out", dir), 0);
    dir[4] = 'b';   /* the option keeps its own copy */
    CHECK(o->out_dir && !strcmp(o->out_dir, "out-a"));
    CHECK_EQ_INT(sd_run_opts_set(&ctx, o, "out", "out-c"), 0);   /* replaced, old copy freed */
    CHECK(!strcmp(o->out_dir, "out-c"));
    CHECK_EQ_INT(sd_run_opts_set(&ctx, o, "jobs", "3"), 0);
    CHECK_EQ_INT(o->jobs, 3);
    CHECK_EQ_INT(sd_run_opts_set(&ctx, o, "shard", "1/4"), 0);
    CHECK(o->shard_i == 1 && o->shard_n == 4);
    CHECK_EQ_INT(sd_run_opts_set(&ctx, o, "bootstrap", "0"), 0);
    CHECK_EQ_INT(o->bootstrap, 0);
    CHECK_EQ_INT(sd_run_opts_set(&ctx, o, "motion", "euclidean"), 0);
    CHECK_EQ_INT(o->align.motion, SD_MOTION_EUCLIDEAN);
    CHECK_EQ_INT(sd_run_opts_set(&ctx, o, "photometry", "none"), 0);
    CHECK(!strcmp(o->photometry, "none"));
    CHECK_EQ_INT(sd_run_opts_set(&ctx, o, "images", "0"), 0);
    CHECK_EQ_INT(o->save_images, 0);
    CHECK_EQ_INT(sd_run_opts_set(&ctx, o, "iod", "320"), 0);
    CHECK_NEAR(o->align.iod_px, 320, 0);
    /* bad names and values are refused, saying why */
    CHECK_EQ_INT(sd_run_opts_set(&ctx, o, "colour", "1"), SD_EINVAL);
    CHECK(strstr(ctx.errmsg, "unknown run option 'colour'") != NULL);
    CHECK_EQ_INT(sd_run_opts_set(&ctx, o, "jobs", "3x"), SD_EINVAL);
    CHECK_EQ_INT(sd_run_opts_set(&ctx, o, "bootstrap", "1"), SD_EINVAL);
    CHECK_EQ_INT(sd_run_opts_set(&ctx, o, "shard", "4/4"), SD_EINVAL);
    CHECK_EQ_INT(sd_run_opts_set(&ctx, o, "px_per_mm", "0.2"), SD_EINVAL);
    CHECK_EQ_INT(sd_run_opts_set(&ctx, o, "roi", "Whole"), SD_EINVAL);
    CHECK_EQ_INT(sd_run_opts_set(&ctx, o, "photometry", "chart"), SD_EINVAL);
    CHECK_EQ_INT(sd_run_opts_set(&ctx, o, "resume", "2"), SD_EINVAL);
    CHECK_EQ_INT(o->jobs, 3);   /* unchanged by the refused values */
    /* what follows from roi whole, as the CLI derives it */
    CHECK_EQ_INT(sd_run_opts_set(&ctx, o, "roi", "whole"), 0);
    sd_run_opts_finish(o);
    CHECK(o->roi_whole && o->align.roi_whole);
    CHECK_NEAR(o->align.px_per_mm, SD_WHOLE_DEFAULT_PX_PER_MM, 0);
    CHECK_EQ_INT(o->px_per_mm_assumed, 1);
    sd_run_opts_free(o);
    sd_run_opts_free(NULL);
}

/* A patch phantom photographed without nuisance: planar float, values k/255. */
static int patch_photo(SdImage *cam, uint64_t seed)
{
    SdSynthPatch p = { .size = 256, .px_per_mm = 12, .seed = seed };
    SdSynthEffect e;
    SdSynthNuisance n;
    SdImage lin;
    sd_synth_effect_none(&e);
    sd_synth_nuisance_none(&n);
    int err = sd_synth_patch_scene(&ctx, &p, &e, &lin);
    if (!err) err = sd_synth_camera(&ctx, &lin, &n, cam);
    sd_image_free(&lin);
    return err;
}

static double rel(double a, double b)
{
    return a == b ? 0 : fabs(a - b) / fmax(fabs(a), fabs(b));
}

static void test_measure_photo(void)
{
    setup();
    SdImage cam = {0}, u8 = {0}, f32 = {0};
    SdRunOpts *o = sd_run_opts_new();
    SdMeasurement *m = NULL, *m8 = NULL, *mf = NULL, *fu = NULL;
    CHECK_EQ_INT(patch_photo(&cam, 5), 0);
    CHECK_EQ_INT(sd_run_opts_set(&ctx, o, "roi", "whole"), 0);
    CHECK_EQ_INT(sd_run_opts_set(&ctx, o, "px_per_mm", "12"), 0);
    CHECK_EQ_INT(sd_measure_image(&ctx, &cam, o, &m), 0);
    if (!m) goto done;
    CHECK_EQ_INT(sd_measurement_nregions(m), 1);
    CHECK(!strcmp(sd_measurement_region(m, 0), "whole"));
    CHECK(sd_measurement_region(m, 1) == NULL && sd_measurement_values(m, -1) == NULL);
    const double *v = sd_measurement_values(m, 0);
    for (int k = 0; k < SD_NMETRICS; k++)
        CHECKF(isfinite(v[k]), "%s = %g", sd_metric_info(k)->id, v[k]);
    /* the frame is the photo at 0.95 scale: 12 x 0.95 px/mm */
    CHECK_NEAR(sd_measurement_px_per_mm(m), 12 * 0.95, 1e-9);
    const SdMask *mask = sd_measurement_mask(m, 0), *skin = sd_measurement_mask(m, -1);
    CHECK(mask && skin && sd_measurement_mask(m, 1) == NULL);
    long n = 0;
    for (int y = 0; y < mask->h; y++)
        for (int x = 0; x < mask->w; x++) n += mask->data[(size_t)y * (size_t)mask->stride + (size_t)x] != 0;
    CHECK(n > 0 && n == sd_measurement_area(m, 0));
    const SdImage *img = sd_measurement_image(m);
    CHECK(img && img->w == mask->w && img->h == mask->h && img->c == 3 && img->fmt == SD_FMT_F32);
    double xy[2 * SD_NLANDMARKS];
    CHECK_EQ_INT(sd_measurement_landmarks(m, xy, NULL), 0);   /* roi whole: no face */

    /* 8-bit input is measured as its float conversion (sd_image_to_f32), exactly */
    CHECK_EQ_INT(sd_image_to_u8(&cam, &u8), 0);
    CHECK_EQ_INT(sd_image_to_f32(&u8, &f32), 0);
    CHECK_EQ_INT(sd_measure_image(&ctx, &u8, o, &m8), 0);
    CHECK_EQ_INT(sd_measure_image(&ctx, &f32, o, &mf), 0);
    if (m8 && mf)
        for (int k = 0; k < SD_NMETRICS; k++)
            CHECKF(sd_measurement_values(m8, 0)[k] == sd_measurement_values(mf, 0)[k], "%s: %.17g vs %.17g",
                   sd_metric_info(k)->id, sd_measurement_values(m8, 0)[k], sd_measurement_values(mf, 0)[k]);

    /* the photo again as its own follow-up: registered (ecc ~1), the same values */
    SdAlignQC qc;
    CHECK_EQ_INT(sd_measure_followup(&ctx, m, &cam, o, &fu, &qc), 0);
    CHECK_EQ_INT(qc.status, SD_ALIGN_OK);
    CHECKF(qc.ecc > 0.99, "ecc %g", qc.ecc);
    if (fu)
        for (int k = 0; k < SD_NMETRICS; k++)
            CHECKF(rel(sd_measurement_values(fu, 0)[k], v[k]) <= 1e-3, "%s: %.9g vs %.9g",
                   sd_metric_info(k)->id, sd_measurement_values(fu, 0)[k], v[k]);
done:
    sd_measurement_free(m);
    sd_measurement_free(m8);
    sd_measurement_free(mf);
    sd_measurement_free(fu);
    sd_measurement_free(NULL);
    sd_run_opts_free(o);
    sd_image_free(&cam);
    sd_image_free(&u8);
    sd_image_free(&f32);
}

static void test_errors(void)
{
    setup();
    SdMeasurement *m = (SdMeasurement *)&ctx;   /* must be reset to NULL on failure */
    SdImage grey = {0};
    CHECK_EQ_INT(sd_image_create(&grey, 64, 64, 1, SD_FMT_F32), 0);
    CHECK_EQ_INT(sd_measure_image(&ctx, &grey, NULL, &m), SD_EINVAL);
    CHECK(m == NULL);
    CHECK(strstr(ctx.errmsg, "3-channel") != NULL);
    m = (SdMeasurement *)&ctx;
    const char *missing = "/nonexistent/skindelta-no-photo.jpg";
    CHECK_EQ_INT(sd_measure_file(&ctx, missing, NULL, &m), SD_EIO);
    CHECK(m == NULL);
    CHECKF(strstr(ctx.errmsg, missing) != NULL, "message: %s", ctx.errmsg);
    SdAlignQC qc;
    CHECK_EQ_INT(sd_measure_followup(&ctx, NULL, &grey, NULL, &m, &qc), SD_EINVAL);
    /* a patch photo has no face: with roi face, SD_ENOFACE */
    SdImage cam = {0};
    CHECK_EQ_INT(patch_photo(&cam, 7), 0);
    CHECK_EQ_INT(sd_measure_image(&ctx, &cam, NULL, &m), SD_ENOFACE);
    CHECK(m == NULL);
    sd_image_free(&cam);
    sd_image_free(&grey);
}

/* ---- what `skindelta measure` takes from the API besides the values: the per-image QC
 * (sd_measurement_qc: clipped skin, face box out of the photo, as run flags a baseline), the
 * photo's size, the stage a failed sd_measure_file_ex names, and the overlays written with the
 * metric maps kept and computed again. */

static SdRunOpts *whole_opts(void)
{
    SdRunOpts *o = sd_run_opts_new();
    if (o && (sd_run_opts_set(&ctx, o, "roi", "whole") || sd_run_opts_set(&ctx, o, "px_per_mm", "12"))) {
        sd_run_opts_free(o);
        return NULL;
    }
    return o;
}

static void test_face_outside(void)
{
    double share = -1;
    const SdFace in = { 10, 10, 50, 50, 0.9f }, edge = { -5, 50, 100, 100, 0.9f },
                 out = { -27, 50, 100, 100, 0.9f }, gone = { 300, 300, 40, 40, 0.9f }, flat = { -50, 0, 100, 0, 0.9f };
    CHECK_EQ_INT(sd__run_face_outside(&in, 100, 100, &share), 0);
    CHECK_EQ_INT(sd__run_face_outside(&edge, 200, 200, &share), 0);   /* 5%: within the 10% allowed */
    CHECK(share == -1);
    CHECK_EQ_INT(sd__run_face_outside(&out, 200, 200, &share), 1);
    CHECK_NEAR(share, 0.27, 1e-12);
    CHECK_EQ_INT(sd__run_face_outside(&gone, 200, 200, &share), 1);
    CHECK_NEAR(share, 1, 0);
    CHECK_EQ_INT(sd__run_face_outside(&flat, 200, 200, &share), 0);   /* no area, no verdict */
}

/* Channel 0 set to full scale where x < cut_x (the rest untouched). */
static void saturate_left(SdImage *img, int cut_x)
{
    for (int y = 0; y < img->h; y++) {
        float *r = sd_image_rowf(img, 0, y);
        for (int x = 0; x < cut_x && x < img->w; x++) r[x] = 1.0f;
    }
}

static void test_qc_clipped(void)
{
    setup();
    SdImage cam = {0};
    SdRunOpts *o = whole_opts();
    SdMeasurement *m = NULL;
    char reason[256] = "x";
    double pct = 0;
    CHECK(o != NULL);
    CHECK_EQ_INT(patch_photo(&cam, 11), 0);
    if (!o || !cam.data) goto done;
    CHECK_EQ_INT(sd_measure_image(&ctx, &cam, o, &m), 0);
    CHECK_EQ_INT(sd_measurement_qc(m, reason, sizeof(reason)), 0);
    CHECKF(reason[0] == 0, "reason '%s'", reason);
    sd_measurement_free(m);
    m = NULL;

    /* half of the photo with a saturated red channel: about half of the skin clipped */
    saturate_left(&cam, cam.w / 2);
    CHECK_EQ_INT(sd_measure_image(&ctx, &cam, o, &m), 0);
    CHECK_EQ_INT(sd_measurement_qc(m, reason, sizeof(reason)), 1);
    CHECKF(sscanf(reason, "%lf", &pct) == 1 && pct > 45 && pct < 55, "reason '%s'", reason);
    CHECKF(strstr(reason, "% of the skin clipped (overexposed channel)") != NULL && !strchr(reason, ';'),
           "reason '%s'", reason);
    /* the verdict does not depend on room for the reason; a short buffer gets its start */
    CHECK_EQ_INT(sd_measurement_qc(m, NULL, 0), 1);
    char shortr[6];
    CHECK_EQ_INT(sd_measurement_qc(m, shortr, sizeof(shortr)), 1);
    CHECK(strlen(shortr) == 5 && !strncmp(shortr, reason, 5));
    CHECK_EQ_INT(sd_measurement_qc(NULL, reason, sizeof(reason)), 0);
done:
    sd_measurement_free(m);
    sd_run_opts_free(o);
    sd_image_free(&cam);
}

/* img without its first `left` columns and `top` rows */
static int crop(const SdImage *img, int left, int top, SdImage *out)
{
    int err = sd_image_create(out, img->w - left, img->h - top, img->c, SD_FMT_F32);
    for (int p = 0; p < img->c && !err; p++)
        for (int y = 0; y < out->h; y++)
            memcpy(sd_image_rowf(out, p, y), sd_image_rowf(img, p, y + top) + left, (size_t)out->w * sizeof(float));
    return err;
}

/* astronaut.png without 40 px on the left and 100 on top: the face box reaches out of the photo
 * (18%, as the CLI says of that crop); the full photo is ok; a follow-up is not judged by its box. */
static void test_qc_face_box(void)
{
    setup();
    SdImage full = {0}, cut = {0};
    SdMeasurement *mf = NULL, *mc = NULL, *fu = NULL;
    SdAlignQC aq;
    char reason[256];
    int w = 0, h = 0;
    const char *path = sd_test_path(sd_test_data_dir(), "face/astronaut.png");
    CHECKF(sd_image_load(&ctx, path, NULL, &full, NULL) == 0, "%s: %s", path, ctx.errmsg);
    if (!full.data) return;
    CHECK_EQ_INT(crop(&full, 40, 100, &cut), 0);
    CHECK_EQ_INT(sd_measure_image(&ctx, &full, NULL, &mf), 0);
    CHECK_EQ_INT(sd_measure_image(&ctx, &cut, NULL, &mc), 0);
    if (!mf || !mc) goto done;
    CHECK_EQ_INT(sd_measurement_qc(mf, reason, sizeof(reason)), 0);
    CHECK_EQ_INT(sd_measurement_qc(mc, reason, sizeof(reason)), 1);
    CHECKF(!strcmp(reason, "face box 18% outside the photo"), "reason '%s'", reason);
    sd_measurement_photo_size(mc, &w, &h);
    CHECK(w == 472 && h == 412);
    CHECK_EQ_INT(sd_measure_followup(&ctx, mf, &cut, NULL, &fu, &aq), 0);
    CHECK_EQ_INT(sd_measurement_qc(fu, reason, sizeof(reason)), 0);
done:
    sd_measurement_free(mf);
    sd_measurement_free(mc);
    sd_measurement_free(fu);
    sd_image_free(&full);
    sd_image_free(&cut);
}

static char *slurp(const char *path, long *n)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    *n = -1;
    if (f && !fseek(f, 0, SEEK_END) && (*n = ftell(f)) > 0 && !fseek(f, 0, SEEK_SET) &&
        (buf = malloc((size_t)*n)) && fread(buf, 1, (size_t)*n, f) != (size_t)*n) {
        free(buf);
        buf = NULL;
    }
    if (f) fclose(f);
    return buf;
}

/* 1 when files a and b both exist with the same bytes. */
static int same_file(const char *a, const char *b)
{
    long na, nb;
    char *x = slurp(a, &na), *y = slurp(b, &nb);
    const int same = x && y && na == nb && !memcmp(x, y, (size_t)na);
    free(x);
    free(y);
    return same;
}

static void test_file_ex(void)
{
    setup();
    SdImage cam = {0};
    SdRunOpts *o = whole_opts();
    SdMeasurement *m[2] = {NULL, NULL}, *bad = NULL;
    const char *dir = sd_test_tmp_dir(), *stage = NULL;
    char photo[600], png[2][3][640];
    static const char *const kind[3] = {"regions", "wrinkles", "spots"};
    CHECK_EQ_INT(patch_photo(&cam, 13), 0);
    snprintf(photo, sizeof(photo), "%s/patch.png", dir);
    CHECK_EQ_INT(sd_image_save(&ctx, &cam, photo, 0), 0);
    if (!o) goto done;
    for (int k = 0; k < 2; k++) {
        CHECK_EQ_INT(sd_measure_file_ex(&ctx, photo, o, k ? 0 : SD_MEASURE_KEEP_MAPS, &m[k], &stage), 0);
        if (!m[k]) goto done;
        for (int i = 0; i < 3; i++)
            snprintf(png[k][i], sizeof(png[k][i]), "%s/%s_%s.png", dir, k ? "again" : "kept", kind[i]);
        CHECKF(sd_measurement_overlays(&ctx, m[k], png[k][0], png[k][1], png[k][2]) == 0, "%s", ctx.errmsg);
    }
    int w = 0, h = 0;
    sd_measurement_photo_size(m[0], &w, &h);
    CHECK(w == 256 && h == 256);
    for (int r = 0; r < SD_NMETRICS; r++)
        CHECK(sd_measurement_values(m[0], 0)[r] == sd_measurement_values(m[1], 0)[r] ||
              (isnan(sd_measurement_values(m[0], 0)[r]) && isnan(sd_measurement_values(m[1], 0)[r])));
    for (int i = 0; i < 3; i++)
        CHECKF(same_file(png[0][i], png[1][i]), "%s and %s differ or are missing", png[0][i], png[1][i]);
    CHECK_EQ_INT(sd_measurement_overlays(&ctx, NULL, png[0][0], NULL, NULL), SD_EINVAL);

    /* the stage a failure names, as errors.csv's stage column */
    CHECK_EQ_INT(sd_measure_file_ex(&ctx, "/nonexistent/skindelta-no-photo.png", o, 0, &bad, &stage), SD_EIO);
    CHECK(bad == NULL && stage && !strcmp(stage, "load"));
    stage = NULL;
    CHECK_EQ_INT(sd_measure_file_ex(&ctx, photo, NULL, SD_MEASURE_KEEP_MAPS, &bad, &stage), SD_ENOFACE);
    CHECK(bad == NULL && stage && !strcmp(stage, "face"));
    CHECK_EQ_INT(sd_measure_file_ex(&ctx, photo, NULL, 0, &bad, NULL), SD_ENOFACE);
done:
    sd_measurement_free(m[0]);
    sd_measurement_free(m[1]);
    sd_run_opts_free(o);
    sd_image_free(&cam);
}

static const SdTestCase cases[] = {
    { "opts_by_name", test_opts_by_name },
    { "measure_photo", test_measure_photo },
    { "errors", test_errors },
    { "face_outside", test_face_outside },
    { "qc_clipped", test_qc_clipped },
    { "qc_face_box", test_qc_face_box },
    { "file_ex", test_file_ex },
};
SD_TEST_MAIN(cases)

/* The one-photo API of include/skindelta/measure.h: run options by name, a photo and a follow-up
 * measured in memory, the accessors, and the errors. (Equality with the batch runner's values
 * is checked through the Python binding in tests/integration/python.sh.) */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "skindelta/skindelta.h"
#include "skindelta/measure.h"
#include "skindelta/metrics.h"
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

static const SdTestCase cases[] = {
    { "opts_by_name", test_opts_by_name },
    { "measure_photo", test_measure_photo },
    { "errors", test_errors },
};
SD_TEST_MAIN(cases)

/* Issue 15: the calibrated noise model (file format, prediction, clamping, the 1/sqrt(area)
 * extrapolation), its covariates (noise level of a known white noise), the colour guard, the
 * test families (Holm / Benjamini-Hochberg), the smallest attainable Wilcoxon p and the floor
 * below which no percent change is reported. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skindelta/skindelta.h"
#include "skindelta/course.h"
#include "skindelta/noise.h"
#include "skindelta/util.h"
#include "skindelta/run.h"
#include "synth/synth.h"
#include "src/course/stats.h"
#include "tests/lib/test.h"

static const char *write_model(const char *name, const char *rows)
{
    const char *p = sd_test_path(sd_test_tmp_dir(), name);
    FILE *f = fopen(p, "w");
    if (!f) return NULL;
    fprintf(f, "# test model\nmetric,region,b0");
    for (int k = 0; k < SD_NCOV; k++) fprintf(f, ",%s", sd_noise_cov_name(k));
    fprintf(f, "\n@min,,,-1,0,0,0,-1,0,0,0,0,0,0\n@max,,,3,3,1,5,1,1,0.5,2,2,1,1\n%s", rows);
    fclose(f);
    return p;
}

static void test_model(void)
{
    SdCtx ctx;
    sd_ctx_init(&ctx);
    /* texture_roughness: ln sd = -2 + 0.3 jpeg - 0.5 area (face) / -1 (any other region) */
    const char *p = write_model("m1.csv",
        "texture_roughness,face,-2,-0.5,0.3,0,0,0,0,0,0,0,0,0\n"
        "texture_roughness,*,-1,-0.5,0.3,0,0,0,0,0,0,0,0,0\n");
    SdNoiseModel *m = NULL;
    CHECK(p && sd_noise_model_load(&ctx, p, &m) == 0);
    if (!m) return;
    double x[SD_NCOV] = {0};
    x[SD_NC_AREA] = 1; x[SD_NC_JPEG] = 2;
    CHECK_NEAR(sd_noise_model_sd(m, "texture_roughness", "face", x), exp(-2 - 0.5 + 0.6), 1e-12);
    CHECK_NEAR(sd_noise_model_sd(m, "texture_roughness", "chin", x), exp(-1 - 0.5 + 0.6), 1e-12);
    CHECK(isnan(sd_noise_model_sd(m, "wrinkle_density", "face", x)));   /* no row */
    /* covariates are clamped to the fitted range: jpeg 9 counts as 3 */
    x[SD_NC_JPEG] = 9;
    CHECK_NEAR(sd_noise_model_sd(m, "texture_roughness", "face", x), exp(-2 - 0.5 + 0.9), 1e-12);
    /* below the smallest area seen, SD grows as 1/sqrt(area): ln sd gains 0.5 per ln unit */
    x[SD_NC_JPEG] = 0; x[SD_NC_AREA] = -3;
    CHECK_NEAR(sd_noise_model_sd(m, "texture_roughness", "face", x), exp(-2 + 0.5 + 0.5 * 2), 1e-12);
    CHECK(strlen(sd_noise_model_sha256(m)) == 64);
    sd_noise_model_free(m);
    /* malformed: a missing covariate column, a non-number, no range rows */
    const char *bad = sd_test_path(sd_test_tmp_dir(), "bad.csv");
    FILE *f = fopen(bad, "w");
    if (f) { fprintf(f, "metric,region,b0,area\nx,face,1,2\n"); fclose(f); }
    CHECK(sd_noise_model_load(&ctx, bad, &m) == SD_EFORMAT && m == NULL);
    CHECK(strstr(ctx.errmsg, "bad.csv") != NULL);
    p = write_model("m2.csv", "texture_roughness,face,abc,0,0,0,0,0,0,0,0,0,0,0\n");
    CHECK(sd_noise_model_load(&ctx, p, &m) == SD_EFORMAT);
    CHECK(strstr(ctx.errmsg, ":5:") != NULL);   /* file:line of the bad row */
    CHECK(sd_noise_model_load(&ctx, "/nonexistent/model.csv", &m) == SD_EIO);
}

/* Shipped model: loads, has the three primary metrics on face and whole, predicts a finite SD. */
static void test_shipped_model(void)
{
    SdCtx ctx;
    sd_ctx_init(&ctx);
    SdNoiseModel *m = NULL;
    CHECK(sd_noise_model_load(&ctx, "models/noise_model.csv", &m) == 0);
    if (!m) return;
    double x[SD_NCOV] = {0};
    x[SD_NC_AREA] = 2; x[SD_NC_JPEG] = 1; x[SD_NC_NOISE] = 1;
    const char *mets[] = {"texture_roughness", "wrinkle_density", "pigment_unevenness"};
    for (int i = 0; i < 3; i++) {
        const double a = sd_noise_model_sd(m, mets[i], "face", x), b = sd_noise_model_sd(m, mets[i], "whole", x);
        CHECKF(isfinite(a) && a > 0 && isfinite(b) && b > 0, "%s: %g %g", mets[i], a, b);
    }
    sd_noise_model_free(m);
}

static void fill(SdAligned *al, int w, int h, double r, double g, double b, double noise, uint64_t seed)
{
    memset(al, 0, sizeof(*al));
    sd_image_create(&al->img, w, h, 3, SD_FMT_F32);
    al->px_per_mm = 10;
    const double v[3] = {r, g, b};
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < h; y++) {
            float *row = sd_image_rowf(&al->img, c, y);
            for (int x = 0; x < w; x++) {
                double u = 0;   /* ~N(0,1): sum of 12 uniforms - 6 */
                for (int k = 0; k < 12; k++) {
                    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
                    u += (double)(seed >> 11) / 9007199254740992.0;
                }
                row[x] = (float)(v[c] + noise * (u - 6));
            }
        }
}

static void test_covariates_and_guard(void)
{
    SdAligned al;
    SdMask skin;
    char why[200];
    sd_mask_create(&skin, 200, 160);
    memset(skin.data, 1, (size_t)skin.stride * 160);
    /* white noise of 2/255 on a flat skin tone: the MAD estimate finds it within 10% */
    fill(&al, 200, 160, 0.72, 0.55, 0.45, 2.0 / 255, 7);
    SdNoiseImage im = {0};
    sd_noise_image_stats(&al, &skin, &im);
    CHECK_NEAR(im.noise, 2.0, 0.2);
    CHECK_NEAR(im.green, 0.55, 0.01);
    CHECK(im.clip == 0);
    im.jpeg_quality = 85; im.subsampled = 1; im.is_followup = 1; im.ecc = 0.9;
    im.base_quality = 95; im.base_subsampled = 0; im.base_green = im.green / 2;
    double x[SD_NCOV];
    sd_noise_covariates(&al, &skin, &im, x);
    CHECK_NEAR(x[SD_NC_AREA], log(200.0 * 160 / 100 / 100), 1e-9);   /* 320 mm^2 at 10 px/mm */
    CHECK_NEAR(x[SD_NC_JPEG], 1.5, 1e-12);
    CHECK_NEAR(x[SD_NC_SUBSAMPLE], 1, 0);
    CHECK_NEAR(x[SD_NC_REGISTRATION], 0.1, 1e-12);
    CHECK_NEAR(x[SD_NC_DQUALITY], 1.0, 1e-12);
    CHECK_NEAR(x[SD_NC_DSUBSAMPLE], 1, 0);
    CHECK_NEAR(x[SD_NC_DEXPOSURE], 1.0, 1e-6);
    /* a normal skin tone passes the colour guard */
    CHECK(sd_colour_guard(&al, &skin, why, sizeof(why)) == 0);
    sd_image_free(&al.img);
    /* the same photo made grey: colour metrics must go */
    fill(&al, 200, 160, 0.55, 0.55, 0.55, 1.0 / 255, 7);
    CHECK(sd_colour_guard(&al, &skin, why, sizeof(why)) == 1 && strstr(why, "grayscale"));
    sd_image_free(&al.img);
    /* a red channel clipped on the skin */
    fill(&al, 200, 160, 1.0, 0.7, 0.6, 0, 7);
    CHECK(sd_colour_guard(&al, &skin, why, sizeof(why)) == 1 && strstr(why, "clipped"));
    sd_image_free(&al.img);
    /* blue above red: not skin */
    fill(&al, 200, 160, 0.40, 0.50, 0.70, 0, 7);
    CHECK(sd_colour_guard(&al, &skin, why, sizeof(why)) == 1 && strstr(why, "impossible"));
    sd_image_free(&al.img);
    sd_mask_free(&skin);
    CHECK(sd_metric_is_colour("pigment_unevenness") && sd_metric_is_colour("redness_unevenness") &&
          sd_metric_is_colour("pigment_ita_sd") && !sd_metric_is_colour("texture_roughness") &&
          !sd_metric_is_colour("wrinkle_density"));
}

/* Benjamini-Hochberg on a worked example (q_i = min_{j>=i} m p_(j) / j). */
static void test_bh_and_min_p(void)
{
    const double p[8] = {0.042, 0.001, 0.205, 0.039, 0.008, 0.06, 0.041, 0.074};
    const double want[8] = {0.0672, 0.008, 0.205, 0.0672, 0.032, 0.08, 0.0672, 0.074 * 8 / 7};
    double q[8];
    CHECK(sd_bh(p, 8, q) == 0);
    for (int i = 0; i < 8; i++) CHECK_NEAR(q[i], want[i], 1e-12);
    double r[3] = {0.01, NAN, 0.04};
    CHECK(sd_bh(r, 3, r) == 0);
    CHECK_NEAR(r[0], 0.02, 1e-15);
    CHECK(isnan(r[1]));
    CHECK_NEAR(r[2], 0.04, 1e-15);
    CHECK_NEAR(sd_wilcoxon_min_p(4), 0.125, 0);
    CHECK_NEAR(sd_wilcoxon_min_p(5), 0.0625, 0);
    CHECK_NEAR(sd_wilcoxon_min_p(6), 0.03125, 0);
    CHECK_NEAR(sd_wilcoxon_min_p(1), 1.0, 0);
    /* and it is what the exact test gives when every difference has the same sign */
    SdWilcoxon w;
    const double d[4] = {1, 2, 3, 4};
    CHECK(sd_wilcoxon(d, 4, &w) == 0);
    CHECK_NEAR(w.p, sd_wilcoxon_min_p(4), 1e-12);
}

static void push(SdMeasArray *a, const char *pat, int si, const char *region, const char *metric,
                 double v, double sd)
{
    SdMeasRow r = { .patient = (char *)pat, .view = "front", .session = si ? "s2" : "s1",
                    .session_index = si, .days = NAN, .region = (char *)region,
                    .metric = (char *)metric, .value = v, .unit = "%", .better = -1, .qc = "ok",
                    .sd = sd, .n_boot = 0 };
    sd_meas_push(a, &r);
}

/* A baseline near zero gives no percent (the "0.371 -> 12.7, -3331%" of the demo), a clear one
 * does; the families are prespecified. */
static void test_pct_floor_and_families(void)
{
    SdCtx ctx;
    sd_ctx_init(&ctx);
    SdMeasArray m = {0};
    SdChangeArray c = {0};
    SdCohortArray k = {0};
    /* wrinkle_density: floor 2 %; baseline sd 0.2 -> its MDC95 1.96 sqrt2 0.2 = 0.554 */
    push(&m, "p1", 0, "undereye_r", "wrinkle_density", 0.371, 0.2);
    push(&m, "p1", 1, "undereye_r", "wrinkle_density", 12.7, 0.2);
    push(&m, "p1", 0, "face", "wrinkle_density", 10.0, 0.2);
    push(&m, "p1", 1, "face", "wrinkle_density", 9.0, 0.2);
    /* above the floor 2 but below twice the baseline's MDC95 (sd 0.6 -> 2 x 1.66 = 3.3): no percent */
    push(&m, "p1", 0, "chin", "wrinkle_density", 2.5, 0.6);
    push(&m, "p1", 1, "chin", "wrinkle_density", 0.0, 0.6);
    CHECK(sd_course_changes(&ctx, &m, NULL, &c) == 0);
    CHECK_EQ_INT(c.n, 3);
    for (size_t i = 0; i < c.n; i++) {
        const SdChangeRow *r = &c.v[i];
        if (!strcmp(r->region, "face")) {
            CHECK_NEAR(r->pct_change, -10, 1e-9);
            CHECK_NEAR(r->improvement_pct, 10, 1e-9);
        } else {
            CHECKF(isnan(r->pct_change) && isnan(r->improvement_pct), "%s: pct %g", r->region, r->pct_change);
            CHECK(isfinite(r->delta) && r->beyond_noise >= 0);
        }
    }
    CHECK_NEAR(sd_pct_floor("wrinkle_density", NAN), 2.0, 0);
    CHECK_NEAR(sd_pct_floor("wrinkle_density", 0.5), 2.0, 0);
    CHECK_NEAR(sd_pct_floor("wrinkle_density", 3.0), 6.0, 0);
    CHECK_NEAR(sd_pct_floor("a_new_metric", NAN), 0, 0);
    CHECK(!strcmp(sd_cohort_family("face", "texture_roughness"), "confirmatory"));
    CHECK(!strcmp(sd_cohort_family("whole", "pigment_unevenness"), "confirmatory"));
    CHECK(!strcmp(sd_cohort_family("forehead", "texture_roughness"), "exploratory"));
    CHECK(!strcmp(sd_cohort_family("face", "pigment_spot_area"), "exploratory"));
    CHECK(sd_course_cohort(&ctx, &c, &k) == 0);
    for (size_t i = 0; i < k.n; i++)
        CHECK(!strcmp(k.v[i].family, !strcmp(k.v[i].region, "face") ? "confirmatory" : "exploratory"));
    sd_cohort_free(&k);
    sd_change_free(&c);
    sd_meas_free(&m);
}

/* The case: a grayscale copy of the baseline as the follow-up. Before the guard it read
 * redness -99.99% and pigment -99.96% "beyond noise"; now the colour metrics of that photo are
 * not measured (no rows, so no change), the others are, and the alignment reason says why. */
static void test_grayscale_followup(void)
{
    SdCtx ctx;
    sd_ctx_init(&ctx);
    sd_init(&ctx, "test_noise");
    const char *dir = sd_test_path(sd_test_tmp_dir(), "gray");
    char in[1024], before[1100], after[1100], out[1100];
    snprintf(in, sizeof(in), "%s/in", dir);
    SdSynthCourse c = { .kind = SD_SYNTH_PATCH, .patients = 1, .sessions = 1, .seed = 5, .size = 384,
                        .px_per_mm = 15 };
    CHECK(sd_synth_course(&ctx, &c, in) == 0);
    snprintf(before, sizeof(before), "%s/p001/s1/front.jpg", in);
    snprintf(after, sizeof(after), "%s/gray.jpg", dir);
    SdImage im = {0};
    SdLoadOpts lo;
    sd_load_opts_default(&lo);
    CHECK(sd_image_load(&ctx, before, &lo, &im, NULL) == 0);
    for (int y = 0; y < im.h; y++) {
        float *r = sd_image_rowf(&im, 0, y), *g = sd_image_rowf(&im, 1, y), *b = sd_image_rowf(&im, 2, y);
        for (int x = 0; x < im.w; x++) r[x] = g[x] = b[x] = 0.299f * r[x] + 0.587f * g[x] + 0.114f * b[x];
    }
    CHECK(sd_image_save(&ctx, &im, after, 92) == 0);
    sd_image_free(&im);
    SdCatalog cat;
    CHECK(sd_catalog_pair(&ctx, before, after, &cat) == 0);
    SdRunOpts o;
    sd_run_opts_default(&o);
    snprintf(out, sizeof(out), "%s/out", dir);
    o.out_dir = out; o.jobs = 1; o.roi_whole = o.align.roi_whole = 1; o.align.px_per_mm = 15; o.report = 0; o.save_images = 0;
    SdRunSummary sum;
    CHECK(sd_run_batch(&ctx, &cat, &o, &sum) == 0);
    sd_catalog_free(&cat);
    SdMeasArray m = {0};
    SdChangeArray ch = {0};
    char mp[1200], cp[1200], ap[1200];
    snprintf(mp, sizeof(mp), "%s/measurements.csv", out);
    snprintf(cp, sizeof(cp), "%s/changes.csv", out);
    snprintf(ap, sizeof(ap), "%s/alignment.csv", out);
    CHECK(sd_meas_read(&ctx, mp, NULL, &m) == 0);
    CHECK(sd_change_read(&ctx, cp, &ch) == 0);
    int colour_after = 0, other_after = 0, colour_changes = 0, other_changes = 0;
    for (size_t i = 0; i < m.n; i++)
        if (m.v[i].session_index == 1) {
            if (sd_metric_is_colour(m.v[i].metric)) colour_after++; else other_after++;
        }
    for (size_t i = 0; i < ch.n; i++) {
        if (sd_metric_is_colour(ch.v[i].metric)) colour_changes++;
        else { other_changes++; CHECK(isfinite(ch.v[i].mdc95)); }
    }
    CHECKF(colour_after == 0 && colour_changes == 0, "colour rows %d, changes %d", colour_after, colour_changes);
    CHECK(other_after > 0 && other_changes > 0);
    char *al = NULL;
    size_t n = 0;
    CHECK(sd_read_file(ap, 1 << 20, &al, &n) == 0 && al && strstr(al, "grayscale"));
    free(al);
    sd_meas_free(&m);
    sd_change_free(&ch);
}

static const SdTestCase cases[] = {
    { "grayscale_followup", test_grayscale_followup },
    { "model", test_model },
    { "shipped_model", test_shipped_model },
    { "covariates_and_guard", test_covariates_and_guard },
    { "bh_and_min_p", test_bh_and_min_p },
    { "pct_floor_and_families", test_pct_floor_and_families },
};
SD_TEST_MAIN(cases)

/* Known-answer tests of the skin metrics: GLCM features on Haralick's 4x4 example, ITA on
 * hand-computed colours, the metric table contract, the chromophore file, flat images, small
 * regions, and the synth's determinism. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/cpu.h"
#include "kernels/ops.h"
#include "kernels/skinmap.h"
#include "skindelta/metrics.h"
#include "synth/synth.h"
#include "src/core/core.h"
#include "tests/lib/test.h"

static SdCtx ctx;

static void setup(void)
{
    static int done;
    if (!done) {
        sd_init(&ctx, "test_metrics");
        sd_ctx_init(&ctx);
        done = 1;
    }
}

/* Haralick, Shanmugam & Dinstein (1973), Fig. 2: a 4x4 image with grey levels 0..3. */
static const uint8_t haralick[16] = { 0, 0, 1, 1, 0, 0, 1, 1, 0, 2, 2, 2, 2, 2, 3, 3 };

static void test_glcm_haralick_0deg(void)
{
    setup();
    uint32_t counts[4 * 16];
    CHECK_EQ_INT(sd_op_glcm(&ctx, haralick, 4, NULL, 0, 4, 4, 1, 4, counts), 0);
    /* the paper's symmetric 0-degree matrix */
    static const int want[16] = { 4, 2, 1, 0, 2, 4, 0, 0, 1, 0, 6, 1, 0, 0, 1, 2 };
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            CHECK_EQ_INT(counts[i * 4 + j] + counts[j * 4 + i], want[i * 4 + j]);
    /* features of that matrix alone, by hand: P = M / 24;
     * contrast = (2*2*1 + 2*1*4 + 2*1*1) / 24 = 14/24
     * homogeneity = (16 + 6/2 + 2/5) / 24 = 19.4/24
     * entropy = -sum p log2 p = 3.0220552088742 */
    uint32_t only0[4 * 16] = { 0 };
    memcpy(only0, counts, 16 * sizeof(uint32_t));
    double f[3];
    CHECK_EQ_INT(sd_glcm_features_from_counts(only0, 4, f), 12);
    CHECK_NEAR(f[0], 14.0 / 24.0, 1e-12);
    CHECK_NEAR(f[1], 19.4 / 24.0, 1e-12);
    CHECK_NEAR(f[2], 3.0220552088742, 1e-9);
}

/* Independent brute-force reference for the 4-direction average. */
static void glcm_ref(const uint8_t *q, const uint8_t *mask, int w, int h, int L, int d, double out[3])
{
    static const int dx[4] = { 1, 1, 0, -1 }, dy[4] = { 0, -1, -1, -1 };
    out[0] = out[1] = out[2] = 0;
    for (int k = 0; k < 4; k++) {
        double P[16 * 16] = { 0 }, n = 0;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int x2 = x + d * dx[k], y2 = y + d * dy[k];
                if (x2 < 0 || y2 < 0 || x2 >= w || y2 >= h)
                    continue;
                if (mask && (!mask[y * w + x] || !mask[y2 * w + x2]))
                    continue;
                P[q[y * w + x] * L + q[y2 * w + x2]] += 1;
                P[q[y2 * w + x2] * L + q[y * w + x]] += 1;
                n += 2;
            }
        for (int i = 0; i < L; i++)
            for (int j = 0; j < L; j++) {
                double p = P[i * L + j] / n;
                if (p <= 0) continue;
                out[0] += (i - j) * (i - j) * p / 4;
                out[1] += p / (1.0 + (i - j) * (i - j)) / 4;
                out[2] += -p * log2(p) / 4;
            }
    }
}

static void test_glcm_directions_and_mask(void)
{
    setup();
    double f[3], r[3];
    long n = sd_glcm_features(&ctx, haralick, 4, NULL, 0, 4, 4, 4, 1, f);
    CHECK_EQ_INT(n, 12 + 9 + 12 + 9);
    glcm_ref(haralick, NULL, 4, 4, 4, 1, r);
    for (int k = 0; k < 3; k++)
        CHECK_NEAR(f[k], r[k], 1e-12);
    /* a pseudo-random 9x7 image, 8 levels, distance 2, with a mask */
    uint8_t q[63], m[63];
    uint64_t s = 5;
    for (int i = 0; i < 63; i++) {
        q[i] = (uint8_t)(sd_synth_rand(&s) % 8);
        m[i] = (uint8_t)(sd_synth_rand(&s) % 4 != 0);
    }
    n = sd_glcm_features(&ctx, q, 9, m, 9, 9, 7, 8, 2, f);
    CHECK(n > 0);
    glcm_ref(q, m, 9, 7, 8, 2, r);
    for (int k = 0; k < 3; k++)
        CHECK_NEAR(f[k], r[k], 1e-12);
    /* a constant image: contrast 0, homogeneity 1, entropy 0 */
    uint8_t c[25];
    memset(c, 3, sizeof c);
    sd_glcm_features(&ctx, c, 5, NULL, 0, 5, 5, 8, 1, f);
    CHECK_NEAR(f[0], 0.0, 1e-15);
    CHECK_NEAR(f[1], 1.0, 1e-15);
    CHECK_NEAR(f[2], 0.0, 1e-15);
}

static void test_ita_known(void)
{
    /* L*, b* and ITA computed by hand from IEC 61966-2-1 / CIE 15 formulas:
     * white (1,1,1): L* = 100, b* = 0 -> 90 deg
     * (0.6, 0.35, 0.25): L* = 69.1801, b* = 18.0508 -> 46.7374 deg
     * (0.25, 0.12, 0.07): L* = 44.8067, b* = 19.1421 -> -15.1793 deg
     * (0.05, 0.03, 0.02): L* = 21.4062, b* = 8.7708 -> -72.9472 deg */
    CHECK_NEAR(sd_ita_deg(1, 1, 1), 90.0, 1e-4);
    CHECK_NEAR(sd_ita_deg(0.6, 0.35, 0.25), 46.737434, 1e-4);
    CHECK_NEAR(sd_ita_deg(0.25, 0.12, 0.07), -15.179277, 1e-4);
    CHECK_NEAR(sd_ita_deg(0.05, 0.03, 0.02), -72.947249, 1e-4);
}

static float srgb_enc(double v)
{
    return (float)(v <= 0.0031308 ? 12.92 * v : 1.055 * pow(v, 1.0 / 2.4) - 0.055);
}

/* Two flat halves of known colour, ITA smoothing off: SD of ITA = |ITA1 - ITA2| / 2. */
static void test_ita_sd_two_colours(void)
{
    setup();
    SdImage img;
    SdMetricsOpts o;
    SdMetricsState *st = NULL;
    double out[SD_NMETRICS];
    static const double c1[3] = { 0.6, 0.35, 0.25 }, c2[3] = { 0.25, 0.12, 0.07 };
    CHECK_EQ_INT(sd_image_create(&img, 200, 120, 3, SD_FMT_F32), 0);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < img.h; y++) {
            float *r = sd_image_rowf(&img, c, y);
            for (int x = 0; x < img.w; x++)
                r[x] = srgb_enc(x < img.w / 2 ? c1[c] : c2[c]);
        }
    sd_metrics_opts_default(&o);
    o.pg_ita_smooth_mm = 0;   /* no smoothing: two exact values */
    CHECK_EQ_INT(sd_metrics_prepare(&ctx, &img, NULL, 10.0, &o, &st), 0);
    CHECK_EQ_INT(sd_metrics_region(&ctx, st, NULL, "whole", out), 0);
    /* the region is the eroded image (10 px off each side): still 90 px of each colour per row */
    double want = fabs(sd_ita_deg(c1[0], c1[1], c1[2]) - sd_ita_deg(c2[0], c2[1], c2[2])) / 2;
    CHECK_NEAR(out[SD_M_PIGMENT_ITA_SD], want, 0.02);
    sd_metrics_free(st);
    sd_image_free(&img);
}

static void test_table_contract(void)
{
    /* DESIGN.md section 5 */
    static const struct { const char *id, *unit; int better; } want[SD_NMETRICS] = {
        { "texture_roughness", "%", SD_BETTER_LOWER },
        { "texture_glcm_contrast", "-", SD_BETTER_LOWER },
        { "texture_glcm_homogeneity", "-", SD_BETTER_HIGHER },
        { "texture_glcm_entropy", "-", SD_BETTER_LOWER },
        { "wrinkle_density", "%", SD_BETTER_LOWER },
        { "wrinkle_length_density", "mm/cm2", SD_BETTER_LOWER },
        { "wrinkle_severity", "-", SD_BETTER_LOWER },
        { "pigment_unevenness", "OD x100", SD_BETTER_LOWER },
        { "pigment_spot_area", "%", SD_BETTER_LOWER },
        { "pigment_spot_density", "1/cm2", SD_BETTER_LOWER },
        { "pigment_ita_sd", "deg", SD_BETTER_LOWER },
        { "redness_unevenness", "OD x100", SD_BETTER_LOWER },
    };
    int np = 0;
    for (int i = 0; i < SD_NMETRICS; i++) {
        const SdMetricInfo *m = sd_metric_info(i);
        CHECK(m && !strcmp(m->id, want[i].id));
        CHECK(m && !strcmp(m->unit, want[i].unit));
        CHECK(m && m->better == want[i].better);
        CHECK_EQ_INT(sd_metric_index(want[i].id), i);
        np += m ? m->primary : 0;
    }
    CHECK_EQ_INT(np, 3);
    CHECK(sd_metric_info(SD_M_TEXTURE_ROUGHNESS)->primary && sd_metric_info(SD_M_WRINKLE_DENSITY)->primary &&
          sd_metric_info(SD_M_PIGMENT_UNEVENNESS)->primary);
    CHECK(sd_metric_info(SD_NMETRICS) == NULL && sd_metric_index("nope") == -1);
    CHECK(!strcmp(sd_metric_better_name(SD_BETTER_HIGHER), "higher"));
}

/* models/chromophores.json and the compiled table agree. */
static void test_chromophore_file(void)
{
    char *txt = NULL;
    size_t n = 0;
    double mel[3], hb[3];
    CHECK_EQ_INT(sd_read_file("models/chromophores.json", 1 << 16, &txt, &n), 0);
    if (!txt)
        return;
    sd_metrics_chromophores(mel, hb);
    const char *keys[2] = { "\"melanin\"", "\"haemoglobin\"" };
    const double *vals[2] = { mel, hb };
    for (int k = 0; k < 2; k++) {
        const char *p = strstr(txt, keys[k]);
        CHECK(p != NULL);
        if (!p) continue;
        p = strchr(p, '[');
        CHECK(p != NULL);
        if (!p) continue;
        for (int c = 0; c < 3; c++) {
            char *end;
            double v = strtod(p + 1, &end);
            CHECK_NEAR(v, vals[k][c], 1e-12);
            p = end;
        }
    }
    free(txt);
}

/* A flat colour: no texture, no wrinkles, no spots, no unevenness. */
static void test_flat_image(void)
{
    setup();
    SdImage img;
    SdMetricsState *st = NULL;
    double out[SD_NMETRICS];
    CHECK_EQ_INT(sd_image_create(&img, 160, 160, 3, SD_FMT_F32), 0);
    static const float col[3] = { 0.8f, 0.62f, 0.55f };
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < 160; y++)
            for (int x = 0; x < 160; x++)
                sd_image_rowf(&img, c, y)[x] = col[c];
    CHECK_EQ_INT(sd_metrics_prepare(&ctx, &img, NULL, 10.0, NULL, &st), 0);
    CHECK_EQ_INT(sd_metrics_region(&ctx, st, NULL, NULL, out), 0);
    CHECK_NEAR(out[SD_M_TEXTURE_ROUGHNESS], 0.0, 1e-3);
    CHECK_NEAR(out[SD_M_TEXTURE_GLCM_CONTRAST], 0.0, 1e-12);
    CHECK_NEAR(out[SD_M_WRINKLE_DENSITY], 0.0, 1e-12);
    CHECK_NEAR(out[SD_M_PIGMENT_UNEVENNESS], 0.0, 1e-3);
    CHECK_NEAR(out[SD_M_PIGMENT_SPOT_AREA], 0.0, 1e-12);
    CHECK_NEAR(out[SD_M_PIGMENT_ITA_SD], 0.0, 1e-3);
    CHECK_NEAR(out[SD_M_REDNESS_UNEVENNESS], 0.0, 1e-3);
    /* a region below 4 mm² gives NaN, not a number */
    SdMask tiny;
    CHECK_EQ_INT(sd_mask_create(&tiny, 160, 160), 0);
    for (int y = 70; y < 85; y++)
        memset(tiny.data + (size_t)y * (size_t)tiny.stride + 70, 1, 15);
    CHECK_EQ_INT(sd_metrics_region(&ctx, st, &tiny, "glabella", out), 0);
    for (int i = 0; i < SD_NMETRICS; i++)
        CHECK(isnan(out[i]));
    /* size mismatch is an error */
    SdMask wrong;
    CHECK_EQ_INT(sd_mask_create(&wrong, 10, 10), 0);
    CHECK(sd_metrics_region(&ctx, st, &wrong, NULL, out) == SD_EINVAL);
    sd_mask_free(&tiny);
    sd_mask_free(&wrong);
    sd_metrics_free(st);
    sd_image_free(&img);
}

/* The synth is deterministic for a seed, and the seed matters. */
static void test_synth_deterministic(void)
{
    setup();
    SdSynthPatch p = { .size = 96, .px_per_mm = 10, .seed = 3 };
    SdSynthEffect e;
    SdImage a, b, c;
    sd_synth_effect_none(&e);
    CHECK_EQ_INT(sd_synth_patch_scene(&ctx, &p, &e, &a), 0);
    CHECK_EQ_INT(sd_synth_patch_scene(&ctx, &p, &e, &b), 0);
    p.seed = 4;
    CHECK_EQ_INT(sd_synth_patch_scene(&ctx, &p, &e, &c), 0);
    int same = 1, diff = 0;
    for (int ch = 0; ch < 3; ch++)
        for (int y = 0; y < 96; y++) {
            same &= !memcmp(sd_image_rowf(&a, ch, y), sd_image_rowf(&b, ch, y), 96 * sizeof(float));
            diff |= memcmp(sd_image_rowf(&a, ch, y), sd_image_rowf(&c, ch, y), 96 * sizeof(float)) != 0;
        }
    CHECK(same);
    CHECK(diff);
    sd_image_free(&a); sd_image_free(&b); sd_image_free(&c);
}

/* Overlays are written as PNG files of the canonical size. */
static void test_overlay(void)
{
    setup();
    SdSynthPatch p = { .size = 200, .px_per_mm = 12, .seed = 11 };
    SdSynthEffect e;
    SdSynthNuisance n;
    SdImage lin, cam, back;
    SdMetricsState *st = NULL;
    sd_synth_effect_none(&e);
    sd_synth_nuisance_none(&n);
    CHECK_EQ_INT(sd_synth_patch_scene(&ctx, &p, &e, &lin), 0);
    CHECK_EQ_INT(sd_synth_camera(&ctx, &lin, &n, &cam), 0);
    CHECK_EQ_INT(sd_metrics_prepare(&ctx, &cam, NULL, 12, NULL, &st), 0);
    const char *wp = sd_test_path(sd_test_tmp_dir(), "wrinkles.png");
    const char *sp = sd_test_path(sd_test_tmp_dir(), "spots.png");
    CHECK_EQ_INT(sd_metrics_overlay(&ctx, st, &cam, NULL, NULL, wp, sp), 0);
    SdLoadOpts lo;
    sd_load_opts_default(&lo);
    CHECK_EQ_INT(sd_image_load(&ctx, wp, &lo, &back, NULL), 0);
    CHECK(back.w == 200 && back.h == 200);
    sd_image_free(&back);
    CHECK_EQ_INT(sd_image_load(&ctx, sp, &lo, &back, NULL), 0);
    sd_image_free(&back);
    sd_metrics_free(st);
    sd_image_free(&lin);
    sd_image_free(&cam);
}


/* The skinmap kernels: every SIMD level against the C reference on random planes with odd widths
 * (tails) and a padded stride. */
static void test_skinmap_kernels(void)
{
    SdSkinmapDSP c, v;
    sd_skinmap_dsp_init(&c, 0);
    sd_skinmap_dsp_init(&v, sd_cpu_detect());
    if (v.lincomb == c.lincomb) {
        printf("  (no SIMD level on this CPU: C only)\n");
    }
    static const int widths[4] = { 1, 7, 19, 61 };
    uint64_t s = 99;
    for (int wi = 0; wi < 4; wi++) {
        const int w = widths[wi], h = 9, st = 64;   /* stride in floats */
        const ptrdiff_t sb = st * (ptrdiff_t)sizeof(float);
        float *P[12];
        for (int i = 0; i < 12; i++) {
            P[i] = calloc((size_t)st * h + 8, sizeof(float));
            for (int k = 0; k < st * h; k++)
                P[i][k] = (float)(sd_synth_uniform(&s) * 2.0 - 1.0);
        }
        for (int k = 0; k < st * h; k++)
            P[2][k] = (float)((sd_synth_uniform(&s) - 0.5) * 3.1);      /* angles */
        const float k3[3] = { 0.7f, -1.3f, 2.1f };
        /* lincomb, 2 and 3 terms */
        for (int k = 0; k < st * h; k++)
            P[4][k] = 12345.0f;          /* sentinel: nothing may be written past w */
        c.lincomb(P[3], sb, P[0], P[1], P[2], sb, w, h, k3);
        v.lincomb(P[4], sb, P[0], P[1], P[2], sb, w, h, k3);
        c.lincomb(P[5], sb, P[0], P[1], NULL, sb, w, h, k3);
        v.lincomb(P[6], sb, P[0], P[1], NULL, sb, w, h, k3);
        /* ridge_max over two scales */
        c.ridge_max(P[7], P[8], sb, P[0], P[1], P[2], sb, w, h, 1);
        v.ridge_max(P[9], P[10], sb, P[0], P[1], P[2], sb, w, h, 1);
        c.ridge_max(P[7], P[8], sb, P[1], P[0], P[3], sb, w, h, 0);
        v.ridge_max(P[9], P[10], sb, P[1], P[0], P[3], sb, w, h, 0);
        int bad = 0;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int i = y * st + x;
                bad += fabsf(P[3][i] - P[4][i]) > 1e-5f || fabsf(P[5][i] - P[6][i]) > 1e-5f;
                bad += P[7][i] != P[9][i] || P[8][i] != P[10][i];
            }
        for (int y = 0; y < h; y++)
            for (int x = w; x < st; x++)
                bad += P[4][y * st + x] != 12345.0f;
        CHECKF(bad == 0, "lincomb/ridge_max mismatch at w=%d (%d)", w, bad);
        /* ita: L in 0..100, b in -20..40 */
        for (int k = 0; k < st * h; k++) {
            P[0][k] = (float)(sd_synth_uniform(&s) * 100.0);
            P[1][k] = (float)(sd_synth_uniform(&s) * 60.0 - 20.0);
        }
        c.ita(P[3], sb, P[0], P[1], sb, w, h);
        v.ita(P[4], sb, P[0], P[1], sb, w, h);
        double worst = 0;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                double d = fabs((double)P[3][y * st + x] - (double)P[4][y * st + x]);
                if (d > worst) worst = d;
            }
        CHECKF(worst < 2e-3, "ita differs by %g deg at w=%d", worst, w);
        /* line_mean on the whole plane, written in two strips */
        for (int k = 0; k < st * h; k++)
            P[2][k] = (float)((sd_synth_uniform(&s) - 0.5) * 3.14);
        c.line_mean(P[3], sb, P[0], sb, w, h, P[2], sb, 0, h, 1.7f, 3);
        v.line_mean(P[4], sb, P[0], sb, w, h, P[2], sb, 0, 4, 1.7f, 3);
        v.line_mean(P[4] + 4 * st, sb, P[0], sb, w, h, P[2] + 4 * st, sb, 4, h - 4, 1.7f, 3);
        worst = 0;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                double d = fabs((double)P[3][y * st + x] - (double)P[4][y * st + x]);
                if (d > worst) worst = d;
            }
        CHECKF(worst < 1e-4, "line_mean differs by %g at w=%d", worst, w);
        for (int i = 0; i < 12; i++)
            free(P[i]);
    }
    /* up2: a half-res ramp v(i) = i (sample i at full-res 2i + 0.5) is the full-res ramp
     * (x - 0.5) / 2 away from the clamped edges */
    {
        float half[6 * 5], full[12 * 10];
        for (int y = 0; y < 5; y++)
            for (int x = 0; x < 6; x++)
                half[y * 6 + x] = (float)x + 10.0f * (float)y;
        c.up2(full, 12 * sizeof(float), 12, 0, 10, half, 6 * sizeof(float), 6, 5);
        int bad = 0;
        for (int y = 1; y < 9; y++)
            for (int x = 1; x < 11; x++)
                bad += fabsf(full[y * 12 + x] - ((x - 0.5f) / 2 + 10.0f * (y - 0.5f) / 2)) > 1e-5f;
        CHECK_EQ_INT(bad, 0);
        CHECK_NEAR(full[0], 0.0, 1e-6);            /* clamped corner */
    }
    /* the polynomial sin/cos */
    for (int i = -100; i <= 100; i++) {
        float x = (float)(i * 0.0157079632679), sn, cs;
        sd_sincos_halfpi(x, &sn, &cs);
        CHECK_NEAR(sn, sin(x), 5e-6);
        CHECK_NEAR(cs, cos(x), 5e-6);
    }
}

/* `skindelta synth` courses: files in the layout, truth.json parseable enough to name every
 * session; the face kind on the sample portrait (small, to stay fast). */
static void test_synth_course(void)
{
    setup();
    char dir[600];
    snprintf(dir, sizeof dir, "%s/course", sd_test_tmp_dir());
    SdSynthCourse c = { .kind = SD_SYNTH_PATCH, .patients = 2, .sessions = 2, .seed = 9, .size = 128 };
    CHECK_EQ_INT(sd_synth_course(&ctx, &c, dir), 0);
    char *txt = NULL;
    size_t n = 0;
    CHECK_EQ_INT(sd_read_file(sd_test_path(dir, "truth.json"), 1 << 20, &txt, &n), 0);
    CHECK(txt && strstr(txt, "\"p002/s2/front.jpg\"") && strstr(txt, "\"jpeg_q\""));
    free(txt);
    CHECK(sd_file_exists(sd_test_path(dir, "p001/s1/front.jpg")));
    CHECK(sd_file_exists(sd_test_path(dir, "p002/s2/front.jpg")));
    snprintf(dir, sizeof dir, "%s/face", sd_test_tmp_dir());
    SdSynthCourse f = { .kind = SD_SYNTH_FACE, .patients = 1, .sessions = 1, .seed = 2, .size = 400,
                        .face_path = "samples/faces/astronaut.png" };
    int err = sd_synth_course(&ctx, &f, dir);
    CHECKF(err == 0, "face course: %s", ctx.errmsg);
    CHECK(sd_file_exists(sd_test_path(dir, "p001/s1/front.jpg")));
    SdImage img;
    SdLoadOpts lo;
    sd_load_opts_default(&lo);
    if (!err && !sd_image_load(&ctx, sd_test_path(dir, "p001/s1/front.jpg"), &lo, &img, NULL)) {
        CHECK(img.w == 320 && img.h == 400);    /* the canonical 2.5 x 3.125 IOD frame */
        sd_image_free(&img);
    }
}

static const SdTestCase cases[] = {
    { "glcm_haralick_0deg", test_glcm_haralick_0deg },
    { "glcm_directions_and_mask", test_glcm_directions_and_mask },
    { "ita_known", test_ita_known },
    { "ita_sd_two_colours", test_ita_sd_two_colours },
    { "table_contract", test_table_contract },
    { "chromophore_file", test_chromophore_file },
    { "flat_image", test_flat_image },
    { "synth_deterministic", test_synth_deterministic },
    { "overlay", test_overlay },
    { "skinmap_kernels", test_skinmap_kernels },
    { "synth_course", test_synth_course },
};

SD_TEST_MAIN(cases)

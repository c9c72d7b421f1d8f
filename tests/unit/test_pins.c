/* Pinned metric values and exact-answer cases: the one place where the metrics' numbers are
 * fixed, so that a change of a definition (or a slip in one) shows here.
 *
 * Two kinds of checks:
 * 1. Properties any sound definition keeps, on scenes whose answer is known in closed form:
 *    roughness proportional to the relief amplitude and isotropic; the noise floor gives back the
 *    noise-free roughness; a straight groove is one wrinkle whose length is the groove's; two
 *    grooves score twice one; a disc of melanin is one spot, its unevenness proportional to its
 *    optical density and equal to the band-passed disc's SD computed here independently; melanin
 *    does not read as redness. These should survive a redefinition unchanged.
 * 2. The PIN TABLE below: every metric's value on a committed canonical image
 *    (tests/data/pins/canonical_eye.png, a 480x400 crop of `skindelta align`'s canonical frame of
 *    tests/data/face/astronaut.png at 10.1587 px/mm), on a fixed-seed patch phantom and on the
 *    closed-form scenes, to PIN_REL (0.5%) relative (PIN_ABS absolute for values near zero).
 *    The closed-form values of the current definitions are checked beside them (texture_roughness
 *    of a sinusoid: 100 A/sqrt(2) |g(f)|, g the band's gain).
 *
 * UPDATING THE PINS ON PURPOSE (a metric's definition changed): run
 *     SD_PINS_PRINT=1 build/tests/test_pins
 * which prints the table as C source with the values measured now; paste it over the table below,
 * in the same commit as the change, and say in the commit message which pins moved and why. A pin
 * that moved without a change of definition is a regression: find it, do not re-pin it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/ops.h"
#include "skindelta/metrics.h"
#include "synth/synth.h"
#include "src/core/core.h"
#include "src/metrics/metrics_int.h"
#include "tests/lib/test.h"

#define PIN_REL 0.005   /* 0.5% */
#define PIN_ABS 1e-6    /* for values that are (near) zero */

typedef struct Pin {
    const char *scene;
    const char *metric;
    double value;
} Pin;

/* ---- THE PIN TABLE (SD_PINS_PRINT=1 build/tests/test_pins prints it anew) ---- */
static const Pin pins[] = {
    { "eggcrate_a0.04", "texture_roughness", 1.09715752 },
    { "eggcrate_a0.04", "texture_glcm_contrast", 2.77801999 },
    { "eggcrate_a0.04", "texture_glcm_homogeneity", 0.430728986 },
    { "eggcrate_a0.04", "texture_glcm_entropy", 4.06804312 },
    { "eggcrate_a0.08", "texture_roughness", 2.19158618 },
    { "eggcrate_a0.08", "texture_glcm_contrast", 9.84944746 },
    { "eggcrate_a0.08", "texture_glcm_homogeneity", 0.254444514 },
    { "eggcrate_a0.08", "texture_glcm_entropy", 5.05840143 },
    { "eggcrate_noisy", "texture_roughness", 1.09237048 },
    { "noise_only", "texture_roughness", 0 },
    { "groove_band_diagonal", "wrinkle_density", 4.5759432 },
    { "groove_band_diagonal", "wrinkle_length_density", 5.60195414 },
    { "groove_band_diagonal", "wrinkle_severity", 5.4374161 },
    { "groove_band", "wrinkle_density", 3.30503059 },
    { "groove_band", "wrinkle_length_density", 3.67563471 },
    { "groove_band", "wrinkle_severity", 5.73616884 },
    { "groove_band_glabella", "wrinkle_density", 1.70424236 },
    { "groove_band_glabella", "wrinkle_length_density", 0 },
    { "groove_band_glabella", "wrinkle_severity", 0 },
    { "groove", "wrinkle_density", 3.29442564 },
    { "groove", "wrinkle_length_density", 3.71301775 },
    { "groove", "wrinkle_severity", 5.7493668 },
    { "two_grooves", "wrinkle_density", 6.58885134 },
    { "two_grooves", "wrinkle_length_density", 7.4260355 },
    { "two_grooves", "wrinkle_severity", 5.7493668 },
    { "groove_deep", "wrinkle_density", 4.05167843 },
    { "groove_deep", "wrinkle_length_density", 3.68343195 },
    { "groove_deep", "wrinkle_severity", 11.4987358 },
    { "melanin_disc", "pigment_unevenness", 0.292762418 },
    { "melanin_disc", "pigment_spot_area", 1.03993056 },
    { "melanin_disc", "pigment_spot_density", 0.173611111 },
    { "melanin_disc", "pigment_ita_sd", 0.507970462 },
    { "melanin_disc_2x", "pigment_unevenness", 0.585423623 },
    { "melanin_disc_2x", "pigment_spot_area", 1.05381944 },
    { "melanin_disc_2x", "pigment_spot_density", 0.173611111 },
    { "melanin_disc_2x", "pigment_ita_sd", 0.981333735 },
    { "haemoglobin_disc", "redness_unevenness", 0.292928876 },
    { "canonical_eye_covered", "texture_roughness", 5.58247753 },
    { "canonical_eye_covered", "texture_glcm_contrast", 2.3684843 },
    { "canonical_eye_covered", "texture_glcm_homogeneity", 0.77296254 },
    { "canonical_eye_covered", "texture_glcm_entropy", 4.85887164 },
    { "canonical_eye_covered", "wrinkle_density", 1.11166628 },
    { "canonical_eye_covered", "wrinkle_length_density", 2.3626288 },
    { "canonical_eye_covered", "wrinkle_severity", 4.71723155 },
    { "canonical_eye_covered", "pigment_unevenness", 15.5307502 },
    { "canonical_eye_covered", "pigment_spot_area", 0.163461538 },
    { "canonical_eye_covered", "pigment_spot_density", 0.132307435 },
    { "canonical_eye_covered", "pigment_ita_sd", 34.5028785 },
    { "canonical_eye_covered", "redness_unevenness", 4.06786762 },
    { "canonical_eye", "texture_roughness", 5.25485813 },
    { "canonical_eye", "texture_glcm_contrast", 2.16620474 },
    { "canonical_eye", "texture_glcm_homogeneity", 0.770076013 },
    { "canonical_eye", "texture_glcm_entropy", 4.91024143 },
    { "canonical_eye", "wrinkle_density", 1.14513167 },
    { "canonical_eye", "wrinkle_length_density", 2.37413058 },
    { "canonical_eye", "wrinkle_severity", 4.20382352 },
    { "canonical_eye", "pigment_unevenness", 14.216833 },
    { "canonical_eye", "pigment_spot_area", 0.196875 },
    { "canonical_eye", "pigment_spot_density", 0.161249686 },
    { "canonical_eye", "pigment_ita_sd", 32.440585 },
    { "canonical_eye", "redness_unevenness", 3.71741576 },
    { "canonical_eye_lower", "texture_roughness", 0.717379184 },
    { "canonical_eye_lower", "texture_glcm_contrast", 0.208211028 },
    { "canonical_eye_lower", "texture_glcm_homogeneity", 0.896578551 },
    { "canonical_eye_lower", "texture_glcm_entropy", 2.55311366 },
    { "canonical_eye_lower", "wrinkle_density", 0.103145788 },
    { "canonical_eye_lower", "wrinkle_length_density", 0.71071809 },
    { "canonical_eye_lower", "wrinkle_severity", 2.11283848 },
    { "canonical_eye_lower", "pigment_unevenness", 2.01638963 },
    { "canonical_eye_lower", "pigment_spot_area", 1.93987393 },
    { "canonical_eye_lower", "pigment_spot_density", 0.258649355 },
    { "canonical_eye_lower", "pigment_ita_sd", 6.37890418 },
    { "canonical_eye_lower", "redness_unevenness", 0.783980892 },
    { "patch_seed19", "texture_roughness", 1.77937326 },
    { "patch_seed19", "texture_glcm_contrast", 1.633834 },
    { "patch_seed19", "texture_glcm_homogeneity", 0.589702971 },
    { "patch_seed19", "texture_glcm_entropy", 5.09475368 },
    { "patch_seed19", "wrinkle_density", 9.74457113 },
    { "patch_seed19", "wrinkle_length_density", 65.8925044 },
    { "patch_seed19", "wrinkle_severity", 2.13380022 },
    { "patch_seed19", "pigment_unevenness", 1.4840114 },
    { "patch_seed19", "pigment_spot_area", 4.56848145 },
    { "patch_seed19", "pigment_spot_density", 1.97753906 },
    { "patch_seed19", "pigment_ita_sd", 2.96266684 },
    { "patch_seed19", "redness_unevenness", 1.00192289 },
    { "patch_seed19_520px", "texture_roughness", 1.72927268 },
    { "patch_seed19_520px", "texture_glcm_contrast", 1.55789662 },
    { "patch_seed19_520px", "texture_glcm_homogeneity", 0.598077447 },
    { "patch_seed19_520px", "texture_glcm_entropy", 5.04748446 },
    { "patch_seed19_520px", "wrinkle_density", 8.94447911 },
    { "patch_seed19_520px", "wrinkle_length_density", 44.1783611 },
    { "patch_seed19_520px", "wrinkle_severity", 2.39413444 },
    { "patch_seed19_520px", "pigment_unevenness", 1.56137662 },
    { "patch_seed19_520px", "pigment_spot_area", 3.54178994 },
    { "patch_seed19_520px", "pigment_spot_density", 1.75739645 },
    { "patch_seed19_520px", "pigment_ita_sd", 3.81619709 },
    { "patch_seed19_520px", "redness_unevenness", 0.960865642 },
};
/* ---- end of the pin table ---- */

static SdCtx ctx;
static int print_mode;

static void setup(void)
{
    static int done;
    if (!done) {
        sd_init(&ctx, "test_pins");
        sd_ctx_init(&ctx);
        print_mode = getenv("SD_PINS_PRINT") != NULL;
        done = 1;
    }
}

static double srgb_enc(double v)
{
    v = v < 0 ? 0 : v > 1 ? 1 : v;
    return v <= 0.0031308 ? 12.92 * v : 1.055 * pow(v, 1.0 / 2.4) - 0.055;
}

/* Does metric id start with one of the '|'-separated prefixes (NULL: all)? */
static int pinned_family(const char *id, const char *families)
{
    if (!families)
        return 1;
    for (const char *f = families; *f;) {
        size_t n = strcspn(f, "|");
        if (!strncmp(id, f, n))
            return 1;
        f += n + (f[n] == '|');
    }
    return 0;
}

/* Checks (or prints) the pins of one scene: the metrics of out[] in `families` (id prefixes
 * separated by '|'; NULL = all twelve). The closed-form scenes pin the family they are made for:
 * the others sit at zero plus rounding there (a grey relief's melanin map, a groove's GLCM) and
 * differ between the SIMD levels by more than 0.5% of nothing. */
static void pin_scene(const char *scene, const double out[SD_NMETRICS], const char *families)
{
    for (int i = 0; i < SD_NMETRICS; i++) {
        const char *id = sd_metric_info(i)->id;
        if (!pinned_family(id, families))
            continue;
        if (print_mode) {
            printf("    { \"%s\", \"%s\", %.9g },\n", scene, id, out[i]);
            continue;
        }
        const Pin *p = NULL;
        for (size_t k = 0; k < sizeof(pins) / sizeof(pins[0]); k++)
            if (pins[k].scene && !strcmp(pins[k].scene, scene) && !strcmp(pins[k].metric, id))
                p = &pins[k];
        CHECKF(p != NULL, "no pin for %s %s (measured %.9g)", scene, id, out[i]);
        if (!p)
            continue;
        if (isnan(p->value)) {
            CHECKF(isnan(out[i]), "%s %s: %.9g, pinned NaN", scene, id, out[i]);
            continue;
        }
        CHECKF(fabs(out[i] - p->value) <= PIN_REL * fabs(p->value) + PIN_ABS,
               "%s %s: %.9g, pinned %.9g (%.3f%% off, tolerance %.1f%%)", scene, id, out[i], p->value,
               p->value ? 100.0 * (out[i] / p->value - 1) : 0.0, 100.0 * PIN_REL);
    }
}

/* Metrics of an image (sRGB-encoded planar F32) at ppm px/mm on a region (NULL: all of it), the
 * pixels outside `valid` (NULL: none) not covered by the photo. */
static int measure_valid(const SdImage *img, const SdMask *valid, double ppm, const SdMask *region,
                         const char *name, double out[SD_NMETRICS])
{
    SdMetricsState *st = NULL;
    int err = sd_metrics_prepare(&ctx, img, valid, ppm, NULL, &st);
    if (!err)
        err = sd_metrics_region(&ctx, st, region, name, out);
    sd_metrics_free(st);
    return err;
}

static int measure(const SdImage *img, double ppm, const SdMask *region, const char *name,
                   double out[SD_NMETRICS])
{
    SdMetricsState *st = NULL;
    int err = sd_metrics_prepare(&ctx, img, NULL, ppm, NULL, &st);
    if (!err)
        err = sd_metrics_region(&ctx, st, region, name, out);
    sd_metrics_free(st);
    return err;
}

/* A scene in linear light: base colour times exp(relief(x, y)) per channel, times 10^(-OD) of
 * extra melanin / haemoglobin, plus white noise of SD noise (natural-log units) per channel. */
typedef struct Scene {
    int w, h;
    double base[3];
    double (*relief)(const struct Scene *s, int x, int y);   /* natural log of the luminance factor */
    double (*mel)(const struct Scene *s, int x, int y);      /* extra melanin OD */
    double (*hb)(const struct Scene *s, int x, int y);       /* extra haemoglobin OD */
    double a, lambda_px, depth, width_px, y0, y1, vertical, cx, cy, radius, od, noise;
    uint64_t seed;
} Scene;

static int render(const Scene *s, SdImage *img)
{
    double mel[3], hb[3];
    sd_metrics_chromophores(mel, hb);
    int err = sd_image_create(img, s->w, s->h, 3, SD_FMT_F32);
    if (err)
        return err;
    uint64_t rng = s->seed;
    for (int y = 0; y < s->h; y++)
        for (int x = 0; x < s->w; x++) {
            double r = s->relief ? s->relief(s, x, y) : 0;
            double m = s->mel ? s->mel(s, x, y) : 0, h = s->hb ? s->hb(s, x, y) : 0;
            for (int c = 0; c < 3; c++) {
                double n = s->noise > 0 ? s->noise * sd_synth_gauss(&rng) : 0;
                double v = s->base[c] * exp(r + n) * pow(10.0, -(m * mel[c] + h * hb[c]));
                sd_image_rowf(img, c, y)[x] = (float)srgb_enc(v);
            }
        }
    return 0;
}

static const double skin[3] = { 0.42, 0.27, 0.20 };   /* linear RGB of a light skin tone */

/* ---- texture: an egg-crate relief a sin(kx) sin(ky) (not line-like: no wrinkle detection) */
static double eggcrate(const Scene *s, int x, int y)
{
    const double k = 2 * M_PI / s->lambda_px;
    return s->a * sin(k * x + 0.3) * sin(k * y + 0.7);
}

/* Closed form of the CURRENT texture_roughness on the egg-crate: the band G(fine) - G(flat) has
 * gain g(f) = exp(-2 pi^2 s0^2 f^2) - exp(-2 pi^2 s1^2 f^2) at spatial frequency |f| (here
 * sqrt(2)/lambda), the pattern's variance is a^2/4, roughness is 100 x the RMS (natural log). */
static double roughness_closed_form(double a, double lambda_px, double ppm)
{
    SdMetricsOpts o;
    sd_metrics_opts_default(&o);
    const double f2 = 2.0 / (lambda_px * lambda_px), s0 = o.tex_fine_mm * ppm, s1 = o.tex_flat_mm * ppm;
    const double g = exp(-2 * M_PI * M_PI * s0 * s0 * f2) - exp(-2 * M_PI * M_PI * s1 * s1 * f2);
    return 100.0 * fabs(g) * a / 2.0;
}

static void test_texture_relief(void)
{
    setup();
    const double ppm = 10;
    Scene s = { .w = 240, .h = 240, .base = { skin[0], skin[1], skin[2] }, .relief = eggcrate,
                .a = 0.04, .lambda_px = 8 };
    SdImage img;
    double o1[SD_NMETRICS], o2[SD_NMETRICS], o0[SD_NMETRICS];
    CHECK_EQ_INT(render(&s, &img), 0);
    CHECK_EQ_INT(measure(&img, ppm, NULL, NULL, o1), 0);
    sd_image_free(&img);
    s.a = 0.08;
    CHECK_EQ_INT(render(&s, &img), 0);
    CHECK_EQ_INT(measure(&img, ppm, NULL, NULL, o2), 0);
    sd_image_free(&img);
    s.a = 0;
    CHECK_EQ_INT(render(&s, &img), 0);
    CHECK_EQ_INT(measure(&img, ppm, NULL, NULL, o0), 0);
    sd_image_free(&img);
    const double r1 = o1[SD_M_TEXTURE_ROUGHNESS], r2 = o2[SD_M_TEXTURE_ROUGHNESS];
    /* properties: no relief, no roughness; roughness proportional to the amplitude; no wrinkles */
    CHECKF(o0[SD_M_TEXTURE_ROUGHNESS] < 1e-3, "flat: %g", o0[SD_M_TEXTURE_ROUGHNESS]);
    /* (3%: the soft wrinkle membership of the relief's own valleys, which the texture weights
     * exclude, grows with the amplitude) */
    CHECKF(r1 > 0.1 && fabs(r2 / r1 - 2.0) < 0.03, "roughness %g at a, %g at 2a (ratio %g)", r1, r2, r2 / r1);
    CHECKF(o1[SD_M_WRINKLE_DENSITY] < 0.01, "wrinkle density of an egg-crate: %g %%", o1[SD_M_WRINKLE_DENSITY]);
    /* relief is not pigment: melanin and redness unevenness stay at the flat image's */
    CHECKF(o1[SD_M_PIGMENT_UNEVENNESS] < 0.01 * r1 + 1e-3, "pigment %g", o1[SD_M_PIGMENT_UNEVENNESS]);
    CHECKF(o1[SD_M_REDNESS_UNEVENNESS] < 0.01 * r1 + 1e-3, "redness %g", o1[SD_M_REDNESS_UNEVENNESS]);
    /* the current definition's closed form (see roughness_closed_form): within 2% */
    const double want = roughness_closed_form(0.04, 8, ppm);
    CHECKF(fabs(r1 / want - 1) < 0.02, "roughness %g, closed form %g", r1, want);
    /* the GLCM features see more contrast in the larger relief */
    CHECK(o2[SD_M_TEXTURE_GLCM_CONTRAST] > o1[SD_M_TEXTURE_GLCM_CONTRAST]);
    CHECK(o2[SD_M_TEXTURE_GLCM_HOMOGENEITY] < o1[SD_M_TEXTURE_GLCM_HOMOGENEITY]);
    CHECK(o2[SD_M_TEXTURE_GLCM_ENTROPY] > o1[SD_M_TEXTURE_GLCM_ENTROPY]);
    pin_scene("eggcrate_a0.04", o1, "texture_");
    pin_scene("eggcrate_a0.08", o2, "texture_");
}

/* The noise floors' band gain against the plain 2-D sum of (G_a - G_b)^2 over the discrete
 * kernels the filters use (sampled, normalised, radius sd_gauss_radius). */
static double band_gain_2d(double a, double b)
{
    float ka[200], kb[200];
    int ra = a >= 0.3 ? sd_gauss_radius((float)a) : 0, rb = b >= 0.3 ? sd_gauss_radius((float)b) : 0;
    if (ra) sd_gauss_kernel(ka, ra, (float)a, 0); else ka[0] = 1.0f;
    if (rb) sd_gauss_kernel(kb, rb, (float)b, 0); else kb[0] = 1.0f;
    const int r = ra > rb ? ra : rb;
    double s = 0;
    for (int y = -r; y <= r; y++)
        for (int x = -r; x <= r; x++) {
            const int ax = abs(x), ay = abs(y);
            double ga = ax <= ra && ay <= ra ? (double)ka[ax] * ka[ay] : 0;
            double gb = ax <= rb && ay <= rb ? (double)kb[ax] * kb[ay] : 0;
            s += (ga - gb) * (ga - gb);
        }
    return s;
}

static void test_band_gain(void)
{
    static const double ab[][2] = { { 1.0, 10.0 }, { 2.5, 15.0 }, { 0.0, 4.0 }, { 3.0, 1.2 }, { 0.8, 0.8 } };
    for (size_t i = 0; i < sizeof(ab) / sizeof(ab[0]); i++) {
        const double want = band_gain_2d(ab[i][0], ab[i][1]), got = sd__mx_band_gain(ab[i][0], ab[i][1]);
        CHECKF(fabs(got - want) <= 1e-9 * want + 1e-15, "band gain (%g, %g): %.12g, 2-D sum %.12g", ab[i][0],
               ab[i][1], got, want);
    }
    /* the continuous limit for wide kernels: 1/(4 pi) (1/a^2 + 1/b^2 - 4/(a^2 + b^2)) within 1% */
    const double a = 3, b = 12, cont = (1 / (a * a) + 1 / (b * b) - 4 / (a * a + b * b)) / (4 * M_PI);
    CHECKF(fabs(sd__mx_band_gain(a, b) / cont - 1) < 0.01, "band gain %g, continuous %g", sd__mx_band_gain(a, b), cont);
}

/* texture_roughness with the noise floor turned off (the state's luma noise estimate zeroed). */
static double roughness_raw(const SdImage *img, double ppm)
{
    SdMetricsState *st = NULL;
    double out[SD_NMETRICS];
    int err = sd_metrics_prepare(&ctx, img, NULL, ppm, NULL, &st);
    if (!err) {
        st->noise_ls = 0;
        err = sd_metrics_region(&ctx, st, NULL, NULL, out);
    }
    sd_metrics_free(st);
    return err ? NAN : out[SD_M_TEXTURE_ROUGHNESS];
}

/* The CURRENT noise floor of texture_roughness, term by term: the variance it removes is the luma
 * noise estimate times the band gain of G(fine) - G(flat), the sigmas clamped to the filters'
 * range (fine below 0.3 px: none; flat above 64 px: 64). At 10 px/mm and at 64.5 px/mm (where the
 * flattening sigma is clamped). Changes with the definition. */
static void test_texture_floor_terms(void)
{
    setup();
    static const double ppms[2] = { 10.0, 64.5 };
    SdMetricsOpts o;
    sd_metrics_opts_default(&o);
    for (int i = 0; i < 2; i++) {
        Scene s = { .w = 160, .h = 160, .base = { skin[0], skin[1], skin[2] }, .noise = 0.05, .seed = 99 };
        SdImage img;
        SdMetricsState *st = NULL;
        double corr[SD_NMETRICS], raw[SD_NMETRICS];
        CHECK_EQ_INT(render(&s, &img), 0);
        CHECK_EQ_INT(sd_metrics_prepare(&ctx, &img, NULL, ppms[i], NULL, &st), 0);
        if (!st) {
            sd_image_free(&img);
            continue;
        }
        CHECK_EQ_INT(sd_metrics_region(&ctx, st, NULL, NULL, corr), 0);
        const double nls = st->noise_ls;
        st->noise_ls = 0;
        CHECK_EQ_INT(sd_metrics_region(&ctx, st, NULL, NULL, raw), 0);
        sd_metrics_free(st);
        sd_image_free(&img);
        double s0 = o.tex_fine_mm * ppms[i], s1 = o.tex_flat_mm * ppms[i];
        const double want = nls * sd__mx_band_gain(s0 < 0.3 ? 0 : s0, s1 > 64 ? 64 : s1);
        const double rc = corr[SD_M_TEXTURE_ROUGHNESS] / 100, rr = raw[SD_M_TEXTURE_ROUGHNESS] / 100;
        CHECKF(nls > 0 && rc > 0 && fabs((rr * rr - rc * rc) / want - 1) < 1e-6,
               "%g px/mm: the floor removed %.9g, noise x gain = %.9g", ppms[i], rr * rr - rc * rc, want);
    }
}

/* The same relief plus white noise of known SD (6% per channel, natural log) whose band-passed
 * variance is of the order of the relief's: the noise floor must give back the noise-free
 * roughness within NOISE_FLOOR_TOL. (Until 0.2 the texture band was taken of the luma OD minus
 * the chromophore maps low-passed at 0.25 mm, whose noise the floor did not count: +24.7% here.
 * At 0.75 mm (pg_remove_mm) that noise is out of the band, and the floor is sound.) The floor must also remove most of what it is
 * meant to: against the same image with the floor off, at least half of the noise's excess goes. */
#define NOISE_FLOOR_TOL 0.03
static void test_texture_noise_floor(void)
{
    setup();
    const double ppm = 10;
    Scene s = { .w = 320, .h = 320, .base = { skin[0], skin[1], skin[2] }, .relief = eggcrate,
                .a = 0.04, .lambda_px = 8, .seed = 1234 };
    SdImage img;
    double clean[SD_NMETRICS], noisy[SD_NMETRICS], only[SD_NMETRICS];
    CHECK_EQ_INT(render(&s, &img), 0);
    CHECK_EQ_INT(measure(&img, ppm, NULL, NULL, clean), 0);
    sd_image_free(&img);
    s.noise = 0.06;
    CHECK_EQ_INT(render(&s, &img), 0);
    CHECK_EQ_INT(measure(&img, ppm, NULL, NULL, noisy), 0);
    const double raw = roughness_raw(&img, ppm);
    sd_image_free(&img);
    s.a = 0;
    CHECK_EQ_INT(render(&s, &img), 0);
    CHECK_EQ_INT(measure(&img, ppm, NULL, NULL, only), 0);
    sd_image_free(&img);
    const double rc = clean[SD_M_TEXTURE_ROUGHNESS], rn = noisy[SD_M_TEXTURE_ROUGHNESS];
    printf("  roughness: clean %.5g, with noise %.5g (%+.2f%%; floor off: %.5g, %+.2f%%), noise alone %.5g\n",
           rc, rn, 100 * (rn / rc - 1), raw, 100 * (raw / rc - 1), only[SD_M_TEXTURE_ROUGHNESS]);
    CHECKF(fabs(rn / rc - 1) < NOISE_FLOOR_TOL, "noise floor: %g with noise vs %g without", rn, rc);
    CHECKF(raw > rn && rn - rc < 0.5 * (raw - rc), "the floor removes too little: %g, %g off, %g clean", rn, raw, rc);
    /* the pigment maps' noise floors: noise alone is not unevenness */
    CHECKF(only[SD_M_PIGMENT_UNEVENNESS] < 0.5, "pigment unevenness of noise: %g", only[SD_M_PIGMENT_UNEVENNESS]);
    pin_scene("eggcrate_noisy", noisy, "texture_roughness");
    pin_scene("noise_only", only, "texture_roughness");
}

/* ---- wrinkles: straight grooves, Gaussian cross-section of depth `depth` (natural log) */
static double grooves(const Scene *s, int x, int y)
{
    /* vertical: 0 horizontal, 1 vertical, 2 diagonal (45 deg, through (y0, y0)) */
    const double t = s->vertical == 2 ? (x - y) / M_SQRT2 + s->y0 : s->vertical ? x : y, w = s->width_px;
    double r = -s->depth * exp(-(t - s->y0) * (t - s->y0) / (2 * w * w));
    if (s->y1 > 0)
        r -= s->depth * exp(-(t - s->y1) * (t - s->y1) / (2 * w * w));
    return r;
}

static void test_wrinkle_groove(void)
{
    setup();
    const double ppm = 10;
    SdMetricsOpts o;
    sd_metrics_opts_default(&o);
    Scene s = { .w = 260, .h = 260, .base = { skin[0], skin[1], skin[2] }, .relief = grooves,
                .depth = 0.15, .width_px = 2.0, .y0 = 130 };
    SdImage img;
    double one[SD_NMETRICS], two[SD_NMETRICS], vert[SD_NMETRICS], deep[SD_NMETRICS], faint[SD_NMETRICS];
    CHECK_EQ_INT(render(&s, &img), 0);
    CHECK_EQ_INT(measure(&img, ppm, NULL, NULL, one), 0);
    sd_image_free(&img);
    s.y0 = 90; s.y1 = 170;
    CHECK_EQ_INT(render(&s, &img), 0);
    CHECK_EQ_INT(measure(&img, ppm, NULL, NULL, two), 0);
    sd_image_free(&img);
    s.y0 = 130; s.y1 = 0; s.vertical = 1;
    CHECK_EQ_INT(render(&s, &img), 0);
    CHECK_EQ_INT(measure(&img, ppm, NULL, NULL, vert), 0);
    sd_image_free(&img);
    s.vertical = 0; s.depth = 0.30;
    CHECK_EQ_INT(render(&s, &img), 0);
    CHECK_EQ_INT(measure(&img, ppm, NULL, NULL, deep), 0);
    sd_image_free(&img);
    s.depth = 0.004;
    CHECK_EQ_INT(render(&s, &img), 0);
    CHECK_EQ_INT(measure(&img, ppm, NULL, NULL, faint), 0);
    sd_image_free(&img);
    /* the region: the whole image (an all-valid image is not eroded) */
    const double e = 0, side_mm = (s.w - 2 * e) / ppm, area_cm2 = side_mm * side_mm / 100;
    const double len_want = side_mm / area_cm2;   /* one groove across the region, mm/cm² */
    printf("  groove: length density %.4g (a groove across: %.4g), density %.4g %%, severity %.4g; "
           "two %.4g / %.4g; vertical %.4g; deeper %.4g / %.4g\n", one[SD_M_WRINKLE_LENGTH_DENSITY],
           len_want, one[SD_M_WRINKLE_DENSITY], one[SD_M_WRINKLE_SEVERITY], two[SD_M_WRINKLE_LENGTH_DENSITY],
           two[SD_M_WRINKLE_DENSITY], vert[SD_M_WRINKLE_DENSITY], deep[SD_M_WRINKLE_DENSITY],
           deep[SD_M_WRINKLE_SEVERITY]);
    /* one groove: its length (the ends may lose up to a line half-length each), some area */
    CHECKF(one[SD_M_WRINKLE_LENGTH_DENSITY] > 0.85 * len_want && one[SD_M_WRINKLE_LENGTH_DENSITY] < 1.05 * len_want,
           "length density %g, want %g", one[SD_M_WRINKLE_LENGTH_DENSITY], len_want);
    CHECK(one[SD_M_WRINKLE_DENSITY] > 0 && one[SD_M_WRINKLE_SEVERITY] > 0);
    /* the area of a groove is its length times a width of the order of the groove's (FWHM 2.355 w) */
    const double width_mm = one[SD_M_WRINKLE_DENSITY] / 100 * side_mm * side_mm / (len_want * area_cm2);
    CHECKF(width_mm > 0.5 * 2.355 * s.width_px / ppm && width_mm < 2.5 * 2.355 * s.width_px / ppm,
           "wrinkle width %g mm for a groove of FWHM %g mm", width_mm, 2.355 * s.width_px / ppm);
    /* two grooves score twice one (within 5%); orientation does not matter without a prior */
    CHECKF(fabs(two[SD_M_WRINKLE_DENSITY] / one[SD_M_WRINKLE_DENSITY] - 2) < 0.1, "two grooves: %g vs %g",
           two[SD_M_WRINKLE_DENSITY], one[SD_M_WRINKLE_DENSITY]);
    CHECKF(fabs(two[SD_M_WRINKLE_LENGTH_DENSITY] / one[SD_M_WRINKLE_LENGTH_DENSITY] - 2) < 0.1, "two: length %g vs %g",
           two[SD_M_WRINKLE_LENGTH_DENSITY], one[SD_M_WRINKLE_LENGTH_DENSITY]);
    CHECKF(fabs(vert[SD_M_WRINKLE_DENSITY] / one[SD_M_WRINKLE_DENSITY] - 1) < 0.02, "vertical %g vs %g",
           vert[SD_M_WRINKLE_DENSITY], one[SD_M_WRINKLE_DENSITY]);
    /* deeper: more severe (proportional to depth within 10%), not less area */
    CHECKF(fabs(deep[SD_M_WRINKLE_SEVERITY] / one[SD_M_WRINKLE_SEVERITY] - 2) < 0.2, "severity %g at 2x depth vs %g",
           deep[SD_M_WRINKLE_SEVERITY], one[SD_M_WRINKLE_SEVERITY]);
    CHECK(deep[SD_M_WRINKLE_DENSITY] >= one[SD_M_WRINKLE_DENSITY]);
    /* orientation priors on a region that does not start at x = 0 (columns 30..232; 203 wide, so
     * the skeleton's byte unpacking runs its tail on the groove): a groove along
     * the prior scores as without it (severity 2%; density 4%: the soft membership also counts
     * the faint noise valleys off the groove, which the prior weighs down); across it, less */
    SdMask band;
    CHECK_EQ_INT(sd_mask_create(&band, s.w, s.h), 0);
    for (int y = 0; y < s.h; y++)
        memset(band.data + (size_t)y * (size_t)band.stride + 30, 1, 203);
    double h_none[SD_NMETRICS], h_fore[SD_NMETRICS], h_glab[SD_NMETRICS], v_none[SD_NMETRICS], v_glab[SD_NMETRICS];
    s.depth = 0.15;
    s.noise = 0.003;   /* so that the line direction off the groove varies (read at the right x?) */
    s.seed = 77;
    CHECK_EQ_INT(render(&s, &img), 0);   /* horizontal */
    CHECK_EQ_INT(measure(&img, ppm, &band, NULL, h_none), 0);
    CHECK_EQ_INT(measure(&img, ppm, &band, "forehead", h_fore), 0);
    CHECK_EQ_INT(measure(&img, ppm, &band, "glabella", h_glab), 0);
    sd_image_free(&img);
    s.vertical = 1;
    CHECK_EQ_INT(render(&s, &img), 0);
    CHECK_EQ_INT(measure(&img, ppm, &band, NULL, v_none), 0);
    CHECK_EQ_INT(measure(&img, ppm, &band, "glabella", v_glab), 0);
    sd_image_free(&img);
    /* a diagonal groove through the band's right edge: its skeleton steps diagonally up to the
     * box's last columns */
    double d_band[SD_NMETRICS];
    s.vertical = 2;
    CHECK_EQ_INT(render(&s, &img), 0);
    CHECK_EQ_INT(measure(&img, ppm, &band, NULL, d_band), 0);
    sd_image_free(&img);
    CHECK(d_band[SD_M_WRINKLE_LENGTH_DENSITY] > 0.8 * h_none[SD_M_WRINKLE_LENGTH_DENSITY]);
    pin_scene("groove_band_diagonal", d_band, "wrinkle_");
    s.vertical = 0;
    s.noise = 0;
    sd_mask_free(&band);
    printf("  priors (density): horizontal %.4g, forehead prior %.4g, glabella prior %.4g; vertical %.4g, "
           "glabella prior %.4g\n", h_none[SD_M_WRINKLE_DENSITY], h_fore[SD_M_WRINKLE_DENSITY],
           h_glab[SD_M_WRINKLE_DENSITY], v_none[SD_M_WRINKLE_DENSITY], v_glab[SD_M_WRINKLE_DENSITY]);
    printf("  priors: horizontal groove %.4g, forehead prior %.4g, glabella prior %.4g; vertical %.4g, "
           "glabella prior %.4g (severity)\n", h_none[SD_M_WRINKLE_SEVERITY], h_fore[SD_M_WRINKLE_SEVERITY],
           h_glab[SD_M_WRINKLE_SEVERITY], v_none[SD_M_WRINKLE_SEVERITY], v_glab[SD_M_WRINKLE_SEVERITY]);
    CHECK(h_none[SD_M_WRINKLE_SEVERITY] > 0 && v_none[SD_M_WRINKLE_SEVERITY] > 0);
    CHECKF(fabs(h_fore[SD_M_WRINKLE_SEVERITY] / h_none[SD_M_WRINKLE_SEVERITY] - 1) < 0.02 &&
           fabs(h_fore[SD_M_WRINKLE_DENSITY] / h_none[SD_M_WRINKLE_DENSITY] - 1) < 0.04,
           "horizontal groove, horizontal prior: %g vs %g", h_fore[SD_M_WRINKLE_SEVERITY], h_none[SD_M_WRINKLE_SEVERITY]);
    CHECKF(fabs(v_glab[SD_M_WRINKLE_SEVERITY] / v_none[SD_M_WRINKLE_SEVERITY] - 1) < 0.02 &&
           fabs(v_glab[SD_M_WRINKLE_DENSITY] / v_none[SD_M_WRINKLE_DENSITY] - 1) < 0.04,
           "vertical groove, vertical prior: %g vs %g", v_glab[SD_M_WRINKLE_SEVERITY], v_none[SD_M_WRINKLE_SEVERITY]);
    CHECKF(h_glab[SD_M_WRINKLE_SEVERITY] < 0.9 * h_none[SD_M_WRINKLE_SEVERITY] ||
           h_glab[SD_M_WRINKLE_DENSITY] < 0.9 * h_none[SD_M_WRINKLE_DENSITY],
           "horizontal groove, vertical prior: %g vs %g", h_glab[SD_M_WRINKLE_SEVERITY], h_none[SD_M_WRINKLE_SEVERITY]);
    pin_scene("groove_band", h_none, "wrinkle_");
    pin_scene("groove_band_glabella", h_glab, "wrinkle_");
    /* a groove below the detection threshold is no wrinkle */
    CHECK_NEAR(faint[SD_M_WRINKLE_DENSITY], 0.0, 1e-12);
    CHECK_NEAR(faint[SD_M_WRINKLE_LENGTH_DENSITY], 0.0, 1e-12);
    pin_scene("groove", one, "wrinkle_");
    pin_scene("two_grooves", two, "wrinkle_");
    pin_scene("groove_deep", deep, "wrinkle_");
}

/* ---- pigment: a disc of melanin (or haemoglobin) of optical density od */
static double disc(const Scene *s, int x, int y)
{
    const double dx = x - s->cx, dy = y - s->cy;
    return dx * dx + dy * dy <= s->radius * s->radius ? s->od : 0;
}

/* Independent reference: SD over the image of G_lo d - G_hi d, d the disc map, with
 * double-precision sampled Gaussians (radius 4 sigma, edges repeated). */
static void gauss_ref(const double *in, double *out, int w, int h, double sg)
{
    int r = (int)ceil(4 * sg);
    double *k = calloc((size_t)(2 * r + 1), sizeof(double)), sum = 0;
    double *tmp = calloc((size_t)w * (size_t)h, sizeof(double));
    if (!k || !tmp) {
        free(k); free(tmp);
        return;
    }
    for (int i = -r; i <= r; i++)
        sum += k[i + r] = exp(-i * i / (2 * sg * sg));
    for (int i = 0; i <= 2 * r; i++)
        k[i] /= sum;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double a = 0;
            for (int i = -r; i <= r; i++) {
                int xx = x + i < 0 ? 0 : x + i >= w ? w - 1 : x + i;
                a += k[i + r] * in[(size_t)y * w + xx];
            }
            tmp[(size_t)y * w + x] = a;
        }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double a = 0;
            for (int i = -r; i <= r; i++) {
                int yy = y + i < 0 ? 0 : y + i >= h ? h - 1 : y + i;
                a += k[i + r] * tmp[(size_t)yy * w + x];
            }
            out[(size_t)y * w + x] = a;
        }
    free(k);
    free(tmp);
}

static double disc_band_sd(const Scene *s, double ppm)
{
    SdMetricsOpts o;
    sd_metrics_opts_default(&o);
    const int w = s->w, h = s->h, e = 0;   /* an all-valid image is not eroded */
    double *d = calloc((size_t)w * h, sizeof(double)), *lo = calloc((size_t)w * h, sizeof(double)),
           *hi = calloc((size_t)w * h, sizeof(double));
    if (!d || !lo || !hi) {
        free(d); free(lo); free(hi);
        return NAN;
    }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            d[(size_t)y * w + x] = disc(s, x, y);
    gauss_ref(d, lo, w, h, o.pg_band_lo_mm * ppm);
    gauss_ref(d, hi, w, h, o.pg_band_hi_mm * ppm);
    double s1 = 0, s2 = 0, n = 0;
    for (int y = e; y < h - e; y++)
        for (int x = e; x < w - e; x++) {
            double b = lo[(size_t)y * w + x] - hi[(size_t)y * w + x];
            s1 += b; s2 += b * b; n++;
        }
    free(d); free(lo); free(hi);
    double m = s1 / n;
    return sqrt(s2 / n - m * m);
}

static void test_pigment_disc(void)
{
    setup();
    const double ppm = 10;
    SdMetricsOpts o;
    sd_metrics_opts_default(&o);
    Scene s = { .w = 240, .h = 240, .base = { skin[0], skin[1], skin[2] }, .mel = disc,
                .cx = 120.3, .cy = 119.6, .radius = 12, .od = 0.05, .noise = 0.004, .seed = 5 };
    /* (a little noise: on a noise-free image the spot threshold, median + k MAD of the map, is 0) */
    SdImage img;
    double m1[SD_NMETRICS], m2[SD_NMETRICS], h1[SD_NMETRICS];
    CHECK_EQ_INT(render(&s, &img), 0);
    CHECK_EQ_INT(measure(&img, ppm, NULL, NULL, m1), 0);
    sd_image_free(&img);
    s.od = 0.10;
    CHECK_EQ_INT(render(&s, &img), 0);
    CHECK_EQ_INT(measure(&img, ppm, NULL, NULL, m2), 0);
    sd_image_free(&img);
    s.od = 0.05; s.hb = disc; s.mel = NULL;
    CHECK_EQ_INT(render(&s, &img), 0);
    CHECK_EQ_INT(measure(&img, ppm, NULL, NULL, h1), 0);
    sd_image_free(&img);
    s.mel = disc; s.hb = NULL;
    const double e = 0, side_mm = (s.w - 2 * e) / ppm, area_cm2 = side_mm * side_mm / 100;
    const double disc_pct = 100 * M_PI * s.radius * s.radius / ((s.w - 2 * e) * (s.h - 2 * e));
    const double ref = 100 * disc_band_sd(&s, ppm);
    printf("  disc: unevenness %.5g (reference %.5g), 2x OD %.5g; spot area %.4g %% (disc %.4g %%), "
           "density %.4g /cm² (one spot: %.4g); redness %.3g; haemoglobin disc: redness %.5g, pigment %.3g\n",
           m1[SD_M_PIGMENT_UNEVENNESS], ref, m2[SD_M_PIGMENT_UNEVENNESS], m1[SD_M_PIGMENT_SPOT_AREA], disc_pct,
           m1[SD_M_PIGMENT_SPOT_DENSITY], 1 / area_cm2, m1[SD_M_REDNESS_UNEVENNESS],
           h1[SD_M_REDNESS_UNEVENNESS], h1[SD_M_PIGMENT_UNEVENNESS]);
    /* unevenness: proportional to the optical density, equal to the band-passed disc's SD */
    CHECKF(fabs(m2[SD_M_PIGMENT_UNEVENNESS] / m1[SD_M_PIGMENT_UNEVENNESS] - 2) < 0.02, "2x OD: %g vs %g",
           m2[SD_M_PIGMENT_UNEVENNESS], m1[SD_M_PIGMENT_UNEVENNESS]);
    CHECKF(fabs(m1[SD_M_PIGMENT_UNEVENNESS] / ref - 1) < 0.03, "unevenness %g, reference %g",
           m1[SD_M_PIGMENT_UNEVENNESS], ref);
    /* one spot, of about the disc's area */
    CHECKF(fabs(m1[SD_M_PIGMENT_SPOT_DENSITY] * area_cm2 - 1) < 1e-6, "spot density %g (one spot: %g)",
           m1[SD_M_PIGMENT_SPOT_DENSITY], 1 / area_cm2);
    CHECKF(m1[SD_M_PIGMENT_SPOT_AREA] > 0.6 * disc_pct && m1[SD_M_PIGMENT_SPOT_AREA] < 1.4 * disc_pct,
           "spot area %g %%, disc %g %%", m1[SD_M_PIGMENT_SPOT_AREA], disc_pct);
    /* melanin does not read as redness, nor haemoglobin as melanin; the same disc in haemoglobin
     * gives the same band-passed SD in the redness map */
    CHECKF(m1[SD_M_REDNESS_UNEVENNESS] < 0.05 * m1[SD_M_PIGMENT_UNEVENNESS], "redness of a melanin disc %g",
           m1[SD_M_REDNESS_UNEVENNESS]);
    CHECKF(h1[SD_M_PIGMENT_UNEVENNESS] < 0.05 * h1[SD_M_REDNESS_UNEVENNESS], "pigment of a haemoglobin disc %g",
           h1[SD_M_PIGMENT_UNEVENNESS]);
    CHECKF(fabs(h1[SD_M_REDNESS_UNEVENNESS] / ref - 1) < 0.03, "redness %g, reference %g",
           h1[SD_M_REDNESS_UNEVENNESS], ref);
    /* pigment is not relief: no wrinkles, and the darker disc shifts ITA (its SD > 0) */
    CHECK_NEAR(m1[SD_M_WRINKLE_DENSITY], 0.0, 1e-12);
    CHECK(m1[SD_M_PIGMENT_ITA_SD] > 0 && m2[SD_M_PIGMENT_ITA_SD] > m1[SD_M_PIGMENT_ITA_SD]);
    pin_scene("melanin_disc", m1, "pigment_");
    pin_scene("melanin_disc_2x", m2, "pigment_");
    pin_scene("haemoglobin_disc", h1, "redness_");
}

/* ITA of dark colours, where CIELAB's f(t) takes its linear branch (t <= 216/24389): values
 * computed by hand from the CIE formulas (L* 3.867, b* 3.101; L* 2.093, b* 2.477). */
static void test_ita_dark(void)
{
    CHECK_NEAR(sd_ita_deg(0.006, 0.004, 0.002), -86.1546209833535, 1e-9);
    CHECK_NEAR(sd_ita_deg(0.004, 0.002, 0.0005), -87.0396929916284, 1e-9);
}

/* ---- the committed canonical image, whole and in a named region */
static void test_pins_canonical(void)
{
    setup();
    SdImage img;
    SdLoadOpts lo;
    sd_load_opts_default(&lo);
    const char *path = sd_test_path(sd_test_data_dir(), "pins/canonical_eye.png");
    CHECK_EQ_INT(sd_image_load(&ctx, path, &lo, &img, NULL), 0);
    if (img.w != 480 || img.h != 400) {
        CHECKF(0, "%s: %dx%d, want 480x400", path, img.w, img.h);
        return;
    }
    const double ppm = 10.1587302;   /* alignment.csv px_per_mm of the astronaut's canonical frame */
    double whole[SD_NMETRICS], lower[SD_NMETRICS];
    CHECK_EQ_INT(measure(&img, ppm, NULL, NULL, whole), 0);
    SdMask m;
    CHECK_EQ_INT(sd_mask_create(&m, img.w, img.h), 0);
    /* below the eye: the upper cheek, with the orientation prior; 401 x 199, so that the region's
     * byte loops run their tails (n not a multiple of 16) */
    for (int y = 201; y < 400; y++)
        memset(m.data + (size_t)y * (size_t)m.stride + 40, 1, 401);
    CHECK_EQ_INT(measure(&img, ppm, &m, "crowsfeet_l", lower), 0);
    /* the photo covering only x < 400 (black beyond): the uncovered part is filled from the
     * covered one and the coverage eroded by erode_mm; a region well inside it (x 40..299) scores
     * as on the fully covered image (texture and pigment within 2%) */
    SdMask valid, inner;
    double cov[SD_NMETRICS], inner_all[SD_NMETRICS], inner_cov[SD_NMETRICS];
    CHECK_EQ_INT(sd_mask_create(&valid, img.w, img.h), 0);
    CHECK_EQ_INT(sd_mask_create(&inner, img.w, img.h), 0);
    for (int y = 0; y < img.h; y++) {
        memset(valid.data + (size_t)y * (size_t)valid.stride, 1, 400);
        if (y >= 30 && y < 370)
            memset(inner.data + (size_t)y * (size_t)inner.stride + 40, 1, 260);
    }
    SdImage cut;
    CHECK_EQ_INT(sd_image_create(&cut, img.w, img.h, 3, SD_FMT_F32), 0);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < img.h; y++)
            for (int x = 0; x < img.w; x++)
                sd_image_rowf(&cut, c, y)[x] = x < 400 ? sd_image_rowf(&img, c, y)[x] : 0.0f;
    CHECK_EQ_INT(measure_valid(&cut, &valid, ppm, NULL, NULL, cov), 0);
    CHECK_EQ_INT(measure_valid(&img, NULL, ppm, &inner, NULL, inner_all), 0);
    CHECK_EQ_INT(measure_valid(&cut, &valid, ppm, &inner, NULL, inner_cov), 0);
    printf("  coverage: inner region roughness %.5g vs %.5g, pigment %.5g vs %.5g\n",
           inner_cov[SD_M_TEXTURE_ROUGHNESS], inner_all[SD_M_TEXTURE_ROUGHNESS],
           inner_cov[SD_M_PIGMENT_UNEVENNESS], inner_all[SD_M_PIGMENT_UNEVENNESS]);
    CHECK(fabs(inner_cov[SD_M_TEXTURE_ROUGHNESS] / inner_all[SD_M_TEXTURE_ROUGHNESS] - 1) < 0.02);
    CHECK(fabs(inner_cov[SD_M_PIGMENT_UNEVENNESS] / inner_all[SD_M_PIGMENT_UNEVENNESS] - 1) < 0.02);
    pin_scene("canonical_eye_covered", cov, NULL);
    sd_image_free(&cut);
    sd_mask_free(&valid);
    sd_mask_free(&inner);
    sd_mask_free(&m);
    sd_image_free(&img);
    pin_scene("canonical_eye", whole, NULL);
    pin_scene("canonical_eye_lower", lower, NULL);
}

/* ---- a fixed-seed patch phantom, photographed with fixed nuisance */
static void test_pins_phantom(void)
{
    setup();
    SdSynthPatch p = { .size = 256, .px_per_mm = 12, .seed = 19 };
    SdSynthEffect e;
    SdSynthNuisance n;
    SdImage lin, cam;
    sd_synth_effect_none(&e);
    sd_synth_nuisance_none(&n);
    n.noise_sd = 0.004;
    n.noise_seed = 7;
    CHECK_EQ_INT(sd_synth_patch_scene(&ctx, &p, &e, &lin), 0);
    CHECK_EQ_INT(sd_synth_camera(&ctx, &lin, &n, &cam), 0);
    double out[SD_NMETRICS];
    CHECK_EQ_INT(measure(&cam, 12, NULL, NULL, out), 0);
    pin_scene("patch_seed19", out, NULL);
    sd_image_free(&lin);
    sd_image_free(&cam);
    /* a region of more than 250000 px (the spot statistics subsample it) */
    p.size = 520;
    CHECK_EQ_INT(sd_synth_patch_scene(&ctx, &p, &e, &lin), 0);
    CHECK_EQ_INT(sd_synth_camera(&ctx, &lin, &n, &cam), 0);
    CHECK_EQ_INT(measure(&cam, 12, NULL, NULL, out), 0);
    pin_scene("patch_seed19_520px", out, NULL);
    sd_image_free(&lin);
    sd_image_free(&cam);
}

static const SdTestCase cases[] = {
    { "texture_relief", test_texture_relief },
    { "texture_noise_floor", test_texture_noise_floor },
    { "wrinkle_groove", test_wrinkle_groove },
    { "pigment_disc", test_pigment_disc },
    { "pins_canonical", test_pins_canonical },
    { "pins_phantom", test_pins_phantom },
    { "ita_dark", test_ita_dark },
    { "band_gain", test_band_gain },
    { "texture_floor_terms", test_texture_floor_terms },
};
SD_TEST_MAIN(cases)

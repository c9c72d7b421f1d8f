/* Validation of the primary metrics on procedural phantoms with known truth (src/synth.c):
 * sensitivity (Spearman vs the true effect level), invariance to capture nuisance after
 * re-alignment, specificity (spots-only vs wrinkle density, wrinkles-only vs pigment), and the
 * documented gamma behaviour. Each session: scene -> camera (pose, gain, white balance, gamma,
 * noise, 8 bit) -> JPEG -> inverse pose (Lanczos) -> metrics on a central disc. Baseline and
 * follow-ups take the same path. Set SD_PHANTOM_VERBOSE=1 for the full tables. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skindelta/align.h"
#include "skindelta/metrics.h"
#include "synth/synth.h"
#include "tests/lib/test.h"

static SdCtx ctx;
/* 34 mm at 15 px/mm. Smaller phantoms hold too few wrinkles and spots for stable figures (at 384 px
 * the worst drifts were 6.4% wrinkle, 5.5% pigment), so ASan runs the same size (~40 s). */
static const int N = 512;
static const double PPM = 15.0;
static uint64_t current_patient = 7;   /* the skin: sensitivity and specificity use patient 7 */
static int verbose;

#define NLEV 5
static const double levels[NLEV] = { 1.0, 0.85, 0.7, 0.55, 0.4 };
static const int primary[3] = { SD_M_TEXTURE_ROUGHNESS, SD_M_WRINKLE_DENSITY, SD_M_PIGMENT_UNEVENNESS };

static void setup(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    sd_init(&ctx, "test_phantoms");
    sd_ctx_init(&ctx);
    const char *v = getenv("SD_PHANTOM_VERBOSE");
    verbose = v && *v && strcmp(v, "0");
}

/* Capture nuisance in the ranges the invariance claim covers: rotation <= 5 deg, gain 0.7-1.3,
 * white balance +-10%, noise <= 0.01, JPEG 85-95. Gamma stays 1 here: a tone-curve change scales
 * every log-contrast, which no single-image metric can tell from a change of the skin (the gamma
 * case measures that behaviour; removing it is the photometry stage's job, from reference
 * regions). */
static void nuisance(uint64_t *rng, SdSynthNuisance *n)
{
    sd_synth_nuisance_random(rng, 5.0, n);
    n->gamma = 1.0;
    n->jpeg_q = 85 + (int)(sd_synth_rand(rng) % 11);
}

static int session(const SdSynthEffect *e, const SdSynthNuisance *nu, double out[SD_NMETRICS])
{
    SdSynthPatch pp = { 0 };
    SdImage lin = { 0 }, cam = { 0 }, can = { 0 };
    SdMask valid = { 0 }, disc = { 0 };
    SdMetricsState *st = NULL;
    int err;
    pp.size = N;
    pp.px_per_mm = PPM;
    pp.seed = current_patient;
    if ((err = sd_synth_patch_scene(&ctx, &pp, e, &lin)) || (err = sd_synth_camera(&ctx, &lin, nu, &cam)))
        goto done;
    if (nu->jpeg_q > 0 &&
        (err = sd_synth_jpeg(&ctx, &cam, nu->jpeg_q, sd_test_path(sd_test_tmp_dir(), "phantom.jpg"))))
        goto done;
    /* re-alignment with the known pose (the inverse similarity), Lanczos-3 */
    SdTransform T, I;
    sd_synth_pose(nu, N, N, &T);
    if ((err = sd_transform_invert(&T, &I)) || (err = sd_synth_warp(&ctx, &cam, &I, N, N, &can, &valid)))
        goto done;
    if ((err = sd_metrics_prepare(&ctx, &can, &valid, PPM, NULL, &st)))
        goto done;
    if ((err = sd_mask_create(&disc, N, N)))
        goto done;
    for (int y = 0; y < N; y++)
        for (int x = 0; x < N; x++) {
            double dx = x - (N - 1) / 2.0, dy = y - (N - 1) / 2.0;
            disc.data[(size_t)y * (size_t)disc.stride + (size_t)x] = dx * dx + dy * dy < 0.42 * 0.42 * N * N;
        }
    err = sd_metrics_region(&ctx, st, &disc, NULL, out);
done:
    if (err)
        printf("  session failed: %s (%s)\n", sd_strerror(err), ctx.errmsg);
    sd_metrics_free(st);
    sd_image_free(&lin); sd_image_free(&cam); sd_image_free(&can);
    sd_mask_free(&valid); sd_mask_free(&disc);
    return err;
}

static void print_row(const char *tag, const double *o)
{
    if (!verbose)
        return;
    printf("  %-22s", tag);
    for (int i = 0; i < SD_NMETRICS; i++)
        printf(" %8.4f", o[i]);
    printf("\n");
}

/* ---- sensitivity: kind 0 texture amplitude, 1 wrinkle depth, 2 spot contrast */
static double sens[3][NLEV];
static int sens_done[3];

static void set_level(SdSynthEffect *e, int kind, double lv)
{
    sd_synth_effect_none(e);
    if (kind == 0) e->texture_amp = lv;
    else if (kind == 1) e->wrinkle_depth = lv;
    else e->spot_contrast = lv;
}

static void run_sensitivity(int kind)
{
    static const char *names[3] = { "texture_amp", "wrinkle_depth", "spot_contrast" };
    setup();
    if (sens_done[kind])
        return;
    uint64_t rng = 1000 + (uint64_t)kind;
    for (int k = 0; k < NLEV; k++) {
        SdSynthEffect e;
        SdSynthNuisance nu;
        double o[SD_NMETRICS];
        char tag[64];
        set_level(&e, kind, levels[k]);
        nuisance(&rng, &nu);
        CHECK_EQ_INT(session(&e, &nu, o), 0);
        sens[kind][k] = o[primary[kind]];
        snprintf(tag, sizeof tag, "%s %.2f", names[kind], levels[k]);
        print_row(tag, o);
    }
    double rho = sd_test_spearman(levels, sens[kind], NLEV);
    int mono = 1;
    for (int k = 1; k < NLEV; k++)
        mono &= sens[kind][k] < sens[kind][k - 1];
    printf("  sensitivity %-14s -> %-18s: values", names[kind], sd_metric_info(primary[kind])->id);
    for (int k = 0; k < NLEV; k++)
        printf(" %.4f", sens[kind][k]);
    printf("  Spearman %.3f, monotone %s\n", rho, mono ? "yes" : "no");
    CHECKF(rho >= 0.9, "Spearman %.3f < 0.9", rho);
    CHECKF(mono, "%s not monotone in the effect", sd_metric_info(primary[kind])->id);
    sens_done[kind] = 1;
}

static void test_sensitivity_texture(void) { run_sensitivity(0); }
static void test_sensitivity_wrinkle(void) { run_sensitivity(1); }
static void test_sensitivity_pigment(void) { run_sensitivity(2); }

/* ---- invariance: nuisance-only sessions against a nuisance-only baseline, on three patients
 * (three skins: patient 7 is also the sensitivity patient; 11 and 23 are not tuned for). */
static int session_of(uint64_t patient, const SdSynthEffect *e, const SdSynthNuisance *nu,
                      double out[SD_NMETRICS])
{
    const uint64_t keep = current_patient;
    current_patient = patient;
    int err = session(e, nu, out);
    current_patient = keep;
    return err;
}

static void test_invariance(void)
{
    setup();
    for (int k = 0; k < 3; k++)
        run_sensitivity(k);
    static const uint64_t patients[3] = { 7, 11, 23 };
    enum { NSESS = 6 };
    SdSynthEffect e;
    SdSynthNuisance nu;
    double worst[3] = { 0 }, ss[3] = { 0 }, worst_abs7[3] = { 0 };
    int n = 0;
    sd_synth_effect_none(&e);
    for (int p = 0; p < 3; p++) {
        double base[SD_NMETRICS], o[SD_NMETRICS], pw[3] = { 0 };
        uint64_t rng = 77 + (uint64_t)p;
        nuisance(&rng, &nu);
        CHECK_EQ_INT(session_of(patients[p], &e, &nu, base), 0);
        print_row("nuisance baseline", base);
        for (int s = 0; s < NSESS; s++) {
            char tag[96];
            nuisance(&rng, &nu);
            CHECK_EQ_INT(session_of(patients[p], &e, &nu, o), 0);
            snprintf(tag, sizeof tag, "p%llu rot%+.1f g%.2f n%.3f q%d", (unsigned long long)patients[p],
                     nu.rot_deg, nu.gain, nu.noise_sd, nu.jpeg_q);
            print_row(tag, o);
            for (int k = 0; k < 3; k++) {
                const double d = fabs(o[primary[k]] - base[primary[k]]);
                const double rel = 100.0 * d / fabs(base[primary[k]]);
                if (rel > pw[k]) pw[k] = rel;
                if (rel > worst[k]) worst[k] = rel;
                if (p == 0 && d > worst_abs7[k]) worst_abs7[k] = d;
                ss[k] += rel * rel;
            }
            n++;
        }
        printf("  invariance patient %2llu: worst drift texture %.2f%%, wrinkle %.2f%%, pigment %.2f%%\n",
               (unsigned long long)patients[p], pw[0], pw[1], pw[2]);
    }
    /* The targets are < 3% and < half the smallest effect step. Measured (512 px at 15 px/mm,
     * 3 patients x 6 sessions): worst texture 6.9%, wrinkle 13.3%, pigment 7.7% (RMS 2.6 / 5.7 /
     * 3.5%); patient 7 alone 3.1 / 3.9 / 3.6%. The targets are NOT met; JPEG is the dominant
     * factor (docs/METRICS.md, "JPEG"). These bounds hold the line at today's figures so that a
     * regression fails; they are not the targets. */
    static const double max_worst[3] = { 8.0, 15.0, 9.0 }, max_rms[3] = { 3.5, 7.0, 4.5 };
    for (int k = 0; k < 3; k++) {
        double step = INFINITY;
        for (int j = 1; j < NLEV; j++) {
            double st = fabs(sens[k][j] - sens[k][j - 1]);
            if (st < step) step = st;
        }
        const double rms = sqrt(ss[k] / n);
        printf("  invariance %-20s: worst drift %.2f%%, RMS %.2f%% (target < 3%%: %s); patient 7 worst "
               "%.4f = %.2f x its smallest effect step %.4f\n", sd_metric_info(primary[k])->id, worst[k],
               rms, worst[k] < 3.0 ? "met" : "NOT met", worst_abs7[k], worst_abs7[k] / step, step);
        CHECKF(worst[k] < max_worst[k], "%s drifted %.2f%% under nuisance", sd_metric_info(primary[k])->id,
               worst[k]);
        CHECKF(rms < max_rms[k], "%s RMS drift %.2f%%", sd_metric_info(primary[k])->id, rms);
        CHECKF(worst_abs7[k] < 0.75 * step, "%s drift %.4f >= 0.75 x the smallest step %.4f",
               sd_metric_info(primary[k])->id, worst_abs7[k], step);
    }
}

/* ---- the same invariance through the product's own path: `--roi whole` canonical frame for the
 * baseline, ECC registration of each follow-up onto it (src/align.h), both resampled once by the
 * align stage, metrics on the central disc both cover. */
static int photo(const SdSynthEffect *e, const SdSynthNuisance *nu, SdImage *cam)
{
    SdSynthPatch pp = { .size = N, .px_per_mm = PPM, .seed = current_patient };
    SdImage lin;
    int err = sd_synth_patch_scene(&ctx, &pp, e, &lin);
    if (!err) {
        err = sd_synth_camera(&ctx, &lin, nu, cam);
        sd_image_free(&lin);
    }
    if (!err && nu->jpeg_q > 0)
        err = sd_synth_jpeg(&ctx, cam, nu->jpeg_q, sd_test_path(sd_test_tmp_dir(), "align.jpg"));
    return err;
}

static int measure_aligned(const SdAligned *a, const SdMask *region, double out[SD_NMETRICS])
{
    SdMetricsState *st = NULL;
    int err = sd_metrics_prepare(&ctx, &a->img, &a->valid, a->px_per_mm, NULL, &st);
    if (!err)
        err = sd_metrics_region(&ctx, st, region, NULL, out);
    sd_metrics_free(st);
    return err;
}

static void test_invariance_align(void)
{
    setup();
    SdAlignOpts ao;
    SdSynthEffect e;
    SdSynthNuisance nu;
    SdImage cam = { 0 };
    SdAligned base = { 0 };
    double worst[3] = { 0 };
    uint64_t rng = 77;
    sd_align_opts_default(&ao);
    ao.roi_whole = 1;
    ao.whole_max_side = N;
    ao.px_per_mm = PPM;
    sd_synth_effect_none(&e);
    nuisance(&rng, &nu);
    CHECK_EQ_INT(photo(&e, &nu, &cam), 0);
    CHECK_EQ_INT(sd_align_canonical(&ctx, &cam, NULL, &ao, &base), 0);
    sd_image_free(&cam);
    if (!base.img.data)
        return;
    const int W = base.img.w, H = base.img.h;
    for (int s = 0; s < 4; s++) {
        SdAligned f = { 0 };
        SdAlignQC qc;
        SdMask common = { 0 };
        double ob[SD_NMETRICS], of[SD_NMETRICS];
        nuisance(&rng, &nu);
        CHECK_EQ_INT(photo(&e, &nu, &cam), 0);
        CHECK_EQ_INT(sd_align_followup(&ctx, &base, &cam, NULL, &ao, &f, &qc), 0);
        sd_image_free(&cam);
        CHECK(qc.status == SD_ALIGN_OK);
        CHECK_EQ_INT(sd_mask_create(&common, W, H), 0);
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                double dx = x - (W - 1) / 2.0, dy = y - (H - 1) / 2.0;
                size_t i = (size_t)y * (size_t)common.stride + (size_t)x;
                common.data[i] = dx * dx + dy * dy < 0.42 * 0.42 * W * H &&
                                 f.valid.data[(size_t)y * (size_t)f.valid.stride + (size_t)x] &&
                                 base.valid.data[(size_t)y * (size_t)base.valid.stride + (size_t)x];
            }
        CHECK_EQ_INT(measure_aligned(&base, &common, ob), 0);
        CHECK_EQ_INT(measure_aligned(&f, &common, of), 0);
        printf("  aligned rot %+.1f deg (ecc %.3f):", nu.rot_deg, qc.ecc);
        for (int k = 0; k < 3; k++) {
            double rel = 100.0 * (of[primary[k]] / ob[primary[k]] - 1.0);
            printf(" %s %+.2f%%", sd_metric_info(primary[k])->id, rel);
            if (fabs(rel) > worst[k]) worst[k] = fabs(rel);
        }
        printf("\n");
        sd_mask_free(&common);
        sd_aligned_free(&f);
    }
    for (int k = 0; k < 3; k++) {
        printf("  invariance through align %-20s: worst %.2f%%\n", sd_metric_info(primary[k])->id, worst[k]);
        CHECKF(worst[k] < 5.0, "%s drifted %.2f%% through the align path", sd_metric_info(primary[k])->id, worst[k]);
    }
    sd_aligned_free(&base);
}

/* ---- specificity: one effect at a time, identical capture */
static void test_specificity(void)
{
    setup();
    SdSynthEffect e0, es, ew, et;
    SdSynthNuisance nu;
    double o0[SD_NMETRICS], os[SD_NMETRICS], ow[SD_NMETRICS], ot[SD_NMETRICS];
    uint64_t rng = 4242;
    nuisance(&rng, &nu);
    sd_synth_effect_none(&e0);
    es = e0; es.spot_contrast = 0.4; es.spot_count = 0.4;
    ew = e0; ew.wrinkle_depth = 0.4; ew.wrinkle_count = 0.4;
    et = e0; et.texture_amp = 0.4;
    CHECK_EQ_INT(session(&e0, &nu, o0), 0);
    CHECK_EQ_INT(session(&es, &nu, os), 0);
    CHECK_EQ_INT(session(&ew, &nu, ow), 0);
    CHECK_EQ_INT(session(&et, &nu, ot), 0);
    print_row("spec: none", o0);
    print_row("spec: spots x0.4", os);
    print_row("spec: wrinkles x0.4", ow);
    print_row("spec: texture x0.4", ot);
#define REL(a, b, i) (100.0 * fabs((a)[i] - (b)[i]) / fabs((b)[i]))
    double sw = REL(os, o0, SD_M_WRINKLE_DENSITY), wp = REL(ow, o0, SD_M_PIGMENT_UNEVENNESS);
    printf("  specificity: spots-only -> wrinkle_density %.2f%%, texture_roughness %.2f%% "
           "(pigment_unevenness moved %.1f%%)\n", sw, REL(os, o0, SD_M_TEXTURE_ROUGHNESS),
           REL(os, o0, SD_M_PIGMENT_UNEVENNESS));
    printf("  specificity: wrinkles-only -> pigment_unevenness %.2f%%, texture_roughness %.2f%% "
           "(wrinkle_density moved %.1f%%)\n", wp, REL(ow, o0, SD_M_TEXTURE_ROUGHNESS),
           REL(ow, o0, SD_M_WRINKLE_DENSITY));
    printf("  specificity: texture-only -> wrinkle_density %.2f%%, pigment_unevenness %.2f%% "
           "(texture_roughness moved %.1f%%)\n", REL(ot, o0, SD_M_WRINKLE_DENSITY),
           REL(ot, o0, SD_M_PIGMENT_UNEVENNESS), REL(ot, o0, SD_M_TEXTURE_ROUGHNESS));
    /* every pair's bar is 3% (issue 14); these two hold it (0.9% and 0.7% on this capture); the
     * pairs that do not (wrinkles -> texture 4.6%, texture -> wrinkle 5.9%) are printed above and
     * in docs/METRICS.md */
    printf("  specificity targets (<= 3%%): spots->wrinkle %s, wrinkles->pigment %s\n", sw <= 3 ? "met" : "NOT met",
           wp <= 3 ? "met" : "NOT met");
    CHECKF(sw < 3.0, "spots-only moved wrinkle_density %.2f%%", sw);
    CHECKF(wp < 3.0, "wrinkles-only moved pigment_unevenness %.2f%%", wp);
    /* the effects themselves must register */
    CHECK(os[SD_M_PIGMENT_UNEVENNESS] < 0.9 * o0[SD_M_PIGMENT_UNEVENNESS]);
    CHECK(ow[SD_M_WRINKLE_DENSITY] < 0.7 * o0[SD_M_WRINKLE_DENSITY]);
    CHECK(ot[SD_M_TEXTURE_ROUGHNESS] < 0.75 * o0[SD_M_TEXTURE_ROUGHNESS]);   /* reads >= 25% */
}

/* ---- gamma: the contrast metrics are equivariant (x gamma); wrinkle detection is not exactly */
static void test_gamma(void)
{
    setup();
    SdSynthEffect e;
    SdSynthNuisance nu;
    double o1[SD_NMETRICS], og[2][SD_NMETRICS];
    static const double g[2] = { 0.9, 1.1 };
    sd_synth_effect_none(&e);
    sd_synth_nuisance_none(&nu);
    nu.jpeg_q = 92;
    CHECK_EQ_INT(session(&e, &nu, o1), 0);
    for (int k = 0; k < 2; k++) {
        SdSynthNuisance n2 = nu;
        n2.gamma = g[k];
        CHECK_EQ_INT(session(&e, &n2, og[k]), 0);
        printf("  gamma %.1f: ratio to gamma 1:", g[k]);
        for (int i = 0; i < 3; i++)
            printf(" %s %.3f", sd_metric_info(primary[i])->id, og[k][primary[i]] / o1[primary[i]]);
        printf("\n");
        /* texture and pigment are log-contrast SDs: they scale with gamma (the photometry stage,
         * not the metric, has to remove a tone-curve change) */
        double rt = og[k][SD_M_TEXTURE_ROUGHNESS] / o1[SD_M_TEXTURE_ROUGHNESS] / g[k];
        double rp = og[k][SD_M_PIGMENT_UNEVENNESS] / o1[SD_M_PIGMENT_UNEVENNESS] / g[k];
        CHECKF(fabs(rt - 1) < 0.05, "texture/gamma %.3f", rt);
        CHECKF(fabs(rp - 1) < 0.05, "pigment/gamma %.3f", rp);
    }
}

static const SdTestCase cases[] = {
    { "sensitivity_texture", test_sensitivity_texture },
    { "sensitivity_wrinkle", test_sensitivity_wrinkle },
    { "sensitivity_pigment", test_sensitivity_pigment },
    { "invariance", test_invariance },
    { "invariance_align", test_invariance_align },
    { "specificity", test_specificity },
    { "gamma", test_gamma },
};

SD_TEST_MAIN(cases)

/* Phantom invariance study: how much capture nuisance alone moves the primary metrics.
 *
 *   bench_invariance [--patients N] [--sessions K] [--lossless] [--match] [--predict B] [--quality Q]
 *                    [--factors PATIENT] [--size PX]
 *
 * Study: for each of N patch-phantom patients (fixed seeds), a baseline capture and K follow-up
 * captures of the same skin, each with random nuisance as in tests/unit/test_phantoms.c (pose
 * <= 5 deg, scale +-2%, shift +-8 px, gain 0.7-1.3, white balance +-10%, noise 0-0.01, JPEG
 * q 85-95, gamma 1), re-aligned with the known pose (Lanczos-3), metrics on the central disc.
 * Prints, per patient and over all, the worst and RMS relative drift of texture_roughness,
 * wrinkle_density and pigment_unevenness against the patient's baseline. --lossless keeps every
 * capture as 8-bit PNG (the same nuisance without JPEG). --match: before each comparison the
 * baseline and the follow-up are both saved again at the lower of their two JPEG qualities
 * (does matching the compression remove the drift? docs/METRICS.md: no). --predict B: after
 * each patient, B bootstrap replicates of its baseline captured again (sd_image_jpeg_recapture,
 * as `skindelta run` does) and the RMS pair drift they predict (sqrt 2 x SD), to compare with the
 * drift observed between the sessions. --quality Q: every capture at JPEG quality Q (libvips'
 * subsampling: 4:2:0 below 90) instead of a random 85-95.
 * --factors P: one capture factor at a time for patient P against the same capture kept as an
 * 8-bit PNG (the single-factor table of docs/METRICS.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "skindelta/align.h"
#include "skindelta/metrics.h"
#include "synth/synth.h"

static const int prim[3] = { SD_M_TEXTURE_ROUGHNESS, SD_M_WRINKLE_DENSITY, SD_M_PIGMENT_UNEVENNESS };
static const double PPM = 15.0;

typedef struct Study {
    SdCtx ctx;
    int size;
    char jpeg[4200];
} Study;

/* One capture of the patient's skin with nuisance nu, back in the canonical frame, metrics on the
 * central disc. q2 > 0 (and not nu's own quality): the JPEG is decoded and saved again at q2. */
static int capture(Study *S, uint64_t patient, const SdSynthNuisance *nu, int q2, uint64_t recap,
                   double out[SD_NMETRICS])
{
    SdSynthPatch pp = { .size = S->size, .px_per_mm = PPM, .seed = patient };
    SdSynthEffect e;
    SdImage lin = { 0 }, cam = { 0 }, can = { 0 };
    SdMask valid = { 0 }, disc = { 0 };
    SdMetricsState *st = NULL;
    const int N = S->size;
    int err;
    sd_synth_effect_none(&e);
    if ((err = sd_synth_patch_scene(&S->ctx, &pp, &e, &lin)) || (err = sd_synth_camera(&S->ctx, &lin, nu, &cam)))
        goto done;
    if (nu->jpeg_q > 0 && (err = sd_synth_jpeg(&S->ctx, &cam, nu->jpeg_q, S->jpeg)))
        goto done;
    if (q2 > 0 && q2 != nu->jpeg_q && (err = sd_synth_jpeg(&S->ctx, &cam, q2, S->jpeg)))
        goto done;
    if (recap && nu->jpeg_q > 0) {
        SdImage r2 = { 0 };
        if ((err = sd_image_jpeg_recapture(&S->ctx, &cam, nu->jpeg_q, nu->jpeg_q < 90, 0.05, recap, &r2)))
            goto done;
        sd_image_free(&cam);
        cam = r2;
    }
    SdTransform T, I;
    sd_synth_pose(nu, N, N, &T);
    if ((err = sd_transform_invert(&T, &I)) || (err = sd_synth_warp(&S->ctx, &cam, &I, N, N, &can, &valid)) ||
        (err = sd_metrics_prepare(&S->ctx, &can, &valid, PPM, NULL, &st)) || (err = sd_mask_create(&disc, N, N)))
        goto done;
    for (int y = 0; y < N; y++)
        for (int x = 0; x < N; x++) {
            const double dx = x - (N - 1) / 2.0, dy = y - (N - 1) / 2.0;
            disc.data[(size_t)y * (size_t)disc.stride + (size_t)x] = dx * dx + dy * dy < 0.42 * 0.42 * N * N;
        }
    err = sd_metrics_region(&S->ctx, st, &disc, NULL, out);
done:
    if (err)
        fprintf(stderr, "bench_invariance: capture failed: %s (%s)\n", sd_strerror(err), S->ctx.errmsg);
    sd_metrics_free(st);
    sd_image_free(&lin); sd_image_free(&cam); sd_image_free(&can);
    sd_mask_free(&valid); sd_mask_free(&disc);
    return err;
}

static int lossless, match, predict, fixq;   /* --lossless: the same study with every capture kept as 8-bit PNG */

static void nuisance(uint64_t *rng, SdSynthNuisance *n)
{
    sd_synth_nuisance_random(rng, 5.0, n);
    n->gamma = 1.0;
    n->jpeg_q = 85 + (int)(sd_synth_rand(rng) % 11);
    if (fixq)
        n->jpeg_q = fixq;
    if (lossless)
        n->jpeg_q = 0;
}

static int study(Study *S, int np, int ns)
{
    static const uint64_t seeds[] = { 7, 11, 23, 31, 42, 57, 63, 88, 101, 127, 131, 149, 157, 173, 191, 211 };
    const int maxp = (int)(sizeof(seeds) / sizeof(seeds[0]));
    double worst[3] = { 0 }, ss[3] = { 0 }, pr[3] = { 0 };
    int n = 0;
    if (np > maxp) np = maxp;
    printf("invariance study: %d patients x %d sessions, %d px at %.0f px/mm, central disc r = %.1f mm, %s\n",
           np, ns, S->size, PPM, 0.42 * S->size / PPM, lossless ? "lossless (8-bit PNG)" : fixq ? "JPEG at one quality (--quality)" : match ? "JPEG q85-95, each pair matched to its lower quality" : "JPEG q85-95");
    printf("%-8s %28s %28s %28s\n", "patient", "texture_roughness worst/RMS", "wrinkle_density worst/RMS",
           "pigment_unevenness worst/RMS");
    for (int p = 0; p < np; p++) {
        double base[SD_NMETRICS], o[SD_NMETRICS], pw[3] = { 0 }, ps[3] = { 0 };
        uint64_t rng = 77 + (uint64_t)p;
        SdSynthNuisance nu;
        nuisance(&rng, &nu);
        const SdSynthNuisance nb = nu;   /* the baseline capture's */
        if (capture(S, seeds[p], &nu, 0, 0, base))
            return 1;
        for (int s = 0; s < ns; s++) {
            nuisance(&rng, &nu);
            if (match) {
                /* both captures brought to the lower of their two JPEG qualities */
                const int qm = nu.jpeg_q < nb.jpeg_q ? nu.jpeg_q : nb.jpeg_q;
                if (capture(S, seeds[p], &nb, qm, 0, base) || capture(S, seeds[p], &nu, qm, 0, o))
                    return 1;
            } else if (capture(S, seeds[p], &nu, 0, 0, o))
                return 1;
            for (int k = 0; k < 3; k++) {
                const double r = 100.0 * fabs(o[prim[k]] / base[prim[k]] - 1.0);
                if (r > pw[k]) pw[k] = r;
                if (r > worst[k]) worst[k] = r;
                ps[k] += r * r;
                ss[k] += r * r;
            }
            n++;
        }
        printf("%-8llu", (unsigned long long)seeds[p]);
        for (int k = 0; k < 3; k++)
            printf(" %18.2f%% / %5.2f%%", pw[k], sqrt(ps[k] / ns));
        printf("\n");
        if (predict) {
            /* recapture bootstrap of the baseline: predicted RMS drift of a pair = sqrt 2 x SD */
            double s1[3] = { 0 }, s2[3] = { 0 }, rb[SD_NMETRICS];
            const int B = predict;
            for (int b = 0; b < B; b++) {
                if (capture(S, seeds[p], &nb, 0, 1000 + (uint64_t)b, rb))
                    return 1;
                for (int k = 0; k < 3; k++) {
                    s1[k] += rb[prim[k]];
                    s2[k] += rb[prim[k]] * rb[prim[k]];
                }
            }
            printf("%-8s", "  pred");
            for (int k = 0; k < 3; k++) {
                const double m = s1[k] / B, v = (s2[k] - s1[k] * s1[k] / B) / (B - 1);
                const double r = 100.0 * sqrt(2.0 * (v > 0 ? v : 0)) / base[prim[k]];
                pr[k] += r * r;
                (void)m;
                printf(" %18s   %5.2f%%", "", r);
            }
            printf("\n");
        }
    }
    printf("%-8s", "all");
    for (int k = 0; k < 3; k++)
        printf(" %18.2f%% / %5.2f%%", worst[k], sqrt(ss[k] / n));
    printf("\n");
    if (predict) {
        printf("%-8s", "all pred");
        for (int k = 0; k < 3; k++)
            printf(" %18s   %5.2f%%", "", sqrt(pr[k] / np));
        printf("\n");
    }
    return 0;
}

static int factors(Study *S, uint64_t patient)
{
    SdSynthNuisance n0, n;
    double ref[SD_NMETRICS], o[SD_NMETRICS];
    sd_synth_nuisance_none(&n0);
    n0.noise_seed = 5;
    if (capture(S, patient, &n0, 0, 0, ref))
        return 1;
    printf("one factor at a time, patient %llu, against the same capture as 8-bit PNG\n",
           (unsigned long long)patient);
    printf("%-26s %18s %18s %18s\n", "factor", "texture_roughness", "wrinkle_density", "pigment_unevenness");
    for (int f = 0; f < 17; f++) {
        char tag[64];
        n = n0;
        switch (f) {
        case 0: n.gain = 0.7; snprintf(tag, sizeof tag, "gain 0.7"); break;
        case 1: n.gain = 1.3; snprintf(tag, sizeof tag, "gain 1.3"); break;
        case 2: n.wb[0] = 1.1; n.wb[2] = 0.9; snprintf(tag, sizeof tag, "white balance 1.1/1/0.9"); break;
        case 3: n.wb[0] = 0.9; n.wb[2] = 1.1; snprintf(tag, sizeof tag, "white balance 0.9/1/1.1"); break;
        case 4: n.rot_deg = 5; snprintf(tag, sizeof tag, "rotation 5 deg"); break;
        case 5: n.rot_deg = -2; snprintf(tag, sizeof tag, "rotation -2 deg"); break;
        case 6: n.tx_px = 3.5; n.ty_px = -2.25; snprintf(tag, sizeof tag, "shift 3.5, -2.25 px"); break;
        case 7: n.scale = 1.02; snprintf(tag, sizeof tag, "scale 1.02"); break;
        case 8: n.noise_sd = 0.005; snprintf(tag, sizeof tag, "noise 0.005"); break;
        case 9: n.noise_sd = 0.01; snprintf(tag, sizeof tag, "noise 0.01"); break;
        case 10: n.jpeg_q = 100; snprintf(tag, sizeof tag, "JPEG q100 (4:4:4)"); break;
        case 11: n.jpeg_q = 95; snprintf(tag, sizeof tag, "JPEG q95 (4:4:4)"); break;
        case 12: n.jpeg_q = 90; snprintf(tag, sizeof tag, "JPEG q90 (4:4:4)"); break;
        case 13: n.jpeg_q = 85; snprintf(tag, sizeof tag, "JPEG q85 (4:2:0)"); break;
        case 14: n.jpeg_q = 85; n.gain = 0.7; snprintf(tag, sizeof tag, "JPEG q85, gain 0.7"); break;
        case 15: n.jpeg_q = 85; n.gain = 1.3; snprintf(tag, sizeof tag, "JPEG q85, gain 1.3"); break;
        default: n.gamma = 1.1; snprintf(tag, sizeof tag, "gamma 1.1"); break;
        }
        if (capture(S, patient, &n, 0, 0, o))
            return 1;
        printf("%-26s", tag);
        for (int k = 0; k < 3; k++)
            printf(" %17.2f%%", 100.0 * (o[prim[k]] / ref[prim[k]] - 1.0));
        printf("\n");
    }
    return 0;
}

int main(int argc, char **argv)
{
    static Study S;
    int np = 8, ns = 6, size = 512;
    long fpatient = -1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--patients") && i + 1 < argc) np = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--sessions") && i + 1 < argc) ns = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--factors") && i + 1 < argc) fpatient = atol(argv[++i]);
        else if (!strcmp(argv[i], "--size") && i + 1 < argc) size = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--lossless")) lossless = 1;
        else if (!strcmp(argv[i], "--match")) match = 1;
        else if (!strcmp(argv[i], "--quality") && i + 1 < argc) fixq = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--predict") && i + 1 < argc) predict = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--patients N (1-16)] [--sessions K] [--lossless] [--match] [--predict B] [--quality Q] [--factors PATIENT] [--size PX]\n",
                    argv[0]);
            return strcmp(argv[i], "-h") && strcmp(argv[i], "--help") ? 2 : 0;
        }
    }
    if (np < 1 || ns < 1 || size < 128 || size > 4096 || fixq < 0 || fixq > 100) {
        fprintf(stderr, "bench_invariance: need --patients >= 1, --sessions >= 1, --size 128..4096, --quality 1..100\n");
        return 2;
    }
    if (sd_init(&S.ctx, "bench_invariance"))
        return 1;
    sd_ctx_init(&S.ctx);
    S.size = size;
    const char *tmp = getenv("TMPDIR");
    snprintf(S.jpeg, sizeof(S.jpeg), "%s/bench_invariance_%ld.jpg", tmp && *tmp ? tmp : "/tmp", (long)getpid());
    int rc = fpatient >= 0 ? factors(&S, (uint64_t)fpatient) : study(&S, np, ns);
    remove(S.jpeg);
    return rc;
}

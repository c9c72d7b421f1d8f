/* Skin metrics benchmark: every metric for the 13 regions of one 1600x2000 canonical image, one
 * thread, per CPU level. The image is a patch phantom (skin everywhere) and the regions are
 * ellipses at the template's approximate canonical places, so the figure does not depend on the
 * face stages. Usage: bench_metrics [CSV] [--runs N] [--level scalar|avx2|avx512] [--dump FILE].
 * --dump writes every metric of every region to 17 digits (without and with a coverage mask, per
 * level run) so that a speed change can be checked for identical values. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/cpu.h"
#include "skindelta/metrics.h"
#include "synth/synth.h"
#include "skindelta/util.h"

static const struct { const char *name; double cx, cy, rx, ry; } regions[13] = {
    { "face", 800, 1000, 620, 860 },
    { "forehead", 800, 420, 420, 160 },
    { "glabella", 800, 690, 80, 80 },
    { "crowsfeet_l", 1340, 760, 90, 110 },
    { "crowsfeet_r", 260, 760, 90, 110 },
    { "undereye_l", 1120, 940, 170, 70 },
    { "undereye_r", 480, 940, 170, 70 },
    { "cheek_l", 1150, 1200, 200, 190 },
    { "cheek_r", 450, 1200, 200, 190 },
    { "nasolabial_l", 1000, 1330, 70, 150 },
    { "nasolabial_r", 600, 1330, 70, 150 },
    { "perioral", 800, 1520, 260, 110 },
    { "chin", 800, 1780, 220, 120 },
};

/* Thread CPU time: the machine may be shared, CPU time is what the code costs. */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    const char *csv = NULL;
    int runs = 3;
    const char *only = NULL, *dump = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--level") && i + 1 < argc) only = argv[++i];
        else if (!strcmp(argv[i], "--dump") && i + 1 < argc) dump = argv[++i];
        else if (argv[i][0] == '-') {   /* --help, or an option it does not know: never a CSV name */
            const int help = !strcmp(argv[i], "-h") || !strcmp(argv[i], "--help");
            fprintf(help ? stdout : stderr,
                    "usage: %s [CSV] [--runs N] [--level scalar|avx2|avx512] [--dump FILE]\n", argv[0]);
            return help ? 0 : 2;
        } else csv = argv[i];
    }
    if (runs < 1) runs = 1;
    if (runs > 50) runs = 50;
    SdCtx ctx;
    if (sd_init(&ctx, argv[0]) || sd_ctx_init(&ctx)) {
        fprintf(stderr, "bench_metrics: init failed: %s\n", ctx.errmsg);
        return 1;
    }
    const int W = 1600, H = 2000;
    const double ppm = 640.0 / 63.0;   /* canonical IOD 640 px = 63 mm */
    SdSynthPatch pp = { .size = H, .px_per_mm = ppm, .seed = 2024 };
    SdSynthEffect e;
    SdSynthNuisance n;
    SdImage lin, cam, img;
    sd_synth_effect_none(&e);
    sd_synth_nuisance_none(&n);
    if (sd_synth_patch_scene(&ctx, &pp, &e, &lin) || sd_synth_camera(&ctx, &lin, &n, &cam) ||
        sd_image_crop(&cam, 200, 0, W, H, &img)) {
        fprintf(stderr, "bench_metrics: phantom failed: %s\n", ctx.errmsg);
        return 1;
    }
    sd_image_free(&lin);
    sd_image_free(&cam);
    SdMask masks[13];
    long area = 0;
    for (int r = 0; r < 13; r++) {
        if (sd_mask_create(&masks[r], W, H))
            return 1;
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                double dx = (x - regions[r].cx) / regions[r].rx, dy = (y - regions[r].cy) / regions[r].ry;
                int in = dx * dx + dy * dy <= 1.0;
                masks[r].data[(size_t)y * (size_t)masks[r].stride + (size_t)x] = (uint8_t)in;
                area += in;
            }
    }
    /* coverage mask for the dump: a follow-up that misses a slanted strip on the right and the top
     * rows, as a rotated and shifted capture would */
    SdMask cover;
    if (sd_mask_create(&cover, W, H))
        return 1;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            cover.data[(size_t)y * (size_t)cover.stride + (size_t)x] =
                (uint8_t)(y >= 40 && x < W - 120 - y / 12);
    FILE *df = dump ? fopen(dump, "w") : NULL;
    if (dump && !df) {
        fprintf(stderr, "bench_metrics: cannot write %s\n", dump);
        return 1;
    }
    FILE *f = csv ? fopen(csv, "w") : NULL;
    if (csv && !f) {
        fprintf(stderr, "bench_metrics: cannot write %s\n", csv);
        return 1;
    }
    if (f) fprintf(f, "level,width,height,regions,region_mpix,prepare_ms,regions_ms,total_ms\n");
    printf("skin metrics: %dx%d canonical, 13 regions (%.2f Mpx of region pixels), %.2f px/mm, "
           "median of %d runs, 1 thread, thread CPU time\n", W, H, area / 1e6, ppm, runs);
    printf("%-8s %12s %12s %12s\n", "level", "prepare ms", "regions ms", "total ms");
    const unsigned have = sd_cpu_detect();
    static const char *levels[3] = { "scalar", "avx2", "avx512" };
    double check[SD_NMETRICS] = { 0 };
    for (int l = 0; l < 3; l++) {
        unsigned need = l == 0 ? 0 : l == 1 ? SD_CPU_AVX2 : SD_CPU_AVX512;
        if ((have & need) != need || (only && strcmp(only, levels[l])))
            continue;
        if (sd_ctx_set_cpu(&ctx, levels[l]))
            continue;
        double tp[50], tr[50];
        for (int k = 0; k < runs; k++) {
            SdMetricsState *st = NULL;
            double out[SD_NMETRICS], t0 = cpu_now();
            if (sd_metrics_prepare(&ctx, &img, NULL, ppm, NULL, &st)) {
                fprintf(stderr, "bench_metrics: %s\n", ctx.errmsg);
                return 1;
            }
            double t1 = cpu_now();
            for (int r = 0; r < 13; r++) {
                if (sd_metrics_region(&ctx, st, &masks[r], regions[r].name, out)) {
                    fprintf(stderr, "bench_metrics: %s\n", ctx.errmsg);
                    return 1;
                }
                if (r == 0) memcpy(check, out, sizeof check);
            }
            double t2 = cpu_now();
            tp[k] = (t1 - t0) * 1e3;
            tr[k] = (t2 - t1) * 1e3;
            sd_metrics_free(st);
        }
        for (int c = 0; df && c < 2; c++) {
            SdMetricsState *st = NULL;
            double out[SD_NMETRICS];
            if (sd_metrics_prepare(&ctx, &img, c ? &cover : NULL, ppm, NULL, &st)) {
                fprintf(stderr, "bench_metrics: %s\n", ctx.errmsg);
                return 1;
            }
            for (int r = 0; r < 13; r++) {
                if (sd_metrics_region(&ctx, st, &masks[r], regions[r].name, out)) {
                    fprintf(stderr, "bench_metrics: %s\n", ctx.errmsg);
                    return 1;
                }
                for (int m = 0; m < SD_NMETRICS; m++)
                    fprintf(df, "%s %s %s %s %.17g\n", levels[l], c ? "cover" : "full",
                            regions[r].name, sd_metric_info(m)->id, out[m]);
            }
            sd_metrics_free(st);
        }
        qsort(tp, (size_t)runs, sizeof(double), cmp_d);
        qsort(tr, (size_t)runs, sizeof(double), cmp_d);
        double p = tp[runs / 2], r = tr[runs / 2];
        printf("%-8s %12.1f %12.1f %12.1f\n", levels[l], p, r, p + r);
        if (f) fprintf(f, "%s,%d,%d,13,%.3f,%.2f,%.2f,%.2f\n", levels[l], W, H, area / 1e6, p, r, p + r);
    }
    printf("face region: texture_roughness %.3f %%, wrinkle_density %.3f %%, pigment_unevenness %.3f\n",
           check[SD_M_TEXTURE_ROUGHNESS], check[SD_M_WRINKLE_DENSITY], check[SD_M_PIGMENT_UNEVENNESS]);
    if (f) fclose(f);
    if (df) fclose(df);
    sd_mask_free(&cover);
    for (int r = 0; r < 13; r++)
        sd_mask_free(&masks[r]);
    sd_image_free(&img);
    return 0;
}

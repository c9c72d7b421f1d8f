/* `skindelta bench --pipeline DIR`: the whole job on a before/after pair of 24 MP JPEGs, single
 * threaded, as a ratio to decoding the same two JPEGs with libjpeg-turbo in the same run; where
 * its time goes per stage (a CSV table); then the batch throughput on 2 worker threads in pairs
 * per minute, the peak resident memory of 1 and 2 workers, and how many cores the machine
 * actually gives two threads. Generates the pair in DIR when DIR holds none (the public-domain
 * astronaut, upscaled to 6000x4000, the follow-up moved). */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <unistd.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>

#include <jpeglib.h>
#include <vips/vips.h>

#include "bench/lib/bench.h"
#include "skindelta/run.h"
#include "skindelta/util.h"
#include "src/core/core.h"

typedef struct JErr { struct jpeg_error_mgr pub; jmp_buf jb; } JErr;

static void jerr_exit(j_common_ptr c) { longjmp(((JErr *)c->err)->jb, 1); }

/* Plain libjpeg-turbo decode to RGB8 (the reference cost of just reading the photo). */
static int decode_jpeg(const char *path, double *seconds)
{
    char *data;
    size_t n;
    if (sd_read_file(path, (size_t)1 << 30, &data, &n)) return SD_EIO;
    const double t0 = sd_now();
    struct jpeg_decompress_struct c;
    JErr je;
    unsigned char *row = NULL, *img = NULL;
    c.err = jpeg_std_error(&je.pub);
    je.pub.error_exit = jerr_exit;
    if (setjmp(je.jb)) {
        jpeg_destroy_decompress(&c);
        free(row); free(img); free(data);
        return SD_EFORMAT;
    }
    jpeg_create_decompress(&c);
    jpeg_mem_src(&c, (unsigned char *)data, (unsigned long)n);
    jpeg_read_header(&c, TRUE);
    c.out_color_space = JCS_RGB;
    jpeg_start_decompress(&c);
    const size_t stride = (size_t)c.output_width * c.output_components;
    img = malloc(stride * c.output_height);
    if (!img) longjmp(je.jb, 1);
    while (c.output_scanline < c.output_height) {
        unsigned char *rows[1] = {img + stride * c.output_scanline};
        jpeg_read_scanlines(&c, rows, 1);
    }
    jpeg_finish_decompress(&c);
    jpeg_destroy_decompress(&c);
    *seconds = sd_now() - t0;
    free(img);
    free(data);
    return 0;
}

/* 6000x4000 q92 JPEG of src (upscaled to 4000 px high, centred on a neutral grey canvas). */
static int make_photo(SdCtx *ctx, const char *src, const char *dst)
{
    VipsImage *in = vips_image_new_from_file(src, NULL), *big = NULL, *canvas = NULL, *rgb = NULL;
    int err = 0;
    if (!in) goto fail;
    if (vips_resize(in, &big, 4000.0 / in->Ysize, "kernel", VIPS_KERNEL_LANCZOS3, NULL)) goto fail;
    double bg[3] = {128, 126, 122};
    if (vips_embed(big, &canvas, (6000 - big->Xsize) / 2, (4000 - big->Ysize) / 2, 6000, 4000,
                   "extend", VIPS_EXTEND_BACKGROUND, "background", vips_array_double_new(bg, 3), NULL))
        goto fail;
    if (vips_cast(canvas, &rgb, VIPS_FORMAT_UCHAR, NULL)) goto fail;
    if (vips_jpegsave(rgb, dst, "Q", 92, NULL)) goto fail;
    goto out;
fail:
    err = sd_fail(ctx, SD_EDEP, "%s: cannot make the benchmark photo: %s", dst, vips_error_buffer());
    vips_error_clear();
out:
    if (in) g_object_unref(in);
    if (big) g_object_unref(big);
    if (canvas) g_object_unref(canvas);
    if (rgb) g_object_unref(rgb);
    return err;
}

static int run_once(SdCtx *ctx, SdCatalog *cat, const char *out, int jobs, int bootstrap,
                    const char *noise_model, double *seconds)
{
    SdRunOpts o;
    sd_run_opts_default(&o);
    if (bootstrap >= 0) o.bootstrap = bootstrap;
    o.noise_model = noise_model;
    o.out_dir = out;
    o.jobs = jobs;
    o.save_images = 0;
    o.report = 0;
    SdRunSummary sum;
    const double t0 = sd_now();
    int err = sd_run_batch(ctx, cat, &o, &sum);
    *seconds = sd_now() - t0;
    if (!err && sum.images_failed)
        err = sd_fail(ctx, SD_EALIGN, "benchmark pair failed to score (%d images failed; see %s/errors.csv)",
                      sum.images_failed, out);
    return err;
}

/* Peak resident memory of this process since the last reset_peak(), in MB (VmHWM); -1 when
 * /proc does not say. */
static double peak_rss_mb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double kb = -1;
    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, "VmHWM:", 6)) kb = atof(line + 6);
    if (f) fclose(f);
    return kb < 0 ? -1 : kb / 1024.0;
}

/* Freed memory back to the system, then the peak set to the current RSS ("5" into clear_refs,
 * Linux >= 4.0), so that the next peak_rss_mb() is this run's own. */
static void reset_peak(void)
{
    malloc_trim(0);
    const int fd = open("/proc/self/clear_refs", O_WRONLY);
    if (fd >= 0) {
        if (write(fd, "5", 1) != 1) { /* the peak then includes earlier runs: said in the CSV */ }
        close(fd);
    }
}

/* A fixed amount of integer work on this thread: its thread CPU time is not what is measured here
 * (wall time is), so a busy machine shows. */
static void *spin(void *arg)
{
    volatile uint64_t *out = arg;
    uint64_t x = 88172645463325252ull;
    for (long i = 0; i < 60000000; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; }
    *out = x;
    return NULL;
}

/* Effective cores for two threads: the same work once on one thread, then on two at once; 2 x
 * t1 / t2 is 2.0 on two free cores, 1.0 when both threads share one. Best of 3. */
static double effective_cores(void)
{
    double t1 = INFINITY, t2 = INFINITY;
    uint64_t sink[2];
    for (int r = 0; r < 3; r++) {
        double t0 = sd_now();
        spin(&sink[0]);
        const double a = sd_now() - t0;
        pthread_t th;
        t0 = sd_now();
        const int ok = pthread_create(&th, NULL, spin, &sink[1]) == 0;
        spin(&sink[0]);
        if (ok) pthread_join(th, NULL);
        const double b = sd_now() - t0;
        if (a < t1) t1 = a;
        if (ok && b < t2) t2 = b;
    }
    return isfinite(t2) && t2 > 0 ? 2.0 * t1 / t2 : 1.0;
}

/* bench/results/pipeline.csv: stage,ms,share of the single-thread pair with default options, from
 * the run's own stage clock (run.json stage_seconds) and the whole wall time ("other": catalog,
 * tables, statistics and run files). */
static int write_stage_csv(SdCtx *ctx, const char *run_dir, double wall_s, const char *csv_path, FILE *out)
{
    static const char *const stages[] = {"load", "face", "frame", "register", "photometry", "regions",
                                         "metrics", "bootstrap", "write"};
    char path[4200];
    snprintf(path, sizeof(path), "%s/run.json", run_dir);
    SdJson root;
    int err = sd__json_load(ctx, path, 1 << 22, &root);
    if (err) return err;
    const SdJson *st = sd__json_get(&root, "stage_seconds");
    double ms[10], sum = 0;
    for (int i = 0; i < 9; i++) {
        double v = 0;
        if (!st || !sd__json_num(st, stages[i], &v)) v = 0;
        ms[i] = v * 1e3;
        sum += ms[i];
    }
    sd__json_free(&root);
    const double total = wall_s * 1e3;
    ms[9] = total > sum ? total - sum : 0;
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m) return sd_fail(ctx, SD_ENOMEM, "out of memory");
    fprintf(m, "stage,ms,share\n");
    fprintf(out, "per stage (1 thread, default options; %s):\n", csv_path ? csv_path : "not written");
    for (int i = 0; i < 10; i++) {
        const char *name = i < 9 ? (i == 7 ? "uncertainty" : stages[i]) : "other";
        fprintf(m, "%s,%.1f,%.3f\n", name, ms[i], total > 0 ? ms[i] / total : 0);
        fprintf(out, "  %-12s %8.1f ms  %5.1f%%\n", name, ms[i], total > 0 ? 100 * ms[i] / total : 0);
    }
    fprintf(m, "total,%.1f,1.000\n", total);
    fclose(m);
    err = csv_path && sd_write_file_atomic(csv_path, buf, len)
        ? sd_fail(ctx, SD_EIO, "%s: cannot write: %s", csv_path, strerror(errno)) : 0;
    free(buf);
    return err;
}

int sd_bench_pipeline(SdCtx *ctx, const char *dir, const char *face_png, const char *csv_path, FILE *f)
{
    char before[4200], after[4200], out[4200];
    snprintf(before, sizeof(before), "%s/before.jpg", dir);
    snprintf(after, sizeof(after), "%s/after.jpg", dir);
    int err = sd_mkdir_p(dir);
    if (err) return sd_fail(ctx, SD_EIO, "%s: cannot create: %s", dir, strerror(errno));
    if (!sd_file_exists(before) || !sd_file_exists(after)) {
        char moved[4200];
        snprintf(moved, sizeof(moved), "%s", face_png);
        char *slash = strrchr(moved, '/');
        const char *mv = "astronaut_moved.png";
        if (slash) snprintf(slash + 1, sizeof(moved) - (size_t)(slash + 1 - moved), "%s", mv);
        fprintf(f, "generating a 6000x4000 before/after JPEG pair in %s\n", dir);
        if ((err = make_photo(ctx, face_png, before))) return err;
        if ((err = make_photo(ctx, sd_file_exists(moved) ? moved : face_png, after))) return err;
    }
    /* decode reference: best of 3 for each photo */
    double dec = 0;
    for (int k = 0; k < 2; k++) {
        double best = INFINITY, s;
        for (int r = 0; r < 3; r++) {
            if ((err = decode_jpeg(k ? after : before, &s)))
                return sd_fail(ctx, err, "%s: libjpeg could not decode it", k ? after : before);
            if (s < best) best = s;
        }
        dec += best;
    }
    fprintf(f, "decode (libjpeg-turbo, 2 x 24 MP, best of 3): %.1f ms\n", dec * 1e3);

    SdCatalog cat;
    double pipe = INFINITY, s, rss1 = -1;
    char best_dir[4200] = "";
    for (int r = 0; r < 2; r++) {   /* best of 2 (the first also warms the models) */
        if ((err = sd_catalog_pair(ctx, before, after, &cat))) return err;
        snprintf(out, sizeof(out), "%s/out-1thread-%d", dir, r);
        reset_peak();
        err = run_once(ctx, &cat, out, 1, -1, NULL, &s);
        const double p = peak_rss_mb();
        if (p > rss1) rss1 = p;
        sd_catalog_free(&cat);
        if (err) return err;
        if (s < pipe) { pipe = s; snprintf(best_dir, sizeof(best_dir), "%s", out); }
    }
    if ((err = write_stage_csv(ctx, best_dir, pipe, csv_path, f))) return err;
    /* the same without any uncertainty (no noise model, no bootstrap), and with the optional
     * 5-replicate bootstrap on top of the model: what the uncertainty costs, in one run */
    double nob = INFINITY, boot = INFINITY;
    for (int r = 0; r < 2; r++) {
        if ((err = sd_catalog_pair(ctx, before, after, &cat))) return err;
        snprintf(out, sizeof(out), "%s/out-1thread-nouncert", dir);
        err = run_once(ctx, &cat, out, 1, 0, "none", &s);
        sd_catalog_free(&cat);
        if (err) return err;
        if (s < nob) nob = s;
    }
    if ((err = sd_catalog_pair(ctx, before, after, &cat))) return err;
    snprintf(out, sizeof(out), "%s/out-1thread-boot5", dir);
    err = run_once(ctx, &cat, out, 1, 5, NULL, &boot);
    sd_catalog_free(&cat);
    if (err) return err;
    fprintf(f, "pipeline (1 thread, pair incl. decode, no uncertainty: --noise-model none): %.1f ms (ratio %.2f)\n",
            nob * 1e3, nob / dec);
    fprintf(f, "pipeline (1 thread, pair incl. decode, default: calibrated noise model): %.1f ms\n", pipe * 1e3);
    fprintf(f, "pipeline (1 thread, pair incl. decode, model + --bootstrap 5): %.1f ms\n", boot * 1e3);
    fprintf(f, "uncertainty_cost_pct=%.1f (default vs none; with --bootstrap 5: %.1f)\n",
            100.0 * (pipe - nob) / nob, 100.0 * (boot - nob) / nob);

    /* throughput: 4 patients with the same pair on 2 worker threads */
    SdCatalog many;
    memset(&many, 0, sizeof(many));
    if ((err = sd_catalog_pair(ctx, before, after, &cat))) return err;
    char mf[4200];
    snprintf(mf, sizeof(mf), "%s/manifest.csv", dir);
    FILE *m = fopen(mf, "w");
    if (!m) { sd_catalog_free(&cat); return sd_fail(ctx, SD_EIO, "%s: cannot write", mf); }
    fprintf(m, "patient,session,date,view,path\n");
    const int npairs = 4;
    for (int p = 0; p < npairs; p++)
        fprintf(m, "b%d,s1,,front,before.jpg\nb%d,s2,,front,after.jpg\n", p, p);
    fclose(m);
    sd_catalog_free(&cat);
    SdCatalogOpts co = {0};
    if ((err = sd_catalog_manifest(ctx, mf, &co, &many))) return err;
    snprintf(out, sizeof(out), "%s/out-2threads", dir);
    reset_peak();
    err = run_once(ctx, &many, out, 2, -1, NULL, &s);
    const double rss2 = peak_rss_mb();
    sd_catalog_free(&many);
    if (err) return err;
    const double ppm = npairs / s * 60.0;
    const double cores = effective_cores();
    fprintf(f, "batch (2 worker threads, %d pairs): %.1f s\n", npairs, s);
    fprintf(f, "effective cores for 2 threads (same work on 1 and on 2 threads, wall time): %.2f\n", cores);
    fprintf(f, "peak RSS (process, models and libraries included): 1 worker %.0f MB, 2 workers %.0f MB "
            "(%.0f MB per worker)\n", rss1, rss2, rss2 / 2);
    fprintf(f, "nouncert_to_decode_ratio=%.2f peak_rss_mb_per_worker=%.0f effective_cores=%.2f\n", nob / dec,
            rss1 > rss2 / 2 ? rss1 : rss2 / 2, cores);
    fprintf(f, "pipeline_to_decode_ratio=%.2f pairs_per_minute_2cores=%.1f\n", pipe / dec, ppm);
    return 0;
}

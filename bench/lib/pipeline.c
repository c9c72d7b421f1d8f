/* `skindelta bench --pipeline DIR`: the whole job on a before/after pair of 24 MP JPEGs, single
 * threaded, as a ratio to decoding the same two JPEGs with libjpeg-turbo in the same run; then
 * the batch throughput on 2 worker threads in pairs per minute. Generates the pair in DIR when
 * DIR holds none (the public-domain astronaut, upscaled to 6000x4000, the follow-up moved). */
#include <errno.h>
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

int sd_bench_pipeline(SdCtx *ctx, const char *dir, const char *face_png, FILE *f)
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
    double pipe = INFINITY, s;
    for (int r = 0; r < 2; r++) {   /* best of 2 (the first also warms the models) */
        if ((err = sd_catalog_pair(ctx, before, after, &cat))) return err;
        snprintf(out, sizeof(out), "%s/out-1thread", dir);
        err = run_once(ctx, &cat, out, 1, -1, NULL, &s);
        sd_catalog_free(&cat);
        if (err) return err;
        if (s < pipe) pipe = s;
    }
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
    err = run_once(ctx, &many, out, 2, -1, NULL, &s);
    sd_catalog_free(&many);
    if (err) return err;
    const double ppm = npairs / s * 60.0;
    fprintf(f, "batch (2 worker threads, %d pairs): %.1f s\n", npairs, s);
    fprintf(f, "pipeline_to_decode_ratio=%.2f pairs_per_minute_2cores=%.1f\n", pipe / dec, ppm);
    return 0;
}

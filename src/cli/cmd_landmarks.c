/* `skindelta landmarks IMG`: the face box, its score and the 68 landmarks of the best face, as
 * text or JSON, optionally drawn onto a PNG/JPEG overlay; --bench times the whole stage. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "src/cli/cli.h"
#include "skindelta/face.h"
#include "skindelta/util.h"

#define STR_(x) #x
#define STR(x) STR_(x)

static const SdCmdSpec spec = {
    "landmarks",
    "IMG [options]",
    "Finds the face (TinyFaceDetector at input sizes 320, 416 and 608, best score wins) and\n"
    "its 68 landmarks (iBUG-68 order), in the pixels of the upright full-size image. Large\n"
    "JPEGs are shrunk on load to >= " STR(SD_FACE_LOAD_MAX) " px for the nets.\n",
    "\nexit: 0 face found, 1 no face or unreadable image, 2 usage error\n",
};

static int parse_input_size(const char *v, void *dst)
{
    char *end;
    const long l = strtol(v, &end, 10);
    if (!*v || *end || l < 64 || l > 1024 || l % 32) return -1;
    *(long *)dst = l;
    return 0;
}

static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double process_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_dbl(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Steady-state timings (the first run loaded the models): the whole file path, and detection +
 * landmarks alone on the image as the file path decodes it. */
static int run_bench(SdCtx *ctx, const char *path, const SdFaceOpts *o, long n, double first)
{
    double *t = calloc((size_t)n, sizeof(double)), *u = calloc((size_t)n, sizeof(double));
    double *cpu = calloc((size_t)n, sizeof(double)), *pcpu = calloc((size_t)n, sizeof(double));
    SdLandmarks lm;
    SdImageInfo info;
    SdLoadOpts lo;
    SdImage img = {0};
    int err = SD_ENOMEM, nf;
    if (!t || !u || !cpu || !pcpu)
        goto fail;
    for (long i = 0; i < n; i++) {
        const double t0 = sd_now(), c0 = process_cpu();
        if ((err = sd_face_find_file(ctx, path, o, &lm, &nf, &info)))
            goto fail;
        t[i] = sd_now() - t0;
        pcpu[i] = process_cpu() - c0;   /* all threads: libvips decodes with workers */
    }
    sd_load_opts_default(&lo);
    lo.target_max = SD_FACE_LOAD_MAX;
    lo.fmt = SD_FMT_U8;
    if ((err = sd_image_load(ctx, path, &lo, &img, NULL)))
        goto fail;
    for (long i = 0; i < n; i++) {
        const double t0 = sd_now(), c0 = thread_cpu();
        if ((err = sd_face_find(ctx, &img, o, &lm, &nf)))
            goto fail;
        u[i] = sd_now() - t0;
        cpu[i] = thread_cpu() - c0;
    }
    qsort(t, (size_t)n, sizeof(double), cmp_dbl);
    qsort(u, (size_t)n, sizeof(double), cmp_dbl);
    qsort(cpu, (size_t)n, sizeof(double), cmp_dbl);
    qsort(pcpu, (size_t)n, sizeof(double), cmp_dbl);
    /* Wall times suffer from other load on the machine; the thread CPU time of the nets
     * (single-threaded) does much less. */
    printf("bench %s %dx%d (nets on %dx%d): decode+detect+landmarks median %.1f ms (min %.1f, "
           "cpu median %.1f); detect+landmarks median %.1f ms (min %.1f, cpu median %.1f); %ld "
           "runs; first run %.1f ms\n", path, info.orig_w, info.orig_h, img.w, img.h,
           t[n / 2] * 1e3, t[0] * 1e3, pcpu[n / 2] * 1e3, u[n / 2] * 1e3, u[0] * 1e3,
           cpu[n / 2] * 1e3, n, first * 1e3);
    err = 0;
fail:
    free(t);
    free(u);
    free(cpu);
    free(pcpu);
    sd_image_free(&img);
    return err;
}

static void put_px(SdImage *img, int x, int y, const uint8_t rgb[3])
{
    if (x < 0 || y < 0 || x >= img->w || y >= img->h)
        return;
    memcpy(sd_image_row8(img, y) + (size_t)x * 3, rgb, 3);
}

static int draw_overlay(SdCtx *ctx, const char *in, const char *out, const SdLandmarks *lm)
{
    SdLoadOpts lo;
    SdImageInfo info;
    SdImage img;
    sd_load_opts_default(&lo);
    lo.target_max = 2048;   /* an overlay need not be full size */
    lo.fmt = SD_FMT_U8;
    int err = sd_image_load(ctx, in, &lo, &img, &info);
    if (err)
        return err;
    SdLandmarks l = *lm;
    sd_face_landmarks_rescale(&l, (double)img.w / info.orig_w, (double)img.h / info.orig_h);
    const int r = img.w > 800 ? img.w / 400 : 2, t = r > 2 ? r / 2 : 1;
    static const uint8_t green[3] = {40, 220, 60}, red[3] = {255, 40, 40};
    const int bx0 = (int)lrintf(l.face.x), by0 = (int)lrintf(l.face.y);
    const int bx1 = (int)lrintf(l.face.x + l.face.w), by1 = (int)lrintf(l.face.y + l.face.h);
    for (int k = 0; k < t; k++) {
        for (int x = bx0; x <= bx1; x++) {
            put_px(&img, x, by0 + k, green);
            put_px(&img, x, by1 - k, green);
        }
        for (int y = by0; y <= by1; y++) {
            put_px(&img, bx0 + k, y, green);
            put_px(&img, bx1 - k, y, green);
        }
    }
    for (int i = 0; i < SD_NLANDMARKS; i++) {
        const int cx = (int)lrintf(l.pt[i].x), cy = (int)lrintf(l.pt[i].y);
        for (int dy = -r; dy <= r; dy++)
            for (int dx = -r; dx <= r; dx++)
                if (dx * dx + dy * dy <= r * r)
                    put_px(&img, cx + dx, cy + dy, red);
    }
    err = sd_image_save(ctx, &img, out, 92);
    sd_image_free(&img);
    return err;
}

static void print_json(const char *path, const SdImageInfo *info, const SdFaceOpts *o,
                       const SdLandmarks *lm, int nfaces, const char *models)
{
    printf("{\"path\":");
    sd_json_string(stdout, path);
    printf(",\"width\":%d,\"height\":%d,\"input_sizes\":[", info->orig_w, info->orig_h);
    if (o->input_sizes[0])
        printf("%d", o->input_sizes[0]);
    else
        printf("320,416,608");
    printf("],\"compat\":%s,\"landmark_net\":\"%s\",\"models\":", o->compat ? "true" : "false",
           o->tiny_landmarks ? "face_landmark_68_tiny" : "face_landmark_68");
    sd_json_string(stdout, models ? models : "");
    printf(",\"faces_found\":%d,\"score\":%.4f,\"box\":[%.2f,%.2f,%.2f,%.2f],\"landmarks\":[",
           nfaces, lm->face.score, lm->face.x, lm->face.y, lm->face.w, lm->face.h);
    for (int i = 0; i < SD_NLANDMARKS; i++)
        printf("%s[%.2f,%.2f]", i ? "," : "", lm->pt[i].x, lm->pt[i].y);
    printf("]}\n");
}

int sd_cmd_landmarks(int argc, char **argv)
{
    const char *path = NULL, *out = NULL, *cpu = NULL;
    int json = 0;
    long bench = 0, size = 0;
    SdFaceOpts o = {0};
    const SdOpt opts[] = {
        SD_OPT_FLAG("json", 0, "JSON on stdout instead of text", &json, 1),
        SD_OPT_OUT(&out, "FILE", "draw box and points onto the image (.png or .jpg)"),
        { "input-size", 0, SD_ARG_FN, "N", "one detector input size (multiple of 32, 64..1024)", &size,
          .parse = parse_input_size, .expect = "a multiple of 32 in 64..1024" },
        SD_OPT_FLAG("tiny", 0, "the tiny landmark net", &o.tiny_landmarks, 1),
        SD_OPT_FLAG("compat", 0, "the reference package's exact behaviour (one size, default 416;\n"
                                 "no re-crop; its border shift quirk included)", &o.compat, 1),
        { "bench", 0, SD_ARG_LONG, "N", "only time the stage over N runs, with and without decoding", &bench,
          .lo = 1, .hi = 100000 },
        SD_OPT_CPU(&cpu),
    };
    int npos = 0;
    const int rc = sd_cli_parse(&spec, opts, SD_NOPTS(opts), argc, argv, &path, 1, &npos);
    if (rc != SD_CLI_CONTINUE) return rc;
    if (!path)
        return sd_cli_usage_error("landmarks", "no image given");
    if (out && !sd_strcasesuffix(out, ".png") && !sd_strcasesuffix(out, ".jpg") &&
        !sd_strcasesuffix(out, ".jpeg"))
        return sd_cli_usage_error("landmarks", "-o takes a .png or .jpg file, not '%s'", out);
    if (size)
        o.input_sizes[0] = (int)size;
    else if (o.compat)
        o.input_sizes[0] = 416;
    SdCtx ctx;
    if (sd_cli_setup(&ctx, cpu))
        return SD_EXIT_USAGE;

    SdLandmarks lm;
    SdImageInfo info;
    int nfaces = 0;
    double t0 = sd_now();
    int err = sd_face_find_file(&ctx, path, &o, &lm, &nfaces, &info);
    const double first = sd_now() - t0;
    if (err) {
        fprintf(stderr, "skindelta landmarks: %s\n", ctx.errmsg);
        return SD_EXIT_PARTIAL;
    }
    if (bench > 0) {   /* timings only */
        if ((err = run_bench(&ctx, path, &o, bench, first))) {
            fprintf(stderr, "skindelta landmarks: %s\n", ctx.errmsg);
            return SD_EXIT_PARTIAL;
        }
        return SD_EXIT_OK;
    }
    if (json) {
        print_json(path, &info, &o, &lm, nfaces, sd_face_models_dir(&ctx));
    } else {
        printf("%s: %dx%d, %d face%s found, best score %.4f\n", path, info.orig_w, info.orig_h,
               nfaces, nfaces == 1 ? "" : "s", lm.face.score);
        printf("box %.2f %.2f %.2f %.2f\n", lm.face.x, lm.face.y, lm.face.w, lm.face.h);
        for (int i = 0; i < SD_NLANDMARKS; i++)
            printf("%d %.2f %.2f\n", i, lm.pt[i].x, lm.pt[i].y);
    }
    if (out && (err = draw_overlay(&ctx, path, out, &lm))) {
        fprintf(stderr, "skindelta landmarks: %s\n", ctx.errmsg);
        return SD_EXIT_PARTIAL;
    }
    return SD_EXIT_OK;
}

/* `skindelta measure IMG... -o OUT`: per-image metrics without a course. Each photo is measured
 * by the library's one-photo API (include/skindelta/measure.h: sd_measure_file_ex, the path
 * the Python package takes too), which goes the way a baseline goes in `run` (shrink-on-load for
 * large JPEGs, face and landmarks, canonical frame, regions, metrics), so its rows equal that
 * photo's baseline rows of a run; this file writes the tables, the canonical image's JPEG
 * preview with its overlay masks, and the region masks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cli/cli.h"
#include "skindelta/course.h"
#include "skindelta/measure.h"
#include "skindelta/metrics.h"
#include "skindelta/util.h"

#define IMAGES_HEADER "image,path,sha256,width,height,face_score,px_per_mm,qc,reason"
#define ERRORS_HEADER "path,stage,code,message"

static const SdCmdSpec spec = {
    "measure",
    "IMG... -o OUT [options]",
    "Measures each photo on its own, with no course: face and landmarks, the canonical frame,\n"
    "the regions and every metric, exactly as `run` measures a baseline photo (the same\n"
    "numbers). Each photo is named by its file name without the extension (`_2`, `_3` ...\n"
    "added when two share a name).\n",
    "\noutputs in OUT:\n"
    "  measurements.csv  run's columns; patient = the image name, view `front`, session `measure`\n"
    "  images.csv        image,path,sha256,width,height,face_score,px_per_mm,qc,reason\n"
    "  errors.csv        path,stage,code,message: photos that could not be measured\n"
    "  codebook.csv      metric,unit,better,primary,definition\n"
    "  images/<image>.jpg  the canonical frame, a JPEG preview (q85; the lossless PNG\n"
    "                    images/<image>.png with --save-aligned)\n"
    "  images/<image>_regions.png, _wrinkles.png, _spots.png  overlay masks of the frame's\n"
    "                    size (indexed PNG: the palette carries colour and opacity) to lay\n"
    "                    over the preview\n"
    "  masks/<image>_skin.png and masks/<image>_<region>.png (1-bit; white = in the mask)\n"
    "exit: 0 all measured, 1 some photos failed (errors.csv), 2 usage error\n",
};

typedef struct MeasureArgs {
    const char *out, *cpu;
    int quiet, images;       /* 0: none, 1: preview + masks, 2: also the lossless canonical image */
    SdRunOpts ro;            /* the stages' settings, as run's for a baseline */
} MeasureArgs;

/* What the run collects across photos; the two CSVs are atomic files committed at the end. */
typedef struct Outputs {
    SdMeasArray meas;
    SdAtomicFile images, errors;
    int failed;
} Outputs;

static void error_row(Outputs *o, const char *path, const char *stage, int err, const char *msg)
{
    FILE *f = o->errors.f;
    sd_csv_field(f, path);
    fprintf(f, ",%s,%s,", stage, sd_errname(err));
    sd_csv_field(f, msg);
    fputc('\n', f);
    fprintf(stderr, "skindelta measure: %s: %s: %s\n", path, stage, msg);
    o->failed++;
}

static int save_mask(SdCtx *ctx, const SdMask *m, const char *dir, const char *id, const char *name)
{
    SdImage img = {0};
    int err = sd_image_create(&img, m->w, m->h, 1, SD_FMT_U8);
    if (err) return sd_fail(ctx, err, "out of memory");
    for (int y = 0; y < m->h; y++) {
        const uint8_t *s = m->data + (size_t)y * (size_t)m->stride;
        uint8_t *d = sd_image_row8(&img, y);
        for (int x = 0; x < m->w; x++) d[x] = s[x] ? 255 : 0;
    }
    char path[4400];
    snprintf(path, sizeof(path), "%s/masks/%s_%s.png", dir, id, name);
    err = sd_image_save(ctx, &img, path, 0);
    sd_image_free(&img);
    return err;
}

/* The canonical image's preview quality, as run's aligned/ previews. */
#define PREVIEW_Q 85

/* OUT/images/<id>.jpg (and .png with --save-aligned), the overlay masks OUT/images/<id>_*.png and
 * the region masks OUT/masks/<id>_*.png */
static int save_pictures(SdCtx *ctx, const char *out, const char *id, const SdMeasurement *m, int images)
{
    char p[4400], w[4400], s[4400];
    snprintf(p, sizeof(p), "%s/images/%s.jpg", out, id);
    int err = sd_image_save(ctx, sd_measurement_image(m), p, PREVIEW_Q);
    snprintf(p, sizeof(p), "%s/images/%s.png", out, id);
    if (!err && images > 1)
        err = sd_image_save(ctx, sd_measurement_image(m), p, 0);
    else if (!err)
        (void)remove(p);   /* an earlier run's, with --save-aligned: not this photo's any more */
    snprintf(p, sizeof(p), "%s/images/%s_regions.png", out, id);
    snprintf(w, sizeof(w), "%s/images/%s_wrinkles.png", out, id);
    snprintf(s, sizeof(s), "%s/images/%s_spots.png", out, id);
    if (!err) err = sd_measurement_overlays(ctx, m, p, w, s);
    const SdMask *skin = sd_measurement_mask(m, -1);
    if (!err && skin->data) err = save_mask(ctx, skin, out, id, "skin");
    for (int r = 0; r < sd_measurement_nregions(m) && !err; r++)
        err = save_mask(ctx, sd_measurement_mask(m, r), out, id, sd_measurement_region(m, r));
    return err;
}

static void image_row(Outputs *o, const char *id, const char *path, const SdMeasurement *m,
                      const char *qc, const char *reason)
{
    FILE *f = o->images.f;
    char hex[65] = "";
    double xy[2 * SD_NLANDMARKS], score;
    int w, h;
    if (sd_sha256_file(path, hex)) hex[0] = 0;
    sd_measurement_photo_size(m, &w, &h);
    sd_csv_field(f, id);
    fputc(',', f);
    sd_csv_field(f, path);
    fprintf(f, ",%s,%d,%d,", hex, w, h);
    if (sd_measurement_landmarks(m, xy, &score)) sd_csv_num(f, score);
    fputc(',', f);
    sd_csv_num(f, sd_measurement_px_per_mm(m));
    fprintf(f, ",%s,", qc);
    sd_csv_field(f, reason);
    fputc('\n', f);
}

static int push_rows(Outputs *o, const char *id, const SdMeasurement *m, const char *qc)
{
    for (int r = 0; r < sd_measurement_nregions(m); r++) {
        const double *val = sd_measurement_values(m, r);
        for (int k = 0; k < SD_NMETRICS; k++) {
            const SdMetricInfo *mi = sd_metric_info(k);
            SdMeasRow row = {
                .patient = (char *)id, .view = "front", .session = "measure", .session_index = 0,
                .days = NAN, .region = (char *)sd_measurement_region(m, r), .metric = (char *)mi->id,
                .value = val[k], .unit = (char *)mi->unit, .better = mi->better, .qc = (char *)qc,
                .sd = NAN, .n_boot = 0,
            };
            if (isfinite(row.value) && sd_meas_push(&o->meas, &row)) return SD_ENOMEM;
        }
    }
    return 0;
}

/* One photo, measured by the library as run measures a baseline: its rows, its pictures, or an
 * errors.csv row naming the stage that failed. */
static void measure_one(SdCtx *ctx, const MeasureArgs *a, const char *path, const char *id, Outputs *o)
{
    SdMeasurement *m = NULL;
    const char *stage = "load";
    char reason[256];
    int err = sd_measure_file_ex(ctx, path, &a->ro, a->images ? SD_MEASURE_KEEP_MAPS : 0, &m, &stage);
    if (!err) {
        const char *qc = sd_measurement_qc(m, reason, sizeof(reason)) ? "warn" : "ok";
        image_row(o, id, path, m, qc, reason);
        err = push_rows(o, id, m, qc);
        stage = "write";
        if (!err && a->images) err = save_pictures(ctx, a->out, id, m, a->images);
        if (!err && !a->quiet)
            fprintf(stderr, "skindelta measure: %s: %d regions, qc %s%s%s\n", path, sd_measurement_nregions(m), qc,
                    reason[0] ? ": " : "", reason);
    }
    if (err) error_row(o, path, stage, err, ctx->errmsg[0] ? ctx->errmsg : sd_strerror(err));
    sd_clear_error(ctx);
    sd_measurement_free(m);
}

/* The photo's name: its file name without the extension, made unique among ids[0..n). */
static char *image_id(const char *path, char **ids, int n)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    const size_t len = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    char *id = malloc(len + 16);
    if (!id) return NULL;
    for (int k = 1; ; k++) {
        if (k == 1) snprintf(id, len + 16, "%.*s", (int)len, base);
        else snprintf(id, len + 16, "%.*s_%d", (int)len, base, k);
        int taken = 0;
        for (int i = 0; i < n && !taken; i++) taken = !strcmp(ids[i], id);
        if (!taken) return id;
    }
}

static int parse_measure_args(int argc, char **argv, MeasureArgs *a, const char **in, int *nin)
{
    sd_run_opts_default(&a->ro);
    a->images = 1;
    const SdOpt opts[] = {
        SD_OPT_OUT(&a->out, "DIR", "output folder (created)"),
        SD_OPT_ROI(&a->ro.roi_whole, "face: detect the face and measure the 13 facial regions (default);\n"
                                     "whole: close-up skin photos, region `whole`, no face stage"),
        SD_OPT_IOD(&a->ro.align.iod_px),
        SD_OPT_PX_PER_MM(&a->ro.align.px_per_mm, "physical scale (default: IOD = 63 mm; with --roi whole 10 px/mm\n"
                                           "in the photo is assumed)"),
        SD_OPT_FLAG("no-images", 0, "do not write images/ and masks/ (faster)", &a->images, 0),
        SD_OPT_FLAG("save-aligned", 0, "also write the canonical image losslessly (images/<image>.png,\n"
                    "~5 MB each)", &a->images, 2),
        SD_OPT_CPU(&a->cpu),
        SD_OPT_QUIET(&a->quiet, "no line per photo"),
    };
    const int rc = sd_cli_parse(&spec, opts, SD_NOPTS(opts), argc, argv, in, argc, nin);
    if (rc != SD_CLI_CONTINUE) return rc;
    if (!a->out) return sd_cli_usage_error("measure", "-o OUT is required");
    if (!*nin) return sd_cli_usage_error("measure", "give one or more images");
    a->ro.jobs = 1;   /* one photo at a time */
    sd_run_opts_finish(&a->ro);
    if (a->ro.px_per_mm_assumed && !a->quiet)
        fprintf(stderr, "skindelta measure: --roi whole without --px-per-mm: assuming %g px/mm in the photos "
                        "(per-area figures depend on it; give the real scale)\n", SD_WHOLE_DEFAULT_PX_PER_MM);
    return SD_CLI_CONTINUE;
}

/* OUT, its sub-folders and the two row files, before any photo is measured. */
static int open_outputs(const MeasureArgs *a, Outputs *o)
{
    char p[4200];
    if (sd_file_exists(a->out) && !sd_is_dir(a->out))
        return sd_cli_usage_error("measure", "%s: the output folder exists and is not a folder", a->out);
    int bad = sd_mkdir_p(a->out);
    if (!bad && a->images) {
        snprintf(p, sizeof(p), "%s/images", a->out);
        bad = sd_mkdir_p(p);
        snprintf(p, sizeof(p), "%s/masks", a->out);
        bad = bad || sd_mkdir_p(p);
    }
    snprintf(p, sizeof(p), "%s/images.csv", a->out);
    if (!bad && !(bad = sd_atomic_open(&o->images, p))) {
        snprintf(p, sizeof(p), "%s/errors.csv", a->out);
        if ((bad = sd_atomic_open(&o->errors, p))) sd_atomic_abort(&o->images);
    }
    if (bad) return sd_cli_usage_error("measure", "%s: cannot create or write the output folder", a->out);
    fputs(IMAGES_HEADER "\n", o->images.f);
    fputs(ERRORS_HEADER "\n", o->errors.f);
    return SD_CLI_CONTINUE;
}

static int close_outputs(SdCtx *ctx, const MeasureArgs *a, Outputs *o)
{
    char p[4200];
    snprintf(p, sizeof(p), "%s/measurements.csv", a->out);
    int err = sd_meas_write(ctx, p, &o->meas);
    if (sd_atomic_commit(&o->images) && !err) err = sd_fail(ctx, SD_EIO, "%s/images.csv: cannot write", a->out);
    if (sd_atomic_commit(&o->errors) && !err) err = sd_fail(ctx, SD_EIO, "%s/errors.csv: cannot write", a->out);
    if (!err) err = sd_codebook_write(ctx, a->out);
    if (err) fprintf(stderr, "skindelta measure: %s\n", ctx->errmsg);
    return err;
}

int sd_cmd_measure(int argc, char **argv)
{
    MeasureArgs a = { .out = NULL };
    const char **in = calloc(argc > 0 ? (size_t)argc : 1, sizeof(*in));
    char **ids = calloc(argc > 0 ? (size_t)argc : 1, sizeof(*ids));
    int nin = 0, rc = SD_EXIT_PARTIAL;
    Outputs o = { .failed = 0 };
    if (!in || !ids) {
        fprintf(stderr, "skindelta measure: out of memory\n");
        goto done;
    }
    if ((rc = parse_measure_args(argc, argv, &a, in, &nin)) != SD_CLI_CONTINUE) goto done;
    SdCtx ctx;
    if (sd_cli_setup(&ctx, a.cpu)) { rc = SD_EXIT_USAGE; goto done; }
    if ((rc = open_outputs(&a, &o)) != SD_CLI_CONTINUE) goto done;
    for (int i = 0; i < nin; i++) {
        if (!(ids[i] = image_id(in[i], ids, i))) {
            error_row(&o, in[i], "load", SD_ENOMEM, "out of memory");
            ids[i] = sd_strdup("");
            continue;
        }
        measure_one(&ctx, &a, in[i], ids[i], &o);
    }
    rc = close_outputs(&ctx, &a, &o) || o.failed ? SD_EXIT_PARTIAL : SD_EXIT_OK;
    if (!a.quiet)
        fprintf(stderr, "skindelta measure: %d of %d photos measured, %zu rows -> %s/measurements.csv\n",
                nin - o.failed, nin, o.meas.n, a.out);
done:
    for (int i = 0; ids && i < nin; i++) free(ids[i]);
    free(ids);
    free(in);
    sd_meas_free(&o.meas);
    return rc;
}

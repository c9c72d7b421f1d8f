/* `skindelta measure IMG... -o OUT`: per-image metrics without a course. Each photo goes the way
 * a baseline goes in `run` (shrink-on-load for large JPEGs, face and landmarks, canonical frame,
 * regions, metrics), so its rows equal that photo's baseline rows of a run; then the tables, the
 * canonical image with its overlays and the region masks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cli/cli.h"
#include "skindelta/align.h"
#include "skindelta/course.h"
#include "skindelta/face.h"
#include "skindelta/metrics.h"
#include "skindelta/regions.h"
#include "skindelta/run.h"
#include "skindelta/util.h"

#define IMAGES_HEADER "image,path,sha256,width,height,face_score,px_per_mm,qc,reason"
#define ERRORS_HEADER "path,stage,code,message"
#define CLIP_WARN 0.01   /* as in run: more than 1% of the measured skin clipped */

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
    "  images/<image>.png (canonical frame), <image>_regions.png, _wrinkles.png, _spots.png\n"
    "  masks/<image>_skin.png and masks/<image>_<region>.png (white = in the mask)\n"
    "exit: 0 all measured, 1 some photos failed (errors.csv), 2 usage error\n",
};

typedef struct MeasureArgs {
    const char *out, *cpu;
    int quiet, images;
    SdAlignOpts ao;
    SdFaceOpts fo;
    SdMetricsOpts mo;
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

/* The photo as run loads a baseline: a large JPEG decoded smaller when its face allows. */
static int load_and_find(SdCtx *ctx, const MeasureArgs *a, const char *path, SdImage *photo,
                         SdImageInfo *li, SdLandmarks *lm, const char **stage)
{
    SdLoadOpts lo;
    sd_load_opts_default(&lo);
    SdImageInfo pi;
    int err, nf = 0;
    if (!a->ao.roi_whole && sd_image_probe(ctx, path, &pi) == 0 && !strcmp(pi.format, "jpeg") &&
        (pi.orig_w > 2 * SD_FACE_LOAD_MAX || pi.orig_h > 2 * SD_FACE_LOAD_MAX)) {
        SdLandmarks quick;
        if (sd_face_find_file(ctx, path, &a->fo, &quick, &nf, NULL) == 0)
            lo.scale = sd_align_load_scale(&quick, &a->ao);
    }
    sd_clear_error(ctx);
    memset(li, 0, sizeof(*li));
    *stage = "load";
    if ((err = sd_image_load(ctx, path, &lo, photo, li)) || a->ao.roi_whole) return err;
    *stage = "face";
    return sd_face_find(ctx, photo, &a->fo, lm, &nf);
}

static double clipped_share(const SdAligned *al, const SdMask *region)
{
    long n = 0, c = 0;
    for (int y = 0; y < al->img.h && y < region->h; y++) {
        const uint8_t *m = region->data + (size_t)y * (size_t)region->stride;
        const uint8_t *v = al->valid.data ? al->valid.data + (size_t)y * (size_t)al->valid.stride : NULL;
        const float *r = sd_image_rowf(&al->img, 0, y), *g = sd_image_rowf(&al->img, 1, y),
                    *b = sd_image_rowf(&al->img, 2, y);
        for (int x = 0; x < al->img.w && x < region->w; x++) {
            if (!m[x] || (v && !v[x])) continue;
            n++;
            c += r[x] >= 0.99f || g[x] >= 0.99f || b[x] >= 0.99f;
        }
    }
    return n ? (double)c / (double)n : 0.0;
}

/* "ok", or "warn" with the reason: a clipped skin or a face box reaching out of the photo (the
 * same flags run puts on a baseline). */
static const char *qc_of(const SdAligned *al, const SdRegions *rg, const SdLandmarks *lm, char *reason, size_t n)
{
    reason[0] = 0;
    const double clip = clipped_share(al, &rg->mask[0]);
    if (clip > CLIP_WARN)
        snprintf(reason, n, "%.1f%% of the skin clipped (overexposed channel)", 100 * clip);
    if (lm && al->photo_w > 0) {
        const SdFace *fb = &lm->face;
        const double ix0 = fmax(fb->x, 0), iy0 = fmax(fb->y, 0);
        const double ix1 = fmin(fb->x + fb->w, al->photo_w), iy1 = fmin(fb->y + fb->h, al->photo_h);
        const double inside = fmax(0, ix1 - ix0) * fmax(0, iy1 - iy0), area = (double)fb->w * fb->h;
        if (area > 0 && inside < 0.9 * area) {
            const size_t k = strlen(reason);
            snprintf(reason + k, n - k, "%sface box %.0f%% outside the photo", k ? "; " : "",
                     100 * (1 - inside / area));
        }
    }
    return reason[0] ? "warn" : "ok";
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

/* OUT/images/<id>*.png and OUT/masks/<id>_*.png */
static int save_pictures(SdCtx *ctx, const char *out, const char *id, const SdAligned *al,
                         const SdRegions *rg, const SdMetricsState *st)
{
    char p[4400], w[4400], s[4400];
    snprintf(p, sizeof(p), "%s/images/%s.png", out, id);
    int err = sd_image_save(ctx, &al->img, p, 0);
    snprintf(p, sizeof(p), "%s/images/%s_regions.png", out, id);
    if (!err) err = sd_regions_overlay(ctx, &al->img, rg, p);
    snprintf(w, sizeof(w), "%s/images/%s_wrinkles.png", out, id);
    snprintf(s, sizeof(s), "%s/images/%s_spots.png", out, id);
    if (!err) err = sd_metrics_overlay(ctx, st, &al->img, &rg->mask[0], rg->name[0], w, s);
    if (!err && rg->skin.data) err = save_mask(ctx, &rg->skin, out, id, "skin");
    for (int r = 0; r < rg->n && !err; r++) err = save_mask(ctx, &rg->mask[r], out, id, rg->name[r]);
    return err;
}

static void image_row(Outputs *o, const char *id, const char *path, const SdImageInfo *li,
                      const SdAligned *al, const SdLandmarks *lm, const char *qc, const char *reason)
{
    FILE *f = o->images.f;
    char hex[65] = "";
    if (sd_sha256_file(path, hex)) hex[0] = 0;
    sd_csv_field(f, id);
    fputc(',', f);
    sd_csv_field(f, path);
    fprintf(f, ",%s,%d,%d,", hex, li->orig_w, li->orig_h);
    if (lm) sd_csv_num(f, lm->face.score);
    fputc(',', f);
    sd_csv_num(f, al->px_per_mm);
    fprintf(f, ",%s,", qc);
    sd_csv_field(f, reason);
    fputc('\n', f);
}

static int push_rows(Outputs *o, const char *id, const SdRegions *rg, double (*val)[SD_NMETRICS], const char *qc)
{
    for (int r = 0; r < rg->n; r++)
        for (int m = 0; m < SD_NMETRICS; m++) {
            const SdMetricInfo *mi = sd_metric_info(m);
            SdMeasRow row = {
                .patient = (char *)id, .view = "front", .session = "measure", .session_index = 0,
                .days = NAN, .region = (char *)rg->name[r], .metric = (char *)mi->id,
                .value = val[r][m], .unit = (char *)mi->unit, .better = mi->better, .qc = (char *)qc,
                .sd = NAN, .n_boot = 0,
            };
            if (isfinite(row.value) && sd_meas_push(&o->meas, &row)) return SD_ENOMEM;
        }
    return 0;
}

/* One photo: its rows, its pictures, or an errors.csv row naming the stage that failed. */
static void measure_one(SdCtx *ctx, const MeasureArgs *a, const char *path, const char *id, Outputs *o)
{
    SdImage photo = {0};
    SdImageInfo li;
    SdLandmarks lm;
    SdAligned al = {0};
    SdRegions rg = {0};
    SdMetricsState *st = NULL;
    double (*val)[SD_NMETRICS] = NULL;
    const char *stage = "load";
    char reason[256];
    int err = load_and_find(ctx, a, path, &photo, &li, &lm, &stage);
    const SdLandmarks *lmp = a->ao.roi_whole ? NULL : &lm;
    if (!err && (stage = "frame", err = sd_align_canonical(ctx, &photo, lmp, &a->ao, &al)) == 0)
        sd_image_free(&photo);
    if (!err) { stage = "regions"; err = sd_regions_build(ctx, &al, NULL, &rg); }
    if (!err) {
        stage = "metrics";
        val = calloc((size_t)rg.n, sizeof(*val));
        err = val ? sd_metrics_prepare(ctx, &al.img, &al.valid, al.px_per_mm, &a->mo, &st) : SD_ENOMEM;
        for (int r = 0; r < rg.n && !err; r++)
            err = sd_metrics_region(ctx, st, &rg.mask[r], rg.name[r], val[r]);
    }
    if (!err) {
        const char *qc = qc_of(&al, &rg, lmp, reason, sizeof(reason));
        image_row(o, id, path, &li, &al, lmp, qc, reason);
        err = push_rows(o, id, &rg, val, qc);
        stage = "write";
        if (!err && a->images) err = save_pictures(ctx, a->out, id, &al, &rg, st);
        if (!err && !a->quiet)
            fprintf(stderr, "skindelta measure: %s: %d regions, qc %s%s%s\n", path, rg.n, qc,
                    reason[0] ? ": " : "", reason);
    }
    if (err) error_row(o, path, stage, err, ctx->errmsg[0] ? ctx->errmsg : sd_strerror(err));
    sd_clear_error(ctx);
    sd_metrics_free(st);
    free(val);
    sd_regions_free(&rg);
    sd_aligned_free(&al);
    sd_image_free(&photo);
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
    sd_align_opts_default(&a->ao);
    sd_metrics_opts_default(&a->mo);
    memset(&a->fo, 0, sizeof(a->fo));
    a->images = 1;
    const SdOpt opts[] = {
        SD_OPT_OUT(&a->out, "DIR", "output folder (created)"),
        SD_OPT_ROI(&a->ao.roi_whole, "face: detect the face and measure the 13 facial regions (default);\n"
                                     "whole: close-up skin photos, region `whole`, no face stage"),
        SD_OPT_IOD(&a->ao.iod_px),
        SD_OPT_PX_PER_MM(&a->ao.px_per_mm, "physical scale (default: IOD = 63 mm; with --roi whole 10 px/mm\n"
                                           "in the photo is assumed)"),
        SD_OPT_FLAG("no-images", 0, "do not write images/ and masks/ (faster)", &a->images, 0),
        SD_OPT_CPU(&a->cpu),
        SD_OPT_QUIET(&a->quiet, "no line per photo"),
    };
    const int rc = sd_cli_parse(&spec, opts, SD_NOPTS(opts), argc, argv, in, argc, nin);
    if (rc != SD_CLI_CONTINUE) return rc;
    if (!a->out) return sd_cli_usage_error("measure", "-o OUT is required");
    if (!*nin) return sd_cli_usage_error("measure", "give one or more images");
    if (a->ao.roi_whole && a->ao.px_per_mm <= 0) {
        a->ao.px_per_mm = SD_WHOLE_DEFAULT_PX_PER_MM;
        if (!a->quiet)
            fprintf(stderr, "skindelta measure: --roi whole without --px-per-mm: assuming %g px/mm in the photos "
                            "(per-area figures depend on it; give the real scale)\n", SD_WHOLE_DEFAULT_PX_PER_MM);
    }
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

/* The batch runner: a bounded pool of worker threads, one patient at a time each; per patient
 * and view the baseline goes into the canonical frame, each follow-up is registered onto it, and
 * every image is measured per region. Results are written per patient, atomically, as each one
 * finishes; sd_run_aggregate then builds the run's tables, statistics and report. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "skindelta/run.h"
#include "skindelta/course.h"
#include "skindelta/regions.h"
#include "src/run/run_int.h"
#include "src/core/core.h"

void sd_run_opts_default(SdRunOpts *o)
{
    memset(o, 0, sizeof(*o));
    o->bootstrap = 5;
    o->bootstrap_recapture = 1;
    o->save_images = 1;
    o->report = 1;
    o->photometry = "reference";
    sd_align_opts_default(&o->align);
    sd_metrics_opts_default(&o->metrics);
}

/* ---- per-patient accumulation */

enum { ST_LOAD, ST_FACE, ST_FRAME, ST_REGISTER, ST_PHOTOMETRY, ST_REGIONS, ST_METRICS,
       ST_BOOTSTRAP, ST_WRITE, ST_N };
static const char *const stage_names[ST_N] = {"load", "face", "frame", "register", "photometry",
                                              "regions", "metrics", "bootstrap", "write"};

typedef struct PatientOut {
    double t[ST_N];          /* seconds spent per stage */
    SdMeasArray meas;
    SdRowList align_rows;    /* alignment.csv lines */
    SdRowList error_rows;    /* errors.csv lines */
    int images, failed, pairs, warn, write_errors;
    SdRowList inputs;        /* "path,sha256" for run.json */
} PatientOut;

static void patient_out_free(PatientOut *p)
{
    sd_meas_free(&p->meas);
    sd_rowlist_free(&p->align_rows);
    sd_rowlist_free(&p->error_rows);
    sd_rowlist_free(&p->inputs);
}

/* Time a statement into po->t[stage]. */
#define TIMED(po, stage, stmt) do { double t0_ = sd_now(); stmt; (po)->t[stage] += sd_now() - t0_; } while (0)

/* One errors.csv row; the message always names the file (prefixed when the stage's own text
 * does not). */
static void add_error(PatientOut *po, const char *path, const char *stage, int code, const char *msg)
{
    if (!msg || !*msg) msg = sd_strerror(code);
    if (strstr(msg, path))
        sd_rowlist_addf(&po->error_rows, "%s\x1f%s\x1f%s\x1f%s", path, stage, sd_errname(code), msg);
    else
        sd_rowlist_addf(&po->error_rows, "%s\x1f%s\x1f%s\x1f%s: %s", path, stage, sd_errname(code), path, msg);
    po->failed++;
}

/* splitmix64: deterministic per-image seeds independent of thread scheduling */
static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static uint64_t str_seed(const char *a, const char *b, const char *c)
{
    uint64_t h = 1469598103934665603ull;
    const char *s[3] = {a, b, c};
    for (int k = 0; k < 3; k++) {
        for (const char *p = s[k]; p && *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
        h = (h ^ 0xff) * 1099511628211ull;
    }
    return h;
}

static double rng_uniform(uint64_t *s)
{
    *s = mix64(*s);
    return (double)(*s >> 11) * (1.0 / 9007199254740992.0);
}


/* Measure every region of an aligned image: values[r][m]. */
static int measure(SdCtx *ctx, const SdAligned *al, const SdRegions *rg, const SdRunOpts *o,
                   double (*values)[SD_NMETRICS], SdMetricsState **keep)
{
    SdMetricsState *st = NULL;
    int err = sd_metrics_prepare(ctx, &al->img, &al->valid, al->px_per_mm, &o->metrics, &st);
    if (err) return err;
    for (int r = 0; r < rg->n && !err; r++)
        err = sd_metrics_region(ctx, st, &rg->mask[r], rg->name[r], values[r]);
    if (keep && !err) *keep = st;
    else sd_metrics_free(st);
    return err;
}

/* JPEG compression of an input as read from its markers (quality 0 and chroma "" when not a JPEG). */
typedef struct Compression {
    int jpeg_quality;
    char chroma[8];
} Compression;

/* Recapture support for the bootstrap: the part of the photo the canonical frame sees (plus the
 * interpolation margin), its origin on the 16-px grid of the JPEG blocks so that a new JPEG
 * capture quantises the same blocks as the camera's did. (A photo decoded smaller by DCT scaling
 * has its camera blocks at 8/shrink px: the recapture's 8-px blocks are then coarser than the
 * camera's, which errs towards a larger SD; a photo turned by EXIF or by the quarter-turn search
 * keeps the grid only when its sides are multiples of 16.) */
static int recapture_crop(const SdImage *photo, const SdAligned *al, int *x0, int *y0, int *x1, int *y1)
{
    SdTransform inv;
    if (sd_transform_invert(&al->T, &inv)) return -1;
    double lo[2] = {1e30, 1e30}, hi[2] = {-1e30, -1e30};
    const double cx[4] = {0, al->img.w, 0, al->img.w}, cy[4] = {0, 0, al->img.h, al->img.h};
    for (int k = 0; k < 4; k++) {
        double x, y;
        sd_transform_apply(&inv, cx[k], cy[k], &x, &y);
        lo[0] = fmin(lo[0], x); lo[1] = fmin(lo[1], y);
        hi[0] = fmax(hi[0], x); hi[1] = fmax(hi[1], y);
    }
    /* (an affine follow-up transform maps the frame to a parallelogram: its box is enough) */
    const double m = 8;
    *x0 = (int)fmax(0, floor((lo[0] - m) / 16) * 16);
    *y0 = (int)fmax(0, floor((lo[1] - m) / 16) * 16);
    *x1 = (int)fmin(photo->w, ceil(hi[0] + m));
    *y1 = (int)fmin(photo->h, ceil(hi[1] + m));
    return *x1 - *x0 >= 16 && *y1 - *y0 >= 16 ? 0 : -1;
}

/* Perturbation bootstrap: re-warp the photo with the transform shifted by U(-0.5, 0.5) px in x
 * and y, add near-Gaussian noise of 0.5/255, redo the follow-up's photometry, re-measure; the SD
 * over replicates is the per-image uncertainty (registration jitter, sensor-level noise,
 * photometry estimate). A JPEG photo is also captured again in each replicate
 * (sd_image_jpeg_recapture: each channel's exposure moved by up to 5%, saved at the photo's own
 * quality and chroma subsampling, decoded, exposure restored): JPEG quantisation of a faint
 * pigment or relief pattern changes with where its levels fall, the largest capture-to-capture
 * drift of the skin metrics (docs/METRICS.md), and a replicate without it would not see it. On
 * phantoms this predicts the between-session drift conservatively (bench_invariance --predict).
 * Other capture differences (pose, lighting) are for a repeatability study (`run --mdc`). */
static int bootstrap_sd(SdCtx *ctx, const SdImage *photo, const SdAligned *al,
                        const SdAligned *photometry_base, const SdRegions *rg,
                        const SdRunOpts *o, const Compression *comp, uint64_t seed,
                        double (*sd)[SD_NMETRICS])
{
    const int B = o->bootstrap, R = rg->n;
    double (*sum)[SD_NMETRICS] = calloc((size_t)R, sizeof(*sum));
    double (*sq)[SD_NMETRICS] = calloc((size_t)R, sizeof(*sq));
    double (*v)[SD_NMETRICS] = calloc((size_t)R, sizeof(*v));
    int (*cnt)[SD_NMETRICS] = calloc((size_t)R, sizeof(*cnt));
    int err = (!sum || !sq || !v || !cnt) ? SD_ENOMEM : 0;
    SdImage crop = {0};
    int cx0 = 0, cy0 = 0, cx1 = 0, cy1 = 0;
    const int recap = !err && o->bootstrap_recapture && comp && comp->jpeg_quality > 0 &&
                      recapture_crop(photo, al, &cx0, &cy0, &cx1, &cy1) == 0;
    const int subsample = comp && strcmp(comp->chroma, "4:4:4") != 0;
    if (recap) {
        /* a view, not a copy (x0 is a multiple of 16 floats: rows stay 64-byte aligned) */
        crop = *photo;
        crop.data += (size_t)cy0 * (size_t)photo->stride + (size_t)cx0 * sizeof(float);
        crop.w = cx1 - cx0;
        crop.h = cy1 - cy0;
        crop.borrowed = 1;
    }
    for (int b = 0; b < B && !err; b++) {
        SdAligned j = *al;
        memset(&j.img, 0, sizeof(j.img));
        memset(&j.valid, 0, sizeof(j.valid));
        const double dx = rng_uniform(&seed) - 0.5, dy = rng_uniform(&seed) - 0.5;
        SdTransform shift = {{1, 0, dx, 0, 1, dy, 0, 0, 1}}, Tb;
        sd_transform_mul(&shift, &al->T, &Tb);
        if (recap) {
            SdImage rc = {0};
            const SdTransform off = {{1, 0, cx0, 0, 1, cy0, 0, 0, 1}};
            SdTransform Tc;
            sd_transform_mul(&Tb, &off, &Tc);
            seed = mix64(seed);
            err = sd_image_jpeg_recapture(ctx, &crop, comp->jpeg_quality, subsample, 0.05, seed, &rc);
            if (!err) err = sd_align_warp(ctx, &rc, &Tc, al->img.w, al->img.h, &j.img, &j.valid);
            sd_image_free(&rc);
        } else {
            err = sd_align_warp(ctx, photo, &Tb, al->img.w, al->img.h, &j.img, &j.valid);
        }
        if (err) break;
        /* near-Gaussian noise, sd 0.5/255: a sum of 4 uniforms (Irwin-Hall, var 1/3) per pixel,
         * all four drawn from one 64-bit random number */
        const float k = (float)((0.5 / 255.0) / sqrt(1.0 / 3.0) / 65536.0);
        for (int p = 0; p < j.img.c; p++)
            for (int y = 0; y < j.img.h; y++) {
                float *row = sd_image_rowf(&j.img, p, y);
                for (int x = 0; x < j.img.w; x++) {
                    seed = mix64(seed);
                    const int32_t u4 = (int32_t)(seed & 0xffff) + (int32_t)((seed >> 16) & 0xffff) +
                                        (int32_t)((seed >> 32) & 0xffff) + (int32_t)(seed >> 48) - 131070;
                    row[x] += (float)u4 * k;
                }
            }
        /* follow-ups: the photometry is estimated again on each replicate, so its own
         * uncertainty is part of the spread */
        if (photometry_base) {
            SdPhotometry ph;
            err = sd_photometry_apply(ctx, photometry_base, &j, o->photometry, &ph);
        }
        if (!err) err = measure(ctx, &j, rg, o, v, NULL);
        sd_image_free(&j.img);
        sd_mask_free(&j.valid);
        for (int r = 0; r < R && !err; r++)
            for (int m = 0; m < SD_NMETRICS; m++)
                if (isfinite(v[r][m])) { sum[r][m] += v[r][m]; sq[r][m] += v[r][m] * v[r][m]; cnt[r][m]++; }
    }
    for (int r = 0; r < R && !err; r++)
        for (int m = 0; m < SD_NMETRICS; m++) {
            const int n = cnt[r][m];
            if (n < 2) { sd[r][m] = NAN; continue; }
            double var = (sq[r][m] - sum[r][m] * sum[r][m] / n) / (n - 1);
            sd[r][m] = sqrt(var > 0 ? var : 0);
        }
    free(sum); free(sq); free(v); free(cnt);
    sd_image_free(&crop);
    return err;
}

static void push_values(PatientOut *po, const SdCatEntry *e, const SdRegions *rg,
                        double (*val)[SD_NMETRICS], double (*sd)[SD_NMETRICS], int nboot,
                        const char *qc)
{
    for (int r = 0; r < rg->n; r++)
        for (int m = 0; m < SD_NMETRICS; m++) {
            const SdMetricInfo *mi = sd_metric_info(m);
            SdMeasRow row = {
                .patient = e->patient, .view = e->view, .session = e->session,
                .session_index = e->session_index, .days = e->days,
                .region = (char *)rg->name[r], .metric = (char *)mi->id, .value = val[r][m],
                .unit = (char *)mi->unit, .better = mi->better, .qc = (char *)qc,
                .sd = sd ? sd[r][m] : NAN, .n_boot = sd ? nboot : 0,
            };
            if (!isfinite(row.value)) continue;   /* region too small / masked out: no row */
            sd_meas_push(&po->meas, &row);
        }
}

/* alignment.csv row. The transform is reported from the ORIGINAL photo's pixels: T o P, with P
 * original -> loaded photo (a DCT downscale, and a quarter turn when the face was found only in
 * a rotated copy). note (may be NULL/"") is added to the reason. */
static void alignment_row(PatientOut *po, const SdCatEntry *e, const SdAligned *al,
                          const SdTransform *P, const SdAlignQC *qc, const char *status,
                          const char *photometry, const char *note)
{
    SdTransform TS;
    sd_transform_mul(&al->T, P, &TS);
    const double *m = TS.m;
    char score[32] = "", rms[32] = "", ecc[32] = "", ov[32] = "", it[32] = "";
    if (al->has_lm) snprintf(score, sizeof(score), "%.4f", al->lm.face.score);
    if (qc) {
        if (isfinite(qc->lm_rms_px)) snprintf(rms, sizeof(rms), "%.3f", qc->lm_rms_px);
        if (isfinite(qc->ecc)) snprintf(ecc, sizeof(ecc), "%.5f", qc->ecc);
        if (isfinite(qc->overlap)) snprintf(ov, sizeof(ov), "%.4f", qc->overlap);
        if (qc->iterations > 0) snprintf(it, sizeof(it), "%d", qc->iterations);
    }
    char reason[800];
    snprintf(reason, sizeof(reason), "%s%s%s", qc && qc->reason[0] ? qc->reason : "",
             qc && qc->reason[0] && note && note[0] ? "; " : "", note ? note : "");
    sd_rowlist_addf(&po->align_rows,
        "%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%.9g\x1f%.9g\x1f%.6f\x1f%.9g\x1f%.9g\x1f%.6f\x1f%s"
        "\x1f%s\x1f%s\x1f%.5f\x1f%s\x1f%s",
        e->patient, e->view, e->session, score, rms, ecc, m[0], m[1], m[2], m[3], m[4], m[5], status,
        ov, it, al->px_per_mm, photometry ? photometry : "", reason);
}

typedef struct Worker {
    SdCatalog *cat;
    const SdRunOpts *o;
    pthread_mutex_t lock;
    int next;                   /* next patient index */
    int done, images_done, images_failed;
    int skipped, pairs, warn;
    double stage_s[ST_N];
    int written, kill_after;
    const char *last;
    int fatal;                  /* an error writing outputs: stop handing out work */
    int exited;                 /* workers that have returned (after a fatal error, patients
                                   remain undone: the wait must not count on `done`) */
    int write_errors;
    char fatal_msg[SD_ERRMSG_MAX];
    unsigned cpu_flags;
} Worker;

/* A quarter turn (k = 1: 90 deg clockwise, 2: 180, 3: 90 counter-clockwise) of a planar float
 * image; R gets the pixel map src -> dst. */
static int rotate_quarter(const SdImage *src, int k, SdImage *dst, SdTransform *R)
{
    const int W = src->w, H = src->h;
    const int dw = k == 2 ? W : H, dh = k == 2 ? H : W;
    int err = sd_image_create(dst, dw, dh, src->c, SD_FMT_F32);
    if (err) return err;
    for (int p = 0; p < src->c; p++)
        for (int y = 0; y < H; y++) {
            const float *s = sd_image_rowf(src, p, y);
            for (int x = 0; x < W; x++) {
                const int dx = k == 1 ? H - 1 - y : k == 2 ? W - 1 - x : y;
                const int dy = k == 1 ? x : k == 2 ? H - 1 - y : W - 1 - x;
                sd_image_rowf(dst, p, dy)[dx] = s[x];
            }
        }
    const SdTransform r[3] = {
        {{0, -1, H - 1, 1, 0, 0, 0, 0, 1}},
        {{-1, 0, W - 1, 0, -1, H - 1, 0, 0, 1}},
        {{0, 1, 0, -1, 0, W - 1, 0, 0, 1}},
    };
    *R = r[k - 1];
    return 0;
}

/* Free-text note of an alignment row (photo turned, compression differs, skin clipped). */
#define SD_NOTE_LEN 320

/* Adds text to a note, "; "-separated from what it already says. */
static void note_add(char *note, size_t cap, const char *text)
{
    const size_t k = strlen(note);
    snprintf(note + k, cap - k, "%s%s", k ? "; " : "", text);
}

/* A follow-up whose compression differs from its baseline's carries JPEG drift in the skin metrics
 * (several % at q85-95: docs/METRICS.md); say so. Returns 1 and fills msg when they differ: another
 * chroma subsampling, JPEG against lossless, or IJG qualities 5 or more apart. */
static int compression_differs(const Compression *b, const Compression *f, char *msg, size_t n)
{
    const int bj = b->jpeg_quality > 0, fj = f->jpeg_quality > 0;
    if (!bj && !fj)
        return 0;
    if (bj && fj && !strcmp(b->chroma, f->chroma) && abs(b->jpeg_quality - f->jpeg_quality) < 5)
        return 0;
    char bs[32], fs[32];
    if (bj) snprintf(bs, sizeof(bs), "JPEG q%d %s", b->jpeg_quality, b->chroma);
    else snprintf(bs, sizeof(bs), "lossless");
    if (fj) snprintf(fs, sizeof(fs), "JPEG q%d %s", f->jpeg_quality, f->chroma);
    else snprintf(fs, sizeof(fs), "lossless");
    snprintf(msg, n, "compression differs from the baseline (%s vs %s): texture, wrinkle and pigment "
             "changes include JPEG drift", fs, bs);
    return 1;
}

/* Load + face for one entry; on failure a row in errors and a non-zero return. P gets the map
 * original photo px -> loaded photo px; note says when the photo had to be turned. */
static int load_and_find(SdCtx *ctx, const SdRunOpts *o, const SdCatEntry *e, PatientOut *po,
                         SdImage *photo, SdLandmarks *lm, SdTransform *P, char note[SD_NOTE_LEN],
                         Compression *comp)
{
    note[0] = 0;
    memset(comp, 0, sizeof(*comp));
    SdLoadOpts lo;
    sd_load_opts_default(&lo);
    char hex[65] = "";
    struct stat st;   /* never hash a FIFO or a device (/dev/zero named .jpg): it would block */
    const int hashed = stat(e->path, &st) == 0 && S_ISREG(st.st_mode) && sd_sha256_file(e->path, hex) == 0;
    int err;
    /* A large JPEG whose face is well above the canonical resolution is decoded smaller (DCT
     * scaling): a quick look at a 1/4-size decode finds the face, sd_align_load_scale says how much
     * can go without losing canonical detail. Landmarks are then found again on what was loaded. */
    SdImageInfo pi;
    if (!o->roi_whole && sd_image_probe(ctx, e->path, &pi) == 0 && !strcmp(pi.format, "jpeg") &&
        (pi.orig_w > 2 * SD_FACE_LOAD_MAX || pi.orig_h > 2 * SD_FACE_LOAD_MAX)) {
        SdLandmarks quick;
        int nq = 0;
        TIMED(po, ST_FACE, err = sd_face_find_file(ctx, e->path, &o->face, &quick, &nq, NULL));
        if (!err) lo.scale = sd_align_load_scale(&quick, &o->align);
    }
    sd_clear_error(ctx);
    SdImageInfo li;
    memset(&li, 0, sizeof(li));
    TIMED(po, ST_LOAD, err = sd_image_load(ctx, e->path, &lo, photo, &li));
    /* the input's hash and its JPEG compression (empty when not a JPEG): the loader reads the
     * markers; a photo that failed to load has them read here, as far as they go */
    if (hashed) {
        char q[16] = "";
        comp->jpeg_quality = li.jpeg_quality;
        memcpy(comp->chroma, li.chroma, sizeof(comp->chroma));
        if (err)   /* 0 and "" unless the headers are readable */
            (void)sd_jpeg_info(e->path, &comp->jpeg_quality, comp->chroma);
        if (comp->jpeg_quality > 0)
            snprintf(q, sizeof(q), "%d", comp->jpeg_quality);
        sd_rowlist_addf(&po->inputs, "%s\x1f%s\x1f%s\x1f%s", e->path, hex, q, comp->chroma);
    }
    if (err) { add_error(po, e->path, "load", err, ctx->errmsg); return err; }
    {
        const double s = li.scale > 0 ? li.scale : 1.0, c = 0.5 * s - 0.5;
        const SdTransform S = {{s, 0, c, 0, s, c, 0, 0, 1}};
        *P = S;
    }
    if (o->roi_whole) return 0;
    int nfaces = 0;
    TIMED(po, ST_FACE, err = sd_face_find(ctx, photo, &o->face, lm, &nfaces));
    /* A photo turned sideways or upside down without an EXIF orientation tag: the detector is
     * not rotation invariant, so look at the three quarter turns before giving up. */
    for (int k = 1; k <= 3 && err == SD_ENOFACE; k++) {
        SdImage rot;
        SdTransform R;
        char keep[SD_ERRMSG_MAX];
        memcpy(keep, ctx->errmsg, sizeof(keep));
        if (rotate_quarter(photo, k, &rot, &R)) break;
        SdLandmarks rl;
        int rn = 0;
        int rerr;
        TIMED(po, ST_FACE, rerr = sd_face_find(ctx, &rot, &o->face, &rl, &rn));
        if (rerr == 0 && rl.face.score >= 0.7f) {
            sd_image_free(photo);
            *photo = rot;
            *lm = rl;
            SdTransform RP;
            sd_transform_mul(&R, P, &RP);
            *P = RP;
            snprintf(note, SD_NOTE_LEN, "photo turned %s to find the face (no EXIF orientation?)",
                     k == 1 ? "90 deg clockwise" : k == 2 ? "180 deg" : "90 deg counter-clockwise");
            fprintf(stderr, "skindelta: warning: %s: %s\n", e->path, note);
            err = 0;
            break;
        }
        sd_image_free(&rot);
        memcpy(ctx->errmsg, keep, sizeof(keep));
    }
    if (err) {
        add_error(po, e->path, "face", err, ctx->errmsg);
        sd_image_free(photo);
        return err;
    }
    return 0;
}

static int save_images(SdCtx *ctx, const SdRunOpts *o, const SdCatEntry *e, const SdAligned *al,
                       const SdRegions *rg, const SdMetricsState *st, PatientOut *po)
{
    if (!o->save_images) return 0;
    char dir[4096], path[4400];
    snprintf(dir, sizeof(dir), "%s/aligned/%s", o->out_dir, e->patient);
    if (sd_mkdir_p(dir)) {
        add_error(po, dir, "write", SD_EIO, "cannot create the folder for aligned images");
        po->write_errors++;
        return SD_EIO;
    }
    snprintf(path, sizeof(path), "%s/%s_%s.png", dir, e->view, e->session);
    int err = sd_image_save(ctx, &al->img, path, 0);
    if (!err) {
        snprintf(path, sizeof(path), "%s/%s_%s_regions.png", dir, e->view, e->session);
        err = sd_regions_overlay(ctx, &al->img, rg, path);
    }
    if (!err && st) {
        char wp[4400], spp[4400];
        snprintf(wp, sizeof(wp), "%s/%s_%s_wrinkles.png", dir, e->view, e->session);
        snprintf(spp, sizeof(spp), "%s/%s_%s_spots.png", dir, e->view, e->session);
        err = sd_metrics_overlay(ctx, st, &al->img, &rg->mask[0], rg->name[0], wp, spp);
    }
    if (err) { add_error(po, e->path, "write", err, ctx->errmsg); po->write_errors++; }
    return err;
}

/* Share of the measured skin (region 0, `face` or `whole`, and covered by the photo) that is
 * clipped: any channel at 0.99 of full scale or more (8-bit 253+). An overexposed channel loses
 * the pigment and relief it would show: optical density is wrong where a channel saturates (a
 * patch phantom at gain 1.29 with red +7%: pigment_unevenness +3.8%, losslessly). */
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

/* Appends the clipping note to note[] and returns 1 when more than 1% of the skin is clipped. */
#define SD_CLIP_WARN 0.01
static int clip_note(const SdAligned *al, const SdMask *region, char *note, size_t cap)
{
    const double f = clipped_share(al, region);
    if (!(f > SD_CLIP_WARN)) return 0;
    char msg[160];
    snprintf(msg, sizeof(msg), "%.1f%% of the skin clipped (overexposed channel): pigment and texture there are not measured correctly",
             100 * f);
    note_add(note, cap, msg);
    return 1;
}

/* One view of one patient: entries [first, first+n) all share patient and view, sorted by
 * session; the baseline is the entry with session_index 0 (absent: follow-ups are reported). */
static void run_view(SdCtx *ctx, Worker *w, const SdCatEntry *ents, int n, PatientOut *po)
{
    const SdRunOpts *o = w->o;
    const SdCatEntry *b = (ents[0].session_index == 0) ? &ents[0] : NULL;
    int nb = b ? 1 : 0;
    if (!b) {
        for (int i = 0; i < n; i++) {
            char msg[512];
            snprintf(msg, sizeof(msg), "%s: no baseline image for patient %s view %s (session index 0 is missing); not scored",
                     ents[i].path, ents[i].patient, ents[i].view);
            add_error(po, ents[i].path, "catalog", SD_EINVAL, msg);
            po->images++;
            __atomic_add_fetch(&w->images_failed, 1, __ATOMIC_RELAXED);
        }
        return;
    }
    SdImage photo = {0};
    SdLandmarks lm;
    SdAligned base = {0};
    SdRegions rg = {0};
    SdMetricsState *st = NULL;
    double (*val)[SD_NMETRICS] = NULL, (*sd)[SD_NMETRICS] = NULL;
    int err;
    po->images++;
    SdTransform bP, fP;
    char bnote[SD_NOTE_LEN], fnote[SD_NOTE_LEN];
    Compression bcomp, fcomp;
    if (load_and_find(ctx, o, b, po, &photo, &lm, &bP, bnote, &bcomp)) goto base_failed;
    TIMED(po, ST_FRAME, err = sd_align_canonical(ctx, &photo, o->roi_whole ? NULL : &lm, &o->align, &base));
    if (err) { add_error(po, b->path, "frame", err, ctx->errmsg); goto base_failed; }
    TIMED(po, ST_REGIONS, err = sd_regions_build(ctx, &base, NULL, &rg));
    if (err) { add_error(po, b->path, "regions", err, ctx->errmsg); goto base_failed; }
    val = calloc((size_t)rg.n, sizeof(*val));
    sd = calloc((size_t)rg.n, sizeof(*sd));
    if (!val || !sd) { add_error(po, b->path, "metrics", SD_ENOMEM, "out of memory"); goto base_failed; }
    TIMED(po, ST_METRICS, err = measure(ctx, &base, &rg, o, val, &st));
    if (!err && o->bootstrap > 1)
        TIMED(po, ST_BOOTSTRAP, err = bootstrap_sd(ctx, &photo, &base, NULL, &rg, o, &bcomp,
                                                   str_seed(b->patient, b->view, b->session), sd));
    if (err) { add_error(po, b->path, "metrics", err, ctx->errmsg); goto base_failed; }
    sd_image_free(&photo);
    {
        /* a face box reaching well outside the photo means landmarks partly guessed: every
         * follow-up's registration will struggle; say so on the baseline's rows */
        SdAlignQC bq;
        memset(&bq, 0, sizeof(bq));
        bq.ecc = bq.lm_rms_px = bq.overlap = NAN;
        const char *bstatus = clip_note(&base, &rg.mask[0], bnote, sizeof(bnote)) ? "warn" : "ok";
        if (!o->roi_whole && base.photo_w > 0) {
            const SdFace *fb = &lm.face;
            const double ix0 = fmax(fb->x, 0), iy0 = fmax(fb->y, 0);
            const double ix1 = fmin(fb->x + fb->w, base.photo_w), iy1 = fmin(fb->y + fb->h, base.photo_h);
            const double inside = fmax(0, ix1 - ix0) * fmax(0, iy1 - iy0), area = (double)fb->w * fb->h;
            if (area > 0 && inside < 0.9 * area) {
                bstatus = "warn";
                snprintf(bq.reason, sizeof(bq.reason), "face box %.0f%% outside the photo: landmarks partly extrapolated",
                         100 * (1 - inside / area));
            }
        }
        push_values(po, b, &rg, val, o->bootstrap > 1 ? sd : NULL, o->bootstrap, bstatus);
        alignment_row(po, b, &base, &bP, bq.reason[0] ? &bq : NULL, bstatus, "baseline", bnote);
    }
    TIMED(po, ST_WRITE, save_images(ctx, o, b, &base, &rg, st, po));
    sd_metrics_free(st); st = NULL;
    __atomic_add_fetch(&w->images_done, 1, __ATOMIC_RELAXED);

    for (int i = nb; i < n; i++) {
        const SdCatEntry *e = &ents[i];
        SdAligned fu = {0};
        SdAlignQC qc;
        SdPhotometry ph;
        SdRegions frg = {0};
        memset(&qc, 0, sizeof(qc));
        po->images++;
        if (load_and_find(ctx, o, e, po, &photo, &lm, &fP, fnote, &fcomp)) goto next_failed;
        int comp_diff = 0;
        {
            char cmsg[200];
            if ((comp_diff = compression_differs(&bcomp, &fcomp, cmsg, sizeof(cmsg)))) {
                fprintf(stderr, "skindelta: warning: %s: %s\n", e->path, cmsg);
                note_add(fnote, sizeof(fnote), cmsg);
            }
        }
        TIMED(po, ST_REGISTER, err = sd_align_followup(ctx, &base, &photo, o->roi_whole ? NULL : &lm,
                                                       &o->align, &fu, &qc));
        if (err) { add_error(po, e->path, "register", err, ctx->errmsg); goto next_failed; }
        if (qc.status == SD_ALIGN_FAILED) {
            char msg[600];
            snprintf(msg, sizeof(msg), "%s: registration onto the baseline failed QC: %s", e->path, qc.reason);
            alignment_row(po, e, &fu, &fP, &qc, "failed", "", fnote);
            add_error(po, e->path, "register", SD_EALIGN, msg);
            goto next_failed;
        }
        /* (on the follow-up as captured, before its exposure is matched to the baseline's) */
        const int clipped = clip_note(&fu, &rg.mask[0], fnote, sizeof(fnote));
        TIMED(po, ST_PHOTOMETRY, err = sd_photometry_apply(ctx, &base, &fu, o->photometry, &ph));
        if (err) { add_error(po, e->path, "photometry", err, ctx->errmsg); goto next_failed; }
        /* the baseline's anatomy, restricted to what the follow-up covers */
        TIMED(po, ST_REGIONS, err = sd_regions_build(ctx, &base, &fu.valid, &frg));
        if (err) { add_error(po, e->path, "regions", err, ctx->errmsg); goto next_failed; }
        TIMED(po, ST_METRICS, err = measure(ctx, &fu, &frg, o, val, &st));
        if (!err && o->bootstrap > 1)
            TIMED(po, ST_BOOTSTRAP, err = bootstrap_sd(ctx, &photo, &fu, &base, &frg, o, &fcomp,
                                                       str_seed(e->patient, e->view, e->session), sd));
        if (err) { add_error(po, e->path, "metrics", err, ctx->errmsg); goto next_failed; }
        sd_image_free(&photo);
        {
            /* a pair is flagged (qc and alignment status "warn") when the registration was weak,
             * the follow-up's JPEG compression differs from the baseline's or its skin is clipped:
             * each moves the metrics without any change of the skin (the reason says which) */
            const int warn = qc.status == SD_ALIGN_WARN || comp_diff || clipped;
            const char *status = warn ? "warn" : "ok";
            push_values(po, e, &frg, val, o->bootstrap > 1 ? sd : NULL, o->bootstrap, status);
            alignment_row(po, e, &fu, &fP, &qc, status, ph.summary, fnote);
            po->pairs++;
            po->warn += warn;
        }
        TIMED(po, ST_WRITE, save_images(ctx, o, e, &fu, &frg, st, po));
        __atomic_add_fetch(&w->images_done, 1, __ATOMIC_RELAXED);
        sd_metrics_free(st); st = NULL;
        sd_regions_free(&frg);
        sd_aligned_free(&fu);
        continue;
next_failed:
        __atomic_add_fetch(&w->images_failed, 1, __ATOMIC_RELAXED);
        sd_metrics_free(st); st = NULL;
        sd_regions_free(&frg);
        sd_image_free(&photo);
        sd_aligned_free(&fu);
    }
    goto done;

base_failed:
    __atomic_add_fetch(&w->images_failed, 1, __ATOMIC_RELAXED);
    for (int i = nb; i < n; i++) {
        char msg[700];
        snprintf(msg, sizeof(msg), "%s: not scored because the baseline %s failed (see its row)",
                 ents[i].path, b->path);
        add_error(po, ents[i].path, "baseline", SD_EINVAL, msg);
        po->images++;
        __atomic_add_fetch(&w->images_failed, 1, __ATOMIC_RELAXED);
    }
done:
    sd_metrics_free(st);
    sd_image_free(&photo);
    sd_regions_free(&rg);
    sd_aligned_free(&base);
    free(val);
    free(sd);
}

static void *worker_main(void *arg)
{
    Worker *w = arg;
    SdCtx ctx;
    sd_ctx_init(&ctx);
    ctx.cpu_flags = w->cpu_flags;
    for (;;) {
        pthread_mutex_lock(&w->lock);
        const int p = w->fatal ? w->cat->npatients : w->next++;
        pthread_mutex_unlock(&w->lock);
        if (p >= w->cat->npatients) break;
        const SdCatPatient *pt = &w->cat->patients[p];
        char key[65];
        sd_run_patient_key(w->cat, p, w->o, key);
        if (w->o->resume && sd_run_patient_done(w->o->out_dir, pt->id, key)) {
            /* its failures still count for the exit code (they are rows of errors.csv) */
            int nerr = sd_run_patient_errors(w->o->out_dir, pt->id);
            if (nerr > pt->count) nerr = pt->count;
            pthread_mutex_lock(&w->lock);
            w->skipped++; w->done++; w->last = pt->id;
            w->images_done += pt->count - nerr; w->images_failed += nerr;
            pthread_mutex_unlock(&w->lock);
            continue;
        }
        PatientOut po;
        memset(&po, 0, sizeof(po));
        const SdCatEntry *ents = &w->cat->entries[pt->first];
        for (int i = 0; i < pt->count;) {
            int j = i;
            while (j < pt->count && !strcmp(ents[j].view, ents[i].view)) j++;
            run_view(&ctx, w, ents + i, j - i, &po);
            i = j;
        }
        int err = sd_run_patient_write(&ctx, w->o->out_dir, pt->id, key, &po.meas, &po.align_rows,
                                       &po.error_rows, &po.inputs);
        pthread_mutex_lock(&w->lock);
        if (err && !w->fatal) {
            w->fatal = err;
            snprintf(w->fatal_msg, sizeof(w->fatal_msg), "%s", ctx.errmsg);
        }
        w->done++; w->pairs += po.pairs; w->warn += po.warn; w->last = pt->id;
        w->write_errors += po.write_errors;
        for (int k = 0; k < ST_N; k++) w->stage_s[k] += po.t[k];
        const int written = ++w->written;
        pthread_mutex_unlock(&w->lock);
        /* Test hook for the crash-and-resume test: die as `kill -9` would after N patients. */
        if (w->kill_after > 0 && written >= w->kill_after)
            kill(getpid(), SIGKILL);
        /* errors go to stderr as they happen, one line each */
        for (size_t k = 0; k < po.error_rows.n; k++) {
            char *r = po.error_rows.v[k];
            char *f[4] = {r, NULL, NULL, NULL};
            for (int c = 1; c < 4; c++) { f[c] = strchr(f[c - 1], '\x1f'); if (!f[c]) break; *f[c]++ = 0; }
            if (f[3]) fprintf(stderr, "skindelta: %s [%s, %s]\n", f[3], f[1], f[2]);
            for (int c = 1; c < 4 && f[c]; c++) f[c][-1] = '\x1f';
        }
        patient_out_free(&po);
    }
    pthread_mutex_lock(&w->lock);
    w->exited++;
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

int sd_run_batch(SdCtx *ctx, SdCatalog *cat, const SdRunOpts *o, SdRunSummary *sum)
{
    memset(sum, 0, sizeof(*sum));
    const double t0 = sd_now();
    if (sd_mkdir_p(o->out_dir))
        return sd_fail(ctx, SD_EIO, "%s: cannot create the output folder: %s", o->out_dir, strerror(errno));
    sd_run_sweep_temp(o->out_dir);
    if (o->shard_n > 1)
        sd_catalog_shard(cat, o->shard_i, o->shard_n);
    int err = sd_run_write_catalog_errors(ctx, o->out_dir, cat);
    if (err) return err;

    Worker w;
    memset(&w, 0, sizeof(w));
    w.cat = cat; w.o = o; w.cpu_flags = ctx->cpu_flags;
    const char *ka = getenv("SKINDELTA_TEST_KILL_AFTER");
    w.kill_after = ka ? atoi(ka) : 0;
    pthread_mutex_init(&w.lock, NULL);
    int jobs = o->jobs > 0 ? o->jobs : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (jobs < 1) jobs = 1;
    if (jobs > cat->npatients) jobs = cat->npatients > 0 ? cat->npatients : 1;
    if (jobs > 64) jobs = 64;
    pthread_t th[64];
    int started = 0;
    for (int i = 0; i < jobs; i++) {
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setstacksize(&at, 16u << 20);
        if (pthread_create(&th[i], &at, worker_main, &w) == 0) started++;
        pthread_attr_destroy(&at);
    }
    if (!started) worker_main(&w);
    int total_images = cat->nentries;
    while (1) {
        pthread_mutex_lock(&w.lock);
        int d = w.done, exited = w.exited;
        SdRunProgress p = {cat->npatients, w.done, total_images, w.images_done + w.images_failed,
                           w.images_failed, sd_now() - t0, w.last};
        pthread_mutex_unlock(&w.lock);
        if (o->progress) o->progress(o->progress_user, &p);
        if (d >= cat->npatients || !started || exited >= started) break;
        usleep(250000);
    }
    for (int i = 0; i < started; i++) pthread_join(th[i], NULL);
    pthread_mutex_destroy(&w.lock);
    if (w.fatal)
        return sd_fail(ctx, w.fatal, "%s", w.fatal_msg);

    err = sd_run_write_json(ctx, o, cat, sd_now() - t0, stage_names, w.stage_s, ST_N);
    if (!err) err = sd_run_aggregate_catalog(ctx, o->out_dir, cat, o->mdc_file, o->report);
    sum->patients = cat->npatients;
    sum->patients_skipped = w.skipped;
    sum->images = total_images;
    sum->images_failed = w.images_failed;
    sum->pairs_scored = w.pairs;
    sum->pairs_warn = w.warn;
    sum->write_errors = w.write_errors;
    sum->seconds = sd_now() - t0;
    return err;
}

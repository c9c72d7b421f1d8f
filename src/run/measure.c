/* One photo, or one follow-up against its baseline, measured in memory with the stages and
 * settings of the batch runner (see include/skindelta/measure.h). The sequence is pipeline.c's
 * run_view() for one image, without the bootstrap, the quarter-turn search and the files; the
 * Python test (tests/integration/python.sh) checks that the values equal a run's. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "skindelta/measure.h"
#include "skindelta/face.h"
#include "skindelta/metrics.h"
#include "skindelta/noise.h"
#include "skindelta/photometry.h"
#include "skindelta/regions.h"
#include "skindelta/util.h"
#include "src/run/run_int.h"

/* ---- run options by name */

/* The string options an SdRunOpts from sd_run_opts_new owns: their slots. */
enum { OWN_OUT, OWN_PHOTOMETRY, OWN_MDC, OWN_MANIFEST, OWN_ROOT, OWN_CMDLINE, OWN_N };

typedef struct OptsBox {
    SdRunOpts o;             /* first: an SdRunOpts * is an OptsBox * */
    char *own[OWN_N];
} OptsBox;

SdRunOpts *sd_run_opts_new(void)
{
    OptsBox *b = calloc(1, sizeof(*b));
    if (!b) return NULL;
    sd_run_opts_default(&b->o);
    return &b->o;
}

void sd_run_opts_free(SdRunOpts *o)
{
    if (!o) return;
    OptsBox *b = (OptsBox *)o;
    for (int i = 0; i < OWN_N; i++) free(b->own[i]);
    free(b);
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    const long v = strtol(s, &end, 10);
    if (end == s || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

static int parse_double(const char *s, double *out)
{
    char *end;
    const double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

/* Copy value into slot k of o's owned strings and return the copy (NULL: out of memory). */
static const char *own(SdRunOpts *o, int k, const char *value)
{
    OptsBox *b = (OptsBox *)o;
    char *c = sd_strdup(value);
    if (!c) return NULL;
    free(b->own[k]);
    b->own[k] = c;
    return c;
}

int sd_run_opts_set(SdCtx *ctx, SdRunOpts *o, const char *name, const char *value)
{
    if (!o || !name || !value) return sd_fail(ctx, SD_EINVAL, "run option: name and value are required");
    long l;
    double d;
    static const struct { const char *name; int slot; } strs[] = {
        {"out", OWN_OUT}, {"mdc", OWN_MDC}, {"manifest", OWN_MANIFEST},
        {"input_root", OWN_ROOT}, {"command_line", OWN_CMDLINE},
    };
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        if (strcmp(name, strs[i].name)) continue;
        const char *c = own(o, strs[i].slot, value);
        if (!c) return sd_fail(ctx, SD_ENOMEM, "out of memory");
        switch (strs[i].slot) {
        case OWN_OUT: o->out_dir = c; break;
        case OWN_MDC: o->mdc_file = c; break;
        case OWN_MANIFEST: o->manifest = c; break;
        case OWN_ROOT: o->input_root = c; break;
        default: o->command_line = c; break;
        }
        return 0;
    }
    if (!strcmp(name, "photometry")) {
        if (strcmp(value, "none") && strcmp(value, "reference"))
            return sd_fail(ctx, SD_EINVAL, "photometry takes none or reference, not '%s'", value);
        const char *c = own(o, OWN_PHOTOMETRY, value);
        if (!c) return sd_fail(ctx, SD_ENOMEM, "out of memory");
        o->photometry = c;
    } else if (!strcmp(name, "jobs")) {
        if (parse_long(value, 0, 256, &l)) return sd_fail(ctx, SD_EINVAL, "jobs takes 0..256, not '%s'", value);
        o->jobs = (int)l;
    } else if (!strcmp(name, "shard")) {
        int si, sn;
        char extra;
        if (sscanf(value, "%d/%d%c", &si, &sn, &extra) != 2 || sn < 1 || si < 0 || si >= sn)
            return sd_fail(ctx, SD_EINVAL, "shard takes I/N with 0 <= I < N, not '%s'", value);
        o->shard_i = si;
        o->shard_n = sn;
    } else if (!strcmp(name, "roi")) {
        if (strcmp(value, "face") && strcmp(value, "whole"))
            return sd_fail(ctx, SD_EINVAL, "roi takes face or whole, not '%s'", value);
        o->roi_whole = o->align.roi_whole = !strcmp(value, "whole");
    } else if (!strcmp(name, "bootstrap")) {
        if (parse_long(value, 0, 200, &l) || l == 1)
            return sd_fail(ctx, SD_EINVAL, "bootstrap takes 0 or 2..200, not '%s'", value);
        o->bootstrap = (int)l;
    } else if (!strcmp(name, "motion")) {
        const int m = sd_motion_parse(value);
        if (m < 0) return sd_fail(ctx, SD_EINVAL, "motion takes translation, euclidean, affine or homography, not '%s'", value);
        o->align.motion = (SdMotion)m;
    } else if (!strcmp(name, "iod")) {
        if (parse_double(value, &d) || d < 64 || d > 4000) return sd_fail(ctx, SD_EINVAL, "iod takes 64..4000 px, not '%s'", value);
        o->align.iod_px = d;
    } else if (!strcmp(name, "px_per_mm")) {
        if (parse_double(value, &d) || d <= 0.5 || d > 1000)
            return sd_fail(ctx, SD_EINVAL, "px_per_mm takes a number in (0.5, 1000], not '%s'", value);
        o->align.px_per_mm = d;
        o->px_per_mm_assumed = 0;
    } else {
        int *flag = !strcmp(name, "recapture") ? &o->bootstrap_recapture :
                    !strcmp(name, "images") ? &o->save_images :
                    !strcmp(name, "report") ? &o->report :
                    !strcmp(name, "resume") ? &o->resume : NULL;
        if (!flag) return sd_fail(ctx, SD_EINVAL, "unknown run option '%s'", name);
        if (parse_long(value, 0, 1, &l)) return sd_fail(ctx, SD_EINVAL, "%s takes 0 or 1, not '%s'", name, value);
        *flag = (int)l;
    }
    return 0;
}

void sd_run_opts_finish(SdRunOpts *o)
{
    o->align.roi_whole = o->roi_whole;
    if (o->roi_whole && o->align.px_per_mm <= 0) {
        o->align.px_per_mm = SD_WHOLE_DEFAULT_PX_PER_MM;
        o->px_per_mm_assumed = 1;
    }
    if (o->jobs <= 0) {
        const long n = sysconf(_SC_NPROCESSORS_ONLN);
        o->jobs = n > 0 ? (int)n : 1;
    }
}

/* ---- measurements */

struct SdMeasurement {
    SdAligned al;
    SdRegions rg;
    double (*val)[SD_NMETRICS];
    double score;            /* face score, NaN without a face */
    SdFace box;              /* the detected face in photo px, for the QC */
    int box_qc;              /* 1: check box (a photo measured on its face, not a follow-up) */
    int photo_w, photo_h;    /* the photo's size (a file's before shrink-on-load) */
    SdMetricsOpts mo;        /* for the overlays */
    SdMetricsState *st;      /* the metric maps when kept (SD_MEASURE_KEEP_MAPS), else NULL */
    double (*paired)[SD_NMETRICS];   /* a follow-up: its baseline's values on the pair's regions */
};

const double *sd_measurement_paired(const SdMeasurement *m, int r)
{
    return m && m->paired && r >= 0 && r < m->rg.n ? m->paired[r] : NULL;
}

void sd_measurement_free(SdMeasurement *m)
{
    if (!m) return;
    sd_aligned_free(&m->al);
    sd_regions_free(&m->rg);
    sd_metrics_free(m->st);
    free(m->val);
    free(m->paired);
    free(m);
}

/* The options to use: o (or the defaults) with the derived settings applied. */
static void effective_opts(const SdRunOpts *o, SdRunOpts *f)
{
    if (o) *f = *o;
    else sd_run_opts_default(f);
    sd_run_opts_finish(f);
}

/* A planar float copy of a U8 photo (the stages' format); *tmp is freed by the caller. */
static int as_f32(const SdImage *photo, SdImage *tmp, const SdImage **use)
{
    if (!photo || !photo->data || photo->c != 3)
        return SD_EINVAL;
    *use = photo;
    if (photo->fmt == SD_FMT_F32) return 0;
    int err = sd_image_to_f32(photo, tmp);
    if (!err) *use = tmp;
    return err;
}

/* Face of a photo (not with roi whole): lm, and the score into m. */
static int find_face(SdCtx *ctx, const SdImage *photo, const SdRunOpts *f, SdLandmarks *lm, SdMeasurement *m)
{
    m->score = NAN;
    if (f->roi_whole) return 0;
    int nfaces = 0;
    int err = sd_face_find(ctx, photo, &f->face, lm, &nfaces);
    if (!err) {
        m->score = lm->face.score;
        m->box = lm->face;
        m->box_qc = 1;
    }
    return err;
}

/* Metrics of every region of m (aligned and regions built); the maps are kept in m->st when
 * keep. */
static int measure_regions(SdCtx *ctx, SdMeasurement *m, const SdRunOpts *f, int keep)
{
    m->mo = f->metrics;
    m->val = calloc((size_t)m->rg.n, sizeof(*m->val));
    if (!m->val) return sd_fail(ctx, SD_ENOMEM, "out of memory");
    SdMetricsState *st = NULL;
    int err = sd_metrics_prepare(ctx, &m->al.img, sd_regions_metrics_valid(&m->rg, &m->al), m->al.px_per_mm,
                                 &f->metrics, &st);
    for (int r = 0; r < m->rg.n && !err; r++)
        err = sd_metrics_region(ctx, st, &m->rg.mask[r], m->rg.name[r], m->val[r]);
    if (!err && keep) m->st = st;
    else sd_metrics_free(st);
    return err;
}

/* A follow-up as run measures it: each region restricted to the pixels both images' maps
 * measure, the follow-up's values, and the baseline's on the same pixels (m->paired; NaN where
 * the baseline has no value, e.g. its colour metrics emptied). */
static int measure_pair(SdCtx *ctx, const SdMeasurement *base, SdMeasurement *m, const SdRunOpts *f)
{
    SdMetricsState *bst = base->st, *own = NULL;
    int err = 0;
    m->mo = f->metrics;
    m->val = calloc((size_t)m->rg.n, sizeof(*m->val));
    m->paired = calloc((size_t)m->rg.n, sizeof(*m->paired));
    if (!m->val || !m->paired) return sd_fail(ctx, SD_ENOMEM, "out of memory");
    if (!bst)
        err = sd_metrics_prepare(ctx, &base->al.img, sd_regions_metrics_valid(&base->rg, &base->al),
                                 base->al.px_per_mm, &base->mo, &own);
    if (!bst) bst = own;
    if (!err) err = sd__run_measure_pair(ctx, &m->al, &m->rg, &f->metrics, bst, m->val, m->paired, NULL);
    for (int r = 0; !err && r < m->rg.n && r < base->rg.n; r++)
        for (int k = 0; k < SD_NMETRICS; k++)
            if (base->val && isnan(base->val[r][k])) m->paired[r][k] = NAN;
    sd_metrics_free(own);
    return err;
}

/* sd_measure_image with f final; *stage names the step that failed. */
static int measure_image(SdCtx *ctx, const SdImage *photo, const SdRunOpts *f, unsigned flags,
                         SdMeasurement **out, const char **stage)
{
    SdImage tmp = {0};
    const SdImage *use = photo;
    SdLandmarks lm;
    SdMeasurement *m = calloc(1, sizeof(*m));
    int err = m ? 0 : sd_fail(ctx, SD_ENOMEM, "out of memory");
    *stage = "load";
    if (!err && as_f32(photo, &tmp, &use)) err = sd_fail(ctx, SD_EINVAL, "measure: a 3-channel photo is required");
    if (!err) {
        m->photo_w = photo->w;
        m->photo_h = photo->h;
        *stage = "face";
        err = find_face(ctx, use, f, &lm, m);
    }
    if (!err) {
        *stage = "frame";
        err = sd_align_canonical(ctx, use, f->roi_whole ? NULL : &lm, &f->align, &m->al);
    }
    if (!err) {
        *stage = "regions";
        err = sd_regions_build(ctx, &m->al, NULL, &m->rg);
    }
    if (!err) {
        *stage = "metrics";
        err = measure_regions(ctx, m, f, flags & SD_MEASURE_KEEP_MAPS);
    }
    sd_image_free(&tmp);
    if (err) { sd_measurement_free(m); return err; }
    *out = m;
    return 0;
}

int sd_measure_image(SdCtx *ctx, const SdImage *photo, const SdRunOpts *o, SdMeasurement **out)
{
    *out = NULL;
    SdRunOpts f;
    effective_opts(o, &f);
    const char *stage;
    return measure_image(ctx, photo, &f, 0, out, &stage);
}

int sd_measure_followup(SdCtx *ctx, const SdMeasurement *base, const SdImage *photo,
                        const SdRunOpts *o, SdMeasurement **out, SdAlignQC *qc)
{
    *out = NULL;
    if (!base) return sd_fail(ctx, SD_EINVAL, "measure: a follow-up needs its baseline");
    SdRunOpts f;
    effective_opts(o, &f);
    SdImage tmp = {0};
    const SdImage *use = photo;
    SdLandmarks lm;
    SdPhotometry ph;
    SdMeasurement *m = calloc(1, sizeof(*m));
    int err = m ? 0 : sd_fail(ctx, SD_ENOMEM, "out of memory");
    memset(qc, 0, sizeof(*qc));
    if (!err && as_f32(photo, &tmp, &use)) err = sd_fail(ctx, SD_EINVAL, "measure: a 3-channel photo is required");
    if (!err) {
        m->photo_w = photo->w;
        m->photo_h = photo->h;
        err = find_face(ctx, use, &f, &lm, m);
        m->box_qc = 0;   /* run checks the baseline's face box, not a follow-up's */
    }
    if (!err) err = sd_align_followup(ctx, &base->al, use, f.roi_whole ? NULL : &lm, &f.align, &m->al, qc);
    if (!err) err = sd_photometry_apply(ctx, &base->al, &m->al, f.photometry, &ph);
    /* the baseline's anatomy and skin, restricted to what the follow-up covers and to its skin */
    if (!err) err = sd_regions_build_followup(ctx, &base->al, &base->rg, &m->al, &m->rg);
    if (!err) err = measure_pair(ctx, base, m, &f);
    sd_image_free(&tmp);
    if (err) { sd_measurement_free(m); return err; }
    *out = m;
    return 0;
}

/* Load as run does: a large JPEG whose face is well above the canonical resolution is decoded
 * smaller (the scale from a quick look at a 1/4-size decode). */
static int load_like_run(SdCtx *ctx, const char *path, const SdRunOpts *f, SdImage *photo, SdImageInfo *li)
{
    char hex[65];
    double tl, tf;
    return sd__run_read_photo(ctx, path, f, photo, li, hex, NULL, NULL, &tl, &tf);
}

int sd_measure_file_ex(SdCtx *ctx, const char *path, const SdRunOpts *o, unsigned flags,
                       SdMeasurement **out, const char **stage)
{
    *out = NULL;
    const char *st = "load";
    SdRunOpts f;
    effective_opts(o, &f);
    SdImage photo = {0};
    SdImageInfo li;
    int err = load_like_run(ctx, path, &f, &photo, &li);
    if (!err) err = measure_image(ctx, &photo, &f, flags, out, &st);
    if (!err) {
        (*out)->photo_w = li.orig_w;
        (*out)->photo_h = li.orig_h;
    }
    sd_image_free(&photo);
    if (stage) *stage = st;
    return err;
}

int sd_measure_file(SdCtx *ctx, const char *path, const SdRunOpts *o, SdMeasurement **out)
{
    return sd_measure_file_ex(ctx, path, o, 0, out, NULL);
}

int sd_measure_followup_file(SdCtx *ctx, const SdMeasurement *base, const char *path,
                             const SdRunOpts *o, SdMeasurement **out, SdAlignQC *qc)
{
    *out = NULL;
    SdRunOpts f;
    effective_opts(o, &f);
    SdImage photo = {0};
    SdImageInfo li;
    int err = load_like_run(ctx, path, &f, &photo, &li);
    if (!err) err = sd_measure_followup(ctx, base, &photo, &f, out, qc);
    if (!err) {
        (*out)->photo_w = li.orig_w;
        (*out)->photo_h = li.orig_h;
    }
    sd_image_free(&photo);
    return err;
}

/* ---- accessors */

int sd_measurement_nregions(const SdMeasurement *m) { return m ? m->rg.n : 0; }

const char *sd_measurement_region(const SdMeasurement *m, int r)
{
    return m && r >= 0 && r < m->rg.n ? m->rg.name[r] : NULL;
}

const double *sd_measurement_values(const SdMeasurement *m, int r)
{
    return m && r >= 0 && r < m->rg.n ? m->val[r] : NULL;
}

long sd_measurement_area(const SdMeasurement *m, int r)
{
    return m && r >= 0 && r < m->rg.n ? m->rg.area[r] : -1;
}

int sd_measurement_warn(const SdMeasurement *m, int r)
{
    return m && r >= 0 && r < m->rg.n ? m->rg.warn[r] : 0;
}

const SdMask *sd_measurement_mask(const SdMeasurement *m, int r)
{
    if (!m || r < -1 || r >= m->rg.n) return NULL;
    return r < 0 ? &m->rg.skin : &m->rg.mask[r];
}

const SdImage *sd_measurement_image(const SdMeasurement *m) { return m ? &m->al.img : NULL; }
const SdMask *sd_measurement_valid(const SdMeasurement *m) { return m ? &m->al.valid : NULL; }
double sd_measurement_px_per_mm(const SdMeasurement *m) { return m ? m->al.px_per_mm : NAN; }

void sd_measurement_transform(const SdMeasurement *m, double out[9])
{
    for (int i = 0; i < 9; i++) out[i] = m ? m->al.T.m[i] : NAN;
}

int sd_measurement_landmarks(const SdMeasurement *m, double xy[2 * SD_NLANDMARKS], double *score)
{
    if (!m || !m->al.has_lm) return 0;
    for (int i = 0; i < SD_NLANDMARKS; i++) {
        xy[2 * i] = m->al.lm.pt[i].x;
        xy[2 * i + 1] = m->al.lm.pt[i].y;
    }
    if (score) *score = m->score;
    return 1;
}

void sd_measurement_photo_size(const SdMeasurement *m, int *w, int *h)
{
    *w = m ? m->photo_w : 0;
    *h = m ? m->photo_h : 0;
}

/* The flags run puts on a baseline's rows, worded for one line of text. */
int sd_measurement_qc(const SdMeasurement *m, char *reason, size_t n)
{
    char buf[256] = "";
    double share;
    if (m && m->rg.n > 0) {
        const double clip = sd_skin_clipped_share(&m->al, &m->rg.mask[0]);
        if (clip > SD_CLIP_WARN)
            snprintf(buf, sizeof(buf), "%.1f%% of the skin clipped (overexposed channel)", 100 * clip);
    }
    if (m && m->box_qc && m->al.photo_w > 0 &&
        sd__run_face_outside(&m->box, m->al.photo_w, m->al.photo_h, &share)) {
        const size_t k = strlen(buf);
        snprintf(buf + k, sizeof(buf) - k, "%sface box %.0f%% outside the photo", k ? "; " : "", 100 * share);
    }
    if (reason && n) snprintf(reason, n, "%s", buf);
    return buf[0] != 0;
}

int sd_measurement_overlays(SdCtx *ctx, const SdMeasurement *m, const char *regions_png,
                            const char *wrinkles_png, const char *spots_png)
{
    if (!m || m->rg.n < 1) return sd_fail(ctx, SD_EINVAL, "overlays: no measurement");
    /* masks (indexed PNG) to lay over the canonical image, as run's aligned/ holds them */
    int err = regions_png ? sd__run_regions_mask(ctx, &m->rg, regions_png) : 0;
    if (err || (!wrinkles_png && !spots_png)) return err;
    /* the maps again when the measurement did not keep them */
    SdMetricsState *tmp = NULL;
    if (!m->st)
        err = sd_metrics_prepare(ctx, &m->al.img, sd_regions_metrics_valid(&m->rg, &m->al), m->al.px_per_mm, &m->mo,
                                 &tmp);
    if (!err)
        err = sd__run_metrics_masks(ctx, m->st ? m->st : tmp, &m->rg.mask[0], m->rg.name[0], wrinkles_png,
                                    spots_png);
    sd_metrics_free(tmp);
    return err;
}

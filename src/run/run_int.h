/* Output files of a batch run: per-patient results under OUT/patients/<id>/ (written atomically,
 * done.json last, so resume can trust them), run.json, and the aggregation into OUT's tables. */
#ifndef SRC_RUN_FILES_H
#define SRC_RUN_FILES_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "skindelta/skindelta.h"
#include "skindelta/catalog.h"
#include "skindelta/course.h"

struct SdRunOpts;

/* A growable list of strings (rows whose fields are separated by '\x1f'). */
typedef struct SdRowList { char **v; size_t n, cap; } SdRowList;
int  sd_rowlist_addf(SdRowList *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sd_rowlist_free(SdRowList *l);

#define SD_ALIGN_HEADER "patient,view,session,face_score,landmark_rms_px,ecc,a11,a12,tx,a21,a22,ty,status," \
                        "overlap,iterations,px_per_mm,photometry,reason"
#define SD_ERROR_HEADER "path,stage,code,message"

/* Key of a patient's inputs and the run parameters: sha256 over the parameters and each input's
 * path, size and modification time. A stored result is reused by --resume only under the same key. */
void sd_run_patient_key(const SdCatalog *cat, int p, const struct SdRunOpts *o, char key[65]);
/* 1 when OUT/patients/<id>/done.json exists with this key and every table it lists is present. */
int  sd_run_patient_done(const char *out_dir, const char *id, const char *key);
/* Remove the temp files (<name>.tmp.<pid>.<n>) a killed run left in OUT: only those whose
 * process no longer exists. */
void sd_run_sweep_temp(const char *out_dir);
/* The "errors" count a finished patient's done.json records (0 when absent). */
int  sd_run_patient_errors(const char *out_dir, const char *id);
/* sd_run_aggregate restricted to the catalog's patients (a reused OUT may hold patients of an
 * earlier run on other inputs; they must not enter this run's tables). */
int  sd_run_aggregate_catalog(SdCtx *ctx, const char *out_dir, const SdCatalog *cat,
                              const char *mdc_file, int report, const char *run_id);
/* Write a patient's tables (measurements, uncertainty, alignment, errors, inputs) then done.json. */
int  sd_run_patient_write(SdCtx *ctx, const char *out_dir, const char *id, const char *key,
                          const char *run_id, const SdMeasArray *meas, const SdRowList *align_rows,
                          const SdRowList *error_rows, const SdRowList *inputs);
/* Catalog problems of level error (malformed manifest lines, unreadable folders) -> OUT/catalog_errors.csv */
int  sd_run_write_catalog_errors(SdCtx *ctx, const char *out_dir, const SdCatalog *cat);
/* run.json's "environment" object (OS, CPU model, compiler, libvips, OpenBLAS, libjpeg-turbo),
 * and `"key": "<absolute path>"` (null when the path cannot be resolved). provenance.c */
void sd__run_provenance_json(FILE *f);
void sd__run_json_abspath(FILE *f, const char *key, const char *path);
/* run.json: version, git revision, parameters, CPU level, models, input hashes, timings. */
int  sd_run_write_json(SdCtx *ctx, const struct SdRunOpts *o, const SdCatalog *cat,
                       const char *run_id, double seconds, const char *const *stage_names,
                       const double *stage_s, int nstages);

/* ---- the batch runner, split by step: pipeline.c (the batch and its workers), view.c (one view
 * of one patient: baseline, follow-ups), bootstrap.c (the per-image uncertainty), rows.c (table
 * rows), checks.c (compression and clipping checks), turn.c (quarter turns). */
#include "skindelta/align.h"
#include "skindelta/regions.h"
#include "skindelta/metrics.h"
#include "skindelta/run.h"

enum { SD_ST_LOAD, SD_ST_FACE, SD_ST_FRAME, SD_ST_REGISTER, SD_ST_PHOTOMETRY, SD_ST_REGIONS,
       SD_ST_METRICS, SD_ST_BOOTSTRAP, SD_ST_WRITE, SD_ST_N };

/* What one patient's views produced, written by sd_run_patient_write. */
typedef struct SdPatientOut {
    double t[SD_ST_N];       /* seconds spent per stage */
    SdMeasArray meas;
    SdRowList align_rows;    /* alignment.csv lines */
    SdRowList error_rows;    /* errors.csv lines */
    int images, failed, pairs, warn, write_errors;
    SdRowList inputs;        /* "path,sha256" for run.json */
} SdPatientOut;

/* Time a statement into po->t[stage]. */
#define SD_TIMED(po, stage, stmt) do { double t0_ = sd_now(); stmt; (po)->t[stage] += sd_now() - t0_; } while (0)

/* The state the worker threads share. */
typedef struct SdRunWorker {
    SdCatalog *cat;
    const SdRunOpts *o;
    pthread_mutex_t lock;
    int next;                   /* next patient index */
    int done, images_done, images_failed;   /* images_*: __atomic_add_fetch from the views */
    int skipped, pairs, warn;
    double stage_s[SD_ST_N];
    int written, kill_after;
    const char *last;
    int fatal;                  /* an error writing outputs: stop handing out work */
    int exited;                 /* workers that have returned (after a fatal error, patients
                                   remain undone: the wait must not count on `done`) */
    int write_errors;
    char fatal_msg[SD_ERRMSG_MAX];
    unsigned cpu_flags;
    const char *run_id;         /* recorded in each patient's done.json */
    struct SdNoiseModel *model; /* the calibrated noise model (noise_hook.c), NULL when none */
} SdRunWorker;

/* JPEG compression of an input as read from its markers (quality 0 and chroma "" when not a JPEG). */
typedef struct SdCompression {
    int jpeg_quality;
    char chroma[8];
} SdCompression;

/* Free-text note of an alignment row (photo turned, compression differs, skin clipped). */
#define SD_NOTE_LEN 320

/* view.c: one view of one patient (entries sharing patient and view, sorted by session). */
void sd__run_view(SdCtx *ctx, SdRunWorker *w, const SdCatEntry *ents, int n, SdPatientOut *po);
/* Every region of an aligned image measured: values[r][m]; *keep (may be NULL) gets the state. */
int  sd__run_measure(SdCtx *ctx, const SdAligned *al, const SdRegions *rg, const SdRunOpts *o,
                     double (*values)[SD_NMETRICS], SdMetricsState **keep);
/* A follow-up on its pair's regions rg (restricted in place to the pixels both images' maps
 * measure), and, when paired and bst are given, the baseline's values on the same pixels. */
int  sd__run_measure_pair(SdCtx *ctx, const SdAligned *al, SdRegions *rg, const SdMetricsOpts *mo,
                          const SdMetricsState *bst, double (*values)[SD_NMETRICS],
                          double (*paired)[SD_NMETRICS], SdMetricsState **keep);

/* bootstrap.c */
uint64_t sd__run_seed(const char *patient, const char *view, const char *session);
int  sd__run_bootstrap_sd(SdCtx *ctx, const SdImage *photo, const SdAligned *al,
                          const SdAligned *photometry_base, const SdRegions *rg,
                          const SdRunOpts *o, const SdCompression *comp, uint64_t seed,
                          double (*sd)[SD_NMETRICS]);

/* rows.c */
void sd__run_add_error(SdPatientOut *po, const char *path, const char *stage, int code, const char *msg);
/* paired (may be NULL): a follow-up's baseline values on the pair's regions */
void sd__run_push_values(SdPatientOut *po, const SdCatEntry *e, const SdRegions *rg,
                         double (*val)[SD_NMETRICS], double (*sd)[SD_NMETRICS], int nboot,
                         double (*paired)[SD_NMETRICS], const char *qc);
void sd__run_alignment_row(SdPatientOut *po, const SdCatEntry *e, const SdAligned *al,
                           const SdTransform *P, const SdAlignQC *qc, const char *status,
                           const char *photometry, const char *note);
void sd__run_note_add(char *note, size_t cap, const char *text);

/* checks.c */
int  sd__run_compression_differs(const SdCompression *b, const SdCompression *f, char *msg, size_t n);
/* Share of region's pixels (covered by the photo) with a channel at 0.99 or more; above
 * SD_CLIP_WARN the image is flagged. */
#define SD_CLIP_WARN 0.01
int  sd__run_clip_note(double clipped_share, char *note, size_t cap);
/* 1 when more than 10% of the face box fb lies outside the photo_w x photo_h photo; *share gets
 * the part outside (0..1). */
int  sd__run_face_outside(const SdFace *fb, int photo_w, int photo_h, double *share);

/* turn.c: a quarter turn (k = 1: 90 deg clockwise, 2: 180, 3: 90 counter-clockwise) of a planar
 * float image; R gets the pixel map src -> dst. */
int  sd__run_rotate_quarter(const SdImage *src, int k, SdImage *dst, SdTransform *R);

/* outdir.c: checks and care of OUT before a run (errors SD_EINVAL: refused, nothing written) */
/* The face of a large upright JPEG, found where the photo is decoded (photo.c, face_first). */
typedef struct SdPhotoFace {
    const SdFace *like;      /* in: the baseline's face (a follow-up's pick among several), or NULL */
    int like_w, like_h;      /* in: the size of the photo that face is in */
    int done;                /* out: the face stage ran: lm, nfaces, w, h are its result */
    SdLandmarks lm;          /* in the whole photo's decoded pixels */
    int nfaces, w, h;        /* faces found; the whole photo's decoded size */
    SdImage whole;           /* out when !done and not empty: the whole photo, 8-bit RGB, for the
                                caller's face stage (freed by the caller) */
    int crop_xy[2];          /* out: the origin of photo in the whole photo's decoded pixels */
} SdPhotoFace;

/* Reads the photo's file once (photo.c): its sha256 into hex ("" when unreadable), then header,
 * markers (comp, may be NULL) and the decode at the scale the canonical frame needs. With pf
 * (NULL: the whole photo as float), a large upright JPEG is decoded by libjpeg-turbo as 8-bit,
 * the face stage runs once on it (pf->done) and only the part the frame can see becomes float
 * (photo, its origin pf->crop_xy); another large JPEG gets a quick look that sets the DCT scale.
 * Seconds go to *t_load and *t_face. */
int  sd__run_read_photo(SdCtx *ctx, const char *path, const SdRunOpts *o, SdImage *photo, SdImageInfo *li,
                        char hex[65], SdCompression *comp, SdPhotoFace *pf, double *t_load, double *t_face);

/* The overlays as indexed-PNG masks of the canonical frame's size (overlays.c): the regions
 * (outlines and fills, the skin's outside dimmed), and the wrinkles and spots detected in region
 * (either path may be NULL). The report composites them over the photo's JPEG preview. */
int  sd__run_regions_mask(SdCtx *ctx, const SdRegions *r, const char *path);
int  sd__run_metrics_masks(SdCtx *ctx, const SdMetricsState *st, const SdMask *region, const char *region_name,
                          const char *wrinkle_png, const char *spot_png);
/* JPEG quality of the aligned photos' previews (OUT/aligned/<patient>/<view>_<session>.jpg). */
#define SD_RUN_PREVIEW_Q 85

int  sd__run_check_paths(SdCtx *ctx, const SdRunOpts *o);   /* OUT inside ROOT or ROOT inside OUT */
int  sd__run_check_frame(SdCtx *ctx, const SdRunOpts *o);   /* canonical frame within the pixel limit */
/* An exclusive lock on OUT (flock on OUT/.skindelta.lock, holding the pid) for the run's lifetime;
 * SD_EINVAL naming the holder's pid when another run has it. */
int  sd__run_lock(SdCtx *ctx, const char *out_dir, int *fd);
void sd__run_unlock(int fd);
/* Removes what an earlier run left in OUT that this run would not rewrite: patients/<id> and
 * aligned/<id> of patients not in cat, and report/ (written again at the end). */
int  sd__run_clear_stale(SdCtx *ctx, const char *out_dir, const SdCatalog *cat);

#endif

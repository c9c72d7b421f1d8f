/* The batch job (DESIGN.md §1, §6-§7): catalog -> load -> face -> frame -> register -> regions ->
 * metrics per patient (in parallel), then course, cohort and report over the whole run.
 * Per-patient results land in OUT/patients/<id>/ as each patient finishes (atomic writes, a
 * done.json written last), so a killed run resumes where it stopped and shards merge. */
#ifndef SRC_PIPELINE_H
#define SRC_PIPELINE_H

#include "skindelta.h"
#include "catalog.h"
#include "align.h"
#include "face.h"
#include "metrics.h"

typedef struct SdRunProgress {
    int patients_total, patients_done;
    int images_total, images_done, images_failed;
    double elapsed_s;
    const char *current;        /* last patient finished, or NULL */
} SdRunProgress;

/* Photo scale assumed for `--roi whole` when the user gives none (px per mm in the photo). */
#define SD_WHOLE_DEFAULT_PX_PER_MM 10.0   /* = synth patch default; ~ the face frame scale */

typedef void (*sd_progress_fn)(void *user, const SdRunProgress *p);

typedef struct SdRunOpts {
    const char *out_dir;
    int jobs;                   /* worker threads (patients in parallel); 0 = all cores */
    int shard_i, shard_n;       /* this run scores patients with index % shard_n == shard_i */
    int resume;                 /* skip patients whose results are complete and valid */
    int roi_whole;              /* no face stage; region `whole` */
    int bootstrap;              /* perturbation-bootstrap replicates per image (0 = none) */
    int bootstrap_recapture;    /* replicates of a JPEG photo re-capture it (1, default): see pipeline.c */
    const char *noise_model;    /* the calibrated noise model for MDC95: NULL = models/noise_model.csv,
                                   "none" = no model (then only the bootstrap, when asked for) */
    int save_images;            /* under OUT/aligned: 1 (default) the aligned photos' JPEG previews and the
                                   overlay masks; 2 also the aligned photos as lossless PNG; 0 nothing */
    int report;                 /* write OUT/report (1) */
    const char *mdc_file;       /* repeatability.csv to take MDC95 from, or NULL */
    const char *photometry;     /* "none" | "reference" | "chart" */
    const char *manifest;       /* for run.json */
    const char *input_root;     /* for run.json */
    const char *command_line;   /* for run.json */
    int px_per_mm_assumed;      /* roi whole without --px-per-mm: the default below was used */
    SdAlignOpts align;
    SdFaceOpts face;
    SdMetricsOpts metrics;
    sd_progress_fn progress;    /* called from the coordinating thread, ~2x per second */
    void *progress_user;
} SdRunOpts;

SD_API void sd_run_opts_default(SdRunOpts *o);

typedef struct SdRunSummary {
    int patients, patients_skipped, images, images_failed, pairs_scored, pairs_warn;
    double seconds;
    int write_errors;   /* aligned images / overlays that could not be written (rows in errors.csv) */
} SdRunSummary;

/* Run the batch over cat (already sharded by the caller or not: opts->shard_* is applied here).
 * Returns 0 when the run completed (inputs may have failed: summary->images_failed), or an error
 * when the output folder could not be written. */
SD_API int  sd_run_batch(SdCtx *ctx, SdCatalog *cat, const SdRunOpts *o, SdRunSummary *summary);

/* Re-derive OUT's top-level files from OUT/patients/<id>/ (all patients found there): the
 * measurements, uncertainty, alignment and errors tables, then changes, trends, cohort (with
 * MDC95 from mdc_file when given) and the report. Used at the end of run and by merge. */
SD_API int  sd_run_aggregate(SdCtx *ctx, const char *out_dir, const char *mdc_file, int report);

#endif

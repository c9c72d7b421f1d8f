/* Merge of shard outputs (`skindelta merge OUT1 OUT2 ... -o OUT`): joins the per-image tables of
 * runs over disjoint patient slices and recomputes everything that spans patients. */
#ifndef SRC_MERGE_H
#define SRC_MERGE_H

#include <stddef.h>
#include "skindelta.h"

typedef struct SdMergeOpts {
    /* repeatability.csv giving MDC95 per region x metric; "none": the per-image bootstrap SDs.
     * NULL: the "mdc_file" every input's run.json names (they must agree), else bootstrap. */
    const char *mdc_file;
    int link_files;      /* copy patients/ and aligned/ as hard links when possible (1) */
    int allow_partial;   /* merge although shards of the split are missing (0: refused) */
} SdMergeOpts;

typedef struct SdMergeSummary {
    int inputs, patients;
    size_t measurements, changes, trends, cohort_rows, files_copied;
    size_t input_errors;         /* rows of the merged errors.csv: inputs the shards could not score */
    char mdc_source[16];         /* "option", "run.json" or "bootstrap" */
    int shard_count;             /* N of the inputs' --shard I/N (0: not recorded) */
    int shards_missing;          /* shards of the split not among the inputs */
    int partial;                 /* 1: merged with shards missing (allow_partial) */
} SdMergeSummary;

SD_API void sd_merge_opts_default(SdMergeOpts *o);

/* Join inputs[0..n) into out_dir:
 * - measurements.csv + uncertainty.csv (contract headers; canonical order, sd_meas_sort),
 *   alignment.csv (rows ordered by patient, natural order, stable), catalog_errors.csv (rows
 *   shared by the shards kept once) and errors.csv (catalog rows, then each patient's rows in
 *   natural patient order, taken from patients/<id>/errors.csv when the shard has them);
 * - patients/<id>/ folders of finished patients (done.json) and aligned/ are copied;
 * - changes.csv, trends.csv, cohort.csv are recomputed over all patients; run.json lists the
 *   inputs.
 * Refuses (SD_EINVAL, nothing written) when a patient appears in two inputs, when the headers of
 * the same table differ between inputs, when out_dir is one of the inputs, when the inputs' run.json
 * record different result-changing parameters (all but jobs and the MDC file, which has its own
 * rule) or versions, when shards of the split are missing (unless allow_partial; then run.json says
 * "partial": true), or when a folder to copy holds a symbolic link. An input whose files mix two
 * runs (its commit record, tables.json, does not match) is refused with SD_EFORMAT. */
SD_API int  sd_merge_outputs(SdCtx *ctx, const char *const *inputs, int n, const char *out_dir,
                      const SdMergeOpts *opts, SdMergeSummary *summary);

#endif

/* Output files of a batch run: per-patient results under OUT/patients/<id>/ (written atomically,
 * done.json last, so resume can trust them), run.json, and the aggregation into OUT's tables. */
#ifndef SRC_RUN_FILES_H
#define SRC_RUN_FILES_H

#include <stddef.h>
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
                              const char *mdc_file, int report);
/* Write a patient's tables (measurements, uncertainty, alignment, errors, inputs) then done.json. */
int  sd_run_patient_write(SdCtx *ctx, const char *out_dir, const char *id, const char *key,
                          const SdMeasArray *meas, const SdRowList *align_rows,
                          const SdRowList *error_rows, const SdRowList *inputs);
/* Catalog problems of level error (malformed manifest lines, unreadable folders) -> OUT/catalog_errors.csv */
int  sd_run_write_catalog_errors(SdCtx *ctx, const char *out_dir, const SdCatalog *cat);
/* run.json's "environment" object (OS, CPU model, compiler, libvips, OpenBLAS, libjpeg-turbo),
 * and `"key": "<absolute path>"` (null when the path cannot be resolved). provenance.c */
void sd__run_provenance_json(FILE *f);
void sd__run_json_abspath(FILE *f, const char *key, const char *path);
/* run.json: version, git revision, parameters, CPU level, models, input hashes, timings. */
int  sd_run_write_json(SdCtx *ctx, const struct SdRunOpts *o, const SdCatalog *cat, double seconds,
                       const char *const *stage_names, const double *stage_s, int nstages);

#endif

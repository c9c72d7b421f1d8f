/* Catalog: what a batch holds — patients, their views and ordered sessions (the first session is
 * the baseline), dates and days since baseline — from a folder tree or a manifest CSV. */
#ifndef SRC_CATALOG_H
#define SRC_CATALOG_H

#include "skindelta.h"

typedef struct SdCatEntry {
    char *patient, *session, *view;
    char *path;            /* as found (folder walk) or resolved relative to the manifest */
    char date[11];         /* ISO YYYY-MM-DD, "" when unknown */
    double days;           /* days since the patient's baseline session, NAN when unknown */
    int session_index;     /* 0 = baseline session of the patient, 1.. follow-ups */
    const char *date_source;   /* "manifest", "exif" or "" */
} SdCatEntry;

typedef struct SdCatPatient {
    char *id;
    int first, count;      /* entries[first .. first+count) — sorted by view, then session */
    int nsessions;         /* distinct sessions of this patient */
} SdCatPatient;

enum sd_cat_level { SD_CAT_WARN = 1, SD_CAT_ERROR = 2 };
typedef struct SdCatIssue {
    int level;
    int code;              /* errors: SD_EIO (cannot read), SD_EFORMAT (malformed name or line); warnings 0 */
    char *path;            /* file, folder or manifest:line the issue is about */
    char *message;
} SdCatIssue;

typedef struct SdCatalog {
    SdCatEntry *entries;  int nentries;
    SdCatPatient *patients; int npatients;
    SdCatIssue *issues;   int nissues;
    char *root;           /* the folder or the manifest path */
} SdCatalog;

typedef struct SdCatalogOpts {
    int read_exif_dates;   /* probe images for EXIF DateTimeOriginal when no manifest date (1) */
} SdCatalogOpts;

/* Walk ROOT/<patient>/<session>/<view>.{jpg,jpeg,png,tif,tiff} (case-insensitive). Returns 0 with
 * problems listed in cat->issues, or an error when ROOT itself cannot be read. */
SD_API int  sd_catalog_scan(SdCtx *ctx, const char *root, const SdCatalogOpts *opts, SdCatalog *cat);
/* Manifest CSV with header patient,session,date,view,path (date optional, ISO 8601; path relative
 * to the manifest's folder). Malformed lines are issues quoting the line number. */
SD_API int  sd_catalog_manifest(SdCtx *ctx, const char *manifest, const SdCatalogOpts *opts, SdCatalog *cat);
SD_API void sd_catalog_free(SdCatalog *cat);
/* One before/after pair (for `compare`): patient "pair", view "front", sessions "before"/"after". */
SD_API int  sd_catalog_pair(SdCtx *ctx, const char *before, const char *after, SdCatalog *cat);

/* Keep only patients with index % n == i (deterministic: patients are sorted by id). */
SD_API void sd_catalog_shard(SdCatalog *cat, int i, int n);
/* Index of the baseline entry (session_index 0... or the first session that has this view) for
 * entry e of a patient, -1 when the view has no baseline. */
SD_API int  sd_catalog_baseline_of(const SdCatalog *cat, int e);
/* Days between two ISO dates (b - a); NAN if either is empty or invalid. */
SD_API double sd_days_between(const char *a, const char *b);
/* Parse an ISO 8601 date (YYYY-MM-DD, optionally followed by T... or space...) or an EXIF
 * "YYYY:MM:DD ..." date into "YYYY-MM-DD"; 0 on success. */
SD_API int  sd_parse_date(const char *s, char out[11]);

#endif

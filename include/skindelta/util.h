/* skindelta — helpers the library uses for its own output, public so that programs built on it
 * (the CLI among them) write files the same way: atomic files, paths, hashing, CSV/JSON text. */
#ifndef SKINDELTA_UTIL_H
#define SKINDELTA_UTIL_H

#include <stddef.h>
#include <stdio.h>

#include "skindelta.h"

#ifdef __cplusplus
extern "C" {
#endif

SD_API void *sd_alloc_aligned(size_t bytes);   /* 64-byte aligned; NULL on failure */
SD_API void  sd_free_aligned(void *p);
/* malloc of n*size with overflow check; NULL on overflow or failure. */
SD_API void *sd_calloc_checked(size_t n, size_t size);

/* Atomic output: write to "<path>.tmp.<pid>.<n>", then fsync+rename onto path. */
typedef struct SdAtomicFile {
    FILE *f;
    char *path, *tmp;
} SdAtomicFile;
SD_API int  sd_atomic_open(SdAtomicFile *af, const char *path);   /* 0 or SD_EIO (errno kept) */
SD_API int  sd_atomic_commit(SdAtomicFile *af);                   /* closes + renames; 0 or SD_EIO */
SD_API void sd_atomic_abort(SdAtomicFile *af);                    /* closes + unlinks the temp */
/* Whole-buffer helper. */
SD_API int  sd_write_file_atomic(const char *path, const void *data, size_t n);

SD_API int  sd_mkdir_p(const char *path);                 /* 0 or SD_EIO */
/* Join a and b with '/' into a malloc'ed string. */
SD_API char *sd_path_join(const char *a, const char *b);
SD_API int  sd_file_exists(const char *path);
SD_API int  sd_is_dir(const char *path);
/* Read a whole file (at most max bytes; SD_ELIMIT beyond). Adds a NUL after the data. */
SD_API int  sd_read_file(const char *path, size_t max, char **data, size_t *n);

/* Locate a model file by name: $SKINDELTA_MODELS/name (when set, only there), ./models/name, or
 * beside the executable (../share/skindelta/models, ../models, ../../models). out receives the
 * path; 0 when found, SD_EIO otherwise. */
SD_API int  sd_model_file(const char *name, char *out, size_t n);
/* A file shipped with skindelta, by its path in the source tree ("samples/faces/astronaut.png"):
 * relative to the working folder, else beside the executable (../share/skindelta/, ../, ../../). */
SD_API int  sd_data_file(const char *relpath, char *out, size_t n);


/* Natural order ("s2" < "s10"), case-insensitive for letters. */
SD_API int  sd_natcmp(const char *a, const char *b);
SD_API int  sd_strcasesuffix(const char *s, const char *suffix);
SD_API char *sd_strdup(const char *s);

/* SHA-256 of a buffer or file, as 64 lowercase hex chars + NUL. */
SD_API void sd_sha256(const void *data, size_t n, char hex[65]);
SD_API int  sd_sha256_file(const char *path, char hex[65]);

/* Write s as a CSV field (quoted when it holds , " or newline). */
SD_API void sd_csv_field(FILE *f, const char *s);
/* Write s as a JSON string literal, quotes included. */
SD_API void sd_json_string(FILE *f, const char *s);
/* Print a double for CSV/JSON: shortest round-trip-ish %.9g; NaN/inf print as empty (CSV) or
 * null (JSON). */
SD_API void sd_csv_num(FILE *f, double v);
SD_API void sd_json_num(FILE *f, double v);

/* Monotonic seconds. */
SD_API double sd_now(void);

#ifdef __cplusplus
}
#endif

#endif

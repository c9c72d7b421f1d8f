/* Library-internal helpers: checked sizes, aligned memory, atomic file output, paths, hashing,
 * CSV/JSON escaping. Not part of the public API (sd__ would be the strict prefix; these keep sd_
 * because tests and the CLI use them too). */
#ifndef SRC_UTIL_H
#define SRC_UTIL_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "src/skindelta.h"

static inline int sd_mul_overflow(size_t a, size_t b, size_t *out)
{
    return __builtin_mul_overflow(a, b, out);
}
static inline int sd_add_overflow(size_t a, size_t b, size_t *out)
{
    return __builtin_add_overflow(a, b, out);
}

/* sRGB transfer function (IEC 61966-2-1), scalar: encoded value -> linear light and back (the
 * encoder clamps to [0, 1]). The per-pixel kernels are in kernels/ (sd_op_srgb_to_linear). */
static inline double sd_srgb_decode(double v)
{
    return v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4);
}
static inline double sd_srgb_encode(double l)
{
    l = l < 0 ? 0 : l > 1 ? 1 : l;
    return l <= 0.0031308 ? 12.92 * l : 1.055 * pow(l, 1.0 / 2.4) - 0.055;
}

/* splitmix64 (Steele, Lea & Flood 2014): advances *state and returns the next 64-bit value. */
static inline uint64_t sd_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void *sd_alloc_aligned(size_t bytes);   /* 64-byte aligned; NULL on failure */
void  sd_free_aligned(void *p);
/* malloc of n*size with overflow check; NULL on overflow or failure. */
void *sd_calloc_checked(size_t n, size_t size);

/* Atomic output: write to "<path>.tmp.<pid>.<n>", then fsync+rename onto path. */
typedef struct SdAtomicFile {
    FILE *f;
    char *path, *tmp;
} SdAtomicFile;
int  sd_atomic_open(SdAtomicFile *af, const char *path);   /* 0 or SD_EIO (errno kept) */
int  sd_atomic_commit(SdAtomicFile *af);                   /* closes + renames; 0 or SD_EIO */
void sd_atomic_abort(SdAtomicFile *af);                    /* closes + unlinks the temp */
/* Whole-buffer helper. */
int  sd_write_file_atomic(const char *path, const void *data, size_t n);

int  sd_mkdir_p(const char *path);                 /* 0 or SD_EIO */
/* Join a and b with '/' into a malloc'ed string. */
char *sd_path_join(const char *a, const char *b);
int  sd_file_exists(const char *path);
int  sd_is_dir(const char *path);
/* Read a whole file (at most max bytes; SD_ELIMIT beyond). Adds a NUL after the data. */
int  sd_read_file(const char *path, size_t max, char **data, size_t *n);

/* Locate a model file by name: $SKINDELTA_MODELS/name (when set, only there), ./models/name, or
 * beside the executable (../share/skindelta/models, ../models, ../../models). out receives the
 * path; 0 when found, SD_EIO otherwise. */
int  sd_model_file(const char *name, char *out, size_t n);
/* A file shipped with skindelta, by its path in the source tree ("samples/faces/astronaut.png"):
 * relative to the working folder, else beside the executable (../share/skindelta/, ../, ../../). */
int  sd_data_file(const char *relpath, char *out, size_t n);

/* sd_image_create without zeroing the pixels (row padding is zeroed): for callers that write
 * every pixel right away. Declared here, library-internal. */
int  sd__image_create_nozero(SdImage *img, int w, int h, int c, enum sd_fmt fmt);

/* Natural order ("s2" < "s10"), case-insensitive for letters. */
int  sd_natcmp(const char *a, const char *b);
int  sd_strcasesuffix(const char *s, const char *suffix);
char *sd_strdup(const char *s);

/* SHA-256 of a buffer or file, as 64 lowercase hex chars + NUL. */
void sd_sha256(const void *data, size_t n, char hex[65]);
int  sd_sha256_file(const char *path, char hex[65]);

/* Write s as a CSV field (quoted when it holds , " or newline). */
void sd_csv_field(FILE *f, const char *s);
/* Write s as a JSON string literal, quotes included. */
void sd_json_string(FILE *f, const char *s);
/* Print a double for CSV/JSON: shortest round-trip-ish %.9g; NaN/inf print as empty (CSV) or
 * null (JSON). */
void sd_csv_num(FILE *f, double v);
void sd_json_num(FILE *f, double v);

/* Monotonic seconds. */
double sd_now(void);

#endif

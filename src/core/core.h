/* The core package's private header: checked sizes, the scalar sRGB curve and splitmix64 for the
 * whole library, on top of the public helpers of skindelta/util.h. */
#ifndef SRC_CORE_CORE_H
#define SRC_CORE_CORE_H

#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "skindelta/skindelta.h"
#include "skindelta/util.h"

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
/* The decoder in single precision (powf): the phantoms of synth/ are built with it, and a
 * double-precision decode would move their pixels (and the demo's tables) by one level here
 * and there. */
static inline float sd_srgb_decodef(float v)
{
    return v <= 0.04045f ? v / 12.92f : powf((v + 0.055f) / 1.055f, 2.4f);
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
/* The same step as a pure function of the state: the value sd_splitmix64 returns from state x
 * (for generators that keep the last output as their state). */
static inline uint64_t sd_mix64(uint64_t x)
{
    return sd_splitmix64(&x);
}

/* sd_image_create without zeroing the pixels (row padding is zeroed): for callers that write
 * every pixel right away. Declared here, library-internal. */
int  sd__image_create_nozero(SdImage *img, int w, int h, int c, enum sd_fmt fmt);

/* ---- photos read once (src/core/io.c, jpegdec.c, jpeginfo.c): the file's bytes are read one
 * time (sd__image_read: the loader's checks and byte limit, errors naming the file) and serve the
 * hash, the header and markers, a quick look and the decode. */
int  sd__image_read(SdCtx *ctx, const char *path, uint64_t max_bytes, char **data, size_t *n);
/* Header only (EXIF orientation, ICC, size; JPEG quality and chroma): no pixel decode. */
int  sd__image_header_mem(SdCtx *ctx, const char *path, const void *data, size_t n, SdImageInfo *info);
/* sd_image_load on bytes in memory; path names the file in errors. direct = 1 lets a JPEG that
 * libjpeg-turbo decodes exactly as libvips would go through sd__jpeg_decode (0: libvips always,
 * for the tests that compare the two). */
int  sd__image_load_mem(SdCtx *ctx, const char *path, const void *data, size_t n, const SdLoadOpts *opts,
                        int direct, SdImage *img, SdImageInfo *info);
int  sd__jpeg_info_mem(const void *data, size_t n, int *quality, char chroma[8]);
/* 1 when the JPEG is 8-bit greyscale, YCbCr or RGB (what the direct decoder takes). */
int  sd__jpeg_direct_ok(const void *data, size_t n);
/* Decode with DCT scaling 1/shrink (1, 2, 4, 8), EXIF orientation applied, to planar F32 0..1 or
 * interleaved U8 RGB. Corrupt or truncated data (libjpeg errors and warnings) is SD_EFORMAT
 * naming path and libjpeg's message. */
int  sd__jpeg_decode(SdCtx *ctx, const char *path, const void *data, size_t n, int shrink, int orientation,
                     enum sd_fmt fmt, uint64_t max_pixels, SdImage *img);

/* ---- indexed PNG (src/core/png.c): idx holds palette indices (< ncolours), rgba the palette with
 * its alpha; the bit depth is the smallest that holds ncolours (1, 2, 4, 8). Written atomically. */
int  sd__png_save_indexed(SdCtx *ctx, const char *path, const uint8_t *idx, ptrdiff_t stride, int w, int h,
                          const uint8_t (*rgba)[4], int ncolours);

/* ---- JSON reader (src/core/json.c): the one parser for every JSON file the library reads back
 * (models/regions.json, run.json and its shard metadata, done.json). Strict RFC 8259; duplicate
 * keys are an error; strings are UTF-8 with \uXXXX decoded (\u0000 refused). */
enum { SD_JSON_NULL, SD_JSON_BOOL, SD_JSON_NUM, SD_JSON_STR, SD_JSON_ARR, SD_JSON_OBJ };
#define SD_JSON_MAX_DEPTH 64
typedef struct SdJson SdJson;
struct SdJson {
    int type;
    double num;      /* SD_JSON_NUM; SD_JSON_BOOL: 0 or 1 */
    char *str;       /* SD_JSON_STR */
    int n;           /* items of an array or object */
    SdJson *items;   /* array items, object values */
    char **keys;     /* object keys (NULL for arrays) */
};
/* Parses len bytes; 0, or SD_EFORMAT/SD_ENOMEM with "line L column C: what" in err. */
int  sd__json_parse(const char *text, size_t len, SdJson *root, char *err, size_t errn);
/* Reads and parses a file; errors name the file and the position. */
int  sd__json_load(SdCtx *ctx, const char *path, size_t max_bytes, SdJson *root);
void sd__json_free(SdJson *v);
/* Member of one object (never searched deeper); NULL when obj is not an object or lacks key. */
const SdJson *sd__json_get(const SdJson *obj, const char *key);
/* Typed members: the string (NULL unless a string), or 1 and *out when a number / a boolean. */
const char *sd__json_str(const SdJson *obj, const char *key);
int  sd__json_num(const SdJson *obj, const char *key, double *out);
int  sd__json_bool(const SdJson *obj, const char *key, int *out);

/* ---- worker threads (src/core/pool.c): the one pool of the library. Each thread runs fn(arg);
 * the callers hand out work themselves (an index under __atomic_fetch_add or a mutex). */
#define SD_POOL_MAX 64
typedef struct SdPool {
    pthread_t th[SD_POOL_MAX];
    int started;
} SdPool;
/* Starts up to n (<= SD_POOL_MAX) threads with the given stack size (0: the default); returns
 * how many started (0 when none could: the caller then runs fn itself). */
int  sd__pool_start(SdPool *p, int n, size_t stack_bytes, void *(*fn)(void *), void *arg);
void sd__pool_join(SdPool *p);
/* Worker threads for n tasks: jobs if > 0, else the online CPUs, bounded by n and max. */
int  sd__pool_threads(int jobs, int n, int max);

/* ---- the commit record of an output folder (src/core/commit.c): OUT/tables.json names the run
 * id and each table's sha256; run.json names the same run id. */
#define SD_RUN_ID_LEN 64
#define SD_OUT_NTABLES 8
extern const char *const sd__out_tables[SD_OUT_NTABLES];   /* the tables a run writes into OUT */
/* A new run id: UTC time, pid and 64 random bits. */
void sd__out_new_run_id(char id[SD_RUN_ID_LEN]);
/* Before the first table of a run is rewritten: OUT is no longer a committed run. */
int  sd__out_uncommit(SdCtx *ctx, const char *out_dir);
/* After the last table: records run_id and the hash of every table present. */
int  sd__out_commit(SdCtx *ctx, const char *out_dir, const char *run_id);
/* For readers: 0 when OUT's run.json names no run id (an older folder) or when its tables are
 * exactly the ones that run committed; SD_EFORMAT naming the file when OUT mixes two runs. */
int  sd__out_check(SdCtx *ctx, const char *out_dir);

#endif

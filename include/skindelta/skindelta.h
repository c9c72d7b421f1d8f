/* skindelta — public API: before/after facial skin photos to measured change scores.
 * Each pipeline stage is a function over plain data (SdImage, SdLandmarks, SdTransform, SdMask). */
#ifndef SKINDELTA_H
#define SKINDELTA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Every public function carries SD_API: the library is built with hidden visibility, so what
 * include/skindelta/ marks is all that libskindelta.so exports. */
#if defined(SD_BUILDING_LIB) && defined(__GNUC__)
#define SD_API __attribute__((visibility("default")))
#else
#define SD_API
#endif

/* ---- errors: functions return 0 or a negative enum sd_err; detail text lives in SdCtx */
enum sd_err {
    SD_OK      = 0,
    SD_EINVAL  = -1,  /* invalid argument or usage */
    SD_ENOMEM  = -2,  /* allocation failed or size overflow */
    SD_EIO     = -3,  /* file system error (missing, unreadable, write failed) */
    SD_EFORMAT = -4,  /* malformed or unsupported file content */
    SD_ELIMIT  = -5,  /* input exceeds a configured limit (pixels, bytes) */
    SD_ENOFACE = -6,  /* no face found */
    SD_EALIGN  = -7,  /* alignment / registration failed quality checks */
    SD_EDEP    = -8,  /* a dependency (libvips, OpenBLAS) reported an error */
};
SD_API const char *sd_strerror(int err);
/* Short stable name of an error code ("EFORMAT"), for CSV columns. */
SD_API const char *sd_errname(int err);

/* Direction of improvement of a metric (DESIGN.md §5), shared by metrics.h and course.h. */
#define SD_BETTER_HIGHER  1
#define SD_BETTER_LOWER  (-1)

/* ---- context: error detail + CPU level; one per thread */
#define SD_ERRMSG_MAX 1024
typedef struct SdCtx {
    unsigned cpu_flags;           /* SD_CPU_* mask in use (see kernels/cpu.h) */
    char errmsg[SD_ERRMSG_MAX];   /* detail of the last error, "" when none */
} SdCtx;

/* Initialise: detects the CPU, applies SKINDELTA_CPU from the environment. Returns 0 or SD_EINVAL
 * when SKINDELTA_CPU names an unknown or unsupported level (message in ctx->errmsg). */
SD_API int  sd_ctx_init(SdCtx *ctx);
/* Force a CPU level by name: "scalar", "avx2", "avx512" (capped at what the CPU supports). */
SD_API int  sd_ctx_set_cpu(SdCtx *ctx, const char *level);
SD_API const char *sd_ctx_cpu_name(const SdCtx *ctx);
/* Store a printf-style detail message; returns err so callers can `return sd_fail(ctx, err, ...)`. */
SD_API int  sd_fail(SdCtx *ctx, int err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
SD_API void sd_clear_error(SdCtx *ctx);

/* Library initialisation (libvips). Safe to call more than once; returns 0 or SD_EDEP. */
SD_API int  sd_init(SdCtx *ctx, const char *argv0);
SD_API const char *sd_version(void);

/* ---- images */
enum sd_fmt {
    SD_FMT_F32 = 0,   /* planar float32, values in [0,1] (sRGB-encoded unless a stage says linear) */
    SD_FMT_U8  = 1,   /* interleaved uint8, c bytes per pixel */
};
#define SD_ROW_ALIGN 64

typedef struct SdImage {
    int w, h, c;          /* width, height, channels (1 or 3) */
    enum sd_fmt fmt;
    ptrdiff_t stride;     /* bytes between rows (multiple of 64); planar: per plane */
    size_t plane_bytes;   /* bytes between planes (F32: stride*h; U8: 0, interleaved) */
    uint8_t *data;        /* 64-byte aligned; owned unless `borrowed` */
    int borrowed;         /* 1 when data points into another image (crop views) */
} SdImage;

SD_API int  sd_image_create(SdImage *img, int w, int h, int c, enum sd_fmt fmt);
SD_API void sd_image_free(SdImage *img);
/* Rows: plane p (F32) or interleaved row (U8, p ignored). */
static inline float *sd_image_rowf(const SdImage *img, int p, int y) {
    return (float *)(img->data + (size_t)p * img->plane_bytes + (size_t)y * (size_t)img->stride);
}
static inline uint8_t *sd_image_row8(const SdImage *img, int y) {
    return img->data + (size_t)y * (size_t)img->stride;
}
/* A deep copy of the rectangle (x,y,w,h), clipped: SD_EINVAL when empty. */
SD_API int  sd_image_crop(const SdImage *src, int x, int y, int w, int h, SdImage *dst);
/* Format conversions (deep copies). u8 -> f32 divides by 255; f32 -> u8 rounds and clamps. */
SD_API int  sd_image_to_f32(const SdImage *src, SdImage *dst);
SD_API int  sd_image_to_u8(const SdImage *src, SdImage *dst);
SD_API int  sd_image_copy(const SdImage *src, SdImage *dst);
/* Luminance (Rec.709 weights on the stored values) of a 3-channel F32 image into a 1-channel one. */
SD_API int  sd_image_luma(const SdImage *src, SdImage *dst);

/* The loader's default pixel limit; the batch run bounds its canonical frame by it too. */
#define SD_MAX_PIXELS_DEFAULT 120000000ull
typedef struct SdLoadOpts {
    double   scale;        /* desired scale <= 1 (e.g. 0.25): JPEG shrink-on-load; 1 = full size */
    int      target_max;   /* if > 0: shrink so that max(w,h) >= target_max at the smallest size */
    uint64_t max_pixels;   /* 0 = default SD_MAX_PIXELS_DEFAULT */
    uint64_t max_bytes;    /* 0 = default 512 MiB */
    enum sd_fmt fmt;       /* SD_FMT_F32 (default) or SD_FMT_U8 (8-bit RGB) */
} SdLoadOpts;

typedef struct SdImageInfo {
    int orig_w, orig_h;    /* size after EXIF orientation, before shrink */
    double scale;          /* loaded size / original size */
    int orientation;       /* EXIF orientation that was applied (1 = none) */
    int had_icc, had_alpha, bits, orig_bands;
    char datetime[32];     /* EXIF DateTimeOriginal "YYYY:MM:DD HH:MM:SS" or "" */
    char format[16];       /* "jpeg", "png", "tiff", ... */
    int jpeg_quality;      /* JPEG: IJG-equivalent quality of the luminance table (1..100); else 0 */
    char chroma[8];        /* JPEG: "4:4:4", "4:2:2", "4:2:0", "4:4:0", "4:1:1", "grey", "other"; else "" */
} SdImageInfo;

SD_API void sd_load_opts_default(SdLoadOpts *o);
/* Load any image libvips reads as upright sRGB RGB (3 channels). info may be NULL. */
SD_API int  sd_image_load(SdCtx *ctx, const char *path, const SdLoadOpts *opts, SdImage *img,
                   SdImageInfo *info);
/* Header-only probe: size, orientation, EXIF date; no pixel decode. */
SD_API int  sd_image_probe(SdCtx *ctx, const char *path, SdImageInfo *info);
/* JPEG compression settings from the file's markers (no pixel decode): quality = IJG-equivalent
 * quality of the luminance quantisation table, chroma = subsampling as above. Returns 0, SD_EIO
 * (cannot open) or SD_EFORMAT (not a JPEG, or its headers are damaged; outputs 0 / ""). */
SD_API int  sd_jpeg_info(const char *path, int *quality, char chroma[8]);
/* Save by extension (.png, .jpg/.jpeg); atomically (temp + rename). quality for JPEG (1..100). */
SD_API int  sd_image_save(SdCtx *ctx, const SdImage *img, const char *path, int quality);
/* Encode a 3-channel float image as an 8-bit JPEG in memory (quality 1..100, chroma 4:2:0 when
 * subsample, else 4:4:4) and decode it again into out (float, same size): what one JPEG capture
 * does to the pixels. */
SD_API int  sd_image_jpeg_roundtrip(SdCtx *ctx, const SdImage *img, int quality, int subsample, SdImage *out);
/* Another JPEG capture of an already decoded photo: the exposure of each channel is changed by a
 * random factor exp(U(-gain_range, gain_range)) (linear light, from seed), the result saved as
 * JPEG as in sd_image_jpeg_roundtrip, decoded, and the factors undone. What remains is a fresh
 * draw of the JPEG quantisation error, which depends on where the levels fall (the perturbation
 * bootstrap uses it to see the capture-to-capture drift of the metrics). */
SD_API int  sd_image_jpeg_recapture(SdCtx *ctx, const SdImage *img, int quality, int subsample, double gain_range,
                             uint64_t seed, SdImage *out);

/* ---- geometry shared by the stages */
typedef struct SdPoint { float x, y; } SdPoint;

typedef struct SdFace {
    float x, y, w, h;      /* box in image pixels */
    float score;
} SdFace;

#define SD_NLANDMARKS 68
typedef struct SdLandmarks {
    SdFace face;                   /* the box the landmarks came from */
    SdPoint pt[SD_NLANDMARKS];     /* iBUG-68, image pixels */
} SdLandmarks;

/* 3x3 projective matrix, row-major, mapping source pixel (x,y,1) to destination; affine when the
 * last row is (0,0,1). Pixel centres at integer coordinates. */
typedef struct SdTransform { double m[9]; } SdTransform;

/* Binary / label mask: u8 per pixel, 0 = out. */
typedef struct SdMask {
    int w, h;
    ptrdiff_t stride;
    uint8_t *data;
} SdMask;
SD_API int  sd_mask_create(SdMask *m, int w, int h);
SD_API void sd_mask_free(SdMask *m);

#ifdef __cplusplus
}
#endif

#endif

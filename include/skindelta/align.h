/* Stages `frame` and `register` (DESIGN.md §2): each photo goes into the canonical face frame by
 * one similarity from its landmarks; each follow-up is then registered onto its baseline by masked,
 * coarse-to-fine ECC, and the original follow-up photo is resampled ONCE with the composed
 * transform. Baseline and follow-ups thus pass through the same resampling path (no double
 * interpolation of the image that gets measured). */
#ifndef SRC_ALIGN_H
#define SRC_ALIGN_H

#include "skindelta.h"

typedef enum SdMotion {
    SD_MOTION_TRANSLATION = 0,   /* 2 parameters */
    SD_MOTION_EUCLIDEAN   = 1,   /* rotation + shift, 3 */
    SD_MOTION_AFFINE      = 2,   /* 6 (default) */
    SD_MOTION_HOMOGRAPHY  = 3,   /* 8 */
} SdMotion;

typedef enum SdAlignStatus {
    SD_ALIGN_OK = 0,      /* scored */
    SD_ALIGN_WARN = 1,    /* scored, flagged in alignment.csv */
    SD_ALIGN_FAILED = 2,  /* not scored: a row in errors.csv with qc->reason */
} SdAlignStatus;

typedef struct SdAlignOpts {
    double iod_px;        /* canonical inter-ocular distance, px (default 640) */
    int frame_w, frame_h; /* canonical frame; 0 = 2.5 x IOD by 3.125 x IOD (1600 x 2000 at 640) */
    double iod_mm;        /* physical IOD assumed for px/mm (default 63 mm, mean adult) */
    double px_per_mm;     /* > 0: given by the user (--px-per-mm), overrides iod_mm */
    int roi_whole;        /* 1: no face; canonical = the photo scaled by 0.95 (x whole_max_side /
                           * longest side when larger), region `whole`. Never the identity, so
                           * baseline and follow-ups get the same average interpolation smoothing */
    int whole_max_side;   /* roi whole: longest side of the canonical image (default 2000) */
    SdMotion motion;      /* ECC motion model (default affine) */
    int max_iter;         /* ECC iterations per pyramid level (default 60; finest level: 1/3) */
    double eps;           /* ECC stop: largest corner move of an update, in level px (default 1e-3) */
    int min_top;          /* coarsest pyramid level keeps min(w,h) >= this (default 96) */
    /* QC thresholds (documented in alignment.csv's `status`): a pair is `failed` when
     * ecc < ecc_fail, landmark RMS > lm_rms_fail x IOD, or overlap < overlap_fail; `warn` when
     * the same figures cross the *_warn values. */
    double ecc_warn, ecc_fail;          /* default 0.50, 0.20 (band-passed luminance correlation) */
    double lm_rms_warn, lm_rms_fail;    /* fraction of IOD, default 0.04, 0.10 (26 / 64 px at
                                         * IOD 640; landmark noise alone is ~1-2.5% IOD) */
    double overlap_warn, overlap_fail;  /* default 0.90, 0.60 (skin both images see / base skin) */
} SdAlignOpts;

SD_API void sd_align_opts_default(SdAlignOpts *o);
/* "translation"|"euclidean"|"affine"|"homography" -> SdMotion; -1 if unknown. */
SD_API int  sd_motion_parse(const char *name);
SD_API const char *sd_motion_name(SdMotion m);
SD_API const char *sd_align_status_name(SdAlignStatus s);

/* One photo in the canonical frame. Owns img and valid. */
typedef struct SdAligned {
    SdImage img;          /* frame_w x frame_h, 3 planes F32 (same encoding as the photo) */
    SdMask valid;         /* 1 where the photo covered the pixel (0 = filled by edge replication) */
    SdTransform T;        /* photo px -> canonical px: the single resampling that made img */
    SdLandmarks lm;       /* landmarks in canonical px (valid when has_lm) */
    int has_lm;
    int roi_whole;
    double px_per_mm;     /* canonical px per mm */
    double scale;         /* canonical px per photo px (sqrt |det| of the linear part) */
    int photo_w, photo_h;
    int dropped_point;    /* landmark index the robust similarity ignored, -1 if none */
} SdAligned;

typedef struct SdAlignQC {
    double ecc;           /* final correlation coefficient (band-passed luminance, masked) */
    double lm_rms_px;     /* RMS of the 68 landmarks after registration, canonical px (NaN: none) */
    double overlap;       /* fraction of the base's skin mask the follow-up covers */
    int iterations;       /* ECC iterations over all levels */
    int levels;           /* pyramid levels used */
    SdAlignStatus status;
    SdTransform W;        /* ECC refinement in the canonical frame: base px -> follow-up px */
    char reason[160];     /* why warn/failed, "" when ok */
} SdAlignQC;

/* Canonical similarity photo -> frame from landmarks (least squares on the eye corners 36/39/42/45
 * and the nose 27-30/33, the one worst point dropped when it is an outlier). dropped may be NULL.
 * Returns 0 or SD_EINVAL (degenerate landmarks). */
SD_API int  sd_align_similarity(const SdLandmarks *lm, const SdAlignOpts *o, SdTransform *T, int *dropped);

/* Shrink factor a loader may apply before sd_align_canonical without losing canonical detail:
 * the largest power-of-two fraction (1, 1/2, 1/4, 1/8) with the face still >= 1.25 x canonical IOD.
 * lm in full-size photo px. For JPEG shrink-on-load of 24 MP photos. */
SD_API double sd_align_load_scale(const SdLandmarks *lm, const SdAlignOpts *o);

/* Baseline (or any photo): warp into the canonical frame. lm in photo px; NULL only with
 * o->roi_whole. Shrinking warps are preceded by an anti-alias blur (sigma from the scale) and 2x
 * reductions; only the part of the photo the frame needs is touched. The photo can be freed as
 * soon as this returns. */
SD_API int  sd_align_canonical(SdCtx *ctx, const SdImage *photo, const SdLandmarks *lm,
                        const SdAlignOpts *o, SdAligned *out);

/* Follow-up: landmark similarity (or, lm == NULL / roi whole, a phase-correlation + log-polar
 * estimate of shift, rotation and scale on the pyramid top), refined by masked coarse-to-fine ECC
 * on band-passed luminance against base; then the ORIGINAL photo is resampled once with the
 * composed transform. qc gets the quality figures and status; a `failed` pair still returns 0
 * with out filled (the caller decides); errors (memory, bad input) return SD_E*. */
SD_API int  sd_align_followup(SdCtx *ctx, const SdAligned *base, const SdImage *photo,
                       const SdLandmarks *lm, const SdAlignOpts *o, SdAligned *out,
                       SdAlignQC *qc);

SD_API void sd_aligned_free(SdAligned *a);

/* ---- lower-level pieces, exposed for tests and benchmarks */

/* Resample photo into w x h with T (photo px -> dst px): anti-alias when shrinking, bicubic
 * (Keys a = -0.5, clamped to [0, 1]).
 * valid (may be NULL) gets 1 where the source covered the pixel. */
SD_API int  sd_align_warp(SdCtx *ctx, const SdImage *photo, const SdTransform *T, int w, int h,
                   SdImage *dst, SdMask *valid);

/* ECC registration of two single-plane F32 images of the same size: finds W (template px ->
 * input px) maximising the correlation of band-passed template and input over mask (NULL = all)
 * and where the input is valid (input_valid NULL = all). W holds the initial guess on entry.
 * qc (may be NULL) gets ecc, iterations, levels. */
SD_API int  sd_align_ecc(SdCtx *ctx, const SdImage *tmpl, const SdMask *mask, const SdImage *input,
                  const SdMask *input_valid, SdMotion motion, const SdAlignOpts *o,
                  SdTransform *W, SdAlignQC *qc);

/* Coarse estimate for `--roi whole`: shift, rotation (|angle| <= ~10 deg) and scale (+-15%) of
 * input relative to tmpl (single-plane, same size), by log-polar phase correlation of the
 * magnitude spectra on a pyramid level, then phase correlation of the shift. W: tmpl -> input. */
SD_API int  sd_align_coarse(SdCtx *ctx, const SdImage *tmpl, const SdImage *input, SdTransform *W);

/* 3x3 helpers (row-major). */
SD_API void sd_transform_identity(SdTransform *t);
SD_API void sd_transform_mul(const SdTransform *a, const SdTransform *b, SdTransform *ab); /* a after b */
SD_API int  sd_transform_invert(const SdTransform *t, SdTransform *inv);   /* 0 or SD_EINVAL */
SD_API void sd_transform_apply(const SdTransform *t, double x, double y, double *ox, double *oy);

#endif

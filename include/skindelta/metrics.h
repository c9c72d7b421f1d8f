/* Skin metrics per region in the canonical frame: texture, wrinkles, pigmentation.
 * The metric table (ids, units, better directions) is the DESIGN.md §5 contract; formulas,
 * parameters and literature are in docs/METRICS.md. */
#ifndef SRC_METRICS_H
#define SRC_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "skindelta.h"

enum sd_metric_id {
    SD_M_TEXTURE_ROUGHNESS = 0,
    SD_M_TEXTURE_GLCM_CONTRAST,
    SD_M_TEXTURE_GLCM_HOMOGENEITY,
    SD_M_TEXTURE_GLCM_ENTROPY,
    SD_M_WRINKLE_DENSITY,
    SD_M_WRINKLE_LENGTH_DENSITY,
    SD_M_WRINKLE_SEVERITY,
    SD_M_PIGMENT_UNEVENNESS,
    SD_M_PIGMENT_SPOT_AREA,
    SD_M_PIGMENT_SPOT_DENSITY,
    SD_M_PIGMENT_ITA_SD,
    SD_M_REDNESS_UNEVENNESS,
    SD_NMETRICS
};


typedef struct SdMetricInfo {
    const char *id;      /* contract name, e.g. "texture_roughness" */
    const char *unit;    /* ASCII: "%", "-", "mm/cm2", "1/cm2", "OD x100", "deg" */
    int better;          /* SD_BETTER_LOWER or SD_BETTER_HIGHER */
    int primary;         /* 1 for the three the mission names */
    const char *what;    /* one-line definition (the codebook's) */
} SdMetricInfo;

/* Table entry for metric i (0 <= i < SD_NMETRICS), NULL when out of range. */
SD_API const SdMetricInfo *sd_metric_info(int i);
/* Index of a metric id, or -1. */
SD_API int sd_metric_index(const char *id);
/* "lower" / "higher" */
SD_API const char *sd_metric_better_name(int better);

/* The codebook: the table above as CSV, one row per metric, under SD_CODEBOOK_HEADER (primary is
 * 1 or 0). sd_codebook_csv writes it to a stream (0, or SD_EIO on a write error);
 * sd_codebook_write to out_dir/codebook.csv, atomically. */
#define SD_CODEBOOK_HEADER "metric,unit,better,primary,definition"
#define SD_CODEBOOK_FILE   "codebook.csv"
SD_API int  sd_codebook_csv(FILE *f);
SD_API int  sd_codebook_write(SdCtx *ctx, const char *out_dir);

/* Parameters. All lengths in millimetres; converted with px_per_mm. Defaults are documented in
 * docs/METRICS.md and chosen on the phantoms; change them only together with that page. */
typedef struct SdMetricsOpts {
    /* texture */
    double tex_fine_mm;        /* finest band edge: Gaussian sigma that removes noise (0.1 mm) */
    double tex_flat_mm;        /* flattening sigma (0.7 mm) */
    double tex_glcm_range;     /* quantisation half-range of the band, log units (0.16) */
    int    tex_glcm_levels;    /* 32 */
    double tex_exclude_mm;     /* spread (Gaussian sigma) of the wrinkle/spot exclusion weights (0.4) */
    double tex_exclude_gain;   /* weight = 1 - min(1, gain x spread membership) (4) */
    /* wrinkles */
    double wr_sigma_mm[4];     /* Hessian scales (sigmas) */
    int    wr_nscales;
    double wr_line_mm;         /* half-length of the along-line averaging (2.0 mm) */
    double wr_mu_lo, wr_mu_hi; /* soft membership ramp on the ridge response (0.008 .. 0.03) */
    double wr_spot_weight;     /* wrinkle membership x (1 - this x spot membership) (1) */
    double wr_fold_mm;         /* scale (sigma) of the broad-structure test: folds and shading
                                  edges are not wrinkles (1.5 mm; 0 = off) */
    double wr_fold_lo, wr_fold_hi;  /* fold weight: ramp of (coarse - fine valley response) (0 .. 0.02) */
    double wr_edge_lo, wr_edge_hi;  /* edge weight: ramp of the coarse gradient x sigma (0.04 .. 0.08) */
    double wr_abs_high, wr_abs_low; /* detection (overlays, lengths): hysteresis thresholds */
    double wr_k_high;          /* noise guard: the high threshold stays >= median + k x noise */
    double wr_min_len_mm;      /* drop segments shorter than this (2 mm) */
    double wr_prior;           /* strength 0..1 of the per-region orientation prior */
    /* pigment */
    double pg_band_lo_mm;      /* band-pass sigmas of the melanin map (0.25 .. 1.5 mm) */
    double pg_band_hi_mm;
    double pg_k_high, pg_k_low;/* spot hysteresis thresholds in units of the local band noise */
    double pg_min_diam_mm;     /* spots smaller than this diameter are dropped (0.5 mm) */
    double pg_mu_lo, pg_mu_hi; /* soft spot membership ramp on the melanin band z-score (1 .. 3) */
    double pg_remove_mm;       /* low-pass (sigma) of the pigment removed from the luma (0.75 mm) */
    double pg_ita_smooth_mm;   /* smoothing before ITA (0.25 mm) */
    double erode_mm;           /* valid mask erosion against border effects (1.0 mm) */
} SdMetricsOpts;

SD_API void sd_metrics_opts_default(SdMetricsOpts *o);

typedef struct SdMetricsState SdMetricsState;

/* Compute the per-image maps once: canon_srgb is the canonical-frame image (planar F32, 3
 * channels, sRGB-encoded 0..1); valid marks the pixels the image covers (NULL = all); px_per_mm
 * is the physical scale of the canonical frame; opts may be NULL (defaults). */
SD_API int  sd_metrics_prepare(SdCtx *ctx, const SdImage *canon_srgb, const SdMask *valid,
                        double px_per_mm, const SdMetricsOpts *opts, SdMetricsState **out);

/* All metrics on one region (mask of the same size as the image; intersected with the eroded
 * valid mask). region_name (may be NULL) selects the wrinkle orientation prior: "forehead"
 * horizontal, "glabella" vertical, "crowsfeet_l"/"crowsfeet_r" radial from the lateral canthus
 * (taken as the region's medial edge), others none. A region too small to measure gives NaN.
 * Thread-safe for concurrent calls on the same state. */
SD_API int  sd_metrics_region(SdCtx *ctx, const SdMetricsState *st, const SdMask *region,
                       const char *region_name, double out[SD_NMETRICS]);

/* Overlays for the report: the canonical image with the region's detected wrinkles (red) and
 * spots (cyan) drawn on it, written as PNG. Either path may be NULL. */
SD_API int  sd_metrics_overlay(SdCtx *ctx, const SdMetricsState *st, const SdImage *canon_srgb,
                        const SdMask *region, const char *region_name,
                        const char *wrinkle_png, const char *spot_png);

/* m &= the pixels st measures (the valid mask after its erosion): a region restricted by the
 * states of both images of a pair is the same set of pixels in both. */
SD_API void sd_metrics_restrict(const SdMetricsState *st, SdMask *m);

SD_API void sd_metrics_free(SdMetricsState *st);

/* The fixed chromophore OD vectors (R, G, B) of the decomposition (models/chromophores.json). */
SD_API void sd_metrics_chromophores(double mel[3], double hb[3]);

/* ---- building blocks, exposed for the known-answer tests */

/* Grey-level co-occurrence features on quantised levels q (0..levels-1, u8, stride in bytes);
 * pairs count only when both pixels have mask != 0 (mask NULL = all). Symmetric, normalised,
 * the 4 directions 0/45/90/135 deg at distance d, features averaged over the directions
 * (Haralick 1973). out = {contrast, homogeneity, entropy (bits)}. Returns the number of pairs. */
SD_API long sd_glcm_features(SdCtx *ctx, const uint8_t *q, ptrdiff_t q_stride, const uint8_t *mask,
                      ptrdiff_t m_stride, int w, int h, int levels, int d, double out[3]);
/* The same features from raw (not symmetrised) counts[4][levels][levels]; returns pairs. */
SD_API long sd_glcm_features_from_counts(const uint32_t *counts, int levels, double out[3]);

/* Individual typology angle (Chardon 1991) in degrees from linear RGB (sRGB primaries, D65):
 * atan2(L* - 50, b*) * 180/pi on true CIELAB. */
SD_API double sd_ita_deg(double r_lin, double g_lin, double b_lin);

#endif

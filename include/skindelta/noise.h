/* The calibrated noise model (models/noise_model.csv): the capture-to-capture SD of every metric
 * x region, predicted from what a run can see of each image (its JPEG quality and subsampling,
 * noise level, exposure, the region's area, registration quality, clipping, and for a follow-up
 * how far its capture differs from its baseline's). The model is fitted on phantom recaptures by
 * tools/fit_noise_model.sh (docs/STATISTICS.md, "The noise model"); the run turns its per-image
 * SDs into MDC95 exactly as it did the bootstrap's: mdc95 = 1.96 sqrt(sd_base^2 + sd_followup^2). */
#ifndef SKINDELTA_NOISE_H
#define SKINDELTA_NOISE_H

#include "skindelta.h"
#include "align.h"

/* The covariates, in the order of the model file's columns after b0. */
enum sd_noise_cov {
    SD_NC_AREA = 0,     /* ln(area of region and valid pixels / 100 mm^2) */
    SD_NC_JPEG,         /* (100 - JPEG quality) / 10; 0 for a lossless photo */
    SD_NC_SUBSAMPLE,    /* 1 when the JPEG's chroma is subsampled (4:2:0, 4:2:2, ...) */
    SD_NC_NOISE,        /* pixel noise SD estimated on the skin, in 8-bit levels */
    SD_NC_EXPOSURE,     /* log2(mean sRGB green of the region / 0.5) */
    SD_NC_EXPOSURE2,    /* its square (under- and overexposure both add spread) */
    SD_NC_REGISTRATION, /* 1 - ECC of the registration onto the baseline (0: a baseline); traced,
                           but left out of the fit (slope 0): a real change lowers the ECC too */
    SD_NC_CLIP,         /* share of the skin with a clipped channel, x 10 */
    SD_NC_DQUALITY,     /* follow-up: |JPEG quality - baseline's| / 10 (0: a baseline) */
    SD_NC_DSUBSAMPLE,   /* follow-up: 1 when its chroma subsampling differs from the baseline's */
    SD_NC_DEXPOSURE,    /* follow-up: |log2 of its skin's mean green / the baseline's|, before
                           photometry (0: a baseline) */
    SD_NC_DTONE,        /* follow-up: tone-curve mismatch with the baseline, ln(1 + |ln r| / 0.03),
                           r = sd_noise_tone_ratio (0: a baseline, or r unknown). Optional in a
                           model file: a file without the column has slope 0 for it */
    SD_NCOV
};

/* Short name of covariate k (the model file's column header), NULL when out of range. */
SD_API const char *sd_noise_cov_name(int k);

/* The tone grid: block means of ln(sRGB green) over the skin on a G x G grid of the canonical
 * frame, from which a follow-up's tone curve is compared with its baseline's. */
#define SD_NOISE_TONE_GRID 16

/* What the run knows of one image, before its covariates are computed per region. */
typedef struct SdNoiseImage {
    int jpeg_quality;        /* 0: not a JPEG */
    int subsampled;          /* chroma subsampled */
    double ecc;              /* registration ECC; NAN for a baseline */
    double noise;            /* sd_noise_level() of the skin */
    double clip;             /* share of skin pixels with a channel >= 0.99 (0..1) */
    double green;            /* mean sRGB green of the skin before photometry */
    int is_followup;
    int base_quality, base_subsampled;
    double base_green;
    /* block means of ln green on the skin (NAN: a block less than a quarter skin), before
     * photometry; filled by sd_noise_image_stats */
    double tone[SD_NOISE_TONE_GRID * SD_NOISE_TONE_GRID];
    double tone_ratio;       /* follow-up: sd_noise_tone_ratio(baseline, this); 0: unknown */
} SdNoiseImage;

/* A follow-up's tone curve against its baseline's: the least-squares slope r of the follow-up's
 * block means of ln green on the baseline's, over the blocks both have (the follow-up is
 * registered onto the baseline, so block i sees the same skin). A camera tone curve
 * out = in^gamma (on the encoded value) scales ln out by gamma, so r = gamma_fu / gamma_base,
 * whatever the exposure (a gain shifts ln out, it does not scale it); the block means are of
 * millimetre-scale skin (shading, slow pigment), which a treatment of fine texture, wrinkles and
 * spots barely moves. 0 when fewer than 8 blocks are shared or the baseline's blocks are flat. */
SD_API double sd_noise_tone_ratio(const SdNoiseImage *base, const SdNoiseImage *fu);

/* Image-level figures on the skin mask (region 0, `face` or `whole`) of an aligned image: noise
 * SD in 8-bit levels (MAD of the green channel's second differences), clipped share and mean
 * green. Call on a follow-up BEFORE its photometric correction (the green is the capture's). */
SD_API void sd_noise_image_stats(const SdAligned *al, const SdMask *skin, SdNoiseImage *im);

/* Share (0..1) of the skin mask's pixels, covered by the photo, with a clipped channel: any
 * channel at 0.99 of full scale or more (8-bit 253+). An overexposed channel loses the pigment
 * and relief it would show: optical density is wrong where a channel saturates (a patch phantom
 * at gain 1.29 with red +7%: pigment_unevenness +3.8%, losslessly). 0 on an empty mask. */
SD_API double sd_skin_clipped_share(const SdAligned *al, const SdMask *skin);

/* Covariates of one region of an image (region mask, intersected with al->valid). */
SD_API void sd_noise_covariates(const SdAligned *al, const SdMask *region, const SdNoiseImage *im,
                                double x[SD_NCOV]);

typedef struct SdNoiseModel SdNoiseModel;

/* Load a model file (format in models/README.md); errors name the file and line. */
SD_API int  sd_noise_model_load(SdCtx *ctx, const char *path, SdNoiseModel **out);
/* The default models/noise_model.csv (sd_model_file); SD_EIO when it is not found. */
SD_API int  sd_noise_model_load_default(SdCtx *ctx, SdNoiseModel **out);
/* Predicted capture-to-capture SD of one measurement, in the metric's unit; NAN when the model
 * has no row for the metric (a region without its own row uses the metric's `*` row). The
 * covariates are clamped to the range the model was fitted on, so it never extrapolates. */
SD_API double sd_noise_model_sd(const SdNoiseModel *m, const char *metric, const char *region,
                                const double x[SD_NCOV]);
/* sha256 of the file the model was read from (for run.json). */
SD_API const char *sd_noise_model_sha256(const SdNoiseModel *m);
SD_API void sd_noise_model_free(SdNoiseModel *m);

/* ---- what the runner calls per image (src/run/) */
#include "regions.h"
#include "metrics.h"

/* sd[r][m] = the model's SD for every region r of rg and metric m (NAN where the model has no
 * row). When trace_path is non-NULL (the fit: SKINDELTA_NOISE_TRACE), the covariates of every
 * region are also appended to that CSV (header written when the file is new). */
SD_API int  sd_noise_predict_regions(SdCtx *ctx, const SdNoiseModel *m, const SdAligned *al,
                                     const SdRegions *rg, const SdNoiseImage *im,
                                     double (*sd)[SD_NMETRICS], const char *trace_path,
                                     const char *patient, const char *view, const char *session);

/* The change map of a follow-up, written as a PNG to path: the skin (mask, the baseline's
 * region 0 restricted to what the follow-up covers) in 6 mm squares, each primary metric
 * measured per square on the baseline's (sb) and the follow-up's (sf) metric state, the square
 * coloured by better * delta / MDC95 of the square from the model (green >= 1 better, red <= -1
 * worse, full colour at 2); one panel per primary metric, on the grey baseline at half size. */
SD_API int  sd_change_map(SdCtx *ctx, const SdMetricsState *sb, const SdMetricsState *sf,
                          const SdAligned *base, const SdAligned *fu, const SdMask *skin,
                          const SdNoiseModel *model, const SdNoiseImage *ib,
                          const SdNoiseImage *ifu, const char *path);

/* Colour guard: 1 when the colour statistics of the skin (mask, on the capture before any
 * photometric correction) cannot be trusted for the colour metrics -- a grayscale or
 * near-grayscale photo (mean chroma max(R,G,B) - min(R,G,B) below 0.03), a clipped or crushed
 * channel on more than 10% of the skin, or means impossible for skin (red not above green, or
 * blue above red). why gets one phrase. */
SD_API int  sd_colour_guard(const SdAligned *al, const SdMask *skin, char *why, size_t n);
/* 1 for the metrics the colour guard empties (pigment, redness, ITA: ids starting "pigment_" or
 * "redness_", or containing "ita"). */
SD_API int  sd_metric_is_colour(const char *id);

#endif

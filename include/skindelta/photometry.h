/* Stage `photometry` (DESIGN.md §3): exposure and white balance of a follow-up relative to its
 * baseline, estimated ONLY from reference areas treatment does not change (sclera, background
 * outside the face, or a colour chart), never from treated skin, and applied in linear RGB. */
#ifndef SRC_PHOTOMETRY_H
#define SRC_PHOTOMETRY_H

#include "skindelta.h"
#include "align.h"

typedef enum SdPhotoMode {
    SD_PHOTO_NONE = 0,       /* no correction */
    SD_PHOTO_REFERENCE = 1,  /* per-channel gains from sclera + background (default) */
    SD_PHOTO_CHART = 2,      /* 3x3 matrix from a ColorChecker 24 marked by the user */
} SdPhotoMode;

typedef struct SdPhotoOpts {
    SdPhotoMode mode;
    /* chart: the ColorChecker's outer rectangle in canonical-frame px of the registered pair
     * (x, y, w, h; 4 rows x 6 columns of patches, dark-skin patch top-left). */
    double chart[4];
    double max_gain;         /* reject corrections beyond [1/max_gain, max_gain] (default 2) */
} SdPhotoOpts;

typedef struct SdPhotometry {
    SdPhotoMode mode;
    char source[32];         /* "none", "sclera", "background", "sclera+background", "chart",
                              * "none (no reference)" */
    double gain[3];          /* linear-RGB gains applied to the follow-up (1 when none) */
    double gamma[3];         /* tone-curve exponents removed from the follow-up: corrected
                              * linear value = (gain-free follow-up)^(1/gamma); 1 when none */
    double matrix[9];        /* chart: follow-up linear RGB -> baseline linear RGB */
    double de2000;           /* chart: mean residual CIEDE2000 over the 24 patches; NaN otherwise */
    long n_ref;              /* reference pixels (or patches) used */
    char summary[160];       /* one line for alignment.csv / run.json */
} SdPhotometry;

SD_API void sd_photo_opts_default(SdPhotoOpts *o);
/* "none" | "reference" | "chart" -> mode; -1 if unknown. */
SD_API int  sd_photo_mode_parse(const char *s);

/* Estimate and apply (in place on fu->img) the correction of the registered follow-up fu to the
 * baseline base. SD_EINVAL on bad options (chart outside the frame). */
SD_API int  sd_photometry_correct(SdCtx *ctx, const SdAligned *base, SdAligned *fu,
                           const SdPhotoOpts *o, SdPhotometry *ph);
/* Same with the mode as a string ("none" | "reference" | "chart" — chart needs the opts form). */
SD_API int  sd_photometry_apply(SdCtx *ctx, const SdAligned *base, SdAligned *fu, const char *mode,
                         SdPhotometry *ph);

/* CIEDE2000 colour difference of two L*a*b* colours. */
SD_API double sd_de2000(const double lab1[3], const double lab2[3]);

#endif

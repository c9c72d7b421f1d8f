/* What the runner does for the uncertainty of each image (src/run/noise_hook.c): the calibrated
 * noise model's SD per region x metric, widened by the optional perturbation bootstrap, and the
 * colour guard. Kept out of the pipeline so its per-image code stays a few calls. */
#ifndef SRC_RUN_NOISE_HOOK_H
#define SRC_RUN_NOISE_HOOK_H

#include "skindelta/noise.h"
#include "skindelta/run.h"

/* The run's model: o->noise_model (a file, or "none" for no model), else models/noise_model.csv
 * (a warning and no model when it is not installed). *m may come back NULL. */
int  sd__run_noise_open(SdCtx *ctx, const SdRunOpts *o, SdNoiseModel **m);
/* Image-level figures (call before the photometric correction); base NULL for a baseline. */
void sd__run_noise_image(const SdAligned *al, const SdMask *skin, int jpeg_quality,
                         const char *chroma, double ecc, const SdNoiseImage *base, SdNoiseImage *out);
/* sd[r][m]: the model's SD, or the bootstrap's boot[r][m] where that is larger (boot NULL: none);
 * NAN where neither is known. Appends the covariates to $SKINDELTA_NOISE_TRACE when set. */
int  sd__run_noise_sd(SdCtx *ctx, const SdNoiseModel *m, const SdAligned *al, const SdRegions *rg,
                      const SdNoiseImage *im, double (*boot)[SD_NMETRICS], double (*sd)[SD_NMETRICS],
                      const char *patient, const char *view, const char *session);
/* The colour guard on the capture (before photometry): 1 and a note when the colour metrics must
 * not be measured; sd__run_colour_blank then empties them in val. */
int  sd__run_colour_guard(const SdAligned *al, const SdMask *skin, char *why, size_t n);
void sd__run_colour_blank(const SdRegions *rg, double (*val)[SD_NMETRICS]);

#endif

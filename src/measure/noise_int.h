/* Package-private helpers of the noise model's covariates (src/measure/noise.c). */
#ifndef SRC_MEASURE_NOISE_INT_H
#define SRC_MEASURE_NOISE_INT_H

#include "skindelta/noise.h"

/* sd_noise_covariates over the box [bx0, bx1) x [by0, by1) only (the region must be empty
 * outside it): the change map's squares, without a scan of the whole frame per square. */
void sd__noise_covariates_box(const SdAligned *al, const SdMask *region, int bx0, int by0,
                              int bx1, int by1, const SdNoiseImage *im, double x[SD_NCOV]);

#endif

/* Image-level helpers of the alignment stages over the kernels/ dispatch tables (warp, separable
 * filters, ECC accumulation): borders, padding and tiling live here, the per-pixel work in the
 * kernels. Internal to src/align*.c, src/regions.c, src/photometry.c. */
#ifndef SRC_ALIGN_PX_H
#define SRC_ALIGN_PX_H

#include "skindelta/skindelta.h"
#include "kernels/warp.h"
#include "kernels/filter.h"
#include "kernels/stats.h"
#include "kernels/eccproj.h"
#include "kernels/warpcubic.h"

typedef struct SdAlignDSP {
    SdWarpDSP warp;
    SdFilterDSP filt;
    SdStatsDSP stats;
    SdEccProjDSP eccp;
    SdWarpCubicDSP cubic;
} SdAlignDSP;

void sd__align_dsp_init(SdAlignDSP *d, unsigned cpu_flags);

/* Gaussian blur of plane p of src into plane q of dst (same size; may be the same image), mirrored
 * borders. sigma <= 0.05 copies. Returns 0 or SD_ENOMEM. */
int  sd__px_blur(const SdAlignDSP *d, const SdImage *src, int p, SdImage *dst, int q, double sigma);
/* 2x2-mean reduction of every plane: dst created (w+1)/2 x (h+1)/2; output pixel x is centred on
 * input coordinate 2x + 0.5. */
int  sd__px_down2(const SdAlignDSP *d, const SdImage *src, SdImage *dst);
/* dst (already w x h, same planes as src) = src sampled at M·(x,y,1) (dst px -> src px), bilinear,
 * fill outside; mask (may be NULL, w x h) gets 1 inside / 0 outside. Rows [y0, y1) only. */
void sd__px_warp(const SdAlignDSP *d, SdImage *dst, SdMask *mask, const SdImage *src,
                 const double M[9], float fill, int y0, int y1);
/* Same with the bicubic kernel, values clamped to [lo, hi]. */
void sd__px_warp_cubic(const SdAlignDSP *d, SdImage *dst, SdMask *mask, const SdImage *src,
                       const double M[9], float fill, float lo, float hi, int y0, int y1);
/* Central-difference gradients of plane 0 of src (replicated borders) into gx, gy (created). */
int  sd__px_grad(const SdAlignDSP *d, const SdImage *src, SdImage *gx, SdImage *gy);

/* Masks */
int  sd__mask_erode(SdMask *m, int r);  /* square (2r+1)^2 erosion in place; outside = unset */
int  sd__mask_erode_ex(SdMask *m, int r, int outside_set);
long sd__mask_count(const SdMask *m);
int  sd__mask_down2(const SdMask *src, SdMask *dst); /* 1 where the whole 2x2 block is set */
/* Fill a polygon (n points, pixel coordinates) into m with value v (even-odd rule, pixel centres). */
void sd__mask_fill_poly(SdMask *m, const SdPoint *pts, int n, uint8_t v);

#endif

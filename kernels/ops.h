/* Image-level operations over the kernel tables: the calls pipeline stages make. Each op picks
 * the kernels for ctx->cpu_flags, allocates its own scratch, handles borders, and returns 0,
 * SD_EINVAL (bad arguments) or SD_ENOMEM. Planes are float32 with strides in BYTES; dst never
 * aliases src unless an op says so. All ops are thread-safe (no shared mutable state). */
#ifndef KERNELS_OPS_H
#define KERNELS_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "skindelta/skindelta.h"
#include "kernels/colour.h"
#include "kernels/filter.h"
#include "kernels/hessian.h"
#include "kernels/stats.h"
#include "kernels/warp.h"

/* Every family's table for one CPU level; built once per level, read-only afterwards. */
typedef struct SdKernels {
    SdColourDSP colour;
    SdFilterDSP filter;
    SdHessianDSP hessian;
    SdWarpDSP warp;
    SdStatsDSP stats;
} SdKernels;
const SdKernels *sd_kernels(unsigned cpu_flags);

/* ---- filters (mirrored borders: reflect-101, "dcb|abcd|cba", like OpenCV's default) */
/* Radius used for sigma: ceil(3 sigma), at least 1. sigma in [0.3, 64]. */
int sd_gauss_radius(float sigma);
/* Normalised 1-D kernels, k[0..r] (centre first): Gaussian (sum 1); first derivative (antisymmetric
 * taps, response 1 to the ramp I = x); second derivative (zero sum, response 1 to I = x^2/2). */
void sd_gauss_kernel(float *k, int r, float sigma, int order);

int sd_op_gauss(SdCtx *ctx, const float *src, ptrdiff_t sstride, float *dst, ptrdiff_t dstride,
                int w, int h, float sigma);
/* The same for output rows y0 .. y0+nrows-1 only (dst points at row y0; src is the whole w x h
 * plane). With y0 a multiple of 4 and nrows a multiple of 4 (or reaching h), the rows are
 * bit-identical to the full call's. */
int sd_op_gauss_rows(SdCtx *ctx, const float *src, ptrdiff_t sstride, float *dst, ptrdiff_t dstride,
                     int w, int h, int y0, int nrows, float sigma);

/* Gaussian derivatives at one sigma (not scale-normalised). Any output may be NULL; all
 * non-NULL outputs share dstride. Ix = dI/dx (x to the right), Iy = dI/dy (y downwards). */
typedef struct SdDerivOut {
    float *ix, *iy, *ixx, *ixy, *iyy;
} SdDerivOut;
int sd_op_gauss_deriv(SdCtx *ctx, const float *src, ptrdiff_t sstride, const SdDerivOut *out,
                      ptrdiff_t dstride, int w, int h, float sigma);
/* The same for output rows y0 .. y0+nrows-1 only (the outputs point at row y0; src is the whole
 * w x h plane). With y0 a multiple of 4 and nrows a multiple of 4 (or reaching h), the rows are
 * bit-identical to the full call's. */
int sd_op_gauss_deriv_rows(SdCtx *ctx, const float *src, ptrdiff_t sstride, const SdDerivOut *out,
                           ptrdiff_t dstride, int w, int h, int y0, int nrows, float sigma);

/* Box mean (and variance, var may be NULL) over a (2r+1)^2 window; var = E[x^2] - E[x]^2 in
 * float, clamped at 0 (absolute error ~1e-7 for data in [0,1]). */
int sd_op_box_meanvar(SdCtx *ctx, const float *src, ptrdiff_t sstride, float *mean, float *var,
                      ptrdiff_t dstride, int w, int h, int r);

/* ---- Hessian (from sd_op_gauss_deriv's ixx, ixy, iyy, sharing hstride) */
/* l1, l2 ordered |l1| <= |l2|, scaled by sigma^2; theta (may be NULL) = direction along a line. */
int sd_op_hessian_eig(SdCtx *ctx, const float *ixx, const float *ixy, const float *iyy,
                      ptrdiff_t hstride, float *l1, float *l2, float *theta, ptrdiff_t dstride,
                      int w, int h, float sigma);
/* Frangi dark-valley ridge measure at one scale (beta ~0.5, c in scaled-eigenvalue units). */
int sd_op_ridge(SdCtx *ctx, const float *ixx, const float *ixy, const float *iyy,
                ptrdiff_t hstride, float *dst, ptrdiff_t dstride, int w, int h, float sigma,
                float beta, float c);

/* ---- geometry */
/* dst (dw x dh) = src sampled bilinearly at T^-1(x, y), where T maps SOURCE pixels to DESTINATION
 * pixels (SdTransform convention). mask (may be NULL, dw x dh, mstride) gets 255 where the source
 * point lies inside the source, else 0 and dst = fill. Affine when T's last row is (0,0,1), else
 * projective. SD_EINVAL if T is singular. */
int sd_op_warp(SdCtx *ctx, const float *src, ptrdiff_t sstride, int sw, int sh,
               const SdTransform *t, float *dst, ptrdiff_t dstride, int dw, int dh,
               uint8_t *mask, ptrdiff_t mstride, float fill);
/* Same with the inverse map given directly (destination pixel -> source pixel, 3x3 row-major). */
int sd_op_warp_inv(SdCtx *ctx, const float *src, ptrdiff_t sstride, int sw, int sh,
                   const double inv[9], float *dst, ptrdiff_t dstride, int dw, int dh,
                   uint8_t *mask, ptrdiff_t mstride, float fill);
/* 2x2 mean downsample: dst is ((w+1)/2) x ((h+1)/2). */
int sd_op_down2(SdCtx *ctx, const float *src, ptrdiff_t sstride, int w, int h, float *dst,
                ptrdiff_t dstride);

/* ---- colour */
/* u8 interleaved RGB -> linear float planes r, g, b (sharing dstride). */
int sd_op_srgb8_to_linear(SdCtx *ctx, const uint8_t *src, ptrdiff_t sstride, float *const dst[3],
                          ptrdiff_t dstride, int w, int h);
/* sRGB-encoded float plane in [0,1] -> linear (dst may equal src). */
int sd_op_srgb_to_linear(SdCtx *ctx, const float *src, ptrdiff_t sstride, float *dst,
                         ptrdiff_t dstride, int w, int h);
/* Linear RGB planes -> L*, a*, b* planes (D65); dst[1] may be NULL (a* not computed). */
int sd_op_rgb_to_lab(SdCtx *ctx, const float *const src[3], ptrdiff_t sstride, float *const dst[3],
                     ptrdiff_t dstride, int w, int h);
/* -log10(max(c, eps)) (dst may equal src). */
int sd_op_optical_density(SdCtx *ctx, const float *src, ptrdiff_t sstride, float *dst,
                          ptrdiff_t dstride, int w, int h, float eps);
/* dst_i = sum_j m[3i+j] src_j (dst must not alias src). */
int sd_op_mat3(SdCtx *ctx, const float *const src[3], ptrdiff_t sstride, float *const dst[3],
               ptrdiff_t dstride, int w, int h, const float m[9]);

/* ---- statistics (mask may be NULL = every pixel; mask != 0 = in) */
/* Fills m (n, sum, sumsq, min, max; min = +inf, max = -inf when n == 0). */
int sd_op_moments(SdCtx *ctx, const float *src, ptrdiff_t sstride, const uint8_t *mask,
                  ptrdiff_t mstride, int w, int h, SdMoments *m);
/* counts[nbins] = histogram of floor((v - lo) * nbins / (hi - lo)) clamped to [0, nbins-1]
 * (NaN -> bin 0); nbins 1..65536, hi > lo. counts is zeroed first. */
int sd_op_histogram(SdCtx *ctx, const float *src, ptrdiff_t sstride, const uint8_t *mask,
                    ptrdiff_t mstride, int w, int h, float lo, float hi, int nbins,
                    uint32_t *counts);
/* Quantise to u8 levels 0..levels-1 (same rule as the histogram), levels 2..256. */
int sd_op_quantize_u8(SdCtx *ctx, const float *src, ptrdiff_t sstride, uint8_t *dst,
                      ptrdiff_t dstride, int w, int h, float lo, float hi, int levels);
/* GLCM counts[4][levels][levels] (zeroed first) at distance d for directions 0/45/90/135 deg
 * (offsets (d,0), (d,-d), (0,-d), (-d,-d)), pairs with both pixels masked; not symmetrised. */
int sd_op_glcm(SdCtx *ctx, const uint8_t *src, ptrdiff_t sstride, const uint8_t *mask,
               ptrdiff_t mstride, int w, int h, int d, int levels, uint32_t *counts);
/* ECC / LK sums (zeroed first) over the mask; template pixel (i, j) has coordinates
 * (x0 + i, y0 + j) (choose x0, y0 to centre the coordinates for conditioning). */
int sd_op_ecc_accumulate(SdCtx *ctx, const float *gx, const float *gy, const float *warped,
                         const float *tmpl, ptrdiff_t sstride, const uint8_t *mask,
                         ptrdiff_t mstride, int w, int h, float x0, float y0, SdEccAcc *acc);
/* From the sums: H = J^T J (6x6 row-major), jw = J^T warped, jt = J^T tmpl, j1 = J^T 1, for the
 * affine parameters (m00, m10, m01, m11, m02, m12) in the centred coordinates. Zero-mean
 * versions follow as J^T(v - mean) = jv - mean * j1. */
void sd_ecc_affine_system(const SdEccAcc *a, double H[36], double jw[6], double jt[6],
                          double j1[6]);

#endif

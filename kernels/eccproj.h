/* ECC accumulation for a projective (homography) warp: the Jacobian depends on the warped point,
 * so the affine moment trick of kernels/stats.h does not apply. Kernels ADD into the accumulator. */
#ifndef KERNELS_ECCPROJ_H
#define KERNELS_ECCPROJ_H

#include <stddef.h>
#include <stdint.h>

/* H maps template coordinates (x, y) = (x0 + i, y0 + j) to input coordinates
 * u = (h0 x + h1 y + h2) / D, v = (h3 x + h4 y + h5) / D, D = h6 x + h7 y + h8.
 * Jacobian over (h0..h7): J = (gx x, gx y, gx, gy x, gy y, gy, -(gx u + gy v) x, -(gx u + gy v) y) / D.
 * Sums over masked pixels: jj = upper triangle of J J^T (row-major, 36), j = sum J,
 * j0 = sum J v0, j1 = sum J v1, v = (sum v0, sum v1, sum v0^2, sum v1^2, sum v0 v1), n. */
typedef struct SdEccProjAcc {
    double n;
    double jj[36];
    double j[8], j0[8], j1[8];
    double v[5];
} SdEccProjAcc;

#define decl_eccproj_fn(name) void (name)(SdEccProjAcc *acc, const float *gx, const float *gy, \
        const float *v0, const float *v1, ptrdiff_t src_stride, const uint8_t *mask, \
        ptrdiff_t mask_stride, int w, int h, float x0, float y0, const double hm[9])

typedef decl_eccproj_fn(*sd_eccproj_fn);

typedef struct SdEccProjDSP {
    sd_eccproj_fn acc;
} SdEccProjDSP;

void sd_eccproj_dsp_init(SdEccProjDSP *c, unsigned cpu_flags);
void sd_eccproj_dsp_init_avx2(SdEccProjDSP *c);

#endif

/* Per-pixel 2x2 symmetric eigen-analysis of Hessian images and a Frangi-type ridge measure. */
#ifndef KERNELS_HESSIAN_H
#define KERNELS_HESSIAN_H

#include <math.h>
#include <stddef.h>

typedef struct SdRidgeParams {
    float s2;      /* scale normalisation: eigenvalues are multiplied by sigma^2 */
    float beta;    /* Frangi blob-ness sensitivity (0.5 typical) */
    float c;       /* Frangi structure sensitivity, in scaled-eigenvalue units */
} SdRidgeParams;

/* Eigenvalues of s2*[xx xy; xy yy], ordered |l1| <= |l2|, and theta = orientation (radians,
 * (-pi/2, pi/2]) of the eigenvector of l1, i.e. the direction along a line. theta may be NULL.
 * All planes share one stride. */
#define decl_eig2_fn(name) void (name)(float *l1, float *l2, float *theta, ptrdiff_t dst_stride, \
        const float *xx, const float *xy, const float *yy, ptrdiff_t src_stride, int w, int h, float s2)
/* Frangi vesselness for dark valleys (l2 > 0): exp(-Rb^2/(2 beta^2)) * (1 - exp(-S^2/(2 c^2))),
 * Rb = l1/l2, S = sqrt(l1^2 + l2^2); 0 where l2 <= 0. */
#define decl_ridge_fn(name) void (name)(float *dst, ptrdiff_t dst_stride, \
        const float *xx, const float *xy, const float *yy, ptrdiff_t src_stride, int w, int h, \
        const SdRidgeParams *p)

/* Eigenvalues of [a b; b c] ordered by magnitude (|l1| <= |l2|); returns 1 when l1 is m + rad.
 * The closed form (mean +- radius) is stable enough in float for scaled Hessians; the SIMD
 * variants use the same formula (no FMA), so their eigenvalues are bit-exact. */
static inline int sd_eig_sorted(float a, float b, float c, float *l1, float *l2)
{
    const float m = 0.5f * (a + c), d = 0.5f * (a - c);
    const float rad = sqrtf(d * d + b * b);
    const float p = m + rad, q = m - rad;
    if (fabsf(p) <= fabsf(q)) { *l1 = p; *l2 = q; return 1; }
    *l1 = q; *l2 = p;
    return 0;
}

typedef decl_eig2_fn(*sd_eig2_fn);
typedef decl_ridge_fn(*sd_ridge_fn);

typedef struct SdHessianDSP {
    sd_eig2_fn eig2;
    sd_ridge_fn ridge;
} SdHessianDSP;

void sd_hessian_dsp_init(SdHessianDSP *c, unsigned cpu_flags);
void sd_hessian_dsp_init_avx2(SdHessianDSP *c);
void sd_hessian_dsp_init_avx512(SdHessianDSP *c);

#endif

/* Skin-metric map kernels (owned by the metrics stage): multi-scale ridge selection, along-line
 * averaging, ITA, and 3-term linear combinations of planes. Planar float32, strides in bytes,
 * any w >= 1, strip-callable; never allocate, never fail. */
#ifndef KERNELS_SKINMAP_H
#define KERNELS_SKINMAP_H

#include <stddef.h>

/* Signed valley measure v = sign(l2) (|l2| - |l1|) of one Hessian scale (|l1| <= |l2|); keeps the
 * running maximum in r and the line angle of the winning scale in th (first = 1: initialise). */
#define decl_ridge_max_fn(name) void (name)(float *r, float *th, ptrdiff_t dst_stride, \
        const float *l1, const float *l2, const float *t, ptrdiff_t src_stride, int w, int h, int first)
/* One Hessian scale into the running maximum, keeping the winner's Hessian instead of its angle:
 * A = s2 xx, B = s2 xy, C = s2 yy, their eigenvalues l1, l2 (sd_eig_sorted), v as ridge_max;
 * where first or v > r: r = v and (a, b, c) = (A, B, C). The line angle of the winning scale is
 * then one sd_op_hessian_eig of (a, b, c) at sigma 1, instead of one angle per scale. */
#define decl_ridge_keep_fn(name) void (name)(float *r, float *a, float *b, float *c, ptrdiff_t dst_stride, \
        const float *xx, const float *xy, const float *yy, ptrdiff_t src_stride, int w, int h, float s2, \
        int first)
/* dst = k[0] a + k[1] b + k[2] c (c may be NULL: two terms). dst may alias a. */
#define decl_lincomb_fn(name) void (name)(float *dst, ptrdiff_t dst_stride, const float *a, \
        const float *b, const float *c, ptrdiff_t src_stride, int w, int h, const float k[3])
/* Individual typology angle in degrees: atan2(L - 50, b) * 180 / pi. */
#define decl_ita_fn(name) void (name)(float *dst, ptrdiff_t dst_stride, const float *L, \
        const float *b, ptrdiff_t src_stride, int w, int h)
/* Mean of src over 2 ns + 1 points spaced `step` px along each pixel's line direction theta
 * (radians; direction (cos, sin)), bilinear, coordinates clamped to the plane. src is the whole
 * sw x sh plane; the kernel writes rows y0 .. y0+h-1 (dst and theta point at row y0), all sw
 * columns. */
#define decl_line_mean_fn(name) void (name)(float *dst, ptrdiff_t dst_stride, const float *src, \
        ptrdiff_t src_stride, int sw, int sh, const float *theta, ptrdiff_t th_stride, int y0, int h, \
        float step, int ns)

/* 2x bilinear upsampling of a half-resolution plane (sample i centred on full-res 2i + 0.5, as
 * sd_op_down2 makes it): full-res rows y0 .. y0+h-1 (dst points at row y0), dw columns; src is
 * the whole sw x sh half plane, edges clamped. */
#define decl_up2_fn(name) void (name)(float *dst, ptrdiff_t dst_stride, int dw, int y0, int h, \
        const float *src, ptrdiff_t src_stride, int sw, int sh)

typedef decl_ridge_max_fn(*sd_ridge_max_fn);
typedef decl_ridge_keep_fn(*sd_ridge_keep_fn);
typedef decl_lincomb_fn(*sd_lincomb_fn);
typedef decl_ita_fn(*sd_ita_fn);
typedef decl_line_mean_fn(*sd_line_mean_fn);
typedef decl_up2_fn(*sd_up2_fn);

typedef struct SdSkinmapDSP {
    sd_ridge_max_fn ridge_max;
    sd_ridge_keep_fn ridge_keep;
    sd_lincomb_fn lincomb;
    sd_ita_fn ita;
    sd_line_mean_fn line_mean;
    sd_up2_fn up2;
} SdSkinmapDSP;

void sd_skinmap_dsp_init(SdSkinmapDSP *c, unsigned cpu_flags);
void sd_skinmap_dsp_init_avx2(SdSkinmapDSP *c);
/* The table for a CPU level, built once (read-only afterwards). */
const SdSkinmapDSP *sd_skinmap_dsp(unsigned cpu_flags);

/* sin and cos by polynomials on [-pi/2, pi/2] (|error| < 4e-6); the line angle never leaves it. */
static inline void sd_sincos_halfpi(float x, float *s, float *c)
{
    const float x2 = x * x;
    *s = x * (1.0f + x2 * (-1.0f / 6 + x2 * (1.0f / 120 + x2 * (-1.0f / 5040 + x2 * (1.0f / 362880)))));
    *c = 1.0f + x2 * (-0.5f + x2 * (1.0f / 24 + x2 * (-1.0f / 720 + x2 * (1.0f / 40320 - x2 * (1.0f / 3628800)))));
}

#endif

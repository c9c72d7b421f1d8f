/* Colour kernels: sRGB decoding, linear RGB -> CIE L*a*b* (D65), optical density, 3x3 matrix apply.
 * Planar float32 unless noted; strides in bytes; any w >= 1; strip-callable (rows are independent). */
#ifndef KERNELS_COLOUR_H
#define KERNELS_COLOUR_H

#include <stddef.h>
#include <stdint.h>

/* sRGB float decode: piecewise-linear table over [0,1] with SD_SRGB_LUT_N segments (abs. error
 * < 1e-6 against the exact curve); inputs are clamped to [0,1]. */
#define SD_SRGB_LUT_N 1024

/* u8 interleaved RGB (3 bytes/pixel) -> three linear float planes through a 256-entry table. */
#define decl_srgb8_to_lin_fn(name) void (name)(float *const dst[3], ptrdiff_t dst_stride, \
        const uint8_t *src, ptrdiff_t src_stride, int w, int h, const float *lut256)
/* One float plane, sRGB-encoded [0,1] -> linear; lut has SD_SRGB_LUT_N + 2 entries. */
#define decl_srgbf_to_lin_fn(name) void (name)(float *dst, ptrdiff_t dst_stride, \
        const float *src, ptrdiff_t src_stride, int w, int h, const float *lut)
/* Linear RGB planes (sRGB primaries, D65) -> L* (0..100), a*, b* planes. dst[1] may be NULL:
 * a* is then not computed (L* and b* are the same values). */
#define decl_rgb_to_lab_fn(name) void (name)(float *const dst[3], ptrdiff_t dst_stride, \
        const float *const src[3], ptrdiff_t src_stride, int w, int h)
/* Optical density -log10(max(c, eps)), one plane. */
#define decl_od_fn(name) void (name)(float *dst, ptrdiff_t dst_stride, \
        const float *src, ptrdiff_t src_stride, int w, int h, float eps)
/* dst_i = sum_j m[3*i+j] * src_j (row-major 3x3), three planes. dst must not alias src. */
#define decl_mat3_fn(name) void (name)(float *const dst[3], ptrdiff_t dst_stride, \
        const float *const src[3], ptrdiff_t src_stride, int w, int h, const float m[9])

typedef decl_srgb8_to_lin_fn(*sd_srgb8_to_lin_fn);
typedef decl_srgbf_to_lin_fn(*sd_srgbf_to_lin_fn);
typedef decl_rgb_to_lab_fn(*sd_rgb_to_lab_fn);
typedef decl_od_fn(*sd_od_fn);
typedef decl_mat3_fn(*sd_mat3_fn);

typedef struct SdColourDSP {
    sd_srgb8_to_lin_fn srgb8_to_lin;
    sd_srgbf_to_lin_fn srgbf_to_lin;
    sd_rgb_to_lab_fn rgb_to_lab;
    sd_od_fn od;
    sd_mat3_fn mat3;
    /* Read-only tables the kernels take (filled by init). */
    float lut8[256];
    float lutf[SD_SRGB_LUT_N + 2];
} SdColourDSP;

void sd_colour_dsp_init(SdColourDSP *c, unsigned cpu_flags);

/* Exact reference helpers (also used by tests). */
float sd_srgb_to_linear(float v);
/* Lab constants shared by the C and SIMD variants. */
#define SD_LAB_XN 0.95047f
#define SD_LAB_ZN 1.08883f
#define SD_LAB_EPS (216.0f / 24389.0f)
#define SD_LAB_KAPPA (24389.0f / 27.0f)

void sd_colour_dsp_init_avx2(SdColourDSP *c);
void sd_colour_dsp_init_avx512(SdColourDSP *c);

#endif

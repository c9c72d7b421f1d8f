/* Separable filter kernels: symmetric / antisymmetric 1-D convolutions (Gaussian and its
 * derivatives), box sums. Vertical passes take an array of row pointers so callers resolve borders
 * (mirroring) and strips; horizontal passes read r valid floats before and after each row. */
#ifndef KERNELS_FILTER_H
#define KERNELS_FILTER_H

#include <stddef.h>

/* Vertical symmetric: dst[y][x] = k[0]*s[y+r][x] + sum_{i=1..r} k[i]*(s[y+r-i][x] + s[y+r+i][x])
 * where s = src_rows (h + 2r row pointers). Antisymmetric: sum_{i=1..r} k[i]*(s[y+r+i] - s[y+r-i]). */
#define decl_conv_v_fn(name) void (name)(float *dst, ptrdiff_t dst_stride, \
        const float *const *src_rows, int w, int h, const float *k, int r)
/* Horizontal symmetric / antisymmetric, same formulas along x; src[y][-r .. w-1+r] must be readable. */
#define decl_conv_h_fn(name) void (name)(float *dst, ptrdiff_t dst_stride, \
        const float *src, ptrdiff_t src_stride, int w, int h, const float *k, int r)
/* Column sums over n rows: sum[x] = sum_j rows[j][x], sq[x] = sum_j rows[j][x]^2 (one output row). */
#define decl_box_v_fn(name) void (name)(float *sum, float *sq, const float *const *rows, int w, int n)
/* Horizontal window sums of width 2r+1 of the column sums (each row padded by r both sides) ->
 * mean = S*inv_area, var = max(Q*inv_area - mean^2, 0) (var may be NULL). One output row. */
#define decl_box_h_fn(name) void (name)(float *mean, float *var, const float *sum, const float *sq, \
        int w, int r, float inv_area)

typedef decl_conv_v_fn(*sd_conv_v_fn);
typedef decl_conv_h_fn(*sd_conv_h_fn);
typedef decl_box_v_fn(*sd_box_v_fn);
typedef decl_box_h_fn(*sd_box_h_fn);

typedef struct SdFilterDSP {
    sd_conv_v_fn v_sym, v_anti;
    sd_conv_h_fn h_sym, h_anti;
    sd_box_v_fn box_v;
    sd_box_h_fn box_h;
} SdFilterDSP;

void sd_filter_dsp_init(SdFilterDSP *c, unsigned cpu_flags);
void sd_filter_dsp_init_avx2(SdFilterDSP *c);
void sd_filter_dsp_init_avx512(SdFilterDSP *c);

#endif

/* Geometric kernels: bilinear sampling under an affine / projective map, 2x downsampling. */
#ifndef KERNELS_WARP_H
#define KERNELS_WARP_H

#include <stddef.h>
#include <stdint.h>

/* Map from destination pixel (x, y) to source coordinates (pixel centres at integers):
 * sx = (m[0]x + m[1]y + m[2]) / (m[6]x + m[7]y + m[8]), sy likewise with m[3..5]; the affine kernel
 * ignores m[6..8]. Destination pixel (x, y) of the tile is image pixel (x0 + x, y0 + y). */
typedef struct SdWarpParams {
    double m[9];
    int x0, y0;
    float fill;          /* value written where the source point is outside [0,sw-1]x[0,sh-1] */
} SdWarpParams;

/* Bilinear. mask (may be NULL): 255 inside, 0 outside. The source point is inside when
 * 0 <= sx <= sw-1 and 0 <= sy <= sh-1 (coordinates computed in float, identically at every level). */
#define decl_warp_fn(name) void (name)(float *dst, ptrdiff_t dst_stride, uint8_t *mask, \
        ptrdiff_t mask_stride, const float *src, ptrdiff_t src_stride, int sw, int sh, \
        int w, int h, const SdWarpParams *p)
/* 2x2 mean: dst[y][x] = mean of src rows 2y, 2y+1 and columns 2x, 2x+1, each clamped to the
 * source size (sw, sh counted from the src pointer). */
#define decl_down2_fn(name) void (name)(float *dst, ptrdiff_t dst_stride, \
        const float *src, ptrdiff_t src_stride, int w, int h, int sw, int sh)

typedef decl_warp_fn(*sd_warp_fn);
typedef decl_down2_fn(*sd_down2_fn);

typedef struct SdWarpDSP {
    sd_warp_fn affine, homog;
    sd_down2_fn down2;
} SdWarpDSP;

void sd_warp_dsp_init(SdWarpDSP *c, unsigned cpu_flags);
void sd_warp_dsp_init_avx2(SdWarpDSP *c);

#endif

/* Bicubic (Keys, a = -0.5) resampling under an affine / projective map: the one resampling that
 * makes each canonical image, so fine texture keeps more of its energy than with bilinear (the
 * registration loops keep the bilinear kernels of kernels/warp.h). */
#ifndef KERNELS_WARPCUBIC_H
#define KERNELS_WARPCUBIC_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/warp.h"

/* Same map, tile and mask conventions as decl_warp_fn (kernels/warp.h): destination pixel (x, y)
 * of the tile is image pixel (p->x0 + x, p->y0 + y), source point (sx, sy) = M (x, y, 1) computed
 * in float from a double row origin; inside when 0 <= sx <= sw-1 and 0 <= sy <= sh-1 (mask 255,
 * else 0 and dst = fill). The 4x4 taps clamp to the source edges; results clamp to [lo, hi].
 * np planes (1..4) share the map and the weights: plane k of dst / src starts k * dst_plane /
 * k * src_plane bytes after dst / src (the planar SdImage layout). */
#define decl_warp_cubic_fn(name) void (name)(float *dst, ptrdiff_t dst_stride, ptrdiff_t dst_plane, \
        uint8_t *mask, ptrdiff_t mask_stride, const float *src, ptrdiff_t src_stride, \
        ptrdiff_t src_plane, int np, int sw, int sh, int w, int h, const SdWarpParams *p, \
        float lo, float hi)

typedef decl_warp_cubic_fn(*sd_warp_cubic_fn);

typedef struct SdWarpCubicDSP {
    sd_warp_cubic_fn cubic;
} SdWarpCubicDSP;

void sd_warpcubic_dsp_init(SdWarpCubicDSP *c, unsigned cpu_flags);
void sd_warpcubic_dsp_init_avx2(SdWarpCubicDSP *c);

/* Keys (a = -0.5) weights of taps -1, 0, 1, 2 at fraction t: one definition for the C reference
 * and the SIMD files' edge paths, so both compute the same weights. */
static inline void sd__cubic_keys(float t, float w[4])
{
    w[0] = ((-0.5f * t + 1.0f) * t - 0.5f) * t;
    w[1] = (1.5f * t - 2.5f) * t * t + 1.0f;
    w[2] = ((-1.5f * t + 2.0f) * t + 0.5f) * t;
    w[3] = (0.5f * t - 0.5f) * t * t;
}

#endif

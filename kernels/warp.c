/* Warp kernels: scalar references and the dispatch init. */
#include <math.h>

#include "kernels/warp.h"
#include "kernels/cpu.h"

#include "kernels/rows.h"

/* Bilinear sample at (sx, sy), or fill outside. The index clamps make the edge pixels (sx == sw-1)
 * and one-pixel-wide sources work without reading past the image. */
static inline float sample(const float *src, ptrdiff_t ss, int sw, int sh, float sx, float sy,
                           float fill, uint8_t *m)
{
    if (!(sx >= 0.0f && sx <= (float)(sw - 1) && sy >= 0.0f && sy <= (float)(sh - 1))) {
        *m = 0;
        return fill;
    }
    *m = 255;
    const float fx0 = floorf(sx), fy0 = floorf(sy);
    int x0 = (int)fx0, y0 = (int)fy0;
    const float fx = sx - fx0, fy = sy - fy0;
    const int x1 = x0 + 1 < sw ? x0 + 1 : x0, y1 = y0 + 1 < sh ? y0 + 1 : y0;
    const float *r0 = CROW(float, src, ss, y0), *r1 = CROW(float, src, ss, y1);
    const float top = r0[x0] + fx * (r0[x1] - r0[x0]);
    const float bot = r1[x0] + fx * (r1[x1] - r1[x0]);
    return top + fy * (bot - top);
}

static void affine_c(float *dst, ptrdiff_t dst_stride, uint8_t *mask, ptrdiff_t mask_stride,
                     const float *src, ptrdiff_t src_stride, int sw, int sh, int w, int h,
                     const SdWarpParams *p)
{
    const float a = (float)p->m[0], d = (float)p->m[3];
    for (int y = 0; y < h; y++) {
        /* Row origin in double, then float steps: identical arithmetic in every variant. */
        const double yy = (double)(p->y0 + y), xb = (double)p->x0;
        const float bx = (float)(p->m[0] * xb + p->m[1] * yy + p->m[2]);
        const float by = (float)(p->m[3] * xb + p->m[4] * yy + p->m[5]);
        float *o = ROW(float, dst, dst_stride, y);
        uint8_t *mo = mask ? ROW(uint8_t, mask, mask_stride, y) : NULL;
        for (int x = 0; x < w; x++) {
            const float fx = (float)x;
            const float t0 = a * fx, t1 = d * fx;
            uint8_t m;
            o[x] = sample(src, src_stride, sw, sh, bx + t0, by + t1, p->fill, &m);
            if (mo) mo[x] = m;
        }
    }
}

static void homog_c(float *dst, ptrdiff_t dst_stride, uint8_t *mask, ptrdiff_t mask_stride,
                    const float *src, ptrdiff_t src_stride, int sw, int sh, int w, int h,
                    const SdWarpParams *p)
{
    const float a = (float)p->m[0], d = (float)p->m[3], g = (float)p->m[6];
    for (int y = 0; y < h; y++) {
        const double yy = (double)(p->y0 + y), xb = (double)p->x0;
        const float bx = (float)(p->m[0] * xb + p->m[1] * yy + p->m[2]);
        const float by = (float)(p->m[3] * xb + p->m[4] * yy + p->m[5]);
        const float bz = (float)(p->m[6] * xb + p->m[7] * yy + p->m[8]);
        float *o = ROW(float, dst, dst_stride, y);
        uint8_t *mo = mask ? ROW(uint8_t, mask, mask_stride, y) : NULL;
        for (int x = 0; x < w; x++) {
            const float fx = (float)x;
            const float t0 = a * fx, t1 = d * fx, t2 = g * fx;
            const float X = bx + t0, Y = by + t1, Z = bz + t2;
            uint8_t m;
            o[x] = sample(src, src_stride, sw, sh, X / Z, Y / Z, p->fill, &m);
            if (mo) mo[x] = m;
        }
    }
}

static void down2_c(float *dst, ptrdiff_t dst_stride, const float *src, ptrdiff_t src_stride,
                    int w, int h, int sw, int sh)
{
    for (int y = 0; y < h; y++) {
        const int y0 = 2 * y, y1 = 2 * y + 1 < sh ? 2 * y + 1 : 2 * y;
        const float *r0 = CROW(float, src, src_stride, y0), *r1 = CROW(float, src, src_stride, y1);
        float *o = ROW(float, dst, dst_stride, y);
        for (int x = 0; x < w; x++) {
            const int x0 = 2 * x, x1 = 2 * x + 1 < sw ? 2 * x + 1 : 2 * x;
            o[x] = 0.25f * ((r0[x0] + r0[x1]) + (r1[x0] + r1[x1]));
        }
    }
}

void sd_warp_dsp_init(SdWarpDSP *c, unsigned cpu_flags)
{
    c->affine = affine_c;
    c->homog = homog_c;
    c->down2 = down2_c;
#if defined(__x86_64__)
    if (!(cpu_flags & SD_CPU_AVX2)) return;
    sd_warp_dsp_init_avx2(c);
    /* No AVX-512 level: the AVX2 samplers replace gathers by 8-lane in-register permutes; the
     * 16-lane versions (two-register vpermt2ps, 64-bit pair gathers) measured 15-50% slower on
     * Zen 4, which runs 512-bit permutes and gathers as two halves. */
#endif
}

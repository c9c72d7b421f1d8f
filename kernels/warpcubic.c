/* Bicubic warp: scalar reference and the dispatch init. */
#include <math.h>

#include "kernels/warpcubic.h"
#include "kernels/cpu.h"

#include "kernels/rows.h"


static void cubic_c(float *dst, ptrdiff_t dst_stride, ptrdiff_t dst_plane, uint8_t *mask,
                    ptrdiff_t mask_stride, const float *src, ptrdiff_t src_stride, ptrdiff_t src_plane,
                    int np, int sw, int sh, int w, int h, const SdWarpParams *p, float lo, float hi)
{
    const int proj = !(p->m[6] == 0.0 && p->m[7] == 0.0 && p->m[8] == 1.0);
    const float a = (float)p->m[0], d = (float)p->m[3], g = (float)p->m[6];
    for (int y = 0; y < h; y++) {
        const double yy = (double)(p->y0 + y), xb = (double)p->x0;
        const float bx = (float)(p->m[0] * xb + p->m[1] * yy + p->m[2]);
        const float by = (float)(p->m[3] * xb + p->m[4] * yy + p->m[5]);
        const float bz = (float)(p->m[6] * xb + p->m[7] * yy + p->m[8]);
        uint8_t *mo = mask ? ROW(uint8_t, mask, mask_stride, y) : NULL;
        for (int x = 0; x < w; x++) {
            const float fx = (float)x;
            float sx = bx + a * fx, sy = by + d * fx;
            if (proj) {
                const float z = bz + g * fx;
                sx = sx / z;
                sy = sy / z;
            }
            if (!(sx >= 0.0f && sx <= (float)(sw - 1) && sy >= 0.0f && sy <= (float)(sh - 1))) {
                for (int k = 0; k < np; k++)
                    ROW(float, (char *)dst + k * dst_plane, dst_stride, y)[x] = p->fill;
                if (mo) mo[x] = 0;
                continue;
            }
            if (mo) mo[x] = 255;
            const float x0f = floorf(sx), y0f = floorf(sy);
            const int x0 = (int)x0f, y0 = (int)y0f;
            float wx[4], wy[4];
            sd__cubic_keys(sx - x0f, wx);
            sd__cubic_keys(sy - y0f, wy);
            int xi[4], yi[4];
            for (int i = 0; i < 4; i++) {
                const int xx = x0 - 1 + i, yj = y0 - 1 + i;
                xi[i] = xx < 0 ? 0 : xx > sw - 1 ? sw - 1 : xx;
                yi[i] = yj < 0 ? 0 : yj > sh - 1 ? sh - 1 : yj;
            }
            for (int k = 0; k < np; k++) {
                const char *sp = (const char *)src + k * src_plane;
                float acc = 0.0f;
                for (int j = 0; j < 4; j++) {
                    const float *r = CROW(float, sp, src_stride, yi[j]);
                    const float row = wx[0] * r[xi[0]] + wx[1] * r[xi[1]] + wx[2] * r[xi[2]] + wx[3] * r[xi[3]];
                    acc += wy[j] * row;
                }
                ROW(float, (char *)dst + k * dst_plane, dst_stride, y)[x] = acc < lo ? lo : acc > hi ? hi : acc;
            }
        }
    }
}

void sd_warpcubic_dsp_init(SdWarpCubicDSP *c, unsigned cpu_flags)
{
    c->cubic = cubic_c;
#if defined(__x86_64__)
    if (!(cpu_flags & SD_CPU_AVX2)) return;
    sd_warpcubic_dsp_init_avx2(c);
#endif
}

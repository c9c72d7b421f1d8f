/* Bicubic warp, AVX2+FMA: coordinates, inside test and weights with the C arithmetic; interior
 * pixels fetch their 4x4 block as four unaligned 4-float rows and blend with FMA; pixels whose
 * block touches the source edge take the clamped scalar path. */
#include <immintrin.h>
#include <math.h>

#include "kernels/warpcubic.h"

#include "kernels/rows.h"


static void cubic_avx2(float *dst, ptrdiff_t dst_stride, ptrdiff_t dst_plane, uint8_t *mask,
                       ptrdiff_t mask_stride, const float *src, ptrdiff_t src_stride,
                       ptrdiff_t src_plane, int np, int sw, int sh, int w, int h,
                       const SdWarpParams *p, float lo, float hi)
{
    const int proj = !(p->m[6] == 0.0 && p->m[7] == 0.0 && p->m[8] == 1.0);
    const float a = (float)p->m[0], d = (float)p->m[3], g = (float)p->m[6];
    const __m128 vlo = _mm_set_ss(lo), vhi = _mm_set_ss(hi);
    for (int y = 0; y < h; y++) {
        const double yy = (double)(p->y0 + y), xb = (double)p->x0;
        const float bx = (float)(p->m[0] * xb + p->m[1] * yy + p->m[2]);
        const float by = (float)(p->m[3] * xb + p->m[4] * yy + p->m[5]);
        const float bz = (float)(p->m[6] * xb + p->m[7] * yy + p->m[8]);
        uint8_t *mo = mask ? ROW(uint8_t, mask, mask_stride, y) : NULL;
        float *orow = ROW(float, dst, dst_stride, y);
        for (int x = 0; x < w; x++) {
            const float fx = (float)x;
            float sx = bx + a * fx, sy = by + d * fx;
            if (proj) {
                const float z = bz + g * fx;
                sx = sx / z;
                sy = sy / z;
            }
            if (!(sx >= 0.0f && sx <= (float)(sw - 1) && sy >= 0.0f && sy <= (float)(sh - 1))) {
                for (int k = 0; k < np; k++) ((float *)((char *)orow + k * dst_plane))[x] = p->fill;
                if (mo) mo[x] = 0;
                continue;
            }
            if (mo) mo[x] = 255;
            const float x0f = floorf(sx), y0f = floorf(sy);
            const int x0 = (int)x0f - 1, y0 = (int)y0f - 1;
            float wx[4], wy[4];
            sd__cubic_keys(sx - x0f, wx);
            sd__cubic_keys(sy - y0f, wy);
            if (x0 >= 0 && x0 + 3 <= sw - 1 && y0 >= 0 && y0 + 3 <= sh - 1) {
                const __m128 vwx = _mm_loadu_ps(wx);
                const __m128 w0 = _mm_set1_ps(wy[0]), w1 = _mm_set1_ps(wy[1]), w2 = _mm_set1_ps(wy[2]),
                             w3 = _mm_set1_ps(wy[3]);
                const float *r0 = CROW(float, src, src_stride, y0) + x0;
                for (int k = 0; k < np; k++) {
                    const float *r = (const float *)((const char *)r0 + k * src_plane);
                    __m128 acc = _mm_mul_ps(w0, _mm_loadu_ps(r));
                    r = (const float *)((const char *)r + src_stride);
                    acc = _mm_fmadd_ps(w1, _mm_loadu_ps(r), acc);
                    r = (const float *)((const char *)r + src_stride);
                    acc = _mm_fmadd_ps(w2, _mm_loadu_ps(r), acc);
                    r = (const float *)((const char *)r + src_stride);
                    acc = _mm_fmadd_ps(w3, _mm_loadu_ps(r), acc);
                    acc = _mm_mul_ps(acc, vwx);
                    acc = _mm_add_ps(acc, _mm_movehl_ps(acc, acc));
                    acc = _mm_add_ss(acc, _mm_shuffle_ps(acc, acc, 1));
                    acc = _mm_min_ss(_mm_max_ss(acc, vlo), vhi);
                    ((float *)((char *)orow + k * dst_plane))[x] = _mm_cvtss_f32(acc);
                }
            } else {
                int xi[4], yi[4];
                for (int i = 0; i < 4; i++) {
                    const int xx = x0 + i, yj = y0 + i;
                    xi[i] = xx < 0 ? 0 : xx > sw - 1 ? sw - 1 : xx;
                    yi[i] = yj < 0 ? 0 : yj > sh - 1 ? sh - 1 : yj;
                }
                for (int k = 0; k < np; k++) {
                    const char *sp = (const char *)src + k * src_plane;
                    float v = 0.0f;
                    for (int j = 0; j < 4; j++) {
                        const float *r = CROW(float, sp, src_stride, yi[j]);
                        v += wy[j] * (wx[0] * r[xi[0]] + wx[1] * r[xi[1]] + wx[2] * r[xi[2]] + wx[3] * r[xi[3]]);
                    }
                    ((float *)((char *)orow + k * dst_plane))[x] = v < lo ? lo : v > hi ? hi : v;
                }
            }
        }
    }
}

void sd_warpcubic_dsp_init_avx2(SdWarpCubicDSP *c)
{
    c->cubic = cubic_avx2;
}

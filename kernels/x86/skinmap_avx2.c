/* Skin-metric map kernels, AVX2+FMA. ridge_max and lincomb match C within float rounding (FMA);
 * ita uses the polynomial atan2 (< 1e-5 rad, i.e. < 6e-4 deg); line_mean gathers 4 neighbours per
 * sample with the same polynomial sin/cos as C. */
#include <immintrin.h>

#include "kernels/skinmap.h"
#include "kernels/x86/math_avx2.h"

#define ROW(T, p, stride, y) ((T *)((char *)(p) + (ptrdiff_t)(y) * (stride)))
#define CROW(T, p, stride, y) ((const T *)((const char *)(p) + (ptrdiff_t)(y) * (stride)))

static void ridge_max_avx2(float *r, float *th, ptrdiff_t dst_stride, const float *l1,
                           const float *l2, const float *t, ptrdiff_t src_stride, int w, int h,
                           int first)
{
    const __m256 abs = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff)),
                 sgn = _mm256_castsi256_ps(_mm256_set1_epi32((int)0x80000000u));
    for (int y = 0; y < h; y++) {
        const float *a = CROW(float, l1, src_stride, y), *b = CROW(float, l2, src_stride, y),
                    *tt = CROW(float, t, src_stride, y);
        float *rr = ROW(float, r, dst_stride, y), *o = ROW(float, th, dst_stride, y);
        for (int x = 0; x < w; x += 8) {
            const int full = x + 8 <= w;
            const __m256i tm = sd_tail_mask8(full ? 8 : w - x);
            const __m256 A = sd_ld8(a + x, tm, full), B = sd_ld8(b + x, tm, full);
            __m256 v = _mm256_sub_ps(_mm256_and_ps(B, abs), _mm256_and_ps(A, abs));
            /* negate where l2 < 0 */
            v = _mm256_xor_ps(v, _mm256_and_ps(_mm256_cmp_ps(B, _mm256_setzero_ps(), _CMP_LT_OQ), sgn));
            if (first) {
                sd_st8(rr + x, tm, full, v);
                sd_st8(o + x, tm, full, sd_ld8(tt + x, tm, full));
            } else {
                const __m256 R = sd_ld8(rr + x, tm, full), T = sd_ld8(tt + x, tm, full),
                             O = sd_ld8(o + x, tm, full);
                const __m256 gt = _mm256_cmp_ps(v, R, _CMP_GT_OQ);
                sd_st8(rr + x, tm, full, _mm256_blendv_ps(R, v, gt));
                sd_st8(o + x, tm, full, _mm256_blendv_ps(O, T, gt));
            }
        }
    }
}

static void lincomb_avx2(float *dst, ptrdiff_t dst_stride, const float *a, const float *b,
                         const float *c, ptrdiff_t src_stride, int w, int h, const float k[3])
{
    const __m256 k0 = _mm256_set1_ps(k[0]), k1 = _mm256_set1_ps(k[1]), k2 = _mm256_set1_ps(k[2]);
    for (int y = 0; y < h; y++) {
        const float *pa = CROW(float, a, src_stride, y), *pb = CROW(float, b, src_stride, y);
        const float *pc = c ? CROW(float, c, src_stride, y) : NULL;
        float *d = ROW(float, dst, dst_stride, y);
        for (int x = 0; x < w; x += 8) {
            const int full = x + 8 <= w;
            const __m256i tm = sd_tail_mask8(full ? 8 : w - x);
            __m256 v = _mm256_add_ps(_mm256_mul_ps(k0, sd_ld8(pa + x, tm, full)),
                                     _mm256_mul_ps(k1, sd_ld8(pb + x, tm, full)));
            if (pc)
                v = _mm256_add_ps(v, _mm256_mul_ps(k2, sd_ld8(pc + x, tm, full)));
            sd_st8(d + x, tm, full, v);
        }
    }
}

static void ita_avx2(float *dst, ptrdiff_t dst_stride, const float *L, const float *b,
                     ptrdiff_t src_stride, int w, int h)
{
    const __m256 fifty = _mm256_set1_ps(50.0f), deg = _mm256_set1_ps(57.2957795f);
    for (int y = 0; y < h; y++) {
        const float *pl = CROW(float, L, src_stride, y), *pb = CROW(float, b, src_stride, y);
        float *d = ROW(float, dst, dst_stride, y);
        for (int x = 0; x < w; x += 8) {
            const int full = x + 8 <= w;
            const __m256i tm = sd_tail_mask8(full ? 8 : w - x);
            const __m256 yy = _mm256_sub_ps(sd_ld8(pl + x, tm, full), fifty);
            sd_st8(d + x, tm, full, _mm256_mul_ps(sd_atan2_ps(yy, sd_ld8(pb + x, tm, full)), deg));
        }
    }
}

static void line_mean_avx2(float *dst, ptrdiff_t dst_stride, const float *src, ptrdiff_t src_stride,
                           int sw, int sh, const float *theta, ptrdiff_t th_stride, int y0, int h,
                           float step, int ns)
{
    const float xmax = sw > 1 ? (float)(sw - 1) - 1e-3f : 0.0f, ymax = sh > 1 ? (float)(sh - 1) - 1e-3f : 0.0f;
    const __m256 vxmax = _mm256_set1_ps(xmax), vymax = _mm256_set1_ps(ymax), zero = _mm256_setzero_ps(),
                 one = _mm256_set1_ps(1.0f), vstep = _mm256_set1_ps(step),
                 inv = _mm256_set1_ps(1.0f / (float)(2 * ns + 1)), lane = _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i vsw1 = _mm256_set1_epi32(sw - 1), vsh1 = _mm256_set1_epi32(sh - 1),
                  vstr = _mm256_set1_epi32((int)(src_stride / (ptrdiff_t)sizeof(float))), one_i = _mm256_set1_epi32(1);
    for (int j = 0; j < h; j++) {
        const int y = y0 + j;
        const float *o = CROW(float, theta, th_stride, j);
        float *d = ROW(float, dst, dst_stride, j);
        for (int x = 0; x < sw; x += 8) {
            const int full = x + 8 <= sw;
            const __m256i tm = sd_tail_mask8(full ? 8 : sw - x);
            const __m256 t = sd_ld8(o + x, tm, full), t2 = _mm256_mul_ps(t, t);
            __m256 sn = _mm256_fmadd_ps(t2, _mm256_set1_ps(1.0f / 362880), _mm256_set1_ps(-1.0f / 5040));
            sn = _mm256_fmadd_ps(t2, sn, _mm256_set1_ps(1.0f / 120));
            sn = _mm256_fmadd_ps(t2, sn, _mm256_set1_ps(-1.0f / 6));
            sn = _mm256_mul_ps(t, _mm256_fmadd_ps(t2, sn, one));
            __m256 cs = _mm256_fmadd_ps(t2, _mm256_set1_ps(-1.0f / 3628800), _mm256_set1_ps(1.0f / 40320));
            cs = _mm256_fmadd_ps(t2, cs, _mm256_set1_ps(-1.0f / 720));
            cs = _mm256_fmadd_ps(t2, cs, _mm256_set1_ps(1.0f / 24));
            cs = _mm256_fmadd_ps(t2, cs, _mm256_set1_ps(-0.5f));
            cs = _mm256_fmadd_ps(t2, cs, one);
            const __m256 dx = _mm256_mul_ps(cs, vstep), dy = _mm256_mul_ps(sn, vstep);
            const __m256 px = _mm256_add_ps(_mm256_set1_ps((float)x), lane), py = _mm256_set1_ps((float)y);
            __m256 acc = zero;
            for (int k = -ns; k <= ns; k++) {
                const __m256 kk = _mm256_set1_ps((float)k);
                __m256 fx = _mm256_fmadd_ps(kk, dx, px), fy = _mm256_fmadd_ps(kk, dy, py);
                fx = _mm256_min_ps(_mm256_max_ps(fx, zero), vxmax);
                fy = _mm256_min_ps(_mm256_max_ps(fy, zero), vymax);
                const __m256i ix = _mm256_cvttps_epi32(fx), iy = _mm256_cvttps_epi32(fy);
                const __m256 ax = _mm256_sub_ps(fx, _mm256_cvtepi32_ps(ix)),
                             ay = _mm256_sub_ps(fy, _mm256_cvtepi32_ps(iy));
                const __m256i ix1 = _mm256_min_epi32(_mm256_add_epi32(ix, one_i), vsw1),
                              iy1 = _mm256_min_epi32(_mm256_add_epi32(iy, one_i), vsh1);
                const __m256i r0 = _mm256_mullo_epi32(iy, vstr), r1 = _mm256_mullo_epi32(iy1, vstr);
                const __m256 v00 = _mm256_i32gather_ps(src, _mm256_add_epi32(r0, ix), 4),
                             v01 = _mm256_i32gather_ps(src, _mm256_add_epi32(r0, ix1), 4),
                             v10 = _mm256_i32gather_ps(src, _mm256_add_epi32(r1, ix), 4),
                             v11 = _mm256_i32gather_ps(src, _mm256_add_epi32(r1, ix1), 4);
                const __m256 top = _mm256_fmadd_ps(ax, _mm256_sub_ps(v01, v00), v00),
                             bot = _mm256_fmadd_ps(ax, _mm256_sub_ps(v11, v10), v10);
                acc = _mm256_add_ps(acc, _mm256_fmadd_ps(ay, _mm256_sub_ps(bot, top), top));
            }
            sd_st8(d + x, tm, full, _mm256_mul_ps(acc, inv));
        }
    }
}

void sd_skinmap_dsp_init_avx2(SdSkinmapDSP *c)
{
    c->ridge_max = ridge_max_avx2;
    c->lincomb = lincomb_avx2;
    c->ita = ita_avx2;
    c->line_mean = line_mean_avx2;
}

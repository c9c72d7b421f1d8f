/* Hessian eigen-analysis, AVX-512: eigenvalues with the C operations (bit-exact, as in AVX2),
 * theta and ridge through the shared polynomials; masked tails. */
#include <immintrin.h>

#include "kernels/hessian.h"
#include "kernels/x86/math_avx512.h"

#include "kernels/rows.h"

static inline void eig16(__m512 A, __m512 B, __m512 C, __m512 *l1, __m512 *l2, __mmask16 *e1_is_p)
{
    const __m512 half = _mm512_set1_ps(0.5f);
    const __m512 m = _mm512_mul_ps(half, _mm512_add_ps(A, C)), d = _mm512_mul_ps(half, _mm512_sub_ps(A, C));
    const __m512 rad = _mm512_sqrt_ps(_mm512_add_ps(_mm512_mul_ps(d, d), _mm512_mul_ps(B, B)));
    const __m512 p = _mm512_add_ps(m, rad), q = _mm512_sub_ps(m, rad);
    const __mmask16 sel = _mm512_cmp_ps_mask(_mm512_abs_ps(p), _mm512_abs_ps(q), _CMP_LE_OQ);
    *l1 = _mm512_mask_blend_ps(sel, q, p);
    *l2 = _mm512_mask_blend_ps(sel, p, q);
    *e1_is_p = sel;
}

static void eig2_avx512(float *l1, float *l2, float *theta, ptrdiff_t dst_stride, const float *xx,
                        const float *xy, const float *yy, ptrdiff_t src_stride, int w, int h, float s2)
{
    const __m512 s = _mm512_set1_ps(s2), two = _mm512_set1_ps(2.0f), half = _mm512_set1_ps(0.5f),
                 hpi = _mm512_set1_ps(1.57079632679f), zero = _mm512_setzero_ps();
    for (int y = 0; y < h; y++) {
        const float *a = CROW(float, xx, src_stride, y), *b = CROW(float, xy, src_stride, y),
                    *c = CROW(float, yy, src_stride, y);
        float *o1 = ROW(float, l1, dst_stride, y), *o2 = ROW(float, l2, dst_stride, y);
        float *ot = theta ? ROW(float, theta, dst_stride, y) : NULL;
        for (int x = 0; x < w; x += 16) {
            const __mmask16 m = sd_tail16(w - x < 16 ? w - x : 16);
            const __m512 A = _mm512_mul_ps(s, sd_ld16(a + x, m)), B = _mm512_mul_ps(s, sd_ld16(b + x, m)),
                         C = _mm512_mul_ps(s, sd_ld16(c + x, m));
            __m512 e1, e2;
            __mmask16 isp;
            eig16(A, B, C, &e1, &e2, &isp);
            sd_st16(o1 + x, m, e1);
            sd_st16(o2 + x, m, e2);
            if (ot) {
                const __m512 phi = _mm512_mul_ps(half, sd_atan2_512(_mm512_mul_ps(two, B), _mm512_sub_ps(A, C)));
                const __m512 adj = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(phi, zero, _CMP_GT_OQ), hpi,
                                                        _mm512_sub_ps(zero, hpi));
                sd_st16(ot + x, m, _mm512_mask_add_ps(phi, (__mmask16)~isp, phi, adj));
            }
        }
    }
}

static void ridge_avx512(float *dst, ptrdiff_t dst_stride, const float *xx, const float *xy,
                         const float *yy, ptrdiff_t src_stride, int w, int h, const SdRidgeParams *p)
{
    const __m512 s = _mm512_set1_ps(p->s2), zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f);
    const __m512 nib = _mm512_set1_ps(-1.0f / (2.0f * p->beta * p->beta)),
                 nic = _mm512_set1_ps(-1.0f / (2.0f * p->c * p->c));
    for (int y = 0; y < h; y++) {
        const float *a = CROW(float, xx, src_stride, y), *b = CROW(float, xy, src_stride, y),
                    *c = CROW(float, yy, src_stride, y);
        float *d = ROW(float, dst, dst_stride, y);
        for (int x = 0; x < w; x += 16) {
            const __mmask16 m = sd_tail16(w - x < 16 ? w - x : 16);
            __m512 e1, e2;
            __mmask16 isp;
            eig16(_mm512_mul_ps(s, sd_ld16(a + x, m)), _mm512_mul_ps(s, sd_ld16(b + x, m)),
                  _mm512_mul_ps(s, sd_ld16(c + x, m)), &e1, &e2, &isp);
            const __mmask16 pos = _mm512_cmp_ps_mask(e2, zero, _CMP_GT_OQ);
            const __m512 rb = _mm512_div_ps(e1, _mm512_mask_blend_ps(pos, one, e2));
            const __m512 ss = _mm512_fmadd_ps(e1, e1, _mm512_mul_ps(e2, e2));
            const __m512 v = _mm512_mul_ps(sd_exp512(_mm512_mul_ps(_mm512_mul_ps(rb, rb), nib)),
                                           _mm512_sub_ps(one, sd_exp512(_mm512_mul_ps(ss, nic))));
            sd_st16(d + x, m, _mm512_maskz_mov_ps(pos, v));
        }
    }
}

void sd_hessian_dsp_init_avx512(SdHessianDSP *c)
{
    c->eig2 = eig2_avx512;
    c->ridge = ridge_avx512;
}

/* Hessian eigen-analysis, AVX2+FMA. Eigenvalues use exactly the C arithmetic (no FMA), so they
 * and their |l1| <= |l2| ordering are bit-exact; theta (polynomial atan2) and the ridge measure
 * (polynomial exp) are within the tolerances stated in checkasm. */
#include <immintrin.h>

#include "kernels/hessian.h"
#include "kernels/x86/eig_avx2.h"
#include "kernels/x86/math_avx2.h"

#include "kernels/rows.h"

static void eig2_avx2(float *l1, float *l2, float *theta, ptrdiff_t dst_stride, const float *xx,
                      const float *xy, const float *yy, ptrdiff_t src_stride, int w, int h, float s2)
{
    const __m256 s = _mm256_set1_ps(s2), two = _mm256_set1_ps(2.0f), half = _mm256_set1_ps(0.5f),
                 hpi = _mm256_set1_ps(1.57079632679f), zero = _mm256_setzero_ps();
    for (int y = 0; y < h; y++) {
        const float *a = CROW(float, xx, src_stride, y), *b = CROW(float, xy, src_stride, y),
                    *c = CROW(float, yy, src_stride, y);
        float *o1 = ROW(float, l1, dst_stride, y), *o2 = ROW(float, l2, dst_stride, y);
        float *ot = theta ? ROW(float, theta, dst_stride, y) : NULL;
        for (int x = 0; x < w; x += 8) {
            const int full = x + 8 <= w;
            const __m256i tm = sd_tail_mask8(full ? 8 : w - x);
            const __m256 A = _mm256_mul_ps(s, sd_ld8(a + x, tm, full)),
                         B = _mm256_mul_ps(s, sd_ld8(b + x, tm, full)),
                         C = _mm256_mul_ps(s, sd_ld8(c + x, tm, full));
            __m256 e1, e2, isp;
            sd_eig8_avx2(A, B, C, &e1, &e2, &isp);
            if (full) { _mm256_storeu_ps(o1 + x, e1); _mm256_storeu_ps(o2 + x, e2); }
            else { _mm256_maskstore_ps(o1 + x, tm, e1); _mm256_maskstore_ps(o2 + x, tm, e2); }
            if (ot) {
                __m256 phi = _mm256_mul_ps(half, sd_atan2_ps(_mm256_mul_ps(two, B), _mm256_sub_ps(A, C)));
                const __m256 adj = _mm256_blendv_ps(hpi, _mm256_sub_ps(zero, hpi),
                                                    _mm256_cmp_ps(phi, zero, _CMP_GT_OQ));
                phi = _mm256_blendv_ps(_mm256_add_ps(phi, adj), phi, isp);
                if (full) _mm256_storeu_ps(ot + x, phi);
                else _mm256_maskstore_ps(ot + x, tm, phi);
            }
        }
    }
}

static void ridge_avx2(float *dst, ptrdiff_t dst_stride, const float *xx, const float *xy,
                       const float *yy, ptrdiff_t src_stride, int w, int h, const SdRidgeParams *p)
{
    const __m256 s = _mm256_set1_ps(p->s2), zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f);
    const __m256 nib = _mm256_set1_ps(-1.0f / (2.0f * p->beta * p->beta)),
                 nic = _mm256_set1_ps(-1.0f / (2.0f * p->c * p->c));
    for (int y = 0; y < h; y++) {
        const float *a = CROW(float, xx, src_stride, y), *b = CROW(float, xy, src_stride, y),
                    *c = CROW(float, yy, src_stride, y);
        float *d = ROW(float, dst, dst_stride, y);
        for (int x = 0; x < w; x += 8) {
            const int full = x + 8 <= w;
            const __m256i tm = sd_tail_mask8(full ? 8 : w - x);
            __m256 e1, e2, isp;
            sd_eig8_avx2(_mm256_mul_ps(s, sd_ld8(a + x, tm, full)), _mm256_mul_ps(s, sd_ld8(b + x, tm, full)),
                 _mm256_mul_ps(s, sd_ld8(c + x, tm, full)), &e1, &e2, &isp);
            const __m256 pos = _mm256_cmp_ps(e2, zero, _CMP_GT_OQ);
            const __m256 rb = _mm256_div_ps(e1, _mm256_blendv_ps(one, e2, pos));
            const __m256 ss = _mm256_fmadd_ps(e1, e1, _mm256_mul_ps(e2, e2));
            const __m256 v = _mm256_mul_ps(sd_exp_ps(_mm256_mul_ps(_mm256_mul_ps(rb, rb), nib)),
                                           _mm256_sub_ps(one, sd_exp_ps(_mm256_mul_ps(ss, nic))));
            sd_st8(d + x, tm, full, _mm256_and_ps(v, pos));
        }
    }
}

void sd_hessian_dsp_init_avx2(SdHessianDSP *c)
{
    c->eig2 = eig2_avx2;
    c->ridge = ridge_avx2;
}

/* 2x2 symmetric eigenvalues of 8 pixels, AVX2: the C arithmetic of sd_eig_sorted (no FMA), so
 * bit-exact. Shared by the Hessian and skin-map kernels. */
#ifndef KERNELS_X86_EIG_AVX2_H
#define KERNELS_X86_EIG_AVX2_H

#include <immintrin.h>

/* p = m + rad, q = m - rad; e1_is_p where |p| <= |q| (same tie rule as C). */
static inline void sd_eig8_avx2(__m256 A, __m256 B, __m256 C, __m256 *l1, __m256 *l2, __m256 *e1_is_p)
{
    const __m256 half = _mm256_set1_ps(0.5f), abs = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    const __m256 m = _mm256_mul_ps(half, _mm256_add_ps(A, C)), d = _mm256_mul_ps(half, _mm256_sub_ps(A, C));
    const __m256 rad = _mm256_sqrt_ps(_mm256_add_ps(_mm256_mul_ps(d, d), _mm256_mul_ps(B, B)));
    const __m256 p = _mm256_add_ps(m, rad), q = _mm256_sub_ps(m, rad);
    const __m256 sel = _mm256_cmp_ps(_mm256_and_ps(p, abs), _mm256_and_ps(q, abs), _CMP_LE_OQ);
    *l1 = _mm256_blendv_ps(q, p, sel);
    *l2 = _mm256_blendv_ps(p, q, sel);
    *e1_is_p = sel;
}

#endif

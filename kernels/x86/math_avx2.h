/* Vector maths shared by the AVX2 kernel files (include only from *_avx2.c): tail masks and
 * polynomial exp / log / cbrt / atan2 with the accuracy each kernel documents. */
#ifndef KERNELS_X86_MATH_AVX2_H
#define KERNELS_X86_MATH_AVX2_H

#include <immintrin.h>
#include <stdint.h>

/* Lane mask with the first n (0..8) lanes set. */
static inline __m256i sd_tail_mask8(int n)
{
    static const int32_t m[16] = { -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0 };
    return _mm256_loadu_si256((const __m256i *)(m + 8 - n));
}

/* Full vectors use plain loads/stores (AMD's masked stores are slow); only the tail is masked.
 * `full` is a literal at every call site, so each branch folds away. */
static inline __m256 sd_ld8(const float *p, __m256i tm, int full)
{
    return full ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, tm);
}
static inline void sd_st8(float *p, __m256i tm, int full, __m256 v)
{
    if (full) _mm256_storeu_ps(p, v);
    else _mm256_maskstore_ps(p, tm, v);
}

/* exp(x) for x <= 0 (x < -87 gives 0): Cody-Waite reduction, degree-6 polynomial; rel. error
 * < 2e-7 in that range. */
static inline __m256 sd_exp_ps(__m256 x)
{
    const __m256 lo = _mm256_set1_ps(-87.0f);
    const __m256 under = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
    x = _mm256_max_ps(x, lo);
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.0f / 720);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    p = _mm256_mul_ps(p, _mm256_castsi256_ps(e));
    return _mm256_andnot_ps(under, p);
}

/* ln(x) for positive normal finite x: exponent split, mantissa in [sqrt(1/2), sqrt(2)), atanh
 * series in t = (m-1)/(m+1) to t^9; abs. error < 1e-7 (|ln m| <= 0.35). */
static inline __m256 sd_log_ps(__m256 x)
{
    __m256i i = _mm256_castps_si256(x);
    __m256i e = _mm256_sub_epi32(_mm256_srli_epi32(i, 23), _mm256_set1_epi32(127));
    __m256 m = _mm256_castsi256_ps(_mm256_or_si256(_mm256_and_si256(i, _mm256_set1_epi32(0x007fffff)),
                                                   _mm256_set1_epi32(0x3f800000)));
    const __m256 big = _mm256_cmp_ps(m, _mm256_set1_ps(1.41421356f), _CMP_GT_OQ);
    m = _mm256_blendv_ps(m, _mm256_mul_ps(m, _mm256_set1_ps(0.5f)), big);
    e = _mm256_sub_epi32(e, _mm256_castps_si256(big));           /* big lanes: e + 1 */
    const __m256 t = _mm256_div_ps(_mm256_sub_ps(m, _mm256_set1_ps(1.0f)), _mm256_add_ps(m, _mm256_set1_ps(1.0f)));
    const __m256 t2 = _mm256_mul_ps(t, t);
    __m256 p = _mm256_set1_ps(2.0f / 9);
    p = _mm256_fmadd_ps(p, t2, _mm256_set1_ps(2.0f / 7));
    p = _mm256_fmadd_ps(p, t2, _mm256_set1_ps(2.0f / 5));
    p = _mm256_fmadd_ps(p, t2, _mm256_set1_ps(2.0f / 3));
    p = _mm256_fmadd_ps(p, t2, _mm256_set1_ps(2.0f));
    const __m256 lm = _mm256_mul_ps(p, t);
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(e), _mm256_set1_ps(0.693147181f), lm);
}

/* cbrt(x) for x > 0 normal: exponent/3 bit guess, then two Newton steps; rel. error < 2e-7
 * after rounding (tested in checkasm through Lab). */
static inline __m256 sd_cbrt_ps(__m256 x)
{
    const __m256 third = _mm256_set1_ps(1.0f / 3.0f);
    const __m256 fi = _mm256_cvtepi32_ps(_mm256_castps_si256(x));
    __m256 y = _mm256_castsi256_ps(_mm256_add_epi32(_mm256_cvttps_epi32(_mm256_mul_ps(fi, third)),
                                                    _mm256_set1_epi32(0x2a5137a0)));
    for (int k = 0; k < 3; k++) {      /* y <- y - (y^3 - x) / (3 y^2) */
        const __m256 y2 = _mm256_mul_ps(y, y);
        y = _mm256_fmadd_ps(_mm256_set1_ps(2.0f / 3.0f), y, _mm256_mul_ps(third, _mm256_div_ps(x, y2)));
    }
    return y;
}

/* atan2(y, x) in (-pi, pi], abs. error < 1e-5 rad (odd minimax polynomial on [0,1]); respects the
 * sign of zero like atan2f. */
static inline __m256 sd_atan2_ps(__m256 y, __m256 x)
{
    const __m256 sgn = _mm256_set1_ps(-0.0f);
    const __m256 ax = _mm256_andnot_ps(sgn, x), ay = _mm256_andnot_ps(sgn, y);
    const __m256 mx = _mm256_max_ps(ax, ay), mn = _mm256_min_ps(ax, ay);
    __m256 a = _mm256_div_ps(mn, mx);
    a = _mm256_and_ps(a, _mm256_cmp_ps(mx, _mm256_setzero_ps(), _CMP_GT_OQ));   /* 0/0 -> 0 */
    const __m256 s = _mm256_mul_ps(a, a);
    __m256 p = _mm256_set1_ps(-0.0117212f);
    p = _mm256_fmadd_ps(p, s, _mm256_set1_ps(0.05265332f));
    p = _mm256_fmadd_ps(p, s, _mm256_set1_ps(-0.11643287f));
    p = _mm256_fmadd_ps(p, s, _mm256_set1_ps(0.19354346f));
    p = _mm256_fmadd_ps(p, s, _mm256_set1_ps(-0.33262347f));
    p = _mm256_fmadd_ps(p, s, _mm256_set1_ps(0.99997723f));
    __m256 r = _mm256_mul_ps(p, a);
    r = _mm256_blendv_ps(r, _mm256_sub_ps(_mm256_set1_ps(1.57079637f), r),
                         _mm256_cmp_ps(ay, ax, _CMP_GT_OQ));
    /* x negative (including -0): pi - r */
    const __m256 xneg = _mm256_castsi256_ps(_mm256_srai_epi32(_mm256_castps_si256(x), 31));
    r = _mm256_blendv_ps(r, _mm256_sub_ps(_mm256_set1_ps(3.14159274f), r), xneg);
    return _mm256_or_ps(r, _mm256_and_ps(y, sgn));                 /* sign of y */
}

#endif

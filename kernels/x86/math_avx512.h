/* Vector maths shared by the AVX-512 kernel files (include only from *_avx512.c): tail masks and
 * the same polynomial exp / log / cbrt / atan2 as math_avx2.h, on 16 lanes. */
#ifndef KERNELS_X86_MATH_AVX512_H
#define KERNELS_X86_MATH_AVX512_H

#include <immintrin.h>
#include <stdint.h>

/* Mask of the first n (0..16) lanes. */
static inline __mmask16 sd_tail16(int n) { return (__mmask16)((1u << n) - 1u); }

/* A plain 64-byte load the compiler may not fuse with a later mask into a (slow) masked load
 * (it would for maskz_mov(loadu)); the barrier also stops it folding into an FMA operand, so
 * use it only where a mask follows. */
static inline __m512 sd_ld16_full(const float *p)
{
    __m512 v = _mm512_loadu_ps(p);
    __asm__("" : "+v"(v));
    return v;
}

/* Loads/stores that use the mask only on a partial vector: zero-masked loads are several times
 * slower than plain ones on Zen 4 even with every lane enabled. */
static inline __m512 sd_ld16(const float *p, __mmask16 m)
{
    return m == 0xffff ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(m, p);
}
static inline void sd_st16(float *p, __mmask16 m, __m512 v)
{
    if (m == 0xffff) _mm512_storeu_ps(p, v);
    else _mm512_mask_storeu_ps(p, m, v);
}

/* a / b through rcp14 + one Newton step (~1 ulp): a 512-bit vdivps is slow on double-pumped
 * cores (Zen 4), and these polynomial paths do not need a correctly rounded quotient. */
static inline __m512 sd_div512(__m512 a, __m512 b)
{
    __m512 r = _mm512_rcp14_ps(b);
    r = _mm512_mul_ps(r, _mm512_fnmadd_ps(b, r, _mm512_set1_ps(2.0f)));
    return _mm512_mul_ps(a, r);
}

static inline __m512 sd_exp512(__m512 x)
{
    const __m512 lo = _mm512_set1_ps(-87.0f);
    const __mmask16 under = _mm512_cmp_ps_mask(x, lo, _CMP_LT_OQ);
    x = _mm512_max_ps(x, lo);
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.0f / 720);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    const __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
    p = _mm512_mul_ps(p, _mm512_castsi512_ps(e));
    return _mm512_maskz_mov_ps((__mmask16)~under, p);
}

static inline __m512 sd_log512(__m512 x)
{
    const __m512i i = _mm512_castps_si512(x);
    __m512i e = _mm512_sub_epi32(_mm512_srli_epi32(i, 23), _mm512_set1_epi32(127));
    __m512 m = _mm512_castsi512_ps(_mm512_or_si512(_mm512_and_si512(i, _mm512_set1_epi32(0x007fffff)),
                                                   _mm512_set1_epi32(0x3f800000)));
    const __mmask16 big = _mm512_cmp_ps_mask(m, _mm512_set1_ps(1.41421356f), _CMP_GT_OQ);
    m = _mm512_mask_mul_ps(m, big, m, _mm512_set1_ps(0.5f));
    e = _mm512_mask_add_epi32(e, big, e, _mm512_set1_epi32(1));
    const __m512 t = sd_div512(_mm512_sub_ps(m, _mm512_set1_ps(1.0f)), _mm512_add_ps(m, _mm512_set1_ps(1.0f)));
    const __m512 t2 = _mm512_mul_ps(t, t);
    __m512 p = _mm512_set1_ps(2.0f / 9);
    p = _mm512_fmadd_ps(p, t2, _mm512_set1_ps(2.0f / 7));
    p = _mm512_fmadd_ps(p, t2, _mm512_set1_ps(2.0f / 5));
    p = _mm512_fmadd_ps(p, t2, _mm512_set1_ps(2.0f / 3));
    p = _mm512_fmadd_ps(p, t2, _mm512_set1_ps(2.0f));
    return _mm512_fmadd_ps(_mm512_cvtepi32_ps(e), _mm512_set1_ps(0.693147181f), _mm512_mul_ps(p, t));
}

static inline __m512 sd_cbrt512(__m512 x)
{
    const __m512 third = _mm512_set1_ps(1.0f / 3.0f);
    const __m512 fi = _mm512_cvtepi32_ps(_mm512_castps_si512(x));
    __m512 y = _mm512_castsi512_ps(_mm512_add_epi32(_mm512_cvttps_epi32(_mm512_mul_ps(fi, third)),
                                                    _mm512_set1_epi32(0x2a5137a0)));
    for (int k = 0; k < 3; k++) {
        const __m512 y2 = _mm512_mul_ps(y, y);
        y = _mm512_fmadd_ps(_mm512_set1_ps(2.0f / 3.0f), y, _mm512_mul_ps(third, sd_div512(x, y2)));
    }
    return y;
}

static inline __m512 sd_atan2_512(__m512 y, __m512 x)
{
    const __m512 ax = _mm512_abs_ps(x), ay = _mm512_abs_ps(y);
    const __m512 mx = _mm512_max_ps(ax, ay), mn = _mm512_min_ps(ax, ay);
    const __mmask16 nz = _mm512_cmp_ps_mask(mx, _mm512_setzero_ps(), _CMP_GT_OQ);
    const __m512 a = _mm512_maskz_mov_ps(nz, sd_div512(mn, mx));
    const __m512 s = _mm512_mul_ps(a, a);
    __m512 p = _mm512_set1_ps(-0.0117212f);
    p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(0.05265332f));
    p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(-0.11643287f));
    p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(0.19354346f));
    p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(-0.33262347f));
    p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(0.99997723f));
    __m512 r = _mm512_mul_ps(p, a);
    r = _mm512_mask_sub_ps(r, _mm512_cmp_ps_mask(ay, ax, _CMP_GT_OQ), _mm512_set1_ps(1.57079637f), r);
    const __mmask16 xneg = _mm512_movepi32_mask(_mm512_castps_si512(x));     /* sign bit, -0 too */
    r = _mm512_mask_sub_ps(r, xneg, _mm512_set1_ps(3.14159274f), r);
    const __m512i sy = _mm512_and_si512(_mm512_castps_si512(y), _mm512_set1_epi32((int)0x80000000u));
    return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(r), sy));
}

#endif

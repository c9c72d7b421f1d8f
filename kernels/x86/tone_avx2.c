/* Tone kernels, AVX2: the C arithmetic of kernels/tone.c lane by lane (clamps, table index and
 * fraction, interpolation and matrix as separate multiplies and adds, correctly rounded sqrt), with
 * each pair of table entries fetched by one 64-bit gather element: bit-identical to the C
 * reference. */
#include <immintrin.h>

#include "kernels/tone.h"
#include "kernels/x86/math_avx2.h"

/* lut() of kernels/tone.c on 8 lanes (t has n + 1 entries). */
static inline __m256 lut8(const float *t, int n, __m256 x)
{
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_setzero_ps()), _mm256_set1_ps(1.0f));
    const __m256 f = _mm256_mul_ps(x, _mm256_set1_ps((float)n));
    const __m256i i = _mm256_min_epi32(_mm256_cvttps_epi32(f), _mm256_set1_epi32(n - 1));
    const __m256 r = _mm256_sub_ps(f, _mm256_cvtepi32_ps(i));
    /* (t[i], t[i+1]) as one 64-bit element: two 4-element gathers instead of two 8-element ones.
     * Indices in lane order 0 1 4 5 | 2 3 6 7 so that the even/odd shuffles give natural order. */
    const __m256i ip = _mm256_permutevar8x32_epi32(i, _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7));
    const __m256 lo = _mm256_castsi256_ps(_mm256_i32gather_epi64((const long long *)t, _mm256_castsi256_si128(ip), 4)),
                 hi = _mm256_castsi256_ps(_mm256_i32gather_epi64((const long long *)t, _mm256_extracti128_si256(ip, 1), 4));
    const __m256 a = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0)),
                 b = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1));
    return _mm256_add_ps(a, _mm256_mul_ps(r, _mm256_sub_ps(b, a)));
}

static inline void px8(float *const p[3], int x, __m256i tm, int full, const __m256 *k,
                       const float *dec, const float *enc)
{
    const __m256 r = lut8(dec, SD_TONE_NDEC, sd_ld8(p[0] + x, tm, full)),
                 g = lut8(dec, SD_TONE_NDEC, sd_ld8(p[1] + x, tm, full)),
                 b = lut8(dec, SD_TONE_NDEC, sd_ld8(p[2] + x, tm, full));
    for (int c = 0; c < 3; c++) {
        __m256 v = _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(k[3 * c], r), _mm256_mul_ps(k[3 * c + 1], g)),
                                 _mm256_mul_ps(k[3 * c + 2], b));
        v = _mm256_min_ps(_mm256_max_ps(v, _mm256_setzero_ps()), _mm256_set1_ps(1.0f));
        sd_st8(p[c] + x, tm, full, lut8(enc, SD_TONE_NENC, _mm256_sqrt_ps(v)));
    }
}

static void mat3_srgb_avx2(float *const p[3], int w, const float m[9])
{
    const float *dec = sd__tone_table(0), *enc = sd__tone_table(1);
    __m256 k[9];
    for (int i = 0; i < 9; i++) k[i] = _mm256_set1_ps(m[i]);
    const __m256i all = _mm256_set1_epi32(-1);
    int x = 0;
    for (; x + 8 <= w; x += 8) px8(p, x, all, 1, k, dec, enc);
    if (x < w) px8(p, x, sd_tail_mask8(w - x), 0, k, dec, enc);
}

void sd_tone_dsp_init_avx2(SdToneDSP *c)
{
    c->mat3_srgb = mat3_srgb_avx2;
}

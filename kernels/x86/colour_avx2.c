/* Colour kernels, AVX2+FMA. sRGB decoding (u8 and float) is bit-exact with C (table lookups, same
 * arithmetic); Lab, OD and mat3 use FMA and polynomial cbrt/log (tolerances in checkasm). */
#include <immintrin.h>
#include <stdint.h>

#include "kernels/colour.h"
#include "kernels/x86/math_avx2.h"

#include "kernels/rows.h"

/* Row loop: full vectors, then one masked tail. BODY(x, tm, full) handles 8 pixels at x. */
#define FOR_X(w, BODY) do { \
        int x_ = 0; \
        const __m256i all_ = _mm256_set1_epi32(-1); \
        for (; x_ + 8 <= (w); x_ += 8) BODY(x_, all_, 1); \
        if (x_ < (w)) { const __m256i tm_ = sd_tail_mask8((w) - x_); BODY(x_, tm_, 0); } \
    } while (0)

/* u8 -> linear is a pure table lookup: gathers are slower than scalar loads on current cores, so
 * the lookups stay scalar and the win is on the store side: 8 pixels per plane are assembled in
 * registers and written with non-temporal stores when the rows are aligned (the 12 output bytes
 * per input pixel would otherwise be read into cache before being overwritten). */
static void srgb8_to_lin_avx2(float *const dst[3], ptrdiff_t dst_stride, const uint8_t *src,
                              ptrdiff_t src_stride, int w, int h, const float *lut)
{
    const int nt = !(((uintptr_t)dst[0] | (uintptr_t)dst[1] | (uintptr_t)dst[2] | (uintptr_t)dst_stride) & 31) &&
                   (size_t)w * (size_t)h >= ((size_t)1 << 20);
    for (int y = 0; y < h; y++) {
        const uint8_t *s = CROW(uint8_t, src, src_stride, y);
        float *r = ROW(float, dst[0], dst_stride, y), *g = ROW(float, dst[1], dst_stride, y),
              *b = ROW(float, dst[2], dst_stride, y);
        int x = 0;
        if (nt) {
            for (; x + 8 <= w; x += 8) {
                const uint8_t *p = s + 3 * x;
#define PLANE(c) _mm256_setr_ps(lut[p[c]], lut[p[3 + c]], lut[p[6 + c]], lut[p[9 + c]], lut[p[12 + c]], \
                                lut[p[15 + c]], lut[p[18 + c]], lut[p[21 + c]])
                _mm256_stream_ps(r + x, PLANE(0));
                _mm256_stream_ps(g + x, PLANE(1));
                _mm256_stream_ps(b + x, PLANE(2));
#undef PLANE
            }
        }
        for (; x < w; x++) {
            r[x] = lut[s[3 * x]];
            g[x] = lut[s[3 * x + 1]];
            b[x] = lut[s[3 * x + 2]];
        }
    }
    if (nt) _mm_sfence();
}

/* Table interpolation with the C arithmetic (bit-exact). The direct exp/log form used by the
 * AVX-512 variant runs out of the 16 YMM registers here; each lane's two neighbouring entries
 * come as one 64-bit load (eight loads and a few shuffles are cheaper than two 8-lane gathers). */
static void srgbf_to_lin_avx2(float *dst, ptrdiff_t dst_stride, const float *src,
                              ptrdiff_t src_stride, int w, int h, const float *lut)
{
    const __m256 n = _mm256_set1_ps((float)SD_SRGB_LUT_N), zero = _mm256_setzero_ps();
    for (int y = 0; y < h; y++) {
        const float *s = CROW(float, src, src_stride, y);
        float *d = ROW(float, dst, dst_stride, y);
#define PAIR2(a, b) _mm_castsi128_ps(_mm_unpacklo_epi64(_mm_loadl_epi64((const __m128i *)(lut + (a))), \
                                                       _mm_loadl_epi64((const __m128i *)(lut + (b)))))
#define BODY(x, tm, full) do { \
            __m256 t = _mm256_mul_ps(sd_ld8(s + x, tm, full), n); \
            t = _mm256_min_ps(_mm256_max_ps(t, zero), n);      /* max first: NaN -> 0 */ \
            const __m256i i = _mm256_cvttps_epi32(t); \
            const __m256 f = _mm256_sub_ps(t, _mm256_cvtepi32_ps(i)); \
            int32_t k[8]; \
            _mm256_storeu_si256((__m256i *)k, i); \
            /* (l0, l1) pairs of lanes 0 1 | 4 5 and 2 3 | 6 7, then even / odd elements */ \
            const __m256 pa = _mm256_insertf128_ps(_mm256_castps128_ps256(PAIR2(k[0], k[1])), PAIR2(k[4], k[5]), 1), \
                         pb = _mm256_insertf128_ps(_mm256_castps128_ps256(PAIR2(k[2], k[3])), PAIR2(k[6], k[7]), 1); \
            const __m256 l0 = _mm256_shuffle_ps(pa, pb, _MM_SHUFFLE(2, 0, 2, 0)), \
                         l1 = _mm256_shuffle_ps(pa, pb, _MM_SHUFFLE(3, 1, 3, 1)); \
            sd_st8(d + x, tm, full, _mm256_add_ps(l0, _mm256_mul_ps(f, _mm256_sub_ps(l1, l0)))); \
        } while (0)
        FOR_X(w, BODY);
#undef BODY
#undef PAIR2
    }
}

static inline __m256 lab_f(__m256 t)
{
    const __m256 lin = _mm256_fmadd_ps(t, _mm256_set1_ps(SD_LAB_KAPPA / 116.0f), _mm256_set1_ps(16.0f / 116.0f));
    return _mm256_blendv_ps(lin, sd_cbrt_ps(t), _mm256_cmp_ps(t, _mm256_set1_ps(SD_LAB_EPS), _CMP_GT_OQ));
}

static void rgb_to_lab_avx2(float *const dst[3], ptrdiff_t dst_stride, const float *const src[3],
                            ptrdiff_t src_stride, int w, int h)
{
    const __m256 m0 = _mm256_set1_ps(0.4124564f / SD_LAB_XN), m1 = _mm256_set1_ps(0.3575761f / SD_LAB_XN),
                 m2 = _mm256_set1_ps(0.1804375f / SD_LAB_XN), m3 = _mm256_set1_ps(0.2126729f),
                 m4 = _mm256_set1_ps(0.7151522f), m5 = _mm256_set1_ps(0.0721750f),
                 m6 = _mm256_set1_ps(0.0193339f / SD_LAB_ZN), m7 = _mm256_set1_ps(0.1191920f / SD_LAB_ZN),
                 m8 = _mm256_set1_ps(0.9503041f / SD_LAB_ZN);
    for (int y = 0; y < h; y++) {
        const float *r = CROW(float, src[0], src_stride, y), *g = CROW(float, src[1], src_stride, y),
                    *b = CROW(float, src[2], src_stride, y);
        float *L = ROW(float, dst[0], dst_stride, y), *A = dst[1] ? ROW(float, dst[1], dst_stride, y) : NULL,
              *B = ROW(float, dst[2], dst_stride, y);
        /* WITH_A is a literal: the a*-less loop has no cube root for it */
#define BODY(x, tm, full) do { \
            const __m256 R = sd_ld8(r + x, tm, full), G = sd_ld8(g + x, tm, full), \
                         Bl = sd_ld8(b + x, tm, full); \
            const __m256 fy = lab_f(_mm256_fmadd_ps(m3, R, _mm256_fmadd_ps(m4, G, _mm256_mul_ps(m5, Bl)))); \
            const __m256 fz = lab_f(_mm256_fmadd_ps(m6, R, _mm256_fmadd_ps(m7, G, _mm256_mul_ps(m8, Bl)))); \
            sd_st8(L + x, tm, full, _mm256_fmsub_ps(_mm256_set1_ps(116.0f), fy, _mm256_set1_ps(16.0f))); \
            if (WITH_A) { \
                const __m256 fx = lab_f(_mm256_fmadd_ps(m0, R, _mm256_fmadd_ps(m1, G, _mm256_mul_ps(m2, Bl)))); \
                sd_st8(A + x, tm, full, _mm256_mul_ps(_mm256_set1_ps(500.0f), _mm256_sub_ps(fx, fy))); \
            } \
            sd_st8(B + x, tm, full, _mm256_mul_ps(_mm256_set1_ps(200.0f), _mm256_sub_ps(fy, fz))); \
        } while (0)
        if (A) {
#define WITH_A 1
            FOR_X(w, BODY);
#undef WITH_A
        } else {
#define WITH_A 0
            FOR_X(w, BODY);
#undef WITH_A
        }
#undef BODY
    }
}

static void od_avx2(float *dst, ptrdiff_t dst_stride, const float *src, ptrdiff_t src_stride,
                    int w, int h, float eps)
{
    const __m256 e = _mm256_set1_ps(eps), k = _mm256_set1_ps(-0.434294482f),
                 inf = _mm256_set1_ps(__builtin_inff());
    for (int y = 0; y < h; y++) {
        const float *s = CROW(float, src, src_stride, y);
        float *d = ROW(float, dst, dst_stride, y);
#define BODY(x, tm, full) do { \
            const __m256 v = _mm256_max_ps(sd_ld8(s + x, tm, full), e);   /* NaN -> eps */ \
            __m256 o = _mm256_mul_ps(sd_log_ps(v), k); \
            o = _mm256_blendv_ps(o, _mm256_sub_ps(_mm256_setzero_ps(), inf), _mm256_cmp_ps(v, inf, _CMP_EQ_OQ)); \
            sd_st8(d + x, tm, full, o); \
        } while (0)
        FOR_X(w, BODY);
#undef BODY
    }
}

static void mat3_avx2(float *const dst[3], ptrdiff_t dst_stride, const float *const src[3],
                      ptrdiff_t src_stride, int w, int h, const float m[9])
{
    __m256 k[9];
    for (int i = 0; i < 9; i++) k[i] = _mm256_set1_ps(m[i]);
    for (int y = 0; y < h; y++) {
        const float *a = CROW(float, src[0], src_stride, y), *b = CROW(float, src[1], src_stride, y),
                    *c = CROW(float, src[2], src_stride, y);
        float *o0 = ROW(float, dst[0], dst_stride, y), *o1 = ROW(float, dst[1], dst_stride, y),
              *o2 = ROW(float, dst[2], dst_stride, y);
#define BODY(x, tm, full) do { \
            const __m256 u = sd_ld8(a + x, tm, full), v = sd_ld8(b + x, tm, full), \
                         t = sd_ld8(c + x, tm, full); \
            sd_st8(o0 + x, tm, full, _mm256_fmadd_ps(k[0], u, _mm256_fmadd_ps(k[1], v, _mm256_mul_ps(k[2], t)))); \
            sd_st8(o1 + x, tm, full, _mm256_fmadd_ps(k[3], u, _mm256_fmadd_ps(k[4], v, _mm256_mul_ps(k[5], t)))); \
            sd_st8(o2 + x, tm, full, _mm256_fmadd_ps(k[6], u, _mm256_fmadd_ps(k[7], v, _mm256_mul_ps(k[8], t)))); \
        } while (0)
        FOR_X(w, BODY);
#undef BODY
    }
}

void sd_colour_dsp_init_avx2(SdColourDSP *c)
{
    c->srgb8_to_lin = srgb8_to_lin_avx2;
    c->srgbf_to_lin = srgbf_to_lin_avx2;
    c->rgb_to_lab = rgb_to_lab_avx2;
    c->od = od_avx2;
    c->mat3 = mat3_avx2;
}

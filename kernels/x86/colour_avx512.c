/* Colour kernels, AVX-512 (F/BW/VL/DQ): 16 lanes, masked tails. sRGB decoding of u8 stays with
 * the AVX2 kernel (table lookups; gathers do not pay). */
#include <immintrin.h>

#include "kernels/colour.h"
#include "kernels/x86/math_avx512.h"

#include "kernels/rows.h"

/* Float sRGB decode computed directly instead of interpolating the C table (gathers would cap
 * it): c/12.92 below 0.04045, else exp(2.4 ln((c + 0.055)/1.055)), inputs clamped to [0,1],
 * NaN -> 0; within 1e-6 of the table (checkasm). */
static void srgbf_to_lin_avx512(float *dst, ptrdiff_t dst_stride, const float *src,
                                ptrdiff_t src_stride, int w, int h, const float *lut)
{
    (void)lut;
    const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f);
    for (int y = 0; y < h; y++) {
        const float *s = CROW(float, src, src_stride, y);
        float *d = ROW(float, dst, dst_stride, y);
        for (int x = 0; x < w; x += 16) {
            const __mmask16 m = sd_tail16(w - x < 16 ? w - x : 16);
            const __m512 c = _mm512_min_ps(_mm512_max_ps(sd_ld16(s + x, m), zero), one);   /* NaN -> 0 */
            const __m512 t = _mm512_fmadd_ps(c, _mm512_set1_ps(1.0f / 1.055f), _mm512_set1_ps(0.055f / 1.055f));
            const __m512 hi = sd_exp512(_mm512_mul_ps(_mm512_set1_ps(2.4f), sd_log512(t)));
            const __m512 lo = _mm512_mul_ps(c, _mm512_set1_ps(1.0f / 12.92f));
            sd_st16(d + x, m, _mm512_mask_mov_ps(hi, _mm512_cmp_ps_mask(c, _mm512_set1_ps(0.04045f), _CMP_LE_OQ), lo));
        }
    }
}

static inline __m512 lab_f(__m512 t)
{
    const __m512 lin = _mm512_fmadd_ps(t, _mm512_set1_ps(SD_LAB_KAPPA / 116.0f), _mm512_set1_ps(16.0f / 116.0f));
    return _mm512_mask_mov_ps(lin, _mm512_cmp_ps_mask(t, _mm512_set1_ps(SD_LAB_EPS), _CMP_GT_OQ), sd_cbrt512(t));
}

static void rgb_to_lab_avx512(float *const dst[3], ptrdiff_t dst_stride, const float *const src[3],
                              ptrdiff_t src_stride, int w, int h)
{
    const __m512 m0 = _mm512_set1_ps(0.4124564f / SD_LAB_XN), m1 = _mm512_set1_ps(0.3575761f / SD_LAB_XN),
                 m2 = _mm512_set1_ps(0.1804375f / SD_LAB_XN), m3 = _mm512_set1_ps(0.2126729f),
                 m4 = _mm512_set1_ps(0.7151522f), m5 = _mm512_set1_ps(0.0721750f),
                 m6 = _mm512_set1_ps(0.0193339f / SD_LAB_ZN), m7 = _mm512_set1_ps(0.1191920f / SD_LAB_ZN),
                 m8 = _mm512_set1_ps(0.9503041f / SD_LAB_ZN);
    for (int y = 0; y < h; y++) {
        const float *r = CROW(float, src[0], src_stride, y), *g = CROW(float, src[1], src_stride, y),
                    *b = CROW(float, src[2], src_stride, y);
        float *L = ROW(float, dst[0], dst_stride, y), *A = dst[1] ? ROW(float, dst[1], dst_stride, y) : NULL,
              *B = ROW(float, dst[2], dst_stride, y);
        for (int x = 0; x < w; x += 16) {
            const __mmask16 m = sd_tail16(w - x < 16 ? w - x : 16);
            const __m512 R = sd_ld16(r + x, m), G = sd_ld16(g + x, m),
                         Bl = sd_ld16(b + x, m);
            const __m512 fy = lab_f(_mm512_fmadd_ps(m3, R, _mm512_fmadd_ps(m4, G, _mm512_mul_ps(m5, Bl))));
            const __m512 fz = lab_f(_mm512_fmadd_ps(m6, R, _mm512_fmadd_ps(m7, G, _mm512_mul_ps(m8, Bl))));
            sd_st16(L + x, m, _mm512_fmsub_ps(_mm512_set1_ps(116.0f), fy, _mm512_set1_ps(16.0f)));
            if (A) {
                const __m512 fx = lab_f(_mm512_fmadd_ps(m0, R, _mm512_fmadd_ps(m1, G, _mm512_mul_ps(m2, Bl))));
                sd_st16(A + x, m, _mm512_mul_ps(_mm512_set1_ps(500.0f), _mm512_sub_ps(fx, fy)));
            }
            sd_st16(B + x, m, _mm512_mul_ps(_mm512_set1_ps(200.0f), _mm512_sub_ps(fy, fz)));
        }
    }
}

static void od_avx512(float *dst, ptrdiff_t dst_stride, const float *src, ptrdiff_t src_stride,
                      int w, int h, float eps)
{
    const __m512 e = _mm512_set1_ps(eps), k = _mm512_set1_ps(-0.434294482f),
                 inf = _mm512_set1_ps(__builtin_inff());
    for (int y = 0; y < h; y++) {
        const float *s = CROW(float, src, src_stride, y);
        float *d = ROW(float, dst, dst_stride, y);
        for (int x = 0; x < w; x += 16) {
            const __mmask16 m = sd_tail16(w - x < 16 ? w - x : 16);
            const __m512 v = _mm512_max_ps(sd_ld16(s + x, m), e);   /* NaN -> eps */
            __m512 o = _mm512_mul_ps(sd_log512(v), k);
            o = _mm512_mask_mov_ps(o, _mm512_cmp_ps_mask(v, inf, _CMP_EQ_OQ), _mm512_sub_ps(_mm512_setzero_ps(), inf));
            sd_st16(d + x, m, o);
        }
    }
}

static void mat3_avx512(float *const dst[3], ptrdiff_t dst_stride, const float *const src[3],
                        ptrdiff_t src_stride, int w, int h, const float mm[9])
{
    __m512 k[9];
    for (int i = 0; i < 9; i++) k[i] = _mm512_set1_ps(mm[i]);
    for (int y = 0; y < h; y++) {
        const float *a = CROW(float, src[0], src_stride, y), *b = CROW(float, src[1], src_stride, y),
                    *c = CROW(float, src[2], src_stride, y);
        float *o0 = ROW(float, dst[0], dst_stride, y), *o1 = ROW(float, dst[1], dst_stride, y),
              *o2 = ROW(float, dst[2], dst_stride, y);
        for (int x = 0; x < w; x += 16) {
            const __mmask16 m = sd_tail16(w - x < 16 ? w - x : 16);
            const __m512 u = sd_ld16(a + x, m), v = sd_ld16(b + x, m),
                         t = sd_ld16(c + x, m);
            sd_st16(o0 + x, m, _mm512_fmadd_ps(k[0], u, _mm512_fmadd_ps(k[1], v, _mm512_mul_ps(k[2], t))));
            sd_st16(o1 + x, m, _mm512_fmadd_ps(k[3], u, _mm512_fmadd_ps(k[4], v, _mm512_mul_ps(k[5], t))));
            sd_st16(o2 + x, m, _mm512_fmadd_ps(k[6], u, _mm512_fmadd_ps(k[7], v, _mm512_mul_ps(k[8], t))));
        }
    }
}

void sd_colour_dsp_init_avx512(SdColourDSP *c)
{
    c->srgbf_to_lin = srgbf_to_lin_avx512;
    c->rgb_to_lab = rgb_to_lab_avx512;
    c->od = od_avx512;
    c->mat3 = mat3_avx512;
}

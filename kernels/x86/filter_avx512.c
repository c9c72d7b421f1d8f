/* Separable filter kernels, AVX-512: the AVX2 structure on 16 lanes (4-row blocked vertical pass,
 * folded horizontal taps), tails through lane masks. */
#include <immintrin.h>

#include "kernels/filter.h"
#include "kernels/x86/math_avx512.h"

#define ROW(T, p, stride, y) ((T *)((char *)(p) + (ptrdiff_t)(y) * (stride)))
#define CROW(T, p, stride, y) ((const T *)((const char *)(p) + (ptrdiff_t)(y) * (stride)))

#define FOLD(anti, u, v) ((anti) ? _mm512_sub_ps(u, v) : _mm512_add_ps(u, v))

static inline __attribute__((always_inline)) void v_row(float *d, const float *const *s, int w,
                                                        const float *k, int r, int anti)
{
    const __m512 k0 = _mm512_set1_ps(anti ? 0.0f : k[0]);
    int x = 0;
    for (; x + 64 <= w; x += 64) {
        __m512 a0 = _mm512_mul_ps(k0, _mm512_loadu_ps(s[0] + x)),
               a1 = _mm512_mul_ps(k0, _mm512_loadu_ps(s[0] + x + 16)),
               a2 = _mm512_mul_ps(k0, _mm512_loadu_ps(s[0] + x + 32)),
               a3 = _mm512_mul_ps(k0, _mm512_loadu_ps(s[0] + x + 48));
        for (int i = 1; i <= r; i++) {
            const __m512 ki = _mm512_set1_ps(k[i]);
            const float *p = s[i] + x, *m = s[-i] + x;
#define TAP(acc, o) acc = _mm512_fmadd_ps(ki, FOLD(anti, _mm512_loadu_ps(p + o), _mm512_loadu_ps(m + o)), acc)
            TAP(a0, 0); TAP(a1, 16); TAP(a2, 32); TAP(a3, 48);
        }
        _mm512_storeu_ps(d + x, a0); _mm512_storeu_ps(d + x + 16, a1);
        _mm512_storeu_ps(d + x + 32, a2); _mm512_storeu_ps(d + x + 48, a3);
    }
    for (; x < w; x += 16) {
        const __mmask16 m = sd_tail16(w - x < 16 ? w - x : 16);
        __m512 a = _mm512_mul_ps(k0, sd_ld16(s[0] + x, m));
        for (int i = 1; i <= r; i++)
            a = _mm512_fmadd_ps(_mm512_set1_ps(k[i]), FOLD(anti, sd_ld16(s[i] + x, m),
                                                           sd_ld16(s[-i] + x, m)), a);
        sd_st16(d + x, m, a);
    }
}

/* Four output rows per pass, unfolded taps, each input row loaded once (see filter_avx2.c). */
static inline __attribute__((always_inline)) void v_rows4(float *d, ptrdiff_t ds, const float *const *s,
                                                          int w, const __m512 *kf, int r)
{
    float *d1 = (float *)((char *)d + ds), *d2 = (float *)((char *)d1 + ds), *d3 = (float *)((char *)d2 + ds);
    for (int x = 0; x < w; x += 32) {
        const int n = w - x;
        const __mmask16 m0 = sd_tail16(n < 16 ? n : 16), m1 = sd_tail16(n < 16 ? 0 : n < 32 ? n - 16 : 16);
        __m512 a0 = _mm512_setzero_ps(), b0 = a0, a1 = a0, b1 = a0, a2 = a0, b2 = a0, a3 = a0, b3 = a0;
        for (int j = 0; j < 2 * r + 4; j++) {
            const __m512 u = sd_ld16(s[j] + x, m0), v = sd_ld16(s[j] + x + 16, m1);
            const __m512 *k = kf + 3 + j;
            a0 = _mm512_fmadd_ps(k[0], u, a0); b0 = _mm512_fmadd_ps(k[0], v, b0);
            a1 = _mm512_fmadd_ps(k[-1], u, a1); b1 = _mm512_fmadd_ps(k[-1], v, b1);
            a2 = _mm512_fmadd_ps(k[-2], u, a2); b2 = _mm512_fmadd_ps(k[-2], v, b2);
            a3 = _mm512_fmadd_ps(k[-3], u, a3); b3 = _mm512_fmadd_ps(k[-3], v, b3);
        }
        sd_st16(d + x, m0, a0); sd_st16(d + x + 16, m1, b0);
        sd_st16(d1 + x, m0, a1); sd_st16(d1 + x + 16, m1, b1);
        sd_st16(d2 + x, m0, a2); sd_st16(d2 + x + 16, m1, b2);
        sd_st16(d3 + x, m0, a3); sd_st16(d3 + x + 16, m1, b3);
    }
}

#define SD_MAX_TAPS 512

static void v_any(float *dst, ptrdiff_t dst_stride, const float *const *rows, int w, int h,
                  const float *k, int r, int anti)
{
    int y = 0;
    if (h >= 4 && r < (SD_MAX_TAPS - 8) / 2) {
        __m512 kf[SD_MAX_TAPS];
        for (int t = 0; t < 2 * r + 7; t++) {
            const int i = t - 3 - r;
            float c = 0.0f;
            if (t >= 3 && t <= 2 * r + 3)
                c = anti ? (i > 0 ? k[i] : i < 0 ? -k[-i] : 0.0f) : k[i < 0 ? -i : i];
            kf[t] = _mm512_set1_ps(c);
        }
        for (; y + 4 <= h; y += 4)
            v_rows4(ROW(float, dst, dst_stride, y), dst_stride, rows + y, w, kf, r);
    }
    for (; y < h; y++)
        v_row(ROW(float, dst, dst_stride, y), rows + y + r, w, k, r, anti);
}

static void v_sym_avx512(float *dst, ptrdiff_t dst_stride, const float *const *rows, int w, int h,
                         const float *k, int r)
{
    v_any(dst, dst_stride, rows, w, h, k, r, 0);
}

static void v_anti_avx512(float *dst, ptrdiff_t dst_stride, const float *const *rows, int w, int h,
                          const float *k, int r)
{
    v_any(dst, dst_stride, rows, w, h, k, r, 1);
}

static inline __attribute__((always_inline)) void h_row(float *d, const float *s, int w,
                                                        const float *k, int r, int anti)
{
    const __m512 k0 = _mm512_set1_ps(anti ? 0.0f : k[0]);
    int x = 0;
    for (; x + 64 <= w; x += 64) {
        __m512 a0 = _mm512_mul_ps(k0, _mm512_loadu_ps(s + x)),
               a1 = _mm512_mul_ps(k0, _mm512_loadu_ps(s + x + 16)),
               a2 = _mm512_mul_ps(k0, _mm512_loadu_ps(s + x + 32)),
               a3 = _mm512_mul_ps(k0, _mm512_loadu_ps(s + x + 48));
        for (int i = 1; i <= r; i++) {
            const __m512 ki = _mm512_set1_ps(k[i]);
            const float *p = s + x + i, *m = s + x - i;
            TAP(a0, 0); TAP(a1, 16); TAP(a2, 32); TAP(a3, 48);
        }
        _mm512_storeu_ps(d + x, a0); _mm512_storeu_ps(d + x + 16, a1);
        _mm512_storeu_ps(d + x + 32, a2); _mm512_storeu_ps(d + x + 48, a3);
    }
    for (; x < w; x += 16) {
        const __mmask16 m = sd_tail16(w - x < 16 ? w - x : 16);
        __m512 a = _mm512_mul_ps(k0, sd_ld16(s + x, m));
        for (int i = 1; i <= r; i++)
            a = _mm512_fmadd_ps(_mm512_set1_ps(k[i]), FOLD(anti, sd_ld16(s + x + i, m),
                                                           sd_ld16(s + x - i, m)), a);
        sd_st16(d + x, m, a);
    }
}
#undef TAP

static void h_sym_avx512(float *dst, ptrdiff_t dst_stride, const float *src, ptrdiff_t src_stride,
                         int w, int h, const float *k, int r)
{
    for (int y = 0; y < h; y++)
        h_row(ROW(float, dst, dst_stride, y), CROW(float, src, src_stride, y), w, k, r, 0);
}

static void h_anti_avx512(float *dst, ptrdiff_t dst_stride, const float *src, ptrdiff_t src_stride,
                          int w, int h, const float *k, int r)
{
    for (int y = 0; y < h; y++)
        h_row(ROW(float, dst, dst_stride, y), CROW(float, src, src_stride, y), w, k, r, 1);
}

static void box_v_avx512(float *sum, float *sq, const float *const *rows, int w, int n)
{
    for (int x = 0; x < w; x += 32) {
        const int c = w - x;
        const __mmask16 m0 = sd_tail16(c < 16 ? c : 16), m1 = sd_tail16(c < 16 ? 0 : c < 32 ? c - 16 : 16);
        __m512 s0 = _mm512_setzero_ps(), s1 = s0, q0 = s0, q1 = s0;
        for (int j = 0; j < n; j++) {
            const __m512 a = sd_ld16(rows[j] + x, m0), b = sd_ld16(rows[j] + x + 16, m1);
            s0 = _mm512_add_ps(s0, a); s1 = _mm512_add_ps(s1, b);
            q0 = _mm512_fmadd_ps(a, a, q0); q1 = _mm512_fmadd_ps(b, b, q1);
        }
        sd_st16(sum + x, m0, s0); sd_st16(sum + x + 16, m1, s1);
        sd_st16(sq + x, m0, q0); sd_st16(sq + x + 16, m1, q1);
    }
}

static void box_h_avx512(float *mean, float *var, const float *sum, const float *sq, int w, int r,
                         float inv_area)
{
    const __m512 ia = _mm512_set1_ps(inv_area), zero = _mm512_setzero_ps();
    for (int x = 0; x < w; x += 16) {
        const __mmask16 m = sd_tail16(w - x < 16 ? w - x : 16);
        __m512 s = zero, q = zero;
        for (int i = -r; i <= r; i++) {
            s = _mm512_add_ps(s, sd_ld16(sum + x + i, m));
            q = _mm512_add_ps(q, sd_ld16(sq + x + i, m));
        }
        const __m512 mu = _mm512_mul_ps(s, ia);
        sd_st16(mean + x, m, mu);
        if (var) sd_st16(var + x, m, _mm512_max_ps(_mm512_fmsub_ps(q, ia, _mm512_mul_ps(mu, mu)), zero));
    }
}

void sd_filter_dsp_init_avx512(SdFilterDSP *c)
{
    c->v_sym = v_sym_avx512;
    c->v_anti = v_anti_avx512;
    c->h_sym = h_sym_avx512;
    c->h_anti = h_anti_avx512;
    c->box_v = box_v_avx512;
    c->box_h = box_h_avx512;
}

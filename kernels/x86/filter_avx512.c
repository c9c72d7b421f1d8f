/* Separable filter kernels, AVX-512: the vertical passes (4-row blocked, and the per-row folded
 * form) and the box column sums on 16 lanes, tails through lane masks. */
#include <immintrin.h>

#include "kernels/filter.h"
#include "kernels/x86/math_avx512.h"

#include "kernels/rows.h"

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
#undef TAP
    for (; x < w; x += 16) {
        const __mmask16 m = sd_tail16(w - x < 16 ? w - x : 16);
        __m512 a = _mm512_mul_ps(k0, sd_ld16(s[0] + x, m));
        for (int i = 1; i <= r; i++)
            a = _mm512_fmadd_ps(_mm512_set1_ps(k[i]), FOLD(anti, sd_ld16(s[i] + x, m),
                                                           sd_ld16(s[-i] + x, m)), a);
        sd_st16(d + x, m, a);
    }
}

/* Four output rows per pass, unfolded taps, each input row loaded once (see filter_avx2.c).
 * One 32-pixel column block; `full` is a literal: plain loads/stores, else lane masks m0, m1. */
static inline __attribute__((always_inline)) void v_block4(float *d, ptrdiff_t ds, const float *const *s,
                                                           int x, const __m512 *kf, int r, int full,
                                                           __mmask16 m0, __mmask16 m1)
{
    float *d1 = (float *)((char *)d + ds), *d2 = (float *)((char *)d1 + ds), *d3 = (float *)((char *)d2 + ds);
    __m512 a0 = _mm512_setzero_ps(), b0 = a0, a1 = a0, b1 = a0, a2 = a0, b2 = a0, a3 = a0, b3 = a0;
    /* output o uses tap j - o of input row j; zero taps of the first/last three rows skipped */
#define IN(j) const __m512 u = full ? _mm512_loadu_ps(s[j] + x) : _mm512_maskz_loadu_ps(m0, s[j] + x), \
                           v = full ? _mm512_loadu_ps(s[j] + x + 16) : _mm512_maskz_loadu_ps(m1, s[j] + x + 16); \
              const __m512 *k = kf + 3 + (j)
#define F0 a0 = _mm512_fmadd_ps(k[0], u, a0); b0 = _mm512_fmadd_ps(k[0], v, b0)
#define F1 a1 = _mm512_fmadd_ps(k[-1], u, a1); b1 = _mm512_fmadd_ps(k[-1], v, b1)
#define F2 a2 = _mm512_fmadd_ps(k[-2], u, a2); b2 = _mm512_fmadd_ps(k[-2], v, b2)
#define F3 a3 = _mm512_fmadd_ps(k[-3], u, a3); b3 = _mm512_fmadd_ps(k[-3], v, b3)
    { IN(0); F0; }
    { IN(1); F0; F1; }
    { IN(2); F0; F1; F2; }
    for (int j = 3; j <= 2 * r; j++) { IN(j); F0; F1; F2; F3; }
    { IN(2 * r + 1); F1; F2; F3; }
    { IN(2 * r + 2); F2; F3; }
    { IN(2 * r + 3); F3; }
#undef IN
#undef F0
#undef F1
#undef F2
#undef F3
    if (full) {
        _mm512_storeu_ps(d + x, a0); _mm512_storeu_ps(d + x + 16, b0);
        _mm512_storeu_ps(d1 + x, a1); _mm512_storeu_ps(d1 + x + 16, b1);
        _mm512_storeu_ps(d2 + x, a2); _mm512_storeu_ps(d2 + x + 16, b2);
        _mm512_storeu_ps(d3 + x, a3); _mm512_storeu_ps(d3 + x + 16, b3);
    } else {
        _mm512_mask_storeu_ps(d + x, m0, a0); _mm512_mask_storeu_ps(d + x + 16, m1, b0);
        _mm512_mask_storeu_ps(d1 + x, m0, a1); _mm512_mask_storeu_ps(d1 + x + 16, m1, b1);
        _mm512_mask_storeu_ps(d2 + x, m0, a2); _mm512_mask_storeu_ps(d2 + x + 16, m1, b2);
        _mm512_mask_storeu_ps(d3 + x, m0, a3); _mm512_mask_storeu_ps(d3 + x + 16, m1, b3);
    }
}

static inline __attribute__((always_inline)) void v_rows4(float *d, ptrdiff_t ds, const float *const *s,
                                                          int w, const __m512 *kf, int r)
{
    int x = 0;
    for (; x + 32 <= w; x += 32)
        v_block4(d, ds, s, x, kf, r, 1, 0xffff, 0xffff);
    if (x < w) {
        const int n = w - x;
        v_block4(d, ds, s, x, kf, r, 0, sd_tail16(n < 16 ? n : 16), sd_tail16(n < 16 ? 0 : n - 16));
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

/* ---- horizontal passes: the AVX2 scheme (filter_avx2.c h_row) on 16 lanes. s[x + i] is loaded,
 * s[x - i] is one valignd of two vectors loaded at a 16-float stride, so per tap and vector one
 * load, one shift, one add and one FMA; same fold and FMA order per pixel as the AVX2 and C forms
 * (bit-identical to the AVX2 kernel). */

static inline __attribute__((always_inline)) void h_one16(float *d, const float *s, int x, int w,
                                                          const float *k, int r, int anti, __m512 k0)
{
    const __mmask16 m = sd_tail16(w - x < 16 ? w - x : 16);
    __m512 a = _mm512_mul_ps(k0, sd_ld16(s + x, m));
    for (int i = 1; i <= r; i++)
        a = _mm512_fmadd_ps(_mm512_set1_ps(k[i]), FOLD(anti, sd_ld16(s + x + i, m), sd_ld16(s + x - i, m)), a);
    sd_st16(d + x, m, a);
}

/* Four 16-pixel output vectors at c. */
static inline __attribute__((always_inline)) void h_block4(float *d, const float *c, const float *k,
                                                           int r, int anti, __m512 k0)
{
    __m512 a[4];
    _Pragma("GCC unroll 4") for (int b = 0; b < 4; b++)
        a[b] = _mm512_mul_ps(k0, _mm512_loadu_ps(c + 16 * b));
    for (int q = 0; 16 * q <= r; q++) {
        /* m[b] = c[16 (b - q - 1) ..]; tap i = 16q + n: c[16b - i ..] = (m[b + 1]:m[b]) >> 16 - n */
        __m512 m[5];
        _Pragma("GCC unroll 5") for (int b = 0; b < 5; b++)
            m[b] = _mm512_loadu_ps(c + 16 * (b - q - 1));
#define HTAP(n) if (16 * q + (n) >= 1) { \
            if (16 * q + (n) > r) break; \
            const __m512 ki = _mm512_set1_ps(k[16 * q + (n)]); \
            _Pragma("GCC unroll 4") for (int b = 0; b < 4; b++) { \
                const __m512 u = _mm512_loadu_ps(c + 16 * b + 16 * q + (n)), \
                             v = (n) ? _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(m[b + 1]), \
                                                           _mm512_castps_si512(m[b]), (16 - (n)) & 15)) : m[b + 1]; \
                a[b] = _mm512_fmadd_ps(ki, FOLD(anti, u, v), a[b]); \
            } }
        do {
            HTAP(0) HTAP(1) HTAP(2) HTAP(3) HTAP(4) HTAP(5) HTAP(6) HTAP(7)
            HTAP(8) HTAP(9) HTAP(10) HTAP(11) HTAP(12) HTAP(13) HTAP(14) HTAP(15)
        } while (0);
#undef HTAP
    }
    _Pragma("GCC unroll 4") for (int b = 0; b < 4; b++)
        _mm512_storeu_ps(d + 16 * b, a[b]);
}

/* The vectors m[b] of tap group q start up to 16 (r / 16 + 1) <= r + 16 floats left of the block,
 * beyond the r readable ones for x < 16: the first 16 pixels go through h_one16. */
static inline __attribute__((always_inline)) void h_row(float *d, const float *s, int w, const float *k,
                                                        int r, int anti)
{
    const __m512 k0 = _mm512_set1_ps(anti ? 0.0f : k[0]);
    int x = 0;
    if (w >= 16 + 64) {
        h_one16(d, s, 0, w, k, r, anti, k0);
        for (x = 16; x + 64 <= w; x += 64)
            h_block4(d + x, s + x, k, r, anti, k0);
    }
    for (; x < w; x += 16)
        h_one16(d, s, x, w, k, r, anti, k0);
}

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

void sd_filter_dsp_init_avx512(SdFilterDSP *c)
{
    c->v_sym = v_sym_avx512;
    c->v_anti = v_anti_avx512;
    c->box_v = box_v_avx512;
    c->h_sym = h_sym_avx512;
    c->h_anti = h_anti_avx512;
    /* box_h keeps its AVX2 version: it reads 2r+1 unaligned vectors per output vector, and a
     * 64-byte unaligned load splits a cache line every time (a 32-byte one half the time), which
     * made a plain 512-bit form of these passes 5-15% slower; the h passes above load only one
     * of the two vectors of each tap. */
}

/* Separable filter kernels, AVX2+FMA: 32 pixels per step (4 accumulators), taps folded in
 * symmetric pairs, masked loads/stores only on the tail. */
#include <immintrin.h>

#include "kernels/filter.h"
#include "kernels/x86/math_avx2.h"

#include "kernels/rows.h"

/* One vertical output row; ANTI selects k[i] * (s[+i] - s[-i]) without the centre tap. */
static inline __attribute__((always_inline)) void v_row(float *d, const float *const *s, int w, const float *k, int r, int anti)
{
    int x = 0;
    const __m256 k0 = _mm256_set1_ps(anti ? 0.0f : k[0]);
    for (; x + 32 <= w; x += 32) {
        /* four named accumulators: an array here would live on the stack */
        __m256 a0 = _mm256_mul_ps(k0, _mm256_loadu_ps(s[0] + x)),
               a1 = _mm256_mul_ps(k0, _mm256_loadu_ps(s[0] + x + 8)),
               a2 = _mm256_mul_ps(k0, _mm256_loadu_ps(s[0] + x + 16)),
               a3 = _mm256_mul_ps(k0, _mm256_loadu_ps(s[0] + x + 24));
        for (int i = 1; i <= r; i++) {
            const __m256 ki = _mm256_set1_ps(k[i]);
            const float *p = s[i] + x, *m = s[-i] + x;
#define TAP(acc, o) acc = _mm256_fmadd_ps(ki, anti ? _mm256_sub_ps(_mm256_loadu_ps(p + o), _mm256_loadu_ps(m + o)) \
                                                   : _mm256_add_ps(_mm256_loadu_ps(p + o), _mm256_loadu_ps(m + o)), acc)
            TAP(a0, 0); TAP(a1, 8); TAP(a2, 16); TAP(a3, 24);
        }
        _mm256_storeu_ps(d + x, a0); _mm256_storeu_ps(d + x + 8, a1);
        _mm256_storeu_ps(d + x + 16, a2); _mm256_storeu_ps(d + x + 24, a3);
    }
    for (; x < w; x += 8) {
        const int full = x + 8 <= w;
        const __m256i tm = sd_tail_mask8(full ? 8 : w - x);
        __m256 a = _mm256_mul_ps(k0, _mm256_maskload_ps(s[0] + x, tm));
        for (int i = 1; i <= r; i++) {
            const __m256 u = _mm256_maskload_ps(s[i] + x, tm), v = _mm256_maskload_ps(s[-i] + x, tm);
            a = _mm256_fmadd_ps(_mm256_set1_ps(k[i]), anti ? _mm256_sub_ps(u, v) : _mm256_add_ps(u, v), a);
        }
        if (full) _mm256_storeu_ps(d + x, a);
        else _mm256_maskstore_ps(d + x, tm, a);
    }
}

/* Four output rows at once, unfolded: each input row is loaded once for all four outputs (the
 * rows come from L2 when the kernel is tall, so this cuts L2 traffic ~4x at the same FMA count).
 * kf holds the full signed kernel, tap t at kf[t + 3], zero-padded by 3 on both sides. */
static inline __attribute__((always_inline)) void v_rows4(float *d, ptrdiff_t ds, const float *const *s,
                                                          int w, const __m256 *kf, int r)
{
    float *d1 = (float *)((char *)d + ds), *d2 = (float *)((char *)d1 + ds), *d3 = (float *)((char *)d2 + ds);
    int x = 0;
    for (; x + 16 <= w; x += 16) {
        __m256 a0 = _mm256_setzero_ps(), b0 = a0, a1 = a0, b1 = a0, a2 = a0, b2 = a0, a3 = a0, b3 = a0;
        /* output o uses tap j - o of input row j; the first and last three rows feed only some
         * outputs, so their zero taps are skipped */
#define IN(j) const __m256 u = _mm256_loadu_ps(s[j] + x), v = _mm256_loadu_ps(s[j] + x + 8); \
              const __m256 *k = kf + 3 + (j)
#define F0 a0 = _mm256_fmadd_ps(k[0], u, a0); b0 = _mm256_fmadd_ps(k[0], v, b0)
#define F1 a1 = _mm256_fmadd_ps(k[-1], u, a1); b1 = _mm256_fmadd_ps(k[-1], v, b1)
#define F2 a2 = _mm256_fmadd_ps(k[-2], u, a2); b2 = _mm256_fmadd_ps(k[-2], v, b2)
#define F3 a3 = _mm256_fmadd_ps(k[-3], u, a3); b3 = _mm256_fmadd_ps(k[-3], v, b3)
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
        _mm256_storeu_ps(d + x, a0); _mm256_storeu_ps(d + x + 8, b0);
        _mm256_storeu_ps(d1 + x, a1); _mm256_storeu_ps(d1 + x + 8, b1);
        _mm256_storeu_ps(d2 + x, a2); _mm256_storeu_ps(d2 + x + 8, b2);
        _mm256_storeu_ps(d3 + x, a3); _mm256_storeu_ps(d3 + x + 8, b3);
    }
    for (; x < w; x += 8) {
        const int full = x + 8 <= w;
        const __m256i tm = sd_tail_mask8(full ? 8 : w - x);
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (int j = 0; j < 2 * r + 4; j++) {
            const __m256 u = _mm256_maskload_ps(s[j] + x, tm);
            const __m256 *k = kf + 3 + j;
            a0 = _mm256_fmadd_ps(k[0], u, a0); a1 = _mm256_fmadd_ps(k[-1], u, a1);
            a2 = _mm256_fmadd_ps(k[-2], u, a2); a3 = _mm256_fmadd_ps(k[-3], u, a3);
        }
        sd_st8(d + x, tm, full, a0); sd_st8(d1 + x, tm, full, a1);
        sd_st8(d2 + x, tm, full, a2); sd_st8(d3 + x, tm, full, a3);
    }
}

#define SD_MAX_TAPS 512

static void v_any(float *dst, ptrdiff_t dst_stride, const float *const *rows, int w, int h,
                  const float *k, int r, int anti)
{
    int y = 0;
    if (h >= 4 && r < (SD_MAX_TAPS - 8) / 2) {
        __m256 kf[SD_MAX_TAPS];
        for (int t = 0; t < 2 * r + 7; t++) {
            const int i = t - 3 - r;           /* offset from the centre row */
            float c = 0.0f;
            if (t >= 3 && t <= 2 * r + 3)
                c = anti ? (i > 0 ? k[i] : i < 0 ? -k[-i] : 0.0f) : k[i < 0 ? -i : i];
            kf[t] = _mm256_set1_ps(c);
        }
        for (; y + 4 <= h; y += 4)
            v_rows4(ROW(float, dst, dst_stride, y), dst_stride, rows + y, w, kf, r);
    }
    for (; y < h; y++)
        v_row(ROW(float, dst, dst_stride, y), rows + y + r, w, k, r, anti);
}

static void v_sym_avx2(float *dst, ptrdiff_t dst_stride, const float *const *rows, int w, int h,
                       const float *k, int r)
{
    v_any(dst, dst_stride, rows, w, h, k, r, 0);
}

static void v_anti_avx2(float *dst, ptrdiff_t dst_stride, const float *const *rows, int w, int h,
                        const float *k, int r)
{
    v_any(dst, dst_stride, rows, w, h, k, r, 1);
}

/* One 8-pixel output vector at x (masked beyond w). */
static inline __attribute__((always_inline)) void h_one(float *d, const float *s, int x, int w,
                                                        const float *k, int r, int anti, __m256 k0)
{
    const int full = x + 8 <= w;
    const __m256i tm = sd_tail_mask8(full ? 8 : w - x);
    __m256 a = _mm256_mul_ps(k0, _mm256_maskload_ps(s + x, tm));
    for (int i = 1; i <= r; i++) {
        const __m256 u = _mm256_maskload_ps(s + x + i, tm), v = _mm256_maskload_ps(s + x - i, tm);
        a = _mm256_fmadd_ps(_mm256_set1_ps(k[i]), anti ? _mm256_sub_ps(u, v) : _mm256_add_ps(u, v), a);
    }
    if (full) _mm256_storeu_ps(d + x, a);
    else _mm256_maskstore_ps(d + x, tm, a);
}

/* s[j .. j+7] for j = 8 (q - 1) + n, 0 < n < 8, from A = s[8 (q - 1) ..], B = s[8 q ..] and
 * T = [A high half, B low half]: one in-lane byte shift (n = 4: T itself). */
#define SHIFTED(A, B, T, n) ((n) == 4 ? (T) : (n) < 4 ? \
    _mm256_castsi256_ps(_mm256_alignr_epi8(_mm256_castps_si256(T), _mm256_castps_si256(A), 4 * ((n) & 3))) : \
    _mm256_castsi256_ps(_mm256_alignr_epi8(_mm256_castps_si256(B), _mm256_castps_si256(T), 4 * ((n) & 3))))

/* Four 8-pixel output vectors at c (see h_row). */
static inline __attribute__((always_inline)) void h_block4(float *d, const float *c, const float *k,
                                                           int r, int anti, __m256 k0)
{
    __m256 a[4];
    _Pragma("GCC unroll 4") for (int b = 0; b < 4; b++)
        a[b] = _mm256_mul_ps(k0, _mm256_loadu_ps(c + 8 * b));
    for (int q = 0; 8 * q <= r; q++) {
        /* m[b] = c[8 (b - q - 1) ..], t[b] = its high half + m[b + 1]'s low half */
        __m256 m[5], t[4];
        _Pragma("GCC unroll 5") for (int b = 0; b < 5; b++)
            m[b] = _mm256_loadu_ps(c + 8 * (b - q - 1));
        _Pragma("GCC unroll 4") for (int b = 0; b < 4; b++)
            t[b] = _mm256_permute2f128_ps(m[b], m[b + 1], 0x21);
        /* tap i = 8q + n: c[8b - i ..] = shift 8 - n of (m[b], m[b + 1]), or m[b + 1] for n = 0 */
#define HTAP(n) if (8 * q + (n) >= 1) { \
            if (8 * q + (n) > r) break; \
            const __m256 ki = _mm256_set1_ps(k[8 * q + (n)]); \
            _Pragma("GCC unroll 4") for (int b = 0; b < 4; b++) { \
                const __m256 u = _mm256_loadu_ps(c + 8 * b + 8 * q + (n)), \
                             v = (n) ? SHIFTED(m[b], m[b + 1], t[b], 8 - (n)) : m[b + 1]; \
                a[b] = _mm256_fmadd_ps(ki, anti ? _mm256_sub_ps(u, v) : _mm256_add_ps(u, v), a[b]); \
            } }
        do { HTAP(0) HTAP(1) HTAP(2) HTAP(3) HTAP(4) HTAP(5) HTAP(6) HTAP(7) } while (0);
#undef HTAP
    }
    _Pragma("GCC unroll 4") for (int b = 0; b < 4; b++)
        _mm256_storeu_ps(d + 8 * b, a[b]);
}

/* One output row. The taps run i = 1 .. r in order with the same fold and FMA per pixel as the
 * plain form (h_one), so the result is bit-identical to it; only the loads differ. Loading both
 * s[x + i] and s[x - i] unaligned for every tap is load-bound (two loads per tap and 8 pixels):
 * here s[x + i] is loaded and s[x - i] is built from aligned-stride vectors already in registers
 * by one byte shift, which runs beside the loads (1.5x faster on the benchmark machine). Four
 * 8-pixel vectors per step; the vectors s[x + 8 (b - q - 1)] for tap group q (taps 8q .. 8q + 7)
 * start up to 8 (r / 8 + 1) <= r + 8 floats left of x, beyond the r readable ones for x < 8, so
 * the first 8 pixels go through h_one. */
static inline __attribute__((always_inline)) void h_row(float *d, const float *s, int w, const float *k, int r, int anti)
{
    const __m256 k0 = _mm256_set1_ps(anti ? 0.0f : k[0]);
    int x = 0;
    if (w >= 8 + 32) {
        h_one(d, s, 0, w, k, r, anti, k0);
        for (x = 8; x + 32 <= w; x += 32)
            h_block4(d + x, s + x, k, r, anti, k0);
    }
    for (; x < w; x += 8)
        h_one(d, s, x, w, k, r, anti, k0);
}

#undef SHIFTED
#undef TAP

static void h_sym_avx2(float *dst, ptrdiff_t dst_stride, const float *src, ptrdiff_t src_stride,
                       int w, int h, const float *k, int r)
{
    for (int y = 0; y < h; y++)
        h_row(ROW(float, dst, dst_stride, y), CROW(float, src, src_stride, y), w, k, r, 0);
}

static void h_anti_avx2(float *dst, ptrdiff_t dst_stride, const float *src, ptrdiff_t src_stride,
                        int w, int h, const float *k, int r)
{
    for (int y = 0; y < h; y++)
        h_row(ROW(float, dst, dst_stride, y), CROW(float, src, src_stride, y), w, k, r, 1);
}

static void box_v_avx2(float *sum, float *sq, const float *const *rows, int w, int n)
{
    int x = 0;
    for (; x + 16 <= w; x += 16) {
        __m256 s0 = _mm256_setzero_ps(), s1 = s0, q0 = s0, q1 = s0;
        for (int j = 0; j < n; j++) {
            const __m256 a = _mm256_loadu_ps(rows[j] + x), b = _mm256_loadu_ps(rows[j] + x + 8);
            s0 = _mm256_add_ps(s0, a); s1 = _mm256_add_ps(s1, b);
            q0 = _mm256_fmadd_ps(a, a, q0); q1 = _mm256_fmadd_ps(b, b, q1);
        }
        _mm256_storeu_ps(sum + x, s0); _mm256_storeu_ps(sum + x + 8, s1);
        _mm256_storeu_ps(sq + x, q0); _mm256_storeu_ps(sq + x + 8, q1);
    }
    for (; x < w; x += 8) {
        const __m256i tm = sd_tail_mask8(w - x < 8 ? w - x : 8);
        __m256 s = _mm256_setzero_ps(), q = s;
        for (int j = 0; j < n; j++) {
            const __m256 a = _mm256_maskload_ps(rows[j] + x, tm);
            s = _mm256_add_ps(s, a);
            q = _mm256_fmadd_ps(a, a, q);
        }
        _mm256_maskstore_ps(sum + x, tm, s);
        _mm256_maskstore_ps(sq + x, tm, q);
    }
}

static void box_h_avx2(float *mean, float *var, const float *sum, const float *sq, int w, int r,
                       float inv_area)
{
    const __m256 ia = _mm256_set1_ps(inv_area), zero = _mm256_setzero_ps();
    for (int x = 0; x < w; x += 8) {
        const int full = x + 8 <= w;
        const __m256i tm = sd_tail_mask8(full ? 8 : w - x);
        __m256 s = zero, q = zero;
        for (int i = -r; i <= r; i++) {
            s = _mm256_add_ps(s, sd_ld8(sum + x + i, tm, full));
            q = _mm256_add_ps(q, sd_ld8(sq + x + i, tm, full));
        }
        const __m256 m = _mm256_mul_ps(s, ia);
        const __m256 v = _mm256_max_ps(_mm256_fmsub_ps(q, ia, _mm256_mul_ps(m, m)), zero);
        if (full) {
            _mm256_storeu_ps(mean + x, m);
            if (var) _mm256_storeu_ps(var + x, v);
        } else {
            _mm256_maskstore_ps(mean + x, tm, m);
            if (var) _mm256_maskstore_ps(var + x, tm, v);
        }
    }
}

void sd_filter_dsp_init_avx2(SdFilterDSP *c)
{
    c->v_sym = v_sym_avx2;
    c->v_anti = v_anti_avx2;
    c->h_sym = h_sym_avx2;
    c->h_anti = h_anti_avx2;
    c->box_v = box_v_avx2;
    c->box_h = box_h_avx2;
}

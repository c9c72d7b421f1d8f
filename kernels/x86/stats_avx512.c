/* Reductions, AVX-512: moments (double lanes), quant (bit-exact), ecc (float lanes over 256-pixel
 * chunks, double across chunks) on 16 lanes with mask registers for the pixel mask and tails;
 * glcm forms pair indices and masks 64 pixels at a time. hist (a bare scatter) stays C. */
#include <immintrin.h>
#include <math.h>

#include "kernels/stats.h"
#include "kernels/x86/math_avx512.h"

#include "kernels/rows.h"

/* Lanes of the first n pixels whose mask byte is non-zero (all n when mask is NULL). */
static inline __mmask16 mask16(const uint8_t *m, int n)
{
    const __mmask16 t = sd_tail16(n);
    if (!m) return t;
    __m128i b;
    if (n == 16) {
        b = _mm_loadu_si128((const __m128i *)m);
        __asm__("" : "+v"(b));            /* keep it a plain load (see sd_ld16_full) */
    } else {
        b = _mm_maskz_loadu_epi8(t, m);
    }
    return _mm_test_epi8_mask(b, b) & t;
}

/* Loads the lanes in k (zero elsewhere): plain load + zeroing for a full vector. */
static inline __m512 ldz(const float *p, __mmask16 k, int full)
{
    return full ? _mm512_maskz_mov_ps(k, sd_ld16_full(p)) : _mm512_maskz_loadu_ps(k, p);
}

static void moments_avx512(SdMoments *acc, const float *src, ptrdiff_t src_stride,
                           const uint8_t *mask, ptrdiff_t mask_stride, int w, int h)
{
    __m512d s = _mm512_setzero_pd(), q = s;
    __m512 mn = _mm512_set1_ps(acc->min), mx = _mm512_set1_ps(acc->max);
    long long n = 0;
    for (int y = 0; y < h; y++) {
        const float *r = CROW(float, src, src_stride, y);
        const uint8_t *m = mask ? CROW(uint8_t, mask, mask_stride, y) : NULL;
        /* next row of the box: see moments_avx2 */
        const float *pf = y + 1 < h ? CROW(float, src, src_stride, y + 1) : NULL;
        for (int x = 0; x < w; x += 16) {
            const int c = w - x < 16 ? w - x : 16;
            if (pf) _mm_prefetch((const char *)(pf + x), _MM_HINT_T0);
            const __mmask16 in = mask16(m ? m + x : NULL, c);
            const __m512 v = ldz(r + x, in, c == 16);
            n += __builtin_popcount((unsigned)in);
            const __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(v)),
                          hi = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
            s = _mm512_add_pd(s, _mm512_add_pd(lo, hi));
            q = _mm512_fmadd_pd(lo, lo, _mm512_fmadd_pd(hi, hi, q));
            /* min/max skip NaN like the C loop (the 2nd operand is returned on NaN) */
            mn = _mm512_mask_min_ps(mn, in, v, mn);
            mx = _mm512_mask_max_ps(mx, in, v, mx);
        }
    }
    float t[16], u[16];
    _mm512_storeu_ps(t, mn);
    _mm512_storeu_ps(u, mx);
    float fmn = acc->min, fmx = acc->max;
    for (int i = 0; i < 16; i++) {
        fmn = t[i] < fmn ? t[i] : fmn;
        fmx = u[i] > fmx ? u[i] : fmx;
    }
    acc->n += (double)n;
    acc->sum += _mm512_reduce_add_pd(s);
    acc->sumsq += _mm512_reduce_add_pd(q);
    acc->min = fmn;
    acc->max = fmx;
}

static void quant_avx512(uint16_t *dst, ptrdiff_t dst_stride, const float *src, ptrdiff_t src_stride,
                         int w, int h, float lo, float scale, int nbins)
{
    const __m512 vlo = _mm512_set1_ps(lo), vs = _mm512_set1_ps(scale),
                 top = _mm512_set1_ps((float)(nbins - 1)), zero = _mm512_setzero_ps();
    for (int y = 0; y < h; y++) {
        const float *r = CROW(float, src, src_stride, y);
        uint16_t *d = ROW(uint16_t, dst, dst_stride, y);
        for (int x = 0; x < w; x += 16) {
            const __mmask16 m = sd_tail16(w - x < 16 ? w - x : 16);
            __m512 t = _mm512_floor_ps(_mm512_mul_ps(_mm512_sub_ps(sd_ld16(r + x, m), vlo), vs));
            t = _mm512_min_ps(_mm512_max_ps(t, zero), top);          /* NaN -> 0 */
            const __m256i p = _mm512_cvtepi32_epi16(_mm512_cvttps_epi32(t));
            if (m == 0xffff) _mm256_storeu_si256((__m256i *)(d + x), p);
            else _mm256_mask_storeu_epi16(d + x, m, p);
        }
    }
}

#define ECC_CHUNK 256

static inline double hsum(__m512 v) { return _mm512_reduce_add_pd(_mm512_add_pd(
    _mm512_cvtps_pd(_mm512_castps512_ps256(v)),
    _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))))); }

static void ecc_avx512(SdEccAcc *acc, const float *gx, const float *gy, const float *v0,
                       const float *v1, ptrdiff_t ss, const uint8_t *mask, ptrdiff_t ms, int w, int h,
                       float x0, float y0)
{
    for (int j = 0; j < h; j++) {
        const float *ax = CROW(float, gx, ss, j), *ay = CROW(float, gy, ss, j),
                    *b0 = CROW(float, v0, ss, j), *b1 = CROW(float, v1, ss, j);
        const uint8_t *m = mask ? CROW(uint8_t, mask, ms, j) : NULL;
        double g[3][3] = { { 0 } }, gv[3][2][2] = { { { 0 } } }, v[5] = { 0 }, n = 0;
        for (int c0 = 0; c0 < w; c0 += ECC_CHUNK) {
            const int c1 = c0 + ECC_CHUNK < w ? c0 + ECC_CHUNK : w;
            const __m512 z = _mm512_setzero_ps();
            __m512 G00 = z, G01 = z, G02 = z, G10 = z, G11 = z, G12 = z, G20 = z, G21 = z, G22 = z;
            __m512 X0 = z, X1 = z, Y0 = z, Y1 = z, PX0 = z, PX1 = z, PY0 = z, PY1 = z,
                   TX0 = z, TX1 = z, TY0 = z, TY1 = z, V0 = z, V1 = z, V2 = z, V3 = z, V4 = z;
            __m512 xs = _mm512_add_ps(_mm512_set1_ps(x0 + (float)c0),
                                      _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
            for (int i = c0; i < c1; i += 16, xs = _mm512_add_ps(xs, _mm512_set1_ps(16.0f))) {
                const int c = c1 - i < 16 ? c1 - i : 16;
                const __mmask16 in = mask16(m ? m + i : NULL, c);
                const __m512 X = ldz(ax + i, in, c == 16), Y = ldz(ay + i, in, c == 16),
                             P = ldz(b0 + i, in, c == 16), T = ldz(b1 + i, in, c == 16);
                n += __builtin_popcount((unsigned)in);
                const __m512 x2 = _mm512_mul_ps(xs, xs);
                const __m512 xx = _mm512_mul_ps(X, X), xy = _mm512_mul_ps(X, Y), yy = _mm512_mul_ps(Y, Y);
                G00 = _mm512_add_ps(G00, xx); G01 = _mm512_fmadd_ps(xx, xs, G01); G02 = _mm512_fmadd_ps(xx, x2, G02);
                G10 = _mm512_add_ps(G10, xy); G11 = _mm512_fmadd_ps(xy, xs, G11); G12 = _mm512_fmadd_ps(xy, x2, G12);
                G20 = _mm512_add_ps(G20, yy); G21 = _mm512_fmadd_ps(yy, xs, G21); G22 = _mm512_fmadd_ps(yy, x2, G22);
                X0 = _mm512_add_ps(X0, X); X1 = _mm512_fmadd_ps(X, xs, X1);
                Y0 = _mm512_add_ps(Y0, Y); Y1 = _mm512_fmadd_ps(Y, xs, Y1);
                const __m512 px = _mm512_mul_ps(X, P), py = _mm512_mul_ps(Y, P);
                const __m512 tx = _mm512_mul_ps(X, T), ty = _mm512_mul_ps(Y, T);
                PX0 = _mm512_add_ps(PX0, px); PX1 = _mm512_fmadd_ps(px, xs, PX1);
                PY0 = _mm512_add_ps(PY0, py); PY1 = _mm512_fmadd_ps(py, xs, PY1);
                TX0 = _mm512_add_ps(TX0, tx); TX1 = _mm512_fmadd_ps(tx, xs, TX1);
                TY0 = _mm512_add_ps(TY0, ty); TY1 = _mm512_fmadd_ps(ty, xs, TY1);
                V0 = _mm512_add_ps(V0, P); V1 = _mm512_add_ps(V1, T);
                V2 = _mm512_fmadd_ps(P, P, V2); V3 = _mm512_fmadd_ps(T, T, V3); V4 = _mm512_fmadd_ps(P, T, V4);
            }
            g[0][0] += hsum(G00); g[0][1] += hsum(G01); g[0][2] += hsum(G02);
            g[1][0] += hsum(G10); g[1][1] += hsum(G11); g[1][2] += hsum(G12);
            g[2][0] += hsum(G20); g[2][1] += hsum(G21); g[2][2] += hsum(G22);
            gv[0][0][0] += hsum(X0); gv[0][0][1] += hsum(X1); gv[0][1][0] += hsum(Y0); gv[0][1][1] += hsum(Y1);
            gv[1][0][0] += hsum(PX0); gv[1][0][1] += hsum(PX1); gv[1][1][0] += hsum(PY0); gv[1][1][1] += hsum(PY1);
            gv[2][0][0] += hsum(TX0); gv[2][0][1] += hsum(TX1); gv[2][1][0] += hsum(TY0); gv[2][1][1] += hsum(TY1);
            v[0] += hsum(V0); v[1] += hsum(V1); v[2] += hsum(V2); v[3] += hsum(V3); v[4] += hsum(V4);
        }
        sd__ecc_fold_row(acc, (double)(y0 + (float)j), g, gv, v, n);
    }
}

/* GLCM: pair indices i*L + j and the pair mask for 64 pixels per step (BW byte compares and
 * 16-bit products); the increments stay scalar. */
static void glcm_avx512(uint32_t *counts, const uint8_t *src, ptrdiff_t src_stride, const uint8_t *mask,
                        ptrdiff_t mask_stride, int w, int h, int d, int levels)
{
    static const int ox[4] = { 1, 1, 0, -1 }, oy[4] = { 0, -1, -1, -1 };
    const int L = levels;
    const __m512i vl = _mm512_set1_epi16((short)L);
    uint16_t idx[64];
    for (int dir = 0; dir < 4; dir++) {
        const int dx = ox[dir] * d, dy = oy[dir] * d;
        uint32_t *c = counts + (size_t)dir * L * L;
        const int ya = dy < 0 ? -dy : 0, xa = dx < 0 ? -dx : 0, xb = dx > 0 ? w - dx : w;
        for (int y = ya; y < h; y++) {
            const uint8_t *r = CROW(uint8_t, src, src_stride, y);
            const uint8_t *q = CROW(uint8_t, src, src_stride, y + dy) + dx;
            const uint8_t *mr = mask ? CROW(uint8_t, mask, mask_stride, y) : NULL;
            const uint8_t *mq = mask ? CROW(uint8_t, mask, mask_stride, y + dy) + dx : NULL;
            int x = xa;
            for (; x + 64 <= xb; x += 64) {
                uint64_t valid = ~0ull;
                if (mask) {
                    const __m512i ma = _mm512_loadu_si512(mr + x), mb = _mm512_loadu_si512(mq + x);
                    valid = _mm512_test_epi8_mask(ma, ma) & _mm512_test_epi8_mask(mb, mb);
                    if (!valid) continue;
                }
                const __m512i a = _mm512_loadu_si512(r + x), b = _mm512_loadu_si512(q + x);
                const __m512i lo = _mm512_add_epi16(_mm512_mullo_epi16(_mm512_cvtepu8_epi16(_mm512_castsi512_si256(a)), vl),
                                                    _mm512_cvtepu8_epi16(_mm512_castsi512_si256(b)));
                const __m512i hi = _mm512_add_epi16(_mm512_mullo_epi16(_mm512_cvtepu8_epi16(_mm512_extracti64x4_epi64(a, 1)), vl),
                                                    _mm512_cvtepu8_epi16(_mm512_extracti64x4_epi64(b, 1)));
                _mm512_storeu_si512(idx, lo);
                _mm512_storeu_si512(idx + 32, hi);
                if (valid == ~0ull) {
                    for (int k = 0; k < 64; k++) c[idx[k]]++;
                } else {
                    while (valid) {
                        c[idx[__builtin_ctzll(valid)]]++;
                        valid &= valid - 1;
                    }
                }
            }
            for (; x < xb; x++)
                if (!mr || (mr[x] && mq[x])) c[r[x] * L + q[x]]++;
        }
    }
}

void sd_stats_dsp_init_avx512(SdStatsDSP *c)
{
    c->moments = moments_avx512;
    c->quant = quant_avx512;
    c->ecc = ecc_avx512;
    c->glcm = glcm_avx512;
}

/* Reductions, AVX2+FMA. moments accumulates in double lanes (only the summation order differs
 * from C); quant is bit-exact; ecc keeps float lane sums over chunks of 256 pixels and adds the
 * chunks in double; glcm forms pair indices and masks in vectors. hist (a bare scatter-increment)
 * stays C. */
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "kernels/stats.h"
#include "kernels/x86/math_avx2.h"

#include "kernels/rows.h"

/* 8 mask bytes -> lane mask (all-ones where mask != 0); n < 8 reads only n bytes. */
static inline __m256 mask8(const uint8_t *m, int n)
{
    if (!m) return _mm256_castsi256_ps(sd_tail_mask8(n));
    __m128i b;
    if (n == 8) b = _mm_loadl_epi64((const __m128i *)m);
    else {
        uint8_t t[8] = { 0 };
        for (int i = 0; i < n; i++) t[i] = m[i];
        b = _mm_loadl_epi64((const __m128i *)t);
    }
    const __m256i v = _mm256_cvtepu8_epi32(b);
    return _mm256_castsi256_ps(_mm256_xor_si256(_mm256_cmpeq_epi32(v, _mm256_setzero_si256()),
                                                _mm256_set1_epi32(-1)));
}

static inline double hsum_pd(__m256d v)
{
    const __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}
static inline double hsum_ps(__m256 v)
{
    return hsum_pd(_mm256_add_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)),
                                 _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1))));
}

static void moments_avx2(SdMoments *acc, const float *src, ptrdiff_t src_stride,
                         const uint8_t *mask, ptrdiff_t mask_stride, int w, int h)
{
    /* four independent double accumulators per sum (low / high lanes of two vectors), so the
     * add and FMA latencies overlap instead of chaining every 8 pixels */
    __m256d s0 = _mm256_setzero_pd(), s1 = s0, s2 = s0, s3 = s0, q0 = s0, q1 = s0, q2 = s0, q3 = s0;
    __m256 mn = _mm256_set1_ps(acc->min), mx = _mm256_set1_ps(acc->max);
    const __m256 pinf = _mm256_set1_ps(INFINITY), ninf = _mm256_set1_ps(-INFINITY);
    long long n = 0;
#define MOM_STEP(xx, k, sa, sb, qa, qb) do { \
            const __m256 in = mask8(m ? m + (xx) : NULL, k); \
            /* full vectors: plain load + zeroing (vmaskmovps is slow); tails: masked load */ \
            const __m256 v = (k) == 8 ? _mm256_and_ps(_mm256_loadu_ps(r + (xx)), in) \
                                      : _mm256_maskload_ps(r + (xx), _mm256_castps_si256(in)); \
            n += __builtin_popcount((unsigned)_mm256_movemask_ps(in)); \
            const __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v)), \
                          hi = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)); \
            sa = _mm256_add_pd(sa, lo); \
            sb = _mm256_add_pd(sb, hi); \
            qa = _mm256_fmadd_pd(lo, lo, qa); \
            qb = _mm256_fmadd_pd(hi, hi, qb); \
            /* min/max ignore NaN like the C loop: min_ps returns its 2nd operand on NaN */ \
            mn = _mm256_min_ps(_mm256_blendv_ps(pinf, v, in), mn); \
            mx = _mm256_max_ps(_mm256_blendv_ps(ninf, v, in), mx); \
        } while (0)
    for (int y = 0; y < h; y++) {
        const float *r = CROW(float, src, src_stride, y);
        const uint8_t *m = mask ? CROW(uint8_t, mask, mask_stride, y) : NULL;
        /* the next row of a box inside a wider plane, one line ahead per 16 pixels: the
         * hardware prefetcher does not follow the stride (a 1241 x 1721 box of a 1600-wide
         * plane read from memory: 1.6x faster with the hint) */
        const float *pf = y + 1 < h ? CROW(float, src, src_stride, y + 1) : NULL;
        int x = 0;
        for (; x + 16 <= w; x += 16) {
            if (pf) _mm_prefetch((const char *)(pf + x), _MM_HINT_T0);
            MOM_STEP(x, 8, s0, s1, q0, q1);
            MOM_STEP(x + 8, 8, s2, s3, q2, q3);
        }
        for (; x < w; x += 8) {
            const int k = w - x < 8 ? w - x : 8;
            MOM_STEP(x, k, s0, s1, q0, q1);
        }
    }
#undef MOM_STEP
    const __m256d s = _mm256_add_pd(_mm256_add_pd(s0, s1), _mm256_add_pd(s2, s3)),
                  q = _mm256_add_pd(_mm256_add_pd(q0, q1), _mm256_add_pd(q2, q3));
    float t[8], u[8];
    _mm256_storeu_ps(t, mn);
    _mm256_storeu_ps(u, mx);
    float fmn = acc->min, fmx = acc->max;
    for (int i = 0; i < 8; i++) {
        fmn = t[i] < fmn ? t[i] : fmn;
        fmx = u[i] > fmx ? u[i] : fmx;
    }
    acc->n += (double)n;
    acc->sum += hsum_pd(s);
    acc->sumsq += hsum_pd(q);
    acc->min = fmn;
    acc->max = fmx;
}

static void quant_avx2(uint16_t *dst, ptrdiff_t dst_stride, const float *src, ptrdiff_t src_stride,
                       int w, int h, float lo, float scale, int nbins)
{
    const __m256 vlo = _mm256_set1_ps(lo), vs = _mm256_set1_ps(scale),
                 top = _mm256_set1_ps((float)(nbins - 1)), zero = _mm256_setzero_ps();
    for (int y = 0; y < h; y++) {
        const float *r = CROW(float, src, src_stride, y);
        uint16_t *d = ROW(uint16_t, dst, dst_stride, y);
        for (int x = 0; x < w; x += 8) {
            const int k = w - x < 8 ? w - x : 8;
            const __m256 v = k == 8 ? _mm256_loadu_ps(r + x) : _mm256_maskload_ps(r + x, sd_tail_mask8(k));
            __m256 t = _mm256_floor_ps(_mm256_mul_ps(_mm256_sub_ps(v, vlo), vs));
            t = _mm256_min_ps(_mm256_max_ps(t, zero), top);          /* NaN -> 0 */
            const __m256i i = _mm256_cvttps_epi32(t);
            const __m128i p = _mm_packus_epi32(_mm256_castsi256_si128(i), _mm256_extracti128_si256(i, 1));
            if (k == 8) _mm_storeu_si128((__m128i *)(d + x), p);
            else {
                uint16_t tt[8];
                _mm_storeu_si128((__m128i *)tt, p);
                for (int j = 0; j < k; j++) d[x + j] = tt[j];
            }
        }
    }
}

#define ECC_CHUNK 256

static void ecc_avx2(SdEccAcc *acc, const float *gx, const float *gy, const float *v0,
                     const float *v1, ptrdiff_t ss, const uint8_t *mask, ptrdiff_t ms, int w, int h,
                     float x0, float y0)
{
    for (int j = 0; j < h; j++) {
        const float *ax = CROW(float, gx, ss, j), *ay = CROW(float, gy, ss, j),
                    *b0 = CROW(float, v0, ss, j), *b1 = CROW(float, v1, ss, j);
        const uint8_t *m = mask ? CROW(uint8_t, mask, ms, j) : NULL;
        /* row sums (double) of: g[k][0..2], gv[u][k][0..1], v[5], n */
        double g[3][3] = { { 0 } }, gv[3][2][2] = { { { 0 } } }, v[5] = { 0 }, n = 0;
        for (int c0 = 0; c0 < w; c0 += ECC_CHUNK) {
            const int c1 = c0 + ECC_CHUNK < w ? c0 + ECC_CHUNK : w;
            __m256 G[3][3], GV[3][2][2], V[5];
            for (int k = 0; k < 3; k++) for (int i = 0; i < 3; i++) G[k][i] = _mm256_setzero_ps();
            for (int u = 0; u < 3; u++) for (int k = 0; k < 2; k++) GV[u][k][0] = GV[u][k][1] = _mm256_setzero_ps();
            for (int k = 0; k < 5; k++) V[k] = _mm256_setzero_ps();
            __m256 xs = _mm256_add_ps(_mm256_set1_ps(x0 + (float)c0), _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7));
            for (int i = c0; i < c1; i += 8, xs = _mm256_add_ps(xs, _mm256_set1_ps(8.0f))) {
                const int k = c1 - i < 8 ? c1 - i : 8;
                const __m256 in = mask8(m ? m + i : NULL, k);
                const __m256i im = _mm256_castps_si256(in);
#define LD(p) (k == 8 ? _mm256_and_ps(_mm256_loadu_ps(p), in) : _mm256_maskload_ps(p, im))
                const __m256 X = LD(ax + i), Y = LD(ay + i), P = LD(b0 + i), T = LD(b1 + i);
#undef LD
                n += __builtin_popcount((unsigned)_mm256_movemask_ps(in));
                const __m256 x2 = _mm256_mul_ps(xs, xs);
                const __m256 pr[3] = { _mm256_mul_ps(X, X), _mm256_mul_ps(X, Y), _mm256_mul_ps(Y, Y) };
                for (int q = 0; q < 3; q++) {
                    G[q][0] = _mm256_add_ps(G[q][0], pr[q]);
                    G[q][1] = _mm256_fmadd_ps(pr[q], xs, G[q][1]);
                    G[q][2] = _mm256_fmadd_ps(pr[q], x2, G[q][2]);
                }
                const __m256 gg[2] = { X, Y };
                for (int q = 0; q < 2; q++) {
                    const __m256 gp = _mm256_mul_ps(gg[q], P), gt = _mm256_mul_ps(gg[q], T);
                    GV[0][q][0] = _mm256_add_ps(GV[0][q][0], gg[q]);
                    GV[0][q][1] = _mm256_fmadd_ps(gg[q], xs, GV[0][q][1]);
                    GV[1][q][0] = _mm256_add_ps(GV[1][q][0], gp);
                    GV[1][q][1] = _mm256_fmadd_ps(gp, xs, GV[1][q][1]);
                    GV[2][q][0] = _mm256_add_ps(GV[2][q][0], gt);
                    GV[2][q][1] = _mm256_fmadd_ps(gt, xs, GV[2][q][1]);
                }
                V[0] = _mm256_add_ps(V[0], P);
                V[1] = _mm256_add_ps(V[1], T);
                V[2] = _mm256_fmadd_ps(P, P, V[2]);
                V[3] = _mm256_fmadd_ps(T, T, V[3]);
                V[4] = _mm256_fmadd_ps(P, T, V[4]);
            }
            for (int k = 0; k < 3; k++) for (int i = 0; i < 3; i++) g[k][i] += hsum_ps(G[k][i]);
            for (int u = 0; u < 3; u++)
                for (int k = 0; k < 2; k++) {
                    gv[u][k][0] += hsum_ps(GV[u][k][0]);
                    gv[u][k][1] += hsum_ps(GV[u][k][1]);
                }
            for (int k = 0; k < 5; k++) v[k] += hsum_ps(V[k]);
        }
        sd__ecc_fold_row(acc, (double)(y0 + (float)j), g, gv, v, n);
    }
}

/* GLCM: the pair indices i*L + j and the pair mask are formed 32 pixels at a time; only the
 * increments stay scalar. */
/* Up to this many levels, the counts of a direction go to four interleaved copies (summed at the
 * end): neighbouring pixels of smooth texture hit the same bin, and one table would chain every
 * increment through the same memory word. */
#define GLCM_SPLIT_LEVELS 64

static void glcm_avx2(uint32_t *counts, const uint8_t *src, ptrdiff_t src_stride, const uint8_t *mask,
                      ptrdiff_t mask_stride, int w, int h, int d, int levels)
{
    static const int ox[4] = { 1, 1, 0, -1 }, oy[4] = { 0, -1, -1, -1 };
    const int L = levels;
    const __m256i vl = _mm256_set1_epi16((short)L), zero = _mm256_setzero_si256();
    uint16_t idx[32];
    uint32_t split[3][GLCM_SPLIT_LEVELS * GLCM_SPLIT_LEVELS];
    const int nsplit = L <= GLCM_SPLIT_LEVELS ? 4 : 1;
    for (int dir = 0; dir < 4; dir++) {
        const int dx = ox[dir] * d, dy = oy[dir] * d;
        uint32_t *c = counts + (size_t)dir * L * L;
        uint32_t *const tab[4] = { c, split[0], split[1], split[2] };
        for (int t = 1; t < nsplit; t++)
            memset(tab[t], 0, sizeof(uint32_t) * (size_t)L * (size_t)L);
        const int ya = dy < 0 ? -dy : 0, xa = dx < 0 ? -dx : 0, xb = dx > 0 ? w - dx : w;
        for (int y = ya; y < h; y++) {
            const uint8_t *r = CROW(uint8_t, src, src_stride, y);
            const uint8_t *q = CROW(uint8_t, src, src_stride, y + dy) + dx;
            const uint8_t *mr = mask ? CROW(uint8_t, mask, mask_stride, y) : NULL;
            const uint8_t *mq = mask ? CROW(uint8_t, mask, mask_stride, y + dy) + dx : NULL;
            int x = xa;
            for (; x + 32 <= xb; x += 32) {
                const __m256i a = _mm256_loadu_si256((const __m256i *)(r + x));
                const __m256i b = _mm256_loadu_si256((const __m256i *)(q + x));
                uint32_t valid = 0xffffffffu;
                if (mask) {
                    const __m256i ma = _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(mr + x)), zero);
                    const __m256i mb = _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(mq + x)), zero);
                    valid = ~(uint32_t)_mm256_movemask_epi8(_mm256_or_si256(ma, mb));
                    if (!valid) continue;
                }
                const __m256i lo = _mm256_add_epi16(_mm256_mullo_epi16(_mm256_cvtepu8_epi16(_mm256_castsi256_si128(a)), vl),
                                                    _mm256_cvtepu8_epi16(_mm256_castsi256_si128(b)));
                const __m256i hi = _mm256_add_epi16(_mm256_mullo_epi16(_mm256_cvtepu8_epi16(_mm256_extracti128_si256(a, 1)), vl),
                                                    _mm256_cvtepu8_epi16(_mm256_extracti128_si256(b, 1)));
                _mm256_storeu_si256((__m256i *)idx, lo);
                _mm256_storeu_si256((__m256i *)(idx + 16), hi);
                if (nsplit == 4) {
                    if (valid == 0xffffffffu) {
                        for (int k = 0; k < 32; k += 4) {
                            tab[0][idx[k]]++; tab[1][idx[k + 1]]++;
                            tab[2][idx[k + 2]]++; tab[3][idx[k + 3]]++;
                        }
                    } else {
                        while (valid) {
                            const int k = __builtin_ctz(valid);
                            tab[k & 3][idx[k]]++;
                            valid &= valid - 1;
                        }
                    }
                } else if (valid == 0xffffffffu) {
                    for (int k = 0; k < 32; k++) c[idx[k]]++;
                } else {
                    while (valid) {
                        c[idx[__builtin_ctz(valid)]]++;
                        valid &= valid - 1;
                    }
                }
            }
            for (; x < xb; x++)
                if (!mr || (mr[x] && mq[x])) c[r[x] * L + q[x]]++;
        }
        for (int t = 1; t < nsplit; t++)
            for (int i = 0; i < L * L; i++)
                c[i] += tab[t][i];
    }
}

void sd_stats_dsp_init_avx2(SdStatsDSP *c)
{
    c->moments = moments_avx2;
    c->quant = quant_avx2;
    c->ecc = ecc_avx2;
    c->glcm = glcm_avx2;
}

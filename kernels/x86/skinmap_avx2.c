/* Skin-metric map kernels, AVX2+FMA. ridge_max and lincomb match C within float rounding (FMA);
 * ita uses the polynomial atan2 (< 1e-5 rad, i.e. < 6e-4 deg); line_mean loads the 2 x 2
 * neighbours of each sample as two 64-bit pairs, with the same polynomial sin/cos as C. */
#include <immintrin.h>
#include <stdint.h>

#include "kernels/skinmap.h"
#include "kernels/x86/eig_avx2.h"
#include "kernels/x86/math_avx2.h"

#include "kernels/rows.h"

static void ridge_max_avx2(float *r, float *th, ptrdiff_t dst_stride, const float *l1,
                           const float *l2, const float *t, ptrdiff_t src_stride, int w, int h,
                           int first)
{
    const __m256 abs = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff)),
                 sgn = _mm256_castsi256_ps(_mm256_set1_epi32((int)0x80000000u));
    for (int y = 0; y < h; y++) {
        const float *a = CROW(float, l1, src_stride, y), *b = CROW(float, l2, src_stride, y),
                    *tt = CROW(float, t, src_stride, y);
        float *rr = ROW(float, r, dst_stride, y), *o = ROW(float, th, dst_stride, y);
        for (int x = 0; x < w; x += 8) {
            const int full = x + 8 <= w;
            const __m256i tm = sd_tail_mask8(full ? 8 : w - x);
            const __m256 A = sd_ld8(a + x, tm, full), B = sd_ld8(b + x, tm, full);
            __m256 v = _mm256_sub_ps(_mm256_and_ps(B, abs), _mm256_and_ps(A, abs));
            /* negate where l2 < 0 */
            v = _mm256_xor_ps(v, _mm256_and_ps(_mm256_cmp_ps(B, _mm256_setzero_ps(), _CMP_LT_OQ), sgn));
            if (first) {
                sd_st8(rr + x, tm, full, v);
                sd_st8(o + x, tm, full, sd_ld8(tt + x, tm, full));
            } else {
                const __m256 R = sd_ld8(rr + x, tm, full), T = sd_ld8(tt + x, tm, full),
                             O = sd_ld8(o + x, tm, full);
                const __m256 gt = _mm256_cmp_ps(v, R, _CMP_GT_OQ);
                sd_st8(rr + x, tm, full, _mm256_blendv_ps(R, v, gt));
                sd_st8(o + x, tm, full, _mm256_blendv_ps(O, T, gt));
            }
        }
    }
}

static void ridge_keep_avx2(float *r, float *a, float *b, float *c, ptrdiff_t dst_stride, const float *xx,
                            const float *xy, const float *yy, ptrdiff_t src_stride, int w, int h, float s2,
                            int first)
{
    const __m256 s = _mm256_set1_ps(s2), abs = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff)),
                 sgn = _mm256_castsi256_ps(_mm256_set1_epi32((int)0x80000000u));
    for (int y = 0; y < h; y++) {
        const float *pxx = CROW(float, xx, src_stride, y), *pxy = CROW(float, xy, src_stride, y),
                    *pyy = CROW(float, yy, src_stride, y);
        float *rr = ROW(float, r, dst_stride, y), *pa = ROW(float, a, dst_stride, y),
              *pb = ROW(float, b, dst_stride, y), *pc = ROW(float, c, dst_stride, y);
        for (int x = 0; x < w; x += 8) {
            const int full = x + 8 <= w;
            const __m256i tm = sd_tail_mask8(full ? 8 : w - x);
            const __m256 A = _mm256_mul_ps(s, sd_ld8(pxx + x, tm, full)),
                         B = _mm256_mul_ps(s, sd_ld8(pxy + x, tm, full)),
                         C = _mm256_mul_ps(s, sd_ld8(pyy + x, tm, full));
            __m256 e1, e2, isp;
            sd_eig8_avx2(A, B, C, &e1, &e2, &isp);
            __m256 v = _mm256_sub_ps(_mm256_and_ps(e2, abs), _mm256_and_ps(e1, abs));
            v = _mm256_xor_ps(v, _mm256_and_ps(_mm256_cmp_ps(e2, _mm256_setzero_ps(), _CMP_LT_OQ), sgn));
            if (first) {
                sd_st8(rr + x, tm, full, v);
                sd_st8(pa + x, tm, full, A);
                sd_st8(pb + x, tm, full, B);
                sd_st8(pc + x, tm, full, C);
            } else {
                const __m256 R = sd_ld8(rr + x, tm, full), gt = _mm256_cmp_ps(v, R, _CMP_GT_OQ);
                sd_st8(rr + x, tm, full, _mm256_blendv_ps(R, v, gt));
                sd_st8(pa + x, tm, full, _mm256_blendv_ps(sd_ld8(pa + x, tm, full), A, gt));
                sd_st8(pb + x, tm, full, _mm256_blendv_ps(sd_ld8(pb + x, tm, full), B, gt));
                sd_st8(pc + x, tm, full, _mm256_blendv_ps(sd_ld8(pc + x, tm, full), C, gt));
            }
        }
    }
}

static void lincomb_avx2(float *dst, ptrdiff_t dst_stride, const float *a, const float *b,
                         const float *c, ptrdiff_t src_stride, int w, int h, const float k[3])
{
    const __m256 k0 = _mm256_set1_ps(k[0]), k1 = _mm256_set1_ps(k[1]), k2 = _mm256_set1_ps(k[2]);
    for (int y = 0; y < h; y++) {
        const float *pa = CROW(float, a, src_stride, y), *pb = CROW(float, b, src_stride, y);
        const float *pc = c ? CROW(float, c, src_stride, y) : NULL;
        float *d = ROW(float, dst, dst_stride, y);
        for (int x = 0; x < w; x += 8) {
            const int full = x + 8 <= w;
            const __m256i tm = sd_tail_mask8(full ? 8 : w - x);
            __m256 v = _mm256_add_ps(_mm256_mul_ps(k0, sd_ld8(pa + x, tm, full)),
                                     _mm256_mul_ps(k1, sd_ld8(pb + x, tm, full)));
            if (pc)
                v = _mm256_add_ps(v, _mm256_mul_ps(k2, sd_ld8(pc + x, tm, full)));
            sd_st8(d + x, tm, full, v);
        }
    }
}

static void ita_avx2(float *dst, ptrdiff_t dst_stride, const float *L, const float *b,
                     ptrdiff_t src_stride, int w, int h)
{
    const __m256 fifty = _mm256_set1_ps(50.0f), deg = _mm256_set1_ps(57.2957795f);
    for (int y = 0; y < h; y++) {
        const float *pl = CROW(float, L, src_stride, y), *pb = CROW(float, b, src_stride, y);
        float *d = ROW(float, dst, dst_stride, y);
        for (int x = 0; x < w; x += 8) {
            const int full = x + 8 <= w;
            const __m256i tm = sd_tail_mask8(full ? 8 : w - x);
            const __m256 yy = _mm256_sub_ps(sd_ld8(pl + x, tm, full), fifty);
            sd_st8(d + x, tm, full, _mm256_mul_ps(sd_atan2_ps(yy, sd_ld8(pb + x, tm, full)), deg));
        }
    }
}

static inline __attribute__((always_inline)) void line_mean_body(float *dst, ptrdiff_t dst_stride,
        const float *src, ptrdiff_t src_stride, int sw, int sh, const float *theta, ptrdiff_t th_stride,
        int y0, int h, float step, int ns)
{
    const float xmax = sw > 1 ? (float)(sw - 1) - 1e-3f : 0.0f, ymax = sh > 1 ? (float)(sh - 1) - 1e-3f : 0.0f;
    const __m256 vxmax = _mm256_set1_ps(xmax), vymax = _mm256_set1_ps(ymax), zero = _mm256_setzero_ps(),
                 one = _mm256_set1_ps(1.0f), vstep = _mm256_set1_ps(step),
                 inv = _mm256_set1_ps(1.0f / (float)(2 * ns + 1)), lane = _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i vsw1 = _mm256_set1_epi32(sw - 1), vsh1 = _mm256_set1_epi32(sh - 1),
                  vstr = _mm256_set1_epi32((int)(src_stride / (ptrdiff_t)sizeof(float))), one_i = _mm256_set1_epi32(1);
    /* pairs need ix + 1 <= sw - 1: beyond 32768 px, (sw - 1) - 1e-3 rounds to sw - 1 in float */
    const int pairs = sw > 1 && sh > 1 && xmax < (float)(sw - 1) && ymax < (float)(sh - 1);
    const ptrdiff_t sf = src_stride / (ptrdiff_t)sizeof(float);
    /* the source row that enters the samples' reach with the next output row, and the next
     * theta row: prefetched a line per 16 pixels */
    const int reach = (int)((float)ns * step) + 3;
    for (int j = 0; j < h; j++) {
        const int y = y0 + j;
        const float *o = CROW(float, theta, th_stride, j);
        float *d = ROW(float, dst, dst_stride, j);
        const float *pf_s = y + reach < sh ? CROW(float, src, src_stride, y + reach) : NULL,
                    *pf_t = j + 1 < h ? CROW(float, theta, th_stride, j + 1) : NULL;
        for (int x = 0; x < sw; x += 8) {
            if (!(x & 15)) {
                if (pf_s) _mm_prefetch((const char *)(pf_s + x), _MM_HINT_T0);
                if (pf_t) _mm_prefetch((const char *)(pf_t + x), _MM_HINT_T0);
            }
            const int full = x + 8 <= sw;
            const __m256i tm = sd_tail_mask8(full ? 8 : sw - x);
            const __m256 t = sd_ld8(o + x, tm, full), t2 = _mm256_mul_ps(t, t);
            __m256 sn = _mm256_fmadd_ps(t2, _mm256_set1_ps(1.0f / 362880), _mm256_set1_ps(-1.0f / 5040));
            sn = _mm256_fmadd_ps(t2, sn, _mm256_set1_ps(1.0f / 120));
            sn = _mm256_fmadd_ps(t2, sn, _mm256_set1_ps(-1.0f / 6));
            sn = _mm256_mul_ps(t, _mm256_fmadd_ps(t2, sn, one));
            __m256 cs = _mm256_fmadd_ps(t2, _mm256_set1_ps(-1.0f / 3628800), _mm256_set1_ps(1.0f / 40320));
            cs = _mm256_fmadd_ps(t2, cs, _mm256_set1_ps(-1.0f / 720));
            cs = _mm256_fmadd_ps(t2, cs, _mm256_set1_ps(1.0f / 24));
            cs = _mm256_fmadd_ps(t2, cs, _mm256_set1_ps(-0.5f));
            cs = _mm256_fmadd_ps(t2, cs, one);
            const __m256 dx = _mm256_mul_ps(cs, vstep), dy = _mm256_mul_ps(sn, vstep);
            const __m256 px = _mm256_add_ps(_mm256_set1_ps((float)x), lane), py = _mm256_set1_ps((float)y);
            __m256 acc = zero;
            /* the centre sample of an inner pixel lies on the pixel itself (weights 0: exactly
             * src[y][x], as the lerps give): one plain load */
            const int centre = pairs && full && y < sh - 1 && x + 8 <= sw - 1;
            _Pragma("GCC unroll 16") for (int k = -ns; k <= ns; k++) {
                if (k == 0 && centre) {
                    acc = _mm256_add_ps(acc, _mm256_loadu_ps(CROW(float, src, src_stride, y) + x));
                    continue;
                }
                const __m256 kk = _mm256_set1_ps((float)k);
                __m256 fx = _mm256_fmadd_ps(kk, dx, px), fy = _mm256_fmadd_ps(kk, dy, py);
                fx = _mm256_min_ps(_mm256_max_ps(fx, zero), vxmax);
                fy = _mm256_min_ps(_mm256_max_ps(fy, zero), vymax);
                const __m256i ix = _mm256_cvttps_epi32(fx), iy = _mm256_cvttps_epi32(fy);
                const __m256 ax = _mm256_sub_ps(fx, _mm256_cvtepi32_ps(ix)),
                             ay = _mm256_sub_ps(fy, _mm256_cvtepi32_ps(iy));
                __m256 v00, v01, v10, v11;
                if (pairs) {
                    /* ix + 1 <= sw - 1 and iy + 1 <= sh - 1 (coordinates stop 1e-3 short of the
                     * last pixel): each lane's (ix, ix + 1) pairs of rows iy and iy + 1 are two
                     * 64-bit loads into one 128-bit register (v00 v01 v10 v11), then a 4 x 4
                     * transpose per 128-bit half (cheaper than four 64-bit gathers) */
                    /* the lanes' offsets, two per 64-bit extraction (a store and eight reloads
                     * compile to eight slower single-lane extractions) */
                    const __m256i off = _mm256_add_epi32(_mm256_mullo_epi32(iy, vstr), ix);
                    const __m128i olo = _mm256_castsi256_si128(off), ohi = _mm256_extracti128_si256(off, 1);
                    const long long e0 = _mm_cvtsi128_si64(olo), e1 = _mm_extract_epi64(olo, 1),
                                    e2 = _mm_cvtsi128_si64(ohi), e3 = _mm_extract_epi64(ohi, 1);
                    const ptrdiff_t idx[8] = { (int32_t)e0, (int32_t)(e0 >> 32), (int32_t)e1, (int32_t)(e1 >> 32),
                                               (int32_t)e2, (int32_t)(e2 >> 32), (int32_t)e3, (int32_t)(e3 >> 32) };
#define QUAD(l) _mm_castsi128_ps(_mm_unpacklo_epi64(_mm_loadl_epi64((const __m128i *)(src + idx[l])), \
                                                   _mm_loadl_epi64((const __m128i *)(src + idx[l] + sf))))
                    const __m256 q0 = _mm256_insertf128_ps(_mm256_castps128_ps256(QUAD(0)), QUAD(4), 1),
                                 q1 = _mm256_insertf128_ps(_mm256_castps128_ps256(QUAD(1)), QUAD(5), 1),
                                 q2 = _mm256_insertf128_ps(_mm256_castps128_ps256(QUAD(2)), QUAD(6), 1),
                                 q3 = _mm256_insertf128_ps(_mm256_castps128_ps256(QUAD(3)), QUAD(7), 1);
#undef QUAD
                    const __m256 u0 = _mm256_unpacklo_ps(q0, q1), u1 = _mm256_unpackhi_ps(q0, q1),
                                 u2 = _mm256_unpacklo_ps(q2, q3), u3 = _mm256_unpackhi_ps(q2, q3);
                    v00 = _mm256_shuffle_ps(u0, u2, _MM_SHUFFLE(1, 0, 1, 0));
                    v01 = _mm256_shuffle_ps(u0, u2, _MM_SHUFFLE(3, 2, 3, 2));
                    v10 = _mm256_shuffle_ps(u1, u3, _MM_SHUFFLE(1, 0, 1, 0));
                    v11 = _mm256_shuffle_ps(u1, u3, _MM_SHUFFLE(3, 2, 3, 2));
                } else {
                    const __m256i ix1 = _mm256_min_epi32(_mm256_add_epi32(ix, one_i), vsw1),
                                  iy1 = _mm256_min_epi32(_mm256_add_epi32(iy, one_i), vsh1);
                    const __m256i r0 = _mm256_mullo_epi32(iy, vstr), r1 = _mm256_mullo_epi32(iy1, vstr);
                    v00 = _mm256_i32gather_ps(src, _mm256_add_epi32(r0, ix), 4);
                    v01 = _mm256_i32gather_ps(src, _mm256_add_epi32(r0, ix1), 4);
                    v10 = _mm256_i32gather_ps(src, _mm256_add_epi32(r1, ix), 4);
                    v11 = _mm256_i32gather_ps(src, _mm256_add_epi32(r1, ix1), 4);
                }
                const __m256 top = _mm256_fmadd_ps(ax, _mm256_sub_ps(v01, v00), v00),
                             bot = _mm256_fmadd_ps(ax, _mm256_sub_ps(v11, v10), v10);
                acc = _mm256_add_ps(acc, _mm256_fmadd_ps(ay, _mm256_sub_ps(bot, top), top));
            }
            sd_st8(d + x, tm, full, _mm256_mul_ps(acc, inv));
        }
    }
}

/* The sample loop unrolled for the usual ns = 4 (the metrics' default): same samples, same order. */
static void line_mean_avx2(float *dst, ptrdiff_t dst_stride, const float *src, ptrdiff_t src_stride,
                           int sw, int sh, const float *theta, ptrdiff_t th_stride, int y0, int h,
                           float step, int ns)
{
    if (ns == 4)
        line_mean_body(dst, dst_stride, src, src_stride, sw, sh, theta, th_stride, y0, h, step, 4);
    else
        line_mean_body(dst, dst_stride, src, src_stride, sw, sh, theta, th_stride, y0, h, step, ns);
}

/* Same arithmetic as up2_c (mul and add, no FMA: bit-identical). For half-res columns q .. q+7
 * (1 <= q, q + 8 <= sw - 1), the even outputs 2q + 2i blend (q-1+i, q+i) with weight 0.75 and
 * the odd ones 2q + 2i + 1 blend (q+i, q+1+i) with 0.25; the rest by the scalar rule. */
static inline float up2_px(const float *r0, const float *r1, int x, int sw, float wy)
{
    const int q = x >> 1;
    int a, b;
    float wx;
    if (x & 1) { a = q; b = q + 1; wx = 0.25f; }
    else       { a = q - 1; b = q; wx = 0.75f; }
    if (a < 0) a = 0;
    if (b > sw - 1) b = sw - 1;
    if (a > sw - 1) a = sw - 1;
    const float top = r0[a] + wx * (r0[b] - r0[a]), bot = r1[a] + wx * (r1[b] - r1[a]);
    return top + wy * (bot - top);
}

static void up2_avx2(float *dst, ptrdiff_t dst_stride, int dw, int y0, int h, const float *src,
                     ptrdiff_t src_stride, int sw, int sh)
{
    const __m256 w75 = _mm256_set1_ps(0.75f), w25 = _mm256_set1_ps(0.25f);
    for (int j = 0; j < h; j++) {
        const int y = y0 + j;
        const int k = y >> 1;
        int i0, i1;
        float wy;
        if (y & 1) { i0 = k; i1 = k + 1; wy = 0.25f; }
        else       { i0 = k - 1; i1 = k; wy = 0.75f; }
        if (i0 < 0) i0 = 0;
        if (i1 > sh - 1) i1 = sh - 1;
        if (i0 > sh - 1) i0 = sh - 1;
        const float *r0 = CROW(float, src, src_stride, i0), *r1 = CROW(float, src, src_stride, i1);
        float *d = ROW(float, dst, dst_stride, j);
        const __m256 vwy = _mm256_set1_ps(wy);
        int x = 0;
        for (; x < 2 && x < dw; x++)
            d[x] = up2_px(r0, r1, x, sw, wy);
        for (; (x >> 1) + 8 <= sw - 1 && x + 16 <= dw; x += 16) {
            const int q = x >> 1;
            const __m256 a0 = _mm256_loadu_ps(r0 + q - 1), c0 = _mm256_loadu_ps(r0 + q),
                         b0 = _mm256_loadu_ps(r0 + q + 1);
            const __m256 a1 = _mm256_loadu_ps(r1 + q - 1), c1 = _mm256_loadu_ps(r1 + q),
                         b1 = _mm256_loadu_ps(r1 + q + 1);
            const __m256 te = _mm256_add_ps(a0, _mm256_mul_ps(w75, _mm256_sub_ps(c0, a0))),
                         be = _mm256_add_ps(a1, _mm256_mul_ps(w75, _mm256_sub_ps(c1, a1))),
                         to = _mm256_add_ps(c0, _mm256_mul_ps(w25, _mm256_sub_ps(b0, c0))),
                         bo = _mm256_add_ps(c1, _mm256_mul_ps(w25, _mm256_sub_ps(b1, c1)));
            const __m256 e = _mm256_add_ps(te, _mm256_mul_ps(vwy, _mm256_sub_ps(be, te))),
                         o = _mm256_add_ps(to, _mm256_mul_ps(vwy, _mm256_sub_ps(bo, to)));
            const __m256 lo = _mm256_unpacklo_ps(e, o), hi = _mm256_unpackhi_ps(e, o);
            _mm256_storeu_ps(d + x, _mm256_permute2f128_ps(lo, hi, 0x20));
            _mm256_storeu_ps(d + x + 8, _mm256_permute2f128_ps(lo, hi, 0x31));
        }
        for (; x < dw; x++)
            d[x] = up2_px(r0, r1, x, sw, wy);
    }
}

void sd_skinmap_dsp_init_avx2(SdSkinmapDSP *c)
{
    c->up2 = up2_avx2;
    c->ridge_max = ridge_max_avx2;
    c->ridge_keep = ridge_keep_avx2;
    c->lincomb = lincomb_avx2;
    c->ita = ita_avx2;
    c->line_mean = line_mean_avx2;
}

/* Warp kernels, AVX2+FMA. Source coordinates, the inside test and the mask are computed with the
 * C arithmetic (bit-exact); the bilinear blend uses FMA. Gathers index the source in floats with
 * 32-bit offsets, so the source must span < 2^31 floats (the init only installs these kernels;
 * ops.c checks the size). */
#include <immintrin.h>

#include "kernels/warp.h"
#include "kernels/x86/math_avx2.h"

#include "kernels/rows.h"

typedef struct Src {
    const float *p;
    __m256i sw1, sh1, sf;       /* sw-1, sh-1 (int), stride in floats */
    __m256 fw1, fh1;            /* sw-1, sh-1 (float) */
    int pairs;                  /* sw >= 2: fetch (x0, x0+1) as one 64-bit element */
    int sw, sh;
} Src;

/* Bilinear samples at (sx, sy); inside lanes in *in (all-ones), others = fill. Each source pair
 * (x0, x0+1) is fetched as one 64-bit gather element: half the gathered elements of four float
 * gathers. On the right edge (x0 = sw-1, where fx = 0) the pair starts one pixel left with fx = 1,
 * so nothing past the row is read; a one-pixel-wide source takes the float-gather path. */
static __attribute__((noinline)) __m256 sample8(const Src *s, __m256 sx, __m256 sy, __m256 fill, __m256 *in)
{
    const __m256 zero = _mm256_setzero_ps();
    __m256 ok = _mm256_and_ps(_mm256_cmp_ps(sx, zero, _CMP_GE_OQ), _mm256_cmp_ps(sx, s->fw1, _CMP_LE_OQ));
    ok = _mm256_and_ps(ok, _mm256_and_ps(_mm256_cmp_ps(sy, zero, _CMP_GE_OQ),
                                         _mm256_cmp_ps(sy, s->fh1, _CMP_LE_OQ)));
    *in = ok;
    const __m256 fx0 = _mm256_floor_ps(_mm256_and_ps(sx, ok)), fy0 = _mm256_floor_ps(_mm256_and_ps(sy, ok));
    __m256 fx = _mm256_sub_ps(_mm256_and_ps(sx, ok), fx0);
    const __m256 fy = _mm256_sub_ps(_mm256_and_ps(sy, ok), fy0);
    __m256i x0 = _mm256_cvttps_epi32(fx0);
    const __m256i y0 = _mm256_cvttps_epi32(fy0);
    const __m256i one = _mm256_set1_epi32(1);
    const __m256i y1 = _mm256_min_epi32(_mm256_add_epi32(y0, one), s->sh1);
    __m256 v00, v01, v10, v11;
    if (s->pairs) {
        const __m256i edge = _mm256_cmpeq_epi32(x0, s->sw1);
        x0 = _mm256_add_epi32(x0, edge);                               /* edge: x0 - 1 */
        fx = _mm256_blendv_ps(fx, _mm256_set1_ps(1.0f), _mm256_castsi256_ps(edge));
        const __m256i i0 = _mm256_add_epi32(_mm256_mullo_epi32(y0, s->sf), x0);
        const __m256i i1 = _mm256_add_epi32(_mm256_mullo_epi32(y1, s->sf), x0);
        const long long *base = (const long long *)(const void *)s->p;
        /* gather offsets are in bytes of the float array: scale 4 with float indices */
        const __m256 t0 = _mm256_castsi256_ps(_mm256_i32gather_epi64(base, _mm256_castsi256_si128(i0), 4));
        const __m256 t1 = _mm256_castsi256_ps(_mm256_i32gather_epi64(base, _mm256_extracti128_si256(i0, 1), 4));
        const __m256 b0 = _mm256_castsi256_ps(_mm256_i32gather_epi64(base, _mm256_castsi256_si128(i1), 4));
        const __m256 b1 = _mm256_castsi256_ps(_mm256_i32gather_epi64(base, _mm256_extracti128_si256(i1, 1), 4));
        /* (pairs of pixels 0-3, pairs of 4-7) -> lanes 0,1,4,5 | 2,3,6,7 -> permute to 0..7 */
#define EVEN(a, b) _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0x88)), 0xd8))
#define ODD(a, b) _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0xdd)), 0xd8))
        v00 = EVEN(t0, t1); v01 = ODD(t0, t1);
        v10 = EVEN(b0, b1); v11 = ODD(b0, b1);
#undef EVEN
#undef ODD
    } else {
        const __m256i dx = _mm256_and_si256(_mm256_cmpgt_epi32(s->sw1, x0), one);    /* x0+1 < sw */
        const __m256i i00 = _mm256_add_epi32(_mm256_mullo_epi32(y0, s->sf), x0);
        const __m256i i10 = _mm256_add_epi32(_mm256_mullo_epi32(y1, s->sf), x0);
        v00 = _mm256_i32gather_ps(s->p, i00, 4);
        v01 = _mm256_i32gather_ps(s->p, _mm256_add_epi32(i00, dx), 4);
        v10 = _mm256_i32gather_ps(s->p, i10, 4);
        v11 = _mm256_i32gather_ps(s->p, _mm256_add_epi32(i10, dx), 4);
    }
    const __m256 top = _mm256_fmadd_ps(fx, _mm256_sub_ps(v01, v00), v00);
    const __m256 bot = _mm256_fmadd_ps(fx, _mm256_sub_ps(v11, v10), v10);
    return _mm256_blendv_ps(fill, _mm256_fmadd_ps(fy, _mm256_sub_ps(bot, top), top), ok);
}

/* 16 consecutive floats from row + xmin, picked per lane at idx (0..15): two windows, two
 * in-register permutes (vpermps uses idx & 7), one blend. */
static inline __m256 pick16(const float *row, __m256i idx, __m256 hi)
{
    return _mm256_blendv_ps(_mm256_permutevar8x32_ps(_mm256_loadu_ps(row), idx),
                            _mm256_permutevar8x32_ps(_mm256_loadu_ps(row + 8), idx), hi);
}

/* Window fast path. Affine: source x and y are linear in the lane, so floor(sx), floor(sy) are
 * monotone and lanes 0 and 7 bound them (monotone = 1); homography: every lane is checked. When all 8 points are inside, span at most 15 columns clear of
 * the right edge and at most two rows, the four neighbours come from 16-float windows of up to
 * three rows with in-register permutes instead of gathers. Returns 0 when the group needs the
 * general path. Same coordinates, floor and weights as sample8. */
static inline __attribute__((always_inline)) int sample8_window(const Src *s, ptrdiff_t sfl, __m256 sx, __m256 sy, __m256 *out,
                                 int monotone)
{
    const __m256 zero = _mm256_setzero_ps();
    __m256 ok = _mm256_and_ps(_mm256_cmp_ps(sx, zero, _CMP_GE_OQ), _mm256_cmp_ps(sx, s->fw1, _CMP_LE_OQ));
    ok = _mm256_and_ps(ok, _mm256_and_ps(_mm256_cmp_ps(sy, zero, _CMP_GE_OQ),
                                         _mm256_cmp_ps(sy, s->fh1, _CMP_LE_OQ)));
    if (_mm256_movemask_ps(ok) != 0xff) return 0;
    const __m256 fx0 = _mm256_floor_ps(sx), fy0 = _mm256_floor_ps(sy);
    const __m256i x0 = _mm256_cvttps_epi32(fx0), y0 = _mm256_cvttps_epi32(fy0);
    const int xa = _mm256_extract_epi32(x0, 0), xb = _mm256_extract_epi32(x0, 7);
    const int ya = _mm256_extract_epi32(y0, 0), yb = _mm256_extract_epi32(y0, 7);
    const int xmin = xa < xb ? xa : xb, xmax = xa < xb ? xb : xa;
    const int ymin = ya < yb ? ya : yb, ymax = ya < yb ? yb : ya;
    if (ymax - ymin > 1 || xmax - xmin > 15 || xmin + 16 > s->sw - 1) return 0;
    const __m256i idx = _mm256_sub_epi32(x0, _mm256_set1_epi32(xmin));
    if (!monotone) {     /* lanes 0 and 7 need not bound the others: check every lane */
        const __m256i dy = _mm256_sub_epi32(y0, _mm256_set1_epi32(ymin));
        const __m256i bad = _mm256_or_si256(
            _mm256_or_si256(_mm256_cmpgt_epi32(_mm256_setzero_si256(), idx), _mm256_cmpgt_epi32(idx, _mm256_set1_epi32(15))),
            _mm256_or_si256(_mm256_cmpgt_epi32(_mm256_setzero_si256(), dy), _mm256_cmpgt_epi32(dy, _mm256_set1_epi32(1))));
        if (!_mm256_testz_si256(bad, bad)) return 0;
    }
    const __m256 hi = _mm256_castsi256_ps(_mm256_cmpgt_epi32(idx, _mm256_set1_epi32(7)));
    const int r1 = ymin + 1 < s->sh ? ymin + 1 : ymin;
    const float *t = s->p + (ptrdiff_t)ymin * sfl + xmin, *m = s->p + (ptrdiff_t)r1 * sfl + xmin;
    __m256 v00 = pick16(t, idx, hi), v01 = pick16(t + 1, idx, hi);
    __m256 v10 = pick16(m, idx, hi), v11 = pick16(m + 1, idx, hi);
    if (ymax != ymin) {                   /* lanes with y0 = ymin + 1 move down one row */
        const int r2 = ymin + 2 < s->sh ? ymin + 2 : r1;
        const float *u = s->p + (ptrdiff_t)r2 * sfl + xmin;
        const __m256 down = _mm256_castsi256_ps(_mm256_cmpgt_epi32(y0, _mm256_set1_epi32(ymin)));
        v00 = _mm256_blendv_ps(v00, v10, down);
        v01 = _mm256_blendv_ps(v01, v11, down);
        v10 = _mm256_blendv_ps(v10, pick16(u, idx, hi), down);
        v11 = _mm256_blendv_ps(v11, pick16(u + 1, idx, hi), down);
    }
    const __m256 fx = _mm256_sub_ps(sx, fx0), fy = _mm256_sub_ps(sy, fy0);
    const __m256 top = _mm256_fmadd_ps(fx, _mm256_sub_ps(v01, v00), v00);
    const __m256 bot = _mm256_fmadd_ps(fx, _mm256_sub_ps(v11, v10), v10);
    *out = _mm256_fmadd_ps(fy, _mm256_sub_ps(bot, top), top);
    return 1;
}

static inline void store_out(float *o, uint8_t *mo, int x, int n, __m256 v, __m256 in)
{
    if (n == 8) _mm256_storeu_ps(o + x, v);
    else _mm256_maskstore_ps(o + x, sd_tail_mask8(n), v);
    if (mo) {
        const __m256i m = _mm256_castps_si256(in);
        const __m128i p16 = _mm_packs_epi32(_mm256_castsi256_si128(m), _mm256_extracti128_si256(m, 1));
        const __m128i p8 = _mm_packs_epi16(p16, p16);
        if (n == 8) _mm_storel_epi64((__m128i *)(mo + x), p8);
        else {
            uint8_t t[16];
            _mm_storeu_si128((__m128i *)t, p8);
            for (int i = 0; i < n; i++) mo[x + i] = t[i];
        }
    }
}

static void src_init(Src *s, const float *src, ptrdiff_t ss, int sw, int sh)
{
    s->p = src;
    s->sw1 = _mm256_set1_epi32(sw - 1);
    s->sh1 = _mm256_set1_epi32(sh - 1);
    s->sf = _mm256_set1_epi32((int)(ss / (ptrdiff_t)sizeof(float)));
    s->fw1 = _mm256_set1_ps((float)(sw - 1));
    s->fh1 = _mm256_set1_ps((float)(sh - 1));
    s->pairs = sw >= 2;
    s->sw = sw;
    s->sh = sh;
}

static void affine_avx2(float *dst, ptrdiff_t dst_stride, uint8_t *mask, ptrdiff_t mask_stride,
                        const float *src, ptrdiff_t src_stride, int sw, int sh, int w, int h,
                        const SdWarpParams *p)
{
    Src s;
    src_init(&s, src, src_stride, sw, sh);
    const ptrdiff_t sfl = src_stride / (ptrdiff_t)sizeof(float);
    const __m256 a = _mm256_set1_ps((float)p->m[0]), d = _mm256_set1_ps((float)p->m[3]),
                 fill = _mm256_set1_ps(p->fill), step = _mm256_set1_ps(8.0f);
    for (int y = 0; y < h; y++) {
        const double yy = (double)(p->y0 + y), xb = (double)p->x0;
        const __m256 bx = _mm256_set1_ps((float)(p->m[0] * xb + p->m[1] * yy + p->m[2]));
        const __m256 by = _mm256_set1_ps((float)(p->m[3] * xb + p->m[4] * yy + p->m[5]));
        float *o = ROW(float, dst, dst_stride, y);
        uint8_t *mo = mask ? ROW(uint8_t, mask, mask_stride, y) : NULL;
        __m256 fx = _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7);
        for (int x = 0; x < w; x += 8, fx = _mm256_add_ps(fx, step)) {
            const __m256 sx = _mm256_add_ps(bx, _mm256_mul_ps(a, fx));
            const __m256 sy = _mm256_add_ps(by, _mm256_mul_ps(d, fx));
            __m256 in, v;
            if (sample8_window(&s, sfl, sx, sy, &v, 1)) in = _mm256_castsi256_ps(_mm256_set1_epi32(-1));
            else v = sample8(&s, sx, sy, fill, &in);
            store_out(o, mo, x, w - x < 8 ? w - x : 8, v, in);
        }
    }
}

static void homog_avx2(float *dst, ptrdiff_t dst_stride, uint8_t *mask, ptrdiff_t mask_stride,
                       const float *src, ptrdiff_t src_stride, int sw, int sh, int w, int h,
                       const SdWarpParams *p)
{
    Src s;
    src_init(&s, src, src_stride, sw, sh);
    const ptrdiff_t sfl = src_stride / (ptrdiff_t)sizeof(float);
    const __m256 a = _mm256_set1_ps((float)p->m[0]), d = _mm256_set1_ps((float)p->m[3]),
                 g = _mm256_set1_ps((float)p->m[6]), fill = _mm256_set1_ps(p->fill),
                 step = _mm256_set1_ps(8.0f);
    for (int y = 0; y < h; y++) {
        const double yy = (double)(p->y0 + y), xb = (double)p->x0;
        const __m256 bx = _mm256_set1_ps((float)(p->m[0] * xb + p->m[1] * yy + p->m[2]));
        const __m256 by = _mm256_set1_ps((float)(p->m[3] * xb + p->m[4] * yy + p->m[5]));
        const __m256 bz = _mm256_set1_ps((float)(p->m[6] * xb + p->m[7] * yy + p->m[8]));
        float *o = ROW(float, dst, dst_stride, y);
        uint8_t *mo = mask ? ROW(uint8_t, mask, mask_stride, y) : NULL;
        __m256 fx = _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7);
        for (int x = 0; x < w; x += 8, fx = _mm256_add_ps(fx, step)) {
            const __m256 X = _mm256_add_ps(bx, _mm256_mul_ps(a, fx));
            const __m256 Y = _mm256_add_ps(by, _mm256_mul_ps(d, fx));
            const __m256 Z = _mm256_add_ps(bz, _mm256_mul_ps(g, fx));
            const __m256 sx = _mm256_div_ps(X, Z), sy = _mm256_div_ps(Y, Z);
            __m256 in, v;
            if (sample8_window(&s, sfl, sx, sy, &v, 0)) in = _mm256_castsi256_ps(_mm256_set1_epi32(-1));
            else v = sample8(&s, sx, sy, fill, &in);
            store_out(o, mo, x, w - x < 8 ? w - x : 8, v, in);
        }
    }
}

static void down2_avx2(float *dst, ptrdiff_t dst_stride, const float *src, ptrdiff_t src_stride,
                       int w, int h, int sw, int sh)
{
    const __m256 q = _mm256_set1_ps(0.25f);
    const int wv = sw / 2 < w ? sw / 2 : w;   /* output columns whose two inputs both exist */
    for (int y = 0; y < h; y++) {
        const int y0 = 2 * y, y1 = 2 * y + 1 < sh ? 2 * y + 1 : 2 * y;
        const float *r0 = CROW(float, src, src_stride, y0), *r1 = CROW(float, src, src_stride, y1);
        float *o = ROW(float, dst, dst_stride, y);
        int x = 0;
        for (; x + 8 <= wv; x += 8) {
            /* hadd pairs within 128-bit lanes; permute restores the order */
            const __m256 a = _mm256_hadd_ps(_mm256_loadu_ps(r0 + 2 * x), _mm256_loadu_ps(r0 + 2 * x + 8));
            const __m256 b = _mm256_hadd_ps(_mm256_loadu_ps(r1 + 2 * x), _mm256_loadu_ps(r1 + 2 * x + 8));
            const __m256 s = _mm256_mul_ps(q, _mm256_add_ps(a, b));
            _mm256_storeu_ps(o + x, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(s), 0xd8)));
        }
        for (; x < w; x++) {
            const int x0 = 2 * x, x1 = 2 * x + 1 < sw ? 2 * x + 1 : 2 * x;
            o[x] = 0.25f * ((r0[x0] + r0[x1]) + (r1[x0] + r1[x1]));
        }
    }
}

void sd_warp_dsp_init_avx2(SdWarpDSP *c)
{
    c->affine = affine_avx2;
    c->homog = homog_avx2;
    c->down2 = down2_avx2;
}

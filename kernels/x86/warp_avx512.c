/* Warp kernels, AVX-512 (homography). Coordinates, the inside test and the mask with the C
 * operations (bit-exact); bilinear blend with FMA; (x0, x0+1) pairs gathered as 64-bit elements
 * with 32-bit float offsets (ops.c falls back to C for larger sources). */
#include <immintrin.h>

#include "kernels/warp.h"
#include "kernels/x86/math_avx512.h"

#define ROW(T, p, stride, y) ((T *)((char *)(p) + (ptrdiff_t)(y) * (stride)))
#define CROW(T, p, stride, y) ((const T *)((const char *)(p) + (ptrdiff_t)(y) * (stride)))

typedef struct Src {
    const float *p;
    ptrdiff_t sfl;              /* stride in floats */
    int sw, sh;
    __m512i sw1, sh1, sf;
    __m512 fw1, fh1;
} Src;

static void src_init(Src *s, const float *src, ptrdiff_t ss, int sw, int sh)
{
    s->p = src;
    s->sfl = ss / (ptrdiff_t)sizeof(float);
    s->sw = sw;
    s->sh = sh;
    s->sw1 = _mm512_set1_epi32(sw - 1);
    s->sh1 = _mm512_set1_epi32(sh - 1);
    s->sf = _mm512_set1_epi32((int)s->sfl);
    s->fw1 = _mm512_set1_ps((float)(sw - 1));
    s->fh1 = _mm512_set1_ps((float)(sh - 1));
}

static inline __mmask16 inside(const Src *s, __m512 sx, __m512 sy)
{
    const __m512 zero = _mm512_setzero_ps();
    return _mm512_cmp_ps_mask(sx, zero, _CMP_GE_OQ) & _mm512_cmp_ps_mask(sx, s->fw1, _CMP_LE_OQ) &
           _mm512_cmp_ps_mask(sy, zero, _CMP_GE_OQ) & _mm512_cmp_ps_mask(sy, s->fh1, _CMP_LE_OQ);
}

static inline __m512 blend4(__m512 fx, __m512 fy, __m512 v00, __m512 v01, __m512 v10, __m512 v11)
{
    const __m512 top = _mm512_fmadd_ps(fx, _mm512_sub_ps(v01, v00), v00);
    const __m512 bot = _mm512_fmadd_ps(fx, _mm512_sub_ps(v11, v10), v10);
    return _mm512_fmadd_ps(fy, _mm512_sub_ps(bot, top), top);
}

/* General path: lanes outside get fill. */
static inline __m512 sample16(const Src *s, __m512 sx, __m512 sy, __m512 fill, __mmask16 ok)
{
    const __m512 fx0 = _mm512_floor_ps(_mm512_maskz_mov_ps(ok, sx)), fy0 = _mm512_floor_ps(_mm512_maskz_mov_ps(ok, sy));
    __m512 fx = _mm512_sub_ps(_mm512_maskz_mov_ps(ok, sx), fx0);
    const __m512 fy = _mm512_sub_ps(_mm512_maskz_mov_ps(ok, sy), fy0);
    __m512i x0 = _mm512_cvttps_epi32(fx0);
    const __m512i y0 = _mm512_cvttps_epi32(fy0), one = _mm512_set1_epi32(1);
    const __m512i y1 = _mm512_min_epi32(_mm512_add_epi32(y0, one), s->sh1);
    __m512 v00, v01, v10, v11;
    if (s->sw >= 2) {
        /* pairs; on the right edge (fx = 0) start one pixel left with fx = 1 */
        const __mmask16 edge = _mm512_cmpeq_epi32_mask(x0, s->sw1);
        x0 = _mm512_mask_sub_epi32(x0, edge, x0, one);
        fx = _mm512_mask_mov_ps(fx, edge, _mm512_set1_ps(1.0f));
        const __m512i i0 = _mm512_add_epi32(_mm512_mullo_epi32(y0, s->sf), x0);
        const __m512i i1 = _mm512_add_epi32(_mm512_mullo_epi32(y1, s->sf), x0);
        const void *base = s->p;
        const __m512 t0 = _mm512_castsi512_ps(_mm512_i32gather_epi64(_mm512_castsi512_si256(i0), base, 4));
        const __m512 t1 = _mm512_castsi512_ps(_mm512_i32gather_epi64(_mm512_extracti64x4_epi64(i0, 1), base, 4));
        const __m512 b0 = _mm512_castsi512_ps(_mm512_i32gather_epi64(_mm512_castsi512_si256(i1), base, 4));
        const __m512 b1 = _mm512_castsi512_ps(_mm512_i32gather_epi64(_mm512_extracti64x4_epi64(i1, 1), base, 4));
        const __m512i ev = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        const __m512i od = _mm512_add_epi32(ev, one);
        v00 = _mm512_permutex2var_ps(t0, ev, t1); v01 = _mm512_permutex2var_ps(t0, od, t1);
        v10 = _mm512_permutex2var_ps(b0, ev, b1); v11 = _mm512_permutex2var_ps(b0, od, b1);
    } else {
        const __m512i i00 = _mm512_mullo_epi32(y0, s->sf), i10 = _mm512_mullo_epi32(y1, s->sf);
        v00 = v01 = _mm512_i32gather_ps(i00, s->p, 4);
        v10 = v11 = _mm512_i32gather_ps(i10, s->p, 4);
    }
    return _mm512_mask_mov_ps(fill, ok, blend4(fx, fy, v00, v01, v10, v11));
}

static inline void store_out(float *o, uint8_t *mo, int x, int n, __m512 v, __mmask16 ok)
{
    const __mmask16 t = sd_tail16(n);
    sd_st16(o + x, t, v);
    if (mo) {
        const __m128i b = _mm_movm_epi8(ok);
        if (n == 16) _mm_storeu_si128((__m128i *)(mo + x), b);
        else _mm_mask_storeu_epi8(mo + x, t, b);
    }
}

static void homog_avx512(float *dst, ptrdiff_t dst_stride, uint8_t *mask, ptrdiff_t mask_stride,
                         const float *src, ptrdiff_t src_stride, int sw, int sh, int w, int h,
                         const SdWarpParams *p)
{
    Src s;
    src_init(&s, src, src_stride, sw, sh);
    const __m512 a = _mm512_set1_ps((float)p->m[0]), d = _mm512_set1_ps((float)p->m[3]),
                 g = _mm512_set1_ps((float)p->m[6]), fill = _mm512_set1_ps(p->fill),
                 step = _mm512_set1_ps(16.0f);
    for (int y = 0; y < h; y++) {
        const double yy = (double)(p->y0 + y), xb = (double)p->x0;
        const __m512 bx = _mm512_set1_ps((float)(p->m[0] * xb + p->m[1] * yy + p->m[2]));
        const __m512 by = _mm512_set1_ps((float)(p->m[3] * xb + p->m[4] * yy + p->m[5]));
        const __m512 bz = _mm512_set1_ps((float)(p->m[6] * xb + p->m[7] * yy + p->m[8]));
        float *o = ROW(float, dst, dst_stride, y);
        uint8_t *mo = mask ? ROW(uint8_t, mask, mask_stride, y) : NULL;
        __m512 fx = _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        for (int x = 0; x < w; x += 16, fx = _mm512_add_ps(fx, step)) {
            const __m512 X = _mm512_add_ps(bx, _mm512_mul_ps(a, fx));
            const __m512 Y = _mm512_add_ps(by, _mm512_mul_ps(d, fx));
            const __m512 Z = _mm512_add_ps(bz, _mm512_mul_ps(g, fx));
            const __m512 sx = _mm512_div_ps(X, Z), sy = _mm512_div_ps(Y, Z);
            const __mmask16 ok = inside(&s, sx, sy);
            store_out(o, mo, x, w - x < 16 ? w - x : 16, sample16(&s, sx, sy, fill, ok), ok);
        }
    }
}

void sd_warp_dsp_init_avx512(SdWarpDSP *c)
{
    /* affine keeps the AVX2 kernel: its gather-free window path needs two-register permutes on
     * 16 lanes (vpermt2ps), which are double-pumped on Zen 4 and measured ~15% slower than the
     * 8-lane version. */
    c->homog = homog_avx512;
}

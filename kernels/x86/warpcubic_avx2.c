/* Bicubic warp, AVX2+FMA. An affine row goes 8 pixels at a time: source points, the inside test
 * and the Keys weights as vectors with the C operations (mul, add, floor; no contraction), so
 * they equal the scalar ones; then each interior pixel fetches its 4x4 block as four unaligned
 * 4-float rows and blends them column-first with FMA, and the horizontal sums of 4 pixels are
 * formed together ((a0 + a2) + (a1 + a3), as the single-pixel path adds them) and stored as one
 * vector. Projective rows, row tails and groups with a pixel outside or at the source edge take
 * the single-pixel path; edge pixels their clamped scalar taps. */
#include <immintrin.h>
#include <math.h>

#include "kernels/warpcubic.h"

#include "kernels/rows.h"

/* One destination pixel at source point (sx, sy): fill and mask 0 outside, else the 4x4 blend. */
static inline void cubic_px(float *orow, ptrdiff_t dst_plane, uint8_t *mo, int x, float sx, float sy,
                            const float *src, ptrdiff_t src_stride, ptrdiff_t src_plane, int np, int sw,
                            int sh, float fill, float lo, float hi)
{
    if (!(sx >= 0.0f && sx <= (float)(sw - 1) && sy >= 0.0f && sy <= (float)(sh - 1))) {
        for (int k = 0; k < np; k++) ((float *)((char *)orow + k * dst_plane))[x] = fill;
        if (mo) mo[x] = 0;
        return;
    }
    if (mo) mo[x] = 255;
    const __m128 vlo = _mm_set_ss(lo), vhi = _mm_set_ss(hi);
    const float x0f = floorf(sx), y0f = floorf(sy);
    const int x0 = (int)x0f - 1, y0 = (int)y0f - 1;
    float wx[4], wy[4];
    sd__cubic_keys(sx - x0f, wx);
    sd__cubic_keys(sy - y0f, wy);
    if (x0 >= 0 && x0 + 3 <= sw - 1 && y0 >= 0 && y0 + 3 <= sh - 1) {
        const __m128 vwx = _mm_loadu_ps(wx);
        const __m128 w0 = _mm_set1_ps(wy[0]), w1 = _mm_set1_ps(wy[1]), w2 = _mm_set1_ps(wy[2]),
                     w3 = _mm_set1_ps(wy[3]);
        const float *r0 = CROW(float, src, src_stride, y0) + x0;
        for (int k = 0; k < np; k++) {
            const float *r = (const float *)((const char *)r0 + k * src_plane);
            __m128 acc = _mm_mul_ps(w0, _mm_loadu_ps(r));
            r = (const float *)((const char *)r + src_stride);
            acc = _mm_fmadd_ps(w1, _mm_loadu_ps(r), acc);
            r = (const float *)((const char *)r + src_stride);
            acc = _mm_fmadd_ps(w2, _mm_loadu_ps(r), acc);
            r = (const float *)((const char *)r + src_stride);
            acc = _mm_fmadd_ps(w3, _mm_loadu_ps(r), acc);
            acc = _mm_mul_ps(acc, vwx);
            acc = _mm_add_ps(acc, _mm_movehl_ps(acc, acc));
            acc = _mm_add_ss(acc, _mm_shuffle_ps(acc, acc, 1));
            acc = _mm_min_ss(_mm_max_ss(acc, vlo), vhi);
            ((float *)((char *)orow + k * dst_plane))[x] = _mm_cvtss_f32(acc);
        }
    } else {
        int xi[4], yi[4];
        for (int i = 0; i < 4; i++) {
            const int xx = x0 + i, yj = y0 + i;
            xi[i] = xx < 0 ? 0 : xx > sw - 1 ? sw - 1 : xx;
            yi[i] = yj < 0 ? 0 : yj > sh - 1 ? sh - 1 : yj;
        }
        for (int k = 0; k < np; k++) {
            const char *sp = (const char *)src + k * src_plane;
            float v = 0.0f;
            for (int j = 0; j < 4; j++) {
                const float *r = CROW(float, sp, src_stride, yi[j]);
                v += wy[j] * (wx[0] * r[xi[0]] + wx[1] * r[xi[1]] + wx[2] * r[xi[2]] + wx[3] * r[xi[3]]);
            }
            ((float *)((char *)orow + k * dst_plane))[x] = v < lo ? lo : v > hi ? hi : v;
        }
    }
}

/* Keys weights of 8 fractions, the operations of sd__cubic_keys in its order. */
static inline void keys8(__m256 t, __m256 w[4])
{
    const __m256 h = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f);
    w[0] = _mm256_mul_ps(_mm256_sub_ps(_mm256_mul_ps(_mm256_add_ps(_mm256_mul_ps(_mm256_set1_ps(-0.5f), t), one), t), h), t);
    w[1] = _mm256_add_ps(_mm256_mul_ps(_mm256_mul_ps(_mm256_sub_ps(_mm256_mul_ps(_mm256_set1_ps(1.5f), t),
                                                                   _mm256_set1_ps(2.5f)), t), t), one);
    w[2] = _mm256_mul_ps(_mm256_add_ps(_mm256_mul_ps(_mm256_add_ps(_mm256_mul_ps(_mm256_set1_ps(-1.5f), t),
                                                                   _mm256_set1_ps(2.0f)), t), h), t);
    w[3] = _mm256_mul_ps(_mm256_mul_ps(_mm256_sub_ps(_mm256_mul_ps(h, t), h), t), t);
}

/* Column-first blends of four interior pixels' 4x4 blocks in one plane (r[i] their top-left
 * taps), each times its x weights: four independent chains, written side by side. */
static inline void blend4x4(const float *const r[4], ptrdiff_t s, const float (*wy)[8], int i0,
                            const __m128 vwx[4], __m128 v[4])
{
    __m128 a0 = _mm_mul_ps(_mm_broadcast_ss(&wy[0][i0]), _mm_loadu_ps(r[0]));
    __m128 a1 = _mm_mul_ps(_mm_broadcast_ss(&wy[0][i0 + 1]), _mm_loadu_ps(r[1]));
    __m128 a2 = _mm_mul_ps(_mm_broadcast_ss(&wy[0][i0 + 2]), _mm_loadu_ps(r[2]));
    __m128 a3 = _mm_mul_ps(_mm_broadcast_ss(&wy[0][i0 + 3]), _mm_loadu_ps(r[3]));
    for (int j = 1; j < 4; j++) {
        const ptrdiff_t o = j * s;
        a0 = _mm_fmadd_ps(_mm_broadcast_ss(&wy[j][i0]), _mm_loadu_ps((const float *)((const char *)r[0] + o)), a0);
        a1 = _mm_fmadd_ps(_mm_broadcast_ss(&wy[j][i0 + 1]), _mm_loadu_ps((const float *)((const char *)r[1] + o)), a1);
        a2 = _mm_fmadd_ps(_mm_broadcast_ss(&wy[j][i0 + 2]), _mm_loadu_ps((const float *)((const char *)r[2] + o)), a2);
        a3 = _mm_fmadd_ps(_mm_broadcast_ss(&wy[j][i0 + 3]), _mm_loadu_ps((const float *)((const char *)r[3] + o)), a3);
    }
    v[0] = _mm_mul_ps(a0, vwx[0]);
    v[1] = _mm_mul_ps(a1, vwx[1]);
    v[2] = _mm_mul_ps(a2, vwx[2]);
    v[3] = _mm_mul_ps(a3, vwx[3]);
}

/* (a0 + a2) + (a1 + a3) of four pixels' products, one pixel a lane. */
static inline __m128 hsum4(__m128 v0, __m128 v1, __m128 v2, __m128 v3)
{
    const __m128 s01 = _mm_add_ps(_mm_unpacklo_ps(v0, v1), _mm_unpackhi_ps(v0, v1));
    const __m128 s23 = _mm_add_ps(_mm_unpacklo_ps(v2, v3), _mm_unpackhi_ps(v2, v3));
    return _mm_add_ps(_mm_movelh_ps(s01, s23), _mm_movehl_ps(s23, s01));
}

static void cubic_avx2(float *dst, ptrdiff_t dst_stride, ptrdiff_t dst_plane, uint8_t *mask,
                       ptrdiff_t mask_stride, const float *src, ptrdiff_t src_stride,
                       ptrdiff_t src_plane, int np, int sw, int sh, int w, int h,
                       const SdWarpParams *p, float lo, float hi)
{
    const int proj = !(p->m[6] == 0.0 && p->m[7] == 0.0 && p->m[8] == 1.0);
    const float a = (float)p->m[0], d = (float)p->m[3], g = (float)p->m[6];
    const __m256 va = _mm256_set1_ps(a), vd = _mm256_set1_ps(d), zero = _mm256_setzero_ps();
    const __m256 xmax = _mm256_set1_ps((float)(sw - 1)), ymax = _mm256_set1_ps((float)(sh - 1));
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), one = _mm256_set1_epi32(1);
    const __m256i xlim = _mm256_set1_epi32(sw - 4), ylim = _mm256_set1_epi32(sh - 4);
    const __m128 vlo = _mm_set1_ps(lo), vhi = _mm_set1_ps(hi);
    for (int y = 0; y < h; y++) {
        const double yy = (double)(p->y0 + y), xb = (double)p->x0;
        const float bx = (float)(p->m[0] * xb + p->m[1] * yy + p->m[2]);
        const float by = (float)(p->m[3] * xb + p->m[4] * yy + p->m[5]);
        const float bz = (float)(p->m[6] * xb + p->m[7] * yy + p->m[8]);
        uint8_t *mo = mask ? ROW(uint8_t, mask, mask_stride, y) : NULL;
        float *orow = ROW(float, dst, dst_stride, y);
        int x = 0;
        if (!proj) {
            const __m256 vbx = _mm256_set1_ps(bx), vby = _mm256_set1_ps(by);
            for (; x + 8 <= w; x += 8) {
                const __m256 fx = _mm256_cvtepi32_ps(_mm256_add_epi32(_mm256_set1_epi32(x), lane));
                const __m256 sx = _mm256_add_ps(vbx, _mm256_mul_ps(va, fx));
                const __m256 sy = _mm256_add_ps(vby, _mm256_mul_ps(vd, fx));
                const __m256 in = _mm256_and_ps(
                    _mm256_and_ps(_mm256_cmp_ps(sx, zero, _CMP_GE_OQ), _mm256_cmp_ps(sx, xmax, _CMP_LE_OQ)),
                    _mm256_and_ps(_mm256_cmp_ps(sy, zero, _CMP_GE_OQ), _mm256_cmp_ps(sy, ymax, _CMP_LE_OQ)));
                const __m256 x0f = _mm256_floor_ps(sx), y0f = _mm256_floor_ps(sy);
                /* block x0-1 .. x0+2 inside the source (for points inside, x0 >= 0 already) */
                const __m256i x0 = _mm256_sub_epi32(_mm256_cvttps_epi32(x0f), one);
                const __m256i y0 = _mm256_sub_epi32(_mm256_cvttps_epi32(y0f), one);
                const __m256i edge = _mm256_or_si256(
                    _mm256_or_si256(_mm256_cmpgt_epi32(x0, xlim), _mm256_cmpgt_epi32(y0, ylim)),
                    _mm256_or_si256(_mm256_cmpgt_epi32(_mm256_setzero_si256(), x0),
                                    _mm256_cmpgt_epi32(_mm256_setzero_si256(), y0)));
                const int inner = _mm256_movemask_ps(_mm256_andnot_ps(_mm256_castsi256_ps(edge), in));
                if (inner != 0xff) {   /* a pixel outside or at the edge: each on its own */
                    float sxa[8], sya[8];
                    _mm256_storeu_ps(sxa, sx);
                    _mm256_storeu_ps(sya, sy);
                    for (int i = 0; i < 8; i++)
                        cubic_px(orow, dst_plane, mo, x + i, sxa[i], sya[i], src, src_stride, src_plane, np,
                                 sw, sh, p->fill, lo, hi);
                    continue;
                }
                if (mo) _mm_storel_epi64((__m128i *)(mo + x), _mm_set1_epi8((char)255));
                __m256 wx[4], wy[4];
                keys8(_mm256_sub_ps(sx, x0f), wx);
                keys8(_mm256_sub_ps(sy, y0f), wy);
                /* per pixel: its four x weights as one vector (4x8 -> 8x4), its y weights */
                __m128 vwx[8];
                for (int half = 0; half < 2; half++) {
                    __m128 c0 = half ? _mm256_extractf128_ps(wx[0], 1) : _mm256_castps256_ps128(wx[0]);
                    __m128 c1 = half ? _mm256_extractf128_ps(wx[1], 1) : _mm256_castps256_ps128(wx[1]);
                    __m128 c2 = half ? _mm256_extractf128_ps(wx[2], 1) : _mm256_castps256_ps128(wx[2]);
                    __m128 c3 = half ? _mm256_extractf128_ps(wx[3], 1) : _mm256_castps256_ps128(wx[3]);
                    _MM_TRANSPOSE4_PS(c0, c1, c2, c3);
                    vwx[4 * half] = c0; vwx[4 * half + 1] = c1; vwx[4 * half + 2] = c2; vwx[4 * half + 3] = c3;
                }
                float wya[4][8];
                int xs[8], ys[8];
                for (int j = 0; j < 4; j++) _mm256_storeu_ps(wya[j], wy[j]);
                _mm256_storeu_si256((__m256i *)xs, x0);
                _mm256_storeu_si256((__m256i *)ys, y0);
                const float *r0[8];
                for (int i = 0; i < 8; i++) r0[i] = CROW(float, src, src_stride, ys[i]) + xs[i];
                for (int k = 0; k < np; k++) {
                    const float *rk[8];
                    for (int i = 0; i < 8; i++) rk[i] = (const float *)((const char *)r0[i] + k * src_plane);
                    float *o = (float *)((char *)orow + k * dst_plane) + x;
                    for (int q = 0; q < 8; q += 4) {
                        __m128 v[4];
                        blend4x4(rk + q, src_stride, (const float (*)[8])wya, q, vwx + q, v);
                        _mm_storeu_ps(o + q, _mm_min_ps(_mm_max_ps(hsum4(v[0], v[1], v[2], v[3]), vlo), vhi));
                    }
                }
            }
        }
        for (; x < w; x++) {
            const float fx = (float)x;
            float sx = bx + a * fx, sy = by + d * fx;
            if (proj) {
                const float z = bz + g * fx;
                sx = sx / z;
                sy = sy / z;
            }
            cubic_px(orow, dst_plane, mo, x, sx, sy, src, src_stride, src_plane, np, sw, sh, p->fill, lo, hi);
        }
    }
}

void sd_warpcubic_dsp_init_avx2(SdWarpCubicDSP *c)
{
    c->cubic = cubic_avx2;
}

/* ECC accumulation under a homography, AVX2+FMA. Every sum is an entry of the Gram matrix of
 * g = (J0..J7, 1, v0, v1) over the masked pixels (66 entries = jj, j, j0, j1, n, v). Four pixels
 * per vector build g with the C operations (same x, D, 1/D, u, v, J bit for bit; invalid lanes
 * zeroed with AND, so NaN inputs under the mask never leak), a chunk of groups is kept in L1, and
 * register tiles of the Gram matrix sweep the chunk with FMA (rank-k update); lane sums are
 * reduced once at the end. */
#include <immintrin.h>
#include <string.h>

#include "kernels/eccproj.h"

#include "kernels/rows.h"

#define NG 11        /* g entries */
#define CHUNK 32     /* groups of 4 pixels per chunk: 11 x 32 x 32 B = 11 KB */

typedef struct EccProjState {
    __m256d g[NG][CHUNK];
    __m256d G[NG][NG];       /* lane-wise partial sums; entries (a, b), a <= b, are used */
    int ng;
} EccProjState;

/* G[r0..r0+NR-1][c0..c0+NC-1] += sum over the chunk of g[r] g[c] (register tile). */
static inline __attribute__((always_inline)) void tile(EccProjState *s, int r0, int nr, int c0,
                                                         int nc)
{
    /* the constant tile sizes unroll completely, so t[][] lives in registers */
    __m256d t[3][4];
#pragma GCC unroll 4
    for (int r = 0; r < nr; r++)
#pragma GCC unroll 4
        for (int c = 0; c < nc; c++) t[r][c] = _mm256_setzero_pd();
    for (int i = 0; i < s->ng; i++) {
        __m256d cv[4];
#pragma GCC unroll 4
        for (int c = 0; c < nc; c++) cv[c] = s->g[c0 + c][i];
#pragma GCC unroll 4
        for (int r = 0; r < nr; r++) {
            const __m256d rv = s->g[r0 + r][i];
#pragma GCC unroll 4
            for (int c = 0; c < nc; c++) t[r][c] = _mm256_fmadd_pd(rv, cv[c], t[r][c]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < nr; r++)
#pragma GCC unroll 4
        for (int c = 0; c < nc; c++) s->G[r0 + r][c0 + c] = _mm256_add_pd(s->G[r0 + r][c0 + c], t[r][c]);
}

/* The upper triangle of the 11 x 11 Gram matrix in 3-row tiles (a few entries below the diagonal
 * inside diagonal tiles are computed and ignored). */
static void flush(EccProjState *s)
{
    if (!s->ng) return;
    tile(s, 0, 3, 0, 4); tile(s, 0, 3, 4, 4); tile(s, 0, 3, 8, 3);
    tile(s, 3, 3, 3, 4); tile(s, 3, 3, 7, 4);
    tile(s, 6, 3, 6, 4); tile(s, 6, 3, 10, 1);
    tile(s, 9, 2, 9, 2);
    s->ng = 0;
}

static inline double hsum(__m256d v)
{
    const __m128d a = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(a, _mm_unpackhi_pd(a, a)));
}

static void eccproj_avx2(SdEccProjAcc *acc, const float *gx, const float *gy, const float *v0,
                         const float *v1, ptrdiff_t ss, const uint8_t *mask, ptrdiff_t ms, int w,
                         int h, float x0, float y0, const double hm[9])
{
    EccProjState st, *s = &st;
    st.ng = 0;
    memset(st.G, 0, sizeof(st.G));
    __m256d H[9];
    for (int k = 0; k < 9; k++) H[k] = _mm256_set1_pd(hm[k]);
    const __m256d zero = _mm256_setzero_pd(), one = _mm256_set1_pd(1.0);
    const __m128 lane = _mm_setr_ps(0, 1, 2, 3), vx0 = _mm_set1_ps(x0);
    for (int jr = 0; jr < h; jr++) {
        const float *ax = CROW(float, gx, ss, jr), *ay = CROW(float, gy, ss, jr),
                    *b0 = CROW(float, v0, ss, jr), *b1 = CROW(float, v1, ss, jr);
        const uint8_t *m = mask ? CROW(uint8_t, mask, ms, jr) : NULL;
        const __m256d y = _mm256_set1_pd((double)(y0 + (float)jr));
        const __m256d hy1 = _mm256_mul_pd(H[1], y), hy4 = _mm256_mul_pd(H[4], y),
                      hy7 = _mm256_mul_pd(H[7], y);
        for (int i = 0; i < w; i += 4) {
            const int n = w - i < 4 ? w - i : 4;
            __m128 fgx, fgy, fp, ft;
            __m128i mb;
            if (n == 4) {
                if (m) {
                    uint32_t m4;
                    memcpy(&m4, m + i, 4);
                    if (!m4) continue;
                    mb = _mm_cvtsi32_si128((int)m4);
                } else {
                    mb = _mm_set1_epi8(1);
                }
                fgx = _mm_loadu_ps(ax + i); fgy = _mm_loadu_ps(ay + i);
                fp = _mm_loadu_ps(b0 + i); ft = _mm_loadu_ps(b1 + i);
            } else {
                float t[4][4] = { { 0 } };
                uint8_t mm[4] = { 0, 0, 0, 0 };
                for (int k = 0; k < n; k++) {
                    t[0][k] = ax[i + k]; t[1][k] = ay[i + k]; t[2][k] = b0[i + k]; t[3][k] = b1[i + k];
                    mm[k] = m ? m[i + k] : 1;
                }
                uint32_t m4;
                memcpy(&m4, mm, 4);
                if (!m4) continue;
                mb = _mm_cvtsi32_si128((int)m4);
                fgx = _mm_loadu_ps(t[0]); fgy = _mm_loadu_ps(t[1]);
                fp = _mm_loadu_ps(t[2]); ft = _mm_loadu_ps(t[3]);
            }
            /* lane valid: mask byte != 0 (64-bit lanes) */
            const __m256i m64 = _mm256_cvtepu8_epi64(mb);
            __m256d valid = _mm256_castsi256_pd(_mm256_xor_si256(
                _mm256_cmpeq_epi64(m64, _mm256_setzero_si256()), _mm256_set1_epi64x(-1)));
            /* the C operations in the C order (no contraction): same x, D, u, v, J */
            const __m256d x = _mm256_cvtps_pd(_mm_add_ps(vx0, _mm_add_ps(_mm_set1_ps((float)i), lane)));
            const __m256d D = _mm256_add_pd(_mm256_add_pd(_mm256_mul_pd(H[6], x), hy7), H[8]);
            valid = _mm256_and_pd(valid, _mm256_cmp_pd(D, zero, _CMP_NEQ_UQ));
            const __m256d iD = _mm256_div_pd(one, D);
            const __m256d u = _mm256_mul_pd(_mm256_add_pd(_mm256_add_pd(_mm256_mul_pd(H[0], x), hy1), H[2]), iD);
            const __m256d v = _mm256_mul_pd(_mm256_add_pd(_mm256_add_pd(_mm256_mul_pd(H[3], x), hy4), H[5]), iD);
            const __m256d X = _mm256_mul_pd(_mm256_cvtps_pd(fgx), iD), Y = _mm256_mul_pd(_mm256_cvtps_pd(fgy), iD);
            const __m256d Z = _mm256_xor_pd(_mm256_set1_pd(-0.0), _mm256_add_pd(_mm256_mul_pd(X, u), _mm256_mul_pd(Y, v)));
            const int k = s->ng;
            s->g[0][k] = _mm256_and_pd(valid, _mm256_mul_pd(X, x));
            s->g[1][k] = _mm256_and_pd(valid, _mm256_mul_pd(X, y));
            s->g[2][k] = _mm256_and_pd(valid, X);
            s->g[3][k] = _mm256_and_pd(valid, _mm256_mul_pd(Y, x));
            s->g[4][k] = _mm256_and_pd(valid, _mm256_mul_pd(Y, y));
            s->g[5][k] = _mm256_and_pd(valid, Y);
            s->g[6][k] = _mm256_and_pd(valid, _mm256_mul_pd(Z, x));
            s->g[7][k] = _mm256_and_pd(valid, _mm256_mul_pd(Z, y));
            s->g[8][k] = _mm256_and_pd(valid, one);
            s->g[9][k] = _mm256_and_pd(valid, _mm256_cvtps_pd(fp));
            s->g[10][k] = _mm256_and_pd(valid, _mm256_cvtps_pd(ft));
            if (++s->ng == CHUNK) flush(s);
        }
    }
    flush(s);
    for (int a = 0; a < 8; a++) {
        for (int b = a; b < 8; b++) acc->jj[a * 8 + b - (a * (a + 1)) / 2] += hsum(s->G[a][b]);
        acc->j[a] += hsum(s->G[a][8]);
        acc->j0[a] += hsum(s->G[a][9]);
        acc->j1[a] += hsum(s->G[a][10]);
    }
    acc->v[0] += hsum(s->G[8][9]); acc->v[1] += hsum(s->G[8][10]);
    acc->v[2] += hsum(s->G[9][9]); acc->v[3] += hsum(s->G[10][10]);
    acc->v[4] += hsum(s->G[9][10]);
    acc->n += hsum(s->G[8][8]);
}

void sd_eccproj_dsp_init_avx2(SdEccProjDSP *c)
{
    c->acc = eccproj_avx2;
}

/* Reduction kernels: scalar references and the dispatch init. */
#include <math.h>

#include "kernels/stats.h"
#include "kernels/cpu.h"

#include "kernels/rows.h"

static void moments_c(SdMoments *acc, const float *src, ptrdiff_t src_stride, const uint8_t *mask,
                      ptrdiff_t mask_stride, int w, int h)
{
    double n = 0, s = 0, q = 0;
    float mn = acc->min, mx = acc->max;
    for (int y = 0; y < h; y++) {
        const float *r = CROW(float, src, src_stride, y);
        const uint8_t *m = mask ? CROW(uint8_t, mask, mask_stride, y) : NULL;
        const float *pf = y + 1 < h ? CROW(float, src, src_stride, y + 1) : NULL;   /* see moments_avx2 */
        for (int x = 0; x < w; x++) {
            if (pf && !(x & 15)) __builtin_prefetch(pf + x);
            if (m && !m[x]) continue;
            const float v = r[x];
            n += 1;
            s += v;
            q += (double)v * v;
            mn = v < mn ? v : mn;
            mx = v > mx ? v : mx;
        }
    }
    acc->n += n; acc->sum += s; acc->sumsq += q;
    acc->min = mn; acc->max = mx;
}

static void quant_c(uint16_t *dst, ptrdiff_t dst_stride, const float *src, ptrdiff_t src_stride,
                    int w, int h, float lo, float scale, int nbins)
{
    const float top = (float)(nbins - 1);
    for (int y = 0; y < h; y++) {
        const float *r = CROW(float, src, src_stride, y);
        uint16_t *d = ROW(uint16_t, dst, dst_stride, y);
        for (int x = 0; x < w; x++) {
            float t = floorf((r[x] - lo) * scale);
            t = t > 0.0f ? t : 0.0f;     /* NaN -> 0 */
            t = t < top ? t : top;
            d[x] = (uint16_t)t;
        }
    }
}

static void hist_c(uint32_t *counts, const uint16_t *src, ptrdiff_t src_stride,
                   const uint8_t *mask, ptrdiff_t mask_stride, int w, int h)
{
    for (int y = 0; y < h; y++) {
        const uint16_t *r = CROW(uint16_t, src, src_stride, y);
        const uint8_t *m = mask ? CROW(uint8_t, mask, mask_stride, y) : NULL;
        for (int x = 0; x < w; x++)
            if (!m || m[x]) counts[r[x]]++;
    }
}

static void glcm_c(uint32_t *counts, const uint8_t *src, ptrdiff_t src_stride, const uint8_t *mask,
                   ptrdiff_t mask_stride, int w, int h, int d, int levels)
{
    static const int ox[4] = { 1, 1, 0, -1 }, oy[4] = { 0, -1, -1, -1 };
    const int L = levels;
    for (int dir = 0; dir < 4; dir++) {
        const int dx = ox[dir] * d, dy = oy[dir] * d;
        uint32_t *c = counts + (size_t)dir * L * L;
        /* Reference pixels whose partner lies inside. */
        const int ya = dy < 0 ? -dy : 0, xa = dx < 0 ? -dx : 0, xb = dx > 0 ? w - dx : w;
        for (int y = ya; y < h; y++) {
            const uint8_t *r = CROW(uint8_t, src, src_stride, y);
            const uint8_t *q = CROW(uint8_t, src, src_stride, y + dy) + dx;
            const uint8_t *mr = mask ? CROW(uint8_t, mask, mask_stride, y) : NULL;
            const uint8_t *mq = mask ? CROW(uint8_t, mask, mask_stride, y + dy) + dx : NULL;
            for (int x = xa; x < xb; x++)
                if (!mr || (mr[x] && mq[x])) c[r[x] * L + q[x]]++;
        }
    }
}

static void ecc_c(SdEccAcc *acc, const float *gx, const float *gy, const float *v0,
                  const float *v1, ptrdiff_t ss, const uint8_t *mask, ptrdiff_t ms, int w, int h,
                  float x0, float y0)
{
    for (int j = 0; j < h; j++) {
        const float *ax = CROW(float, gx, ss, j), *ay = CROW(float, gy, ss, j),
                    *b0 = CROW(float, v0, ss, j), *b1 = CROW(float, v1, ss, j);
        const uint8_t *m = mask ? CROW(uint8_t, mask, ms, j) : NULL;
        /* Per row: sums over x of products times 1, x, x^2; the y powers are applied per row. */
        double g[3][3] = { { 0 } }, gv[3][2][2] = { { { 0 } } }, v[5] = { 0 }, n = 0;
        for (int i = 0; i < w; i++) {
            if (m && !m[i]) continue;
            const double x = (double)(x0 + (float)i), X = ax[i], Y = ay[i], p = b0[i], t = b1[i];
            const double pr[3] = { X * X, X * Y, Y * Y };
            for (int k = 0; k < 3; k++) {
                g[k][0] += pr[k]; g[k][1] += pr[k] * x; g[k][2] += pr[k] * x * x;
            }
            const double val[3] = { 1.0, p, t };
            for (int u = 0; u < 3; u++) {
                gv[u][0][0] += val[u] * X; gv[u][0][1] += val[u] * X * x;
                gv[u][1][0] += val[u] * Y; gv[u][1][1] += val[u] * Y * x;
            }
            v[0] += p; v[1] += t; v[2] += p * p; v[3] += t * t; v[4] += p * t;
            n += 1;
        }
        sd__ecc_fold_row(acc, (double)(y0 + (float)j), g, gv, v, n);
    }
}

void sd_stats_dsp_init(SdStatsDSP *c, unsigned cpu_flags)
{
    c->moments = moments_c;
    c->quant = quant_c;
    c->hist = hist_c;
    c->glcm = glcm_c;
    c->ecc = ecc_c;
#if defined(__x86_64__)
    if (!(cpu_flags & SD_CPU_AVX2)) return;
    sd_stats_dsp_init_avx2(c);
    if (!(cpu_flags & SD_CPU_AVX512)) return;
    sd_stats_dsp_init_avx512(c);
#endif
}

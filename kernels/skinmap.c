/* Skin-metric map kernels: scalar references and the dispatch init. */
#include <math.h>
#include <pthread.h>

#include "kernels/cpu.h"
#include "kernels/hessian.h"
#include "kernels/skinmap.h"

#include "kernels/rows.h"

static void ridge_max_c(float *r, float *th, ptrdiff_t dst_stride, const float *l1, const float *l2,
                        const float *t, ptrdiff_t src_stride, int w, int h, int first)
{
    for (int y = 0; y < h; y++) {
        const float *a = CROW(float, l1, src_stride, y), *b = CROW(float, l2, src_stride, y),
                    *tt = CROW(float, t, src_stride, y);
        float *rr = ROW(float, r, dst_stride, y), *o = ROW(float, th, dst_stride, y);
        for (int x = 0; x < w; x++) {
            float v = fabsf(b[x]) - fabsf(a[x]);
            if (b[x] < 0) v = -v;
            if (first || v > rr[x]) {
                rr[x] = v;
                o[x] = tt[x];
            }
        }
    }
}

static void ridge_keep_c(float *r, float *a, float *b, float *c, ptrdiff_t dst_stride, const float *xx,
                         const float *xy, const float *yy, ptrdiff_t src_stride, int w, int h, float s2,
                         int first)
{
    for (int y = 0; y < h; y++) {
        const float *pxx = CROW(float, xx, src_stride, y), *pxy = CROW(float, xy, src_stride, y),
                    *pyy = CROW(float, yy, src_stride, y);
        float *rr = ROW(float, r, dst_stride, y), *pa = ROW(float, a, dst_stride, y),
              *pb = ROW(float, b, dst_stride, y), *pc = ROW(float, c, dst_stride, y);
        for (int x = 0; x < w; x++) {
            const float A = s2 * pxx[x], B = s2 * pxy[x], C = s2 * pyy[x];
            float e1, e2;
            sd_eig_sorted(A, B, C, &e1, &e2);
            float v = fabsf(e2) - fabsf(e1);
            if (e2 < 0) v = -v;
            if (first || v > rr[x]) {
                rr[x] = v;
                pa[x] = A;
                pb[x] = B;
                pc[x] = C;
            }
        }
    }
}

static void lincomb_c(float *dst, ptrdiff_t dst_stride, const float *a, const float *b,
                      const float *c, ptrdiff_t src_stride, int w, int h, const float k[3])
{
    for (int y = 0; y < h; y++) {
        const float *pa = CROW(float, a, src_stride, y), *pb = CROW(float, b, src_stride, y);
        const float *pc = c ? CROW(float, c, src_stride, y) : NULL;
        float *d = ROW(float, dst, dst_stride, y);
        for (int x = 0; x < w; x++) {
            float v = k[0] * pa[x] + k[1] * pb[x];
            if (pc) v += k[2] * pc[x];
            d[x] = v;
        }
    }
}

static void ita_c(float *dst, ptrdiff_t dst_stride, const float *L, const float *b,
                  ptrdiff_t src_stride, int w, int h)
{
    for (int y = 0; y < h; y++) {
        const float *pl = CROW(float, L, src_stride, y), *pb = CROW(float, b, src_stride, y);
        float *d = ROW(float, dst, dst_stride, y);
        for (int x = 0; x < w; x++)
            d[x] = atan2f(pl[x] - 50.0f, pb[x]) * (float)(180.0 / M_PI);
    }
}

static void line_mean_c(float *dst, ptrdiff_t dst_stride, const float *src, ptrdiff_t src_stride,
                        int sw, int sh, const float *theta, ptrdiff_t th_stride, int y0, int h,
                        float step, int ns)
{
    const float xmax = sw > 1 ? (float)(sw - 1) - 1e-3f : 0.0f, ymax = sh > 1 ? (float)(sh - 1) - 1e-3f : 0.0f;
    const float inv = 1.0f / (float)(2 * ns + 1);
    for (int j = 0; j < h; j++) {
        const int y = y0 + j;
        const float *o = CROW(float, theta, th_stride, j);
        float *d = ROW(float, dst, dst_stride, j);
        for (int x = 0; x < sw; x++) {
            float sn, cs;
            sd_sincos_halfpi(o[x], &sn, &cs);
            const float dx = cs * step, dy = sn * step;
            float acc = 0.0f;
            for (int k = -ns; k <= ns; k++) {
                float fx = (float)x + (float)k * dx, fy = (float)y + (float)k * dy;
                fx = fx < 0.0f ? 0.0f : fx > xmax ? xmax : fx;
                fy = fy < 0.0f ? 0.0f : fy > ymax ? ymax : fy;
                const int ix = (int)fx, iy = (int)fy;
                const float ax = fx - (float)ix, ay = fy - (float)iy;
                const int ix1 = ix + 1 < sw ? ix + 1 : ix, iy1 = iy + 1 < sh ? iy + 1 : iy;
                const float *r0 = CROW(float, src, src_stride, iy), *r1 = CROW(float, src, src_stride, iy1);
                acc += (1.0f - ay) * ((1.0f - ax) * r0[ix] + ax * r0[ix1]) +
                       ay * ((1.0f - ax) * r1[ix] + ax * r1[ix1]);
            }
            d[x] = acc * inv;
        }
    }
}

static void up2_c(float *dst, ptrdiff_t dst_stride, int dw, int y0, int h, const float *src,
                  ptrdiff_t src_stride, int sw, int sh)
{
    for (int j = 0; j < h; j++) {
        const int y = y0 + j;
        /* half-res coordinate (y - 0.5) / 2: rows i0, i1 with weight wy on i1 */
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
        for (int x = 0; x < dw; x++) {
            const int q = x >> 1;
            int a, b;
            float wx;
            if (x & 1) { a = q; b = q + 1; wx = 0.25f; }
            else       { a = q - 1; b = q; wx = 0.75f; }
            if (a < 0) a = 0;
            if (b > sw - 1) b = sw - 1;
            if (a > sw - 1) a = sw - 1;
            const float top = r0[a] + wx * (r0[b] - r0[a]), bot = r1[a] + wx * (r1[b] - r1[a]);
            d[x] = top + wy * (bot - top);
        }
    }
}

void sd_skinmap_dsp_init(SdSkinmapDSP *c, unsigned cpu_flags)
{
    c->ridge_max = ridge_max_c;
    c->ridge_keep = ridge_keep_c;
    c->lincomb = lincomb_c;
    c->ita = ita_c;
    c->line_mean = line_mean_c;
    c->up2 = up2_c;
#if defined(__x86_64__) || defined(__i386__)
    if (!(cpu_flags & SD_CPU_AVX2))
        return;
    sd_skinmap_dsp_init_avx2(c);
#endif
}

static SdSkinmapDSP tables[2];
static pthread_once_t once[2] = { PTHREAD_ONCE_INIT, PTHREAD_ONCE_INIT };
static void build0(void) { sd_skinmap_dsp_init(&tables[0], 0); }
static void build1(void) { sd_skinmap_dsp_init(&tables[1], SD_CPU_AVX2); }

const SdSkinmapDSP *sd_skinmap_dsp(unsigned cpu_flags)
{
    const int f = (cpu_flags & (SD_CPU_AVX2 | SD_CPU_AVX512)) ? 1 : 0;
    pthread_once(&once[f], f ? build1 : build0);
    return &tables[f];
}

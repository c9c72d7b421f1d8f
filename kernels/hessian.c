/* Hessian eigen-analysis kernels: scalar references and the dispatch init. */
#include <math.h>

#include "kernels/hessian.h"
#include "kernels/cpu.h"

#include "kernels/rows.h"

static void eig2_c(float *l1, float *l2, float *theta, ptrdiff_t dst_stride, const float *xx,
                   const float *xy, const float *yy, ptrdiff_t src_stride, int w, int h, float s2)
{
    for (int y = 0; y < h; y++) {
        const float *a = CROW(float, xx, src_stride, y), *b = CROW(float, xy, src_stride, y),
                    *c = CROW(float, yy, src_stride, y);
        float *o1 = ROW(float, l1, dst_stride, y), *o2 = ROW(float, l2, dst_stride, y);
        float *ot = theta ? ROW(float, theta, dst_stride, y) : NULL;
        for (int x = 0; x < w; x++) {
            const float A = s2 * a[x], B = s2 * b[x], C = s2 * c[x];
            float e1, e2;
            const int e1_is_p = sd_eig_sorted(A, B, C, &e1, &e2);
            o1[x] = e1;
            o2[x] = e2;
            if (ot) {
                /* atan2(2B, A - C)/2 is the axis of the larger signed eigenvalue m + rad;
                 * e1's axis is perpendicular to it when e1 = m - rad. */
                float phi = 0.5f * atan2f(2.0f * B, A - C);
                if (!e1_is_p)
                    phi += phi > 0.0f ? -1.57079632679f : 1.57079632679f;
                ot[x] = phi;
            }
        }
    }
}

static void ridge_c(float *dst, ptrdiff_t dst_stride, const float *xx, const float *xy,
                    const float *yy, ptrdiff_t src_stride, int w, int h, const SdRidgeParams *p)
{
    const float ib = 1.0f / (2.0f * p->beta * p->beta), ic = 1.0f / (2.0f * p->c * p->c);
    for (int y = 0; y < h; y++) {
        const float *a = CROW(float, xx, src_stride, y), *b = CROW(float, xy, src_stride, y),
                    *c = CROW(float, yy, src_stride, y);
        float *d = ROW(float, dst, dst_stride, y);
        for (int x = 0; x < w; x++) {
            float e1, e2;
            sd_eig_sorted(p->s2 * a[x], p->s2 * b[x], p->s2 * c[x], &e1, &e2);
            float v = 0.0f;
            if (e2 > 0.0f) {
                const float rb = e1 / e2, s = e1 * e1 + e2 * e2;
                v = expf(-rb * rb * ib) * (1.0f - expf(-s * ic));
            }
            d[x] = v;
        }
    }
}

void sd_hessian_dsp_init(SdHessianDSP *c, unsigned cpu_flags)
{
    c->eig2 = eig2_c;
    c->ridge = ridge_c;
#if defined(__x86_64__)
    if (!(cpu_flags & SD_CPU_AVX2)) return;
    sd_hessian_dsp_init_avx2(c);
    if (!(cpu_flags & SD_CPU_AVX512)) return;
    sd_hessian_dsp_init_avx512(c);
#endif
}

/* ECC accumulation under a homography: scalar reference and the dispatch init (affine and its
 * subsets use the moment kernel of kernels/stats.c). */
#include "kernels/eccproj.h"
#include "kernels/cpu.h"

#include "kernels/rows.h"

static void eccproj_c(SdEccProjAcc *acc, const float *gx, const float *gy, const float *v0,
                      const float *v1, ptrdiff_t ss, const uint8_t *mask, ptrdiff_t ms, int w,
                      int h, float x0, float y0, const double hm[9])
{
    for (int jr = 0; jr < h; jr++) {
        const float *ax = CROW(float, gx, ss, jr), *ay = CROW(float, gy, ss, jr),
                    *b0 = CROW(float, v0, ss, jr), *b1 = CROW(float, v1, ss, jr);
        const uint8_t *m = mask ? CROW(uint8_t, mask, ms, jr) : NULL;
        const double y = (double)(y0 + (float)jr);
        for (int i = 0; i < w; i++) {
            if (m && !m[i]) continue;
            const double x = (double)(x0 + (float)i);
            const double D = hm[6] * x + hm[7] * y + hm[8];
            if (D == 0.0) continue;
            const double iD = 1.0 / D;
            const double u = (hm[0] * x + hm[1] * y + hm[2]) * iD;
            const double v = (hm[3] * x + hm[4] * y + hm[5]) * iD;
            const double X = ax[i] * iD, Y = ay[i] * iD, Z = -(X * u + Y * v);
            const double J[8] = { X * x, X * y, X, Y * x, Y * y, Y, Z * x, Z * y };
            const double p = b0[i], t = b1[i];
            for (int a = 0; a < 8; a++) {
                for (int b = a; b < 8; b++)
                    acc->jj[a * 8 + b - (a * (a + 1)) / 2] += J[a] * J[b];
                acc->j[a] += J[a];
                acc->j0[a] += J[a] * p;
                acc->j1[a] += J[a] * t;
            }
            acc->v[0] += p; acc->v[1] += t; acc->v[2] += p * p; acc->v[3] += t * t;
            acc->v[4] += p * t;
            acc->n += 1;
        }
    }
}

void sd_eccproj_dsp_init(SdEccProjDSP *c, unsigned cpu_flags)
{
    c->acc = eccproj_c;
#if defined(__x86_64__)
    if (!(cpu_flags & SD_CPU_AVX2)) return;
    sd_eccproj_dsp_init_avx2(c);
    /* No AVX-512 level (not written: Zen 4 runs 512-bit FMAs as two 256-bit halves). */
#endif
}

/* Reductions over masked regions: moments and extrema, histograms, GLCM counts, and the
 * gradient-moment sums an ECC / Lucas-Kanade affine registration needs. Kernels ADD into their
 * accumulators (so strips and tiles can be summed); callers zero them first. */
#ifndef KERNELS_STATS_H
#define KERNELS_STATS_H

#include <stddef.h>
#include <stdint.h>

typedef struct SdMoments {
    double n, sum, sumsq;
    float min, max;      /* callers initialise to +inf / -inf */
} SdMoments;

/* Sums over the pixels with mask != 0 (mask may be NULL = all). Per-row partial sums may be kept
 * in float, rows are added in double. */
#define decl_moments_fn(name) void (name)(SdMoments *acc, const float *src, ptrdiff_t src_stride, \
        const uint8_t *mask, ptrdiff_t mask_stride, int w, int h)
/* bin = clamp(floor((v - lo) * scale), 0, nbins-1), NaN -> 0; u16 output. */
#define decl_quant_fn(name) void (name)(uint16_t *dst, ptrdiff_t dst_stride, const float *src, \
        ptrdiff_t src_stride, int w, int h, float lo, float scale, int nbins)
/* counts[src[y][x]] += 1 where mask != 0 (mask may be NULL); every src value < nbins of counts. */
#define decl_hist_fn(name) void (name)(uint32_t *counts, const uint16_t *src, ptrdiff_t src_stride, \
        const uint8_t *mask, ptrdiff_t mask_stride, int w, int h)
/* GLCM counts over a u8 image of values < levels: counts[dir*L*L + i*L + j] += 1 for each pixel
 * p=(x,y) with value i and partner q = p + off(dir) with value j, both inside w x h and both
 * masked (mask may be NULL). Offsets: dir 0 (d,0) 0 deg, 1 (d,-d) 45 deg, 2 (0,-d) 90 deg,
 * 3 (-d,-d) 135 deg (y grows downwards). Not symmetrised. */
#define decl_glcm_fn(name) void (name)(uint32_t *counts, const uint8_t *src, ptrdiff_t src_stride, \
        const uint8_t *mask, ptrdiff_t mask_stride, int w, int h, int d, int levels)

/* ECC / LK accumulation for an affine warp with parameters p = (m00, m10, m01, m11, m02, m12):
 * the Jacobian of the warped image I_w is J = (x gx, x gy, y gx, y gy, gx, gy), with gx, gy the
 * warped gradients and (x, y) the template coordinates. Everything an affine Gauss-Newton step
 * needs is a fixed linear combination of these sums (see sd_ecc_affine_system in kernels/ops.h):
 *   gg[k][m]    = sum g_k * mono_m,  g = (gx*gx, gx*gy, gy*gy), mono = (1, x, y, x^2, xy, y^2)
 *   gv[v][k][m] = sum val_v * g_k * mono_m,  val = (1, v0, v1), g = (gx, gy), mono = (1, x, y)
 *   v = (sum v0, sum v1, sum v0^2, sum v1^2, sum v0 v1), n = pixel count. */
typedef struct SdEccAcc {
    double n;
    double gg[3][6];
    double gv[3][2][3];
    double v[5];
} SdEccAcc;

/* Fold one row's partial sums (over x: g = sums of gradient products weighted by 1, x, x^2;
 * gv = gradient x value products weighted by 1, x; v = value moments; n = pixels) into acc,
 * the row at template ordinate y. Shared by the C, AVX2 and AVX-512 accumulators. */
static inline void sd__ecc_fold_row(SdEccAcc *acc, double y, const double g[3][3],
                                    const double gv[3][2][2], const double v[5], double n)
{
    acc->n += n;
    for (int k = 0; k < 3; k++) {
        double *o = acc->gg[k];
        o[0] += g[k][0]; o[1] += g[k][1]; o[2] += y * g[k][0];
        o[3] += g[k][2]; o[4] += y * g[k][1]; o[5] += y * y * g[k][0];
    }
    for (int u = 0; u < 3; u++)
        for (int k = 0; k < 2; k++) {
            acc->gv[u][k][0] += gv[u][k][0];
            acc->gv[u][k][1] += gv[u][k][1];
            acc->gv[u][k][2] += y * gv[u][k][0];
        }
    for (int k = 0; k < 5; k++) acc->v[k] += v[k];
}

/* Pixel (i, j) of the tile has template coordinates (x0 + i, y0 + j). gx, gy, v0, v1 share
 * src_stride; mask may be NULL. */
#define decl_ecc_fn(name) void (name)(SdEccAcc *acc, const float *gx, const float *gy, \
        const float *v0, const float *v1, ptrdiff_t src_stride, const uint8_t *mask, \
        ptrdiff_t mask_stride, int w, int h, float x0, float y0)

typedef decl_moments_fn(*sd_moments_fn);
typedef decl_quant_fn(*sd_quant_fn);
typedef decl_hist_fn(*sd_hist_fn);
typedef decl_glcm_fn(*sd_glcm_fn);
typedef decl_ecc_fn(*sd_ecc_fn);

typedef struct SdStatsDSP {
    sd_moments_fn moments;
    sd_quant_fn quant;
    sd_hist_fn hist;
    sd_glcm_fn glcm;
    sd_ecc_fn ecc;
} SdStatsDSP;

void sd_stats_dsp_init(SdStatsDSP *c, unsigned cpu_flags);
void sd_stats_dsp_init_avx2(SdStatsDSP *c);
void sd_stats_dsp_init_avx512(SdStatsDSP *c);

#endif

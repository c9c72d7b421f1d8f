/* Colour kernels: scalar references and the dispatch init. */
#include <math.h>
#include <string.h>

#include "kernels/colour.h"
#include "kernels/cpu.h"

#include "kernels/rows.h"
#include "src/core/core.h"

float sd_srgb_to_linear(float v)
{
    return (float)sd_srgb_decode(v);
}

static void srgb8_to_lin_c(float *const dst[3], ptrdiff_t dst_stride, const uint8_t *src,
                           ptrdiff_t src_stride, int w, int h, const float *lut)
{
    for (int y = 0; y < h; y++) {
        const uint8_t *s = CROW(uint8_t, src, src_stride, y);
        float *r = ROW(float, dst[0], dst_stride, y), *g = ROW(float, dst[1], dst_stride, y),
              *b = ROW(float, dst[2], dst_stride, y);
        for (int x = 0; x < w; x++) {
            r[x] = lut[s[3 * x]];
            g[x] = lut[s[3 * x + 1]];
            b[x] = lut[s[3 * x + 2]];
        }
    }
}

static void srgbf_to_lin_c(float *dst, ptrdiff_t dst_stride, const float *src,
                           ptrdiff_t src_stride, int w, int h, const float *lut)
{
    for (int y = 0; y < h; y++) {
        const float *s = CROW(float, src, src_stride, y);
        float *d = ROW(float, dst, dst_stride, y);
        for (int x = 0; x < w; x++) {
            float t = s[x] * (float)SD_SRGB_LUT_N;
            t = t > 0.0f ? t : 0.0f;                       /* NaN -> 0 */
            t = t < (float)SD_SRGB_LUT_N ? t : (float)SD_SRGB_LUT_N;
            const int i = (int)t;
            const float f = t - (float)i;
            d[x] = lut[i] + f * (lut[i + 1] - lut[i]);
        }
    }
}

/* sRGB primaries, D65 white, XYZ scaled so that Y(white) = 1; rows divided by the white point. */
static const float rgb2xyz_n[9] = {
    0.4124564f / SD_LAB_XN, 0.3575761f / SD_LAB_XN, 0.1804375f / SD_LAB_XN,
    0.2126729f, 0.7151522f, 0.0721750f,
    0.0193339f / SD_LAB_ZN, 0.1191920f / SD_LAB_ZN, 0.9503041f / SD_LAB_ZN,
};

static inline float lab_f(float t)
{
    return t > SD_LAB_EPS ? cbrtf(t) : (SD_LAB_KAPPA * t + 16.0f) / 116.0f;
}

static void rgb_to_lab_c(float *const dst[3], ptrdiff_t dst_stride, const float *const src[3],
                         ptrdiff_t src_stride, int w, int h)
{
    const float *m = rgb2xyz_n;
    for (int y = 0; y < h; y++) {
        const float *r = CROW(float, src[0], src_stride, y), *g = CROW(float, src[1], src_stride, y),
                    *b = CROW(float, src[2], src_stride, y);
        float *L = ROW(float, dst[0], dst_stride, y), *A = dst[1] ? ROW(float, dst[1], dst_stride, y) : NULL,
              *B = ROW(float, dst[2], dst_stride, y);
        for (int x = 0; x < w; x++) {
            const float fy = lab_f(m[3] * r[x] + m[4] * g[x] + m[5] * b[x]);
            const float fz = lab_f(m[6] * r[x] + m[7] * g[x] + m[8] * b[x]);
            L[x] = 116.0f * fy - 16.0f;
            if (A)
                A[x] = 500.0f * (lab_f(m[0] * r[x] + m[1] * g[x] + m[2] * b[x]) - fy);
            B[x] = 200.0f * (fy - fz);
        }
    }
}

static void od_c(float *dst, ptrdiff_t dst_stride, const float *src, ptrdiff_t src_stride,
                 int w, int h, float eps)
{
    for (int y = 0; y < h; y++) {
        const float *s = CROW(float, src, src_stride, y);
        float *d = ROW(float, dst, dst_stride, y);
        for (int x = 0; x < w; x++)
            d[x] = -log10f(s[x] > eps ? s[x] : eps);   /* NaN -> eps */
    }
}

static void mat3_c(float *const dst[3], ptrdiff_t dst_stride, const float *const src[3],
                   ptrdiff_t src_stride, int w, int h, const float m[9])
{
    for (int y = 0; y < h; y++) {
        const float *a = CROW(float, src[0], src_stride, y), *b = CROW(float, src[1], src_stride, y),
                    *c = CROW(float, src[2], src_stride, y);
        float *o0 = ROW(float, dst[0], dst_stride, y), *o1 = ROW(float, dst[1], dst_stride, y),
              *o2 = ROW(float, dst[2], dst_stride, y);
        for (int x = 0; x < w; x++) {
            const float u = a[x], v = b[x], t = c[x];
            o0[x] = m[0] * u + m[1] * v + m[2] * t;
            o1[x] = m[3] * u + m[4] * v + m[5] * t;
            o2[x] = m[6] * u + m[7] * v + m[8] * t;
        }
    }
}

void sd_colour_dsp_init(SdColourDSP *c, unsigned cpu_flags)
{
    for (int i = 0; i < 256; i++)
        c->lut8[i] = sd_srgb_to_linear((float)i / 255.0f);
    for (int i = 0; i <= SD_SRGB_LUT_N; i++)
        c->lutf[i] = sd_srgb_to_linear((float)i / (float)SD_SRGB_LUT_N);
    c->lutf[SD_SRGB_LUT_N + 1] = c->lutf[SD_SRGB_LUT_N];   /* t == N reads i+1 with f == 0 */

    c->srgb8_to_lin = srgb8_to_lin_c;
    c->srgbf_to_lin = srgbf_to_lin_c;
    c->rgb_to_lab = rgb_to_lab_c;
    c->od = od_c;
    c->mat3 = mat3_c;
#if defined(__x86_64__)
    if (!(cpu_flags & SD_CPU_AVX2)) return;
    sd_colour_dsp_init_avx2(c);
    if (!(cpu_flags & SD_CPU_AVX512)) return;
    sd_colour_dsp_init_avx512(c);
#endif
}

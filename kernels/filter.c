/* Separable filter kernels: scalar references and the dispatch init. */
#include "kernels/filter.h"
#include "kernels/cpu.h"

#include "kernels/rows.h"

static void v_sym_c(float *dst, ptrdiff_t dst_stride, const float *const *rows, int w, int h,
                    const float *k, int r)
{
    for (int y = 0; y < h; y++) {
        const float *const *s = rows + y + r;   /* s[0] is the centre row */
        float *d = ROW(float, dst, dst_stride, y);
        for (int x = 0; x < w; x++) {
            float acc = k[0] * s[0][x];
            for (int i = 1; i <= r; i++)
                acc += k[i] * (s[-i][x] + s[i][x]);
            d[x] = acc;
        }
    }
}

static void v_anti_c(float *dst, ptrdiff_t dst_stride, const float *const *rows, int w, int h,
                     const float *k, int r)
{
    for (int y = 0; y < h; y++) {
        const float *const *s = rows + y + r;
        float *d = ROW(float, dst, dst_stride, y);
        for (int x = 0; x < w; x++) {
            float acc = 0.0f;
            for (int i = 1; i <= r; i++)
                acc += k[i] * (s[i][x] - s[-i][x]);
            d[x] = acc;
        }
    }
}

static void h_sym_c(float *dst, ptrdiff_t dst_stride, const float *src, ptrdiff_t src_stride,
                    int w, int h, const float *k, int r)
{
    for (int y = 0; y < h; y++) {
        const float *s = CROW(float, src, src_stride, y);
        float *d = ROW(float, dst, dst_stride, y);
        for (int x = 0; x < w; x++) {
            float acc = k[0] * s[x];
            for (int i = 1; i <= r; i++)
                acc += k[i] * (s[x - i] + s[x + i]);
            d[x] = acc;
        }
    }
}

static void h_anti_c(float *dst, ptrdiff_t dst_stride, const float *src, ptrdiff_t src_stride,
                     int w, int h, const float *k, int r)
{
    for (int y = 0; y < h; y++) {
        const float *s = CROW(float, src, src_stride, y);
        float *d = ROW(float, dst, dst_stride, y);
        for (int x = 0; x < w; x++) {
            float acc = 0.0f;
            for (int i = 1; i <= r; i++)
                acc += k[i] * (s[x + i] - s[x - i]);
            d[x] = acc;
        }
    }
}

static void box_v_c(float *sum, float *sq, const float *const *rows, int w, int n)
{
    for (int x = 0; x < w; x++) {
        float s = 0.0f, q = 0.0f;
        for (int j = 0; j < n; j++) {
            const float v = rows[j][x];
            s += v;
            q += v * v;
        }
        sum[x] = s;
        sq[x] = q;
    }
}

static void box_h_c(float *mean, float *var, const float *sum, const float *sq, int w, int r,
                    float inv_area)
{
    for (int x = 0; x < w; x++) {
        float s = 0.0f, q = 0.0f;
        for (int i = -r; i <= r; i++) {
            s += sum[x + i];
            q += sq[x + i];
        }
        const float m = s * inv_area;
        mean[x] = m;
        if (var) {
            const float v = q * inv_area - m * m;
            var[x] = v > 0.0f ? v : 0.0f;
        }
    }
}

void sd_filter_dsp_init(SdFilterDSP *c, unsigned cpu_flags)
{
    c->v_sym = v_sym_c;
    c->v_anti = v_anti_c;
    c->h_sym = h_sym_c;
    c->h_anti = h_anti_c;
    c->box_v = box_v_c;
    c->box_h = box_h_c;
#if defined(__x86_64__)
    if (!(cpu_flags & SD_CPU_AVX2)) return;
    sd_filter_dsp_init_avx2(c);
    if (!(cpu_flags & SD_CPU_AVX512)) return;
    sd_filter_dsp_init_avx512(c);
#endif
}

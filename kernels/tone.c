/* Tone kernels: scalar reference and the dispatch init. sRGB decode/encode through tables built once (read-only after
 * pthread_once), linear interpolation: |error| < 2e-5 against the IEC 61966-2-1 formulas. */
#include <math.h>
#include <pthread.h>

#include "kernels/tone.h"
#include "kernels/cpu.h"
#include "src/core/core.h"

#define NDEC SD_TONE_NDEC   /* decode: uniform in the encoded value */
#define NENC SD_TONE_NENC   /* encode: uniform in sqrt(linear) */
static float dec_tab[NDEC + 1], enc_tab[NENC + 1];
static pthread_once_t tab_once = PTHREAD_ONCE_INIT;

static void build_tables(void)
{
    for (int i = 0; i <= NDEC; i++) {
        const double v = (double)i / NDEC;
        dec_tab[i] = (float)sd_srgb_decode(v);
    }
    for (int i = 0; i <= NENC; i++) {
        const double s = (double)i / NENC, v = s * s;
        enc_tab[i] = (float)sd_srgb_encode(v);   /* (v is in [0, 1]: the clamp is a no-op) */
    }
}

static inline float lut(const float *t, int n, float x)
{
    x = x < 0.0f ? 0.0f : x > 1.0f ? 1.0f : x;
    const float f = x * (float)n;
    int i = (int)f;
    if (i >= n) i = n - 1;
    const float r = f - (float)i;
    return t[i] + r * (t[i + 1] - t[i]);
}

static void mat3_srgb_c(float *const p[3], int w, const float m[9])
{
    for (int x = 0; x < w; x++) {
        const float r = lut(dec_tab, NDEC, p[0][x]), g = lut(dec_tab, NDEC, p[1][x]),
                    b = lut(dec_tab, NDEC, p[2][x]);
        for (int c = 0; c < 3; c++) {
            float v = m[3 * c] * r + m[3 * c + 1] * g + m[3 * c + 2] * b;
            v = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
            p[c][x] = lut(enc_tab, NENC, sqrtf(v));
        }
    }
}

const float *sd__tone_table(int which)
{
    return which ? enc_tab : dec_tab;
}

void sd_tone_dsp_init(SdToneDSP *c, unsigned cpu_flags)
{
    pthread_once(&tab_once, build_tables);
    c->mat3_srgb = mat3_srgb_c;
#if defined(__x86_64__)
    if (!(cpu_flags & SD_CPU_AVX2)) return;
    sd_tone_dsp_init_avx2(c);
    /* No AVX-512 level (not written). */
#endif
}

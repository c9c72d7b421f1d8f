/* Tone kernels the photometry stage needs beyond kernels/colour.h: a 3x3 matrix applied in linear
 * light to sRGB-encoded planes, in place (decode, matrix, encode, clamp to [0,1]). */
#ifndef KERNELS_TONE_H
#define KERNELS_TONE_H

#include <stddef.h>

/* p[0..2]: one row of the R, G, B planes (w floats each), sRGB-encoded in [0,1]; m row-major. */
#define decl_mat3_srgb_fn(name) void (name)(float *const p[3], int w, const float m[9])
typedef decl_mat3_srgb_fn(*sd_mat3_srgb_fn);

typedef struct SdToneDSP {
    sd_mat3_srgb_fn mat3_srgb;
} SdToneDSP;

void sd_tone_dsp_init(SdToneDSP *c, unsigned cpu_flags);
void sd_tone_dsp_init_avx2(SdToneDSP *c);

/* Library-internal: the sRGB decode table (which = 0, uniform in the encoded value) and encode
 * table (which = 1, uniform in sqrt(linear)), SD_TONE_NDEC + 1 / SD_TONE_NENC + 1 entries, built
 * once by sd_tone_dsp_init and read-only afterwards. */
#define SD_TONE_NDEC 4096
#define SD_TONE_NENC 4096
const float *sd__tone_table(int which);

#endif

/* The core package's private header: checked sizes, the scalar sRGB curve and splitmix64 for the
 * whole library, on top of the public helpers of skindelta/util.h. */
#ifndef SRC_CORE_CORE_H
#define SRC_CORE_CORE_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "skindelta/skindelta.h"
#include "skindelta/util.h"

static inline int sd_mul_overflow(size_t a, size_t b, size_t *out)
{
    return __builtin_mul_overflow(a, b, out);
}
static inline int sd_add_overflow(size_t a, size_t b, size_t *out)
{
    return __builtin_add_overflow(a, b, out);
}

/* sRGB transfer function (IEC 61966-2-1), scalar: encoded value -> linear light and back (the
 * encoder clamps to [0, 1]). The per-pixel kernels are in kernels/ (sd_op_srgb_to_linear). */
static inline double sd_srgb_decode(double v)
{
    return v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4);
}
static inline double sd_srgb_encode(double l)
{
    l = l < 0 ? 0 : l > 1 ? 1 : l;
    return l <= 0.0031308 ? 12.92 * l : 1.055 * pow(l, 1.0 / 2.4) - 0.055;
}

/* splitmix64 (Steele, Lea & Flood 2014): advances *state and returns the next 64-bit value. */
static inline uint64_t sd_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* sd_image_create without zeroing the pixels (row padding is zeroed): for callers that write
 * every pixel right away. Declared here, library-internal. */
int  sd__image_create_nozero(SdImage *img, int w, int h, int c, enum sd_fmt fmt);

#endif

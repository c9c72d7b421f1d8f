/* colour kernels, AVX512 variants. */
#include <immintrin.h>

#include "kernels/colour.h"

void sd_colour_dsp_init_avx512(SdColourDSP *c)
{
    (void)c;
}

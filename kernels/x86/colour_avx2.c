/* colour kernels, AVX2 variants. */
#include <immintrin.h>

#include "kernels/colour.h"

void sd_colour_dsp_init_avx2(SdColourDSP *c)
{
    (void)c;
}

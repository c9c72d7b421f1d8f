/* warp kernels, AVX512 variants. */
#include <immintrin.h>

#include "kernels/warp.h"

void sd_warp_dsp_init_avx512(SdWarpDSP *c)
{
    (void)c;
}

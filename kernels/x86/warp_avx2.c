/* warp kernels, AVX2 variants. */
#include <immintrin.h>

#include "kernels/warp.h"

void sd_warp_dsp_init_avx2(SdWarpDSP *c)
{
    (void)c;
}

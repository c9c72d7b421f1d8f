/* filter kernels, AVX2 variants. */
#include <immintrin.h>

#include "kernels/filter.h"

void sd_filter_dsp_init_avx2(SdFilterDSP *c)
{
    (void)c;
}

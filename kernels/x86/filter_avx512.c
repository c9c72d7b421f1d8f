/* filter kernels, AVX512 variants. */
#include <immintrin.h>

#include "kernels/filter.h"

void sd_filter_dsp_init_avx512(SdFilterDSP *c)
{
    (void)c;
}

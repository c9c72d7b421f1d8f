/* stats kernels, AVX512 variants. */
#include <immintrin.h>

#include "kernels/stats.h"

void sd_stats_dsp_init_avx512(SdStatsDSP *c)
{
    (void)c;
}

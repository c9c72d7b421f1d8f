/* stats kernels, AVX2 variants. */
#include <immintrin.h>

#include "kernels/stats.h"

void sd_stats_dsp_init_avx2(SdStatsDSP *c)
{
    (void)c;
}

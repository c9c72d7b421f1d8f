/* hessian kernels, AVX512 variants. */
#include <immintrin.h>

#include "kernels/hessian.h"

void sd_hessian_dsp_init_avx512(SdHessianDSP *c)
{
    (void)c;
}

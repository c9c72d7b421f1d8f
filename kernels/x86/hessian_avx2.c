/* hessian kernels, AVX2 variants. */
#include <immintrin.h>

#include "kernels/hessian.h"

void sd_hessian_dsp_init_avx2(SdHessianDSP *c)
{
    (void)c;
}

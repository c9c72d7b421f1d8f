/* checkasm: hessian kernels (filled in below as SIMD variants land). */
#include "kernels/hessian.h"
#include "tests/checkasm/checkasm.h"

void checkasm_hessian(const CaLevel *lv) { (void)lv; }

/* checkasm: filter kernels (filled in below as SIMD variants land). */
#include "kernels/filter.h"
#include "tests/checkasm/checkasm.h"

void checkasm_filter(const CaLevel *lv) { (void)lv; }

/* checkasm: stats kernels (filled in below as SIMD variants land). */
#include "kernels/stats.h"
#include "tests/checkasm/checkasm.h"

void checkasm_stats(const CaLevel *lv) { (void)lv; }

/* checkasm: warp kernels (filled in below as SIMD variants land). */
#include "kernels/warp.h"
#include "tests/checkasm/checkasm.h"

void checkasm_warp(const CaLevel *lv) { (void)lv; }

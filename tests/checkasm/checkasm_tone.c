/* checkasm: tone kernels (kernels/tone.h).
 * Tolerance: mat3_srgb in SIMD repeats the C operations lane by lane (clamps, table index and
 * fraction, interpolation and matrix as separate multiplies and adds, correctly rounded sqrt)
 * and gathers the same table entries: bit-exact, in place, including out-of-range inputs,
 * table knots and results clamped at 0 and 1. */
#include <stdio.h>
#include <string.h>

#include "kernels/tone.h"
#include "tests/checkasm/checkasm.h"

static void test_mat3_srgb(sd_mat3_srgb_fn ref, sd_mat3_srgb_fn fn, const CaLevel *lv)
{
    static const float ext[] = { 0.0f, -0.0f, 1.0f, -0.25f, 1.5f, 0.04045f, 0.99999994f,
                                 1.0f / 4096, 2049.0f / 4096, 1e-30f };
    int ws[64], nw = ca_widths(lv, ws), ok = 1;
    for (int i = 0; i < nw && ok; i++) {
        const int w = ws[i], h = 1 + (int)(ca_rand() % 4);
        float m[9];
        for (int k = 0; k < 9; k++)   /* near a white balance, sometimes strong and mixing */
            m[k] = (k % 4 == 0 ? 1.0f : 0.0f) + (ca_rand() % 2 ? ca_randf(-0.1f, 0.1f) : ca_randf(-0.8f, 0.8f));
        const ptrdiff_t st = ca_rand_stride((size_t)w * 4);
        CaBuf a[3], b[3];
        for (int c = 0; c < 3; c++) {
            ca_buf_alloc(&a[c], (size_t)w * 4, h, st);
            ca_fill_f(&a[c], w, 0, 1, ext, 10);
            ca_buf_alloc(&b[c], (size_t)w * 4, h, st);
            memcpy(b[c].base, a[c].base, a[c].total);
        }
        for (int y = 0; y < h; y++) {   /* one row per call, as the photometry stage does */
            float *const pa[3] = { ca_rowf(&a[0], y), ca_rowf(&a[1], y), ca_rowf(&a[2], y) };
            float *const pb[3] = { ca_rowf(&b[0], y), ca_rowf(&b[1], y), ca_rowf(&b[2], y) };
            ref(pa, w, m);
            fn(pb, w, m);
        }
        for (int c = 0; c < 3 && ok; c++)
            ok = ca_cmp_f(&a[c], &b[c], w, h, 0, 0, "mat3_srgb") && ca_buf_guard_ok(&b[c], "mat3_srgb");
        for (int c = 0; c < 3; c++) { ca_buf_free(&a[c]); ca_buf_free(&b[c]); }
    }
    ca_report("mat3_srgb", lv, ok);
}

void checkasm_tone(const CaLevel *lv)
{
    SdToneDSP c, n, p;
    sd_tone_dsp_init(&c, 0);
    sd_tone_dsp_init(&n, lv->flags);
    sd_tone_dsp_init(&p, lv->prev_flags);
    if (n.mat3_srgb != p.mat3_srgb) test_mat3_srgb(c.mat3_srgb, n.mat3_srgb, lv);
}

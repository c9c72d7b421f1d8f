/* checkasm: warp kernels.
 * Tolerances: source coordinates, the inside test and the mask use the C operations in the C
 * order: the mask is bit-exact. The bilinear blend uses FMA: 1e-6 absolute + 1e-6 relative for
 * sources in [-1, 1]. down2 adds in the C order: bit-exact. */
#include <math.h>
#include <stdio.h>

#include "kernels/warp.h"
#include "tests/checkasm/checkasm.h"

static const float ext[] = { 0.0f, 1.0f, -1.0f };

static void rand_params(SdWarpParams *p, int sw, int sh, int homog)
{
    /* small rotations and scales near 1 take the SIMD window paths; large ones the gathers */
    const double ang = ca_rand() % 2 ? ca_randf(-0.06f, 0.06f) : ca_randf(-0.3f, 0.3f);
    const double sc = ca_rand() % 2 ? ca_randf(0.9f, 1.1f) : ca_randf(0.7f, 2.2f);
    p->m[0] = sc * cos(ang); p->m[1] = -sc * sin(ang); p->m[2] = ca_randf(-8, 8) + 0.5 * sw * ca_randf(0, 1);
    p->m[3] = sc * sin(ang); p->m[4] = sc * cos(ang); p->m[5] = ca_randf(-8, 8);
    p->m[6] = homog ? ca_randf(-2e-3f, 2e-3f) : 0; p->m[7] = homog ? ca_randf(-2e-3f, 2e-3f) : 0;
    p->m[8] = 1;
    if (ca_rand() % 4 == 0) {            /* pure shift by whole pixels: lands exactly on edges */
        p->m[0] = p->m[4] = 1; p->m[1] = p->m[3] = 0;
        p->m[2] = (double)(int)(ca_rand() % 5) - 2; p->m[5] = (double)(int)(ca_rand() % 5) - 2;
    }
    p->x0 = (int)(ca_rand() % 7) - 3;
    p->y0 = (int)(ca_rand() % 7) - 3;
    p->fill = ca_rand() % 2 ? 0.0f : -5.0f;
}

static void test_warp(sd_warp_fn ref, sd_warp_fn fn, const CaLevel *lv, const char *name, int homog)
{
    int ws[64], nw = ca_widths(lv, ws), ok = 1;
    for (int i = 0; i < nw && ok; i++) {
        const int w = ws[i], h = 1 + (int)(ca_rand() % 4);
        const int sw = ca_rand() % 8 == 0 ? 1 : 1 + (int)(ca_rand() % (unsigned)(w + 8));
        const int sh = ca_rand() % 8 == 0 ? 1 : 1 + (int)(ca_rand() % 12);
        SdWarpParams p;
        rand_params(&p, sw, sh, homog);
        CaBuf src, a, b, ma, mb;
        ca_buf_alloc(&src, (size_t)sw * 4, sh, 0);
        ca_fill_f(&src, sw, -1, 1, ext, 3);
        ca_buf_alloc(&a, (size_t)w * 4, h, 0);
        ca_buf_alloc(&b, (size_t)w * 4, h, a.stride);
        const int with_mask = ca_rand() % 4 != 0;
        ca_buf_alloc(&ma, (size_t)w, h, (ptrdiff_t)w + 1 + 2 * (ca_rand() % 4));
        ca_buf_alloc(&mb, (size_t)w, h, ma.stride);
        ref((float *)a.data, a.stride, with_mask ? ma.data : NULL, ma.stride, (float *)src.data,
            src.stride, sw, sh, w, h, &p);
        fn((float *)b.data, b.stride, with_mask ? mb.data : NULL, mb.stride, (float *)src.data,
           src.stride, sw, sh, w, h, &p);
        ok = ca_cmp_f(&a, &b, w, h, 1e-6f, 1e-6f, name) && ca_buf_guard_ok(&b, name) &&
             (!with_mask || (ca_cmp_bytes(&ma, &mb, (size_t)w, h, name) && ca_buf_guard_ok(&mb, name)));
        ca_buf_free(&src); ca_buf_free(&a); ca_buf_free(&b); ca_buf_free(&ma); ca_buf_free(&mb);
    }
    ca_report(name, lv, ok);
}

static void test_down2(const SdWarpDSP *c, const SdWarpDSP *n, const CaLevel *lv)
{
    int ws[64], nw = ca_widths(lv, ws), ok = 1;
    for (int i = 0; i < nw && ok; i++) {
        const int sw = ws[i] * 2 - (int)(ca_rand() % 2), sh = 1 + (int)(ca_rand() % 6);
        const int w = (sw + 1) / 2, h = (sh + 1) / 2;
        CaBuf src, a, b;
        ca_buf_alloc(&src, (size_t)sw * 4, sh, 0);
        ca_fill_f(&src, sw, -1, 1, ext, 3);
        ca_buf_alloc(&a, (size_t)w * 4, h, 0);
        ca_buf_alloc(&b, (size_t)w * 4, h, a.stride);
        c->down2((float *)a.data, a.stride, (float *)src.data, src.stride, w, h, sw, sh);
        n->down2((float *)b.data, b.stride, (float *)src.data, src.stride, w, h, sw, sh);
        ok = ca_cmp_f(&a, &b, w, h, 0, 0, "down2") && ca_buf_guard_ok(&b, "down2");
        ca_buf_free(&src); ca_buf_free(&a); ca_buf_free(&b);
    }
    ca_report("down2", lv, ok);
}

void checkasm_warp(const CaLevel *lv)
{
    SdWarpDSP c, n, p;
    sd_warp_dsp_init(&c, 0);
    sd_warp_dsp_init(&n, lv->flags);
    sd_warp_dsp_init(&p, lv->prev_flags);
    if (n.affine != p.affine) test_warp(c.affine, n.affine, lv, "warp_affine", 0);
    if (n.homog != p.homog) test_warp(c.homog, n.homog, lv, "warp_homog", 1);
    if (n.down2 != p.down2) test_down2(&c, &n, lv);
}

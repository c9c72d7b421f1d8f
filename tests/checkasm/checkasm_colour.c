/* checkasm: colour kernels.
 * Tolerances: srgb8_to_lin is a table lookup: bit-exact. srgbf_to_lin: C interpolates a 1024-
 * segment table (abs. error < 4e-7 of the exact curve), SIMD evaluates exp(2.4 ln t) with the
 * polynomials (rel. error < 5e-7): 1e-6 absolute.
 * rgb_to_lab: the SIMD cube root (bit guess + 3 Newton steps) is within ~2e-7 relative of cbrtf
 * and the XYZ matrix uses FMA, so f(t) differs by a few 1e-7; L* = 116 f - 16 is allowed 2e-4
 * absolute, a* = 500 (fx - fy) and b* = 200 (fy - fz) 1e-3 absolute (5e-7 relative of f).
 * od: polynomial ln with abs. error < 1e-7, times log10(e): 1e-6 absolute + 1e-6 relative.
 * mat3: FMA vs separate multiply-add: 2e-6 absolute + 1e-6 relative for |m| <= 2, |src| <= 2. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kernels/colour.h"
#include "tests/checkasm/checkasm.h"

static const float ext_unit[] = { 0.0f, 1.0f, 1e-6f, 0.04045f, 0.5f, 0.99999f, 0.008856f, 1.5f,
                                  -0.01f };

/* Three planes sharing one stride. */
typedef struct Planes3 { CaBuf p[3]; float *f[3]; } Planes3;
static void p3_alloc(Planes3 *t, int w, int h, ptrdiff_t stride)
{
    for (int k = 0; k < 3; k++) {
        ca_buf_alloc(&t->p[k], (size_t)w * 4, h, stride);
        t->f[k] = (float *)t->p[k].data;
    }
}
static void p3_free(Planes3 *t) { for (int k = 0; k < 3; k++) ca_buf_free(&t->p[k]); }
static int p3_check(const Planes3 *ref, const Planes3 *got, int w, int h, const float *atol,
                    float rtol, const char *what)
{
    int ok = 1;
    for (int k = 0; k < 3 && ok; k++)
        ok = ca_cmp_f(&ref->p[k], &got->p[k], w, h, atol[k], rtol, what) &&
             ca_buf_guard_ok(&got->p[k], what);
    return ok;
}

static void test_srgb8(const SdColourDSP *c, const SdColourDSP *n, const CaLevel *lv)
{
    int ws[64], nw = ca_widths(lv, ws), ok = 1;
    for (int i = 0; i < nw && ok; i++) {
        const int w = ws[i], h = 1 + (int)(ca_rand() % 3);
        CaBuf src;
        ca_buf_alloc(&src, (size_t)w * 3, h, (ptrdiff_t)w * 3 + 1 + 2 * (ca_rand() % 4));
        for (int y = 0; y < h; y++)
            for (int x = 0; x < 3 * w; x++) src.data[y * src.stride + x] = (uint8_t)ca_rand();
        const ptrdiff_t st = ca_rand_stride((size_t)w * 4);
        Planes3 a, b;
        p3_alloc(&a, w, h, st);
        p3_alloc(&b, w, h, st);
        c->srgb8_to_lin(a.f, st, src.data, src.stride, w, h, c->lut8);
        n->srgb8_to_lin(b.f, st, src.data, src.stride, w, h, n->lut8);
        const float z[3] = { 0, 0, 0 };
        ok = p3_check(&a, &b, w, h, z, 0, "srgb8_to_lin");
        p3_free(&a); p3_free(&b); ca_buf_free(&src);
    }
    if (ok) {   /* one image large and aligned enough for the streaming-store path */
        const int w = 1030, h = 1024;
        const ptrdiff_t st = 1056 * 4;
        CaBuf src;
        ca_buf_alloc(&src, (size_t)w * 3, h, 0);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < 3 * w; x++) src.data[y * src.stride + x] = (uint8_t)ca_rand();
        Planes3 a, b;
        p3_alloc(&a, w, h, st);
        p3_alloc(&b, w, h, st);
        c->srgb8_to_lin(a.f, st, src.data, src.stride, w, h, c->lut8);
        n->srgb8_to_lin(b.f, st, src.data, src.stride, w, h, n->lut8);
        const float z[3] = { 0, 0, 0 };
        ok = p3_check(&a, &b, w, h, z, 0, "srgb8_to_lin (large)");
        p3_free(&a); p3_free(&b); ca_buf_free(&src);
    }
    ca_report("srgb8_to_lin", lv, ok);
}

static void test_srgbf(const SdColourDSP *c, const SdColourDSP *n, const CaLevel *lv)
{
    const float ext[] = { 0.0f, 1.0f, -0.5f, 2.0f, NAN, INFINITY, -INFINITY, 0.04045f, 1e-30f };
    int ws[64], nw = ca_widths(lv, ws), ok = 1;
    for (int i = 0; i < nw && ok; i++) {
        const int w = ws[i], h = 1 + (int)(ca_rand() % 3);
        CaBuf src, a, b;
        ca_buf_alloc(&src, (size_t)w * 4, h, 0);
        ca_fill_f(&src, w, 0, 1, ext, 9);
        ca_buf_alloc(&a, (size_t)w * 4, h, 0);
        ca_buf_alloc(&b, (size_t)w * 4, h, a.stride);
        c->srgbf_to_lin((float *)a.data, a.stride, (float *)src.data, src.stride, w, h, c->lutf);
        n->srgbf_to_lin((float *)b.data, b.stride, (float *)src.data, src.stride, w, h, n->lutf);
        ok = ca_cmp_f(&a, &b, w, h, 1e-6f, 0, "srgbf_to_lin") && ca_buf_guard_ok(&b, "srgbf_to_lin");
        ca_buf_free(&src); ca_buf_free(&a); ca_buf_free(&b);
    }
    ca_report("srgbf_to_lin", lv, ok);
}

static void test_lab(const SdColourDSP *c, const SdColourDSP *n, const CaLevel *lv)
{
    int ws[64], nw = ca_widths(lv, ws), ok = 1;
    const float tol[3] = { 2e-4f, 1e-3f, 1e-3f };
    for (int i = 0; i < nw && ok; i++) {
        const int w = ws[i], h = 1 + (int)(ca_rand() % 3);
        const ptrdiff_t ss = ca_rand_stride((size_t)w * 4), ds = ca_rand_stride((size_t)w * 4);
        Planes3 s, a, b;
        p3_alloc(&s, w, h, ss);
        for (int k = 0; k < 3; k++) ca_fill_f(&s.p[k], w, 0, 1, ext_unit, 9);
        p3_alloc(&a, w, h, ds);
        p3_alloc(&b, w, h, ds);
        const float *const src[3] = { s.f[0], s.f[1], s.f[2] };
        c->rgb_to_lab(a.f, ds, src, ss, w, h);
        n->rgb_to_lab(b.f, ds, src, ss, w, h);
        ok = p3_check(&a, &b, w, h, tol, 0, "rgb_to_lab");
        /* without a*: L* and b* bit-identical to the same kernel's full output, a* untouched */
        Planes3 e;
        p3_alloc(&e, w, h, ds);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) ca_rowf(&e.p[1], y)[x] = -7.0f;
        float *const noa[3] = { e.f[0], NULL, e.f[2] };
        n->rgb_to_lab(noa, ds, src, ss, w, h);
        for (int y = 0; ok && y < h; y++)
            for (int x = 0; ok && x < w; x++)
                if (memcmp(&ca_rowf(&e.p[0], y)[x], &ca_rowf(&b.p[0], y)[x], 4) ||
                    memcmp(&ca_rowf(&e.p[2], y)[x], &ca_rowf(&b.p[2], y)[x], 4) ||
                    ca_rowf(&e.p[1], y)[x] != -7.0f) {
                    printf("    rgb_to_lab without a*: differs at x=%d y=%d (w=%d)\n", x, y, w);
                    ok = 0;
                }
        ok = ok && ca_buf_guard_ok(&e.p[0], "rgb_to_lab L (no a*)") && ca_buf_guard_ok(&e.p[2], "rgb_to_lab b (no a*)");
        p3_free(&e);
        p3_free(&s); p3_free(&a); p3_free(&b);
    }
    ca_report("rgb_to_lab", lv, ok);
}

static void test_od(const SdColourDSP *c, const SdColourDSP *n, const CaLevel *lv)
{
    const float ext[] = { 0.0f, 1.0f, 1e-4f, 2.0f, -1.0f, NAN, INFINITY, 1e-30f, 1e-3f };
    int ws[64], nw = ca_widths(lv, ws), ok = 1;
    for (int i = 0; i < nw && ok; i++) {
        const int w = ws[i], h = 1 + (int)(ca_rand() % 3);
        const float eps = ca_rand() % 2 ? 1e-4f : 1e-6f;
        CaBuf src, a, b;
        ca_buf_alloc(&src, (size_t)w * 4, h, 0);
        ca_fill_f(&src, w, 0, 1, ext, 9);
        ca_buf_alloc(&a, (size_t)w * 4, h, 0);
        ca_buf_alloc(&b, (size_t)w * 4, h, a.stride);
        c->od((float *)a.data, a.stride, (float *)src.data, src.stride, w, h, eps);
        n->od((float *)b.data, b.stride, (float *)src.data, src.stride, w, h, eps);
        ok = ca_cmp_f(&a, &b, w, h, 1e-6f, 1e-6f, "od") && ca_buf_guard_ok(&b, "od");
        ca_buf_free(&src); ca_buf_free(&a); ca_buf_free(&b);
    }
    ca_report("od", lv, ok);
}

static void test_mat3(const SdColourDSP *c, const SdColourDSP *n, const CaLevel *lv)
{
    int ws[64], nw = ca_widths(lv, ws), ok = 1;
    const float tol[3] = { 2e-6f, 2e-6f, 2e-6f };
    for (int i = 0; i < nw && ok; i++) {
        const int w = ws[i], h = 1 + (int)(ca_rand() % 3);
        float m[9];
        for (int k = 0; k < 9; k++) m[k] = ca_randf(-2, 2);
        const ptrdiff_t ss = ca_rand_stride((size_t)w * 4), ds = ca_rand_stride((size_t)w * 4);
        Planes3 s, a, b;
        p3_alloc(&s, w, h, ss);
        for (int k = 0; k < 3; k++) ca_fill_f(&s.p[k], w, -2, 2, NULL, 0);
        p3_alloc(&a, w, h, ds);
        p3_alloc(&b, w, h, ds);
        const float *const src[3] = { s.f[0], s.f[1], s.f[2] };
        c->mat3(a.f, ds, src, ss, w, h, m);
        n->mat3(b.f, ds, src, ss, w, h, m);
        ok = p3_check(&a, &b, w, h, tol, 1e-6f, "mat3");
        p3_free(&s); p3_free(&a); p3_free(&b);
    }
    ca_report("mat3", lv, ok);
}

void checkasm_colour(const CaLevel *lv)
{
    SdColourDSP c, n, p;
    sd_colour_dsp_init(&c, 0);
    sd_colour_dsp_init(&n, lv->flags);
    sd_colour_dsp_init(&p, lv->prev_flags);
    if (n.srgb8_to_lin != p.srgb8_to_lin) test_srgb8(&c, &n, lv);
    if (n.srgbf_to_lin != p.srgbf_to_lin) test_srgbf(&c, &n, lv);
    if (n.rgb_to_lab != p.rgb_to_lab) test_lab(&c, &n, lv);
    if (n.od != p.od) test_od(&c, &n, lv);
    if (n.mat3 != p.mat3) test_mat3(&c, &n, lv);
}

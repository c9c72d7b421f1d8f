/* checkasm: Hessian kernels.
 * Tolerances: eigenvalues are computed with the C operations in the C order: bit-exact (so the
 * |l1| <= |l2| ordering never flips). theta: polynomial atan2 (abs. error < 1e-5 rad) halved, so
 * 1e-5 rad, compared modulo pi (an angle at +-pi/2 is the same line). ridge: polynomial exp
 * (rel. error < 2e-7) and an FMA: 1e-6 absolute + 1e-5 relative. */
#include <math.h>
#include <stdio.h>

#include "kernels/hessian.h"
#include "tests/checkasm/checkasm.h"

static const float ext[] = { 0.0f, 1.0f, -1.0f, 1e-6f, -1e-6f, 50.0f };

static int cmp_angle(const CaBuf *ref, const CaBuf *got, int w, int h, float tol)
{
    for (int y = 0; y < h; y++) {
        const float *a = ca_rowf(ref, y), *b = ca_rowf(got, y);
        for (int x = 0; x < w; x++) {
            float d = fmodf(fabsf(a[x] - b[x]), 3.14159265f);
            d = fminf(d, 3.14159265f - d);
            if (!(d <= tol)) {
                printf("    theta: mismatch at x=%d y=%d: ref %.9g got %.9g\n", x, y, a[x], b[x]);
                return 0;
            }
        }
    }
    return 1;
}

static void fill3(CaBuf *s, int w, int h, ptrdiff_t st)
{
    for (int k = 0; k < 3; k++) {
        ca_buf_alloc(&s[k], (size_t)w * 4, h, st);
        ca_fill_f(&s[k], w, -1, 1, ext, 6);
    }
    /* some exact ties |p| == |q| (A = -C, B = 0) and isotropic points */
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            if (ca_rand() % 8 == 0) {
                ca_rowf(&s[2], y)[x] = -ca_rowf(&s[0], y)[x];
                ca_rowf(&s[1], y)[x] = 0;
            }
}

static void test_eig2(const SdHessianDSP *c, const SdHessianDSP *n, const CaLevel *lv)
{
    int ws[64], nw = ca_widths(lv, ws), ok = 1;
    for (int i = 0; i < nw && ok; i++) {
        const int w = ws[i], h = 1 + (int)(ca_rand() % 3), with_theta = ca_rand() % 4 != 0;
        const float s2 = ca_randf(0.5f, 20.0f);
        CaBuf s[3], a[3], b[3];
        fill3(s, w, h, ca_rand_stride((size_t)w * 4));
        const ptrdiff_t ds = ca_rand_stride((size_t)w * 4);
        for (int k = 0; k < 3; k++) {
            ca_buf_alloc(&a[k], (size_t)w * 4, h, ds);
            ca_buf_alloc(&b[k], (size_t)w * 4, h, ds);
        }
        const float *xx = (float *)s[0].data, *xy = (float *)s[1].data, *yy = (float *)s[2].data;
        c->eig2((float *)a[0].data, (float *)a[1].data, with_theta ? (float *)a[2].data : NULL, ds,
                xx, xy, yy, s[0].stride, w, h, s2);
        n->eig2((float *)b[0].data, (float *)b[1].data, with_theta ? (float *)b[2].data : NULL, ds,
                xx, xy, yy, s[0].stride, w, h, s2);
        ok = ca_cmp_f(&a[0], &b[0], w, h, 0, 0, "eig2 l1") && ca_cmp_f(&a[1], &b[1], w, h, 0, 0, "eig2 l2") &&
             (!with_theta || cmp_angle(&a[2], &b[2], w, h, 1e-5f));
        for (int k = 0; k < 3 && ok; k++) ok = ca_buf_guard_ok(&b[k], "eig2");
        for (int k = 0; k < 3; k++) { ca_buf_free(&s[k]); ca_buf_free(&a[k]); ca_buf_free(&b[k]); }
    }
    ca_report("eig2", lv, ok);
}

static void test_ridge(const SdHessianDSP *c, const SdHessianDSP *n, const CaLevel *lv)
{
    int ws[64], nw = ca_widths(lv, ws), ok = 1;
    for (int i = 0; i < nw && ok; i++) {
        const int w = ws[i], h = 1 + (int)(ca_rand() % 3);
        const SdRidgeParams p = { ca_randf(0.5f, 20.0f), ca_randf(0.3f, 1.0f), ca_randf(0.05f, 5.0f) };
        CaBuf s[3], a, b;
        fill3(s, w, h, ca_rand_stride((size_t)w * 4));
        ca_buf_alloc(&a, (size_t)w * 4, h, 0);
        ca_buf_alloc(&b, (size_t)w * 4, h, a.stride);
        c->ridge((float *)a.data, a.stride, (float *)s[0].data, (float *)s[1].data,
                 (float *)s[2].data, s[0].stride, w, h, &p);
        n->ridge((float *)b.data, b.stride, (float *)s[0].data, (float *)s[1].data,
                 (float *)s[2].data, s[0].stride, w, h, &p);
        ok = ca_cmp_f(&a, &b, w, h, 1e-6f, 1e-5f, "ridge") && ca_buf_guard_ok(&b, "ridge");
        for (int k = 0; k < 3; k++) ca_buf_free(&s[k]);
        ca_buf_free(&a); ca_buf_free(&b);
    }
    ca_report("ridge", lv, ok);
}

void checkasm_hessian(const CaLevel *lv)
{
    SdHessianDSP c, n, p;
    sd_hessian_dsp_init(&c, 0);
    sd_hessian_dsp_init(&n, lv->flags);
    sd_hessian_dsp_init(&p, lv->prev_flags);
    if (n.eig2 != p.eig2) test_eig2(&c, &n, lv);
    if (n.ridge != p.ridge) test_ridge(&c, &n, lv);
}

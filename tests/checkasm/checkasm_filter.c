/* checkasm: separable filter kernels.
 * Tolerances: the SIMD convolutions fuse each tap's multiply-add (FMA) where C rounds twice, and
 * fold the same pairs in the same order, so each output differs from C by at most a few rounding
 * errors of the partial sums: |got - ref| <= 2^-22 * (r + 2) * A, with A = sum |k_i| (|s_-i| +
 * |s_+i|) the sum of absolute terms (computed by the C kernel on |k|, |src|).
 * The vertical kernels may block several output rows and apply the taps unfolded (2r+1
 * FMAs in row order): also within that bound. Heights 1..9 cover blocked rows and the remainder.
 * box_v: sums add in the same order (bit-exact); squares use FMA: 2^-22 * n * sum(x^2).
 * box_h: window sums and mean are bit-exact; var = E[x^2] - mean^2 uses FMA: 1e-6 absolute for
 * data in [0, 1]. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "kernels/filter.h"
#include "tests/checkasm/checkasm.h"

static const float ext[] = { 0.0f, 1.0f, -1.0f, 100.0f, -100.0f, 1e-20f };

static int cmp_bound(const CaBuf *ref, const CaBuf *got, const CaBuf *bound, int w, int h,
                     float factor, const char *what)
{
    for (int y = 0; y < h; y++) {
        const float *a = ca_rowf(ref, y), *b = ca_rowf(got, y), *m = ca_rowf(bound, y);
        for (int x = 0; x < w; x++)
            if (!(fabsf(b[x] - a[x]) <= factor * m[x] + 1e-30f)) {
                printf("    %s: mismatch at x=%d y=%d (w=%d): ref %.9g got %.9g bound %.3g\n", what,
                       x, y, w, a[x], b[x], factor * m[x]);
                return 0;
            }
    }
    return 1;
}

static void rand_kernel(float *k, float *ka, int r)
{
    float s = 0;
    for (int i = 0; i <= r; i++) { k[i] = ca_randf(-0.2f, 1.0f); s += fabsf(k[i]); }
    for (int i = 0; i <= r; i++) { k[i] /= s; ka[i] = fabsf(k[i]); }
}

static int pick_radius(int i) { return i % 5 == 4 ? 20 + (int)(ca_rand() % 30) : 1 + (int)(ca_rand() % 8); }

static void test_v(const SdFilterDSP *c, sd_conv_v_fn ref, sd_conv_v_fn fn, const CaLevel *lv,
                   const char *name)
{
    int ws[64], nw = ca_widths(lv, ws), ok = 1;
    for (int i = 0; i < nw && ok; i++) {
        const int w = ws[i], h = 1 + (int)(ca_rand() % 9), r = pick_radius(i), nr = h + 2 * r;
        float k[64], ka[64];
        rand_kernel(k, ka, r);
        CaBuf src, srca, a, b, bd;
        ca_buf_alloc(&src, (size_t)w * 4, nr, 0);
        ca_buf_alloc(&srca, (size_t)w * 4, nr, src.stride);
        ca_fill_f(&src, w, -1, 1, ext, 6);
        const float **rows = malloc(sizeof(*rows) * nr), **rowsa = malloc(sizeof(*rows) * nr);
        for (int j = 0; j < nr; j++) {
            const int q = ca_rand() % 4 ? j : (int)(ca_rand() % nr);   /* repeated rows, as mirroring */
            rows[j] = ca_rowf(&src, q);
            rowsa[j] = ca_rowf(&srca, q);
            for (int x = 0; x < w; x++) ca_rowf(&srca, j)[x] = fabsf(ca_rowf(&src, j)[x]);
        }
        ca_buf_alloc(&a, (size_t)w * 4, h, 0);
        ca_buf_alloc(&b, (size_t)w * 4, h, a.stride);
        ca_buf_alloc(&bd, (size_t)w * 4, h, a.stride);
        ref((float *)a.data, a.stride, rows, w, h, k, r);
        fn((float *)b.data, b.stride, rows, w, h, k, r);
        c->v_sym((float *)bd.data, bd.stride, rowsa, w, h, ka, r);   /* sum of |terms| (>= anti) */
        ok = cmp_bound(&a, &b, &bd, w, h, (r + 2) * 2.4e-7f, name) && ca_buf_guard_ok(&b, name);
        free(rows); free(rowsa);
        ca_buf_free(&src); ca_buf_free(&srca); ca_buf_free(&a); ca_buf_free(&b); ca_buf_free(&bd);
    }
    ca_report(name, lv, ok);
}

static void test_h(const SdFilterDSP *c, sd_conv_h_fn ref, sd_conv_h_fn fn, const CaLevel *lv,
                   const char *name)
{
    int ws[64], nw = ca_widths(lv, ws), ok = 1;
    for (int i = 0; i < nw && ok; i++) {
        const int w = ws[i], h = 1 + (int)(ca_rand() % 3), r = pick_radius(i);
        float k[64], ka[64];
        rand_kernel(k, ka, r);
        CaBuf src, srca, a, b, bd;
        const int wp = w + 2 * r;                 /* r readable floats either side */
        ca_buf_alloc(&src, (size_t)wp * 4, h, 0);
        ca_buf_alloc(&srca, (size_t)wp * 4, h, src.stride);
        ca_fill_f(&src, wp, -1, 1, ext, 6);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < wp; x++) ca_rowf(&srca, y)[x] = fabsf(ca_rowf(&src, y)[x]);
        ca_buf_alloc(&a, (size_t)w * 4, h, 0);
        ca_buf_alloc(&b, (size_t)w * 4, h, a.stride);
        ca_buf_alloc(&bd, (size_t)w * 4, h, a.stride);
        ref((float *)a.data, a.stride, ca_rowf(&src, 0) + r, src.stride, w, h, k, r);
        fn((float *)b.data, b.stride, ca_rowf(&src, 0) + r, src.stride, w, h, k, r);
        c->h_sym((float *)bd.data, bd.stride, ca_rowf(&srca, 0) + r, srca.stride, w, h, ka, r);
        ok = cmp_bound(&a, &b, &bd, w, h, (r + 2) * 2.4e-7f, name) && ca_buf_guard_ok(&b, name);
        ca_buf_free(&src); ca_buf_free(&srca); ca_buf_free(&a); ca_buf_free(&b); ca_buf_free(&bd);
    }
    ca_report(name, lv, ok);
}

static void test_box_v(const SdFilterDSP *c, const SdFilterDSP *n, const CaLevel *lv)
{
    int ws[64], nw = ca_widths(lv, ws), ok = 1;
    for (int i = 0; i < nw && ok; i++) {
        const int w = ws[i], cnt = 1 + 2 * (int)(ca_rand() % 12);
        CaBuf src, s0, q0, s1, q1;
        ca_buf_alloc(&src, (size_t)w * 4, cnt, 0);
        ca_fill_f(&src, w, 0, 1, ext, 2);
        const float **rows = malloc(sizeof(*rows) * cnt);
        for (int j = 0; j < cnt; j++) rows[j] = ca_rowf(&src, j);
        ca_buf_alloc(&s0, (size_t)w * 4, 1, 0); ca_buf_alloc(&q0, (size_t)w * 4, 1, 0);
        ca_buf_alloc(&s1, (size_t)w * 4, 1, 0); ca_buf_alloc(&q1, (size_t)w * 4, 1, 0);
        c->box_v((float *)s0.data, (float *)q0.data, rows, w, cnt);
        n->box_v((float *)s1.data, (float *)q1.data, rows, w, cnt);
        ok = ca_cmp_f(&s0, &s1, w, 1, 0, 0, "box_v sum") &&
             ca_cmp_f(&q0, &q1, w, 1, 0, cnt * 2.4e-7f, "box_v sq") &&
             ca_buf_guard_ok(&s1, "box_v sum") && ca_buf_guard_ok(&q1, "box_v sq");
        free(rows);
        ca_buf_free(&src); ca_buf_free(&s0); ca_buf_free(&q0); ca_buf_free(&s1); ca_buf_free(&q1);
    }
    ca_report("box_v", lv, ok);
}

static void test_box_h(const SdFilterDSP *c, const SdFilterDSP *n, const CaLevel *lv)
{
    int ws[64], nw = ca_widths(lv, ws), ok = 1;
    for (int i = 0; i < nw && ok; i++) {
        const int w = ws[i], r = pick_radius(i), cnt = 2 * r + 1, wp = w + 2 * r;
        CaBuf s, q, m0, v0, m1, v1;
        ca_buf_alloc(&s, (size_t)wp * 4, 1, 0); ca_buf_alloc(&q, (size_t)wp * 4, 1, 0);
        for (int x = 0; x < wp; x++) {      /* column sums of cnt values in [0,1] */
            const float mu = ca_randf(0, 1), sd = ca_randf(0, 0.3f);
            ca_rowf(&s, 0)[x] = cnt * mu;
            ca_rowf(&q, 0)[x] = cnt * (mu * mu + sd * sd);
        }
        const int with_var = ca_rand() % 4 != 0;
        ca_buf_alloc(&m0, (size_t)w * 4, 1, 0); ca_buf_alloc(&v0, (size_t)w * 4, 1, 0);
        ca_buf_alloc(&m1, (size_t)w * 4, 1, 0); ca_buf_alloc(&v1, (size_t)w * 4, 1, 0);
        const float ia = 1.0f / ((float)cnt * cnt);
        c->box_h((float *)m0.data, with_var ? (float *)v0.data : NULL, ca_rowf(&s, 0) + r,
                 ca_rowf(&q, 0) + r, w, r, ia);
        n->box_h((float *)m1.data, with_var ? (float *)v1.data : NULL, ca_rowf(&s, 0) + r,
                 ca_rowf(&q, 0) + r, w, r, ia);
        ok = ca_cmp_f(&m0, &m1, w, 1, 0, 0, "box_h mean") && ca_buf_guard_ok(&m1, "box_h mean") &&
             (!with_var || ca_cmp_f(&v0, &v1, w, 1, 1e-6f, 0, "box_h var")) &&
             ca_buf_guard_ok(&v1, "box_h var");
        ca_buf_free(&s); ca_buf_free(&q);
        ca_buf_free(&m0); ca_buf_free(&v0); ca_buf_free(&m1); ca_buf_free(&v1);
    }
    ca_report("box_h", lv, ok);
}

void checkasm_filter(const CaLevel *lv)
{
    SdFilterDSP c, n, p;
    sd_filter_dsp_init(&c, 0);
    sd_filter_dsp_init(&n, lv->flags);
    sd_filter_dsp_init(&p, lv->prev_flags);
    if (n.v_sym != p.v_sym) test_v(&c, c.v_sym, n.v_sym, lv, "v_sym");
    if (n.v_anti != p.v_anti) test_v(&c, c.v_anti, n.v_anti, lv, "v_anti");
    if (n.h_sym != p.h_sym) test_h(&c, c.h_sym, n.h_sym, lv, "h_sym");
    if (n.h_anti != p.h_anti) test_h(&c, c.h_anti, n.h_anti, lv, "h_anti");
    if (n.box_v != p.box_v) test_box_v(&c, &n, lv);
    if (n.box_h != p.box_h) test_box_h(&c, &n, lv);
}

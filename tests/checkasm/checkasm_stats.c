/* checkasm: reduction kernels.
 * Tolerances: counts and min/max are exact. moments sums in double in another order: 1e-12
 * relative of sum |v| (and sum v^2). quant is bit-exact (same float operations). ecc sums float
 * lanes over 256-pixel chunks: each sum within 2e-5 of the sum of its absolute terms (computed
 * by the C kernel on |inputs|). hist and glcm (integer) are bit-exact. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kernels/stats.h"
#include "tests/checkasm/checkasm.h"

static int near(double ref, double got, double scale, double rel, const char *what, int i)
{
    if (fabs(got - ref) <= rel * scale + 1e-300) return 1;
    printf("    %s[%d]: ref %.12g got %.12g (scale %.3g)\n", what, i, ref, got, scale);
    return 0;
}

static void rand_mask(CaBuf *m, int w, int h, int density)
{
    ca_buf_alloc(m, (size_t)w, h, (ptrdiff_t)w + 1 + 2 * (ca_rand() % 4));
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            m->data[y * m->stride + x] = (ca_rand() % 16) < (unsigned)density ? (uint8_t)(1 + ca_rand() % 255) : 0;
}

static void test_moments(sd_moments_fn ref, sd_moments_fn fn, const CaLevel *lv)
{
    const float ext[] = { 0.0f, 1e6f, -1e6f, 1e-30f, NAN };
    int ws[64], nw = ca_widths(lv, ws), ok = 1;
    for (int i = 0; i < nw && ok; i++) {
        const int w = ws[i], h = 1 + (int)(ca_rand() % 3), use_mask = ca_rand() % 3 != 0;
        CaBuf s, sa, m;
        ca_buf_alloc(&s, (size_t)w * 4, h, 0);
        ca_fill_f(&s, w, -1, 1, ext, ca_rand() % 4 ? 4 : 5);
        ca_buf_alloc(&sa, (size_t)w * 4, h, s.stride);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) ca_rowf(&sa, y)[x] = fabsf(ca_rowf(&s, y)[x]);
        rand_mask(&m, w, h, 10);
        SdMoments a = { 0, 0, 0, INFINITY, -INFINITY }, b = a, ab = a;
        ref(&a, (float *)s.data, s.stride, use_mask ? m.data : NULL, m.stride, w, h);
        fn(&b, (float *)s.data, s.stride, use_mask ? m.data : NULL, m.stride, w, h);
        ref(&ab, (float *)sa.data, sa.stride, use_mask ? m.data : NULL, m.stride, w, h);
        const int nan = isnan(a.sum);
        ok = a.n == b.n && (a.min == b.min || (isnan(a.min) && isnan(b.min))) &&
             (a.max == b.max || (isnan(a.max) && isnan(b.max))) &&
             (nan ? isnan(b.sum) && isnan(b.sumsq)
                  : near(a.sum, b.sum, ab.sum, 1e-12, "moments sum", 0) &&
                    near(a.sumsq, b.sumsq, ab.sumsq, 1e-12, "moments sumsq", 0));
        if (!ok) printf("    moments: n %g/%g min %g/%g max %g/%g (w=%d h=%d)\n", a.n, b.n, a.min,
                        b.min, a.max, b.max, w, h);
        ca_buf_free(&s); ca_buf_free(&sa); ca_buf_free(&m);
    }
    ca_report("moments", lv, ok);
}

static void test_quant(sd_quant_fn ref, sd_quant_fn fn, const CaLevel *lv)
{
    const float ext[] = { 0.0f, 1.0f, -5.0f, 5.0f, NAN, INFINITY, -INFINITY, 0.5f };
    int ws[64], nw = ca_widths(lv, ws), ok = 1;
    for (int i = 0; i < nw && ok; i++) {
        const int w = ws[i], h = 1 + (int)(ca_rand() % 3);
        const int nb = ca_rand() % 3 == 0 ? 65536 : 1 + (int)(ca_rand() % 300);
        const float lo = ca_randf(-0.5f, 0.2f), scale = (float)nb / ca_randf(0.5f, 1.5f);
        CaBuf s, a, b;
        ca_buf_alloc(&s, (size_t)w * 4, h, 0);
        ca_fill_f(&s, w, -0.6f, 1.6f, ext, 8);
        ca_buf_alloc(&a, (size_t)w * 2, h, (ptrdiff_t)w * 2 + 2 * (1 + 2 * (ca_rand() % 3)));
        ca_buf_alloc(&b, (size_t)w * 2, h, a.stride);
        ref((uint16_t *)a.data, a.stride, (float *)s.data, s.stride, w, h, lo, scale, nb);
        fn((uint16_t *)b.data, b.stride, (float *)s.data, s.stride, w, h, lo, scale, nb);
        ok = ca_cmp_bytes(&a, &b, (size_t)w * 2, h, "quant") && ca_buf_guard_ok(&b, "quant");
        ca_buf_free(&s); ca_buf_free(&a); ca_buf_free(&b);
    }
    ca_report("quant", lv, ok);
}

static void test_hist(sd_hist_fn ref, sd_hist_fn fn, const CaLevel *lv)
{
    int ws[64], nw = ca_widths(lv, ws), ok = 1;
    static uint32_t ca[4096], cb[4096];
    for (int i = 0; i < nw && ok; i++) {
        const int w = ws[i], h = 1 + (int)(ca_rand() % 3), nb = 1 + (int)(ca_rand() % 4096);
        CaBuf s, m;
        ca_buf_alloc(&s, (size_t)w * 2, h, (ptrdiff_t)w * 2 + 2);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) ((uint16_t *)(s.data + y * s.stride))[x] = (uint16_t)(ca_rand() % (unsigned)nb);
        rand_mask(&m, w, h, 12);
        const int use_mask = ca_rand() % 2;
        memset(ca, 0, sizeof(ca)); memset(cb, 0, sizeof(cb));
        ref(ca, (uint16_t *)s.data, s.stride, use_mask ? m.data : NULL, m.stride, w, h);
        fn(cb, (uint16_t *)s.data, s.stride, use_mask ? m.data : NULL, m.stride, w, h);
        ok = !memcmp(ca, cb, sizeof(ca));
        ca_buf_free(&s); ca_buf_free(&m);
    }
    ca_report("hist", lv, ok);
}

static void test_glcm(sd_glcm_fn ref, sd_glcm_fn fn, const CaLevel *lv)
{
    int ws[64], nw = ca_widths(lv, ws), ok = 1;
    static uint32_t ca[4 * 64 * 64], cb[4 * 64 * 64];
    for (int i = 0; i < nw && ok; i++) {
        const int w = ws[i], h = 1 + (int)(ca_rand() % 6), L = 2 + (int)(ca_rand() % 63);
        const int d = 1 + (int)(ca_rand() % 3);
        CaBuf s, m;
        ca_buf_alloc(&s, (size_t)w, h, (ptrdiff_t)w + 3);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) s.data[y * s.stride + x] = (uint8_t)(ca_rand() % (unsigned)L);
        rand_mask(&m, w, h, 13);
        const int use_mask = ca_rand() % 2;
        memset(ca, 0, sizeof(ca)); memset(cb, 0, sizeof(cb));
        ref(ca, s.data, s.stride, use_mask ? m.data : NULL, m.stride, w, h, d, L);
        fn(cb, s.data, s.stride, use_mask ? m.data : NULL, m.stride, w, h, d, L);
        ok = !memcmp(ca, cb, sizeof(ca));
        if (!ok) printf("    glcm: counts differ (w=%d h=%d d=%d L=%d)\n", w, h, d, L);
        ca_buf_free(&s); ca_buf_free(&m);
    }
    ca_report("glcm", lv, ok);
}

static int cmp_acc(const SdEccAcc *a, const SdEccAcc *b, const SdEccAcc *s)
{
    const double *pa = &a->n, *pb = &b->n, *ps = &s->n;
    const int n = (int)(sizeof(SdEccAcc) / sizeof(double));
    for (int i = 0; i < n; i++)
        if (!near(pa[i], pb[i], ps[i], 2e-5, "ecc", i)) return 0;
    return 1;
}

static void test_ecc(sd_ecc_fn ref, sd_ecc_fn fn, const CaLevel *lv)
{
    int ws[64], nw = ca_widths(lv, ws), ok = 1;
    for (int i = 0; i < nw && ok; i++) {
        const int w = ws[i], h = 1 + (int)(ca_rand() % 4);
        const ptrdiff_t st = ca_rand_stride((size_t)w * 4);
        CaBuf s[4], sa[4], m;
        for (int k = 0; k < 4; k++) {
            ca_buf_alloc(&s[k], (size_t)w * 4, h, st);
            ca_fill_f(&s[k], w, k < 2 ? -1 : 0, 1, NULL, 0);
            ca_buf_alloc(&sa[k], (size_t)w * 4, h, st);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) ca_rowf(&sa[k], y)[x] = fabsf(ca_rowf(&s[k], y)[x]);
        }
        rand_mask(&m, w, h, 12);
        const int use_mask = ca_rand() % 3 != 0;
        const float x0 = -0.5f * (float)w + ca_randf(-2, 2), y0 = ca_randf(-3, 3);
        SdEccAcc a, b, ab;
        memset(&a, 0, sizeof(a)); memset(&b, 0, sizeof(b)); memset(&ab, 0, sizeof(ab));
        ref(&a, (float *)s[0].data, (float *)s[1].data, (float *)s[2].data, (float *)s[3].data, st,
            use_mask ? m.data : NULL, m.stride, w, h, x0, y0);
        fn(&b, (float *)s[0].data, (float *)s[1].data, (float *)s[2].data, (float *)s[3].data, st,
           use_mask ? m.data : NULL, m.stride, w, h, x0, y0);
        /* bound: the same sums on |g|, |v|, |x| (|x| via a non-negative origin shift bound) */
        ref(&ab, (float *)sa[0].data, (float *)sa[1].data, (float *)sa[2].data, (float *)sa[3].data,
            st, use_mask ? m.data : NULL, m.stride, w, h, fabsf(x0) + 0.0f, fabsf(y0) + (float)h);
        ok = cmp_acc(&a, &b, &ab);
        if (!ok) printf("    ecc: w=%d h=%d x0=%g y0=%g\n", w, h, x0, y0);
        for (int k = 0; k < 4; k++) { ca_buf_free(&s[k]); ca_buf_free(&sa[k]); }
        ca_buf_free(&m);
    }
    ca_report("ecc", lv, ok);
}

void checkasm_stats(const CaLevel *lv)
{
    SdStatsDSP c, n, p;
    sd_stats_dsp_init(&c, 0);
    sd_stats_dsp_init(&n, lv->flags);
    sd_stats_dsp_init(&p, lv->prev_flags);
    if (n.moments != p.moments) test_moments(c.moments, n.moments, lv);
    if (n.quant != p.quant) test_quant(c.quant, n.quant, lv);
    if (n.hist != p.hist) test_hist(c.hist, n.hist, lv);
    if (n.glcm != p.glcm) test_glcm(c.glcm, n.glcm, lv);
    if (n.ecc != p.ecc) test_ecc(c.ecc, n.ecc, lv);
}

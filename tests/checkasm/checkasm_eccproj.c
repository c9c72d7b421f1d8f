/* checkasm: homography ECC sums (kernels/eccproj.h).
 * Tolerance: SIMD builds the per-pixel Jacobian J, the "1" and v0, v1 with the C operations in
 * the C order (bit-identical terms; pixels with mask 0 or D == 0 skipped, NaN under the mask
 * ignored) and only sums them in another order (four lane sums, chunks, FMA). Each of the 66
 * sums of N products g_a g_b then differs by at most ~N 2^-53 sum |g_a g_b|, and Cauchy-Schwarz
 * bounds sum |g_a g_b| <= sqrt(S_aa S_bb) with S_aa the sum of squares (a diagonal of the
 * reference increment). Allowed: (N + 2) 2^-52 (|start| + |ref| + sqrt(S_aa S_bb)) per entry,
 * the kernel adding into a non-zero accumulator. The pixel count n is exact. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kernels/eccproj.h"
#include "tests/checkasm/checkasm.h"

/* Entry (a, b), a <= b, of the Gram matrix of g = (J0..J7, 1, v0, v1) inside the accumulator. */
static double *entry(SdEccProjAcc *s, int a, int b)
{
    if (b < 8) return &s->jj[a * 8 + b - (a * (a + 1)) / 2];
    if (a < 8) return b == 8 ? &s->j[a] : b == 9 ? &s->j0[a] : &s->j1[a];
    if (a == 8) return b == 8 ? &s->n : b == 9 ? &s->v[0] : &s->v[1];
    if (a == 9) return b == 9 ? &s->v[2] : &s->v[4];
    return &s->v[3];
}

static int compare(const SdEccProjAcc *start, const SdEccProjAcc *ref, const SdEccProjAcc *got,
                   double npx, const char *what)
{
    SdEccProjAcc *s0 = (SdEccProjAcc *)start, *r = (SdEccProjAcc *)ref, *g = (SdEccProjAcc *)got;
    if (g->n != r->n) {
        printf("    %s: pixel count ref %.17g got %.17g\n", what, r->n, g->n);
        return 0;
    }
    for (int a = 0; a < 11; a++)
        for (int b = a; b < 11; b++) {
            const double sa = fabs(*entry(r, a, a) - *entry(s0, a, a)),
                         sb = fabs(*entry(r, b, b) - *entry(s0, b, b));
            const double rv = *entry(r, a, b), gv = *entry(g, a, b), s0v = *entry(s0, a, b);
            const double tol = (npx + 2) * 0x1p-52 * (fabs(s0v) + fabs(rv) + sqrt(sa * sb));
            if (!(fabs(gv - rv) <= tol)) {
                printf("    %s: sum (%d, %d) ref %.17g got %.17g (tol %.3g)\n", what, a, b, rv, gv, tol);
                return 0;
            }
        }
    return 1;
}

static void rand_h(double hm[9], int w, int h, float x0, int kind)
{
    static const double id[9] = { 1, 0, 0, 0, 1, 0, 0, 0, 1 };
    memcpy(hm, id, sizeof(id));
    if (kind == 0) return;                  /* the inverse compositional case: identity */
    for (int k = 0; k < 8; k++) hm[k] += ca_randf(-0.05f, 0.05f);
    hm[2] += ca_randf(-5, 5); hm[5] += ca_randf(-5, 5);
    hm[6] = ca_randf(-2e-3f, 2e-3f); hm[7] = ca_randf(-2e-3f, 2e-3f);
    if (kind == 2) {                        /* D == 0 exactly on one column, negative beyond */
        hm[6] = 1; hm[7] = 0;
        hm[8] = -(double)(x0 + (float)(ca_rand() % (unsigned)w));
    }
    (void)h;
}

static void test_acc(sd_eccproj_fn ref, sd_eccproj_fn fn, const CaLevel *lv)
{
    static const float ext[] = { 0.0f, 1.0f, -1.0f, -0.0f, 1e-20f, 30.0f };
    int ws[64], nw = ca_widths(lv, ws), ok = 1;
    for (int i = 0; i < nw * 2 && ok; i++) {
        const int w = ws[i % nw], h = i >= nw ? 1 + (int)(ca_rand() % 40) : 1 + (int)(ca_rand() % 4);
        const ptrdiff_t ss = ca_rand_stride((size_t)w * 4);
        CaBuf in[4], mk;
        for (int k = 0; k < 4; k++) {
            ca_buf_alloc(&in[k], (size_t)w * 4, h, ss);
            ca_fill_f(&in[k], w, k < 2 ? -1.0f : 0.0f, 1.0f, ext, 6);
        }
        const int mode = (int)(ca_rand() % 4);     /* 0: no mask, 1: 0/1, 2: 0/255 blocks, 3: all 0 */
        ca_buf_alloc(&mk, (size_t)w, h, (ptrdiff_t)w + 1 + 2 * (ca_rand() % 4));
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                uint8_t *m = mk.data + y * mk.stride + x;
                *m = mode == 1 ? (uint8_t)(ca_rand() % 2) : mode == 2 ? ((x / 5 + y) % 3 ? 255 : 0) : 0;
                if (mode && !*m && ca_rand() % 2) {   /* masked-out pixels may hold NaN (ignored) */
                    ca_rowf(&in[ca_rand() % 4], y)[x] = NAN;
                }
            }
        const float x0 = ca_rand() % 2 ? -0.5f * (float)w : (float)(int)(ca_rand() % 9) - 4.0f;
        const float y0 = ca_rand() % 2 ? -0.5f * (float)h : ca_randf(-3, 3);
        double hm[9];
        const int kind = (int)(ca_rand() % 3);
        rand_h(hm, w, h, x0, kind);
        SdEccProjAcc start, a, b;
        double *p = (double *)&start;
        for (size_t k = 0; k < sizeof(start) / sizeof(double); k++) p[k] = ca_randf(-1, 1);
        start.n = (double)(ca_rand() % 100);
        a = start; b = start;
        const uint8_t *m = mode ? mk.data : NULL;
        ref(&a, (float *)in[0].data, (float *)in[1].data, (float *)in[2].data, (float *)in[3].data,
            ss, m, mk.stride, w, h, x0, y0, hm);
        fn(&b, (float *)in[0].data, (float *)in[1].data, (float *)in[2].data, (float *)in[3].data,
           ss, m, mk.stride, w, h, x0, y0, hm);
        ok = compare(&start, &a, &b, (double)w * h, "eccproj");
        if (!ok) printf("    (w=%d h=%d mask mode %d, map kind %d, x0=%g y0=%g)\n", w, h, mode, kind, x0, y0);
        for (int k = 0; k < 4; k++) ca_buf_free(&in[k]);
        ca_buf_free(&mk);
    }
    ca_report("eccproj", lv, ok);
}

void checkasm_eccproj(const CaLevel *lv)
{
    SdEccProjDSP c, n, p;
    sd_eccproj_dsp_init(&c, 0);
    sd_eccproj_dsp_init(&n, lv->flags);
    sd_eccproj_dsp_init(&p, lv->prev_flags);
    if (n.acc != p.acc) test_acc(c.acc, n.acc, lv);
}

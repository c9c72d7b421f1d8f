/* checkasm: skin-metric map kernels (kernels/skinmap.h).
 * Tolerances:
 * - ridge_max: |l2| - |l1|, a sign flip and a strict compare, the C operations in the C order:
 *   maxima and angles bit-exact (ties keep the old angle in both).
 * - lincomb: two or three products and adds; any grouping or FMA contraction stays within
 *   2^-22 * sum |k_i x_i| (each result rounds at most ~3 times at 2^-24 of that sum).
 * - ita: polynomial atan2 (abs. error < 1e-5 rad = 5.73e-4 deg) plus the final scaling rounding
 *   (< 1e-5 deg at 180): 6e-4 deg absolute. Signed zeros follow atan2f (b = -0 gives 180).
 * - ridge_keep: the same float operations in both (no FMA): bit-exact.
 * - line_mean: the sample point x + k dx is one FMA in SIMD and a multiply then an add in C, and
 *   sin/cos use FMA Horner steps (a few 2^-24 apart), so a point moves by at most
 *   d = 2^-23 (max(sw, sh) + ns step) + 2e-6 ns step px. Bilinear sampling is Lipschitz with the
 *   largest neighbour difference G of the source per axis, and the lerp forms differ by a few
 *   2^-24 |src|, so each sample and their mean are within 2 G d + 2^-21 max|src| (computed per
 *   case from the actual G; about 5e-4 for noise in [-1, 1] at width 1031, where one float ulp of
 *   the coordinate is already 1.2e-4 px). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kernels/skinmap.h"
#include "tests/checkasm/checkasm.h"

#define PI_2 1.57079632679f

static void copy_buf(CaBuf *dst, const CaBuf *src)
{
    memcpy(dst->base, src->base, src->total);
}

static void test_ridge_max(const SdSkinmapDSP *c, const SdSkinmapDSP *n, const CaLevel *lv)
{
    static const float ext[] = { 0.0f, -0.0f, 1.0f, -1.0f, 1e-30f, -1e-30f, 1e30f, -1e30f };
    int ws[64], nw = ca_widths(lv, ws), ok = 1;
    for (int i = 0; i < nw && ok; i++) {
        const int w = ws[i], h = 1 + (int)(ca_rand() % 4);
        const ptrdiff_t ss = ca_rand_stride((size_t)w * 4), ds = ca_rand_stride((size_t)w * 4);
        CaBuf l1, l2, t, ra, ta, rb, tb;
        ca_buf_alloc(&l1, (size_t)w * 4, h, ss);
        ca_buf_alloc(&l2, (size_t)w * 4, h, ss);
        ca_buf_alloc(&t, (size_t)w * 4, h, ss);
        ca_fill_f(&l1, w, -1, 1, ext, 8);
        ca_fill_f(&l2, w, -1, 1, ext, 8);
        ca_fill_f(&t, w, -PI_2, PI_2, NULL, 0);
        ca_buf_alloc(&ra, (size_t)w * 4, h, ds);
        ca_buf_alloc(&ta, (size_t)w * 4, h, ds);
        ca_buf_alloc(&rb, (size_t)w * 4, h, ds);
        ca_buf_alloc(&tb, (size_t)w * 4, h, ds);
        /* garbage state: first = 1 must overwrite all of it */
        ca_fill_f(&ra, w, -1, 1, ext, 8);
        ca_fill_f(&ta, w, -PI_2, PI_2, NULL, 0);
        copy_buf(&rb, &ra);
        copy_buf(&tb, &ta);
        /* scale 1 (first = 1: initialise), then two more scales against the state written */
        for (int pass = 0; pass < 3 && ok; pass++) {
            c->ridge_max((float *)ra.data, (float *)ta.data, ds, (float *)l1.data, (float *)l2.data,
                         (float *)t.data, ss, w, h, pass == 0);
            n->ridge_max((float *)rb.data, (float *)tb.data, ds, (float *)l1.data, (float *)l2.data,
                         (float *)t.data, ss, w, h, pass == 0);
            ok = ca_cmp_bytes(&ra, &rb, (size_t)w * 4, h, "ridge_max r") &&
                 ca_cmp_bytes(&ta, &tb, (size_t)w * 4, h, "ridge_max theta") &&
                 ca_buf_guard_ok(&rb, "ridge_max r") && ca_buf_guard_ok(&tb, "ridge_max theta");
            /* the next scale: new values, except some pixels keep theirs (exact ties with the
             * state) or swap l1/l2 signs; every angle is new so a wrong tie rule shows */
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    float *p1 = &ca_rowf(&l1, y)[x], *p2 = &ca_rowf(&l2, y)[x];
                    switch (ca_rand() % 6) {
                    case 0: break;
                    case 1: *p1 = -*p1; *p2 = -*p2; break;
                    default:
                        *p1 = ca_randf_ext(-1, 1, ext, 8);
                        *p2 = ca_randf_ext(-1.5f, 1.5f, ext, 8);
                    }
                    ca_rowf(&t, y)[x] = ca_randf(-PI_2, PI_2);
                }
        }
        ca_buf_free(&l1); ca_buf_free(&l2); ca_buf_free(&t);
        ca_buf_free(&ra); ca_buf_free(&ta); ca_buf_free(&rb); ca_buf_free(&tb);
    }
    ca_report("ridge_max", lv, ok);
}

static void test_ridge_keep(const SdSkinmapDSP *c, const SdSkinmapDSP *n, const CaLevel *lv)
{
    static const float ext[] = { 0.0f, -0.0f, 1.0f, -1.0f, 1e-30f, -1e-30f, 1e15f, -1e15f };
    int ws[64], nw = ca_widths(lv, ws), ok = 1;
    for (int i = 0; i < nw && ok; i++) {
        const int w = ws[i], h = 1 + (int)(ca_rand() % 4);
        const ptrdiff_t ss = ca_rand_stride((size_t)w * 4), ds = ca_rand_stride((size_t)w * 4);
        const float s2 = ca_randf(0.5f, 40.0f);
        CaBuf in[3], ra[4], rb[4];
        for (int j = 0; j < 3; j++) {
            ca_buf_alloc(&in[j], (size_t)w * 4, h, ss);
            ca_fill_f(&in[j], w, -1, 1, ext, 8);
        }
        /* garbage state: first = 1 must overwrite all of it */
        for (int j = 0; j < 4; j++) {
            ca_buf_alloc(&ra[j], (size_t)w * 4, h, ds);
            ca_buf_alloc(&rb[j], (size_t)w * 4, h, ds);
            ca_fill_f(&ra[j], w, -1, 1, ext, 8);
            copy_buf(&rb[j], &ra[j]);
        }
        /* scale 1 (first = 1: initialise), then two more scales against the state written */
        for (int pass = 0; pass < 3 && ok; pass++) {
            c->ridge_keep((float *)ra[0].data, (float *)ra[1].data, (float *)ra[2].data, (float *)ra[3].data,
                          ds, (float *)in[0].data, (float *)in[1].data, (float *)in[2].data, ss, w, h, s2,
                          pass == 0);
            n->ridge_keep((float *)rb[0].data, (float *)rb[1].data, (float *)rb[2].data, (float *)rb[3].data,
                          ds, (float *)in[0].data, (float *)in[1].data, (float *)in[2].data, ss, w, h, s2,
                          pass == 0);
            static const char *what[4] = { "ridge_keep r", "ridge_keep a", "ridge_keep b", "ridge_keep c" };
            for (int j = 0; j < 4 && ok; j++)
                ok = ca_cmp_bytes(&ra[j], &rb[j], (size_t)w * 4, h, what[j]) && ca_buf_guard_ok(&rb[j], what[j]);
            /* the next scale: new Hessians, except some pixels keep theirs (exact ties with the
             * state) or flip sign (the valley becomes a ridge) */
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    const int k = (int)(ca_rand() % 6);
                    for (int j = 0; j < 3; j++) {
                        float *p = &ca_rowf(&in[j], y)[x];
                        if (k == 1) *p = -*p;
                        else if (k > 1) *p = ca_randf_ext(-1, 1, ext, 8);
                    }
                }
        }
        for (int j = 0; j < 3; j++) ca_buf_free(&in[j]);
        for (int j = 0; j < 4; j++) { ca_buf_free(&ra[j]); ca_buf_free(&rb[j]); }
    }
    ca_report("ridge_keep", lv, ok);
}

static void test_lincomb(const SdSkinmapDSP *c, const SdSkinmapDSP *n, const CaLevel *lv)
{
    static const float ext[] = { 0.0f, -0.0f, 1.0f, -1.0f, 100.0f, -100.0f, 1e-20f };
    int ws[64], nw = ca_widths(lv, ws), ok = 1;
    for (int i = 0; i < nw && ok; i++) {
        const int w = ws[i], h = 1 + (int)(ca_rand() % 4), three = ca_rand() % 3 != 0;
        const int alias = ca_rand() % 3 == 0;       /* dst == a, as the header allows */
        const ptrdiff_t ss = ca_rand_stride((size_t)w * 4);
        const float k[3] = { ca_randf(-3, 3), ca_randf(-3, 3), three ? ca_randf(-3, 3) : 0.0f };
        CaBuf in[3], a, b;
        for (int j = 0; j < 3; j++) {
            ca_buf_alloc(&in[j], (size_t)w * 4, h, ss);
            ca_fill_f(&in[j], w, -100, 100, ext, 7);
        }
        /* aliasing needs dst with the source stride, and one copy of a per side */
        ca_buf_alloc(&a, (size_t)w * 4, h, alias ? ss : 0);
        ca_buf_alloc(&b, (size_t)w * 4, h, a.stride);
        if (alias) { copy_buf(&a, &in[0]); copy_buf(&b, &in[0]); }
        const float *pa_ref = alias ? (float *)a.data : (float *)in[0].data;
        const float *pa_new = alias ? (float *)b.data : (float *)in[0].data;
        c->lincomb((float *)a.data, a.stride, pa_ref, (float *)in[1].data,
                   three ? (float *)in[2].data : NULL, ss, w, h, k);
        n->lincomb((float *)b.data, b.stride, pa_new, (float *)in[1].data,
                   three ? (float *)in[2].data : NULL, ss, w, h, k);
        for (int y = 0; y < h && ok; y++)
            for (int x = 0; x < w && ok; x++) {
                const float r = ca_rowf(&a, y)[x], g = ca_rowf(&b, y)[x];
                float s = fabsf(k[0] * ca_rowf(&in[0], y)[x]) + fabsf(k[1] * ca_rowf(&in[1], y)[x]);
                if (three) s += fabsf(k[2] * ca_rowf(&in[2], y)[x]);
                if (!(fabsf(g - r) <= 0x1p-22f * s)) {
                    printf("    lincomb: mismatch at x=%d y=%d (w=%d h=%d%s%s): ref %.9g got %.9g\n",
                           x, y, w, h, three ? "" : ", two terms", alias ? ", dst = a" : "", r, g);
                    ok = 0;
                }
            }
        if (ok) ok = ca_buf_guard_ok(&b, "lincomb");
        for (int j = 0; j < 3; j++) ca_buf_free(&in[j]);
        ca_buf_free(&a); ca_buf_free(&b);
    }
    ca_report("lincomb", lv, ok);
}

static void test_ita(const SdSkinmapDSP *c, const SdSkinmapDSP *n, const CaLevel *lv)
{
    static const float ext_l[] = { 50.0f, 0.0f, 100.0f, 49.999996f, 50.000004f };
    static const float ext_b[] = { 0.0f, -0.0f, 1e-30f, -1e-30f, 128.0f, -128.0f, 1e-3f };
    int ws[64], nw = ca_widths(lv, ws), ok = 1;
    for (int i = 0; i < nw && ok; i++) {
        const int w = ws[i], h = 1 + (int)(ca_rand() % 4);
        const ptrdiff_t ss = ca_rand_stride((size_t)w * 4);
        CaBuf L, bb, a, b;
        ca_buf_alloc(&L, (size_t)w * 4, h, ss);
        ca_buf_alloc(&bb, (size_t)w * 4, h, ss);
        ca_fill_f(&L, w, 0, 100, ext_l, 5);
        ca_fill_f(&bb, w, -60, 60, ext_b, 7);
        ca_buf_alloc(&a, (size_t)w * 4, h, 0);
        ca_buf_alloc(&b, (size_t)w * 4, h, a.stride);
        c->ita((float *)a.data, a.stride, (float *)L.data, (float *)bb.data, ss, w, h);
        n->ita((float *)b.data, b.stride, (float *)L.data, (float *)bb.data, ss, w, h);
        ok = ca_cmp_f(&a, &b, w, h, 6e-4f, 0, "ita") && ca_buf_guard_ok(&b, "ita");
        ca_buf_free(&L); ca_buf_free(&bb); ca_buf_free(&a); ca_buf_free(&b);
    }
    ca_report("ita", lv, ok);
}

static float max_step(const CaBuf *s, int w, int h, float *vmax)
{
    float g = 0, m = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const float v = ca_rowf(s, y)[x];
            m = fmaxf(m, fabsf(v));
            if (x + 1 < w) g = fmaxf(g, fabsf(ca_rowf(s, y)[x + 1] - v));
            if (y + 1 < h) g = fmaxf(g, fabsf(ca_rowf(s, y + 1)[x] - v));
        }
    *vmax = m;
    return g;
}

static void test_line_mean(const SdSkinmapDSP *c, const SdSkinmapDSP *n, const CaLevel *lv)
{
    static const float ext_t[] = { 0.0f, PI_2, -PI_2, 0.7853982f, -0.7853982f, 1e-7f };
    int ws[64], nw = ca_widths(lv, ws), ok = 1;
    for (int i = 0; i < nw && ok; i++) {
        const int sw = ws[i], sh = 1 + (int)(ca_rand() % 24);
        const int y0 = (int)(ca_rand() % (unsigned)sh), h = 1 + (int)(ca_rand() % (unsigned)(sh - y0));
        const int ns = (int)(ca_rand() % 7);
        const float step = ca_rand() % 4 == 0 ? 1.0f : ca_randf(0.25f, 3.0f);
        CaBuf src, th, a, b;
        ca_buf_alloc(&src, (size_t)sw * 4, sh, 0);
        ca_fill_f(&src, sw, -1, 1, NULL, 0);
        if (ca_rand() % 3 == 0)     /* smooth source: the tolerance tightens with G */
            for (int y = 0; y < sh; y++)
                for (int x = 0; x < sw; x++) ca_rowf(&src, y)[x] = sinf(0.05f * x) * cosf(0.07f * y);
        ca_buf_alloc(&th, (size_t)sw * 4, h, 0);
        ca_fill_f(&th, sw, -PI_2, PI_2, ext_t, 6);
        ca_buf_alloc(&a, (size_t)sw * 4, h, 0);
        ca_buf_alloc(&b, (size_t)sw * 4, h, a.stride);
        c->line_mean((float *)a.data, a.stride, (float *)src.data, src.stride, sw, sh,
                     (float *)th.data, th.stride, y0, h, step, ns);
        n->line_mean((float *)b.data, b.stride, (float *)src.data, src.stride, sw, sh,
                     (float *)th.data, th.stride, y0, h, step, ns);
        float vmax;
        const float g = max_step(&src, sw, sh, &vmax);
        const float reach = (float)ns * step;
        const float d = 0x1p-23f * ((float)(sw > sh ? sw : sh) + reach) + 2e-6f * reach;
        const float tol = 2.0f * g * d + 0x1p-21f * vmax;
        ok = ca_cmp_f(&a, &b, sw, h, tol, 0, "line_mean") && ca_buf_guard_ok(&b, "line_mean");
        if (!ok) printf("    (sw=%d sh=%d y0=%d ns=%d step=%g)\n", sw, sh, y0, ns, step);
        ca_buf_free(&src); ca_buf_free(&th); ca_buf_free(&a); ca_buf_free(&b);
    }
    if (ok) {   /* wider than 32768 px: (sw - 1) - 1e-3 rounds to sw - 1 in float, so a clamped
                 * point sits on the last column; its right neighbour (NaN in the row padding
                 * here) must never be read, as C clamps it */
        const int sw = 32769 + (int)(ca_rand() % 8000), sh = 2 + (int)(ca_rand() % 2), h = sh;
        CaBuf src, th, a, b;
        ca_buf_alloc(&src, (size_t)sw * 4, sh, 0);
        ca_fill_f(&src, sw, -1, 1, NULL, 0);
        for (int y = 0; y < sh; y++)
            for (ptrdiff_t x = sw; x < src.stride / 4; x++) ca_rowf(&src, y)[x] = NAN;
        ca_buf_alloc(&th, (size_t)sw * 4, h, 0);
        ca_fill_f(&th, sw, -0.1f, 0.1f, NULL, 0);
        ca_buf_alloc(&a, (size_t)sw * 4, h, 0);
        ca_buf_alloc(&b, (size_t)sw * 4, h, a.stride);
        c->line_mean((float *)a.data, a.stride, (float *)src.data, src.stride, sw, sh,
                     (float *)th.data, th.stride, 0, h, 2.0f, 2);
        n->line_mean((float *)b.data, b.stride, (float *)src.data, src.stride, sw, sh,
                     (float *)th.data, th.stride, 0, h, 2.0f, 2);
        float vmax;
        const float g = max_step(&src, sw, sh, &vmax);
        const float d = 0x1p-23f * ((float)sw + 4.0f) + 2e-6f * 4.0f;
        ok = ca_cmp_f(&a, &b, sw, h, 2.0f * g * d + 0x1p-21f * vmax, 0, "line_mean (wide)") &&
             ca_buf_guard_ok(&b, "line_mean (wide)");
        if (!ok) printf("    (sw=%d sh=%d)\n", sw, sh);
        ca_buf_free(&src); ca_buf_free(&th); ca_buf_free(&a); ca_buf_free(&b);
    }
    ca_report("line_mean", lv, ok);
}

static void test_up2(const SdSkinmapDSP *c, const SdSkinmapDSP *n, const CaLevel *lv)
{
    /* bilinear upsampling: two lerps a + w (b - a) of values in [-1, 1]; FMA or another lerp form
     * moves each by a few 2^-24: 1e-6 absolute */
    int ws[64], nw = ca_widths(lv, ws), ok = 1;
    for (int i = 0; i < nw && ok; i++) {
        const int dw = ws[i], sw = (dw + 1) / 2 + (int)(ca_rand() % 2), sh = 1 + (int)(ca_rand() % 6);
        const int y0 = (int)(ca_rand() % (unsigned)(2 * sh)), h = 1 + (int)(ca_rand() % 4);
        CaBuf src, a, b;
        ca_buf_alloc(&src, (size_t)sw * 4, sh, 0);
        ca_fill_f(&src, sw, -1, 1, NULL, 0);
        ca_buf_alloc(&a, (size_t)dw * 4, h, 0);
        ca_buf_alloc(&b, (size_t)dw * 4, h, a.stride);
        c->up2((float *)a.data, a.stride, dw, y0, h, (float *)src.data, src.stride, sw, sh);
        n->up2((float *)b.data, b.stride, dw, y0, h, (float *)src.data, src.stride, sw, sh);
        ok = ca_cmp_f(&a, &b, dw, h, 1e-6f, 0, "up2") && ca_buf_guard_ok(&b, "up2");
        ca_buf_free(&src); ca_buf_free(&a); ca_buf_free(&b);
    }
    ca_report("up2", lv, ok);
}

void checkasm_skinmap(const CaLevel *lv)
{
    SdSkinmapDSP c, n, p;
    sd_skinmap_dsp_init(&c, 0);
    sd_skinmap_dsp_init(&n, lv->flags);
    sd_skinmap_dsp_init(&p, lv->prev_flags);
    if (n.ridge_max != p.ridge_max) test_ridge_max(&c, &n, lv);
    if (n.ridge_keep != p.ridge_keep) test_ridge_keep(&c, &n, lv);
    if (n.lincomb != p.lincomb) test_lincomb(&c, &n, lv);
    if (n.ita != p.ita) test_ita(&c, &n, lv);
    if (n.line_mean != p.line_mean) test_line_mean(&c, &n, lv);
    if (n.up2 != p.up2) test_up2(&c, &n, lv);
}

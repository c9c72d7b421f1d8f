/* checkasm: bicubic warp (kernels/warpcubic.h).
 * Tolerances: the source point, the inside test, the mask and the fill are computed with the C
 * operations in the C order (scalar float, no contraction under -std=c11): mask bit-exact, fill
 * exact. The interior blend sums the 4x4 taps column-first with FMA where C sums row-first with
 * separate multiply-adds; the Keys weights give sum |wx_i wy_j| <= 1.3, and each order rounds at
 * most ~6 times per term, so |new - ref| <= 2 * 6 * 2^-24 * 1.3 * max|src| < 1e-6 max|src|:
 * allowed 2e-6 * max|src| absolute (src here within [-4, 4], so 8e-6). The clamp to [lo, hi] only
 * narrows the gap. Edge pixels take a clamped scalar path with the C order: within the same bound.
 * A SIMD level that blends several pixels at once must also give its single-pixel path's values bit
 * for bit (the canonical images, and so every table, are made by this kernel): an affine map and
 * the same map times 2 with m[8] = 2 (a projective map: the single-pixel path) give the same
 * source points exactly, so their outputs must be identical. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kernels/warpcubic.h"
#include "tests/checkasm/checkasm.h"

static const float ext[] = { 0.0f, 1.0f, -1.0f, 4.0f, -4.0f, 0.5f };
#define SRC_MAX 4.0f

static void rand_params(SdWarpParams *p, int sw, int sh, int proj)
{
    const double ang = ca_rand() % 2 ? ca_randf(-0.06f, 0.06f) : ca_randf(-3.2f, 3.2f);
    const double sc = ca_rand() % 2 ? ca_randf(0.9f, 1.1f) : ca_randf(0.3f, 2.5f);
    p->m[0] = sc * cos(ang); p->m[1] = -sc * sin(ang);
    p->m[2] = ca_randf(-8, 8) + 0.5 * sw * ca_randf(0, 1);
    p->m[3] = sc * sin(ang); p->m[4] = sc * cos(ang);
    p->m[5] = ca_randf(-8, 8) + 0.5 * sh * ca_randf(0, 1);
    p->m[6] = proj ? ca_randf(-3e-3f, 3e-3f) : 0; p->m[7] = proj ? ca_randf(-3e-3f, 3e-3f) : 0;
    p->m[8] = proj && ca_rand() % 4 == 0 ? ca_randf(0.5f, 2.0f) : 1;
    switch (ca_rand() % 8) {
    case 0:     /* whole-pixel shift: sample points land exactly on the source edges */
        p->m[0] = p->m[4] = 1; p->m[1] = p->m[3] = 0;
        p->m[2] = (double)(int)(ca_rand() % 7) - 3; p->m[5] = (double)(int)(ca_rand() % 7) - 3;
        break;
    case 1:     /* far outside: every pixel is fill */
        p->m[2] = ca_rand() % 2 ? 1e4 : -1e6;
        break;
    case 2:     /* projective with D crossing 0 inside the tile (inf / NaN points must be fill) */
        if (proj) { p->m[6] = -0.05; p->m[8] = 1; }
        break;
    default:
        break;
    }
    p->x0 = (int)(ca_rand() % 9) - 4;
    p->y0 = (int)(ca_rand() % 9) - 4;
    p->fill = ca_rand() % 2 ? 0.0f : -7.0f;
}

/* Bytes of the gap rows between planes must still be the sentinel (same as the leading guard). */
static int gaps_ok(const CaBuf *b, int h, int gap, int np, const char *what)
{
    for (int k = 0; k + 1 < np; k++)
        for (int g = 0; g < gap; g++) {
            const uint8_t *r = b->data + ((ptrdiff_t)k * (h + gap) + h + g) * b->stride;
            for (ptrdiff_t i = 0; i < b->stride; i++)
                if (r[i] != b->base[0]) {
                    printf("    %s: write between planes %d and %d\n", what, k, k + 1);
                    return 0;
                }
        }
    return 1;
}

/* View plane k of a planar buffer as its own CaBuf for the comparison helpers. */
static CaBuf plane_view(const CaBuf *b, int k, int h, int gap)
{
    CaBuf v = *b;
    v.data = b->data + (ptrdiff_t)k * (h + gap) * b->stride;
    v.h = h;
    return v;
}

static int run_one(sd_warp_cubic_fn ref, sd_warp_cubic_fn fn, int w, int h, int sw, int sh, int np,
                   int proj, const char *name)
{
    SdWarpParams p;
    rand_params(&p, sw, sh, proj);
    const int sgap = (int)(ca_rand() % 2), dgap = (int)(ca_rand() % 2);
    CaBuf src, a, b, ma, mb;
    ca_buf_alloc(&src, (size_t)sw * 4, np * (sh + sgap), 0);
    ca_fill_f(&src, sw, -1, 1, ext, 6);
    if (ca_rand() % 4 == 0)     /* a steep step inside the source: large overshoots */
        for (int y = 0; y < src.h; y++)
            for (int x = 0; x < sw; x++) ca_rowf(&src, y)[x] = (x + y) % 3 ? SRC_MAX : -SRC_MAX;
    ca_buf_alloc(&a, (size_t)w * 4, np * (h + dgap) - dgap, 0);
    ca_buf_alloc(&b, (size_t)w * 4, a.h, a.stride);
    const int with_mask = ca_rand() % 4 != 0;
    ca_buf_alloc(&ma, (size_t)w, h, (ptrdiff_t)w + 1 + 2 * (ca_rand() % 4));
    ca_buf_alloc(&mb, (size_t)w, h, ma.stride);
    float lo = -FLT_MAX, hi = FLT_MAX;
    if (ca_rand() % 2) { lo = ca_randf(-1.0f, 0.0f); hi = ca_randf(0.0f, 1.0f); }
    const ptrdiff_t sp = (ptrdiff_t)(sh + sgap) * src.stride, dp = (ptrdiff_t)(h + dgap) * a.stride;
    ref((float *)a.data, a.stride, dp, with_mask ? ma.data : NULL, ma.stride, (float *)src.data,
        src.stride, sp, np, sw, sh, w, h, &p, lo, hi);
    fn((float *)b.data, b.stride, dp, with_mask ? mb.data : NULL, mb.stride, (float *)src.data,
       src.stride, sp, np, sw, sh, w, h, &p, lo, hi);
    int ok = ca_buf_guard_ok(&b, name) && gaps_ok(&b, h, dgap, np, name);
    for (int k = 0; k < np && ok; k++) {
        const CaBuf va = plane_view(&a, k, h, dgap), vb = plane_view(&b, k, h, dgap);
        ok = ca_cmp_f(&va, &vb, w, h, 2e-6f * SRC_MAX, 0, name);
    }
    if (ok && with_mask) ok = ca_cmp_bytes(&ma, &mb, (size_t)w, h, name) && ca_buf_guard_ok(&mb, name);
    if (!ok)
        printf("    (np=%d sw=%d sh=%d x0=%d y0=%d m=[%g %g %g; %g %g %g; %g %g %g] lo=%g hi=%g)\n",
               np, sw, sh, p.x0, p.y0, p.m[0], p.m[1], p.m[2], p.m[3], p.m[4], p.m[5], p.m[6],
               p.m[7], p.m[8], lo, hi);
    ca_buf_free(&src); ca_buf_free(&a); ca_buf_free(&b); ca_buf_free(&ma); ca_buf_free(&mb);
    return ok;
}

/* fn under an affine map (its vector path) against fn under the same map scaled by 2 with
 * m[8] = 2 (projective: its single-pixel path): the source points are the same floats, so every
 * output and mask byte must be identical. */
static int run_paths(sd_warp_cubic_fn fn, int w, int h, int sw, int sh, int np, const char *name)
{
    SdWarpParams p, q;
    rand_params(&p, sw, sh, 0);
    q = p;
    for (int i = 0; i < 6; i++) q.m[i] = 2.0 * p.m[i];
    q.m[8] = 2.0;
    CaBuf src, a, b, ma, mb;
    ca_buf_alloc(&src, (size_t)sw * 4, np * sh, 0);
    ca_fill_f(&src, sw, -1, 1, ext, 6);
    ca_buf_alloc(&a, (size_t)w * 4, np * h, 0);
    ca_buf_alloc(&b, (size_t)w * 4, a.h, a.stride);
    ca_buf_alloc(&ma, (size_t)w, h, 0);
    ca_buf_alloc(&mb, (size_t)w, h, ma.stride);
    const float lo = ca_rand() % 2 ? 0.0f : -FLT_MAX, hi = lo == 0.0f ? 1.0f : FLT_MAX;
    const ptrdiff_t sp = (ptrdiff_t)sh * src.stride, dp = (ptrdiff_t)h * a.stride;
    fn((float *)a.data, a.stride, dp, ma.data, ma.stride, (float *)src.data, src.stride, sp, np, sw, sh, w, h, &p, lo, hi);
    fn((float *)b.data, b.stride, dp, mb.data, mb.stride, (float *)src.data, src.stride, sp, np, sw, sh, w, h, &q, lo, hi);
    int ok = ca_buf_guard_ok(&a, name) && ca_buf_guard_ok(&b, name) && ca_cmp_bytes(&ma, &mb, (size_t)w, h, name);
    for (int k = 0; k < np && ok; k++) {
        const CaBuf va = plane_view(&a, k, h, 0), vb = plane_view(&b, k, h, 0);
        ok = ca_cmp_f(&vb, &va, w, h, 0.0f, 0.0f, name);
    }
    if (!ok)
        printf("    (np=%d sw=%d sh=%d x0=%d y0=%d m=[%g %g %g; %g %g %g])\n", np, sw, sh, p.x0, p.y0, p.m[0],
               p.m[1], p.m[2], p.m[3], p.m[4], p.m[5]);
    ca_buf_free(&src); ca_buf_free(&a); ca_buf_free(&b); ca_buf_free(&ma); ca_buf_free(&mb);
    return ok;
}

static void test_cubic(sd_warp_cubic_fn ref, sd_warp_cubic_fn fn, const CaLevel *lv)
{
    int ws[64], nw = ca_widths(lv, ws), ok = 1;
    for (int proj = 0; proj < 2 && ok; proj++)
        for (int i = 0; i < nw && ok; i++) {
            const int w = ws[i], h = 1 + (int)(ca_rand() % 4), np = 1 + (int)(ca_rand() % 4);
            /* tiny sources (every tap clamped) now and then, else large enough for interior blocks */
            const int sw = ca_rand() % 8 == 0 ? 1 + (int)(ca_rand() % 4) : 1 + (int)(ca_rand() % (unsigned)(w + 12));
            const int sh = ca_rand() % 8 == 0 ? 1 + (int)(ca_rand() % 4) : 4 + (int)(ca_rand() % 20);
            ok = run_one(ref, fn, w, h, sw, sh, np, proj, proj ? "warp_cubic (proj)" : "warp_cubic");
            if (ok && !proj)
                ok = run_paths(fn, w, h, sw, sh, np, "warp_cubic (vector = single-pixel path)");
        }
    ca_report("warp_cubic", lv, ok);
}

void checkasm_warpcubic(const CaLevel *lv)
{
    SdWarpCubicDSP c, n, p;
    sd_warpcubic_dsp_init(&c, 0);
    sd_warpcubic_dsp_init(&n, lv->flags);
    sd_warpcubic_dsp_init(&p, lv->prev_flags);
    if (n.cubic != p.cubic) test_cubic(c.cubic, n.cubic, lv);
}

/* Image-level kernel ops on known answers: filters on polynomials, warps on ramps, histogram,
 * GLCM and ECC sums on tiny hand-computable inputs. Run at the best CPU level (checkasm proves
 * the levels agree). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/ops.h"
#include "kernels/cpu.h"
#include "tests/lib/test.h"

static SdCtx ctx;
static void setup(void) { sd_ctx_init(&ctx); }

#define PW 61
#define PH 47

static float *plane(void) { return calloc((size_t)PW * PH, sizeof(float)); }

static void test_gauss_constant_and_polynomials(void)
{
    setup();
    float *a = plane(), *b = plane(), *ix = plane(), *iy = plane(), *ixx = plane(), *ixy = plane(),
          *iyy = plane();
    const ptrdiff_t s = PW * sizeof(float);
    for (int i = 0; i < PW * PH; i++) a[i] = 0.25f;
    CHECK_EQ_INT(sd_op_gauss(&ctx, a, s, b, s, PW, PH, 2.0f), 0);
    for (int i = 0; i < PW * PH; i++) CHECK_NEAR(b[i], 0.25f, 1e-6);
    /* I = 0.5 x^2 + 0.25 y^2 + 0.1 xy + 0.3 x: interior derivatives are exact for our kernels. */
    for (int y = 0; y < PH; y++)
        for (int x = 0; x < PW; x++)
            a[y * PW + x] = 1e-3f * (0.5f * x * x + 0.25f * y * y + 0.1f * x * y + 0.3f * x);
    const SdDerivOut o = { ix, iy, ixx, ixy, iyy };
    CHECK_EQ_INT(sd_op_gauss_deriv(&ctx, a, s, &o, s, PW, PH, 1.5f), 0);
    const int x = 30, y = 20, i = y * PW + x;
    CHECK_NEAR(ixx[i], 1e-3, 2e-6);
    CHECK_NEAR(iyy[i], 0.5e-3, 2e-6);
    CHECK_NEAR(ixy[i], 0.1e-3, 2e-6);
    CHECK_NEAR(ix[i], 1e-3 * (x + 0.1 * y + 0.3), 2e-5);
    CHECK_NEAR(iy[i], 1e-3 * (0.5 * y + 0.1 * x), 2e-5);
    free(a); free(b); free(ix); free(iy); free(ixx); free(ixy); free(iyy);
}

/* sd_op_gauss_rows on bands of rows (multiples of 4, the last one short) gives the full call's
 * rows bit for bit, at every CPU level; bad row ranges are refused. */
static void test_gauss_rows(void)
{
    setup();
    float *a = plane(), *full = plane(), *part = plane();
    const ptrdiff_t s = PW * sizeof(float);
    uint32_t r = 12345;
    for (int i = 0; i < PW * PH; i++) {
        r = r * 1664525u + 1013904223u;
        a[i] = (float)(r >> 8) / 16777216.0f;
    }
    static const unsigned levels[3] = { 0, SD_CPU_AVX2, SD_CPU_AVX2 | SD_CPU_AVX512 };
    const unsigned have = sd_cpu_detect();
    for (int l = 0; l < 3; l++) {
        if ((have & levels[l]) != levels[l])
            continue;
        ctx.cpu_flags = levels[l];
        for (int k = 0; k < 2; k++) {
            const float sigma = k ? 3.7f : 1.2f;
            const int band = k ? 8 : 12;
            memset(part, 0, (size_t)PW * PH * sizeof(float));
            CHECK_EQ_INT(sd_op_gauss(&ctx, a, s, full, s, PW, PH, sigma), 0);
            for (int y0 = 0; y0 < PH; y0 += band)
                CHECK_EQ_INT(sd_op_gauss_rows(&ctx, a, s, part + (size_t)y0 * PW, s, PW, PH, y0,
                                              PH - y0 < band ? PH - y0 : band, sigma), 0);
            CHECK(!memcmp(full, part, (size_t)PW * PH * sizeof(float)));
        }
    }
    CHECK(sd_op_gauss_rows(&ctx, a, s, part, s, PW, PH, 40, 8, 1.2f) < 0);
    CHECK(sd_op_gauss_rows(&ctx, a, s, part, s, PW, PH, -1, 4, 1.2f) < 0);
    CHECK(sd_op_gauss_rows(&ctx, a, s, part, s, PW, PH, 0, 0, 1.2f) < 0);
    free(a); free(full); free(part);
}

static void test_box_meanvar(void)
{
    setup();
    float *a = plane(), *m = plane(), *v = plane();
    const ptrdiff_t s = PW * sizeof(float);
    for (int y = 0; y < PH; y++)
        for (int x = 0; x < PW; x++) a[y * PW + x] = (float)((x + y) & 1);   /* checkerboard */
    CHECK_EQ_INT(sd_op_box_meanvar(&ctx, a, s, m, v, s, PW, PH, 2), 0);
    const int i = 20 * PW + 20;   /* 5x5 window around an even pixel: 12 ones of 25 */
    CHECK_NEAR(m[i], 12.0 / 25, 1e-6);
    CHECK_NEAR(v[i], 12.0 / 25 - (12.0 / 25) * (12.0 / 25), 1e-6);
    CHECK_EQ_INT(sd_op_box_meanvar(&ctx, a, s, m, NULL, s, PW, PH, 0), 0);
    CHECK_NEAR(m[i], a[i], 0);
    free(a); free(m); free(v);
}

static void test_hessian_valley(void)
{
    setup();
    float *xx = plane(), *xy = plane(), *yy = plane(), *l1 = plane(), *l2 = plane(), *th = plane(),
          *rd = plane();
    const ptrdiff_t s = PW * sizeof(float);
    for (int i = 0; i < PW * PH; i++) { xx[i] = 0.01f; xy[i] = 0; yy[i] = 1.0f; }  /* horizontal valley */
    CHECK_EQ_INT(sd_op_hessian_eig(&ctx, xx, xy, yy, s, l1, l2, th, s, PW, PH, 2.0f), 0);
    CHECK_NEAR(l1[5], 0.04, 1e-6);
    CHECK_NEAR(l2[5], 4.0, 1e-5);
    CHECK_NEAR(th[5], 0.0, 1e-4);
    CHECK_EQ_INT(sd_op_ridge(&ctx, xx, xy, yy, s, rd, s, PW, PH, 2.0f, 0.5f, 1.0f), 0);
    CHECK(rd[5] > 0.9f);
    for (int i = 0; i < PW * PH; i++) yy[i] = -1.0f;      /* bright ridge: no dark valley */
    CHECK_EQ_INT(sd_op_ridge(&ctx, xx, xy, yy, s, rd, s, PW, PH, 2.0f, 0.5f, 1.0f), 0);
    CHECK_NEAR(rd[5], 0, 0);
    free(xx); free(xy); free(yy); free(l1); free(l2); free(th); free(rd);
}

static void test_warp_shift(void)
{
    setup();
    float *a = plane(), *b = plane();
    uint8_t *m = calloc(PW * PH, 1);
    const ptrdiff_t s = PW * sizeof(float);
    for (int y = 0; y < PH; y++)
        for (int x = 0; x < PW; x++) a[y * PW + x] = 0.01f * x + 0.02f * y;
    /* T maps source -> destination: dest = src + (2.5, -1.25). */
    const SdTransform t = { { 1, 0, 2.5, 0, 1, -1.25, 0, 0, 1 } };
    CHECK_EQ_INT(sd_op_warp(&ctx, a, s, PW, PH, &t, b, s, PW, PH, m, PW, -7.0f), 0);
    CHECK_NEAR(b[10 * PW + 10], 0.01 * 7.5 + 0.02 * 11.25, 1e-5);
    CHECK_EQ_INT(m[10 * PW + 10], 255);
    CHECK_EQ_INT(m[10 * PW + 1], 0);
    CHECK_NEAR(b[10 * PW + 1], -7.0, 0);
    /* A tiny projective term goes through the homography kernel; same point to ~1e-4. */
    SdTransform p = t;
    p.m[6] = 1e-9;
    CHECK_EQ_INT(sd_op_warp(&ctx, a, s, PW, PH, &p, b, s, PW, PH, NULL, 0, 0.0f), 0);
    CHECK_NEAR(b[10 * PW + 10], 0.01 * 7.5 + 0.02 * 11.25, 1e-4);
    float d[31 * 24];
    CHECK_EQ_INT(sd_op_down2(&ctx, a, s, PW, PH, d, 31 * sizeof(float)), 0);
    CHECK_NEAR(d[3 * 31 + 4], 0.01 * 8.5 + 0.02 * 6.5, 1e-6);
    CHECK_NEAR(d[3 * 31 + 30], 0.01 * 60 + 0.02 * 6.5, 1e-6);   /* odd width: last column alone */
    free(a); free(b); free(m);
}

static void test_colour(void)
{
    setup();
    float r[4] = { 1, 0, 0.5f, 0.0f }, g[4] = { 1, 0, 0.5f, 1 }, b[4] = { 1, 0, 0.5f, 0 };
    float L[4], A[4], B[4];
    const float *src[3] = { r, g, b };
    float *dst[3] = { L, A, B };
    CHECK_EQ_INT(sd_op_rgb_to_lab(&ctx, src, 16, dst, 16, 4, 1), 0);
    CHECK_NEAR(L[0], 100.0, 2e-3); CHECK_NEAR(A[0], 0.0, 2e-3); CHECK_NEAR(B[0], 0.0, 2e-3);
    CHECK_NEAR(L[1], 0.0, 1e-4);
    CHECK_NEAR(L[2], 76.0693, 2e-3);                     /* Y = 0.5 */
    CHECK_NEAR(L[3], 87.7347, 2e-3); CHECK_NEAR(A[3], -86.1827, 5e-3); CHECK_NEAR(B[3], 83.1793, 5e-3);
    uint8_t px[6] = { 0, 128, 255, 10, 20, 30 };
    float o0[2], o1[2], o2[2];
    float *o[3] = { o0, o1, o2 };
    CHECK_EQ_INT(sd_op_srgb8_to_linear(&ctx, px, 6, o, 8, 2, 1), 0);
    CHECK_NEAR(o0[0], 0, 0); CHECK_NEAR(o1[0], 0.2158605, 1e-6); CHECK_NEAR(o2[0], 1, 1e-7);
    float f[3] = { 0.5f, 0.02f, 1.0f }, lf[3];
    CHECK_EQ_INT(sd_op_srgb_to_linear(&ctx, f, 12, lf, 12, 3, 1), 0);
    CHECK_NEAR(lf[0], 0.2140411, 2e-6); CHECK_NEAR(lf[1], 0.02 / 12.92, 2e-6); CHECK_NEAR(lf[2], 1, 2e-6);
    float od[3];
    CHECK_EQ_INT(sd_op_optical_density(&ctx, f, 12, od, 12, 3, 1, 1e-4f), 0);
    CHECK_NEAR(od[0], 0.30103, 1e-5); CHECK_NEAR(od[2], 0, 1e-6);
}

static void test_stats(void)
{
    setup();
    float v[8] = { 0.1f, 0.9f, 0.5f, 0.5f, -1, 2, 0.25f, NAN };
    uint8_t m[8] = { 1, 1, 1, 1, 0, 0, 1, 0 };
    SdMoments mo;
    CHECK_EQ_INT(sd_op_moments(&ctx, v, 32, m, 8, 8, 1, &mo), 0);
    CHECK_NEAR(mo.n, 5, 0); CHECK_NEAR(mo.sum, 2.25, 1e-6); CHECK_NEAR(mo.min, 0.1f, 0); CHECK_NEAR(mo.max, 0.9f, 0);
    uint32_t c[4];
    CHECK_EQ_INT(sd_op_histogram(&ctx, v, 32, NULL, 0, 8, 1, 0, 1, 4, c), 0);
    /* 0.1->0, 0.9->3, 0.5->2 (x2), -1->0, 2->3, 0.25->1, NaN->0 */
    CHECK_EQ_INT(c[0], 3); CHECK_EQ_INT(c[1], 1); CHECK_EQ_INT(c[2], 2); CHECK_EQ_INT(c[3], 2);
    /* GLCM on a 3x2 image of levels 0..2 */
    const uint8_t img[6] = { 0, 1, 2, 1, 1, 0 };
    uint32_t g[4 * 9];
    CHECK_EQ_INT(sd_op_glcm(&ctx, img, 3, NULL, 0, 3, 2, 1, 3, g), 0);
    /* 0 deg pairs: (0,1) (1,2) (1,1) (1,0) */
    CHECK_EQ_INT(g[0 * 3 + 1], 1); CHECK_EQ_INT(g[1 * 3 + 2], 1); CHECK_EQ_INT(g[1 * 3 + 1], 1);
    CHECK_EQ_INT(g[1 * 3 + 0], 1);
    /* 90 deg: p in row 1, partner above: (1,0) (1,1) (0,2) */
    CHECK_EQ_INT(g[18 + 1 * 3 + 0], 1); CHECK_EQ_INT(g[18 + 1 * 3 + 1], 1); CHECK_EQ_INT(g[18 + 0 * 3 + 2], 1);
    /* 45 deg: (x,1) -> (x+1,0): (1,1) (1,2) */
    CHECK_EQ_INT(g[9 + 1 * 3 + 1], 1); CHECK_EQ_INT(g[9 + 1 * 3 + 2], 1);
    /* 135 deg: (x,1) -> (x-1,0): (1,0) (0,1) */
    CHECK_EQ_INT(g[27 + 1 * 3 + 0], 1); CHECK_EQ_INT(g[27 + 0 * 3 + 1], 1);
    const uint8_t bad[2] = { 0, 3 };
    CHECK(sd_op_glcm(&ctx, bad, 2, NULL, 0, 2, 1, 1, 3, g) == SD_EINVAL);
}

static void test_ecc_system(void)
{
    setup();
    enum { w = 13, h = 9 };
    float gx[w * h], gy[w * h], p[w * h], t[w * h];
    uint8_t m[w * h];
    unsigned s = 7;
    for (int i = 0; i < w * h; i++) {
        s = s * 1664525u + 1013904223u; gx[i] = (float)(s >> 8) / 16777216.0f - 0.5f;
        s = s * 1664525u + 1013904223u; gy[i] = (float)(s >> 8) / 16777216.0f - 0.5f;
        s = s * 1664525u + 1013904223u; p[i] = (float)(s >> 8) / 16777216.0f;
        s = s * 1664525u + 1013904223u; t[i] = (float)(s >> 8) / 16777216.0f;
        m[i] = (s >> 5) % 5 != 0;
    }
    SdEccAcc a;
    CHECK_EQ_INT(sd_op_ecc_accumulate(&ctx, gx, gy, p, t, w * 4, m, w, w, h, -6.0f, -4.0f, &a), 0);
    double Hm[36], jw[6], jt[6], j1[6], Hd[36] = { 0 }, jwd[6] = { 0 }, jtd[6] = { 0 };
    sd_ecc_affine_system(&a, Hm, jw, jt, j1);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const int i = y * w + x;
            if (!m[i]) continue;
            const double X = x - 6.0, Y = y - 4.0;
            const double J[6] = { X * gx[i], X * gy[i], Y * gx[i], Y * gy[i], gx[i], gy[i] };
            for (int r = 0; r < 6; r++) {
                for (int c = 0; c < 6; c++) Hd[r * 6 + c] += J[r] * J[c];
                jwd[r] += J[r] * p[i];
                jtd[r] += J[r] * t[i];
            }
        }
    for (int k = 0; k < 36; k++) CHECK_NEAR(Hm[k], Hd[k], 1e-3 * (1 + fabs(Hd[k])));
    for (int k = 0; k < 6; k++) {
        CHECK_NEAR(jw[k], jwd[k], 1e-3 * (1 + fabs(jwd[k])));
        CHECK_NEAR(jt[k], jtd[k], 1e-3 * (1 + fabs(jtd[k])));
    }
}

static void test_bad_args(void)
{
    setup();
    float a[4];
    CHECK(sd_op_gauss(&ctx, a, 16, a, 16, 4, 1, 100.0f) == SD_EINVAL);
    CHECK(sd_op_gauss(&ctx, a, 8, a, 16, 4, 1, 1.0f) == SD_EINVAL);
    const SdTransform z = { { 0 } };
    CHECK(sd_op_warp(&ctx, a, 16, 4, 1, &z, a, 16, 4, 1, NULL, 0, 0) == SD_EINVAL);
    CHECK(strlen(ctx.errmsg) > 0);
}

static const SdTestCase cases[] = {
    { "gauss_constant_and_polynomials", test_gauss_constant_and_polynomials },
    { "gauss_rows", test_gauss_rows },
    { "box_meanvar", test_box_meanvar },
    { "hessian_valley", test_hessian_valley },
    { "warp_shift", test_warp_shift },
    { "colour", test_colour },
    { "stats", test_stats },
    { "ecc_system", test_ecc_system },
    { "bad_args", test_bad_args },
};
SD_TEST_MAIN(cases)

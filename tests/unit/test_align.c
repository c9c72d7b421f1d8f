/* Alignment accuracy: canonical similarity (robust to one bad landmark), ECC on a skin-like texture
 * warped by known affines with gain, white-balance shift and JPEG q85 (< 0.1 px RMS), the coarse
 * log-polar start for `--roi whole`, every motion model, and the astronaut pair end to end
 * (detect, frame, register) against its known affine (< 0.5 px RMS over the face). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/test.h"
#include "tests/lib/fixtures.h"
#include "skindelta/align.h"
#include "skindelta/face.h"
#include "src/core/core.h"
#include "kernels/ops.h"
#include "kernels/warpcubic.h"
#include "kernels/eccproj.h"
#include "kernels/cpu.h"

static uint64_t rng_state;
static double urand(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

/* Skin-like texture: 1/f-ish noise (three octaves), pores (small dark dots), two soft grooves;
 * a warm skin tone per channel. */
static void make_skin(SdCtx *ctx, int w, int h, uint64_t seed, SdImage *img)
{
    rng_state = seed;
    SdImage n = {0}, t = {0}, acc = {0};
    CHECK(!sd_image_create(&n, w, h, 1, SD_FMT_F32));
    CHECK(!sd_image_create(&t, w, h, 1, SD_FMT_F32));
    CHECK(!sd_image_create(&acc, w, h, 1, SD_FMT_F32));
    const float sig[3] = { 1.2f, 3.0f, 8.0f }, amp[3] = { 0.6f, 1.0f, 1.6f };
    for (int o = 0; o < 3; o++) {
        for (int y = 0; y < h; y++) {
            float *r = sd_image_rowf(&n, 0, y);
            for (int x = 0; x < w; x++) r[x] = (float)(urand() - 0.5);
        }
        CHECK(!sd_op_gauss(ctx, sd_image_rowf(&n, 0, 0), n.stride, sd_image_rowf(&t, 0, 0), t.stride, w, h, sig[o]));
        for (int y = 0; y < h; y++) {
            float *a = sd_image_rowf(&acc, 0, y);
            const float *s = sd_image_rowf(&t, 0, y);
            for (int x = 0; x < w; x++) a[x] += amp[o] * s[x] * sig[o];
        }
    }
    for (int k = 0; k < w * h / 300; k++) {   /* pores */
        const double cx = urand() * w, cy = urand() * h, r = 1.0 + urand() * 1.5;
        for (int y = (int)(cy - 3 * r); y <= (int)(cy + 3 * r); y++)
            for (int x = (int)(cx - 3 * r); x <= (int)(cx + 3 * r); x++) {
                if (x < 0 || y < 0 || x >= w || y >= h) continue;
                const double d2 = ((x - cx) * (x - cx) + (y - cy) * (y - cy)) / (r * r);
                sd_image_rowf(&acc, 0, y)[x] -= (float)(0.25 * exp(-d2));
            }
    }
    for (int y = 0; y < h; y++) {   /* two grooves */
        float *a = sd_image_rowf(&acc, 0, y);
        for (int x = 0; x < w; x++) {
            const double d1 = y - (0.35 * h + 0.1 * x + 10 * sin(x * 0.02));
            const double d2 = x - (0.6 * w - 0.2 * y);
            a[x] -= (float)(0.3 * exp(-d1 * d1 / 8.0) + 0.2 * exp(-d2 * d2 / 12.0));
        }
    }
    CHECK(!sd_image_create(img, w, h, 3, SD_FMT_F32));
    const float tone[3] = { 0.78f, 0.58f, 0.48f };
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < h; y++) {
            const float *a = sd_image_rowf(&acc, 0, y);
            float *o = sd_image_rowf(img, c, y);
            for (int x = 0; x < w; x++) {
                const float v = tone[c] * (1.0f + 0.35f * a[x]);
                o[x] = v < 0 ? 0 : v > 1 ? 1 : v;
            }
        }
    sd_image_free(&n);
    sd_image_free(&t);
    sd_image_free(&acc);
}

/* A about the centre (cx, cy): rotation deg, scale s, then shift (tx, ty). Maps base -> moved. */
static void make_affine(double deg, double s, double tx, double ty, double cx, double cy, SdTransform *A)
{
    const double a = deg * 3.14159265358979323846 / 180, c = s * cos(a), sn = s * sin(a);
    sd_transform_identity(A);
    A->m[0] = c; A->m[1] = -sn; A->m[2] = cx - c * cx + sn * cy + tx;
    A->m[3] = sn; A->m[4] = c;  A->m[5] = cy - sn * cx - c * cy + ty;
}

/* RMS over a grid in the base frame (inside mask when given) of |est(x) - truth(x)|, both base ->
 * moved maps. */
static double rms_maps(const SdTransform *est, const SdTransform *truth, int x0, int y0, int x1, int y1)
{
    double s = 0;
    long n = 0;
    for (int y = y0; y <= y1; y += 4)
        for (int x = x0; x <= x1; x += 4) {
            double ax, ay, bx, by;
            sd_transform_apply(est, x, y, &ax, &ay);
            sd_transform_apply(truth, x, y, &bx, &by);
            s += (ax - bx) * (ax - bx) + (ay - by) * (ay - by);
            n++;
        }
    return sqrt(s / (n ? n : 1));
}

static void save_load_jpeg(SdCtx *ctx, const SdImage *img, const char *name, SdImage *out)
{
    const char *path = sd_test_path(sd_test_tmp_dir(), name);
    CHECK(!sd_image_save(ctx, img, path, 85));
    SdLoadOpts lo;
    sd_load_opts_default(&lo);
    CHECKF(!sd_image_load(ctx, path, &lo, out, NULL), "load %s: %s", path, ctx->errmsg);
}

/* One synthetic pair: base texture W x H cut from a larger field, moved = the same field through A,
 * then gain + white balance, both through JPEG q85. Returns the RMS error of the recovered map. */
static double synth_pair(SdCtx *ctx, double deg, double s, double tx, double ty, double gain,
                         const double wb[3], SdMotion motion, int use_opts_whole, double *ecc, int *iters)
{
    const int W = 320, H = 288, FW = 480, FH = 448;
    SdImage field = {0}, b = {0}, m = {0}, bj = {0}, mj = {0};
    make_skin(ctx, FW, FH, 1234 + (uint64_t)(deg * 100 + s * 1000 + tx), &field);
    const double ox = (FW - W) / 2.0, oy = (FH - H) / 2.0;
    SdTransform Tb, A, Ai, Tm;   /* field -> base: shift by -o; base -> moved: A */
    sd_transform_identity(&Tb);
    Tb.m[2] = -ox; Tb.m[5] = -oy;
    make_affine(deg, s, tx, ty, W / 2.0, H / 2.0, &A);
    sd_transform_mul(&A, &Tb, &Tm);
    CHECK(!sd_align_warp(ctx, &field, &Tb, W, H, &b, NULL));
    CHECK(!sd_align_warp(ctx, &field, &Tm, W, H, &m, NULL));
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < H; y++) {
            float *r = sd_image_rowf(&m, c, y);
            for (int x = 0; x < W; x++) {
                const float v = (float)(r[x] * gain * wb[c]);
                r[x] = v > 1 ? 1 : v;
            }
        }
    save_load_jpeg(ctx, &b, "base.jpg", &bj);
    save_load_jpeg(ctx, &m, "moved.jpg", &mj);
    SdAlignOpts o;
    sd_align_opts_default(&o);
    o.roi_whole = use_opts_whole;
    o.motion = motion;
    SdAligned ab = {0}, am = {0};
    SdAlignQC qc;
    double err = 1e9;
    CHECKF(!sd_align_canonical(ctx, &bj, NULL, &o, &ab), "%s", ctx->errmsg);
    CHECKF(!sd_align_followup(ctx, &ab, &mj, NULL, &o, &am, &qc), "%s", ctx->errmsg);
    if (am.img.data) {
        /* estimated base -> moved: (moved -> canonical)^-1 o (base -> canonical) */
        SdTransform Ti, est;
        CHECK(!sd_transform_invert(&am.T, &Ti));
        sd_transform_mul(&Ti, &ab.T, &est);
        err = rms_maps(&est, &A, 40, 40, W - 41, H - 41);
        *ecc = qc.ecc;
        *iters = qc.iterations;
        CHECKF(qc.overlap > 0.5, "overlap %.3f", qc.overlap);
    }
    (void)Ai;
    sd_aligned_free(&ab);
    sd_aligned_free(&am);
    sd_image_free(&field); sd_image_free(&b); sd_image_free(&m);
    sd_image_free(&bj); sd_image_free(&mj);
    return err;
}

static void test_texture_affine(void)
{
    SdCtx ctx;
    CHECK(!sd_ctx_init(&ctx));
    CHECK(!sd_init(&ctx, NULL));
    const struct { double deg, s, tx, ty, gain, wb[3]; } cases[] = {
        { 4.0, 1.06, 25, -18, 0.75, { 1.10, 1.0, 0.92 } },
        { -5.0, 0.93, -38, 12, 1.28, { 0.91, 1.0, 1.09 } },
        { 2.0, 1.08, 10, 39, 1.0, { 1.0, 1.05, 0.90 } },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        double ecc = 0;
        int it = 0;
        const double e = synth_pair(&ctx, cases[i].deg, cases[i].s, cases[i].tx, cases[i].ty,
                                    cases[i].gain, cases[i].wb, SD_MOTION_AFFINE, 1, &ecc, &it);
        printf("  texture case %zu: rot %.1f scale %.2f shift (%.0f,%.0f) gain %.2f: RMS %.4f px, ecc %.4f, %d it\n",
               i, cases[i].deg, cases[i].s, cases[i].tx, cases[i].ty, cases[i].gain, e, ecc, it);
        CHECKF(e < 0.1, "case %zu: RMS %.4f px >= 0.1", i, e);
        CHECKF(ecc > 0.8, "case %zu: ecc %.3f", i, ecc);
    }
}

static void test_motions(void)
{
    SdCtx ctx;
    CHECK(!sd_ctx_init(&ctx));
    CHECK(!sd_init(&ctx, NULL));
    const double wb[3] = { 1.0, 1.0, 1.0 };
    /* pure shift: translation; rotation + shift: euclidean; and a homography model on an affine */
    double ecc = 0;
    int it = 0;
    double e = synth_pair(&ctx, 0, 1.0, 17.3, -9.6, 1.1, wb, SD_MOTION_TRANSLATION, 1, &ecc, &it);
    printf("  translation: RMS %.4f px, ecc %.4f\n", e, ecc);
    CHECKF(e < 0.1, "translation RMS %.4f", e);
    e = synth_pair(&ctx, 3.0, 1.0, -12, 22, 0.9, wb, SD_MOTION_EUCLIDEAN, 1, &ecc, &it);
    printf("  euclidean: RMS %.4f px, ecc %.4f\n", e, ecc);
    CHECKF(e < 0.1, "euclidean RMS %.4f", e);
    e = synth_pair(&ctx, -2.0, 1.04, 8, 5, 1.0, wb, SD_MOTION_HOMOGRAPHY, 1, &ecc, &it);
    printf("  homography: RMS %.4f px, ecc %.4f\n", e, ecc);
    CHECKF(e < 0.15, "homography RMS %.4f", e);
}

static void test_coarse(void)
{
    SdCtx ctx;
    CHECK(!sd_ctx_init(&ctx));
    SdImage f = {0}, a = {0}, b = {0}, la = {0}, lb = {0};
    make_skin(&ctx, 640, 640, 77, &f);
    SdTransform Tb, A, Tm, W;
    sd_transform_identity(&Tb);
    Tb.m[2] = -96; Tb.m[5] = -96;
    make_affine(-4.5, 0.93, 30, -35, 224, 224, &A);
    sd_transform_mul(&A, &Tb, &Tm);
    CHECK(!sd_align_warp(&ctx, &f, &Tb, 448, 448, &a, NULL));
    CHECK(!sd_align_warp(&ctx, &f, &Tm, 448, 448, &b, NULL));
    CHECK(!sd_image_luma(&a, &la));
    CHECK(!sd_image_luma(&b, &lb));
    sd_transform_identity(&W);
    CHECK(!sd_align_coarse(&ctx, &la, &lb, &W));
    const double e = rms_maps(&W, &A, 60, 60, 388, 388);
    printf("  coarse log-polar + phase correlation: RMS %.3f px (W %.4f %.4f %.2f / %.4f %.4f %.2f)\n",
           e, W.m[0], W.m[1], W.m[2], W.m[3], W.m[4], W.m[5]);
    CHECKF(e < 3.0, "coarse estimate off by %.2f px RMS", e);
    sd_image_free(&f); sd_image_free(&a); sd_image_free(&b); sd_image_free(&la); sd_image_free(&lb);
}

/* ---- landmarks: fixture JSON ("landmarks68") and the similarity */


static void test_similarity(void)
{
    SdLandmarks lm, bad;
    CHECK(!sd_test_fixture_landmarks("astronaut_512x512_416_wasm.json", &lm));
    SdAlignOpts o;
    sd_align_opts_default(&o);
    SdTransform T, T2;
    int drop = 0;
    CHECK(!sd_align_similarity(&lm, &o, &T, &drop));
    CHECK_EQ_INT(drop, -1);
    /* eye centres land near the fixed points (800 +- 320, 800) */
    double lx = 0, ly = 0, rx = 0, ry = 0;
    for (int i = 36; i < 42; i++) {
        double x, y;
        sd_transform_apply(&T, lm.pt[i].x, lm.pt[i].y, &x, &y);
        lx += x / 6; ly += y / 6;
        sd_transform_apply(&T, lm.pt[i + 6].x, lm.pt[i + 6].y, &x, &y);
        rx += x / 6; ry += y / 6;
    }
    printf("  eye centres in the frame: (%.1f, %.1f) (%.1f, %.1f)\n", lx, ly, rx, ry);
    CHECK_NEAR(lx, 480, 40);
    CHECK_NEAR(rx, 1120, 40);
    CHECK_NEAR(ly, 800, 40);
    CHECK_NEAR(ry, 800, 40);
    /* one grossly wrong point (nose tip 30 moved by 1/3 IOD) is dropped; T barely changes */
    bad = lm;
    bad.pt[30].x += 14;
    bad.pt[30].y -= 9;
    CHECK(!sd_align_similarity(&bad, &o, &T2, &drop));
    CHECK_EQ_INT(drop, 30);
    const double dd = rms_maps(&T, &T2, 180, 90, 270, 170);
    printf("  nose tip moved by 1/3 IOD: dropped, frame moves %.2f canonical px RMS\n", dd);
    CHECKF(dd < 0.01 * o.iod_px, "frame moved %.2f px", dd);
    /* the landmark-only mapping between the two fixtures is near the truth (landmark noise only) */
    SdLandmarks lm2;
    CHECK(!sd_test_fixture_landmarks("astronaut_moved_512x512_416_wasm.json", &lm2));
    CHECK(!sd_align_similarity(&lm2, &o, &T2, NULL));
    SdTransform Ti, est, A;
    FILE *f = fopen(sd_test_path(sd_test_path(sd_test_data_dir(), "face"), "astronaut_moved_transform.txt"), "r");
    CHECK(f != NULL);
    if (!f) return;
    char line[512];
    CHECK(fgets(line, sizeof(line), f) != NULL);
    sd_transform_identity(&A);
    CHECK(fscanf(f, "%lf %lf %lf %lf %lf %lf", &A.m[0], &A.m[1], &A.m[2], &A.m[3], &A.m[4], &A.m[5]) == 6);
    fclose(f);
    CHECK(!sd_transform_invert(&T2, &Ti));
    sd_transform_mul(&Ti, &T, &est);
    const double e = rms_maps(&est, &A, 165, 78, 278, 185);
    printf("  landmarks only (fixtures): RMS %.3f px over the face\n", e);
    CHECK(e < 3.0);
}

static int read_truth(SdTransform *A)
{
    FILE *f = fopen(sd_test_path(sd_test_path(sd_test_data_dir(), "face"), "astronaut_moved_transform.txt"), "r");
    if (!f) return -1;
    char line[512];
    int ok = fgets(line, sizeof(line), f) != NULL;
    sd_transform_identity(A);
    ok = ok && fscanf(f, "%lf %lf %lf %lf %lf %lf", &A->m[0], &A->m[1], &A->m[2], &A->m[3], &A->m[4], &A->m[5]) == 6;
    fclose(f);
    return ok ? 0 : -1;
}

/* ctx initialised, and the astronaut pair (the portrait and its moved copy) loaded. */
static void load_astronaut_pair(SdCtx *ctx, SdImage *a, SdImage *b)
{
    CHECK(!sd_ctx_init(ctx));
    CHECK(!sd_init(ctx, NULL));
    SdLoadOpts lo;
    sd_load_opts_default(&lo);
    const char *dir = sd_test_path(sd_test_data_dir(), "face");
    CHECK(!sd_image_load(ctx, sd_test_path(dir, "astronaut.png"), &lo, a, NULL));
    CHECK(!sd_image_load(ctx, sd_test_path(dir, "astronaut_moved.png"), &lo, b, NULL));
}

/* Full chain on the astronaut pair: landmarks (face API, or the fixtures when asked), canonical
 * frame, ECC; the composed base -> moved map against the known affine over the face box. */
static void astronaut_chain(int use_face_api)
{
    SdCtx ctx;
    SdImage a = {0}, b = {0};
    load_astronaut_pair(&ctx, &a, &b);
    SdLandmarks la, lb;
    if (use_face_api) {
        int nf = 0;
        CHECKF(!sd_face_find(&ctx, &a, NULL, &la, &nf), "face: %s", ctx.errmsg);
        CHECKF(!sd_face_find(&ctx, &b, NULL, &lb, &nf), "face: %s", ctx.errmsg);
    } else {
        CHECK(!sd_test_fixture_landmarks("astronaut_512x512_416_wasm.json", &la));
        CHECK(!sd_test_fixture_landmarks("astronaut_moved_512x512_416_wasm.json", &lb));
    }
    SdTransform A;
    CHECK(!read_truth(&A));
    SdAlignOpts o;
    sd_align_opts_default(&o);
    SdAligned ab = {0}, am = {0};
    SdAlignQC qc;
    const double t0 = sd_now();
    CHECKF(!sd_align_canonical(&ctx, &a, &la, &o, &ab), "%s", ctx.errmsg);
    CHECKF(!sd_align_followup(&ctx, &ab, &b, &lb, &o, &am, &qc), "%s", ctx.errmsg);
    const double t1 = sd_now();
    if (am.img.data) {
        SdTransform Ti, est;
        CHECK(!sd_transform_invert(&am.T, &Ti));
        sd_transform_mul(&Ti, &ab.T, &est);
        const double e = rms_maps(&est, &A, (int)la.face.x, (int)la.face.y,
                                  (int)(la.face.x + la.face.w), (int)(la.face.y + la.face.h));
        printf("  astronaut chain (%s): RMS %.3f px over the face box, ecc %.4f, landmark RMS %.1f "
               "canonical px, overlap %.3f, %d iterations, %d levels, status %s, %.0f ms\n",
               use_face_api ? "face API" : "fixture landmarks", e, qc.ecc, qc.lm_rms_px, qc.overlap,
               qc.iterations, qc.levels, sd_align_status_name(qc.status), (t1 - t0) * 1e3);
        CHECKF(e < 0.5, "astronaut RMS %.3f px >= 0.5", e);
        CHECK(qc.status != SD_ALIGN_FAILED);
        CHECK(ab.img.w == 1600 && ab.img.h == 2000);
        CHECK_NEAR(ab.px_per_mm, 640.0 / 63.0, 1e-9);
    }
    sd_aligned_free(&ab);
    sd_aligned_free(&am);
    sd_image_free(&a);
    sd_image_free(&b);
}

static void test_astronaut_fixtures(void) { astronaut_chain(0); }
static void test_astronaut_face(void) { astronaut_chain(1); }


/* `--roi whole` on the astronaut pair (7 deg, x1.08, shifted): no landmarks, log-polar start. */
static void test_astronaut_whole(void)
{
    SdCtx ctx;
    SdImage a = {0}, b = {0};
    load_astronaut_pair(&ctx, &a, &b);
    SdTransform A;
    CHECK(!read_truth(&A));
    SdAlignOpts o;
    sd_align_opts_default(&o);
    o.roi_whole = 1;
    SdAligned ab = {0}, am = {0};
    SdAlignQC qc;
    CHECK(!sd_align_canonical(&ctx, &a, NULL, &o, &ab));
    CHECKF(!sd_align_followup(&ctx, &ab, &b, NULL, &o, &am, &qc), "%s", ctx.errmsg);
    if (am.img.data) {
        SdTransform Ti, est;
        CHECK(!sd_transform_invert(&am.T, &Ti));
        sd_transform_mul(&Ti, &ab.T, &est);
        const double e = rms_maps(&est, &A, 40, 40, 470, 470);
        printf("  astronaut, roi whole: RMS %.4f px over the image, ecc %.4f, overlap %.3f, status %s\n",
               e, qc.ecc, qc.overlap, sd_align_status_name(qc.status));
        CHECKF(e < 0.1, "roi whole RMS %.4f", e);
        CHECK(isnan(qc.lm_rms_px));
    }
    sd_aligned_free(&ab);
    sd_aligned_free(&am);
    sd_image_free(&a);
    sd_image_free(&b);
}


/* The bicubic kernel: every ISA variant against the C reference (random maps, widths 1..41 with
 * tails, sources down to 1x1, affine and projective), masks identical, values within 2e-6. */
static void test_warpcubic_kernel(void)
{
    const unsigned cpu = sd_cpu_detect();
    SdWarpCubicDSP ref, simd;
    sd_warpcubic_dsp_init(&ref, 0);
    sd_warpcubic_dsp_init(&simd, cpu);
    rng_state = 4242;
    int bad = 0, checked = 0;
    for (int t = 0; t < 60; t++) {
        const int sw = 1 + (int)(urand() * 40), sh = 1 + (int)(urand() * 30);
        const int w = 1 + (int)(urand() * 41), h = 1 + (int)(urand() * 5);
        float src[2 * 40 * 30 + 8], d0[2 * 64 * 8], d1[2 * 64 * 8];
        uint8_t m0[64 * 8], m1[64 * 8];
        for (int i = 0; i < 2 * sw * sh; i++) src[i] = (float)urand();
        SdWarpParams p;
        const double ang = (urand() - 0.5) * 0.6, sc = 0.5 + urand();
        p.m[0] = sc * cos(ang); p.m[1] = -sc * sin(ang); p.m[2] = (urand() - 0.3) * sw;
        p.m[3] = sc * sin(ang); p.m[4] = sc * cos(ang); p.m[5] = (urand() - 0.3) * sh;
        p.m[6] = t % 3 == 0 ? (urand() - 0.5) * 0.01 : 0; p.m[7] = t % 3 == 0 ? (urand() - 0.5) * 0.01 : 0;
        p.m[8] = 1;
        p.x0 = (int)(urand() * 4); p.y0 = (int)(urand() * 4); p.fill = -7.0f;
        const ptrdiff_t ss = sw * (ptrdiff_t)sizeof(float), sp = ss * sh, dp = 64 * 8 * sizeof(float);
        ref.cubic(d0, 64 * sizeof(float), dp, m0, 64, src, ss, sp, 2, sw, sh, w, h, &p, -0.25f, 1.25f);
        simd.cubic(d1, 64 * sizeof(float), dp, m1, 64, src, ss, sp, 2, sw, sh, w, h, &p, -0.25f, 1.25f);
        for (int k = 0; k < 2; k++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    const int i = k * 64 * 8 + y * 64 + x;
                    checked++;
                    if (m0[y * 64 + x] != m1[y * 64 + x] || fabsf(d0[i] - d1[i]) > 2e-6f) bad++;
                }
    }
    printf("  bicubic kernel (%s vs C): %d of %d samples differ\n", sd_cpu_level_name(cpu), bad, checked);
    CHECK_EQ_INT(bad, 0);
    /* known answers: a linear ramp is reproduced exactly inside (Keys is exact on quadratics) */
    float ramp[16 * 16], out[8];
    for (int y = 0; y < 16; y++)
        for (int x = 0; x < 16; x++) ramp[y * 16 + x] = 0.01f * x + 0.02f * y;
    SdWarpParams q = { { 1, 0, 3.37, 0, 1, 5.81, 0, 0, 1 }, 0, 0, 0.0f };
    ref.cubic(out, sizeof(out), 0, NULL, 0, ramp, 16 * sizeof(float), 0, 1, 16, 16, 8, 1, &q, -1.0f, 2.0f);
    for (int x = 0; x < 8; x++) CHECK_NEAR(out[x], 0.01 * (x + 3.37) + 0.02 * 5.81, 1e-5);
}


/* QC: a follow-up that shows something else (flat grey, or an unrelated texture) is `failed`
 * with a reason, not silently scored. */
static void test_qc_failed(void)
{
    SdCtx ctx;
    CHECK(!sd_ctx_init(&ctx));
    SdImage a = {0}, flat = {0}, other = {0};
    make_skin(&ctx, 240, 200, 5, &a);
    make_skin(&ctx, 240, 200, 6, &other);
    CHECK(!sd_image_create(&flat, 240, 200, 3, SD_FMT_F32));
    for (int p = 0; p < 3; p++)
        for (int y = 0; y < 200; y++)
            for (int x = 0; x < 240; x++) sd_image_rowf(&flat, p, y)[x] = 0.5f;
    SdAlignOpts o;
    sd_align_opts_default(&o);
    o.roi_whole = 1;
    SdAligned b = {0}, f = {0};
    SdAlignQC qc;
    CHECK(!sd_align_canonical(&ctx, &a, NULL, &o, &b));
    const SdImage *fu[2] = { &flat, &other };
    for (int i = 0; i < 2; i++) {
        CHECKF(!sd_align_followup(&ctx, &b, fu[i], NULL, &o, &f, &qc), "%s", ctx.errmsg);
        printf("  %s follow-up: status %s (%s)\n", i ? "unrelated" : "flat", sd_align_status_name(qc.status), qc.reason);
        CHECK(qc.status == SD_ALIGN_FAILED);
        CHECK(qc.reason[0] != 0);
        sd_aligned_free(&f);
    }
    sd_aligned_free(&b);
    sd_image_free(&a);
    sd_image_free(&flat);
    sd_image_free(&other);
}

static void test_transform_helpers(void)
{
    SdTransform A, Ai, I;
    make_affine(3, 1.05, 4, -2, 10, 20, &A);
    A.m[6] = 1e-4; A.m[7] = -2e-4;
    CHECK(!sd_transform_invert(&A, &Ai));
    sd_transform_mul(&A, &Ai, &I);
    for (int i = 0; i < 9; i++) CHECK_NEAR(I.m[i] / I.m[8], (i % 4 == 0) ? 1.0 : 0.0, 1e-12);
    CHECK_EQ_INT(sd_motion_parse("affine"), SD_MOTION_AFFINE);
    CHECK_EQ_INT(sd_motion_parse("homography"), SD_MOTION_HOMOGRAPHY);
    CHECK_EQ_INT(sd_motion_parse("bogus"), -1);
    SdLandmarks lm;
    CHECK(!sd_test_fixture_landmarks("astronaut_512x512_416_wasm.json", &lm));
    SdAlignOpts o;
    sd_align_opts_default(&o);
    CHECK_NEAR(sd_align_load_scale(&lm, &o), 1.0, 0);      /* small face: keep full size */
    for (int i = 0; i < SD_NLANDMARKS; i++) { lm.pt[i].x *= 60; lm.pt[i].y *= 60; }
    CHECK_NEAR(sd_align_load_scale(&lm, &o), 0.5, 0);    /* IOD ~2500 px: 1/2 keeps >= 1.25 x 640 */
}


/* ---- resampling bias: an aliasing-free procedural texture rendered exactly in each photo's own
 * pixels; the canonical images of baseline and follow-up must keep the same fine-texture energy.
 * The wrong path (register the follow-up onto the baseline photo, then warp that again) loses
 * ~15-20% and is measured as the control that shows the test can fail. */
#define NSIN 150
typedef struct Tex { double fx[NSIN], fy[NSIN], ph[NSIN]; } Tex;

static void render_tex(const Tex *t, int w, int h, const SdTransform *to_tex, SdImage *img)
{
    CHECK(!sd_image_create(img, w, h, 3, SD_FMT_F32));
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double u, v, s = 0.5;
            sd_transform_apply(to_tex, x, y, &u, &v);
            for (int k = 0; k < NSIN; k++)
                s += 0.3 / sqrt(NSIN) * sin(6.283185307179586 * (t->fx[k] * u + t->fy[k] * v) + t->ph[k]);
            for (int c = 0; c < 3; c++) sd_image_rowf(img, c, y)[x] = (float)(s * (0.9 - 0.15 * c));
        }
}

static double band_rms(SdCtx *ctx, const SdImage *img, int x0, int y0, int x1, int y1)
{
    SdImage b = {0};
    CHECK(!sd_image_create(&b, img->w, img->h, 1, SD_FMT_F32));
    CHECK(!sd_op_gauss(ctx, sd_image_rowf(img, 1, 0), img->stride, sd_image_rowf(&b, 0, 0), b.stride,
                       img->w, img->h, 2.0f));
    double s = 0;
    long n = 0;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
            const double d = sd_image_rowf(img, 1, y)[x] - sd_image_rowf(&b, 0, y)[x];
            s += d * d;
            n++;
        }
    sd_image_free(&b);
    return sqrt(s / n);
}

static void test_resampling_bias(void)
{
    SdCtx ctx;
    CHECK(!sd_ctx_init(&ctx));
    CHECK(!sd_init(&ctx, NULL));
    Tex t;
    rng_state = 99;
    for (int k = 0; k < NSIN; k++) {
        const double f = 0.03 + 0.37 * urand(), a = 6.283185307179586 * urand();
        t.fx[k] = f * cos(a); t.fy[k] = f * sin(a); t.ph[k] = 6.283185307179586 * urand();
    }
    const int W = 240, H = 240;
    SdTransform I, R;
    sd_transform_identity(&I);
    make_affine(3.0, 1.0, 10.3, -4.7, W / 2.0, H / 2.0, &R);   /* follow-up photo -> texture */
    SdImage pb = {0}, pf = {0};
    render_tex(&t, W, H, &I, &pb);
    render_tex(&t, W, H, &R, &pf);
    /* 1. the API path, roi whole: baseline canonical, follow-up registered (single resampling) */
    SdAlignOpts o;
    sd_align_opts_default(&o);
    o.roi_whole = 1;
    SdAligned ab = {0}, af = {0};
    SdAlignQC qc;
    CHECK(!sd_align_canonical(&ctx, &pb, NULL, &o, &ab));
    CHECKF(!sd_align_followup(&ctx, &ab, &pf, NULL, &o, &af, &qc), "%s", ctx.errmsg);
    const int m = 50;
    const double eb = band_rms(&ctx, &ab.img, m, m, ab.img.w - m, ab.img.h - m);
    const double ef = band_rms(&ctx, &af.img, m, m, ab.img.w - m, ab.img.h - m);
    /* 2. the wrong path as a control: follow-up warped onto the baseline photo, then again */
    SdImage tmp = {0}, dbl = {0};
    CHECK(!sd_align_warp(&ctx, &pf, &R, W, H, &tmp, NULL));
    CHECK(!sd_align_warp(&ctx, &tmp, &ab.T, ab.img.w, ab.img.h, &dbl, NULL));
    const double ed = band_rms(&ctx, &dbl, m, m, ab.img.w - m, ab.img.h - m);
    /* 3. a face-like frame (scale 1.3, rotation 2 deg) through sd_align_warp with the composition */
    SdTransform S, Sf;
    make_affine(2.0, 1.3, 0, 0, W / 2.0, H / 2.0, &S);
    sd_transform_mul(&S, &R, &Sf);
    SdImage cb = {0}, cf = {0};
    CHECK(!sd_align_warp(&ctx, &pb, &S, W, H, &cb, NULL));
    CHECK(!sd_align_warp(&ctx, &pf, &Sf, W, H, &cf, NULL));
    const double fb = band_rms(&ctx, &cb, m, m, W - m, H - m), ff = band_rms(&ctx, &cf, m, m, W - m, H - m);
    /* 4. detail kept: the face-like canonical image against the texture rendered exactly there */
    SdTransform Si;
    SdImage ex = {0};
    CHECK(!sd_transform_invert(&S, &Si));
    render_tex(&t, W, H, &Si, &ex);
    const double fe = band_rms(&ctx, &ex, m, m, W - m, H - m);
    printf("  fine-texture band RMS follow-up/baseline: whole %.4f (ecc %.3f), face-like frame %.4f; "
           "double resampling (control) %.4f; kept vs exact render %.4f\n", ef / eb, qc.ecc, ff / fb,
           ed / eb, fb / fe);
    CHECKF(fabs(ef / eb - 1) < 0.01, "whole: follow-up/baseline texture energy %.4f", ef / eb);
    CHECKF(fabs(ff / fb - 1) < 0.01, "face-like: follow-up/baseline texture energy %.4f", ff / fb);
    CHECKF(ed / eb < 0.97, "the control should show the double-resampling loss (%.4f)", ed / eb);
    CHECKF(fb / fe > 0.9, "the canonical resampling keeps only %.3f of the fine texture", fb / fe);
    sd_image_free(&ex);
    sd_aligned_free(&ab); sd_aligned_free(&af);
    sd_image_free(&pb); sd_image_free(&pf); sd_image_free(&tmp); sd_image_free(&dbl);
    sd_image_free(&cb); sd_image_free(&cf);
}

static const SdTestCase cases[] = {
    { "transform_helpers", test_transform_helpers },
    { "warpcubic_kernel", test_warpcubic_kernel },
    { "similarity", test_similarity },
    { "coarse", test_coarse },
    { "texture_affine", test_texture_affine },
    { "motions", test_motions },
    { "resampling_bias", test_resampling_bias },
    { "astronaut_fixtures", test_astronaut_fixtures },
    { "astronaut_face", test_astronaut_face },
    { "astronaut_whole", test_astronaut_whole },
    { "qc_failed", test_qc_failed },
};
SD_TEST_MAIN(cases)

/* Registration benchmark: our masked coarse-to-fine ECC against a known affine on a skin-like
 * texture pair, per CPU level; writes the pair (PNG) and truth so bench/ecc_opencv.py runs
 * OpenCV's findTransformECC on the very same pixels and start. One thread.
 * usage: bench_register OUTDIR CSV [W H] */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skindelta/align.h"
#include "skindelta/util.h"
#include "kernels/ops.h"
#include "kernels/cpu.h"

static uint64_t rs = 2024;
static double urand(void)
{
    rs = rs * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rs >> 11) / 9007199254740992.0;
}

static int make_skin(SdCtx *ctx, int w, int h, SdImage *img)
{
    SdImage n = {0}, t = {0}, acc = {0};
    int err = sd_image_create(&n, w, h, 1, SD_FMT_F32);
    if (!err) err = sd_image_create(&t, w, h, 1, SD_FMT_F32);
    if (!err) err = sd_image_create(&acc, w, h, 1, SD_FMT_F32);
    const float sig[3] = { 1.2f, 3.0f, 8.0f }, amp[3] = { 0.6f, 1.0f, 1.6f };
    for (int o = 0; o < 3 && !err; o++) {
        for (int y = 0; y < h; y++) {
            float *r = sd_image_rowf(&n, 0, y);
            for (int x = 0; x < w; x++) r[x] = (float)(urand() - 0.5);
        }
        err = sd_op_gauss(ctx, sd_image_rowf(&n, 0, 0), n.stride, sd_image_rowf(&t, 0, 0), t.stride, w, h, sig[o]);
        for (int y = 0; y < h && !err; y++) {
            float *a = sd_image_rowf(&acc, 0, y);
            const float *s = sd_image_rowf(&t, 0, y);
            for (int x = 0; x < w; x++) a[x] += amp[o] * s[x] * sig[o];
        }
    }
    for (int k = 0; k < w * h / 300 && !err; k++) {
        const double cx = urand() * w, cy = urand() * h, r = 1.0 + urand() * 1.5;
        for (int y = (int)(cy - 3 * r); y <= (int)(cy + 3 * r); y++)
            for (int x = (int)(cx - 3 * r); x <= (int)(cx + 3 * r); x++)
                if (x >= 0 && y >= 0 && x < w && y < h)
                    sd_image_rowf(&acc, 0, y)[x] -= (float)(0.25 * exp(-((x - cx) * (x - cx) + (y - cy) * (y - cy)) / (r * r)));
    }
    if (!err) err = sd_image_create(img, w, h, 3, SD_FMT_F32);
    const float tone[3] = { 0.78f, 0.58f, 0.48f };
    for (int c = 0; c < 3 && !err; c++)
        for (int y = 0; y < h; y++) {
            const float *a = sd_image_rowf(&acc, 0, y);
            float *o = sd_image_rowf(img, c, y);
            for (int x = 0; x < w; x++) {
                const float v = tone[c] * (1.0f + 0.35f * a[x]);
                o[x] = v < 0 ? 0 : v > 1 ? 1 : v;
            }
        }
    sd_image_free(&n); sd_image_free(&t); sd_image_free(&acc);
    return err;
}

static void affine(double deg, double s, double tx, double ty, double cx, double cy, SdTransform *A)
{
    const double a = deg * 3.14159265358979323846 / 180, c = s * cos(a), sn = s * sin(a);
    sd_transform_identity(A);
    A->m[0] = c; A->m[1] = -sn; A->m[2] = cx - c * cx + sn * cy + tx;
    A->m[3] = sn; A->m[4] = c;  A->m[5] = cy - sn * cx - c * cy + ty;
}

static double rms_err(const SdTransform *e, const SdTransform *t, int w, int h)
{
    double s = 0;
    long n = 0;
    for (int y = h / 10; y < h - h / 10; y += 8)
        for (int x = w / 10; x < w - w / 10; x += 8) {
            double ax, ay, bx, by;
            sd_transform_apply(e, x, y, &ax, &ay);
            sd_transform_apply(t, x, y, &bx, &by);
            s += (ax - bx) * (ax - bx) + (ay - by) * (ay - by);
            n++;
        }
    return sqrt(s / n);
}

static int cmp_d(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_register OUTDIR CSV [W H]\n");
        return 2;
    }
    const char *dir = argv[1], *csv = argv[2];
    const int W = argc > 4 ? atoi(argv[3]) : 1500, H = argc > 4 ? atoi(argv[4]) : 1000;
    SdCtx ctx;
    if (sd_ctx_init(&ctx) || sd_init(&ctx, NULL)) return 1;
    const unsigned full = ctx.cpu_flags;
    SdImage field = {0}, b = {0}, m = {0}, lb = {0}, lm = {0};
    const int FW = W + 200, FH = H + 200;
    if (make_skin(&ctx, FW, FH, &field)) return 1;
    SdTransform Tb, A, Tm, Init, P;
    sd_transform_identity(&Tb);
    Tb.m[2] = -100; Tb.m[5] = -100;
    affine(3.0, 1.04, 12.3, -7.8, W / 2.0, H / 2.0, &A);
    sd_transform_mul(&A, &Tb, &Tm);
    if (sd_align_warp(&ctx, &field, &Tb, W, H, &b, NULL) || sd_align_warp(&ctx, &field, &Tm, W, H, &m, NULL))
        return 1;
    for (int c = 0; c < 3; c++)   /* gain 0.85 and a 6% white-balance shift */
        for (int y = 0; y < H; y++) {
            float *r = sd_image_rowf(&m, c, y);
            for (int x = 0; x < W; x++) r[x] = fminf(1.0f, r[x] * 0.85f * (c == 0 ? 1.06f : c == 2 ? 0.94f : 1.0f));
        }
    /* the start both implementations get: the truth off by ~3 px (a landmark-quality guess) */
    affine(0.6, 1.004, 2.5, -1.8, W / 2.0, H / 2.0, &P);
    sd_transform_mul(&A, &P, &Init);
    char path[4096];
    sd_mkdir_p(dir);
    snprintf(path, sizeof(path), "%s/template.png", dir);
    if (sd_image_save(&ctx, &b, path, 0)) { fprintf(stderr, "%s\n", ctx.errmsg); return 1; }
    snprintf(path, sizeof(path), "%s/input.png", dir);
    if (sd_image_save(&ctx, &m, path, 0)) { fprintf(stderr, "%s\n", ctx.errmsg); return 1; }
    snprintf(path, sizeof(path), "%s/truth.txt", dir);
    FILE *tf = fopen(path, "w");
    if (!tf) return 1;
    fprintf(tf, "# template px -> input px (truth), then the initial guess; 2x3 each\n");
    fprintf(tf, "%.12g %.12g %.12g\n%.12g %.12g %.12g\n", A.m[0], A.m[1], A.m[2], A.m[3], A.m[4], A.m[5]);
    fprintf(tf, "%.12g %.12g %.12g\n%.12g %.12g %.12g\n", Init.m[0], Init.m[1], Init.m[2], Init.m[3], Init.m[4], Init.m[5]);
    fclose(tf);
    /* register the 8-bit pixels OpenCV will see */
    SdImage b8 = {0}, m8 = {0}, bf = {0}, mf = {0};
    SdLoadOpts lo;
    sd_load_opts_default(&lo);
    snprintf(path, sizeof(path), "%s/template.png", dir);
    if (sd_image_load(&ctx, path, &lo, &b8, NULL)) return 1;
    snprintf(path, sizeof(path), "%s/input.png", dir);
    if (sd_image_load(&ctx, path, &lo, &m8, NULL)) return 1;
    if (sd_image_luma(&b8, &lb) || sd_image_luma(&m8, &lm)) return 1;
    (void)bf; (void)mf;
    FILE *out = fopen(csv, "a");
    if (!out) return 1;
    const double e0 = rms_err(&Init, &A, W, H);
    static const char *const lv[3] = { "scalar", "avx2", "avx512" };
    static const struct { const char *name; int iters; double eps; } cfg[2] = {
        { "default", 60, 1e-3 }, { "tight", 200, 1e-5 },
    };
    for (int l = 0; l < 3; l++) {
        const unsigned need = l == 0 ? 0 : l == 1 ? SD_CPU_AVX2 : (SD_CPU_AVX2 | SD_CPU_AVX512);
        if ((full & need) != need) continue;
        if (sd_ctx_set_cpu(&ctx, lv[l])) continue;
        for (int c = 0; c < 2; c++) {
            SdAlignOpts o;
            sd_align_opts_default(&o);
            o.max_iter = cfg[c].iters;
            o.eps = cfg[c].eps;
            enum { NR = 5 };
            double t[NR], e = 0;
            SdAlignQC qc;
            for (int r = 0; r < NR; r++) {
                SdTransform Wt = Init;
                const double t0 = sd_now();
                if (sd_align_ecc(&ctx, &lb, NULL, &lm, NULL, SD_MOTION_AFFINE, &o, &Wt, &qc)) {
                    fprintf(stderr, "ecc failed: %s\n", ctx.errmsg);
                    return 1;
                }
                t[r] = sd_now() - t0;
                e = rms_err(&Wt, &A, W, H);
            }
            qsort(t, NR, sizeof(double), cmp_d);
            printf("skindelta ECC %-6s %-7s affine %dx%d: start %.3f px -> %.4f px RMS, %.1f ms (median of %d), "
                   "%d iterations over %d levels, ecc %.4f\n", lv[l], cfg[c].name, W, H, e0, e, t[NR / 2] * 1e3, NR,
                   qc.iterations, qc.levels, qc.ecc);
            fprintf(out, "skindelta-%s,%s,affine,%dx%d,%.4f,%.5f,%.2f,%d\n", lv[l], cfg[c].name, W, H, e0, e,
                    t[NR / 2] * 1e3, qc.iterations);
        }
    }
    /* the canonical frame: one bicubic resampling of a photo into 1600x2000 (3 planes), from a
     * smaller photo (upsampling) and from a larger one (2x reduction + blur first); and the whole
     * pair on the astronaut fixtures (frame + register, landmarks given) */
    sd_ctx_set_cpu(&ctx, lv[full & SD_CPU_AVX512 ? 2 : full & SD_CPU_AVX2 ? 1 : 0]);
    for (int up = 0; up < 2; up++) {
        SdTransform T;
        const double sc = up ? 1.9 : 0.45;
        affine(2.0, sc, 0, 0, 0, 0, &T);
        T.m[2] = 800 - sc * (FW / 2.0); T.m[5] = 1000 - sc * (FH / 2.0);
        double t[5];
        for (int r = 0; r < 5; r++) {
            SdImage o = {0};
            SdMask v = {0};
            const double t0 = sd_now();
            sd_align_warp(&ctx, &field, &T, 1600, 2000, &o, &v);
            t[r] = sd_now() - t0;
            sd_image_free(&o);
            sd_mask_free(&v);
        }
        qsort(t, 5, sizeof(double), cmp_d);
        printf("skindelta canonical warp (%s) %dx%d -> 1600x2000 x3 planes, scale %.2f: %.1f ms\n",
               sd_ctx_cpu_name(&ctx), FW, FH, sc, t[2] * 1e3);
        fprintf(out, "skindelta-%s,canonical_warp_scale_%.2f,bicubic,%dx%d,,,%.2f,\n", sd_ctx_cpu_name(&ctx), sc,
                FW, FH, t[2] * 1e3);
    }
    fclose(out);
    sd_image_free(&field); sd_image_free(&b); sd_image_free(&m); sd_image_free(&lb); sd_image_free(&lm);
    sd_image_free(&b8); sd_image_free(&m8);
    return 0;
}

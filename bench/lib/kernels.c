/* Kernel benchmark core: times each image-level op per CPU level (median of repeated runs, one
 * thread), runs bench/opencv_kernels.py for OpenCV's equivalents in the same run, prints the
 * table and writes the CSV and an SVG bar chart. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/lib/kbench.h"
#include "kernels/cpu.h"
#include "kernels/eccproj.h"
#include "kernels/ops.h"
#include "kernels/tone.h"
#include "src/core/core.h"

typedef struct Bench {
    SdCtx *ctx;
    int w, h, uw, uh;
    ptrdiff_t fs, us, ms, ufs;       /* float, u8 RGB, mask, float-from-u8 strides */
    float *in[3], *out[5], *uout[3];
    uint8_t *u8, *mask, *wmask, *q8;
    uint32_t *counts;
    SdEccAcc acc;
} Bench;

typedef struct Kernel {
    const char *name;
    int u8;                          /* sized on the u8 image */
    int (*run)(Bench *b);
} Kernel;

static int k_gauss2(Bench *b) { return sd_op_gauss(b->ctx, b->in[0], b->fs, b->out[0], b->fs, b->w, b->h, 2.0f); }
static int k_gauss8(Bench *b) { return sd_op_gauss(b->ctx, b->in[0], b->fs, b->out[0], b->fs, b->w, b->h, 8.0f); }
static int k_deriv(Bench *b)
{
    const SdDerivOut o = { b->out[0], b->out[1], b->out[2], b->out[3], b->out[4] };
    return sd_op_gauss_deriv(b->ctx, b->in[0], b->fs, &o, b->fs, b->w, b->h, 2.0f);
}
static int k_box(Bench *b) { return sd_op_box_meanvar(b->ctx, b->in[0], b->fs, b->out[0], b->out[1], b->fs, b->w, b->h, 7); }
static int k_eig(Bench *b)
{
    return sd_op_hessian_eig(b->ctx, b->in[0], b->in[1], b->in[2], b->fs, b->out[0], b->out[1],
                             b->out[2], b->fs, b->w, b->h, 2.0f);
}
static int k_ridge(Bench *b)
{
    return sd_op_ridge(b->ctx, b->in[0], b->in[1], b->in[2], b->fs, b->out[0], b->fs, b->w, b->h,
                       2.0f, 0.5f, 0.5f);
}
/* Same inverse maps as bench/opencv_kernels.py (WARP_INVERSE_MAP). */
static const double affine_inv[9] = { 1.02, 0.05, 13.5, -0.04, 0.98, -7.25, 0, 0, 1 };
static const double homog_inv[9] = { 1.02, 0.05, 13.5, -0.04, 0.98, -7.25, 2e-6, -3e-6, 1 };
static int k_affine(Bench *b)
{
    return sd_op_warp_inv(b->ctx, b->in[0], b->fs, b->w, b->h, affine_inv, b->out[0], b->fs, b->w,
                          b->h, b->wmask, b->ms, 0.0f);
}
static int k_homog(Bench *b)
{
    return sd_op_warp_inv(b->ctx, b->in[0], b->fs, b->w, b->h, homog_inv, b->out[0], b->fs, b->w,
                          b->h, b->wmask, b->ms, 0.0f);
}
static int k_down2(Bench *b) { return sd_op_down2(b->ctx, b->in[0], b->fs, b->w, b->h, b->out[0], b->fs); }
static int k_srgb8(Bench *b) { return sd_op_srgb8_to_linear(b->ctx, b->u8, b->us, b->uout, b->ufs, b->uw, b->uh); }
static int k_srgbf(Bench *b) { return sd_op_srgb_to_linear(b->ctx, b->in[0], b->fs, b->out[0], b->fs, b->w, b->h); }
static int k_lab(Bench *b)
{
    const float *const s[3] = { b->in[0], b->in[1], b->in[2] };
    float *const d[3] = { b->out[0], b->out[1], b->out[2] };
    return sd_op_rgb_to_lab(b->ctx, s, b->fs, d, b->fs, b->w, b->h);
}
static int k_od(Bench *b) { return sd_op_optical_density(b->ctx, b->in[0], b->fs, b->out[0], b->fs, b->w, b->h, 1e-4f); }
static int k_mat3(Bench *b)
{
    static const float m[9] = { 0.6f, 0.3f, 0.1f, -0.2f, 0.9f, 0.3f, 0.1f, -0.4f, 1.2f };
    const float *const s[3] = { b->in[0], b->in[1], b->in[2] };
    float *const d[3] = { b->out[0], b->out[1], b->out[2] };
    return sd_op_mat3(b->ctx, s, b->fs, d, b->fs, b->w, b->h, m);
}
static int k_moments(Bench *b)
{
    SdMoments m;
    return sd_op_moments(b->ctx, b->in[0], b->fs, b->mask, b->ms, b->w, b->h, &m);
}
static int k_hist(Bench *b)
{
    return sd_op_histogram(b->ctx, b->in[0], b->fs, b->mask, b->ms, b->w, b->h, 0.0f, 1.0f, 256, b->counts);
}
static int k_glcm(Bench *b)
{
    return sd_op_glcm(b->ctx, b->q8, b->ms, b->mask, b->ms, b->w, b->h, 1, 32, b->counts);
}
static int k_ecc(Bench *b)
{
    return sd_op_ecc_accumulate(b->ctx, b->in[0], b->in[1], b->in[2], b->out[0], b->fs, b->mask,
                                b->ms, b->w, b->h, -0.5f * b->w, -0.5f * b->h, &b->acc);
}
/* Homography ECC sums under a mild projective map (the ECC loop itself passes the identity). */
static int k_eccproj(Bench *b)
{
    static const double hm[9] = { 1.02, 0.05, 1.5, -0.04, 0.98, -0.7, 2e-6, -3e-6, 1 };
    SdEccProjDSP d;
    SdEccProjAcc acc;
    sd_eccproj_dsp_init(&d, b->ctx->cpu_flags);
    memset(&acc, 0, sizeof(acc));
    d.acc(&acc, b->in[0], b->in[1], b->in[2], b->out[0], b->fs, b->mask, b->ms, b->w, b->h,
          -0.5f * b->w, -0.5f * b->h, hm);
    return acc.n > 0 ? 0 : SD_EINVAL;
}
/* sRGB-encoded planes through a 3x3 matrix in linear light, in place on the inputs, row by row as
 * the photometry stage calls it. Rows of the matrix sum to 1, so repeated runs keep the values
 * spread over [0, 1] (no drift into the clamps); last in the table, as it rewrites the inputs. */
static int k_tone(Bench *b)
{
    static const float m[9] = { 0.9f, 0.06f, 0.04f, 0.05f, 0.9f, 0.05f, 0.03f, 0.07f, 0.9f };
    SdToneDSP d;
    sd_tone_dsp_init(&d, b->ctx->cpu_flags);
    for (int y = 0; y < b->h; y++) {
        float *const p[3] = { (float *)((char *)b->in[0] + y * b->fs), (float *)((char *)b->in[1] + y * b->fs),
                              (float *)((char *)b->in[2] + y * b->fs) };
        d.mat3_srgb(p, b->w, m);
    }
    return 0;
}

static const Kernel kernels[] = {
    { "gauss_s2", 0, k_gauss2 },
    { "gauss_s8", 0, k_gauss8 },
    { "deriv5_s2", 0, k_deriv },
    { "box_meanvar_r7", 0, k_box },
    { "hessian_eig", 0, k_eig },
    { "ridge", 0, k_ridge },
    { "warp_affine", 0, k_affine },
    { "warp_homog", 0, k_homog },
    { "down2", 0, k_down2 },
    { "srgb8_to_linear", 1, k_srgb8 },
    { "srgb_to_linear", 0, k_srgbf },
    { "rgb_to_lab", 0, k_lab },
    { "optical_density", 0, k_od },
    { "mat3", 0, k_mat3 },
    { "moments_masked", 0, k_moments },
    { "histogram_masked", 0, k_hist },
    { "glcm_L32", 0, k_glcm },
    { "ecc_accumulate", 0, k_ecc },
    { "eccproj_homog", 0, k_eccproj },
    { "tone_mat3_srgb", 0, k_tone },
};
#define NK ((int)(sizeof(kernels) / sizeof(kernels[0])))

void sd_kbench_defaults(SdKBenchOpts *o)
{
    memset(o, 0, sizeof(*o));
    o->width = 3000; o->height = 2000;
    o->u8_width = 6000; o->u8_height = 4000;
    o->reps = 7;
    o->out = stdout;
}

static int selected(const char *only, const char *name)
{
    if (!only || !*only) return 1;
    const size_t n = strlen(name);
    for (const char *p = only; (p = strstr(p, name)); p += n)
        if ((p == only || p[-1] == ',') && (p[n] == 0 || p[n] == ',')) return 1;
    return 0;
}

static int cmpd(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* This thread's CPU time: the machine is shared, and wall time would count other processes'
 * turns on the core. (Memory-bandwidth contention still shows.) */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int time_kernel(Bench *b, const Kernel *k, int reps, double *sec)
{
    double t[64];
    const double tw0 = cpu_now();
    int err = k->run(b);                      /* warm-up: page faults, tables, caches */
    /* fast kernels get more runs (about 0.3 s in all): a 1 ms median is noisy on a shared core */
    const double tw = cpu_now() - tw0;
    if (tw > 0 && reps * tw < 0.3) reps = (int)(0.3 / tw);
    if (reps > 64) reps = 64;
    for (int i = 0; i < reps && !err; i++) {
        const double t0 = cpu_now();
        err = k->run(b);
        t[i] = cpu_now() - t0;
    }
    if (err) return err;
    qsort(t, (size_t)reps, sizeof(double), cmpd);
    *sec = t[reps / 2];
    return 0;
}

static void fill_rand(float *p, ptrdiff_t stride, int w, int h, uint32_t seed)
{
    for (int y = 0; y < h; y++) {
        float *r = (float *)((char *)p + y * stride);
        for (int x = 0; x < w; x++) {
            seed = seed * 1664525u + 1013904223u;
            r[x] = (float)(seed >> 8) * (1.0f / 16777216.0f);
        }
    }
}

static void bench_free(Bench *b)
{
    for (int i = 0; i < 3; i++) { sd_free_aligned(b->in[i]); sd_free_aligned(b->uout[i]); }
    for (int i = 0; i < 5; i++) sd_free_aligned(b->out[i]);
    sd_free_aligned(b->u8); sd_free_aligned(b->mask); sd_free_aligned(b->wmask); sd_free_aligned(b->q8);
    free(b->counts);
}

static int bench_alloc(Bench *b, const SdKBenchOpts *o)
{
    b->w = o->width; b->h = o->height; b->uw = o->u8_width; b->uh = o->u8_height;
    b->fs = ((ptrdiff_t)b->w * 4 + 63) & ~(ptrdiff_t)63;
    b->us = ((ptrdiff_t)b->uw * 3 + 63) & ~(ptrdiff_t)63;
    b->ms = ((ptrdiff_t)b->w + 63) & ~(ptrdiff_t)63;
    const ptrdiff_t ufs = b->ufs = ((ptrdiff_t)b->uw * 4 + 63) & ~(ptrdiff_t)63;
    const size_t fb = (size_t)b->fs * b->h, ub = (size_t)b->us * b->uh, ufb = (size_t)ufs * b->uh;
    int ok = 1;
    for (int i = 0; i < 3; i++) ok &= !!(b->in[i] = sd_alloc_aligned(fb));
    for (int i = 0; i < 5; i++) ok &= !!(b->out[i] = sd_alloc_aligned(fb));
    for (int i = 0; i < 3; i++) ok &= !!(b->uout[i] = sd_alloc_aligned(ufb));
    ok &= !!(b->u8 = sd_alloc_aligned(ub));
    ok &= !!(b->mask = sd_alloc_aligned((size_t)b->ms * b->h));
    ok &= !!(b->wmask = sd_alloc_aligned((size_t)b->ms * b->h));
    ok &= !!(b->q8 = sd_alloc_aligned((size_t)b->ms * b->h));
    ok &= !!(b->counts = calloc(4 * 256 * 256, sizeof(uint32_t)));
    if (!ok) return SD_ENOMEM;
    for (int i = 0; i < 3; i++) fill_rand(b->in[i], b->fs, b->w, b->h, 17u + (uint32_t)i);
    for (int i = 0; i < 5; i++) memset(b->out[i], 0, fb);
    uint32_t s = 99;
    for (size_t i = 0; i < ub; i++) { s = s * 1664525u + 1013904223u; b->u8[i] = (uint8_t)(s >> 24); }
    /* the stats mask is a region like a skin mask: an ellipse over ~75% of the image with a
     * hole (an eye), not random pixels, whose branch pattern no real mask has */
    for (int y = 0; y < b->h; y++)
        for (int x = 0; x < b->w; x++) {
            s = s * 1664525u + 1013904223u;
            const double u = (x - 0.5 * b->w) / (0.55 * b->w), v = (y - 0.5 * b->h) / (0.55 * b->h);
            const double e = (x - 0.35 * b->w) / (0.08 * b->w), f = (y - 0.4 * b->h) / (0.05 * b->h);
            b->mask[y * b->ms + x] = u * u + v * v <= 1.0 && e * e + f * f > 1.0 ? 255 : 0;
            b->q8[y * b->ms + x] = (uint8_t)((s >> 8) & 31);
        }
    return 0;
}

/* OpenCV figures by kernel name, from the helper script (-1 = none). */
static void run_opencv(const SdKBenchOpts *o, double *cv, FILE *out)
{
    for (int i = 0; i < NK; i++) cv[i] = -1;
    if (!o->opencv_script) return;
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "/usr/bin/python3 '%s' --width %d --height %d --u8-width %d "
             "--u8-height %d --reps %d%s%s 2>&1", o->opencv_script, o->width, o->height,
             o->u8_width, o->u8_height, o->reps, o->only ? " --only " : "", o->only ? o->only : "");
    FILE *p = popen(cmd, "r");
    if (!p) {
        fprintf(out, "note: could not start /usr/bin/python3; OpenCV column skipped\n");
        return;
    }
    char line[512];
    int got = 0;
    while (fgets(line, sizeof(line), p)) {
        char *c = strchr(line, ',');
        if (!c) { fprintf(out, "note (opencv): %s", line); continue; }
        *c = 0;
        for (int i = 0; i < NK; i++)
            if (!strcmp(kernels[i].name, line)) { cv[i] = atof(c + 1); got++; }
    }
    const int rc = pclose(p);
    if (rc != 0 || !got)
        fprintf(out, "note: OpenCV (python3-opencv via /usr/bin/python3) not available; "
                     "OpenCV column left empty\n");
}

typedef struct Row { int k; const char *isa; double mps, speedup, cv; } Row;

static int write_csv(const char *path, const Row *r, int n, const SdKBenchOpts *o)
{
    SdAtomicFile af;
    if (sd_atomic_open(&af, path)) return SD_EIO;
    fprintf(af.f, "kernel,width,height,isa,mpix_per_s,speedup_vs_scalar,opencv_mpix_per_s,ratio_vs_opencv\n");
    for (int i = 0; i < n; i++) {
        const Kernel *k = &kernels[r[i].k];
        fprintf(af.f, "%s,%d,%d,%s,%.1f,%.2f,", k->name, k->u8 ? o->u8_width : o->width,
                k->u8 ? o->u8_height : o->height, r[i].isa, r[i].mps, r[i].speedup);
        if (r[i].cv > 0) fprintf(af.f, "%.1f,%.2f\n", r[i].cv, r[i].mps / r[i].cv);
        else fprintf(af.f, ",\n");
    }
    return sd_atomic_commit(&af) ? SD_EIO : 0;
}

/* Horizontal bars on a log scale, one group per kernel: scalar, AVX2, AVX-512, OpenCV. */
static int write_svg(const char *path, const Row *r, int n, const double *cv)
{
    static const char *isas[3] = { "scalar", "avx2", "avx512" };
    static const char *col[4] = { "#9e9e9e", "#1f77b4", "#2ca02c", "#d62728" };
    int groups = 0, last = -1;
    for (int i = 0; i < n; i++) if (r[i].k != last) { groups++; last = r[i].k; }
    const int bar = 7, gap = 10, left = 150, plotw = 560;
    const int gh = 4 * bar + gap, height = 60 + groups * gh + 40;
    const double lo = 1.0, hi = 100000.0;
    SdAtomicFile af;
    if (sd_atomic_open(&af, path)) return SD_EIO;
    FILE *f = af.f;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
               "font-family=\"sans-serif\" font-size=\"11\">\n", left + plotw + 40, height);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    fprintf(f, "<text x=\"%d\" y=\"18\" font-size=\"14\">skindelta kernels, MP/s, one thread "
               "(log scale; median of runs, thread CPU time)</text>\n", left);
    for (double v = lo; v <= hi; v *= 10) {
        const double x = left + plotw * log10(v / lo) / log10(hi / lo);
        fprintf(f, "<line x1=\"%.1f\" y1=\"40\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>"
                   "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g</text>\n",
                x, x, height - 30, x, height - 16, v);
    }
    for (int j = 0; j < 4; j++)
        fprintf(f, "<rect x=\"%d\" y=\"28\" width=\"10\" height=\"8\" fill=\"%s\"/><text x=\"%d\" "
                   "y=\"36\">%s</text>\n", left + 300 + 70 * j, col[j], left + 314 + 70 * j,
                j < 3 ? isas[j] : "OpenCV");
    int g = -1;
    last = -1;
    for (int i = 0; i < n; i++) {
        if (r[i].k != last) {
            g++;
            last = r[i].k;
            fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n", left - 6,
                    50 + g * gh + 2 * bar + 4, kernels[r[i].k].name);
            if (cv[r[i].k] > 0) {
                const double wbar = plotw * log10(fmax(cv[r[i].k], lo) / lo) / log10(hi / lo);
                fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>\n",
                        left, 44 + g * gh + 3 * bar, wbar, bar - 1, col[3]);
            }
        }
        int j = 0;
        while (j < 2 && strcmp(isas[j], r[i].isa)) j++;
        const double wbar = plotw * log10(fmax(r[i].mps, lo) / lo) / log10(hi / lo);
        fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>\n", left,
                44 + g * gh + j * bar, wbar, bar - 1, col[j]);
    }
    fprintf(f, "</svg>\n");
    return sd_atomic_commit(&af) ? SD_EIO : 0;
}

int sd_kbench_run(SdCtx *ctx, const SdKBenchOpts *o)
{
    FILE *out = o->out ? o->out : stdout;
    if (o->width < 16 || o->height < 16 || o->u8_width < 16 || o->u8_height < 16 || o->reps < 1)
        return sd_fail(ctx, SD_EINVAL, "bench: sizes must be >= 16 and reps >= 1");
    if (o->only) {
        const char *p = o->only;
        while (*p) {
            const char *e = strchr(p, ',');
            const size_t n = e ? (size_t)(e - p) : strlen(p);
            int found = 0;
            for (int i = 0; i < NK; i++)
                found |= strlen(kernels[i].name) == n && !strncmp(kernels[i].name, p, n);
            if (!found) return sd_fail(ctx, SD_EINVAL, "bench: unknown kernel '%.*s'", (int)n, p);
            p += n + (e ? 1 : 0);
        }
    }
    const unsigned have = sd_cpu_detect(), saved = ctx->cpu_flags;
    const unsigned lv[3] = { 0, SD_CPU_AVX2, SD_CPU_AVX2 | SD_CPU_AVX512 };
    const char *lvname[3] = { "scalar", "avx2", "avx512" };
    Bench b = { .ctx = ctx };
    Row rows[NK * 3];
    double cv[NK];
    int nrows = 0, err = bench_alloc(&b, o);
    if (err) { err = sd_fail(ctx, SD_ENOMEM, "bench: out of memory"); goto fail; }

    fprintf(out, "skindelta kernel benchmark: %dx%d float, %dx%d u8 RGB, one thread, median of %d "
                 "runs (thread CPU time); CPU supports %s\n", o->width, o->height, o->u8_width, o->u8_height, o->reps,
            sd_cpu_level_name(have));
    run_opencv(o, cv, out);
    fprintf(out, "%-18s %-7s %10s %9s %10s %9s\n", "kernel", "isa", "MP/s", "x scalar", "OpenCV",
            "x OpenCV");
    for (int k = 0; k < NK; k++) {
        if (!selected(o->only, kernels[k].name)) continue;
        double base = 0;
        for (int l = 0; l < 3; l++) {
            if ((lv[l] & have) != lv[l]) continue;
            ctx->cpu_flags = lv[l];
            double sec;
            if ((err = time_kernel(&b, &kernels[k], o->reps, &sec))) goto fail;
            const double px = kernels[k].u8 ? (double)o->u8_width * o->u8_height : (double)o->width * o->height;
            Row *r = &rows[nrows++];
            r->k = k; r->isa = lvname[l]; r->mps = px / sec / 1e6; r->cv = cv[k];
            if (l == 0) base = r->mps;
            r->speedup = base > 0 ? r->mps / base : 0;
            fprintf(out, "%-18s %-7s %10.1f %8.2fx", kernels[k].name, r->isa, r->mps, r->speedup);
            if (cv[k] > 0) fprintf(out, " %10.1f %8.2fx\n", cv[k], r->mps / cv[k]);
            else fprintf(out, " %10s %9s\n", "-", "-");
            fflush(out);
        }
    }
    if (o->csv_path && write_csv(o->csv_path, rows, nrows, o)) {
        err = sd_fail(ctx, SD_EIO, "bench: cannot write %s", o->csv_path);
        goto fail;
    }
    if (o->svg_path && write_svg(o->svg_path, rows, nrows, cv)) {
        err = sd_fail(ctx, SD_EIO, "bench: cannot write %s", o->svg_path);
        goto fail;
    }
    err = 0;
fail:
    ctx->cpu_flags = saved;
    bench_free(&b);
    return err;
}

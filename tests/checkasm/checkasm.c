/* checkasm driver: seed handling, PRNG, guarded buffers, comparison and reporting. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/cpu.h"
#include "tests/checkasm/checkasm.h"

#define GUARD 64
#define SENTINEL 0xA5

static uint64_t rng_state;
static int n_pass, n_fail;

uint32_t ca_rand(void)
{
    /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1DULL) >> 32);
}

float ca_randf(float lo, float hi)
{
    return lo + (hi - lo) * (float)(ca_rand() >> 8) * (1.0f / 16777216.0f);
}

float ca_randf_ext(float lo, float hi, const float *ext, int n_ext)
{
    if (n_ext > 0 && ca_rand() % 16 == 0)
        return ext[ca_rand() % (unsigned)n_ext];
    return ca_randf(lo, hi);
}

int ca_widths(const CaLevel *lv, int *out)
{
    int n = 0;
    for (int w = 1; w <= 2 * lv->vec + 1; w++) out[n++] = w;
    out[n++] = 3 * lv->vec + 5;
    out[n++] = 257;
    out[n++] = 1031;
    return n;
}

ptrdiff_t ca_rand_stride(size_t row_bytes)
{
    return (ptrdiff_t)(row_bytes + 4 * (1 + 2 * (ca_rand() % 5)));
}

void ca_buf_alloc(CaBuf *b, size_t row_bytes, int h, ptrdiff_t stride)
{
    b->row_bytes = row_bytes;
    b->stride = stride ? stride : ca_rand_stride(row_bytes);
    b->h = h;
    b->total = (size_t)b->stride * (size_t)h + 2 * GUARD;
    b->total = (b->total + 63) & ~(size_t)63;
    b->base = aligned_alloc(64, b->total);     /* payload starts 64-byte aligned (GUARD = 64) */
    if (!b->base) { fprintf(stderr, "checkasm: out of memory\n"); exit(2); }
    memset(b->base, SENTINEL, b->total);
    b->data = b->base + GUARD;
}

void ca_fill_f(CaBuf *b, int w, float lo, float hi, const float *ext, int n_ext)
{
    for (int y = 0; y < b->h; y++) {
        float *r = ca_rowf(b, y);
        for (int x = 0; x < w; x++) r[x] = ca_randf_ext(lo, hi, ext, n_ext);
    }
}

void ca_buf_free(CaBuf *b)
{
    free(b->base);
    memset(b, 0, sizeof(*b));
}

int ca_buf_guard_ok(const CaBuf *b, const char *what)
{
    for (size_t i = 0; i < b->total; i++) {
        const uint8_t *p = b->base + i;
        const ptrdiff_t off = p - b->data;
        if (off >= 0 && off < b->stride * b->h) {
            const ptrdiff_t y = off / b->stride, x = off % b->stride;
            if ((size_t)x < b->row_bytes) continue;
            if (*p != SENTINEL) {
                printf("    %s: write outside the output at row %td, byte %td of the row gap\n", what,
                       y, x);
                return 0;
            }
        } else if (*p != SENTINEL) {
            printf("    %s: write outside the output, %td bytes from its start\n", what, off);
            return 0;
        }
    }
    return 1;
}

int ca_cmp_f(const CaBuf *ref, const CaBuf *got, int w, int h, float abs_tol, float rel_tol,
             const char *what)
{
    for (int y = 0; y < h; y++) {
        const float *a = ca_rowf(ref, y), *b = ca_rowf(got, y);
        for (int x = 0; x < w; x++) {
            const float r = a[x], g = b[x];
            if (r == g || (isnan(r) && isnan(g))) continue;
            if (isfinite(r) && isfinite(g) && fabsf(g - r) <= abs_tol + rel_tol * fabsf(r)) continue;
            printf("    %s: mismatch at x=%d y=%d (w=%d h=%d): ref %.9g got %.9g (tol %g + %g rel)\n",
                   what, x, y, w, h, r, g, abs_tol, rel_tol);
            return 0;
        }
    }
    return 1;
}

int ca_cmp_bytes(const CaBuf *ref, const CaBuf *got, size_t row_bytes, int h, const char *what)
{
    for (int y = 0; y < h; y++) {
        const uint8_t *a = ref->data + y * ref->stride, *b = got->data + y * got->stride;
        for (size_t x = 0; x < row_bytes; x++)
            if (a[x] != b[x]) {
                printf("    %s: byte mismatch at offset %zu of row %d: ref %u got %u\n", what, x, y,
                       a[x], b[x]);
                return 0;
            }
    }
    return 1;
}

void ca_report(const char *kernel, const CaLevel *lv, int ok)
{
    printf("%s %-22s %s\n", ok ? "ok  " : "FAIL", kernel, lv->name);
    if (ok) n_pass++;
    else n_fail++;
}

int main(int argc, char **argv)
{
    uint64_t seed = (uint64_t)time(NULL) ^ ((uint64_t)clock() << 32);
    for (int i = 1; i < argc; i++) {
        if (!strncmp(argv[i], "--seed=", 7)) seed = strtoull(argv[i] + 7, NULL, 10);
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: checkasm [--seed=N]\n"
                   "Tests every SIMD kernel against its C reference at each CPU level this machine\n"
                   "supports (timings: build/bench/bench_kernels).\n");
            return 0;
        } else {
            fprintf(stderr, "checkasm: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    seed %= 1000000000ULL;
    printf("checkasm: seed %" PRIu64 " (replay with --seed=%" PRIu64 ")\n", seed, seed);
    const unsigned have = sd_cpu_detect();
    const CaLevel levels[3] = {
        { 0, 0, "c", 8 },
        { SD_CPU_AVX2, 0, "avx2", 8 },
        { SD_CPU_AVX2 | SD_CPU_AVX512, SD_CPU_AVX2, "avx512", 16 },
    };
    for (int l = 0; l < 3; l++) {
        const CaLevel *lv = &levels[l];
        if ((lv->flags & have) != lv->flags) {
            printf("skip %s: not supported by this CPU\n", lv->name);
            continue;
        }
        if (l == 0) continue;    /* the references themselves: nothing to compare */
        rng_state = seed * 0x9E3779B97F4A7C15ULL + 1 + (uint64_t)l;
        checkasm_colour(lv);
        checkasm_filter(lv);
        checkasm_hessian(lv);
        checkasm_warp(lv);
        checkasm_stats(lv);
        checkasm_warpcubic(lv);
        checkasm_skinmap(lv);
        checkasm_eccproj(lv);
        checkasm_tone(lv);
    }
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}

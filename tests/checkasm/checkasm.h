/* checkasm: proves every SIMD kernel pointer against its C reference on identical random inputs,
 * level by level (C -> AVX2 -> AVX-512), with guard-padded outputs. */
#ifndef TESTS_CHECKASM_CHECKASM_H
#define TESTS_CHECKASM_CHECKASM_H

#include <stddef.h>
#include <stdint.h>

/* Level under test: its flags, name, the vector width in floats, and the previous level's flags
 * (a pointer is tested at a level when it differs from the previous level's). */
typedef struct CaLevel {
    unsigned flags, prev_flags;
    const char *name;
    int vec;
} CaLevel;

uint32_t ca_rand(void);
float ca_randf(float lo, float hi);
/* A random float in [lo, hi] mostly, sometimes an extreme of the kernel's domain from `ext`. */
float ca_randf_ext(float lo, float hi, const float *ext, int n_ext);

/* Widths to try at a level: 1 .. 2*vec+1, then a few large ones; returns count (<= 64). */
int ca_widths(const CaLevel *lv, int *out);

/* Guarded plane: rows of `row_bytes` payload at `stride` (0: random, row_bytes + an odd number of
 * 4-byte words, so never a multiple of the vector size), sentinel bytes before, between and after
 * the rows. Planes a kernel takes with one stride are allocated with the same explicit stride. */
typedef struct CaBuf {
    uint8_t *base, *data;
    ptrdiff_t stride;
    size_t row_bytes, total;
    int h;
} CaBuf;
void ca_buf_alloc(CaBuf *b, size_t row_bytes, int h, ptrdiff_t stride);
ptrdiff_t ca_rand_stride(size_t row_bytes);
void ca_fill_f(CaBuf *b, int w, float lo, float hi, const float *ext, int n_ext);
void ca_buf_free(CaBuf *b);
/* 1 if the sentinel around the payload is intact (reports the first damaged byte). */
int ca_buf_guard_ok(const CaBuf *b, const char *what);
static inline float *ca_rowf(const CaBuf *b, int y) { return (float *)(b->data + y * b->stride); }

/* Compare float planes: |new - ref| <= abs_tol + rel_tol*|ref|; equal infinities and NaN-NaN
 * pass. Reports the first failure (x, y, values). Returns 1 if all within. */
int ca_cmp_f(const CaBuf *ref, const CaBuf *got, int w, int h, float abs_tol, float rel_tol,
             const char *what);
int ca_cmp_bytes(const CaBuf *ref, const CaBuf *got, size_t row_bytes, int h, const char *what);

/* Test bookkeeping. `name` e.g. "gauss_v_sym"; ca_report prints ok/FAIL per (kernel, level). */
void ca_report(const char *kernel, const CaLevel *lv, int ok);

void checkasm_colour(const CaLevel *lv);
void checkasm_filter(const CaLevel *lv);
void checkasm_hessian(const CaLevel *lv);
void checkasm_warp(const CaLevel *lv);
void checkasm_stats(const CaLevel *lv);
void checkasm_warpcubic(const CaLevel *lv);
void checkasm_skinmap(const CaLevel *lv);
void checkasm_eccproj(const CaLevel *lv);
void checkasm_tone(const CaLevel *lv);

#endif

/* Kernel benchmark core, shared by build/bench/bench_kernels and `skindelta bench --kernels`:
 * single-threaded MP/s of each image-level op at every CPU level this machine supports, the
 * speed-up over scalar, and OpenCV's equivalent measured in the same run. */
#ifndef KERNELS_BENCH_H
#define KERNELS_BENCH_H

#include <stdio.h>

#include "skindelta/skindelta.h"

typedef struct SdKBenchOpts {
    int width, height;        /* float images (default 3000 x 2000) */
    int u8_width, u8_height;  /* u8 RGB images (default 6000 x 4000) */
    int reps;                 /* timed runs per kernel and level, at least (fast kernels get up to 64
                               * so each is timed ~0.3 s); the median is reported (default 7) */
    const char *only;         /* comma-separated kernel names, or NULL for all */
    const char *csv_path;     /* NULL: no CSV */
    const char *svg_path;     /* NULL: no plot */
    const char *opencv_script;/* NULL: skip OpenCV; else run with /usr/bin/python3 */
    FILE *out;                /* table (default stdout) */
} SdKBenchOpts;

void sd_kbench_defaults(SdKBenchOpts *o);
/* Runs the benchmark; 0, SD_ENOMEM, SD_EIO (CSV/SVG write) or SD_EINVAL (unknown kernel name). */
int  sd_kbench_run(SdCtx *ctx, const SdKBenchOpts *o);

#endif

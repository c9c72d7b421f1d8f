/* Pipeline benchmark program (same as `skindelta bench --pipeline DIR`):
 *   build/bench/bench_pipeline [DIR [CSV]]   (default DIR: build/bench-pipeline, CSV:
 *   bench/results/pipeline.csv; "-" writes none) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skindelta/skindelta.h"
#include "bench/lib/bench.h"

int main(int argc, char **argv)
{
    SdCtx ctx;
    if (sd_ctx_init(&ctx) || sd_init(&ctx, argv[0])) {
        fprintf(stderr, "bench_pipeline: %s\n", ctx.errmsg);
        return 1;
    }
    const char *dir = argc > 1 ? argv[1] : "build/bench-pipeline";
    const char *csv = argc > 2 ? argv[2] : "bench/results/pipeline.csv";
    int err = sd_bench_pipeline(&ctx, dir, "samples/faces/astronaut.png", strcmp(csv, "-") ? csv : NULL, stdout);
    if (err) {
        fprintf(stderr, "bench_pipeline: %s\n", ctx.errmsg);
        return 1;
    }
    return 0;
}

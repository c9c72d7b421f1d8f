/* Pipeline benchmark program (same as `skindelta bench --pipeline DIR`):
 *   build/bench/bench_pipeline [DIR]   (default DIR: build/bench-pipeline) */
#include <stdio.h>
#include <stdlib.h>

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
    int err = sd_bench_pipeline(&ctx, dir, "samples/faces/astronaut.png", stdout);
    if (err) {
        fprintf(stderr, "bench_pipeline: %s\n", ctx.errmsg);
        return 1;
    }
    return 0;
}

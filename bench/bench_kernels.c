/* build/bench/bench_kernels: the kernel benchmark, as `skindelta bench --kernels`.
 * Writes bench/results/kernels.csv and kernels.svg (run from the repository root). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skindelta/skindelta.h"
#include "skindelta/util.h"
#include "bench/lib/kbench.h"

int main(int argc, char **argv)
{
    SdKBenchOpts o;
    sd_kbench_defaults(&o);
    const char *outdir = "bench/results";
    int opencv = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) {
            o.width = 600; o.height = 400; o.u8_width = 1200; o.u8_height = 800; o.reps = 3;
        } else if (!strcmp(argv[i], "--only") && i + 1 < argc) o.only = argv[++i];
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) o.reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--out") && i + 1 < argc) outdir = argv[++i];
        else if (!strcmp(argv[i], "--no-opencv")) opencv = 0;
        else {
            fprintf(stderr, "usage: bench_kernels [--quick] [--only A,B] [--reps N] [--out DIR] "
                            "[--no-opencv]\n");
            return 2;
        }
    }
    SdCtx ctx;
    if (sd_ctx_init(&ctx)) {
        fprintf(stderr, "bench_kernels: %s\n", ctx.errmsg);
        return 2;
    }
    if (sd_mkdir_p(outdir)) {
        fprintf(stderr, "bench_kernels: cannot create %s\n", outdir);
        return 1;
    }
    char *csv = sd_path_join(outdir, "kernels.csv"), *svg = sd_path_join(outdir, "kernels.svg");
    o.csv_path = csv;
    o.svg_path = svg;
    if (opencv) {
        if (sd_file_exists("bench/opencv_kernels.py")) o.opencv_script = "bench/opencv_kernels.py";
        else printf("note: bench/opencv_kernels.py not found (run from the repository root); "
                    "OpenCV column left empty\n");
    }
    const int err = sd_kbench_run(&ctx, &o);
    if (err) fprintf(stderr, "bench_kernels: %s: %s\n", sd_strerror(err), ctx.errmsg);
    else printf("wrote %s and %s\n", csv, svg);
    free(csv);
    free(svg);
    return err ? 1 : 0;
}

/* skindelta bench: the kernel benchmark (same core as build/bench/bench_kernels) and the
 * pipeline benchmark (same core as build/bench/bench_pipeline). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cli/cli.h"
#include "skindelta/util.h"
#include "bench/lib/kbench.h"
#include "bench/lib/bench.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: skindelta bench --kernels [options]\n"
        "       skindelta bench --pipeline DIR\n\n"
        "--pipeline DIR: the whole job on a before/after pair of 24 MP JPEGs in DIR (made from the\n"
        "sample face when DIR has none), single-threaded, as a ratio to decoding the two JPEGs with\n"
        "libjpeg-turbo in the same run, then the batch throughput on 2 worker threads. The last line\n"
        "reads `pipeline_to_decode_ratio=R pairs_per_minute_2cores=P`.\n\n"
        "Times every kernel op single-threaded at each CPU level this machine supports (median of\n"
        "repeated runs), with the speed-up over scalar and OpenCV's equivalent measured in the same\n"
        "run (Debian's python3-opencv via /usr/bin/python3; skipped with a notice when missing).\n\n"
        "options:\n"
        "  --kernels           run the kernel benchmark\n"
        "  --out DIR           write DIR/kernels.csv and DIR/kernels.svg (default bench/results)\n"
        "  --no-files          print the table only\n"
        "  --only A,B,...      only these kernels (names as in the table)\n"
        "  --reps N            timed runs per kernel and level (default 7)\n"
        "  --size WxH          float image size (default 3000x2000; u8 RGB is twice each side)\n"
        "  --quick             600x400 float, 1200x800 u8, 3 runs (a smoke test)\n"
        "  --opencv-script F   OpenCV driver (default bench/opencv_kernels.py); --no-opencv skips it\n");
}

int sd_cmd_bench(int argc, char **argv)
{
    SdKBenchOpts o;
    sd_kbench_defaults(&o);
    int kernels = 0, files = 1, opencv = 1;
    const char *outdir = "bench/results", *script = "bench/opencv_kernels.py";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const int more = i + 1 < argc;
        long v;
        if (sd_cli_is_help(a)) { usage(stdout); return SD_EXIT_OK; }
        else if (!strcmp(a, "--kernels")) kernels = 1;
        else if (!strcmp(a, "--pipeline")) {
            if (!more) return sd_cli_usage_error("bench", "--pipeline needs a folder");
            const char *dir = argv[++i];
            SdCtx pctx;
            if (sd_cli_setup(&pctx, NULL)) return SD_EXIT_USAGE;
            const char *face = sd_file_exists("samples/faces/astronaut.png") ? "samples/faces/astronaut.png"
                                                                          : "tests/data/face/astronaut.png";
            if (sd_bench_pipeline(&pctx, dir, face, stdout)) {
                fprintf(stderr, "skindelta bench: %s\n", pctx.errmsg);
                return SD_EXIT_PARTIAL;
            }
            return SD_EXIT_OK;
        } else if (!strcmp(a, "--out") && more) outdir = argv[++i];
        else if (!strcmp(a, "--no-files")) files = 0;
        else if (!strcmp(a, "--only") && more) o.only = argv[++i];
        else if (!strcmp(a, "--reps") && more) {
            if (sd_cli_parse_int(argv[++i], 1, 64, &v)) return sd_cli_usage_error("bench", "--reps needs 1..64");
            o.reps = (int)v;
        } else if (!strcmp(a, "--size") && more) {
            int w, h;
            char extra;
            if (sscanf(argv[++i], "%dx%d%c", &w, &h, &extra) != 2 || w < 16 || h < 16 || w > 20000 || h > 20000)
                return sd_cli_usage_error("bench", "--size needs WxH, 16..20000");
            o.width = w; o.height = h; o.u8_width = 2 * w; o.u8_height = 2 * h;
        } else if (!strcmp(a, "--quick")) {
            o.width = 600; o.height = 400; o.u8_width = 1200; o.u8_height = 800; o.reps = 3;
        } else if (!strcmp(a, "--opencv-script") && more) script = argv[++i];
        else if (!strcmp(a, "--no-opencv")) opencv = 0;
        else return sd_cli_usage_error("bench", "unknown or incomplete option '%s'", a);
    }
    if (!kernels) return sd_cli_usage_error("bench", "say what to run: --kernels");
    SdCtx ctx;
    if (sd_cli_setup(&ctx, NULL)) return SD_EXIT_USAGE;
    char *csv = NULL, *svg = NULL;
    if (files) {
        if (sd_mkdir_p(outdir)) {
            fprintf(stderr, "skindelta bench: cannot create %s\n", outdir);
            return SD_EXIT_PARTIAL;
        }
        csv = sd_path_join(outdir, "kernels.csv");
        svg = sd_path_join(outdir, "kernels.svg");
        if (!csv || !svg) { free(csv); free(svg); fprintf(stderr, "skindelta bench: out of memory\n"); return SD_EXIT_PARTIAL; }
    }
    o.csv_path = csv;
    o.svg_path = svg;
    if (opencv) {
        if (sd_file_exists(script)) o.opencv_script = script;
        else fprintf(stdout, "note: %s not found; OpenCV column left empty\n", script);
    }
    const int err = sd_kbench_run(&ctx, &o);
    if (err) fprintf(stderr, "skindelta bench: %s: %s\n", sd_strerror(err), ctx.errmsg);
    else if (files) printf("wrote %s and %s\n", csv, svg);
    free(csv);
    free(svg);
    return err == SD_EINVAL ? SD_EXIT_USAGE : err ? SD_EXIT_PARTIAL : SD_EXIT_OK;
}

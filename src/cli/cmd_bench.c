/* skindelta bench: the kernel benchmark (same core as build/bench/bench_kernels) and the
 * pipeline benchmark (same core as build/bench/bench_pipeline). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cli/cli.h"
#include "skindelta/util.h"
#include "bench/lib/kbench.h"
#include "bench/lib/bench.h"

static const SdCmdSpec spec = {
    "bench",
    "--kernels [options]\n--pipeline DIR",
    "--pipeline DIR: the whole job on a before/after pair of 24 MP JPEGs in DIR (made from the\n"
    "sample face when DIR has none), single-threaded, as a ratio to decoding the two JPEGs with\n"
    "libjpeg-turbo in the same run, its time per stage (OUT/pipeline.csv: stage,ms,share), then\n"
    "the batch throughput on 2 worker threads, the peak RSS of 1 and 2 workers and the cores two\n"
    "threads effectively get. The last line reads\n"
    "`pipeline_to_decode_ratio=R pairs_per_minute_2cores=P`.\n\n"
    "--kernels: times every kernel op single-threaded at each CPU level this machine supports\n"
    "(median of repeated runs), with the speed-up over scalar and OpenCV's equivalent measured in\n"
    "the same run (Debian's python3-opencv via /usr/bin/python3; skipped with a notice when\n"
    "missing).\n",
    "\nexit: 0 done, 1 a benchmark or a write failed, 2 usage error\n",
};

typedef struct Size {
    int w, h;
} Size;

static int parse_size(const char *v, void *dst)
{
    Size *s = dst;
    int w, h;
    char extra;
    if (sscanf(v, "%dx%d%c", &w, &h, &extra) != 2 || w < 16 || h < 16 || w > 20000 || h > 20000) return -1;
    s->w = w;
    s->h = h;
    return 0;
}

static int run_pipeline(const char *dir, const char *outdir, int files)
{
    SdCtx ctx;
    if (sd_cli_setup(&ctx, NULL)) return SD_EXIT_USAGE;
    const char *face = sd_file_exists("samples/faces/astronaut.png") ? "samples/faces/astronaut.png"
                                                                  : "tests/data/face/astronaut.png";
    char *csv = NULL;
    if (files) {
        if (sd_mkdir_p(outdir) || !(csv = sd_path_join(outdir, "pipeline.csv"))) {
            fprintf(stderr, "skindelta bench: cannot create %s\n", outdir);
            return SD_EXIT_PARTIAL;
        }
    }
    const int err = sd_bench_pipeline(&ctx, dir, face, csv, stdout);
    if (err) fprintf(stderr, "skindelta bench: %s\n", ctx.errmsg);
    else if (csv) printf("wrote %s\n", csv);
    free(csv);
    return err ? SD_EXIT_PARTIAL : SD_EXIT_OK;
}

int sd_cmd_bench(int argc, char **argv)
{
    SdKBenchOpts o;
    sd_kbench_defaults(&o);
    int kernels = 0, files = 1, opencv = 1, quick = 0, reps = 0;
    Size size = {0, 0};
    const char *outdir = "bench/results", *script = "bench/opencv_kernels.py", *pipeline = NULL;
    const SdOpt opts[] = {
        SD_OPT_FLAG("kernels", 0, "run the kernel benchmark", &kernels, 1),
        SD_OPT_STR("pipeline", 0, "DIR", "run the pipeline benchmark on the pair in DIR", &pipeline),
        SD_OPT_OUT(&outdir, "DIR", "write DIR/kernels.csv and DIR/kernels.svg, or with --pipeline\n"
                   "DIR/pipeline.csv (default bench/results)"),
        SD_OPT_FLAG("no-files", 0, "print the tables only", &files, 0),
        SD_OPT_STR("only", 0, "A,B,...", "only these kernels (names as in the table)", &o.only),
        { "reps", 0, SD_ARG_INT, "N", "timed runs per kernel and level, 1..64 (default 7)", &reps, .lo = 1, .hi = 64 },
        { "size", 0, SD_ARG_FN, "WxH", "float image size (default 3000x2000; u8 RGB is twice each side)", &size,
          .parse = parse_size, .expect = "WxH with each side in 16..20000" },
        SD_OPT_FLAG("quick", 0, "600x400 float, 1200x800 u8, 3 runs (a smoke test); --reps and --size\n"
                    "still apply", &quick, 1),
        SD_OPT_STR("opencv-script", 0, "F", "OpenCV driver (default bench/opencv_kernels.py)", &script),
        SD_OPT_FLAG("no-opencv", 0, "leave the OpenCV column empty", &opencv, 0),
    };
    int npos = 0;
    const int rc = sd_cli_parse(&spec, opts, SD_NOPTS(opts), argc, argv, NULL, 0, &npos);
    if (rc != SD_CLI_CONTINUE) return rc;
    if (pipeline) return run_pipeline(pipeline, outdir, files);
    if (!kernels) return sd_cli_usage_error("bench", "say what to run: --kernels or --pipeline DIR");
    if (quick) { o.width = 600; o.height = 400; o.u8_width = 1200; o.u8_height = 800; o.reps = 3; }
    if (reps) o.reps = reps;
    if (size.w) { o.width = size.w; o.height = size.h; o.u8_width = 2 * size.w; o.u8_height = 2 * size.h; }
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

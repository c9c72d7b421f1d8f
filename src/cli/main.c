/* skindelta CLI entry: global --help/--version and dispatch to the commands of DESIGN.md §7. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cli/cli.h"

typedef struct Cmd {
    const char *name;
    sd_cmd_fn fn;
    const char *summary;
} Cmd;

static const Cmd cmds[] = {
    {"run",           sd_cmd_run,           "score a batch: ROOT -o OUT (catalog, align, measure, course, cohort, report)"},
    {"compare",       sd_cmd_compare,       "score one before/after pair: BEFORE AFTER -o OUT"},
    {"measure",       sd_cmd_measure,       "per-image metrics without a course: IMG... -o OUT"},
    {"catalog",       sd_cmd_catalog,       "list what a batch would see: ROOT | --manifest FILE"},
    {"landmarks",     sd_cmd_landmarks,     "face box, score and 68 landmarks of one image"},
    {"align",         sd_cmd_align,         "put BEFORE and AFTER in the canonical frame, with QC and overlays"},
    {"merge",         sd_cmd_merge,         "combine shard outputs OUT1 OUT2 ... -o OUT, recompute the cohort"},
    {"repeatability", sd_cmd_repeatability, "repeat captures -> ICC(3,1), CV_w, SEM, MDC95 per metric x region"},
    {"synth",         sd_cmd_synth,         "write phantom courses with known ground truth (truth.json)"},
    {"bench",         sd_cmd_bench,         "kernel and pipeline benchmarks"},
    {"report",        sd_cmd_report,        "(re)build OUT/report/ from the CSV files of a run"},
    {"metrics",       sd_cmd_metrics,       "the codebook: metric ids, units, better direction, definitions"},
};
#define NCMDS (int)(sizeof(cmds) / sizeof(cmds[0]))

static void usage(FILE *f)
{
    fprintf(f,
        "skindelta %s — measured change scores from before/after facial skin photos\n\n"
        "usage: skindelta <command> [options]\n"
        "       skindelta <command> --help\n"
        "       skindelta --version\n\n"
        "commands:\n", sd_version());
    for (int i = 0; i < NCMDS; i++)
        fprintf(f, "  %-14s %s\n", cmds[i].name, cmds[i].summary);
    fprintf(f,
        "\nenvironment:\n"
        "  SKINDELTA_CPU=scalar|avx2|avx512   force a kernel level (also --cpu on commands)\n"
        "  SKINDELTA_MODELS=DIR               where the model files are (default: models/ next to\n"
        "                                     the binary's source tree, or the installed share dir)\n"
        "exit codes: 0 all done, 1 some inputs failed (see errors.csv), 2 usage error\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return SD_EXIT_USAGE;
    }
    if (sd_cli_is_help(argv[1]) || !strcmp(argv[1], "help")) {
        if (argc > 2 && strcmp(argv[1], "help") == 0) {
            char *h[] = {argv[2], "--help", NULL};
            for (int i = 0; i < NCMDS; i++)
                if (!strcmp(cmds[i].name, argv[2]))
                    return cmds[i].fn(2, h);
        }
        usage(stdout);
        return SD_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
        sd_cli_print_version(stdout);
        return SD_EXIT_OK;
    }
    for (int i = 0; i < NCMDS; i++)
        if (!strcmp(cmds[i].name, argv[1]))
            return cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "skindelta: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return SD_EXIT_USAGE;
}

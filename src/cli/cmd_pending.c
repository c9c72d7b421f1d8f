/* Commands whose implementation has not landed yet. Each is a weak symbol: the real command,
 * defined strongly in its own src/cli/cmd_<name>.c, replaces it at link time. They say so plainly
 * and exit 2 rather than print a fake result. */
#include <stdio.h>
#include <string.h>

#include "src/cli/cli.h"

#define PENDING(fn, name, usage_line)                                                          \
    __attribute__((weak)) int fn(int argc, char **argv)                                        \
    {                                                                                          \
        (void)argc; (void)argv;                                                                \
        fprintf(argc > 1 && sd_cli_is_help(argv[1]) ? stdout : stderr,                         \
                "usage: skindelta %s\n\nskindelta %s: not available in this build yet\n",     \
                usage_line, name);                                                             \
        return SD_EXIT_USAGE;                                                                  \
    }

PENDING(sd_cmd_run, "run", "run ROOT -o OUT [--jobs N] [--shard I/N] [--roi face|whole] [--mdc FILE] [--resume]")
PENDING(sd_cmd_compare, "compare", "compare BEFORE AFTER -o OUT")
PENDING(sd_cmd_catalog, "catalog", "catalog ROOT | --manifest FILE")
PENDING(sd_cmd_landmarks, "landmarks", "landmarks IMG [--json] [-o PNG]")
PENDING(sd_cmd_align, "align", "align BEFORE AFTER -o OUT")
PENDING(sd_cmd_merge, "merge", "merge OUT1 OUT2 ... -o OUT")
PENDING(sd_cmd_repeatability, "repeatability", "repeatability ROOT -o OUT")
PENDING(sd_cmd_synth, "synth", "synth -o DIR [--kind patch|face] [--patients N --sessions K --seed S]")
PENDING(sd_cmd_bench, "bench", "bench [--kernels] [--pipeline DIR]")
PENDING(sd_cmd_report, "report", "report OUT")

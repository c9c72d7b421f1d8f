/* The skindelta command line: one function per command, dispatched from main.c.
 * Each command gets argv with argv[0] = command name, parses its own options, and returns the
 * process exit code: 0 all done, 1 some inputs failed, 2 usage error. */
#ifndef SRC_CLI_CLI_H
#define SRC_CLI_CLI_H

#include "skindelta/skindelta.h"

#define SD_EXIT_OK      0
#define SD_EXIT_PARTIAL 1
#define SD_EXIT_USAGE   2

typedef int (*sd_cmd_fn)(int argc, char **argv);

int sd_cmd_run(int argc, char **argv);
int sd_cmd_compare(int argc, char **argv);
int sd_cmd_catalog(int argc, char **argv);
int sd_cmd_landmarks(int argc, char **argv);
int sd_cmd_align(int argc, char **argv);
int sd_cmd_merge(int argc, char **argv);
int sd_cmd_repeatability(int argc, char **argv);
int sd_cmd_synth(int argc, char **argv);
int sd_cmd_bench(int argc, char **argv);
int sd_cmd_report(int argc, char **argv);

/* Library + context set-up for a command: sd_init, SKINDELTA_CPU, then `cpu` (from --cpu) when
 * non-NULL. Prints the error and returns non-zero on failure. */
int  sd_cli_setup(SdCtx *ctx, const char *cpu);
/* "skindelta CMD: message" on stderr + "try 'skindelta CMD --help'"; returns SD_EXIT_USAGE. */
int  sd_cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* True when a is "--help" or "-h". */
int  sd_cli_is_help(const char *a);
/* Parse an int/double option value strictly; returns 0 on success. */
int  sd_cli_parse_int(const char *s, long lo, long hi, long *out);
int  sd_cli_parse_double(const char *s, double *out);

#endif

/* The skindelta command line: one function per command, dispatched from main.c.
 * Each command gets argv with argv[0] = command name, parses it with sd_cli_parse() over its own
 * option table (opts.c), and returns the process exit code: 0 all done, 1 some inputs failed,
 * 2 usage error. */
#ifndef SRC_CLI_CLI_H
#define SRC_CLI_CLI_H

#include <stdio.h>

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
int sd_cmd_measure(int argc, char **argv);
int sd_cmd_metrics(int argc, char **argv);

/* ---- the option parser (opts.c) ----
 * A command describes its options in a table of SdOpt; sd_cli_parse() reads argv with getopt_long
 * (`--opt value`, `--opt=value`, `-o value`, options before or after the positional arguments,
 * `--` ends the options), checks each value against its type and range, stores it through `dst`,
 * and answers --help (generated from the table) and --version itself. Every error names the
 * command's --help and exits 2, with one wording for every command. */
typedef enum SdArgType {
    SD_ARG_FLAG,     /* no value: *(int *)dst = ival */
    SD_ARG_STR,      /* *(const char **)dst = the value (non-empty unless allow_empty) */
    SD_ARG_INT,      /* integer in [lo, hi] -> *(int *)dst */
    SD_ARG_LONG,     /* integer in [lo, hi] -> *(long *)dst */
    SD_ARG_DOUBLE,   /* finite number in [lo, hi] (lo excluded when lo_open) -> *(double *)dst */
    SD_ARG_CHOICE,   /* one of the '|'-separated words of choices -> its index in *(int *)dst */
    SD_ARG_WORD,     /* one of the words of choices -> *(const char **)dst = the value */
    SD_ARG_FN,       /* parse(value, dst) returns 0 when valid; `expect` says what is valid */
} SdArgType;

typedef struct SdOpt {
    const char *name;        /* long name without "--" */
    int short_name;          /* 'o', or 0 */
    SdArgType type;
    const char *metavar;     /* "N", "DIR"; NULL: FLAG none, CHOICE the choices */
    const char *help;        /* one or more lines ('\n'), printed as they are (no printf) */
    void *dst;
    double lo, hi;           /* INT, LONG, DOUBLE */
    int lo_open;             /* DOUBLE: lo itself is not valid */
    const char *choices;     /* CHOICE, WORD: "face|whole" */
    int (*parse)(const char *value, void *dst);   /* FN */
    const char *expect;      /* replaces the generated "an integer in 1..256" in errors */
    int ival;                /* FLAG: the value stored */
    int allow_empty;         /* STR: "" is a value */
} SdOpt;

typedef struct SdCmdSpec {
    const char *name;        /* "run" */
    const char *usage;       /* what follows "skindelta run ", one form per line */
    const char *about;       /* paragraph(s) between the usage and the options */
    const char *footer;      /* after the options: outputs, exit codes */
} SdCmdSpec;

#define SD_CLI_CONTINUE (-1)

/* Parses argv[1..] (argv itself is not reordered). On success returns SD_CLI_CONTINUE and puts
 * the positional arguments in pos[0..*npos), at most maxpos of them (more is a usage error).
 * Otherwise returns the exit code the command should return now: 0 after --help or --version,
 * 2 after a usage error. */
int  sd_cli_parse(const SdCmdSpec *spec, const SdOpt *opts, int nopts, int argc, char **argv,
                  const char **pos, int maxpos, int *npos);
/* The help text of a command, generated from its table. */
void sd_cli_help(FILE *f, const SdCmdSpec *spec, const SdOpt *opts, int nopts);
/* "skindelta VERSION (git REV)" */
void sd_cli_print_version(FILE *f);

/* A string option and a flag, the two kinds most tables hold. */
#define SD_OPT_STR(name, short_name, metavar, help, dst) \
    { (name), (short_name), SD_ARG_STR, (metavar), (help), (dst), .allow_empty = 0 }
#define SD_OPT_FLAG(name, short_name, help, dst, value) \
    { (name), (short_name), SD_ARG_FLAG, NULL, (help), (dst), .ival = (value) }

/* Options several commands share, so they read and check the same everywhere. */
#define SD_OPT_CPU(dst) \
    { "cpu", 0, SD_ARG_WORD, "LEVEL", "kernel level: scalar, avx2 or avx512 (default: the best this CPU has)", \
      (dst), .choices = "scalar|avx2|avx512" }
#define SD_OPT_QUIET(dst, what)         SD_OPT_FLAG("quiet", 'q', (what), (dst), 1)
#define SD_OPT_OUT(dst, metavar, what)  SD_OPT_STR("out", 'o', (metavar), (what), (dst))
#define SD_OPT_JOBS(dst) \
    { "jobs", 'j', SD_ARG_INT, "N", "patients processed in parallel, 1..256 (default: all cores)", \
      (dst), .lo = 1, .hi = 256 }
#define SD_OPT_MANIFEST(dst) \
    SD_OPT_STR("manifest", 0, "FILE", "read the manifest CSV instead of walking ROOT", (dst))
#define SD_OPT_ROI(dst, what) \
    { "roi", 0, SD_ARG_CHOICE, NULL, (what), (dst), .choices = "face|whole" }
#define SD_OPT_MOTION(dst) \
    { "motion", 0, SD_ARG_CHOICE, "M", "translation | euclidean | affine | homography (default affine)", \
      (dst), .choices = "translation|euclidean|affine|homography" }
#define SD_OPT_IOD(dst) \
    { "iod", 0, SD_ARG_DOUBLE, "PX", "canonical inter-ocular distance in px, 32..4096 (default 640)", \
      (dst), .lo = 32, .hi = 4096 }
#define SD_OPT_PX_PER_MM(dst, what) \
    { "px-per-mm", 0, SD_ARG_DOUBLE, "X", (what), (dst), .lo = 0, .hi = 1000, .lo_open = 1 }
#define SD_OPT_PHOTOMETRY(dst, what) \
    { "photometry", 0, SD_ARG_WORD, "M", (what), (dst), .choices = "none|reference|chart" }
#define SD_NOPTS(table) ((int)(sizeof(table) / sizeof((table)[0])))

/* Library + context set-up for a command: sd_init, SKINDELTA_CPU, then `cpu` (from --cpu) when
 * non-NULL. Prints the error and returns non-zero on failure. */
int  sd_cli_setup(SdCtx *ctx, const char *cpu);
/* "skindelta CMD: message; try 'skindelta CMD --help'" on stderr; returns SD_EXIT_USAGE. */
int  sd_cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* True when a is "--help" or "-h". */
int  sd_cli_is_help(const char *a);

#endif

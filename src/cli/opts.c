/* One option parser for every command: getopt_long over the command's SdOpt table, one wording
 * for every error, --help generated from the same table, --version everywhere. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cli/cli.h"
#include "sd_version.h"

/* getopt_long values: a short name is its own character; long-only options and --version get
 * values above any character. */
#define VAL_LONG    256
#define VAL_HELP    'h'

int sd_cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "skindelta %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "; try 'skindelta %s --help'\n", cmd);
    return SD_EXIT_USAGE;
}

int sd_cli_is_help(const char *a)
{
    return a && (!strcmp(a, "--help") || !strcmp(a, "-h"));
}

void sd_cli_print_version(FILE *f)
{
    fprintf(f, "skindelta %s (git %s)\n", sd_version(), SD_GIT_REV);
}

int sd_cli_setup(SdCtx *ctx, const char *cpu)
{
    int err = sd_ctx_init(ctx);
    if (!err) err = sd_init(ctx, "skindelta");
    if (!err && cpu) err = sd_ctx_set_cpu(ctx, cpu);
    if (err) {
        fprintf(stderr, "skindelta: %s: %s\n", sd_strerror(err), ctx->errmsg);
        return err;
    }
    return 0;
}

/* ---- values */

static int parse_long(const char *s, long *out)
{
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    const long v = strtol(s, &end, 10);
    if (errno || *end) return -1;
    *out = v;
    return 0;
}

static int parse_double(const char *s, double *out)
{
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    const double v = strtod(s, &end);
    if (errno || *end || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

/* Index of word in a '|'-separated list, or -1. */
static int choice_index(const char *choices, const char *word)
{
    const size_t n = strlen(word);
    int i = 0;
    for (const char *p = choices; ; i++) {
        const char *bar = strchr(p, '|');
        const size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && !strncmp(p, word, n)) return i;
        if (!bar) return -1;
        p = bar + 1;
    }
}

/* "a, b or c" from "a|b|c", for the error messages. */
static void choices_prose(const char *choices, char *buf, size_t size)
{
    size_t o = 0;
    const char *last = strrchr(choices, '|');
    for (const char *p = choices; *p && o + 4 < size; p++) {
        if (*p != '|') { buf[o++] = *p; continue; }
        const char *sep = p == last ? " or " : ", ";
        const size_t k = strlen(sep);
        if (o + k + 1 >= size) break;
        memcpy(buf + o, sep, k);
        o += k;
    }
    buf[o] = 0;
}

/* What a valid value looks like, for "--X takes <this>, not 'v'". */
static void expectation(const SdOpt *o, char *buf, size_t size)
{
    if (o->expect) { snprintf(buf, size, "%s", o->expect); return; }
    switch (o->type) {
    case SD_ARG_INT: case SD_ARG_LONG:
        snprintf(buf, size, "an integer in %.0f..%.0f", o->lo, o->hi);
        break;
    case SD_ARG_DOUBLE:
        if (o->lo_open) snprintf(buf, size, "a number > %g and <= %g", o->lo, o->hi);
        else snprintf(buf, size, "a number in %g..%g", o->lo, o->hi);
        break;
    case SD_ARG_CHOICE: case SD_ARG_WORD:
        choices_prose(o->choices, buf, size);
        break;
    default:
        snprintf(buf, size, "a non-empty value");
    }
}

/* Checks value against o and stores it; 0 or -1 (invalid). */
static int store(const SdOpt *o, const char *v)
{
    long l;
    double d;
    int k;
    switch (o->type) {
    case SD_ARG_FLAG:
        *(int *)o->dst = o->ival;
        return 0;
    case SD_ARG_STR:
        if (!*v && !o->allow_empty) return -1;
        *(const char **)o->dst = v;
        return 0;
    case SD_ARG_INT: case SD_ARG_LONG:
        if (parse_long(v, &l) || l < o->lo || l > o->hi) return -1;
        if (o->type == SD_ARG_INT) *(int *)o->dst = (int)l;
        else *(long *)o->dst = l;
        return 0;
    case SD_ARG_DOUBLE:
        if (parse_double(v, &d) || d > o->hi || d < o->lo || (o->lo_open && d == o->lo)) return -1;
        *(double *)o->dst = d;
        return 0;
    case SD_ARG_CHOICE: case SD_ARG_WORD:
        if ((k = choice_index(o->choices, v)) < 0) return -1;
        if (o->type == SD_ARG_CHOICE) *(int *)o->dst = k;
        else *(const char **)o->dst = v;
        return 0;
    case SD_ARG_FN:
        return o->parse(v, o->dst);
    }
    return -1;
}

/* ---- help */

static const char *metavar(const SdOpt *o)
{
    if (o->type == SD_ARG_FLAG) return NULL;
    return o->metavar ? o->metavar : o->choices ? o->choices : "VALUE";
}

/* "-o, --out DIR" or "    --jobs N" */
static void left_column(const SdOpt *o, char *buf, size_t size)
{
    const char *mv = metavar(o);
    if (o->short_name)
        snprintf(buf, size, "-%c, --%s%s%s", o->short_name, o->name, mv ? " " : "", mv ? mv : "");
    else
        snprintf(buf, size, "    --%s%s%s", o->name, mv ? " " : "", mv ? mv : "");
}

static void help_row(FILE *f, const char *left, const char *text, int width)
{
    const int len = (int)strlen(left);
    fprintf(f, "  %s", left);
    if (len > width) fprintf(f, "\n  %*s", width, "");
    else fprintf(f, "%*s", width - len, "");
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        const int n = nl ? (int)(nl - p) : (int)strlen(p);
        fprintf(f, "  %.*s\n", n, p);
        if (!nl) break;
        p = nl + 1;
        if (*p) fprintf(f, "  %*s", width, "");
    }
}

static void print_lines(FILE *f, const char *first, const char *rest, const char *text)
{
    for (const char *p = text, *lead = first; *p; lead = rest) {
        const char *nl = strchr(p, '\n');
        const int n = nl ? (int)(nl - p) : (int)strlen(p);
        fprintf(f, "%s%.*s\n", lead, n, p);
        if (!nl) break;
        p = nl + 1;
    }
}

void sd_cli_help(FILE *f, const SdCmdSpec *spec, const SdOpt *opts, int nopts)
{
    char first[64], rest[64], left[96];
    snprintf(first, sizeof(first), "usage: skindelta %s ", spec->name);
    snprintf(rest, sizeof(rest), "       skindelta %s ", spec->name);
    print_lines(f, first, rest, spec->usage);
    if (spec->about) {
        fputc('\n', f);
        fputs(spec->about, f);
    }
    int width = 14;   /* "-h, --help" and "    --version" */
    for (int i = 0; i < nopts; i++) {
        left_column(&opts[i], left, sizeof(left));
        const int len = (int)strlen(left);
        if (len > width && len <= 26) width = len;
    }
    fputs("\noptions:\n", f);
    for (int i = 0; i < nopts; i++) {
        left_column(&opts[i], left, sizeof(left));
        help_row(f, left, opts[i].help, width);
    }
    help_row(f, "-h, --help", "this text", width);
    help_row(f, "    --version", "the version of skindelta", width);
    if (spec->footer) fputs(spec->footer, f);
}

/* ---- parsing */

/* "--name" without "=value", from a long option as typed. */
static void long_name(const char *arg, char *buf, size_t size)
{
    const char *eq = strchr(arg, '=');
    const int n = eq ? (int)(eq - arg) : (int)strlen(arg);
    snprintf(buf, size, "%.*s", n, arg);
}

static int find_val(const SdOpt *opts, int nopts, int val)
{
    for (int i = 0; i < nopts; i++)
        if ((opts[i].short_name ? opts[i].short_name : VAL_LONG + i) == val) return i;
    return -1;
}

/* What getopt_long refused, said in our words. `arg` is the last argument it read: the long
 * option itself (glibc steps past it), or the cluster holding a short one (optopt). getopt_long
 * accepts an unambiguous prefix of a long name; an ambiguous one is said so. */
static int rejected(const char *cmd, const SdOpt *opts, int nopts, const char *arg, int c, int opt)
{
    char name[128];
    const int is_long = arg && arg[0] == '-' && arg[1] == '-';
    if (is_long) long_name(arg, name, sizeof(name));
    else snprintf(name, sizeof(name), "-%c", opt > 0 && opt < VAL_LONG ? opt : '?');
    if (c == ':')
        return sd_cli_usage_error(cmd, "%s needs a value", name);
    if (opt) {   /* optopt is 0 for an unknown long option */
        if (is_long && strchr(arg, '='))   /* a flag given a value */
            return sd_cli_usage_error(cmd, "%s takes no value", name);
        snprintf(name, sizeof(name), "-%c", opt < VAL_LONG ? opt : '?');
        return sd_cli_usage_error(cmd, "unknown option '%s'", name);
    }
    int matches = 0;
    if (is_long && name[2])
        for (int i = 0; i < nopts; i++)
            matches += !strncmp(opts[i].name, name + 2, strlen(name + 2));
    if (matches > 1)
        return sd_cli_usage_error(cmd, "ambiguous option '%s'", name);
    return sd_cli_usage_error(cmd, "unknown option '%s'", name);
}

/* The getopt tables for opts, plus --help and --version. */
static int build_tables(const SdOpt *opts, int nopts, struct option **lo_out, char **so_out)
{
    struct option *lo = calloc((size_t)nopts + 3, sizeof(*lo));
    char *so = malloc(3 * (size_t)nopts + 4);
    if (!lo || !so) { free(lo); free(so); return -1; }
    size_t k = 0;
    so[k++] = ':';   /* a missing value returns ':', not '?' */
    for (int i = 0; i < nopts; i++) {
        const int arg = opts[i].type != SD_ARG_FLAG;
        lo[i] = (struct option){ opts[i].name, arg ? required_argument : no_argument, NULL,
                                 opts[i].short_name ? opts[i].short_name : VAL_LONG + i };
        if (opts[i].short_name) {
            so[k++] = (char)opts[i].short_name;
            if (arg) so[k++] = ':';
        }
    }
    so[k++] = 'h';
    so[k] = 0;
    lo[nopts] = (struct option){ "help", no_argument, NULL, VAL_HELP };
    lo[nopts + 1] = (struct option){ "version", no_argument, NULL, VAL_LONG + nopts };
    *lo_out = lo;
    *so_out = so;
    return 0;
}

int sd_cli_parse(const SdCmdSpec *spec, const SdOpt *opts, int nopts, int argc, char **argv,
                 const char **pos, int maxpos, int *npos)
{
    struct option *lo = NULL;
    char *so = NULL;
    /* getopt_long permutes what it parses: a copy keeps argv (and run.json's command line) as
     * the user typed it */
    char **av = calloc((size_t)argc + 1, sizeof(*av));
    int rc = SD_CLI_CONTINUE;
    if (!av || build_tables(opts, nopts, &lo, &so)) {
        fprintf(stderr, "skindelta %s: out of memory\n", spec->name);
        free(av);
        return SD_EXIT_PARTIAL;
    }
    memcpy(av, argv, sizeof(*av) * (size_t)argc);
    opterr = 0;
    optind = 0;   /* glibc: a full re-initialisation */
    int c;
    while (rc == SD_CLI_CONTINUE && (c = getopt_long(argc, av, so, lo, NULL)) != -1) {
        const int i = find_val(opts, nopts, c);
        char want[160];
        if (c == VAL_HELP) {
            sd_cli_help(stdout, spec, opts, nopts);
            rc = SD_EXIT_OK;
        } else if (c == VAL_LONG + nopts) {
            sd_cli_print_version(stdout);
            rc = SD_EXIT_OK;
        } else if (c == ':' || c == '?' || i < 0) {
            rc = rejected(spec->name, opts, nopts, av[optind - 1], c, optopt);
        } else if (store(&opts[i], optarg)) {
            expectation(&opts[i], want, sizeof(want));
            rc = sd_cli_usage_error(spec->name, "--%s takes %s, not '%s'", opts[i].name, want, optarg);
        }
    }
    if (rc == SD_CLI_CONTINUE) {
        *npos = 0;
        for (int k = optind; k < argc && rc == SD_CLI_CONTINUE; k++) {
            if (*npos == maxpos) rc = sd_cli_usage_error(spec->name, "too many arguments ('%s')", av[k]);
            else pos[(*npos)++] = av[k];
        }
    }
    free(lo);
    free(so);
    free(av);
    return rc;
}

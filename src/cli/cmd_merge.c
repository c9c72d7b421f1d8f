/* `skindelta merge OUT1 OUT2 ... -o OUT`: join the outputs of `run --shard I/N` and recompute the
 * tables that span patients (changes, trends, cohort) and the report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cli/cli.h"
#include "skindelta/merge.h"
#include "skindelta/util.h"

#if defined(__has_include)
#if __has_include("skindelta/report.h")
#include "skindelta/report.h"
#define SD_MERGE_HAVE_REPORT 1
#endif
#endif

static void help(FILE *f)
{
    fprintf(f,
        "usage: skindelta merge OUT1 OUT2 ... -o OUT [options]\n\n"
        "Joins the output folders of `skindelta run --shard I/N` into OUT: measurements.csv,\n"
        "uncertainty.csv, alignment.csv, errors.csv, catalog_errors.csv, patients/ and aligned/;\n"
        "then recomputes changes.csv, trends.csv and cohort.csv over all patients (the cohort\n"
        "tests and the Holm adjustment need every patient) and writes run.json listing the inputs.\n"
        "The result equals one unsharded run. Every file is written atomically.\n"
        "Refuses, writing nothing, when a patient appears in two inputs, when the same table has\n"
        "different headers in two inputs, when OUT is one of the inputs, when the inputs' run.json\n"
        "record different parameters that change results (naming it), when shards of the split\n"
        "are missing (unless --allow-partial), or when a shard holds a symbolic link.\n\n"
        "options:\n"
        "  -o, --out OUT     output folder (created)\n"
        "  --mdc FILE        repeatability.csv for MDC95 (from `skindelta repeatability`);\n"
        "                    'none': per-image bootstrap SDs. Default: the mdc_file all inputs'\n"
        "                    run.json name, else the bootstrap SDs\n"
        "  --copy            copy patients/ and aligned/ files instead of hard-linking them\n"
        "  --allow-partial   merge although shards of the split are missing (recorded in\n"
        "                    run.json and the report)\n"
        "  --no-report       do not regenerate OUT/report/\n"
        "  -q, --quiet       no summary line\n"
        "  -h, --help        this text\n"
        "exit: 0 merged and every input photo was scored; 1 merged but the shards' errors.csv list\n"
        "inputs that could not be scored (as `run` would exit), or the merge failed (unreadable or\n"
        "malformed input folder, write error); 2 usage error or incompatible inputs (overlapping\n"
        "shards, differing headers or parameters, missing shards, symbolic links)\n");
}

int sd_cmd_merge(int argc, char **argv)
{
    const char *out = NULL;
    int quiet = 0, report = 1, ninputs = 0;
    SdMergeOpts opts;
    sd_merge_opts_default(&opts);
    const char **inputs = sd_calloc_checked(argc > 0 ? (size_t)argc : 1, sizeof(*inputs));
    if (!inputs) { fprintf(stderr, "skindelta merge: out of memory\n"); return SD_EXIT_PARTIAL; }
    int rc = SD_EXIT_OK;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (sd_cli_is_help(a)) { help(stdout); goto done; }
        else if (!strcmp(a, "-o") || !strcmp(a, "--out")) {
            if (++i >= argc) { rc = sd_cli_usage_error("merge", "%s needs a folder", a); goto done; }
            out = argv[i];
        } else if (!strcmp(a, "--mdc")) {
            if (++i >= argc) { rc = sd_cli_usage_error("merge", "--mdc needs a file (or 'none')"); goto done; }
            opts.mdc_file = argv[i];
        } else if (!strcmp(a, "--copy")) opts.link_files = 0;
        else if (!strcmp(a, "--allow-partial")) opts.allow_partial = 1;
        else if (!strcmp(a, "--no-report")) report = 0;
        else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) quiet = 1;
        else if (a[0] == '-' && a[1]) { rc = sd_cli_usage_error("merge", "unknown option '%s'", a); goto done; }
        else inputs[ninputs++] = a;
    }
    if (!out) { rc = sd_cli_usage_error("merge", "missing -o OUT"); goto done; }
    if (!ninputs) { rc = sd_cli_usage_error("merge", "no input folders (OUT1 OUT2 ...)"); goto done; }
    SdCtx ctx;
    if (sd_cli_setup(&ctx, NULL)) { rc = SD_EXIT_USAGE; goto done; }
    SdMergeSummary s;
    int err = sd_merge_outputs(&ctx, inputs, ninputs, out, &opts, &s);
    if (err) {
        fprintf(stderr, "skindelta merge: %s\n", ctx.errmsg[0] ? ctx.errmsg : sd_strerror(err));
        rc = err == SD_EINVAL ? SD_EXIT_USAGE : SD_EXIT_PARTIAL;
        goto done;
    }
#ifdef SD_MERGE_HAVE_REPORT
    if (report && (err = sd_report_write(&ctx, out))) {
        fprintf(stderr, "skindelta merge: report: %s\n", ctx.errmsg[0] ? ctx.errmsg : sd_strerror(err));
        rc = SD_EXIT_PARTIAL;
    }
#else
    (void)report;
#endif
    if (!quiet)
        fprintf(stderr, "skindelta merge: %d inputs, %d patients, %zu measurements, %zu changes, "
                "%zu cohort rows, MDC95 from %s -> %s\n", s.inputs, s.patients, s.measurements,
                s.changes, s.cohort_rows, s.mdc_source, out);
    if (s.partial)
        fprintf(stderr, "skindelta merge: warning: partial merge: %d of %d shards missing (see run.json)\n",
                s.shards_missing, s.shard_count);
    /* the merged run is one run: inputs that failed in a shard make it exit as `run` would */
    if (s.input_errors > 0) {
        fprintf(stderr, "skindelta merge: %zu input(s) could not be scored in the shards: see %s/errors.csv\n",
                s.input_errors, out);
        if (rc == SD_EXIT_OK)
            rc = SD_EXIT_PARTIAL;
    }
done:
    free(inputs);
    return rc;
}

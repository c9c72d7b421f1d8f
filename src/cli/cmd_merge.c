/* `skindelta merge OUT1 OUT2 ... -o OUT`: join the outputs of `run --shard I/N` and recompute the
 * tables that span patients (changes, trends, cohort) and the report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cli/cli.h"
#include "skindelta/merge.h"
#include "skindelta/metrics.h"
#include "skindelta/util.h"

#include "skindelta/report.h"

static const SdCmdSpec spec = {
    "merge",
    "OUT1 OUT2 ... -o OUT [options]",
    "Joins the output folders of `skindelta run --shard I/N` into OUT: measurements.csv,\n"
    "uncertainty.csv, alignment.csv, errors.csv, catalog_errors.csv, patients/ and aligned/;\n"
    "then recomputes changes.csv, trends.csv and cohort.csv over all patients (the cohort\n"
    "tests and the Holm adjustment need every patient) and writes run.json listing the inputs.\n"
    "The result equals one unsharded run. Every file is written atomically.\n"
    "Refuses, writing nothing, when a patient appears in two inputs, when the same table has\n"
    "different headers in two inputs, when OUT is one of the inputs, when the inputs' run.json\n"
    "record different parameters that change results (naming it), when shards of the split\n"
    "are missing (unless --allow-partial), or when a shard holds a symbolic link.\n",
    "\nexit: 0 merged and every input photo was scored; 1 merged but the shards' errors.csv list\n"
    "inputs that could not be scored (as `run` would exit), or the merge failed (unreadable or\n"
    "malformed input folder, write error); 2 usage error or incompatible inputs (overlapping\n"
    "shards, differing headers or parameters, missing shards, symbolic links)\n",
};

int sd_cmd_merge(int argc, char **argv)
{
    const char *out = NULL;
    int quiet = 0, report = 1, ninputs = 0;
    SdMergeOpts opts_merge;
    sd_merge_opts_default(&opts_merge);
    const char **inputs = sd_calloc_checked(argc > 0 ? (size_t)argc : 1, sizeof(*inputs));
    if (!inputs) { fprintf(stderr, "skindelta merge: out of memory\n"); return SD_EXIT_PARTIAL; }
    int copy = 0;
    const SdOpt opts[] = {
        SD_OPT_OUT(&out, "DIR", "output folder (created)"),
        SD_OPT_STR("mdc", 0, "FILE", "repeatability.csv for MDC95 (from `skindelta repeatability`);\n"
                   "'none': per-image bootstrap SDs. Default: the mdc_file all inputs'\n"
                   "run.json name, else the bootstrap SDs", &opts_merge.mdc_file),
        SD_OPT_FLAG("copy", 0, "copy patients/ and aligned/ files instead of hard-linking them", &copy, 1),
        SD_OPT_FLAG("allow-partial", 0, "merge although shards of the split are missing (recorded in\n"
                    "run.json and the report)", &opts_merge.allow_partial, 1),
        SD_OPT_FLAG("no-report", 0, "do not regenerate OUT/report/", &report, 0),
        SD_OPT_QUIET(&quiet, "no summary line"),
    };
    int rc = sd_cli_parse(&spec, opts, SD_NOPTS(opts), argc, argv, inputs, argc, &ninputs);
    if (rc != SD_CLI_CONTINUE) goto done;
    rc = SD_EXIT_OK;
    if (copy) opts_merge.link_files = 0;
    if (!out) { rc = sd_cli_usage_error("merge", "-o OUT is required"); goto done; }
    if (!ninputs) { rc = sd_cli_usage_error("merge", "no input folders (OUT1 OUT2 ...)"); goto done; }
    SdCtx ctx;
    if (sd_cli_setup(&ctx, NULL)) { rc = SD_EXIT_USAGE; goto done; }
    SdMergeSummary s;
    int err = sd_merge_outputs(&ctx, inputs, ninputs, out, &opts_merge, &s);
    if (err) {
        fprintf(stderr, "skindelta merge: %s\n", ctx.errmsg[0] ? ctx.errmsg : sd_strerror(err));
        rc = err == SD_EINVAL ? SD_EXIT_USAGE : SD_EXIT_PARTIAL;
        goto done;
    }
    if ((err = sd_codebook_write(&ctx, out))) {   /* as every run's OUT holds it */
        fprintf(stderr, "skindelta merge: %s\n", ctx.errmsg);
        rc = SD_EXIT_PARTIAL;
    }
    if (report && (err = sd_report_write(&ctx, out))) {
        fprintf(stderr, "skindelta merge: report: %s\n", ctx.errmsg[0] ? ctx.errmsg : sd_strerror(err));
        rc = SD_EXIT_PARTIAL;
    }
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

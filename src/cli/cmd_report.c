/* `skindelta report OUT`: (re)build OUT/report/ from the CSV files and aligned/ images of a run. */
#include <stdio.h>
#include <string.h>

#include "src/cli/cli.h"
#include "skindelta/report.h"

static const SdCmdSpec spec = {
    "report",
    "OUT [options]",
    "Rebuilds the HTML report of a finished run (or merge) from the files in OUT:\n"
    "measurements.csv, changes.csv, cohort.csv, trends.csv, alignment.csv, errors.csv,\n"
    "run.json and aligned/<patient>/<view>_<session>[_regions|_wrinkles|_spots].png.\n"
    "Writes OUT/report/index.html (cohort), OUT/report/<patient>.html (one per patient) and\n"
    "OUT/report/img/ (downscaled JPEG copies): a self-contained folder, no network, no\n"
    "JavaScript. Missing files are reported in the pages.\n",
    "\nexit: 0 written, 1 the report could not be written (malformed CSV, I/O error),\n"
    "      2 usage error or OUT is not a run folder\n",
};

int sd_cmd_report(int argc, char **argv)
{
    const char *out = NULL;
    int npos = 0;
    const int rc = sd_cli_parse(&spec, NULL, 0, argc, argv, &out, 1, &npos);
    if (rc != SD_CLI_CONTINUE) return rc;
    if (!out) return sd_cli_usage_error("report", "missing OUT (the output folder of a run)");
    SdCtx ctx;
    if (sd_cli_setup(&ctx, NULL)) return SD_EXIT_USAGE;
    int err = sd_report_write(&ctx, out);
    if (err) {
        fprintf(stderr, "skindelta report: %s: %s\n", sd_strerror(err), ctx.errmsg);
        return err == SD_EIO && strstr(ctx.errmsg, "not a skindelta output folder") ? SD_EXIT_USAGE
                                                                                    : SD_EXIT_PARTIAL;
    }
    printf("%s/report/index.html\n", out);
    return SD_EXIT_OK;
}

/* `skindelta metrics [--csv]`: the codebook — every metric id, its unit, which direction is
 * better, whether it is primary, and a one-line definition — from the library's metric table
 * (the same rows as OUT/codebook.csv). */
#include <stdio.h>
#include <string.h>

#include "src/cli/cli.h"
#include "skindelta/metrics.h"

static const SdCmdSpec spec = {
    "metrics",
    "[--csv]",
    "Prints the codebook: every metric id, its unit, the better direction, whether it is one of\n"
    "the three primary metrics, and a one-line definition. The same rows are written as\n"
    "codebook.csv into the output folder of run, compare, repeatability, merge and measure.\n"
    "Units are ASCII (mm/cm2, 1/cm2); formulas and literature are in docs/METRICS.md.\n",
    "\nexit: 0 printed, 2 usage error\n",
};

int sd_cmd_metrics(int argc, char **argv)
{
    int csv = 0, npos = 0;
    const SdOpt opts[] = {
        SD_OPT_FLAG("csv", 0, "CSV (header " SD_CODEBOOK_HEADER ") instead of a table", &csv, 1),
    };
    const int rc = sd_cli_parse(&spec, opts, SD_NOPTS(opts), argc, argv, NULL, 0, &npos);
    if (rc != SD_CLI_CONTINUE) return rc;
    if (csv) return sd_codebook_csv(stdout) ? SD_EXIT_PARTIAL : SD_EXIT_OK;
    printf("%-26s %-8s %-7s %-8s %s\n", "metric", "unit", "better", "primary", "definition");
    for (int i = 0; i < SD_NMETRICS; i++) {
        const SdMetricInfo *m = sd_metric_info(i);
        printf("%-26s %-8s %-7s %-8s %s\n", m->id, m->unit, sd_metric_better_name(m->better),
               m->primary ? "yes" : "no", m->what);
    }
    return ferror(stdout) ? SD_EXIT_PARTIAL : SD_EXIT_OK;
}

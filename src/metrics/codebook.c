/* The codebook (codebook.csv in every output folder, `skindelta metrics --csv`): the metric
 * table of metrics.c as CSV, so a reader of the tables needs no other document for the units and
 * directions. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skindelta/metrics.h"
#include "skindelta/util.h"

int sd_codebook_csv(FILE *f)
{
    fputs(SD_CODEBOOK_HEADER "\n", f);
    for (int i = 0; i < SD_NMETRICS; i++) {
        const SdMetricInfo *m = sd_metric_info(i);
        sd_csv_field(f, m->id);
        fputc(',', f);
        sd_csv_field(f, m->unit);
        fprintf(f, ",%s,%d,", sd_metric_better_name(m->better), m->primary ? 1 : 0);
        sd_csv_field(f, m->what);
        fputc('\n', f);
    }
    return ferror(f) ? SD_EIO : 0;
}

int sd_codebook_write(SdCtx *ctx, const char *out_dir)
{
    char *path = sd_path_join(out_dir, SD_CODEBOOK_FILE);
    if (!path) return sd_fail(ctx, SD_ENOMEM, "out of memory");
    SdAtomicFile af;
    int err = 0;
    if (sd_atomic_open(&af, path)) {
        err = sd_fail(ctx, SD_EIO, "%s: cannot write: %s", path, strerror(errno));
    } else if (sd_codebook_csv(af.f)) {
        sd_atomic_abort(&af);
        err = sd_fail(ctx, SD_EIO, "%s: write error", path);
    } else if (sd_atomic_commit(&af)) {
        err = sd_fail(ctx, SD_EIO, "%s: cannot write: %s", path, strerror(errno));
    }
    free(path);
    return err;
}

/* `skindelta catalog ROOT | --manifest FILE`: what a batch would see, as a table, plus every
 * problem found on the way (one line each, naming the file). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "src/cli/cli.h"
#include "skindelta/catalog.h"
#include "skindelta/util.h"

static const SdCmdSpec spec = {
    "catalog",
    "ROOT [options]\n--manifest FILE.csv [options]",
    "Lists the patients, views and sessions a batch would score. Layout:\n"
    "  ROOT/<patient>/<session>/<view>.{jpg,jpeg,png,tif,tiff}   sessions in natural order,\n"
    "  the first is the baseline; or a manifest CSV with header patient,session,date,view,path\n"
    "  (date ISO 8601, optional; path relative to the manifest's folder).\n"
    "Days since baseline come from the manifest date, else EXIF DateTimeOriginal.\n",
    "\nexit: 0 listed (warnings allowed), 1 some entries had errors, 2 usage or unreadable root\n",
};

int sd_cmd_catalog(int argc, char **argv)
{
    const char *root = NULL, *manifest = NULL;
    int csv = 0;
    SdCatalogOpts copts = {1};
    const SdOpt opts[] = {
        SD_OPT_MANIFEST(&manifest),
        SD_OPT_FLAG("csv", 0, "machine-readable CSV on stdout (problems still on stderr)", &csv, 1),
        SD_OPT_FLAG("no-exif", 0, "do not open images to read EXIF dates (faster)", &copts.read_exif_dates, 0),
    };
    int npos = 0;
    const int rc = sd_cli_parse(&spec, opts, SD_NOPTS(opts), argc, argv, &root, 1, &npos);
    if (rc != SD_CLI_CONTINUE) return rc;
    if (!root == !manifest)
        return sd_cli_usage_error("catalog", "give exactly one of ROOT or --manifest FILE");
    SdCtx ctx;
    if (sd_cli_setup(&ctx, NULL)) return SD_EXIT_USAGE;
    SdCatalog cat;
    int err = manifest ? sd_catalog_manifest(&ctx, manifest, &copts, &cat)
                       : sd_catalog_scan(&ctx, root, &copts, &cat);
    if (err) {
        fprintf(stderr, "skindelta catalog: %s\n", ctx.errmsg);
        return SD_EXIT_USAGE;
    }
    int nerr = 0;
    for (int i = 0; i < cat.nissues; i++) {
        const SdCatIssue *is = &cat.issues[i];
        fprintf(stderr, "%s: %s: %s\n", is->level == SD_CAT_ERROR ? "error" : "warning", is->path, is->message);
        nerr += is->level == SD_CAT_ERROR;
    }
    if (csv) {
        printf("patient,view,session,session_index,date,days,date_source,path\n");
        for (int i = 0; i < cat.nentries; i++) {
            const SdCatEntry *e = &cat.entries[i];
            sd_csv_field(stdout, e->patient); putchar(',');
            sd_csv_field(stdout, e->view); putchar(',');
            sd_csv_field(stdout, e->session); printf(",%d,%s,", e->session_index, e->date);
            if (!isnan(e->days)) printf("%g", e->days);
            printf(",%s,", e->date_source);
            sd_csv_field(stdout, e->path); putchar('\n');
        }
    } else {
        printf("%-16s %-8s %-12s %5s %-10s %6s  %s\n", "patient", "view", "session", "index", "date", "days", "path");
        for (int i = 0; i < cat.nentries; i++) {
            const SdCatEntry *e = &cat.entries[i];
            char days[32] = "-";
            if (!isnan(e->days)) snprintf(days, sizeof(days), "%g", e->days);
            printf("%-16s %-8s %-12s %5d %-10s %6s  %s%s\n", e->patient, e->view, e->session,
                   e->session_index, e->date[0] ? e->date : "-", days, e->path,
                   e->session_index == 0 ? "  (baseline)" : "");
        }
        /* entries are grouped by patient and view: a follow-up counts when its group has a
         * baseline (one pass; sd_catalog_baseline_of per entry is quadratic on big manifests) */
        int followups = 0;
        for (int i = 0; i < cat.nentries;) {
            int j = i, base = 0, fu = 0;
            while (j < cat.nentries && !strcmp(cat.entries[j].patient, cat.entries[i].patient) &&
                   !strcmp(cat.entries[j].view, cat.entries[i].view)) {
                if (cat.entries[j].session_index == 0) base = 1; else fu++;
                j++;
            }
            if (base) followups += fu;
            i = j;
        }
        printf("\n%d patients, %d images, %d follow-up images with a baseline to compare; %d problems\n",
               cat.npatients, cat.nentries, followups, cat.nissues);
    }
    sd_catalog_free(&cat);
    return nerr ? SD_EXIT_PARTIAL : SD_EXIT_OK;
}

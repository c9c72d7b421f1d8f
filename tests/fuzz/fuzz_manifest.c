/* Fuzz target: the manifest parser (CSV + catalog rules) on arbitrary bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "skindelta/skindelta.h"
#include "skindelta/catalog.h"
#include "src/core/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static SdCtx ctx;
    static char path[64];
    if (!path[0]) {
        sd_ctx_init(&ctx);
        snprintf(path, sizeof(path), "/tmp/sd_fuzz_manifest_%ld.csv", (long)getpid());
    }
    SdCsv csv;
    if (sd_csv_parse(&ctx, "fuzz", (const char *)data, size, &csv) == 0) {
        for (int r = 0; r < csv.nrows; r++)
            for (int c = 0; c < csv.ncols; c++) (void)strlen(sd_csv_get(&csv, r, c));
        sd_csv_free(&csv);
    } else if (!ctx.errmsg[0]) {
        abort();
    }
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    SdCatalogOpts o = {0};
    SdCatalog cat;
    if (sd_catalog_manifest(&ctx, path, &o, &cat) == 0) {
        for (int i = 0; i < cat.nentries; i++) {
            if (cat.entries[i].session_index < 0) abort();
            (void)sd_catalog_baseline_of(&cat, i);
        }
        sd_catalog_shard(&cat, 1, 3);
        sd_catalog_free(&cat);
    }
    return 0;
}

/* A small RFC 4180 CSV reader into an in-memory table of strings (header + rows), with line
 * numbers for diagnostics. Used by the manifest parser, merge and the report. */
#ifndef SRC_CSV_H
#define SRC_CSV_H

#include <stddef.h>
#include "skindelta/skindelta.h"

typedef struct SdCsvRow {
    char **f;        /* fields (NUL-terminated, owned by the table) */
    int n;           /* number of fields */
    int line;        /* 1-based line where the record starts */
} SdCsvRow;

typedef struct SdCsv {
    char **header;   /* first record */
    int ncols;
    SdCsvRow *rows;  /* data records (header excluded); blank lines skipped */
    int nrows;
} SdCsv;

/* Parse text (NUL not required; n bytes). A UTF-8 BOM is skipped. Errors: SD_EFORMAT with the
 * line number in ctx (unterminated quote, garbage after a closing quote), SD_ELIMIT past
 * max_fields per row or max_rows. `name` is used in messages. */
int  sd_csv_parse(SdCtx *ctx, const char *name, const char *text, size_t n, SdCsv *csv);
/* Read a file (max 256 MiB) and parse it. */
int  sd_csv_load(SdCtx *ctx, const char *path, SdCsv *csv);
void sd_csv_free(SdCsv *csv);
/* Column index by header name, -1 when absent. */
int  sd_csv_col(const SdCsv *csv, const char *name);
/* Field of row r in column c, "" when the row is short or c < 0. */
const char *sd_csv_get(const SdCsv *csv, int r, int c);
/* Row r's fields (ncols of them) joined by sep into a malloc'ed string; r = -1 joins the header.
 * Tables are carried in memory as '\x1f'-joined rows (a byte no CSV field of ours contains). */
char *sd_csv_join(const SdCsv *csv, int r, char sep);
/* Write header + '\x1f'-joined rows as CSV (fields quoted as needed), atomically. */
int  sd_csv_write_rows(SdCtx *ctx, const char *path, const char *header, char *const *rows, size_t n);

#endif

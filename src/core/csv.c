/* RFC 4180 CSV reader: quoted fields with "" escapes and embedded newlines, CRLF or LF. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "src/core/csv.h"
#include "src/core/core.h"

#define MAX_FIELDS 4096
#define MAX_ROWS   (1 << 24)

typedef struct Buf { char *p; size_t n, cap; } Buf;

static int buf_put(Buf *b, char c)
{
    if (b->n + 1 >= b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        char *p = realloc(b->p, cap);
        if (!p) return -1;
        b->p = p; b->cap = cap;
    }
    b->p[b->n++] = c;
    return 0;
}

static void free_row(char **f, int n)
{
    for (int i = 0; i < n; i++) free(f[i]);
    free(f);
}

void sd_csv_free(SdCsv *csv)
{
    if (!csv) return;
    if (csv->header) free_row(csv->header, csv->ncols);
    for (int r = 0; r < csv->nrows; r++) free_row(csv->rows[r].f, csv->rows[r].n);
    free(csv->rows);
    memset(csv, 0, sizeof(*csv));
}

int sd_csv_parse(SdCtx *ctx, const char *name, const char *text, size_t n, SdCsv *csv)
{
    memset(csv, 0, sizeof(*csv));
    size_t i = 0;
    int line = 1, err = 0, have_header = 0, cap_rows = 0;
    Buf fb = {0};
    char **fields = NULL;
    int nf = 0, capf = 0;
    if (n >= 3 && (unsigned char)text[0] == 0xEF && (unsigned char)text[1] == 0xBB &&
        (unsigned char)text[2] == 0xBF)
        i = 3;
    while (i < n) {
        const int rec_line = line;
        nf = 0;
        int blank = 1;
        for (;;) {                                  /* one field per iteration */
            fb.n = 0;
            int quoted = 0;
            if (i < n && text[i] == '"') {
                quoted = 1; blank = 0; i++;
                for (;;) {
                    if (i >= n) {
                        err = sd_fail(ctx, SD_EFORMAT, "%s:%d: unterminated quoted field", name, rec_line);
                        goto fail;
                    }
                    char c = text[i++];
                    if (c == '"') {
                        if (i < n && text[i] == '"') { i++; if (buf_put(&fb, '"')) goto nomem; continue; }
                        break;
                    }
                    if (c == '\n') line++;
                    if (c == 0) {
                        err = sd_fail(ctx, SD_EFORMAT, "%s:%d: NUL byte in field", name, line);
                        goto fail;
                    }
                    if (buf_put(&fb, c)) goto nomem;
                }
            } else {
                while (i < n && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
                    if (text[i] == 0) {
                        err = sd_fail(ctx, SD_EFORMAT, "%s:%d: NUL byte (binary file?)", name, line);
                        goto fail;
                    }
                    if (text[i] == '"') {
                        err = sd_fail(ctx, SD_EFORMAT, "%s:%d: stray quote inside an unquoted field", name, line);
                        goto fail;
                    }
                    if (buf_put(&fb, text[i++])) goto nomem;
                    blank = 0;
                }
            }
            if (quoted && i < n && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
                err = sd_fail(ctx, SD_EFORMAT, "%s:%d: characters after a closing quote", name, line);
                goto fail;
            }
            if (nf >= MAX_FIELDS) {
                err = sd_fail(ctx, SD_ELIMIT, "%s:%d: more than %d fields", name, rec_line, MAX_FIELDS);
                goto fail;
            }
            if (nf == capf) {
                int c2 = capf ? capf * 2 : 16;
                char **nfp = realloc(fields, sizeof(*fields) * c2);
                if (!nfp) goto nomem;
                fields = nfp; capf = c2;
            }
            char *s = malloc(fb.n + 1);
            if (!s) goto nomem;
            if (fb.n) memcpy(s, fb.p, fb.n);
            s[fb.n] = 0;
            fields[nf++] = s;
            if (i < n && text[i] == ',') { i++; blank = 0; continue; }
            break;
        }
        /* end of record */
        if (i < n && text[i] == '\r') i++;
        if (i < n && text[i] == '\n') { i++; line++; }
        if (blank && nf == 1 && fields[0][0] == 0) {        /* skip blank lines */
            free(fields[0]); nf = 0;
            continue;
        }
        char **row = malloc(sizeof(*row) * (size_t)nf);
        if (!row) goto nomem;
        memcpy(row, fields, sizeof(*row) * (size_t)nf);
        if (!have_header) {
            csv->header = row; csv->ncols = nf; have_header = 1;
        } else {
            if (csv->nrows >= MAX_ROWS) {
                free_row(row, nf); nf = 0;
                err = sd_fail(ctx, SD_ELIMIT, "%s: more than %d rows", name, MAX_ROWS);
                goto fail;
            }
            if (csv->nrows == cap_rows) {
                int c2 = cap_rows ? cap_rows * 2 : 64;
                SdCsvRow *nr = realloc(csv->rows, sizeof(*nr) * (size_t)c2);
                if (!nr) { free_row(row, nf); nf = 0; goto nomem; }
                csv->rows = nr; cap_rows = c2;
            }
            csv->rows[csv->nrows].f = row;
            csv->rows[csv->nrows].n = nf;
            csv->rows[csv->nrows].line = rec_line;
            csv->nrows++;
        }
        nf = 0;
    }
    free(fields);
    free(fb.p);
    if (!have_header)
        return sd_fail(ctx, SD_EFORMAT, "%s: empty CSV (no header line)", name);
    return 0;
nomem:
    err = sd_fail(ctx, SD_ENOMEM, "%s: out of memory while parsing", name);
fail:
    for (int k = 0; k < nf; k++) free(fields[k]);
    free(fields);
    free(fb.p);
    sd_csv_free(csv);
    return err;
}

int sd_csv_load(SdCtx *ctx, const char *path, SdCsv *csv)
{
    char *data;
    size_t n;
    memset(csv, 0, sizeof(*csv));
    errno = 0;
    int err = sd_read_file(path, (size_t)256 << 20, &data, &n);
    if (err == SD_ELIMIT) return sd_fail(ctx, err, "%s: file larger than 256 MiB", path);
    if (err) {
        const int e = errno;
        if (sd_is_dir(path)) return sd_fail(ctx, err, "%s: is a folder, not a CSV file", path);
        return sd_fail(ctx, err, "%s: cannot read%s%s", path, e ? ": " : "", e ? strerror(e) : "");
    }
    err = sd_csv_parse(ctx, path, data, n, csv);
    free(data);
    return err;
}

int sd_csv_col(const SdCsv *csv, const char *name)
{
    for (int c = 0; c < csv->ncols; c++)
        if (!strcmp(csv->header[c], name)) return c;
    return -1;
}

const char *sd_csv_get(const SdCsv *csv, int r, int c)
{
    if (r < 0 || r >= csv->nrows || c < 0 || c >= csv->rows[r].n) return "";
    return csv->rows[r].f[c];
}

char *sd_csv_join(const SdCsv *csv, int r, char sep)
{
    size_t len = 1;
    for (int c = 0; c < csv->ncols; c++)
        len += strlen(r < 0 ? csv->header[c] : sd_csv_get(csv, r, c)) + 1;
    char *s = malloc(len), *p = s;
    if (!s) return NULL;
    for (int c = 0; c < csv->ncols; c++) {
        const char *f = r < 0 ? csv->header[c] : sd_csv_get(csv, r, c);
        if (c) *p++ = sep;
        const size_t n = strlen(f);
        memcpy(p, f, n);
        p += n;
    }
    *p = 0;
    return s;
}

int sd_csv_write_rows(SdCtx *ctx, const char *path, const char *header, char *const *rows, size_t n)
{
    SdAtomicFile af;
    if (sd_atomic_open(&af, path))
        return sd_fail(ctx, SD_EIO, "%s: cannot write: %s", path, strerror(errno));
    fprintf(af.f, "%s\n", header);
    for (size_t i = 0; i < n; i++) {
        const char *s = rows[i];
        for (;;) {
            const char *e = strchr(s, '\x1f');
            const size_t len = e ? (size_t)(e - s) : strlen(s);
            char *field = strndup(s, len);
            if (!field) { sd_atomic_abort(&af); return sd_fail(ctx, SD_ENOMEM, "%s: out of memory", path); }
            sd_csv_field(af.f, field);
            free(field);
            if (!e) break;
            fputc(',', af.f);
            s = e + 1;
        }
        fputc('\n', af.f);
    }
    if (sd_atomic_commit(&af))
        return sd_fail(ctx, SD_EIO, "%s: write failed: %s", path, strerror(errno));
    return 0;
}

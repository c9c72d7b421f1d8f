/* Merge of shard outputs: checks that the shards are disjoint and compatible before writing
 * anything, then writes the joined tables and the recomputed course/cohort tables atomically. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "skindelta/course.h"
#include "src/core/csv.h"
#include "skindelta/merge.h"
#include "src/core/core.h"
#include "sd_version.h"


/* ---- small string lists */

typedef struct StrList { char **v; size_t n, cap; } StrList;

static int sl_add(StrList *l, char *owned)
{
    if (!owned) return SD_ENOMEM;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        char **v = realloc(l->v, cap * sizeof(*v));
        if (!v) { free(owned); return SD_ENOMEM; }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = owned;
    return 0;
}

static void sl_free(StrList *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

static char *pathf(const char *a, const char *b)
{
    return sd_path_join(a, b);
}

/* ---- a generic table present in some shards (alignment, errors, catalog_errors) */

typedef struct Table {
    const char *name;
    SdCsv *csv;          /* per input; ncols 0 when the file is absent */
    int *present;
    char *header;        /* joined header of the first input that has the file */
} Table;

static int table_load(SdCtx *ctx, Table *t, const char *name, const char *const *inputs, int n)
{
    memset(t, 0, sizeof(*t));
    t->name = name;
    t->csv = sd_calloc_checked((size_t)n, sizeof(*t->csv));
    t->present = sd_calloc_checked((size_t)n, sizeof(int));
    if (!t->csv || !t->present) return sd_fail(ctx, SD_ENOMEM, "merge: out of memory");
    int first = -1;
    for (int i = 0; i < n; i++) {
        char *p = pathf(inputs[i], name);
        if (!p) return sd_fail(ctx, SD_ENOMEM, "merge: out of memory");
        int err = 0;
        if (sd_file_exists(p)) {
            err = sd_csv_load(ctx, p, &t->csv[i]);
            if (!err) t->present[i] = 1;
        }
        if (!err && t->present[i]) {
            char *h = sd_csv_join(&t->csv[i], -1, ',');
            if (!h) err = sd_fail(ctx, SD_ENOMEM, "merge: out of memory");
            else if (first < 0) { t->header = h; first = i; h = NULL; }
            else if (strcmp(h, t->header))
                err = sd_fail(ctx, SD_EINVAL, "%s: header '%s' differs from '%s' in %s/%s: the "
                              "shards were written by different versions or settings",
                              p, h, t->header, inputs[first], name);
            free(h);
        }
        free(p);
        if (err) return err;
    }
    return 0;
}

static void table_free(Table *t, int n)
{
    if (t->csv)
        for (int i = 0; i < n; i++) sd_csv_free(&t->csv[i]);
    free(t->csv);
    free(t->present);
    free(t->header);
    memset(t, 0, sizeof(*t));
}

/* ---- patients of each input, for the overlap check and the errors order */

typedef struct PatRef { const char *id; int input; int done_dir; } PatRef;

static int cmp_patref(const void *pa, const void *pb)
{
    const PatRef *a = pa, *b = pb;
    int c = sd_natcmp(a->id, b->id);
    if (!c) c = strcmp(a->id, b->id);
    if (!c) c = (a->input > b->input) - (a->input < b->input);
    return c;
}

typedef struct PatSet { PatRef *v; size_t n, cap; StrList owned; } PatSet;

static int ps_add(PatSet *s, const char *id, int input, int done_dir)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        PatRef *v = realloc(s->v, cap * sizeof(*v));
        if (!v) return SD_ENOMEM;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n].id = id;
    s->v[s->n].input = input;
    s->v[s->n].done_dir = done_dir;
    s->n++;
    return 0;
}

/* Finished patients under IN/patients/ (those with done.json). */
static int list_done_patients(SdCtx *ctx, const char *input, int idx, PatSet *s, int *has_dir)
{
    char *dir = pathf(input, "patients");
    if (!dir) return SD_ENOMEM;
    *has_dir = sd_is_dir(dir);
    DIR *d = *has_dir ? opendir(dir) : NULL;
    int err = 0;
    if (*has_dir && !d) err = sd_fail(ctx, SD_EIO, "%s: cannot list: %s", dir, strerror(errno));
    struct dirent *de;
    while (d && !err && (de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        char *pd = pathf(dir, de->d_name), *done = pd ? pathf(pd, "done.json") : NULL;
        if (!done) err = SD_ENOMEM;
        else if (sd_file_exists(done)) {
            char *id = sd_strdup(de->d_name);
            if ((err = sl_add(&s->owned, id))) { free(pd); free(done); break; }
            err = ps_add(s, id, idx, 1);
        }
        free(pd);
        free(done);
    }
    if (d) closedir(d);
    free(dir);
    return err;
}

/* ---- copying folders (hard link, else byte copy; never the atomic writers' temp files) */

static int copy_file(const char *src, const char *dst, int try_link)
{
    unlink(dst);
    if (try_link && !link(src, dst)) return 0;
    char *data = NULL;
    size_t n = 0;
    int err = sd_read_file(src, (size_t)1 << 34, &data, &n);
    if (!err) err = sd_write_file_atomic(dst, data, n);
    free(data);
    return err;
}

static int copy_tree(SdCtx *ctx, const char *src, const char *dst, int try_link, size_t *count)
{
    if (sd_mkdir_p(dst)) return sd_fail(ctx, SD_EIO, "%s: cannot create: %s", dst, strerror(errno));
    DIR *d = opendir(src);
    if (!d) return sd_fail(ctx, SD_EIO, "%s: cannot list: %s", src, strerror(errno));
    int err = 0;
    struct dirent *de;
    while (!err && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        if (strstr(de->d_name, ".tmp.")) continue;    /* unfinished atomic writes */
        char *s = pathf(src, de->d_name), *t = pathf(dst, de->d_name);
        struct stat st;
        if (!s || !t) err = sd_fail(ctx, SD_ENOMEM, "merge: out of memory");
        else if (stat(s, &st)) err = sd_fail(ctx, SD_EIO, "%s: %s", s, strerror(errno));
        else if (S_ISDIR(st.st_mode)) err = copy_tree(ctx, s, t, try_link, count);
        else if (S_ISREG(st.st_mode)) {
            if (copy_file(s, t, try_link))
                err = sd_fail(ctx, SD_EIO, "%s -> %s: copy failed: %s", s, t, strerror(errno));
            else
                (*count)++;
        }
        free(s);
        free(t);
    }
    closedir(d);
    return err;
}

/* ---- run.json: the mdc_file the shard ran with (a JSON string or null) */

/* 0 with *out = NULL (null/absent) or a malloc'ed string; SD_EFORMAT when unparsable. */
static int run_json_mdc(const char *input, char **out)
{
    *out = NULL;
    char *p = pathf(input, "run.json"), *text = NULL;
    size_t n = 0;
    if (!p) return SD_ENOMEM;
    int err = sd_file_exists(p) ? sd_read_file(p, 1 << 26, &text, &n) : 0;
    free(p);
    if (err || !text) return err;
    const char *k = strstr(text, "\"mdc_file\"");
    if (k) {
        k += strlen("\"mdc_file\"");
        while (*k == ' ' || *k == '\t' || *k == '\n' || *k == '\r') k++;
        if (*k++ != ':') err = SD_EFORMAT;
        while (!err && (*k == ' ' || *k == '\t' || *k == '\n' || *k == '\r')) k++;
        if (!err && *k == '"') {
            char *s = malloc(strlen(k) + 1), *w = s;
            if (!s) err = SD_ENOMEM;
            for (k++; s && *k && *k != '"'; k++) {
                if (*k == '\\' && k[1]) {
                    k++;
                    *w++ = *k == 'n' ? '\n' : *k == 't' ? '\t' : *k;
                } else {
                    *w++ = *k;
                }
            }
            if (s) {
                *w = 0;
                if (*k != '"') { free(s); err = SD_EFORMAT; } else *out = s;
            }
        } else if (!err && strncmp(k, "null", 4)) {
            err = SD_EFORMAT;
        }
    }
    free(text);
    return err;
}

static int same_dir(const char *a, const char *b)
{
    struct stat sa, sb;
    return !stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

void sd_merge_opts_default(SdMergeOpts *o)
{
    memset(o, 0, sizeof(*o));
    o->link_files = 1;
}

/* Resolve the MDC source: the option, else every input's run.json agreeing on one file. */
static int resolve_mdc(SdCtx *ctx, const char *const *inputs, int n, const SdMergeOpts *o,
                       char **mdc, SdMergeSummary *s)
{
    *mdc = NULL;
    if (o->mdc_file) {
        snprintf(s->mdc_source, sizeof(s->mdc_source), "option");
        if (!strcmp(o->mdc_file, "none")) return 0;     /* explicitly: bootstrap SDs */
        *mdc = sd_strdup(o->mdc_file);
        return *mdc ? 0 : SD_ENOMEM;
    }
    char *first = NULL;
    int err = 0, nnull = 0;
    for (int i = 0; i < n && !err; i++) {
        char *m = NULL;
        if ((err = run_json_mdc(inputs[i], &m))) {
            err = sd_fail(ctx, SD_EFORMAT, "%s/run.json: cannot read \"mdc_file\"", inputs[i]);
            break;
        }
        if (!m) nnull++;
        else if (!first) first = m, m = NULL;
        else if (strcmp(first, m))
            err = sd_fail(ctx, SD_EINVAL, "the shards ran with different --mdc files ('%s' in %s): "
                          "pass the one to use with --mdc", m, inputs[i]);
        free(m);
    }
    if (!err && first && nnull)
        err = sd_fail(ctx, SD_EINVAL, "some shards ran with --mdc %s and some without: pass --mdc "
                      "FILE (or --mdc none) to choose", first);
    if (err) { free(first); return err; }
    snprintf(s->mdc_source, sizeof(s->mdc_source), first ? "run.json" : "bootstrap");
    *mdc = first;
    return 0;
}

/* ---- the merge */

static int write_run_json(SdCtx *ctx, const char *out_dir, const char *const *inputs, int n,
                          const int *pat_per_input, const size_t *meas_per_input,
                          const char *mdc, const SdMergeSummary *s, double seconds)
{
    char *path = pathf(out_dir, "run.json");
    if (!path) return SD_ENOMEM;
    SdAtomicFile af;
    if (sd_atomic_open(&af, path)) {
        int err = sd_fail(ctx, SD_EIO, "%s: cannot create: %s", path, strerror(errno));
        free(path);
        return err;
    }
    FILE *f = af.f;
    fputs("{\n  \"command\": \"merge\",\n  \"version\": ", f);
    sd_json_string(f, sd_version());
    fputs(",\n  \"git_revision\": ", f);
    sd_json_string(f, SD_GIT_REV);
    fputs(",\n  \"inputs\": [", f);
    for (int i = 0; i < n; i++) {
        char *rj = pathf(inputs[i], "run.json"), hex[65];
        char abs[PATH_MAX];
        fputs(i ? ",\n    {\"path\": " : "\n    {\"path\": ", f);
        sd_json_string(f, realpath(inputs[i], abs) ? abs : inputs[i]);
        fprintf(f, ", \"patients\": %d, \"measurements\": %zu, \"run_json_sha256\": ",
                pat_per_input[i], meas_per_input[i]);
        if (rj && sd_file_exists(rj) && !sd_sha256_file(rj, hex)) sd_json_string(f, hex);
        else fputs("null", f);
        fputc('}', f);
        free(rj);
    }
    fputs("\n  ],\n  \"parameters\": {\"mdc_file\": ", f);
    if (mdc) sd_json_string(f, mdc); else fputs("null", f);
    fputs(", \"mdc_source\": ", f);
    sd_json_string(f, s->mdc_source);
    fprintf(f, "},\n  \"patients\": %d,\n  \"measurements\": %zu,\n  \"changes\": %zu,\n"
               "  \"trends\": %zu,\n  \"cohort_rows\": %zu,\n  \"files_copied\": %zu,\n"
               "  \"seconds\": ", s->patients, s->measurements, s->changes, s->trends,
            s->cohort_rows, s->files_copied);
    sd_json_num(f, seconds);
    fputs("\n}\n", f);
    int err = sd_atomic_commit(&af) ? sd_fail(ctx, SD_EIO, "%s: write failed", path) : 0;
    free(path);
    return err;
}

typedef struct AlignRef { const char *patient; int input, row; } AlignRef;

static int cmp_alignref(const void *pa, const void *pb)
{
    const AlignRef *a = pa, *b = pb;
    int c = sd_natcmp(a->patient, b->patient);
    if (!c) c = strcmp(a->patient, b->patient);
    if (!c) c = (a->input > b->input) - (a->input < b->input);
    if (!c) c = (a->row > b->row) - (a->row < b->row);
    return c;
}

static int contains(const StrList *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i], s)) return 1;
    return 0;
}

int sd_merge_outputs(SdCtx *ctx, const char *const *inputs, int n, const char *out_dir,
                     const SdMergeOpts *opts, SdMergeSummary *summary)
{
    const double t0 = sd_now();
    SdMergeOpts defo;
    if (!opts) { sd_merge_opts_default(&defo); opts = &defo; }
    SdMergeSummary s;
    memset(&s, 0, sizeof(s));
    s.inputs = n;
    int err = 0;
    SdMeasArray all = {0}, one = {0};
    SdRepeatArray rep = {0};
    SdChangeArray ch = {0};
    SdTrendArray tr = {0};
    SdCohortArray co = {0};
    Table align = {0}, errs = {0}, caterr = {0};
    PatSet pats = {0};
    StrList catrows = {0}, errrows = {0}, alignrows = {0};
    AlignRef *aref = NULL;
    int *has_pdir = NULL, *pat_per_input = NULL;
    size_t *meas_per_input = NULL;
    char *mdc = NULL, *p = NULL;

    if (n < 1) return sd_fail(ctx, SD_EINVAL, "merge: no input folders");
    has_pdir = sd_calloc_checked((size_t)n, sizeof(int));
    pat_per_input = sd_calloc_checked((size_t)n, sizeof(int));
    meas_per_input = sd_calloc_checked((size_t)n, sizeof(size_t));
    if (!has_pdir || !pat_per_input || !meas_per_input) goto nomem;

    /* 1. inputs: folders with a measurements table, none of them the output */
    for (int i = 0; i < n; i++) {
        if (!sd_is_dir(inputs[i])) {
            err = sd_fail(ctx, SD_EINVAL, "%s: not a folder", inputs[i]);
            goto fail;
        }
        if (same_dir(inputs[i], out_dir)) {
            err = sd_fail(ctx, SD_EINVAL, "%s: the output folder is also an input", out_dir);
            goto fail;
        }
        for (int j = 0; j < i; j++)
            if (same_dir(inputs[i], inputs[j])) {
                err = sd_fail(ctx, SD_EINVAL, "%s and %s are the same folder: shards overlap",
                              inputs[j], inputs[i]);
                goto fail;
            }
    }

    /* 2. per-image tables (contract headers are checked by the reader) and patient sets */
    for (int i = 0; i < n; i++) {
        char *mp = pathf(inputs[i], "measurements.csv"), *up = pathf(inputs[i], "uncertainty.csv");
        if (!mp || !up) { free(mp); free(up); goto nomem; }
        if (!sd_file_exists(mp)) {
            err = sd_fail(ctx, SD_EINVAL, "%s: missing (is %s the output folder of a run?)", mp, inputs[i]);
        } else {
            err = sd_meas_read(ctx, mp, up, &one);
        }
        free(mp);
        free(up);
        if (err) goto fail;
        meas_per_input[i] = one.n;
        for (size_t r = 0; r < one.n; r++) {
            if (r && !strcmp(one.v[r].patient, one.v[r - 1].patient)) continue;
            char *id = sd_strdup(one.v[r].patient);
            if ((err = sl_add(&pats.owned, id)) || (err = ps_add(&pats, id, i, 0))) goto nomem;
        }
        if ((err = sd_meas_append(&all, &one))) goto nomem;
        sd_meas_free(&one);
        if ((err = list_done_patients(ctx, inputs[i], i, &pats, &has_pdir[i]))) goto fail;
    }
    if ((err = table_load(ctx, &align, "alignment.csv", inputs, n)) ||
        (err = table_load(ctx, &errs, "errors.csv", inputs, n)) ||
        (err = table_load(ctx, &caterr, "catalog_errors.csv", inputs, n)))
        goto fail;
    if (errs.header && caterr.header && strcmp(errs.header, caterr.header)) {
        err = sd_fail(ctx, SD_EINVAL, "errors.csv header '%s' differs from catalog_errors.csv header '%s'",
                      errs.header, caterr.header);
        goto fail;
    }
    for (int i = 0; i < n; i++) {
        const int pc = align.present[i] ? sd_csv_col(&align.csv[i], "patient") : -1;
        for (int r = 0; pc >= 0 && r < align.csv[i].nrows; r++)
            if ((err = ps_add(&pats, sd_csv_get(&align.csv[i], r, pc), i, 0))) goto nomem;
    }

    /* 3. overlap: a patient in two inputs */
    qsort(pats.v, pats.n, sizeof(*pats.v), cmp_patref);
    for (size_t k = 0; k < pats.n; k++) {
        if (k && !strcmp(pats.v[k].id, pats.v[k - 1].id)) {
            if (pats.v[k].input != pats.v[k - 1].input) {
                err = sd_fail(ctx, SD_EINVAL, "patient '%s' is in both %s and %s: shards overlap "
                              "(each patient must be scored by exactly one shard)", pats.v[k].id,
                              inputs[pats.v[k - 1].input], inputs[pats.v[k].input]);
                goto fail;
            }
            continue;
        }
        s.patients++;
        pat_per_input[pats.v[k].input]++;
    }
    if ((err = resolve_mdc(ctx, inputs, n, opts, &mdc, &s))) goto fail;
    if (mdc && (err = sd_repeat_read(ctx, mdc, &rep))) {
        if (!strcmp(s.mdc_source, "run.json")) {
            char why[SD_ERRMSG_MAX];
            snprintf(why, sizeof(why), "%s", ctx->errmsg);
            err = sd_fail(ctx, err, "the shards ran with --mdc %s, which cannot be read here (%s): "
                          "pass --mdc FILE (or --mdc none)", mdc, why);
        }
        goto fail;
    }

    /* 4. everything checked: write. Folders first, tables after, run.json last. */
    if (sd_mkdir_p(out_dir)) {
        err = sd_fail(ctx, SD_EIO, "%s: cannot create: %s", out_dir, strerror(errno));
        goto fail;
    }
    for (size_t k = 0; k < pats.n; k++) {
        if (!pats.v[k].done_dir) continue;
        char *rel = NULL;
        if (asprintf(&rel, "patients/%s", pats.v[k].id) < 0) goto nomem;
        char *src = pathf(inputs[pats.v[k].input], rel), *dst = pathf(out_dir, rel);
        free(rel);
        if (!src || !dst) { free(src); free(dst); goto nomem; }
        err = copy_tree(ctx, src, dst, opts->link_files, &s.files_copied);
        free(src);
        free(dst);
        if (err) goto fail;
    }
    for (int i = 0; i < n; i++) {
        char *src = pathf(inputs[i], "aligned"), *dst = pathf(out_dir, "aligned");
        if (!src || !dst) { free(src); free(dst); goto nomem; }
        if (sd_is_dir(src)) err = copy_tree(ctx, src, dst, opts->link_files, &s.files_copied);
        free(src);
        free(dst);
        if (err) goto fail;
    }

    sd_meas_sort(&all);
    s.measurements = all.n;
#define OUTP(name) (free(p), p = pathf(out_dir, name))
    if (!OUTP("measurements.csv")) goto nomem;
    if ((err = sd_meas_write(ctx, p, &all))) goto fail;
    if (!OUTP("uncertainty.csv")) goto nomem;
    if ((err = sd_uncert_write(ctx, p, &all))) goto fail;

    /* alignment: by patient (natural order), stable */
    if (align.header) {
        size_t na = 0, k = 0;
        for (int i = 0; i < n; i++) na += align.present[i] ? (size_t)align.csv[i].nrows : 0;
        aref = sd_calloc_checked(na ? na : 1, sizeof(*aref));
        if (!aref) goto nomem;
        for (int i = 0; i < n; i++) {
            if (!align.present[i]) continue;
            const int pc = sd_csv_col(&align.csv[i], "patient");
            for (int r = 0; r < align.csv[i].nrows; r++, k++) {
                aref[k].patient = pc >= 0 ? sd_csv_get(&align.csv[i], r, pc) : "";
                aref[k].input = i;
                aref[k].row = r;
            }
        }
        qsort(aref, na, sizeof(*aref), cmp_alignref);
        for (k = 0; k < na; k++)
            if ((err = sl_add(&alignrows, sd_csv_join(&align.csv[aref[k].input], aref[k].row, '\x1f')))) goto nomem;
        if (!OUTP("alignment.csv")) goto nomem;
        if ((err = sd_csv_write_rows(ctx, p, align.header, alignrows.v, alignrows.n))) goto fail;
    }

    /* catalog errors: every shard catalogued the same root: the first shard's rows as they are,
     * then the rows of the others that it does not have */
    for (int i = 0, first = 1; i < n; i++) {
        const size_t known = catrows.n;
        for (int r = 0; caterr.present[i] && r < caterr.csv[i].nrows; r++) {
            char *row = sd_csv_join(&caterr.csv[i], r, '\x1f');
            if (!row) goto nomem;
            int dup = 0;
            for (size_t k = 0; !first && k < known && !dup; k++) dup = !strcmp(catrows.v[k], row);
            if (dup) free(row);
            else if ((err = sl_add(&catrows, row))) goto nomem;
        }
        if (caterr.present[i]) first = 0;
    }
    if (caterr.header) {
        if (!OUTP("catalog_errors.csv")) goto nomem;
        if ((err = sd_csv_write_rows(ctx, p, caterr.header, catrows.v, catrows.n))) goto fail;
    }

    /* errors: catalog rows, then per patient in natural order (from patients/<id>/errors.csv
     * where the shard has them, else the shard's own rows minus its catalog rows) */
    if (errs.header || caterr.header) {
        const char *hdr = errs.header ? errs.header : caterr.header;
        for (size_t k = 0; k < catrows.n; k++) {
            char *c = sd_strdup(catrows.v[k]);
            if ((err = sl_add(&errrows, c))) goto nomem;
        }
        for (size_t k = 0; k < pats.n; k++) {
            if (!pats.v[k].done_dir) continue;
            char *rel = NULL;
            if (asprintf(&rel, "patients/%s/errors.csv", pats.v[k].id) < 0) goto nomem;
            char *ep = pathf(inputs[pats.v[k].input], rel);
            free(rel);
            if (!ep) goto nomem;
            SdCsv csv;
            memset(&csv, 0, sizeof(csv));
            if (sd_file_exists(ep)) {
                err = sd_csv_load(ctx, ep, &csv);
                char *h = err ? NULL : sd_csv_join(&csv, -1, ',');
                if (!err && (!h || strcmp(h, hdr)))
                    err = h ? sd_fail(ctx, SD_EINVAL, "%s: header '%s' differs from '%s'", ep, h, hdr)
                            : SD_ENOMEM;
                free(h);
                for (int r = 0; !err && r < csv.nrows; r++)
                    err = sl_add(&errrows, sd_csv_join(&csv, r, '\x1f'));
                sd_csv_free(&csv);
            }
            free(ep);
            if (err) goto fail;
        }
        for (int i = 0; i < n; i++) {
            if (has_pdir[i] || !errs.present[i]) continue;
            for (int r = 0; r < errs.csv[i].nrows; r++) {
                char *row = sd_csv_join(&errs.csv[i], r, '\x1f');
                if (!row) goto nomem;
                if (contains(&catrows, row)) free(row);
                else if ((err = sl_add(&errrows, row))) goto nomem;
            }
        }
        if (!OUTP("errors.csv")) goto nomem;
        if ((err = sd_csv_write_rows(ctx, p, hdr, errrows.v, errrows.n))) goto fail;
        s.input_errors = errrows.n;
    }

    /* 5. statistics over all patients */
    if ((err = sd_course_changes(ctx, &all, mdc ? &rep : NULL, &ch))) goto fail;
    if ((err = sd_course_trends(ctx, &all, &tr))) goto fail;
    if ((err = sd_course_cohort(ctx, &ch, &co))) goto fail;
    s.changes = ch.n;
    s.trends = tr.n;
    s.cohort_rows = co.n;
    if (!OUTP("changes.csv")) goto nomem;
    if ((err = sd_change_write(ctx, p, &ch))) goto fail;
    if (!OUTP("trends.csv")) goto nomem;
    if ((err = sd_trend_write(ctx, p, &tr))) goto fail;
    if (!OUTP("cohort.csv")) goto nomem;
    if ((err = sd_cohort_write(ctx, p, &co))) goto fail;
#undef OUTP
    err = write_run_json(ctx, out_dir, inputs, n, pat_per_input, meas_per_input, mdc, &s,
                         sd_now() - t0);
    goto fail;
nomem:
    err = sd_fail(ctx, SD_ENOMEM, "merge: out of memory");
fail:
    if (summary) *summary = s;
    free(p);
    free(mdc);
    free(aref);
    free(has_pdir);
    free(pat_per_input);
    free(meas_per_input);
    sd_meas_free(&all);
    sd_meas_free(&one);
    sd_repeat_free(&rep);
    sd_change_free(&ch);
    sd_trend_free(&tr);
    sd_cohort_free(&co);
    table_free(&align, n);
    table_free(&errs, n);
    table_free(&caterr, n);
    free(pats.v);
    sl_free(&pats.owned);
    sl_free(&catrows);
    sl_free(&errrows);
    sl_free(&alignrows);
    return err;
}

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
    if (try_link && !link(src, dst)) return 0;   /* (link(2) does not follow a symbolic link) */
    char *data = NULL;
    size_t n = 0;
    int err = sd_read_file(src, (size_t)1 << 34, &data, &n);
    if (!err) err = sd_write_file_atomic(dst, data, n);
    free(data);
    return err;
}

/* What a folder to copy holds: regular files and folders only. A symbolic link (to /etc/passwd,
 * or to another shard's results) or a device would copy what does not belong to the shard. */
static int check_tree(SdCtx *ctx, const char *src, int depth)
{
    struct stat st;
    if (lstat(src, &st)) return sd_fail(ctx, SD_EIO, "%s: %s", src, strerror(errno));
    if (S_ISLNK(st.st_mode))
        return sd_fail(ctx, SD_EINVAL, "%s: a symbolic link in a shard's output folder: refused (merge "
                       "copies only the regular files that live inside the shard)", src);
    if (S_ISREG(st.st_mode)) return 0;
    if (!S_ISDIR(st.st_mode))
        return sd_fail(ctx, SD_EINVAL, "%s: neither a file nor a folder: refused", src);
    if (depth > 16) return sd_fail(ctx, SD_EINVAL, "%s: folders nested too deep", src);
    DIR *d = opendir(src);
    if (!d) return sd_fail(ctx, SD_EIO, "%s: cannot list: %s", src, strerror(errno));
    int err = 0;
    struct dirent *de;
    while (!err && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || strstr(de->d_name, ".tmp.")) continue;
        char *c = pathf(src, de->d_name);
        err = c ? check_tree(ctx, c, depth + 1) : sd_fail(ctx, SD_ENOMEM, "merge: out of memory");
        free(c);
    }
    closedir(d);
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
        else if (lstat(s, &st)) err = sd_fail(ctx, SD_EIO, "%s: %s", s, strerror(errno));
        else if (S_ISDIR(st.st_mode)) err = copy_tree(ctx, s, t, try_link, count);
        else if (S_ISREG(st.st_mode)) {
            if (copy_file(s, t, try_link))
                err = sd_fail(ctx, SD_EIO, "%s -> %s: copy failed: %s", s, t, strerror(errno));
            else
                (*count)++;
        } else   /* (check_tree refused these before anything was written; one appeared since) */
            err = sd_fail(ctx, SD_EINVAL, "%s: not a regular file: refused", s);
        free(s);
        free(t);
    }
    closedir(d);
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

/* ---- the merge */

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

/* ---- the merge, step by step */

/* The state of one merge, filled by the steps sd_merge_outputs lists. */
typedef struct Merge {
    SdCtx *ctx;
    const char *const *inputs;
    int n;
    const char *out_dir;
    const SdMergeOpts *opts;
    SdMergeSummary s;
    SdJson *runs;                /* each input's run.json (SD_JSON_NULL when it has none) */
    SdMeasArray all;             /* every input's measurements */
    Table align, errs, caterr;
    PatSet pats;                 /* patients of every input, for the overlap check */
    StrList catrows;             /* the merged catalog_errors.csv rows */
    int *has_pdir, *pat_per_input;
    size_t *meas_per_input;
    char *mdc;                   /* the repeatability.csv used, or NULL */
    SdRepeatArray rep;
    unsigned char *shards_seen;  /* [shard index]: an input ran as that shard */
    char run_id[SD_RUN_ID_LEN];  /* this merge's run id */
} Merge;

static int nomem(Merge *m)
{
    return sd_fail(m->ctx, SD_ENOMEM, "merge: out of memory");
}

/* 1. inputs: folders, none of them the output, no folder twice */
static int check_folders(Merge *m)
{
    for (int i = 0; i < m->n; i++) {
        if (!sd_is_dir(m->inputs[i]))
            return sd_fail(m->ctx, SD_EINVAL, "%s: not a folder", m->inputs[i]);
        if (same_dir(m->inputs[i], m->out_dir))
            return sd_fail(m->ctx, SD_EINVAL, "%s: the output folder is also an input", m->out_dir);
        for (int j = 0; j < i; j++)
            if (same_dir(m->inputs[i], m->inputs[j]))
                return sd_fail(m->ctx, SD_EINVAL, "%s and %s are the same folder: shards overlap",
                               m->inputs[j], m->inputs[i]);
    }
    return 0;
}

/* 2a. each input's run.json, parsed (absent: a null value; present but invalid: an error) */
static int read_run_json(Merge *m)
{
    m->runs = sd_calloc_checked((size_t)m->n, sizeof(*m->runs));
    if (!m->runs) return nomem(m);
    for (int i = 0; i < m->n; i++) {
        char *p = pathf(m->inputs[i], "run.json");
        if (!p) return nomem(m);
        int err = sd_file_exists(p) ? sd__json_load(m->ctx, p, 1 << 26, &m->runs[i]) : 0;
        free(p);
        if (!err) err = sd__out_check(m->ctx, m->inputs[i]);   /* one run's files, not a mix */
        if (err) return err;
    }
    return 0;
}

static int json_equal(const SdJson *a, const SdJson *b)
{
    if (a->type != b->type || a->n != b->n) return 0;
    switch (a->type) {
    case SD_JSON_NUM: case SD_JSON_BOOL: return a->num == b->num;
    case SD_JSON_STR: return !strcmp(a->str, b->str);
    case SD_JSON_ARR:
        for (int i = 0; i < a->n; i++)
            if (!json_equal(&a->items[i], &b->items[i])) return 0;
        return 1;
    case SD_JSON_OBJ:
        for (int i = 0; i < a->n; i++) {
            const SdJson *v = sd__json_get(b, a->keys[i]);
            if (!v || !json_equal(&a->items[i], v)) return 0;
        }
        return 1;
    default: return 1;
    }
}

/* A value as short text for a message. */
static void json_brief(const SdJson *v, char *out, size_t n)
{
    if (!v) snprintf(out, n, "(absent)");
    else if (v->type == SD_JSON_STR) snprintf(out, n, "\"%.100s\"", v->str);
    else if (v->type == SD_JSON_NUM) snprintf(out, n, "%.9g", v->num);
    else if (v->type == SD_JSON_BOOL) snprintf(out, n, "%s", v->num ? "true" : "false");
    else if (v->type == SD_JSON_NULL) snprintf(out, n, "null");
    else snprintf(out, n, "%s of %d", v->type == SD_JSON_ARR ? "a list" : "an object", v->n);
}

/* Parameters that do not change results: threads, and the MDC file (resolve_mdc has its own
 * rule). Everything else in run.json's "parameters", and the version, must be equal. */
static int result_neutral(const char *key)
{
    return !strcmp(key, "jobs") || !strcmp(key, "mdc_file");
}

static int check_key(Merge *m, int first, int i, const char *key, const SdJson *a, const SdJson *b)
{
    if (result_neutral(key) || (!a && !b) || (a && b && json_equal(a, b))) return 0;
    char va[128], vb[128];
    json_brief(a, va, sizeof(va));
    json_brief(b, vb, sizeof(vb));
    return sd_fail(m->ctx, SD_EINVAL, "the shards ran with different '%s' (%s in %s/run.json, %s in "
                   "%s/run.json): their results cannot be merged; run them again with the same "
                   "parameters", key, va, m->inputs[first], vb, m->inputs[i]);
}

/* 2d. the parameters that change results are the same in every input that records them */
static int check_parameters(Merge *m)
{
    int first = -1;
    for (int i = 0; i < m->n; i++) {
        if (m->runs[i].type != SD_JSON_OBJ) continue;   /* no run.json: nothing recorded */
        if (first < 0) { first = i; continue; }
        const SdJson *r0 = &m->runs[first], *ri = &m->runs[i];
        int err = check_key(m, first, i, "version", sd__json_get(r0, "version"), sd__json_get(ri, "version"));
        const SdJson *p0 = sd__json_get(r0, "parameters"), *pi = sd__json_get(ri, "parameters");
        for (int k = 0; !err && p0 && p0->type == SD_JSON_OBJ && k < p0->n; k++)
            err = check_key(m, first, i, p0->keys[k], &p0->items[k], sd__json_get(pi, p0->keys[k]));
        for (int k = 0; !err && pi && pi->type == SD_JSON_OBJ && k < pi->n; k++)
            if (!sd__json_get(p0, pi->keys[k]))
                err = check_key(m, first, i, pi->keys[k], NULL, &pi->items[k]);
        if (err) return err;
    }
    return 0;
}

/* 2e. every shard of the split present (run.json's "shard": index of count), unless a partial
 * merge was asked for: then it is recorded in run.json and the report */
static int check_shards(Merge *m)
{
    int count = 0, nseen = 0;
    unsigned char *seen = NULL;
    for (int i = 0; i < m->n; i++) {
        const SdJson *sh = sd__json_get(&m->runs[i], "shard");
        double idx, cnt;
        if (!sh || !sd__json_num(sh, "index", &idx) || !sd__json_num(sh, "count", &cnt)) continue;
        if (!(cnt >= 1 && cnt <= 1e6 && idx >= 0 && idx < cnt && idx == (int)idx && cnt == (int)cnt)) {
            free(seen);
            return sd_fail(m->ctx, SD_EFORMAT, "%s/run.json: \"shard\" is not an index below a count", m->inputs[i]);
        }
        if (count && (int)cnt != count) {
            free(seen);
            return sd_fail(m->ctx, SD_EINVAL, "%s ran as shard %d/%d but another input as one of %d: "
                           "shards of different splits cannot be merged", m->inputs[i], (int)idx, (int)cnt, count);
        }
        if (!count && !(seen = calloc((size_t)cnt, 1))) return nomem(m);
        count = (int)cnt;
        nseen += !seen[(int)idx];
        seen[(int)idx] = 1;
    }
    m->s.shard_count = count;
    m->s.shards_missing = count ? count - nseen : 0;
    free(m->shards_seen);
    m->shards_seen = seen;
    if (!m->s.shards_missing) return 0;
    char list[200] = "";
    for (int k = 0, w = 0; k < count && w < 150; k++)
        if (!seen[k]) w += snprintf(list + w, sizeof(list) - (size_t)w, "%s%d", w ? ", " : "", k);
    if (!m->opts->allow_partial)
        return sd_fail(m->ctx, SD_EINVAL, "partial merge: shard%s %s of %d %s missing (the inputs ran with "
                       "--shard I/%d); give every shard, or --allow-partial to merge these only",
                       m->s.shards_missing > 1 ? "s" : "", list, count,
                       m->s.shards_missing > 1 ? "are" : "is", count);
    m->s.partial = 1;
    return 0;
}

/* 2b. per-image tables (contract headers are checked by the reader) and patient sets */
static int read_measurements(Merge *m)
{
    SdMeasArray one = {0};
    int err = 0;
    for (int i = 0; i < m->n && !err; i++) {
        char *mp = pathf(m->inputs[i], "measurements.csv"), *up = pathf(m->inputs[i], "uncertainty.csv");
        if (!mp || !up) err = nomem(m);
        else if (!sd_file_exists(mp))
            err = sd_fail(m->ctx, SD_EINVAL, "%s: missing (is %s the output folder of a run?)", mp, m->inputs[i]);
        else
            err = sd_meas_read(m->ctx, mp, up, &one);
        free(mp);
        free(up);
        if (err) break;
        m->meas_per_input[i] = one.n;
        for (size_t r = 0; r < one.n && !err; r++) {
            if (r && !strcmp(one.v[r].patient, one.v[r - 1].patient)) continue;
            char *id = sd_strdup(one.v[r].patient);
            if (sl_add(&m->pats.owned, id) || ps_add(&m->pats, id, i, 0)) err = nomem(m);
        }
        if (!err && sd_meas_append(&m->all, &one)) err = nomem(m);
        sd_meas_free(&one);
        if (!err) err = list_done_patients(m->ctx, m->inputs[i], i, &m->pats, &m->has_pdir[i]);
    }
    sd_meas_free(&one);
    return err;
}

/* 2c. the other tables, their headers, and the patients of the alignment rows */
static int read_tables(Merge *m)
{
    int err;
    if ((err = table_load(m->ctx, &m->align, "alignment.csv", m->inputs, m->n)) ||
        (err = table_load(m->ctx, &m->errs, "errors.csv", m->inputs, m->n)) ||
        (err = table_load(m->ctx, &m->caterr, "catalog_errors.csv", m->inputs, m->n)))
        return err;
    if (m->errs.header && m->caterr.header && strcmp(m->errs.header, m->caterr.header))
        return sd_fail(m->ctx, SD_EINVAL, "errors.csv header '%s' differs from catalog_errors.csv header '%s'",
                       m->errs.header, m->caterr.header);
    for (int i = 0; i < m->n; i++) {
        const SdCsv *a = &m->align.csv[i];
        const int pc = m->align.present[i] ? sd_csv_col(a, "patient") : -1;
        for (int r = 0; pc >= 0 && r < a->nrows; r++)
            if (ps_add(&m->pats, sd_csv_get(a, r, pc), i, 0)) return nomem(m);
    }
    return 0;
}

/* 3. overlap: a patient in two inputs */
static int check_overlap(Merge *m)
{
    PatSet *ps = &m->pats;
    qsort(ps->v, ps->n, sizeof(*ps->v), cmp_patref);
    for (size_t k = 0; k < ps->n; k++) {
        if (k && !strcmp(ps->v[k].id, ps->v[k - 1].id)) {
            if (ps->v[k].input != ps->v[k - 1].input)
                return sd_fail(m->ctx, SD_EINVAL, "patient '%s' is in both %s and %s: shards overlap "
                               "(each patient must be scored by exactly one shard)", ps->v[k].id,
                               m->inputs[ps->v[k - 1].input], m->inputs[ps->v[k].input]);
            continue;
        }
        m->s.patients++;
        m->pat_per_input[ps->v[k].input]++;
    }
    return 0;
}

/* 3b. the MDC source: the option, else every input's run.json agreeing on one file */
static int resolve_mdc(Merge *m)
{
    if (m->opts->mdc_file) {
        snprintf(m->s.mdc_source, sizeof(m->s.mdc_source), "option");
        if (!strcmp(m->opts->mdc_file, "none")) return 0;     /* explicitly: bootstrap SDs */
        if (!(m->mdc = sd_strdup(m->opts->mdc_file))) return nomem(m);
        return sd_repeat_read(m->ctx, m->mdc, &m->rep);
    }
    const char *first = NULL;
    int nnull = 0;
    for (int i = 0; i < m->n; i++) {
        const SdJson *v = sd__json_get(sd__json_get(&m->runs[i], "parameters"), "mdc_file");
        if (v && v->type != SD_JSON_STR && v->type != SD_JSON_NULL)
            return sd_fail(m->ctx, SD_EFORMAT, "%s/run.json: \"mdc_file\" is neither a string nor null",
                           m->inputs[i]);
        const char *mf = v && v->type == SD_JSON_STR ? v->str : NULL;
        if (!mf) nnull++;
        else if (!first) first = mf;
        else if (strcmp(first, mf))
            return sd_fail(m->ctx, SD_EINVAL, "the shards ran with different --mdc files ('%s' in %s): "
                           "pass the one to use with --mdc", mf, m->inputs[i]);
    }
    if (first && nnull)
        return sd_fail(m->ctx, SD_EINVAL, "some shards ran with --mdc %s and some without: pass --mdc "
                       "FILE (or --mdc none) to choose", first);
    snprintf(m->s.mdc_source, sizeof(m->s.mdc_source), first ? "run.json" : "bootstrap");
    if (first && !(m->mdc = sd_strdup(first))) return nomem(m);
    int err = m->mdc ? sd_repeat_read(m->ctx, m->mdc, &m->rep) : 0;
    if (err) {
        char why[SD_ERRMSG_MAX];
        snprintf(why, sizeof(why), "%s", m->ctx->errmsg);
        err = sd_fail(m->ctx, err, "the shards ran with --mdc %s, which cannot be read here (%s): "
                      "pass --mdc FILE (or --mdc none)", m->mdc, why);
    }
    return err;
}

/* 3c. the folders to copy hold only regular files and folders (checked before writing) */
static int check_folders_to_copy(Merge *m)
{
    int err = 0;
    for (size_t k = 0; k < m->pats.n && !err; k++) {
        if (!m->pats.v[k].done_dir) continue;
        char *rel = NULL;
        if (asprintf(&rel, "patients/%s", m->pats.v[k].id) < 0) return nomem(m);
        char *src = pathf(m->inputs[m->pats.v[k].input], rel);
        free(rel);
        err = src ? check_tree(m->ctx, src, 0) : nomem(m);
        free(src);
    }
    for (int i = 0; i < m->n && !err; i++) {
        char *src = pathf(m->inputs[i], "aligned");
        struct stat st;
        if (!src) err = nomem(m);
        else if (!lstat(src, &st)) err = check_tree(m->ctx, src, 0);
        free(src);
    }
    return err;
}

/* 4a. folders: the finished patients' folders and aligned/ of every input */
static int copy_folders(Merge *m)
{
    int err = 0;
    if (sd_mkdir_p(m->out_dir))
        return sd_fail(m->ctx, SD_EIO, "%s: cannot create: %s", m->out_dir, strerror(errno));
    for (size_t k = 0; k < m->pats.n && !err; k++) {
        if (!m->pats.v[k].done_dir) continue;
        char *rel = NULL;
        if (asprintf(&rel, "patients/%s", m->pats.v[k].id) < 0) return nomem(m);
        char *src = pathf(m->inputs[m->pats.v[k].input], rel), *dst = pathf(m->out_dir, rel);
        free(rel);
        err = !src || !dst ? nomem(m) : copy_tree(m->ctx, src, dst, m->opts->link_files, &m->s.files_copied);
        free(src);
        free(dst);
    }
    for (int i = 0; i < m->n && !err; i++) {
        char *src = pathf(m->inputs[i], "aligned"), *dst = pathf(m->out_dir, "aligned");
        if (!src || !dst) err = nomem(m);
        else if (sd_is_dir(src)) err = copy_tree(m->ctx, src, dst, m->opts->link_files, &m->s.files_copied);
        free(src);
        free(dst);
    }
    return err;
}

/* OUT/name, or NULL with the error set. */
static char *outp(Merge *m, const char *name)
{
    char *p = pathf(m->out_dir, name);
    if (!p) nomem(m);
    return p;
}

/* 4b. measurements.csv and uncertainty.csv in canonical order */
static int write_measurements(Merge *m)
{
    sd_meas_sort(&m->all);
    m->s.measurements = m->all.n;
    char *p = outp(m, "measurements.csv"), *q = outp(m, "uncertainty.csv");
    int err = !p || !q ? SD_ENOMEM : sd_meas_write(m->ctx, p, &m->all);
    if (!err) err = sd_uncert_write(m->ctx, q, &m->all);
    free(p);
    free(q);
    return err;
}

/* 4c. alignment: by patient (natural order), stable */
static int write_alignment(Merge *m)
{
    if (!m->align.header) return 0;
    const Table *al = &m->align;
    size_t na = 0, k = 0;
    for (int i = 0; i < m->n; i++) na += al->present[i] ? (size_t)al->csv[i].nrows : 0;
    AlignRef *aref = sd_calloc_checked(na ? na : 1, sizeof(*aref));
    StrList rows = {0};
    char *p = NULL;
    int err = 0;
    if (!aref) return nomem(m);
    for (int i = 0; i < m->n; i++) {
        if (!al->present[i]) continue;
        const int pc = sd_csv_col(&al->csv[i], "patient");
        for (int r = 0; r < al->csv[i].nrows; r++, k++) {
            aref[k].patient = pc >= 0 ? sd_csv_get(&al->csv[i], r, pc) : "";
            aref[k].input = i;
            aref[k].row = r;
        }
    }
    qsort(aref, na, sizeof(*aref), cmp_alignref);
    for (k = 0; k < na && !err; k++)
        if (sl_add(&rows, sd_csv_join(&al->csv[aref[k].input], aref[k].row, '\x1f'))) err = nomem(m);
    if (!err && !(p = outp(m, "alignment.csv"))) err = SD_ENOMEM;
    if (!err) err = sd_csv_write_rows(m->ctx, p, al->header, rows.v, rows.n);
    free(p);
    free(aref);
    sl_free(&rows);
    return err;
}

/* 4d. catalog errors: every shard catalogued the same root: the first shard's rows as they are,
 * then the rows of the others that it does not have */
static int write_catalog_errors(Merge *m)
{
    const Table *ce = &m->caterr;
    for (int i = 0, first = 1; i < m->n; i++) {
        const size_t known = m->catrows.n;
        for (int r = 0; ce->present[i] && r < ce->csv[i].nrows; r++) {
            char *row = sd_csv_join(&ce->csv[i], r, '\x1f');
            if (!row) return nomem(m);
            int dup = 0;
            for (size_t k = 0; !first && k < known && !dup; k++) dup = !strcmp(m->catrows.v[k], row);
            if (dup) free(row);
            else if (sl_add(&m->catrows, row)) return nomem(m);
        }
        if (ce->present[i]) first = 0;
    }
    if (!ce->header) return 0;
    char *p = outp(m, "catalog_errors.csv");
    int err = p ? sd_csv_write_rows(m->ctx, p, ce->header, m->catrows.v, m->catrows.n) : SD_ENOMEM;
    free(p);
    return err;
}

/* The rows of IN/patients/<id>/errors.csv (absent: none) appended to rows. */
static int patient_error_rows(Merge *m, const PatRef *pr, const char *hdr, StrList *rows)
{
    char *rel = NULL;
    if (asprintf(&rel, "patients/%s/errors.csv", pr->id) < 0) return nomem(m);
    char *ep = pathf(m->inputs[pr->input], rel);
    free(rel);
    if (!ep) return nomem(m);
    int err = 0;
    SdCsv csv;
    memset(&csv, 0, sizeof(csv));
    if (sd_file_exists(ep)) {
        err = sd_csv_load(m->ctx, ep, &csv);
        char *h = err ? NULL : sd_csv_join(&csv, -1, ',');
        if (!err && (!h || strcmp(h, hdr)))
            err = h ? sd_fail(m->ctx, SD_EINVAL, "%s: header '%s' differs from '%s'", ep, h, hdr) : nomem(m);
        free(h);
        for (int r = 0; !err && r < csv.nrows; r++)
            if (sl_add(rows, sd_csv_join(&csv, r, '\x1f'))) err = nomem(m);
        sd_csv_free(&csv);
    }
    free(ep);
    return err;
}

/* 4e. errors: catalog rows, then per patient in natural order (from patients/<id>/errors.csv
 * where the shard has them, else the shard's own rows minus its catalog rows) */
static int write_errors(Merge *m)
{
    if (!m->errs.header && !m->caterr.header) return 0;
    const char *hdr = m->errs.header ? m->errs.header : m->caterr.header;
    StrList rows = {0};
    char *p = NULL;
    int err = 0;
    for (size_t k = 0; k < m->catrows.n && !err; k++)
        if (sl_add(&rows, sd_strdup(m->catrows.v[k]))) err = nomem(m);
    for (size_t k = 0; k < m->pats.n && !err; k++)
        if (m->pats.v[k].done_dir) err = patient_error_rows(m, &m->pats.v[k], hdr, &rows);
    for (int i = 0; i < m->n && !err; i++) {
        if (m->has_pdir[i] || !m->errs.present[i]) continue;
        for (int r = 0; r < m->errs.csv[i].nrows && !err; r++) {
            char *row = sd_csv_join(&m->errs.csv[i], r, '\x1f');
            if (!row) err = nomem(m);
            else if (contains(&m->catrows, row)) free(row);
            else if (sl_add(&rows, row)) err = nomem(m);
        }
    }
    if (!err && !(p = outp(m, "errors.csv"))) err = SD_ENOMEM;
    if (!err) err = sd_csv_write_rows(m->ctx, p, hdr, rows.v, rows.n);
    if (!err) m->s.input_errors = rows.n;
    free(p);
    sl_free(&rows);
    return err;
}

/* 5. statistics over all patients */
static int write_statistics(Merge *m)
{
    SdChangeArray ch = {0};
    SdTrendArray tr = {0};
    SdCohortArray co = {0};
    char *pc = outp(m, "changes.csv"), *pt = outp(m, "trends.csv"), *pk = outp(m, "cohort.csv");
    int err = !pc || !pt || !pk ? SD_ENOMEM : 0;
    if (!err) err = sd_course_changes(m->ctx, &m->all, m->mdc ? &m->rep : NULL, &ch);
    if (!err) err = sd_course_trends(m->ctx, &m->all, &tr);
    if (!err) err = sd_course_cohort(m->ctx, &ch, &co);
    m->s.changes = ch.n;
    m->s.trends = tr.n;
    m->s.cohort_rows = co.n;
    if (!err) err = sd_change_write(m->ctx, pc, &ch);
    if (!err) err = sd_trend_write(m->ctx, pt, &tr);
    if (!err) err = sd_cohort_write(m->ctx, pk, &co);
    free(pc); free(pt); free(pk);
    sd_change_free(&ch);
    sd_trend_free(&tr);
    sd_cohort_free(&co);
    return err;
}

/* 6. run.json, last: the inputs, the MDC source, the counts */
static int write_run_json(Merge *m, double seconds)
{
    char *path = outp(m, "run.json");
    if (!path) return SD_ENOMEM;
    SdAtomicFile af;
    if (sd_atomic_open(&af, path)) {
        int err = sd_fail(m->ctx, SD_EIO, "%s: cannot create: %s", path, strerror(errno));
        free(path);
        return err;
    }
    FILE *f = af.f;
    const SdMergeSummary *s = &m->s;
    fputs("{\n  \"command\": \"merge\",\n  \"run_id\": ", f);
    sd_json_string(f, m->run_id);
    fputs(",\n  \"version\": ", f);
    sd_json_string(f, sd_version());
    fputs(",\n  \"git_revision\": ", f);
    sd_json_string(f, SD_GIT_REV);
    fputs(",\n  \"inputs\": [", f);
    for (int i = 0; i < m->n; i++) {
        char *rj = pathf(m->inputs[i], "run.json"), hex[65];
        char abs[PATH_MAX];
        fputs(i ? ",\n    {\"path\": " : "\n    {\"path\": ", f);
        sd_json_string(f, realpath(m->inputs[i], abs) ? abs : m->inputs[i]);
        fprintf(f, ", \"patients\": %d, \"measurements\": %zu, \"run_json_sha256\": ",
                m->pat_per_input[i], m->meas_per_input[i]);
        if (rj && sd_file_exists(rj) && !sd_sha256_file(rj, hex)) sd_json_string(f, hex);
        else fputs("null", f);
        fputc('}', f);
        free(rj);
    }
    fputs("\n  ],\n", f);
    if (s->shard_count) {
        fprintf(f, "  \"shards\": {\"count\": %d, \"merged\": [", s->shard_count);
        for (int k = 0, c = 0; k < s->shard_count; k++)
            if (m->shards_seen[k]) fprintf(f, "%s%d", c++ ? ", " : "", k);
        fputs("], \"missing\": [", f);
        for (int k = 0, c = 0; k < s->shard_count; k++)
            if (!m->shards_seen[k]) fprintf(f, "%s%d", c++ ? ", " : "", k);
        fputs("]},\n", f);
    }
    fprintf(f, "  \"partial\": %s,\n", s->partial ? "true" : "false");
    fputs("  \"parameters\": {\"mdc_file\": ", f);
    if (m->mdc) sd_json_string(f, m->mdc); else fputs("null", f);
    fputs(", \"mdc_source\": ", f);
    sd_json_string(f, s->mdc_source);
    fprintf(f, "},\n  \"patients\": %d,\n  \"measurements\": %zu,\n  \"changes\": %zu,\n"
               "  \"trends\": %zu,\n  \"cohort_rows\": %zu,\n  \"files_copied\": %zu,\n"
               "  \"seconds\": ", s->patients, s->measurements, s->changes, s->trends,
            s->cohort_rows, s->files_copied);
    sd_json_num(f, seconds);
    fputs("\n}\n", f);
    int err = sd_atomic_commit(&af) ? sd_fail(m->ctx, SD_EIO, "%s: write failed", path) : 0;
    free(path);
    return err;
}

static void merge_free(Merge *m)
{
    for (int i = 0; m->runs && i < m->n; i++) sd__json_free(&m->runs[i]);
    free(m->runs);
    free(m->shards_seen);
    free(m->mdc);
    free(m->has_pdir);
    free(m->pat_per_input);
    free(m->meas_per_input);
    sd_meas_free(&m->all);
    sd_repeat_free(&m->rep);
    table_free(&m->align, m->n);
    table_free(&m->errs, m->n);
    table_free(&m->caterr, m->n);
    free(m->pats.v);
    sl_free(&m->pats.owned);
    sl_free(&m->catrows);
}

int sd_merge_outputs(SdCtx *ctx, const char *const *inputs, int n, const char *out_dir,
                     const SdMergeOpts *opts, SdMergeSummary *summary)
{
    const double t0 = sd_now();
    SdMergeOpts defo;
    if (!opts) { sd_merge_opts_default(&defo); opts = &defo; }
    if (n < 1) return sd_fail(ctx, SD_EINVAL, "merge: no input folders");
    Merge m;
    memset(&m, 0, sizeof(m));
    m.ctx = ctx; m.inputs = inputs; m.n = n; m.out_dir = out_dir; m.opts = opts;
    m.s.inputs = n;
    m.has_pdir = sd_calloc_checked((size_t)n, sizeof(int));
    m.pat_per_input = sd_calloc_checked((size_t)n, sizeof(int));
    m.meas_per_input = sd_calloc_checked((size_t)n, sizeof(size_t));
    int err = !m.has_pdir || !m.pat_per_input || !m.meas_per_input ? nomem(&m) : 0;
    /* everything is read and checked before anything is written: folders first, tables after,
     * run.json last */
    if (!err) err = check_folders(&m);
    if (!err) err = read_run_json(&m);
    if (!err) err = check_parameters(&m);
    if (!err) err = check_shards(&m);
    if (!err) err = read_measurements(&m);
    if (!err) err = read_tables(&m);
    if (!err) err = check_overlap(&m);
    if (!err) err = resolve_mdc(&m);
    if (!err) err = check_folders_to_copy(&m);
    sd__out_new_run_id(m.run_id);
    if (!err && sd_mkdir_p(out_dir))
        err = sd_fail(ctx, SD_EIO, "%s: cannot create: %s", out_dir, strerror(errno));
    if (!err) err = sd__out_uncommit(ctx, out_dir);
    if (!err) err = copy_folders(&m);
    if (!err) err = write_measurements(&m);
    if (!err) err = write_alignment(&m);
    if (!err) err = write_catalog_errors(&m);
    if (!err) err = write_errors(&m);
    if (!err) err = write_statistics(&m);
    if (!err) err = write_run_json(&m, sd_now() - t0);
    if (!err) err = sd__out_commit(ctx, out_dir, m.run_id);
    if (summary) *summary = m.s;
    merge_free(&m);
    return err;
}

/* Course tables in memory and on disk: growable row arrays with owned strings, atomic CSV writers
 * and header-checked CSV readers for the contract files of DESIGN.md §7. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skindelta/course.h"
#include "skindelta/metrics.h"
#include "src/core/csv.h"
#include "src/core/core.h"

/* The value the CSV writer prints, read back: keeps in-memory and re-read tables identical. */
static double r9(double v)
{
    char b[40];
    if (!isfinite(v)) return NAN;
    if (v == 0) v = 0;   /* no "-0" in the tables */
    snprintf(b, sizeof(b), "%.9g", v);
    return strtod(b, NULL);
}

static int dup_str(char **dst, const char *s)
{
    *dst = sd_strdup(s ? s : "");
    return *dst ? 0 : SD_ENOMEM;
}

/* Grow a row array to hold one more element of size sz. */
static int grow(void **v, size_t *cap, size_t n, size_t sz)
{
    if (n < *cap) return 0;
    size_t ncap = *cap ? *cap * 2 : 64, bytes;
    if (ncap < *cap || sd_mul_overflow(ncap, sz, &bytes)) return SD_ENOMEM;
    void *p = realloc(*v, bytes);
    if (!p) return SD_ENOMEM;
    *v = p;
    *cap = ncap;
    return 0;
}

/* ---- push / free */

static void meas_row_free(SdMeasRow *r)
{
    free(r->patient); free(r->view); free(r->session);
    free(r->region); free(r->metric); free(r->unit); free(r->qc);
}

int sd_meas_push(SdMeasArray *a, const SdMeasRow *r)
{
    if (grow((void **)&a->v, &a->cap, a->n, sizeof(*a->v))) return SD_ENOMEM;
    SdMeasRow *d = &a->v[a->n];
    *d = *r;
    d->patient = d->view = d->session = d->region = d->metric = d->unit = d->qc = NULL;
    if (dup_str(&d->patient, r->patient) || dup_str(&d->view, r->view) ||
        dup_str(&d->session, r->session) || dup_str(&d->region, r->region) ||
        dup_str(&d->metric, r->metric) || dup_str(&d->unit, r->unit) || dup_str(&d->qc, r->qc)) {
        meas_row_free(d);
        return SD_ENOMEM;
    }
    d->days = r9(r->days);
    d->value = r9(r->value);
    d->sd = r9(r->sd);
    if (!isfinite(d->sd)) d->n_boot = 0;
    d->paired_base = d->has_paired ? r9(r->paired_base) : NAN;
    if (!isfinite(d->paired_base)) d->has_paired = 0;
    a->n++;
    return 0;
}

int sd_meas_append(SdMeasArray *dst, const SdMeasArray *src)
{
    for (size_t i = 0; i < src->n; i++) {
        int err = sd_meas_push(dst, &src->v[i]);
        if (err) return err;
    }
    return 0;
}

void sd_meas_free(SdMeasArray *a)
{
    for (size_t i = 0; i < a->n; i++) meas_row_free(&a->v[i]);
    free(a->v);
    memset(a, 0, sizeof(*a));
}

static void change_row_free(SdChangeRow *r)
{
    free(r->patient); free(r->view); free(r->session); free(r->region); free(r->metric);
}

int sd_change_push(SdChangeArray *a, const SdChangeRow *r)
{
    if (grow((void **)&a->v, &a->cap, a->n, sizeof(*a->v))) return SD_ENOMEM;
    SdChangeRow *d = &a->v[a->n];
    *d = *r;
    d->patient = d->view = d->session = d->region = d->metric = NULL;
    if (dup_str(&d->patient, r->patient) || dup_str(&d->view, r->view) ||
        dup_str(&d->session, r->session) || dup_str(&d->region, r->region) ||
        dup_str(&d->metric, r->metric)) {
        change_row_free(d);
        return SD_ENOMEM;
    }
    d->days = r9(r->days);
    d->baseline = r9(r->baseline);
    d->value = r9(r->value);
    d->delta = r9(r->delta);
    d->pct_change = r9(r->pct_change);
    d->improvement_pct = r9(r->improvement_pct);
    d->mdc95 = r9(r->mdc95);
    a->n++;
    return 0;
}

void sd_change_free(SdChangeArray *a)
{
    for (size_t i = 0; i < a->n; i++) change_row_free(&a->v[i]);
    free(a->v);
    memset(a, 0, sizeof(*a));
}

static void trend_row_free(SdTrendRow *r)
{
    free(r->patient); free(r->view); free(r->region); free(r->metric);
}

int sd_trend_push(SdTrendArray *a, const SdTrendRow *r)
{
    if (grow((void **)&a->v, &a->cap, a->n, sizeof(*a->v))) return SD_ENOMEM;
    SdTrendRow *d = &a->v[a->n];
    *d = *r;
    d->patient = d->view = d->region = d->metric = NULL;
    if (dup_str(&d->patient, r->patient) || dup_str(&d->view, r->view) ||
        dup_str(&d->region, r->region) || dup_str(&d->metric, r->metric)) {
        trend_row_free(d);
        return SD_ENOMEM;
    }
    if (!d->slope_unit) d->slope_unit = "per_session";
    d->slope = r9(r->slope);
    d->ci95_low = r9(r->ci95_low);
    d->ci95_high = r9(r->ci95_high);
    a->n++;
    return 0;
}

void sd_trend_free(SdTrendArray *a)
{
    for (size_t i = 0; i < a->n; i++) trend_row_free(&a->v[i]);
    free(a->v);
    memset(a, 0, sizeof(*a));
}

static void cohort_row_free(SdCohortRow *r)
{
    free(r->view); free(r->region); free(r->metric);
}

int sd_cohort_push(SdCohortArray *a, const SdCohortRow *r)
{
    if (grow((void **)&a->v, &a->cap, a->n, sizeof(*a->v))) return SD_ENOMEM;
    SdCohortRow *d = &a->v[a->n];
    *d = *r;
    d->view = d->region = d->metric = NULL;
    if (dup_str(&d->view, r->view) || dup_str(&d->region, r->region) ||
        dup_str(&d->metric, r->metric)) {
        cohort_row_free(d);
        return SD_ENOMEM;
    }
    double *f[] = { &d->mean_delta, &d->sd_delta, &d->ci95_low, &d->ci95_high, &d->t_p,
                    &d->wilcoxon_p, &d->holm_p, &d->cohens_dz, &d->responders_pct,
                    &d->mean_pct_change, &d->mean_improvement_pct, &d->bh_q, &d->min_wilcoxon_p };
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) *f[i] = r9(*f[i]);
    if (!d->family) d->family = sd_cohort_family(d->region, d->metric);
    a->n++;
    return 0;
}

void sd_cohort_free(SdCohortArray *a)
{
    for (size_t i = 0; i < a->n; i++) cohort_row_free(&a->v[i]);
    free(a->v);
    memset(a, 0, sizeof(*a));
}

int sd_repeat_push(SdRepeatArray *a, const SdRepeatRow *r)
{
    if (grow((void **)&a->v, &a->cap, a->n, sizeof(*a->v))) return SD_ENOMEM;
    SdRepeatRow *d = &a->v[a->n];
    *d = *r;
    d->region = d->metric = NULL;
    if (dup_str(&d->region, r->region) || dup_str(&d->metric, r->metric)) {
        free(d->region); free(d->metric);
        return SD_ENOMEM;
    }
    d->icc31 = r9(r->icc31);
    d->cv_w_pct = r9(r->cv_w_pct);
    d->sem = r9(r->sem);
    d->mdc95 = r9(r->mdc95);
    a->n++;
    return 0;
}

void sd_repeat_free(SdRepeatArray *a)
{
    for (size_t i = 0; i < a->n; i++) { free(a->v[i].region); free(a->v[i].metric); }
    free(a->v);
    memset(a, 0, sizeof(*a));
}

/* ---- order */

typedef struct MeasKey { const SdMeasRow *r; size_t idx; } MeasKey;

static int meas_key_cmp(const void *pa, const void *pb)
{
    const MeasKey *a = pa, *b = pb;
    int c = sd_natcmp(a->r->patient, b->r->patient);
    if (!c) c = strcmp(a->r->patient, b->r->patient);
    if (!c) c = strcmp(a->r->view, b->r->view);
    if (!c) c = (a->r->session_index > b->r->session_index) - (a->r->session_index < b->r->session_index);
    if (!c) c = (a->idx > b->idx) - (a->idx < b->idx);
    return c;
}

void sd_meas_sort(SdMeasArray *a)
{
    if (a->n < 2) return;
    MeasKey *k = sd_calloc_checked(a->n, sizeof(*k));
    SdMeasRow *tmp = sd_calloc_checked(a->n, sizeof(*tmp));
    if (!k || !tmp) {
        /* Fallback without extra memory: insertion sort (stable), slow but correct. */
        for (size_t i = 1; i < a->n; i++) {
            SdMeasRow x = a->v[i];
            size_t j = i;
            for (; j > 0; j--) {
                MeasKey ka = { &a->v[j - 1], 0 }, kb = { &x, 1 };
                if (meas_key_cmp(&ka, &kb) <= 0) break;
                a->v[j] = a->v[j - 1];
            }
            a->v[j] = x;
        }
        free(k); free(tmp);
        return;
    }
    for (size_t i = 0; i < a->n; i++) { k[i].r = &a->v[i]; k[i].idx = i; }
    qsort(k, a->n, sizeof(*k), meas_key_cmp);
    for (size_t i = 0; i < a->n; i++) tmp[i] = *k[i].r;
    memcpy(a->v, tmp, a->n * sizeof(*tmp));
    free(k); free(tmp);
}

const char *sd_better_name(int better)
{
    return better > 0 ? "higher" : better < 0 ? "lower" : "";
}

int sd_better_parse(const char *s)
{
    if (!strcmp(s, "higher")) return SD_BETTER_HIGHER;
    if (!strcmp(s, "lower")) return SD_BETTER_LOWER;
    return 0;
}

/* ---- writers */

static void put_int(FILE *f, long v) { fprintf(f, "%ld", v); }

static int open_out(SdCtx *ctx, SdAtomicFile *af, const char *path, const char *header)
{
    int err = sd_atomic_open(af, path);
    if (err) return sd_fail(ctx, err, "%s: cannot create: %s", path, strerror(errno));
    fputs(header, af->f);
    fputc('\n', af->f);
    return 0;
}

static int close_out(SdCtx *ctx, SdAtomicFile *af, const char *path)
{
    int err = sd_atomic_commit(af);
    if (err) return sd_fail(ctx, err, "%s: write failed: %s", path, strerror(errno));
    return 0;
}

#define SEP(f) fputc(',', f)

int sd_meas_write(SdCtx *ctx, const char *path, const SdMeasArray *a)
{
    SdAtomicFile af;
    int err = open_out(ctx, &af, path, SD_MEAS_HEADER);
    if (err) return err;
    FILE *f = af.f;
    for (size_t i = 0; i < a->n; i++) {
        const SdMeasRow *r = &a->v[i];
        sd_csv_field(f, r->patient); SEP(f); sd_csv_field(f, r->view); SEP(f);
        sd_csv_field(f, r->session); SEP(f); put_int(f, r->session_index); SEP(f);
        sd_csv_num(f, r->days); SEP(f); sd_csv_field(f, r->region); SEP(f);
        sd_csv_field(f, r->metric); SEP(f); sd_csv_num(f, r->value); SEP(f);
        sd_csv_field(f, r->unit); SEP(f); fputs(sd_better_name(r->better), f); SEP(f);
        sd_csv_field(f, r->qc); fputc('\n', f);
    }
    return close_out(ctx, &af, path);
}

int sd_uncert_write(SdCtx *ctx, const char *path, const SdMeasArray *a)
{
    SdAtomicFile af;
    int err = open_out(ctx, &af, path, SD_UNCERT_HEADER);
    if (err) return err;
    FILE *f = af.f;
    for (size_t i = 0; i < a->n; i++) {
        const SdMeasRow *r = &a->v[i];
        if (!isfinite(r->sd) && !r->has_paired) continue;
        sd_csv_field(f, r->patient); SEP(f); sd_csv_field(f, r->view); SEP(f);
        sd_csv_field(f, r->session); SEP(f); sd_csv_field(f, r->region); SEP(f);
        sd_csv_field(f, r->metric); SEP(f); sd_csv_num(f, r->sd); SEP(f);
        put_int(f, r->n_boot); SEP(f); sd_csv_num(f, r->has_paired ? r->paired_base : NAN);
        fputc('\n', f);
    }
    return close_out(ctx, &af, path);
}

/* The unit column of changes.csv and cohort.csv: the metric table's ("" for an unknown id). */
static const char *metric_unit(const char *metric)
{
    const SdMetricInfo *mi = sd_metric_info(sd_metric_index(metric));
    return mi ? mi->unit : "";
}

int sd_change_write(SdCtx *ctx, const char *path, const SdChangeArray *a)
{
    SdAtomicFile af;
    int err = open_out(ctx, &af, path, SD_CHANGE_HEADER);
    if (err) return err;
    FILE *f = af.f;
    for (size_t i = 0; i < a->n; i++) {
        const SdChangeRow *r = &a->v[i];
        sd_csv_field(f, r->patient); SEP(f); sd_csv_field(f, r->view); SEP(f);
        sd_csv_field(f, r->session); SEP(f); put_int(f, r->session_index); SEP(f);
        sd_csv_num(f, r->days); SEP(f); sd_csv_field(f, r->region); SEP(f);
        sd_csv_field(f, r->metric); SEP(f); sd_csv_num(f, r->baseline); SEP(f);
        sd_csv_num(f, r->value); SEP(f); sd_csv_num(f, r->delta); SEP(f);
        sd_csv_num(f, r->pct_change); SEP(f); sd_csv_num(f, r->improvement_pct); SEP(f);
        sd_csv_num(f, r->mdc95); SEP(f);
        if (r->beyond_noise >= 0) put_int(f, r->beyond_noise);
        SEP(f); sd_csv_field(f, metric_unit(r->metric));
        fputc('\n', f);
    }
    return close_out(ctx, &af, path);
}

int sd_trend_write(SdCtx *ctx, const char *path, const SdTrendArray *a)
{
    SdAtomicFile af;
    int err = open_out(ctx, &af, path, SD_TREND_HEADER);
    if (err) return err;
    FILE *f = af.f;
    for (size_t i = 0; i < a->n; i++) {
        const SdTrendRow *r = &a->v[i];
        sd_csv_field(f, r->patient); SEP(f); sd_csv_field(f, r->view); SEP(f);
        sd_csv_field(f, r->region); SEP(f); sd_csv_field(f, r->metric); SEP(f);
        put_int(f, r->n_sessions); SEP(f); sd_csv_num(f, r->slope); SEP(f);
        fputs(r->slope_unit ? r->slope_unit : "", f); SEP(f);
        sd_csv_num(f, r->ci95_low); SEP(f); sd_csv_num(f, r->ci95_high); fputc('\n', f);
    }
    return close_out(ctx, &af, path);
}

int sd_cohort_write(SdCtx *ctx, const char *path, const SdCohortArray *a)
{
    SdAtomicFile af;
    int err = open_out(ctx, &af, path, SD_COHORT_HEADER);
    if (err) return err;
    FILE *f = af.f;
    for (size_t i = 0; i < a->n; i++) {
        const SdCohortRow *r = &a->v[i];
        sd_csv_field(f, r->view); SEP(f); put_int(f, r->session_index); SEP(f);
        sd_csv_field(f, r->region); SEP(f); sd_csv_field(f, r->metric); SEP(f);
        put_int(f, r->n); SEP(f);
        const double v[] = { r->mean_delta, r->sd_delta, r->ci95_low, r->ci95_high, r->t_p,
                             r->wilcoxon_p, r->holm_p, r->cohens_dz, r->responders_pct,
                             r->mean_pct_change, r->mean_improvement_pct };
        for (size_t j = 0; j < sizeof(v) / sizeof(v[0]); j++) {
            if (j) SEP(f);
            sd_csv_num(f, v[j]);
        }
        SEP(f); fputs(r->family ? r->family : sd_cohort_family(r->region, r->metric), f);
        SEP(f); sd_csv_num(f, r->bh_q); SEP(f); sd_csv_num(f, r->min_wilcoxon_p);
        SEP(f); sd_csv_field(f, metric_unit(r->metric));
        fputc('\n', f);
    }
    return close_out(ctx, &af, path);
}

int sd_repeat_write(SdCtx *ctx, const char *path, const SdRepeatArray *a)
{
    SdAtomicFile af;
    int err = open_out(ctx, &af, path, SD_REPEAT_HEADER);
    if (err) return err;
    FILE *f = af.f;
    for (size_t i = 0; i < a->n; i++) {
        const SdRepeatRow *r = &a->v[i];
        sd_csv_field(f, r->region); SEP(f); sd_csv_field(f, r->metric); SEP(f);
        put_int(f, r->n_subjects); SEP(f); put_int(f, r->n_repeats); SEP(f);
        sd_csv_num(f, r->icc31); SEP(f); sd_csv_num(f, r->cv_w_pct); SEP(f);
        sd_csv_num(f, r->sem); SEP(f); sd_csv_num(f, r->mdc95); fputc('\n', f);
    }
    return close_out(ctx, &af, path);
}

/* ---- readers */

typedef struct Reader {
    SdCtx *ctx;
    const char *path;
    SdCsv csv;
    int r;          /* current row */
    int err;        /* first error */
} Reader;

/* Load and check the header against the comma-separated contract. */
static int reader_open(Reader *rd, SdCtx *ctx, const char *path, const char *header)
{
    memset(rd, 0, sizeof(*rd));
    rd->ctx = ctx;
    rd->path = path;
    int err = sd_csv_load(ctx, path, &rd->csv);
    if (err) return err;
    int ok = rd->csv.header != NULL, col = 0;
    const char *h = header;
    while (ok && *h) {
        const char *e = strchr(h, ',');
        size_t len = e ? (size_t)(e - h) : strlen(h);
        ok = col < rd->csv.ncols && strlen(rd->csv.header[col]) == len &&
             !memcmp(rd->csv.header[col], h, len);
        col++;
        h += len + (e ? 1 : 0);
    }
    if (!ok || col != rd->csv.ncols) {
        sd_csv_free(&rd->csv);
        return sd_fail(ctx, SD_EFORMAT, "%s:1: header differs from the expected '%s'", path, header);
    }
    return 0;
}

static int line_of(const Reader *rd) { return rd->csv.rows[rd->r].line; }

static const char *cell(Reader *rd, int c)
{
    if (rd->csv.rows[rd->r].n != rd->csv.ncols && !rd->err)
        rd->err = sd_fail(rd->ctx, SD_EFORMAT, "%s:%d: %d fields, expected %d", rd->path,
                          line_of(rd), rd->csv.rows[rd->r].n, rd->csv.ncols);
    return sd_csv_get(&rd->csv, rd->r, c);
}

static double num(Reader *rd, int c)
{
    const char *s = cell(rd, c);
    if (!*s) return NAN;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || !isfinite(v)) {
        if (!rd->err)
            rd->err = sd_fail(rd->ctx, SD_EFORMAT, "%s:%d: column %s: '%s' is not a number",
                              rd->path, line_of(rd), rd->csv.header[c], s);
        return NAN;
    }
    return v;
}

/* Integer in [lo, hi]; empty cells give `empty` when allowed (allow_empty). */
static long integer(Reader *rd, int c, long lo, long hi, int allow_empty, long empty)
{
    const char *s = cell(rd, c);
    if (!*s && allow_empty) return empty;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi) {
        if (!rd->err)
            rd->err = sd_fail(rd->ctx, SD_EFORMAT, "%s:%d: column %s: '%s' is not an integer in [%ld, %ld]",
                              rd->path, line_of(rd), rd->csv.header[c], s, lo, hi);
        return lo;
    }
    return v;
}

static int nonempty(Reader *rd, int c)
{
    const char *s = cell(rd, c);
    if (!*s && !rd->err)
        rd->err = sd_fail(rd->ctx, SD_EFORMAT, "%s:%d: column %s is empty", rd->path,
                          line_of(rd), rd->csv.header[c]);
    return *s != 0;
}

#define IMAX 1000000000L

/* Key for joining uncertainty rows onto measurements. */
static int meas_key_eq(const SdMeasRow *m, Reader *rd)
{
    return !strcmp(m->patient, cell(rd, 0)) && !strcmp(m->view, cell(rd, 1)) &&
           !strcmp(m->session, cell(rd, 2)) && !strcmp(m->region, cell(rd, 3)) &&
           !strcmp(m->metric, cell(rd, 4));
}

static int join_uncert(SdCtx *ctx, const char *path, SdMeasArray *a, size_t first)
{
    Reader rd;
    int err = reader_open(&rd, ctx, path, SD_UNCERT_HEADER);
    const int v1 = err == SD_EFORMAT && !reader_open(&rd, ctx, path, SD_UNCERT_HEADER_V1);
    if (err && !v1) return err;
    size_t hint = first;
    for (rd.r = 0; rd.r < rd.csv.nrows && !rd.err; rd.r++) {
        for (int c = 0; c < 5; c++) nonempty(&rd, c);
        double sd = num(&rd, 5);
        long nb = integer(&rd, 6, 0, IMAX, 0, 0);
        const double pb = v1 ? NAN : num(&rd, 7);
        if (rd.err) break;
        /* Rows are written in measurement order, so search forward from the last hit first. */
        size_t found = a->n;
        for (size_t k = 0; k < a->n - first && found == a->n; k++) {
            size_t i = first + (hint - first + k) % (a->n - first);
            if (meas_key_eq(&a->v[i], &rd)) found = i;
        }
        if (found == a->n) {
            rd.err = sd_fail(ctx, SD_EFORMAT, "%s:%d: no measurement for %s/%s/%s/%s/%s", path,
                             line_of(&rd), cell(&rd, 0), cell(&rd, 1), cell(&rd, 2),
                             cell(&rd, 3), cell(&rd, 4));
            break;
        }
        a->v[found].sd = r9(sd);
        a->v[found].n_boot = isfinite(sd) ? (int)nb : 0;
        a->v[found].has_paired = isfinite(pb);
        a->v[found].paired_base = isfinite(pb) ? r9(pb) : NAN;
        hint = found + 1 < a->n ? found + 1 : first;
    }
    err = rd.err;
    sd_csv_free(&rd.csv);
    return err;
}

int sd_meas_read(SdCtx *ctx, const char *meas_path, const char *uncert_path, SdMeasArray *a)
{
    Reader rd;
    int err = reader_open(&rd, ctx, meas_path, SD_MEAS_HEADER);
    if (err) return err;
    size_t first = a->n;
    for (rd.r = 0; rd.r < rd.csv.nrows && !rd.err; rd.r++) {
        SdMeasRow m;
        memset(&m, 0, sizeof(m));
        for (int c = 0; c < 3; c++) nonempty(&rd, c);
        nonempty(&rd, 5); nonempty(&rd, 6);
        m.patient = (char *)cell(&rd, 0);
        m.view = (char *)cell(&rd, 1);
        m.session = (char *)cell(&rd, 2);
        m.session_index = (int)integer(&rd, 3, 0, IMAX, 0, 0);
        m.days = num(&rd, 4);
        m.region = (char *)cell(&rd, 5);
        m.metric = (char *)cell(&rd, 6);
        m.value = num(&rd, 7);
        m.unit = (char *)cell(&rd, 8);
        m.better = sd_better_parse(cell(&rd, 9));
        if (!m.better && !rd.err)
            rd.err = sd_fail(ctx, SD_EFORMAT, "%s:%d: column better: '%s' is neither 'higher' nor 'lower'",
                             meas_path, line_of(&rd), cell(&rd, 9));
        m.qc = (char *)cell(&rd, 10);
        m.sd = NAN;
        m.n_boot = 0;
        m.has_paired = 0;
        m.paired_base = NAN;
        if (rd.err) break;
        if ((err = sd_meas_push(a, &m))) { rd.err = err; break; }
    }
    err = rd.err;
    sd_csv_free(&rd.csv);
    if (!err && uncert_path && sd_file_exists(uncert_path))
        err = join_uncert(ctx, uncert_path, a, first);
    return err;
}

int sd_change_read(SdCtx *ctx, const char *path, SdChangeArray *a)
{
    Reader rd;
    int err = reader_open(&rd, ctx, path, SD_CHANGE_HEADER);
    if (err) return err;
    for (rd.r = 0; rd.r < rd.csv.nrows && !rd.err; rd.r++) {
        SdChangeRow c;
        memset(&c, 0, sizeof(c));
        for (int k = 0; k < 3; k++) nonempty(&rd, k);
        nonempty(&rd, 5); nonempty(&rd, 6);
        c.patient = (char *)cell(&rd, 0);
        c.view = (char *)cell(&rd, 1);
        c.session = (char *)cell(&rd, 2);
        c.session_index = (int)integer(&rd, 3, 0, IMAX, 0, 0);
        c.days = num(&rd, 4);
        c.region = (char *)cell(&rd, 5);
        c.metric = (char *)cell(&rd, 6);
        c.baseline = num(&rd, 7);
        c.value = num(&rd, 8);
        c.delta = num(&rd, 9);
        c.pct_change = num(&rd, 10);
        c.improvement_pct = num(&rd, 11);
        c.mdc95 = num(&rd, 12);
        c.beyond_noise = (int)integer(&rd, 13, 0, 1, 1, -1);
        c.better = 0;
        const int mi = sd_metric_index(c.metric);
        if (mi >= 0) c.better = sd_metric_info(mi)->better;
        else if (isfinite(c.pct_change) && isfinite(c.improvement_pct) && c.pct_change != 0 &&
            c.improvement_pct != 0)
            c.better = (c.pct_change > 0) == (c.improvement_pct > 0) ? 1 : -1;
        if (rd.err) break;
        if ((err = sd_change_push(a, &c))) { rd.err = err; break; }
    }
    err = rd.err;
    sd_csv_free(&rd.csv);
    return err;
}

int sd_trend_read(SdCtx *ctx, const char *path, SdTrendArray *a)
{
    Reader rd;
    int err = reader_open(&rd, ctx, path, SD_TREND_HEADER);
    if (err) return err;
    for (rd.r = 0; rd.r < rd.csv.nrows && !rd.err; rd.r++) {
        SdTrendRow t;
        memset(&t, 0, sizeof(t));
        for (int k = 0; k < 4; k++) nonempty(&rd, k);
        t.patient = (char *)cell(&rd, 0);
        t.view = (char *)cell(&rd, 1);
        t.region = (char *)cell(&rd, 2);
        t.metric = (char *)cell(&rd, 3);
        t.n_sessions = (int)integer(&rd, 4, 0, IMAX, 0, 0);
        t.slope = num(&rd, 5);
        const char *u = cell(&rd, 6);
        t.slope_unit = !strcmp(u, "per_30_days") ? "per_30_days" :
                       !strcmp(u, "per_session") ? "per_session" : NULL;
        if (!t.slope_unit && !rd.err)
            rd.err = sd_fail(ctx, SD_EFORMAT, "%s:%d: column slope_unit: '%s' is neither "
                             "'per_30_days' nor 'per_session'", path, line_of(&rd), u);
        t.ci95_low = num(&rd, 7);
        t.ci95_high = num(&rd, 8);
        if (rd.err) break;
        if ((err = sd_trend_push(a, &t))) { rd.err = err; break; }
    }
    err = rd.err;
    sd_csv_free(&rd.csv);
    return err;
}

int sd_cohort_read(SdCtx *ctx, const char *path, SdCohortArray *a)
{
    Reader rd;
    int err = reader_open(&rd, ctx, path, SD_COHORT_HEADER);
    if (err) return err;
    for (rd.r = 0; rd.r < rd.csv.nrows && !rd.err; rd.r++) {
        SdCohortRow c;
        memset(&c, 0, sizeof(c));
        nonempty(&rd, 0); nonempty(&rd, 2); nonempty(&rd, 3);
        c.view = (char *)cell(&rd, 0);
        c.session_index = (int)integer(&rd, 1, 0, IMAX, 0, 0);
        c.region = (char *)cell(&rd, 2);
        c.metric = (char *)cell(&rd, 3);
        c.n = (int)integer(&rd, 4, 0, IMAX, 0, 0);
        double *f[] = { &c.mean_delta, &c.sd_delta, &c.ci95_low, &c.ci95_high, &c.t_p,
                        &c.wilcoxon_p, &c.holm_p, &c.cohens_dz, &c.responders_pct,
                        &c.mean_pct_change, &c.mean_improvement_pct };
        for (int k = 0; k < (int)(sizeof(f) / sizeof(f[0])); k++) *f[k] = num(&rd, 5 + k);
        const char *fam = cell(&rd, 16);   /* (19: unit, from the metric table) */
        c.family = !strcmp(fam, "confirmatory") ? "confirmatory" :
                   !strcmp(fam, "exploratory") ? "exploratory" : NULL;
        if (!c.family && !rd.err)
            rd.err = sd_fail(ctx, SD_EFORMAT, "%s:%d: column family: '%s' is neither "
                             "'confirmatory' nor 'exploratory'", path, line_of(&rd), fam);
        c.bh_q = num(&rd, 17);
        c.min_wilcoxon_p = num(&rd, 18);
        if (rd.err) break;
        if ((err = sd_cohort_push(a, &c))) { rd.err = err; break; }
    }
    err = rd.err;
    sd_csv_free(&rd.csv);
    return err;
}

int sd_repeat_read(SdCtx *ctx, const char *path, SdRepeatArray *a)
{
    Reader rd;
    int err = reader_open(&rd, ctx, path, SD_REPEAT_HEADER);
    if (err) return err;
    for (rd.r = 0; rd.r < rd.csv.nrows && !rd.err; rd.r++) {
        SdRepeatRow p;
        memset(&p, 0, sizeof(p));
        nonempty(&rd, 0); nonempty(&rd, 1);
        p.region = (char *)cell(&rd, 0);
        p.metric = (char *)cell(&rd, 1);
        p.n_subjects = (int)integer(&rd, 2, 0, IMAX, 0, 0);
        p.n_repeats = (int)integer(&rd, 3, 0, IMAX, 0, 0);
        p.icc31 = num(&rd, 4);
        p.cv_w_pct = num(&rd, 5);
        p.sem = num(&rd, 6);
        p.mdc95 = num(&rd, 7);
        if (rd.err) break;
        if ((err = sd_repeat_push(a, &p))) { rd.err = err; break; }
    }
    err = rd.err;
    sd_csv_free(&rd.csv);
    return err;
}

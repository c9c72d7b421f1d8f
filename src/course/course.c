/* Course statistics: change of every follow-up against its baseline, per-course trends, cohort
 * tests per follow-up session, and repeatability from repeat captures (definitions in course.h
 * and stats.h). Rows are grouped by sorting indices, never by global state. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "skindelta/course.h"
#include "skindelta/metrics.h"
#include "src/course/stats.h"
#include "src/core/core.h"

typedef struct MRef { const SdMeasRow *r; size_t i; } MRef;

static int cmp_int(int a, int b) { return (a > b) - (a < b); }
static int cmp_size(size_t a, size_t b) { return (a > b) - (a < b); }

/* patient, view, region, metric, session_index, input order */
static int cmp_course(const void *pa, const void *pb)
{
    const MRef *a = pa, *b = pb;
    int c = strcmp(a->r->patient, b->r->patient);
    if (!c) c = strcmp(a->r->view, b->r->view);
    if (!c) c = strcmp(a->r->region, b->r->region);
    if (!c) c = strcmp(a->r->metric, b->r->metric);
    if (!c) c = cmp_int(a->r->session_index, b->r->session_index);
    if (!c) c = cmp_size(a->i, b->i);
    return c;
}

static int same_course(const SdMeasRow *a, const SdMeasRow *b)
{
    return !strcmp(a->patient, b->patient) && !strcmp(a->view, b->view) &&
           !strcmp(a->region, b->region) && !strcmp(a->metric, b->metric);
}

static MRef *sorted_refs(const SdMeasArray *m, int (*cmp)(const void *, const void *))
{
    MRef *x = sd_calloc_checked(m->n ? m->n : 1, sizeof(*x));
    if (!x) return NULL;
    for (size_t i = 0; i < m->n; i++) { x[i].r = &m->v[i]; x[i].i = i; }
    qsort(x, m->n, sizeof(*x), cmp);
    return x;
}

const SdRepeatRow *sd_repeat_find(const SdRepeatArray *rep, const char *region, const char *metric)
{
    if (!rep) return NULL;
    for (size_t i = 0; i < rep->n; i++)
        if (!strcmp(rep->v[i].region, region) && !strcmp(rep->v[i].metric, metric))
            return &rep->v[i];
    return NULL;
}

/* Detection floors below which a metric's value is as good as zero (docs/STATISTICS.md,
 * "Relative change"): a few pixels of wrinkle or spot (wrinkle density: the false detections of
 * skin without wrinkles reach ~1-2 % of a region), a fraction of the smallest level the
 * texture and pigment maps resolve. A metric not listed (a renamed or new one) has floor 0 and
 * relies on its mdc95 alone. */
static const struct { const char *metric; double floor; } pct_floors[] = {
    {"texture_roughness", 0.1},       {"texture_glcm_contrast", 0.01},
    {"texture_glcm_homogeneity", 0.01}, {"texture_glcm_entropy", 0.01},
    {"wrinkle_density", 2.0},         {"wrinkle_length_density", 5.0},
    {"wrinkle_severity", 0.01},       {"pigment_unevenness", 0.1},
    {"pigment_spot_area", 0.5},       {"pigment_spot_density", 0.5},
    {"pigment_ita_sd", 0.5},          {"redness_unevenness", 0.1},
};

double sd_pct_floor(const char *metric, double mdc95)
{
    double f = 0;
    for (size_t i = 0; i < sizeof(pct_floors) / sizeof(pct_floors[0]); i++)
        if (!strcmp(pct_floors[i].metric, metric)) f = pct_floors[i].floor;
    /* "clearly above": the baseline is at least twice the smallest change that can be detected */
    return isfinite(mdc95) && 2 * mdc95 > f ? 2 * mdc95 : f;
}

const char *sd_cohort_family(const char *region, const char *metric)
{
    const int mi = sd_metric_index(metric);
    const SdMetricInfo *in = mi >= 0 ? sd_metric_info(mi) : NULL;
    const int whole = !strcmp(region, "face") || !strcmp(region, "whole");
    return in && in->primary && whole ? "confirmatory" : "exploratory";
}

int sd_course_changes(SdCtx *ctx, const SdMeasArray *m, const SdRepeatArray *rep,
                      SdChangeArray *out)
{
    int err = 0;
    MRef *x = sorted_refs(m, cmp_course);
    /* base[i]: index of the baseline row of follow-up row i, or SIZE_MAX */
    size_t *base = sd_calloc_checked(m->n ? m->n : 1, sizeof(*base));
    if (!x || !base) { err = sd_fail(ctx, SD_ENOMEM, "course changes: out of memory"); goto fail; }
    for (size_t i = 0; i < m->n; i++) base[i] = SIZE_MAX;
    for (size_t g = 0; g < m->n;) {
        size_t e = g + 1;
        while (e < m->n && same_course(x[g].r, x[e].r)) e++;
        /* the first session_index 0 row of the course is its baseline */
        if (x[g].r->session_index == 0)
            for (size_t k = g + 1; k < e; k++)
                if (x[k].r->session_index > 0) base[x[k].i] = x[g].i;
        g = e;
    }
    for (size_t i = 0; i < m->n; i++) {
        if (base[i] == SIZE_MAX) continue;
        const SdMeasRow *f = &m->v[i], *b = &m->v[base[i]];
        SdChangeRow c = {
            .patient = f->patient, .view = f->view, .session = f->session,
            .session_index = f->session_index, .days = f->days, .region = f->region,
            .metric = f->metric, .baseline = f->has_paired ? f->paired_base : b->value, .value = f->value,
            .better = f->better ? f->better : b->better,
        };
        /* the baseline on the skin both photos show when the run measured it (hair or glare
         * at either visit out of both), else the baseline's own row */
        c.delta = f->value - c.baseline;
        const SdRepeatRow *rr = sd_repeat_find(rep, f->region, f->metric);
        if (rr && isfinite(rr->mdc95))
            c.mdc95 = rr->mdc95;
        else if (isfinite(b->sd) && isfinite(f->sd))
            c.mdc95 = 1.96 * sqrt(b->sd * b->sd + f->sd * f->sd);
        else
            c.mdc95 = NAN;
        /* a percent of a baseline near zero explodes (0.37 -> 12.7 reads -3331%): relative
         * change only where the baseline is clearly above the metric's floor */
        /* (the baseline's own noise decides whether it is clearly above zero, not the pair's:
         * a bad follow-up capture makes its change uncertain, not its baseline small) */
        const double base_mdc = rr && isfinite(rr->mdc95) ? rr->mdc95
                              : isfinite(b->sd) ? 1.96 * M_SQRT2 * b->sd : NAN;
        const double fl = sd_pct_floor(f->metric, base_mdc);
        c.pct_change = fabs(c.baseline) > fl && c.baseline != 0 ? 100.0 * c.delta / fabs(c.baseline) : NAN;
        c.improvement_pct = c.better ? c.better * c.pct_change : NAN;
        c.beyond_noise = isfinite(c.mdc95) && isfinite(c.delta) ? fabs(c.delta) > c.mdc95 : -1;
        if ((err = sd_change_push(out, &c))) {
            err = sd_fail(ctx, err, "course changes: out of memory");
            goto fail;
        }
    }
fail:
    free(x);
    free(base);
    return err;
}

typedef struct Group { size_t first_in, start, len; } Group;

static int cmp_group(const void *pa, const void *pb)
{
    const Group *a = pa, *b = pb;
    return cmp_size(a->first_in, b->first_in);
}

int sd_course_trends(SdCtx *ctx, const SdMeasArray *m, SdTrendArray *out)
{
    int err = 0;
    MRef *x = sorted_refs(m, cmp_course);
    Group *gr = sd_calloc_checked(m->n ? m->n : 1, sizeof(*gr));
    double *xs = sd_calloc_checked(m->n ? m->n : 1, sizeof(double));
    double *ys = sd_calloc_checked(m->n ? m->n : 1, sizeof(double));
    size_t ng = 0;
    if (!x || !gr || !xs || !ys) { err = sd_fail(ctx, SD_ENOMEM, "course trends: out of memory"); goto fail; }
    for (size_t g = 0; g < m->n;) {
        size_t e = g + 1, first = x[g].i;
        while (e < m->n && same_course(x[g].r, x[e].r)) {
            if (x[e].i < first) first = x[e].i;
            e++;
        }
        gr[ng].first_in = first; gr[ng].start = g; gr[ng].len = e - g;
        ng++;
        g = e;
    }
    qsort(gr, ng, sizeof(*gr), cmp_group);   /* courses in order of first appearance */
    for (size_t k = 0; k < ng; k++) {
        const MRef *c = &x[gr[k].start];
        int n = 0, dated = 1;
        for (size_t j = 0; j < gr[k].len; j++)
            if (isfinite(c[j].r->value) && !isfinite(c[j].r->days)) dated = 0;
        for (size_t j = 0; j < gr[k].len; j++) {
            if (!isfinite(c[j].r->value)) continue;
            xs[n] = dated ? c[j].r->days / 30.0 : (double)c[j].r->session_index;
            ys[n] = c[j].r->value;
            n++;
        }
        if (n < 2) continue;
        SdOls o;
        sd_ols(xs, ys, n, 0.95, &o);
        SdTrendRow t = {
            .patient = c->r->patient, .view = c->r->view, .region = c->r->region,
            .metric = c->r->metric, .n_sessions = n, .slope = o.slope,
            .slope_unit = dated ? "per_30_days" : "per_session",
            .ci95_low = o.ci_low, .ci95_high = o.ci_high,
        };
        if ((err = sd_trend_push(out, &t))) {
            err = sd_fail(ctx, err, "course trends: out of memory");
            goto fail;
        }
    }
fail:
    free(x); free(gr); free(xs); free(ys);
    return err;
}

/* ---- cohort */

typedef struct CRef { const SdChangeRow *r; size_t i; size_t rm_order; } CRef;

static int cmp_region_metric(const void *pa, const void *pb)
{
    const CRef *a = pa, *b = pb;
    int c = strcmp(a->r->region, b->r->region);
    if (!c) c = strcmp(a->r->metric, b->r->metric);
    if (!c) c = cmp_size(a->i, b->i);
    return c;
}

/* view, session_index, region x metric in order of first appearance, input order */
static int cmp_cohort(const void *pa, const void *pb)
{
    const CRef *a = pa, *b = pb;
    int c = strcmp(a->r->view, b->r->view);
    if (!c) c = cmp_int(a->r->session_index, b->r->session_index);
    if (!c) c = cmp_size(a->rm_order, b->rm_order);
    if (!c) c = cmp_size(a->i, b->i);
    return c;
}

static int same_cell(const CRef *a, const CRef *b)
{
    return !strcmp(a->r->view, b->r->view) && a->r->session_index == b->r->session_index &&
           a->rm_order == b->rm_order;
}

static double mean_finite(const double *v, int n)
{
    double s = 0;
    int m = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(v[i])) { s += v[i]; m++; }
    return m ? s / m : NAN;
}

/* Improvement direction of a change row: its `better`, or the sign relation of improvement_pct
 * and delta when read back from changes.csv. */
static int improved(const SdChangeRow *r)
{
    if (r->better) return r->better * r->delta > 0;
    return isfinite(r->improvement_pct) && r->improvement_pct > 0;
}

static int cohort_cell(const CRef *c, size_t len, double *d, double *pc, double *ip,
                       SdCohortRow *row)
{
    int n = 0, with_mdc = 0, responders = 0;
    for (size_t j = 0; j < len; j++) {
        const SdChangeRow *r = c[j].r;
        if (!isfinite(r->delta)) continue;
        d[n] = r->delta;
        pc[n] = r->pct_change;
        ip[n] = r->improvement_pct;
        n++;
        if (isfinite(r->mdc95)) {
            with_mdc++;
            if (fabs(r->delta) > r->mdc95 && improved(r)) responders++;
        }
    }
    SdSummary s;
    SdTTest t;
    SdWilcoxon w;
    sd_summary(d, n, 0.95, &s);
    sd_ttest_paired(d, n, &t);
    int err = sd_wilcoxon(d, n, &w);
    if (err) return err;
    row->n = n;
    row->mean_delta = s.mean;
    row->sd_delta = s.sd;
    row->ci95_low = s.ci_low;
    row->ci95_high = s.ci_high;
    row->t_p = t.p;
    row->wilcoxon_p = n ? w.p : NAN;
    row->holm_p = NAN;
    row->cohens_dz = sd_cohens_dz(d, n);
    row->responders_pct = with_mdc ? 100.0 * responders / with_mdc : NAN;
    row->mean_pct_change = mean_finite(pc, n);
    row->mean_improvement_pct = mean_finite(ip, n);
    row->family = sd_cohort_family(row->region, row->metric);
    row->bh_q = NAN;
    row->min_wilcoxon_p = n ? sd_wilcoxon_min_p(w.n_used) : NAN;
    return 0;
}

int sd_course_cohort(SdCtx *ctx, const SdChangeArray *c, SdCohortArray *out)
{
    int err = 0;
    const size_t n = c->n, n1 = n ? n : 1;
    CRef *x = sd_calloc_checked(n1, sizeof(*x));
    double *d = sd_calloc_checked(n1, sizeof(double));
    double *pc = sd_calloc_checked(n1, sizeof(double));
    double *ip = sd_calloc_checked(n1, sizeof(double));
    double *p = NULL;
    const size_t out_first = out->n;
    if (!x || !d || !pc || !ip) goto nomem;
    for (size_t i = 0; i < n; i++) { x[i].r = &c->v[i]; x[i].i = i; }
    /* rank of each region x metric by first appearance */
    qsort(x, n, sizeof(*x), cmp_region_metric);
    for (size_t g = 0; g < n;) {
        size_t e = g + 1;
        while (e < n && !strcmp(x[e].r->region, x[g].r->region) &&
               !strcmp(x[e].r->metric, x[g].r->metric))
            e++;
        for (size_t k = g; k < e; k++) x[k].rm_order = x[g].i;   /* sorted: x[g].i is the min */
        g = e;
    }
    qsort(x, n, sizeof(*x), cmp_cohort);
    for (size_t g = 0; g < n;) {
        size_t e = g + 1;
        while (e < n && same_cell(&x[g], &x[e])) e++;
        SdCohortRow row = {
            .view = x[g].r->view, .session_index = x[g].r->session_index,
            .region = x[g].r->region, .metric = x[g].r->metric,
        };
        if ((err = cohort_cell(&x[g], e - g, d, pc, ip, &row))) goto nomem;
        if ((err = sd_cohort_push(out, &row))) goto nomem;
        g = e;
    }
    /* per view x session_index: Holm across the confirmatory rows, Benjamini-Hochberg across
     * the exploratory ones (the families are prespecified: sd_cohort_family) */
    p = sd_calloc_checked(out->n - out_first + 1, sizeof(double));
    if (!p) goto nomem;
    for (size_t g = out_first; g < out->n;) {
        size_t e = g + 1;
        while (e < out->n && !strcmp(out->v[e].view, out->v[g].view) &&
               out->v[e].session_index == out->v[g].session_index)
            e++;
        for (int fam = 0; fam < 2; fam++) {
            const char *name = fam ? "exploratory" : "confirmatory";
            for (size_t k = g; k < e; k++)
                p[k - g] = !strcmp(out->v[k].family, name) ? out->v[k].t_p : NAN;
            if ((err = fam ? sd_bh(p, (int)(e - g), p) : sd_holm(p, (int)(e - g), p))) goto nomem;
            for (size_t k = g; k < e; k++) {
                if (strcmp(out->v[k].family, name)) continue;
                /* stored rounded like every other number (see course.h) */
                double *dst = fam ? &out->v[k].bh_q : &out->v[k].holm_p;
                char b[40];
                if (isfinite(p[k - g])) {
                    snprintf(b, sizeof(b), "%.9g", p[k - g]);
                    *dst = strtod(b, NULL);
                } else {
                    *dst = NAN;
                }
            }
        }
        g = e;
    }
    goto done;
nomem:
    err = sd_fail(ctx, SD_ENOMEM, "cohort statistics: out of memory");
done:
    free(x); free(d); free(pc); free(ip); free(p);
    return err;
}

/* ---- repeatability */

/* region, metric, patient, view, session_index, input order */
static int cmp_repeat(const void *pa, const void *pb)
{
    const MRef *a = pa, *b = pb;
    int c = strcmp(a->r->region, b->r->region);
    if (!c) c = strcmp(a->r->metric, b->r->metric);
    if (!c) c = strcmp(a->r->patient, b->r->patient);
    if (!c) c = strcmp(a->r->view, b->r->view);
    if (!c) c = cmp_int(a->r->session_index, b->r->session_index);
    if (!c) c = cmp_size(a->i, b->i);
    return c;
}

static int same_rm(const SdMeasRow *a, const SdMeasRow *b)
{
    return !strcmp(a->region, b->region) && !strcmp(a->metric, b->metric);
}

static int same_subject(const SdMeasRow *a, const SdMeasRow *b)
{
    return !strcmp(a->patient, b->patient) && !strcmp(a->view, b->view);
}

/* One region x metric block x[0..len): choose k, fill y, compute. Returns 1 when a row was made. */
static int repeat_block(const MRef *x, size_t len, int *cnt, size_t *start, double *y,
                        SdRepeatRow *row)
{
    int ns = 0, kmax = 0;
    for (size_t s = 0; s < len;) {                 /* subjects and their finite repeat counts */
        size_t e = s + 1;
        while (e < len && same_subject(x[s].r, x[e].r)) e++;
        int c = 0;
        for (size_t j = s; j < e; j++) c += isfinite(x[j].r->value) != 0;
        start[ns] = s;
        cnt[ns++] = c;
        if (c > kmax) kmax = c;
        s = e;
    }
    int best_k = 0, best_n = 0;
    for (int k = 2; k <= kmax; k++) {
        int n = 0;
        for (int i = 0; i < ns; i++) n += cnt[i] >= k;
        if (n >= 2 && ((long)n * k > (long)best_n * best_k ||
                       ((long)n * k == (long)best_n * best_k && n > best_n))) {
            best_k = k;
            best_n = n;
        }
    }
    if (!best_k) return 0;
    int r = 0;
    for (int i = 0; i < ns; i++) {
        if (cnt[i] < best_k) continue;
        int j = 0;
        for (size_t q = start[i]; j < best_k; q++)
            if (isfinite(x[q].r->value)) y[(size_t)r * best_k + j++] = x[q].r->value;
        r++;
    }
    SdRepeatability rp;
    if (sd_repeatability(y, best_n, best_k, &rp)) return 0;
    row->region = x->r->region;
    row->metric = x->r->metric;
    row->n_subjects = best_n;
    row->n_repeats = best_k;
    row->icc31 = rp.icc31;
    row->cv_w_pct = rp.cv_w_pct;
    row->sem = rp.sem;
    row->mdc95 = rp.mdc95;
    return 1;
}

int sd_course_repeatability(SdCtx *ctx, const SdMeasArray *m, SdRepeatArray *out)
{
    int err = 0;
    const size_t n1 = m->n ? m->n : 1;
    MRef *x = sorted_refs(m, cmp_repeat);
    Group *gr = sd_calloc_checked(n1, sizeof(*gr));
    int *cnt = sd_calloc_checked(n1, sizeof(int));
    size_t *start = sd_calloc_checked(n1, sizeof(size_t));
    double *y = sd_calloc_checked(n1, sizeof(double));
    size_t ng = 0;
    if (!x || !gr || !cnt || !start || !y) {
        err = sd_fail(ctx, SD_ENOMEM, "repeatability: out of memory");
        goto fail;
    }
    for (size_t g = 0; g < m->n;) {
        size_t e = g + 1, first = x[g].i;
        while (e < m->n && same_rm(x[g].r, x[e].r)) {
            if (x[e].i < first) first = x[e].i;
            e++;
        }
        gr[ng].first_in = first; gr[ng].start = g; gr[ng].len = e - g;
        ng++;
        g = e;
    }
    qsort(gr, ng, sizeof(*gr), cmp_group);   /* region x metric in order of first appearance */
    for (size_t k = 0; k < ng; k++) {
        SdRepeatRow row;
        if (!repeat_block(&x[gr[k].start], gr[k].len, cnt, start, y, &row)) continue;
        if ((err = sd_repeat_push(out, &row))) {
            err = sd_fail(ctx, err, "repeatability: out of memory");
            goto fail;
        }
    }
fail:
    free(x); free(gr); free(cnt); free(start); free(y);
    return err;
}

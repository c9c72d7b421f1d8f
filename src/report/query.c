/* Report model lookups (dense session x region x metric tables) and text formatting shared by the
 * HTML and SVG writers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "src/report/report_int.h"
#include "src/core/core.h"

int sd__rep_build_index(SdRep *r)
{
    size_t cells, n;
    if (sd_mul_overflow((size_t)r->nses, (size_t)r->regions.n, &n) ||
        sd_mul_overflow(n, (size_t)r->metrics.n, &cells) || cells > ((size_t)1 << 28))
        return SD_ENOMEM;
    r->meas_at = sd_calloc_checked(cells + 1, sizeof(int));
    r->chg_at = sd_calloc_checked(cells + 1, sizeof(int));
    if (!r->meas_at || !r->chg_at) return SD_ENOMEM;
    const size_t R = (size_t)r->regions.n, M = (size_t)r->metrics.n;
    for (int i = 0; i < r->nmeas; i++) {
        const SdRepMeas *m = &r->meas[i];
        r->meas_at[((size_t)m->session * R + (size_t)m->region) * M + (size_t)m->metric] = i + 1;
    }
    for (int i = 0; i < r->nchg; i++) {
        const SdRepChange *c = &r->chg[i];
        r->chg_at[((size_t)c->session * R + (size_t)c->region) * M + (size_t)c->metric] = i + 1;
    }
    /* trends and cohort rows: dense when small enough, else the lookups scan */
    const size_t V = (size_t)r->views.n, P = (size_t)r->patients.n, RM = R * M;
    if (RM && V && P <= ((size_t)1 << 26) / RM / V) {
        if (!(r->trd_at = sd_calloc_checked(P * V * RM + 1, sizeof(int)))) return SD_ENOMEM;
        for (int i = 0; i < r->ntrd; i++) {
            const SdRepTrend *t = &r->trd[i];
            r->trd_at[(((size_t)t->patient * V + (size_t)t->view) * R + (size_t)t->region) * M +
                      (size_t)t->metric] = i + 1;
        }
    }
    int ns = 1;
    for (int i = 0; i < r->nses; i++) if (r->ses[i].index >= ns) ns = r->ses[i].index + 1;
    for (int i = 0; i < r->ncoh; i++) if (r->coh[i].sidx >= ns) ns = r->coh[i].sidx + 1;
    if (RM && V && (size_t)ns <= ((size_t)1 << 26) / RM / V) {
        r->coh_nsidx = ns;
        if (!(r->coh_at = sd_calloc_checked(V * (size_t)ns * RM + 1, sizeof(int)))) return SD_ENOMEM;
        for (int i = 0; i < r->ncoh; i++) {
            const SdRepCohort *c = &r->coh[i];
            r->coh_at[(((size_t)c->view * (size_t)ns + (size_t)c->sidx) * R + (size_t)c->region) * M +
                      (size_t)c->metric] = i + 1;
        }
    }
    return 0;
}

static int *coh_slot(const SdRep *r, int view, int sidx, int region, int metric)
{
    if (!r->coh_at || sidx < 0 || sidx >= r->coh_nsidx) return NULL;
    const size_t R = (size_t)r->regions.n, M = (size_t)r->metrics.n;
    return &r->coh_at[(((size_t)view * (size_t)r->coh_nsidx + (size_t)sidx) * R + (size_t)region) *
                      M + (size_t)metric];
}

SdRepCohort *sd__rep_cohort_get(SdRep *r, int view, int sidx, int region, int metric)
{
    SdRepCohort *o = (SdRepCohort *)sd__rep_cohort(r, view, sidx, region, metric);
    if (o) return o;
    if (r->ncoh == r->ccoh) {
        int cap = r->ccoh ? 2 * r->ccoh : 64;
        SdRepCohort *p = realloc(r->coh, (size_t)cap * sizeof(SdRepCohort));
        if (!p) return NULL;
        r->coh = p;
        r->ccoh = cap;
    }
    o = &r->coh[r->ncoh++];
    *o = (SdRepCohort){view, sidx, region, metric, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN,
                       NAN, NAN, NAN, 0, NAN, NAN, NAN, 0, NAN, NAN};
    int *slot = coh_slot(r, view, sidx, region, metric);
    if (slot) *slot = r->ncoh;
    return o;
}

static size_t cell(const SdRep *r, int session, int region, int metric)
{
    return ((size_t)session * (size_t)r->regions.n + (size_t)region) * (size_t)r->metrics.n +
           (size_t)metric;
}

const SdRepMeas *sd__rep_meas(const SdRep *r, int session, int region, int metric)
{
    int k = r->meas_at ? r->meas_at[cell(r, session, region, metric)] : 0;
    return k ? &r->meas[k - 1] : NULL;
}

const SdRepChange *sd__rep_change(const SdRep *r, int session, int region, int metric)
{
    int k = r->chg_at ? r->chg_at[cell(r, session, region, metric)] : 0;
    return k ? &r->chg[k - 1] : NULL;
}

const SdRepTrend *sd__rep_trend(const SdRep *r, int patient, int view, int region, int metric)
{
    if (r->trd_at) {
        const size_t R = (size_t)r->regions.n, M = (size_t)r->metrics.n;
        int k = r->trd_at[(((size_t)patient * (size_t)r->views.n + (size_t)view) * R +
                           (size_t)region) * M + (size_t)metric];
        return k ? &r->trd[k - 1] : NULL;
    }
    for (int i = 0; i < r->ntrd; i++) {
        const SdRepTrend *t = &r->trd[i];
        if (t->patient == patient && t->view == view && t->region == region && t->metric == metric)
            return t;
    }
    return NULL;
}

const SdRepCohort *sd__rep_cohort(const SdRep *r, int view, int sidx, int region, int metric)
{
    if (r->coh_at) {
        const int *slot = coh_slot(r, view, sidx, region, metric);
        return slot && *slot ? &r->coh[*slot - 1] : NULL;
    }
    for (int i = 0; i < r->ncoh; i++) {
        const SdRepCohort *c = &r->coh[i];
        if (c->view == view && c->sidx == sidx && c->region == region && c->metric == metric)
            return c;
    }
    return NULL;
}

static int cmp_ses_index(const void *a, const void *b, void *arg)
{
    const SdRep *r = arg;
    const SdRepSession *x = &r->ses[*(const int *)a], *y = &r->ses[*(const int *)b];
    if (x->index != y->index) return x->index < y->index ? -1 : 1;
    return sd_natcmp(x->name, y->name);
}

static int cmp_ses_name(const void *a, const void *b, void *arg)
{
    const SdRep *r = arg;
    const SdRepSession *x = &r->ses[*(const int *)a], *y = &r->ses[*(const int *)b];
    int c = sd_natcmp(x->name, y->name);
    return c ? c : strcmp(x->name, y->name);
}

/* By session_index; when a session has none (it failed before measuring: only an alignment row),
 * by name, the catalog's own order (first = baseline). */
int sd__rep_sessions(const SdRep *r, int patient, int view, int *idx, int cap)
{
    int n = 0, unknown = 0;
    for (int i = 0; i < r->nses && n < cap; i++)
        if (r->ses[i].patient == patient && r->ses[i].view == view) {
            unknown |= r->ses[i].index < 0;
            idx[n++] = i;
        }
    qsort_r(idx, (size_t)n, sizeof(int), unknown ? cmp_ses_name : cmp_ses_index, (void *)r);
    return n;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double sd__rep_sidx_days(const SdRep *r, int view, int sidx)
{
    int n = 0;
    double *d = sd_calloc_checked((size_t)r->nses + 1, sizeof(double));
    if (!d) return NAN;
    for (int i = 0; i < r->nses; i++)
        if (r->ses[i].view == view && r->ses[i].index == sidx && !isnan(r->ses[i].days))
            d[n++] = r->ses[i].days;
    double m = NAN;
    if (n) {
        qsort(d, (size_t)n, sizeof(double), cmp_double);
        m = n % 2 ? d[n / 2] : 0.5 * (d[n / 2 - 1] + d[n / 2]);
    }
    free(d);
    return m;
}

void sd__rep_esc(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default:
            if (c < 0x20 && c != '\n' && c != '\t') fputs("\xef\xbf\xbd", f);
            else fputc(c, f);
        }
    }
}

const char *sd__rep_fmt(char *buf, size_t n, double v)
{
    if (isnan(v) || isinf(v)) {
        snprintf(buf, n, "\xe2\x80\x93");
        return buf;
    }
    double a = fabs(v);
    if (a == 0) snprintf(buf, n, "0");
    else if (a >= 1e5 || a < 1e-3) snprintf(buf, n, "%.2e", v);
    else {
        int dec = 2 - (int)floor(log10(a));
        snprintf(buf, n, "%.*f", dec < 0 ? 0 : dec, v);
    }
    return buf;
}

const char *sd__rep_fmt_pct(char *buf, size_t n, double v)
{
    if (isnan(v) || isinf(v)) snprintf(buf, n, "\xe2\x80\x93");
    else if (fabs(v) >= 1e6) snprintf(buf, n, "%+.2e%%", v);
    else snprintf(buf, n, "%+.1f%%", fabs(v) < 0.05 ? 0.0 : v);
    return buf;
}

const char *sd__rep_fmt_1(char *buf, size_t n, double v)
{
    if (isnan(v) || isinf(v)) snprintf(buf, n, "\xe2\x80\x93");
    else if (fabs(v) >= 1e6) snprintf(buf, n, "%.2e", v);
    else if (v == floor(v)) snprintf(buf, n, "%.0f", v);
    else snprintf(buf, n, "%.1f", fabs(v) < 0.05 ? 0.0 : v);
    return buf;
}

const char *sd__rep_fmt_p(char *buf, size_t n, double v)
{
    if (isnan(v)) snprintf(buf, n, "\xe2\x80\x93");
    else if (v < 0.001) snprintf(buf, n, "&lt;0.001");
    else snprintf(buf, n, "%.3f", v);
    return buf;
}

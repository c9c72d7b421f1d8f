/* Statistics for the course and cohort tables (see stats.h for the definitions and choices). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "skindelta/skindelta.h"
#include "src/course/stats.h"
#include "src/core/core.h"

#define TIE_REL 1e-9

/* lgamma without the global signgam (all arguments here are positive). */
static double lgam(double x)
{
    int sign;
    return lgamma_r(x, &sign);
}

/* Continued fraction of I_x(a,b) (valid and fast for x < (a+1)/(a+b+2)), modified Lentz. */
static double betacf(double a, double b, double x)
{
    const double tiny = 1e-300, eps = 1e-16;
    double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0);
    if (fabs(d) < tiny) d = tiny;
    d = 1.0 / d;
    double h = d;
    for (int m = 1; m <= 1000000; m++) {   /* ~sqrt(max(a,b)) steps near the mean */
        const double m2 = 2.0 * m;
        double aa = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
        d = 1.0 + aa * d;
        if (fabs(d) < tiny) d = tiny;
        c = 1.0 + aa / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1.0 / d;
        h *= d * c;
        aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
        d = 1.0 + aa * d;
        if (fabs(d) < tiny) d = tiny;
        c = 1.0 + aa / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1.0 / d;
        const double del = d * c;
        h *= del;
        if (fabs(del - 1.0) < eps) break;
    }
    return h;
}

/* log Gamma(x) minus Stirling's leading terms, for x >= 100 (truncation error < 1e-20). */
static double stirling_delta(double x)
{
    const double r = 1.0 / x, r2 = r * r;
    return r * (1.0 / 12 - r2 * (1.0 / 360 - r2 * (1.0 / 1260 - r2 / 1680)));
}

/* log B(a,b) without the cancellation of lgamma differences when one argument is large. */
static double lbeta(double a, double b)
{
    const double big = fmax(a, b), sm = fmin(a, b);
    if (big < 100.0) return lgam(a) + lgam(b) - lgam(a + b);
    /* lgamma(big+sm) - lgamma(big) = (big-0.5) log1p(sm/big) + sm log(big+sm) - sm + delta diff */
    const double d = (big - 0.5) * log1p(sm / big) + sm * log(big + sm) - sm +
                     stirling_delta(big + sm) - stirling_delta(big);
    return lgam(sm) - d;
}

/* z - log(1 + z), z > -1. */
static double rlog1(double z)
{
    return z - log1p(z);
}

/* log(x^a y^b / B(a,b)), the front factor of I_x(a,b). With both shapes large its three terms are
 * each ~a and cancel to a few units: a = b = 1e5 at x = 0.5 lost 1.7e-10 relative that way
 * (against R's pbeta). There it is written about the mode x0 = a/(a+b) instead (as TOMS 708's
 * brcomp, Didonato & Morris 1992): a log(x/x0) + b log(y/y0) has no linear term, so it is
 * -(a rlog1(-l/a) + b rlog1(l/b)) with l = a - (a+b)x, and what is left of the Stirling series is
 * 0.5 log(ab / (2 pi (a+b))) minus the corrections. */
static double log_front(double a, double b, double x, double y)
{
    if (fmin(a, b) < 100.0) {
        const double lx = x < 0.5 ? log(x) : log1p(-y), ly = y < 0.5 ? log(y) : log1p(-x);
        return a * lx + b * ly - lbeta(a, b);
    }
    const double l = a <= b ? a - (a + b) * x : (a + b) * y - b;
    return -(a * rlog1(-l / a) + b * rlog1(l / b)) +
           0.5 * (log(a) + log(b) - log(a + b) - log(2.0 * M_PI)) -
           (stirling_delta(a) + stirling_delta(b) - stirling_delta(a + b));
}

/* I_x(a,b) with y = 1 - x supplied separately so callers keep full precision near x = 1. */
static double incbeta_xy(double a, double b, double x, double y)
{
    if (!(a > 0) || !(b > 0) || !(x >= 0) || !(y >= 0) || isnan(x) || isnan(y)) return NAN;
    if (x == 0) return 0.0;
    if (y == 0) return 1.0;
    const double lbt = log_front(a, b, x, y);
    if (x < (a + 1.0) / (a + b + 2.0))
        return exp(lbt) * betacf(a, b, x) / a;
    return 1.0 - exp(lbt) * betacf(b, a, y) / b;
}

double sd_incbeta(double a, double b, double x)
{
    if (!(x >= 0 && x <= 1)) return NAN;
    return incbeta_xy(a, b, x, 1.0 - x);
}

double sd_normal_cdf(double z)
{
    if (isnan(z)) return NAN;
    return 0.5 * erfc(-z / M_SQRT2);
}

double sd_normal_quantile(double p)
{
    if (isnan(p) || p < 0 || p > 1) return NAN;
    if (p == 0) return -INFINITY;
    if (p == 1) return INFINITY;
    if (p > 0.5) return -sd_normal_quantile(1.0 - p);
    if (p == 0.5) return 0.0;
    /* Start: Abramowitz & Stegun 26.2.23 (|error| < 4.5e-4), then Halley steps on erfc. */
    const double t = sqrt(-2.0 * log(p));
    double z = -(t - (2.515517 + 0.802853 * t + 0.010328 * t * t) /
                     (1.0 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t));
    for (int i = 0; i < 6; i++) {
        const double e = 0.5 * erfc(-z / M_SQRT2) - p;
        const double u = e * sqrt(2.0 * M_PI) * exp(0.5 * z * z);
        const double step = u / (1.0 + 0.5 * z * u);
        z -= step;
        if (fabs(step) <= 1e-15 * fabs(z)) break;
    }
    return z;
}

/* Degrees of freedom from which the t tail comes from Hill's normalising expansion. */
#define SD_T_DF_HILL 1e5

/* Two-sided tail P(|T| >= |t|) for df > 0: I_x(df/2, 1/2) with x = df/(df+t^2). */
double sd_t_p2(double t, double df)
{
    if (isnan(t) || !(df > 0)) return NAN;
    if (isinf(t)) return 0.0;
    const double at = fabs(t), u = sqrt(df) / at, a = 0.5 * df;
    if (u < 1e-20)
        /* far tail, where t^2 may overflow: x = u^2/(1+u^2) and the front factor x^a (1-x)^(1/2)
         * / (a B(a, 1/2)) is the whole value to double precision (the continued fraction and
         * (1-x)^(1/2) are 1 + O(u^2)) */
        return exp(2.0 * a * log(u) - lbeta(a, 0.5)) / a;
    if (df >= SD_T_DF_HILL) {
        /* Large df: the continued fraction needs ~sqrt(df) steps with x within 1/df of 1 and
         * loses digits (5e-7 relative at df = 1e10 against R's pt; a 1/df expansion used before
         * was 4e-5 off at df = 1.5e6, t = 25). Hill's (1970, CACM Algorithm 395) normalising
         * transformation z(t, df) is within ~1e-13 relative of the exact tail (mpmath) for
         * df >= 1e5, t up to the underflow of the tail. */
        const double n = df, h = n - 0.5, b = 48.0 * h * h;
        const double y = h * log1p(at * at / n);
        const double z = (((((-0.4 * y - 3.3) * y - 24.0) * y - 85.5) / (0.8 * y * y + 100.0 + b) + y + 3.0) / b + 1.0) *
                         sqrt(y);
        return erfc(z / M_SQRT2);
    }
    const double t2 = at * at, den = df + t2;
    /* x = df/(df+t^2), y = t^2/(df+t^2), both computed directly. */
    return incbeta_xy(a, 0.5, df / den, t2 / den);
}

double sd_t_cdf(double t, double df)
{
    if (isnan(t) || !(df > 0)) return NAN;
    const double half = 0.5 * sd_t_p2(t, df);
    return t > 0 ? 1.0 - half : half;
}

static double t_pdf(double t, double df)
{
    return exp(lgam(0.5 * (df + 1.0)) - lgam(0.5 * df) - 0.5 * log(df * M_PI) -
               0.5 * (df + 1.0) * log1p(t * t / df));
}

double sd_t_quantile(double p, double df)
{
    if (isnan(p) || p < 0 || p > 1 || !(df > 0)) return NAN;
    if (p == 0) return -INFINITY;
    if (p == 1) return INFINITY;
    if (p == 0.5) return 0.0;
    const double sign = p < 0.5 ? -1.0 : 1.0;
    const double a = p < 0.5 ? p : 1.0 - p;       /* upper tail to hit: S(t) = a, t > 0 */
    /* Bracket [lo, hi] with S(lo) >= a >= S(hi); S decreasing. */
    double lo = 0.0, hi = 1.0;
    int guard = 0;
    while (0.5 * sd_t_p2(hi, df) > a && guard++ < 2100) { lo = hi; hi *= 2.0; }
    double t = fmax(lo, fmin(hi, -sd_normal_quantile(a)));
    if (!(t > lo && t < hi)) t = 0.5 * (lo + hi);
    for (int it = 0; it < 300; it++) {
        const double f = 0.5 * sd_t_p2(t, df) - a;    /* > 0: t too small */
        if (f == 0) break;
        if (f > 0) lo = t; else hi = t;
        const double dens = t_pdf(t, df);
        double nt = dens > 0 ? t + f / dens : NAN;  /* Newton on S(t) - a, S' = -pdf */
        if (!(nt > lo && nt < hi)) nt = 0.5 * (lo + hi);
        if (fabs(nt - t) <= 1e-15 * fabs(nt) || hi - lo <= 1e-15 * hi) { t = nt; break; }
        t = nt;
    }
    return sign * t;
}

void sd_summary(const double *x, int n, double level, SdSummary *s)
{
    double sum = 0.0;
    int m = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(x[i])) { sum += x[i]; m++; }
    s->n = m;
    s->mean = m ? sum / m : NAN;
    s->sd = s->ci_low = s->ci_high = NAN;
    if (m < 2) return;
    double ss = 0.0;
    for (int i = 0; i < n; i++)
        if (isfinite(x[i])) ss += (x[i] - s->mean) * (x[i] - s->mean);
    s->sd = sqrt(ss / (m - 1));
    const double h = sd_t_quantile(0.5 + 0.5 * level, m - 1) * s->sd / sqrt((double)m);
    s->ci_low = s->mean - h;
    s->ci_high = s->mean + h;
}

void sd_ttest_paired(const double *d, int n, SdTTest *out)
{
    SdSummary s;
    sd_summary(d, n, 0.95, &s);
    out->n = s.n;
    out->mean = s.mean;
    out->sd = s.sd;
    out->df = s.n >= 2 ? s.n - 1 : NAN;
    out->t = out->p = NAN;
    if (s.n < 2 || !(s.sd > 0)) return;
    out->t = s.mean / (s.sd / sqrt((double)s.n));
    out->p = sd_t_p2(out->t, out->df);
}

double sd_cohens_dz(const double *d, int n)
{
    SdSummary s;
    sd_summary(d, n, 0.95, &s);
    return s.n >= 2 && s.sd > 0 ? s.mean / s.sd : NAN;
}


typedef struct AbsSign { double a; int pos; } AbsSign;

static int cmp_abs(const void *pa, const void *pb)
{
    const AbsSign *a = pa, *b = pb;
    return (a->a > b->a) - (a->a < b->a);
}

/* Exact P(W+ <= w2/2) and P(W+ >= w2/2) for doubled ranks r2[0..n): DP over sign patterns with
 * probabilities (each rank is positive with probability 1/2). */
static int exact_tails(const int *r2, int n, long w2, double *lower, double *upper)
{
    long total = 0;
    for (int i = 0; i < n; i++) total += r2[i];
    double *pr = sd_calloc_checked((size_t)total + 1, sizeof(double));
    if (!pr) return SD_ENOMEM;
    pr[0] = 1.0;
    long reach = 0;
    for (int i = 0; i < n; i++) {
        reach += r2[i];
        for (long s = reach; s >= 0; s--)
            pr[s] = 0.5 * (pr[s] + (s >= r2[i] ? pr[s - r2[i]] : 0.0));
    }
    double lo = 0.0, up = 0.0;
    for (long s = 0; s <= total; s++) {
        if (s <= w2) lo += pr[s];
        if (s >= w2) up += pr[s];
    }
    free(pr);
    *lower = fmin(1.0, lo);
    *upper = fmin(1.0, up);
    return 0;
}

double sd_wilcoxon_exact_cdf(int n, double w)
{
    if (n < 1 || n > 200 || isnan(w)) return NAN;
    int *r2 = sd_calloc_checked((size_t)n, sizeof(int));
    if (!r2) return NAN;
    for (int i = 0; i < n; i++) r2[i] = 2 * (i + 1);
    double lo = NAN, up;
    const double wf = floor(w);
    if (wf < 0) lo = 0.0;
    else if (exact_tails(r2, n, (long)(2.0 * fmin(wf, n * (n + 1.0) / 2.0)), &lo, &up)) lo = NAN;
    free(r2);
    return lo;
}

int sd_wilcoxon(const double *d, int n, SdWilcoxon *out)
{
    memset(out, 0, sizeof(*out));
    out->z = NAN;
    out->p = NAN;
    if (n < 0) return SD_EINVAL;
    AbsSign *v = sd_calloc_checked(n > 0 ? (size_t)n : 1, sizeof(*v));
    int *r2 = sd_calloc_checked(n > 0 ? (size_t)n : 1, sizeof(int));
    int err = 0;
    if (!v || !r2) { err = SD_ENOMEM; goto fail; }
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (!isfinite(d[i]) || d[i] == 0) continue;
        v[m].a = fabs(d[i]);
        v[m].pos = d[i] > 0;
        m++;
    }
    out->n_used = m;
    if (m == 0) { out->p = 1.0; out->exact = 1; goto fail; }
    qsort(v, (size_t)m, sizeof(*v), cmp_abs);
    /* Mid-ranks, doubled so they stay integers: a tie group at 0-based [i, j) has rank
     * (i+1 + j)/2, doubled i+1+j. */
    long w2 = 0;
    double tie_sum = 0.0;
    for (int i = 0; i < m;) {
        int j = i + 1;
        while (j < m && v[j].a - v[i].a <= TIE_REL * v[j].a) j++;
        const int t = j - i;
        if (t > 1) { out->ties = 1; tie_sum += (double)t * t * t - t; }
        for (int k = i; k < j; k++) {
            r2[k] = i + 1 + j;
            if (v[k].pos) w2 += r2[k];
        }
        i = j;
    }
    out->w_plus = 0.5 * (double)w2;
    if (m <= SD_WILCOXON_EXACT_MAX) {
        double lo, up;
        if ((err = exact_tails(r2, m, w2, &lo, &up))) goto fail;
        out->exact = 1;
        out->p = fmin(1.0, 2.0 * fmin(lo, up));
    } else {
        const double mean = m * (m + 1.0) / 4.0;
        const double var = m * (m + 1.0) * (2.0 * m + 1.0) / 24.0 - tie_sum / 48.0;
        double diff = out->w_plus - mean;
        diff = diff > 0 ? fmax(0.0, diff - 0.5) : fmin(0.0, diff + 0.5);
        out->z = var > 0 ? diff / sqrt(var) : 0.0;
        out->p = fmin(1.0, 2.0 * sd_normal_cdf(-fabs(out->z)));
    }
fail:
    free(v);
    free(r2);
    return err;
}

typedef struct PIdx { double p; int i; } PIdx;

static int cmp_pidx(const void *pa, const void *pb)
{
    const PIdx *a = pa, *b = pb;
    if (a->p != b->p) return (a->p > b->p) - (a->p < b->p);
    return (a->i > b->i) - (a->i < b->i);
}

/* The finite p values with their indices, ascending (ties by index), into *out (malloc'ed; *m of
 * them); adj gets NaN where p is not finite. Returns 0 or SD_ENOMEM. */
static int sorted_finite(const double *p, int n, double *adj, PIdx **out, int *m)
{
    PIdx *s = sd_calloc_checked((size_t)n, sizeof(*s));
    if (!s) return SD_ENOMEM;
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (isfinite(p[i])) { s[k].p = p[i]; s[k].i = i; k++; }
        else adj[i] = NAN;
    }
    qsort(s, (size_t)k, sizeof(*s), cmp_pidx);
    *out = s;
    *m = k;
    return 0;
}

int sd_holm(const double *p, int n, double *adj)
{
    if (n <= 0) return 0;
    PIdx *s;
    int m;
    if (sorted_finite(p, n, adj, &s, &m)) return SD_ENOMEM;
    double run = 0.0;
    for (int r = 0; r < m; r++) {
        run = fmax(run, fmin(1.0, (double)(m - r) * s[r].p));
        adj[s[r].i] = run;
    }
    free(s);
    return 0;
}

int sd_bh(const double *p, int n, double *adj)
{
    if (n <= 0) return 0;
    PIdx *s;
    int m;
    if (sorted_finite(p, n, adj, &s, &m)) return SD_ENOMEM;
    /* step-up: q(i) = min over j >= i of m p(j) / j (1-based ranks), from the largest p down */
    double run = 1.0;
    for (int r = m - 1; r >= 0; r--) {
        run = fmin(run, (double)m * s[r].p / (double)(r + 1));
        adj[s[r].i] = run;
    }
    free(s);
    return 0;
}

double sd_wilcoxon_min_p(int n)
{
    if (n <= 0) return 1.0;
    return n >= 60 ? 0.0 : fmin(1.0, 2.0 / ldexp(1.0, n));
}

void sd_ols(const double *x, const double *y, int n, double level, SdOls *out)
{
    memset(out, 0, sizeof(*out));
    out->slope = out->intercept = out->se = out->ci_low = out->ci_high = NAN;
    double sx = 0, sy = 0;
    int m = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(x[i]) && isfinite(y[i])) { sx += x[i]; sy += y[i]; m++; }
    out->n = m;
    if (m < 2) return;
    const double mx = sx / m, my = sy / m;
    double sxx = 0, sxy = 0;
    for (int i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(y[i])) continue;
        sxx += (x[i] - mx) * (x[i] - mx);
        sxy += (x[i] - mx) * (y[i] - my);
    }
    if (!(sxx > 0)) return;
    out->slope = sxy / sxx;
    out->intercept = my - out->slope * mx;
    if (m < 3) return;
    double sse = 0;
    for (int i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(y[i])) continue;
        const double r = y[i] - out->intercept - out->slope * x[i];
        sse += r * r;
    }
    out->se = sqrt(sse / (m - 2) / sxx);
    const double h = sd_t_quantile(0.5 + 0.5 * level, m - 2) * out->se;
    out->ci_low = out->slope - h;
    out->ci_high = out->slope + h;
}

int sd_repeatability(const double *y, int n, int k, SdRepeatability *out)
{
    memset(out, 0, sizeof(*out));
    out->bms = out->jms = out->ems = out->wms = NAN;
    out->icc31 = out->sem = out->mdc95 = out->cv_w_pct = NAN;
    out->n = n;
    out->k = k;
    if (n < 2 || k < 2) return SD_EINVAL;
    double gm = 0;
    for (int i = 0; i < n * k; i++) {
        if (!isfinite(y[i])) return SD_EINVAL;
        gm += y[i];
    }
    gm /= (double)n * k;
    double ss_rows = 0, ss_cols = 0, ss_tot = 0, cv2 = 0;
    int cv_ok = 1;
    for (int i = 0; i < n; i++) {
        double mi = 0, si = 0;
        for (int j = 0; j < k; j++) mi += y[i * k + j];
        mi /= k;
        for (int j = 0; j < k; j++) si += (y[i * k + j] - mi) * (y[i * k + j] - mi);
        ss_rows += (mi - gm) * (mi - gm);
        if (mi == 0) cv_ok = 0;
        else cv2 += si / (k - 1) / (mi * mi);
    }
    ss_rows *= k;
    for (int j = 0; j < k; j++) {
        double mj = 0;
        for (int i = 0; i < n; i++) mj += y[i * k + j];
        mj /= n;
        ss_cols += (mj - gm) * (mj - gm);
    }
    ss_cols *= n;
    for (int i = 0; i < n * k; i++) ss_tot += (y[i] - gm) * (y[i] - gm);
    const double ss_err = fmax(0.0, ss_tot - ss_rows - ss_cols);
    out->bms = ss_rows / (n - 1);
    out->jms = ss_cols / (k - 1);
    out->ems = ss_err / ((double)(n - 1) * (k - 1));
    out->wms = (ss_tot - ss_rows) / ((double)n * (k - 1));
    const double den = out->bms + (k - 1) * out->ems;
    out->icc31 = den > 0 ? (out->bms - out->ems) / den : NAN;
    out->sem = sqrt(out->ems);
    out->mdc95 = 1.96 * M_SQRT2 * out->sem;
    out->cv_w_pct = cv_ok ? 100.0 * sqrt(cv2 / n) : NAN;
    return 0;
}

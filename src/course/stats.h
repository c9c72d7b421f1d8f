/* Statistics for course and cohort tables: distributions (normal, Student t, regularised
 * incomplete beta), paired tests (t, Wilcoxon signed-rank), Holm adjustment, effect size, OLS
 * slope with CI, and repeatability (ICC(3,1), CV_w, SEM, MDC95). Pure functions, thread-safe. */
#ifndef SRC_STATS_H
#define SRC_STATS_H

/* Regularised incomplete beta I_x(a, b), a, b > 0, 0 <= x <= 1 (continued fraction, modified
 * Lentz; relative accuracy ~1e-14). NAN for invalid arguments. */
double sd_incbeta(double a, double b, double x);

/* Standard normal CDF and quantile (p in (0,1); -inf/+inf at 0/1; full double precision). */
double sd_normal_cdf(double z);
double sd_normal_quantile(double p);

/* Student t with df > 0 (real): CDF, two-sided p = P(|T| >= |t|), quantile (p in (0,1)).
 * The incomplete beta below df = 1e5, Hill's (1970) normalising expansion from there; within
 * 1e-10 relative of R's pt/qt (tests/unit/test_rmath.c) and of mpmath where R's qt is off. */
double sd_t_cdf(double t, double df);
double sd_t_p2(double t, double df);
double sd_t_quantile(double p, double df);

/* Mean, SD (n-1) and a t-based confidence interval of the mean (level e.g. 0.95). Non-finite
 * values in x are skipped; n counts the finite ones. sd/CI NAN for n < 2, mean NAN for n = 0. */
typedef struct SdSummary {
    int n;
    double mean, sd, ci_low, ci_high;
} SdSummary;
void sd_summary(const double *x, int n, double level, SdSummary *s);

/* One-sample t test of differences against 0 (= paired t test), two-sided. p NAN when n < 2 or
 * the SD is 0. Non-finite differences are skipped. */
typedef struct SdTTest {
    int n;
    double mean, sd, t, df, p;
} SdTTest;
void sd_ttest_paired(const double *d, int n, SdTTest *out);

/* Cohen's d_z for paired data: mean(d) / SD(d); NAN when n < 2 or SD = 0. */
double sd_cohens_dz(const double *d, int n);

/* Wilcoxon signed-rank test of differences d against 0, two-sided.
 * - Zeros: dropped before ranking (Wilcoxon's method, as R wilcox.test and SciPy's default);
 *   n_used counts the non-zero differences. With no non-zero difference p = 1.
 * - Ties in |d| (values equal within 1e-9 relative) get mid-ranks.
 * - n_used <= 25: exact p from the permutation distribution of W+ over all 2^n sign patterns of
 *   the observed (mid-)ranks, by dynamic programming on doubled ranks; with ties this is the
 *   exact conditional distribution given the tie pattern.
 * - n_used > 25: normal approximation, variance with the tie correction
 *   n(n+1)(2n+1)/24 - sum(t^3 - t)/48 and a 0.5 continuity correction towards the mean.
 * p = min(1, 2 * min(P(W+ <= w), P(W+ >= w))). */
#define SD_WILCOXON_EXACT_MAX 25
typedef struct SdWilcoxon {
    int n_used;            /* non-zero differences */
    int exact;             /* 1 when the exact distribution was used */
    int ties;              /* 1 when |d| had ties */
    double w_plus;         /* sum of ranks of positive differences */
    double z;              /* normal approximation statistic (NAN when exact) */
    double p;              /* two-sided */
} SdWilcoxon;
/* 0 or SD_EINVAL (n < 0) / SD_ENOMEM. Non-finite differences are skipped. */
int  sd_wilcoxon(const double *d, int n, SdWilcoxon *out);
/* P(W+ <= w) for n untied non-zero differences (1 <= n <= 1000), exact; for tables. */
double sd_wilcoxon_exact_cdf(int n, double w);

/* Holm (1979) step-down adjustment: adj[i] for p[i]; NAN entries are left out of the family
 * (m = number of finite p) and come out NAN. adj may alias p. 0 or SD_ENOMEM. */
int  sd_holm(const double *p, int n, double *adj);

/* Benjamini-Hochberg (1995) step-up adjustment (q-values controlling the false discovery rate);
 * NAN entries are left out as in sd_holm. adj may alias p. 0 or SD_ENOMEM. */
int  sd_bh(const double *p, int n, double *adj);

/* Smallest two-sided p the exact Wilcoxon signed-rank test can give with n non-zero differences:
 * 2 / 2^n (all signs alike); 0.125 for n = 4, below 0.05 only from n = 6. */
double sd_wilcoxon_min_p(int n);

/* OLS fit y = a + b x with a t-based CI of the slope (n-2 df). slope NAN when n < 2 or x is
 * constant; se/CI NAN when n < 3. Pairs with a non-finite x or y are skipped. */
typedef struct SdOls {
    int n;
    double slope, intercept, se, ci_low, ci_high;
} SdOls;
void sd_ols(const double *x, const double *y, int n, double level, SdOls *out);

/* Repeatability of k repeats on n subjects, y row-major n x k (y[i*k + j] = subject i, repeat j),
 * all finite. Two-way ANOVA (Shrout & Fleiss 1979): BMS between subjects, JMS between repeats,
 * EMS residual. ICC(3,1) = (BMS - EMS) / (BMS + (k-1) EMS) (two-way mixed, consistency, single
 * measurement). SEM = sqrt(EMS); MDC95 = 1.96 * sqrt(2) * SEM. CV_w = 100 * sqrt(mean_i
 * (SD_i / |mean_i|)^2) (root-mean-square within-subject CV; NAN if a subject mean is 0).
 * Needs n >= 2 and k >= 2 (SD_EINVAL otherwise). */
typedef struct SdRepeatability {
    int n, k;
    double bms, jms, ems, wms;
    double icc31, sem, mdc95, cv_w_pct;
} SdRepeatability;
int  sd_repeatability(const double *y, int n, int k, SdRepeatability *out);

#endif

/* The distributions and tests of src/course/stats.c against R's own code (Debian's r-mathlib,
 * libRmath: the nmath sources of R built standalone) over grids of arguments: tails, small and
 * large degrees of freedom, the signed-rank distribution for n = 1..60. Each case prints the
 * largest relative difference it saw; every comparison must be within 1e-10 relative.
 * Linked with -lRmath (Makefile: this test only). */
#define MATHLIB_STANDALONE 1
#include <Rmath.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>

#include "skindelta/skindelta.h"
#include "src/course/stats.h"
#include "tests/lib/test.h"

#define REL_TOL 1e-10

/* Relative difference of a (ours) and b (R); 0 when both are equal (including both infinite or
 * both 0); 1 when only one is NaN. */
static double reldiff(double a, double b)
{
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b) ? 0.0 : 1.0;
    if (a == b) return 0.0;
    return fabs(a - b) / fmax(fabs(a), fabs(b));
}

typedef struct Worst {
    const char *what;
    double rel;
    char where[160];
    long n;
} Worst;

/* Records one comparison: fails the case when over the tolerance, keeps the largest difference.
 * Values both below 1e-300 count as equal: that is the subnormal range, where R's functions
 * underflow to 0 at different points than ours and no relative accuracy is possible. */
#define CMP(w, ours, ref, ...) do { \
    const double o_ = (ours), r_ = (ref); \
    const double d_ = fabs(o_) < 1e-300 && fabs(r_) < 1e-300 ? 0.0 : reldiff(o_, r_); \
    char at_[160]; \
    snprintf(at_, sizeof(at_), __VA_ARGS__); \
    if (d_ > (w)->rel || (w)->n == 0) { (w)->rel = d_; snprintf((w)->where, sizeof((w)->where), "%s", at_); } \
    (w)->n++; \
    CHECKF(d_ <= REL_TOL, "%s: %s: ours %.17g, R %.17g (rel %.3g)", (w)->what, at_, o_, r_, d_); \
} while (0)

static void report(const Worst *w)
{
    printf("  %-34s %6ld values, largest relative difference %.3g (%s)\n", w->what, w->n, w->rel,
           w->where);
}

static const double dfs[] = {
    0.3, 0.5, 1, 1.5, 2, 3, 4, 5, 7.5, 10, 19, 30, 50, 100, 250, 1e3, 3e3, 1e4, 1e5, 9.99e5,
    1e6, 1.5e6, 1e7, 1e8, 1e10,
};
#define NDF (sizeof(dfs) / sizeof(dfs[0]))

static const double ts[] = {
    0, 1e-8, 1e-3, 0.05, 0.3, 0.7, 1, 1.5, 1.96, 2.5, 3, 4, 5, 7, 10, 15, 25, 40, 100, 1e3, 1e5,
};
#define NT (sizeof(ts) / sizeof(ts[0]))

/* Probabilities for the quantiles, both tails. */
static const double ps[] = {
    1e-300, 1e-100, 1e-30, 1e-15, 1e-10, 1e-6, 1e-4, 0.001, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.4,
    0.45, 0.5, 0.55, 0.6, 0.7, 0.8, 0.9, 0.95, 0.975, 0.99, 0.999, 0.9999, 1 - 1e-6, 1 - 1e-10,
};
#define NP (sizeof(ps) / sizeof(ps[0]))

/* pnorm over z in [-38, 38] (both tails down to ~1e-300) and qnorm over the p grid. */
static void test_normal(void)
{
    Worst c = { "pnorm (sd_normal_cdf)", 0, "", 0 }, q = { "qnorm (sd_normal_quantile)", 0, "", 0 };
    for (int i = -380; i <= 380; i++) {
        const double z = i / 10.0;
        CMP(&c, sd_normal_cdf(z), pnorm(z, 0, 1, 1, 0), "z=%g", z);
    }
    const double zs[] = { 1e-300, 1e-12, 1e-6, 0.0123, 37.5 };
    for (size_t i = 0; i < sizeof(zs) / sizeof(zs[0]); i++) {
        CMP(&c, sd_normal_cdf(zs[i]), pnorm(zs[i], 0, 1, 1, 0), "z=%g", zs[i]);
        CMP(&c, sd_normal_cdf(-zs[i]), pnorm(-zs[i], 0, 1, 1, 0), "z=%g", -zs[i]);
    }
    for (size_t i = 0; i < NP; i++)
        CMP(&q, sd_normal_quantile(ps[i]), qnorm(ps[i], 0, 1, 1, 0), "p=%g", ps[i]);
    for (int k = 1; k <= 300; k++) {   /* a fine walk down the lower tail */
        const double p = pow(10.0, -k / 1.0) * 3.7;
        if (p >= 0.5) continue;
        CMP(&q, sd_normal_quantile(p), qnorm(p, 0, 1, 1, 0), "p=%g", p);
    }
    CMP(&q, sd_normal_quantile(0), qnorm(0, 0, 1, 1, 0), "p=0");
    CMP(&q, sd_normal_quantile(1), qnorm(1, 0, 1, 1, 0), "p=1");
    report(&c);
    report(&q);
}

/* pt: the CDF at +-t, and the two-sided p = 2 pt(-|t|) that the paired t test reports. */
static void test_t(void)
{
    Worst c = { "pt (sd_t_cdf)", 0, "", 0 }, p2 = { "2 pt(-|t|) (sd_t_p2)", 0, "", 0 };
    for (size_t i = 0; i < NDF; i++)
        for (size_t j = 0; j < NT; j++) {
            const double df = dfs[i], t = ts[j];
            const double lower = pt(-t, df, 1, 0);
            /* far tails that underflow in R's double arithmetic (below ~1e-300) carry no information */
            if (lower < 1e-290) continue;
            CMP(&c, sd_t_cdf(-t, df), lower, "df=%g t=%g", df, -t);
            CMP(&c, sd_t_cdf(t, df), pt(t, df, 1, 0), "df=%g t=%g", df, t);
            CMP(&p2, sd_t_p2(t, df), fmin(1.0, 2 * lower), "df=%g t=%g", df, t);
        }
    report(&c);
    report(&p2);
}

/* Where R's qt is itself off: its far tails for df of a few (p = 1e-300) and the upper tail at
 * df < 1. There the reference is the root of mpmath 1.3.0's betainc (50 digits) and R's value is
 * only printed. */
static const struct { double df, p, t; } qt_mpmath[] = {
    { 0.3, 1 - 1e-10, 6.4787836389741565672e+31 },   /* R: 6.4788016212420603e+31 */
    { 0.5, 1 - 1e-10, 10284909861208814491.0 },      /* R: 1.0284926989044548e+19 */
    { 1.5, 1e-300, -5.2194694273446363294e+199 },    /* R: -5.2718512491096077e+199 */
    { 3, 1e-300, -1.0331108360446529009e+100 },      /* R: -1.0331108439132092e+100 */
    { 4, 1e-300, -1.3160740129524924526e+75 },       /* R: -1.3160740084343413e+75 */
    { 5, 1e-300, -1.5683925590993378011e+60 },       /* R: -1.5683925619292198e+60 */
};

static void test_qt(void)
{
    Worst q = { "qt (sd_t_quantile)", 0, "", 0 }, m = { "qt where R is off: vs mpmath", 0, "", 0 };
    for (size_t i = 0; i < NDF; i++)
        for (size_t j = 0; j < NP; j++) {
            const double df = dfs[i], p = ps[j];
            if (p == 0.5) {   /* exactly 0 (R: 3e-16 at df = 0.3) */
                CHECK(sd_t_quantile(p, df) == 0);
                continue;
            }
            /* upper half from R's upper tail at 1 - p (exact in double arithmetic) */
            const double r = p < 0.5 ? qt(p, df, 1, 0) : qt(1 - p, df, 0, 0);
            size_t k = 0;
            while (k < sizeof(qt_mpmath) / sizeof(qt_mpmath[0]) &&
                   !(qt_mpmath[k].df == df && qt_mpmath[k].p == p))
                k++;
            if (k < sizeof(qt_mpmath) / sizeof(qt_mpmath[0])) {
                CMP(&m, sd_t_quantile(p, df), qt_mpmath[k].t, "df=%g p=%.17g", df, p);
                printf("  df=%g p=%g: ours %.17g, mpmath %.17g, R %.17g (R off by %.3g)\n", df, p,
                       sd_t_quantile(p, df), qt_mpmath[k].t, r, reldiff(r, qt_mpmath[k].t));
                continue;
            }
            if (!isfinite(r)) continue;   /* beyond double range (tiny p, df < 1) */
            CMP(&q, sd_t_quantile(p, df), r, "df=%g p=%.17g", df, p);
        }
    CHECK_EQ_INT(m.n, sizeof(qt_mpmath) / sizeof(qt_mpmath[0]));
    report(&q);
    report(&m);
}

/* pbeta = I_x(a, b) over shapes from 0.1 to 1e5 and x across (0, 1), both ends. */
static void test_beta(void)
{
    Worst w = { "pbeta (sd_incbeta)", 0, "", 0 };
    const double ab[] = { 0.1, 0.5, 1, 1.5, 2, 3.5, 5, 10, 25, 50, 100, 500, 1e3, 1e4, 1e5 };
    const double xs[] = { 1e-12, 1e-6, 1e-3, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8,
                          0.9, 0.95, 0.99, 0.999, 1 - 1e-6 };
    const size_t nab = sizeof(ab) / sizeof(ab[0]), nx = sizeof(xs) / sizeof(xs[0]);
    for (size_t i = 0; i < nab; i++)
        for (size_t j = 0; j < nab; j++)
            for (size_t k = 0; k < nx; k++) {
                const double a = ab[i], b = ab[j], x = xs[k];
                const double r = pbeta(x, a, b, 1, 0);
                if (r < 1e-290) continue;   /* underflow in R */
                CMP(&w, sd_incbeta(a, b, x), r, "a=%g b=%g x=%g", a, b, x);
            }
    CMP(&w, sd_incbeta(2, 3, 0), pbeta(0, 2, 3, 1, 0), "x=0");
    CMP(&w, sd_incbeta(2, 3, 1), pbeta(1, 2, 3, 1, 0), "x=1");
    report(&w);
}

/* The exact signed-rank distribution: P(W+ <= w) for n = 1..60 and every w in 0..n(n+1)/2. */
static void test_signrank(void)
{
    Worst w = { "psignrank (sd_wilcoxon_exact_cdf)", 0, "", 0 };
    for (int n = 1; n <= 60; n++) {
        const int top = n * (n + 1) / 2;
        for (int s = -1; s <= top + 1; s++)
            CMP(&w, sd_wilcoxon_exact_cdf(n, s), psignrank(s, n, 1, 0), "n=%d w=%d", n, s);
    }
    report(&w);
}

/* The Wilcoxon test's two-sided p against R's wilcox.test(d, exact, correct = TRUE) formulas on
 * untied data: exact p = min(1, 2 min(psignrank(w), 1 - psignrank(w - 1))) for n <= 25 (we use
 * the exact distribution there); above, the normal approximation with the 0.5 continuity
 * correction: z = (w - n(n+1)/4 - sign * 0.5) / sqrt(n(n+1)(2n+1)/24). Differences d_i = +-i
 * with signs from a fixed pseudo-random sequence, so W+ takes spread-out values. */
static void test_wilcoxon(void)
{
    Worst w = { "Wilcoxon p (sd_wilcoxon)", 0, "", 0 };
    double d[60];
    uint64_t s = 12345;
    for (int n = 1; n <= 60; n++)
        for (int rep = 0; rep < 40; rep++) {
            int wplus = 0;
            for (int i = 0; i < n; i++) {
                s = s * 6364136223846793005ULL + 1442695040888963407ULL;
                const int pos = (s >> 33) % (unsigned)(2 + rep % 5) == 0;   /* skewed for the tails */
                d[i] = pos ? (i + 1) * 0.37 : -(i + 1) * 0.37;
                wplus += pos ? i + 1 : 0;
            }
            SdWilcoxon r;
            CHECK(sd_wilcoxon(d, n, &r) == 0);
            CHECK_NEAR(r.w_plus, wplus, 0);
            double ref;
            if (n <= SD_WILCOXON_EXACT_MAX) {
                const double lo = psignrank(wplus, n, 1, 0), up = psignrank(wplus - 1, n, 0, 0);
                ref = fmin(1.0, 2 * fmin(lo, up));
            } else {
                const double z0 = wplus - n * (n + 1) / 4.0;
                const double sigma = sqrt(n * (n + 1) * (2 * n + 1) / 24.0);
                /* z0 is a multiple of 0.5; R and we agree except at |z0| < 0.5 (z0 = 0: p = 1) */
                const double corr = z0 > 0 ? 0.5 : z0 < 0 ? -0.5 : 0;
                const double z = (z0 - corr) / sigma;
                ref = fmin(1.0, 2 * fmin(pnorm(z, 0, 1, 1, 0), pnorm(z, 0, 1, 0, 0)));
            }
            CMP(&w, r.p, ref, "n=%d W+=%d", n, wplus);
        }
    report(&w);
}

/* The paired t test and the t-based CIs (summary, OLS slope) against pt and qt. */
static void test_ttest_ci(void)
{
    Worst t = { "paired t p (sd_ttest_paired)", 0, "", 0 }, ci = { "t CI half-width (qt)", 0, "", 0 };
    double d[80], x[80];
    uint64_t s = 99;
    for (int n = 2; n <= 80; n += 3)
        for (int rep = 0; rep < 5; rep++) {
            for (int i = 0; i < n; i++) {
                s = s * 6364136223846793005ULL + 1442695040888963407ULL;
                d[i] = ((double)(s >> 11) / 9007199254740992.0 - 0.5) + 0.15 * rep;
                x[i] = i * 1.5;
            }
            SdTTest tt;
            sd_ttest_paired(d, n, &tt);
            CMP(&t, tt.p, 2 * pt(-fabs(tt.t), n - 1, 1, 0), "n=%d rep=%d", n, rep);
            SdSummary su;
            sd_summary(d, n, 0.95, &su);
            CMP(&ci, 0.5 * (su.ci_high - su.ci_low) / (su.sd / sqrt((double)n)), qt(0.975, n - 1, 1, 0),
                "summary n=%d", n);
            if (n >= 3) {
                SdOls o;
                sd_ols(x, d, n, 0.9, &o);
                CMP(&ci, 0.5 * (o.ci_high - o.ci_low) / o.se, qt(0.95, n - 2, 1, 0), "ols n=%d", n);
            }
        }
    report(&t);
    report(&ci);
}

static const SdTestCase cases[] = {
    { "normal", test_normal },
    { "t_cdf", test_t },
    { "t_quantile", test_qt },
    { "incbeta", test_beta },
    { "signrank", test_signrank },
    { "wilcoxon", test_wilcoxon },
    { "ttest_ci", test_ttest_ci },
};
SD_TEST_MAIN(cases)

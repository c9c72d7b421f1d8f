/* Statistics with known answers: published table values (quoted with their source), closed
 * forms, and hand-computed examples. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "skindelta/skindelta.h"
#include "src/course/stats.h"
#include "tests/lib/test.h"

/* Closed forms of the t CDF for small df (e.g. Abramowitz & Stegun 26.7.3/26.7.4 family):
 * df=1 (Cauchy) 1/2 + atan(t)/pi; df=2: 1/2 + t / (2 sqrt(2 + t^2));
 * df=3: 1/2 + (1/pi) (t/(sqrt3 (1 + t^2/3)) + atan(t/sqrt3)). */
static void test_t_closed_forms(void)
{
    const double ts[] = { -40, -7.5, -2.1, -0.3, 0, 1e-6, 0.5, 1.7, 3.3, 12, 250 };
    for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
        const double t = ts[i];
        CHECK_NEAR(sd_t_cdf(t, 1), 0.5 + atan(t) / M_PI, 1e-12);
        CHECK_NEAR(sd_t_cdf(t, 2), 0.5 + t / (2 * sqrt(2 + t * t)), 1e-12);
        CHECK_NEAR(sd_t_cdf(t, 3),
                   0.5 + (t / (sqrt(3.0) * (1 + t * t / 3)) + atan(t / sqrt(3.0))) / M_PI, 1e-12);
    }
    /* far tail keeps relative accuracy: two-sided p for the Cauchy = 1 - 2 atan(t)/pi */
    CHECK_NEAR(sd_t_p2(1e4, 1) / (2.0 / M_PI * atan(1e-4)), 1.0, 1e-10);
    /* quantiles invert the CDF */
    const double dfs[] = { 1, 2, 3, 4.5, 10, 29, 1000 };
    const double ps[] = { 1e-8, 0.001, 0.025, 0.3, 0.5, 0.7, 0.975, 0.9995 };
    for (size_t i = 0; i < sizeof(dfs) / sizeof(dfs[0]); i++)
        for (size_t j = 0; j < sizeof(ps) / sizeof(ps[0]); j++) {
            const double q = sd_t_quantile(ps[j], dfs[i]);
            CHECKF(fabs(sd_t_cdf(q, dfs[i]) - ps[j]) <= 1e-10 * fmin(ps[j], 1 - ps[j]) + 1e-15,
                   "df=%g p=%g q=%.17g cdf=%.17g", dfs[i], ps[j], q, sd_t_cdf(q, dfs[i]));
        }
    CHECK_NEAR(sd_t_quantile(0.975, 1), tan(M_PI * 0.475), 1e-9);
    /* the quartiles, closed form for df 1 (Cauchy: tan(pi/4) = 1) and 2 (t = 2p-1 / sqrt(2p(1-p))) */
    CHECK_NEAR(sd_t_quantile(0.75, 1), 1.0, 1e-12);
    CHECK_NEAR(sd_t_quantile(0.25, 1), -1.0, 1e-12);
    CHECK_NEAR(sd_t_quantile(0.75, 2), 0.5 / sqrt(2 * 0.75 * 0.25), 1e-12);
    CHECK(isnan(sd_t_quantile(1.5, 3)) && isnan(sd_t_quantile(-0.1, 3)) && isnan(sd_t_quantile(0.5, 0)));
    CHECK(sd_t_quantile(0, 3) == -INFINITY && sd_t_quantile(1, 3) == INFINITY && sd_t_quantile(0.5, 3) == 0);
}

/* Reference values of the two-sided p = I_{df/(df+t^2)}(df/2, 1/2) computed with mpmath 1.3.0
 * (betainc, 40 significant digits): the 1e-10 relative accuracy target. */
static void test_t_reference(void)
{
    struct { double df, t, p; } ref[] = {
        { 3.5, 3, 0.047375239484746435035 },
        { 30, 1.96, 0.059342312896050476315 },
        { 30, 8, 6.2658224757007589434e-9 },
        { 1e4, 5, 5.8303266136626472905e-7 },
        { 1e4, 0.1, 0.92034633003107489385 },
        { 1e6, 1.96, 0.049996067585269790686 },
        { 1e6, 3, 0.0026998625414217970587 },
        /* above df = 1e6: the 1/df expansion path */
        { 1e7, 3, 0.0026998027110371612512 },
        { 1e7, 5, 5.7331280750085389921e-7 },
        { 1e9, 1.96, 0.049995790573729595095 },
    };
    for (size_t i = 0; i < sizeof(ref) / sizeof(ref[0]); i++) {
        const double p = sd_t_p2(ref[i].t, ref[i].df);
        CHECKF(fabs(p / ref[i].p - 1) < 1e-10, "df=%g t=%g: %.17g vs %.17g", ref[i].df, ref[i].t,
               p, ref[i].p);
        CHECK_NEAR(sd_t_p2(-ref[i].t, ref[i].df), p, 0);
    }
}

/* Critical values of Student's t, two-sided alpha 0.05 (upper 0.975 point) and 0.01, as printed
 * to three decimals in the NIST/SEMATECH e-Handbook of Statistical Methods, table 1.3.6.7.2
 * "Critical Values of the Student's t Distribution": df=1 12.706, df=5 2.571, df=10 2.228,
 * df=29 2.045, df=100 1.984; df=10 upper 0.995 point 3.169. */
static void test_t_table(void)
{
    struct { double df, p, t; } tab[] = {
        { 1, 0.975, 12.706 }, { 5, 0.975, 2.571 }, { 10, 0.975, 2.228 }, { 29, 0.975, 2.045 },
        { 100, 0.975, 1.984 }, { 10, 0.995, 3.169 },
    };
    for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
        /* the quantile rounds to the printed value */
        CHECK_NEAR(sd_t_quantile(tab[i].p, tab[i].df), tab[i].t, 0.0005);
        /* and the printed value gives the two-sided p within the table's rounding */
        CHECK_NEAR(sd_t_p2(tab[i].t, tab[i].df), 2 * (1 - tab[i].p), 2 * (1 - tab[i].p) * 0.01);
    }
    CHECK_NEAR(sd_t_p2(2.228, 10), 0.05, 1e-4);
    CHECK_NEAR(sd_t_p2(2.045, 29), 0.05, 1e-4);
}

static void test_normal_and_beta(void)
{
    /* 97.5 % point of the standard normal: 1.959963984540054 (standard published constant) */
    CHECK_NEAR(sd_normal_quantile(0.975), 1.959963984540054, 1e-14);
    CHECK_NEAR(sd_normal_cdf(1.959963984540054), 0.975, 1e-15);
    CHECK_NEAR(sd_normal_quantile(0.5), 0.0, 0);
    for (double p = 1e-300; p < 0.5; p *= 7.3)
        CHECKF(fabs(sd_normal_cdf(sd_normal_quantile(p)) / p - 1) < 1e-12, "p=%g", p);
    /* large df t tends to the normal */
    CHECK_NEAR(sd_t_quantile(0.975, 1e9), 1.959963984540054, 1e-8);
    CHECK_NEAR(sd_t_cdf(1.959963984540054, 1e12), 0.975, 1e-10);
    /* incomplete beta identities: I_x(a,1) = x^a, I_x(1,b) = 1-(1-x)^b, I_.5(a,a) = .5,
     * I_x(a,b) = 1 - I_{1-x}(b,a) */
    const double xs[] = { 0.001, 0.2, 0.5, 0.77, 0.999 };
    for (size_t i = 0; i < sizeof(xs) / sizeof(xs[0]); i++) {
        const double x = xs[i];
        CHECK_NEAR(sd_incbeta(3.7, 1, x), pow(x, 3.7), 1e-14);
        CHECK_NEAR(sd_incbeta(1, 2.5, x), 1 - pow(1 - x, 2.5), 1e-14);
        CHECK_NEAR(sd_incbeta(40, 0.5, x), 1 - sd_incbeta(0.5, 40, 1 - x), 1e-14);
    }
    CHECK_NEAR(sd_incbeta(13.5, 13.5, 0.5), 0.5, 1e-14);
    CHECK(isnan(sd_incbeta(-1, 1, 0.5)));
    CHECK(sd_incbeta(2, 3, 0) == 0 && sd_incbeta(2, 3, 1) == 1);
}

/* Two-sided alpha = 0.05 critical values T of the Wilcoxon signed-rank test (reject when
 * T = min(W+, W-) <= critical), as tabulated in Wilcoxon, Katti & Wilcox (1970) "Critical values
 * and probability levels for the Wilcoxon rank sum test and the Wilcoxon signed rank test",
 * reproduced e.g. in Zar, Biostatistical Analysis, table B.12: n=6: 0, n=8: 3, n=10: 8, n=12: 13,
 * n=15: 25, n=20: 52, n=25: 89. T is critical when P(W <= T) <= 0.025 < P(W <= T+1). */
static void test_wilcoxon_table(void)
{
    struct { int n, t; } tab[] = { { 6, 0 }, { 8, 3 }, { 10, 8 }, { 12, 13 }, { 15, 25 },
                                   { 20, 52 }, { 25, 89 } };
    for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
        const double lo = sd_wilcoxon_exact_cdf(tab[i].n, tab[i].t);
        const double hi = sd_wilcoxon_exact_cdf(tab[i].n, tab[i].t + 1);
        CHECKF(lo <= 0.025 && hi > 0.025, "n=%d T=%d: P(<=T)=%g P(<=T+1)=%g", tab[i].n, tab[i].t, lo, hi);
    }
    /* n=10: P(W <= 8) = 25/1024 exactly (25 of the 1024 sign patterns) */
    CHECK_NEAR(sd_wilcoxon_exact_cdf(10, 8), 25.0 / 1024, 1e-15);
    CHECK_NEAR(sd_wilcoxon_exact_cdf(10, 55), 1.0, 1e-15);
    CHECK_NEAR(sd_wilcoxon_exact_cdf(10, -1), 0.0, 0);
}

/* Hollander & Wolfe (1973), p. 29 (the example of R's wilcox.test): depression scale before (x)
 * and after (y) tranquilizer, paired; R reports V = 40, one-sided p-value = 0.01953 (so two-sided
 * 0.0390625 = 20/512). */
static void test_wilcoxon_hollander_wolfe(void)
{
    const double x[] = { 1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30 };
    const double y[] = { 0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29 };
    double d[9];
    for (int i = 0; i < 9; i++) d[i] = x[i] - y[i];
    SdWilcoxon w;
    CHECK(sd_wilcoxon(d, 9, &w) == 0);
    CHECK_EQ_INT(w.n_used, 9);
    CHECK(w.exact && !w.ties);
    CHECK_NEAR(w.w_plus, 40, 0);
    CHECK_NEAR(w.p, 0.0390625, 1e-15);
    CHECK_NEAR(w.p / 2, 0.01953, 5e-6);
}

/* Brute force over all 2^m sign patterns of the observed mid-ranks (test-only reference). */
static double brute_wilcoxon_p(const double *r, int m, double wplus)
{
    long lo = 0, hi = 0, tot = 1L << m;
    for (long s = 0; s < tot; s++) {
        double w = 0;
        for (int i = 0; i < m; i++) if (s >> i & 1) w += r[i];
        if (w <= wplus + 1e-9) lo++;
        if (w >= wplus - 1e-9) hi++;
    }
    double p = 2.0 * (double)(lo < hi ? lo : hi) / (double)tot;
    return p > 1 ? 1 : p;
}

static void test_wilcoxon_ties_zeros(void)
{
    /* zeros dropped (Wilcoxon), |d| ties: 1,1,2,2,2,3 -> mid-ranks 1.5,1.5,4,4,4,6 */
    const double d[] = { 0, 1, -1, 2, 2, -2, 3, 0, -0.0 };
    SdWilcoxon w;
    CHECK(sd_wilcoxon(d, 9, &w) == 0);
    CHECK_EQ_INT(w.n_used, 6);
    CHECK(w.ties && w.exact);
    CHECK_NEAR(w.w_plus, 1.5 + 4 + 4 + 6, 1e-12);
    const double r[] = { 1.5, 1.5, 4, 4, 4, 6 };
    CHECK_NEAR(w.p, brute_wilcoxon_p(r, 6, w.w_plus), 1e-14);
    /* near-equal differences from floating subtraction count as ties */
    const double e[] = { 0.3 - 0.1, 0.2, -0.5, 0.7, 0.9, -1.1 };
    CHECK(sd_wilcoxon(e, 6, &w) == 0);
    CHECK(w.ties);
    CHECK_NEAR(w.w_plus, 1.5 + 1.5 + 4 + 5, 1e-12);
    /* random tied sets: DP equals brute force */
    unsigned s = 12345;
    for (int rep = 0; rep < 20; rep++) {
        double v[14], rr[14];
        int m = 6 + rep % 9;
        for (int i = 0; i < m; i++) {
            s = s * 1103515245u + 12345u;
            int mag = 1 + (int)((s >> 16) % 5);
            v[i] = ((s >> 8) & 1) ? mag : -mag;
        }
        CHECK(sd_wilcoxon(v, m, &w) == 0);
        /* mid-ranks by counting */
        for (int i = 0; i < m; i++) {
            int less = 0, eq = 0;
            for (int j = 0; j < m; j++) {
                if (fabs(v[j]) < fabs(v[i])) less++;
                else if (fabs(v[j]) == fabs(v[i])) eq++;
            }
            rr[i] = less + (eq + 1) / 2.0;
        }
        CHECKF(fabs(w.p - brute_wilcoxon_p(rr, m, w.w_plus)) < 1e-12, "rep %d: %g vs %g", rep,
               w.p, brute_wilcoxon_p(rr, m, w.w_plus));
    }
    /* all zero -> p = 1 */
    const double z[] = { 0, 0, 0 };
    CHECK(sd_wilcoxon(z, 3, &w) == 0);
    CHECK(w.n_used == 0 && w.p == 1.0);
}

/* Normal approximation (n = 30 > 25): d = -1..-10, 11..30: W+ = 410, mean 232.5, variance
 * 30*31*61/24 = 2363.75, z = (410 - 232.5 - 0.5)/sqrt(2363.75) = 3.64059607, p = 2.72008e-4. */
static void test_wilcoxon_normal(void)
{
    double d[30];
    for (int i = 0; i < 30; i++) d[i] = i < 10 ? -(i + 1) : i + 1;
    SdWilcoxon w;
    CHECK(sd_wilcoxon(d, 30, &w) == 0);
    CHECK(!w.exact);
    CHECK_NEAR(w.w_plus, 410, 0);
    CHECK_NEAR(w.z, 3.6405960658, 1e-9);
    CHECK_NEAR(w.p, 2.7200759312e-4, 1e-12);
    /* tie correction: 30 equal |d| (t=30): var = 30*31*61/24 - (27000-30)/48 = 1801.875;
     * 20 positive, all mid-rank 15.5: W+ = 310; z = (310 - 232.5 - 0.5)/sqrt(1801.875) */
    for (int i = 0; i < 30; i++) d[i] = i < 10 ? -2.5 : 2.5;
    CHECK(sd_wilcoxon(d, 30, &w) == 0);
    CHECK(w.ties && !w.exact);
    CHECK_NEAR(w.z, 77.0 / sqrt(1801.875), 1e-12);
}

/* Holm (1979) worked example from Wikipedia "Holm-Bonferroni method": four hypotheses with p =
 * 0.01, 0.03, 0.04, 0.005 at alpha 0.05: hypotheses 1 and 4 are rejected, 2 and 3 are not.
 * Adjusted p (step-down, monotone): 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, max(0.04, 0.06). */
static void test_holm(void)
{
    const double p[] = { 0.01, 0.03, 0.04, 0.005 };
    double adj[4];
    CHECK(sd_holm(p, 4, adj) == 0);
    CHECK_NEAR(adj[0], 0.03, 1e-15);
    CHECK_NEAR(adj[1], 0.06, 1e-15);
    CHECK_NEAR(adj[2], 0.06, 1e-15);
    CHECK_NEAR(adj[3], 0.02, 1e-15);
    const int rejected[] = { 1, 0, 0, 1 };
    for (int i = 0; i < 4; i++) CHECK_EQ_INT(adj[i] <= 0.05, rejected[i]);
    /* NAN entries stay out of the family; cap at 1; aliasing allowed */
    double q[] = { 0.2, NAN, 0.6, 0.01 };
    CHECK(sd_holm(q, 4, q) == 0);
    CHECK_NEAR(q[3], 0.03, 1e-15);
    CHECK_NEAR(q[0], 0.4, 1e-15);
    CHECK_NEAR(q[2], 0.6, 1e-15);
    CHECK(isnan(q[1]));
}

/* Hand-computed: x = 0..4, y = 1,3,2,5,4: Sxx = 10, Sxy = 8, slope 0.8, intercept 1.4,
 * SSE = 3.6, s^2 = 1.2, se = sqrt(0.12); t(0.975, 3) = 3.182446305 (tables: 3.182);
 * CI = 0.8 -+ 1.102432 . */
static void test_ols(void)
{
    const double x[] = { 0, 1, 2, 3, 4 }, y[] = { 1, 3, 2, 5, 4 };
    SdOls o;
    sd_ols(x, y, 5, 0.95, &o);
    CHECK_EQ_INT(o.n, 5);
    CHECK_NEAR(o.slope, 0.8, 1e-14);
    CHECK_NEAR(o.intercept, 1.4, 1e-14);
    CHECK_NEAR(o.se, sqrt(0.12), 1e-14);
    CHECK_NEAR(sd_t_quantile(0.975, 3), 3.182446305284263, 1e-12);
    CHECK_NEAR(o.ci_low, 0.8 - 3.182446305284263 * sqrt(0.12), 1e-12);
    CHECK_NEAR(o.ci_high, 0.8 + 3.182446305284263 * sqrt(0.12), 1e-12);
    /* two points: slope only; constant x: nothing */
    sd_ols(x, y, 2, 0.95, &o);
    CHECK_NEAR(o.slope, 2.0, 1e-14);
    CHECK(isnan(o.ci_low));
    const double cx[] = { 1, 1, 1 };
    sd_ols(cx, y, 3, 0.95, &o);
    CHECK(isnan(o.slope));
}

static void test_summary_ttest(void)
{
    /* d = 1..5: mean 3, SD sqrt(2.5), t = 3/(sqrt(2.5)/sqrt5) = 3 sqrt2 = 4.2426, df 4;
     * two-sided p from the df=4 closed form P(|T|>t) = 1 - (t (t^2 + 6)) / ((t^2 + 4)^1.5) */
    const double d[] = { 1, 2, 3, 4, 5, NAN };
    SdTTest t;
    sd_ttest_paired(d, 6, &t);
    CHECK_EQ_INT(t.n, 5);
    CHECK_NEAR(t.mean, 3.0, 1e-13);
    CHECK_NEAR(t.sd, sqrt(2.5), 1e-13);
    CHECK_NEAR(t.df, 4.0, 0);
    CHECK_NEAR(t.t, 3 * sqrt(2.0), 1e-13);
    const double tt = 3 * sqrt(2.0);
    CHECK_NEAR(t.p, 1 - tt * (tt * tt + 6) / pow(tt * tt + 4, 1.5), 1e-12);
    CHECK_NEAR(sd_cohens_dz(d, 6), 3 / sqrt(2.5), 1e-13);
    SdSummary s;
    sd_summary(d, 6, 0.95, &s);
    CHECK_NEAR(s.ci_low, 3 - sd_t_quantile(0.975, 4) * sqrt(2.5) / sqrt(5.0), 1e-13);
    /* t(0.975, 4) = 2.776 (NIST table 1.3.6.7.2) */
    CHECK_NEAR(sd_t_quantile(0.975, 4), 2.776, 0.0005);
    const double c[] = { 2, 2, 2 };
    sd_ttest_paired(c, 3, &t);
    CHECK(isnan(t.p));
}

/* Shrout & Fleiss (1979), Psychological Bulletin 86:420-428, Table 2: 6 targets rated by 4
 * judges; Table 3 gives BMS = 11.24, JMS = 32.49, EMS = 1.02, WMS = 6.26 and the text
 * ICC(3,1) = .71. */
static void test_icc_shrout_fleiss(void)
{
    const double y[] = {
        9, 2, 5, 8,
        6, 1, 3, 2,
        8, 4, 6, 8,
        7, 1, 2, 6,
        10, 5, 6, 9,
        6, 2, 4, 7,
    };
    SdRepeatability r;
    CHECK(sd_repeatability(y, 6, 4, &r) == 0);
    CHECK_NEAR(r.bms, 11.24, 0.005);
    CHECK_NEAR(r.jms, 32.49, 0.005);
    CHECK_NEAR(r.ems, 1.02, 0.005);
    CHECK_NEAR(r.wms, 6.26, 0.005);
    CHECK_NEAR(r.icc31, 0.71, 0.005);
    CHECK_NEAR(r.sem, sqrt(r.ems), 1e-15);
    CHECK_NEAR(r.mdc95, 1.96 * sqrt(2.0) * r.sem, 1e-12);
    /* CV_w: subject 1 values 9,2,5,8: mean 6, SD sqrt(30/3) -> CV 0.527; check the RMS over
     * subjects against a direct computation */
    double acc = 0;
    for (int i = 0; i < 6; i++) {
        double m = 0, s = 0;
        for (int j = 0; j < 4; j++) m += y[i * 4 + j] / 4;
        for (int j = 0; j < 4; j++) s += (y[i * 4 + j] - m) * (y[i * 4 + j] - m) / 3;
        acc += s / (m * m) / 6;
    }
    CHECK_NEAR(r.cv_w_pct, 100 * sqrt(acc), 1e-12);
    CHECK(sd_repeatability(y, 1, 4, &r) == SD_EINVAL);
}

static const SdTestCase cases[] = {
    { "t_closed_forms", test_t_closed_forms },
    { "t_reference", test_t_reference },
    { "t_table", test_t_table },
    { "normal_and_beta", test_normal_and_beta },
    { "wilcoxon_table", test_wilcoxon_table },
    { "wilcoxon_hollander_wolfe", test_wilcoxon_hollander_wolfe },
    { "wilcoxon_ties_zeros", test_wilcoxon_ties_zeros },
    { "wilcoxon_normal", test_wilcoxon_normal },
    { "holm", test_holm },
    { "ols", test_ols },
    { "summary_ttest", test_summary_ttest },
    { "icc_shrout_fleiss", test_icc_shrout_fleiss },
};
SD_TEST_MAIN(cases)

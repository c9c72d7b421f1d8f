/* Course tables: CSV round trips with the exact contract headers, reader diagnostics, changes,
 * trends, cohort and repeatability on courses with known answers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skindelta/course.h"
#include "skindelta/merge.h"
#include "src/core/core.h"
#include "tests/lib/test.h"

static char *slurp(const char *path)
{
    char *d = NULL;
    size_t n = 0;
    if (sd_read_file(path, 1 << 24, &d, &n)) return NULL;
    return d;
}

static void first_line(const char *text, char *out, size_t cap)
{
    size_t i = 0;
    while (text[i] && text[i] != '\n' && i + 1 < cap) { out[i] = text[i]; i++; }
    out[i] = 0;
}

static void push_meas(SdMeasArray *a, const char *patient, const char *session, int si,
                      double days, const char *region, const char *metric, double value,
                      int better, double sd)
{
    SdMeasRow r = {
        .patient = (char *)patient, .view = (char *)"frontal", .session = (char *)session,
        .session_index = si, .days = days, .region = (char *)region, .metric = (char *)metric,
        .value = value, .unit = (char *)"%", .better = better, .qc = (char *)"ok",
        .sd = sd, .n_boot = isfinite(sd) ? 32 : 0,
    };
    CHECK(sd_meas_push(a, &r) == 0);
}

static void test_meas_roundtrip(void)
{
    SdCtx ctx = {0};
    SdMeasArray a = {0}, b = {0};
    push_meas(&a, "p1", "2024-01-01", 0, 0, "face", "texture_roughness", 3.14159265358979, -1, 0.01);
    push_meas(&a, "p1", "s,2 \"x\"", 1, NAN, "cheek_l", "texture_glcm_homogeneity", 0.5, 1, NAN);
    push_meas(&a, "p2", "b", 0, 0, "face", "wrinkle_density", 1e-12, -1, 1.5e-3);
    const char *mp = sd_test_path(sd_test_tmp_dir(), "measurements.csv");
    const char *up = sd_test_path(sd_test_tmp_dir(), "uncertainty.csv");
    CHECK(sd_meas_write(&ctx, mp, &a) == 0);
    CHECK(sd_uncert_write(&ctx, up, &a) == 0);
    char *text = slurp(mp);
    CHECK(text != NULL);
    if (text) {
        char h[512];
        first_line(text, h, sizeof(h));
        CHECK(!strcmp(h, "patient,view,session,session_index,days,region,metric,value,unit,better,qc"));
        CHECK(strstr(text, "p1,frontal,\"s,2 \"\"x\"\"\",1,,cheek_l,texture_glcm_homogeneity,0.5,%,higher,ok\n") != NULL);
        CHECK(strstr(text, ",lower,ok\n") != NULL);
    }
    free(text);
    text = slurp(up);
    CHECK(text != NULL);
    if (text) {
        char h[512];
        first_line(text, h, sizeof(h));
        CHECK(!strcmp(h, "patient,view,session,region,metric,sd,n_boot,paired_baseline"));
        CHECK(strstr(text, "cheek_l") == NULL);   /* no sd, no row */
    }
    free(text);
    CHECK(sd_meas_read(&ctx, mp, up, &b) == 0);
    CHECK_EQ_INT(b.n, 3);
    for (size_t i = 0; i < a.n && i < b.n; i++) {
        CHECK(!strcmp(a.v[i].patient, b.v[i].patient));
        CHECK(!strcmp(a.v[i].session, b.v[i].session));
        CHECK(!strcmp(a.v[i].metric, b.v[i].metric));
        CHECK_EQ_INT(a.v[i].session_index, b.v[i].session_index);
        CHECK_EQ_INT(a.v[i].better, b.v[i].better);
        CHECK_EQ_INT(a.v[i].n_boot, b.v[i].n_boot);
        /* values were rounded at push to what is written: exact equality after re-reading */
        CHECK(a.v[i].value == b.v[i].value);
        CHECK(isnan(a.v[i].days) ? isnan(b.v[i].days) : a.v[i].days == b.v[i].days);
        CHECK(isnan(a.v[i].sd) ? isnan(b.v[i].sd) : a.v[i].sd == b.v[i].sd);
    }
    CHECK_NEAR(b.v[0].value, 3.14159265358979, 1e-8);
    CHECK(isnan(b.v[1].sd));
    CHECK_NEAR(b.v[2].sd, 1.5e-3, 1e-15);
    sd_meas_free(&a);
    sd_meas_free(&b);
}

static void test_reader_errors(void)
{
    SdCtx ctx = {0};
    SdMeasArray a = {0};
    const char *p = sd_test_path(sd_test_tmp_dir(), "bad.csv");
    const char *bad_header = "patient,view,session,session_index,days,region,metric,value,unit,qc,better\n";
    CHECK(sd_write_file_atomic(p, bad_header, strlen(bad_header)) == 0);
    CHECK(sd_meas_read(&ctx, p, NULL, &a) == SD_EFORMAT);
    CHECK(strstr(ctx.errmsg, "header") != NULL);
    const char *bad_num = SD_MEAS_HEADER "\np1,frontal,a,0,0,face,m,1.5,%,lower,ok\n"
                          "p1,frontal,b,1,30,face,m,abc,%,lower,ok\n";
    CHECK(sd_write_file_atomic(p, bad_num, strlen(bad_num)) == 0);
    CHECK(sd_meas_read(&ctx, p, NULL, &a) == SD_EFORMAT);
    CHECKF(strstr(ctx.errmsg, ":3:") != NULL, "%s", ctx.errmsg);
    sd_meas_free(&a);
    const char *bad_better = SD_MEAS_HEADER "\np1,frontal,a,0,0,face,m,1.5,%,up,ok\n";
    CHECK(sd_write_file_atomic(p, bad_better, strlen(bad_better)) == 0);
    CHECK(sd_meas_read(&ctx, p, NULL, &a) == SD_EFORMAT);
    sd_meas_free(&a);
    const char *short_row = SD_MEAS_HEADER "\np1,frontal,a,0,0,face,m,1.5,%,lower\n";
    CHECK(sd_write_file_atomic(p, short_row, strlen(short_row)) == 0);
    CHECK(sd_meas_read(&ctx, p, NULL, &a) == SD_EFORMAT);
    sd_meas_free(&a);
}

static void test_tables_roundtrip(void)
{
    SdCtx ctx = {0};
    const char *dir = sd_test_tmp_dir();
    SdChangeArray c = {0}, c2 = {0};
    SdChangeRow cr = { .patient = "p1", .view = "frontal", .session = "s2", .session_index = 1,
                       .days = 30, .region = "face", .metric = "wrinkle_density", .baseline = 2,
                       .value = 1.5, .delta = -0.5, .pct_change = -25, .improvement_pct = 25,
                       .mdc95 = NAN, .beyond_noise = -1, .better = -1 };
    CHECK(sd_change_push(&c, &cr) == 0);
    cr.mdc95 = 0.2; cr.beyond_noise = 1;
    CHECK(sd_change_push(&c, &cr) == 0);
    const char *p = sd_test_path(dir, "changes.csv");
    CHECK(sd_change_write(&ctx, p, &c) == 0);
    CHECK(sd_change_read(&ctx, p, &c2) == 0);
    CHECK_EQ_INT(c2.n, 2);
    if (c2.n == 2) {
        CHECK_EQ_INT(c2.v[0].beyond_noise, -1);
        CHECK(isnan(c2.v[0].mdc95));
        CHECK_EQ_INT(c2.v[1].beyond_noise, 1);
        CHECK(c2.v[1].mdc95 == 0.2);
        CHECK_EQ_INT(c2.v[1].better, -1);
        /* every column back into its own field (the values differ column to column) */
        SdChangeArray bad = {0};
        char *t0 = slurp(p);
        if (t0) {   /* a damaged copy: the error names the file */
            const char *q = sd_test_path(dir, "changes_bad.csv");
            char *nl = strchr(t0, '\n');
            if (nl) {
                nl[1] = 0;
                char buf[1024];
                snprintf(buf, sizeof(buf), "%sp1,frontal,s2,1,30,face,m,2,not-a-number,-0.5,-25,25,,-1\n", t0);
                CHECK(sd_write_file_atomic(q, buf, strlen(buf)) == 0);
                CHECK(sd_change_read(&ctx, q, &bad) < 0);
                CHECKF(strstr(ctx.errmsg, q) != NULL, "error without the file name: %s", ctx.errmsg);
            }
            free(t0);
        }
        sd_change_free(&bad);
        const SdChangeRow *g = &c2.v[1];
        CHECK(!strcmp(g->patient, "p1") && !strcmp(g->view, "frontal") && !strcmp(g->session, "s2"));
        CHECK(!strcmp(g->region, "face") && !strcmp(g->metric, "wrinkle_density"));
        CHECK(g->session_index == 1 && g->days == 30 && g->baseline == 2 && g->value == 1.5);
        CHECK(g->delta == -0.5 && g->pct_change == -25 && g->improvement_pct == 25);
    }
    char *text = slurp(p);
    if (text) {
        char h[512];
        first_line(text, h, sizeof(h));
        CHECK(!strcmp(h, "patient,view,session,session_index,days,region,metric,baseline,value,delta,"
                         "pct_change,improvement_pct,mdc95,beyond_noise,unit"));
    }
    free(text);
    sd_change_free(&c); sd_change_free(&c2);

    SdTrendArray t = {0}, t2 = {0};
    SdTrendRow tr = { .patient = "p1", .view = "frontal", .region = "face", .metric = "m",
                      .n_sessions = 3, .slope = -0.25, .slope_unit = "per_30_days",
                      .ci95_low = -0.5, .ci95_high = 0.125 };
    CHECK(sd_trend_push(&t, &tr) == 0);
    p = sd_test_path(dir, "trends.csv");
    CHECK(sd_trend_write(&ctx, p, &t) == 0);
    CHECK(sd_trend_read(&ctx, p, &t2) == 0);
    CHECK_EQ_INT(t2.n, 1);
    if (t2.n == 1) {
        CHECK(!strcmp(t2.v[0].slope_unit, "per_30_days"));
        CHECK(t2.v[0].ci95_high == 0.125);
    }
    text = slurp(p);
    if (text) {
        char h[512];
        first_line(text, h, sizeof(h));
        CHECK(!strcmp(h, "patient,view,region,metric,n_sessions,slope,slope_unit,ci95_low,ci95_high"));
    }
    free(text);
    sd_trend_free(&t); sd_trend_free(&t2);

    SdCohortArray k = {0}, k2 = {0};
    SdCohortRow kr = { .view = "frontal", .session_index = 2, .region = "cheek_r", .metric = "m",
                       .n = 12, .mean_delta = -1, .sd_delta = 2, .ci95_low = -2.2, .ci95_high = 0.2,
                       .t_p = 0.1, .wilcoxon_p = 0.12, .holm_p = 0.5, .cohens_dz = -0.5,
                       .responders_pct = 25, .mean_pct_change = -3, .mean_improvement_pct = NAN };
    CHECK(sd_cohort_push(&k, &kr) == 0);
    p = sd_test_path(dir, "cohort.csv");
    CHECK(sd_cohort_write(&ctx, p, &k) == 0);
    CHECK(sd_cohort_read(&ctx, p, &k2) == 0);
    CHECK_EQ_INT(k2.n, 1);
    if (k2.n == 1) {
        CHECK_EQ_INT(k2.v[0].n, 12);
        CHECK(k2.v[0].wilcoxon_p == 0.12);
        CHECK(isnan(k2.v[0].mean_improvement_pct));
    }
    text = slurp(p);
    if (text) {
        char h[512];
        first_line(text, h, sizeof(h));
        CHECK(!strcmp(h, "view,session_index,region,metric,n,mean_delta,sd_delta,ci95_low,ci95_high,"
                         "t_p,wilcoxon_p,holm_p,cohens_dz,responders_pct,mean_pct_change,"
                         "mean_improvement_pct,family,bh_q,min_wilcoxon_p,unit"));
    }
    free(text);
    sd_cohort_free(&k); sd_cohort_free(&k2);

    SdRepeatArray r = {0}, r2 = {0};
    SdRepeatRow rr = { .region = "face", .metric = "m", .n_subjects = 6, .n_repeats = 4,
                       .icc31 = 0.71, .cv_w_pct = 12.5, .sem = 1.0, .mdc95 = 2.77 };
    CHECK(sd_repeat_push(&r, &rr) == 0);
    p = sd_test_path(dir, "repeatability.csv");
    CHECK(sd_repeat_write(&ctx, p, &r) == 0);
    CHECK(sd_repeat_read(&ctx, p, &r2) == 0);
    CHECK_EQ_INT(r2.n, 1);
    if (r2.n == 1) CHECK(r2.v[0].mdc95 == 2.77 && r2.v[0].n_repeats == 4);
    text = slurp(p);
    if (text) {
        char h[512];
        first_line(text, h, sizeof(h));
        CHECK(!strcmp(h, "region,metric,n_subjects,n_repeats,icc31,cv_w_pct,sem,mdc95"));
    }
    free(text);
    sd_repeat_free(&r); sd_repeat_free(&r2);
}

static void test_meas_sort(void)
{
    SdMeasArray a = {0};
    push_meas(&a, "p10", "a", 0, 0, "face", "m1", 1, -1, NAN);
    push_meas(&a, "p2", "b", 1, 30, "face", "m1", 2, -1, NAN);
    push_meas(&a, "p2", "a", 0, 0, "face", "m2", 3, -1, NAN);
    push_meas(&a, "p2", "a", 0, 0, "face", "m1", 4, -1, NAN);
    sd_meas_sort(&a);
    /* p2 before p10 (natural order); within an image the push order is kept */
    CHECK(!strcmp(a.v[0].patient, "p2") && a.v[0].value == 3);
    CHECK(!strcmp(a.v[1].patient, "p2") && a.v[1].value == 4);
    CHECK(!strcmp(a.v[2].patient, "p2") && a.v[2].value == 2);
    CHECK(!strcmp(a.v[3].patient, "p10"));
    sd_meas_free(&a);
}


/* Three patients, baseline + 2 follow-ups 30 and 60 days later; texture_roughness (lower is
 * better) falls by 1, 2, 3 units per 30 days; glcm_homogeneity (higher is better) rises. Per-image
 * bootstrap SDs 0.3 (baseline) and 0.4 (follow-ups): mdc95 = 1.96 * sqrt(0.09 + 0.16) = 0.98. */
static void build_course(SdMeasArray *m, int with_days)
{
    const char *pat[] = { "p1", "p2", "p3" };
    const char *ses[] = { "s0", "s1", "s2" };
    for (int p = 0; p < 3; p++)
        for (int s = 0; s < 3; s++) {
            const double days = with_days ? 30.0 * s : NAN;
            push_meas(m, pat[p], ses[s], s, days, "face", "texture_roughness",
                      10.0 - (p + 1) * s, -1, s ? 0.4 : 0.3);
            push_meas(m, pat[p], ses[s], s, days, "face", "texture_glcm_homogeneity",
                      0.5 + 0.01 * (p + 1) * s * s, 1, NAN);
        }
}

static const SdChangeRow *find_change(const SdChangeArray *c, const char *pat, int si,
                                      const char *metric)
{
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->v[i].patient, pat) && c->v[i].session_index == si &&
            !strcmp(c->v[i].metric, metric))
            return &c->v[i];
    return NULL;
}

static void test_changes(void)
{
    SdCtx ctx = {0};
    SdMeasArray m = {0};
    SdChangeArray c = {0};
    /* rows in any order: a follow-up pushed before its baseline still gets its change */
    push_meas(&m, "p8", "s2", 1, 30, "face", "texture_roughness", 4, -1, NAN);
    push_meas(&m, "p8", "s1", 0, 0, "face", "texture_roughness", 5, -1, NAN);
    CHECK(sd_course_changes(&ctx, &m, NULL, &c) == 0);
    CHECK(c.n == 1 && c.v[0].delta == -1 && !strcmp(c.v[0].patient, "p8"));
    sd_change_free(&c);
    sd_meas_free(&m);
    memset(&c, 0, sizeof(c));
    memset(&m, 0, sizeof(m));
    /* responders of rows read back without a direction (better 0): improvement_pct decides; a
     * change beyond noise that worsens (improvement_pct < 0) is no responder */
    {
        SdChangeArray rb = {0};
        SdCohortArray co = {0};
        SdChangeRow w = { .patient = (char *)"a", .view = (char *)"front", .session = (char *)"s2",
                          .session_index = 1, .days = NAN, .region = (char *)"face", .metric = (char *)"x",
                          .baseline = 1, .value = 2, .delta = 1, .pct_change = 100, .improvement_pct = -100,
                          .mdc95 = 0.1, .beyond_noise = 1, .better = 0 };
        CHECK(sd_change_push(&rb, &w) == 0);
        w.patient = (char *)"b"; w.value = 0.5; w.delta = -0.5; w.pct_change = -50; w.improvement_pct = 50;
        CHECK(sd_change_push(&rb, &w) == 0);
        CHECK(sd_course_cohort(&ctx, &rb, &co) == 0);
        CHECK(co.n == 1 && co.v[0].n == 2 && co.v[0].responders_pct == 50);
        sd_cohort_free(&co);
        sd_change_free(&rb);
    }
    build_course(&m, 1);
    /* p4 has follow-ups only: no baseline, no change rows */
    push_meas(&m, "p4", "s1", 1, 30, "face", "texture_roughness", 5, -1, NAN);
    CHECK(sd_course_changes(&ctx, &m, NULL, &c) == 0);
    CHECK_EQ_INT(c.n, 3 * 2 * 2);
    const SdChangeRow *r = find_change(&c, "p2", 2, "texture_roughness");
    CHECK(r != NULL);
    if (r) {
        CHECK_NEAR(r->baseline, 10, 0);
        CHECK_NEAR(r->value, 6, 0);
        CHECK_NEAR(r->delta, -4, 1e-12);
        CHECK_NEAR(r->pct_change, -40, 1e-9);
        CHECK_NEAR(r->improvement_pct, 40, 1e-9);    /* lower is better: a fall improves */
        CHECK_NEAR(r->mdc95, 0.98, 1e-9);
        CHECK_EQ_INT(r->beyond_noise, 1);
        CHECK_NEAR(r->days, 60, 0);
    }
    r = find_change(&c, "p1", 1, "texture_glcm_homogeneity");
    CHECK(r != NULL);
    if (r) {
        CHECK_NEAR(r->delta, 0.01, 1e-12);
        CHECK_NEAR(r->pct_change, 2, 1e-9);
        CHECK_NEAR(r->improvement_pct, 2, 1e-9);     /* higher is better: a rise improves */
        CHECK(isnan(r->mdc95));                      /* no bootstrap SD, no repeatability */
        CHECK_EQ_INT(r->beyond_noise, -1);
    }
    CHECK(find_change(&c, "p4", 1, "texture_roughness") == NULL);
    sd_change_free(&c);

    /* a repeatability table overrides the bootstrap */
    SdRepeatArray rep = {0};
    SdRepeatRow rr = { .region = "face", .metric = "texture_roughness", .n_subjects = 5,
                       .n_repeats = 2, .icc31 = 0.9, .cv_w_pct = 3, .sem = 0.9, .mdc95 = 2.5 };
    CHECK(sd_repeat_push(&rep, &rr) == 0);
    CHECK(sd_course_changes(&ctx, &m, &rep, &c) == 0);
    r = find_change(&c, "p1", 2, "texture_roughness");   /* delta -2 */
    CHECK(r && r->mdc95 == 2.5 && r->beyond_noise == 0);
    r = find_change(&c, "p3", 1, "texture_roughness");   /* delta -3 */
    CHECK(r && r->beyond_noise == 1);
    sd_change_free(&c);
    sd_repeat_free(&rep);
    sd_meas_free(&m);
}

static void test_trends(void)
{
    SdCtx ctx = {0};
    SdMeasArray m = {0};
    SdTrendArray t = {0};
    build_course(&m, 1);
    CHECK(sd_course_trends(&ctx, &m, &t) == 0);
    CHECK_EQ_INT(t.n, 6);
    /* first course: p1 texture_roughness, exactly linear: -1 per 30 days, zero-width CI */
    CHECK(!strcmp(t.v[0].patient, "p1") && !strcmp(t.v[0].metric, "texture_roughness"));
    CHECK_NEAR(t.v[0].slope, -1, 1e-12);
    CHECK(!strcmp(t.v[0].slope_unit, "per_30_days"));
    CHECK_EQ_INT(t.v[0].n_sessions, 3);
    CHECK_NEAR(t.v[0].ci95_low, -1, 1e-9);
    CHECK_NEAR(t.v[0].ci95_high, -1, 1e-9);
    /* p1 homogeneity 0.5, 0.51, 0.54 at x = 0,1,2 (x30 days): slope 0.02, residuals
     * 0.0033,-0.0067,0.0033 -> SSE = 6.6667e-5, se = sqrt(SSE/1/2) = 0.0057735,
     * CI = 0.02 -+ 12.7062 * 0.0057735 */
    CHECK(!strcmp(t.v[1].metric, "texture_glcm_homogeneity"));
    CHECK_NEAR(t.v[1].slope, 0.02, 1e-9);
    CHECK_NEAR(t.v[1].ci95_high - t.v[1].slope, 12.706204736 * sqrt(6.66666667e-5 / 2), 1e-7);
    sd_trend_free(&t);
    sd_meas_free(&m);
    /* without dates: per session */
    build_course(&m, 0);
    CHECK(sd_course_trends(&ctx, &m, &t) == 0);
    CHECK(t.n == 6 && !strcmp(t.v[0].slope_unit, "per_session"));
    CHECK_NEAR(t.v[0].slope, -1, 1e-12);
    sd_trend_free(&t);
    sd_meas_free(&m);
}

static void test_cohort(void)
{
    SdCtx ctx = {0};
    SdMeasArray m = {0};
    SdChangeArray c = {0};
    SdCohortArray k = {0};
    build_course(&m, 1);
    CHECK(sd_course_changes(&ctx, &m, NULL, &c) == 0);
    CHECK(sd_course_cohort(&ctx, &c, &k) == 0);
    CHECK_EQ_INT(k.n, 4);   /* 2 follow-ups x 2 metrics */
    /* order: session 1 (roughness, homogeneity), session 2 (...) */
    CHECK(k.v[0].session_index == 1 && !strcmp(k.v[0].metric, "texture_roughness"));
    CHECK(k.v[1].session_index == 1 && !strcmp(k.v[1].metric, "texture_glcm_homogeneity"));
    CHECK(k.v[2].session_index == 2 && !strcmp(k.v[2].metric, "texture_roughness"));
    const SdCohortRow *r = &k.v[0];
    /* deltas -1, -2, -3: mean -2, SD 1, t = -2 sqrt3 (df 2): two-sided p from the df=2 closed
     * form 1 - |t| / sqrt(2 + t^2); Wilcoxon: all 3 negative -> exact p = 2 * 1/8 = 0.25 */
    CHECK_EQ_INT(r->n, 3);
    CHECK_NEAR(r->mean_delta, -2, 1e-12);
    CHECK_NEAR(r->sd_delta, 1, 1e-12);
    const double t = 2 * sqrt(3.0);
    CHECK_NEAR(r->t_p, 1 - t / sqrt(2 + t * t), 1e-8);
    CHECK_NEAR(r->wilcoxon_p, 0.25, 1e-12);
    CHECK_NEAR(r->cohens_dz, -2, 1e-12);
    CHECK_NEAR(r->ci95_low, -2 - 4.30265273 / sqrt(3.0), 1e-6);   /* t(0.975,2) = 4.303 */
    CHECK_NEAR(r->responders_pct, 100, 0);                         /* all beyond 0.98, improving */
    CHECK_NEAR(r->mean_pct_change, -20, 1e-9);
    CHECK_NEAR(r->mean_improvement_pct, 20, 1e-9);
    /* families: roughness (primary) on the whole face is confirmatory, alone in its Holm family;
     * homogeneity (secondary) is exploratory, alone in its BH family */
    CHECK(!strcmp(k.v[0].family, "confirmatory") && !strcmp(k.v[1].family, "exploratory"));
    CHECK_NEAR(k.v[0].holm_p, k.v[0].t_p, 1e-8);
    CHECK(isnan(k.v[0].bh_q) && isnan(k.v[1].holm_p));
    CHECK_NEAR(k.v[1].bh_q, k.v[1].t_p, 1e-8);
    CHECK_NEAR(k.v[0].min_wilcoxon_p, 0.25, 1e-12);   /* 3 patients: 2 / 2^3 */
    CHECK(isnan(k.v[1].responders_pct));    /* no mdc95 for homogeneity */
    sd_cohort_free(&k);
    sd_change_free(&c);
    sd_meas_free(&m);
}

/* Shrout & Fleiss (1979) Table 2 as repeat captures: 6 patients x 4 sessions -> ICC(3,1) = .71.
 * A 7th patient with 2 sessions does not change the balanced k = 4 design (6 x 4 > 7 x 2). */
static void test_repeatability(void)
{
    const double y[6][4] = { { 9, 2, 5, 8 }, { 6, 1, 3, 2 }, { 8, 4, 6, 8 },
                             { 7, 1, 2, 6 }, { 10, 5, 6, 9 }, { 6, 2, 4, 7 } };
    SdCtx ctx = {0};
    SdMeasArray m = {0};
    SdRepeatArray r = {0};
    char pat[8], ses[8];
    for (int i = 0; i < 6; i++)
        for (int j = 3; j >= 0; j--) {   /* pushed out of order: sessions sort by index */
            snprintf(pat, sizeof(pat), "p%d", i);
            snprintf(ses, sizeof(ses), "s%d", j);
            push_meas(&m, pat, ses, j, NAN, "face", "m", y[i][j], -1, NAN);
        }
    push_meas(&m, "p9", "a", 0, NAN, "face", "m", 3, -1, NAN);
    push_meas(&m, "p9", "b", 1, NAN, "face", "m", 4, -1, NAN);
    push_meas(&m, "p9", "a", 0, NAN, "chin", "m", 3, -1, NAN);   /* 1 subject: no row */
    CHECK(sd_course_repeatability(&ctx, &m, &r) == 0);
    CHECK_EQ_INT(r.n, 1);
    if (r.n == 1) {
        CHECK(!strcmp(r.v[0].region, "face"));
        CHECK_EQ_INT(r.v[0].n_subjects, 6);
        CHECK_EQ_INT(r.v[0].n_repeats, 4);
        CHECK_NEAR(r.v[0].icc31, 0.71, 0.005);
        CHECK_NEAR(r.v[0].sem, sqrt(1.02), 0.01);
        CHECK_NEAR(r.v[0].mdc95, 1.96 * sqrt(2.0) * r.v[0].sem, 1e-7);
    }
    sd_repeat_free(&r);
    sd_meas_free(&m);
    /* a tie of the design's size: 3 subjects x 2 repeats or 2 x 3 (both 6 values): the one with
     * more subjects is taken */
    SdMeasArray m2 = {0};
    static const int nrep[3] = { 3, 3, 2 };
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < nrep[i]; j++) {
            pat[0] = 'q'; pat[1] = (char)('0' + i); pat[2] = 0;
            ses[0] = 's'; ses[1] = (char)('0' + j); ses[2] = 0;
            push_meas(&m2, pat, ses, j, NAN, "face", "m", 1.0 + i + 0.1 * j, -1, NAN);
        }
    CHECK(sd_course_repeatability(&ctx, &m2, &r) == 0);
    CHECK_EQ_INT(r.n, 1);
    if (r.n == 1) {
        CHECK_EQ_INT(r.v[0].n_subjects, 3);
        CHECK_EQ_INT(r.v[0].n_repeats, 2);
    }
    sd_repeat_free(&r);
    sd_meas_free(&m2);
    /* a row pushed with a replicate count but no SD keeps no count (uncertainty.csv: NAN/0) */
    SdMeasRow nb = { .patient = (char *)"p", .view = (char *)"v", .session = (char *)"s", .region = (char *)"r",
                     .metric = (char *)"m", .unit = (char *)"%", .qc = (char *)"ok", .value = 1, .sd = NAN,
                     .n_boot = 5 };
    SdMeasArray m3 = {0};
    CHECK(sd_meas_push(&m3, &nb) == 0);
    nb.sd = 0.5;
    CHECK(sd_meas_push(&m3, &nb) == 0);
    CHECK(m3.n == 2 && m3.v[0].n_boot == 0 && m3.v[1].n_boot == 5);
    sd_meas_free(&m3);
}

/* ---- merge: two shards equal the unsplit run */

static void put_file(const char *dir, const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    CHECK(sd_write_file_atomic(path, text, strlen(text)) == 0);
}

static void mkdirs(const char *dir)
{
    CHECK(sd_mkdir_p(dir) == 0);
}

/* Patient i of 5: baseline + 2 follow-ups, two metrics, bootstrap SDs, some NaN days. */
static void patient_meas(SdMeasArray *m, int i)
{
    char pat[16];
    snprintf(pat, sizeof(pat), "p%d", i == 4 ? 10 : i);   /* p10 sorts after p3 naturally */
    for (int s = 0; s < 3; s++) {
        char ses[16];
        snprintf(ses, sizeof(ses), "2024-0%d-01", s + 1);
        const double days = i == 2 ? NAN : 30.0 * s + i;
        push_meas(m, pat, ses, s, days, "face", "texture_roughness",
                  5.0 + 0.37 * i - (0.2 + 0.11 * i) * s * (1 + 0.1 * ((i + s) % 3)), -1, 0.05 + 0.01 * s);
        push_meas(m, pat, ses, s, days, "cheek_l", "pigment_unevenness",
                  2.0 + 0.1 * i + 0.03 * s * (i % 2 ? 1 : -1), -1, 0.02);
    }
}

static const char *CAT_ERR = "path,stage,code,message\nroot/bad.csv:3,catalog,EFORMAT,\"bad line, quoted\"\n";

/* A run output folder for the given patients, laid out as the runner does: top-level tables,
 * patients/<id>/done.json + errors.csv, catalog errors shared by every shard. */
static void write_run_dir(const char *dir, const int *ids, int n, int with_stats)
{
    SdCtx ctx = {0};
    SdMeasArray m = {0};
    char path[1024];
    mkdirs(dir);
    for (int k = 0; k < n; k++) patient_meas(&m, ids[k]);
    sd_meas_sort(&m);
    snprintf(path, sizeof(path), "%s/measurements.csv", dir);
    CHECK(sd_meas_write(&ctx, path, &m) == 0);
    snprintf(path, sizeof(path), "%s/uncertainty.csv", dir);
    CHECK(sd_uncert_write(&ctx, path, &m) == 0);
    /* alignment + errors in natural patient order (ids are given in that order) */
    char align[4096] = "patient,view,session,ecc,status\n", errs[4096];
    snprintf(errs, sizeof(errs), "%s", CAT_ERR);
    put_file(dir, "catalog_errors.csv", CAT_ERR);
    for (int k = 0; k < n; k++) {
        char pat[16], pdir[1024], row[256];
        snprintf(pat, sizeof(pat), "p%d", ids[k] == 4 ? 10 : ids[k]);
        snprintf(pdir, sizeof(pdir), "%s/patients/%s", dir, pat);
        mkdirs(pdir);
        for (int s = 1; s < 3; s++) {
            snprintf(row, sizeof(row), "%s,frontal,2024-0%d-01,0.9%d,ok\n", pat, s + 1, ids[k]);
            strcat(align, row);
        }
        char perr[256] = "path,stage,code,message\n";
        if (ids[k] % 2) {
            snprintf(row, sizeof(row), "root/%s/s9/frontal.jpg,load,EFORMAT,truncated\n", pat);
            strcat(perr, row);
            strcat(errs, row);
        }
        put_file(pdir, "errors.csv", perr);
        put_file(pdir, "done.json", "{}\n");
    }
    put_file(dir, "alignment.csv", align);
    put_file(dir, "errors.csv", errs);
    if (with_stats) {
        SdChangeArray c = {0};
        SdTrendArray t = {0};
        SdCohortArray k = {0};
        CHECK(sd_course_changes(&ctx, &m, NULL, &c) == 0);
        CHECK(sd_course_trends(&ctx, &m, &t) == 0);
        CHECK(sd_course_cohort(&ctx, &c, &k) == 0);
        snprintf(path, sizeof(path), "%s/changes.csv", dir);
        CHECK(sd_change_write(&ctx, path, &c) == 0);
        snprintf(path, sizeof(path), "%s/trends.csv", dir);
        CHECK(sd_trend_write(&ctx, path, &t) == 0);
        snprintf(path, sizeof(path), "%s/cohort.csv", dir);
        CHECK(sd_cohort_write(&ctx, path, &k) == 0);
        sd_change_free(&c); sd_trend_free(&t); sd_cohort_free(&k);
    }
    sd_meas_free(&m);
}

static int same_file(const char *a_dir, const char *b_dir, const char *name)
{
    char pa[1024], pb[1024];
    snprintf(pa, sizeof(pa), "%s/%s", a_dir, name);
    snprintf(pb, sizeof(pb), "%s/%s", b_dir, name);
    char *a = slurp(pa), *b = slurp(pb);
    int same = a && b && !strcmp(a, b);
    if (!same) fprintf(stderr, "differs: %s vs %s\n", pa, pb);
    free(a); free(b);
    return same;
}

static void test_merge_equals_unsplit(void)
{
    char full[512], a[512], b[512], out[512];
    const char *tmp = sd_test_tmp_dir();
    snprintf(full, sizeof(full), "%s/merge_full", tmp);
    snprintf(a, sizeof(a), "%s/merge_a", tmp);
    snprintf(b, sizeof(b), "%s/merge_b", tmp);
    snprintf(out, sizeof(out), "%s/merge_out", tmp);
    const int all[] = { 0, 1, 2, 3, 4 }, sa[] = { 0, 2, 4 }, sb[] = { 1, 3 };
    write_run_dir(full, all, 5, 1);
    write_run_dir(a, sa, 3, 1);
    write_run_dir(b, sb, 2, 1);
    SdCtx ctx = {0};
    SdMergeSummary s;
    const char *in[] = { b, a };   /* order of the inputs does not matter */
    CHECKF(sd_merge_outputs(&ctx, in, 2, out, NULL, &s) == 0, "%s", ctx.errmsg);
    CHECK_EQ_INT(s.patients, 5);
    CHECK(!strcmp(s.mdc_source, "bootstrap"));
    const char *files[] = { "measurements.csv", "uncertainty.csv", "alignment.csv", "errors.csv",
                            "catalog_errors.csv", "changes.csv", "trends.csv", "cohort.csv" };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        CHECKF(same_file(full, out, files[i]), "%s", files[i]);
    char p[1024];
    snprintf(p, sizeof(p), "%s/patients/p10/done.json", out);
    CHECK(sd_file_exists(p));
    snprintf(p, sizeof(p), "%s/run.json", out);
    char *rj = slurp(p);
    CHECK(rj && strstr(rj, "\"command\": \"merge\"") && strstr(rj, "merge_a") && strstr(rj, "merge_b"));
    free(rj);
    /* the cohort of the merge is not the cohort of a shard: it holds all 5 patients */
    SdCohortArray k = {0};
    snprintf(p, sizeof(p), "%s/cohort.csv", out);
    CHECK(sd_cohort_read(&ctx, p, &k) == 0);
    CHECK(k.n > 0 && k.v[0].n == 5);
    sd_cohort_free(&k);

    /* refusals: overlapping shards, output among the inputs, differing headers */
    const char *dup[] = { a, full };
    char out2[512];
    snprintf(out2, sizeof(out2), "%s/merge_out2", tmp);
    CHECK(sd_merge_outputs(&ctx, dup, 2, out2, NULL, &s) == SD_EINVAL);
    CHECKF(strstr(ctx.errmsg, "patient 'p0'") && strstr(ctx.errmsg, "overlap"), "%s", ctx.errmsg);
    CHECK(!sd_is_dir(out2));   /* nothing written */
    const char *self[] = { a, b };
    CHECK(sd_merge_outputs(&ctx, self, 2, a, NULL, &s) == SD_EINVAL);
    put_file(b, "alignment.csv", "patient,view,session,ecc,status,extra\n");
    CHECK(sd_merge_outputs(&ctx, in, 2, out2, NULL, &s) == SD_EINVAL);
    CHECKF(strstr(ctx.errmsg, "header") != NULL, "%s", ctx.errmsg);
    CHECK(!sd_is_dir(out2));
}

static const SdTestCase cases[] = {
    { "meas_roundtrip", test_meas_roundtrip },
    { "reader_errors", test_reader_errors },
    { "tables_roundtrip", test_tables_roundtrip },
    { "meas_sort", test_meas_sort },
    { "changes", test_changes },
    { "trends", test_trends },
    { "cohort", test_cohort },
    { "repeatability", test_repeatability },
    { "merge_equals_unsplit", test_merge_equals_unsplit },
};
SD_TEST_MAIN(cases)

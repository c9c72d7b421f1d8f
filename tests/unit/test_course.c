/* Course tables: CSV round trips with the exact contract headers, reader diagnostics, changes,
 * trends, cohort and repeatability on courses with known answers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/course.h"
#include "src/util.h"
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
        CHECK(!strcmp(h, "patient,view,session,region,metric,sd,n_boot"));
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
    }
    char *text = slurp(p);
    if (text) {
        char h[512];
        first_line(text, h, sizeof(h));
        CHECK(!strcmp(h, "patient,view,session,session_index,days,region,metric,baseline,value,delta,"
                         "pct_change,improvement_pct,mdc95,beyond_noise"));
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
                         "mean_improvement_pct"));
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

static const SdTestCase cases[] = {
    { "meas_roundtrip", test_meas_roundtrip },
    { "reader_errors", test_reader_errors },
    { "tables_roundtrip", test_tables_roundtrip },
    { "meas_sort", test_meas_sort },
};
SD_TEST_MAIN(cases)

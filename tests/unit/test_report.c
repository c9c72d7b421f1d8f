/* The HTML report from a small fake run folder: pages exist, hold the expected rows, escape
 * hostile ids and messages, reference only files inside report/, say what is missing, and the
 * forest plot's improvement CI matches a hand computation. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skindelta/report.h"
#include "src/report/report_int.h"
#include "src/core/core.h"
#include "tests/lib/test.h"

static const char *const regions[] = {"face", "forehead"};
static const char *const metrics[] = {"texture_roughness", "wrinkle_density", "pigment_unevenness"};
/* patients: two regular ones and a hostile id; improvement of face texture_roughness at s1 is
 * 10, 20, 30 % so the across-patient mean is 20 % with 95% CI 20 +- 4.303 * 10 / sqrt(3). */
static const char *const patients[] = {"P1", "P2", "<script>"};

static void put(const char *dir, const char *name, const char *text)
{
    char *p = sd_path_join(dir, name);
    CHECK(p && sd_write_file_atomic(p, text, strlen(text)) == 0);
    free(p);
}

static void png(const char *dir, const char *name, int shade)
{
    SdCtx ctx;
    CHECK(sd_ctx_init(&ctx) == 0);
    SdImage im = {0};
    CHECK(sd_image_create(&im, 40, 50, 3, SD_FMT_U8) == 0);
    for (int y = 0; y < im.h; y++)
        for (int x = 0; x < im.w * 3; x++) sd_image_row8(&im, y)[x] = (uint8_t)(shade + x + y);
    char *p = sd_path_join(dir, name);
    CHECKF(sd_image_save(&ctx, &im, p, 90) == 0, "%s", ctx.errmsg);
    free(p);
    sd_image_free(&im);
}

/* Appends printf output to a growing buffer. */
typedef struct Buf { char *p; size_t n, cap; } Buf;
static void bprintf(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bprintf(Buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (b->n + (size_t)k + 1 > b->cap) {
        b->cap = 2 * (b->n + (size_t)k + 1);
        b->p = realloc(b->p, b->cap);
    }
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, (size_t)k + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)k;
}

static void make_run(const char *out)
{
    char dir[2200];
    CHECK(sd_mkdir_p(out) == 0);
    Buf m = {0}, c = {0}, k = {0}, t = {0}, a = {0};
    bprintf(&m, "patient,view,session,session_index,days,region,metric,value,unit,better,qc\n");
    bprintf(&c, "patient,view,session,session_index,days,region,metric,baseline,value,delta,"
                "pct_change,improvement_pct,mdc95,beyond_noise\n");
    bprintf(&t, "patient,view,region,metric,n_sessions,slope,slope_unit,ci95_low,ci95_high\n");
    bprintf(&a, "patient,view,session,face_score,landmark_rms_px,ecc,a11,a12,tx,a21,a22,ty,status,"
                "overlap,reason\n");
    for (int p = 0; p < 3; p++) {
        for (int s = 0; s < 2; s++) {
            bprintf(&a, "%s,front,s%d,0.98,%s,0.95,1,0,0,0,1,0,%s,0.97,%s\n", patients[p], s,
                    s ? "1.25" : "", p == 1 && s == 1 ? "flagged" : "ok",
                    p == 1 && s == 1 ? "ECC below 0.9 <x>" : "");
            for (int g = 0; g < 2; g++)
                for (int j = 0; j < 3; j++) {
                    const double base = 2.0, impr = 10.0 * (p + 1) * (g == 0 && j == 0 ? 1 : 0.5);
                    const double v = s ? base * (1 - impr / 100) : base;
                    bprintf(&m, "%s,front,s%d,%d,%d,%s,%s,%.9g,%%,lower,%s\n", patients[p], s, s,
                            30 * s, regions[g], metrics[j], v,
                            p == 1 && s == 1 && g == 1 && j == 1 ? "warn" : "ok");
                    if (s)
                        bprintf(&c, "%s,front,s1,1,30,%s,%s,2,%.9g,%.9g,%.9g,%.9g,0.1,%d\n",
                                patients[p], regions[g], metrics[j], v, v - base,
                                100 * (v - base) / base, impr, v - base < -0.1);
                }
        }
        for (int g = 0; g < 2; g++)
            for (int j = 0; j < 3; j++)
                bprintf(&t, "%s,front,%s,%s,2,-0.1,per_30_days,,\n", patients[p], regions[g],
                        metrics[j]);
    }
    bprintf(&k, "view,session_index,region,metric,n,mean_delta,sd_delta,ci95_low,ci95_high,t_p,"
                "wilcoxon_p,holm_p,cohens_dz,responders_pct,mean_pct_change,mean_improvement_pct\n");
    for (int g = 0; g < 2; g++)
        for (int j = 0; j < 3; j++)
            bprintf(&k, "front,1,%s,%s,3,-0.4,0.2,-0.8968,0.0968,0.04,0.25,%s,-2,66.7,-20,20\n",
                    regions[g], metrics[j], g == 0 && j == 0 ? "0.0123" : "0.5");
    put(out, "measurements.csv", m.p);
    put(out, "changes.csv", c.p);
    put(out, "cohort.csv", k.p);
    put(out, "trends.csv", t.p);
    put(out, "alignment.csv", a.p);
    put(out, "errors.csv", "path,stage,code,message\n"
        "root/P2/s9/front.jpg,load,EFORMAT,\"bad <img src=x onerror=alert(1)> & \"\"quoted\"\"\"\n");
    put(out, "run.json", "{\"version\": \"0.1.0\", \"git_revision\": \"<b>rev</b>\",\n"
        " \"parameters\": {\"px_per_mm\": 10.5, \"px_per_mm_source\": \"assumed <IOD>\",\n"
        " \"qc_ecc_warn\": 0.5, \"qc_ecc_fail\": 0.2, \"qc_landmark_rms_warn_iod\": 0.04,\n"
        " \"qc_landmark_rms_fail_iod\": 0.1, \"qc_overlap_warn\": 0.9, \"qc_overlap_fail\": 0.6}}\n");
    free(m.p); free(c.p); free(k.p); free(t.p); free(a.p);
    /* images: P1 s1 photo missing; the hostile id is a valid folder name too */
    for (int p = 0; p < 3; p++) {
        snprintf(dir, sizeof(dir), "%s/aligned/%s", out, patients[p]);
        CHECK(sd_mkdir_p(dir) == 0);
        for (int s = 0; s < 2; s++) {
            char name[64];
            static const char *const suf[] = {"", "_regions", "_wrinkles", "_spots"};
            for (int q = 0; q < 4; q++) {
                if (p == 0 && s == 1 && q == 0) continue;
                snprintf(name, sizeof(name), "front_s%d%s.png", s, suf[q]);
                png(dir, name, 20 * q + 60 * s);
            }
        }
    }
    /* P1 s0's regions as a run writes them now: an indexed mask (linked, stacked on the photo) */
    {
        SdCtx ctx;
        CHECK(sd_ctx_init(&ctx) == 0);
        uint8_t idx[40 * 50];
        static const uint8_t pal[3][4] = {{0, 0, 0, 0}, {0, 0, 0, 128}, {230, 159, 0, 255}};
        for (int i = 0; i < 40 * 50; i++) idx[i] = (uint8_t)(i % 3);
        snprintf(dir, sizeof(dir), "%s/aligned/P1/front_s0_regions.png", out);
        CHECKF(sd__png_save_indexed(&ctx, dir, idx, 40, 40, 50, pal, 3) == 0, "%s", ctx.errmsg);
    }
    /* a corrupt overlay: unreadable, so shown as missing */
    snprintf(dir, sizeof(dir), "%s/aligned/P2", out);
    put(dir, "front_s0_spots.png", "not a png");
}

static char *slurp(const char *path)
{
    char *d = NULL;
    size_t n;
    if (sd_read_file(path, 1 << 26, &d, &n)) return NULL;
    return d;
}

/* Every src="..." and href="..." names an existing file inside dir (anchors allowed). Returns the
 * number of references checked. */
static int check_refs(const char *html, const char *dir, const char *page)
{
    int n = 0;
    static const char *const attrs[] = {"src=\"", "href=\""};
    for (int k = 0; k < 2; k++)
        for (const char *p = strstr(html, attrs[k]); p; p = strstr(p + 1, attrs[k])) {
            const char *v = p + strlen(attrs[k]), *e = strchr(v, '"');
            if (!e) { CHECKF(0, "%s: unterminated attribute", page); break; }
            char ref[512];
            snprintf(ref, sizeof(ref), "%.*s", (int)(e - v), v);
            n++;
            if (ref[0] == '#') continue;
            CHECKF(!strstr(ref, "://") && ref[0] != '/' && !strstr(ref, ".."),
                   "%s: reference outside report/: %s", page, ref);
            char *hash = strchr(ref, '#');
            if (hash) *hash = 0;
            const char *full = sd_test_path(dir, ref);
            CHECKF(sd_file_exists(full), "%s: references missing file %s", page, ref);
        }
    return n;
}

static const char *out_dir(const char *name)
{
    static char buf[1024];
    snprintf(buf, sizeof(buf), "%s/%s", sd_test_tmp_dir(), name);
    return buf;
}

static void test_pages(void)
{
    char out[1024];
    snprintf(out, sizeof(out), "%s", out_dir("run1"));
    make_run(out);
    SdCtx ctx;
    CHECK(sd_ctx_init(&ctx) == 0);
    int e = sd_report_write(&ctx, out);
    CHECKF(e == 0, "sd_report_write: %d %s", e, ctx.errmsg);
    char rep[1100];
    snprintf(rep, sizeof(rep), "%s/report", out);
    char *idx = slurp(sd_test_path(rep, "index.html"));
    CHECK(idx != NULL);
    if (!idx) return;
    /* cohort table rows, primary metrics before the others, forest plot, QC, patient links */
    CHECK(strstr(idx, "Skin roughness") && strstr(idx, "Wrinkle area") &&
          strstr(idx, "Pigment unevenness"));
    CHECK(strstr(idx, "Forehead") && strstr(idx, "Whole face"));
    CHECK(strstr(idx, "0.012") != NULL);              /* the Holm p of face roughness */
    CHECK(strstr(idx, ">Improved<") != NULL);         /* its verdict */
    CHECK(strstr(idx, "<svg class=\"forest\"") != NULL);
    CHECK(strstr(idx, "href=\"P1.html\"") && strstr(idx, "href=\"P2.html\""));
    CHECK(strstr(idx, "flagged") != NULL);            /* P2 s1 alignment status + reason */
    CHECK(strstr(idx, "ECC below 0.9 &lt;x&gt;") != NULL);
    CHECK(strstr(idx, "aligned/P1/front_s1.jpg") != NULL);   /* the missing photo is named */
    /* forest CI of face roughness: 20 +- 4.303 * 10 / sqrt(3) = [-4.8, 44.8] */
    CHECKF(strstr(idx, "+20.0% [-4.8, 44.8]") != NULL, "forest CI text not found");
    /* escaping: the hostile id, error message and run.json value never appear raw */
    CHECK(strstr(idx, "&lt;script&gt;") != NULL);
    CHECK(strstr(idx, "<script") == NULL);
    CHECK(strstr(idx, "<img src=x") == NULL && strstr(idx, "&lt;img src=x onerror=alert(1)&gt;"));
    CHECK(strstr(idx, "&quot;quoted&quot;") != NULL);
    CHECK(strstr(idx, "<b>rev</b>") == NULL && strstr(idx, "&lt;b&gt;rev&lt;/b&gt;"));
    CHECK(strstr(idx, "10.5 px/mm (assumed &lt;IOD&gt;)") != NULL);   /* scale and its source */
    CHECK(strstr(idx, "flagged when ECC &lt; 0.5") != NULL);           /* QC thresholds */
    CHECK(check_refs(idx, rep, "index.html") > 3);
    free(idx);

    char *p1 = slurp(sd_test_path(rep, "P1.html"));
    CHECK(p1 != NULL);
    if (p1) {
        CHECK(strstr(p1, "Photo not available") && strstr(p1, "aligned/P1/front_s1.jpg"));
        CHECK(strstr(p1, "img/P1/front_s0.jpg") != NULL);
        CHECK(strstr(p1, "img/P1/front_s1_wrinkles.jpg") != NULL);
        /* the mask is linked as it is and composited over the session's photo */
        CHECK(strstr(p1, "<a href=\"img/P1/front_s0_regions.png\" class=\"ovl\"><img src=\"img/P1/front_s0.jpg\"") != NULL);
        CHECK(strstr(p1, "img/P1/front_s0_regions.jpg") == NULL);
        CHECK(strstr(p1, "2.00 \xe2\x86\x92 1.80") != NULL);   /* face roughness before -> after */
        CHECK(strstr(p1, "+10.0%") != NULL);
        CHECK(strstr(p1, "<svg class=\"trend\"") != NULL);
        CHECK(strstr(p1, "<script") == NULL);
        CHECK(check_refs(p1, rep, "P1.html") > 3);
        free(p1);
    }
    char *p2 = slurp(sd_test_path(rep, "P2.html"));
    CHECK(p2 && strstr(p2, "root/P2/s9/front.jpg") != NULL);   /* its input error */
    CHECK(p2 && strstr(p2, "type=\"radio\"") != NULL);         /* CSS before/after toggle */
    CHECK(p2 && strstr(p2, "ECC below 0.9 &lt;x&gt;") != NULL);
    CHECK(p2 && strstr(p2, "Spot map not available") && strstr(p2, "aligned/P2/front_s0_spots.png"));
    CHECK(p2 && !strstr(p2, "img/P2/front_s0_spots.jpg"));
    CHECK(p2 && strstr(p2, "QC warn</span> follow-up s1: ECC below 0.9 &lt;x&gt; (measured; read these changes with care)"));   /* one QC line per pair */
    free(p2);

    char *safe = sd__rep_safe_name("<script>");
    char fn[128];
    snprintf(fn, sizeof(fn), "%s.html", safe);
    char *ph = slurp(sd_test_path(rep, fn));
    CHECKF(ph != NULL, "hostile patient page %s missing", fn);
    if (ph) {
        CHECK(strstr(ph, "Patient &lt;script&gt;") != NULL);
        CHECK(strstr(ph, "<script") == NULL);
        CHECK(check_refs(ph, rep, fn) > 3);
        free(ph);
    }
    free(safe);

    /* a second run reuses the image copies and rewrites the same pages */
    CHECKF(sd_report_write(&ctx, out) == 0, "rerun: %s", ctx.errmsg);
    CHECK(sd_file_exists(sd_test_path(rep, "index.html")));
}

static void test_safe_names(void)
{
    char *a = sd__rep_safe_name("P01"), *b = sd__rep_safe_name("index"),
         *c = sd__rep_safe_name("../x/y"), *d = sd__rep_safe_name("a b"),
         *e = sd__rep_safe_name("a_b"), *f = sd__rep_safe_name("");
    CHECK(a && !strcmp(a, "P01"));
    CHECK(b && strcmp(b, "index") && !strncmp(b, "index-", 6));
    CHECK(c && c[0] != '.' && !strchr(c, '/'));
    CHECK(d && e && strcmp(d, e));           /* no collision after replacing the space */
    CHECK(f && f[0]);
    free(a); free(b); free(c); free(d); free(e); free(f);
}

static void test_failures(void)
{
    SdCtx ctx;
    CHECK(sd_ctx_init(&ctx) == 0);
    const char *empty = out_dir("empty");
    CHECK(sd_mkdir_p(empty) == 0);
    CHECK(sd_report_write(&ctx, empty) == SD_EIO);
    CHECK(strstr(ctx.errmsg, "not a skindelta output folder") != NULL);

    const char *bad = out_dir("badcsv");
    CHECK(sd_mkdir_p(bad) == 0);
    put(bad, "changes.csv", "patient,view,session,region,metric\n\"P1,front\n");
    CHECK(sd_report_write(&ctx, bad) == SD_EFORMAT);

    const char *nocol = out_dir("nocol");
    CHECK(sd_mkdir_p(nocol) == 0);
    put(nocol, "measurements.csv", "patient,view,session,region,value\nP1,front,s0,face,1\n");
    CHECK(sd_report_write(&ctx, nocol) == SD_EFORMAT);
    CHECK(strstr(ctx.errmsg, "metric") != NULL);

    /* only errors.csv (every input failed): still a report */
    const char *onlyerr = out_dir("onlyerr");
    CHECK(sd_mkdir_p(onlyerr) == 0);
    put(onlyerr, "errors.csv", "path,stage,code,message\nroot/A/s0/front.jpg,face,ENOFACE,no face\n");
    CHECKF(sd_report_write(&ctx, onlyerr) == 0, "%s", ctx.errmsg);
    char *idx = slurp(sd_test_path(onlyerr, "report/index.html"));
    CHECK(idx && strstr(idx, "no face") && strstr(idx, "No follow-up was scored"));
    free(idx);
}

/* Non-finite and absurd numbers render as dashes or clamped figures, never as nan/inf text. */
static void test_garbage_numbers(void)
{
    const char *out = out_dir("garbage");
    CHECK(sd_mkdir_p(out) == 0);
    put(out, "measurements.csv", "patient,view,session,session_index,days,region,metric,value,unit,"
        "better,qc\nA,front,s0,0,inf,face,texture_roughness,nan,%,sideways,\n"
        "A,front,s1,1,1e300,face,texture_roughness,1e308,,lower,warn\n"
        "A,front,s2,1e12,-5,face,texture_roughness,-1e308,u,higher,ok\n");
    put(out, "changes.csv", "patient,view,session,session_index,days,region,metric,baseline,value,"
        "delta,pct_change,improvement_pct,mdc95,beyond_noise\n"
        "A,front,s1,1,,face,texture_roughness,0,1e308,1e308,inf,-inf,nan,maybe\n"
        "B,front,s1,1,,face,texture_roughness,1,2,1,100,1e308,0.1,1\n");
    put(out, "cohort.csv", "view,session_index,region,metric,n,mean_delta,sd_delta,ci95_low,"
        "ci95_high,t_p,wilcoxon_p,holm_p,cohens_dz,responders_pct,mean_pct_change,"
        "mean_improvement_pct\nfront,1,face,texture_roughness,1e20,1,1,-inf,inf,2,-1,nan,1e308,"
        "1000,1,1e308\nfront,-1,face,texture_roughness,1,1,1,1,1,1,1,1,1,1,1,1\n");
    put(out, "trends.csv", "patient,view,region,metric,n_sessions,slope,slope_unit,ci95_low,"
        "ci95_high\nA,front,face,texture_roughness,-5,inf,<u>,nan,1e308\n");
    SdCtx ctx;
    CHECK(sd_ctx_init(&ctx) == 0);
    CHECKF(sd_report_write(&ctx, out) == 0, "%s", ctx.errmsg);
    char rep[1100];
    snprintf(rep, sizeof(rep), "%s/report", out);
    static const char *const pages[] = {"index.html", "A.html", "B.html"};
    for (int i = 0; i < 3; i++) {
        char *h = slurp(sd_test_path(rep, pages[i]));
        CHECKF(h != NULL, "%s missing", pages[i]);
        if (!h) continue;
        CHECKF(!strstr(h, "nan") && !strstr(h, "inf\"") && !strstr(h, ">inf") &&
               !strstr(h, "-inf"), "%s prints a non-finite number", pages[i]);
        CHECK(strstr(h, "<u>") == NULL);
        free(h);
    }
}

/* A patient whose baseline failed: the sessions keep the catalog order (baseline first) and the
 * page says that nothing could be compared. */
static void test_failed_baseline(void)
{
    const char *out = out_dir("nobase");
    CHECK(sd_mkdir_p(out) == 0);
    put(out, "measurements.csv", "patient,view,session,session_index,days,region,metric,value,unit,"
        "better,qc\nQ,front,s10,2,60,face,texture_roughness,1.5,%,lower,ok\n"
        "Q,front,s2,1,30,face,texture_roughness,1.6,%,lower,ok\n");
    put(out, "alignment.csv", "patient,view,session,face_score,landmark_rms_px,ecc,a11,a12,tx,a21,"
        "a22,ty,status\nQ,front,s1,,,,,,,,,,failed\nQ,front,s2,0.9,,,1,0,0,0,1,0,ok\n"
        "Q,front,s10,0.9,1,0.9,1,0,0,0,1,0,ok\n");
    put(out, "errors.csv", "path,stage,code,message\nroot/Q/s1/front.jpg,face,ENOFACE,no face found\n");
    SdCtx ctx;
    CHECK(sd_ctx_init(&ctx) == 0);
    CHECKF(sd_report_write(&ctx, out) == 0, "%s", ctx.errmsg);
    char *h = slurp(sd_test_path(out, "report/Q.html"));
    CHECK(h != NULL);
    if (!h) return;
    const char *b = strstr(h, "<b>Baseline</b> &middot; s1"), *f2 = strstr(h, "<b>Follow-up</b> &middot; s2"),
               *f10 = strstr(h, "<b>Follow-up</b> &middot; s10");
    CHECKF(b && f2 && f10 && b < f2 && f2 < f10, "session order or labels wrong");
    CHECK(strstr(h, "No follow-up of this view could be compared") != NULL);
    CHECK(strstr(h, "no face found") != NULL);
    free(h);
}

static const SdTestCase cases[] = {
    {"failed_baseline", test_failed_baseline},
    {"garbage_numbers", test_garbage_numbers},
    {"pages", test_pages},
    {"safe_names", test_safe_names},
    {"failures", test_failures},
};
SD_TEST_MAIN(cases)

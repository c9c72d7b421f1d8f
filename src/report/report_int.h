/* Internals of the report (src/report_*.c): the run's CSV outputs loaded into one indexed model,
 * plus the HTML/SVG writing helpers the pages share. */
#ifndef SRC_REPORT_INT_H
#define SRC_REPORT_INT_H

#include <stdio.h>
#include <string.h>

#include "skindelta/skindelta.h"
#include "src/core/core.h"

/* Interned strings in first-seen order, with an open-addressing hash for lookup. */
typedef struct SdRepStrs {
    char **s;
    int n, cap;
    int *slot;      /* index + 1, 0 = empty */
    int nslot;
} SdRepStrs;
int  sd__rep_intern(SdRepStrs *t, const char *s);       /* index >= 0, or SD_ENOMEM */
int  sd__rep_find(const SdRepStrs *t, const char *s);   /* index or -1 */
void sd__rep_strs_free(SdRepStrs *t);

enum { SD_REP_IMG_PHOTO, SD_REP_IMG_REGIONS, SD_REP_IMG_WRINKLES, SD_REP_IMG_SPOTS,
       SD_REP_IMG_CHANGE,   /* follow-ups: where each primary metric improved or worsened */
       SD_REP_NIMG };
extern const char *const sd__rep_img_suffix[SD_REP_NIMG];   /* "", "_regions", ... */
extern const char *const sd__rep_img_label[SD_REP_NIMG];
/* An overlay copied as an indexed-PNG mask (composited over the photo), not a picture of its own. */
static inline int sd__rep_img_is_mask(const char *rel)
{
    const size_t n = rel ? strlen(rel) : 0;
    return n > 4 && !strcmp(rel + n - 4, ".png");
}

typedef struct SdRepSession {
    int patient, view;
    char *name;
    int index;              /* session_index, -1 when unknown */
    double days;            /* NaN when unknown */
    int has_align;
    int nchg;               /* rows of changes.csv for this session */
    double face_score, rms, ecc, a[6];   /* a11 a12 tx a21 a22 ty */
    char *status;           /* alignment status, NULL when no row */
    double overlap;         /* optional alignment.csv columns: skin overlap fraction, */
    char *reason;           /* why a pair was flagged (NULL or "") */
    char *img[SD_REP_NIMG]; /* path relative to report/ when the copy exists, else NULL */
    char *src[SD_REP_NIMG]; /* expected source, relative to OUT (for "missing" notes) */
} SdRepSession;

typedef struct SdRepMeas {
    int session, region, metric;
    double value;
    int qc_warn;            /* qc column other than "ok" (or empty) */
} SdRepMeas;

typedef struct SdRepChange {
    int session, region, metric;
    double baseline, value, delta, pct, impr, mdc95;
    int beyond;             /* 1 beyond noise, 0 within, -1 unknown */
} SdRepChange;

typedef struct SdRepCohort {
    int view, sidx, region, metric;
    double n, mean_delta, sd_delta, lo, hi, t_p, w_p, holm_p, dz, resp, mean_pct, mean_impr;
    /* improvement_pct across patients, from changes.csv (forest plot) */
    int impr_n;
    double impr_mean, impr_lo, impr_hi;
    /* the test family (cohort.csv `family`; from sd_cohort_family when the column is absent),
     * its Benjamini-Hochberg q (exploratory rows) and the smallest attainable Wilcoxon p */
    int confirmatory;
    double bh_q, min_p;
} SdRepCohort;

typedef struct SdRepTrend {
    int patient, view, region, metric, n;
    double slope, lo, hi;
    char *unit;
} SdRepTrend;

typedef struct SdRepError {
    char *path, *stage, *code, *message;
    int patient;            /* -1 when the path names no known patient */
} SdRepError;

typedef struct SdRepMetric {
    const char *label, *desc;   /* static text; generic for unknown ids */
    char *unit;                 /* from measurements.csv, may be NULL */
    int better;                 /* +1 higher is better, -1 lower is better, 0 unknown */
    int primary, rank;
} SdRepMetric;

typedef struct SdRep {
    const char *out_dir;
    char *rep_dir;
    SdRepStrs patients, views, regions, metrics, skeys;
    char **patient_file;        /* per patient: file stem of its page (HTML-safe) */
    SdRepMetric *minfo;         /* per metric */
    int *region_rank;           /* per region */
    int *porder, *rorder, *morder;   /* sorted patient / region / metric ids */
    SdRepSession *ses; int nses, cses;
    SdRepMeas *meas; int nmeas, cmeas;
    SdRepChange *chg; int nchg, cchg;
    SdRepCohort *coh; int ncoh, ccoh;
    SdRepTrend *trd; int ntrd, ctrd;
    SdRepError *err; int nerr, cerr;
    int have_meas, have_chg, have_coh, have_trd, have_align, have_err, have_run;
    int *meas_at, *chg_at;      /* [session][region][metric] -> row + 1, 0 = none */
    int *trd_at;                /* [patient][view][region][metric] -> row + 1 (NULL: scan) */
    int *coh_at, coh_nsidx;     /* [view][sidx][region][metric] -> row + 1 (NULL: scan) */
    SdJson run;                 /* run.json (type SD_JSON_NULL when absent) */
    char bad_num[64];           /* the first non-numeric text of a number field read */
    int nimg_missing;
} SdRep;

int  sd__rep_load(SdCtx *ctx, const char *out_dir, SdRep *r);
void sd__rep_free(SdRep *r);
/* Copy every session's images to report/img/ as downscaled JPEGs; fills ses[].img. */
int  sd__rep_images(SdCtx *ctx, SdRep *r);
/* Sessions of one patient x view, ordered (baseline first); returns count, fills idx (cap). */
int  sd__rep_sessions(const SdRep *r, int patient, int view, int *idx, int cap);
/* Dense lookup tables for the lookups below (called by sd__rep_load). */
int  sd__rep_build_index(SdRep *r);
/* Cohort row of view x sidx x region x metric, created (all NAN) when absent; NULL on ENOMEM. */
SdRepCohort *sd__rep_cohort_get(SdRep *r, int view, int sidx, int region, int metric);
/* Value / change lookups, NULL when absent. */
const SdRepMeas   *sd__rep_meas(const SdRep *r, int session, int region, int metric);
const SdRepChange *sd__rep_change(const SdRep *r, int session, int region, int metric);
const SdRepTrend  *sd__rep_trend(const SdRep *r, int patient, int view, int region, int metric);
const SdRepCohort *sd__rep_cohort(const SdRep *r, int view, int sidx, int region, int metric);
/* File-name-safe stem: [A-Za-z0-9._-] only, plus a hash suffix when anything was changed. */
char *sd__rep_safe_name(const char *s);

/* ---- writing helpers */
void sd__rep_esc(FILE *f, const char *s);          /* HTML/XML text and attribute escaping */
const char *sd__rep_fmt(char *buf, size_t n, double v);      /* 3 significant digits, "–" NaN */
const char *sd__rep_fmt_pct(char *buf, size_t n, double v);  /* "+12.3%" */
const char *sd__rep_fmt_1(char *buf, size_t n, double v);    /* 1 decimal, integers plain */
const char *sd__rep_fmt_p(char *buf, size_t n, double v);    /* "0.012", "<0.001" */
const char *sd__rep_region_label(const SdRep *r, int region);
/* Median days of follow-up sidx in view (NaN if unknown). */
double sd__rep_sidx_days(const SdRep *r, int view, int sidx);

/* Atomic page files: open, then close (commit, or abort on a write error). */
int  sd__rep_page_open(SdCtx *ctx, SdAtomicFile *af, const char *path);
int  sd__rep_page_close(SdCtx *ctx, SdAtomicFile *af, const char *path);
/* A number / string value of a key in run.json (first occurrence; provenance only, no parser). */
/* Page parts shared by index and patient pages (report_page.c). */
void sd__rep_page_head(FILE *f, const char *title, const char *subtitle_html, int back_link);
void sd__rep_page_foot(FILE *f, const SdRep *r);
/* Badge class for an alignment status: ok green, fail/error red, anything else amber. */
const char *sd__rep_status_class(const char *status);
/* Badge for an improvement: class by direction and significance, text given. */
void sd__rep_change_badge(FILE *f, double impr, int beyond);

/* THE verdict of a cohort row: every label, colour and "significant" mark of the report (the
 * headline, the cohort tables, the forest plots) comes from this one function (verdict.c). */
enum { SD_V_IMPROVED, SD_V_WORSE, SD_V_NOT_CONFIRMED, SD_V_NO_CHANGE, SD_V_TOO_FEW, SD_V_NOT_TESTED };
typedef struct SdRepVerdict {
    int kind;
    int sig;                /* 1: improved or worse after the family's correction */
    double impr;            /* mean improvement (%), NAN when not defined */
    int dir;                /* +1 better, -1 worse, 0 unknown: the direction of the mean change */
    double p_adj;           /* the family's adjusted p (Holm or BH) */
    const char *label, *cls;
    char why[240];          /* one sentence: which test, which family, what it would take */
} SdRepVerdict;
void sd__rep_verdict(const SdRep *r, const SdRepCohort *c, SdRepVerdict *v);
void sd__rep_verdict_badge(FILE *f, const SdRepVerdict *v);
/* Mean improvement of a cohort row: mean_improvement_pct, else the mean from changes.csv. */
double sd__rep_coh_impr(const SdRepCohort *c);
/* Badge of one patient's change: percent when defined, else the absolute change in the metric's
 * unit (a baseline near zero has no meaningful percent). */
void sd__rep_change_badge2(FILE *f, const SdRep *r, const SdRepChange *c, int metric);
/* Captions of the change map's panels (one per primary metric), for a map shown at width. */
void sd__rep_change_map_labels(FILE *f, const SdRep *r, const char *width);
/* Region colour of the regions overlay, as "#rrggbb" (NULL for an unknown region). */
const char *sd__rep_region_colour(const SdRep *r, int region, char buf[8]);

/* SVG figures (report_svg.c), written inline into an HTML page. primary: 1 primary metrics only,
 * 0 the others. */
int  sd__rep_svg_forest(FILE *f, const SdRep *r, int view, int sidx, int primary);
void sd__rep_svg_trend(FILE *f, const SdRep *r, int patient, int view, int metric, int only_region);
/* QC tier of a session: "ok", "warn" (measured, read with care) or "fail" (not measured), and
 * the one phrase why (reason of alignment.csv, or the error), "" when ok. */
const char *sd__rep_qc_tier(const SdRep *r, const SdRepSession *s, const char **why);
/* The one-page printable summary of a patient, OUT/report/<patient>_summary.html. */
int  sd__rep_write_summary(SdCtx *ctx, const SdRep *r, int patient);
/* The per-view "latest follow-up versus baseline" box (shared with the summary page). */
void sd__rep_patient_summary(FILE *f, const SdRep *r, const int *idx, int ns);

/* Patient pages (report_patient.c). */
int  sd__rep_write_patient(SdCtx *ctx, const SdRep *r, int patient);

#endif

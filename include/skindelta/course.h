/* Course and cohort tables: the in-memory rows of measurements.csv, uncertainty.csv, changes.csv,
 * trends.csv, cohort.csv and repeatability.csv, their atomic writers and checked readers, and the
 * statistics that derive one table from another (src/course/). File and column names are the
 * contracts of DESIGN.md §7; the header macros below are the exact first lines. */
#ifndef SRC_COURSE_H
#define SRC_COURSE_H

#include <stddef.h>
#include "skindelta.h"

#define SD_MEAS_HEADER    "patient,view,session,session_index,days,region,metric,value,unit,better,qc"
#define SD_UNCERT_HEADER  "patient,view,session,region,metric,sd,n_boot,paired_baseline"
/* (the header before paired_baseline, still read) */
#define SD_UNCERT_HEADER_V1 "patient,view,session,region,metric,sd,n_boot"
/* changes.csv and cohort.csv end with the metric's unit (that of baseline, value, delta, mdc95;
 * of mean_delta, sd_delta and the CI), from the metric table: the codebook's, ASCII. */
#define SD_CHANGE_HEADER  "patient,view,session,session_index,days,region,metric,baseline,value," \
                          "delta,pct_change,improvement_pct,mdc95,beyond_noise,unit"
#define SD_TREND_HEADER   "patient,view,region,metric,n_sessions,slope,slope_unit,ci95_low,ci95_high"
#define SD_COHORT_HEADER  "view,session_index,region,metric,n,mean_delta,sd_delta,ci95_low," \
                          "ci95_high,t_p,wilcoxon_p,holm_p,cohens_dz,responders_pct," \
                          "mean_pct_change,mean_improvement_pct,family,bh_q,min_wilcoxon_p,unit"
#define SD_REPEAT_HEADER  "region,metric,n_subjects,n_repeats,icc31,cv_w_pct,sem,mdc95"

/* Direction of improvement: SD_BETTER_HIGHER / SD_BETTER_LOWER (skindelta.h), written as the
 * words "higher" / "lower" (DESIGN.md §5). */

/* All string fields of every row are owned by the array holding the row (deep copies made by
 * the push functions), so a caller fills a row with borrowed pointers and pushes it.
 * Numbers that are unknown are NAN and are written as empty cells. The push functions round
 * every double to what the CSV writer prints (%.9g), so a table computed from rows in memory is
 * identical to one computed from the same rows re-read from CSV (shards + merge == one run). */

/* One image x region x metric value (measurements.csv + uncertainty.csv). */
typedef struct SdMeasRow {
    char *patient, *view, *session;
    int session_index;      /* 0 = baseline */
    double days;            /* days since the baseline session, NAN when unknown */
    char *region, *metric;
    double value;
    char *unit;
    int better;             /* SD_BETTER_HIGHER (+1) or SD_BETTER_LOWER (-1) */
    char *qc;               /* "ok" or "warn" */
    double sd;              /* per-image SD from the perturbation bootstrap, NAN when none */
    int n_boot;             /* bootstrap replicates behind sd (0 when none) */
    int has_paired;         /* follow-ups: paired_base is set */
    double paired_base;     /* the baseline's value on the skin both photos show (the pair's
                               regions); changes.csv's baseline when set */
} SdMeasRow;

/* One follow-up x region x metric change against the same patient/view/region/metric baseline. */
typedef struct SdChangeRow {
    char *patient, *view, *session;
    int session_index;
    double days;
    char *region, *metric;
    double baseline, value;
    double delta;           /* value - baseline */
    double pct_change;      /* 100 * delta / |baseline|; NAN unless |baseline| is clearly above
                               the metric's floor (sd_pct_floor) */
    double improvement_pct; /* better * pct_change: positive = improvement */
    double mdc95;           /* minimal detectable change (95 %), NAN when unknown */
    int beyond_noise;       /* 1 when |delta| > mdc95, 0 when not, -1 when mdc95 unknown */
    int better;             /* not a column: carried from the measurement (0 when read back
                               from changes.csv and not derivable) */
} SdChangeRow;

/* One patient x view x region x metric course: OLS slope of value over time. */
typedef struct SdTrendRow {
    char *patient, *view, *region, *metric;
    int n_sessions;
    double slope;           /* per 30 days, or per session when any date of the course is missing */
    const char *slope_unit; /* static string: "per_30_days" or "per_session" */
    double ci95_low, ci95_high;   /* t-based, NAN when n_sessions < 3 */
} SdTrendRow;

/* One view x follow-up session_index x region x metric cohort summary. */
typedef struct SdCohortRow {
    char *view;
    int session_index;
    char *region, *metric;
    int n;                  /* patients with both baseline and this follow-up */
    double mean_delta, sd_delta, ci95_low, ci95_high;   /* CI of the mean delta (t-based) */
    double t_p;             /* paired t test, two-sided */
    double wilcoxon_p;      /* Wilcoxon signed-rank, two-sided (see stats.h for zeros/ties) */
    double holm_p;          /* confirmatory rows: Holm-adjusted t_p across the confirmatory
                               rows of the same view x session_index; NAN for exploratory rows */
    double cohens_dz;       /* mean_delta / sd_delta */
    double responders_pct;  /* % of n improving by more than MDC95 (NAN when no mdc95 known) */
    double mean_pct_change, mean_improvement_pct;
    const char *family;     /* static string: "confirmatory" or "exploratory" (sd_cohort_family) */
    double bh_q;            /* exploratory rows: Benjamini-Hochberg q of t_p across the exploratory
                               rows of the same view x session_index; NAN for confirmatory rows */
    double min_wilcoxon_p;  /* smallest p the Wilcoxon test can reach with this n (2 / 2^n) */
} SdCohortRow;

/* One region x metric repeatability summary from repeat captures. */
typedef struct SdRepeatRow {
    char *region, *metric;
    int n_subjects, n_repeats;
    double icc31, cv_w_pct, sem, mdc95;
} SdRepeatRow;

/* Growable arrays (zero-initialise, push, free). */
typedef struct SdMeasArray   { SdMeasRow   *v; size_t n, cap; } SdMeasArray;
typedef struct SdChangeArray { SdChangeRow *v; size_t n, cap; } SdChangeArray;
typedef struct SdTrendArray  { SdTrendRow  *v; size_t n, cap; } SdTrendArray;
typedef struct SdCohortArray { SdCohortRow *v; size_t n, cap; } SdCohortArray;
typedef struct SdRepeatArray { SdRepeatRow *v; size_t n, cap; } SdRepeatArray;

/* Deep-copy r (NULL strings become "") onto the end; 0 or SD_ENOMEM. */
SD_API int  sd_meas_push(SdMeasArray *a, const SdMeasRow *r);
SD_API int  sd_change_push(SdChangeArray *a, const SdChangeRow *r);
SD_API int  sd_trend_push(SdTrendArray *a, const SdTrendRow *r);
SD_API int  sd_cohort_push(SdCohortArray *a, const SdCohortRow *r);
SD_API int  sd_repeat_push(SdRepeatArray *a, const SdRepeatRow *r);
/* Append all rows of src (deep copies). */
SD_API int  sd_meas_append(SdMeasArray *dst, const SdMeasArray *src);
SD_API void sd_meas_free(SdMeasArray *a);
SD_API void sd_change_free(SdChangeArray *a);
SD_API void sd_trend_free(SdTrendArray *a);
SD_API void sd_cohort_free(SdCohortArray *a);
SD_API void sd_repeat_free(SdRepeatArray *a);

/* Canonical row order of measurements.csv: patient (natural order), view, session_index, then
 * the order the rows were pushed in (stable). The runner and merge both sort with it so a
 * sharded run merges into the same file as a single run. */
SD_API void sd_meas_sort(SdMeasArray *a);

/* "higher"/"lower" <-> +1/-1; sd_better_parse returns 0 for anything else. */
SD_API const char *sd_better_name(int better);
SD_API int  sd_better_parse(const char *s);

/* ---- writers: atomic (temp + rename); 0 or SD_EIO with the path in ctx. */
SD_API int  sd_meas_write(SdCtx *ctx, const char *path, const SdMeasArray *a);
/* uncertainty.csv: only rows with a finite sd or a paired baseline. */
SD_API int  sd_uncert_write(SdCtx *ctx, const char *path, const SdMeasArray *a);
SD_API int  sd_change_write(SdCtx *ctx, const char *path, const SdChangeArray *a);
SD_API int  sd_trend_write(SdCtx *ctx, const char *path, const SdTrendArray *a);
SD_API int  sd_cohort_write(SdCtx *ctx, const char *path, const SdCohortArray *a);
SD_API int  sd_repeat_write(SdCtx *ctx, const char *path, const SdRepeatArray *a);

/* ---- readers: the header must be exactly the contract's (SD_EFORMAT otherwise); every cell is
 * checked (numbers, better words, integers) and errors quote file:line. Rows are appended to a.
 * sd_meas_read also joins uncertainty.csv when uncert_path is non-NULL and the file exists (a
 * row without a measurement is an error); sd/n_boot stay NAN/0 for measurements without one. */
SD_API int  sd_meas_read(SdCtx *ctx, const char *meas_path, const char *uncert_path, SdMeasArray *a);
SD_API int  sd_change_read(SdCtx *ctx, const char *path, SdChangeArray *a);
SD_API int  sd_trend_read(SdCtx *ctx, const char *path, SdTrendArray *a);
SD_API int  sd_cohort_read(SdCtx *ctx, const char *path, SdCohortArray *a);
SD_API int  sd_repeat_read(SdCtx *ctx, const char *path, SdRepeatArray *a);

/* ---- statistics over the tables (src/course/) */

/* The prespecified families of the cohort tests: "confirmatory" for the primary metrics
 * (sd_metric_info()->primary) on the whole measured skin (region `face`, or `whole` with
 * --roi whole), Holm within each view x follow-up session; "exploratory" for every other region
 * and metric, Benjamini-Hochberg. */
SD_API const char *sd_cohort_family(const char *region, const char *metric);

/* Below this |baseline| a relative change is not reported (pct_change empty, the absolute delta
 * stands): the metric's detection floor (docs/STATISTICS.md lists them), raised to twice the
 * baseline's own MDC95 (1.96 sqrt2 sd_base, or the repeatability study's mdc95) when that is
 * larger: a baseline within the noise of zero has no meaningful percent. */
SD_API double sd_pct_floor(const char *metric, double base_mdc95);

/* Repeatability row for region x metric, NULL when absent (rep may be NULL). */
SD_API const SdRepeatRow *sd_repeat_find(const SdRepeatArray *rep, const char *region, const char *metric);

/* Changes of every follow-up (session_index > 0) against the measurement of the same patient,
 * view, region and metric at session_index 0. mdc95 comes from rep (region x metric) when rep is
 * non-NULL and has the row; otherwise from the per-image bootstrap SDs of the two images,
 * mdc95 = 1.96 * sqrt(sd_base^2 + sd_followup^2) (the 95 % limit of the difference of two
 * independent measurements); NAN when neither is available. Rows come out in the order of m
 * (sort m first). Follow-ups without a baseline produce no row. */
SD_API int  sd_course_changes(SdCtx *ctx, const SdMeasArray *m, const SdRepeatArray *rep,
                       SdChangeArray *out);
/* OLS slope of value over days (x 30: per 30 days) for every patient x view x region x metric
 * with >= 2 sessions; over session_index (per session) when any session of that course has no
 * days. 95 % CI from the t distribution with n-2 df (NAN for n = 2). */
SD_API int  sd_course_trends(SdCtx *ctx, const SdMeasArray *m, SdTrendArray *out);
/* Cohort rows from changes: grouped by view x session_index x region x metric (rows sorted by
 * view, session_index, then first appearance of region x metric). Holm adjustment of t_p across
 * all rows of the same view x session_index. */
SD_API int  sd_course_cohort(SdCtx *ctx, const SdChangeArray *c, SdCohortArray *out);
/* Repeatability from repeat captures with no treatment: the subjects are patient x view pairs,
 * their sessions the repeats. ICC(3,1) needs a balanced design: k repeats is chosen to maximise
 * subjects x k (ties: more subjects), and each subject contributes its first k sessions; subjects
 * with fewer are left out. Needs >= 2 subjects and k >= 2, else the region x metric is skipped.
 * SEM = sqrt(residual mean square of the two-way ANOVA), MDC95 = 1.96 * sqrt(2) * SEM,
 * CV_w = 100 * sqrt(mean over subjects of (SD_i / mean_i)^2) (root-mean-square CV). */
SD_API int  sd_course_repeatability(SdCtx *ctx, const SdMeasArray *m, SdRepeatArray *out);

#endif

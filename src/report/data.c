/* Report model: loads a run's CSV outputs (by column name, so extra columns are harmless) into
 * interned, indexed arrays, and computes the across-patient improvement CIs for the forest plot. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "src/core/csv.h"
#include "skindelta/course.h"
#include "src/report/report_int.h"
#include "src/course/stats.h"
#include "src/core/core.h"

/* ---- metric and region vocabulary (DESIGN.md §4-§5), in display order */
typedef struct MetricDef {
    const char *id, *label, *desc;
    int better, primary;
} MetricDef;

static const MetricDef metric_defs[] = {
    {"texture_roughness", "Skin roughness",
     "How uneven the fine surface texture is (detail 0.1-0.7 mm): the spread of the skin's "
     "brightness once lighting is flattened, away from wrinkles and spots. Lower = smoother skin.", -1, 1},
    {"wrinkle_density", "Wrinkle area",
     "Share of the region covered by fine lines (dark lines 0.2-1.5 mm wide, each pixel counted "
     "by how clearly it shows; folds, shading edges and hair left out). Lower = fewer or fainter "
     "wrinkles.", -1, 1},
    {"pigment_unevenness", "Pigment unevenness",
     "How blotchy the brown (melanin) pigment is at the 0.5-3 mm scale, read through the "
     "brightness where the pigment shows. Lower = more even skin tone.", -1, 1},
    {"texture_glcm_contrast", "Texture contrast",
     "Local contrast of the texture pattern. Lower = finer, more regular texture.", -1, 0},
    {"texture_glcm_homogeneity", "Texture homogeneity",
     "How uniform the texture pattern is. Higher = more uniform.", 1, 0},
    {"texture_glcm_entropy", "Texture disorder",
     "Randomness of the texture pattern. Lower = more regular.", -1, 0},
    {"wrinkle_length_density", "Wrinkle length",
     "Total wrinkle length per skin area. Lower = less wrinkling.", -1, 0},
    {"wrinkle_severity", "Wrinkle depth (proxy)",
     "How strongly the detected wrinkles stand out, a proxy for depth. Lower = shallower.", -1, 0},
    {"pigment_spot_area", "Spot area",
     "Share of the region covered by brown spots of at least 0.5 mm. Lower = fewer spots.", -1, 0},
    {"pigment_spot_density", "Spot count",
     "Number of brown spots per square centimetre. Lower = fewer spots.", -1, 0},
    {"pigment_ita_sd", "Skin tone variation",
     "Spread of the skin-tone angle (ITA, degrees) across the region. Lower = more even.", -1, 0},
    {"redness_unevenness", "Redness unevenness",
     "How blotchy the redness (haemoglobin) is. Lower = more even.", -1, 0},
};
#define NMETRIC_DEFS (int)(sizeof(metric_defs) / sizeof(metric_defs[0]))

static const char *const region_ids[] = {
    "face", "whole", "forehead", "glabella", "crowsfeet_l", "crowsfeet_r", "undereye_l",
    "undereye_r", "cheek_l", "cheek_r", "nasolabial_l", "nasolabial_r", "perioral", "chin",
};
static const char *const region_labels[] = {
    "Whole face", "Whole image", "Forehead", "Between the brows", "Left crow's feet",
    "Right crow's feet", "Left under-eye", "Right under-eye", "Left cheek", "Right cheek",
    "Left nasolabial fold", "Right nasolabial fold", "Around the mouth", "Chin",
};
#define NREGION_IDS (int)(sizeof(region_ids) / sizeof(region_ids[0]))

const char *const sd__rep_img_suffix[SD_REP_NIMG] = {"", "_regions", "_wrinkles", "_spots", "_change"};
const char *const sd__rep_img_label[SD_REP_NIMG] = {"Photo", "Regions", "Wrinkle map", "Spot map",
                                                    "Change map"};

/* ---- interned strings */
static unsigned hash_str(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

int sd__rep_find(const SdRepStrs *t, const char *s)
{
    if (!t->nslot) return -1;
    for (unsigned i = hash_str(s) & (unsigned)(t->nslot - 1);; i = (i + 1) & (unsigned)(t->nslot - 1)) {
        int k = t->slot[i];
        if (!k) return -1;
        if (!strcmp(t->s[k - 1], s)) return k - 1;
    }
}

static int rehash(SdRepStrs *t, int nslot)
{
    int *slot = calloc((size_t)nslot, sizeof(int));
    if (!slot) return SD_ENOMEM;
    for (int k = 0; k < t->n; k++) {
        unsigned i = hash_str(t->s[k]) & (unsigned)(nslot - 1);
        while (slot[i]) i = (i + 1) & (unsigned)(nslot - 1);
        slot[i] = k + 1;
    }
    free(t->slot);
    t->slot = slot;
    t->nslot = nslot;
    return 0;
}

int sd__rep_intern(SdRepStrs *t, const char *s)
{
    int k = sd__rep_find(t, s);
    if (k >= 0) return k;
    if (t->n >= (1 << 28)) return SD_ENOMEM;
    if (2 * (t->n + 1) > t->nslot && rehash(t, t->nslot ? 2 * t->nslot : 64)) return SD_ENOMEM;
    if (t->n == t->cap) {
        int cap = t->cap ? 2 * t->cap : 32;
        char **p = realloc(t->s, (size_t)cap * sizeof(char *));
        if (!p) return SD_ENOMEM;
        t->s = p;
        t->cap = cap;
    }
    char *d = sd_strdup(s);
    if (!d) return SD_ENOMEM;
    t->s[t->n] = d;
    unsigned i = hash_str(s) & (unsigned)(t->nslot - 1);
    while (t->slot[i]) i = (i + 1) & (unsigned)(t->nslot - 1);
    t->slot[i] = ++t->n;
    return t->n - 1;
}

void sd__rep_strs_free(SdRepStrs *t)
{
    for (int i = 0; i < t->n; i++) free(t->s[i]);
    free(t->s);
    free(t->slot);
    memset(t, 0, sizeof(*t));
}

/* Room for one more element in a growing array. */
static int grow(void *pp, int *cap, int n, size_t el)
{
    if (n < *cap) return 0;
    if (*cap > (1 << 27)) return SD_ENOMEM;
    int c = *cap ? 2 * *cap : 64;
    size_t bytes;
    if (sd_mul_overflow((size_t)c, el, &bytes)) return SD_ENOMEM;
    void *p = realloc(*(void **)pp, bytes);
    if (!p) return SD_ENOMEM;
    *(void **)pp = p;
    *cap = c;
    return 0;
}

/* ---- small utilities */
char *sd__rep_safe_name(const char *s)
{
    size_t n = strlen(s), keep = n > 60 ? 60 : n;
    char *o = malloc(keep + 12);
    if (!o) return NULL;
    int changed = keep != n || n == 0;
    for (size_t i = 0; i < keep; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_' || (c == '.' && i > 0);
        o[i] = ok ? c : '_';
        changed |= !ok;
    }
    o[keep] = 0;
    if (!strcasecmp(o, "index") || !strcasecmp(o, "img")) changed = 1;
    if (changed) {
        char hex[65];
        sd_sha256(s, n, hex);
        o[keep] = '-';
        memcpy(o + keep + 1, hex, 8);
        o[keep + 9] = 0;
    }
    return o;
}

/* A number field; empty is "no value" (NAN). Anything else that is not a number is kept as the
 * first bad field of the table being read: sd__rep_load then refuses the file. */
static double num(SdRep *r, const char *s)
{
    if (!s || !*s) return NAN;
    char *e;
    double v = strtod(s, &e);
    while (*e == ' ') e++;
    if (*e && !r->bad_num[0]) snprintf(r->bad_num, sizeof(r->bad_num), "%s", s);
    return *e ? NAN : v;
}

static int flag(const char *s)
{
    if (!strcmp(s, "1") || !strcasecmp(s, "true") || !strcasecmp(s, "yes")) return 1;
    if (!strcmp(s, "0") || !strcasecmp(s, "false") || !strcasecmp(s, "no")) return 0;
    return -1;
}

const char *sd__rep_region_label(const SdRep *r, int region)
{
    const char *id = r->regions.s[region];
    for (int i = 0; i < NREGION_IDS; i++)
        if (!strcmp(id, region_ids[i])) return region_labels[i];
    return id;
}

/* ---- loading */
static int need(SdCtx *ctx, const SdCsv *c, const char *file, const char *const *names, int *idx,
                int n)
{
    for (int i = 0; i < n; i++)
        if ((idx[i] = sd_csv_col(c, names[i])) < 0)
            return sd_fail(ctx, SD_EFORMAT, "%s: no column '%s'", file, names[i]);
    return 0;
}

/* Load OUT/name when present: 1 loaded, 0 absent, < 0 error. */
static int load_csv(SdCtx *ctx, const char *dir, const char *name, SdCsv *c)
{
    char *p = sd_path_join(dir, name);
    if (!p) return SD_ENOMEM;
    int e = sd_file_exists(p) ? sd_csv_load(ctx, p, c) : 0;
    free(p);
    return e < 0 ? e : e == 0 && c->header ? 1 : 0;
}

static int session_of(SdRep *r, const char *pat, const char *view, const char *ses, int *out)
{
    size_t lp = strlen(pat), lv = strlen(view), ls = strlen(ses);
    char *key = malloc(lp + lv + ls + 3);
    if (!key) return SD_ENOMEM;
    memcpy(key, pat, lp); key[lp] = '\x1f';
    memcpy(key + lp + 1, view, lv); key[lp + lv + 1] = '\x1f';
    memcpy(key + lp + lv + 2, ses, ls + 1);
    int had = r->skeys.n, k = sd__rep_intern(&r->skeys, key);
    free(key);
    if (k < 0) return k;
    if (k == had) {
        int e, p = sd__rep_intern(&r->patients, pat), v = sd__rep_intern(&r->views, view);
        if (p < 0 || v < 0) return SD_ENOMEM;
        if ((e = grow(&r->ses, &r->cses, r->nses, sizeof(SdRepSession)))) return e;
        SdRepSession *s = &r->ses[r->nses++];
        memset(s, 0, sizeof(*s));
        s->patient = p; s->view = v; s->index = -1; s->days = NAN;
        s->face_score = s->rms = s->ecc = s->overlap = NAN;
        for (int i = 0; i < 6; i++) s->a[i] = NAN;
        if (!(s->name = sd_strdup(ses))) return SD_ENOMEM;
    }
    *out = k;
    return 0;
}

static int metric_of(SdRep *r, const char *id)
{
    return sd__rep_intern(&r->metrics, id);
}

/* The session of row i (patient, view, session in columns col[0..2]), taking its session index and
 * days from columns csi and cd (either may be -1) when they are plausible. */
static int row_session(SdRep *r, const SdCsv *c, int i, const int *col, int csi, int cd, int *s)
{
    int e = session_of(r, sd_csv_get(c, i, col[0]), sd_csv_get(c, i, col[1]), sd_csv_get(c, i, col[2]), s);
    if (e)
        return e;
    const double si = num(r, sd_csv_get(c, i, csi)), d = num(r, sd_csv_get(c, i, cd));
    if (si >= 0 && si < 1e6) r->ses[*s].index = (int)si;
    if (isfinite(d) && fabs(d) < 1e7) r->ses[*s].days = d;   /* days: plausible only */
    return 0;
}

static int load_measurements(SdCtx *ctx, SdRep *r, const SdCsv *c)
{
    static const char *const names[] = {"patient", "view", "session", "region", "metric", "value"};
    int col[6], e;
    if ((e = need(ctx, c, "measurements.csv", names, col, 6))) return e;
    int csi = sd_csv_col(c, "session_index"), cd = sd_csv_col(c, "days"),
        cq = sd_csv_col(c, "qc");
    for (int i = 0; i < c->nrows; i++) {
        int s;
        if ((e = row_session(r, c, i, col, csi, cd, &s)))
            return e;
        int reg = sd__rep_intern(&r->regions, sd_csv_get(c, i, col[3]));
        int m = metric_of(r, sd_csv_get(c, i, col[4]));
        if (reg < 0 || m < 0) return SD_ENOMEM;
        if ((e = grow(&r->meas, &r->cmeas, r->nmeas, sizeof(SdRepMeas)))) return e;
        const char *q = sd_csv_get(c, i, cq);
        r->meas[r->nmeas++] = (SdRepMeas){s, reg, m, num(r, sd_csv_get(c, i, col[5])),
                                          *q && strcasecmp(q, "ok") != 0};
    }
    return 0;
}

static int load_changes(SdCtx *ctx, SdRep *r, const SdCsv *c)
{
    static const char *const names[] = {"patient", "view", "session", "region", "metric"};
    int col[5], e;
    if ((e = need(ctx, c, "changes.csv", names, col, 5))) return e;
    int csi = sd_csv_col(c, "session_index"), cd = sd_csv_col(c, "days"),
        cb = sd_csv_col(c, "baseline"), cv = sd_csv_col(c, "value"),
        cdl = sd_csv_col(c, "delta"), cp = sd_csv_col(c, "pct_change"),
        ci = sd_csv_col(c, "improvement_pct"), cm = sd_csv_col(c, "mdc95"),
        cn = sd_csv_col(c, "beyond_noise");
    for (int i = 0; i < c->nrows; i++) {
        int s;
        if ((e = row_session(r, c, i, col, csi, cd, &s)))
            return e;
        r->ses[s].nchg++;
        int reg = sd__rep_intern(&r->regions, sd_csv_get(c, i, col[3]));
        int m = metric_of(r, sd_csv_get(c, i, col[4]));
        if (reg < 0 || m < 0) return SD_ENOMEM;
        if ((e = grow(&r->chg, &r->cchg, r->nchg, sizeof(SdRepChange)))) return e;
        r->chg[r->nchg++] = (SdRepChange){
            s, reg, m, num(r, sd_csv_get(c, i, cb)), num(r, sd_csv_get(c, i, cv)),
            num(r, sd_csv_get(c, i, cdl)), num(r, sd_csv_get(c, i, cp)), num(r, sd_csv_get(c, i, ci)),
            num(r, sd_csv_get(c, i, cm)), flag(sd_csv_get(c, i, cn))};
    }
    return 0;
}

static int load_alignment(SdCtx *ctx, SdRep *r, const SdCsv *c)
{
    static const char *const names[] = {"patient", "view", "session"};
    static const char *const an[6] = {"a11", "a12", "tx", "a21", "a22", "ty"};
    int col[3], e;
    if ((e = need(ctx, c, "alignment.csv", names, col, 3))) return e;
    int cf = sd_csv_col(c, "face_score"), cr = sd_csv_col(c, "landmark_rms_px"),
        ce = sd_csv_col(c, "ecc"), cs = sd_csv_col(c, "status"), ca[6],
        co = sd_csv_col(c, "overlap"), cr2 = sd_csv_col(c, "reason");
    for (int k = 0; k < 6; k++) ca[k] = sd_csv_col(c, an[k]);
    for (int i = 0; i < c->nrows; i++) {
        int s;
        if ((e = session_of(r, sd_csv_get(c, i, col[0]), sd_csv_get(c, i, col[1]),
                            sd_csv_get(c, i, col[2]), &s)))
            return e;
        SdRepSession *x = &r->ses[s];
        x->has_align = 1;
        x->face_score = num(r, sd_csv_get(c, i, cf));
        x->rms = num(r, sd_csv_get(c, i, cr));
        x->ecc = num(r, sd_csv_get(c, i, ce));
        for (int k = 0; k < 6; k++) x->a[k] = num(r, sd_csv_get(c, i, ca[k]));
        x->overlap = num(r, sd_csv_get(c, i, co));
        free(x->status);
        free(x->reason);
        if (!(x->status = sd_strdup(sd_csv_get(c, i, cs))) ||
            !(x->reason = sd_strdup(sd_csv_get(c, i, cr2))))
            return SD_ENOMEM;
    }
    return 0;
}

static int load_cohort(SdCtx *ctx, SdRep *r, const SdCsv *c)
{
    static const char *const names[] = {"view", "session_index", "region", "metric"};
    static const char *const vn[12] = {"n", "mean_delta", "sd_delta", "ci95_low", "ci95_high",
        "t_p", "wilcoxon_p", "holm_p", "cohens_dz", "responders_pct", "mean_pct_change",
        "mean_improvement_pct"};
    int col[4], cv[12], e;
    if ((e = need(ctx, c, "cohort.csv", names, col, 4))) return e;
    for (int k = 0; k < 12; k++) cv[k] = sd_csv_col(c, vn[k]);
    const int cfam = sd_csv_col(c, "family"), cbh = sd_csv_col(c, "bh_q"),
              cmin = sd_csv_col(c, "min_wilcoxon_p");
    for (int i = 0; i < c->nrows; i++) {
        double si = num(r, sd_csv_get(c, i, col[1]));
        if (!(si >= 0 && si < 1e6)) continue;
        int v = sd__rep_intern(&r->views, sd_csv_get(c, i, col[0]));
        int reg = sd__rep_intern(&r->regions, sd_csv_get(c, i, col[2]));
        int m = metric_of(r, sd_csv_get(c, i, col[3]));
        if (v < 0 || reg < 0 || m < 0) return SD_ENOMEM;
        if ((e = grow(&r->coh, &r->ccoh, r->ncoh, sizeof(SdRepCohort)))) return e;
        SdRepCohort *o = &r->coh[r->ncoh++];
        double x[12];
        for (int k = 0; k < 12; k++) x[k] = num(r, sd_csv_get(c, i, cv[k]));
        *o = (SdRepCohort){v, (int)si, reg, m, x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7],
                           x[8], x[9], x[10], x[11], 0, NAN, NAN, NAN, 0, NAN, NAN};
        const char *fam = cfam >= 0 ? sd_csv_get(c, i, cfam) : "";
        o->confirmatory = *fam ? !strcmp(fam, "confirmatory")
                               : !strcmp(sd_cohort_family(sd_csv_get(c, i, col[2]),
                                                          sd_csv_get(c, i, col[3])), "confirmatory");
        o->bh_q = num(r, sd_csv_get(c, i, cbh));
        o->min_p = num(r, sd_csv_get(c, i, cmin));
    }
    return 0;
}

static int load_trends(SdCtx *ctx, SdRep *r, const SdCsv *c)
{
    static const char *const names[] = {"patient", "view", "region", "metric", "slope"};
    int col[5], e;
    if ((e = need(ctx, c, "trends.csv", names, col, 5))) return e;
    int cn = sd_csv_col(c, "n_sessions"), cu = sd_csv_col(c, "slope_unit"),
        cl = sd_csv_col(c, "ci95_low"), ch = sd_csv_col(c, "ci95_high");
    for (int i = 0; i < c->nrows; i++) {
        int p = sd__rep_intern(&r->patients, sd_csv_get(c, i, col[0]));
        int v = sd__rep_intern(&r->views, sd_csv_get(c, i, col[1]));
        int reg = sd__rep_intern(&r->regions, sd_csv_get(c, i, col[2]));
        int m = metric_of(r, sd_csv_get(c, i, col[3]));
        if (p < 0 || v < 0 || reg < 0 || m < 0) return SD_ENOMEM;
        if ((e = grow(&r->trd, &r->ctrd, r->ntrd, sizeof(SdRepTrend)))) return e;
        double n = num(r, sd_csv_get(c, i, cn));
        SdRepTrend *t = &r->trd[r->ntrd++];
        *t = (SdRepTrend){p, v, reg, m, n >= 0 && n < 1e9 ? (int)n : 0, num(r, sd_csv_get(c, i, col[4])),
                          num(r, sd_csv_get(c, i, cl)), num(r, sd_csv_get(c, i, ch)), NULL};
        if (!(t->unit = sd_strdup(sd_csv_get(c, i, cu)))) return SD_ENOMEM;
    }
    return 0;
}

static int load_errors(SdCtx *ctx, SdRep *r, const SdCsv *c)
{
    static const char *const names[] = {"path", "stage", "code", "message"};
    int col[4], e;
    if ((e = need(ctx, c, "errors.csv", names, col, 4))) return e;
    for (int i = 0; i < c->nrows; i++) {
        if ((e = grow(&r->err, &r->cerr, r->nerr, sizeof(SdRepError)))) return e;
        SdRepError *x = &r->err[r->nerr++];
        memset(x, 0, sizeof(*x));
        x->patient = -1;
        if (!(x->path = sd_strdup(sd_csv_get(c, i, col[0]))) ||
            !(x->stage = sd_strdup(sd_csv_get(c, i, col[1]))) ||
            !(x->code = sd_strdup(sd_csv_get(c, i, col[2]))) ||
            !(x->message = sd_strdup(sd_csv_get(c, i, col[3]))))
            return SD_ENOMEM;
    }
    return 0;
}

/* Units and directions from measurements.csv, once the metric table exists. */
static int metric_units(SdCtx *ctx, SdRep *r, const SdCsv *c)
{
    int cm = sd_csv_col(c, "metric"), cu = sd_csv_col(c, "unit"), cb = sd_csv_col(c, "better");
    for (int i = 0; i < c->nrows; i++) {
        int m = sd__rep_find(&r->metrics, sd_csv_get(c, i, cm));
        if (m < 0) continue;
        SdRepMetric *mi = &r->minfo[m];
        const char *u = sd_csv_get(c, i, cu), *b = sd_csv_get(c, i, cb);
        if (!mi->unit && *u && strcmp(u, "-") && !(mi->unit = sd_strdup(u))) return SD_ENOMEM;
        if (!strcasecmp(b, "lower")) mi->better = -1;
        else if (!strcasecmp(b, "higher")) mi->better = 1;
    }
    (void)ctx;
    return 0;
}

/* ---- ordering */
static int region_rank_of(const char *id)
{
    for (int i = 0; i < NREGION_IDS; i++)
        if (!strcmp(id, region_ids[i])) return i;
    return NREGION_IDS;
}

typedef struct SortCtx { const SdRep *r; int kind; } SortCtx;

static int cmp_ids(const void *a, const void *b, void *arg)
{
    const SortCtx *s = arg;
    int x = *(const int *)a, y = *(const int *)b;
    if (s->kind == 0) {
        int c = sd_natcmp(s->r->patients.s[x], s->r->patients.s[y]);
        return c ? c : strcmp(s->r->patients.s[x], s->r->patients.s[y]);
    }
    int rx, ry;
    if (s->kind == 1) { rx = s->r->region_rank[x]; ry = s->r->region_rank[y]; }
    else { rx = s->r->minfo[x].rank; ry = s->r->minfo[y].rank; }
    return rx != ry ? (rx < ry ? -1 : 1) : (x < y ? -1 : x > y);
}

static int *sorted_ids(const SdRep *r, int n, int kind)
{
    int *o = sd_calloc_checked((size_t)(n ? n : 1), sizeof(int));
    if (!o) return NULL;
    for (int i = 0; i < n; i++) o[i] = i;
    SortCtx s = {r, kind};
    qsort_r(o, (size_t)n, sizeof(int), cmp_ids, &s);
    return o;
}

/* improvement_pct mean and t-based 95% CI across patients per view x session_index x region x
 * metric, attached to the matching cohort row (created when cohort.csv lacks it). */
static int improvement_cis(SdRep *r)
{
    for (int i = 0; i < r->nchg; i++) {
        const SdRepChange *c = &r->chg[i];
        const SdRepSession *s = &r->ses[c->session];
        if (isnan(c->impr) || s->index < 1) continue;
        SdRepCohort *o = sd__rep_cohort_get(r, s->view, s->index, c->region, c->metric);
        if (!o) return SD_ENOMEM;
        if (!o->impr_n) { o->impr_mean = 0; o->impr_lo = 0; }
        /* Welford: impr_mean = running mean, impr_lo = running M2 until finalised below */
        o->impr_n++;
        double d = c->impr - o->impr_mean;
        o->impr_mean += d / o->impr_n;
        o->impr_lo += d * (c->impr - o->impr_mean);
    }
    for (int i = 0; i < r->ncoh; i++) {
        SdRepCohort *o = &r->coh[i];
        if (o->impr_n >= 2) {
            double sd = sqrt(o->impr_lo / (o->impr_n - 1));
            double h = sd_t_quantile(0.975, o->impr_n - 1) * sd / sqrt((double)o->impr_n);
            o->impr_lo = o->impr_mean - h;
            o->impr_hi = o->impr_mean + h;
        } else {
            o->impr_lo = o->impr_hi = NAN;
        }
    }
    return 0;
}

static void attribute_errors(SdRep *r)
{
    for (int i = 0; i < r->nerr; i++) {
        const char *path = r->err[i].path;
        for (int p = 0; p < r->patients.n && r->err[i].patient < 0; p++) {
            const char *id = r->patients.s[p];
            size_t n = strlen(id);
            if (!n) continue;
            for (const char *q = strstr(path, id); q; q = strstr(q + 1, id))
                if ((q == path || q[-1] == '/') && (q[n] == '/' || q[n] == 0)) {
                    r->err[i].patient = p;
                    break;
                }
        }
    }
}

int sd__rep_load(SdCtx *ctx, const char *out_dir, SdRep *r)
{
    static const char *const files[6] = {"measurements.csv", "changes.csv", "alignment.csv",
                                         "cohort.csv", "trends.csv", "errors.csv"};
    SdCsv csv[6];
    int *have[6] = {&r->have_meas, &r->have_chg, &r->have_align, &r->have_coh, &r->have_trd,
                    &r->have_err};
    int (*loader[6])(SdCtx *, SdRep *, const SdCsv *) = {load_measurements, load_changes,
        load_alignment, load_cohort, load_trends, load_errors};
    int e = 0, any = 0;
    memset(csv, 0, sizeof(csv));
    r->out_dir = out_dir;
    /* the tables and run.json of one run, never a mix */
    if ((e = sd__out_check(ctx, out_dir))) return e;
    for (int k = 0; k < 6 && !e; k++) {
        e = load_csv(ctx, out_dir, files[k], &csv[k]);
        if (e > 0) {
            *have[k] = 1;
            any = 1;
            e = loader[k](ctx, r, &csv[k]);
            if (!e && r->bad_num[0])
                e = sd_fail(ctx, SD_EFORMAT, "%s/%s: '%s' where a number belongs: not a table skindelta "
                            "wrote (edited?)", out_dir, files[k], r->bad_num);
        }
    }
    if (e) goto fail;
    char *rj = sd_path_join(out_dir, "run.json");
    if (!rj) { e = SD_ENOMEM; goto fail; }
    if (sd_file_exists(rj)) {
        e = sd__json_load(ctx, rj, 1 << 24, &r->run);
        if (!e) r->have_run = any = 1;
    }
    free(rj);
    if (e) goto fail;
    if (!any) {
        e = sd_fail(ctx, SD_EIO, "%s: not a skindelta output folder (no measurements.csv, "
                    "changes.csv, alignment.csv, cohort.csv, trends.csv, errors.csv or run.json)",
                    out_dir);
        goto fail;
    }
    r->minfo = sd_calloc_checked((size_t)r->metrics.n + 1, sizeof(SdRepMetric));
    r->region_rank = sd_calloc_checked((size_t)r->regions.n + 1, sizeof(int));
    r->patient_file = sd_calloc_checked((size_t)r->patients.n + 1, sizeof(char *));
    if (!r->minfo || !r->region_rank || !r->patient_file) { e = SD_ENOMEM; goto fail; }
    for (int m = 0; m < r->metrics.n; m++) {
        SdRepMetric *mi = &r->minfo[m];
        mi->label = r->metrics.s[m];
        mi->desc = "";
        mi->rank = NMETRIC_DEFS;
        for (int k = 0; k < NMETRIC_DEFS; k++)
            if (!strcmp(r->metrics.s[m], metric_defs[k].id)) {
                mi->label = metric_defs[k].label;
                mi->desc = metric_defs[k].desc;
                mi->better = metric_defs[k].better;
                mi->primary = metric_defs[k].primary;
                mi->rank = k;
            }
    }
    if (r->have_meas && (e = metric_units(ctx, r, &csv[0]))) goto fail;
    for (int g = 0; g < r->regions.n; g++) r->region_rank[g] = region_rank_of(r->regions.s[g]);
    for (int p = 0; p < r->patients.n; p++)
        if (!(r->patient_file[p] = sd__rep_safe_name(r->patients.s[p]))) { e = SD_ENOMEM; goto fail; }
    r->porder = sorted_ids(r, r->patients.n, 0);
    r->rorder = sorted_ids(r, r->regions.n, 1);
    r->morder = sorted_ids(r, r->metrics.n, 2);
    if (!r->porder || !r->rorder || !r->morder) { e = SD_ENOMEM; goto fail; }
    if ((e = sd__rep_build_index(r))) goto fail;
    if ((e = improvement_cis(r))) goto fail;
    attribute_errors(r);
fail:
    for (int k = 0; k < 6; k++) sd_csv_free(&csv[k]);
    if (e == SD_ENOMEM && !ctx->errmsg[0]) sd_fail(ctx, e, "%s: out of memory", out_dir);
    return e;
}

void sd__rep_free(SdRep *r)
{
    for (int i = 0; i < r->nses; i++) {
        free(r->ses[i].name);
        free(r->ses[i].status);
        free(r->ses[i].reason);
        for (int k = 0; k < SD_REP_NIMG; k++) { free(r->ses[i].img[k]); free(r->ses[i].src[k]); }
    }
    for (int i = 0; i < r->ntrd; i++) free(r->trd[i].unit);
    for (int i = 0; i < r->nerr; i++) {
        free(r->err[i].path); free(r->err[i].stage); free(r->err[i].code); free(r->err[i].message);
    }
    if (r->minfo)
        for (int m = 0; m < r->metrics.n; m++) free(r->minfo[m].unit);
    if (r->patient_file)
        for (int p = 0; p < r->patients.n; p++) free(r->patient_file[p]);
    free(r->patient_file); free(r->minfo); free(r->region_rank);
    free(r->porder); free(r->rorder); free(r->morder);
    free(r->ses); free(r->meas); free(r->chg); free(r->coh); free(r->trd); free(r->err);
    free(r->meas_at); free(r->chg_at); free(r->trd_at); free(r->coh_at);
    sd__json_free(&r->run); free(r->rep_dir);
    sd__rep_strs_free(&r->patients); sd__rep_strs_free(&r->views);
    sd__rep_strs_free(&r->regions); sd__rep_strs_free(&r->metrics);
    sd__rep_strs_free(&r->skeys);
    memset(r, 0, sizeof(*r));
}

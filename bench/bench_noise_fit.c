/* Fits the noise model (models/noise_model.csv) on null phantom courses; tools/fit_noise_model.sh
 * makes the courses, scores them and calls this:
 *   build/bench/bench_noise_fit -o OUT.csv [--quantile Q] [--note TEXT] RUN_DIR...
 * Each RUN_DIR is a `skindelta run` output made with SKINDELTA_NOISE_TRACE=RUN_DIR/noise_trace.csv
 * (the covariates the pipeline saw per image x region). Method (docs/STATISTICS.md, "The noise
 * model"): every follow-up of a null course is a recapture of its baseline, so its change d is
 * pure capture noise with Var d = sd_base^2 + sd_fu^2. Per metric, ln(d^2) is regressed on the
 * mean covariates of the two images, with one intercept per region (E ln chi^2_1 = -1.2704 and
 * the factor 2 of the two images corrected): ln sd = b0[region] + sum b_k x_k; then refined by
 * Gauss-Newton on the model as the run predicts it (each image on its own covariates). The
 * slopes are shared by faces and close-ups except the tone-curve mismatch's (dtone), which
 * `whole` gets on its own; `registration` is left out (--keep-registration: a real change lowers
 * the ECC too). A small ridge keeps collinear covariates (JPEG quality and subsampling move
 * together in the phantoms) from trading huge opposite slopes. The model's level is then
 * calibrated: the b0 of the metric move by ln c, c the Q-quantile (default 0.98) of
 * |d| / (1.96 sqrt(sd_base^2 + sd_fu^2)) over the fitting changes, so that 1 - Q of them fire
 * at the MDC95 -- the log-normal fit alone is a median model and would fire too often where the
 * residuals have heavy tails. c is found
 * separately for the face regions and for `whole` (close-ups). Deterministic. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skindelta/skindelta.h"
#include "skindelta/course.h"
#include "skindelta/metrics.h"
#include "skindelta/noise.h"
#include "skindelta/util.h"
#include "src/core/csv.h"

#define MAXREG 32
#define XW (MAXREG + SD_NCOV)       /* joint fit: the dtone slope of `whole` */
#define NP (MAXREG + SD_NCOV + 1)

typedef struct Img { char *key; double x[SD_NCOV]; } Img;
typedef struct Obs { int metric, region, run; double y, xb[SD_NCOV], xf[SD_NCOV], d; } Obs;

static Img *imgs; static size_t nimg, capimg;
static Obs *obs; static size_t nobs, capobs;
static char regions[MAXREG][32]; static int nreg;

static int cmp_img(const void *a, const void *b)
{
    return strcmp(((const Img *)a)->key, ((const Img *)b)->key);
}

static char *mkkey(int run, const char *p, const char *v, const char *s, const char *r)
{
    size_t n = strlen(p) + strlen(v) + strlen(s) + strlen(r) + 32;
    char *k = malloc(n);
    if (k) snprintf(k, n, "%d\x1f%s\x1f%s\x1f%s\x1f%s", run, p, v, s, r);
    return k;
}

static const Img *find_img(const char *key)
{
    Img q = { (char *)key, {0} };
    return bsearch(&q, imgs, nimg, sizeof(Img), cmp_img);
}

static int region_id(const char *r)
{
    for (int i = 0; i < nreg; i++) if (!strcmp(regions[i], r)) return i;
    if (nreg == MAXREG) return -1;
    snprintf(regions[nreg], sizeof(regions[0]), "%s", r);
    return nreg++;
}

static int load_trace(SdCtx *ctx, int run, const char *dir)
{
    char *path = sd_path_join(dir, "noise_trace.csv");
    SdCsv c;
    memset(&c, 0, sizeof(c));
    int err = path ? sd_csv_load(ctx, path, &c) : SD_ENOMEM;
    if (err) { fprintf(stderr, "bench_noise_fit: %s: %s\n", path ? path : dir, ctx->errmsg); free(path); return err; }
    int cp = sd_csv_col(&c, "patient"), cv = sd_csv_col(&c, "view"), cs = sd_csv_col(&c, "session"),
        cr = sd_csv_col(&c, "region"), ck[SD_NCOV];
    for (int k = 0; k < SD_NCOV; k++) ck[k] = sd_csv_col(&c, sd_noise_cov_name(k));
    for (int k = 0; k < SD_NCOV; k++)
        if (ck[k] < 0 || cp < 0 || cr < 0) {
            fprintf(stderr, "bench_noise_fit: %s: header lacks a covariate column\n", path);
            sd_csv_free(&c); free(path); return SD_EFORMAT;
        }
    for (int r = 0; r < c.nrows; r++) {
        if (nimg == capimg) {
            capimg = capimg ? 2 * capimg : 1024;
            imgs = realloc(imgs, capimg * sizeof(Img));
            if (!imgs) return SD_ENOMEM;
        }
        Img *im = &imgs[nimg++];
        im->key = mkkey(run, sd_csv_get(&c, r, cp), sd_csv_get(&c, r, cv), sd_csv_get(&c, r, cs),
                        sd_csv_get(&c, r, cr));
        for (int k = 0; k < SD_NCOV; k++) im->x[k] = strtod(sd_csv_get(&c, r, ck[k]), NULL);
    }
    sd_csv_free(&c);
    free(path);
    return 0;
}

static int load_run(SdCtx *ctx, int run, const char *dir)
{
    int err = load_trace(ctx, run, dir);
    if (err) return err;
    qsort(imgs, nimg, sizeof(Img), cmp_img);
    char *mp = sd_path_join(dir, "measurements.csv");
    SdMeasArray m = {0};
    SdChangeArray ch = {0};
    if ((err = sd_meas_read(ctx, mp, NULL, &m)) || (err = sd_course_changes(ctx, &m, NULL, &ch))) {
        fprintf(stderr, "bench_noise_fit: %s: %s\n", mp, ctx->errmsg);
        goto out;
    }
    /* the baseline session of each change: the session_index 0 row of the same course */
    for (size_t i = 0; i < ch.n; i++) {
        const SdChangeRow *c = &ch.v[i];
        const int mi = sd_metric_index(c->metric);
        if (mi < 0 || !isfinite(c->delta)) continue;
        const char *bs = NULL;
        for (size_t j = 0; j < m.n && !bs; j++)
            if (m.v[j].session_index == 0 && !strcmp(m.v[j].patient, c->patient) &&
                !strcmp(m.v[j].view, c->view))
                bs = m.v[j].session;
        if (!bs) continue;
        char *kf = mkkey(run, c->patient, c->view, c->session, c->region);
        char *kb = mkkey(run, c->patient, c->view, bs, c->region);
        const Img *f = find_img(kf), *b = find_img(kb);
        free(kf); free(kb);
        const int ri = region_id(c->region);
        if (!f || !b || ri < 0) continue;
        if (nobs == capobs) {
            capobs = capobs ? 2 * capobs : 4096;
            obs = realloc(obs, capobs * sizeof(Obs));
            if (!obs) { err = SD_ENOMEM; goto out; }
        }
        Obs *o = &obs[nobs++];
        o->metric = mi; o->region = ri; o->d = c->delta; o->run = run;
        memcpy(o->xb, b->x, sizeof(o->xb));
        memcpy(o->xf, f->x, sizeof(o->xf));
    }
out:
    sd_meas_free(&m);
    sd_change_free(&ch);
    free(mp);
    for (size_t i = 0; i < nimg; i++) free(imgs[i].key);
    nimg = 0;
    return err;
}

/* Solve (A + lambda I on the slopes) b = r by Cholesky; A is p x p symmetric. */
static int solve(double *A, double *r, int p)
{
    for (int j = 0; j < p; j++) {
        double s = A[j * p + j];
        for (int k = 0; k < j; k++) s -= A[j * p + k] * A[j * p + k];
        if (s <= 1e-12) return -1;
        A[j * p + j] = sqrt(s);
        for (int i = j + 1; i < p; i++) {
            double t = A[i * p + j];
            for (int k = 0; k < j; k++) t -= A[i * p + k] * A[j * p + k];
            A[i * p + j] = t / A[j * p + j];
        }
    }
    for (int i = 0; i < p; i++) {
        double t = r[i];
        for (int k = 0; k < i; k++) t -= A[i * p + k] * r[k];
        r[i] = t / A[i * p + i];
    }
    for (int i = p - 1; i >= 0; i--) {
        double t = r[i];
        for (int k = i + 1; k < p; k++) t -= A[k * p + i] * r[k];
        r[i] = t / A[i * p + i];
    }
    return 0;
}

static int cmp_dbl(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double g_quantile = 0.98;
static int g_linear;   /* --linear: the mean-covariate fit alone, no Gauss-Newton refinement */
/* Covariates left out of the fit (slope 0): by default `registration`. 1 - ECC is not only
 * misregistration: a real change of the skin lowers the ECC too, so on treated courses the
 * fitted slope (+30 to +68 per unit on faces) turned every true improvement into "noise" (treated
 * face 8x3: 82 -> 7 roughness detections at an equal null rate). --keep-registration keeps it. */
static int g_drop[SD_NCOV] = { [SD_NC_REGISTRATION] = 1 };

typedef struct Fit { double beta[NP]; int used[NP]; int n; double c, fire_in; } Fit;

/* 1 when observation i belongs to group g: 0 the face regions, 1 the close-ups (`whole`), 2 all */
static int in_group(size_t i, int g)
{
    return g == 2 || (strcmp(regions[obs[i].region], "whole") == 0) == g;
}

/* --split: faces and `whole` fitted apart, every slope their own; default (joint): one fit,
 * slopes shared by faces and close-ups except dtone's (the face's photometry corrects the tone
 * curve, `--roi whole` cannot) */
static int g_split;

/* The design row of observation i for covariates x (its baseline's, its follow-up's or their
 * mean): region indicator, the slopes' covariates, and in the joint fit dtone of `whole` moved
 * to its own column. */
static void design(size_t i, const double *x, double *v)
{
    memset(v, 0, NP * sizeof(double));
    v[obs[i].region] = 1;
    for (int k = 0; k < SD_NCOV; k++) v[MAXREG + k] = x[k];
    if (!g_split && in_group(i, 1)) { v[XW] = v[MAXREG + SD_NC_DTONE]; v[MAXREG + SD_NC_DTONE] = 0; }
}

static double eta(const double *beta, size_t i, const double *x)
{
    double v[NP], s = 0;
    design(i, x, v);
    for (int j = 0; j < NP; j++) s += beta[j] * v[j];
    return s;
}

static double pred(const double *beta, size_t i, const double *x)
{
    return exp(eta(beta, i, x));
}

/* slope k of the row of region r in the model file */
static double slope(const double *beta, int r, int k)
{
    if (!g_split && k == SD_NC_DTONE && !strcmp(regions[r], "whole")) return beta[XW];
    return beta[MAXREG + k];
}

static int fit_metric(int mi, int g, Fit *F)
{
    memset(F, 0, sizeof(*F));
    /* floor of |d|: a change of exactly 0 (a count metric) would be ln 0 */
    double *ad = malloc((nobs + 1) * sizeof(double));
    int n = 0;
    for (size_t i = 0; i < nobs; i++) if (obs[i].metric == mi && in_group(i, g) && obs[i].d != 0) ad[n++] = fabs(obs[i].d);
    if (n < 20) { free(ad); return -1; }
    qsort(ad, (size_t)n, sizeof(double), cmp_dbl);
    const double floor_d = ad[n / 20];
    /* covariates that vary among this metric's observations; regions present */
    double lo[NP], hi[NP];
    for (int k = 0; k < NP; k++) { lo[k] = 1e300; hi[k] = -1e300; }
    int m = 0;
    for (size_t i = 0; i < nobs; i++) {
        if (obs[i].metric != mi || !in_group(i, g)) continue;
        double xm[SD_NCOV], v[NP];
        for (int k = 0; k < SD_NCOV; k++) xm[k] = 0.5 * (obs[i].xb[k] + obs[i].xf[k]);
        design(i, xm, v);
        F->used[obs[i].region] = 1;
        for (int k = MAXREG; k < NP; k++) { lo[k] = fmin(lo[k], v[k]); hi[k] = fmax(hi[k], v[k]); }
        m++;
    }
    for (int k = MAXREG; k < NP; k++)
        F->used[k] = hi[k] - lo[k] > 1e-9 && !(k < XW && g_drop[k - MAXREG]);
    double A[NP * NP] = {0}, r[NP] = {0};
    int idx[NP], p = 0;
    for (int j = 0; j < NP; j++) if (F->used[j]) idx[p++] = j;
    for (size_t i = 0; i < nobs; i++) {
        if (obs[i].metric != mi || !in_group(i, g)) continue;
        double xm[SD_NCOV], x[NP];
        for (int k = 0; k < SD_NCOV; k++) xm[k] = 0.5 * (obs[i].xb[k] + obs[i].xf[k]);
        design(i, xm, x);
        const double dd = fmax(fabs(obs[i].d), floor_d);
        const double y = 0.5 * (log(dd * dd) + 1.2704 - log(2.0));
        for (int a = 0; a < p; a++) {
            r[a] += x[idx[a]] * y;
            for (int b = 0; b < p; b++) A[a * p + b] += x[idx[a]] * x[idx[b]];
        }
    }
    /* ridge on the slopes, scaled to each covariate's spread (1% of the data's weight) */
    for (int a = 0; a < p; a++)
        if (idx[a] >= MAXREG) {
            const int k = idx[a];
            const double s = (hi[k] - lo[k]) * (hi[k] - lo[k]);
            A[a * p + a] += 0.01 * m * s / 12.0;
        }
    if (solve(A, r, p)) { free(ad); return -1; }
    for (int a = 0; a < p; a++) F->beta[idx[a]] = r[a];
    F->n = m;
    /* The run predicts each image on its own covariates, Var d = e^(2 eta_b) + e^(2 eta_f),
     * eta = b0[region] + b . x, and the follow-up alone carries the pair covariates (dquality,
     * dsubsample, dexposure, dtone). The linear fit above regresses on the pair's MEAN
     * covariates, which is that model linearised at eta_b = eta_f: a pair covariate with a
     * large slope then counts twice on the follow-up. Refine by Gauss-Newton on the model as
     * it predicts, ln d^2 + 1.2704 = ln(e^(2 eta_b) + e^(2 eta_f)) + error, same ridge; a step
     * that does not lower the penalised sum of squares is halved. */
    double lam[NP] = {0};
    for (int a = 0; a < p; a++)
        if (idx[a] >= MAXREG) {
            const int k = idx[a];
            lam[a] = 4 * 0.01 * m * (hi[k] - lo[k]) * (hi[k] - lo[k]) / 12.0;
        }
    double saved[NP], prev = INFINITY, step = 1.0, dir[NP] = {0};
    memcpy(saved, F->beta, sizeof(saved));
    for (int it = 0; it < (g_linear ? 0 : 60); it++) {
        double JJ[NP * NP] = {0}, Jr[NP] = {0}, ssr = 0;
        for (size_t i = 0; i < nobs; i++) {
            if (obs[i].metric != mi || !in_group(i, g)) continue;
            double vbx[NP], vfx[NP];
            design(i, obs[i].xb, vbx);
            design(i, obs[i].xf, vfx);
            double eb = 0, ef = 0;
            for (int j = 0; j < NP; j++) { eb += F->beta[j] * vbx[j]; ef += F->beta[j] * vfx[j]; }
            const double mx = fmax(eb, ef), vb = exp(2 * (eb - mx)), vf = exp(2 * (ef - mx));
            const double lnV = 2 * mx + log(vb + vf), wb = vb / (vb + vf), wf = 1 - wb;
            const double dd = fmax(fabs(obs[i].d), floor_d);
            const double res = log(dd * dd) + 1.2704 - lnV;
            double J[NP];
            for (int j = 0; j < NP; j++) J[j] = 2 * (wb * vbx[j] + wf * vfx[j]);
            ssr += res * res;
            for (int a = 0; a < p; a++) {
                Jr[a] += J[idx[a]] * res;
                for (int b = 0; b < p; b++) JJ[a * p + b] += J[idx[a]] * J[idx[b]];
            }
        }
        for (int a = 0; a < p; a++) {
            ssr += lam[a] * F->beta[idx[a]] * F->beta[idx[a]];
            JJ[a * p + a] += lam[a];
            Jr[a] -= lam[a] * F->beta[idx[a]];
        }
        if (!(ssr < prev)) {   /* the last step went too far: back, and half of it */
            memcpy(F->beta, saved, sizeof(saved));
            step *= 0.5;
            if (step < 1e-4) break;
            for (int a = 0; a < p; a++) F->beta[idx[a]] += step * dir[a];
            continue;
        }
        if (prev - ssr < 1e-10 * ssr) break;
        prev = ssr;
        memcpy(saved, F->beta, sizeof(saved));
        if (solve(JJ, Jr, p)) break;
        memcpy(dir, Jr, sizeof(dir));
        step = 1.0;
        for (int a = 0; a < p; a++) F->beta[idx[a]] += dir[a];
    }
    memcpy(F->beta, saved, sizeof(saved));
    free(ad);
    return 0;
}


int main(int argc, char **argv)
{
    const char *out = NULL, *note = "", *score = NULL;
    int first = 1;
    for (; first < argc; first++) {
        if (!strcmp(argv[first], "-o") && first + 1 < argc) out = argv[++first];
        else if (!strcmp(argv[first], "--score") && first + 1 < argc) score = argv[++first];
        else if (!strcmp(argv[first], "--linear")) g_linear = 1;
        else if (!strcmp(argv[first], "--split")) g_split = 1;
        else if (!strcmp(argv[first], "--keep-registration")) g_drop[SD_NC_REGISTRATION] = 0;
        else if (!strcmp(argv[first], "--drop") && first + 1 < argc) {
            const char *nm = argv[++first];
            for (int k = 0; k < SD_NCOV; k++) if (!strcmp(nm, sd_noise_cov_name(k))) g_drop[k] = 1;
        }
        else if (!strcmp(argv[first], "--quantile") && first + 1 < argc) g_quantile = atof(argv[++first]);
        else if (!strcmp(argv[first], "--note") && first + 1 < argc) note = argv[++first];
        else break;
    }
    if (!out || first >= argc || !(g_quantile > 0.5 && g_quantile < 1)) {
        fprintf(stderr, "usage: bench_noise_fit -o OUT.csv [--quantile Q] [--note TEXT] RUN_DIR...\n"
                        "       bench_noise_fit --score MODEL.csv -o CHANGES.csv RUN_DIR...\n");
        return 2;
    }
    SdCtx ctx;
    if (sd_ctx_init(&ctx)) return 1;
    for (int i = first; i < argc; i++)
        if (load_run(&ctx, i - first, argv[i])) return 1;
    if (score) {
        /* --score: the changes of traced runs as another model file would call them, without
         * measuring anything again (columns as changes.csv, for tools/noise_calibration.awk and
         * tools/noise_power.awk) */
        SdNoiseModel *model = NULL;
        if (sd_noise_model_load(&ctx, score, &model)) { fprintf(stderr, "bench_noise_fit: %s\n", ctx.errmsg); return 1; }
        FILE *f = fopen(out, "w");
        if (!f) { fprintf(stderr, "bench_noise_fit: %s: cannot write\n", out); return 1; }
        fprintf(f, "run,region,metric,delta,mdc95,beyond_noise\n");
        for (size_t i = 0; i < nobs; i++) {
            const char *mid = sd_metric_info(obs[i].metric)->id, *rn = regions[obs[i].region];
            const double sb = sd_noise_model_sd(model, mid, rn, obs[i].xb), sf = sd_noise_model_sd(model, mid, rn, obs[i].xf);
            const double mdc = 1.96 * sqrt(sb * sb + sf * sf);
            if (!isfinite(mdc)) continue;
            fprintf(f, "%d,%s,%s,%.9g,%.9g,%d\n", obs[i].run, rn, mid, obs[i].d, mdc, fabs(obs[i].d) > mdc);
        }
        sd_noise_model_free(model);
        return fclose(f) ? 1 : 0;
    }
    /* covariate range of the fit: the model is clamped to it */
    double lo[SD_NCOV], hi[SD_NCOV];
    for (int k = 0; k < SD_NCOV; k++) { lo[k] = 1e300; hi[k] = -1e300; }
    for (size_t i = 0; i < nobs; i++)
        for (int k = 0; k < SD_NCOV; k++) {
            lo[k] = fmin(lo[k], fmin(obs[i].xb[k], obs[i].xf[k]));
            hi[k] = fmax(hi[k], fmax(obs[i].xb[k], obs[i].xf[k]));
        }
    SdAtomicFile af = {0};
    if (sd_atomic_open(&af, out)) { fprintf(stderr, "bench_noise_fit: %s: cannot write\n", out); return 1; }
    FILE *f = af.f;
    fprintf(f, "# skindelta noise model: ln sd = b0 + sum_k b_k * clamp(x_k, @min, @max) (models/README.md)\n");
    fprintf(f, "# fitted by build/bench/bench_noise_fit (tools/fit_noise_model.sh) on %zu null-course pairs x regions x metrics\n", nobs);
    fprintf(f, "# level calibrated to the %.3f quantile of |d| / mdc95 per metric%s%s\n", g_quantile,
            note[0] ? "; " : "", note);
    fprintf(f, "metric,region,b0");
    for (int k = 0; k < SD_NCOV; k++) fprintf(f, ",%s", sd_noise_cov_name(k));
    fprintf(f, "\n@min,,");
    for (int k = 0; k < SD_NCOV; k++) fprintf(f, ",%.6g", lo[k] < hi[k] ? lo[k] : 0.0);
    fprintf(f, "\n@max,,");
    for (int k = 0; k < SD_NCOV; k++) fprintf(f, ",%.6g", lo[k] < hi[k] ? hi[k] : 0.0);
    fprintf(f, "\n");
    for (int mi = 0; mi < SD_NMETRICS; mi++) {
        /* faces (the regions) and close-ups (`whole`) are fitted apart -- slopes included: the
         * face's photometry corrects what `--roi whole` cannot (a close-up has no reference
         * area), so a covariate such as the tone-curve mismatch weighs differently -- and each
         * level is calibrated on its own: the Q-quantile of the standardised changes */
        Fit F[2];
        int ok[2];
        double cg[2] = {1, 1};
        double *z = malloc((nobs + 1) * sizeof(double));
        if (!g_split) {
            ok[0] = fit_metric(mi, 2, &F[0]) == 0;
            F[1] = F[0];
            int has[2] = {0, 0};
            for (size_t i = 0; i < nobs; i++) if (obs[i].metric == mi) has[in_group(i, 1)] = 1;
            ok[1] = ok[0] && has[1];
            ok[0] = ok[0] && has[0];
        }
        for (int g = 0; g < 2; g++) {
            if (g_split) ok[g] = fit_metric(mi, g, &F[g]) == 0;
            if (!ok[g]) continue;
            int q = 0;
            for (size_t i = 0; i < nobs; i++) {
                if (obs[i].metric != mi || !in_group(i, g)) continue;
                const double sb = pred(F[g].beta, i, obs[i].xb), sf = pred(F[g].beta, i, obs[i].xf);
                z[q++] = fabs(obs[i].d) / (1.96 * sqrt(sb * sb + sf * sf));
            }
            if (q < 10) continue;
            qsort(z, (size_t)q, sizeof(double), cmp_dbl);
            cg[g] = z[(int)floor(g_quantile * (q - 1))];
            if (!(cg[g] > 0)) cg[g] = 1e-9;
        }
        free(z);
        if (!ok[0] && !ok[1]) continue;
        const char *mid = sd_metric_info(mi)->id;
        for (int g = 0; g < 2; g++) {
            if (!ok[g]) continue;
            double b0sum = 0;
            int nr = 0;
            for (int r = 0; r < nreg; r++) if (F[g].used[r] && (strcmp(regions[r], "whole") == 0) == g) { b0sum += F[g].beta[r]; nr++; }
            /* the `*` row (a region the fit did not see): the face group's mean intercept */
            for (int r = 0; r <= nreg; r++) {
                if (r < nreg && (!F[g].used[r] || (strcmp(regions[r], "whole") == 0) != g)) continue;
                if (r == nreg && (g == 1 && ok[0])) continue;
                fprintf(f, "%s,%s,%.6f", mid, r < nreg ? regions[r] : "*",
                        (r < nreg ? F[g].beta[r] : b0sum / nr) + log(cg[g]));
                for (int k = 0; k < SD_NCOV; k++) fprintf(f, ",%.6f", r < nreg ? slope(F[g].beta, r, k) : F[g].beta[MAXREG + k]);
                fprintf(f, "\n");
            }
        }
        if (g_split)
            fprintf(stderr, "bench_noise_fit: %-26s %5d + %4d changes, level x%.3f (faces) x%.3f (whole)\n",
                    mid, ok[0] ? F[0].n : 0, ok[1] ? F[1].n : 0, cg[0], cg[1]);
        else
            fprintf(stderr, "bench_noise_fit: %-26s %5d changes (joint fit), level x%.3f (faces) x%.3f (whole)\n",
                    mid, F[0].n, cg[0], cg[1]);
        /* in the fit, per course: changes beyond the calibrated MDC95 (better, worse) */
        fprintf(stderr, "bench_noise_fit: %-26s fired per course:", "");
        for (int run = 0; run < argc - first; run++) {
            int n = 0, up = 0, down = 0;
            for (size_t i = 0; i < nobs; i++) {
                if (obs[i].metric != mi || obs[i].run != run) continue;
                const int g = in_group(i, 1);
                if (!ok[g]) continue;
                const double sb = pred(F[g].beta, i, obs[i].xb) * cg[g],
                             sf = pred(F[g].beta, i, obs[i].xf) * cg[g];
                n++;
                if (fabs(obs[i].d) > 1.96 * sqrt(sb * sb + sf * sf)) { if (obs[i].d > 0) up++; else down++; }
            }
            fprintf(stderr, " %s %d+%d/%d", argv[first + run], up, down, n);
        }
        fprintf(stderr, "\n");
    }
    if (sd_atomic_commit(&af)) { fprintf(stderr, "bench_noise_fit: %s: cannot write\n", out); return 1; }
    return 0;
}

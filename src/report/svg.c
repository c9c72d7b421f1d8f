/* Inline SVG figures of the report: the cohort forest plot (mean improvement with 95% CI per
 * metric x region) and per-patient trend small multiples (value per session, one panel per region). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "src/report/report_int.h"
#include "src/core/core.h"

#define COL_GOOD "#1a7f37"
#define COL_BAD "#b42318"
#define COL_NONE "#667085"

/* Tick step of about `want` intervals over span: 1, 2 or 5 x 10^k. */
static double nice_step(double span, int want)
{
    double raw = span / want, p = pow(10, floor(log10(raw))), f = raw / p;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

#define SD_REP_FOREST_MAX 100.0   /* axis limit (%): values beyond are clamped when drawn */

/* Mean improvement and CI of a forest row; the CI is NAN unless both ends are finite. */
static int forest_vals(const SdRepCohort *c, double *mean, double *lo, double *hi)
{
    *mean = c->impr_n ? c->impr_mean : c->mean_impr;
    *lo = c->impr_lo;
    *hi = c->impr_hi;
    if (!isfinite(*lo) || !isfinite(*hi)) *lo = *hi = NAN;
    return isfinite(*mean);
}

/* A row is drawn when its mean improvement rests on 2 or more patients' percent changes (a
 * percent exists only where the baseline is clearly above the metric's floor, and one patient's
 * percent is no cohort estimate) ... */
static int forest_row_ok(const SdRepCohort *c)
{
    double m, l, h;
    /* ... and on every patient of the row: a mean over the subset with a percent is not the
     * tested mean change */
    return forest_vals(c, &m, &l, &h) && c->impr_n >= 2 && !(isfinite(c->n) && c->impr_n < c->n);
}

static double clampd(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static const SdRepCohort *forest_row(const SdRep *r, int view, int sidx, int region, int metric)
{
    const SdRepCohort *c = sd__rep_cohort(r, view, sidx, region, metric);
    return c && forest_row_ok(c) ? c : NULL;
}

int sd__rep_svg_forest(FILE *f, const SdRep *r, int view, int sidx, int primary)
{
    int rows = 0, heads = 0;
    double lo = 0, hi = 0;
    for (int a = 0; a < r->metrics.n; a++) {
        int m = r->morder[a], any = 0;
        if (r->minfo[m].primary != primary) continue;
        for (int b = 0; b < r->regions.n; b++) {
            const SdRepCohort *c = forest_row(r, view, sidx, r->rorder[b], m);
            if (!c) continue;
            double mean, l, h;
            forest_vals(c, &mean, &l, &h);
            if (isnan(l)) l = h = mean;
            if (l < lo) lo = l;
            if (h > hi) hi = h;
            rows++;
            any = 1;
        }
        heads += any;
    }
    if (!rows) return 0;
    lo = clampd(lo, -SD_REP_FOREST_MAX, 0);
    hi = clampd(hi, 0, SD_REP_FOREST_MAX);
    if (hi - lo < 2) { hi += 1; lo -= 1; }
    const double pad = 0.06 * (hi - lo), step = nice_step(hi - lo + 2 * pad, 6);
    lo = floor((lo - pad) / step) * step;
    hi = ceil((hi + pad) / step) * step;
    const int W = 980, X0 = 250, X1 = 700, TOP = 58, RH = 21, H = TOP + (rows + heads) * RH + 44;
#define XS(v) (X0 + (clampd((v), lo, hi) - lo) / (hi - lo) * (X1 - X0))
    fprintf(f, "<svg class=\"forest\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" role=\"img\" font-family=\"system-ui,sans-serif\" font-size=\"13\">\n",
            W, H, W, H);
    fprintf(f, "<title>Mean improvement versus baseline with 95%% confidence interval</title>\n");
    fprintf(f, "<text x=\"%d\" y=\"18\" font-weight=\"600\" text-anchor=\"middle\">Mean improvement "
            "vs baseline (%%), 95%% CI</text>\n", (X0 + X1) / 2);
    fprintf(f, "<text x=\"%d\" y=\"38\" fill=\"" COL_BAD "\">\xe2\x97\x80 worse</text>"
            "<text x=\"%d\" y=\"38\" fill=\"" COL_GOOD "\" text-anchor=\"end\">better \xe2\x96\xb6</text>\n",
            X0, X1);
    fprintf(f, "<text x=\"%d\" y=\"38\" font-weight=\"600\">Mean [95%% CI]</text>"
            "<text x=\"%d\" y=\"38\" font-weight=\"600\">adj. p</text>\n", X1 + 14, X1 + 196);
    const int yb = TOP + (rows + heads) * RH;
    for (int k = 0; k <= 40 && lo + k * step <= hi + step * 1e-6; k++) {
        const double t = lo + k * step, x = XS(t);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"%s\" %s/>"
                "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#475467\">%+g</text>\n",
                x, TOP - 8, x, yb, fabs(t) < step * 1e-6 ? "#344054" : "#e4e7ec",
                fabs(t) < step * 1e-6 ? "stroke-width=\"1.5\"" : "", x, yb + 16,
                fabs(t) < step * 1e-6 ? 0.0 : t);
    }
    fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"#475467\">improvement %% "
            "(positive = better, by each metric's direction)</text>\n", (X0 + X1) / 2, yb + 34);
    int y = TOP;
    char b1[32], b2[32], b3[32], b4[32];
    for (int a = 0; a < r->metrics.n; a++) {
        int m = r->morder[a], any = 0;
        if (r->minfo[m].primary != primary) continue;
        for (int b = 0; b < r->regions.n; b++) {
            int g = r->rorder[b];
            const SdRepCohort *c = forest_row(r, view, sidx, g, m);
            if (!c) continue;
            if (!any) {
                fprintf(f, "<rect x=\"0\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#eef2f6\"/>"
                        "<text x=\"8\" y=\"%d\" font-weight=\"700\">", y, W, RH, y + 15);
                sd__rep_esc(f, r->minfo[m].label);
                fprintf(f, "</text>\n");
                y += RH;
                any = 1;
            }
            double mean, clo, chi;
            forest_vals(c, &mean, &clo, &chi);
            SdRepVerdict v;
            sd__rep_verdict(r, c, &v);
            const int sig = v.sig;
            const char *col = clo > 0 ? COL_GOOD : chi < 0 ? COL_BAD : COL_NONE;
            if (isnan(clo)) col = sig ? (mean > 0 ? COL_GOOD : COL_BAD) : COL_NONE;
            const int yc = y + RH / 2;
            const int whole = !strcmp(r->regions.s[g], "face") || !strcmp(r->regions.s[g], "whole");
            fprintf(f, "<text x=\"22\" y=\"%d\"%s>", y + 15, whole ? " font-weight=\"700\"" : "");
            sd__rep_esc(f, sd__rep_region_label(r, g));
            fprintf(f, "</text>");
            if (!isnan(clo))
                fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"%s\" "
                        "stroke-width=\"2\"/>", XS(clo), yc, XS(chi), yc, col);
            fprintf(f, "<rect x=\"%.1f\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\" "
                    "stroke=\"%s\" stroke-width=\"2\"/>", XS(mean) - 5, yc - 5,
                    sig ? col : "#fff", col);
            fprintf(f, "<text x=\"%d\" y=\"%d\" fill=\"%s\">%s [%s, %s]</text>", X1 + 14, y + 15,
                    col, sd__rep_fmt_pct(b1, 32, mean), sd__rep_fmt_1(b2, 32, clo),
                    sd__rep_fmt_1(b3, 32, chi));
            fprintf(f, "<text x=\"%d\" y=\"%d\"%s>%s</text>\n", X1 + 196, y + 15,
                    sig ? " font-weight=\"700\"" : "", sd__rep_fmt_p(b4, 32, v.p_adj));
            y += RH;
        }
    }
#undef XS
    fprintf(f, "</svg>\n");
    return rows;
}

/* ---- trends */
typedef struct Pt { double x, y; int kind; } Pt;   /* kind: 0 baseline, 1 better, 2 worse, 3 noise */

static const char *kind_col(int kind)
{
    return kind == 0 ? "#1d2939" : kind == 1 ? COL_GOOD : kind == 2 ? COL_BAD : COL_NONE;
}

void sd__rep_svg_trend(FILE *f, const SdRep *r, int patient, int view, int metric, int only_region)
{
    int idx[256];
    const int ns = sd__rep_sessions(r, patient, view, idx, 256);
    /* x = days when every measured session has them, else the session index */
    int by_days = 1, panels = 0;
    for (int b = 0; b < r->regions.n; b++) {
        int g = r->rorder[b], k = 0;
        if (only_region >= 0 && g != only_region) continue;
        for (int i = 0; i < ns; i++)
            if (sd__rep_meas(r, idx[i], g, metric)) {
                k++;
                by_days &= !isnan(r->ses[idx[i]].days);
            }
        panels += k > 0;
    }
    if (!panels) {
        fprintf(f, "<p class=\"muted\">No measurements of this metric.</p>\n");
        return;
    }
    const int PW = 200, PH = 132, COLS = panels < 5 ? panels : 5, rowsn = (panels + COLS - 1) / COLS;
    const int W = COLS * PW, H = rowsn * PH;
    fprintf(f, "<svg class=\"trend\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" role=\"img\" font-family=\"system-ui,sans-serif\" font-size=\"11\">\n",
            W, H, W, H);
    fprintf(f, "<title>");
    sd__rep_esc(f, r->minfo[metric].label);
    fprintf(f, " per session, one panel per region</title>\n");
    Pt pts[256];
    char b1[32], b2[32], b3[32];
    int p = 0;
    for (int b = 0; b < r->regions.n; b++) {
        int g = r->rorder[b], n = 0;
        const char *lab[256];
        if (only_region >= 0 && g != only_region) continue;
        double ymin = INFINITY, ymax = -INFINITY, xmin = INFINITY, xmax = -INFINITY, base = NAN;
        for (int i = 0; i < ns; i++) {
            const SdRepSession *s = &r->ses[idx[i]];
            const SdRepMeas *m = sd__rep_meas(r, idx[i], g, metric);
            /* plot only plausible numbers: spans of huge values overflow the scaling */
            if (!m || !isfinite(m->value) || fabs(m->value) > 1e100) continue;
            const SdRepChange *c = sd__rep_change(r, idx[i], g, metric);
            int kind = 3;
            if (i == 0 || s->index == 0) { kind = 0; base = m->value; }
            else if (c && c->beyond == 1) kind = c->impr > 0 ? 1 : 2;
            lab[n] = s->name;
            pts[n] = (Pt){by_days ? s->days : (s->index >= 0 ? s->index : i), m->value, kind};
            if (pts[n].y < ymin) ymin = pts[n].y;
            if (pts[n].y > ymax) ymax = pts[n].y;
            if (pts[n].x < xmin) xmin = pts[n].x;
            if (pts[n].x > xmax) xmax = pts[n].x;
            n++;
        }
        if (!n) continue;
        const int ox = (p % COLS) * PW, oy = (p / COLS) * PH;
        p++;
        const double L = ox + 50, R = ox + PW - 12, T = oy + 22, B = oy + PH - 40;
        const double dmin = ymin, dmax = ymax;
        double span = ymax - ymin;
        if (span <= 1e-12 * (fabs(ymax) + 1)) span = fabs(ymax) > 0 ? 0.1 * fabs(ymax) : 1;
        ymin -= 0.15 * span; ymax += 0.15 * span;
        const double dxmin = xmin, dxmax = xmax;
        if (xmax <= xmin) { xmin -= 1; xmax += 1; }
#define PX(v) (L + ((v) - xmin) / (xmax - xmin) * (R - L))
#define PY(v) (B - ((v) - ymin) / (ymax - ymin) * (B - T))
        fprintf(f, "<g><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#fff\" "
                "stroke=\"#e4e7ec\"/>", ox + 2, oy + 2, PW - 4, PH - 4);
        fprintf(f, "<text x=\"%d\" y=\"%d\" font-weight=\"600\" font-size=\"12\">", ox + 8, oy + 16);
        sd__rep_esc(f, sd__rep_region_label(r, g));
        fprintf(f, "</text>");
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#98a2b3\"/>",
                L, B, R, B);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" fill=\"#475467\">%s</text>",
                L - 7, PY(dmax) + 4, sd__rep_fmt(b1, 32, dmax));
        if (dmax > dmin)
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" fill=\"#475467\">%s</text>",
                    L - 7, PY(dmin) + 4, sd__rep_fmt(b2, 32, dmin));
        /* a tick and a label under every session: its day since baseline when every session is
         * dated, else "session <name>" (at most 4 labels: first, last and two between) */
        (void)dxmin; (void)dxmax;
        for (int i = 0; i < n; i++) {
            const int show = n <= 4 || i == 0 || i == n - 1 || i == n / 3 || i == 2 * n / 3;
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#98a2b3\"/>",
                    PX(pts[i].x), B, PX(pts[i].x), B + 3);
            if (!show) continue;
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" fill=\"#475467\">",
                    PX(pts[i].x), B + 13, n == 1 ? "middle" : i == 0 ? "start" : i == n - 1 ? "end" : "middle");
            if (by_days) fprintf(f, "day %g", pts[i].x);
            else sd__rep_esc(f, lab[i]);
            fprintf(f, "</text>");
        }
        if (!isnan(base))
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#98a2b3\" "
                    "stroke-dasharray=\"3 3\"/>", L, PY(base), R, PY(base));
        fprintf(f, "<polyline fill=\"none\" stroke=\"#475467\" stroke-width=\"1.5\" points=\"");
        for (int i = 0; i < n; i++) fprintf(f, "%.1f,%.1f ", PX(pts[i].x), PY(pts[i].y));
        fprintf(f, "\"/>");
        for (int i = 0; i < n; i++)
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\" stroke=\"#fff\"/>",
                    PX(pts[i].x), PY(pts[i].y), kind_col(pts[i].kind));
        const SdRepTrend *t = sd__rep_trend(r, patient, view, g, metric);
        if (t && !isnan(t->slope)) {
            const int better = r->minfo[metric].better;
            const char *col = COL_NONE;
            if (t->lo > 0 || t->hi < 0) {
                int up = t->lo > 0;
                col = better == 0 ? COL_NONE : (up == (better > 0)) ? COL_GOOD : COL_BAD;
            }
            fprintf(f, "<text x=\"%d\" y=\"%d\" fill=\"%s\">slope %s", ox + 8, oy + PH - 12,
                    col, sd__rep_fmt(b1, 32, t->slope));
            if (!isnan(t->lo))
                fprintf(f, " [%s, %s]", sd__rep_fmt(b2, 32, t->lo), sd__rep_fmt(b3, 32, t->hi));
            fprintf(f, "</text>");
        }
        fprintf(f, "</g>\n");
#undef PX
#undef PY
    }
    fprintf(f, "</svg>\n");
}

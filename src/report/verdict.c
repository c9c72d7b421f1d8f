/* The one verdict of a cohort row, and the badges of single changes. The headline, the cohort
 * tables and the forest plots all ask sd__rep_verdict, so they cannot contradict each other. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "skindelta/regions.h"
#include "skindelta/metrics.h"
#include "src/report/report_int.h"
#include "src/course/stats.h"

double sd__rep_coh_impr(const SdRepCohort *c)
{
    return !isnan(c->mean_impr) ? c->mean_impr : c->impr_n ? c->impr_mean : NAN;
}

void sd__rep_verdict(const SdRep *r, const SdRepCohort *c, SdRepVerdict *v)
{
    memset(v, 0, sizeof(*v));
    v->impr = sd__rep_coh_impr(c);
    const double n = isfinite(c->n) ? c->n : c->impr_n;
    /* a mean percent over only some of the patients (the others' baselines too close to zero for
     * a percent) is not the tested mean change: then the report shows the mean change itself */
    if (isfinite(c->n) && c->impr_n > 0 && c->impr_n < c->n) v->impr = NAN;
    const int better = r->minfo[c->metric].better;
    /* the direction is that of the tested quantity, the mean delta */
    if (better && isfinite(c->mean_delta) && c->mean_delta != 0)
        v->dir = better * c->mean_delta > 0 ? 1 : -1;
    else if (isfinite(v->impr) && v->impr != 0)
        v->dir = v->impr > 0 ? 1 : -1;
    /* exploratory rows of a cohort.csv without bh_q (an older run) fall back to holm_p */
    v->p_adj = c->confirmatory || isnan(c->bh_q) ? c->holm_p : c->bh_q;
    const double minp = isfinite(c->min_p) ? c->min_p : sd_wilcoxon_min_p((int)n);
    const char *fam = c->confirmatory ? "Holm over the confirmatory family (the primary metrics "
                                        "on the whole face, per follow-up)"
                                      : "Benjamini-Hochberg over the exploratory family "
                                        "(regions and secondary metrics)";
    char pb[32];
    if (isnan(c->t_p) && isnan(v->p_adj)) {
        v->kind = SD_V_NOT_TESTED;
        v->label = "Not tested";
        v->cls = "b-none";
        snprintf(v->why, sizeof(v->why), "no test: fewer than 2 patients or no variation");
    } else if (v->p_adj < 0.05 && v->dir) {
        v->kind = v->dir > 0 ? SD_V_IMPROVED : SD_V_WORSE;
        v->sig = 1;
        v->label = v->dir > 0 ? "Improved" : "Worse";
        v->cls = v->dir > 0 ? "b-good" : "b-bad";
        snprintf(v->why, sizeof(v->why), "paired t-test p %s after %s%s",
                 sd__rep_fmt_p(pb, sizeof(pb), v->p_adj), fam,
                 minp >= 0.05 ? "; too few patients for a Wilcoxon test to confirm it" : "");
    } else if (minp >= 0.05) {
        v->kind = SD_V_TOO_FEW;
        v->label = "Too few patients";
        v->cls = "b-none";
        snprintf(v->why, sizeof(v->why), "n = %.0f: the smallest p a Wilcoxon signed-rank test "
                 "can reach is %.3g, so no change could be confirmed (6 or more patients needed)",
                 n, minp);
    } else if (c->t_p < 0.05 || c->w_p < 0.05) {
        v->kind = SD_V_NOT_CONFIRMED;
        v->label = "Not confirmed";
        v->cls = "b-warn";
        snprintf(v->why, sizeof(v->why), "p < 0.05 before, but not after, %s", fam);
    } else {
        v->kind = SD_V_NO_CHANGE;
        v->label = "No clear change";
        v->cls = "b-none";
        snprintf(v->why, sizeof(v->why), "p %s after %s", sd__rep_fmt_p(pb, sizeof(pb), v->p_adj), fam);
    }
}

void sd__rep_verdict_badge(FILE *f, const SdRepVerdict *v)
{
    fprintf(f, "<span class=\"badge %s\" title=\"", v->cls);
    sd__rep_esc(f, v->why);
    fprintf(f, "\">%s</span>", v->label);
}

void sd__rep_change_badge2(FILE *f, const SdRep *r, const SdRepChange *c, int metric)
{
    if (isfinite(c->impr)) {
        sd__rep_change_badge(f, c->impr, c->beyond);
        return;
    }
    const int better = r->minfo[metric].better;
    if (!isfinite(c->delta)) {
        sd__rep_change_badge(f, NAN, c->beyond);
        return;
    }
    char b[32];
    const int good = better * c->delta > 0;
    const char *cls = c->beyond == 1 && better ? (good ? "b-good" : "b-bad") : "b-none";
    const char *unit = r->minfo[metric].unit;
    fprintf(f, "<span class=\"badge %s\" title=\"baseline too close to zero for a percent: absolute "
            "change%s\">\xce\x94 %s%s%s%s%s</span>", cls,
            c->beyond == 1 ? ", larger than the measurement noise (MDC95)"
                           : c->beyond == 0 ? ", within the measurement noise (MDC95)" : "",
            c->delta > 0 ? "+" : "", sd__rep_fmt(b, sizeof(b), c->delta),
            unit ? " " : "", unit ? unit : "", c->beyond == 1 ? " \xe2\x9c\x93" : "");
}

const char *sd__rep_region_colour(const SdRep *r, int region, char buf[8])
{
    uint8_t rgb[3];
    if (region < 0 || region >= r->regions.n || sd_region_colour(r->regions.s[region], rgb)) return NULL;
    snprintf(buf, 8, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
    return buf;
}

void sd__rep_change_map_labels(FILE *f, const SdRep *r, const char *width)
{
    /* the panels are the primary metrics in the metric table's order (sd_change_map) */
    fprintf(f, "<div class=\"cmlab\" style=\"max-width:%s\">", width);
    for (int k = 0; k < SD_NMETRICS; k++) {
        const SdMetricInfo *mi = sd_metric_info(k);
        if (!mi->primary) continue;
        const int m = sd__rep_find(&r->metrics, mi->id);
        fprintf(f, "<span>");
        sd__rep_esc(f, m >= 0 ? r->minfo[m].label : mi->id);
        fprintf(f, "</span>");
    }
    fprintf(f, "</div>\n");
}

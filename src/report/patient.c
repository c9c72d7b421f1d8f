/* One page per patient, OUT/report/<patient>.html: per view the aligned photos side by side, a
 * CSS-only before/after toggle and blink per follow-up next to its primary-metric changes, the
 * region/wrinkle/spot maps, trend panels and the alignment QC figures. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "src/report/report_int.h"
#include "src/core/core.h"

static void session_caption(FILE *f, const SdRepSession *s, int pos)
{
    char b[32];
    const int base = s->index == 0 || (s->index < 0 && pos == 0);
    fprintf(f, "<b>%s</b> &middot; ", base ? "Baseline" : "Follow-up");
    sd__rep_esc(f, s->name);
    if (!isnan(s->days)) fprintf(f, " &middot; day %s", sd__rep_fmt_1(b, 32, s->days));
}

/* An image, or a hatched box saying which file is missing. cls adds a class to the figure. */
static void figure(FILE *f, const SdRepSession *s, int kind, const char *cls, int pos, int caption)
{
    fprintf(f, "<figure%s%s%s>", cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "");
    if (s->img[kind] && sd__rep_img_is_mask(s->img[kind])) {
        /* an overlay mask (indexed PNG with transparency) stacked on the photo's preview: both
         * fill the same box, the mask's palette carries the colours and the dimming */
        fprintf(f, "<a href=\"%s\" class=\"ovl\">", s->img[kind]);
        if (s->img[SD_REP_IMG_PHOTO]) fprintf(f, "<img src=\"%s\" alt=\"\">", s->img[SD_REP_IMG_PHOTO]);
        fprintf(f, "<img class=\"mask\" src=\"%s\" alt=\"", s->img[kind]);
        sd__rep_esc(f, sd__rep_img_label[kind]);
        fprintf(f, ", session ");
        sd__rep_esc(f, s->name);
        fprintf(f, "\"></a>");
    } else if (s->img[kind]) {
        fprintf(f, "<a href=\"%s\"><img src=\"%s\" alt=\"", s->img[kind], s->img[kind]);
        sd__rep_esc(f, sd__rep_img_label[kind]);
        fprintf(f, ", session ");
        sd__rep_esc(f, s->name);
        fprintf(f, "\"></a>");
    } else {
        fprintf(f, "<div class=\"missing\"><span>%s not available<br><code>",
                sd__rep_img_label[kind]);
        sd__rep_esc(f, s->src[kind] ? s->src[kind] : "");
        fprintf(f, "</code></span></div>");
    }
    if (caption) {
        fprintf(f, "<figcaption>");
        session_caption(f, s, pos);
        if (kind == SD_REP_IMG_PHOTO) {
            if (!s->has_align) fprintf(f, " <span class=\"badge b-bad\">not aligned</span>");
            else {
                fprintf(f, " <span class=\"badge %s\">QC ", sd__rep_status_class(s->status));
                sd__rep_esc(f, s->status);
                fprintf(f, "</span>");
            }
        }
        fprintf(f, "</figcaption>");
    }
    fprintf(f, "</figure>\n");
}

static void compare(FILE *f, const SdRepSession *base, const SdRepSession *fu, int id)
{
    fprintf(f, "<div class=\"cmp\">\n"
            "<input type=\"radio\" name=\"c%d\" id=\"c%db\" class=\"rb\" checked>"
            "<label for=\"c%db\">Before</label>"
            "<input type=\"radio\" name=\"c%d\" id=\"c%da\" class=\"ra\">"
            "<label for=\"c%da\">After</label>"
            "<input type=\"radio\" name=\"c%d\" id=\"c%dk\" class=\"rk\">"
            "<label for=\"c%dk\">Blink</label>\n<div class=\"stack\">\n",
            id, id, id, id, id, id, id, id, id);
    const SdRepSession *s2[2] = {base, fu};
    for (int k = 0; k < 2; k++) {
        fprintf(f, "<div class=\"%s\">", k ? "fa" : "fb");
        figure(f, s2[k], SD_REP_IMG_PHOTO, NULL, k, 0);
        fprintf(f, "<span class=\"tag\">");
        session_caption(f, s2[k], k);
        fprintf(f, "</span></div>\n");
    }
    fprintf(f, "</div>\n<p class=\"muted\">Both photos are registered onto the same frame: switch "
            "Before / After or Blink to see the change at the same place.</p></div>\n");
}

static void change_table(FILE *f, const SdRep *r, int base, int fu)
{
    char b1[32], b2[32];
    int rows = 0, nwarn = 0;
    for (int j = 0; j < r->regions.n; j++)
        for (int a = 0; a < r->metrics.n; a++)
            if (r->minfo[r->morder[a]].primary && sd__rep_change(r, fu, r->rorder[j], r->morder[a])) {
                rows++;
                a = r->metrics.n;
            }
    if (!rows) {
        fprintf(f, "<div class=\"chg\"><p class=\"bad\">No change scores for this follow-up (its photo or the "
                "baseline could not be scored; see the input errors above).</p></div>\n");
        return;
    }
    fprintf(f, "<div class=\"chg\"><table class=\"changes\">\n<tr><th class=\"l\" rowspan=\"2\">Region</th>");
    for (int a = 0; a < r->metrics.n; a++) {
        const SdRepMetric *mi = &r->minfo[r->morder[a]];
        if (!mi->primary) continue;
        fprintf(f, "<th colspan=\"2\">");
        sd__rep_esc(f, mi->label);
        if (mi->unit) { fprintf(f, " <span class=\"muted\">("); sd__rep_esc(f, mi->unit); fprintf(f, ")</span>"); }
        fprintf(f, "</th>");
    }
    fprintf(f, "</tr>\n<tr>");
    for (int a = 0; a < r->metrics.n; a++)
        if (r->minfo[r->morder[a]].primary)
            fprintf(f, "<th>before \xe2\x86\x92 after</th><th>improvement</th>");
    fprintf(f, "</tr>\n");
    for (int j = 0; j < r->regions.n; j++) {
        const int g = r->rorder[j];
        int any = 0;
        for (int a = 0; a < r->metrics.n; a++)
            any |= r->minfo[r->morder[a]].primary && sd__rep_change(r, fu, g, r->morder[a]);
        if (!any) continue;
        const int whole = !strcmp(r->regions.s[g], "face") || !strcmp(r->regions.s[g], "whole");
        fprintf(f, "<tr%s><td class=\"l\">", whole ? " class=\"whole\"" : "");
        sd__rep_esc(f, sd__rep_region_label(r, g));
        fprintf(f, "</td>");
        for (int a = 0; a < r->metrics.n; a++) {
            const int m = r->morder[a];
            if (!r->minfo[m].primary) continue;
            const SdRepChange *c = sd__rep_change(r, fu, g, m);
            if (!c) { fprintf(f, "<td class=\"muted\">\xe2\x80\x93</td><td></td>"); continue; }
            fprintf(f, "<td>%s \xe2\x86\x92 %s</td><td>", sd__rep_fmt(b1, 32, c->baseline),
                    sd__rep_fmt(b2, 32, c->value));
            sd__rep_change_badge2(f, r, c, m);
            fprintf(f, "</td>");
        }
        fprintf(f, "</tr>\n");
    }
    fprintf(f, "</table>\n");
    /* one QC line per pair (the tiers of both photos), not a sign on every cell */
    const int ids[2] = {base, fu};
    for (int k = 0; k < 2; k++) {
        const char *why = "", *tier = sd__rep_qc_tier(r, &r->ses[ids[k]], &why);
        if (!strcmp(tier, "ok")) continue;
        nwarn++;
        fprintf(f, "<p><span class=\"badge %s\">QC %s</span> %s ", !strcmp(tier, "warn") ? "b-warn" : "b-bad",
                tier, k ? "follow-up" : "baseline");
        sd__rep_esc(f, r->ses[ids[k]].name);
        fprintf(f, ": ");
        sd__rep_esc(f, why);
        fprintf(f, "%s</p>\n", !strcmp(tier, "warn") ? " (measured; read these changes with care)" : "");
    }
    if (!nwarn)
        fprintf(f, "<p><span class=\"badge b-good\">QC ok</span> both photos passed every check.</p>\n");
    fprintf(f, "<p class=\"muted\">Improvement: positive = better. "
            "<span class=\"badge b-good\">green \xe2\x9c\x93</span> better and "
            "<span class=\"badge b-bad\">red \xe2\x9c\x93</span> worse beyond the measurement "
            "noise (MDC95); <span class=\"badge b-none\">grey</span> within noise.</p></div>\n");
}

static void qc_table(FILE *f, const SdRep *r, const int *idx, int ns)
{
    char b[8][32];
    fprintf(f, "<table>\n<tr><th class=\"l\">Session</th><th>Face score</th>"
            "<th>Landmark RMS (px)</th><th>ECC</th><th>Scale</th><th>Rotation (\xc2\xb0)</th>"
            "<th>Shift x, y (px)</th><th>Skin overlap</th><th class=\"l\">Status</th></tr>\n");
    for (int i = 0; i < ns; i++) {
        const SdRepSession *s = &r->ses[idx[i]];
        fprintf(f, "<tr><td class=\"l\">");
        session_caption(f, s, i);
        if (!s->has_align) {
            fprintf(f, "</td><td colspan=\"8\" class=\"l\"><span class=\"badge b-bad\">no "
                    "alignment record</span></td></tr>\n");
            continue;
        }
        const double *a = s->a;
        const double sc = sqrt(fabs(a[0] * a[4] - a[1] * a[3]));
        const double rot = atan2(a[3], a[0]) * 180.0 / M_PI;
        fprintf(f, "</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s, %s</td>"
                "<td>%s</td><td class=\"l\"><span class=\"badge %s\">", sd__rep_fmt(b[0], 32, s->face_score),
                sd__rep_fmt(b[1], 32, s->rms), sd__rep_fmt(b[2], 32, s->ecc),
                sd__rep_fmt(b[3], 32, sc), sd__rep_fmt(b[4], 32, rot), sd__rep_fmt(b[5], 32, a[2]),
                sd__rep_fmt(b[6], 32, a[5]), sd__rep_fmt(b[7], 32, s->overlap),
                sd__rep_status_class(s->status));
        sd__rep_esc(f, s->status);
        fprintf(f, "</span>");
        if (s->reason && *s->reason) {
            fprintf(f, "<br><span class=\"muted\">");
            sd__rep_esc(f, s->reason);
            fprintf(f, "</span>");
        }
        fprintf(f, "</td></tr>\n");
    }
    fprintf(f, "</table>\n<p class=\"muted\">Face score: face detector confidence (0-1). Landmark "
            "RMS: mean distance of the 68 facial landmarks from their place on the baseline after "
            "registration (smaller = better aligned). ECC: correlation of the skin with the "
            "baseline after registration (1 = identical). Scale, rotation, shift: the transform "
            "that put the photo into the common frame. Skin overlap: share of the baseline skin "
            "that the follow-up covers.</p>\n");
}

/* Regions (other than the whole face) whose change is beyond noise in one direction. */
static int noise_list(FILE *f, const SdRep *r, int fu, int m, int face, int better, int print)
{
    int k = 0;
    for (int j = 0; j < r->regions.n; j++) {
        const int g = r->rorder[j];
        const SdRepChange *c = g == face ? NULL : sd__rep_change(r, fu, g, m);
        if (!c || c->beyond != 1 || (better ? !(c->impr > 0) : !(c->impr < 0))) continue;
        if (print) {
            fprintf(f, "%s", k ? ", " : "");
            sd__rep_esc(f, sd__rep_region_label(r, g));
        }
        k++;
    }
    return k;
}

/* The latest follow-up of this view in one sentence per primary metric. */
void sd__rep_patient_summary(FILE *f, const SdRep *r, const int *idx, int ns)
{
    int fu = -1;
    for (int i = ns - 1; i >= 1 && fu < 0; i--)
        if (r->ses[idx[i]].nchg) fu = idx[i];
    if (fu < 0) {
        fprintf(f, "<div class=\"box key\"><b>No follow-up of this view could be compared with "
                "its baseline.</b></div>\n");
        return;
    }
    int face = sd__rep_find(&r->regions, "face");
    if (face < 0) face = sd__rep_find(&r->regions, "whole");
    char b[32];
    fprintf(f, "<div class=\"box key\"><b>Latest follow-up (");
    sd__rep_esc(f, r->ses[fu].name);
    if (!isnan(r->ses[fu].days)) fprintf(f, ", day %s", sd__rep_fmt_1(b, 32, r->ses[fu].days));
    fprintf(f, ") versus baseline (");
    sd__rep_esc(f, r->ses[idx[0]].name);
    fprintf(f, ")</b>\n<ul class=\"headline\">\n");
    for (int a = 0; a < r->metrics.n; a++) {
        const int m = r->morder[a];
        if (!r->minfo[m].primary) continue;
        int nreg = 0;
        for (int j = 0; j < r->regions.n; j++)
            nreg += r->rorder[j] != face && sd__rep_change(r, fu, r->rorder[j], m) != NULL;
        const SdRepChange *c = face >= 0 ? sd__rep_change(r, fu, face, m) : NULL;
        if (!c && !nreg) continue;
        fprintf(f, "<li><b>");
        sd__rep_esc(f, r->minfo[m].label);
        fprintf(f, "</b> \xe2\x80\x94 ");
        if (c) {
            sd__rep_esc(f, sd__rep_region_label(r, face));
            fprintf(f, " ");
            sd__rep_change_badge2(f, r, c, m);
            fprintf(f, " (%s). ", c->beyond == 1 ? "beyond noise" : c->beyond == 0 ? "within noise"
                                                                                 : "noise unknown");
        }
        if (nreg) {
            const int nb = noise_list(f, r, fu, m, face, 1, 0), nw = noise_list(f, r, fu, m, face, 0, 0);
            fprintf(f, "Better beyond noise in %d of %d regions", nb, nreg);
            if (nb) { fprintf(f, " ("); noise_list(f, r, fu, m, face, 1, 1); fprintf(f, ")"); }
            if (nw) {
                fprintf(f, "; <span class=\"bad\">worse beyond noise</span> in %d (", nw);
                noise_list(f, r, fu, m, face, 0, 1);
                fprintf(f, ")");
            }
            fprintf(f, ".");
        }
        fprintf(f, "</li>\n");
    }
    fprintf(f, "</ul></div>\n");
}

/* Colour key of the regions overlay: one swatch per region of this run. */
static void region_legend(FILE *f, const SdRep *r)
{
    int k = 0;
    char col[8];
    for (int j = 0; j < r->regions.n; j++) {
        const int g = r->rorder[j];
        if (!sd__rep_region_colour(r, g, col)) continue;
        if (!k++) fprintf(f, "<p class=\"rlegend\"><b>Region colours:</b> ");
        fprintf(f, "<span><i style=\"background:%s\"></i>", col);
        sd__rep_esc(f, sd__rep_region_label(r, g));
        fprintf(f, "</span> ");
    }
    if (k) fprintf(f, "</p>\n");
}

/* The follow-up's change map with its colour scale, or a note why there is none. */
static void change_map(FILE *f, const SdRep *r, const SdRepSession *s, const SdRepSession *base)
{
    fprintf(f, "<div class=\"cmap\"><b>Change map</b> <span class=\"muted\">(on the baseline ");
    sd__rep_esc(f, base->name);
    fprintf(f, "; one panel per primary metric)</span>\n");
    if (!s->img[SD_REP_IMG_CHANGE]) {
        fprintf(f, "<p class=\"muted\">No change map for this follow-up (run with images; "
                "<code>");
        sd__rep_esc(f, s->src[SD_REP_IMG_CHANGE] ? s->src[SD_REP_IMG_CHANGE] : "");
        fprintf(f, "</code>).</p></div>\n");
        return;
    }
    sd__rep_change_map_labels(f, r, "900px");
    fprintf(f, "<a href=\"%s\"><img class=\"cmapimg\" src=\"%s\" alt=\"change map, session ",
            s->img[SD_REP_IMG_CHANGE], s->img[SD_REP_IMG_CHANGE]);
    sd__rep_esc(f, s->name);
    fprintf(f, "\"></a>\n<div class=\"scale\"><span class=\"bad\">worse</span><i></i>"
            "<span class=\"good\">better</span></div>\n<p class=\"muted\">Each 6 mm square of "
            "skin is measured in both photos: red = worse, green = better, in steps of the square's "
            "own measurement noise (full colour at 2 &times; its MDC95); uncoloured = within noise "
            "or not measured there.</p></div>\n");
}

static void view_section(FILE *f, const SdRep *r, int p, int v, const int *idx, int ns, int *cid)
{
    fprintf(f, "<h2>");
    sd__rep_esc(f, r->views.s[v]);
    fprintf(f, " view</h2>\n");
    sd__rep_patient_summary(f, r, idx, ns);
    fprintf(f, "<h3>Photos in the common frame <span class=\"muted\">(follow-ups registered onto "
            "the baseline)</span></h3>\n<div class=\"figs\">\n");
    for (int i = 0; i < ns; i++) figure(f, &r->ses[idx[i]], SD_REP_IMG_PHOTO, NULL, i, 1);
    fprintf(f, "</div>\n");
    for (int i = 1; i < ns; i++) {
        const SdRepSession *s = &r->ses[idx[i]];
        fprintf(f, "<h3>Follow-up ");
        sd__rep_esc(f, s->name);
        fprintf(f, " versus baseline ");
        sd__rep_esc(f, r->ses[idx[0]].name);
        fprintf(f, "</h3>\n<div class=\"pair\">\n");
        if (s->img[SD_REP_IMG_PHOTO] && r->ses[idx[0]].img[SD_REP_IMG_PHOTO])
            compare(f, &r->ses[idx[0]], s, (*cid)++);
        else
            figure(f, s->img[SD_REP_IMG_PHOTO] ? &r->ses[idx[0]] : s, SD_REP_IMG_PHOTO, NULL,
                   s->img[SD_REP_IMG_PHOTO] ? 0 : 1, 1);
        change_table(f, r, idx[0], idx[i]);
        change_map(f, r, s, &r->ses[idx[0]]);
        fprintf(f, "</div>\n");
    }
    fprintf(f, "<h3>Maps</h3>\n<p class=\"muted\">Regions: the anatomical areas that are measured. "
            "Wrinkle map: detected wrinkle lines. Spot map: detected pigment spots.</p>\n");
    fprintf(f, "<table class=\"maps\">\n<tr><th></th>");
    for (int i = 0; i < ns; i++) {
        fprintf(f, "<th>");
        session_caption(f, &r->ses[idx[i]], i);
        fprintf(f, "</th>");
    }
    fprintf(f, "</tr>\n");
    for (int k = SD_REP_IMG_REGIONS; k < SD_REP_IMG_CHANGE; k++) {
        fprintf(f, "<tr><th>%s</th>", sd__rep_img_label[k]);
        for (int i = 0; i < ns; i++) {
            fprintf(f, "<td>");
            figure(f, &r->ses[idx[i]], k, "sm", i, 0);
            fprintf(f, "</td>");
        }
        fprintf(f, "</tr>\n");
    }
    fprintf(f, "</table>\n");
    region_legend(f, r);
    const SdRepTrend *t = NULL;
    for (int k = 0; k < r->ntrd && !t; k++)
        if (r->trd[k].patient == p && r->trd[k].view == v && r->trd[k].unit[0]) t = &r->trd[k];
    fprintf(f, "<h3>Course over time</h3>\n<p class=\"muted\">One panel per region: the value at "
            "each session (black = baseline, dashed line = baseline level; green / red = better / "
            "worse beyond noise, grey = within noise). Slope = change ");
    for (const char *u = t ? t->unit : "per_session"; *u; u++) {
        char c[2] = {*u == '_' ? ' ' : *u, 0};
        sd__rep_esc(f, c);
    }
    fprintf(f, " from a least-squares line, with its 95%% CI when there are 3 or more sessions; "
            "coloured when the CI excludes zero.</p>\n");
    for (int a = 0; a < r->metrics.n; a++) {
        const int m = r->morder[a];
        const SdRepMetric *mi = &r->minfo[m];
        if (!mi->primary) continue;
        fprintf(f, "<h4>");
        sd__rep_esc(f, mi->label);
        fprintf(f, " <span class=\"muted\">(");
        if (mi->unit) { sd__rep_esc(f, mi->unit); fprintf(f, ", "); }
        fprintf(f, "%s is better)</span></h4>\n", mi->better > 0 ? "higher" : "lower");
        sd__rep_svg_trend(f, r, p, v, m, -1);
    }
    fprintf(f, "<h3>Alignment quality</h3>\n");
    qc_table(f, r, idx, ns);
}

int sd__rep_write_patient(SdCtx *ctx, const SdRep *r, int p)
{
    size_t n = strlen(r->rep_dir) + strlen(r->patient_file[p]) + 8;
    char *path = malloc(n);
    int *idx = sd_calloc_checked((size_t)r->nses + 1, sizeof(int));
    if (!path || !idx) {
        free(path); free(idx);
        return sd_fail(ctx, SD_ENOMEM, "out of memory");
    }
    snprintf(path, n, "%s/%s.html", r->rep_dir, r->patient_file[p]);
    SdAtomicFile af;
    int e = sd__rep_page_open(ctx, &af, path);
    if (e) goto done;
    FILE *f = af.f;
    int nses = 0;
    for (int i = 0; i < r->nses; i++) nses += r->ses[i].patient == p;
    char sub[128];
    snprintf(sub, sizeof(sub), "%d session photo%s", nses, nses == 1 ? "" : "s");
    {
        char *title = malloc(strlen(r->patients.s[p]) + 16);
        if (!title) { sd_atomic_abort(&af); e = sd_fail(ctx, SD_ENOMEM, "out of memory"); goto done; }
        sprintf(title, "Patient %s", r->patients.s[p]);
        sd__rep_page_head(f, title, sub, 1);
        free(title);
    }
    int nerr = 0;
    for (int k = 0; k < r->nerr; k++) nerr += r->err[k].patient == p;
    if (nerr) {
        fprintf(f, "<div class=\"box\"><b class=\"bad\">%d input%s of this patient failed</b> and "
                "%s left out:<ul>\n", nerr, nerr == 1 ? "" : "s", nerr == 1 ? "is" : "are");
        for (int k = 0; k < r->nerr; k++) {
            const SdRepError *x = &r->err[k];
            if (x->patient != p) continue;
            fprintf(f, "<li><code>");
            sd__rep_esc(f, x->path);
            fprintf(f, "</code> \xe2\x80\x94 ");
            sd__rep_esc(f, x->stage);
            fprintf(f, " stage, ");
            sd__rep_esc(f, x->code);
            fprintf(f, ": ");
            sd__rep_esc(f, x->message);
            fprintf(f, "</li>\n");
        }
        fprintf(f, "</ul></div>\n");
    }
    fprintf(f, "<p><a href=\"%s_summary.html\">One-page summary for printing</a></p>\n",
            r->patient_file[p]);
    int cid = 0, views = 0;
    for (int v = 0; v < r->views.n; v++) {
        const int ns = sd__rep_sessions(r, p, v, idx, r->nses + 1);
        if (!ns) continue;
        views++;
        view_section(f, r, p, v, idx, ns, &cid);
    }
    if (!views) fprintf(f, "<p class=\"bad\">No session of this patient was scored.</p>\n");
    sd__rep_page_foot(f, r);
    e = sd__rep_page_close(ctx, &af, path);
done:
    free(path);
    free(idx);
    return e;
}

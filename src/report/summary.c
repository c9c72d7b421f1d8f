/* The one-page summary of a patient, OUT/report/<patient>_summary.html: what a clinician prints
 * for the file. Per view the baseline and latest photo, the latest change map, the verdict per
 * primary metric, the whole-face trends with session labels, and the QC tier of every photo.
 * Sized for A4 / Letter portrait (a print style sheet shrinks the figures). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "src/report/report_int.h"
#include "src/core/core.h"

static const char print_css[] =
    "<style>\n.sum-figs{display:flex;gap:10px;align-items:flex-start;flex-wrap:wrap}"
    ".sum-figs img{width:220px;display:block;border:1px solid #d0d5dd}"
    ".sum-figs img.wide{width:330px}.sum-trends{display:flex;flex-wrap:wrap;gap:6px}"
    ".sum-trends>div{width:240px}.sum-trends svg{width:230px;display:block}.sum-qc{font-size:12.5px}\n"
    "@page{size:A4 portrait;margin:10mm}\n"
    "@media print{body{font-size:11px}main{padding:0}header{padding:4px 0}h2{margin-top:8px}"
    ".sum-figs img{width:150px}.sum-figs img.wide{width:250px}.sum-trends svg{width:170px}"
    "footer{margin-top:8px}a[href]{color:inherit;text-decoration:none}.noprint{display:none}}\n"
    "</style>\n";

static void photo(FILE *f, const SdRepSession *s, int kind, const char *cls, const char *what)
{
    char b[32];
    fprintf(f, "<figure>");
    if (s->img[kind]) {
        fprintf(f, "<img%s%s%s src=\"%s\" alt=\"", cls ? " class=\"" : "", cls ? cls : "",
                cls ? "\"" : "", s->img[kind]);
        sd__rep_esc(f, what);
        fprintf(f, "\">");
    } else {
        fprintf(f, "<div class=\"missing\" style=\"width:150px\">%s not available</div>", what);
    }
    fprintf(f, "<figcaption>%s ", what);
    sd__rep_esc(f, s->name);
    if (!isnan(s->days)) fprintf(f, ", day %s", sd__rep_fmt_1(b, 32, s->days));
    fprintf(f, "</figcaption></figure>\n");
}

static void view_summary(FILE *f, const SdRep *r, int p, int v, const int *idx, int ns)
{
    int fu = -1, face = sd__rep_find(&r->regions, "face");
    if (face < 0) face = sd__rep_find(&r->regions, "whole");
    for (int i = ns - 1; i >= 1 && fu < 0; i--)
        if (r->ses[idx[i]].nchg) fu = idx[i];
    fprintf(f, "<h2>");
    sd__rep_esc(f, r->views.s[v]);
    fprintf(f, " view</h2>\n<div class=\"sum-figs\">\n");
    photo(f, &r->ses[idx[0]], SD_REP_IMG_PHOTO, NULL, "Baseline");
    if (fu >= 0) {
        photo(f, &r->ses[fu], SD_REP_IMG_PHOTO, NULL, "Latest");
        fprintf(f, "<div>");
        if (r->ses[fu].img[SD_REP_IMG_CHANGE]) sd__rep_change_map_labels(f, r, "330px");
        photo(f, &r->ses[fu], SD_REP_IMG_CHANGE, "wide", "Change map");
        fprintf(f, "</div>");
    }
    fprintf(f, "</div>\n");
    if (fu >= 0 && r->ses[fu].img[SD_REP_IMG_CHANGE])
        fprintf(f, "<p class=\"muted\">Change map: red = worse, green = better than the baseline, "
                "in steps of each 6 mm square's own measurement noise; uncoloured = within "
                "noise.</p>\n");
    sd__rep_patient_summary(f, r, idx, ns);
    if (face >= 0) {
        fprintf(f, "<div class=\"sum-trends\">\n");
        for (int a = 0; a < r->metrics.n; a++) {
            const int m = r->morder[a];
            if (!r->minfo[m].primary) continue;
            fprintf(f, "<div><b>");
            sd__rep_esc(f, r->minfo[m].label);
            fprintf(f, "</b> <span class=\"muted\">(%s is better)</span>\n",
                    r->minfo[m].better > 0 ? "higher" : "lower");
            sd__rep_svg_trend(f, r, p, v, m, face);
            fprintf(f, "</div>\n");
        }
        fprintf(f, "</div>\n");
    }
    fprintf(f, "<p class=\"sum-qc\"><b>Photo quality:</b> ");
    for (int i = 0; i < ns; i++) {
        const SdRepSession *s = &r->ses[idx[i]];
        const char *why, *t = sd__rep_qc_tier(r, s, &why);
        fprintf(f, "%s<span class=\"badge %s\" title=\"", i ? " " : "",
                !strcmp(t, "ok") ? "b-good" : !strcmp(t, "warn") ? "b-warn" : "b-bad");
        sd__rep_esc(f, why);
        fprintf(f, "\">");
        sd__rep_esc(f, s->name);
        fprintf(f, " %s</span>", t);
        if (strcmp(t, "ok")) {
            fprintf(f, " <span class=\"muted\">");
            sd__rep_esc(f, why);
            fprintf(f, "</span>");
        }
    }
    fprintf(f, "</p>\n");
}

int sd__rep_write_summary(SdCtx *ctx, const SdRep *r, int p)
{
    size_t n = strlen(r->rep_dir) + strlen(r->patient_file[p]) + 24;
    char *path = malloc(n), *title = malloc(strlen(r->patients.s[p]) + 32);
    int *idx = sd_calloc_checked((size_t)r->nses + 1, sizeof(int));
    int e = 0;
    if (!path || !idx || !title) { e = sd_fail(ctx, SD_ENOMEM, "out of memory"); goto done; }
    snprintf(path, n, "%s/%s_summary.html", r->rep_dir, r->patient_file[p]);
    SdAtomicFile af;
    if ((e = sd__rep_page_open(ctx, &af, path))) goto done;
    FILE *f = af.f;
    sprintf(title, "Patient %s: summary", r->patients.s[p]);
    sd__rep_page_head(f, title, "one page for the patient's file", 1);
    fputs(print_css, f);
    fprintf(f, "<p class=\"noprint\"><a href=\"%s.html\">Full patient page</a></p>\n",
            r->patient_file[p]);
    int views = 0;
    for (int v = 0; v < r->views.n; v++) {
        const int ns = sd__rep_sessions(r, p, v, idx, r->nses + 1);
        if (!ns) continue;
        views++;
        view_summary(f, r, p, v, idx, ns);
    }
    if (!views) fprintf(f, "<p class=\"bad\">No session of this patient was scored.</p>\n");
    sd__rep_page_foot(f, r);
    e = sd__rep_page_close(ctx, &af, path);
done:
    free(path);
    free(title);
    free(idx);
    return e;
}

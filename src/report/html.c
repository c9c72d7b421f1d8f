/* The cohort page OUT/report/index.html (headline, forest plots, cohort tables, patients, QC) and
 * sd_report_write, which loads the run, copies the images and writes every page. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "skindelta/report.h"
#include "src/report/report_int.h"
#include "src/core/core.h"


#define coh_impr sd__rep_coh_impr

static int significant(const SdRep *r, const SdRepCohort *c, int dir)
{
    SdRepVerdict v;
    sd__rep_verdict(r, c, &v);
    return v.sig && v.dir == dir;
}

static int face_region(const SdRep *r)
{
    int g = sd__rep_find(&r->regions, "face");
    if (g < 0) g = sd__rep_find(&r->regions, "whole");
    return g >= 0 ? g : r->regions.n ? r->rorder[0] : -1;
}

/* Regions (other than skip) whose mean change is Holm-significant in the wanted direction. */
static void region_list(FILE *f, const SdRep *r, int view, int sidx, int m, int want_better,
                        int skip)
{
    int k = 0;
    char b[32];
    for (int j = 0; j < r->regions.n; j++) {
        const SdRepCohort *c = sd__rep_cohort(r, view, sidx, r->rorder[j], m);
        if (!c || r->rorder[j] == skip || !significant(r, c, want_better ? 1 : -1)) continue;
        const double im = coh_impr(c);
        fprintf(f, "%s", k++ ? ", " : "");
        sd__rep_esc(f, sd__rep_region_label(r, r->rorder[j]));
        fprintf(f, " <span class=\"%s\">%s</span>", want_better ? "good" : "bad",
                sd__rep_fmt_pct(b, sizeof(b), im));
    }
}

/* One line per primary metric: the whole face first, then the regions that changed. */
static void headline(FILE *f, const SdRep *r, int view, int sidx)
{
    char b1[32], b2[32], b3[32];
    const int face = face_region(r);
    fprintf(f, "<ul class=\"headline\">\n");
    for (int a = 0; a < r->metrics.n; a++) {
        const int m = r->morder[a];
        if (!r->minfo[m].primary) continue;
        int nreg = 0, nbetter = 0, nworse = 0, ntested = 0, ntoofew = 0;
        double minp = NAN;
        for (int j = 0; j < r->regions.n; j++) {
            const SdRepCohort *c = sd__rep_cohort(r, view, sidx, r->rorder[j], m);
            if (!c || r->rorder[j] == face) continue;
            nreg++;
            SdRepVerdict rv;
            sd__rep_verdict(r, c, &rv);
            ntested += rv.kind != SD_V_NOT_TESTED && rv.kind != SD_V_TOO_FEW;
            if (rv.kind == SD_V_TOO_FEW) {
                ntoofew++;
                minp = c->min_p;
            }
            nbetter += rv.sig && rv.dir > 0;
            nworse += rv.sig && rv.dir < 0;
        }
        const SdRepCohort *c = face >= 0 ? sd__rep_cohort(r, view, sidx, face, m) : NULL;
        if (!nreg && !c) continue;
        fprintf(f, "<li><b>");
        sd__rep_esc(f, r->minfo[m].label);
        fprintf(f, "</b> \xe2\x80\x94 ");
        if (c) {
            SdRepVerdict v;
            sd__rep_verdict(r, c, &v);
            sd__rep_esc(f, sd__rep_region_label(r, face));
            fprintf(f, " ");
            sd__rep_verdict_badge(f, &v);
            if (isfinite(v.impr)) {
                fprintf(f, " mean improvement <b>%s</b>", sd__rep_fmt_pct(b1, 32, v.impr));
                if (!isnan(c->impr_lo))
                    fprintf(f, " (95%% CI %s to %s, one follow-up)", sd__rep_fmt_1(b2, 32, c->impr_lo),
                            sd__rep_fmt_1(b3, 32, c->impr_hi));
            } else {
                fprintf(f, " mean change <b>%s</b>", sd__rep_fmt(b1, 32, c->mean_delta));
            }
            fprintf(f, " <span class=\"muted\">(");
            sd__rep_esc(f, v.why);
            fprintf(f, ")</span>");
            if (!isnan(c->resp))
                fprintf(f, "; individually, %s%% of patients improved by more than their own "
                        "measurement noise", sd__rep_fmt_1(b1, 32, c->resp));
            fprintf(f, ". ");
        }
        if (nreg && !ntested && ntoofew) {
            fprintf(f, "Regions (exploratory): too few patients for any region to reach "
                    "significance (smallest attainable Wilcoxon p %s).", sd__rep_fmt_p(b1, 32, minp));
        } else if (nreg && !ntested) {
            fprintf(f, "Regions (exploratory): no region could be tested (no variation, or "
                    "cohort.csv missing).");
        } else if (nreg) {
            fprintf(f, "Regions (exploratory): ");
            if (nbetter) {
                fprintf(f, "<span class=\"good\">Improved</span> in %d of %d regions: ", nbetter, nreg);
                region_list(f, r, view, sidx, m, 1, face);
            } else {
                fprintf(f, "No region improved significantly (of %d)", nreg);
            }
            if (nworse) {
                fprintf(f, "; <span class=\"bad\">worse</span> in %d: ", nworse);
                region_list(f, r, view, sidx, m, 0, face);
            }
            fprintf(f, ".");
        }
        fprintf(f, "</li>\n");
    }
    fprintf(f, "</ul>\n<p class=\"muted\">Improved / worse: the mean change across patients "
            "differs from zero with p &lt; 0.05 after the correction of its family: Holm for the "
            "confirmatory family (the primary metrics on the whole face), Benjamini-Hochberg for "
            "the exploratory one (regions, other metrics).</p>\n");
}

static void cohort_table(FILE *f, const SdRep *r, int view, int sidx, int primary)
{
    char b1[32], b2[32], b3[32];
    fprintf(f, "<table class=\"cohort\">\n<tr><th class=\"l\">Region</th><th>n</th>"
            "<th>Mean change [95%% CI]</th><th>Mean improvement</th>"
            "<th title=\"patients improved beyond the measurement noise\">Responders</th>"
            "<th>p (t-test)</th><th>p (Wilcoxon)</th><th title=\"Holm for confirmatory rows, "
            "Benjamini-Hochberg q for exploratory rows\">p (adjusted)</th><th>d<sub>z</sub></th>"
            "<th class=\"l\">Family</th><th class=\"l\">Verdict</th></tr>\n");
    for (int a = 0; a < r->metrics.n; a++) {
        const int m = r->morder[a];
        const SdRepMetric *mi = &r->minfo[m];
        if (mi->primary != primary) continue;
        int any = 0;
        for (int j = 0; j < r->regions.n; j++) {
            const int g = r->rorder[j];
            const SdRepCohort *c = sd__rep_cohort(r, view, sidx, g, m);
            if (!c) continue;
            if (!any++) {
                fprintf(f, "<tr class=\"grp\"><td colspan=\"11\">");
                sd__rep_esc(f, mi->label);
                fprintf(f, " <span class=\"muted\">(");
                sd__rep_esc(f, r->metrics.s[m]);
                if (mi->unit) { fprintf(f, ", "); sd__rep_esc(f, mi->unit); }
                fprintf(f, "%s)</span></td></tr>\n", mi->better < 0 ? ", lower is better"
                        : mi->better > 0 ? ", higher is better" : "");
            }
            fprintf(f, "<tr%s><td class=\"l\">", g == face_region(r) ? " class=\"whole\"" : "");
            sd__rep_esc(f, sd__rep_region_label(r, g));
            fprintf(f, "</td><td>%s</td>", sd__rep_fmt_1(b1, 32, isnan(c->n) ? c->impr_n : c->n));
            fprintf(f, "<td>%s [%s, %s]</td>", sd__rep_fmt(b1, 32, c->mean_delta),
                    sd__rep_fmt(b2, 32, c->lo), sd__rep_fmt(b3, 32, c->hi));
            SdRepVerdict v;
            sd__rep_verdict(r, c, &v);
            fprintf(f, "<td class=\"%s\">%s</td>", v.sig ? (v.dir > 0 ? "good" : "bad") : "",
                    sd__rep_fmt_pct(b1, 32, v.impr));
            fprintf(f, "<td>%s%s</td>", sd__rep_fmt_1(b1, 32, c->resp), isnan(c->resp) ? "" : "%");
            fprintf(f, "<td>%s</td>", sd__rep_fmt_p(b1, 32, c->t_p));
            fprintf(f, "<td>%s</td>", sd__rep_fmt_p(b1, 32, c->w_p));
            fprintf(f, "<td%s>%s</td>", v.sig ? " style=\"font-weight:700\"" : "",
                    sd__rep_fmt_p(b1, 32, v.p_adj));
            fprintf(f, "<td>%s</td><td class=\"l\">%s</td><td class=\"l\">", sd__rep_fmt(b1, 32, c->dz),
                    c->confirmatory ? "confirmatory" : "exploratory");
            sd__rep_verdict_badge(f, &v);
            fprintf(f, "</td></tr>\n");
        }
    }
    fprintf(f, "</table>\n");
}

static void legend(FILE *f, const SdRep *r)
{
    fprintf(f, "<details class=\"box\" open><summary>How to read this report</summary>\n"
        "<p>Every follow-up photo is aligned onto the same patient's baseline photo, and the skin is "
        "measured in the same anatomical regions in both. <b>Improvement</b> is the change from "
        "baseline in percent, signed so that <b>positive always means better</b> (for example less "
        "roughness). A change is <b>beyond noise</b> (\xe2\x9c\x93) when it is larger than the "
        "smallest change the method detects reliably (MDC95); smaller changes may be measurement "
        "variation. For the cohort, p values test whether the mean change differs from zero "
        "(paired t-test, Wilcoxon signed-rank). The tests are prespecified in two families: "
        "<b>confirmatory</b> = the primary metrics (\xe2\x98\x85) on the whole face at each follow-up, "
        "corrected by Holm; <b>exploratory</b> = every region and the other metrics, corrected by "
        "Benjamini-Hochberg (a false discovery rate: hypotheses for the next study, not claims). "
        "The adjusted p decides the verdict (<i>Not confirmed</i> = p &lt; 0.05 only before the "
        "correction; <i>Too few patients</i> = with so few patients even a change in every patient "
        "could not reach p &lt; 0.05 in a Wilcoxon test, whose smallest p is 2/2<sup>n</sup>: 0.125 "
        "for 4). A percent change is shown only where the baseline is clearly above zero (above the "
        "metric's floor and its MDC95); elsewhere \xce\x94 is the absolute change in the metric's unit. d<sub>z</sub> is the standardised "
        "effect size (about 0.2 small, 0.5 medium, 0.8 large; its sign follows the raw change). "
        "<b>Responders</b> = share of patients whose change was beyond noise in the better "
        "direction. Left and right are the patient's own.</p>\n<dl class=\"legend\">\n");
    for (int a = 0; a < r->metrics.n; a++) {
        const int m = r->morder[a];
        const SdRepMetric *mi = &r->minfo[m];
        fprintf(f, "<dt>");
        sd__rep_esc(f, mi->label);
        fprintf(f, "%s</dt><dd>", mi->primary ? " \xe2\x98\x85" : "");
        sd__rep_esc(f, mi->desc);
        fprintf(f, " <span class=\"muted\">(");
        sd__rep_esc(f, r->metrics.s[m]);
        if (mi->unit) { fprintf(f, ", unit "); sd__rep_esc(f, mi->unit); }
        fprintf(f, ")</span></dd>\n");
    }
    fprintf(f, "</dl>\n<p class=\"muted\">\xe2\x98\x85 = primary outcome.");
    double ppm;
    const SdJson *par = sd__json_get(&r->run, "parameters");
    const char *src = sd__json_str(par, "px_per_mm_source"), *mf;
    if (sd__json_num(par, "px_per_mm", &ppm)) {
        fprintf(f, " Physical scale used for mm and cm\xc2\xb2 figures: %.3g px/mm", ppm);
        if (src) {
            fprintf(f, " (");
            sd__rep_esc(f, src);
            fprintf(f, ")");
        }
        fprintf(f, ".");
    }
    /* where MDC95 (the beyond-noise line) came from */
    double nb;
    int recap = 0;
    if (!par) {
        /* no run.json parameters: nothing to say */
    } else if ((mf = sd__json_str(par, "mdc_file"))) {
        fprintf(f, " MDC95 from the repeatability study ");
        sd__rep_esc(f, mf);
        fprintf(f, ".");
    } else if ((mf = sd__json_str(par, "noise_model"))) {
        const int boot = sd__json_num(par, "bootstrap", &nb) && nb >= 2;
        fprintf(f, " MDC95 from the calibrated noise model (<code>");
        sd__rep_esc(f, mf);
        fprintf(f, "</code>): the capture-to-capture spread of each metric and region predicted "
                   "from what each photo shows (JPEG quality, noise, exposure, region size, "
                   "registration, how its capture differs from the baseline's), fitted on phantom "
                   "recaptures so that about 5%% of unchanged skin is called beyond noise%s. It "
                   "does not see day-to-day changes of the skin itself: a repeatability study "
                   "(<code>skindelta repeatability</code>, <code>run --mdc</code>) is the basis for "
                   "claims.", boot ? "; widened where a per-photo bootstrap found more" : "");
    } else if (sd__json_num(par, "bootstrap", &nb) && nb >= 2) {
        const int have = sd__json_bool(par, "bootstrap_recapture", &recap);
        fprintf(f, " MDC95 from a bootstrap of each photo (%.0f replicates: registration jitter, "
                   "noise%s); it does not see changes of pose, lighting or skin from day to day, so "
                   "\xe2\x9c\x93 is a screening flag: a repeatability study (<code>skindelta "
                   "repeatability</code>, <code>run --mdc</code>) is the basis for claims.",
                nb, have && recap ? ", each JPEG captured again at its own quality" : "");
    }
    fprintf(f, "</p></details>\n");
}

/* Latest follow-up session of a patient in a view that has change rows, or -1. */
static int latest_followup(const SdRep *r, int patient, int view, int *idx, int cap)
{
    const int n = sd__rep_sessions(r, patient, view, idx, cap);
    for (int i = n - 1; i >= 1; i--)
        if (r->ses[idx[i]].nchg) return idx[i];
    return -1;
}

static void patients_table(FILE *f, const SdRep *r)
{
    const int face = face_region(r);
    int *idx = sd_calloc_checked((size_t)r->nses + 1, sizeof(int));
    if (!idx) return;
    fprintf(f, "<table>\n<tr><th class=\"l\">Patient</th><th class=\"l\">View</th>"
            "<th>Sessions</th><th class=\"l\">Latest follow-up</th>");
    for (int a = 0; a < r->metrics.n; a++)
        if (r->minfo[r->morder[a]].primary) {
            fprintf(f, "<th>");
            sd__rep_esc(f, r->minfo[r->morder[a]].label);
            fprintf(f, "<br><span class=\"muted\">");
            if (face >= 0) sd__rep_esc(f, sd__rep_region_label(r, face));
            fprintf(f, ", latest</span></th>");
        }
    fprintf(f, "<th class=\"l\">Alignment QC</th><th>Input errors</th></tr>\n");
    int nprim = 0;
    for (int m = 0; m < r->metrics.n; m++) nprim += r->minfo[m].primary;
    for (int i = 0; i < r->patients.n; i++) {
        const int p = r->porder[i];
        int nerr = 0;
        for (int k = 0; k < r->nerr; k++) nerr += r->err[k].patient == p;
        int rows = 0;
        for (int v = 0; v < r->views.n; v++) {
            const int ns = sd__rep_sessions(r, p, v, idx, r->nses + 1);
            if (!ns) continue;
            int flagged = 0, failed = 0, noqc = 0;
            for (int s = 0; s < ns; s++) {
                const SdRepSession *x = &r->ses[idx[s]];
                const char *cls = x->has_align ? sd__rep_status_class(x->status) : NULL;
                if (!x->has_align) noqc++;
                else if (!strcmp(cls, "b-bad")) failed++;
                else if (!strcmp(cls, "b-warn")) flagged++;
            }
            const int last = latest_followup(r, p, v, idx, r->nses + 1);
            fprintf(f, "<tr><td class=\"l\">");
            if (!rows) {
                fprintf(f, "<a href=\"%s.html\">", r->patient_file[p]);
                sd__rep_esc(f, r->patients.s[p]);
                fprintf(f, "</a> <a class=\"muted\" href=\"%s_summary.html\">(1 page)</a>",
                        r->patient_file[p]);
            }
            fprintf(f, "</td><td class=\"l\">");
            sd__rep_esc(f, r->views.s[v]);
            fprintf(f, "</td><td>%d</td><td class=\"l\">", ns);
            if (last >= 0) {
                char b[32];
                sd__rep_esc(f, r->ses[last].name);
                if (!isnan(r->ses[last].days))
                    fprintf(f, " <span class=\"muted\">day %s</span>", sd__rep_fmt_1(b, 32, r->ses[last].days));
            } else {
                fprintf(f, "<span class=\"muted\">none scored</span>");
            }
            fprintf(f, "</td>");
            for (int a = 0; a < r->metrics.n; a++) {
                const int m = r->morder[a];
                if (!r->minfo[m].primary) continue;
                const SdRepChange *c = last >= 0 && face >= 0 ? sd__rep_change(r, last, face, m) : NULL;
                fprintf(f, "<td>");
                if (c) sd__rep_change_badge2(f, r, c, m);
                else fprintf(f, "<span class=\"muted\">\xe2\x80\x93</span>");
                fprintf(f, "</td>");
            }
            fprintf(f, "<td class=\"l\">");
            if (flagged) fprintf(f, "<span class=\"badge b-warn\">%d warn</span> ", flagged);
            if (failed) fprintf(f, "<span class=\"badge b-bad\">%d fail</span> ", failed);
            if (noqc) fprintf(f, "<span class=\"badge b-bad\">%d not aligned</span>", noqc);
            if (!flagged && !failed && !noqc) fprintf(f, "<span class=\"badge b-good\">all ok</span>");
            fprintf(f, "</td><td>%s%d%s</td></tr>\n", nerr && !rows ? "<b class=\"bad\">" : "",
                    rows ? 0 : nerr, nerr && !rows ? "</b>" : "");
            rows++;
        }
        if (!rows) {
            fprintf(f, "<tr><td class=\"l\"><a href=\"%s.html\">", r->patient_file[p]);
            sd__rep_esc(f, r->patients.s[p]);
            fprintf(f, "</a></td><td class=\"l\" colspan=\"%d\">no sessions scored</td><td>%d</td></tr>\n",
                    nprim + 4, nerr);
        }
    }
    fprintf(f, "</table>\n<p class=\"muted\">Badges: change of the latest follow-up versus "
            "baseline; green/red = better/worse beyond measurement noise (\xe2\x9c\x93), grey = "
            "within noise.</p>\n");
    free(idx);
}

/* Opens a QC table row: patient (linked to its page), view and session cells. */
static void session_cells(FILE *f, const SdRep *r, const SdRepSession *s)
{
    fprintf(f, "<tr><td class=\"l\"><a href=\"%s.html\">", r->patient_file[s->patient]);
    sd__rep_esc(f, r->patients.s[s->patient]);
    fprintf(f, "</a></td><td class=\"l\">");
    sd__rep_esc(f, r->views.s[s->view]);
    fprintf(f, "</td><td class=\"l\">");
    sd__rep_esc(f, s->name);
    fprintf(f, "</td>");
}

/* Follow-ups whose capture differs from their baseline's in a way the metrics do not remove
 * (JPEG compression: the run notes it in alignment.csv's reason column). */
static void capture_section(FILE *f, const SdRep *r)
{
    static const char key[] = "compression differs from the baseline";
    int n = 0;
    for (int i = 0; i < r->nses; i++) {
        const SdRepSession *s = &r->ses[i];
        if (!s->has_align || !s->reason || !strstr(s->reason, key)) continue;
        if (!n++)
            fprintf(f, "<h3>Capture</h3>\n<p>These follow-ups were saved with another JPEG quality or "
                    "chroma subsampling than their baseline. Compression moves texture, wrinkle and "
                    "pigment measurements by several percent on its own (most on dark skin; "
                    "docs/METRICS.md), so read their changes with that margin.</p>\n<table>\n"
                    "<tr><th class=\"l\">Patient</th><th class=\"l\">View</th><th class=\"l\">"
                    "Session</th><th class=\"l\">Note</th></tr>\n");
        session_cells(f, r, s);
        fprintf(f, "<td class=\"l\">");
        sd__rep_esc(f, s->reason);
        fprintf(f, "</td></tr>\n");
    }
    if (n)
        fprintf(f, "</table>\n");
}

static void qc_section(FILE *f, const SdRep *r)
{
    char b1[32], b2[32], b3[32];
    fprintf(f, "<h2 id=\"qc\">Quality control</h2>\n");
    {
        /* three tiers: ok, warn (measured, read with care: the reason says why), fail (not
         * measured: an input error, or a registration that failed its checks) */
        int nok = 0, nwarn = 0, nfail = 0;
        for (int i = 0; i < r->nses; i++) {
            const char *why, *t = sd__rep_qc_tier(r, &r->ses[i], &why);
            if (!strcmp(t, "ok")) nok++;
            else if (!strcmp(t, "warn")) nwarn++;
            else if (r->ses[i].has_align) nfail++;   /* no alignment row: counted by its error */
        }
        nfail += r->nerr;
        fprintf(f, "<p class=\"qc-tiers\"><span class=\"badge b-good\">ok %d</span> measured, "
                "nothing to note &middot; <span class=\"badge b-warn\">warn %d</span> measured, "
                "read with care (the reason is given below) &middot; <span class=\"badge b-bad\">"
                "fail %d</span> not measured</p>\n", nok, nwarn, nfail);
    }
    fprintf(f, "<h3>Alignment</h3>\n");
    double ew, ef, rw, rf, ow, of;
    const SdJson *par = sd__json_get(&r->run, "parameters");
    if (sd__json_num(par, "qc_ecc_warn", &ew) && sd__json_num(par, "qc_ecc_fail", &ef) &&
        sd__json_num(par, "qc_landmark_rms_warn_iod", &rw) &&
        sd__json_num(par, "qc_landmark_rms_fail_iod", &rf) &&
        sd__json_num(par, "qc_overlap_warn", &ow) && sd__json_num(par, "qc_overlap_fail", &of))
        fprintf(f, "<p class=\"muted\">Thresholds of this run: a pair is flagged when ECC &lt; %g, "
                "landmark RMS &gt; %g &times; the inter-ocular distance or skin overlap &lt; %g; it "
                "fails when ECC &lt; %g, RMS &gt; %g &times; IOD or overlap &lt; %g.</p>\n",
                ew, rw, ow, ef, rf, of);
    if (!r->have_align) {
        fprintf(f, "<p class=\"bad\">alignment.csv is missing: alignment quality is unknown.</p>\n");
    } else {
        SdRepStrs st = {0};
        int cnt[64] = {0}, nal = 0;
        for (int i = 0; i < r->nses; i++)
            if (r->ses[i].has_align) {
                int k = sd__rep_intern(&st, r->ses[i].status);
                if (k >= 0 && k < 64) cnt[k]++;
                nal++;
            }
        fprintf(f, "<p>%d images with an alignment record:", nal);
        for (int k = 0; k < st.n && k < 64; k++) {
            fprintf(f, " <span class=\"badge %s\">", sd__rep_status_class(st.s[k]));
            sd__rep_esc(f, st.s[k]);
            fprintf(f, " %d</span>", cnt[k]);
        }
        fprintf(f, "</p>\n");
        sd__rep_strs_free(&st);
        int hdr = 0;
        for (int i = 0; i < r->nses; i++) {
            const SdRepSession *s = &r->ses[i];
            if (!s->has_align || !strcmp(s->status, "ok")) continue;
            if (!hdr++)
                fprintf(f, "<table>\n<tr><th class=\"l\">Patient</th><th class=\"l\">View</th>"
                        "<th class=\"l\">Session</th><th>Face score</th><th>Landmark RMS (px)</th>"
                        "<th>ECC</th><th class=\"l\">Status</th></tr>\n");
            session_cells(f, r, s);
            fprintf(f, "<td>%s</td><td>%s</td><td>%s</td><td class=\"l\"><span class=\"badge "
                    "%s\">", sd__rep_fmt(b1, 32, s->face_score), sd__rep_fmt(b2, 32, s->rms),
                    sd__rep_fmt(b3, 32, s->ecc), sd__rep_status_class(s->status));
            sd__rep_esc(f, s->status);
            fprintf(f, "</span>");
            if (s->reason && *s->reason) {
                fprintf(f, " <span class=\"muted\">");
                sd__rep_esc(f, s->reason);
                fprintf(f, "</span>");
            }
            fprintf(f, "</td></tr>\n");
        }
        fprintf(f, hdr ? "</table>\n" : "<p>Every image passed the alignment checks.</p>\n");
        capture_section(f, r);
    }
    fprintf(f, "<h3>Images</h3>\n");
    if (!r->nimg_missing) {
        fprintf(f, "<p>Every scored session has its aligned photo.</p>\n");
    } else {
        fprintf(f, "<p><span class=\"badge b-warn\">%d missing</span> aligned photos (the input "
                "failed or was not written):</p>\n<ul>\n", r->nimg_missing);
        for (int i = 0; i < r->nses; i++) {
            const SdRepSession *s = &r->ses[i];
            if (s->img[SD_REP_IMG_PHOTO]) continue;
            fprintf(f, "<li><a href=\"%s.html\">", r->patient_file[s->patient]);
            sd__rep_esc(f, r->patients.s[s->patient]);
            fprintf(f, "</a>, ");
            sd__rep_esc(f, r->views.s[s->view]);
            fprintf(f, ", session ");
            sd__rep_esc(f, s->name);
            fprintf(f, ": <code>");
            sd__rep_esc(f, s->src[SD_REP_IMG_PHOTO] ? s->src[SD_REP_IMG_PHOTO] : "");
            fprintf(f, "</code></li>\n");
        }
        fprintf(f, "</ul>\n");
    }
    fprintf(f, "<h3>Input errors</h3>\n");
    if (!r->have_err) {
        fprintf(f, "<p class=\"muted\">errors.csv is missing.</p>\n");
    } else if (!r->nerr) {
        fprintf(f, "<p>No input failed.</p>\n");
    } else {
        fprintf(f, "<p><span class=\"badge b-bad\">%d</span> inputs failed and were left out of "
                "the statistics:</p>\n<table>\n<tr><th class=\"l\">File</th><th class=\"l\">Stage"
                "</th><th class=\"l\">Code</th><th class=\"l\">Message</th></tr>\n", r->nerr);
        for (int i = 0; i < r->nerr; i++) {
            const SdRepError *x = &r->err[i];
            const char *fields[4] = {x->path, x->stage, x->code, x->message};
            fprintf(f, "<tr>");
            for (int k = 0; k < 4; k++) {
                fprintf(f, "<td class=\"l\">");
                sd__rep_esc(f, fields[k]);
                fprintf(f, "</td>");
            }
            fprintf(f, "</tr>\n");
        }
        fprintf(f, "</table>\n");
    }
}

/* Patients compared at follow-up sidx of view (largest n of its cohort rows). */
static int sidx_n(const SdRep *r, int view, int sidx)
{
    double n = 0;
    for (int i = 0; i < r->ncoh; i++) {
        const SdRepCohort *c = &r->coh[i];
        const double k = c->n >= 0 && c->n < 1e9 ? c->n : c->impr_n;
        if (c->view == view && c->sidx == sidx && k > n) n = k;
    }
    return (int)n;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return x < y ? -1 : x > y;
}

static void followup_section(FILE *f, const SdRep *r, int v, int sidx)
{
    char b[32];
    const double days = sd__rep_sidx_days(r, v, sidx);
    fprintf(f, "<h2 id=\"v%d-s%d\">", v, sidx);
    sd__rep_esc(f, r->views.s[v]);
    fprintf(f, " view \xe2\x80\x94 follow-up %d", sidx);
    fprintf(f, " <span class=\"muted\">(");
    if (!isnan(days)) fprintf(f, "day %s median, ", sd__rep_fmt_1(b, 32, days));
    fprintf(f, "%d patients)</span>", sidx_n(r, v, sidx));
    fprintf(f, "</h2>\n<div class=\"box\"><b>At a glance</b> (primary outcomes, follow-up "
            "versus baseline):\n");
    headline(f, r, v, sidx);
    fprintf(f, "</div>\n<h3>Improvement per region</h3>\n");
    if (!sd__rep_svg_forest(f, r, v, sidx, 1))
        fprintf(f, "<p class=\"muted\">No change data for the primary metrics.</p>\n");
    fprintf(f, "<p class=\"muted\">Square = mean improvement across patients, line = 95%% "
            "confidence interval; filled square = significant after Holm correction. Right of the "
            "zero line = better.</p>\n<h3>Cohort statistics</h3>\n");
    cohort_table(f, r, v, sidx, 1);
    fprintf(f, "<details><summary>Other metrics</summary>\n");
    if (!sd__rep_svg_forest(f, r, v, sidx, 0))
        fprintf(f, "<p class=\"muted\">No other metrics.</p>\n");
    cohort_table(f, r, v, sidx, 0);
    fprintf(f, "</details>\n");
}

/* A merge with shards missing (merge --allow-partial): the cohort covers only some patients. */
static void partial_note(FILE *f, const SdRep *r)
{
    int partial = 0;
    if (!sd__json_bool(&r->run, "partial", &partial) || !partial) return;
    const SdJson *sh = sd__json_get(&r->run, "shards"), *miss = sd__json_get(sh, "missing");
    double count = 0;
    fprintf(f, "<p class=\"b-warn\"><strong>Partial merge:</strong> shard");
    if (miss && miss->type == SD_JSON_ARR) {
        fprintf(f, "%s", miss->n > 1 ? "s" : "");
        for (int i = 0; i < miss->n; i++)
            fprintf(f, "%s%.0f", i ? ", " : " ", miss->items[i].type == SD_JSON_NUM ? miss->items[i].num : -1);
    }
    if (sd__json_num(sh, "count", &count)) fprintf(f, " of %.0f", count);
    fprintf(f, " missing: the cohort statistics cover only the patients of the merged shards.</p>\n");
}

static int write_index(SdCtx *ctx, const SdRep *r)
{
    char *path = sd_path_join(r->rep_dir, "index.html");
    if (!path) return sd_fail(ctx, SD_ENOMEM, "out of memory");
    SdAtomicFile af;
    int e = sd__rep_page_open(ctx, &af, path);
    if (e) { free(path); return e; }
    FILE *f = af.f;
    int *sx = sd_calloc_checked((size_t)r->ncoh + 1, sizeof(int));
    if (!sx) { sd_atomic_abort(&af); free(path); return sd_fail(ctx, SD_ENOMEM, "out of memory"); }
    int nfollow = 0;
    for (int i = 0; i < r->nses; i++) nfollow += r->ses[i].index >= 1;
    char sub[256];
    snprintf(sub, sizeof(sub), "%d patient%s &middot; %d follow-up photo%s &middot; %d view%s",
             r->patients.n, r->patients.n == 1 ? "" : "s", nfollow, nfollow == 1 ? "" : "s",
             r->views.n, r->views.n == 1 ? "" : "s");
    sd__rep_page_head(f, "Treatment course report", sub, 0);
    partial_note(f, r);
    fprintf(f, "<p>Contents: ");
    for (int v = 0; v < r->views.n; v++) {
        int n = 0;
        for (int i = 0; i < r->ncoh; i++)
            if (r->coh[i].view == v && r->coh[i].sidx >= 1) sx[n++] = r->coh[i].sidx;
        qsort(sx, (size_t)n, sizeof(int), cmp_int);
        for (int i = 0; i < n; i++) {
            if (i && sx[i] == sx[i - 1]) continue;
            fprintf(f, "<a href=\"#v%d-s%d\">", v, sx[i]);
            sd__rep_esc(f, r->views.s[v]);
            fprintf(f, " follow-up %d</a> &middot; ", sx[i]);
        }
    }
    fprintf(f, "<a href=\"#patients\">patients</a> &middot; <a href=\"#qc\">quality control</a></p>\n");
    if (!r->have_coh)
        fprintf(f, "<p class=\"bad\">cohort.csv is missing: p values and responder rates are not "
                "available%s.</p>\n", r->have_chg ? " (improvements below come from changes.csv)" : "");
    for (int v = 0; v < r->views.n; v++) {
        int last = 0;
        for (int i = 0; i < r->ncoh; i++)
            if (r->coh[i].view == v && r->coh[i].sidx > last) last = r->coh[i].sidx;
        if (!last) continue;
        char b[32];
        const double days = sd__rep_sidx_days(r, v, last);
        fprintf(f, "<div class=\"box key\"><b>Key findings \xe2\x80\x94 ");
        sd__rep_esc(f, r->views.s[v]);
        fprintf(f, " view, latest follow-up (%d", last);
        if (!isnan(days)) fprintf(f, ", day %s", sd__rep_fmt_1(b, 32, days));
        fprintf(f, ") versus baseline, %d patients</b>\n", sidx_n(r, v, last));
        headline(f, r, v, last);
        fprintf(f, "</div>\n");
    }
    legend(f, r);
    int sections = 0;
    for (int v = 0; v < r->views.n; v++) {
        int n = 0;
        for (int i = 0; i < r->ncoh; i++)
            if (r->coh[i].view == v && r->coh[i].sidx >= 1) sx[n++] = r->coh[i].sidx;
        qsort(sx, (size_t)n, sizeof(int), cmp_int);
        for (int i = 0; i < n; i++)
            if (!i || sx[i] != sx[i - 1]) { followup_section(f, r, v, sx[i]); sections++; }
    }
    if (!sections)
        fprintf(f, "<h2>Cohort</h2><p class=\"muted\">No follow-up was scored, so there is no "
                "change to report yet.</p>\n");
    fprintf(f, "<h2 id=\"patients\">Patients</h2>\n");
    patients_table(f, r);
    qc_section(f, r);
    sd__rep_page_foot(f, r);
    free(sx);
    e = sd__rep_page_close(ctx, &af, path);
    free(path);
    return e;
}

int sd_report_write(SdCtx *ctx, const char *out_dir)
{
    SdRep r;
    memset(&r, 0, sizeof(r));
    int e = sd__rep_load(ctx, out_dir, &r);
    if (e) goto fail;
    if (!(r.rep_dir = sd_path_join(out_dir, "report"))) {
        e = sd_fail(ctx, SD_ENOMEM, "out of memory");
        goto fail;
    }
    if (sd_mkdir_p(r.rep_dir)) {
        e = sd_fail(ctx, SD_EIO, "%s: cannot create folder: %s", r.rep_dir, strerror(errno));
        goto fail;
    }
    if ((e = sd__rep_images(ctx, &r))) goto fail;
    if ((e = write_index(ctx, &r))) goto fail;
    for (int p = 0; p < r.patients.n && !e; p++) {
        e = sd__rep_write_patient(ctx, &r, p);
        if (!e) e = sd__rep_write_summary(ctx, &r, p);
    }
fail:
    sd__rep_free(&r);
    return e;
}

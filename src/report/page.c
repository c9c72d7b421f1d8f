/* Page parts shared by the report pages: the inline style sheet, header and footer, badges and
 * atomic page files. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "src/report/report_int.h"
#include "src/core/core.h"

static const char css[] =
    ":root{--good:#1a7f37;--bad:#b42318;--muted:#667085;--line:#d0d5dd;--navy:#1d3557}\n"
    "body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d2939;"
    "margin:0;background:#fff}\n"
    "header{background:var(--navy);color:#fff;padding:14px 28px}header h1{margin:0;font-size:24px}\n"
    "header p{margin:4px 0 0;color:#d8e2f0}header a{color:#cfe3ff}\n"
    "main{padding:4px 28px 40px;max-width:1500px}\n"
    "h2{border-bottom:2px solid var(--navy);padding-bottom:4px;margin-top:34px}h3{margin:22px 0 6px}\n"
    "table{border-collapse:collapse;margin:8px 0 14px;font-size:13.5px}\n"
    "th,td{border:1px solid var(--line);padding:3px 8px;text-align:right;vertical-align:top}\n"
    "th{background:#eef2f6;font-weight:600}td.l,th.l{text-align:left}\n"
    "tr.grp td{background:#f3f6fa;font-weight:700;text-align:left}\n"
    ".muted{color:var(--muted)}.good{color:var(--good)}.bad{color:var(--bad)}\n"
    ".badge{display:inline-block;padding:1px 7px;border-radius:10px;font-size:12.5px;"
    "font-weight:600;white-space:nowrap}\n"
    ".b-good{background:#dcfae6;color:#085d3a}.b-bad{background:#fee4e2;color:#912018}"
    ".b-none{background:#f2f4f7;color:#475467}.b-warn{background:#fef0c7;color:#93370d}\n"
    ".box{background:#f8f9fb;border:1px solid var(--line);border-radius:8px;padding:10px 16px;"
    "margin:12px 0}\n"
    ".headline li{margin:4px 0}.key{border-left:5px solid var(--navy);background:#f4f7fb}\n"
    "details>summary{cursor:pointer;font-weight:600;margin:8px 0}\n"
    "dl.legend{display:grid;grid-template-columns:max-content 1fr;gap:3px 14px;margin:6px 0}"
    "dl.legend dt{font-weight:600}dl.legend dd{margin:0}\n"
    ".figs{display:flex;flex-wrap:wrap;gap:14px;align-items:flex-start}\n"
    "figure{margin:0}figcaption{font-size:13px;color:#344054;margin-top:3px}\n"
    "figure img,.missing{width:260px;display:block;border:1px solid var(--line)}\n"
    ".missing{aspect-ratio:4/5;display:flex;align-items:center;justify-content:center;"
    "text-align:center;padding:10px;box-sizing:border-box;font-size:13px;color:#475467;"
    "background:repeating-linear-gradient(45deg,#f2f4f7 0 10px,#e4e7ec 10px 20px)}\n"
    ".pair{display:flex;flex-wrap:wrap;gap:22px;align-items:flex-start;margin:10px 0 24px}\n"
    ".cmp{width:400px}.cmp input{position:absolute;opacity:0;pointer-events:none}\n"
    ".cmp label{display:inline-block;padding:3px 11px;border:1px solid #98a2b3;border-radius:5px;"
    "margin:0 4px 6px 0;cursor:pointer;font-size:13.5px;background:#fff}\n"
    ".cmp input:checked+label{background:var(--navy);color:#fff;border-color:var(--navy)}\n"
    ".stack{position:relative}.stack figure img,.stack .missing{width:400px}\n"
    "figure.sm img,figure.sm .missing{width:280px}.missing code{word-break:break-all}\n"
    /* an overlay mask over the photo's preview: same width, same aspect, same corner */
    ".ovl{position:relative;display:block;width:fit-content;background:#222}"
    ".ovl img.mask{position:absolute;top:0;left:0}\n"
    "tr.whole td{font-weight:600}table.changes{font-size:13px}.chg{flex:1 1 560px;min-width:0}\n"
    "table.maps th{background:none}\n"
    "table.maps td,table.maps th{border:none;padding:0 10px 10px 0;text-align:left;vertical-align:top}\n"
    ".stack .fb{position:relative}.stack .fa{position:absolute;top:0;left:0;opacity:0}\n"
    ".ra:checked~.stack .fa{opacity:1}.rk:checked~.stack .fa{animation:sdblink 1.6s steps(1) infinite}\n"
    "@keyframes sdblink{0%{opacity:0}50%{opacity:1}}\n"
    ".tag{position:absolute;top:6px;left:6px;background:rgba(29,53,87,.85);color:#fff;"
    "padding:2px 8px;border-radius:4px;font-size:13px}\n"
    "svg{max-width:100%;height:auto}\n"
    ".rlegend span{display:inline-block;margin:0 12px 4px 0;white-space:nowrap}"
    ".rlegend i{display:inline-block;width:12px;height:12px;border:1px solid #667085;"
    "margin-right:4px;vertical-align:-1px}\n"
    ".cmap{flex:1 1 100%}.cmapimg{width:100%;max-width:900px;display:block;border:1px solid var(--line)}"
    ".scale{display:flex;align-items:center;gap:8px;margin:6px 0;font-size:13px;max-width:420px}"
    ".scale i{flex:1;height:12px;border:1px solid var(--line);"
    "background:linear-gradient(90deg,#b42318,#f2d0cc 40%,#fff 50%,#cfe9d6 60%,#1a7f37)}\n"
    ".qc-tiers .badge{margin-right:6px}\n"
    ".cmlab{display:flex;font-size:12.5px;font-weight:600;color:#344054}"
    ".cmlab span{flex:1;text-align:center}\n"
    "footer{color:var(--muted);font-size:12.5px;border-top:1px solid var(--line);margin-top:40px;"
    "padding-top:8px}\n"
    /* on paper: before and after one above the other, no toggle buttons */
    "@media print{header{background:#fff;color:#000}header p{color:#333}.cmp label{display:none}"
    ".stack .fa{position:relative;opacity:1!important;animation:none!important;margin-top:6px}"
    "h2,h3{break-after:avoid}figure,tr,svg{break-inside:avoid}}\n";

void sd__rep_page_head(FILE *f, const char *title, const char *subtitle_html, int back_link)
{
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
    sd__rep_esc(f, title);
    fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<header>\n<h1>", css);
    sd__rep_esc(f, title);
    fprintf(f, "</h1>\n<p>%s%s</p>\n</header>\n<main>\n", subtitle_html,
            back_link ? " &middot; <a href=\"index.html\">&larr; cohort overview</a>" : "");
}

void sd__rep_page_foot(FILE *f, const SdRep *r)
{
    static const char *const keys[] = {"version", "git_revision", "cpu_level", "finished_utc"};
    fprintf(f, "<footer>Report written by skindelta %s from the CSV files of the run", sd_version());
    int k = 0;
    for (int i = 0; i < (int)(sizeof(keys) / sizeof(keys[0])); i++) {
        const char *v = sd__json_str(&r->run, keys[i]);
        if (v) {
            char cut[128];   /* (provenance: a long value is cut, as it always was) */
            snprintf(cut, sizeof(cut), "%s", v);
            fprintf(f, "%s%s ", k++ ? ", " : " (run: ", keys[i]);
            sd__rep_esc(f, cut);
        }
    }
    if (k) fprintf(f, ")");
    fprintf(f, ". Research software: the numbers are measurements from photographs, not a "
            "diagnosis.</footer>\n</main>\n</body>\n</html>\n");
}

const char *sd__rep_status_class(const char *status)
{
    if (!status) return "b-bad";
    if (!strcmp(status, "ok")) return "b-good";
    if (strstr(status, "fail") || strstr(status, "error")) return "b-bad";
    return "b-warn";
}

const char *sd__rep_qc_tier(const SdRep *r, const SdRepSession *s, const char **why)
{
    (void)r;
    *why = "";
    if (!s->has_align || !s->status) {
        *why = "not aligned: see the input errors";
        return "fail";
    }
    if (!strcmp(s->status, "ok")) return "ok";
    *why = s->reason && *s->reason ? s->reason : s->status;
    if (strstr(s->status, "fail") || strstr(s->status, "error")) return "fail";
    return "warn";
}

void sd__rep_change_badge(FILE *f, double impr, int beyond)
{
    char b[32];
    if (isnan(impr)) {
        fprintf(f, "<span class=\"badge b-none\" title=\"percent change not defined (baseline "
                "value 0 or missing)\">\xe2\x80\x93</span>");
        return;
    }
    const char *cls = beyond == 1 ? (impr > 0 ? "b-good" : "b-bad") : "b-none";
    fprintf(f, "<span class=\"badge %s\" title=\"%s\">%s%s</span>", cls,
            beyond == 1 ? "larger than the measurement noise (MDC95)"
                        : beyond == 0 ? "within the measurement noise (MDC95)" : "noise level unknown",
            sd__rep_fmt_pct(b, sizeof(b), impr), beyond == 1 ? " \xe2\x9c\x93" : "");
}

int sd__rep_page_open(SdCtx *ctx, SdAtomicFile *af, const char *path)
{
    if (sd_atomic_open(af, path))
        return sd_fail(ctx, SD_EIO, "%s: cannot write: %s", path, strerror(errno));
    return 0;
}

int sd__rep_page_close(SdCtx *ctx, SdAtomicFile *af, const char *path)
{
    if (ferror(af->f)) {
        sd_atomic_abort(af);
        return sd_fail(ctx, SD_EIO, "%s: write failed", path);
    }
    if (sd_atomic_commit(af))
        return sd_fail(ctx, SD_EIO, "%s: cannot write: %s", path, strerror(errno));
    return 0;
}

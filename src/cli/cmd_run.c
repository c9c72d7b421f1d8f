/* `skindelta run`, `compare` and `repeatability`: the batch job over a folder, a manifest or one
 * pair, with progress on stderr and the exit-code contract (0 all scored, 1 some failed, 2 usage). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/cli/cli.h"
#include "skindelta/run.h"
#include "skindelta/course.h"
#include "skindelta/util.h"

static const char run_options[] =
    "  -o, --out DIR        output folder (created; results of finished patients are kept)\n"
    "  --jobs N             patients processed in parallel (default: all cores)\n"
    "  --roi face|whole     face: detect, align and measure the 13 facial regions (default);\n"
    "                       whole: close-up skin photos, region `whole`, no face stage\n"
    "  --noise-model FILE   the calibrated noise model behind MDC95 (default\n"
    "                       models/noise_model.csv; `none`: no model)\n"
    "  --bootstrap N        also re-measure each image N times (registration jitter +-0.5 px,\n"
    "                       noise 0.5/255, a JPEG photo captured again at its own quality) and\n"
    "                       widen the model's SD to the bootstrap's where larger (default 0 = off)\n"
    "  --no-recapture       bootstrap replicates keep the JPEG as it is (faster; the MDC95 then\n"
    "                       misses the JPEG drift between captures, several %% of a metric)\n"
    "  --photometry M       none | reference | chart (default reference: sclera/background)\n"
    "  --motion M           translation | euclidean | affine | homography (default affine)\n"
    "  --iod PX             canonical inter-ocular distance in px (default 640)\n"
    "  --px-per-mm X        physical scale of the canonical frame (default: IOD = 63 mm)\n"
    "  --no-images          do not write aligned images and overlays (faster)\n"
    "  --no-report          do not write OUT/report\n"
    "  --cpu LEVEL          scalar | avx2 | avx512 (default: best this CPU has)\n"
    "  --quiet              no progress output\n";

static void help_run(FILE *f)
{
    fprintf(f,
        "usage: skindelta run ROOT -o OUT [options]\n"
        "       skindelta run --manifest FILE.csv -o OUT [options]\n\n"
        "Scores every patient's course: each follow-up against the same view of the baseline\n"
        "(first session in natural order). Input: ROOT/<patient>/<session>/<view>.{jpg,png,tif}\n"
        "or a manifest CSV patient,session,date,view,path.\n\n"
        "options:\n%s"
        "  --manifest FILE      read the manifest instead of walking ROOT\n"
        "  --shard I/N          score only patients with index %% N == I (0-based); join with merge\n"
        "  --mdc FILE           repeatability.csv (from `skindelta repeatability`) for MDC95\n"
        "  --resume             skip patients whose results in OUT are complete and valid\n\n"
        "outputs in OUT: measurements.csv changes.csv cohort.csv trends.csv uncertainty.csv\n"
        "  alignment.csv errors.csv run.json report/index.html aligned/ patients/\n"
        "exit: 0 all scored, 1 some inputs failed (errors.csv), 2 usage error\n", run_options);
}

static void help_compare(FILE *f)
{
    fprintf(f,
        "usage: skindelta compare BEFORE AFTER -o OUT [options]\n\n"
        "Scores one before/after pair (patient `pair`, view `front`, sessions `before`/`after`)\n"
        "with the same outputs as run.\n\noptions:\n%s", run_options);
}

static void help_repeat(FILE *f)
{
    fprintf(f,
        "usage: skindelta repeatability ROOT -o OUT [options]\n"
        "       skindelta repeatability --manifest FILE.csv -o OUT [options]\n\n"
        "A repeatability study: each patient's sessions are repeat captures with no treatment in\n"
        "between. Measures every image, then writes OUT/repeatability.csv with ICC(3,1), CV_w,\n"
        "SEM and MDC95 = 1.96*sqrt(2)*SEM per region x metric (use it with run --mdc).\n\n"
        "options:\n%s", run_options);
}

typedef struct Progress {
    int tty, quiet;
    double last_print;
} Progress;

static void progress_cb(void *user, const SdRunProgress *p)
{
    Progress *pr = user;
    if (pr->quiet) return;
    const int finished = p->patients_done >= p->patients_total;
    const double rate = p->elapsed_s > 0 ? p->images_done / p->elapsed_s : 0;
    const double eta = rate > 0 ? (p->images_total - p->images_done) / rate : NAN;
    char etas[32] = "--:--";
    if (isfinite(eta)) snprintf(etas, sizeof(etas), "%d:%02d", (int)eta / 60, (int)eta % 60);
    if (pr->tty) {
        const int width = 30;
        int fill = p->patients_total ? width * p->patients_done / p->patients_total : width;
        char bar[64];
        for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
        bar[width] = 0;
        fprintf(stderr, "\r[%s] %d/%d patients  %d/%d images  %d failed  %.2f img/s  ETA %s ",
                bar, p->patients_done, p->patients_total, p->images_done, p->images_total,
                p->images_failed, rate, etas);
        if (finished) fputc('\n', stderr);
    } else if (finished || p->elapsed_s - pr->last_print >= 10.0) {
        fprintf(stderr, "progress: %d/%d patients, %d/%d images, %d failed, %.2f images/s, ETA %s\n",
                p->patients_done, p->patients_total, p->images_done, p->images_total,
                p->images_failed, rate, etas);
        pr->last_print = p->elapsed_s;
    }
    fflush(stderr);
}

enum mode { MODE_RUN, MODE_COMPARE, MODE_REPEAT };

static int run_common(int argc, char **argv, enum mode mode)
{
    const char *cmd = argv[0];
    SdRunOpts o;
    sd_run_opts_default(&o);
    const char *pos[3] = {0};
    int npos = 0, quiet = 0;
    const char *cpu = NULL, *manifest = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        long l;
        double d;
#define NEED() do { if (!v) return sd_cli_usage_error(cmd, "%s needs a value", a); i++; } while (0)
        if (sd_cli_is_help(a)) {
            if (mode == MODE_RUN) help_run(stdout);
            else if (mode == MODE_COMPARE) help_compare(stdout);
            else help_repeat(stdout);
            return SD_EXIT_OK;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--out")) { NEED(); o.out_dir = v; }
        else if (!strcmp(a, "--jobs") || !strcmp(a, "-j")) {
            NEED();
            if (sd_cli_parse_int(v, 1, 256, &l)) return sd_cli_usage_error(cmd, "--jobs takes 1..256, not '%s'", v);
            o.jobs = (int)l;
        } else if (!strcmp(a, "--shard") && mode == MODE_RUN) {
            NEED();
            int si, sn; char extra;
            if (sscanf(v, "%d/%d%c", &si, &sn, &extra) != 2 || sn < 1 || si < 0 || si >= sn)
                return sd_cli_usage_error(cmd, "--shard takes I/N with 0 <= I < N, not '%s'", v);
            o.shard_i = si; o.shard_n = sn;
        } else if (!strcmp(a, "--roi")) {
            NEED();
            if (!strcmp(v, "whole")) o.roi_whole = 1;
            else if (!strcmp(v, "face")) o.roi_whole = 0;
            else return sd_cli_usage_error(cmd, "--roi takes face or whole, not '%s'", v);
        } else if (!strcmp(a, "--mdc") && mode == MODE_RUN) { NEED(); o.mdc_file = v; }
        else if (!strcmp(a, "--resume") && mode == MODE_RUN) o.resume = 1;
        else if (!strcmp(a, "--manifest") && mode != MODE_COMPARE) { NEED(); manifest = v; }
        else if (!strcmp(a, "--bootstrap")) {
            NEED();
            if (sd_cli_parse_int(v, 0, 200, &l) || l == 1) return sd_cli_usage_error(cmd, "--bootstrap takes 0 or 2..200, not '%s'", v);
            o.bootstrap = (int)l;
        } else if (!strcmp(a, "--photometry")) {
            NEED();
            if (strcmp(v, "none") && strcmp(v, "reference") && strcmp(v, "chart"))
                return sd_cli_usage_error(cmd, "--photometry takes none, reference or chart, not '%s'", v);
            o.photometry = v;
        } else if (!strcmp(a, "--motion")) {
            NEED();
            int m = sd_motion_parse(v);
            if (m < 0) return sd_cli_usage_error(cmd, "--motion takes translation, euclidean, affine or homography, not '%s'", v);
            o.align.motion = (SdMotion)m;
        } else if (!strcmp(a, "--iod")) {
            NEED();
            if (sd_cli_parse_double(v, &d) || d < 64 || d > 4000) return sd_cli_usage_error(cmd, "--iod takes 64..4000 px, not '%s'", v);
            o.align.iod_px = d;
        } else if (!strcmp(a, "--px-per-mm")) {
            NEED();
            if (sd_cli_parse_double(v, &d) || d <= 0.5 || d > 1000) return sd_cli_usage_error(cmd, "--px-per-mm takes a number in (0.5, 1000], not '%s'", v);
            o.align.px_per_mm = d;
        } else if (!strcmp(a, "--no-images")) o.save_images = 0;
        else if (!strcmp(a, "--no-recapture")) o.bootstrap_recapture = 0;
        else if (!strcmp(a, "--noise-model")) { NEED(); o.noise_model = v; }
        else if (!strcmp(a, "--no-report")) o.report = 0;
        else if (!strcmp(a, "--cpu")) { NEED(); cpu = v; }
        else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) quiet = 1;
        else if (a[0] == '-' && a[1]) return sd_cli_usage_error(cmd, "unknown option '%s'", a);
        else if (npos < 3) pos[npos++] = a;
        else return sd_cli_usage_error(cmd, "too many arguments ('%s')", a);
#undef NEED
    }
    if (!o.out_dir) return sd_cli_usage_error(cmd, "-o OUT is required");
    if (mode == MODE_COMPARE && npos != 2) return sd_cli_usage_error(cmd, "give BEFORE and AFTER images");
    if (mode != MODE_COMPARE && (npos > 1 || (npos == 1) == (manifest != NULL)))
        return sd_cli_usage_error(cmd, "give exactly one of ROOT or --manifest FILE");
    if (!strcmp(o.photometry, "chart"))
        return sd_cli_usage_error(cmd, "--photometry chart needs the chart position, which the batch "
                                       "runner cannot take yet; use `skindelta align --chart` per pair");
    if (mode == MODE_REPEAT) { o.bootstrap = 0; }
    o.align.roi_whole = o.roi_whole;
    if (o.roi_whole && o.align.px_per_mm <= 0) {
        /* close-up photos carry no anatomical scale: assume a typical close-up and say so */
        o.align.px_per_mm = SD_WHOLE_DEFAULT_PX_PER_MM;
        o.px_per_mm_assumed = 1;
        if (!quiet)
            fprintf(stderr, "skindelta %s: --roi whole without --px-per-mm: assuming %g px/mm in the photos "
                            "(per-area figures depend on it; give the real scale)\n", cmd, SD_WHOLE_DEFAULT_PX_PER_MM);
    }

    SdCtx ctx;
    if (sd_cli_setup(&ctx, cpu)) return SD_EXIT_USAGE;
    if (o.jobs == 0) o.jobs = (int)sysconf(_SC_NPROCESSORS_ONLN);
    /* Problems with OUT or --mdc are usage errors found before any photo is scored, not
     * failures at the end of a long batch. */
    if (!o.out_dir[0])
        return sd_cli_usage_error(cmd, "-o needs a folder name");
    if (sd_file_exists(o.out_dir) && !sd_is_dir(o.out_dir))
        return sd_cli_usage_error(cmd, "%s: the output folder exists and is not a folder", o.out_dir);
    if (npos == 1 && mode != MODE_COMPARE) {   /* OUT == ROOT: its aligned/ would be patients next time */
        char *ro = realpath(pos[0], NULL), *ou = realpath(o.out_dir, NULL);
        const int same = ro && ou && !strcmp(ro, ou);
        free(ro); free(ou);
        if (same)
            return sd_cli_usage_error(cmd, "%s: the output folder is the input folder; give another -o", o.out_dir);
    }
    if (o.mdc_file) {
        SdRepeatArray rep = {0};
        int rerr = sd_repeat_read(&ctx, o.mdc_file, &rep);
        sd_repeat_free(&rep);
        if (rerr) return sd_cli_usage_error(cmd, "--mdc: %s", ctx.errmsg);
    }

    /* command line for run.json */
    size_t cl = 0;
    for (int i = 0; i < argc; i++) cl += strlen(argv[i]) + 1;
    char *cmdline = malloc(cl + 16);
    if (cmdline) {
        strcpy(cmdline, "skindelta");
        for (int i = 0; i < argc; i++) { strcat(cmdline, " "); strcat(cmdline, argv[i]); }
    }
    o.command_line = cmdline;
    o.manifest = manifest;
    o.input_root = npos ? pos[0] : NULL;

    SdCatalog cat;
    SdCatalogOpts co = {1};
    int err;
    if (mode == MODE_COMPARE) err = sd_catalog_pair(&ctx, pos[0], pos[1], &cat);
    else if (manifest) err = sd_catalog_manifest(&ctx, manifest, &co, &cat);
    else err = sd_catalog_scan(&ctx, pos[0], &co, &cat);
    if (err) {
        fprintf(stderr, "skindelta %s: %s\n", cmd, ctx.errmsg);
        free(cmdline);
        return SD_EXIT_USAGE;
    }
    for (int i = 0; i < cat.nissues; i++)
        fprintf(stderr, "skindelta: %s: %s: %s\n", cat.issues[i].level == SD_CAT_ERROR ? "error" : "warning",
                cat.issues[i].path, cat.issues[i].message);
    int nerrors = 0;
    for (int i = 0; i < cat.nissues; i++) nerrors += cat.issues[i].level == SD_CAT_ERROR;
    if (cat.nentries == 0 && nerrors == 0) {   /* with catalog errors: go on, they go to errors.csv */
        fprintf(stderr, "skindelta %s: no images found in %s\n", cmd, manifest ? manifest : pos[0]);
        sd_catalog_free(&cat);
        free(cmdline);
        return SD_EXIT_PARTIAL;
    }
    Progress pr = {isatty(2), quiet, 0};
    o.progress = progress_cb;
    o.progress_user = &pr;
    if (!quiet) {
        int np = 0, ni = 0;   /* this shard's share */
        for (int p = 0; p < cat.npatients; p++)
            if (o.shard_n <= 1 || p % o.shard_n == o.shard_i) { np++; ni += cat.patients[p].count; }
        fprintf(stderr, "skindelta %s: %d patients, %d images, %d jobs, kernels %s -> %s\n", cmd,
                np, ni, o.jobs, sd_ctx_cpu_name(&ctx), o.out_dir);
    }
    if (sd_mkdir_p(o.out_dir) || access(o.out_dir, W_OK)) {
        int r = sd_cli_usage_error(cmd, "%s: cannot create or write the output folder: %s", o.out_dir,
                                   strerror(errno));
        sd_catalog_free(&cat);
        free(cmdline);
        return r;
    }
    SdRunSummary sum;
    int catalog_errors = 0;
    for (int i = 0; i < cat.nissues; i++) catalog_errors += cat.issues[i].level == SD_CAT_ERROR;
    err = sd_run_batch(&ctx, &cat, &o, &sum);
    sd_catalog_free(&cat);
    free(cmdline);
    if (err) {
        fprintf(stderr, "skindelta %s: %s\n", cmd, ctx.errmsg);
        return SD_EXIT_PARTIAL;
    }
    if (mode == MODE_REPEAT) {
        char mp[4200], up[4200], rp[4200];
        snprintf(mp, sizeof(mp), "%s/measurements.csv", o.out_dir);
        snprintf(up, sizeof(up), "%s/uncertainty.csv", o.out_dir);
        snprintf(rp, sizeof(rp), "%s/repeatability.csv", o.out_dir);
        SdMeasArray m = {0};
        SdRepeatArray rep = {0};
        err = sd_meas_read(&ctx, mp, up, &m);
        if (!err) err = sd_course_repeatability(&ctx, &m, &rep);
        if (!err) err = sd_repeat_write(&ctx, rp, &rep);
        if (!err && !quiet) fprintf(stderr, "skindelta repeatability: %zu region x metric rows -> %s\n", rep.n, rp);
        const int empty = !err && rep.n == 0;
        if (empty)
            fprintf(stderr, "skindelta repeatability: %s is empty: no patient has two or more scored "
                            "sessions of a view (repeat captures are needed)\n", rp);
        sd_meas_free(&m);
        sd_repeat_free(&rep);
        if (err) {
            fprintf(stderr, "skindelta repeatability: %s\n", ctx.errmsg);
            return SD_EXIT_PARTIAL;
        }
        if (empty) return SD_EXIT_PARTIAL;
    }
    if (!quiet) {
        fprintf(stderr, "skindelta %s: %d patients (%d resumed), %d images, %d failed, %d pairs scored (%d flagged) in %.1f s\n",
                cmd, sum.patients, sum.patients_skipped, sum.images, sum.images_failed,
                sum.pairs_scored, sum.pairs_warn, sum.seconds);
        fprintf(stderr, "results: %s/measurements.csv, changes.csv, cohort.csv%s\n", o.out_dir,
                o.report ? ", report/index.html" : "");
    }
    return (sum.images_failed || catalog_errors || sum.write_errors) ? SD_EXIT_PARTIAL : SD_EXIT_OK;
}

int sd_cmd_run(int argc, char **argv) { return run_common(argc, argv, MODE_RUN); }
int sd_cmd_compare(int argc, char **argv) { return run_common(argc, argv, MODE_COMPARE); }
int sd_cmd_repeatability(int argc, char **argv) { return run_common(argc, argv, MODE_REPEAT); }

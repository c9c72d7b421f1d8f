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

/* What the command line asked for, filled by the option table. */
typedef struct RunArgs {
    enum mode mode;
    const char *cmd;
    SdRunOpts o;
    const char *pos[2];
    int npos, quiet, motion;
    const char *cpu, *manifest;
} RunArgs;

static const SdCmdSpec spec_run = {
    "run",
    "ROOT -o OUT [options]\n--manifest FILE.csv -o OUT [options]",
    "Scores every patient's course: each follow-up against the same view of the baseline\n"
    "(first session in natural order). Input: ROOT/<patient>/<session>/<view>.{jpg,png,tif}\n"
    "or a manifest CSV patient,session,date,view,path.\n",
    "\noutputs in OUT: measurements.csv changes.csv cohort.csv trends.csv uncertainty.csv\n"
    "  alignment.csv errors.csv run.json report/index.html aligned/ patients/\n"
    "exit: 0 all scored, 1 some inputs failed (errors.csv), 2 usage error\n",
};

static const SdCmdSpec spec_compare = {
    "compare",
    "BEFORE AFTER -o OUT [options]",
    "Scores one before/after pair (patient `pair`, view `front`, sessions `before`/`after`)\n"
    "with the same outputs as run.\n",
    "\nexit: 0 scored, 1 an input failed (errors.csv), 2 usage error\n",
};

static const SdCmdSpec spec_repeat = {
    "repeatability",
    "ROOT -o OUT [options]\n--manifest FILE.csv -o OUT [options]",
    "A repeatability study: each patient's sessions are repeat captures with no treatment in\n"
    "between. Measures every image, then writes OUT/repeatability.csv with ICC(3,1), CV_w,\n"
    "SEM and MDC95 = 1.96*sqrt(2)*SEM per region x metric (use it with run --mdc).\n",
    "\nexit: 0 written, 1 some inputs failed or no patient has repeat captures, 2 usage error\n",
};

static int parse_shard(const char *v, void *dst)
{
    SdRunOpts *o = dst;
    int si, sn;
    char extra;
    if (sscanf(v, "%d/%d%c", &si, &sn, &extra) != 2 || sn < 1 || si < 0 || si >= sn) return -1;
    o->shard_i = si;
    o->shard_n = sn;
    return 0;
}

static int parse_bootstrap(const char *v, void *dst)
{
    char *end;
    const long l = strtol(v, &end, 10);
    if (!*v || *end || l < 0 || l == 1 || l > 200) return -1;
    *(int *)dst = (int)l;
    return 0;
}

/* The options of each of the three commands, in help order; returns the count. */
static int run_table(RunArgs *a, SdOpt *t)
{
    SdRunOpts *o = &a->o;
    const enum mode m = a->mode;
    int n = 0;
    t[n++] = (SdOpt)SD_OPT_OUT(&o->out_dir, "DIR", m == MODE_RUN
             ? "output folder (created; results of finished patients are kept)" : "output folder (created)");
    if (m != MODE_COMPARE) t[n++] = (SdOpt)SD_OPT_JOBS(&o->jobs);
    t[n++] = (SdOpt)SD_OPT_ROI(&o->roi_whole,
             "face: detect, align and measure the 13 facial regions (default);\n"
             "whole: close-up skin photos, region `whole`, no face stage");
    if (m != MODE_REPEAT) {
        t[n++] = (SdOpt)SD_OPT_STR("noise-model", 0, "FILE",
                 "the calibrated noise model behind MDC95 (default\n"
                 "models/noise_model.csv; `none`: no model)", &o->noise_model);
        t[n++] = (SdOpt){ "bootstrap", 0, SD_ARG_FN, "N",
                 "also re-measure each image N times (registration jitter +-0.5 px,\n"
                 "noise 0.5/255, a JPEG photo captured again at its own quality) and\n"
                 "widen the model's SD to the bootstrap's where larger (default 0 = off)",
                 &o->bootstrap, .parse = parse_bootstrap, .expect = "0 or 2..200" };
        t[n++] = (SdOpt){ "no-recapture", 0, SD_ARG_FLAG, NULL,
                 "bootstrap replicates keep the JPEG as it is (faster; the MDC95 then\n"
                 "misses the JPEG drift between captures, several % of a metric)",
                 &o->bootstrap_recapture, .ival = 0 };
    } else {   /* accepted so that run's command line serves here too */
        t[n++] = (SdOpt){ "bootstrap", 0, SD_ARG_FN, "N",
                 "accepted as in run and ignored: the repeat captures are the uncertainty",
                 &o->bootstrap, .parse = parse_bootstrap, .expect = "0 or 2..200" };
    }
    t[n++] = (SdOpt)SD_OPT_PHOTOMETRY(&o->photometry,
             "none | reference | chart (default reference: sclera/background)");
    t[n++] = (SdOpt)SD_OPT_MOTION(&a->motion);
    t[n++] = (SdOpt)SD_OPT_IOD(&o->align.iod_px);
    t[n++] = (SdOpt)SD_OPT_PX_PER_MM(&o->align.px_per_mm,
             "physical scale of the canonical frame (default: IOD = 63 mm)");
    t[n++] = (SdOpt){ "no-images", 0, SD_ARG_FLAG, NULL, "do not write aligned previews and overlay masks (faster)",
                      &o->save_images, .ival = 0 };
    t[n++] = (SdOpt){ "save-aligned", 0, SD_ARG_FLAG, NULL,
                      "also write each aligned photo losslessly at the canonical frame's\n"
                      "size (OUT/aligned/<patient>/<view>_<session>.png, ~5 MB each)",
                      &o->save_images, .ival = 2 };
    t[n++] = (SdOpt){ "no-report", 0, SD_ARG_FLAG, NULL, "do not write OUT/report", &o->report, .ival = 0 };
    t[n++] = (SdOpt)SD_OPT_CPU(&a->cpu);
    t[n++] = (SdOpt)SD_OPT_QUIET(&a->quiet, "no progress output");
    if (m != MODE_COMPARE) t[n++] = (SdOpt)SD_OPT_MANIFEST(&a->manifest);
    if (m == MODE_RUN) {
        t[n++] = (SdOpt){ "shard", 0, SD_ARG_FN, "I/N",
                 "score only patients with index mod N == I (0-based); join with merge",
                 o, .parse = parse_shard, .expect = "I/N with 0 <= I < N" };
        t[n++] = (SdOpt)SD_OPT_STR("mdc", 0, "FILE",
                 "repeatability.csv (from `skindelta repeatability`) for MDC95", &o->mdc_file);
        t[n++] = (SdOpt){ "resume", 0, SD_ARG_FLAG, NULL,
                 "skip patients whose results in OUT are complete and valid", &o->resume, .ival = 1 };
    }
    return n;
}

/* Step 1: the options into a, and the checks that need no file. */
static int parse_run_args(int argc, char **argv, RunArgs *a)
{
    SdOpt table[24];
    const int n = run_table(a, table);
    const SdCmdSpec *spec = a->mode == MODE_RUN ? &spec_run : a->mode == MODE_COMPARE ? &spec_compare
                                                                                       : &spec_repeat;
    const int rc = sd_cli_parse(spec, table, n, argc, argv, a->pos, a->mode == MODE_COMPARE ? 2 : 1, &a->npos);
    if (rc != SD_CLI_CONTINUE) return rc;
    SdRunOpts *o = &a->o;
    o->align.motion = (SdMotion)a->motion;
    if (!o->out_dir) return sd_cli_usage_error(a->cmd, "-o OUT is required");
    if (a->mode == MODE_COMPARE && a->npos != 2) return sd_cli_usage_error(a->cmd, "give BEFORE and AFTER images");
    if (a->mode != MODE_COMPARE && (a->npos > 1 || (a->npos == 1) == (a->manifest != NULL)))
        return sd_cli_usage_error(a->cmd, "give exactly one of ROOT or --manifest FILE");
    if (!strcmp(o->photometry, "chart"))
        return sd_cli_usage_error(a->cmd, "--photometry chart needs the chart position, which the batch "
                                          "runner cannot take yet; use `skindelta align --chart` per pair");
    if (a->mode == MODE_REPEAT) o->bootstrap = 0;
    o->align.roi_whole = o->roi_whole;
    if (o->roi_whole && o->align.px_per_mm <= 0) {
        /* close-up photos carry no anatomical scale: assume a typical close-up and say so */
        o->align.px_per_mm = SD_WHOLE_DEFAULT_PX_PER_MM;
        o->px_per_mm_assumed = 1;
        if (!a->quiet)
            fprintf(stderr, "skindelta %s: --roi whole without --px-per-mm: assuming %g px/mm in the photos "
                            "(per-area figures depend on it; give the real scale)\n", a->cmd, SD_WHOLE_DEFAULT_PX_PER_MM);
    }
    return SD_CLI_CONTINUE;
}

/* Step 2: problems with OUT or --mdc are usage errors found before any photo is scored, not
 * failures at the end of a long batch. */
static int check_out_and_mdc(SdCtx *ctx, const RunArgs *a)
{
    const char *out = a->o.out_dir;
    if (sd_file_exists(out) && !sd_is_dir(out))
        return sd_cli_usage_error(a->cmd, "%s: the output folder exists and is not a folder", out);
    if (a->npos == 1 && a->mode != MODE_COMPARE) {   /* OUT == ROOT: its aligned/ would be patients next time */
        char *ro = realpath(a->pos[0], NULL), *ou = realpath(out, NULL);
        const int same = ro && ou && !strcmp(ro, ou);
        free(ro);
        free(ou);
        if (same)
            return sd_cli_usage_error(a->cmd, "%s: the output folder is the input folder; give another -o", out);
    }
    if (a->o.mdc_file) {
        SdRepeatArray rep = {0};
        const int err = sd_repeat_read(ctx, a->o.mdc_file, &rep);
        sd_repeat_free(&rep);
        if (err) return sd_cli_usage_error(a->cmd, "--mdc: %s", ctx->errmsg);
    }
    return SD_CLI_CONTINUE;
}

/* "skindelta run ROOT -o OUT ..." as typed, for run.json (NULL when out of memory). */
static char *command_line(int argc, char **argv)
{
    size_t len = sizeof("skindelta");
    for (int i = 0; i < argc; i++) len += strlen(argv[i]) + 1;
    char *s = malloc(len);
    if (!s) return NULL;
    strcpy(s, "skindelta");
    for (int i = 0; i < argc; i++) {
        strcat(s, " ");
        strcat(s, argv[i]);
    }
    return s;
}

/* Step 3: the catalog of the inputs, its problems on stderr. Returns SD_CLI_CONTINUE with cat
 * filled (and freed otherwise), or the exit code. */
static int load_catalog(SdCtx *ctx, const RunArgs *a, SdCatalog *cat, int *nerrors)
{
    SdCatalogOpts co = {1};
    int err;
    if (a->mode == MODE_COMPARE) err = sd_catalog_pair(ctx, a->pos[0], a->pos[1], cat);
    else if (a->manifest) err = sd_catalog_manifest(ctx, a->manifest, &co, cat);
    else err = sd_catalog_scan(ctx, a->pos[0], &co, cat);
    if (err) {
        fprintf(stderr, "skindelta %s: %s\n", a->cmd, ctx->errmsg);
        return SD_EXIT_USAGE;
    }
    *nerrors = 0;
    for (int i = 0; i < cat->nissues; i++) {
        const SdCatIssue *is = &cat->issues[i];
        fprintf(stderr, "skindelta: %s: %s: %s\n", is->level == SD_CAT_ERROR ? "error" : "warning",
                is->path, is->message);
        *nerrors += is->level == SD_CAT_ERROR;
    }
    if (cat->nentries == 0 && *nerrors == 0) {   /* with catalog errors: go on, they go to errors.csv */
        fprintf(stderr, "skindelta %s: no images found in %s\n", a->cmd, a->manifest ? a->manifest : a->pos[0]);
        sd_catalog_free(cat);
        return SD_EXIT_PARTIAL;
    }
    return SD_CLI_CONTINUE;
}

/* Step 4: say what is about to run (this shard's share) and make OUT. */
static int prepare_out(const SdCtx *ctx, const RunArgs *a, const SdCatalog *cat)
{
    const SdRunOpts *o = &a->o;
    if (!a->quiet) {
        int np = 0, ni = 0;
        for (int p = 0; p < cat->npatients; p++)
            if (o->shard_n <= 1 || p % o->shard_n == o->shard_i) { np++; ni += cat->patients[p].count; }
        fprintf(stderr, "skindelta %s: %d patients, %d images, %d jobs, kernels %s -> %s\n", a->cmd,
                np, ni, o->jobs, sd_ctx_cpu_name(ctx), o->out_dir);
    }
    if (sd_mkdir_p(o->out_dir) || access(o->out_dir, W_OK))
        return sd_cli_usage_error(a->cmd, "%s: cannot create or write the output folder: %s", o->out_dir,
                                  strerror(errno));
    return SD_CLI_CONTINUE;
}

/* Step 6 (repeatability): OUT/repeatability.csv from the measurements just written. */
static int write_repeatability(SdCtx *ctx, const RunArgs *a)
{
    char mp[4200], up[4200], rp[4200];
    snprintf(mp, sizeof(mp), "%s/measurements.csv", a->o.out_dir);
    snprintf(up, sizeof(up), "%s/uncertainty.csv", a->o.out_dir);
    snprintf(rp, sizeof(rp), "%s/repeatability.csv", a->o.out_dir);
    SdMeasArray m = {0};
    SdRepeatArray rep = {0};
    int err = sd_meas_read(ctx, mp, up, &m);
    if (!err) err = sd_course_repeatability(ctx, &m, &rep);
    if (!err) err = sd_repeat_write(ctx, rp, &rep);
    if (!err && !a->quiet) fprintf(stderr, "skindelta repeatability: %zu region x metric rows -> %s\n", rep.n, rp);
    const int empty = !err && rep.n == 0;
    if (empty)
        fprintf(stderr, "skindelta repeatability: %s is empty: no patient has two or more scored "
                        "sessions of a view (repeat captures are needed)\n", rp);
    sd_meas_free(&m);
    sd_repeat_free(&rep);
    if (err) fprintf(stderr, "skindelta repeatability: %s\n", ctx->errmsg);
    return err || empty ? SD_EXIT_PARTIAL : SD_CLI_CONTINUE;
}

static void print_summary(const RunArgs *a, const SdRunSummary *sum)
{
    if (a->quiet) return;
    fprintf(stderr, "skindelta %s: %d patients (%d resumed), %d images, %d failed, %d pairs scored (%d flagged) in %.1f s\n",
            a->cmd, sum->patients, sum->patients_skipped, sum->images, sum->images_failed,
            sum->pairs_scored, sum->pairs_warn, sum->seconds);
    fprintf(stderr, "results: %s/measurements.csv, changes.csv, cohort.csv%s\n", a->o.out_dir,
            a->o.report ? ", report/index.html" : "");
}

/* Step 5: score the catalogued photos. */
static int score(SdCtx *ctx, RunArgs *a, SdCatalog *cat, SdRunSummary *sum)
{
    Progress pr = {isatty(2), a->quiet, 0};
    a->o.progress = progress_cb;
    a->o.progress_user = &pr;
    const int err = sd_run_batch(ctx, cat, &a->o, sum);
    a->o.progress = NULL;
    a->o.progress_user = NULL;
    if (err) {
        fprintf(stderr, "skindelta %s: %s\n", a->cmd, ctx->errmsg);
        /* SD_EINVAL: OUT refused before anything was scored (inside ROOT, locked, frame too large) */
        return err == SD_EINVAL ? SD_EXIT_USAGE : SD_EXIT_PARTIAL;
    }
    return SD_CLI_CONTINUE;
}

static int run_common(int argc, char **argv, enum mode mode)
{
    RunArgs a = { .mode = mode, .cmd = argv[0] };
    sd_run_opts_default(&a.o);
    a.motion = (int)a.o.align.motion;
    int rc = parse_run_args(argc, argv, &a);
    if (rc != SD_CLI_CONTINUE) return rc;
    SdCtx ctx;
    if (sd_cli_setup(&ctx, a.cpu)) return SD_EXIT_USAGE;
    if (a.o.jobs == 0) a.o.jobs = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if ((rc = check_out_and_mdc(&ctx, &a)) != SD_CLI_CONTINUE) return rc;

    char *cmdline = command_line(argc, argv);
    a.o.command_line = cmdline;
    a.o.manifest = a.manifest;
    a.o.input_root = a.npos ? a.pos[0] : NULL;
    SdCatalog cat;
    int catalog_errors = 0;
    SdRunSummary sum;
    if ((rc = load_catalog(&ctx, &a, &cat, &catalog_errors)) != SD_CLI_CONTINUE) goto done;
    if ((rc = prepare_out(&ctx, &a, &cat)) == SD_CLI_CONTINUE) rc = score(&ctx, &a, &cat, &sum);
    sd_catalog_free(&cat);
    if (rc == SD_CLI_CONTINUE && mode == MODE_REPEAT) rc = write_repeatability(&ctx, &a);
    if (rc != SD_CLI_CONTINUE) goto done;
    print_summary(&a, &sum);
    rc = (sum.images_failed || catalog_errors || sum.write_errors) ? SD_EXIT_PARTIAL : SD_EXIT_OK;
done:
    free(cmdline);
    return rc;
}

int sd_cmd_run(int argc, char **argv) { return run_common(argc, argv, MODE_RUN); }
int sd_cmd_compare(int argc, char **argv) { return run_common(argc, argv, MODE_COMPARE); }
int sd_cmd_repeatability(int argc, char **argv) { return run_common(argc, argv, MODE_REPEAT); }

/* The batch runner: a bounded pool of worker threads, one patient at a time each, each view of a
 * patient scored by sd__run_view (view.c). Results are written per patient, atomically, as each
 * one finishes; sd_run_aggregate then builds the run's tables, statistics and report. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "skindelta/run.h"
#include "skindelta/course.h"
#include "skindelta/regions.h"
#include "src/run/run_int.h"
#include "src/run/noise_hook.h"
#include "src/core/core.h"

void sd_run_opts_default(SdRunOpts *o)
{
    memset(o, 0, sizeof(*o));
    o->bootstrap = 0;   /* opt-in: the calibrated noise model gives MDC95 (noise_hook.c) */
    o->bootstrap_recapture = 1;
    o->save_images = 1;
    o->report = 1;
    o->photometry = "reference";
    sd_align_opts_default(&o->align);
    sd_metrics_opts_default(&o->metrics);
}

static const char *const stage_names[SD_ST_N] = {"load", "face", "frame", "register", "photometry",
                                                 "regions", "metrics", "bootstrap", "write"};

static void patient_out_free(SdPatientOut *p)
{
    sd_meas_free(&p->meas);
    sd_rowlist_free(&p->align_rows);
    sd_rowlist_free(&p->error_rows);
    sd_rowlist_free(&p->inputs);
}

static void *worker_main(void *arg)
{
    SdRunWorker *w = arg;
    SdCtx ctx;
    sd_ctx_init(&ctx);
    ctx.cpu_flags = w->cpu_flags;
    for (;;) {
        pthread_mutex_lock(&w->lock);
        const int p = w->fatal ? w->cat->npatients : w->next++;
        pthread_mutex_unlock(&w->lock);
        if (p >= w->cat->npatients) break;
        const SdCatPatient *pt = &w->cat->patients[p];
        char key[65];
        sd_run_patient_key(w->cat, p, w->o, key);
        if (w->o->resume && sd_run_patient_done(w->o->out_dir, pt->id, key)) {
            /* its failures still count for the exit code (they are rows of errors.csv) */
            int nerr = sd_run_patient_errors(w->o->out_dir, pt->id);
            if (nerr > pt->count) nerr = pt->count;
            pthread_mutex_lock(&w->lock);
            w->skipped++; w->done++; w->last = pt->id;
            w->images_done += pt->count - nerr; w->images_failed += nerr;
            pthread_mutex_unlock(&w->lock);
            continue;
        }
        SdPatientOut po;
        memset(&po, 0, sizeof(po));
        const SdCatEntry *ents = &w->cat->entries[pt->first];
        for (int i = 0; i < pt->count;) {
            int j = i;
            while (j < pt->count && !strcmp(ents[j].view, ents[i].view)) j++;
            sd__run_view(&ctx, w, ents + i, j - i, &po);
            i = j;
        }
        int err = sd_run_patient_write(&ctx, w->o->out_dir, pt->id, key, w->run_id, &po.meas,
                                       &po.align_rows, &po.error_rows, &po.inputs);
        pthread_mutex_lock(&w->lock);
        if (err && !w->fatal) {
            w->fatal = err;
            snprintf(w->fatal_msg, sizeof(w->fatal_msg), "%s", ctx.errmsg);
        }
        w->done++; w->pairs += po.pairs; w->warn += po.warn; w->last = pt->id;
        w->write_errors += po.write_errors;
        for (int k = 0; k < SD_ST_N; k++) w->stage_s[k] += po.t[k];
        const int written = ++w->written;
        pthread_mutex_unlock(&w->lock);
        /* Test hook for the crash-and-resume test: die as `kill -9` would after N patients. */
        if (w->kill_after > 0 && written >= w->kill_after)
            kill(getpid(), SIGKILL);
        /* errors go to stderr as they happen, one line each */
        for (size_t k = 0; k < po.error_rows.n; k++) {
            char *r = po.error_rows.v[k];
            char *f[4] = {r, NULL, NULL, NULL};
            for (int c = 1; c < 4; c++) { f[c] = strchr(f[c - 1], '\x1f'); if (!f[c]) break; *f[c]++ = 0; }
            if (f[3]) fprintf(stderr, "skindelta: %s [%s, %s]\n", f[3], f[1], f[2]);
            for (int c = 1; c < 4 && f[c]; c++) f[c][-1] = '\x1f';
        }
        patient_out_free(&po);
    }
    pthread_mutex_lock(&w->lock);
    w->exited++;
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

/* OUT checked, locked and cleared of what an earlier run left that this one would not rewrite;
 * the old commit record removed before the first file of this run is written. */
static int prepare_out(SdCtx *ctx, SdCatalog *cat, const SdRunOpts *o, int *lock)
{
    int err;
    if ((err = sd__run_check_paths(ctx, o)) || (err = sd__run_check_frame(ctx, o))) {
        rmdir(o->out_dir);   /* refused: leave no empty OUT behind (one that holds files stays) */
        return err;
    }
    if (sd_mkdir_p(o->out_dir))
        return sd_fail(ctx, SD_EIO, "%s: cannot create the output folder: %s", o->out_dir, strerror(errno));
    if ((err = sd__run_lock(ctx, o->out_dir, lock)))
        return err;
    sd_run_sweep_temp(o->out_dir);
    if (o->shard_n > 1)
        sd_catalog_shard(cat, o->shard_i, o->shard_n);
    if ((err = sd__run_clear_stale(ctx, o->out_dir, cat)) || (err = sd__out_uncommit(ctx, o->out_dir)))
        return err;
    return sd_run_write_catalog_errors(ctx, o->out_dir, cat);
}

/* The workers over every patient, progress reported from this thread until they are done. */
static void run_workers(SdRunWorker *w, const SdRunOpts *o, double t0)
{
    const SdCatalog *cat = w->cat;
    SdPool pool;
    const int started = sd__pool_start(&pool, sd__pool_threads(o->jobs, cat->npatients, SD_POOL_MAX),
                                       16u << 20, worker_main, w);
    if (!started) worker_main(w);
    for (;;) {
        pthread_mutex_lock(&w->lock);
        int d = w->done, exited = w->exited;
        SdRunProgress p = {cat->npatients, w->done, cat->nentries, w->images_done + w->images_failed,
                           w->images_failed, sd_now() - t0, w->last};
        pthread_mutex_unlock(&w->lock);
        if (o->progress) o->progress(o->progress_user, &p);
        if (d >= cat->npatients || !started || exited >= started) break;
        usleep(250000);
    }
    sd__pool_join(&pool);
}

int sd_run_batch(SdCtx *ctx, SdCatalog *cat, const SdRunOpts *o, SdRunSummary *sum)
{
    memset(sum, 0, sizeof(*sum));
    const double t0 = sd_now();
    char run_id[SD_RUN_ID_LEN];
    sd__out_new_run_id(run_id);
    int lock = -1;
    int err = prepare_out(ctx, cat, o, &lock);
    if (err) { sd__run_unlock(lock); return err; }

    SdRunWorker w;
    memset(&w, 0, sizeof(w));
    w.cat = cat; w.o = o; w.cpu_flags = ctx->cpu_flags; w.run_id = run_id;
    if ((err = sd__run_noise_open(ctx, o, &w.model))) { sd__run_unlock(lock); return err; }
    const char *ka = getenv("SKINDELTA_TEST_KILL_AFTER");
    w.kill_after = ka ? atoi(ka) : 0;
    pthread_mutex_init(&w.lock, NULL);
    run_workers(&w, o, t0);
    pthread_mutex_destroy(&w.lock);
    sd_noise_model_free(w.model);
    if (w.fatal)
        err = sd_fail(ctx, w.fatal, "%s", w.fatal_msg);
    /* run.json, then the tables and their commit record, then the report */
    if (!err) err = sd_run_write_json(ctx, o, cat, run_id, sd_now() - t0, stage_names, w.stage_s, SD_ST_N);
    if (!err) err = sd_run_aggregate_catalog(ctx, o->out_dir, cat, o->mdc_file, o->report, run_id);
    sd__run_unlock(lock);
    sum->patients = cat->npatients;
    sum->patients_skipped = w.skipped;
    sum->images = cat->nentries;
    sum->images_failed = w.images_failed;
    sum->pairs_scored = w.pairs;
    sum->pairs_warn = w.warn;
    sum->write_errors = w.write_errors;
    sum->seconds = sd_now() - t0;
    return err;
}

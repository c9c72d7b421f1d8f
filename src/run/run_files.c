/* Per-patient result folders, resume keys, run.json and the aggregation of a run's tables. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "src/run/run_int.h"
#include "skindelta/run.h"
#include "src/core/csv.h"
#include "skindelta/report.h"
#include "src/core/core.h"
#include "sd_version.h"

int sd_rowlist_addf(SdRowList *l, const char *fmt, ...)
{
    if (l->n == l->cap) {
        size_t c = l->cap ? l->cap * 2 : 16;
        char **v = realloc(l->v, c * sizeof(*v));
        if (!v) return SD_ENOMEM;
        l->v = v; l->cap = c;
    }
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int r = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (r < 0) return SD_ENOMEM;
    l->v[l->n++] = s;
    return 0;
}

void sd_rowlist_free(SdRowList *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

/* The noise model file a run uses and its sha256 (both "" for --noise-model none or none found). */
static void noise_model_id(const SdRunOpts *o, char *path, size_t n, char hex[65])
{
    path[0] = hex[0] = 0;
    if (o->noise_model && !strcmp(o->noise_model, "none")) return;
    if (o->noise_model) snprintf(path, n, "%s", o->noise_model);
    else if (sd_model_file("noise_model.csv", path, n)) path[0] = 0;
    if (path[0] && sd_sha256_file(path, hex)) path[0] = hex[0] = 0;
}

static void params_string(const SdRunOpts *o, char *buf, size_t n)
{
    const SdAlignOpts *a = &o->align;
    snprintf(buf, n,
        "v=%s;roi_whole=%d;bootstrap=%d;recapture=%d;photometry=%s;iod=%.6g;frame=%dx%d;iod_mm=%.6g;px_per_mm=%.6g;"
        "motion=%d;max_iter=%d;eps=%.6g;ecc=%.4g/%.4g;lm=%.4g/%.4g;ov=%.4g/%.4g;face_sizes=%d,%d,%d,%d;"
        "face_thr=%.4g;refine=%d;tiny=%d;images=%d",
        SD_VERSION, o->roi_whole, o->bootstrap, o->bootstrap_recapture, o->photometry ? o->photometry : "", a->iod_px,
        a->frame_w, a->frame_h, a->iod_mm, a->px_per_mm, (int)a->motion, a->max_iter, a->eps,
        a->ecc_warn, a->ecc_fail, a->lm_rms_warn, a->lm_rms_fail, a->overlap_warn, a->overlap_fail,
        o->face.input_sizes[0], o->face.input_sizes[1], o->face.input_sizes[2], o->face.input_sizes[3],
        o->face.score_threshold, o->face.refine, o->face.tiny_landmarks, o->save_images);
    char mp[4096], hex[65];   /* results under another noise model are not reused */
    noise_model_id(o, mp, sizeof(mp), hex);
    const size_t k = strlen(buf);
    snprintf(buf + k, n - k, ";noise_model=%s", hex);
}

void sd_run_patient_key(const SdCatalog *cat, int p, const SdRunOpts *o, char key[65])
{
    char params[2048];
    params_string(o, params, sizeof(params));
    const SdCatPatient *pt = &cat->patients[p];
    size_t cap = strlen(params) + strlen(pt->id) + 64, len = 0;
    for (int i = pt->first; i < pt->first + pt->count; i++)
        cap += PATH_MAX + strlen(cat->entries[i].path) + strlen(cat->entries[i].session) +
               strlen(cat->entries[i].view) + 96;
    char *buf = malloc(cap);
    if (!buf) { memset(key, '0', 64); key[64] = 0; return; }
    len += (size_t)snprintf(buf + len, cap - len, "%s|%s", params, pt->id);
    if (len >= cap) len = cap - 1;
    for (int i = pt->first; i < pt->first + pt->count; i++) {
        const SdCatEntry *e = &cat->entries[i];
        struct stat st;
        long long sz = -1, mt = -1, mtn = 0;
        if (stat(e->path, &st) == 0) { sz = st.st_size; mt = st.st_mtim.tv_sec; mtn = st.st_mtim.tv_nsec; }
        /* the path as resolved, so `ROOT` and `./ROOT` or an absolute spelling share a key */
        char *real = realpath(e->path, NULL);
        len += (size_t)snprintf(buf + len, cap - len, "|%s/%s/%s/%d/%s/%lld/%lld.%09lld",
                                e->session, e->view, real ? real : e->path, e->session_index, e->date,
                                sz, mt, mtn);
        if (len >= cap) len = cap - 1;   /* cannot happen with the sizes above; never overrun */
        free(real);
    }
    sd_sha256(buf, len, key);
    free(buf);
}

/* A patient's tables, each hashed into its done.json. */
#define SD_PATIENT_NTABLES 5
static const char *const patient_tables[SD_PATIENT_NTABLES] = {
    "measurements.csv", "uncertainty.csv", "alignment.csv", "errors.csv", "inputs.csv",
};

static char *patient_dir(const char *out_dir, const char *id)
{
    char *p = NULL;
    if (asprintf(&p, "%s/patients/%s", out_dir, id) < 0) return NULL;
    return p;
}

/* OUT/patients/<id>/done.json parsed (0), or non-zero when absent or not valid JSON. */
static int read_done(const char *dir, SdJson *done)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/done.json", dir);
    SdCtx tmp;
    memset(&tmp, 0, sizeof(tmp));
    return sd_file_exists(path) ? sd__json_load(&tmp, path, 1 << 20, done) : SD_EIO;
}

/* Every table done.json hashed is as it was written: a folder whose files come from two runs
 * (or were edited) is scored again, not trusted. (done.json of older versions has no hashes.) */
static int hashes_match(const char *dir, const SdJson *sha)
{
    if (!sha) return 1;
    if (sha->type != SD_JSON_OBJ) return 0;
    for (int i = 0; i < SD_PATIENT_NTABLES; i++) {
        const char *want = sd__json_str(sha, patient_tables[i]);
        char tp[4400], hex[65];
        snprintf(tp, sizeof(tp), "%s/%s", dir, patient_tables[i]);
        if (!want || sd_sha256_file(tp, hex) || strcmp(hex, want)) return 0;
    }
    return 1;
}

int sd_run_patient_done(const char *out_dir, const char *id, const char *key)
{
    char *dir = patient_dir(out_dir, id);
    if (!dir) return 0;
    SdJson done;
    double want_rows = -1, want_err = -1;
    int ok = 0;
    if (read_done(dir, &done) == 0) {
        const char *k = sd__json_str(&done, "key");
        ok = k && !strcmp(k, key) && hashes_match(dir, sd__json_get(&done, "sha256"));
        if (!sd__json_num(&done, "rows", &want_rows)) want_rows = -1;
        if (!sd__json_num(&done, "errors", &want_err)) want_err = -1;
        sd__json_free(&done);
    }
    /* present, parseable, every record complete, and as many rows as done.json recorded (a
     * table damaged after the patient finished is re-scored, not trusted) */
    static const char *const need[] = {"measurements.csv", "uncertainty.csv", "alignment.csv", "errors.csv"};
    for (size_t i = 0; i < sizeof(need) / sizeof(need[0]) && ok; i++) {
        char path[4200];
        snprintf(path, sizeof(path), "%s/%s", dir, need[i]);
        SdCtx tmp;
        SdCsv csv;
        memset(&tmp, 0, sizeof(tmp));
        if (!sd_file_exists(path) || sd_csv_load(&tmp, path, &csv)) { ok = 0; break; }
        for (int r = 0; r < csv.nrows; r++)
            if (csv.rows[r].n != csv.ncols) ok = 0;
        if (i == 0 && csv.nrows != want_rows) ok = 0;
        if (i == 3 && csv.nrows != want_err) ok = 0;
        sd_csv_free(&csv);
    }
    free(dir);
    return ok;
}

/* "<name>.tmp.<pid>.<n>" as sd_atomic_open names its temp files: the pid, or 0 when not one. */
static long temp_owner(const char *name)
{
    const char *t = NULL;
    for (const char *p = strstr(name, ".tmp."); p; p = strstr(p + 1, ".tmp.")) t = p;
    if (!t || t == name) return 0;
    char *end;
    long pid = strtol(t + 5, &end, 10);
    if (pid <= 0 || *end != '.' || !end[1]) return 0;
    for (const char *q = end + 1; *q; q++) if (*q < '0' || *q > '9') return 0;
    return pid;
}

static void sweep_dir(const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        char *p = NULL;
        if (asprintf(&p, "%s/%s", dir, de->d_name) < 0) break;
        struct stat st;
        if (lstat(p, &st) == 0) {
            if (S_ISDIR(st.st_mode) && depth > 0) {
                sweep_dir(p, depth - 1);
            } else if (S_ISREG(st.st_mode)) {
                const long pid = temp_owner(de->d_name);
                /* only files of a process that no longer exists (a killed run), never a live one's */
                if (pid > 0 && pid != (long)getpid() && kill((pid_t)pid, 0) != 0 && errno == ESRCH)
                    unlink(p);
            }
        }
        free(p);
    }
    closedir(d);
}

void sd_run_sweep_temp(const char *out_dir)
{
    sweep_dir(out_dir, 3);   /* OUT, OUT/patients/<id>, OUT/aligned/<id>, OUT/report/img */
}

int sd_run_patient_errors(const char *out_dir, const char *id)
{
    char *dir = patient_dir(out_dir, id);
    if (!dir) return 0;
    SdJson done;
    double n = 0;
    if (read_done(dir, &done) == 0) {
        if (!sd__json_num(&done, "errors", &n)) n = 0;
        sd__json_free(&done);
    }
    free(dir);
    return n > 0 && n < 1e9 ? (int)n : 0;
}

int sd_run_patient_write(SdCtx *ctx, const char *out_dir, const char *id, const char *key,
                         const char *run_id, const SdMeasArray *meas, const SdRowList *align_rows,
                         const SdRowList *error_rows, const SdRowList *inputs)
{
    char *dir = patient_dir(out_dir, id);
    if (!dir) return sd_fail(ctx, SD_ENOMEM, "out of memory");
    char path[4200];
    int err = 0;
    snprintf(path, sizeof(path), "%s/done.json", dir);
    if (sd_mkdir_p(dir)) { err = sd_fail(ctx, SD_EIO, "%s: cannot create: %s", dir, strerror(errno)); goto out; }
    unlink(path);   /* a partial rewrite must never look complete */
    snprintf(path, sizeof(path), "%s/measurements.csv", dir);
    if ((err = sd_meas_write(ctx, path, meas))) goto out;
    snprintf(path, sizeof(path), "%s/uncertainty.csv", dir);
    if ((err = sd_uncert_write(ctx, path, meas))) goto out;
    snprintf(path, sizeof(path), "%s/alignment.csv", dir);
    if ((err = sd_csv_write_rows(ctx, path, SD_ALIGN_HEADER, align_rows->v, align_rows->n))) goto out;
    snprintf(path, sizeof(path), "%s/errors.csv", dir);
    if ((err = sd_csv_write_rows(ctx, path, SD_ERROR_HEADER, error_rows->v, error_rows->n))) goto out;
    snprintf(path, sizeof(path), "%s/inputs.csv", dir);
    if ((err = sd_csv_write_rows(ctx, path, "path,sha256,jpeg_quality,chroma", inputs->v, inputs->n))) goto out;
    {
        SdAtomicFile af;
        snprintf(path, sizeof(path), "%s/done.json", dir);
        if (sd_atomic_open(&af, path)) { err = sd_fail(ctx, SD_EIO, "%s: cannot write", path); goto out; }
        fputs("{\"patient\": ", af.f);
        sd_json_string(af.f, id);
        fprintf(af.f, ", \"key\": \"%s\", \"run_id\": ", key);
        sd_json_string(af.f, run_id ? run_id : "");
        fprintf(af.f, ", \"rows\": %zu, \"errors\": %zu, \"sha256\": {", meas->n, error_rows->n);
        /* the tables as written: a reader trusts the folder only while they are these */
        for (int i = 0; i < SD_PATIENT_NTABLES && !err; i++) {
            char tp[4400], hex[65];
            snprintf(tp, sizeof(tp), "%s/%s", dir, patient_tables[i]);
            if (sd_sha256_file(tp, hex)) err = sd_fail(ctx, SD_EIO, "%s: cannot read back: %s", tp, strerror(errno));
            else fprintf(af.f, "%s\"%s\": \"%s\"", i ? ", " : "", patient_tables[i], hex);
        }
        fputs("}}\n", af.f);
        if (err) sd_atomic_abort(&af);
        else if (sd_atomic_commit(&af)) err = sd_fail(ctx, SD_EIO, "%s: write failed", path);
    }
out:
    free(dir);
    return err;
}

int sd_run_write_catalog_errors(SdCtx *ctx, const char *out_dir, const SdCatalog *cat)
{
    SdRowList rows = {0};
    for (int i = 0; i < cat->nissues; i++)
        if (cat->issues[i].level == SD_CAT_ERROR)
            sd_rowlist_addf(&rows, "%s\x1f%s\x1f%s\x1f%s", cat->issues[i].path, "catalog",
                            sd_errname(cat->issues[i].code ? cat->issues[i].code : SD_EFORMAT),
                            cat->issues[i].message);
    char path[4200];
    snprintf(path, sizeof(path), "%s/catalog_errors.csv", out_dir);
    int err = sd_csv_write_rows(ctx, path, SD_ERROR_HEADER, rows.v, rows.n);
    sd_rowlist_free(&rows);
    return err;
}

static void json_kv_num(FILE *f, const char *k, double v, int comma)
{
    fprintf(f, "    \"%s\": ", k);
    sd_json_num(f, v);
    fputs(comma ? ",\n" : "\n", f);
}

int sd_run_write_json(SdCtx *ctx, const SdRunOpts *o, const SdCatalog *cat, const char *run_id,
                      double seconds, const char *const *stage_names, const double *stage_s, int nstages)
{
    char path[4200];
    int err = sd_codebook_write(ctx, o->out_dir);   /* the units and directions beside the tables */
    if (err) return err;
    snprintf(path, sizeof(path), "%s/run.json", o->out_dir);
    SdAtomicFile af;
    if (sd_atomic_open(&af, path))
        return sd_fail(ctx, SD_EIO, "%s: cannot write: %s", path, strerror(errno));
    FILE *f = af.f;
    time_t now = time(NULL);
    char ts[64];
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    fprintf(f, "{\n  \"program\": \"skindelta\",\n  \"version\": \"%s\",\n  \"git_revision\": \"%s\",\n",
            SD_VERSION, SD_GIT_REV);
    fputs("  \"run_id\": ", f); sd_json_string(f, run_id); fputs(",\n", f);
    fprintf(f, "  \"finished_utc\": \"%s\",\n  \"seconds\": %.3f,\n", ts, seconds);
    fputs("  \"command_line\": ", f); sd_json_string(f, o->command_line ? o->command_line : ""); fputs(",\n", f);
    fputs("  \"input\": ", f); sd_json_string(f, o->manifest ? o->manifest : o->input_root ? o->input_root : ""); fputs(",\n", f);
    fputs("  ", f); sd__run_json_abspath(f, "input_absolute", o->manifest ? o->manifest : o->input_root); fputs(",\n", f);
    fprintf(f, "  \"cpu_level\": \"%s\",\n", sd_ctx_cpu_name(ctx));
    sd__run_provenance_json(f);
    fputs("  \"stage_seconds\": {", f);   /* summed over worker threads, this run only */
    for (int i = 0; i < nstages; i++)
        fprintf(f, "%s\"%s\": %.3f", i ? ", " : "", stage_names[i], stage_s[i]);
    fputs("},\n", f);
    fprintf(f, "  \"shard\": {\"index\": %d, \"count\": %d},\n", o->shard_n > 1 ? o->shard_i : 0,
            o->shard_n > 1 ? o->shard_n : 1);
    fputs("  \"parameters\": {\n", f);
    fprintf(f, "    \"roi\": \"%s\",\n", o->roi_whole ? "whole" : "face");
    fprintf(f, "    \"jobs\": %d,\n    \"bootstrap\": %d,\n    \"bootstrap_recapture\": %s,\n", o->jobs,
            o->bootstrap, o->bootstrap_recapture ? "true" : "false");
    fputs("    \"photometry\": ", f); sd_json_string(f, o->photometry ? o->photometry : ""); fputs(",\n", f);
    fputs("    \"mdc_file\": ", f);
    if (o->mdc_file) sd_json_string(f, o->mdc_file); else fputs("null", f);
    fputs(",\n", f);
    {   /* the noise model by file name and content (shards of one run must agree on both) */
        char mp[4096], hex[65];
        noise_model_id(o, mp, sizeof(mp), hex);
        const char *base = strrchr(mp, '/');
        fputs("    \"noise_model\": ", f);
        if (mp[0]) {
            sd_json_string(f, base ? base + 1 : mp);
            fprintf(f, ",\n    \"noise_model_sha256\": \"%s\",\n", hex);
        } else {
            fputs("null,\n    \"noise_model_sha256\": null,\n", f);
        }
    }
    json_kv_num(f, "iod_px", o->align.iod_px, 1);
    json_kv_num(f, "iod_mm", o->align.iod_mm, 1);
    json_kv_num(f, "px_per_mm_given", o->align.px_per_mm > 0 ? o->align.px_per_mm : NAN, 1);
    json_kv_num(f, "px_per_mm", o->align.px_per_mm > 0 ? o->align.px_per_mm : o->align.iod_px / o->align.iod_mm, 1);
    fprintf(f, "    \"px_per_mm_source\": \"%s\",\n",
            o->px_per_mm_assumed ? "assumed (roi whole default, photo px/mm)"
            : o->align.px_per_mm > 0 ? "user (photo px/mm)" : "mean adult IOD (canonical px/mm)");
    fprintf(f, "    \"frame\": [%d, %d],\n",   /* 0 = the default 2.5 x 3.125 IOD */
            o->align.frame_w > 0 ? o->align.frame_w : (int)lround(2.5 * o->align.iod_px),
            o->align.frame_h > 0 ? o->align.frame_h : (int)lround(3.125 * o->align.iod_px));
    fprintf(f, "    \"motion\": \"%s\",\n", sd_motion_name(o->align.motion));
    fprintf(f, "    \"ecc_max_iter\": %d,\n", o->align.max_iter);
    json_kv_num(f, "ecc_eps", o->align.eps, 1);
    json_kv_num(f, "qc_ecc_warn", o->align.ecc_warn, 1);
    json_kv_num(f, "qc_ecc_fail", o->align.ecc_fail, 1);
    json_kv_num(f, "qc_landmark_rms_warn_iod", o->align.lm_rms_warn, 1);
    json_kv_num(f, "qc_landmark_rms_fail_iod", o->align.lm_rms_fail, 1);
    json_kv_num(f, "qc_overlap_warn", o->align.overlap_warn, 1);
    json_kv_num(f, "qc_overlap_fail", o->align.overlap_fail, 1);
    fputs("    \"face_input_sizes\": [", f);
    int sizes[SD_FACE_MAX_SIZES];
    const int nsz = sd_face_sizes(&o->face, sizes);
    for (int i = 0; i < nsz; i++)
        fprintf(f, "%s%d", i ? ", " : "", sizes[i]);
    fputs("],\n", f);
    json_kv_num(f, "face_score_threshold", o->face.score_threshold > 0 ? o->face.score_threshold : 0.5, 1);
    const SdMetricsOpts *m = &o->metrics;
    json_kv_num(f, "tex_fine_mm", m->tex_fine_mm, 1);
    json_kv_num(f, "tex_flat_mm", m->tex_flat_mm, 1);
    json_kv_num(f, "wr_min_len_mm", m->wr_min_len_mm, 1);
    json_kv_num(f, "pg_band_lo_mm", m->pg_band_lo_mm, 1);
    json_kv_num(f, "pg_band_hi_mm", m->pg_band_hi_mm, 1);
    json_kv_num(f, "erode_mm", m->erode_mm, 0);
    fputs("  },\n", f);

    /* models */
    fputs("  \"models\": {", f);
    if (!o->roi_whole) {
        const char *md = sd_face_models_dir(ctx);
        fputs("\"dir\": ", f); sd_json_string(f, md ? md : ""); 
        if (md) {
            DIR *d = opendir(md);
            struct dirent *de;
            while (d && (de = readdir(d))) {
                if (!sd_strcasesuffix(de->d_name, ".bin")) continue;
                char p[4400], hex[65];
                snprintf(p, sizeof(p), "%s/%s", md, de->d_name);
                if (sd_sha256_file(p, hex)) continue;
                fputs(", ", f); sd_json_string(f, de->d_name); fprintf(f, ": \"sha256:%s\"", hex);
            }
            if (d) closedir(d);
        }
    }
    fputs("},\n", f);

    /* inputs with their hashes, from the per-patient inputs.csv */
    fputs("  \"inputs\": [", f);
    int first = 1;
    for (int p = 0; p < cat->npatients; p++) {
        char ip[4400];
        snprintf(ip, sizeof(ip), "%s/patients/%s/inputs.csv", o->out_dir, cat->patients[p].id);
        SdCsv csv;
        SdCtx tmp; memset(&tmp, 0, sizeof(tmp));
        if (sd_csv_load(&tmp, ip, &csv)) continue;
        for (int r = 0; r < csv.nrows; r++) {
            fputs(first ? "\n    {\"path\": " : ",\n    {\"path\": ", f);
            first = 0;
            sd_json_string(f, sd_csv_get(&csv, r, 0));
            fputs(", ", f);
            sd__run_json_abspath(f, "absolute_path", sd_csv_get(&csv, r, 0));
            fprintf(f, ", \"sha256\": \"%s\"", sd_csv_get(&csv, r, 1));
            /* JPEG compression (absent for lossless inputs and for outputs of older versions) */
            const char *q = csv.ncols > 3 ? sd_csv_get(&csv, r, 2) : "";
            if (q && *q) {
                fprintf(f, ", \"jpeg_quality\": %d, \"chroma\": ", atoi(q));
                sd_json_string(f, sd_csv_get(&csv, r, 3));
            }
            fputs("}", f);
        }
        sd_csv_free(&csv);
    }
    fputs(first ? "]\n}\n" : "\n  ]\n}\n", f);
    if (sd_atomic_commit(&af))
        return sd_fail(ctx, SD_EIO, "%s: write failed", path);
    return 0;
}

/* ---- aggregation */

static int append_csv_rows(SdCtx *ctx, const char *path, const char *header, SdRowList *rows)
{
    SdCsv csv;
    if (!sd_file_exists(path)) return 0;
    int err = sd_csv_load(ctx, path, &csv);
    if (err) return err;
    char *hdr = sd_csv_join(&csv, -1, ',');
    if (!hdr) {
        err = SD_ENOMEM;
    } else if (strcmp(hdr, header)) {
        err = sd_fail(ctx, SD_EFORMAT, "%s: unexpected header '%s'", path, hdr);
    } else {
        for (int r = 0; r < csv.nrows && !err; r++) {
            char *line = sd_csv_join(&csv, r, '\x1f');
            if (!line || sd_rowlist_addf(rows, "%s", line)) err = SD_ENOMEM;
            free(line);
        }
    }
    free(hdr);
    sd_csv_free(&csv);
    return err;
}

static int list_patients(const char *out_dir, char ***ids, int *n)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/patients", out_dir);
    *ids = NULL; *n = 0;
    DIR *d = opendir(path);
    if (!d) return 0;
    struct dirent *de;
    int cap = 0;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        char done[4600];
        snprintf(done, sizeof(done), "%s/%s/done.json", path, de->d_name);
        if (!sd_file_exists(done)) continue;   /* unfinished (killed) patient: not aggregated */
        if (*n == cap) {
            cap = cap ? cap * 2 : 32;
            char **v = realloc(*ids, sizeof(char *) * (size_t)cap);
            if (!v) { closedir(d); return SD_ENOMEM; }
            *ids = v;
        }
        (*ids)[(*n)++] = sd_strdup(de->d_name);
    }
    closedir(d);
    for (int i = 1; i < *n; i++)
        for (int j = i; j > 0 && sd_natcmp((*ids)[j - 1], (*ids)[j]) > 0; j--) {
            char *t = (*ids)[j]; (*ids)[j] = (*ids)[j - 1]; (*ids)[j - 1] = t;
        }
    return 0;
}

static int aggregate(SdCtx *ctx, const char *out_dir, char **ids, int n, const char *mdc_file,
                     int report, const char *run_id);

int sd_run_aggregate(SdCtx *ctx, const char *out_dir, const char *mdc_file, int report)
{
    char **ids = NULL, *rj = sd_path_join(out_dir, "run.json"), *run_id = NULL;
    SdJson run;
    memset(&run, 0, sizeof(run));
    /* the tables re-derived belong to the run run.json names (none: an older folder) */
    int n = 0, err = !rj ? SD_ENOMEM : sd_file_exists(rj) ? sd__json_load(ctx, rj, 1 << 26, &run) : 0;
    free(rj);
    if (err) return err;
    if (sd__json_str(&run, "run_id")) run_id = sd_strdup(sd__json_str(&run, "run_id"));
    sd__json_free(&run);
    if ((err = list_patients(out_dir, &ids, &n))) {
        free(run_id);
        return sd_fail(ctx, err, "%s: cannot list patients", out_dir);
    }
    err = aggregate(ctx, out_dir, ids, n, mdc_file, report, run_id);
    free(run_id);
    for (int i = 0; i < n; i++) free(ids[i]);
    free(ids);
    return err;
}

int sd_run_aggregate_catalog(SdCtx *ctx, const char *out_dir, const SdCatalog *cat,
                             const char *mdc_file, int report, const char *run_id)
{
    char **ids = calloc((size_t)(cat->npatients > 0 ? cat->npatients : 1), sizeof(*ids));
    if (!ids) return sd_fail(ctx, SD_ENOMEM, "out of memory");
    int n = 0;
    for (int p = 0; p < cat->npatients; p++) {
        char *dir = patient_dir(out_dir, cat->patients[p].id), *done = NULL;
        if (dir && asprintf(&done, "%s/done.json", dir) >= 0 && sd_file_exists(done))
            ids[n++] = (char *)cat->patients[p].id;   /* borrowed: not freed below */
        free(done);
        free(dir);
    }
    int err = aggregate(ctx, out_dir, ids, n, mdc_file, report, run_id);
    free(ids);
    return err;
}

static int aggregate(SdCtx *ctx, const char *out_dir, char **ids, int n, const char *mdc_file,
                     int report, const char *run_id)
{
    int err = 0;
    SdMeasArray meas = {0};
    SdRowList al = {0}, er = {0};
    SdRepeatArray rep = {0};
    SdChangeArray ch = {0};
    SdTrendArray tr = {0};
    SdCohortArray co = {0};
    char path[4400], path2[4400];
    if ((err = sd__out_uncommit(ctx, out_dir))) return err;
    snprintf(path, sizeof(path), "%s/catalog_errors.csv", out_dir);
    if ((err = append_csv_rows(ctx, path, SD_ERROR_HEADER, &er))) goto out;
    for (int i = 0; i < n && !err; i++) {
        snprintf(path, sizeof(path), "%s/patients/%s/measurements.csv", out_dir, ids[i]);
        snprintf(path2, sizeof(path2), "%s/patients/%s/uncertainty.csv", out_dir, ids[i]);
        err = sd_meas_read(ctx, path, path2, &meas);
        snprintf(path, sizeof(path), "%s/patients/%s/alignment.csv", out_dir, ids[i]);
        if (!err) err = append_csv_rows(ctx, path, SD_ALIGN_HEADER, &al);
        snprintf(path, sizeof(path), "%s/patients/%s/errors.csv", out_dir, ids[i]);
        if (!err) err = append_csv_rows(ctx, path, SD_ERROR_HEADER, &er);
    }
    if (err) goto out;
    sd_meas_sort(&meas);
#define OUTP(name) (snprintf(path, sizeof(path), "%s/%s", out_dir, name), path)
    if ((err = sd_meas_write(ctx, OUTP("measurements.csv"), &meas))) goto out;
    if ((err = sd_uncert_write(ctx, OUTP("uncertainty.csv"), &meas))) goto out;
    if ((err = sd_csv_write_rows(ctx, OUTP("alignment.csv"), SD_ALIGN_HEADER, al.v, al.n))) goto out;
    if ((err = sd_csv_write_rows(ctx, OUTP("errors.csv"), SD_ERROR_HEADER, er.v, er.n))) goto out;
    if (mdc_file && (err = sd_repeat_read(ctx, mdc_file, &rep))) goto out;
    if ((err = sd_course_changes(ctx, &meas, mdc_file ? &rep : NULL, &ch))) goto out;
    if ((err = sd_course_trends(ctx, &meas, &tr))) goto out;
    if ((err = sd_course_cohort(ctx, &ch, &co))) goto out;
    if ((err = sd_change_write(ctx, OUTP("changes.csv"), &ch))) goto out;
    if ((err = sd_trend_write(ctx, OUTP("trends.csv"), &tr))) goto out;
    if ((err = sd_cohort_write(ctx, OUTP("cohort.csv"), &co))) goto out;
#undef OUTP
    /* the tables are complete: commit them (the report reads them back and checks) */
    if (run_id && (err = sd__out_commit(ctx, out_dir, run_id))) goto out;
    if (report) err = sd_report_write(ctx, out_dir);
out:
    sd_meas_free(&meas);
    sd_rowlist_free(&al);
    sd_rowlist_free(&er);
    sd_repeat_free(&rep);
    sd_change_free(&ch);
    sd_trend_free(&tr);
    sd_cohort_free(&co);
    return err;
}

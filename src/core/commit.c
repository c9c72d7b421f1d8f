/* The commit record of an output folder: OUT/tables.json, written after the last table of a run
 * (or a merge) and removed before its first, names the run id and the sha256 of every table.
 * run.json carries the same run id. A reader (report, merge) that finds run.json naming one run
 * and the tables another -- a run that stopped half-way through rewriting OUT, a table copied in
 * from elsewhere -- refuses the folder instead of mixing two runs. Folders written before run ids
 * existed (no "run_id" in run.json) are read as before. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "src/core/core.h"

const char *const sd__out_tables[SD_OUT_NTABLES] = {
    "measurements.csv", "uncertainty.csv", "alignment.csv", "errors.csv", "catalog_errors.csv",
    "changes.csv", "trends.csv", "cohort.csv",
};

void sd__out_new_run_id(char id[SD_RUN_ID_LEN])
{
    /* time, pid and 64 bits from the kernel (or the clock): unique across runs and machines */
    uint64_t r = 0;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, &r, sizeof(r)) != (ssize_t)sizeof(r)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t s = (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32);
        r = sd_splitmix64(&s);
    }
    if (fd >= 0) close(fd);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char ts[32];
    strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm);
    snprintf(id, SD_RUN_ID_LEN, "%s-%ld-%016llx", ts, (long)getpid(), (unsigned long long)r);
}

static char *join(const char *a, const char *b)
{
    return sd_path_join(a, b);
}

int sd__out_uncommit(SdCtx *ctx, const char *out_dir)
{
    char *p = join(out_dir, "tables.json");
    if (!p) return sd_fail(ctx, SD_ENOMEM, "out of memory");
    int err = 0;
    if (unlink(p) && errno != ENOENT)
        err = sd_fail(ctx, SD_EIO, "%s: cannot remove: %s", p, strerror(errno));
    free(p);
    return err;
}

int sd__out_commit(SdCtx *ctx, const char *out_dir, const char *run_id)
{
    char *path = join(out_dir, "tables.json");
    if (!path) return sd_fail(ctx, SD_ENOMEM, "out of memory");
    SdAtomicFile af;
    if (sd_atomic_open(&af, path)) {
        int err = sd_fail(ctx, SD_EIO, "%s: cannot write: %s", path, strerror(errno));
        free(path);
        return err;
    }
    fputs("{\"run_id\": ", af.f);
    sd_json_string(af.f, run_id);
    fputs(", \"tables\": {", af.f);
    int k = 0, err = 0;
    for (int i = 0; i < SD_OUT_NTABLES && !err; i++) {
        char *t = join(out_dir, sd__out_tables[i]), hex[65];
        if (!t) err = sd_fail(ctx, SD_ENOMEM, "out of memory");
        else if (sd_file_exists(t)) {
            if (sd_sha256_file(t, hex)) err = sd_fail(ctx, SD_EIO, "%s: cannot read back: %s", t, strerror(errno));
            else fprintf(af.f, "%s\"%s\": \"%s\"", k++ ? ", " : "", sd__out_tables[i], hex);
        }
        free(t);
    }
    fputs("}}\n", af.f);
    if (err) sd_atomic_abort(&af);
    else if (sd_atomic_commit(&af)) err = sd_fail(ctx, SD_EIO, "%s: write failed", path);
    free(path);
    return err;
}

/* The run id of OUT/run.json: 0 with *id NULL when OUT has no run.json or it names no run id. */
static int run_json_id(SdCtx *ctx, const char *out_dir, char **id)
{
    *id = NULL;
    char *p = join(out_dir, "run.json");
    if (!p) return sd_fail(ctx, SD_ENOMEM, "out of memory");
    SdJson run;
    int err = sd_file_exists(p) ? sd__json_load(ctx, p, 1 << 26, &run) : 1;
    free(p);
    if (err > 0) return 0;
    if (err) return err;
    const char *s = sd__json_str(&run, "run_id");
    if (s && !(*id = sd_strdup(s))) err = sd_fail(ctx, SD_ENOMEM, "out of memory");
    sd__json_free(&run);
    return err;
}

/* Every table of OUT is listed in the commit record with its hash. */
static int check_tables(SdCtx *ctx, const char *out_dir, const char *rec_path, const SdJson *tables,
                        const char *id)
{
    for (int i = 0; i < SD_OUT_NTABLES; i++) {
        char *t = join(out_dir, sd__out_tables[i]), hex[65];
        if (!t) return sd_fail(ctx, SD_ENOMEM, "out of memory");
        const char *want = sd__json_str(tables, sd__out_tables[i]);
        const int present = sd_file_exists(t);
        int err = 0;
        if (present && !want)
            err = sd_fail(ctx, SD_EFORMAT, "%s: not written by run %s (it is not in %s): the folder "
                          "mixes the files of two runs", t, id, rec_path);
        else if (!present && want)
            err = sd_fail(ctx, SD_EFORMAT, "%s: missing, though run %s wrote it (%s)", t, id, rec_path);
        else if (present && (sd_sha256_file(t, hex) || strcmp(hex, want)))
            err = sd_fail(ctx, SD_EFORMAT, "%s: changed since run %s wrote it (sha256 differs from %s): "
                          "the folder mixes the files of two runs; run again (or --resume)", t, id, rec_path);
        free(t);
        if (err) return err;
    }
    return 0;
}

int sd__out_check(SdCtx *ctx, const char *out_dir)
{
    char *id = NULL, *rec = NULL;
    int err = run_json_id(ctx, out_dir, &id);
    if (err || !id) return err;
    SdJson c;
    memset(&c, 0, sizeof(c));
    if (!(rec = join(out_dir, "tables.json"))) {
        err = sd_fail(ctx, SD_ENOMEM, "out of memory");
    } else if (!sd_file_exists(rec)) {
        err = sd_fail(ctx, SD_EFORMAT, "%s: run %s (run.json) did not finish writing its tables (no %s): "
                      "the folder may mix two runs; run again (or --resume)", out_dir, id, rec);
    } else if (!(err = sd__json_load(ctx, rec, 1 << 20, &c))) {
        const char *cid = sd__json_str(&c, "run_id");
        const SdJson *tables = sd__json_get(&c, "tables");
        if (!cid || !tables || tables->type != SD_JSON_OBJ)
            err = sd_fail(ctx, SD_EFORMAT, "%s: not a commit record (\"run_id\" and \"tables\")", rec);
        else if (strcmp(cid, id))
            err = sd_fail(ctx, SD_EFORMAT, "%s: the tables are of run %s but run.json is of run %s: the "
                          "folder mixes two runs; run again (or --resume)", out_dir, cid, id);
        else
            err = check_tables(ctx, out_dir, rec, tables, id);
    }
    sd__json_free(&c);
    free(rec);
    free(id);
    return err;
}

/* The output folder of a batch run, before anything is scored: where it may be (never inside the
 * input tree, nor the tree inside it), one run at a time (an exclusive lock for the run's
 * lifetime), a canonical frame the loader's pixel limit allows, and nothing left of an earlier
 * run that this run's tables or report would not describe. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/run/run_int.h"
#include "src/core/core.h"

/* The absolute, resolved spelling of path, which need not exist yet: the deepest existing
 * ancestor resolved, the rest appended. NULL when nothing resolves. */
static char *resolve(const char *path)
{
    char *r = realpath(path, NULL);
    if (r) return r;
    char *dup = sd_strdup(path), *slash = dup ? strrchr(dup, '/') : NULL;
    if (!dup) return NULL;
    while (slash && slash > dup && slash[1] == 0) { *slash = 0; slash = strrchr(dup, '/'); }
    char *parent, *out = NULL;
    const char *base;
    if (!slash) { parent = realpath(".", NULL); base = dup; }
    else if (slash == dup) { parent = sd_strdup("/"); base = dup + 1; }
    else { *slash = 0; parent = resolve(dup); base = slash + 1; }
    if (parent && asprintf(&out, "%s%s%s", parent, strcmp(parent, "/") ? "/" : "", base) < 0) out = NULL;
    free(parent);
    free(dup);
    return out;
}

/* 1 when a is b or lies below it. */
static int inside(const char *a, const char *b)
{
    const size_t n = strlen(b);
    return !strncmp(a, b, n) && (a[n] == 0 || a[n] == '/' || (n == 1 && b[0] == '/'));
}

int sd__run_check_paths(SdCtx *ctx, const SdRunOpts *o)
{
    /* (a ROOT folder: a manifest's photos or compare's two files may sit anywhere) */
    if (!o->input_root || o->manifest || !sd_is_dir(o->input_root)) return 0;
    char *root = resolve(o->input_root), *out = resolve(o->out_dir);
    int err = 0;
    if (root && out) {
        if (!strcmp(root, out))
            err = sd_fail(ctx, SD_EINVAL, "%s: the output folder is the input folder; give another -o", o->out_dir);
        else if (inside(out, root))
            err = sd_fail(ctx, SD_EINVAL, "%s: the output folder is inside the input folder %s (it would be "
                          "taken for a patient next time, or hide one); give a folder outside it",
                          o->out_dir, o->input_root);
        else if (inside(root, out))
            err = sd_fail(ctx, SD_EINVAL, "%s: the input folder is inside the output folder %s; give "
                          "another -o", o->input_root, o->out_dir);
    }
    free(root);
    free(out);
    return err;
}

int sd__run_check_frame(SdCtx *ctx, const SdRunOpts *o)
{
    if (o->roi_whole) return 0;   /* the frame is the photo, already bounded by the loader */
    const SdAlignOpts *a = &o->align;
    const double w = a->frame_w > 0 ? a->frame_w : lround(2.5 * a->iod_px);
    const double h = a->frame_h > 0 ? a->frame_h : lround(3.125 * a->iod_px);
    if (w * h <= (double)SD_MAX_PIXELS_DEFAULT) return 0;
    return sd_fail(ctx, SD_EINVAL, "--iod %g makes a %.0fx%.0f canonical frame (%.0f Mpx), more than "
                   "the %.0f Mpx the loader accepts for a photo: give a smaller --iod (or --frame)",
                   a->iod_px, w, h, w * h / 1e6, (double)SD_MAX_PIXELS_DEFAULT / 1e6);
}

int sd__run_lock(SdCtx *ctx, const char *out_dir, int *fd_out)
{
    char *p = sd_path_join(out_dir, ".skindelta.lock");
    if (!p) return sd_fail(ctx, SD_ENOMEM, "out of memory");
    int err = 0;
    const int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        err = sd_fail(ctx, SD_EIO, "%s: cannot open the lock file: %s", p, strerror(errno));
    } else if (flock(fd, LOCK_EX | LOCK_NB)) {
        /* the holder wrote its pid when it took the lock */
        char buf[32] = "";
        const ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
        buf[n > 0 ? n : 0] = 0;
        buf[strcspn(buf, "\n")] = 0;
        err = sd_fail(ctx, SD_EINVAL, "%s: another skindelta run (pid %s) is writing this output folder; "
                      "wait for it or give another -o", out_dir, buf[0] ? buf : "unknown");
        close(fd);
    } else {
        char pid[32];
        const int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
        if (ftruncate(fd, 0) || pwrite(fd, pid, (size_t)n, 0) != n) { /* the lock still holds */ }
        *fd_out = fd;
    }
    free(p);
    return err;
}

void sd__run_unlock(int fd)
{
    if (fd >= 0) close(fd);   /* releases the flock */
}

/* Removes a folder and what it holds; symbolic links are removed, never followed. */
static int rm_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st)) return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode)) return unlink(path);
    DIR *d = opendir(path);
    if (!d) return -1;
    int err = 0;
    struct dirent *de;
    while (!err && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        char *c = sd_path_join(path, de->d_name);
        err = c ? rm_tree(c) : -1;
        free(c);
    }
    closedir(d);
    return err ? err : rmdir(path);
}

static int in_catalog(const SdCatalog *cat, const char *id)
{
    for (int p = 0; p < cat->npatients; p++)
        if (!strcmp(cat->patients[p].id, id)) return 1;
    return 0;
}

/* OUT/<sub>/<id> for every id this run does not score. */
static int clear_other_patients(SdCtx *ctx, const char *out_dir, const char *sub, const SdCatalog *cat)
{
    char *dir = sd_path_join(out_dir, sub);
    if (!dir) return sd_fail(ctx, SD_ENOMEM, "out of memory");
    DIR *d = opendir(dir);
    int err = 0;
    struct dirent *de;
    while (d && !err && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || in_catalog(cat, de->d_name)) continue;
        char *c = sd_path_join(dir, de->d_name);
        if (!c || rm_tree(c))
            err = sd_fail(ctx, SD_EIO, "%s: cannot remove the result of an earlier run: %s",
                          c ? c : dir, strerror(errno));
        free(c);
    }
    if (d) closedir(d);
    free(dir);
    return err;
}

int sd__run_clear_stale(SdCtx *ctx, const char *out_dir, const SdCatalog *cat)
{
    /* only in a folder a run wrote (run.json at its end, catalog_errors.csv at its start): never
     * in someone's folder that happens to hold a "patients" or "report" folder */
    char *a = sd_path_join(out_dir, "run.json"), *b = sd_path_join(out_dir, "catalog_errors.csv");
    const int ours = a && b && (sd_file_exists(a) || sd_file_exists(b));
    free(a);
    free(b);
    if (!ours) return 0;
    int err = clear_other_patients(ctx, out_dir, "patients", cat);
    if (!err) err = clear_other_patients(ctx, out_dir, "aligned", cat);
    /* the report is written again at the end of the run (or not at all with --no-report) */
    char *rep = sd_path_join(out_dir, "report");
    if (!err && (!rep || rm_tree(rep)))
        err = sd_fail(ctx, SD_EIO, "%s: cannot remove the report of an earlier run: %s",
                      rep ? rep : out_dir, strerror(errno));
    free(rep);
    return err;
}

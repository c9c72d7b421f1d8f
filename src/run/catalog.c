/* Catalog: folder walk or manifest -> sorted entries, session order, days since baseline, and a
 * list of diagnostics (never a crash, never a silent skip). */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "skindelta/catalog.h"
#include "src/core/csv.h"
#include "src/core/core.h"

#define MAX_ENTRIES 1000000

static const char *const image_exts[] = {".jpg", ".jpeg", ".png", ".tif", ".tiff"};

static int is_image_name(const char *name)
{
    for (size_t i = 0; i < sizeof(image_exts) / sizeof(image_exts[0]); i++)
        if (sd_strcasesuffix(name, image_exts[i]) && strlen(name) > strlen(image_exts[i]))
            return 1;
    return 0;
}

/* Sidecar files that may sit anywhere in the tree without a warning. */
static int is_sidecar_name(const char *name)
{
    static const char *const side[] = {".json", ".txt", ".xmp", ".md", ".csv", ".html"};
    for (size_t i = 0; i < sizeof(side) / sizeof(side[0]); i++)
        if (sd_strcasesuffix(name, side[i])) return 1;
    return 0;
}

/* Control characters (newline, tab, the unit separator the runner uses between fields) make
 * names that no table or one-line message can carry: such names are refused. */
static int has_ctrl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) return 1;
    return 0;
}

/* A skindelta output folder (OUT inside ROOT, or an earlier run kept next to the patients). */
static int is_output_dir(const char *dir)
{
    char *a = sd_path_join(dir, "run.json"), *b = sd_path_join(dir, "patients");
    const int yes = a && b && sd_file_exists(a) && sd_is_dir(b);
    free(a); free(b);
    return yes;
}

static int add_issue(SdCatalog *cat, int level, int code, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* code: the error kind for errors.csv (SD_EIO cannot read, SD_EFORMAT malformed); 0 for warnings */
static int add_issue(SdCatalog *cat, int level, int code, const char *path, const char *fmt, ...)
{
    SdCatIssue *n = realloc(cat->issues, sizeof(*n) * (size_t)(cat->nissues + 1));
    if (!n) return SD_ENOMEM;
    cat->issues = n;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    SdCatIssue *is = &cat->issues[cat->nissues];
    is->level = level;
    is->code = code ? code : level == SD_CAT_ERROR ? SD_EFORMAT : 0;
    is->path = sd_strdup(path ? path : "");
    is->message = sd_strdup(buf);
    if (!is->path || !is->message) { free(is->path); free(is->message); return SD_ENOMEM; }
    for (char *c = is->path; *c; c++)      /* shown on one line and in errors.csv */
        if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = '?';
    for (char *c = is->message; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = '?';
    cat->nissues++;
    return 0;
}

static int add_entry(SdCatalog *cat, int *cap, const char *patient, const char *session,
                     const char *view, const char *path, const char *date)
{
    if (cat->nentries >= MAX_ENTRIES) return SD_ELIMIT;
    if (cat->nentries == *cap) {
        int c2 = *cap ? *cap * 2 : 64;
        SdCatEntry *n = realloc(cat->entries, sizeof(*n) * (size_t)c2);
        if (!n) return SD_ENOMEM;
        cat->entries = n; *cap = c2;
    }
    SdCatEntry *e = &cat->entries[cat->nentries];
    memset(e, 0, sizeof(*e));
    e->patient = sd_strdup(patient);
    e->session = sd_strdup(session);
    e->view = sd_strdup(view);
    e->path = sd_strdup(path);
    e->days = NAN;
    e->date_source = "";
    if (date && *date) { snprintf(e->date, sizeof(e->date), "%s", date); e->date_source = "manifest"; }
    if (!e->patient || !e->session || !e->view || !e->path) {
        free(e->patient); free(e->session); free(e->view); free(e->path);
        return SD_ENOMEM;
    }
    cat->nentries++;
    return 0;
}

void sd_catalog_free(SdCatalog *cat)
{
    if (!cat) return;
    for (int i = 0; i < cat->nentries; i++) {
        SdCatEntry *e = &cat->entries[i];
        free(e->patient); free(e->session); free(e->view); free(e->path);
    }
    for (int i = 0; i < cat->npatients; i++) free(cat->patients[i].id);
    for (int i = 0; i < cat->nissues; i++) { free(cat->issues[i].path); free(cat->issues[i].message); }
    free(cat->entries); free(cat->patients); free(cat->issues); free(cat->root);
    memset(cat, 0, sizeof(*cat));
}

static int cmp_entry(const void *pa, const void *pb)
{
    const SdCatEntry *a = pa, *b = pb;
    int c = sd_natcmp(a->patient, b->patient);
    if (!c) c = strcmp(a->patient, b->patient);
    if (!c) c = sd_natcmp(a->view, b->view);
    if (!c) c = sd_natcmp(a->session, b->session);
    if (!c) c = strcmp(a->session, b->session);
    if (!c) c = strcmp(a->path, b->path);
    return c;
}

/* Natural-sorted list of the names in a folder (no dot entries). */
static int list_dir(const char *path, char ***names, int *n)
{
    *names = NULL; *n = 0;
    DIR *d = opendir(path);
    if (!d) return SD_EIO;
    struct dirent *de;
    int cap = 0;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nn = realloc(*names, sizeof(char *) * (size_t)cap);
            if (!nn) break;
            *names = nn;
        }
        (*names)[*n] = sd_strdup(de->d_name);
        if ((*names)[*n]) (*n)++;
    }
    closedir(d);
    for (int i = 1; i < *n; i++)                       /* insertion sort: folders are small */
        for (int j = i; j > 0 && sd_natcmp((*names)[j - 1], (*names)[j]) > 0; j--) {
            char *t = (*names)[j]; (*names)[j] = (*names)[j - 1]; (*names)[j - 1] = t;
        }
    return 0;
}

static void free_names(char **names, int n)
{
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
}

int sd_parse_date(const char *s, char out[11])
{
    int y, m, d;
    char sep1, sep2;
    if (!s || sscanf(s, "%4d%c%2d%c%2d", &y, &sep1, &m, &sep2, &d) != 5)
        return -1;
    if (!((sep1 == '-' && sep2 == '-') || (sep1 == ':' && sep2 == ':')))
        return -1;
    if (strlen(s) < 10 || (s[10] && s[10] != 'T' && s[10] != ' '))
        return -1;
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1900 || y > 2999 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return -1;
    if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return -1;
    char tmp[40];
    snprintf(tmp, sizeof(tmp), "%04d-%02d-%02d", y, m, d);
    memcpy(out, tmp, 11);
    return 0;
}

static long days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    const long era = (y >= 0 ? y : y - 399) / 400;
    const long yoe = y - era * 400;
    const long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

double sd_days_between(const char *a, const char *b)
{
    char da[11], db[11];
    if (!a || !b || sd_parse_date(a, da) || sd_parse_date(b, db)) return NAN;
    int y1, m1, d1, y2, m2, d2;
    sscanf(da, "%d-%d-%d", &y1, &m1, &d1);
    sscanf(db, "%d-%d-%d", &y2, &m2, &d2);
    return (double)(days_from_civil(y2, m2, d2) - days_from_civil(y1, m1, d1));
}

/* View names match without regard to case ("Front" == "front"): every spelling of a view takes
 * the one seen first (the first patient's baseline in a folder walk), so a course and the cohort
 * see one view, still spelled as the user wrote it. Each other spelling is one warning, naming
 * the first file that used it. Views are few: two short lists keep this linear in the entries. */
static int unify_view_case(SdCatalog *cat)
{
    const char **seen = NULL;   /* [0, nseen): the spelling each view keeps; then those renamed */
    int nseen = 0, nother = 0, err = 0;
    for (int i = 0; i < cat->nentries && !err; i++) {
        SdCatEntry *e = &cat->entries[i];
        int k = 0, o = 0;
        while (k < nseen && strcasecmp(seen[k], e->view)) k++;
        if (k < nseen && !strcmp(seen[k], e->view)) continue;
        const char **v = realloc(seen, sizeof(*v) * (size_t)(nseen + nother + 1));
        if (!v) { err = SD_ENOMEM; break; }
        seen = v;
        if (k == nseen) {   /* a new view: it keeps this spelling */
            memmove(seen + nseen + 1, seen + nseen, sizeof(*seen) * (size_t)nother);
            seen[nseen++] = e->view;
            continue;
        }
        char *canon = sd_strdup(seen[k]);
        if (!canon) { err = SD_ENOMEM; break; }
        while (o < nother && strcmp(seen[nseen + o], e->view)) o++;
        if (o == nother) {   /* the list keeps the other spelling (freed below) */
            seen[nseen + nother++] = e->view;
            err = add_issue(cat, SD_CAT_WARN, 0, e->path,
                            "view '%s' is read as '%s' (view names match without regard to case)", e->view, canon);
        } else {
            free(e->view);
        }
        e->view = canon;
    }
    for (int o = 0; o < nother; o++) free((char *)seen[nseen + o]);
    free(seen);
    return err;
}

/* Sort, drop duplicates, index sessions, group patients, compute days, report gaps. */
static int finish(SdCtx *ctx, SdCatalog *cat, const SdCatalogOpts *opts)
{
    int err = unify_view_case(cat);
    if (err) return err;
    if (cat->nentries > 1)
        qsort(cat->entries, (size_t)cat->nentries, sizeof(SdCatEntry), cmp_entry);
    /* duplicates: same patient/session/view twice (front.jpg + front.png, or a repeated manifest row) */
    int w = 0;
    for (int i = 0; i < cat->nentries; i++) {
        SdCatEntry *e = &cat->entries[i];
        if (w > 0) {
            SdCatEntry *p = &cat->entries[w - 1];
            if (!strcmp(p->patient, e->patient) && !strcmp(p->session, e->session) &&
                !strcmp(p->view, e->view)) {
                /* the same file twice is harmless; two files for one photo is a question only
                 * the user can answer */
                const int same = !strcmp(p->path, e->path);
                if ((err = same ? add_issue(cat, SD_CAT_WARN, 0, e->path,
                                            "duplicate entry for patient %s, session %s, view %s (kept once)",
                                            e->patient, e->session, e->view)
                                : add_issue(cat, SD_CAT_ERROR, SD_EINVAL, e->path,
                                            "duplicate entry for patient %s, session %s, view %s with another "
                                            "file than %s: not scored (the first is kept); remove one",
                                            e->patient, e->session, e->view, p->path)))
                    return err;
                free(e->patient); free(e->session); free(e->view); free(e->path);
                continue;
            }
        }
        cat->entries[w++] = *e;
    }
    cat->nentries = w;

    /* patients */
    for (int i = 0; i < cat->nentries;) {
        int j = i;
        while (j < cat->nentries && !strcmp(cat->entries[j].patient, cat->entries[i].patient)) j++;
        SdCatPatient *np = realloc(cat->patients, sizeof(*np) * (size_t)(cat->npatients + 1));
        if (!np) return SD_ENOMEM;
        cat->patients = np;
        SdCatPatient *pt = &cat->patients[cat->npatients++];
        pt->id = sd_strdup(cat->entries[i].patient);
        if (!pt->id) return SD_ENOMEM;
        pt->first = i; pt->count = j - i;

        /* distinct sessions, natural order -> session_index */
        const char **sess = calloc((size_t)(j - i), sizeof(*sess));
        if (!sess) return SD_ENOMEM;
        int ns = 0;
        for (int k = i; k < j; k++) {
            int found = 0;
            for (int s = 0; s < ns; s++) if (!strcmp(sess[s], cat->entries[k].session)) { found = 1; break; }
            if (!found) sess[ns++] = cat->entries[k].session;
        }
        for (int a = 1; a < ns; a++)
            for (int b = a; b > 0 && sd_natcmp(sess[b - 1], sess[b]) > 0; b--) {
                const char *t = sess[b]; sess[b] = sess[b - 1]; sess[b - 1] = t;
            }
        pt->nsessions = ns;
        for (int k = i; k < j; k++)
            for (int s = 0; s < ns; s++)
                if (!strcmp(sess[s], cat->entries[k].session)) cat->entries[k].session_index = s;

        /* dates: manifest, else EXIF */
        if (opts->read_exif_dates)
            for (int k = i; k < j; k++) {
                SdCatEntry *e = &cat->entries[k];
                if (e->date[0]) continue;
                SdImageInfo info;
                if (!sd_image_probe(ctx, e->path, &info) && info.datetime[0] &&
                    !sd_parse_date(info.datetime, e->date))
                    e->date_source = "exif";
                sd_clear_error(ctx);
            }
        /* days since the baseline session (its earliest dated view) */
        char base_date[11] = "";
        for (int k = i; k < j; k++)
            if (cat->entries[k].session_index == 0 && cat->entries[k].date[0] &&
                (!base_date[0] || strcmp(cat->entries[k].date, base_date) < 0))
                memcpy(base_date, cat->entries[k].date, 11);
        for (int k = i; k < j; k++)
            if (base_date[0] && cat->entries[k].date[0])
                cat->entries[k].days = sd_days_between(base_date, cat->entries[k].date);

        /* sessions are ordered by name; a follow-up dated before the baseline means the names
         * and the dates disagree (or a camera clock was wrong): say so once per session */
        for (int k = i; k < j && !err; k++)
            if (cat->entries[k].days < 0 &&
                (k == i || strcmp(cat->entries[k - 1].session, cat->entries[k].session) ||
                 !(cat->entries[k - 1].days < 0)))
                err = add_issue(cat, SD_CAT_WARN, 0, cat->entries[k].path,
                                "patient %s: session %s is dated %s (%s), %.0f days before the baseline "
                                "session %s; sessions are ordered by name", pt->id, cat->entries[k].session,
                                cat->entries[k].date, cat->entries[k].date_source, -cat->entries[k].days, sess[0]);
        if (err) { free(sess); return err; }
        if (ns == 1)
            err = add_issue(cat, SD_CAT_WARN, 0, pt->id,
                            "patient %s has only one session (%s): nothing to compare", pt->id, sess[0]);
        /* views missing in some session */
        for (int k = i; k < j && !err;) {
            int l = k, have_base = 0, nsv = 0;
            while (l < j && !strcmp(cat->entries[l].view, cat->entries[k].view)) {
                if (cat->entries[l].session_index == 0) have_base = 1;
                nsv++; l++;
            }
            if (!have_base && ns > 1)
                err = add_issue(cat, SD_CAT_WARN, 0, cat->entries[k].path,
                    "patient %s: view %s is missing in the baseline session %s; its follow-ups cannot be scored",
                    pt->id, cat->entries[k].view, sess[0]);
            else if (nsv < ns && ns > 1)
                err = add_issue(cat, SD_CAT_WARN, 0, cat->entries[k].path,
                    "patient %s: view %s is present in %d of %d sessions", pt->id,
                    cat->entries[k].view, nsv, ns);
            k = l;
        }
        free(sess);
        if (err) return err;
        i = j;
    }
    return 0;
}

/* A folder below dir (other than a run's aligned/, patients/, report/) holds an image file: dir
 * is a patient folder, whatever else was written into it. */
static int holds_photos(const char *dir)
{
    char **subs; int nsubs, yes = 0;
    if (list_dir(dir, &subs, &nsubs)) return 0;
    for (int i = 0; i < nsubs && !yes; i++) {
        if (!strcmp(subs[i], "aligned") || !strcmp(subs[i], "patients") || !strcmp(subs[i], "report")) continue;
        char *sd = sd_path_join(dir, subs[i]), **files; int nfiles;
        if (sd && sd_is_dir(sd) && !list_dir(sd, &files, &nfiles)) {
            for (int f = 0; f < nfiles && !yes; f++) yes = is_image_name(files[f]);
            free_names(files, nfiles);
        }
        free(sd);
    }
    free_names(subs, nsubs);
    return yes;
}

int sd_catalog_scan(SdCtx *ctx, const char *root, const SdCatalogOpts *opts_in, SdCatalog *cat)
{
    SdCatalogOpts opts = {1};
    if (opts_in) opts = *opts_in;
    memset(cat, 0, sizeof(*cat));
    int err = 0, cap = 0;
    if (!sd_is_dir(root))
        return sd_fail(ctx, SD_EIO, "%s: not a folder (%s)", root,
                       sd_file_exists(root) ? "it is a file; use --manifest for a CSV" : strerror(errno));
    if (has_ctrl(root))
        return sd_fail(ctx, SD_EINVAL, "%s: the folder name contains control characters", root);
    cat->root = sd_strdup(root);
    const int root_is_out = is_output_dir(root);   /* an earlier run wrote into ROOT itself */
    char **pats; int npats;
    if (list_dir(root, &pats, &npats))
        return sd_fail(ctx, SD_EIO, "%s: cannot read folder: %s", root, strerror(errno));
    for (int p = 0; p < npats && !err; p++) {
        char *pdir = sd_path_join(root, pats[p]);
        if (!pdir) { err = SD_ENOMEM; break; }
        if (has_ctrl(pats[p])) {
            err = add_issue(cat, SD_CAT_ERROR, SD_EFORMAT, pdir, "name contains control characters (newline, tab, ...); "
                            "patient skipped, rename the folder");
            free(pdir);
            continue;
        }
        if (!sd_is_dir(pdir)) {
            if (!is_sidecar_name(pats[p]))
                err = add_issue(cat, SD_CAT_WARN, 0, pdir, "not a patient folder (ignored)");
            free(pdir);
            continue;
        }
        if (root_is_out && (!strcmp(pats[p], "aligned") || !strcmp(pats[p], "patients") ||
                            !strcmp(pats[p], "report"))) {
            err = add_issue(cat, SD_CAT_WARN, 0, pdir, "output of a skindelta run written into this folder, "
                            "not a patient (ignored)");
            free(pdir);
            continue;
        }
        if (is_output_dir(pdir)) {
            /* a patient's photos must never leave the tables without a row saying so */
            if (holds_photos(pdir))
                err = add_issue(cat, SD_CAT_ERROR, SD_EINVAL, pdir, "holds photos and the output of a skindelta "
                                "run (-o inside this patient folder?): patient not scored; move run.json, "
                                "patients/, aligned/ and report/ out of it");
            else
                err = add_issue(cat, SD_CAT_WARN, 0, pdir, "a skindelta output folder, not a patient (ignored)");
            free(pdir);
            continue;
        }
        char **sess; int nsess;
        if (list_dir(pdir, &sess, &nsess)) {
            err = add_issue(cat, SD_CAT_ERROR, SD_EIO, pdir, "cannot read patient folder: %s", strerror(errno));
            free(pdir);
            continue;
        }
        int found = 0;
        for (int s = 0; s < nsess && !err; s++) {
            char *sdir = sd_path_join(pdir, sess[s]);
            if (!sdir) { err = SD_ENOMEM; break; }
            if (has_ctrl(sess[s])) {
                err = add_issue(cat, SD_CAT_ERROR, SD_EFORMAT, sdir, "name contains control characters (newline, tab, ...); "
                                "session skipped, rename the folder");
                free(sdir);
                continue;
            }
            if (!sd_is_dir(sdir)) {
                if (!is_sidecar_name(sess[s]))
                    err = add_issue(cat, SD_CAT_WARN, 0, sdir, "not a session folder (ignored)");
                free(sdir);
                continue;
            }
            char **files; int nfiles;
            if (list_dir(sdir, &files, &nfiles)) {
                err = add_issue(cat, SD_CAT_ERROR, SD_EIO, sdir, "cannot read session folder: %s", strerror(errno));
                free(sdir);
                continue;
            }
            for (int f = 0; f < nfiles && !err; f++) {
                char *fp = sd_path_join(sdir, files[f]);
                if (!fp) { err = SD_ENOMEM; break; }
                if (has_ctrl(files[f])) {
                    err = add_issue(cat, SD_CAT_ERROR, SD_EFORMAT, fp, "name contains control characters (newline, tab, ...); "
                                    "file skipped, rename it");
                } else if (!is_image_name(files[f])) {
                    /* quietly skip sidecars (.json, .txt, .xmp, ...); say so for anything else */
                    if (!is_sidecar_name(files[f]))
                        err = add_issue(cat, SD_CAT_WARN, 0, fp, "not an image name (.jpg .jpeg .png .tif .tiff); ignored");
                } else if (sd_is_dir(fp)) {
                    /* a folder named like an image must not shadow a real photo of that view */
                    err = add_issue(cat, SD_CAT_ERROR, SD_EIO, fp, "is a folder, not an image file; ignored");
                } else {
                    char *view = sd_strdup(files[f]);
                    if (!view) { free(fp); err = SD_ENOMEM; break; }
                    char *dot = strrchr(view, '.');
                    if (dot) *dot = 0;
                    err = add_entry(cat, &cap, pats[p], sess[s], view, fp, NULL);
                    free(view);
                    found++;
                }
                free(fp);
            }
            free_names(files, nfiles);
            free(sdir);
        }
        if (!found && !err)
            err = add_issue(cat, SD_CAT_WARN, 0, pdir, "patient folder holds no images in <session>/<view>.jpg form");
        free_names(sess, nsess);
        free(pdir);
    }
    free_names(pats, npats);
    if (!err) err = finish(ctx, cat, &opts);
    if (err) {
        sd_catalog_free(cat);
        if (err == SD_ELIMIT)
            return sd_fail(ctx, err, "%s: more than %d images", root, MAX_ENTRIES);
        return sd_fail(ctx, err, "%s: out of memory while cataloguing", root);
    }
    return 0;
}

static int valid_id(const char *s)
{
    if (!*s || strlen(s) > 200 || !strcmp(s, ".") || !strcmp(s, "..")) return 0;
    for (; *s; s++)
        if (*s == '/' || *s == '\\' || (unsigned char)*s < 0x20) return 0;
    return 1;
}

/* Header lookup for the manifest: case and surrounding spaces do not matter ("Patient, Session"
 * from a spreadsheet is the same header). */
static int manifest_col(const SdCsv *csv, const char *name)
{
    const size_t n = strlen(name);
    for (int c = 0; c < csv->ncols; c++) {
        const char *h = csv->header[c];
        while (*h == ' ' || *h == '\t') h++;
        size_t l = strlen(h);
        while (l && (h[l - 1] == ' ' || h[l - 1] == '\t')) l--;
        if (l == n && !strncasecmp(h, name, n)) return c;
    }
    return -1;
}

static int manifest_col_count(const SdCsv *csv, const char *name)
{
    int n = 0;
    SdCsv one = *csv;
    for (int c; (c = manifest_col(&one, name)) >= 0; n++) {   /* count by looking past each match */
        one.header += c + 1;
        one.ncols -= c + 1;
    }
    return n;
}

int sd_catalog_manifest(SdCtx *ctx, const char *manifest, const SdCatalogOpts *opts_in, SdCatalog *cat)
{
    SdCatalogOpts opts = {1};
    if (opts_in) opts = *opts_in;
    memset(cat, 0, sizeof(*cat));
    SdCsv csv;
    int err = sd_csv_load(ctx, manifest, &csv);
    if (err) return err;
    static const char *const known[] = {"patient", "session", "date", "view", "path"};
    for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++)
        if (manifest_col_count(&csv, known[k]) > 1) {
            sd_csv_free(&csv);
            return sd_fail(ctx, SD_EFORMAT, "%s:1: the column '%s' appears twice in the header", manifest, known[k]);
        }
    const int cp = manifest_col(&csv, "patient"), cs = manifest_col(&csv, "session"),
              cd = manifest_col(&csv, "date"), cv = manifest_col(&csv, "view"),
              cpath = manifest_col(&csv, "path");
    if (cp < 0 || cs < 0 || cv < 0 || cpath < 0) {
        char found[160] = "";
        for (int c = 0; c < csv.ncols && strlen(found) < 100; c++)
            snprintf(found + strlen(found), sizeof(found) - strlen(found), "%s%.40s", c ? "," : "", csv.header[c]);
        const int semi = csv.ncols == 1 && (strchr(found, ';') || strchr(found, '\t'));
        sd_csv_free(&csv);
        return sd_fail(ctx, SD_EFORMAT,
                       "%s:1: header must have the columns patient,session,date,view,path (date optional), "
                       "found '%s'%s", manifest, found,
                       semi ? " (separated by ';' or tabs? use commas)" : "");
    }
    cat->root = sd_strdup(manifest);
    char *dir = sd_strdup(manifest);
    if (!dir || !cat->root) { free(dir); sd_csv_free(&csv); sd_catalog_free(cat); return SD_ENOMEM; }
    char *slash = strrchr(dir, '/');
    if (slash) slash[1] = 0; else dir[0] = 0;
    int cap = 0;
    char where[1200];
    for (int r = 0; r < csv.nrows && !err; r++) {
        const SdCsvRow *row = &csv.rows[r];
        snprintf(where, sizeof(where), "%s:%d", manifest, row->line);
        if (row->n != csv.ncols) {
            err = add_issue(cat, SD_CAT_ERROR, SD_EFORMAT, where, "line %d has %d fields, the header has %d; line skipped",
                            row->line, row->n, csv.ncols);
            continue;
        }
        const char *p = sd_csv_get(&csv, r, cp), *s = sd_csv_get(&csv, r, cs),
                   *v = sd_csv_get(&csv, r, cv), *path = sd_csv_get(&csv, r, cpath),
                   *d = cd >= 0 ? sd_csv_get(&csv, r, cd) : "";
        if (!valid_id(p) || !valid_id(s) || !valid_id(v) || !*path || has_ctrl(path)) {
            err = add_issue(cat, SD_CAT_ERROR, SD_EFORMAT, where,
                            "line %d: patient, session, view and path must be non-empty, without control characters "
                            "(and names without '/'); line skipped",
                            row->line);
            continue;
        }
        char date[11] = "";
        if (*d && sd_parse_date(d, date)) {
            err = add_issue(cat, SD_CAT_ERROR, SD_EFORMAT, where, "line %d: date '%s' is not an ISO 8601 date (YYYY-MM-DD); line skipped",
                            row->line, d);
            continue;
        }
        char *full = path[0] == '/' ? sd_strdup(path) : sd_path_join(dir, path);
        if (!full) { err = SD_ENOMEM; break; }
        if (!sd_file_exists(full))
            err = add_issue(cat, SD_CAT_WARN, 0, full, "line %d: file not found (kept; it will fail at load)",
                            row->line);
        if (!err) err = add_entry(cat, &cap, p, s, v, full, date);
        free(full);
    }
    free(dir);
    sd_csv_free(&csv);
    if (!err) err = finish(ctx, cat, &opts);
    if (err) {
        sd_catalog_free(cat);
        return sd_fail(ctx, err, "%s: %s while reading the manifest", manifest, sd_strerror(err));
    }
    return 0;
}

void sd_catalog_shard(SdCatalog *cat, int i, int n)
{
    if (n <= 1) return;
    int wp = 0, we = 0;
    SdCatEntry *ne = cat->entries;
    for (int p = 0; p < cat->npatients; p++) {
        SdCatPatient pt = cat->patients[p];
        if (p % n == i) {
            memmove(&ne[we], &cat->entries[pt.first], sizeof(SdCatEntry) * (size_t)pt.count);
            pt.first = we;
            we += pt.count;
            cat->patients[wp++] = pt;
        } else {
            for (int k = pt.first; k < pt.first + pt.count; k++) {
                SdCatEntry *e = &cat->entries[k];
                free(e->patient); free(e->session); free(e->view); free(e->path);
            }
            free(pt.id);
        }
    }
    cat->npatients = wp;
    cat->nentries = we;
}

int sd_catalog_baseline_of(const SdCatalog *cat, int e)
{
    const SdCatEntry *x = &cat->entries[e];
    for (int k = 0; k < cat->nentries; k++) {
        const SdCatEntry *b = &cat->entries[k];
        if (b->session_index == 0 && !strcmp(b->patient, x->patient) && !strcmp(b->view, x->view))
            return k;
    }
    return -1;
}

int sd_catalog_pair(SdCtx *ctx, const char *before, const char *after, SdCatalog *cat)
{
    memset(cat, 0, sizeof(*cat));
    int cap = 0, err = add_entry(cat, &cap, "pair", "before", "front", before, NULL);
    if (!err) err = add_entry(cat, &cap, "pair", "after", "front", after, NULL);
    cat->root = sd_strdup(before);
    /* "after" < "before" alphabetically: set the order explicitly instead of sorting names */
    if (!err && cat->root) {
        cat->patients = calloc(1, sizeof(*cat->patients));
        if (cat->patients && (cat->patients[0].id = sd_strdup("pair"))) {
            cat->npatients = 1;
            cat->patients[0].first = 0;
            cat->patients[0].count = 2;
            cat->patients[0].nsessions = 2;
            cat->entries[0].session_index = 0;
            cat->entries[1].session_index = 1;
            return 0;
        }
    }
    sd_catalog_free(cat);
    return sd_fail(ctx, SD_ENOMEM, "out of memory");
}

/* Report images: each session's aligned photo and overlays in report/img/ so the report folder
 * stands alone: the photo's JPEG preview and the overlay masks (indexed PNGs, composited over the
 * photo by the page) linked in as they are; the change map, and the PNG photos and RGB overlays of
 * older runs, copied as downscaled JPEGs, on all cores. A copy newer than its source is reused. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/report/report_int.h"
#include "src/core/core.h"

#define SD_REP_IMG_MAXW 800
#define SD_REP_JPEG_Q 85

/* Box-average by an integer factor k (u8 RGB in, u8 RGB out). */
static int shrink_box(const SdImage *src, int k, SdImage *dst)
{
    const int w = src->w / k, h = src->h / k, c = src->c;
    int e = sd_image_create(dst, w, h, c, SD_FMT_U8);
    if (e) return e;
    unsigned *acc = sd_calloc_checked((size_t)w * (size_t)c, sizeof(unsigned));
    if (!acc) { sd_image_free(dst); return SD_ENOMEM; }
    const unsigned area = (unsigned)(k * k);
    for (int y = 0; y < h; y++) {
        memset(acc, 0, (size_t)w * (size_t)c * sizeof(unsigned));
        for (int dy = 0; dy < k; dy++) {
            const uint8_t *s = sd_image_row8(src, y * k + dy);
            for (int x = 0; x < w; x++)
                for (int dx = 0; dx < k; dx++)
                    for (int ch = 0; ch < c; ch++)
                        acc[x * c + ch] += s[(x * k + dx) * c + ch];
        }
        uint8_t *d = sd_image_row8(dst, y);
        for (int i = 0; i < w * c; i++) d[i] = (uint8_t)((acc[i] + area / 2) / area);
    }
    free(acc);
    return 0;
}

static int newer_or_same(const char *dst, const char *src)
{
    struct stat a, b;
    if (stat(dst, &a) || stat(src, &b)) return 0;
    if (a.st_mtim.tv_sec != b.st_mtim.tv_sec) return a.st_mtim.tv_sec > b.st_mtim.tv_sec;
    return a.st_mtim.tv_nsec >= b.st_mtim.tv_nsec;
}

static int copy_image(SdCtx *ctx, const char *src, const char *dst)
{
    if (newer_or_same(dst, src)) return 0;
    SdLoadOpts o;
    sd_load_opts_default(&o);
    o.fmt = SD_FMT_U8;
    o.target_max = SD_REP_IMG_MAXW;   /* shrink-on-load where the format allows (JPEG) */
    SdImage im = {0}, sm = {0};
    int e = sd_image_load(ctx, src, &o, &im, NULL);
    if (e) return e;
    const int k = (im.w + SD_REP_IMG_MAXW - 1) / SD_REP_IMG_MAXW;
    if (k > 1 && im.h >= k) {
        if ((e = shrink_box(&im, k, &sm))) {
            sd_image_free(&im);
            return sd_fail(ctx, e, "%s: out of memory", src);
        }
        sd_image_free(&im);
        im = sm;
    }
    e = sd_image_save(ctx, &im, dst, SD_REP_JPEG_Q);
    sd_image_free(&im);
    return e;
}

/* 1 when path is an indexed-colour PNG (an overlay mask of src/run/overlays.c): PNG signature,
 * then IHDR with colour type 3. Older runs wrote overlays as RGB pictures. */
static int is_png_mask(const char *path)
{
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    uint8_t b[26];
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    const size_t n = fread(b, 1, sizeof(b), f);
    fclose(f);
    return n == sizeof(b) && !memcmp(b, sig, 8) && !memcmp(b + 12, "IHDR", 4) && b[25] == 3;
}

/* 1 when path starts as a JPEG does (SOI, then a marker). */
static int is_jpeg(const char *path)
{
    uint8_t b[3];
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    const size_t n = fread(b, 1, sizeof(b), f);
    fclose(f);
    return n == 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF;
}

static int same_file(const char *a, const char *b)
{
    struct stat x, y;
    return !stat(a, &x) && !stat(b, &y) && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

/* A file into the report as it is: a hard link (nothing written), else a copy; atomically. */
static int link_file(SdCtx *ctx, const char *src, const char *dst)
{
    if (same_file(src, dst) || newer_or_same(dst, src)) return 0;
    const size_t n = strlen(dst) + 32;
    char *tmp = malloc(n);
    if (!tmp) return sd_fail(ctx, SD_ENOMEM, "out of memory");
    snprintf(tmp, n, "%s.tmp.link", dst);
    unlink(tmp);
    int e = 0;
    if (!link(src, tmp)) {
        if (rename(tmp, dst)) {
            e = sd_fail(ctx, SD_EIO, "%s: cannot write: %s", dst, strerror(errno));
            unlink(tmp);
        }
    } else {   /* another file system, or links refused: copy the bytes */
        char *data = NULL;
        size_t len = 0;
        if (sd_read_file(src, (size_t)64 << 20, &data, &len))
            e = sd_fail(ctx, SD_EFORMAT, "%s: cannot read it for the report", src);
        else if (sd_write_file_atomic(dst, data, len))
            e = sd_fail(ctx, SD_EIO, "%s: cannot write: %s", dst, strerror(errno));
        free(data);
    }
    free(tmp);
    return e;
}

/* A name is usable as a path component of the run folder (ids come from CSV files). */
static int plain_component(const char *s)
{
    return *s && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..");
}

typedef struct ImgTask {
    char *src, *dst, *rel;     /* absolute-ish source and copy paths, copy path under report/ */
    int session, kind, rc;
    int mask;                  /* an indexed overlay mask (a .png in the report) */
    int link;                  /* linked into the report as it is, not re-encoded */
    char msg[SD_ERRMSG_MAX];   /* detail of a failure that stops the report (ENOMEM, EIO) */
} ImgTask;

typedef struct ImgPool {
    SdCtx base;
    ImgTask *t;
    int n;
    int next;                  /* next task, taken with __atomic_fetch_add */
} ImgPool;

static void *img_worker(void *arg)
{
    ImgPool *p = arg;
    SdCtx ctx = p->base;
    for (int i; (i = __atomic_fetch_add(&p->next, 1, __ATOMIC_RELAXED)) < p->n;) {
        ImgTask *t = &p->t[i];
        ctx.errmsg[0] = 0;
        t->rc = t->link ? link_file(&ctx, t->src, t->dst) : copy_image(&ctx, t->src, t->dst);
        if (t->rc) snprintf(t->msg, sizeof(t->msg), "%s", ctx.errmsg);
    }
    return NULL;
}

/* Decode + shrink + encode every image on all cores (the report runs after the batch pool). */
static void run_pool(const SdCtx *ctx, ImgTask *t, int n)
{
    ImgPool pool = {*ctx, t, n, 0};
    SdPool th;
    /* (this thread is one of the workers) */
    sd__pool_start(&th, sd__pool_threads(0, n, 8) - 1, 0, img_worker, &pool);
    img_worker(&pool);
    sd__pool_join(&th);
}

int sd__rep_images(SdCtx *ctx, SdRep *r)
{
    int e = 0, n = 0;
    char *buf = NULL, *stem = NULL, *vs = NULL;
    size_t cap;
    ImgTask *t = NULL;
    if (sd_mul_overflow((size_t)r->nses, SD_REP_NIMG, &cap) ||
        !(t = sd_calloc_checked(cap + 1, sizeof(ImgTask))))
        return sd_fail(ctx, SD_ENOMEM, "out of memory");
    for (int i = 0; i < r->nses && !e; i++) {
        SdRepSession *s = &r->ses[i];
        const char *pat = r->patients.s[s->patient], *view = r->views.s[s->view];
        const size_t need = strlen(r->out_dir) + strlen(r->rep_dir) + strlen(pat) + strlen(view) +
                            strlen(s->name) + 96;
        free(buf); free(vs); free(stem);
        buf = malloc(need);
        vs = malloc(strlen(view) + strlen(s->name) + 2);
        stem = NULL;
        if (!buf || !vs) { e = SD_ENOMEM; break; }
        sprintf(vs, "%s_%s", view, s->name);
        if (!(stem = sd__rep_safe_name(vs))) { e = SD_ENOMEM; break; }
        const int usable = plain_component(pat) && plain_component(vs);
        for (int k = 0; k < SD_REP_NIMG; k++) {
            /* the photo: its JPEG preview, else the lossless PNG (--save-aligned, older runs) */
            const char *ext = k == SD_REP_IMG_PHOTO ? ".jpg" : ".png";
            snprintf(buf, need, "%s/aligned/%s/%s%s%s", r->out_dir, pat, vs, sd__rep_img_suffix[k], ext);
            if (k == SD_REP_IMG_PHOTO && !sd_file_exists(buf)) {
                ext = ".png";
                snprintf(buf, need, "%s/aligned/%s/%s%s%s", r->out_dir, pat, vs, sd__rep_img_suffix[k], ext);
                if (!sd_file_exists(buf)) ext = ".jpg";   /* named when missing: what a run writes now */
            }
            char *full = sd_strdup(buf);
            snprintf(buf, need, "aligned/%s/%s%s%s", pat, vs, sd__rep_img_suffix[k], ext);
            if (!full || !(s->src[k] = sd_strdup(buf))) { free(full); e = SD_ENOMEM; break; }
            if (!usable || !sd_file_exists(full)) { free(full); continue; }
            ImgTask *x = &t[n++];
            x->session = i;
            x->kind = k;
            x->src = full;
            /* the overlay masks and the photo's JPEG preview are already what the page shows:
             * linked, not encoded again (an older run's RGB overlays and PNG photos are) */
            x->mask = k != SD_REP_IMG_PHOTO && k != SD_REP_IMG_CHANGE && is_png_mask(full);
            x->link = x->mask || (k == SD_REP_IMG_PHOTO && !strcmp(ext, ".jpg") && is_jpeg(full));
            snprintf(buf, need, "%s/img/%s", r->rep_dir, r->patient_file[s->patient]);
            if (sd_mkdir_p(buf)) {
                e = sd_fail(ctx, SD_EIO, "%s: cannot create folder", buf);
                break;
            }
            const char *oext = x->mask ? ".png" : ".jpg";
            snprintf(buf, need, "%s/img/%s/%s%s%s", r->rep_dir, r->patient_file[s->patient],
                     stem, sd__rep_img_suffix[k], oext);
            if (!(x->dst = sd_strdup(buf))) { e = SD_ENOMEM; break; }
            snprintf(buf, need, "img/%s/%s%s%s", r->patient_file[s->patient], stem,
                     sd__rep_img_suffix[k], oext);
            if (!(x->rel = sd_strdup(buf))) { e = SD_ENOMEM; break; }
        }
    }
    if (!e && n) run_pool(ctx, t, n);
    for (int i = 0; i < n; i++) {
        ImgTask *x = &t[i];
        if (!e && (x->rc == SD_ENOMEM || x->rc == SD_EIO))   /* the report cannot be written */
            e = sd_fail(ctx, x->rc, "%s", x->msg);
        if (!e && !x->rc) {                                   /* else: shown as missing */
            r->ses[x->session].img[x->kind] = x->rel;
            x->rel = NULL;
        }
        free(x->src); free(x->dst); free(x->rel);
    }
    free(t);
    for (int i = 0; i < r->nses; i++)
        if (!r->ses[i].img[SD_REP_IMG_PHOTO]) r->nimg_missing++;
    free(buf); free(vs); free(stem);
    if (e == SD_ENOMEM && !ctx->errmsg[0]) sd_fail(ctx, e, "out of memory");
    return e;
}

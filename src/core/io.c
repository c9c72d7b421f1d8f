/* Image I/O through libvips: upright sRGB RGB from whatever libvips reads (EXIF orientation, ICC,
 * 16-bit, grey, alpha, CMYK), shrink-on-load, limits against hostile files, atomic saves. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <pthread.h>

#include <vips/vips.h>

#include "skindelta/skindelta.h"
#include "src/core/core.h"

#define DEFAULT_MAX_PIXELS SD_MAX_PIXELS_DEFAULT
#define DEFAULT_MAX_BYTES  (512ull << 20)

static pthread_once_t vips_once = PTHREAD_ONCE_INIT;
static int vips_ok;

static void drop_log(const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer user)
{
    (void)domain; (void)level; (void)msg; (void)user;
}

static void vips_start(void)
{
    vips_ok = VIPS_INIT("skindelta") == 0;
    /* libvips' own warnings ("error in tile ...") repeat what our error values already say, with
     * no file name; keep stderr to our one-line messages. SKINDELTA_VIPS_WARNINGS=1 shows them. */
    if (!getenv("SKINDELTA_VIPS_WARNINGS"))
        g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE, drop_log, NULL);
    if (vips_ok) {
        /* Hostile inputs: only photo decoders may parse what the catalog hands us. Content is
         * sniffed, so without this an SVG, PDF, FITS, MAT or .v file renamed .png/.jpg reaches
         * librsvg, poppler, cfitsio, matio or a raw mmap. */
        vips_operation_block_set("VipsForeignLoad", TRUE);
        static const char *const allowed[] = {"VipsForeignLoadJpeg", "VipsForeignLoadPng",
            "VipsForeignLoadTiff", "VipsForeignLoadWebp", "VipsForeignLoadHeif",
            "VipsForeignLoadJxl", "VipsForeignLoadJp2k", "VipsForeignLoadNsgif", "VipsForeignLoadPpm"};
        for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
            vips_operation_block_set(allowed[i], FALSE);
        /* We parallelise across images; keep libvips from spawning a pool per image, and keep its
         * operation cache from holding decoded photos. */
        vips_concurrency_set(1);
        vips_cache_set_max(0);
        vips_cache_set_max_mem(0);
    }
}

int sd_init(SdCtx *ctx, const char *argv0)
{
    (void)argv0;
    pthread_once(&vips_once, vips_start);
    if (!vips_ok) {
        int err = sd_fail(ctx, SD_EDEP, "libvips failed to initialise: %s", vips_error_buffer());
        vips_error_clear();
        return err;
    }
    return 0;
}

/* Copy libvips' error text into ctx and clear it. */
static int vips_fail(SdCtx *ctx, int err, const char *path, const char *what)
{
    char buf[600];
    snprintf(buf, sizeof(buf), "%s", vips_error_buffer());
    vips_error_clear();
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) buf[--n] = 0;
    for (char *p = buf; *p; p++) if (*p == '\n') *p = ';';
    return sd_fail(ctx, err, "%s: %s%s%s", path, what, buf[0] ? ": " : "", buf);
}

void sd_load_opts_default(SdLoadOpts *o)
{
    memset(o, 0, sizeof(*o));
    o->scale = 1.0;
    o->fmt = SD_FMT_F32;
}

static int check_file(SdCtx *ctx, const char *path, uint64_t max_bytes)
{
    struct stat st;
    if (stat(path, &st))
        return sd_fail(ctx, SD_EIO, "%s: cannot open: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return sd_fail(ctx, SD_EIO, "%s: is a directory, not an image file", path);
    if (!S_ISREG(st.st_mode))
        return sd_fail(ctx, SD_EIO, "%s: not a regular file", path);
    if (access(path, R_OK))
        return sd_fail(ctx, SD_EIO, "%s: cannot read: %s", path, strerror(errno));
    if (st.st_size == 0)
        return sd_fail(ctx, SD_EFORMAT, "%s: empty file (0 bytes)", path);
    if ((uint64_t)st.st_size > max_bytes)
        return sd_fail(ctx, SD_ELIMIT, "%s: file is %llu bytes, over the limit of %llu", path,
                       (unsigned long long)st.st_size, (unsigned long long)max_bytes);
    return 0;
}

static void short_format(const char *loader, char *out, size_t n)
{
    /* "jpegload" -> "jpeg", "pngload_source" -> "png" */
    snprintf(out, n, "%s", loader ? loader : "");
    char *p = strstr(out, "load");
    if (p) *p = 0;
}

static void read_meta(VipsImage *im, SdImageInfo *info)
{
    const char *s = NULL;
    int orient = 1;
    if (vips_image_get_typeof(im, VIPS_META_ORIENTATION) &&
        !vips_image_get_int(im, VIPS_META_ORIENTATION, &orient))
        info->orientation = orient;
    else
        info->orientation = 1;
    info->had_icc = vips_image_get_typeof(im, VIPS_META_ICC_NAME) != 0;
    info->orig_bands = im->Bands;
    info->had_alpha = vips_image_hasalpha(im);
    info->bits = (im->BandFmt == VIPS_FORMAT_USHORT || im->BandFmt == VIPS_FORMAT_SHORT) ? 16
               : (im->BandFmt == VIPS_FORMAT_FLOAT || im->BandFmt == VIPS_FORMAT_DOUBLE) ? 32 : 8;
    info->datetime[0] = 0;
    if (vips_image_get_typeof(im, "exif-ifd2-DateTimeOriginal") &&
        !vips_image_get_string(im, "exif-ifd2-DateTimeOriginal", &s) && s) {
        /* libvips formats it as "2024:01:02 10:11:12 (2024:01:02 10:11:12, ASCII, 20 components...)" */
        snprintf(info->datetime, sizeof(info->datetime), "%.19s", s);
    }
    const char *loader = NULL;
    if (vips_image_get_typeof(im, VIPS_META_LOADER) &&
        !vips_image_get_string(im, VIPS_META_LOADER, &loader))
        short_format(loader, info->format, sizeof(info->format));
}

/* libvips reads "name[options]" out of a file name, and its option tokenizer (8.14) can abort the
 * process on a quote in the path (an assertion in vips_strncpy, seen on a patient folder named
 * with a '"', about one run in eight). The loaders below open the file as a VipsSource instead:
 * a path is only ever a path, whatever characters it holds. */
static VipsSource *file_source(const char *path)
{
    return vips_source_new_from_file(path);
}

/* Bytes already in memory, through the same source interface (every loader we allow reads a
 * source; not all of them have a buffer variant, PPM for one). data must outlive the images. */
static VipsImage *open_mem(const void *data, size_t n, VipsAccess access, int shrink, VipsFailOn fail_on)
{
    VipsSource *src = vips_source_new_from_memory(data, n);
    if (!src) return NULL;
    VipsImage *im = shrink > 1
        ? vips_image_new_from_source(src, "", "access", access, "shrink", shrink, "fail_on", fail_on, NULL)
        : vips_image_new_from_source(src, "", "access", access, "fail_on", fail_on, NULL);
    g_object_unref(src);
    return im;
}

int sd_image_probe(SdCtx *ctx, const char *path, SdImageInfo *info)
{
    int err = sd_init(ctx, NULL);
    if (err) return err;
    memset(info, 0, sizeof(*info));
    if ((err = check_file(ctx, path, DEFAULT_MAX_BYTES)))
        return err;
    VipsSource *src = file_source(path);
    VipsImage *im = src ? vips_image_new_from_source(src, "", "access", VIPS_ACCESS_SEQUENTIAL, NULL) : NULL;
    VIPS_UNREF(src);
    if (!im)
        return vips_fail(ctx, SD_EFORMAT, path, "not a readable image");
    read_meta(im, info);
    if (!strcmp(info->format, "jpeg"))
        (void)sd_jpeg_info(path, &info->jpeg_quality, info->chroma);
    int w = im->Xsize, h = im->Ysize;
    if (info->orientation >= 5 && info->orientation <= 8) { int t = w; w = h; h = t; }
    info->orig_w = w; info->orig_h = h; info->scale = 1.0;
    g_object_unref(im);
    return 0;
}

/* Shrink factor for JPEG DCT scaling (1,2,4,8), the largest that keeps the image at or above the
 * requested scale / target size. */
static int pick_shrink(const SdLoadOpts *o, int w, int h, const char *format)
{
    if (strcmp(format, "jpeg") != 0)
        return 1;
    int best = 1;
    for (int s = 2; s <= 8; s *= 2) {
        if (o->scale > 0 && o->scale < 1.0 && 1.0 / s + 1e-9 < o->scale)
            break;
        if (o->target_max > 0 && (w > h ? w : h) / s < o->target_max)
            break;
        if (!(o->scale > 0 && o->scale < 1.0) && o->target_max <= 0)
            break;
        best = s;
    }
    return best;
}

/* To sRGB, 3 bands, 8-bit (uchar) or float 0..1. */
static int to_srgb(SdCtx *ctx, const char *path, VipsImage *in, int want_f32, VipsImage **out)
{
    VipsImage *t[8] = {0};
    VipsImage *cur = in;
    int k = 0, err = 0;
    g_object_ref(cur);

    /* Embedded ICC (incl. CMYK): transform to sRGB. Without one, CMYK uses libvips' fallback
     * profile, everything else is assumed sRGB. */
    if (vips_image_get_typeof(cur, VIPS_META_ICC_NAME) || cur->Type == VIPS_INTERPRETATION_CMYK) {
        if (vips_icc_transform(cur, &t[k], "srgb", "embedded", TRUE,
                               "intent", VIPS_INTENT_RELATIVE, NULL)) {
            /* A broken profile: fall back to a colourspace conversion rather than failing. */
            vips_error_clear();
            if (vips_colourspace(cur, &t[k], VIPS_INTERPRETATION_sRGB, NULL)) {
                err = vips_fail(ctx, SD_EFORMAT, path, "colour conversion failed");
                goto done;
            }
        }
        g_object_unref(cur); cur = t[k++];
    }
    if (vips_image_hasalpha(cur)) {
        if (vips_extract_band(cur, &t[k], 0, "n", cur->Bands - 1, NULL)) {
            err = vips_fail(ctx, SD_EFORMAT, path, "cannot drop alpha"); goto done;
        }
        g_object_unref(cur); cur = t[k++];
    }
    /* 16-bit: to float 0..1 (or 8-bit) without going through 8-bit first when float is wanted. */
    if (cur->Bands != 1 && cur->Bands != 3) {
        if (vips_colourspace(cur, &t[k], VIPS_INTERPRETATION_sRGB, NULL)) {
            err = vips_fail(ctx, SD_EFORMAT, path, "unsupported band layout"); goto done;
        }
        g_object_unref(cur); cur = t[k++];
        if (cur->Bands > 3) {
            if (vips_extract_band(cur, &t[k], 0, "n", 3, NULL)) {
                err = vips_fail(ctx, SD_EFORMAT, path, "unsupported band layout"); goto done;
            }
            g_object_unref(cur); cur = t[k++];
        }
    }
    {
        double range = 255.0;
        if (cur->BandFmt == VIPS_FORMAT_USHORT || cur->BandFmt == VIPS_FORMAT_SHORT)
            range = 65535.0;
        else if (cur->BandFmt == VIPS_FORMAT_FLOAT || cur->BandFmt == VIPS_FORMAT_DOUBLE)
            range = (cur->Type == VIPS_INTERPRETATION_scRGB) ? 1.0 : 255.0;
        if (cur->Type == VIPS_INTERPRETATION_scRGB) {
            if (vips_colourspace(cur, &t[k], VIPS_INTERPRETATION_sRGB, NULL)) {
                err = vips_fail(ctx, SD_EFORMAT, path, "colour conversion failed"); goto done;
            }
            g_object_unref(cur); cur = t[k++];
            range = 255.0;
        }
        if (cur->Bands == 1) {
            VipsImage *b3[3] = {cur, cur, cur};
            if (vips_bandjoin(b3, &t[k], 3, NULL)) {
                err = vips_fail(ctx, SD_EFORMAT, path, "grey to RGB failed"); goto done;
            }
            g_object_unref(cur); cur = t[k++];
        }
        if (want_f32) {
            /* 8- and 16-bit stay integers here: the caller converts to planar float in one pass
             * (a LUT for 8-bit), which is several times cheaper than libvips' float pipeline
             * followed by a de-interleave. Other formats go to float 0..1 in libvips. */
            if (cur->BandFmt != VIPS_FORMAT_UCHAR && cur->BandFmt != VIPS_FORMAT_USHORT) {
                if (vips_linear1(cur, &t[k], 1.0 / range, 0.0, NULL)) {
                    err = vips_fail(ctx, SD_EFORMAT, path, "conversion to float failed"); goto done;
                }
                g_object_unref(cur); cur = t[k++];
                if (cur->BandFmt != VIPS_FORMAT_FLOAT) {
                    if (vips_cast(cur, &t[k], VIPS_FORMAT_FLOAT, NULL)) {
                        err = vips_fail(ctx, SD_EFORMAT, path, "cast failed"); goto done;
                    }
                    g_object_unref(cur); cur = t[k++];
                }
            }
        } else if (cur->BandFmt != VIPS_FORMAT_UCHAR) {
            if (vips_linear1(cur, &t[k], 255.0 / range, 0.0, NULL)) {
                err = vips_fail(ctx, SD_EFORMAT, path, "conversion to 8-bit failed"); goto done;
            }
            g_object_unref(cur); cur = t[k++];
            if (vips_cast(cur, &t[k], VIPS_FORMAT_UCHAR, NULL)) {
                err = vips_fail(ctx, SD_EFORMAT, path, "cast failed"); goto done;
            }
            g_object_unref(cur); cur = t[k++];
        }
    }
done:
    if (err) {
        g_object_unref(cur);
        return err;
    }
    *out = cur;   /* holds the only reference we keep; t[] refs were transferred to cur chain */
    return 0;
}

int sd__image_read(SdCtx *ctx, const char *path, uint64_t max_bytes, char **data, size_t *n)
{
    *data = NULL;
    *n = 0;
    int err = sd_init(ctx, NULL);
    if (err || (err = check_file(ctx, path, max_bytes ? max_bytes : DEFAULT_MAX_BYTES)))
        return err;
    err = sd_read_file(path, max_bytes ? max_bytes : DEFAULT_MAX_BYTES, data, n);
    if (err == SD_ELIMIT)
        return sd_fail(ctx, err, "%s: file is over the limit of %llu bytes", path,
                       (unsigned long long)(max_bytes ? max_bytes : DEFAULT_MAX_BYTES));
    if (err == SD_ENOMEM)
        return sd_fail(ctx, err, "%s: out of memory reading the file", path);
    if (err)
        return sd_fail(ctx, err, "%s: cannot read: %s", path, strerror(errno));
    if (!*n) {
        free(*data);
        *data = NULL;
        return sd_fail(ctx, SD_EFORMAT, "%s: empty file (0 bytes)", path);
    }
    return 0;
}

int sd_image_load(SdCtx *ctx, const char *path, const SdLoadOpts *opts, SdImage *img,
                  SdImageInfo *info_out)
{
    char *data = NULL;
    size_t n = 0;
    memset(img, 0, sizeof(*img));
    int err = sd__image_read(ctx, path, opts ? opts->max_bytes : 0, &data, &n);
    if (!err)
        err = sd__image_load_mem(ctx, path, data, n, opts, 1, img, info_out);
    free(data);
    return err;
}

int sd__image_header_mem(SdCtx *ctx, const char *path, const void *data, size_t n, SdImageInfo *info)
{
    int err = sd_init(ctx, NULL);
    if (err) return err;
    memset(info, 0, sizeof(*info));
    VipsImage *im = open_mem(data, n, VIPS_ACCESS_SEQUENTIAL, 1, VIPS_FAIL_ON_NONE);
    if (!im)
        return vips_fail(ctx, SD_EFORMAT, path, "not a readable image");
    read_meta(im, info);
    if (!strcmp(info->format, "jpeg"))
        (void)sd__jpeg_info_mem(data, n, &info->jpeg_quality, info->chroma);
    int w = im->Xsize, h = im->Ysize;
    if (info->orientation >= 5 && info->orientation <= 8) { int t = w; w = h; h = t; }
    info->orig_w = w; info->orig_h = h; info->scale = 1.0;
    g_object_unref(im);
    return 0;
}

int sd__image_load_mem(SdCtx *ctx, const char *path, const void *data, size_t n, const SdLoadOpts *opts,
                       int direct, SdImage *img, SdImageInfo *info_out)
{
    SdLoadOpts o;
    SdImageInfo info;
    int err;
    memset(img, 0, sizeof(*img));
    memset(&info, 0, sizeof(info));
    if (opts) o = *opts; else sd_load_opts_default(&o);
    if (!o.max_pixels) o.max_pixels = DEFAULT_MAX_PIXELS;
    if (!o.max_bytes) o.max_bytes = DEFAULT_MAX_BYTES;
    if ((err = sd_init(ctx, NULL)))
        return err;
    if ((uint64_t)n > o.max_bytes)
        return sd_fail(ctx, SD_ELIMIT, "%s: file is %llu bytes, over the limit of %llu", path,
                       (unsigned long long)n, (unsigned long long)o.max_bytes);

    /* the header (libvips parses the EXIF and ICC markers) and, for JPEG, the compression */
    VipsImage *head = open_mem(data, n, VIPS_ACCESS_SEQUENTIAL, 1, VIPS_FAIL_ON_NONE);
    if (!head)
        return vips_fail(ctx, SD_EFORMAT, path, "not a readable image");
    read_meta(head, &info);
    if (!strcmp(info.format, "jpeg"))
        (void)sd__jpeg_info_mem(data, n, &info.jpeg_quality, info.chroma);
    const uint64_t px = (uint64_t)head->Xsize * (uint64_t)head->Ysize;
    if (px > o.max_pixels) {
        err = sd_fail(ctx, SD_ELIMIT, "%s: %dx%d pixels exceeds the limit of %llu pixels", path,
                      head->Xsize, head->Ysize, (unsigned long long)o.max_pixels);
        g_object_unref(head);
        return err;
    }
    int w0 = head->Xsize, h0 = head->Ysize;
    const int shrink = pick_shrink(&o, w0, h0, info.format);
    g_object_unref(head);

    const int rot90 = info.orientation >= 5 && info.orientation <= 8;
    info.orig_w = rot90 ? h0 : w0;
    info.orig_h = rot90 ? w0 : h0;

    /* JPEG without a colour profile, 8-bit grey/YCbCr/RGB: libjpeg-turbo straight from the bytes */
    if (direct && !strcmp(info.format, "jpeg") && !info.had_icc && sd__jpeg_direct_ok(data, n)) {
        if ((err = sd__jpeg_decode(ctx, path, data, n, shrink, info.orientation, o.fmt, o.max_pixels, img)))
            return err;
        info.scale = (double)img->w / info.orig_w;
        if (info_out) *info_out = info;
        return 0;
    }

    /* Corrupt pixel data must fail, not be measured: libjpeg reports damaged entropy-coded data
     * only as warnings, so JPEGs fail on warnings; other formats (where benign warnings such as
     * libpng's iCCP notes are common) fail on truncation. */
    const VipsFailOn fail_on = !strcmp(info.format, "jpeg") ? VIPS_FAIL_ON_WARNING
                                                             : VIPS_FAIL_ON_TRUNCATED;
    /* Sequential access streams the decode, but an EXIF rotation (orientation 2-8) reads the
     * rows out of order ("out of order read" on any photo taller than libvips' line cache): those
     * files are opened for random access (the whole image is decoded into memory anyway). */
    const VipsAccess access = info.orientation > 1 && info.orientation <= 8 ? VIPS_ACCESS_RANDOM
                                                                            : VIPS_ACCESS_SEQUENTIAL;
    VipsImage *im = open_mem(data, n, access, shrink, fail_on);
    if (!im)
        return vips_fail(ctx, SD_EFORMAT, path, "not a readable image");

    VipsImage *rot = NULL, *srgb = NULL;
    if (vips_autorot(im, &rot, NULL)) {
        g_object_unref(im);
        return vips_fail(ctx, SD_EFORMAT, path, "EXIF orientation failed");
    }
    g_object_unref(im);
    err = to_srgb(ctx, path, rot, o.fmt == SD_FMT_F32, &srgb);
    g_object_unref(rot);
    if (err)
        return err;

    size_t nbytes = 0;
    void *buf = vips_image_write_to_memory(srgb, &nbytes);
    const int W = srgb->Xsize, H = srgb->Ysize;

    const VipsBandFormat bf = srgb->BandFmt;
    g_object_unref(srgb);
    if (!buf)
        return vips_fail(ctx, SD_EFORMAT, path, "decoding failed (corrupt or truncated data)");
    const size_t bps = bf == VIPS_FORMAT_UCHAR ? 1 : bf == VIPS_FORMAT_USHORT ? 2 : 4;
    if (nbytes != (size_t)W * (size_t)H * 3 * bps || (o.fmt == SD_FMT_U8 && bps != 1)) {
        g_free(buf);
        return sd_fail(ctx, SD_EFORMAT, "%s: decoder returned an unexpected buffer", path);
    }
    if ((err = sd__image_create_nozero(img, W, H, 3, o.fmt))) {
        g_free(buf);
        return sd_fail(ctx, err, "%s: cannot allocate a %dx%d image", path, W, H);
    }
    if (o.fmt == SD_FMT_F32) {
        float lut[256];
        for (int i = 0; i < 256; i++) lut[i] = i * (1.0f / 255.0f);
        for (int y = 0; y < H; y++) {
            float *r = sd_image_rowf(img, 0, y), *g = sd_image_rowf(img, 1, y),
                  *b = sd_image_rowf(img, 2, y);
            if (bps == 1) {
                const uint8_t *row = (const uint8_t *)buf + (size_t)y * W * 3;
                for (int x = 0; x < W; x++) {
                    r[x] = lut[row[3 * x]]; g[x] = lut[row[3 * x + 1]]; b[x] = lut[row[3 * x + 2]];
                }
            } else if (bps == 2) {
                const uint16_t *row = (const uint16_t *)buf + (size_t)y * W * 3;
                for (int x = 0; x < W; x++) {
                    r[x] = row[3 * x] * (1.0f / 65535.0f);
                    g[x] = row[3 * x + 1] * (1.0f / 65535.0f);
                    b[x] = row[3 * x + 2] * (1.0f / 65535.0f);
                }
            } else {
                const float *row = (const float *)buf + (size_t)y * W * 3;
                for (int x = 0; x < W; x++) {
                    r[x] = row[3 * x]; g[x] = row[3 * x + 1]; b[x] = row[3 * x + 2];
                }
            }
        }
    } else {
        for (int y = 0; y < H; y++)
            memcpy(sd_image_row8(img, y), (uint8_t *)buf + (size_t)y * W * 3, (size_t)W * 3);
    }
    g_free(buf);
    info.scale = (double)W / info.orig_w;
    if (info_out) *info_out = info;
    return 0;
}

int sd_image_save(SdCtx *ctx, const SdImage *img, const char *path, int quality)
{
    int err = sd_init(ctx, NULL);
    if (err) return err;
    SdImage u8 = {0};
    const SdImage *src = img;
    if (img->fmt == SD_FMT_F32) {
        if ((err = sd_image_to_u8(img, &u8)))
            return sd_fail(ctx, err, "%s: cannot convert image for saving", path);
        src = &u8;
    }
    /* Pack rows tightly for libvips. */
    const size_t row = (size_t)src->w * src->c;
    uint8_t *packed = malloc(row * src->h);
    if (!packed) {
        sd_image_free(&u8);
        return sd_fail(ctx, SD_ENOMEM, "%s: out of memory", path);
    }
    const int W = src->w, H = src->h, C = src->c;
    for (int y = 0; y < H; y++)
        memcpy(packed + row * y, sd_image_row8(src, y), row);
    sd_image_free(&u8);
    VipsImage *im = vips_image_new_from_memory(packed, row * H, W, H, C, VIPS_FORMAT_UCHAR);
    if (!im) {
        free(packed);
        return vips_fail(ctx, SD_EDEP, path, "cannot wrap image");
    }
    im->Type = C == 1 ? VIPS_INTERPRETATION_B_W : VIPS_INTERPRETATION_sRGB;

    size_t n = 0;
    void *out = NULL;
    int r;
    if (sd_strcasesuffix(path, ".png")) {
        /* a bilevel grey image (a mask: 0 and 255 only) as a 1-bit PNG: the same pixels when
         * read back, an eighth of the rows to deflate */
        int bilevel = C == 1;
        for (size_t i = 0; bilevel && i < row * H; i++) bilevel = packed[i] == 0 || packed[i] == 255;
        r = vips_pngsave_buffer(im, &out, &n, "compression", 3, "bitdepth", bilevel ? 1 : 8, NULL);
    }
    else if (sd_strcasesuffix(path, ".jpg") || sd_strcasesuffix(path, ".jpeg"))
        r = vips_jpegsave_buffer(im, &out, &n, "Q", quality > 0 ? quality : 92, NULL);
    else if (sd_strcasesuffix(path, ".tif") || sd_strcasesuffix(path, ".tiff"))
        r = vips_tiffsave_buffer(im, &out, &n, NULL);
    else {
        g_object_unref(im);
        free(packed);
        return sd_fail(ctx, SD_EINVAL, "%s: unknown output format (use .png, .jpg or .tif)", path);
    }
    g_object_unref(im);
    free(packed);
    if (r)
        return vips_fail(ctx, SD_EDEP, path, "encoding failed");
    err = sd_write_file_atomic(path, out, n);
    g_free(out);
    if (err)
        return sd_fail(ctx, err, "%s: cannot write: %s", path, strerror(errno));
    return 0;
}

/* JPEG-encode a packed 8-bit RGB buffer in memory and decode it again: *dec (g_malloc'ed, W*H*3). */
static int jpeg_through(SdCtx *ctx, const uint8_t *packed, int W, int H, int quality, int subsample,
                        uint8_t **dec)
{
    *dec = NULL;
    VipsImage *im = vips_image_new_from_memory(packed, (size_t)W * (size_t)H * 3, W, H, 3, VIPS_FORMAT_UCHAR);
    if (!im)
        return vips_fail(ctx, SD_EDEP, "JPEG round trip", "cannot wrap image");
    im->Type = VIPS_INTERPRETATION_sRGB;
    void *buf = NULL;
    size_t n = 0;
    const int r = vips_jpegsave_buffer(im, &buf, &n, "Q", quality, "subsample_mode",
                                       subsample ? VIPS_FOREIGN_SUBSAMPLE_ON : VIPS_FOREIGN_SUBSAMPLE_OFF, NULL);
    g_object_unref(im);
    if (r)
        return vips_fail(ctx, SD_EDEP, "JPEG round trip", "encoding failed");
    VipsImage *d = NULL;
    size_t nb = 0;
    void *mem = NULL;
    if (vips_jpegload_buffer(buf, n, &d, NULL) == 0)
        mem = vips_image_write_to_memory(d, &nb);
    const int ok = mem && d && d->Xsize == W && d->Ysize == H && d->Bands == 3 &&
                   d->BandFmt == VIPS_FORMAT_UCHAR && nb == (size_t)W * (size_t)H * 3;
    if (d) g_object_unref(d);
    g_free(buf);
    if (!ok) {
        g_free(mem);
        return vips_fail(ctx, SD_EDEP, "JPEG round trip", "decoding failed");
    }
    *dec = mem;
    return 0;
}

/* The common path: encode with per-channel linear-light factors g (8-bit levels through a table,
 * other values by the formula), decode, and divide the factors out again (decoded levels by table).
 * g = NULL: no factors. */
static int capture_again(SdCtx *ctx, const SdImage *img, int quality, int subsample, const double *g,
                         SdImage *out)
{
    if (img->fmt != SD_FMT_F32 || img->c != 3 || quality < 1 || quality > 100)
        return sd_fail(ctx, SD_EINVAL, "JPEG round trip: needs a 3-channel float image and quality 1..100");
    const int W = img->w, H = img->h;
    size_t bytes;
    if (sd_mul_overflow((size_t)W * 3, (size_t)H, &bytes))
        return sd_fail(ctx, SD_ELIMIT, "JPEG round trip: image too large");
    uint8_t *packed = malloc(bytes), *dec = NULL;
    if (!packed)
        return sd_fail(ctx, SD_ENOMEM, "JPEG round trip: out of memory");
    for (int c = 0; c < 3; c++) {
        const double gc = g ? g[c] : 1.0;
        uint8_t enc8[256];
        for (int i = 0; i < 256; i++) {
            const double v = g ? sd_srgb_encode(gc * sd_srgb_decode(i / 255.0)) : i / 255.0;
            enc8[i] = (uint8_t)lrint(v * 255.0);
        }
        for (int y = 0; y < H; y++) {
            const float *row = sd_image_rowf(img, c, y);
            uint8_t *d = packed + (size_t)y * (size_t)W * 3 + c;
            for (int x = 0; x < W; x++) {
                const float v = row[x] < 0 ? 0 : row[x] > 1 ? 1 : row[x];
                const float k = v * 255.0f;
                const int i = (int)lrintf(k);
                d[3 * x] = fabsf(k - (float)i) < 1e-3f ? enc8[i]
                                                       : (uint8_t)lrint(255.0 * sd_srgb_encode(gc * sd_srgb_decode(v)));
            }
        }
    }
    int err = jpeg_through(ctx, packed, W, H, quality, subsample, &dec);
    free(packed);
    if (err)
        return err;
    if ((err = sd__image_create_nozero(out, W, H, 3, SD_FMT_F32))) {
        g_free(dec);
        return sd_fail(ctx, err, "JPEG round trip: cannot allocate a %dx%d image", W, H);
    }
    for (int c = 0; c < 3; c++) {
        float back[256];
        for (int i = 0; i < 256; i++)
            back[i] = (float)(g ? sd_srgb_encode(sd_srgb_decode(i / 255.0) / g[c]) : i / 255.0);
        for (int y = 0; y < H; y++) {
            const uint8_t *s = dec + (size_t)y * (size_t)W * 3 + c;
            float *d = sd_image_rowf(out, c, y);
            for (int x = 0; x < W; x++)
                d[x] = back[s[3 * x]];
        }
    }
    g_free(dec);
    return 0;
}

int sd_image_jpeg_roundtrip(SdCtx *ctx, const SdImage *img, int quality, int subsample, SdImage *out)
{
    int err = sd_init(ctx, NULL);
    return err ? err : capture_again(ctx, img, quality, subsample, NULL, out);
}

int sd_image_jpeg_recapture(SdCtx *ctx, const SdImage *img, int quality, int subsample, double gain_range,
                            uint64_t seed, SdImage *out)
{
    int err = sd_init(ctx, NULL);
    if (err) return err;
    double g[3];
    for (int c = 0; c < 3; c++) {
        const double u = (double)(sd_splitmix64(&seed) >> 11) * (1.0 / 9007199254740992.0);
        g[c] = exp((2 * u - 1) * gain_range);
    }
    return capture_again(ctx, img, quality, subsample, g, out);
}

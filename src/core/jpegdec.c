/* JPEG straight through libjpeg-turbo, from the bytes already in memory: DCT scaling (1/2, 1/4,
 * 1/8) while decoding, EXIF orientation applied while the rows are stored, each row converted to
 * the caller's format at once (planar float through a table, or 8-bit RGB) so no full-size
 * interleaved copy and no libvips pipeline sit in between. The same libjpeg-turbo with the same
 * settings as libvips' jpegload (ISLOW DCT, fancy upsampling), so the pixels are libvips' own.
 * Only what that covers exactly: 8-bit greyscale, YCbCr or RGB; io.c sends everything else
 * (CMYK, YCCK, 12-bit, ICC profiles) through libvips. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "skindelta/skindelta.h"
#include "src/core/core.h"

typedef struct JErr {
    struct jpeg_error_mgr pub;
    jmp_buf jb;
    char msg[JMSG_LENGTH_MAX];
} JErr;

static void jerr_exit(j_common_ptr c)
{
    JErr *e = (JErr *)c->err;
    e->pub.format_message(c, e->msg);
    longjmp(e->jb, 1);
}

/* Damaged entropy-coded data is only a warning to libjpeg; as libvips with fail_on=warning does
 * for JPEG, a warning fails the decode (corrupt pixels must not be measured). Trace messages
 * (level > 0) are ignored. */
static void jerr_message(j_common_ptr c, int level)
{
    if (level < 0) {
        JErr *e = (JErr *)c->err;
        e->pub.format_message(c, e->msg);
        longjmp(e->jb, 1);
    }
}

static int colour_ok(const struct jpeg_decompress_struct *c)
{
    if (c->data_precision != 8) return 0;
    if (c->num_components == 1) return c->jpeg_color_space == JCS_GRAYSCALE;
    if (c->num_components == 3) return c->jpeg_color_space == JCS_YCbCr || c->jpeg_color_space == JCS_RGB;
    return 0;
}

/* Where stored pixel (x, y) of a w x h image lands in the upright image (EXIF orientation o). */
static inline void orient(int o, int x, int y, int w, int h, int *X, int *Y)
{
    switch (o) {
    case 2: *X = w - 1 - x; *Y = y; break;
    case 3: *X = w - 1 - x; *Y = h - 1 - y; break;
    case 4: *X = x; *Y = h - 1 - y; break;
    case 5: *X = y; *Y = x; break;
    case 6: *X = h - 1 - y; *Y = x; break;
    case 7: *X = h - 1 - y; *Y = w - 1 - x; break;
    case 8: *X = y; *Y = w - 1 - x; break;
    default: *X = x; *Y = y; break;
    }
}

int sd__jpeg_direct_ok(const void *data, size_t n)
{
    struct jpeg_decompress_struct c;
    JErr je;
    volatile int ok = 0;
    c.err = jpeg_std_error(&je.pub);
    je.pub.error_exit = jerr_exit;
    je.pub.emit_message = jerr_message;
    if (setjmp(je.jb)) {
        jpeg_destroy_decompress(&c);
        return 0;
    }
    jpeg_create_decompress(&c);
    jpeg_mem_src(&c, (const unsigned char *)data, (unsigned long)n);
    if (jpeg_read_header(&c, TRUE) == JPEG_HEADER_OK)
        ok = colour_ok(&c);
    jpeg_destroy_decompress(&c);
    return ok;
}

int sd__jpeg_decode(SdCtx *ctx, const char *path, const void *data, size_t n, int shrink, int orientation,
                    enum sd_fmt fmt, uint64_t max_pixels, SdImage *img)
{
    struct jpeg_decompress_struct c;
    JErr je;
    je.msg[0] = 0;
    uint8_t *volatile row = NULL;   /* (set after setjmp, freed after a longjmp) */
    float lut[256];
    memset(img, 0, sizeof(*img));
    c.err = jpeg_std_error(&je.pub);
    je.pub.error_exit = jerr_exit;
    je.pub.emit_message = jerr_message;
    if (setjmp(je.jb)) {
        jpeg_destroy_decompress(&c);
        free(row);
        sd_image_free(img);
        return sd_fail(ctx, SD_EFORMAT, "%s: decoding failed (corrupt or truncated data)%s%s", path,
                       je.msg[0] ? ": " : "", je.msg);
    }
    jpeg_create_decompress(&c);
    jpeg_mem_src(&c, (const unsigned char *)data, (unsigned long)n);
    jpeg_read_header(&c, TRUE);
    if (!colour_ok(&c)) {
        jpeg_destroy_decompress(&c);
        return sd_fail(ctx, SD_EFORMAT, "%s: JPEG colour layout the direct decoder does not take", path);
    }
    if ((uint64_t)c.image_width * c.image_height > max_pixels) {
        const int err = sd_fail(ctx, SD_ELIMIT, "%s: %ux%u pixels exceeds the limit of %llu pixels", path,
                                c.image_width, c.image_height, (unsigned long long)max_pixels);
        jpeg_destroy_decompress(&c);
        return err;
    }
    c.out_color_space = JCS_RGB;
    c.scale_num = 1;
    c.scale_denom = (unsigned)(shrink == 2 || shrink == 4 || shrink == 8 ? shrink : 1);
    c.dct_method = JDCT_ISLOW;
    c.do_fancy_upsampling = TRUE;
    jpeg_start_decompress(&c);
    const int o = orientation >= 1 && orientation <= 8 ? orientation : 1;
    /* libvips keeps the whole pixels of a DCT-scaled decode (floor of size / shrink); libjpeg
     * rounds up, so a partial last column and row are dropped here as there */
    const int sd = (int)c.scale_denom;
    const int w = sd > 1 ? (int)c.image_width / sd : (int)c.output_width;
    const int h = sd > 1 ? (int)c.image_height / sd : (int)c.output_height;
    if (w < 1 || h < 1) {
        jpeg_destroy_decompress(&c);
        return sd_fail(ctx, SD_EFORMAT, "%s: too small to decode at 1/%d", path, sd);
    }
    const int rot = orientation >= 5 && orientation <= 8;
    const int W = rot ? h : w, H = rot ? w : h;
    int err = sd__image_create_nozero(img, W, H, 3, fmt);
    if (err || !(row = malloc((size_t)c.output_width * 3))) {
        jpeg_destroy_decompress(&c);
        sd_image_free(img);
        free(row);
        return sd_fail(ctx, SD_ENOMEM, "%s: cannot allocate a %dx%d image", path, W, H);
    }
    for (int i = 0; i < 256; i++) lut[i] = i * (1.0f / 255.0f);
    while (c.output_scanline < c.output_height) {
        const int y = (int)c.output_scanline;
        JSAMPROW rows[1] = {row};
        jpeg_read_scanlines(&c, rows, 1);
        if (y >= h) continue;   /* (the partial last row of a scaled decode) */
        if (o == 1 || o == 2 || o == 3 || o == 4) {   /* a stored row is an upright row */
            int X0, Y, X1, Yd;
            orient(o, 0, y, w, h, &X0, &Y);
            orient(o, w - 1, y, w, h, &X1, &Yd);
            const int step = X1 >= X0 ? 1 : -1;
            if (fmt == SD_FMT_F32) {
                float *r = sd_image_rowf(img, 0, Y), *g = sd_image_rowf(img, 1, Y), *b = sd_image_rowf(img, 2, Y);
                for (int x = 0, X = X0; x < w; x++, X += step) {
                    r[X] = lut[row[3 * x]]; g[X] = lut[row[3 * x + 1]]; b[X] = lut[row[3 * x + 2]];
                }
            } else if (step > 0) {
                memcpy(sd_image_row8(img, Y), row, (size_t)w * 3);
            } else {
                uint8_t *d = sd_image_row8(img, Y);
                for (int x = 0, X = X0; x < w; x++, X += step)
                    memcpy(d + 3 * X, row + 3 * x, 3);
            }
        } else {                                      /* a stored row is an upright column */
            for (int x = 0; x < w; x++) {
                int X, Y;
                orient(o, x, y, w, h, &X, &Y);
                if (fmt == SD_FMT_F32) {
                    sd_image_rowf(img, 0, Y)[X] = lut[row[3 * x]];
                    sd_image_rowf(img, 1, Y)[X] = lut[row[3 * x + 1]];
                    sd_image_rowf(img, 2, Y)[X] = lut[row[3 * x + 2]];
                } else {
                    memcpy(sd_image_row8(img, Y) + 3 * X, row + 3 * x, 3);
                }
            }
        }
    }
    jpeg_finish_decompress(&c);
    jpeg_destroy_decompress(&c);
    free(row);
    return 0;
}

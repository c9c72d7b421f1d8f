/* Indexed-colour PNG through libpng: the overlays of the report are masks (a few colours with
 * transparency over the photo), so they are written as palette images at 1, 2, 4 or 8 bits per
 * pixel instead of full RGB copies of the photo. Encoded in memory, written atomically. */
#include <errno.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>
#include <zlib.h>

#include "skindelta/skindelta.h"
#include "src/core/core.h"

typedef struct PngBuf {
    uint8_t *p;
    size_t n, cap;
    int oom;
} PngBuf;

static void buf_write(png_structp png, png_bytep data, png_size_t n)
{
    PngBuf *b = png_get_io_ptr(png);
    if (b->oom) return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->n + n) cap *= 2;
        uint8_t *q = realloc(b->p, cap);
        if (!q) { b->oom = 1; return; }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, n);
    b->n += n;
}

static void buf_flush(png_structp png)
{
    (void)png;
}

/* Packs one row of indices (< 2^depth) MSB first, as PNG wants sub-byte pixels. */
static void pack_row(uint8_t *dst, const uint8_t *idx, int w, int depth)
{
    if (depth == 8) { memcpy(dst, idx, (size_t)w); return; }
    const int per = 8 / depth;
    for (int x = 0, o = 0; x < w; o++) {
        unsigned v = 0;
        for (int k = 0; k < per; k++, x++)
            v = v << depth | (x < w ? idx[x] : 0u);
        dst[o] = (uint8_t)v;
    }
}

int sd__png_save_indexed(SdCtx *ctx, const char *path, const uint8_t *idx, ptrdiff_t stride, int w, int h,
                         const uint8_t (*rgba)[4], int ncolours)
{
    if (w < 1 || h < 1 || ncolours < 1 || ncolours > 256)
        return sd_fail(ctx, SD_EINVAL, "%s: bad indexed image (%dx%d, %d colours)", path, w, h, ncolours);
    const int depth = ncolours <= 2 ? 1 : ncolours <= 4 ? 2 : ncolours <= 16 ? 4 : 8;
    PngBuf b = {0};
    uint8_t *row = malloc((size_t)w + 8);
    png_structp png = row ? png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL) : NULL;
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        free(row);
        return sd_fail(ctx, SD_ENOMEM, "%s: out of memory", path);
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(row);
        free(b.p);
        return sd_fail(ctx, SD_EDEP, "%s: PNG encoding failed", path);
    }
    png_set_write_fn(png, &b, buf_write, buf_flush);
    /* masks are mostly runs of one index: run-length deflate (several times faster than the
     * default strategy, within a few % of its size here), no row filters (as PNG advises for
     * palette images) */
    png_set_compression_level(png, 6);
    png_set_compression_strategy(png, Z_RLE);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_NONE);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, PNG_COLOR_TYPE_PALETTE,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_color pal[256];
    png_byte alpha[256];
    int ntrans = 0;
    for (int i = 0; i < ncolours; i++) {
        pal[i].red = rgba[i][0]; pal[i].green = rgba[i][1]; pal[i].blue = rgba[i][2];
        alpha[i] = rgba[i][3];
        if (rgba[i][3] != 255) ntrans = i + 1;   /* tRNS may stop after the last non-opaque entry */
    }
    png_set_PLTE(png, info, pal, ncolours);
    if (ntrans) png_set_tRNS(png, info, alpha, ntrans, NULL);
    png_write_info(png, info);
    for (int y = 0; y < h; y++) {
        pack_row(row, idx + (size_t)y * (size_t)stride, w, depth);
        png_write_row(png, row);
    }
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    free(row);
    if (b.oom) {
        free(b.p);
        return sd_fail(ctx, SD_ENOMEM, "%s: out of memory", path);
    }
    const int err = sd_write_file_atomic(path, b.p, b.n);
    free(b.p);
    if (err)
        return sd_fail(ctx, err, "%s: cannot write: %s", path, strerror(errno));
    return 0;
}

/* Writes into dir: empty.jpg, truncated.jpg, garbage_after_header.jpg, huge_100000x100000.png,
 * text.jpg, folder.jpg/, unreadable.png (mode 000), dangling_link.png, one_pixel.png, grey16.png,
 * cmyk.jpg, exif_rot6.jpg, rgba.png, big.jpg (1600x1200). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vips/vips.h>

#include "tests/lib/badinputs.h"

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static int write_bytes(const char *dir, const char *name, const void *data, size_t n)
{
    char *p = join(dir, name);
    FILE *f = fopen(p, "wb");
    free(p);
    if (!f) return -1;
    if (n) fwrite(data, 1, n, f);
    return fclose(f);
}

static uint32_t crc32_png(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
    return c ^ 0xffffffffu;
}

static void be32(uint8_t *p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v; }

/* A PNG whose IHDR claims w x h RGB8 and whose IDAT holds a few zero bytes of deflate. */
static int write_png_bomb(const char *dir, const char *name, uint32_t w, uint32_t h)
{
    uint8_t buf[128];
    size_t n = 0;
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
    memcpy(buf, sig, 8); n = 8;
    uint8_t ihdr[17] = {'I', 'H', 'D', 'R'};
    be32(ihdr + 4, w); be32(ihdr + 8, h);
    ihdr[12] = 8; ihdr[13] = 2; ihdr[14] = 0; ihdr[15] = 0; ihdr[16] = 0;
    be32(buf + n, 13); n += 4;
    memcpy(buf + n, ihdr, 17); n += 17;
    be32(buf + n, crc32_png(ihdr, 17)); n += 4;
    /* zlib stream: a stored empty block is enough to look plausible */
    uint8_t idat[4 + 11] = {'I', 'D', 'A', 'T', 0x78, 0x01, 0x01, 0x00, 0x00, 0xff, 0xff, 0, 0, 0, 1};
    be32(buf + n, 11); n += 4;
    memcpy(buf + n, idat, 15); n += 15;
    be32(buf + n, crc32_png(idat, 15)); n += 4;
    uint8_t iend[4] = {'I', 'E', 'N', 'D'};
    be32(buf + n, 0); n += 4;
    memcpy(buf + n, iend, 4); n += 4;
    be32(buf + n, crc32_png(iend, 4)); n += 4;
    return write_bytes(dir, name, buf, n);
}

static int save(VipsImage *im, const char *dir, const char *name, const char *opts)
{
    char *p = join(dir, name);
    char full[1200];
    snprintf(full, sizeof(full), "%s%s", p, opts ? opts : "");
    int r = vips_image_write_to_file(im, full, NULL);
    free(p);
    if (r) { fprintf(stderr, "fixture %s: %s\n", name, vips_error_buffer()); vips_error_clear(); }
    return r;
}

static VipsImage *from_u8(const uint8_t *px, int w, int h, int bands, VipsInterpretation t)
{
    VipsImage *m = vips_image_new_from_memory_copy(px, (size_t)w * h * bands, w, h, bands, VIPS_FORMAT_UCHAR);
    if (m) m->Type = t;
    return m;
}

int sd_make_bad_inputs(const char *dir)
{
    if (VIPS_INIT("test")) return -1;
    int err = 0;
    err |= write_bytes(dir, "empty.jpg", "", 0);
    err |= write_bytes(dir, "text.jpg", "this is a text file, not a JPEG\n", 32);
    char *fd = join(dir, "folder.jpg");
    mkdir(fd, 0777);
    free(fd);
    err |= write_png_bomb(dir, "huge_100000x100000.png", 100000, 100000);

    /* a real JPEG (gradient) to damage */
    const int W = 320, H = 240;
    uint8_t *px = malloc((size_t)W * H * 3);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            uint8_t *q = px + ((size_t)y * W + x) * 3;
            q[0] = (uint8_t)x; q[1] = (uint8_t)y; q[2] = (uint8_t)((x * y) >> 6);
        }
    VipsImage *im = from_u8(px, W, H, 3, VIPS_INTERPRETATION_sRGB);
    void *jb = NULL;
    size_t jn = 0;
    if (!im || vips_jpegsave_buffer(im, &jb, &jn, "Q", 90, NULL)) return -1;
    err |= write_bytes(dir, "truncated.jpg", jb, jn / 3);
    /* keep the headers (up to the first SOS + a few bytes), then garbage */
    uint8_t *g = malloc(jn);
    memcpy(g, jb, jn);
    size_t sos = 2;
    for (size_t i = 2; i + 1 < jn; i++) if (g[i] == 0xff && g[i + 1] == 0xda) { sos = i; break; }
    for (size_t i = sos + 20; i < jn; i++) g[i] = (uint8_t)(i * 131 + 7);
    err |= write_bytes(dir, "garbage_after_header.jpg", g, jn);
    free(g);
    g_free(jb);
    g_object_unref(im);

    /* unreadable: mode 000 (root reads anyway) and a dangling link */
    err |= write_bytes(dir, "unreadable.png", "x", 1);
    char *up = join(dir, "unreadable.png");
    chmod(up, 0);
    free(up);
    char *dl = join(dir, "dangling_link.png");
    unlink(dl);
    if (symlink("/nonexistent/sd_target.png", dl)) err |= 1;
    free(dl);

    uint8_t one[3] = {200, 100, 50};
    im = from_u8(one, 1, 1, 3, VIPS_INTERPRETATION_sRGB);
    err |= save(im, dir, "one_pixel.png", NULL);
    g_object_unref(im);

    /* 16-bit grey: value 1000*x + 7 */
    uint16_t *g16 = malloc(sizeof(uint16_t) * 37 * 21);
    for (int y = 0; y < 21; y++) for (int x = 0; x < 37; x++) g16[y * 37 + x] = (uint16_t)(1000 * x + 7);
    im = vips_image_new_from_memory_copy(g16, sizeof(uint16_t) * 37 * 21, 37, 21, 1, VIPS_FORMAT_USHORT);
    im->Type = VIPS_INTERPRETATION_GREY16;
    err |= save(im, dir, "grey16.png", NULL);
    g_object_unref(im);
    free(g16);

    /* CMYK JPEG: left half white (K=0), right half black (K=255) */
    uint8_t *cm = calloc((size_t)64 * 32 * 4, 1);
    for (int y = 0; y < 32; y++) for (int x = 32; x < 64; x++) cm[(y * 64 + x) * 4 + 3] = 255;
    im = from_u8(cm, 64, 32, 4, VIPS_INTERPRETATION_CMYK);
    err |= save(im, dir, "cmyk.jpg", "[Q=95]");
    g_object_unref(im);
    free(cm);

    /* EXIF orientation 6 with a red marker at the stored top-left, and a DateTimeOriginal */
    uint8_t *ro = calloc((size_t)80 * 40 * 3, 1);
    for (int y = 0; y < 12; y++) for (int x = 0; x < 12; x++) ro[(y * 80 + x) * 3] = 255;
    im = from_u8(ro, 80, 40, 3, VIPS_INTERPRETATION_sRGB);
    VipsImage *cp = NULL;
    vips_copy(im, &cp, NULL);
    vips_image_set_int(cp, VIPS_META_ORIENTATION, 6);
    vips_image_set_string(cp, "exif-ifd2-DateTimeOriginal", "2024:03:05 10:20:30");
    err |= save(cp, dir, "exif_rot6.jpg", "[Q=95]");
    g_object_unref(cp);
    g_object_unref(im);
    free(ro);

    uint8_t rgba[2 * 2 * 4] = {10, 20, 30, 128, 1, 2, 3, 255, 4, 5, 6, 0, 7, 8, 9, 255};
    im = from_u8(rgba, 2, 2, 4, VIPS_INTERPRETATION_sRGB);
    err |= save(im, dir, "rgba.png", NULL);
    g_object_unref(im);

    uint8_t *big = malloc((size_t)1600 * 1200 * 3);
    for (size_t i = 0; i < (size_t)1600 * 1200 * 3; i++) big[i] = (uint8_t)(i * 2654435761u >> 24);
    im = from_u8(big, 1600, 1200, 3, VIPS_INTERPRETATION_sRGB);
    err |= save(im, dir, "big.jpg", "[Q=80]");
    g_object_unref(im);
    free(big);
    free(px);
    return err ? -1 : 0;
}

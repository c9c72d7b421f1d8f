/* A photo as the batch loads it, its file read once: the same bytes give the input's sha256, the
 * header (EXIF orientation, ICC, size) and JPEG markers (quality, chroma subsampling), the quick
 * look that finds the face of a large JPEG, and the decode, DCT-scaled as far as the canonical
 * frame allows. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "skindelta/face.h"
#include "src/run/run_int.h"
#include "src/core/core.h"

/* The quick look at a large JPEG: a 1/4-size decode (at least SD_FACE_LOAD_MAX px on the long
 * side, as sd_face_find_file loads it) of the bytes in memory; lm in the original photo's pixels.
 * Returns the number of faces (0 when none was found). */
static int quick_look(SdCtx *ctx, const char *path, const void *data, size_t n, const SdRunOpts *o,
                      SdLandmarks *lm)
{
    SdLoadOpts lo;
    SdImageInfo inf;
    SdImage img = {0};
    int nq = 0;
    sd_load_opts_default(&lo);
    lo.target_max = SD_FACE_LOAD_MAX;
    lo.fmt = SD_FMT_U8;
    if (sd__image_load_mem(ctx, path, data, n, &lo, 1, &img, &inf) == 0 &&
        sd_face_find(ctx, &img, &o->face, lm, &nq) == 0) {
        if (img.w != inf.orig_w || img.h != inf.orig_h)
            sd_face_landmarks_rescale(lm, (double)inf.orig_w / img.w, (double)inf.orig_h / img.h);
        if (nq < 1) nq = 1;
    } else {
        nq = 0;
    }
    sd_image_free(&img);
    sd_clear_error(ctx);
    return nq;
}

/* The part of a large photo the canonical frame can see, in the decoded (1/shrink) pixels: the
 * preimage of the frame under the quick look's landmark similarity, widened by half its size on
 * every side (room for the follow-up's registration to move, for the detector's context and the
 * warp's margin). 0 when a crop would not save much (over half the photo). */
static int frame_crop(const SdLandmarks *lm, const SdRunOpts *o, int orig_w, int orig_h, int shrink, int crop[4])
{
    SdTransform T, inv;
    if (sd_align_similarity(lm, &o->align, &T, NULL) || sd_transform_invert(&T, &inv)) return 0;
    const SdAlignOpts *a = &o->align;
    const double fw = a->frame_w > 0 ? a->frame_w : lround(2.5 * a->iod_px);
    const double fh = a->frame_h > 0 ? a->frame_h : lround(3.125 * a->iod_px);
    double lo[2] = {1e30, 1e30}, hi[2] = {-1e30, -1e30};
    const double cx[4] = {0, fw, 0, fw}, cy[4] = {0, 0, fh, fh};
    for (int k = 0; k < 4; k++) {
        double x, y;
        sd_transform_apply(&inv, cx[k], cy[k], &x, &y);
        lo[0] = fmin(lo[0], x); lo[1] = fmin(lo[1], y);
        hi[0] = fmax(hi[0], x); hi[1] = fmax(hi[1], y);
    }
    const double mx = 0.5 * (hi[0] - lo[0]), my = 0.5 * (hi[1] - lo[1]);
    const double x0 = fmax(0, lo[0] - mx), y0 = fmax(0, lo[1] - my);
    const double x1 = fmin(orig_w, hi[0] + mx), y1 = fmin(orig_h, hi[1] + my);
    if (!(x1 > x0 && y1 > y0) || (x1 - x0) * (y1 - y0) > 0.5 * (double)orig_w * orig_h) return 0;
    crop[0] = (int)floor(x0 / shrink);
    crop[1] = (int)floor(y0 / shrink);
    crop[2] = (int)ceil(x1 / shrink) - crop[0];
    crop[3] = (int)ceil(y1 / shrink) - crop[1];
    return crop[2] > 0 && crop[3] > 0;
}

/* The whole photo decoded as 8-bit RGB for the face stage (as the nets see it: the landmarks are
 * those of the whole photo), and only the crop converted to the planar float the warp reads; the
 * crop's origin on the 16-px grid of the JPEG blocks (the bootstrap's recapture keeps the
 * camera's blocks). */
static int crop_decode(SdCtx *ctx, const char *path, const void *data, size_t n, int shrink, const int crop[4],
                       SdImage *face_u8, SdImage *photo, int *crop_xy)
{
    int err = sd__jpeg_decode(ctx, path, data, n, shrink, 1, SD_FMT_U8, SD_MAX_PIXELS_DEFAULT, face_u8);
    if (err) return err;
    const int x0 = crop[0] / 16 * 16, y0 = crop[1] / 16 * 16;
    const int x1 = crop[0] + crop[2] < face_u8->w ? crop[0] + crop[2] : face_u8->w;
    const int y1 = crop[1] + crop[3] < face_u8->h ? crop[1] + crop[3] : face_u8->h;
    if (x1 - x0 < 16 || y1 - y0 < 16 || (err = sd__image_create_nozero(photo, x1 - x0, y1 - y0, 3, SD_FMT_F32))) {
        sd_image_free(face_u8);
        return sd_fail(ctx, err ? err : SD_EINVAL, "%s: cannot allocate the crop of the photo", path);
    }
    float lut[256];
    for (int i = 0; i < 256; i++) lut[i] = i * (1.0f / 255.0f);
    for (int y = 0; y < photo->h; y++) {
        const uint8_t *s = sd_image_row8(face_u8, y0 + y) + (size_t)x0 * 3;
        float *r = sd_image_rowf(photo, 0, y), *g = sd_image_rowf(photo, 1, y), *b = sd_image_rowf(photo, 2, y);
        for (int x = 0; x < photo->w; x++) {
            r[x] = lut[s[3 * x]]; g[x] = lut[s[3 * x + 1]]; b[x] = lut[s[3 * x + 2]];
        }
    }
    crop_xy[0] = x0;
    crop_xy[1] = y0;
    return 0;
}

int sd__run_read_photo(SdCtx *ctx, const char *path, const SdRunOpts *o, SdImage *photo, SdImageInfo *li,
                       char hex[65], SdCompression *comp, SdImage *face_u8, int *crop_xy, double *t_load,
                       double *t_face)
{
    if (crop_xy) crop_xy[0] = crop_xy[1] = 0;
    if (face_u8) memset(face_u8, 0, sizeof(*face_u8));
    char *data = NULL;
    size_t n = 0;
    const double t0 = sd_now();
    memset(li, 0, sizeof(*li));
    memset(photo, 0, sizeof(*photo));
    if (comp) memset(comp, 0, sizeof(*comp));
    hex[0] = 0;
    *t_face = 0;
    int err = sd__image_read(ctx, path, 0, &data, &n);
    if (err) {
        /* still identified when it is a readable regular file (over the byte limit, say); never
         * a FIFO or a device (/dev/zero named .jpg): hashing it would block */
        struct stat st;
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && sd_sha256_file(path, hex)) hex[0] = 0;
        *t_load = sd_now() - t0;
        return err;
    }
    sd_sha256(data, n, hex);
    SdLoadOpts lo;
    sd_load_opts_default(&lo);
    SdImageInfo hi;
    int crop[4] = {0, 0, 0, 0}, cropped = 0;
    if (!o->roi_whole && sd__image_header_mem(ctx, path, data, n, &hi) == 0 && !strcmp(hi.format, "jpeg") &&
        (hi.orig_w > 2 * SD_FACE_LOAD_MAX || hi.orig_h > 2 * SD_FACE_LOAD_MAX)) {
        const double tf = sd_now();
        SdLandmarks lm;
        const int nq = quick_look(ctx, path, data, n, o, &lm);
        if (nq > 0) lo.scale = sd_align_load_scale(&lm, &o->align);
        /* one face, upright, decoded directly: only the part the frame can see (with a photo of
         * several faces the quick look may not have found the one the run will score) */
        const int shrink = (int)lround(1.0 / lo.scale);
        cropped = crop_xy && face_u8 && nq == 1 && hi.orientation <= 1 && !hi.had_icc && sd__jpeg_direct_ok(data, n) &&
                  frame_crop(&lm, o, hi.orig_w, hi.orig_h, shrink, crop);
        *t_face = sd_now() - tf;
        if (cropped) {
            sd_clear_error(ctx);
            err = crop_decode(ctx, path, data, n, shrink, crop, face_u8, photo, crop_xy);
            *li = hi;
            li->scale = face_u8->w > 0 ? (double)face_u8->w / hi.orig_w : 1.0 / shrink;
        }
    }
    if (!cropped) {
        sd_clear_error(ctx);
        err = sd__image_load_mem(ctx, path, data, n, &lo, 1, photo, li);
    }
    if (comp) {   /* the JPEG compression (0 and "" when not a JPEG), as far as the markers go */
        comp->jpeg_quality = li->jpeg_quality;
        memcpy(comp->chroma, li->chroma, sizeof(comp->chroma));
        if (err)
            (void)sd__jpeg_info_mem(data, n, &comp->jpeg_quality, comp->chroma);
    }
    free(data);
    *t_load = sd_now() - t0 - *t_face;
    return err;
}

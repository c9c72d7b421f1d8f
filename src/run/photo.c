/* A photo as the batch loads it, its file read once: the same bytes give the input's sha256, the
 * header (EXIF orientation, ICC, size) and JPEG markers (quality, chroma subsampling), the face
 * stage on the decoded pixels of a large JPEG, and the decode, DCT-scaled as far as the canonical
 * frame allows. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "skindelta/face.h"
#include "src/run/run_int.h"
#include "src/core/core.h"

/* The quick look at a large JPEG that libvips decodes (ICC profile, EXIF orientation): a 1/4-size
 * decode (at least SD_FACE_LOAD_MAX px on the long side, as sd_face_find_file loads it) of the
 * bytes in memory; lm in the original photo's pixels. Returns the number of faces (0 when none
 * was found). */
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
 * preimage of the frame under the landmark similarity, widened by half its size on every side
 * (room for the follow-up's registration to move, for the detector's context and the warp's
 * margin). 0 when a crop would not save much (over half the photo). */
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

/* The crop of the 8-bit whole photo as the planar float the warp reads, its origin on the 16-px
 * grid of the JPEG blocks (the bootstrap's recapture keeps the camera's blocks). */
static int crop_to_float(SdCtx *ctx, const char *path, const SdImage *whole, const int crop[4], SdImage *photo,
                         int *crop_xy)
{
    const int x0 = crop[0] / 16 * 16, y0 = crop[1] / 16 * 16;
    const int x1 = crop[0] + crop[2] < whole->w ? crop[0] + crop[2] : whole->w;
    const int y1 = crop[1] + crop[3] < whole->h ? crop[1] + crop[3] : whole->h;
    int err = 0;
    if (x1 - x0 < 16 || y1 - y0 < 16 || (err = sd__image_create_nozero(photo, x1 - x0, y1 - y0, 3, SD_FMT_F32)))
        return sd_fail(ctx, err ? err : SD_EINVAL, "%s: cannot allocate the crop of the photo", path);
    float lut[256];
    for (int i = 0; i < 256; i++) lut[i] = i * (1.0f / 255.0f);
    for (int y = 0; y < photo->h; y++) {
        const uint8_t *s = sd_image_row8(whole, y0 + y) + (size_t)x0 * 3;
        float *r = sd_image_rowf(photo, 0, y), *g = sd_image_rowf(photo, 1, y), *b = sd_image_rowf(photo, 2, y);
        for (int x = 0; x < photo->w; x++) {
            r[x] = lut[s[3 * x]]; g[x] = lut[s[3 * x + 1]]; b[x] = lut[s[3 * x + 2]];
        }
    }
    crop_xy[0] = x0;
    crop_xy[1] = y0;
    return 0;
}

/* A large upright JPEG without ICC profile, decoded by libjpeg-turbo: the whole photo as 8-bit
 * RGB, the face stage on it (its one run: the landmarks are those the run scores), then only the
 * part the frame can see becomes float. When the face is so large that the frame needs only a
 * DCT-scaled decode, the photo is decoded again at that scale and the face stage is left to the
 * caller on pf->whole (the landmarks of the scaled pixels are the ones scored). Returns 1 when
 * the photo was loaded here (err says how), 0 when the caller should load it as any other photo,
 * at *scale (no face found: the caller's face stage looks again, turned). */
static int face_first(SdCtx *ctx, const char *path, const void *data, size_t n, const SdRunOpts *o,
                      const SdImageInfo *hi, SdPhotoFace *pf, SdImage *photo, SdImageInfo *li, int *err,
                      double *scale, double *t_face)
{
    SdImage *whole = &pf->whole;
    if (sd__jpeg_decode(ctx, path, data, n, 1, 1, SD_FMT_U8, SD_MAX_PIXELS_DEFAULT, whole))
        return 0;   /* (the caller's decode says what is wrong, as for any other photo) */
    const double tf = sd_now();
    int nfaces = 0, picked = 0;
    const int ferr = sd_face_find_like(ctx, whole, &o->face, pf->like, pf->like_w, pf->like_h, &pf->lm,
                                       &nfaces, &picked);
    *t_face += sd_now() - tf;
    if (ferr) {
        sd_image_free(whole);
        sd_clear_error(ctx);
        return 0;
    }
    *scale = sd_align_load_scale(&pf->lm, &o->align);
    const int shrink = (int)lround(1.0 / *scale);
    int crop[4] = {0, 0, whole->w, whole->h};
    *li = *hi;
    if (shrink == 1) {
        (void)frame_crop(&pf->lm, o, hi->orig_w, hi->orig_h, 1, crop);   /* else the whole photo */
        *err = crop_to_float(ctx, path, whole, crop, photo, pf->crop_xy);
        pf->done = !*err;
        pf->nfaces = nfaces;
        pf->w = whole->w;
        pf->h = whole->h;
        li->scale = 1.0;
        sd_image_free(whole);
        return 1;
    }
    /* DCT scaling: cropped only with one face (with several, the face the caller's stage picks in
     * the scaled photo may not be this one) */
    sd_image_free(whole);
    if (nfaces != 1 || !frame_crop(&pf->lm, o, hi->orig_w, hi->orig_h, shrink, crop)) return 0;
    if ((*err = sd__jpeg_decode(ctx, path, data, n, shrink, 1, SD_FMT_U8, SD_MAX_PIXELS_DEFAULT, whole))) return 1;
    if ((*err = crop_to_float(ctx, path, whole, crop, photo, pf->crop_xy))) sd_image_free(whole);
    li->scale = whole->w > 0 ? (double)whole->w / hi->orig_w : 1.0 / shrink;
    return 1;
}

int sd__run_read_photo(SdCtx *ctx, const char *path, const SdRunOpts *o, SdImage *photo, SdImageInfo *li,
                       char hex[65], SdCompression *comp, SdPhotoFace *pf, double *t_load, double *t_face)
{
    if (pf) {
        memset(&pf->whole, 0, sizeof(pf->whole));
        pf->done = pf->nfaces = pf->w = pf->h = 0;
        pf->crop_xy[0] = pf->crop_xy[1] = 0;
    }
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
    int loaded = 0;
    if (!o->roi_whole && sd__image_header_mem(ctx, path, data, n, &hi) == 0 && !strcmp(hi.format, "jpeg") &&
        (hi.orig_w > 2 * SD_FACE_LOAD_MAX || hi.orig_h > 2 * SD_FACE_LOAD_MAX)) {
        if (pf && hi.orientation <= 1 && !hi.had_icc && sd__jpeg_direct_ok(data, n))
            loaded = face_first(ctx, path, data, n, o, &hi, pf, photo, li, &err, &lo.scale, t_face);
        else {
            const double tf = sd_now();
            SdLandmarks lm;
            if (quick_look(ctx, path, data, n, o, &lm) > 0) lo.scale = sd_align_load_scale(&lm, &o->align);
            *t_face += sd_now() - tf;
        }
    }
    if (!loaded) {
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

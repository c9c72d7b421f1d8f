/* A photo as the batch loads it, its file read once: the same bytes give the input's sha256, the
 * header (EXIF orientation, ICC, size) and JPEG markers (quality, chroma subsampling), the quick
 * look that finds the face of a large JPEG, and the decode, DCT-scaled as far as the canonical
 * frame allows. */
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "skindelta/face.h"
#include "src/run/run_int.h"
#include "src/core/core.h"

/* The scale a large JPEG can be decoded at: a 1/4-size decode (at least SD_FACE_LOAD_MAX px on
 * the long side, as sd_face_find_file loads it) of the bytes in memory finds the face, and
 * sd_align_load_scale keeps the face's inter-ocular distance above the canonical one. */
static double quick_scale(SdCtx *ctx, const char *path, const void *data, size_t n, const SdRunOpts *o)
{
    SdLoadOpts lo;
    SdImageInfo inf;
    SdImage img = {0};
    SdLandmarks lm;
    int nq = 0;
    double s = 1.0;
    sd_load_opts_default(&lo);
    lo.target_max = SD_FACE_LOAD_MAX;
    lo.fmt = SD_FMT_U8;
    if (sd__image_load_mem(ctx, path, data, n, &lo, 1, &img, &inf) == 0 &&
        sd_face_find(ctx, &img, &o->face, &lm, &nq) == 0) {
        if (img.w != inf.orig_w || img.h != inf.orig_h)
            sd_face_landmarks_rescale(&lm, (double)inf.orig_w / img.w, (double)inf.orig_h / img.h);
        s = sd_align_load_scale(&lm, &o->align);
    }
    sd_image_free(&img);
    sd_clear_error(ctx);
    return s;
}

int sd__run_read_photo(SdCtx *ctx, const char *path, const SdRunOpts *o, SdImage *photo, SdImageInfo *li,
                       char hex[65], SdCompression *comp, double *t_load, double *t_face)
{
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
    if (!o->roi_whole && sd__image_header_mem(ctx, path, data, n, &hi) == 0 && !strcmp(hi.format, "jpeg") &&
        (hi.orig_w > 2 * SD_FACE_LOAD_MAX || hi.orig_h > 2 * SD_FACE_LOAD_MAX)) {
        const double tf = sd_now();
        lo.scale = quick_scale(ctx, path, data, n, o);
        *t_face = sd_now() - tf;
    }
    sd_clear_error(ctx);
    err = sd__image_load_mem(ctx, path, data, n, &lo, 1, photo, li);
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

/* Face detection (TinyFaceDetector) and 68 landmarks (FaceLandmark68Net): our C inference of the
 * MIT-licensed face-api models (weights in models/, see models/README.md).
 *
 * Default behaviour (compat = 0), and why:
 * - detection at several input sizes (320, 416, 608), best score wins: one size misses faces
 *   that fill much of the frame; if none scores >= 0.8, a second look on the image zoomed out
 *   (centred on a zero canvas twice its size) catches faces that fill or overflow the frame;
 * - inputs of images more than twice the input size are antialiased (tent filter at the
 *   reference's sample positions) instead of point-sampled;
 * - landmarks on a float square crop about the box centre (no integer clipping, so faces cut
 *   by the border keep their geometry), then re-cropped twice around the previous points'
 *   extent: landmarks move < 0.4% of the inter-ocular distance across detector input sizes
 *   (the package's own: 2-3%); coordinates are image pixels;
 * - OpenBLAS runs single-threaded (set once when the models load): parallelism is across
 *   images, and results are then deterministic and identical across threads.
 * compat = 1 reproduces the package exactly (tests/data/face conformance). */
#ifndef SRC_FACE_H
#define SRC_FACE_H

#include "skindelta.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SD_FACE_MAX_SIZES 4
#define SD_FACES_MAX 32

typedef struct SdFaceOpts {
    /* Detector input sizes to try (multiples of 32, 64..1024); the list ends at the first 0.
     * All zero: {320, 416, 608}. Each size runs the detector; the size whose best face scores
     * highest wins (a face filling much of the frame can be missed at one size). */
    int   input_sizes[SD_FACE_MAX_SIZES];
    float score_threshold;   /* keep boxes scoring above this; 0 = 0.5 */
    /* 1 = the package's exact behaviour, for conformance tests: integer clipped crop, tf bilinear
     * without antialiasing, landmarks shifted by the unclipped box, no re-crop. */
    int   compat;
    /* Landmark re-crop passes around the previous landmarks' extent (stability); -1 = none,
     * 0 = default (2). Ignored in compat mode. */
    int   refine;
    int   tiny_landmarks;    /* 1 = the tiny landmark net (faster, less precise) */
} SdFaceOpts;

typedef struct SdFaces {
    int n;                   /* faces stored in face[], best first */
    int n_found;             /* faces found after NMS (can exceed SD_FACES_MAX) */
    int input_size;          /* detector input size that produced them */
    int zoomed_out;          /* 1 when found only on the zoomed-out second look (face filling
                              * or overflowing the frame; not in compat mode) */
    SdFace face[SD_FACES_MAX];
} SdFaces;

/* The detector input sizes opts selects (the defaults when opts is NULL or lists none), for
 * run.json; returns how many (1..SD_FACE_MAX_SIZES). */
SD_API int sd_face_sizes(const SdFaceOpts *opts, int sizes[SD_FACE_MAX_SIZES]);

/* Detect faces. img: 3-channel (or grey) SD_FMT_F32 (0..1) or SD_FMT_U8. Returns 0 with
 * faces->n >= 1, SD_ENOFACE (message in ctx) when none scores above the threshold, or another
 * SD_E* (models missing: SD_EIO/SD_EFORMAT). opts may be NULL. */
SD_API int sd_face_detect(SdCtx *ctx, const SdImage *img, const SdFaceOpts *opts, SdFaces *faces);

/* 68 landmarks (image pixels, pixel centres at integer coordinates) for one detected face.
 * The crop is read from img, which may be larger than the image the detector saw as long as
 * the face box is in its pixels. opts may be NULL. */
SD_API int sd_face_landmarks_opts(SdCtx *ctx, const SdImage *img, const SdFace *face,
                           const SdFaceOpts *opts, SdLandmarks *lm);
static inline int sd_face_landmarks(SdCtx *ctx, const SdImage *img, const SdFace *face,
                                    SdLandmarks *lm)
{
    return sd_face_landmarks_opts(ctx, img, face, NULL, lm);
}

/* The whole stage for a clinical photo (one subject): detect at every input size, take the
 * highest-scoring face, its landmarks. nfaces (may be NULL) receives the number of faces found
 * at the winning size; lm->face holds the winning box and score. */
SD_API int sd_face_find(SdCtx *ctx, const SdImage *img, const SdFaceOpts *opts, SdLandmarks *lm,
                 int *nfaces);

/* sd_face_find for the follow-up of a baseline whose face box was `like` in a like_w x like_h
 * photo: among several faces, the one whose box (as a fraction of its photo: centre and size) is
 * closest to it, not the best-scoring one (a second person in the frame). like NULL: the
 * best-scoring face. *nfaces: faces found; *picked: the index taken (0 = the best-scoring). */
SD_API int sd_face_find_like(SdCtx *ctx, const SdImage *img, const SdFaceOpts *opts,
                             const SdFace *like, int like_w, int like_h, SdLandmarks *lm,
                             int *nfaces, int *picked);

/* Large photos: load path shrunk on load (JPEG DCT scaling) to at least SD_FACE_LOAD_MAX pixels
 * on the long side, run sd_face_find on it, and return the landmarks (and box) in the pixels
 * of the full-size, upright image. info (may be NULL) receives the loader's report. */
#define SD_FACE_LOAD_MAX 1024
SD_API int sd_face_find_file(SdCtx *ctx, const char *path, const SdFaceOpts *opts, SdLandmarks *lm,
                      int *nfaces, SdImageInfo *info);

/* Map landmarks and box from an image to one sx, sy times larger (pixel centres kept aligned:
 * x' = (x + 0.5) * sx - 0.5), e.g. from a shrink-on-load copy to the full-size photo. */
SD_API void sd_face_landmarks_rescale(SdLandmarks *lm, double sx, double sy);

/* Raw network outputs, for conformance tests: the detector's conv8 tensor (G*G*25 floats, NHWC,
 * G = input_size/32) and a landmark net's 136 outputs for the package-style crop of face. */
SD_API int sd_face_detector_raw(SdCtx *ctx, const SdImage *img, int input_size, float *out);
SD_API int sd_face_landmarks_raw(SdCtx *ctx, const SdImage *img, const SdFace *face, int tiny,
                          float out[136]);

/* Folder the models were loaded from (after a successful load), or NULL. */
SD_API const char *sd_face_models_dir(SdCtx *ctx);

#ifdef __cplusplus
}
#endif

#endif

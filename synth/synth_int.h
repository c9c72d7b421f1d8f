/* Between synth.c and synth_face.c: the face-kind base prepared once per course. */
#ifndef SRC_SYNTH_INTERNAL_H
#define SRC_SYNTH_INTERNAL_H

#include "synth/synth.h"

typedef struct SdSynthFaceBase {
    SdImage lin;          /* the portrait upscaled, linear RGB */
    int w, h;
    SdLandmarks lm;       /* in lin's pixels */
    double px_per_mm;     /* from the inter-ocular distance (63 mm) */
    float *skin_w;        /* w x h feathered skin weight 0..1 */
    float *wr_w;          /* w x h feathered forehead weight (horizontal wrinkles) */
    double iod;           /* inter-ocular distance, px */
    double top;           /* the skin's highest row on the face's centre line (the hairline) */
} SdSynthFaceBase;

/* Add one groove (quadratic Bezier ctrl, profile SD b px, depth in log units, flank lighting
 * -1..1) to a log-shading plane (stride in bytes). */
/* sd_synth_patch_scene(e) into lin and, from the same layers, the scene e with wrinkle_count = 0
 * into lin_nowr (one scene's work instead of two; both images as the two calls make them). */
int sd__synth_patch_scene_pair(SdCtx *ctx, const SdSynthPatch *pp, const SdSynthEffect *e,
                               SdImage *lin_nowr, SdImage *lin);
void sd__synth_draw_wrinkle(float *plane, ptrdiff_t stride, int w, int h, const double ctrl[3][2],
                            double b, double depth, double light);

int  sd__synth_face_init(SdCtx *ctx, const char *path, int size, SdSynthFaceBase *fb);
/* dress (may be NULL: a bare face) says what to draw and gets what was drawn, in photo px */
int  sd__synth_face_session(SdCtx *ctx, const SdSynthFaceBase *fb, uint64_t pseed,
                            const SdSynthEffect *e, const SdSynthNuisance *n, SdSynthDress *dress,
                            SdImage *photo);
void sd__synth_face_free(SdSynthFaceBase *fb);

#endif

/* Face stage internals: the loaded weights (pointers into the converted float32 blobs of the
 * models/ .f32.bin files, resolved by name and checked against the architecture) and helpers
 * shared by the detector and landmark files. */
#ifndef SRC_FACE_MODEL_H
#define SRC_FACE_MODEL_H

#include "skindelta/skindelta.h"

typedef struct SdSepConv {          /* depthwise 3x3 -> pointwise 1x1 + bias */
    const float *dw, *pw, *bias;
    int cin, cout;
} SdSepConv;

typedef struct SdDetNet {           /* TinyFaceDetector */
    const float *conv0_f, *conv0_b;  /* 3x3 3->16 */
    SdSepConv sep[5];                /* conv1..conv5: 16->32->...->512 */
    const float *conv8_f, *conv8_b;  /* 1x1 512->25 */
} SdDetNet;

#define SD_LM_MAX_BLOCKS 4
typedef struct SdLmNet {            /* FaceLandmark68Net (4 blocks x 4 convs) or tiny (3 x 3) */
    int nblocks, nconv;
    const float *conv0_f, *conv0_b;  /* dense0/conv0: plain 3x3 3->32 */
    SdSepConv conv[SD_LM_MAX_BLOCKS][4];  /* [block][k]; conv[0][0] unused */
    const float *fc_w, *fc_b;
    int fc_in;
} SdLmNet;

typedef struct SdFaceModels {
    SdDetNet det;
    SdLmNet lm, lm_tiny;
    char dir[1024];
} SdFaceModels;

/* The models, loaded once per process (thread-safe) from the first folder that has them:
 * $SKINDELTA_MODELS, ./models, then relative to the executable (../share/skindelta/models,
 * ../models, ../../models). Returns 0 or an SD_E* with the reason in ctx. */
int sd__face_models(SdCtx *ctx, const SdFaceModels **out);

/* Shared by face_detect.c and face.c: 64-byte aligned float buffers (free with free(); NULL on
 * overflow or failure), and the image check both entry points make. */
float *sd__face_falloc(size_t n);
int sd__face_check_image(SdCtx *ctx, const SdImage *img);

#endif

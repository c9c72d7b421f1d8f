/* Phantoms with known ground truth: procedural skin (melanin, haemoglobin, shading relief, pores,
 * wrinkles, pigment spots) rendered in a canonical frame, then "photographed" with recorded
 * nuisance (pose, gain, white balance, gamma, noise, JPEG). Deterministic for a seed. */
#ifndef SRC_SYNTH_H
#define SRC_SYNTH_H

#include <stdint.h>

#include "skindelta/skindelta.h"

/* Treatment effect of one session: multiplicative factors, 1 = the patient's baseline skin. */
typedef struct SdSynthEffect {
    double wrinkle_depth;    /* groove depth */
    double wrinkle_count;    /* fraction of the patient's wrinkles drawn (count x this) */
    double spot_contrast;    /* melanin excess of the spots */
    double spot_count;       /* fraction of the patient's spots drawn */
    double texture_amp;      /* fine relief + pores amplitude */
} SdSynthEffect;

/* Capture nuisance of one session. */
typedef struct SdSynthNuisance {
    double rot_deg, scale, tx_px, ty_px;  /* similarity canonical -> photo, about the centre */
    double gain;             /* exposure, linear */
    double wb[3];            /* white-balance multipliers per channel (linear) */
    double gamma;            /* power applied to the sRGB-encoded values */
    double noise_sd;         /* sensor noise SD in linear units at signal 0.5 (scales as sqrt) */
    int jpeg_q;              /* JPEG quality for the written photo; 0 = PNG (lossless) */
    uint64_t noise_seed;
} SdSynthNuisance;

typedef struct SdSynthPatch {
    int size;                /* square side, px */
    double px_per_mm;
    uint64_t seed;           /* patient: the skin (pattern of relief, wrinkles, spots) */
    double melanin, haemoglobin;   /* base concentrations (0 = drawn from the seed) */
    int n_wrinkles, n_spots; /* patient's baseline counts (0 = from size) */
    double wrinkle_orient_deg;     /* mean line direction (0 = horizontal) */
} SdSynthPatch;

/* What a face phantom wears besides its skin: hair strands that fall differently at each visit
 * (over the forehead and the brows) and the nasolabial folds. The strands and folds drawn are
 * returned in photo pixels (after the pose), so their pixels are known. */
#define SD_SYNTH_MAX_STRANDS 32
typedef struct SdSynthStrand {
    double p[3][2];          /* quadratic Bezier control points, px */
    double sd_px;            /* Gaussian profile SD across the strand, px */
} SdSynthStrand;
typedef struct SdSynthDress {
    int hair, folds;         /* in: draw hair strands / nasolabial folds */
    uint64_t hair_seed;      /* in: this session's strands */
    int n_strands;           /* out */
    SdSynthStrand strand[SD_SYNTH_MAX_STRANDS];
    double fold[2][3][2];    /* out: the folds' centre lines (image left, image right), px */
    double fold_sd_px;       /* out: the folds' profile SD, px */
} SdSynthDress;
/* out (created w x h) = 1 on every pixel within 2 SD + grow_px of a strand's centre line, the
 * strands mapped by T first (NULL: as they are). */
int  sd_synth_hair_mask(const SdSynthStrand *s, int n, const SdTransform *T, int w, int h,
                        double grow_px, SdMask *out);

void sd_synth_effect_none(SdSynthEffect *e);
void sd_synth_nuisance_none(SdSynthNuisance *n);
/* Random capture nuisance in the recorded ranges: rotation +-rot_max deg, scale +-2%, shift +-8 px,
 * gain 0.7-1.3, white balance +-10% per channel, gamma 0.9-1.1, noise 0-0.01, JPEG 80-95. */
void sd_synth_nuisance_random(uint64_t *rng, double rot_max, SdSynthNuisance *n);

/* Render the patient's skin with effect e: linear RGB, 3 planes, size x size. */
int  sd_synth_patch_scene(SdCtx *ctx, const SdSynthPatch *p, const SdSynthEffect *e, SdImage *lin);

/* Photograph a linear scene: pose warp (Lanczos-3), gain, white balance, noise, sRGB encoding,
 * gamma, 8-bit quantisation. out: F32 sRGB-encoded (values k/255), same size as the scene.
 * JPEG, when wanted, is applied by saving (sd_synth_jpeg). */
int  sd_synth_camera(SdCtx *ctx, const SdImage *lin, const SdSynthNuisance *n, SdImage *out);

/* The similarity (canonical px -> photo px) a nuisance describes for a w x h frame. */
void sd_synth_pose(const SdSynthNuisance *n, int w, int h, SdTransform *T);

/* Lanczos-3 resampling: dst(x) = src(T^-1 x) with T mapping src px -> dst px. valid (may be NULL;
 * created dw x dh) = 1 where the source point lies inside src; outside, edge pixels are repeated. */
int  sd_synth_warp(SdCtx *ctx, const SdImage *src, const SdTransform *T, int dw, int dh,
                   SdImage *dst, SdMask *valid);

/* JPEG round trip at quality q through the file `path` (kept): img is replaced by the decoded one. */
int  sd_synth_jpeg(SdCtx *ctx, SdImage *img, int q, const char *path);

/* A whole phantom course on disk: DIR/<patient>/<session>/front.jpg (patients p001.., sessions
 * s1..sK, s1 the baseline) and DIR/truth.json with every effect and nuisance parameter. Each
 * patient gets a responder strength r in [0, 1]; session i of K has progress t = i/(K-1) and
 * factors wrinkle depth 1-0.4rt, wrinkle count 1-0.2rt, spot contrast 1-0.5rt, spot count
 * 1-0.3rt, texture 1-0.3rt; every session (the baseline too) gets random capture nuisance. */
enum sd_synth_kind { SD_SYNTH_PATCH = 0, SD_SYNTH_FACE = 1 };
typedef struct SdSynthCourse {
    enum sd_synth_kind kind;
    int patients, sessions;
    uint64_t seed;
    int size;               /* patch side / face image longest side, px (0 = default) */
    double px_per_mm;       /* patch scale (0 = 10, the canonical frame's) */
    double rot_max_deg;     /* pose rotation range (default 5) */
    const char *face_path;  /* face kind: base portrait (default samples/faces/astronaut.png) */
    double effect_scale;    /* responder strengths times this, 0..1 (used when effect_scale_set) */
    int effect_scale_set;   /* 0: scale 1 (so a zeroed struct keeps the full effects) */
    int consistent;         /* 1: a careful clinic's capture: one camera setting for the course
                               (JPEG q92, gain 1 +-3%, white balance +-2%, gamma 1, noise 0.003),
                               only the pose varies as usual */
    int bad_patient, bad_session;   /* 1-based; > 0: that one capture is made badly (JPEG q70,
                                       overexposed x1.4 with a red cast, noise 0.012) */
    int plain;              /* face kind: 0 = even-numbered patients wear hair strands that move
                               between sessions, odd-numbered ones nasolabial folds (truth.json
                               records both); 1 = neither */
} SdSynthCourse;

int  sd_synth_course(SdCtx *ctx, const SdSynthCourse *c, const char *dir);

/* PRNG helpers (splitmix64), exposed so tests draw reproducible levels. */
uint64_t sd_synth_rand(uint64_t *s);
double   sd_synth_uniform(uint64_t *s);            /* [0, 1) */
double   sd_synth_gauss(uint64_t *s);              /* N(0, 1) */

#endif

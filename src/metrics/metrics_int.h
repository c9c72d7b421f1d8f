/* Shared between the metrics_*.c files: the per-image state and small region helpers. */
#ifndef SRC_METRICS_INTERNAL_H
#define SRC_METRICS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "skindelta/metrics.h"

struct SdMetricsState {
    int w, h;
    ptrdiff_t fs;            /* float plane stride, bytes */
    ptrdiff_t ms;            /* mask stride, bytes */
    double ppm;              /* px per mm */
    SdMetricsOpts o;
    uint8_t *valid;          /* valid mask eroded by o.erode_mm (1 = usable) */
    float *tex;              /* texture band of the shading log-luminance (natural log units) */
    float *ridge;            /* signed multi-scale ridge response (natural log units) */
    float *theta;            /* line direction (radians) at the winning scale */
    float *melb, *hbb;       /* melanin / haemoglobin maps band-passed (OD units) */
    float *ita;              /* ITA degrees of the lightly smoothed colour */
    float *yb;               /* luma OD band (the melanin band's pass band), for the pigment */
    /* broad structures on a 4x reduced grid (w4 x h4, stride fs4 bytes): fold = the coarse
     * (wr_fold_mm) valley response, plane 2 (fold + h4 rows) its gradient x sigma; NULL = off */
    float *fold;
    int w4, h4;
    ptrdiff_t fs4;
    double noise_ls, noise_hb;   /* per-pixel noise variance of the unfiltered maps */
    double noise_cov;        /* per-pixel noise covariance of the melanin and luma OD maps */
};

static inline float *sd__mx_row(const SdMetricsState *st, float *p, int y)
{
    return (float *)((uint8_t *)p + (size_t)y * (size_t)st->fs);
}

/* Hint for the next row of a region's box inside a full-frame map, issued once per 16 floats (a
 * cache line) while the current row is read: the hardware prefetcher does not follow a box's row
 * stride, and the region scans are bound by memory latency. */
static inline void sd__mx_prefetch(const float *next, int x)
{
    if (next && !(x & 15))
        __builtin_prefetch(next + x);
}

/* Bilinear sample of a reduced plane at full-resolution pixel (x, y). */
static inline float sd__mx_fold_at(const SdMetricsState *st, const float *p, int x, int y)
{
    float fx = (x + 0.5f) * 0.25f - 0.5f, fy = (y + 0.5f) * 0.25f - 0.5f;
    fx = fx < 0 ? 0 : fx > st->w4 - 1 ? (float)(st->w4 - 1) : fx;
    fy = fy < 0 ? 0 : fy > st->h4 - 1 ? (float)(st->h4 - 1) : fy;
    const int x0 = (int)fx, y0 = (int)fy, x1 = x0 + 1 < st->w4 ? x0 + 1 : x0, y1 = y0 + 1 < st->h4 ? y0 + 1 : y0;
    const float ax = fx - (float)x0, ay = fy - (float)y0;
    const float *r0 = (const float *)((const uint8_t *)p + (size_t)y0 * (size_t)st->fs4),
                *r1 = (const float *)((const uint8_t *)p + (size_t)y1 * (size_t)st->fs4);
    return (1 - ay) * ((1 - ax) * r0[x0] + ax * r0[x1]) + ay * ((1 - ax) * r1[x0] + ax * r1[x1]);
}

/* The shading-edge plane of st->fold (its second plane). */
static inline const float *sd__mx_edge_plane(const SdMetricsState *st)
{
    return (const float *)((const uint8_t *)st->fold + (size_t)st->fs4 * (size_t)st->h4);
}

/* A region's working rectangle: pixels with region && valid. */
typedef struct SdMxRegion {
    int x0, y0, w, h;        /* bounding box in the image */
    long n;                  /* pixels inside */
    uint8_t *in;             /* w x h, 1 = inside (row stride w) */
    double area_mm2;
} SdMxRegion;

/* Per-region detections, shared by the metric families and the overlays. */
typedef struct SdMxDetect {
    uint8_t *spots;          /* w x h of the region box, 1 = spot pixel */
    uint8_t *wrinkles;       /* 1 = wrinkle pixel (kept components) */
    uint8_t *skel;           /* 1 = wrinkle skeleton pixel */
    long n_spots;
    double wr_len_mm;
    double wr_resp_sum;      /* sum of the ridge response over skeleton pixels */
    double wr_area_px;       /* wrinkle area (half-maximum width), px */
    long n_skel;
    long n_spot_px;
    /* the primary scores' continuous memberships (region box, row stride w) */
    float *wr_mu;            /* soft wrinkle membership 0..1 */
    float *sp_mu;            /* soft spot membership 0..1 */
    double wr_soft;          /* sum of wr_mu over the region */
    float *wr_w, *sp_w;      /* exclusion weights 1 - min(1, gain G(mu)) of wrinkles, spots */
} SdMxDetect;

/* smoothstep of (x - a) / (b - a): 0 below a, 1 above b, C1 in between */
static inline float sd__mx_ramp(float x, float a, float b)
{
    float t = (x - a) / (b - a);
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    return t * t * (3.0f - 2.0f * t);
}


/* helpers (metrics.c) */
/* A full-frame float plane of the state's stride (sd_alloc_aligned; free with sd_free_aligned). */
float *sd__mx_plane_alloc(const SdMetricsState *st);
/* The rectangle of region && valid (region NULL: all valid); r->in malloc'ed (free it). */
int  sd__mx_region_box(SdCtx *ctx, const SdMetricsState *st, const SdMask *region, SdMxRegion *r);
/* Every detection and membership of a region (spots, then wrinkles, then the exclusion weights),
 * as sd_metrics_region forms them; free with sd__mx_detect_free. */
int  sd__mx_detect(SdCtx *ctx, const SdMetricsState *st, const SdMxRegion *r, const char *name, SdMxDetect *d);
void sd__mx_detect_free(SdMxDetect *d);
double sd__mx_select(float *v, long n, long k);          /* k-th smallest (may reorder v) */
double sd__mx_median(float *v, long n);
/* Gaussian of a full-frame plane, sigma in px (large sigmas on a 2x reduced plane). */
int  sd__mx_gauss(SdCtx *ctx, const SdMetricsState *st, const float *src, float *dst, double s);
/* A linear combination applied after a Gaussian: dst = k[0] a + k[1] b + k[2] c (c may be NULL;
 * the planes may include the Gaussian's output; dst may alias a). */
typedef struct SdMxComb {
    float *dst;
    const float *a, *b, *c;
    float k[3];
} SdMxComb;
/* sd__mx_gauss followed by the combination cb (NULL: none), with the same values as the two in
 * turn; on the reduced path each band of upsampled rows is combined while still in cache. */
int  sd__mx_gauss_comb(SdCtx *ctx, const SdMetricsState *st, const float *src, float *dst, double s,
                       const SdMxComb *cb);
/* Variance gain of the band-pass G_a - G_b (sigmas in px) on white noise. */
double sd__mx_band_gain(double a, double b);
/* 8-connected labels of mask (w x h, row stride w); labels 1..count, 0 = background.
 * Returns count or a negative error. sizes (may be NULL) gets a malloc'ed array [count+1]. */
long sd__mx_label(const uint8_t *mask, int w, int h, int32_t *labels, long **sizes);
/* Grow seeds (resp >= hi) into resp >= lo within in (8-connected). out = 1 on the grown set. */
int  sd__mx_hysteresis(const float *resp, const uint8_t *in, int w, int h, float lo, float hi,
                       uint8_t *out);
/* sd__mx_hysteresis and sd__mx_label of its result in one pass: out as sd__mx_hysteresis, labels
 * 1..count on the out pixels (other entries left as they were), *sizes malloc'ed [count+1].
 * resp rows are resp_stride bytes apart (in, out and labels: w). Returns count or a negative
 * error. */
long sd__mx_hysteresis_label(const float *resp, ptrdiff_t resp_stride, const uint8_t *in, int w, int h,
                             float lo, float hi, uint8_t *out, int32_t *labels, long **sizes);
/* Square dilation by radius r (in place through a scratch buffer). */
int  sd__mx_dilate(uint8_t *m, int w, int h, int r);

/* family steps (metrics_*.c) */
/* lin (filled linear RGB) becomes optical density, then lin[0] and lin[1] scratch; mhs (3 free
 * planes) gets melanin, haemoglobin and the shading log-luminance (natural log), and keeps the
 * last in mhs[2]. Also fills st->ita, and st->melb and st->hbb, which must be lin[2] and mhs[0]
 * (they take over those planes). */
int  sd__mx_pigment_maps(SdCtx *ctx, SdMetricsState *st, float *const lin[3], float *const mhs[3]);
int  sd__mx_texture_map(SdCtx *ctx, SdMetricsState *st, const float *ls, float *tmp);
/* tmp: one free plane (scratch) */
int  sd__mx_wrinkle_map(SdCtx *ctx, SdMetricsState *st, const float *ls, float *tmp);

int  sd__mx_spots(SdCtx *ctx, const SdMetricsState *st, const SdMxRegion *r, SdMxDetect *d);
int  sd__mx_wrinkles(SdCtx *ctx, const SdMetricsState *st, const SdMxRegion *r,
                     const char *region_name, SdMxDetect *d);
int  sd__mx_texture_region(SdCtx *ctx, const SdMetricsState *st, const SdMxRegion *r,
                           const SdMxDetect *d, double out[SD_NMETRICS]);
int  sd__mx_pigment_region(SdCtx *ctx, const SdMetricsState *st, const SdMxRegion *r,
                           const SdMxDetect *d, double out[SD_NMETRICS]);

#endif

/* Face detection: TinyFaceDetector (FACEMODEL.md section 3) at several input sizes, with an
 * antialiased input for big images and a zoomed-out second look for faces filling the frame. */
#include "skindelta/face.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/face/face_int.h"
#include "src/face/nn.h"
#include "src/core/core.h"

static const float DET_MEAN[3] = {117.001f, 114.697f, 97.404f};
static const double ANCHORS[5][2] = {
    {1.603231, 2.094468}, {6.041143, 7.080126}, {2.882459, 3.518061},
    {4.266906, 5.178857}, {9.041765, 10.66308},
};
static const int DEFAULT_SIZES[] = {320, 416, 608};
#define NMS_IOU 0.4
/* The detector input of a big image (more than DET_AA_RATIO times the input size) is
 * antialiased outside compat mode, at most DET_TAPS taps per axis (see sd__nn_input_aa): point
 * sampling would alias the image's fine detail into the 13x13-grid features. */
#define DET_TAPS 5
#define DET_AA_RATIO 2
/* Second look when nothing (or only a weak face) is found: canvas side / image side. */
#define ZOOM_OUT 2.0
#define ZOOM_BELOW 0.8f

/* Separable conv (dw 3x3 pad 1 stride 1, pw + bias) + leaky, then 2x2 max-pool; in chunks of
 * rows so the intermediate tensors stay in cache and only the pooled output is allocated. */
#define DET_CHUNK_FLOATS (1 << 16)

static int det_sep_pool(const SdSepConv *s, const float *in, int h, int w, int pool_stride,
                        float **out, int *oh, int *ow)
{
    const int ph = pool_stride == 2 ? (h + 1) / 2 : h, pwd = pool_stride == 2 ? (w + 1) / 2 : w;
    /* rows per chunk: even for the stride-2 pool; the stride-1 pool (small) takes all rows */
    int R = pool_stride == 2 ? DET_CHUNK_FLOATS / (w * s->cout) / 2 * 2 : h;
    if (R < 2)
        R = 2;
    float *dw = sd__face_falloc((size_t)R * w * s->cin), *pw = sd__face_falloc((size_t)R * w * s->cout);
    float *pool = sd__face_falloc((size_t)ph * pwd * s->cout);
    int err = SD_ENOMEM;
    if (!dw || !pw || !pool)
        goto fail;
    for (int y0 = 0; y0 < h; y0 += R) {
        const int rows = h - y0 < R ? h - y0 : R;
        sd__nn_dwconv3x3(dw, in, h, w, s->cin, 1, 1, 1, y0, y0 + rows, w, s->dw);
        sd__nn_pointwise(pw, dw, rows * w, s->cin, s->cout, s->pw, s->bias, SD_NN_LEAKY);
        if (pool_stride == 2)
            sd__nn_maxpool2(pool + (size_t)(y0 / 2) * pwd * s->cout, pw, rows, w, s->cout, 2,
                            (rows + 1) / 2, pwd);
        else
            sd__nn_maxpool2(pool, pw, h, w, s->cout, 1, ph, pwd);
    }
    *out = pool;
    pool = NULL;
    *oh = ph;
    *ow = pwd;
    err = 0;
fail:
    free(dw);
    free(pw);
    free(pool);
    return err;
}

/* input: S x S x 3 normalised; out: G x G x 25. */
static int det_forward(const SdDetNet *net, const float *input, int S, float *out)
{
    const int oh = S - 2, ow = S - 2;          /* conv0 is VALID */
    const int ph = (oh + 1) / 2, pw = (ow + 1) / 2;
    const int R = 8;                            /* conv0 rows per chunk (even: pool pairs) */
    float *col = sd__face_falloc(sd__nn_conv3x3_scratch(ow, 3));
    float *chunk = sd__face_falloc((size_t)R * ow * 16);
    float *x = sd__face_falloc((size_t)ph * pw * 16), *y = NULL;
    int err = SD_ENOMEM, h = ph, w = pw;
    if (!col || !chunk || !x)
        goto fail;
    for (int y0 = 0; y0 < oh; y0 += R) {
        const int rows = oh - y0 < R ? oh - y0 : R;
        sd__nn_conv3x3(chunk, input, S, S, 3, 16, 1, 0, 0, y0, y0 + rows, ow, net->conv0_f,
                       net->conv0_b, SD_NN_LEAKY, col);
        sd__nn_maxpool2(x + (size_t)(y0 / 2) * pw * 16, chunk, rows, ow, 16, 2, (rows + 1) / 2, pw);
    }
    for (int i = 0; i < 5; i++) {
        if ((err = det_sep_pool(&net->sep[i], x, h, w, i < 4 ? 2 : 1, &y, &h, &w)))
            goto fail;
        free(x);
        x = y;
        y = NULL;
    }
    sd__nn_pointwise(out, x, h * w, 512, 25, net->conv8_f, net->conv8_b, SD_NN_NONE);
    err = 0;
fail:
    free(col);
    free(chunk);
    free(x);
    return err;
}

static double sigmoid(double v) { return 1.0 / (1.0 + exp(-v)); }

static double iou(const SdFace *a, const SdFace *b)
{
    const double x0 = fmax(a->x, b->x), y0 = fmax(a->y, b->y);
    const double x1 = fmin(a->x + a->w, b->x + b->w), y1 = fmin(a->y + a->h, b->y + b->h);
    const double inter = fmax(0.0, x1 - x0) * fmax(0.0, y1 - y0);
    const double uni = (double)a->w * a->h + (double)b->w * b->h - inter;
    return uni > 0.0 ? inter / uni : 0.0;
}

static int cmp_score(const void *a, const void *b)
{
    const SdFace *x = a, *y = b;
    return (x->score < y->score) - (x->score > y->score);
}

/* Where the detector's relative coordinates land in the image: pixel = x0 + rel * k, with rel
 * the package's aspect-corrected coordinate (c = S / rounded content size in the input). */
typedef struct DetMap {
    double cx, cy, kx, ky, x0, y0;
} DetMap;

/* The package's canvas: the image at the top-left of its max(W,H) square. */
static DetMap det_map_image(int S, int W, int H)
{
    const int M = W > H ? W : H;
    const double rw = floor((double)W * S / M + 0.5), rh = floor((double)H * S / M + 0.5);
    return (DetMap){ .cx = S / rw, .cy = S / rh, .kx = W, .ky = H };
}

/* Boxes above thr from the conv8 tensor, NMS, best first into faces. best: highest score seen. */
static int det_decode(const float *raw, int S, const DetMap *m, float thr, SdFaces *faces,
                      float *best)
{
    const int G = S / 32;
    const double cx = m->cx, cy = m->cy;
    SdFace *cand = malloc(sizeof(SdFace) * (size_t)G * G * 5);
    int n = 0;
    if (!cand)
        return SD_ENOMEM;
    *best = 0.0f;
    for (int row = 0; row < G; row++)
        for (int col = 0; col < G; col++)
            for (int a = 0; a < 5; a++) {
                const float *t = raw + ((size_t)row * G + col) * 25 + a * 5;
                const double score = sigmoid(t[4]);
                if (score > *best)
                    *best = (float)score;
                if (!(score > thr))
                    continue;
                const double ctrx = (col + sigmoid(t[0])) / G * cx;
                const double ctry = (row + sigmoid(t[1])) / G * cy;
                const double bw = exp(t[2]) * ANCHORS[a][0] / G * cx;
                const double bh = exp(t[3]) * ANCHORS[a][1] / G * cy;
                cand[n++] = (SdFace){ .x = (float)(m->x0 + (ctrx - bw / 2) * m->kx),
                                      .y = (float)(m->y0 + (ctry - bh / 2) * m->ky),
                                      .w = (float)(bw * m->kx), .h = (float)(bh * m->ky),
                                      .score = (float)score };
            }
    qsort(cand, (size_t)n, sizeof(SdFace), cmp_score);
    faces->n = faces->n_found = faces->zoomed_out = 0;
    faces->input_size = S;
    for (int i = 0; i < n; i++) {
        if (cand[i].score < 0)
            continue;
        if (faces->n < SD_FACES_MAX)
            faces->face[faces->n++] = cand[i];
        faces->n_found++;
        for (int j = i + 1; j < n; j++)
            if (cand[j].score >= 0 && iou(&cand[i], &cand[j]) > NMS_IOU)
                cand[j].score = -1.0f;
    }
    free(cand);
    return 0;
}

/* Detector input for size S: the square canvas (image top-left, zeros elsewhere). Outside compat
 * mode a big image is antialiased: from `base` (the antialiased input at the largest size nb)
 * when given, resized when nb > S, else directly from the image. */
static int det_input(const SdImage *img, int S, int compat, const float *base, int nb,
                     float *input)
{
    const int M = img->w > img->h ? img->w : img->h;
    if (compat || M <= DET_AA_RATIO * S)
        return sd__nn_input_tf(input, S, img, 0, 0, img->w, img->h, 0, 0, M, DET_MEAN, compat);
    if (base && nb > S)
        return sd__nn_resize_hwc(input, S, base, nb, 3);
    if (base && nb == S) {   /* the input at the largest size is base itself */
        memcpy(input, base, sizeof(float) * (size_t)S * (size_t)S * 3);
        return 0;
    }
    return sd__nn_input_aa(input, S, img, 0.0, 0.0, M, DET_MEAN, 0, DET_TAPS);
}

static int det_raw(SdCtx *ctx, const SdDetNet *net, const SdImage *img, int S, int compat,
                   const float *base, int nb, float *raw)
{
    float *input = sd__face_falloc((size_t)S * S * 3);
    int err;
    if (!input)
        return sd_fail(ctx, SD_ENOMEM, "face detector: out of memory");
    err = det_input(img, S, compat, base, nb, input);
    if (!err)
        err = det_forward(net, input, S, raw);
    free(input);
    return err ? sd_fail(ctx, err, "face detector: out of memory") : 0;
}

static int check_size(SdCtx *ctx, int S)
{
    if (S < 64 || S > 1024 || S % 32)
        return sd_fail(ctx, SD_EINVAL, "face detector: input size %d is not a multiple of 32 "
                       "in 64..1024", S);
    return 0;
}

int sd_face_detector_raw(SdCtx *ctx, const SdImage *img, int input_size, float *out)
{
    const SdFaceModels *m;
    int err;
    if ((err = sd__face_check_image(ctx, img)) || (err = check_size(ctx, input_size)) ||
        (err = sd__face_models(ctx, &m)))
        return err;
    return det_raw(ctx, &m->det, img, input_size, 1, NULL, 0, out);
}

int sd_face_sizes(const SdFaceOpts *opts, int sizes[SD_FACE_MAX_SIZES])
{
    int n = 0;
    for (int i = 0; opts && i < SD_FACE_MAX_SIZES && opts->input_sizes[i]; i++)
        sizes[n++] = opts->input_sizes[i];
    if (!n)
        for (size_t i = 0; i < sizeof(DEFAULT_SIZES) / sizeof(DEFAULT_SIZES[0]); i++)
            sizes[n++] = DEFAULT_SIZES[i];
    return n;
}

int sd_face_detect(SdCtx *ctx, const SdImage *img, const SdFaceOpts *opts, SdFaces *faces)
{
    const SdFaceModels *m;
    SdFaceOpts o = {0};
    int sizes[SD_FACE_MAX_SIZES], err;
    float *raw = NULL, *input = NULL, best_any = 0.0f;
    SdFaces cur;
    char list[64] = "";
    memset(faces, 0, sizeof(*faces));
    if (opts)
        o = *opts;
    const int nsizes = sd_face_sizes(&o, sizes);
    const float thr = o.score_threshold > 0.0f ? o.score_threshold : 0.5f;
    if ((err = sd__face_check_image(ctx, img)) || (err = sd__face_models(ctx, &m)))
        return err;
    int nb = 0;
    for (int i = 0; i < nsizes; i++) {
        if ((err = check_size(ctx, sizes[i])))
            return err;
        if (sizes[i] > nb)
            nb = sizes[i];
    }
    /* One antialiased input at the largest size serves every smaller size of a big image. */
    const int M = img->w > img->h ? img->w : img->h;
    float *base = NULL;
    if (!o.compat && M > DET_AA_RATIO * nb) {
        if (!(base = sd__face_falloc((size_t)nb * nb * 3)) ||
            sd__nn_input_aa(base, nb, img, 0.0, 0.0, M, DET_MEAN, 0, DET_TAPS)) {
            free(base);
            return sd_fail(ctx, SD_ENOMEM, "face detector: out of memory");
        }
    }
    for (int i = 0; i < nsizes; i++) {
        const int S = sizes[i], G = S / 32;
        float best;
        free(raw);
        if (!(raw = sd__face_falloc((size_t)G * G * 25))) {
            err = sd_fail(ctx, SD_ENOMEM, "face detector: out of memory");
            goto fail;
        }
        if ((err = det_raw(ctx, &m->det, img, S, o.compat, base, nb, raw)))
            goto fail;
        const DetMap map = det_map_image(S, img->w, img->h);
        if ((err = det_decode(raw, S, &map, thr, &cur, &best))) {
            err = sd_fail(ctx, err, "face detector: out of memory");
            goto fail;
        }
        if (best > best_any)
            best_any = best;
        if (cur.n && (!faces->n || cur.face[0].score > faces->face[0].score))
            *faces = cur;
        snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%d", i ? "," : "", S);
    }
    /* A face filling (or overflowing) the frame can be missed, or found weakly, at every size:
     * look again with the image zoomed out, centred on a zero canvas ZOOM_OUT times its size;
     * the better score wins. */
    free(raw);
    raw = NULL;
    const int zoom = !o.compat && (!faces->n || faces->face[0].score < ZOOM_BELOW);
    for (int i = 0; zoom && i < nsizes; i++) {
        const int S = sizes[i];
        const double L = ZOOM_OUT * M;
        const DetMap map = { .cx = 1.0, .cy = 1.0, .kx = L, .ky = L,
                             .x0 = (img->w - L) / 2.0, .y0 = (img->h - L) / 2.0 };
        float best;
        if (!(raw = sd__face_falloc((size_t)(S / 32) * (S / 32) * 25)) || !(input = sd__face_falloc((size_t)S * S * 3)) ||
            sd__nn_input_aa(input, S, img, map.x0, map.y0, L, DET_MEAN, 0, DET_TAPS) ||
            det_forward(&m->det, input, S, raw) || det_decode(raw, S, &map, thr, &cur, &best)) {
            err = sd_fail(ctx, SD_ENOMEM, "face detector: out of memory");
            goto fail;
        }
        free(raw);
        free(input);
        raw = input = NULL;
        if (best > best_any)
            best_any = best;
        if (cur.n && (!faces->n || cur.face[0].score > faces->face[0].score)) {
            *faces = cur;
            faces->zoomed_out = 1;
        }
    }
    if (!faces->n)
        err = sd_fail(ctx, SD_ENOFACE, "no face found: best detector score %.3f is not above "
                      "the threshold %.2f (input sizes %s%s)", best_any, thr, list,
                      o.compat ? "" : ", also zoomed out");
fail:
    free(raw);
    free(input);
    free(base);
    return err;
}

/* Face stage: TinyFaceDetector (boxes) and FaceLandmark68Net (68 points) on our tensor ops,
 * following shared/FACEMODEL.md; multi-size detection and a stabilising landmark re-crop. */
#include "src/face.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/face_model.h"
#include "src/nn.h"
#include "src/util.h"

static const float DET_MEAN[3] = {117.001f, 114.697f, 97.404f};
static const float LM_MEAN[3] = {122.782f, 117.001f, 104.298f};
static const double ANCHORS[5][2] = {
    {1.603231, 2.094468}, {6.041143, 7.080126}, {2.882459, 3.518061},
    {4.266906, 5.178857}, {9.041765, 10.66308},
};
static const int DEFAULT_SIZES[] = {320, 416, 608};
#define LM_IN 112
#define NMS_IOU 0.4
/* Re-crop: square side = this times the larger extent of the previous 68 points, about their
 * centre; measured on the conformance fixtures, the package's boxes are 1.22-1.35x the extent. */
#define RECROP_SCALE 1.25
#define DEFAULT_REFINE 2
/* Antialiased inputs: at most this many taps per axis (see sd__nn_input_aa). The detector input
 * of a big image (more than DET_AA_RATIO times the input size) is antialiased outside compat
 * mode; point sampling would alias the image's fine detail into the 13x13-grid features. */
#define LM_TAPS 9
#define DET_TAPS 5
#define DET_AA_RATIO 2
/* Second look when nothing (or only a weak face) is found: canvas side / image side. */
#define ZOOM_OUT 2.0
#define ZOOM_BELOW 0.8f

/* 64-byte aligned float buffers (C11 aligned_alloc: the size rounded up to the alignment). */
static float *falloc(size_t n)
{
    size_t bytes;
    if (sd_mul_overflow(n, sizeof(float), &bytes) || bytes > SIZE_MAX - 128)
        return NULL;
    return aligned_alloc(64, (bytes + 63) / 64 * 64 + 64);
}

static int valid_image(SdCtx *ctx, const SdImage *img)
{
    if (!img || !img->data || img->w < 1 || img->h < 1 || (img->c != 1 && img->c != 3) ||
        (img->fmt != SD_FMT_F32 && img->fmt != SD_FMT_U8))
        return sd_fail(ctx, SD_EINVAL, "face: need a 1- or 3-channel F32 or U8 image");
    return 0;
}

/* ---- TinyFaceDetector */

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
    float *dw = falloc((size_t)R * w * s->cin), *pw = falloc((size_t)R * w * s->cout);
    float *pool = falloc((size_t)ph * pwd * s->cout);
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
    float *col = falloc(sd__nn_conv3x3_scratch(ow, 3));
    float *chunk = falloc((size_t)R * ow * 16);
    float *x = falloc((size_t)ph * pw * 16), *y = NULL;
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
 * mode a big image is antialiased: from `base` (an antialiased input at size nb > S) when given,
 * else directly from the image. */
static int det_input(const SdImage *img, int S, int compat, const float *base, int nb,
                     float *input)
{
    const int M = img->w > img->h ? img->w : img->h;
    if (compat || M <= DET_AA_RATIO * S)
        return sd__nn_input_tf(input, S, img, 0, 0, img->w, img->h, 0, 0, M, DET_MEAN, compat);
    if (base && nb > S)
        return sd__nn_resize_hwc(input, S, base, nb, 3);
    return sd__nn_input_aa(input, S, img, 0.0, 0.0, M, DET_MEAN, 0, DET_TAPS);
}

static int det_raw(SdCtx *ctx, const SdDetNet *net, const SdImage *img, int S, int compat,
                   const float *base, int nb, float *raw)
{
    float *input = falloc((size_t)S * S * 3);
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
    if ((err = valid_image(ctx, img)) || (err = check_size(ctx, input_size)) ||
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
    if ((err = valid_image(ctx, img)) || (err = sd__face_models(ctx, &m)))
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
        if (!(base = falloc((size_t)nb * nb * 3)) ||
            sd__nn_input_aa(base, nb, img, 0.0, 0.0, M, DET_MEAN, 0, DET_TAPS)) {
            free(base);
            return sd_fail(ctx, SD_ENOMEM, "face detector: out of memory");
        }
    }
    for (int i = 0; i < nsizes; i++) {
        const int S = sizes[i], G = S / 32;
        float best;
        free(raw);
        if (!(raw = falloc((size_t)G * G * 25))) {
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
        if (!(raw = falloc((size_t)(S / 32) * (S / 32) * 25)) || !(input = falloc((size_t)S * S * 3)) ||
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

/* ---- FaceLandmark68Net */

/* Separable conv, pad (pad_t, pad_l), given stride; out oh x ow x cout (+ bias). */
static int lm_sep(const SdSepConv *s, const float *in, int h, int w, int stride, int pad,
                  float *out, int oh, int ow, int act)
{
    float *dw = falloc((size_t)oh * ow * s->cin);
    if (!dw)
        return SD_ENOMEM;
    sd__nn_dwconv3x3(dw, in, h, w, s->cin, stride, pad, pad, 0, oh, ow, s->dw);
    sd__nn_pointwise(out, dw, oh * ow, s->cin, s->cout, s->pw, s->bias, act);
    free(dw);
    return 0;
}

static int lm_forward(const SdLmNet *net, const float *input, float out[136])
{
    int h = LM_IN, w = LM_IN, c = 3, err = SD_ENOMEM;
    float *x = NULL, *o1 = NULL, *sum = NULL, *t = NULL, *col = NULL;
    const float *cur = input;
    for (int k = 0; k < net->nblocks; k++) {
        const int cout = 32 << k, oh = (h + 1) / 2, ow = (w + 1) / 2;
        const size_t n = (size_t)oh * ow * cout;
        o1 = falloc(n);
        sum = falloc(n);
        t = falloc(n);
        if (!o1 || !sum || !t)
            goto fail;
        /* conv0, stride 2, TF "same": 0 before, 1 after */
        if (k == 0) {
            if (!(col = falloc(sd__nn_conv3x3_scratch(ow, c))))
                goto fail;
            sd__nn_conv3x3(o1, cur, h, w, c, cout, 2, 0, 0, 0, oh, ow, net->conv0_f,
                           net->conv0_b, SD_NN_RELU, col);
            free(col);
            col = NULL;
        } else if (lm_sep(&net->conv[k][0], cur, h, w, 2, 0, o1, oh, ow, SD_NN_RELU)) {
            goto fail;
        }
        memcpy(sum, o1, n * sizeof(float));
        const float *src = o1;
        for (int j = 1; j < net->nconv; j++) {
            if (lm_sep(&net->conv[k][j], src, oh, ow, 1, 1, t, oh, ow, SD_NN_NONE))
                goto fail;
            sd__nn_add(sum, t, n);
            /* the next conv reads relu(o1 + ... + oj) */
            memcpy(t, sum, n * sizeof(float));
            sd__nn_relu(t, n);
            src = t;
            if (j + 1 < net->nconv) {   /* keep relu(sum) in o1's place as the next input */
                memcpy(o1, t, n * sizeof(float));
                src = o1;
            }
        }
        sd__nn_relu(sum, n);
        free(x);
        free(o1);
        free(t);
        o1 = t = NULL;
        x = sum;
        sum = NULL;
        cur = x;
        h = oh;
        w = ow;
        c = cout;
    }
    {
        double *avg = calloc((size_t)c, sizeof(double));
        float *avgf = falloc((size_t)c);
        if (!avg || !avgf) {
            free(avg);
            free(avgf);
            goto fail;
        }
        for (int p = 0; p < h * w; p++)
            for (int j = 0; j < c; j++)
                avg[j] += x[(size_t)p * c + j];
        for (int j = 0; j < c; j++)
            avgf[j] = (float)(avg[j] / (h * w));
        sd__nn_pointwise(out, avgf, 1, c, 136, net->fc_w, net->fc_b, SD_NN_NONE);
        free(avg);
        free(avgf);
    }
    err = 0;
fail:
    free(x);
    free(o1);
    free(sum);
    free(t);
    free(col);
    return err;
}

/* The package's crop of a box: clipped, floored, centred-square padded (FACEMODEL.md section 4). */
typedef struct PkgCrop {
    int x0, y0, cw, ch, side, ox, oy;
} PkgCrop;

static int pkg_crop(SdCtx *ctx, const SdImage *img, const SdFace *f, PkgCrop *c)
{
    const double xc = fmax(f->x, 0.0), yc = fmax(f->y, 0.0);
    const double wc = fmin((double)f->x + f->w - xc, img->w - xc);
    const double hc = fmin((double)f->y + f->h - yc, img->h - yc);
    c->x0 = (int)floor(xc);
    c->y0 = (int)floor(yc);
    c->cw = (int)floor(wc);
    c->ch = (int)floor(hc);
    if (c->cw < 1 || c->ch < 1 || c->x0 >= img->w || c->y0 >= img->h)
        return sd_fail(ctx, SD_EINVAL, "face landmarks: box (%.1f,%.1f %.1fx%.1f) is outside the "
                       "%dx%d image", f->x, f->y, f->w, f->h, img->w, img->h);
    if (c->x0 + c->cw > img->w) c->cw = img->w - c->x0;
    if (c->y0 + c->ch > img->h) c->ch = img->h - c->y0;
    const int d = abs(c->cw - c->ch), after = (int)floor(d / 2.0 + 0.5), before = d - after;
    c->side = c->cw > c->ch ? c->cw : c->ch;
    c->ox = c->cw < c->ch ? before : 0;
    c->oy = c->ch < c->cw ? before : 0;
    return 0;
}

static int lm_run_pkg(SdCtx *ctx, const SdLmNet *net, const SdImage *img, const SdFace *f,
                      PkgCrop *crop, float raw[136])
{
    float *input = NULL;
    int err;
    if ((err = pkg_crop(ctx, img, f, crop)))
        return err;
    if (!(input = falloc((size_t)LM_IN * LM_IN * 3)))
        return sd_fail(ctx, SD_ENOMEM, "face landmarks: out of memory");
    err = sd__nn_input_tf(input, LM_IN, img, crop->x0, crop->y0, crop->cw, crop->ch, crop->ox,
                          crop->oy, crop->side, LM_MEAN, 1);
    if (!err)
        err = lm_forward(net, input, raw);
    free(input);
    return err ? sd_fail(ctx, err, "face landmarks: out of memory") : 0;
}

static int square_ok(const SdImage *img, double X0, double Y0, double L)
{
    const double M = img->w > img->h ? img->w : img->h;
    return L >= 1.0 && L <= 64.0 * M && X0 + L > 0.0 && Y0 + L > 0.0 && X0 < img->w &&
           Y0 < img->h;
}

/* Square crop of side L at (X0, Y0), antialiased; points in image pixels. */
static int lm_run_square(SdCtx *ctx, const SdLmNet *net, const SdImage *img, double X0,
                         double Y0, double L, SdPoint pt[SD_NLANDMARKS])
{
    float raw[136];
    /* A crop square must overlap the image and be of a sane size (also keeps the tap
     * arithmetic in range for absurd boxes). */
    if (!square_ok(img, X0, Y0, L))
        return sd_fail(ctx, SD_EINVAL, "face landmarks: crop (%.1f,%.1f side %.1f) is outside "
                       "the %dx%d image or of no usable size", X0, Y0, L, img->w, img->h);
    float *input = falloc((size_t)LM_IN * LM_IN * 3);
    int err = SD_ENOMEM;
    if (input && !(err = sd__nn_input_aa(input, LM_IN, img, X0, Y0, L, LM_MEAN, 0, LM_TAPS)))
        err = lm_forward(net, input, raw);
    free(input);
    if (err)
        return sd_fail(ctx, err, "face landmarks: out of memory");
    for (int i = 0; i < SD_NLANDMARKS; i++) {
        pt[i].x = (float)(X0 + raw[2 * i] * L);
        pt[i].y = (float)(Y0 + raw[2 * i + 1] * L);
    }
    return 0;
}

int sd_face_landmarks_raw(SdCtx *ctx, const SdImage *img, const SdFace *face, int tiny,
                          float out[136])
{
    const SdFaceModels *m;
    PkgCrop crop;
    int err;
    if ((err = valid_image(ctx, img)) || (err = sd__face_models(ctx, &m)))
        return err;
    return lm_run_pkg(ctx, tiny ? &m->lm_tiny : &m->lm, img, face, &crop, out);
}

int sd_face_landmarks_opts(SdCtx *ctx, const SdImage *img, const SdFace *face,
                           const SdFaceOpts *opts, SdLandmarks *lm)
{
    const SdFaceModels *m;
    SdFaceOpts o = {0};
    int err;
    if (opts)
        o = *opts;
    if ((err = valid_image(ctx, img)) || (err = sd__face_models(ctx, &m)))
        return err;
    if (!(face->w > 0.0f) || !(face->h > 0.0f) || !isfinite(face->x) || !isfinite(face->y))
        return sd_fail(ctx, SD_EINVAL, "face landmarks: invalid box");
    const SdLmNet *net = o.tiny_landmarks ? &m->lm_tiny : &m->lm;
    lm->face = *face;
    if (o.compat) {
        float raw[136];
        PkgCrop c;
        if ((err = lm_run_pkg(ctx, net, img, face, &c, raw)))
            return err;
        const double s = (double)LM_IN / c.side, ws = c.cw * s, hs = c.ch * s;
        const double padx = ws < hs ? (hs - ws) / 2 : 0.0, pady = hs < ws ? (ws - hs) / 2 : 0.0;
        for (int i = 0; i < SD_NLANDMARKS; i++) {
            lm->pt[i].x = (float)((raw[2 * i] * LM_IN - padx) / ws * c.cw + face->x);
            lm->pt[i].y = (float)((raw[2 * i + 1] * LM_IN - pady) / hs * c.ch + face->y);
        }
        return 0;
    }
    /* Square about the box centre (as the package's centred square pad, without clipping). */
    double L = fmax(face->w, face->h);
    double X0 = face->x + face->w / 2.0 - L / 2.0, Y0 = face->y + face->h / 2.0 - L / 2.0;
    if ((err = lm_run_square(ctx, net, img, X0, Y0, L, lm->pt)))
        return err;
    const int passes = o.refine < 0 ? 0 : o.refine == 0 ? DEFAULT_REFINE : o.refine;
    for (int p = 0; p < passes; p++) {
        double x0 = lm->pt[0].x, x1 = x0, y0 = lm->pt[0].y, y1 = y0;
        for (int i = 1; i < SD_NLANDMARKS; i++) {
            x0 = fmin(x0, lm->pt[i].x); x1 = fmax(x1, lm->pt[i].x);
            y0 = fmin(y0, lm->pt[i].y); y1 = fmax(y1, lm->pt[i].y);
        }
        L = RECROP_SCALE * fmax(x1 - x0, y1 - y0);
        X0 = (x0 + x1) / 2.0 - L / 2.0;
        Y0 = (y0 + y1) / 2.0 - L / 2.0;
        if (!(L >= 8.0) || !square_ok(img, X0, Y0, L))
            break;   /* degenerate points: keep the previous pass */
        if ((err = lm_run_square(ctx, net, img, X0, Y0, L, lm->pt)))
            return err;
    }
    return 0;
}

int sd_face_find(SdCtx *ctx, const SdImage *img, const SdFaceOpts *opts, SdLandmarks *lm,
                 int *nfaces)
{
    SdFaces *faces = malloc(sizeof(*faces));
    int err;
    if (nfaces)
        *nfaces = 0;
    if (!faces)
        return sd_fail(ctx, SD_ENOMEM, "face: out of memory");
    if (!(err = sd_face_detect(ctx, img, opts, faces))) {
        if (nfaces)
            *nfaces = faces->n_found;
        err = sd_face_landmarks_opts(ctx, img, &faces->face[0], opts, lm);
    }
    free(faces);
    return err;
}

void sd_face_landmarks_rescale(SdLandmarks *lm, double sx, double sy)
{
    for (int i = 0; i < SD_NLANDMARKS; i++) {
        lm->pt[i].x = (float)((lm->pt[i].x + 0.5) * sx - 0.5);
        lm->pt[i].y = (float)((lm->pt[i].y + 0.5) * sy - 0.5);
    }
    lm->face.x = (float)((lm->face.x + 0.5) * sx - 0.5);
    lm->face.y = (float)((lm->face.y + 0.5) * sy - 0.5);
    lm->face.w = (float)(lm->face.w * sx);
    lm->face.h = (float)(lm->face.h * sy);
}

int sd_face_find_file(SdCtx *ctx, const char *path, const SdFaceOpts *opts, SdLandmarks *lm,
                      int *nfaces, SdImageInfo *info)
{
    SdLoadOpts lo;
    SdImageInfo inf;
    SdImage img = {0};
    int err;
    if (nfaces)
        *nfaces = 0;
    sd_load_opts_default(&lo);
    lo.target_max = SD_FACE_LOAD_MAX;
    lo.fmt = SD_FMT_U8;     /* the nets see 8-bit values; a quarter of the memory of F32 */
    if ((err = sd_image_load(ctx, path, &lo, &img, &inf)))
        return err;
    if (info)
        *info = inf;
    err = sd_face_find(ctx, &img, opts, lm, nfaces);
    if (err == SD_ENOFACE) {
        char msg[SD_ERRMSG_MAX];
        snprintf(msg, sizeof(msg), "%s", ctx->errmsg);
        err = sd_fail(ctx, err, "%s: %s", path, msg);
    }
    if (!err && (img.w != inf.orig_w || img.h != inf.orig_h))
        sd_face_landmarks_rescale(lm, (double)inf.orig_w / img.w, (double)inf.orig_h / img.h);
    sd_image_free(&img);
    return err;
}

const char *sd_face_models_dir(SdCtx *ctx)
{
    const SdFaceModels *m;
    return sd__face_models(ctx, &m) ? NULL : m->dir;
}

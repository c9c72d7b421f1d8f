/* Face landmarks: FaceLandmark68Net (FACEMODEL.md section 4) on a float square crop, re-cropped
 * around its own points for stability; the package-exact crop in compat mode; the whole stage
 * (sd_face_find) and its shrink-on-load file variant. */
#include "skindelta/face.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/face/face_int.h"
#include "src/face/nn.h"
#include "src/core/core.h"

static const float LM_MEAN[3] = {122.782f, 117.001f, 104.298f};
#define LM_IN 112
/* Re-crop: square side = this times the larger extent of the previous 68 points, about their
 * centre; measured on the conformance fixtures, the package's boxes are 1.22-1.35x the extent. */
#define RECROP_SCALE 1.25
#define DEFAULT_REFINE 2
/* Antialiased crop: at most this many taps per axis (see sd__nn_input_aa). */
#define LM_TAPS 9

/* Separable conv, pad (pad_t, pad_l), given stride; out oh x ow x cout (+ bias). */
static int lm_sep(const SdSepConv *s, const float *in, int h, int w, int stride, int pad,
                  float *out, int oh, int ow, int act)
{
    float *dw = sd__face_falloc((size_t)oh * ow * s->cin);
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
        o1 = sd__face_falloc(n);
        sum = sd__face_falloc(n);
        t = sd__face_falloc(n);
        if (!o1 || !sum || !t)
            goto fail;
        /* conv0, stride 2, TF "same": 0 before, 1 after */
        if (k == 0) {
            if (!(col = sd__face_falloc(sd__nn_conv3x3_scratch(ow, c))))
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
        float *avgf = sd__face_falloc((size_t)c);
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
    if (!(input = sd__face_falloc((size_t)LM_IN * LM_IN * 3)))
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
    float *input = sd__face_falloc((size_t)LM_IN * LM_IN * 3);
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
    if ((err = sd__face_check_image(ctx, img)) || (err = sd__face_models(ctx, &m)))
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
    if ((err = sd__face_check_image(ctx, img)) || (err = sd__face_models(ctx, &m)))
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

/* How far a face box is from another photo's box, both as fractions of their photo: centre
 * distance plus the log ratio of the sizes. */
static double box_distance(const SdFace *a, int aw, int ah, const SdFace *b, int bw, int bh)
{
    const double ax = (a->x + 0.5 * a->w) / aw, ay = (a->y + 0.5 * a->h) / ah;
    const double bx = (b->x + 0.5 * b->w) / bw, by = (b->y + 0.5 * b->h) / bh;
    const double as = a->w / (double)aw, bs = b->w / (double)bw;
    return hypot(ax - bx, ay - by) + (as > 0 && bs > 0 ? fabs(log(as / bs)) : 10.0);
}

int sd_face_find_like(SdCtx *ctx, const SdImage *img, const SdFaceOpts *opts, const SdFace *like,
                       int like_w, int like_h, SdLandmarks *lm, int *nfaces, int *picked)
{
    SdFaces *faces = malloc(sizeof(*faces));
    int err;
    *nfaces = 0;
    *picked = 0;
    if (!faces)
        return sd_fail(ctx, SD_ENOMEM, "face: out of memory");
    if (!(err = sd_face_detect(ctx, img, opts, faces))) {
        *nfaces = faces->n_found;
        if (like && like_w > 0 && like_h > 0)
            for (int i = 1; i < faces->n; i++)
                if (box_distance(&faces->face[i], img->w, img->h, like, like_w, like_h) <
                    box_distance(&faces->face[*picked], img->w, img->h, like, like_w, like_h))
                    *picked = i;
        err = sd_face_landmarks_opts(ctx, img, &faces->face[*picked], opts, lm);
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

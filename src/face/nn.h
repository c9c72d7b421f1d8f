/* Tensor operations for the face CNNs (src/face.c): NHWC float32, batch 1; the 3x3 and 1x1
 * convolutions are OpenBLAS sgemm (3x3 through im2col). Library-internal (sd__ prefix). */
#ifndef SRC_NN_H
#define SRC_NN_H

#include <stddef.h>

#include "skindelta/skindelta.h"

/* Activation applied with the bias (conv, pointwise). The detector's leaky slope is the float
 * 0.1 of the reference (0.10000000149011612). */
enum { SD_NN_NONE = 0, SD_NN_RELU = 1, SD_NN_LEAKY = 2 };
#define SD_NN_LEAKY_ALPHA 0.1f

/* Scratch floats sd__nn_conv3x3 needs for an output row width ow and cin input channels. */
size_t sd__nn_conv3x3_scratch(int ow, int cin);

/* 3x3 convolution + bias over output rows [oy0, oy1): out points at row oy0 (ow*cout per row).
 * Input h x w x cin; filt HWIO [3][3][cin][cout]; input position = o*stride - pad + k; samples
 * outside the input are zero (TF "same" padding puts the extra cell at the bottom/right, which
 * the bounds check gives for free). col: sd__nn_conv3x3_scratch(ow, cin) floats. */
void sd__nn_conv3x3(float *out, const float *in, int h, int w, int cin, int cout, int stride,
                    int pad_t, int pad_l, int oy0, int oy1, int ow, const float *filt,
                    const float *bias, int act, float *col);

/* Depthwise 3x3 (one filter per channel, no bias) over output rows [oy0, oy1), out pointing at
 * row oy0: filt[(ky*3+kx)*c + ch]. */
void sd__nn_dwconv3x3(float *out, const float *in, int h, int w, int c, int stride, int pad_t,
                      int pad_l, int oy0, int oy1, int ow, const float *filt);

/* 1x1 convolution: out[P][cout] = act(in[P][cin] . wts[cin][cout] + bias) (bias may be NULL). */
void sd__nn_pointwise(float *out, const float *in, int p, int cin, int cout, const float *wts,
                      const float *bias, int act);

/* 2x2 max-pool, given stride, TF "same": windows clipped at the bottom/right border. */
void sd__nn_maxpool2(float *out, const float *in, int h, int w, int c, int stride, int oh, int ow);

void sd__nn_relu(float *x, size_t n);
void sd__nn_add(float *restrict dst, const float *restrict src, size_t n);   /* dst += src */

/* Network input from an image: out[S][S][3] = (v - mean[ch]) / 255 with v in 0..255 (U8 images
 * as is; F32 images times 255, rounded to integers when round8 is set).
 *
 * _tf: tf.image.resizeBilinear (alignCorners=false, halfPixelCenters=false) of a zero canvas of
 * side `side` on which the image rectangle (x0, y0, cw, ch) sits at canvas (ox, oy); exact
 * arithmetic of the reference implementation.
 *
 * _aa: the square of side L whose top-left is at image position (X0, Y0), sampled at the same
 * positions as _tf (output r at X0 + r*L/S) but with a tent filter of half-width max(L/S, 1),
 * so downscaling is antialiased; equals bilinear when upscaling. Outside the image is zero.
 * max_taps bounds the taps per axis: wider supports are sampled on a pixel lattice of stride
 * ~2*L/S/(max_taps-1) (cost independent of the image size). Returns 0 or SD_ENOMEM. */
int  sd__nn_input_tf(float *out, int S, const SdImage *img, int x0, int y0, int cw, int ch,
                     int ox, int oy, int side, const float mean[3], int round8);
int  sd__nn_input_aa(float *out, int S, const SdImage *img, double X0, double Y0, double L,
                     const float mean[3], int round8, int max_taps);

/* Tent resample of an n x n x c tensor to S x S x c at the same sample positions as above
 * (output r at r*n/S, half-width max(n/S, 1)), renormalised at the far edge. 0 or SD_ENOMEM. */
int  sd__nn_resize_hwc(float *out, int S, const float *in, int n, int c);

#endif

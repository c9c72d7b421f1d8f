/* Checks of a scored image that flag a pair without failing it: a follow-up compressed unlike its
 * baseline, skin clipped by overexposure, a face box reaching out of the photo. Shared by the
 * batch runner and the one-photo API (measure.c: sd_measurement_qc). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/run/run_int.h"
#include "src/core/core.h"

/* A follow-up whose compression differs from its baseline's carries JPEG drift in the skin metrics
 * (several % at q85-95: docs/METRICS.md); say so. Returns 1 and fills msg when they differ: another
 * chroma subsampling, JPEG against lossless, or IJG qualities 5 or more apart. */
int sd__run_compression_differs(const SdCompression *b, const SdCompression *f, char *msg, size_t n)
{
    const int bj = b->jpeg_quality > 0, fj = f->jpeg_quality > 0;
    if (!bj && !fj)
        return 0;
    if (bj && fj && !strcmp(b->chroma, f->chroma) && abs(b->jpeg_quality - f->jpeg_quality) < 5)
        return 0;
    char bs[32], fs[32];
    if (bj) snprintf(bs, sizeof(bs), "JPEG q%d %s", b->jpeg_quality, b->chroma);
    else snprintf(bs, sizeof(bs), "lossless");
    if (fj) snprintf(fs, sizeof(fs), "JPEG q%d %s", f->jpeg_quality, f->chroma);
    else snprintf(fs, sizeof(fs), "lossless");
    snprintf(msg, n, "compression differs from the baseline (%s vs %s): texture, wrinkle and pigment "
             "changes include JPEG drift", fs, bs);
    return 1;
}

/* Appends the clipping note to note[] and returns 1 when more than 1% of the skin is clipped
 * (f: sd_skin_clipped_share of the image, the noise model's SdNoiseImage.clip). */
int sd__run_clip_note(double f, char *note, size_t cap)
{
    if (!(f > SD_CLIP_WARN)) return 0;
    char msg[160];
    snprintf(msg, sizeof(msg), "%.1f%% of the skin clipped (overexposed channel): pigment and texture there are not measured correctly",
             100 * f);
    sd__run_note_add(note, cap, msg);
    return 1;
}

/* A face box reaching more than 10% of its area out of the photo: the detector saw part of the
 * face, so the landmarks there are extrapolated (and a follow-up's registration will struggle). */
int sd__run_face_outside(const SdFace *fb, int photo_w, int photo_h, double *share)
{
    const double ix0 = fmax(fb->x, 0), iy0 = fmax(fb->y, 0);
    const double ix1 = fmin(fb->x + fb->w, photo_w), iy1 = fmin(fb->y + fb->h, photo_h);
    const double inside = fmax(0, ix1 - ix0) * fmax(0, iy1 - iy0), area = (double)fb->w * fb->h;
    if (!(area > 0 && inside < 0.9 * area)) return 0;
    *share = 1 - inside / area;
    return 1;
}

/* What the noise model (include/skindelta/noise.h) sees of an image: image-level figures on the
 * skin (noise level, clipping, exposure) and the per-region covariates. Cheap: one pass over the
 * skin per image and one over each region, against the seconds the metrics take. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "skindelta/noise.h"
#include "src/core/core.h"
#include "src/measure/noise_int.h"

static const char *const cov_names[SD_NCOV] = {
    "area", "jpeg", "subsample", "noise", "exposure", "exposure2", "registration", "clip",
    "dquality", "dsubsample", "dexposure", "dtone",
};

const char *sd_noise_cov_name(int k)
{
    return k >= 0 && k < SD_NCOV ? cov_names[k] : NULL;
}

static int cmp_float(const void *a, const void *b)
{
    const float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Noise SD of the green channel in 8-bit levels: the median absolute second difference along
 * rows (x[i-1] - 2x[i] + x[i+1] has SD sqrt(6) sigma for white noise), on every 3rd row and
 * column of the skin where the three pixels are all skin and valid. The MAD ignores the skin's
 * relief and edges, which make a few large differences; white noise makes most of the small
 * ones. Measured on the canonical image, so it is the noise after resampling (what the metrics
 * see), not the sensor's. */
static double noise_level(const SdAligned *al, const SdMask *skin)
{
    const int w = al->img.w < skin->w ? al->img.w : skin->w;
    const int h = al->img.h < skin->h ? al->img.h : skin->h;
    size_t cap = (size_t)(w / 3 + 1) * (size_t)(h / 3 + 1), n = 0;
    float *d = malloc(cap * sizeof(float));
    if (!d) return NAN;
    for (int y = 0; y < h; y += 3) {
        const uint8_t *m = skin->data + (size_t)y * (size_t)skin->stride;
        const uint8_t *v = al->valid.data ? al->valid.data + (size_t)y * (size_t)al->valid.stride : NULL;
        const float *g = sd_image_rowf(&al->img, al->img.c > 1 ? 1 : 0, y);
        for (int x = 1; x + 1 < w; x += 3) {
            if (!m[x - 1] || !m[x] || !m[x + 1]) continue;
            if (v && (!v[x - 1] || !v[x] || !v[x + 1])) continue;
            d[n++] = fabsf(g[x - 1] - 2 * g[x] + g[x + 1]);
        }
    }
    double r = NAN;
    if (n >= 64) {
        qsort(d, n, sizeof(float), cmp_float);
        r = 255.0 * 1.4826 * d[n / 2] / sqrt(6.0);
    }
    free(d);
    return r;
}

double sd_skin_clipped_share(const SdAligned *al, const SdMask *skin)
{
    long n = 0, c = 0;
    for (int y = 0; y < al->img.h && y < skin->h; y++) {
        const uint8_t *m = skin->data + (size_t)y * (size_t)skin->stride;
        const uint8_t *v = al->valid.data ? al->valid.data + (size_t)y * (size_t)al->valid.stride : NULL;
        const float *r = sd_image_rowf(&al->img, 0, y), *g = sd_image_rowf(&al->img, 1, y),
                    *b = sd_image_rowf(&al->img, 2, y);
        for (int x = 0; x < al->img.w && x < skin->w; x++) {
            if (!m[x] || (v && !v[x])) continue;
            n++;
            c += r[x] >= 0.99f || g[x] >= 0.99f || b[x] >= 0.99f;
        }
    }
    return n ? (double)c / (double)n : 0.0;
}

void sd_noise_image_stats(const SdAligned *al, const SdMask *skin, SdNoiseImage *im)
{
    enum { G = SD_NOISE_TONE_GRID };
    long n = 0, bn[G * G] = {0};
    double g = 0, bs[G * G] = {0};
    const int W = al->img.w, H = al->img.h;
    for (int y = 0; y < H && y < skin->h; y++) {
        const uint8_t *m = skin->data + (size_t)y * (size_t)skin->stride;
        const uint8_t *v = al->valid.data ? al->valid.data + (size_t)y * (size_t)al->valid.stride : NULL;
        const float *r1 = sd_image_rowf(&al->img, 1, y);
        const int by = (int)((long)y * G / H);
        for (int x = 0; x < W && x < skin->w; x++) {
            if (!m[x] || (v && !v[x])) continue;
            n++;
            g += r1[x];
            const int b = by * G + (int)((long)x * G / W);
            bn[b]++;
            bs[b] += log(fmax(r1[x], 1.0 / 255.0));
        }
    }
    /* a block counts when a quarter of its pixels are skin */
    const double bpx = (double)W * (double)H / (G * G);
    for (int b = 0; b < G * G; b++)
        im->tone[b] = bn[b] > 0 && bn[b] >= 0.25 * bpx ? bs[b] / (double)bn[b] : NAN;
    im->clip = sd_skin_clipped_share(al, skin);
    im->green = n ? g / (double)n : NAN;
    im->noise = noise_level(al, skin);
}

double sd_noise_tone_ratio(const SdNoiseImage *base, const SdNoiseImage *fu)
{
    enum { G = SD_NOISE_TONE_GRID };
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    int n = 0;
    for (int b = 0; b < G * G; b++) {
        const double x = base->tone[b], y = fu->tone[b];
        if (!isfinite(x) || !isfinite(y)) continue;
        n++; sx += x; sy += y; sxx += x * x; sxy += x * y;
    }
    if (n < 8) return 0.0;
    const double vx = sxx - sx * sx / n, cxy = sxy - sx * sy / n;
    /* flat baseline blocks (SD of ln green below 0.002) give no slope */
    if (!(vx > n * 4e-6)) return 0.0;
    const double r = cxy / vx;
    return r > 0 ? r : 0.0;
}

void sd_noise_covariates(const SdAligned *al, const SdMask *region, const SdNoiseImage *im,
                         double x[SD_NCOV])
{
    sd__noise_covariates_box(al, region, 0, 0, region->w, region->h, im, x);
}

void sd__noise_covariates_box(const SdAligned *al, const SdMask *region, int bx0, int by0,
                              int bx1, int by1, const SdNoiseImage *im, double x[SD_NCOV])
{
    long n = 0;
    double g = 0;
    const int xe = bx1 < al->img.w ? (bx1 < region->w ? bx1 : region->w) : (al->img.w < region->w ? al->img.w : region->w);
    for (int y = by0; y < by1 && y < al->img.h && y < region->h; y++) {
        const uint8_t *m = region->data + (size_t)y * (size_t)region->stride;
        const uint8_t *v = al->valid.data ? al->valid.data + (size_t)y * (size_t)al->valid.stride : NULL;
        const float *r1 = sd_image_rowf(&al->img, 1, y);
        for (int xx = bx0; xx < xe; xx++) {
            /* a region is a small part of the frame: its empty stretches 8 bytes at a time (the
             * pixels summed and their order are unchanged) */
            if (!((xx - bx0) & 7) && xx + 8 <= xe) {
                uint64_t w8;
                memcpy(&w8, m + xx, 8);
                if (!w8) { xx += 7; continue; }
            }
            if (!m[xx] || (v && !v[xx])) continue;
            n++;
            g += r1[xx];
        }
    }
    const double ppm = al->px_per_mm > 0 ? al->px_per_mm : 10.0;
    const double area_mm2 = (double)n / (ppm * ppm);
    const double mean_g = n ? g / (double)n : 0.5;
    const double expo = log2(fmax(mean_g, 0.02) / 0.5);
    memset(x, 0, SD_NCOV * sizeof(double));
    x[SD_NC_AREA] = log(fmax(area_mm2, 1.0) / 100.0);
    x[SD_NC_JPEG] = im->jpeg_quality > 0 ? (100 - im->jpeg_quality) / 10.0 : 0.0;
    x[SD_NC_SUBSAMPLE] = im->jpeg_quality > 0 && im->subsampled;
    x[SD_NC_NOISE] = isfinite(im->noise) ? im->noise : 0.0;
    x[SD_NC_EXPOSURE] = expo;
    x[SD_NC_EXPOSURE2] = expo * expo;
    x[SD_NC_REGISTRATION] = im->is_followup && isfinite(im->ecc) ? fmax(0.0, 1.0 - im->ecc) : 0.0;
    x[SD_NC_CLIP] = 10.0 * im->clip;
    if (im->is_followup) {
        const int q = im->jpeg_quality > 0 ? im->jpeg_quality : 100;
        const int bq = im->base_quality > 0 ? im->base_quality : 100;
        x[SD_NC_DQUALITY] = abs(q - bq) / 10.0;
        x[SD_NC_DSUBSAMPLE] = (im->jpeg_quality > 0 && im->subsampled) !=
                              (im->base_quality > 0 && im->base_subsampled);
        if (isfinite(im->green) && isfinite(im->base_green) && im->green > 0 && im->base_green > 0)
            x[SD_NC_DEXPOSURE] = fabs(log2(im->green / im->base_green));
        if (isfinite(im->tone_ratio) && im->tone_ratio > 0)
            x[SD_NC_DTONE] = log1p(fabs(log(im->tone_ratio)) / 0.03);
    }
}

int sd_noise_predict_regions(SdCtx *ctx, const SdNoiseModel *m, const SdAligned *al,
                             const SdRegions *rg, const SdNoiseImage *im,
                             double (*sd)[SD_NMETRICS], const char *trace_path,
                             const char *patient, const char *view, const char *session)
{
    FILE *tf = NULL;
    if (trace_path && *trace_path) {
        const int fresh = !sd_file_exists(trace_path);
        if (!(tf = fopen(trace_path, "a")))
            return sd_fail(ctx, SD_EIO, "%s: cannot append the noise trace", trace_path);
        if (fresh) {
            fprintf(tf, "patient,view,session,region");
            for (int k = 0; k < SD_NCOV; k++) fprintf(tf, ",%s", sd_noise_cov_name(k));
            fprintf(tf, "\n");
        }
    }
    for (int r = 0; r < rg->n; r++) {
        double x[SD_NCOV];
        sd_noise_covariates(al, &rg->mask[r], im, x);
        for (int k = 0; k < SD_NMETRICS; k++)
            sd[r][k] = sd_noise_model_sd(m, sd_metric_info(k)->id, rg->name[r], x);
        if (tf) {
            char line[1024];
            int len = snprintf(line, sizeof(line), "%s,%s,%s,%s", patient, view, session, rg->name[r]);
            for (int k = 0; k < SD_NCOV && len > 0 && len < (int)sizeof(line); k++)
                len += snprintf(line + len, sizeof(line) - (size_t)len, ",%.6g", x[k]);
            fprintf(tf, "%s\n", line);   /* one write per row: workers may share the file */
        }
    }
    if (tf && fclose(tf))
        return sd_fail(ctx, SD_EIO, "%s: cannot write the noise trace", trace_path);
    return 0;
}

int sd_metric_is_colour(const char *id)
{
    return !strncmp(id, "pigment_", 8) || !strncmp(id, "redness_", 8) || strstr(id, "ita") != NULL;
}

int sd_colour_guard(const SdAligned *al, const SdMask *skin, char *why, size_t n)
{
    long cnt = 0, clip = 0;
    double sr = 0, sg = 0, sb = 0, chroma = 0;
    for (int y = 0; y < al->img.h && y < skin->h; y++) {
        const uint8_t *m = skin->data + (size_t)y * (size_t)skin->stride;
        const uint8_t *v = al->valid.data ? al->valid.data + (size_t)y * (size_t)al->valid.stride : NULL;
        const float *r0 = sd_image_rowf(&al->img, 0, y), *r1 = sd_image_rowf(&al->img, 1, y),
                    *r2 = sd_image_rowf(&al->img, 2, y);
        for (int x = 0; x < al->img.w && x < skin->w; x++) {
            if (!m[x] || (v && !v[x])) continue;
            const float r = r0[x], g = r1[x], b = r2[x];
            cnt++;
            sr += r; sg += g; sb += b;
            chroma += fmaxf(r, fmaxf(g, b)) - fminf(r, fminf(g, b));
            clip += r >= 0.99f || g >= 0.99f || b >= 0.99f || r <= 0.01f || g <= 0.01f || b <= 0.01f;
        }
    }
    if (!cnt) return 0;
    sr /= cnt; sg /= cnt; sb /= cnt; chroma /= cnt;
    const double cf = (double)clip / (double)cnt;
    if (al->img.c < 3 || chroma < 0.03)
        snprintf(why, n, "grayscale or nearly grayscale photo (mean chroma %.3f): colour metrics not measured", chroma);
    else if (cf > 0.10)
        snprintf(why, n, "a colour channel clipped or crushed on %.0f%% of the skin: colour metrics not measured", 100 * cf);
    else if (sr <= sg || sb > sr)
        snprintf(why, n, "skin colour impossible for skin (mean R %.2f G %.2f B %.2f): colour metrics not measured", sr, sg, sb);
    else
        return 0;
    return 1;
}

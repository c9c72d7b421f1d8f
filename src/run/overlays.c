/* The overlays of an aligned image as masks: indexed PNGs of the canonical frame's size whose
 * palette carries the colour and the opacity, composited over the photo's JPEG preview by the
 * report. A mask of a few colours deflates to a few tens of kB where an RGB copy of the photo
 * with the overlay burnt in took ~4.6 MB (and the time to encode it).
 *
 * The wrinkle and spot detections come from the metrics package's own sd__mx_region_box and
 * sd__mx_detect on the state the metrics were computed from (src/metrics/metrics_int.h), as
 * sd_metrics_region forms them: the mask shows exactly the pixels that were detected. */
#include <stdlib.h>
#include <string.h>

#include "skindelta/regions.h"
#include "src/run/run_int.h"
#include "src/core/core.h"
#include "src/metrics/metrics_int.h"

/* Palette entries shared by the masks: 0 = clear, 1 = outside what was measured (dimmed). */
enum { PX_CLEAR, PX_DIM, PX_FIRST };

int sd__run_regions_mask(SdCtx *ctx, const SdRegions *r, const char *path)
{
    if (r->n < 1)
        return sd_fail(ctx, SD_EINVAL, "%s: no regions to draw", path);
    const int w = r->mask[0].w, h = r->mask[0].h;
    /* per region a translucent fill (1/4 of its colour, as the RGB overlay blended it) and an
     * opaque outline; outside the skin the photo is shown at half brightness */
    uint8_t pal[2 + 2 * SD_NREGIONS][4] = {{0, 0, 0, 0}, {0, 0, 0, 128}};
    const int first = r->n > 1 ? 1 : 0, nreg = r->n - first;
    if (nreg > SD_NREGIONS)
        return sd_fail(ctx, SD_EINVAL, "%s: %d regions, more than the palette holds", path, r->n);
    for (int i = 0; i < nreg; i++) {
        uint8_t rgb[3] = {255, 255, 255};
        (void)sd_region_colour(r->name[first + i], rgb);
        memcpy(pal[PX_FIRST + 2 * i], rgb, 3);
        pal[PX_FIRST + 2 * i][3] = 64;
        memcpy(pal[PX_FIRST + 2 * i + 1], rgb, 3);
        pal[PX_FIRST + 2 * i + 1][3] = 255;
    }
    uint8_t *idx = sd_calloc_checked((size_t)w, (size_t)h);
    if (!idx)
        return sd_fail(ctx, SD_ENOMEM, "%s: out of memory", path);
    for (int y = 0; y < h; y++) {
        uint8_t *d = idx + (size_t)y * (size_t)w;
        const uint8_t *s = r->skin.data ? r->skin.data + (size_t)y * (size_t)r->skin.stride : NULL;
        if (s)
            for (int x = 0; x < w; x++) d[x] = s[x] ? PX_CLEAR : PX_DIM;
        for (int i = 0; i < nreg; i++) {
            const SdMask *m = &r->mask[first + i];
            const uint8_t *row = m->data + (size_t)y * (size_t)m->stride;
            for (int x = 0; x < w; x++) {
                /* a region covers a small part of a row: skip its empty stretches 8 bytes at a time */
                if (!(x & 7) && x + 8 <= w) {
                    uint64_t v;
                    memcpy(&v, row + x, 8);
                    if (!v) { x += 7; continue; }
                }
                if (!row[x]) continue;
                const int edge = x == 0 || y == 0 || x == w - 1 || y == h - 1 || !row[x - 1] || !row[x + 1] ||
                                 !row[x - m->stride] || !row[x + m->stride];
                d[x] = (uint8_t)(PX_FIRST + 2 * i + edge);
            }
        }
    }
    const int err = sd__png_save_indexed(ctx, path, idx, w, w, h, (const uint8_t (*)[4])pal, PX_FIRST + 2 * nreg);
    free(idx);
    return err;
}

int sd_regions_overlay_mask(SdCtx *ctx, const SdRegions *r, const char *path)
{
    return sd__run_regions_mask(ctx, r, path);
}

int sd__run_metrics_masks(SdCtx *ctx, const SdMetricsState *st, const SdMask *region, const char *region_name,
                          const char *wrinkle_png, const char *spot_png)
{
    SdMxRegion r;
    SdMxDetect d = {0};
    uint8_t *idx = NULL;
    int err;
    if (!st)
        return sd_fail(ctx, SD_EINVAL, "overlay: no metrics state");
    if (region->w != st->w || region->h != st->h)
        return sd_fail(ctx, SD_EINVAL, "overlay: region mask %dx%d does not match image %dx%d",
                       region->w, region->h, st->w, st->h);
    if ((err = sd__mx_region_box(ctx, st, region, &r)))
        return err;
    if (r.n > 0 && (err = sd__mx_detect(ctx, st, &r, region_name, &d)))
        goto done;
    if (!(idx = sd_calloc_checked((size_t)st->w, (size_t)st->h))) {
        err = sd_fail(ctx, SD_ENOMEM, "overlay: out of memory");
        goto done;
    }
    /* wrinkles red, spots cyan, at 3/4 opacity; outside the measured region dimmed to 0.55 */
    static const uint8_t pal[2][3][4] = {
        {{0, 0, 0, 0}, {0, 0, 0, 115}, {255, 26, 26, 191}},
        {{0, 0, 0, 0}, {0, 0, 0, 115}, {0, 230, 255, 191}},
    };
    for (int k = 0; k < 2 && !err; k++) {
        const char *path = k == 0 ? wrinkle_png : spot_png;
        const uint8_t *m = k == 0 ? d.wrinkles : d.spots;
        if (!path) continue;
        memset(idx, PX_DIM, (size_t)st->w * (size_t)st->h);
        for (int y = 0; y < r.h; y++) {
            uint8_t *o = idx + (size_t)(y + r.y0) * (size_t)st->w + r.x0;
            const uint8_t *in = r.in + (size_t)y * (size_t)r.w, *mm = m + (size_t)y * (size_t)r.w;
            for (int x = 0; x < r.w; x++)
                if (in[x]) o[x] = mm[x] ? PX_FIRST : PX_CLEAR;
        }
        err = sd__png_save_indexed(ctx, path, idx, st->w, st->w, st->h, pal[k], 3);
    }
done:
    free(idx);
    sd__mx_detect_free(&d);
    free(r.in);
    return err;
}

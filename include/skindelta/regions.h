/* Stage `regions` (DESIGN.md §4): skin mask and the 13 anatomical regions in the canonical frame,
 * polygons from the landmarks through the template models/regions.json; `--roi whole` gives the
 * single region `whole`. */
#ifndef SRC_REGIONS_H
#define SRC_REGIONS_H

#include "skindelta.h"
#include "align.h"
#include "photometry.h"

#define SD_NREGIONS 13
/* Region ids in output order; subject's left (`_l`) is image right on a frontal photo. */
SD_API extern const char *const sd_region_names[SD_NREGIONS];

typedef struct SdRegions {
    int n;                             /* 13 (face) or 1 (whole) */
    const char *name[SD_NREGIONS];     /* sd_region_names[i] or "whole" */
    SdMask mask[SD_NREGIONS];          /* 1 = in the region (polygon AND skin AND valid) */
    long area[SD_NREGIONS];            /* pixels in mask */
    long poly_area[SD_NREGIONS];       /* pixels of the polygon inside the frame (before skin) */
    int warn[SD_NREGIONS];             /* 1: mostly masked out (area < min_frac x poly_area or
                                        * below min_area_mm2) — measured but flagged */
    SdMask skin;                       /* the skin mask the regions were cut from */
    double px_per_mm;
    SdMask metrics_valid;              /* the measured image's valid pixels minus its own hair
                                        * (empty data: use the image's valid mask); what
                                        * sd_metrics_prepare is given, so that the filters see the
                                        * skin around a strand, not the strand */
} SdRegions;

/* The mask to give sd_metrics_prepare for the image a's regions r were built for. */
SD_API const SdMask *sd_regions_metrics_valid(const SdRegions *r, const SdAligned *a);

/* Regions of base (canonical, with landmarks; or roi whole). restrict_valid (may be NULL): a
 * follow-up's valid mask to intersect with (the baseline's anatomy, restricted to what the
 * follow-up covers). The template is models/regions.json (SKINDELTA_MODELS, ./models, or beside
 * the executable). Returns 0, SD_EIO/SD_EFORMAT (template), SD_EINVAL, SD_ENOMEM. */
SD_API int  sd_regions_build(SdCtx *ctx, const SdAligned *base, const SdMask *restrict_valid,
                      SdRegions *out);
SD_API void sd_regions_free(SdRegions *r);

/* Colour of a region in the overlay (sd_regions_overlay): 0, or -1 for an unknown name. */
SD_API int  sd_region_colour(const char *name, uint8_t rgb[3]);

/* A follow-up's regions: the baseline's anatomy and skin, restricted to what the follow-up covers
 * and to the follow-up's own skin (hair, glare or shadow at either visit is left out of both:
 * the change is measured on the skin both photos show). base and fu in the same canonical frame.
 * base_rg (may be NULL): the baseline's own regions (sd_regions_build of base), whose skin is
 * taken as it is instead of testing the baseline's colours again. */
SD_API int  sd_regions_build_followup(SdCtx *ctx, const SdAligned *base, const SdRegions *base_rg,
                                      const SdAligned *fu, SdRegions *out);

/* PNG/JPEG of img with each region's outline and a tint, the skin mask dimmed outside. */
SD_API int  sd_regions_overlay(SdCtx *ctx, const SdImage *img, const SdRegions *r, const char *path);
/* The same overlay as a mask of the frame's size to lay over the image: an indexed PNG whose
 * palette carries each region's colour and opacity (a translucent fill, an opaque outline; the
 * skin dimmed outside), tens of kB where the RGB overlay takes megabytes. */
SD_API int  sd_regions_overlay_mask(SdCtx *ctx, const SdRegions *r, const char *path);

/* Geometric skin mask from canonical landmarks (no colour tests): face outline with the forehead
 * extrapolated above the brows, minus eyes, brows, lips and nostrils with margins. iod in px. */
SD_API int  sd_regions_skin_geom(const SdLandmarks *lm, double iod, int w, int h, SdMask *out);

#endif

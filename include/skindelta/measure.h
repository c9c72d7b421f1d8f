/* One photo measured without a course, and one before/after pair compared in memory: the stages
 * `run` applies to a baseline (face, canonical frame, regions, metrics) and to a follow-up
 * (registration onto the baseline, photometry, the baseline's regions where the follow-up covers
 * them, metrics), with the same settings (SdRunOpts), so the values equal the `value` column of
 * a run's measurements.csv. For programs and language bindings (python/skindelta): results are
 * opaque handles read through accessors, and the run options can be set by name. */
#ifndef SKINDELTA_MEASURE_H
#define SKINDELTA_MEASURE_H

#include "skindelta.h"
#include "align.h"
#include "run.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- run options on the heap, set by name (what the CLI's options set) */

/* sd_run_opts_default() on the heap; NULL when out of memory. Strings given to sd_run_opts_set
 * are copied and freed with the options. */
SD_API SdRunOpts *sd_run_opts_new(void);
SD_API void sd_run_opts_free(SdRunOpts *o);
/* Set one option by the name of its CLI option: "out" (DIR), "jobs" (1..256), "shard" ("I/N"),
 * "roi" (face|whole), "bootstrap" (0 or 2..200), "recapture" (0|1), "photometry"
 * (none|reference), "motion" (translation|euclidean|affine|homography), "iod" (px),
 * "px_per_mm", "images" (0|1), "report" (0|1), "resume" (0|1), "mdc" (FILE), "manifest",
 * "input_root", "command_line" (for run.json). SD_EINVAL with the reason in ctx for an unknown
 * name or a bad value. */
SD_API int  sd_run_opts_set(SdCtx *ctx, SdRunOpts *o, const char *name, const char *value);
/* The settings that follow from others, as the CLI applies them before a run: roi whole copied
 * into the alignment options and, without a px/mm, SD_WHOLE_DEFAULT_PX_PER_MM assumed
 * (px_per_mm_assumed = 1); jobs 0 = the online CPUs. */
SD_API void sd_run_opts_finish(SdRunOpts *o);

/* ---- one photo */

typedef struct SdMeasurement SdMeasurement;

/* Measure a photo (3 channels, planar SD_FMT_F32 in 0..1 or interleaved SD_FMT_U8, sRGB) as
 * `run` measures a baseline, with o's face, alignment and metric settings (o may be NULL: the
 * defaults; sd_run_opts_finish is applied to a copy). Returns 0 and *out, or SD_ENOFACE (no face;
 * unlike run, the photo is not tried in quarter turns), SD_EINVAL, SD_ENOMEM, SD_EIO (models). */
SD_API int  sd_measure_image(SdCtx *ctx, const SdImage *photo, const SdRunOpts *o, SdMeasurement **out);
/* The same from a file, loaded as run loads it (EXIF orientation, shrink-on-load of a large JPEG
 * whose face is above the canonical resolution). */
SD_API int  sd_measure_file(SdCtx *ctx, const char *path, const SdRunOpts *o, SdMeasurement **out);
/* sd_measure_file for a caller that writes files: with SD_MEASURE_KEEP_MAPS in flags the metric
 * maps (several float planes of the canonical frame) stay in the measurement, so that
 * sd_measurement_overlays does not compute them again; stage (may be NULL) gets the step that
 * failed, as in run's errors.csv: "load", "face", "frame", "regions" or "metrics". */
enum { SD_MEASURE_KEEP_MAPS = 1 };
SD_API int  sd_measure_file_ex(SdCtx *ctx, const char *path, const SdRunOpts *o, unsigned flags,
                               SdMeasurement **out, const char **stage);

/* A follow-up measured against its baseline as run does: registered onto base (qc gets the
 * figures and status; a `failed` pair is still measured, the caller decides), its exposure
 * matched by o->photometry, measured on base's regions restricted to what it covers and to its own
 * skin, on the pixels both images' maps measure; the baseline's values on those same pixels are
 * sd_measurement_paired's. base must come from sd_measure_image/file with the same options. */
SD_API int  sd_measure_followup(SdCtx *ctx, const SdMeasurement *base, const SdImage *photo,
                                const SdRunOpts *o, SdMeasurement **out, SdAlignQC *qc);
SD_API int  sd_measure_followup_file(SdCtx *ctx, const SdMeasurement *base, const char *path,
                                     const SdRunOpts *o, SdMeasurement **out, SdAlignQC *qc);

SD_API void sd_measurement_free(SdMeasurement *m);

/* Regions measured (13, or 1 for `whole`), their names (sd_region_names order) and the
 * SD_NMETRICS values of region r in sd_metric_info() order (NaN: region too small). */
SD_API int  sd_measurement_nregions(const SdMeasurement *m);
SD_API const char *sd_measurement_region(const SdMeasurement *m, int r);
SD_API const double *sd_measurement_values(const SdMeasurement *m, int r);
/* A follow-up's baseline values on the pair's region r (the same pixels as its own values: what
 * run's changes.csv compares against); NULL for a measurement that is not a follow-up. */
SD_API const double *sd_measurement_paired(const SdMeasurement *m, int r);
/* Pixels in region r's mask, and 1 when the region is mostly masked out (measured but flagged). */
SD_API long sd_measurement_area(const SdMeasurement *m, int r);
SD_API int  sd_measurement_warn(const SdMeasurement *m, int r);
/* Region r's mask in the canonical frame (r = -1: the skin mask), the canonical image (3 planes
 * F32, sRGB 0..1; a follow-up after photometry), its valid mask (1 where the photo covered the
 * pixel), the canonical px per mm, and the photo -> canonical transform. NULL when r is out of
 * range. Owned by m. */
SD_API const SdMask *sd_measurement_mask(const SdMeasurement *m, int r);
SD_API const SdImage *sd_measurement_image(const SdMeasurement *m);
SD_API const SdMask *sd_measurement_valid(const SdMeasurement *m);
SD_API double sd_measurement_px_per_mm(const SdMeasurement *m);
SD_API void sd_measurement_transform(const SdMeasurement *m, double out[9]);
/* Landmarks in canonical px (68 x,y pairs) and the detector's face score; 0 when the photo was
 * measured without a face (roi whole), else 1. */
SD_API int  sd_measurement_landmarks(const SdMeasurement *m, double xy[2 * SD_NLANDMARKS], double *score);
/* The photo's size in px: a file's after EXIF orientation and before shrink-on-load. */
SD_API void sd_measurement_photo_size(const SdMeasurement *m, int *w, int *h);
/* The image's quality flags, those run puts on a baseline's rows: more than 1% of the measured
 * skin clipped (a channel at 0.99+), and, for a photo measured on its face (not a follow-up), a
 * face box more than 10% outside the photo. Returns 0 (ok) or 1 (warn) with the reasons, "; "
 * separated, in reason (n bytes, may be 0; "" when ok). */
SD_API int  sd_measurement_qc(const SdMeasurement *m, char *reason, size_t n);
/* Overlays of the canonical image as masks of its size (indexed PNGs whose palette carries the
 * colour and the opacity, to lay over the image): the regions' fills and outlines with the skin
 * dimmed outside, and region 0's (face or whole) detected wrinkles and spots. Any path may be
 * NULL. */
SD_API int  sd_measurement_overlays(SdCtx *ctx, const SdMeasurement *m, const char *regions_png,
                                    const char *wrinkles_png, const char *spots_png);

#ifdef __cplusplus
}
#endif

#endif

/* The clinic report: OUT/report/index.html (cohort) and OUT/report/<patient>.html, rebuilt from
 * the files of a finished run (CSV outputs + aligned/ images), so `run`, `merge` and `report` share
 * it. Self-contained: images are copied as downscaled JPEGs into OUT/report/img/, no network, no
 * JavaScript. */
#ifndef SRC_REPORT_H
#define SRC_REPORT_H

#include "skindelta.h"

/* Write OUT/report/ from the run folder out_dir. Missing CSV files or images are reported in the
 * pages, not treated as errors; a malformed CSV is SD_EFORMAT, a folder holding none of the run's
 * files is SD_EIO. All files are written atomically. Thread-safe (no shared state). */
SD_API int sd_report_write(SdCtx *ctx, const char *out_dir);

#endif

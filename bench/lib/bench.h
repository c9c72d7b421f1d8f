/* Pipeline benchmark behind `skindelta bench --pipeline DIR`. */
#ifndef SRC_BENCH_PIPELINE_H
#define SRC_BENCH_PIPELINE_H
#include <stdio.h>
#include "skindelta/skindelta.h"
/* face_png: the sample face used to make the 24 MP pair when DIR has none. csv_path (may be NULL):
 * where the per-stage table (stage,ms,share) goes. Prints to f; the last line is exactly
 * `pipeline_to_decode_ratio=R pairs_per_minute_2cores=P`, the one before it
 * `nouncert_to_decode_ratio=R peak_rss_mb_per_worker=M effective_cores=C`. */
int sd_bench_pipeline(SdCtx *ctx, const char *dir, const char *face_png, const char *csv_path, FILE *f);
#endif

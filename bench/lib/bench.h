/* Pipeline benchmark behind `skindelta bench --pipeline DIR`. */
#ifndef SRC_BENCH_PIPELINE_H
#define SRC_BENCH_PIPELINE_H
#include <stdio.h>
#include "skindelta/skindelta.h"
/* face_png: the sample face used to make the 24 MP pair when DIR has none. Prints to f; the last
 * line is exactly `pipeline_to_decode_ratio=R pairs_per_minute_2cores=P`. */
int sd_bench_pipeline(SdCtx *ctx, const char *dir, const char *face_png, FILE *f);
#endif

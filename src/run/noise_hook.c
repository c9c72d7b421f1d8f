/* The runner's uncertainty per image: the calibrated noise model (include/skindelta/noise.h),
 * the optional bootstrap widening it, and the colour guard (noise_hook.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/run/noise_hook.h"
#include "src/core/core.h"

int sd__run_noise_open(SdCtx *ctx, const SdRunOpts *o, SdNoiseModel **m)
{
    *m = NULL;
    if (o->noise_model && !strcmp(o->noise_model, "none")) return 0;
    if (o->noise_model) return sd_noise_model_load(ctx, o->noise_model, m);
    if (sd_noise_model_load_default(ctx, m)) {
        fprintf(stderr, "skindelta: warning: %s; MDC95 and beyond_noise stay empty unless "
                "--bootstrap or --mdc gives them\n", ctx->errmsg);
        sd_clear_error(ctx);
        *m = NULL;
    }
    return 0;
}

void sd__run_noise_image(const SdAligned *al, const SdMask *skin, int jpeg_quality,
                         const char *chroma, double ecc, const SdNoiseImage *base, SdNoiseImage *out)
{
    memset(out, 0, sizeof(*out));
    sd_noise_image_stats(al, skin, out);
    out->jpeg_quality = jpeg_quality;
    out->subsampled = jpeg_quality > 0 && chroma && strcmp(chroma, "4:4:4") != 0;
    out->ecc = ecc;
    if (base) {
        out->is_followup = 1;
        out->base_quality = base->jpeg_quality;
        out->base_subsampled = base->subsampled;
        out->base_green = base->green;
        out->tone_ratio = sd_noise_tone_ratio(base, out);
    }
}

int sd__run_noise_sd(SdCtx *ctx, const SdNoiseModel *m, const SdAligned *al, const SdRegions *rg,
                     const SdNoiseImage *im, double (*boot)[SD_NMETRICS], double (*sd)[SD_NMETRICS],
                     const char *patient, const char *view, const char *session)
{
    const char *trace = getenv("SKINDELTA_NOISE_TRACE");
    for (int r = 0; r < rg->n; r++)
        for (int k = 0; k < SD_NMETRICS; k++) sd[r][k] = NAN;
    if (m || (trace && *trace)) {
        int err = sd_noise_predict_regions(ctx, m, al, rg, im, sd, trace, patient, view, session);
        if (err) return err;
    }
    if (boot)   /* the bootstrap widens the model's SD, never narrows it */
        for (int r = 0; r < rg->n; r++)
            for (int k = 0; k < SD_NMETRICS; k++)
                if (isfinite(boot[r][k]) && !(sd[r][k] >= boot[r][k])) sd[r][k] = boot[r][k];
    return 0;
}

int sd__run_colour_guard(const SdAligned *al, const SdMask *skin, char *why, size_t n)
{
    return sd_colour_guard(al, skin, why, n);
}

void sd__run_colour_blank(const SdRegions *rg, double (*val)[SD_NMETRICS])
{
    for (int k = 0; k < SD_NMETRICS; k++)
        if (sd_metric_is_colour(sd_metric_info(k)->id))
            for (int r = 0; r < rg->n; r++) val[r][k] = NAN;
}

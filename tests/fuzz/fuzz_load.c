/* Fuzz target: the image loader on arbitrary bytes (written to a temp file, since the loader's
 * contract is a path: EXIF, ICC and format sniffing all run as in production). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "skindelta/skindelta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static SdCtx ctx;
    static int init;
    static char path[64];
    if (!init) {
        sd_ctx_init(&ctx);
        if (sd_init(&ctx, "fuzz")) abort();
        snprintf(path, sizeof(path), "/tmp/sd_fuzz_load_%ld.img", (long)getpid());
        init = 1;
    }
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    SdLoadOpts o;
    sd_load_opts_default(&o);
    o.max_pixels = 4000000;   /* keep each run small; limits are part of what is tested */
    SdImage img;
    SdImageInfo info;
    if (sd_image_load(&ctx, path, &o, &img, &info) == 0) {
        if (img.w <= 0 || img.h <= 0 || img.c != 3) abort();
        volatile float acc = 0;
        for (int y = 0; y < img.h; y++) acc += sd_image_rowf(&img, 0, y)[img.w - 1];
        sd_image_free(&img);
    } else if (!ctx.errmsg[0]) {
        abort();   /* every failure must carry a message */
    }
    o.scale = 0.25;
    o.fmt = SD_FMT_U8;
    if (sd_image_load(&ctx, path, &o, &img, NULL) == 0) sd_image_free(&img);
    return 0;
}

/* Quarter turns of a photo, for a face the detector finds only when the photo is turned (a photo
 * taken sideways without an EXIF orientation tag). */
#include "src/run/run_int.h"
#include "src/core/core.h"

int sd__run_rotate_quarter(const SdImage *src, int k, SdImage *dst, SdTransform *R)
{
    const int W = src->w, H = src->h;
    const int dw = k == 2 ? W : H, dh = k == 2 ? H : W;
    int err = sd_image_create(dst, dw, dh, src->c, SD_FMT_F32);
    if (err) return err;
    for (int p = 0; p < src->c; p++)
        for (int y = 0; y < H; y++) {
            const float *s = sd_image_rowf(src, p, y);
            for (int x = 0; x < W; x++) {
                const int dx = k == 1 ? H - 1 - y : k == 2 ? W - 1 - x : y;
                const int dy = k == 1 ? x : k == 2 ? H - 1 - y : W - 1 - x;
                sd_image_rowf(dst, p, dy)[dx] = s[x];
            }
        }
    const SdTransform r[3] = {
        {{0, -1, H - 1, 1, 0, 0, 0, 0, 1}},
        {{-1, 0, W - 1, 0, -1, H - 1, 0, 0, 1}},
        {{0, 1, 0, -1, 0, W - 1, 0, 0, 1}},
    };
    *R = r[k - 1];
    return 0;
}

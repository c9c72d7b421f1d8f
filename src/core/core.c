/* Errors, the per-thread context, and the image/mask containers every stage passes around. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skindelta/skindelta.h"
#include "src/core/core.h"
#include "kernels/cpu.h"
#include "sd_version.h"

const char *sd_strerror(int err)
{
    switch (err) {
    case SD_OK:      return "success";
    case SD_EINVAL:  return "invalid argument";
    case SD_ENOMEM:  return "out of memory or size overflow";
    case SD_EIO:     return "input/output error";
    case SD_EFORMAT: return "malformed or unsupported file";
    case SD_ELIMIT:  return "input exceeds a configured limit";
    case SD_ENOFACE: return "no face found";
    case SD_EALIGN:  return "alignment failed";
    case SD_EDEP:    return "dependency error";
    }
    return "unknown error";
}

const char *sd_errname(int err)
{
    switch (err) {
    case SD_OK:      return "OK";
    case SD_EINVAL:  return "EINVAL";
    case SD_ENOMEM:  return "ENOMEM";
    case SD_EIO:     return "EIO";
    case SD_EFORMAT: return "EFORMAT";
    case SD_ELIMIT:  return "ELIMIT";
    case SD_ENOFACE: return "ENOFACE";
    case SD_EALIGN:  return "EALIGN";
    case SD_EDEP:    return "EDEP";
    }
    return "EUNKNOWN";
}

int sd_fail(SdCtx *ctx, int err, const char *fmt, ...)
{
    if (ctx) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ctx->errmsg, sizeof(ctx->errmsg), fmt, ap);
        va_end(ap);
    }
    return err;
}

void sd_clear_error(SdCtx *ctx)
{
    if (ctx) ctx->errmsg[0] = 0;
}

int sd_ctx_init(SdCtx *ctx)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->cpu_flags = sd_cpu_detect();
    const char *env = getenv("SKINDELTA_CPU");
    if (env && *env)
        return sd_ctx_set_cpu(ctx, env);
    return 0;
}

int sd_ctx_set_cpu(SdCtx *ctx, const char *level)
{
    const int want = sd_cpu_parse_level(level);
    if (want < 0)
        return sd_fail(ctx, SD_EINVAL, "unknown CPU level '%s' (use scalar, avx2 or avx512)", level);
    const unsigned have = sd_cpu_detect();
    if ((unsigned)want & ~have)
        return sd_fail(ctx, SD_EINVAL, "CPU level '%s' is not supported by this CPU (best: %s)",
                       level, sd_cpu_level_name(have));
    ctx->cpu_flags = (unsigned)want;
    return 0;
}

const char *sd_ctx_cpu_name(const SdCtx *ctx) { return sd_cpu_level_name(ctx->cpu_flags); }

const char *sd_version(void) { return SD_VERSION; }

static int image_create(SdImage *img, int w, int h, int c, enum sd_fmt fmt, int zero);

int sd_image_create(SdImage *img, int w, int h, int c, enum sd_fmt fmt)
{
    return image_create(img, w, h, c, fmt, 1);
}

/* For a caller that writes every pixel at once (the loader): no zeroing pass over a buffer that
 * is about to be overwritten (a 24 MP float photo is 288 MB); the row padding is still zeroed. */
int sd__image_create_nozero(SdImage *img, int w, int h, int c, enum sd_fmt fmt)
{
    return image_create(img, w, h, c, fmt, 0);
}

static int image_create(SdImage *img, int w, int h, int c, enum sd_fmt fmt, int zero)
{
    memset(img, 0, sizeof(*img));
    if (w <= 0 || h <= 0 || (c != 1 && c != 3 && c != 4) || w > (1 << 20) || h > (1 << 20))
        return SD_EINVAL;
    const size_t bpp = fmt == SD_FMT_F32 ? sizeof(float) : (size_t)c;
    size_t row, stride, plane, total;
    if (sd_mul_overflow(bpp, (size_t)w, &row))
        return SD_ENOMEM;
    stride = (row + SD_ROW_ALIGN - 1) & ~(size_t)(SD_ROW_ALIGN - 1);
    if (sd_mul_overflow(stride, (size_t)h, &plane))
        return SD_ENOMEM;
    if (sd_mul_overflow(plane, fmt == SD_FMT_F32 ? (size_t)c : 1, &total))
        return SD_ENOMEM;
    void *p = sd_alloc_aligned(total + SD_ROW_ALIGN);  /* slack: SIMD tails may read one vector past */
    if (!p)
        return SD_ENOMEM;
    if (zero) {
        memset(p, 0, total + SD_ROW_ALIGN);
    } else {
        const size_t used = (size_t)w * bpp, planes = fmt == SD_FMT_F32 ? (size_t)c : 1;
        for (size_t r = 0; r < planes * (size_t)h; r++)
            memset((uint8_t *)p + r * stride + used, 0, stride - used);
        memset((uint8_t *)p + total, 0, SD_ROW_ALIGN);
    }
    img->w = w; img->h = h; img->c = c; img->fmt = fmt;
    img->stride = (ptrdiff_t)stride;
    img->plane_bytes = fmt == SD_FMT_F32 ? plane : 0;
    img->data = p;
    return 0;
}

void sd_image_free(SdImage *img)
{
    if (!img) return;
    if (!img->borrowed)
        sd_free_aligned(img->data);
    memset(img, 0, sizeof(*img));
}

int sd_image_copy(const SdImage *src, SdImage *dst)
{
    return sd_image_crop(src, 0, 0, src->w, src->h, dst);
}

int sd_image_crop(const SdImage *src, int x, int y, int w, int h, SdImage *dst)
{
    int x1 = x + w, y1 = y + h;
    if (x < 0) x = 0;
    if (y < 0) y = 0;
    if (x1 > src->w) x1 = src->w;
    if (y1 > src->h) y1 = src->h;
    if (x1 <= x || y1 <= y)
        return SD_EINVAL;
    int err = sd_image_create(dst, x1 - x, y1 - y, src->c, src->fmt);
    if (err) return err;
    if (src->fmt == SD_FMT_F32) {
        for (int p = 0; p < src->c; p++)
            for (int r = 0; r < dst->h; r++)
                memcpy(sd_image_rowf(dst, p, r), sd_image_rowf(src, p, y + r) + x,
                       sizeof(float) * (size_t)dst->w);
    } else {
        for (int r = 0; r < dst->h; r++)
            memcpy(sd_image_row8(dst, r), sd_image_row8(src, y + r) + (size_t)x * src->c,
                   (size_t)dst->w * src->c);
    }
    return 0;
}

int sd_image_to_f32(const SdImage *src, SdImage *dst)
{
    if (src->fmt == SD_FMT_F32)
        return sd_image_copy(src, dst);
    int err = sd_image_create(dst, src->w, src->h, src->c, SD_FMT_F32);
    if (err) return err;
    for (int y = 0; y < src->h; y++) {
        const uint8_t *s = sd_image_row8(src, y);
        for (int p = 0; p < src->c; p++) {
            float *d = sd_image_rowf(dst, p, y);
            for (int x = 0; x < src->w; x++)
                d[x] = s[x * src->c + p] * (1.0f / 255.0f);
        }
    }
    return 0;
}

int sd_image_to_u8(const SdImage *src, SdImage *dst)
{
    if (src->fmt == SD_FMT_U8)
        return sd_image_copy(src, dst);
    int err = sd_image_create(dst, src->w, src->h, src->c, SD_FMT_U8);
    if (err) return err;
    for (int y = 0; y < src->h; y++) {
        uint8_t *d = sd_image_row8(dst, y);
        for (int p = 0; p < src->c; p++) {
            const float *s = sd_image_rowf(src, p, y);
            for (int x = 0; x < src->w; x++) {
                float v = s[x] * 255.0f + 0.5f;
                d[x * src->c + p] = v <= 0.0f ? 0 : v >= 255.0f ? 255 : (uint8_t)v;
            }
        }
    }
    return 0;
}

int sd_image_luma(const SdImage *src, SdImage *dst)
{
    if (src->fmt != SD_FMT_F32 || src->c < 3)
        return SD_EINVAL;
    int err = sd_image_create(dst, src->w, src->h, 1, SD_FMT_F32);
    if (err) return err;
    for (int y = 0; y < src->h; y++) {
        const float *r = sd_image_rowf(src, 0, y), *g = sd_image_rowf(src, 1, y),
                    *b = sd_image_rowf(src, 2, y);
        float *d = sd_image_rowf(dst, 0, y);
        for (int x = 0; x < src->w; x++)
            d[x] = 0.2126f * r[x] + 0.7152f * g[x] + 0.0722f * b[x];
    }
    return 0;
}

int sd_mask_create(SdMask *m, int w, int h)
{
    memset(m, 0, sizeof(*m));
    if (w <= 0 || h <= 0 || w > (1 << 20) || h > (1 << 20))
        return SD_EINVAL;
    size_t stride = ((size_t)w + SD_ROW_ALIGN - 1) & ~(size_t)(SD_ROW_ALIGN - 1), total;
    if (sd_mul_overflow(stride, (size_t)h, &total))
        return SD_ENOMEM;
    m->data = sd_alloc_aligned(total + SD_ROW_ALIGN);
    if (!m->data)
        return SD_ENOMEM;
    memset(m->data, 0, total + SD_ROW_ALIGN);
    m->w = w; m->h = h; m->stride = (ptrdiff_t)stride;
    return 0;
}

void sd_mask_free(SdMask *m)
{
    if (!m) return;
    sd_free_aligned(m->data);
    memset(m, 0, sizeof(*m));
}

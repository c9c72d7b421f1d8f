/* Loads the converted face models (SDNN float32 containers, format in models/README.md) once per
 * process and resolves every tensor the networks need by name and shape. */
#include "src/face/face_int.h"

#include <cblas.h>
#include <limits.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/core/core.h"

#define SDNN_MAGIC "SDNN"
#define SDNN_VERSION 1u
#define SDNN_NAME_LEN 40
#define SDNN_ENTRY 64
#define SDNN_MAX_BYTES (16u << 20)

#define DET_FILE "tiny_face_detector.f32.bin"
#define LM_FILE "face_landmark_68.f32.bin"
#define LMT_FILE "face_landmark_68_tiny.f32.bin"

typedef struct Blob {
    const char *path;
    char *raw;            /* file bytes */
    size_t n;
    uint32_t ntensors, data_off;
    float *data;          /* aligned copy of the tensor data */
    size_t nfloats;
} Blob;

/* The once-initialised, afterwards read-only, model cache. */
static struct {
    pthread_once_t once;
    int err;
    char msg[SD_ERRMSG_MAX];
    SdFaceModels m;
    float *data[3];
} g_cache = { .once = PTHREAD_ONCE_INIT };

static uint32_t rd32(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return (uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 | (uint32_t)u[3] << 24;
}

static int blob_open(SdCtx *ctx, Blob *b, const char *path)
{
    memset(b, 0, sizeof(*b));
    b->path = path;
    int err = sd_read_file(path, SDNN_MAX_BYTES, &b->raw, &b->n);
    if (err)
        return sd_fail(ctx, err, "%s: cannot read face model", path);
    if (b->n < 16 || memcmp(b->raw, SDNN_MAGIC, 4) || rd32(b->raw + 4) != SDNN_VERSION)
        return sd_fail(ctx, SD_EFORMAT, "%s: not an SDNN v1 model file", path);
    b->ntensors = rd32(b->raw + 8);
    b->data_off = rd32(b->raw + 12);
    if (b->ntensors == 0 || b->ntensors > 1024 || b->data_off < 16 + SDNN_ENTRY * b->ntensors ||
        b->data_off > b->n || (b->n - b->data_off) % 4)
        return sd_fail(ctx, SD_EFORMAT, "%s: corrupt model header", path);
    b->nfloats = (b->n - b->data_off) / 4;
    b->data = aligned_alloc(64, (b->nfloats * sizeof(float) + 63) / 64 * 64 + 64);
    if (!b->data)
        return sd_fail(ctx, SD_ENOMEM, "%s: out of memory", path);
    for (size_t i = 0; i < b->nfloats; i++) {   /* little-endian on disk, portable read */
        uint32_t u = rd32(b->raw + b->data_off + 4 * i);
        memcpy(&b->data[i], &u, 4);
    }
    return 0;
}

/* Tensor `name` with exactly the given shape (ndim dims), or NULL with ctx set. */
static const float *blob_get(SdCtx *ctx, const Blob *b, const char *name, int ndim, const int *dims)
{
    for (uint32_t i = 0; i < b->ntensors; i++) {
        const char *e = b->raw + 16 + (size_t)SDNN_ENTRY * i;
        if (strnlen(e, SDNN_NAME_LEN) == SDNN_NAME_LEN || strcmp(e, name))
            continue;
        const uint32_t nd = rd32(e + SDNN_NAME_LEN);
        size_t count = 1;
        int ok = nd == (uint32_t)ndim;
        for (int d = 0; ok && d < ndim; d++) {
            const uint32_t v = rd32(e + SDNN_NAME_LEN + 4 + 4 * d);
            ok = v == (uint32_t)dims[d];
            count *= v;
        }
        const uint32_t off = rd32(e + SDNN_NAME_LEN + 20);
        if (!ok || off > b->nfloats || count > b->nfloats - off) {
            sd_fail(ctx, SD_EFORMAT, "%s: tensor %s has an unexpected shape or offset", b->path, name);
            return NULL;
        }
        return b->data + off;
    }
    sd_fail(ctx, SD_EFORMAT, "%s: tensor %s is missing", b->path, name);
    return NULL;
}

static int get_sep(SdCtx *ctx, const Blob *b, const char *prefix, int cin, int cout, SdSepConv *s)
{
    char name[64];
    const int dwd[4] = {3, 3, cin, 1}, pwd[4] = {1, 1, cin, cout}, bd[1] = {cout};
    snprintf(name, sizeof(name), "%s/depthwise_filter", prefix);
    s->dw = blob_get(ctx, b, name, 4, dwd);
    snprintf(name, sizeof(name), "%s/pointwise_filter", prefix);
    s->pw = blob_get(ctx, b, name, 4, pwd);
    snprintf(name, sizeof(name), "%s/bias", prefix);
    s->bias = blob_get(ctx, b, name, 1, bd);
    s->cin = cin;
    s->cout = cout;
    return s->dw && s->pw && s->bias ? 0 : SD_EFORMAT;
}

static int load_det(SdCtx *ctx, const Blob *b, SdDetNet *n)
{
    const int c0f[4] = {3, 3, 3, 16}, c0b[1] = {16}, c8f[4] = {1, 1, 512, 25}, c8b[1] = {25};
    n->conv0_f = blob_get(ctx, b, "conv0/filters", 4, c0f);
    n->conv0_b = blob_get(ctx, b, "conv0/bias", 1, c0b);
    n->conv8_f = blob_get(ctx, b, "conv8/filters", 4, c8f);
    n->conv8_b = blob_get(ctx, b, "conv8/bias", 1, c8b);
    if (!n->conv0_f || !n->conv0_b || !n->conv8_f || !n->conv8_b)
        return SD_EFORMAT;
    for (int i = 0, c = 16; i < 5; i++, c *= 2) {
        char p[16];
        snprintf(p, sizeof(p), "conv%d", i + 1);
        if (get_sep(ctx, b, p, c, 2 * c, &n->sep[i]))
            return SD_EFORMAT;
    }
    return 0;
}

static int load_lm(SdCtx *ctx, const Blob *b, int nblocks, int nconv, SdLmNet *n)
{
    const int c0f[4] = {3, 3, 3, 32}, c0b[1] = {32};
    n->nblocks = nblocks;
    n->nconv = nconv;
    n->conv0_f = blob_get(ctx, b, "dense0/conv0/filters", 4, c0f);
    n->conv0_b = blob_get(ctx, b, "dense0/conv0/bias", 1, c0b);
    if (!n->conv0_f || !n->conv0_b)
        return SD_EFORMAT;
    int cin = 3;
    for (int k = 0; k < nblocks; k++) {
        const int cout = 32 << k;
        for (int j = 0; j < nconv; j++) {
            char p[32];
            if (k == 0 && j == 0)
                continue;
            snprintf(p, sizeof(p), "dense%d/conv%d", k, j);
            if (get_sep(ctx, b, p, j == 0 ? cin : cout, cout, &n->conv[k][j]))
                return SD_EFORMAT;
        }
        cin = cout;
    }
    const int fw[2] = {cin, 136}, fb[1] = {136};
    n->fc_in = cin;
    n->fc_w = blob_get(ctx, b, "fc/weights", 2, fw);
    n->fc_b = blob_get(ctx, b, "fc/bias", 1, fb);
    return n->fc_w && n->fc_b ? 0 : SD_EFORMAT;
}

/* The models folder: where sd_model_file finds the detector. */
static int find_dir(char *out, size_t n)
{
    if (sd_model_file(DET_FILE, out, n)) return SD_EIO;
    char *slash = strrchr(out, '/');
    if (slash) *slash = 0;
    return 0;
}

static void load_once(void)
{
    /* Parallelism is across images (the batch runs several in threads); OpenBLAS threads inside
     * each small sgemm would only contend, and one thread keeps results deterministic. */
    openblas_set_num_threads(1);
    SdCtx ctx = {0};
    Blob b[3] = {{0}};
    char dir[sizeof(g_cache.m.dir)];
    char *path[3] = {0};
    const char *files[3] = {DET_FILE, LM_FILE, LMT_FILE};
    int err = find_dir(dir, sizeof(dir));
    if (err) {
        const char *env = getenv("SKINDELTA_MODELS");
        err = sd_fail(&ctx, SD_EIO, "face models (%s) not found in %s%s; set SKINDELTA_MODELS "
                      "to the models folder", DET_FILE, env && *env ? env : "./models or beside "
                      "the executable", env && *env ? " (SKINDELTA_MODELS)" : "");
        goto fail;
    }
    for (int i = 0; i < 3; i++) {
        if (!(path[i] = sd_path_join(dir, files[i]))) {
            err = sd_fail(&ctx, SD_ENOMEM, "out of memory");
            goto fail;
        }
        if ((err = blob_open(&ctx, &b[i], path[i])))
            goto fail;
    }
    if ((err = load_det(&ctx, &b[0], &g_cache.m.det)) ||
        (err = load_lm(&ctx, &b[1], 4, 4, &g_cache.m.lm)) ||
        (err = load_lm(&ctx, &b[2], 3, 3, &g_cache.m.lm_tiny)))
        goto fail;
    memcpy(g_cache.m.dir, dir, sizeof(g_cache.m.dir));
    for (int i = 0; i < 3; i++) {
        g_cache.data[i] = b[i].data;   /* kept for the life of the process */
        b[i].data = NULL;
    }
fail:
    for (int i = 0; i < 3; i++) {
        free(b[i].raw);
        free(b[i].data);
        free(path[i]);
    }
    g_cache.err = err;
    if (err)
        snprintf(g_cache.msg, sizeof(g_cache.msg), "%s", ctx.errmsg);
}

int sd__face_models(SdCtx *ctx, const SdFaceModels **out)
{
    *out = NULL;
    pthread_once(&g_cache.once, load_once);
    if (g_cache.err)
        return sd_fail(ctx, g_cache.err, "%s", g_cache.msg);
    *out = &g_cache.m;
    return 0;
}

float *sd__face_falloc(size_t n)
{
    size_t bytes;
    if (sd_mul_overflow(n, sizeof(float), &bytes) || bytes > SIZE_MAX - 128)
        return NULL;
    return aligned_alloc(64, (bytes + 63) / 64 * 64 + 64);
}

int sd__face_check_image(SdCtx *ctx, const SdImage *img)
{
    if (!img || !img->data || img->w < 1 || img->h < 1 || (img->c != 1 && img->c != 3) ||
        (img->fmt != SD_FMT_F32 && img->fmt != SD_FMT_U8))
        return sd_fail(ctx, SD_EINVAL, "face: need a 1- or 3-channel F32 or U8 image");
    return 0;
}

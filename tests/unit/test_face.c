/* Face stage: conformance with the package's own outputs (tests/data/face), a known transform,
 * no-face inputs, a face cut by the border, and landmark stability across detector sizes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/face.h"
#include "src/skindelta.h"
#include "src/util.h"
#include "tests/lib/test.h"

static const char *face_path(const char *name)
{
    static char buf[8][1024];
    static int k;
    char *b = buf[k++ & 7];
    snprintf(b, 1024, "%s/face/%s", sd_test_data_dir(), name);
    return b;
}

/* Numbers of the JSON array that follows "key": (nested brackets flattened), up to max. */
static int json_numbers(const char *text, const char *key, double *out, int max)
{
    char pat[64];
    snprintf(pat, sizeof(pat), "\"%s\":", key);
    const char *p = strstr(text, pat);
    if (!p)
        return -1;
    p += strlen(pat);
    int depth = 0, n = 0;
    while (*p) {
        if (*p == '[') { depth++; p++; continue; }
        if (*p == ']') { if (--depth <= 0) break; p++; continue; }
        if (*p == ',' || *p == ' ') { p++; continue; }
        char *end;
        double v = strtod(p, &end);
        if (end == p)
            break;
        if (n < max)
            out[n] = v;
        n++;
        p = end;
        if (depth == 0)
            break;
    }
    return n;
}

static char *read_text(const char *name)
{
    char *data = NULL;
    size_t n;
    if (sd_read_file(face_path(name), 1 << 22, &data, &n))
        return NULL;
    return data;
}

static int load_u8(const char *name, SdImage *img)
{
    SdCtx ctx;
    SdLoadOpts lo;
    sd_ctx_init(&ctx);
    sd_load_opts_default(&lo);
    lo.fmt = SD_FMT_U8;
    int err = sd_image_load(&ctx, face_path(name), &lo, img, NULL);
    if (err)
        fprintf(stderr, "load %s: %s\n", name, ctx.errmsg);
    return err;
}

static const char *const STEMS[2] = {"astronaut", "astronaut_moved"};

static void test_detector_raw(void)
{
    for (int k = 0; k < 2; k++) {
        SdCtx ctx;
        SdImage img;
        char name[128];
        sd_ctx_init(&ctx);
        CHECK(!load_u8(k ? "astronaut_moved.png" : "astronaut.png", &img));
        snprintf(name, sizeof(name), "%s_512x512_416_det_raw.json", STEMS[k]);
        char *txt = read_text(name);
        CHECK(txt != NULL);
        if (!txt) { sd_image_free(&img); continue; }
        static double ref[13 * 13 * 25];
        float raw[13 * 13 * 25];
        CHECK_EQ_INT(json_numbers(txt, "data", ref, 13 * 13 * 25), 13 * 13 * 25);
        int err = sd_face_detector_raw(&ctx, &img, 416, raw);
        CHECKF(!err, "detector: %s", ctx.errmsg);
        double maxd = 0;
        for (int i = 0; i < 13 * 13 * 25; i++)
            maxd = fmax(maxd, fabs(raw[i] - ref[i]));
        printf("  %s conv8 max |diff| %.3g\n", STEMS[k], maxd);
        CHECKF(maxd <= 1e-3, "%s: conv8 differs by %g", STEMS[k], maxd);
        free(txt);
        sd_image_free(&img);
    }
}

static void test_compat_boxes_landmarks(void)
{
    for (int k = 0; k < 2; k++) {
        SdCtx ctx;
        SdImage img;
        char name[128];
        sd_ctx_init(&ctx);
        CHECK(!load_u8(k ? "astronaut_moved.png" : "astronaut.png", &img));
        snprintf(name, sizeof(name), "%s_512x512_416_wasm.json", STEMS[k]);
        char *txt = read_text(name);
        snprintf(name, sizeof(name), "%s_512x512_face0_lm_raw.json", STEMS[k]);
        char *rtxt = read_text(name);
        CHECK(txt && rtxt);
        if (!txt || !rtxt) { free(txt); free(rtxt); sd_image_free(&img); continue; }
        double box[4], score, lm[136], lmt[136], raw[136], rawt[136];
        CHECK_EQ_INT(json_numbers(txt, "box", box, 4), 4);
        CHECK_EQ_INT(json_numbers(txt, "score", &score, 1), 1);
        CHECK_EQ_INT(json_numbers(txt, "landmarks68", lm, 136), 136);
        CHECK_EQ_INT(json_numbers(txt, "landmarks68tiny", lmt, 136), 136);
        CHECK_EQ_INT(json_numbers(rtxt, "lm68_raw", raw, 136), 136);
        CHECK_EQ_INT(json_numbers(rtxt, "lm68tiny_raw", rawt, 136), 136);

        SdFaceOpts o = { .input_sizes = {416}, .compat = 1 };
        SdFaces faces;
        int err = sd_face_detect(&ctx, &img, &o, &faces);
        CHECKF(!err, "detect: %s", ctx.errmsg);
        if (err) { free(txt); free(rtxt); sd_image_free(&img); continue; }
        CHECK_EQ_INT(faces.n, 1);
        const SdFace *f = &faces.face[0];
        printf("  %s box %.3f %.3f %.3f %.3f score %.4f (ref %.2f %.2f %.2f %.2f %.4f)\n",
               STEMS[k], f->x, f->y, f->w, f->h, f->score, box[0], box[1], box[2], box[3], score);
        /* the reference is rounded to 0.01 px (score to 1e-4) */
        CHECK_NEAR(f->x, box[0], 0.05);
        CHECK_NEAR(f->y, box[1], 0.05);
        CHECK_NEAR(f->w, box[2], 0.05);
        CHECK_NEAR(f->h, box[3], 0.05);
        CHECK_NEAR(f->score, score, 1e-4);

        float out[136];
        double md = 0, mdt = 0;
        CHECK(!sd_face_landmarks_raw(&ctx, &img, f, 0, out));
        for (int i = 0; i < 136; i++) md = fmax(md, fabs(out[i] - raw[i]));
        CHECK(!sd_face_landmarks_raw(&ctx, &img, f, 1, out));
        for (int i = 0; i < 136; i++) mdt = fmax(mdt, fabs(out[i] - rawt[i]));
        printf("  %s landmark raw max |diff| full %.3g tiny %.3g\n", STEMS[k], md, mdt);
        CHECKF(md <= 1e-4, "landmark raw differs by %g", md);
        CHECKF(mdt <= 1e-4, "tiny landmark raw differs by %g", mdt);

        SdLandmarks L;
        double mp = 0, mpt = 0;
        CHECK(!sd_face_landmarks_opts(&ctx, &img, f, &o, &L));
        for (int i = 0; i < 68; i++)
            mp = fmax(mp, fmax(fabs(L.pt[i].x - lm[2 * i]), fabs(L.pt[i].y - lm[2 * i + 1])));
        o.tiny_landmarks = 1;
        CHECK(!sd_face_landmarks_opts(&ctx, &img, f, &o, &L));
        for (int i = 0; i < 68; i++)
            mpt = fmax(mpt, fmax(fabs(L.pt[i].x - lmt[2 * i]), fabs(L.pt[i].y - lmt[2 * i + 1])));
        printf("  %s landmarks max |diff| full %.4f px tiny %.4f px\n", STEMS[k], mp, mpt);
        CHECKF(mp <= 0.05, "landmarks differ by %g px", mp);
        CHECKF(mpt <= 0.05, "tiny landmarks differ by %g px", mpt);
        free(txt);
        free(rtxt);
        sd_image_free(&img);
    }
}

static const SdTestCase cases[] = {
    {"detector_raw_conformance", test_detector_raw},
    {"compat_boxes_landmarks", test_compat_boxes_landmarks},
};
SD_TEST_MAIN(cases)

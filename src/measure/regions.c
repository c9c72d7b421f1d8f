/* Skin mask and anatomical regions in the canonical frame from the template models/regions.json
 * (landmark-anchored polygons), colour tests for hair, background and glare, minimum-area flags. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "skindelta/regions.h"
#include "src/align/align_int.h"
#include "src/core/core.h"
#include "kernels/ops.h"

const char *const sd_region_names[SD_NREGIONS] = {
    "face", "forehead", "glabella", "crowsfeet_l", "crowsfeet_r", "undereye_l", "undereye_r",
    "cheek_l", "cheek_r", "nasolabial_l", "nasolabial_r", "perioral", "chin",
};

/* ---- template */

#define MAXV 64
typedef struct Poly {
    int n;
    int idx[MAXV][4], nidx[MAXV];
    double dx[MAXV], dy[MAXV];
    double grow;
} Poly;

typedef struct Template {
    double min_frac, min_mm2;
    Poly outline;
    Poly holes[16];
    int nholes;
    Poly region[SD_NREGIONS];
    int region_is_skin[SD_NREGIONS];
} Template;

static int parse_poly(const SdJson *a, Poly *p)
{
    if (!a || a->type != SD_JSON_ARR || a->n < 3 || a->n > MAXV) return -1;
    p->n = a->n;
    for (int i = 0; i < a->n; i++) {
        const SdJson *v = &a->items[i];
        if (v->type != SD_JSON_ARR || v->n != 3 || v->items[0].type != SD_JSON_ARR || v->items[0].n < 1 ||
            v->items[0].n > 4 || v->items[1].type != SD_JSON_NUM || v->items[2].type != SD_JSON_NUM)
            return -1;
        p->nidx[i] = v->items[0].n;
        for (int k = 0; k < v->items[0].n; k++) {
            const SdJson *ix = &v->items[0].items[k];
            if (ix->type != SD_JSON_NUM || ix->num < 0 || ix->num >= SD_NLANDMARKS) return -1;
            p->idx[i][k] = (int)ix->num;
        }
        p->dx[i] = v->items[1].num;
        p->dy[i] = v->items[2].num;
    }
    return 0;
}

static int load_template(SdCtx *ctx, Template *t)
{
    char path[PATH_MAX + 64];
    memset(t, 0, sizeof(*t));
    if (sd_model_file("regions.json", path, sizeof(path)))
        return sd_fail(ctx, SD_EIO, "regions template models/regions.json not found (set SKINDELTA_MODELS)");
    SdJson root;
    int err = sd__json_load(ctx, path, 1 << 20, &root);
    if (err) return err;
    int bad = 0;
    const SdJson *skin = sd__json_get(&root, "skin"), *regs = sd__json_get(&root, "regions");
    const SdJson *mf = sd__json_get(&root, "min_area_frac"), *mm = sd__json_get(&root, "min_area_mm2");
    const SdJson *holes = sd__json_get(skin, "holes");
    if (bad || !skin || !regs || regs->type != SD_JSON_ARR || regs->n != SD_NREGIONS ||
        parse_poly(sd__json_get(skin, "outline"), &t->outline) || !holes || holes->type != SD_JSON_ARR || holes->n > 16)
        bad = 1;
    t->min_frac = mf && mf->type == SD_JSON_NUM ? mf->num : 0.4;
    t->min_mm2 = mm && mm->type == SD_JSON_NUM ? mm->num : 40;
    for (int i = 0; !bad && i < holes->n; i++) {
        const SdJson *g = sd__json_get(&holes->items[i], "grow");
        if (parse_poly(sd__json_get(&holes->items[i], "poly"), &t->holes[i])) bad = 1;
        t->holes[i].grow = g && g->type == SD_JSON_NUM ? g->num : 0;
    }
    if (!bad) t->nholes = holes->n;
    for (int i = 0; !bad && i < SD_NREGIONS; i++) {
        const SdJson *id = sd__json_get(&regs->items[i], "id"), *poly = sd__json_get(&regs->items[i], "poly");
        if (!id || id->type != SD_JSON_STR || strcmp(id->str, sd_region_names[i]) || !poly) { bad = 1; break; }
        if (poly->type == SD_JSON_STR && !strcmp(poly->str, "skin"))
            t->region_is_skin[i] = 1;
        else if (parse_poly(poly, &t->region[i]))
            bad = 1;
    }
    sd__json_free(&root);
    if (bad)
        return sd_fail(ctx, SD_EFORMAT, "%s: not a valid region template (13 regions in the order "
                       "of DESIGN.md §4, vertices [[landmarks], dx, dy])", path);
    return 0;
}

/* Face axes from the eye centres. */
static void face_axes(const SdLandmarks *lm, double ax[2], double ay[2], double *iod)
{
    double lx = 0, ly = 0, rx = 0, ry = 0;
    for (int i = 36; i < 42; i++) { lx += lm->pt[i].x / 6; ly += lm->pt[i].y / 6; }
    for (int i = 42; i < 48; i++) { rx += lm->pt[i].x / 6; ry += lm->pt[i].y / 6; }
    const double d = hypot(rx - lx, ry - ly);
    *iod = d;
    ax[0] = d > 0 ? (rx - lx) / d : 1;
    ax[1] = d > 0 ? (ry - ly) / d : 0;
    ay[0] = -ax[1];
    ay[1] = ax[0];
}

static int poly_points(const Poly *p, const SdLandmarks *lm, SdPoint *out)
{
    double ax[2], ay[2], iod;
    face_axes(lm, ax, ay, &iod);
    double cx = 0, cy = 0;
    for (int i = 0; i < p->n; i++) {
        double x = 0, y = 0;
        for (int k = 0; k < p->nidx[i]; k++) { x += lm->pt[p->idx[i][k]].x; y += lm->pt[p->idx[i][k]].y; }
        x /= p->nidx[i];
        y /= p->nidx[i];
        x += iod * (p->dx[i] * ax[0] + p->dy[i] * ay[0]);
        y += iod * (p->dx[i] * ax[1] + p->dy[i] * ay[1]);
        out[i].x = (float)x;
        out[i].y = (float)y;
        cx += x / p->n;
        cy += y / p->n;
    }
    if (p->grow != 0)
        for (int i = 0; i < p->n; i++) {
            const double vx = out[i].x - cx, vy = out[i].y - cy, d = hypot(vx, vy);
            if (d > 0) {
                out[i].x = (float)(out[i].x + vx / d * p->grow * iod);
                out[i].y = (float)(out[i].y + vy / d * p->grow * iod);
            }
        }
    return p->n;
}

static int skin_from_template(const Template *t, const SdLandmarks *lm, int w, int h, SdMask *out)
{
    int err = sd_mask_create(out, w, h);
    if (err) return err;
    SdPoint pts[MAXV];
    int n = poly_points(&t->outline, lm, pts);
    sd__mask_fill_poly(out, pts, n, 1);
    for (int i = 0; i < t->nholes; i++) {
        n = poly_points(&t->holes[i], lm, pts);
        sd__mask_fill_poly(out, pts, n, 0);
    }
    return 0;
}

int sd_regions_skin_geom(const SdLandmarks *lm, double iod, int w, int h, SdMask *out)
{
    (void)iod;   /* the template scales with the landmarks' own IOD */
    SdCtx ctx = {0};
    Template *t = malloc(sizeof(*t));
    if (!t) return SD_ENOMEM;
    int err = load_template(&ctx, t);
    if (!err) err = skin_from_template(t, lm, w, h, out);
    free(t);
    return err;
}

static int hair_test(SdCtx *ctx, const SdImage *img, const SdMask *ref, double ppm, const SdMask *skin, SdMask *hair);

/* ---- colour tests: drop hair, background, shadows and specular glare from the skin mask */

static int colour_tests(SdCtx *ctx, const SdImage *img, const Template *t, const SdLandmarks *lm, double ppm,
                        SdMask *skin, SdMask *hair)
{
    const int w = img->w, h = img->h;
    /* reference skin colour: medians of chromaticity and luma over the cheeks (regions 7, 8) */
    SdMask ref = {0};
    if (sd_mask_create(&ref, w, h)) return sd_fail(ctx, SD_ENOMEM, "regions: out of memory");
    SdPoint pts[MAXV];
    for (int r = 7; r <= 8; r++) {
        const int n = poly_points(&t->region[r], lm, pts);
        sd__mask_fill_poly(&ref, pts, n, 1);
    }
    enum { NB = 256 };
    long hr[NB] = {0}, hg[NB] = {0}, hl[NB] = {0}, cnt = 0;
    for (int y = 0; y < h; y += 2) {
        const float *R = sd_image_rowf(img, 0, y), *G = sd_image_rowf(img, 1, y), *B = sd_image_rowf(img, 2, y);
        const uint8_t *m = ref.data + (size_t)y * ref.stride, *s = skin->data + (size_t)y * skin->stride;
        for (int x = 0; x < w; x += 2) {
            if (!m[x] || !s[x]) continue;
            const float sum = R[x] + G[x] + B[x];
            if (sum < 0.05f) continue;
            hr[(int)fminf(NB - 1, R[x] / sum * NB)]++;
            hg[(int)fminf(NB - 1, G[x] / sum * NB)]++;
            hl[(int)fminf(NB - 1, sum / 3 * NB)]++;
            cnt++;
        }
    }
    int err = hair_test(ctx, img, &ref, ppm, skin, hair);
    sd_mask_free(&ref);
    if (err || cnt < 50) return err;
    double med[3];
    long *hs[3] = { hr, hg, hl };
    for (int k = 0; k < 3; k++) {
        long acc = 0;
        int b = 0;
        while (b < NB - 1 && (acc += hs[k][b]) < cnt / 2) b++;
        med[k] = (b + 0.5) / NB;
    }
    for (int y = 0; y < h; y++) {
        const float *R = sd_image_rowf(img, 0, y), *G = sd_image_rowf(img, 1, y), *B = sd_image_rowf(img, 2, y);
        uint8_t *s = skin->data + (size_t)y * skin->stride;
        const uint8_t *hm = hair->data + (size_t)y * hair->stride;
        for (int x = 0; x < w; x++) {
            if (!s[x]) continue;
            const float sum = R[x] + G[x] + B[x], l = sum / 3;
            const float mx = fmaxf(R[x], fmaxf(G[x], B[x]));
            const int glare = mx >= 0.985f || l > fminf(0.97f, (float)(1.7 * med[2]));
            const int dark = l < 0.40 * med[2];
            const int hue = sum > 0 && (fabs(R[x] / sum - med[0]) > 0.07 || fabs(G[x] / sum - med[1]) > 0.05);
            if (glare || dark || hue || hm[x]) s[x] = 0;
        }
    }
    return 0;
}

/* ---- hair: thin dark structures

 * A hair strand over skin is a line far darker than its surroundings and far thinner than any
 * spot: its log-luma minus its 0.3 mm Gaussian surround (its "thin darkness") sits several times
 * lower than anything the skin shows at that scale, wrinkles and pores included. The level is
 * learned per image from the core skin (the cheeks): a pixel is hair where its thin darkness is
 * below the cheeks' median by more than max(hair_abs, hair_k robust SDs), grown into the strand's
 * weaker flanks (below half that level, within 0.2 mm of a seed) and then by 0.15 mm, the halo the
 * optics and JPEG leave around it. */
#define HAIR_SURROUND_MM 0.3
#define HAIR_ABS 0.10      /* log of sRGB-encoded luma: ~0.23 in linear light */
#define HAIR_K 8.0
#define HAIR_GROW_MM 0.2
#define HAIR_HALO_MM 0.35
#define HAIR_MIN_LEN_MM 1.5

/* The median of v[0..n) (reorders v; Hoare's selection). */
static double select_median(float *v, long n)
{
    long lo = 0, hi = n - 1, k = n / 2;
    while (lo < hi) {
        const float p = v[lo + (hi - lo) / 2];
        long i = lo, j = hi;
        while (i <= j) {
            while (v[i] < p) i++;
            while (v[j] > p) j--;
            if (i <= j) {
                const float t = v[i];
                v[i++] = v[j];
                v[j--] = t;
            }
        }
        if (k <= j) hi = j;
        else if (k >= i) lo = i;
        else break;
    }
    return v[k];
}

/* Dilate m's set pixels by a square of radius r (rows y0..y1 and the whole width). */
static int dilate(SdMask *m, int r)
{
    if (r < 1)
        return 0;
    const size_t n = (size_t)m->stride * (size_t)m->h;
    for (size_t i = 0; i < n; i++) m->data[i] = !m->data[i];
    int err = sd__mask_erode_ex(m, r, 1);
    for (size_t i = 0; i < n; i++) m->data[i] = !m->data[i];
    return err;
}

/* Keep the seed components (8-connected, inside the box) shaped like strands: at least min_len
 * px across their bounding box and thin (pixels <= 4 x that diagonal), or long (4 x min_len
 * across: strands that cross or join a fringe); pores, freckles and speckle are not hair. */
static int keep_strands(SdMask *m, int x0, int y0, int w, int h, double min_len)
{
    int32_t *stack = malloc(sizeof(int32_t) * 2 * ((size_t)w * (size_t)h + 1));
    int32_t *comp = malloc(sizeof(int32_t) * 2 * ((size_t)w * (size_t)h + 1));
    if (!stack || !comp) {
        free(stack);
        free(comp);
        return SD_ENOMEM;
    }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = m->data + (size_t)(y + y0) * m->stride + (size_t)(x + x0);
            if (*p != 1)
                continue;
            /* flood the component, marking it 2 */
            long ns = 0, nc = 0;
            int bx0 = x, bx1 = x, by0 = y, by1 = y;
            *p = 2;
            stack[ns++] = x; stack[ns++] = y;
            while (ns) {
                const int cy = stack[--ns], cx = stack[--ns];
                comp[nc++] = cx; comp[nc++] = cy;
                if (cx < bx0) bx0 = cx;
                if (cx > bx1) bx1 = cx;
                if (cy < by0) by0 = cy;
                if (cy > by1) by1 = cy;
                for (int dy = -1; dy <= 1; dy++)
                    for (int dx = -1; dx <= 1; dx++) {
                        const int nx = cx + dx, ny = cy + dy;
                        if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
                        uint8_t *q = m->data + (size_t)(ny + y0) * m->stride + (size_t)(nx + x0);
                        if (*q != 1) continue;
                        *q = 2;
                        stack[ns++] = nx; stack[ns++] = ny;
                    }
            }
            const double diag = hypot(bx1 - bx0 + 1, by1 - by0 + 1);
            const int keep = diag >= 4.0 * min_len || (diag >= min_len && (double)(nc / 2) <= 4.0 * diag);
            for (long i = 0; i < nc; i += 2)
                m->data[(size_t)(comp[i + 1] + y0) * m->stride + (size_t)(comp[i] + x0)] = keep ? 3 : 0;
        }
    for (int y = 0; y < h; y++) {
        uint8_t *p = m->data + (size_t)(y + y0) * m->stride + (size_t)x0;
        for (int x = 0; x < w; x++) p[x] = p[x] == 3;
    }
    free(stack);
    free(comp);
    return 0;
}

static int hair_test(SdCtx *ctx, const SdImage *img, const SdMask *ref, double ppm, const SdMask *skin, SdMask *hair)
{
    const int W = img->w, H = img->h;
    int x0 = W, x1 = -1, y0 = H, y1 = -1;
    for (int y = 0; y < H; y++) {
        const uint8_t *s = skin->data + (size_t)y * skin->stride;
        for (int x = 0; x < W; x++)
            if (s[x]) {
                if (x < x0) x0 = x;
                if (x > x1) x1 = x;
                if (y < y0) y0 = y;
                y1 = y;
            }
    }
    if (x1 < 0 || !(ppm > 0))
        return 0;
    const int pad = (int)ceil(4 * HAIR_SURROUND_MM * ppm) + 2;
    x0 = x0 - pad < 0 ? 0 : x0 - pad;
    y0 = y0 - pad < 0 ? 0 : y0 - pad;
    x1 = x1 + pad > W - 1 ? W - 1 : x1 + pad;
    y1 = y1 + pad > H - 1 ? H - 1 : y1 + pad;
    const int w = x1 - x0 + 1, h = y1 - y0 + 1;
    const ptrdiff_t fs = (ptrdiff_t)(((size_t)w * sizeof(float) + 63) & ~(size_t)63);
    float *L = sd_alloc_aligned((size_t)fs * (size_t)h + 64), *G = sd_alloc_aligned((size_t)fs * (size_t)h + 64);
    float *v = malloc(sizeof(float) * ((size_t)w * (size_t)h / 4 + 1));
    SdMask seed = { 0 };
    int err = 0;
    if (!L || !G || !v || sd_mask_create(&seed, W, H)) {
        err = sd_fail(ctx, SD_ENOMEM, "regions: out of memory");
        goto done;
    }
    for (int y = 0; y < h; y++) {
        const float *R = sd_image_rowf(img, 0, y + y0) + x0, *Gr = sd_image_rowf(img, 1, y + y0) + x0,
                    *B = sd_image_rowf(img, 2, y + y0) + x0;
        float *l = (float *)((uint8_t *)L + (size_t)y * (size_t)fs);
        for (int x = 0; x < w; x++)
            l[x] = logf(fmaxf(0.2126f * R[x] + 0.7152f * Gr[x] + 0.0722f * B[x], 1e-3f));
    }
    if ((err = sd_op_gauss(ctx, L, fs, G, fs, w, h, (float)(HAIR_SURROUND_MM * ppm))))
        goto done;
    /* thin darkness into L; its robust centre and spread over the core skin */
    long k = 0;
    for (int y = 0; y < h; y++) {
        float *l = (float *)((uint8_t *)L + (size_t)y * (size_t)fs);
        const float *g = (const float *)((const uint8_t *)G + (size_t)y * (size_t)fs);
        const uint8_t *m = ref->data + (size_t)(y + y0) * ref->stride + x0;
        for (int x = 0; x < w; x++) {
            l[x] -= g[x];
            if (m[x] && !((x | y) & 1)) v[k++] = l[x];
        }
    }
    if (k < 50)
        goto done;
    const double med = select_median(v, k);
    for (long i = 0; i < k; i++)
        v[i] = fabsf(v[i] - (float)med);
    const double sig = 1.4826 * select_median(v, k);
    const double t_hi = med - fmax(HAIR_ABS, HAIR_K * sig), t_lo = med - 0.5 * fmax(HAIR_ABS, HAIR_K * sig);
    for (int y = 0; y < h; y++) {
        const float *l = (const float *)((const uint8_t *)L + (size_t)y * (size_t)fs);
        uint8_t *d = seed.data + (size_t)(y + y0) * seed.stride + x0;
        for (int x = 0; x < w; x++)
            d[x] = l[x] < t_hi;
    }
    if ((err = keep_strands(&seed, x0, y0, w, h, HAIR_MIN_LEN_MM * ppm)))
        goto done;
    if ((err = dilate(&seed, (int)lround(HAIR_GROW_MM * ppm))))
        goto done;
    for (int y = 0; y < h; y++) {
        const float *l = (const float *)((const uint8_t *)L + (size_t)y * (size_t)fs);
        uint8_t *d = seed.data + (size_t)(y + y0) * seed.stride + x0;
        for (int x = 0; x < w; x++)
            d[x] = d[x] && l[x] < t_lo;
    }
    if ((err = dilate(&seed, (int)lround(HAIR_HALO_MM * ppm) > 0 ? (int)lround(HAIR_HALO_MM * ppm) : 1)))
        goto done;
    for (int y = y0; y <= y1; y++) {
        uint8_t *o = hair->data + (size_t)y * hair->stride;
        const uint8_t *d = seed.data + (size_t)y * seed.stride;
        for (int x = x0; x <= x1; x++)
            o[x] |= d[x];
    }
done:
    sd_free_aligned(L);
    sd_free_aligned(G);
    free(v);
    sd_mask_free(&seed);
    return err;
}

/* ---- build */

void sd_regions_free(SdRegions *r)
{
    if (!r) return;
    for (int i = 0; i < SD_NREGIONS; i++) sd_mask_free(&r->mask[i]);
    sd_mask_free(&r->skin);
    sd_mask_free(&r->metrics_valid);
    memset(r, 0, sizeof(*r));
}

/* m &= b on rows [y0, y1] (the rows m can be set on). */
static void and_rows(SdMask *m, const SdMask *b, int y0, int y1)
{
    for (int y = y0; y <= y1; y++) {
        uint8_t *r = m->data + (size_t)y * m->stride;
        const uint8_t *s = b->data + (size_t)y * b->stride;
        for (int x = 0; x < m->w; x++) r[x] = r[x] && s[x];
    }
}

static void and_mask(SdMask *m, const SdMask *b)
{
    and_rows(m, b, 0, m->h - 1);
}

static long count_rows(const SdMask *m, int y0, int y1)
{
    long n = 0;
    for (int y = y0; y <= y1; y++) {
        const uint8_t *row = m->data + (size_t)y * m->stride;
        for (int x = 0; x < m->w; x++) n += row[x] != 0;
    }
    return n;
}

/* The rows sd__mask_fill_poly can set for this polygon (the rest of a new mask stays 0): the
 * counts and the skin intersection of a region need only those. */
static void poly_rows(const SdPoint *pts, int n, int h, int *y0, int *y1)
{
    float ymin = n > 0 ? pts[0].y : 0, ymax = n > 0 ? pts[0].y : -1;
    for (int i = 1; i < n; i++) {
        if (pts[i].y < ymin) ymin = pts[i].y;
        if (pts[i].y > ymax) ymax = pts[i].y;
    }
    *y0 = n >= 3 && ceil(ymin) > 0 ? (int)ceil(ymin) : 0;
    *y1 = n >= 3 && floor(ymax) < h - 1 ? (int)floor(ymax) : h - 1;
    if (n < 3) *y1 = -1;
}

static int build(SdCtx *ctx, const SdAligned *a, const SdRegions *a_rg, const SdAligned *fu,
                 const SdMask *restrict_valid, SdRegions *out)
{
    SdMask s2 = {0};
    memset(out, 0, sizeof(*out));
    if (!a || !a->img.data || a->img.c < 3 ||
        (restrict_valid && (restrict_valid->w != a->img.w || restrict_valid->h != a->img.h)))
        return sd_fail(ctx, SD_EINVAL, "regions: need an aligned RGB image (and a matching mask)");
    const int w = a->img.w, h = a->img.h;
    out->px_per_mm = a->px_per_mm;
    int err = 0;
    Template *t = NULL;
    if (a->roi_whole || !a->has_lm) {
        out->n = 1;
        out->name[0] = "whole";
        if ((err = sd_mask_create(&out->skin, w, h)) || (err = sd_mask_create(&out->mask[0], w, h)))
            goto fail;
        for (int y = 0; y < h; y++)
            memcpy(out->skin.data + (size_t)y * out->skin.stride, a->valid.data + (size_t)y * a->valid.stride, (size_t)w);
        out->poly_area[0] = (long)w * h;
        if (restrict_valid) and_mask(&out->skin, restrict_valid);
        /* the part both images see, minus a margin against border effects */
        if ((err = sd__mask_erode(&out->skin, (int)lround(0.01 * (w < h ? w : h)) + 4))) goto fail;
        for (int y = 0; y < h; y++)
            memcpy(out->mask[0].data + (size_t)y * out->mask[0].stride, out->skin.data + (size_t)y * out->skin.stride, (size_t)w);
        out->area[0] = sd__mask_count(&out->mask[0]);
        out->warn[0] = out->area[0] < 0.4 * out->poly_area[0];
        return 0;
    }
    t = malloc(sizeof(*t));
    if (!t) { err = sd_fail(ctx, SD_ENOMEM, "out of memory"); goto fail; }
    if ((err = load_template(ctx, t))) goto fail;
    if ((err = skin_from_template(t, &a->lm, w, h, &out->skin))) goto fail;
    if (fu) {   /* the template's skin, for the follow-up's own tests */
        if ((err = sd_mask_create(&s2, w, h))) goto fail;
        memcpy(s2.data, out->skin.data, (size_t)s2.stride * (size_t)h);
    }
    and_mask(&out->skin, &a->valid);
    if ((err = sd_mask_create(&out->metrics_valid, w, h))) goto fail;
    {
        SdMask hair = {0};
        if ((err = sd_mask_create(&hair, w, h))) goto fail;
        if (a_rg && fu)   /* the baseline's skin as its own regions found it (the same tests) */
            for (int y = 0; y < h; y++)
                memcpy(out->skin.data + (size_t)y * out->skin.stride, a_rg->skin.data + (size_t)y * a_rg->skin.stride,
                       (size_t)w);
        else
            err = colour_tests(ctx, &a->img, t, &a->lm, a->px_per_mm, &out->skin, &hair);
        if (!err && fu) {   /* the follow-up's own skin tests, on its pixels in the same frame */
            memset(hair.data, 0, (size_t)hair.stride * (size_t)h);
            if (!(err = colour_tests(ctx, &fu->img, t, &a->lm, a->px_per_mm, &s2, &hair)))
                and_mask(&out->skin, &s2);
        }
        /* the measured image's valid pixels minus its own hair */
        const SdMask *v = fu ? &fu->valid : &a->valid;
        for (int y = 0; !err && y < h; y++) {
            uint8_t *o = out->metrics_valid.data + (size_t)y * out->metrics_valid.stride;
            const uint8_t *vv = v->data + (size_t)y * v->stride, *hh = hair.data + (size_t)y * hair.stride;
            for (int x = 0; x < w; x++) o[x] = vv[x] && !hh[x];
        }
        sd_mask_free(&hair);
        if (err) goto fail;
    }
    if (restrict_valid) and_mask(&out->skin, restrict_valid);
    out->n = SD_NREGIONS;
    const double mm2 = a->px_per_mm > 0 ? a->px_per_mm * a->px_per_mm : 0;
    for (int r = 0; r < SD_NREGIONS; r++) {
        out->name[r] = sd_region_names[r];
        SdMask *m = &out->mask[r];
        if ((err = sd_mask_create(m, w, h))) goto fail;
        if (t->region_is_skin[r]) {
            SdMask g = {0};
            if ((err = skin_from_template(t, &a->lm, w, h, &g))) goto fail;
            out->poly_area[r] = sd__mask_count(&g);
            sd_mask_free(&g);
            for (int y = 0; y < h; y++)
                memcpy(m->data + (size_t)y * m->stride, out->skin.data + (size_t)y * out->skin.stride, (size_t)w);
        } else {
            SdPoint pts[MAXV];
            const int n = poly_points(&t->region[r], &a->lm, pts);
            sd__mask_fill_poly(m, pts, n, 1);
            int y0, y1;
            poly_rows(pts, n, h, &y0, &y1);
            out->poly_area[r] = count_rows(m, y0, y1);
            and_rows(m, &out->skin, y0, y1);
            out->area[r] = count_rows(m, y0, y1);
        }
        if (t->region_is_skin[r]) out->area[r] = sd__mask_count(m);
        out->warn[r] = out->area[r] < t->min_frac * out->poly_area[r] ||
                       (mm2 > 0 && out->area[r] < t->min_mm2 * mm2);
    }
    free(t);
    sd_mask_free(&s2);
    return 0;
fail:
    free(t);
    sd_mask_free(&s2);
    sd_regions_free(out);
    return err;
}

const SdMask *sd_regions_metrics_valid(const SdRegions *r, const SdAligned *a)
{
    return r && r->metrics_valid.data ? &r->metrics_valid : &a->valid;
}

int sd_regions_build(SdCtx *ctx, const SdAligned *a, const SdMask *restrict_valid, SdRegions *out)
{
    return build(ctx, a, NULL, NULL, restrict_valid, out);
}

int sd_regions_build_followup(SdCtx *ctx, const SdAligned *base, const SdRegions *base_rg, const SdAligned *fu,
                              SdRegions *out)
{
    if (!fu || !fu->img.data || fu->img.w != base->img.w || fu->img.h != base->img.h)
        return sd_fail(ctx, SD_EINVAL, "regions: the follow-up is not in the baseline's frame");
    if (base_rg && (base_rg->n != SD_NREGIONS || !base_rg->skin.data || base_rg->skin.w != base->img.w ||
                    base_rg->skin.h != base->img.h))
        base_rg = NULL;   /* (roi whole, or not the baseline's: its tests are run again) */
    return build(ctx, base, base_rg, fu, &fu->valid, out);
}

/* ---- overlay */

static const uint8_t palette[SD_NREGIONS][3] = {
    { 255, 255, 255 }, { 230, 159, 0 }, { 86, 180, 233 }, { 0, 158, 115 }, { 0, 158, 115 },
    { 240, 228, 66 }, { 240, 228, 66 }, { 0, 114, 178 }, { 0, 114, 178 }, { 213, 94, 0 },
    { 213, 94, 0 }, { 204, 121, 167 }, { 150, 150, 255 },
};

int sd_region_colour(const char *name, uint8_t rgb[3])
{
    int i = -1;
    for (int k = 0; k < SD_NREGIONS; k++)
        if (!strcmp(sd_region_names[k], name)) i = k;
    if (!strcmp(name, "whole")) i = 0;
    if (i < 0) return -1;
    memcpy(rgb, palette[i], 3);
    return 0;
}

int sd_regions_overlay(SdCtx *ctx, const SdImage *img, const SdRegions *r, const char *path)
{
    SdImage u8 = {0};
    int err = sd_image_to_u8(img, &u8);
    if (err) return sd_fail(ctx, err, "%s: out of memory", path);
    const int w = u8.w, h = u8.h, c = u8.c;
    if (c < 3) { sd_image_free(&u8); return sd_fail(ctx, SD_EINVAL, "%s: overlay needs RGB", path); }
    for (int y = 0; y < h; y++) {
        uint8_t *p = sd_image_row8(&u8, y);
        const uint8_t *s = r->skin.data ? r->skin.data + (size_t)y * r->skin.stride : NULL;
        for (int x = 0; x < w; x++) {
            if (s && !s[x])
                for (int k = 0; k < 3; k++) p[x * c + k] = (uint8_t)(p[x * c + k] / 2);
            for (int i = r->n > 1 ? 1 : 0; i < r->n; i++) {
                const uint8_t *m = r->mask[i].data + (size_t)y * r->mask[i].stride;
                if (!m[x]) continue;
                const int edge = x == 0 || y == 0 || x == w - 1 || y == h - 1 || !m[x - 1] || !m[x + 1] ||
                                 !m[x - r->mask[i].stride] || !m[x + r->mask[i].stride];
                const uint8_t *col = palette[r->n > 1 ? i : 0];
                for (int k = 0; k < 3; k++)
                    p[x * c + k] = edge ? col[k] : (uint8_t)((p[x * c + k] * 3 + col[k]) / 4);
            }
        }
    }
    err = sd_image_save(ctx, &u8, path, 90);
    sd_image_free(&u8);
    return err;
}

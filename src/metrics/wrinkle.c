/* Wrinkles: multi-scale Hessian dark-valley response on the shading log-luminance, orientation
 * prior per region, hysteresis relative to the region's response noise, skeleton, length filter. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/ops.h"
#include "kernels/skinmap.h"
#include "src/metrics/metrics_int.h"
#include "src/core/core.h"

/* Rows per band of the multi-scale pass: the band's derivative and eigen rows stay in cache
 * between the kernels (a multiple of 4, the vertical filter's block, keeps the rows identical to
 * whole-plane filtering). */
#define SD_WR_BAND 16

/* Folds and shading edges: on the shading log-luminance reduced 4x (block means), the coarse
 * scale's largest Hessian eigenvalue x sigma^2 (a broad dark valley: a fold) and gradient x sigma
 * (a shading edge: face outline, nose side, jaw, a fold's lit flank). Scale-normalised as the fine
 * scales are, so a fold reads higher at the coarse scale than at the fine ones, and a fine line
 * lower. */
static int fold_map(SdCtx *ctx, SdMetricsState *st, const float *ls)
{
    const int w4 = (st->w + 3) / 4, h4 = (st->h + 3) / 4;
    const ptrdiff_t fs4 = (ptrdiff_t)(((size_t)w4 * sizeof(float) + SD_ROW_ALIGN - 1) & ~(size_t)(SD_ROW_ALIGN - 1));
    const size_t plane = (size_t)fs4 * (size_t)h4;
    float *red = sd_alloc_aligned(plane + SD_ROW_ALIGN), *d = sd_alloc_aligned(5 * plane + SD_ROW_ALIGN);
    float *out = sd_alloc_aligned(2 * plane + SD_ROW_ALIGN);
    int err = 0;
    if (!red || !d || !out) {
        err = sd_fail(ctx, SD_ENOMEM, "metrics: out of memory");
        goto done;
    }
    for (int y = 0; y < h4; y++) {
        float *r = (float *)((uint8_t *)red + (size_t)y * (size_t)fs4);
        for (int x = 0; x < w4; x++) {
            double s = 0;
            int n = 0;
            for (int j = 4 * y; j < 4 * y + 4 && j < st->h; j++) {
                const float *row = (const float *)((const uint8_t *)ls + (size_t)j * (size_t)st->fs);
                for (int i = 4 * x; i < 4 * x + 4 && i < st->w; i++, n++)
                    s += row[i];
            }
            r[x] = (float)(s / n);
        }
    }
    double sg = st->o.wr_fold_mm * st->ppm / 4.0;
    if (sg < 0.5) sg = 0.5;
    if (sg > 64) sg = 64;
    SdDerivOut o = { .ix = d, .iy = (float *)((uint8_t *)d + plane), .ixx = (float *)((uint8_t *)d + 2 * plane),
                     .ixy = (float *)((uint8_t *)d + 3 * plane), .iyy = (float *)((uint8_t *)d + 4 * plane) };
    if ((err = sd_op_gauss_deriv(ctx, red, fs4, &o, fs4, w4, h4, (float)sg)))
        goto done;
    for (int y = 0; y < h4; y++) {
        const size_t off = (size_t)y * (size_t)fs4;
        const float *ix = (const float *)((const uint8_t *)o.ix + off), *iy = (const float *)((const uint8_t *)o.iy + off),
                    *xx = (const float *)((const uint8_t *)o.ixx + off), *xy = (const float *)((const uint8_t *)o.ixy + off),
                    *yy = (const float *)((const uint8_t *)o.iyy + off);
        float *v = (float *)((uint8_t *)out + off), *g = (float *)((uint8_t *)out + plane + off);
        for (int x = 0; x < w4; x++) {
            const double a = 0.5 * (xx[x] + yy[x]), b = 0.5 * (xx[x] - yy[x]);
            v[x] = (float)(sg * sg * (a + sqrt(b * b + (double)xy[x] * xy[x])));
            g[x] = (float)(sg * sqrt((double)ix[x] * ix[x] + (double)iy[x] * iy[x]));
        }
    }
    st->fold = out;
    st->w4 = w4;
    st->h4 = h4;
    st->fs4 = fs4;
    out = NULL;
done:
    sd_free_aligned(red);
    sd_free_aligned(d);
    sd_free_aligned(out);
    return err;
}

int sd__mx_wrinkle_map(SdCtx *ctx, SdMetricsState *st, const float *ls, float *tmp)
{
    int err = 0;
    const int w = st->w, h = st->h;
    const ptrdiff_t bs = st->fs;
    const SdSkinmapDSP *dsp = sd_skinmap_dsp(ctx->cpu_flags);
    if (st->o.wr_fold_mm > 0 && (err = fold_map(ctx, st, ls)))
        return err;
    float *band = sd_alloc_aligned((size_t)bs * SD_WR_BAND * 8);
    if (!band)
        return sd_fail(ctx, SD_ENOMEM, "metrics: out of memory");
    float *ixx = band, *ixy = sd__mx_row(st, band, SD_WR_BAND), *iyy = sd__mx_row(st, band, 2 * SD_WR_BAND),
          *ka = sd__mx_row(st, band, 3 * SD_WR_BAND), *kb = sd__mx_row(st, band, 4 * SD_WR_BAND),
          *kc = sd__mx_row(st, band, 5 * SD_WR_BAND), *l1 = sd__mx_row(st, band, 6 * SD_WR_BAND),
          *l2 = sd__mx_row(st, band, 7 * SD_WR_BAND);
    /* the per-pixel maximum over the scales goes to tmp (the line integral's source); the
     * winning scale's scaled Hessian (ka, kb, kc) gives the line angle once at the end */
    for (int y0 = 0; y0 < h; y0 += SD_WR_BAND) {
        const int nb = h - y0 < SD_WR_BAND ? h - y0 : SD_WR_BAND;
        for (int k = 0; k < st->o.wr_nscales; k++) {
            double s = st->o.wr_sigma_mm[k] * st->ppm;
            if (s < 0.5) s = 0.5;
            if (s > 64.0) s = 64.0;
            SdDerivOut d = { .ixx = ixx, .ixy = ixy, .iyy = iyy };
            if ((err = sd_op_gauss_deriv_rows(ctx, ls, st->fs, &d, bs, w, h, y0, nb, (float)s)))
                goto done;
            /* signed valley measure sign(l2) (|l2| - |l1|) of the sigma^2-scaled Hessian: blobs
             * (|l1| ~ |l2|) give ~0, dark valleys (l2 > 0 across the line) are positive, bright
             * ridges negative */
            dsp->ridge_keep(sd__mx_row(st, tmp, y0), ka, kb, kc, bs, ixx, ixy, iyy, bs, w, nb,
                            (float)s * (float)s, k == 0);
        }
        if ((err = sd_op_hessian_eig(ctx, ka, kb, kc, bs, l1, l2, sd__mx_row(st, st->theta, y0), bs, w, nb,
                                     1.0f)))
            goto done;
    }
    /* line integral: average the response along each pixel's own line direction over
     * +-wr_line_mm. Lines keep their response, isotropic texture noise averages down. */
    const int ns = 4;
    dsp->line_mean(st->ridge, st->fs, tmp, st->fs, w, h, st->theta, st->fs, 0, h,
                   (float)(st->o.wr_line_mm * st->ppm / ns), ns);
done:
    sd_free_aligned(band);
    return err;
}

/* Zhang & Suen (1984) thinning of m (w x h, 1 = set) in place; pixels on the box border are
 * treated as having background outside. Bit-parallel: the mask is packed 64 pixels to a word
 * (padded by one pixel on every side), and each sub-pass decides a whole word at once from its
 * eight shifted neighbour words: B = number of set neighbours in 2..6 (at least two set and at
 * least two clear), A = one 0->1 transition around the ring (exactly one of the eight
 * transition bits), and the sub-pass's two "not all three of" conditions. A word is examined
 * again by a sub-pass only when a pixel in it or in one of the 8 neighbouring words was deleted
 * since that sub-pass last examined it (otherwise its verdict "keep" is unchanged): the same
 * deletions, pass by pass, as examining every pixel every time. */

/* 8 bytes as a little-endian word and back (one load / store on the usual targets). */
static inline uint64_t load8(const uint8_t *p)
{
    uint64_t v = 0;
    for (int k = 7; k >= 0; k--)
        v = v << 8 | p[k];
    return v;
}

static inline void store8(uint8_t *p, uint64_t v)
{
    for (int k = 0; k < 8; k++)
        p[k] = (uint8_t)(v >> (8 * k));
}

/* Any nonzero byte among p[0..7]. */
static inline int any8(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof(v));
    return v != 0;
}

/* At least two of the eight words have the bit set, per bit. */
static inline uint64_t two_of8(const uint64_t v[8])
{
    uint64_t one = 0, two = 0;
    for (int k = 0; k < 8; k++) {
        two |= one & v[k];
        one |= v[k];
    }
    return two;
}

/* The pixels of word c (row above u, below d; l and r the words left and right of each) that
 * sub-pass `pass` deletes. */
static inline uint64_t zs_word(const uint64_t u[3], const uint64_t c[3], const uint64_t d[3], int pass)
{
    /* neighbour k of bit i: N, NE, E, SE, S, SW, W, NW (bit i+1 is the pixel to the right) */
    uint64_t nb[8], nn[8], t[8];
    nb[0] = u[1];
    nb[1] = u[1] >> 1 | u[2] << 63;
    nb[2] = c[1] >> 1 | c[2] << 63;
    nb[3] = d[1] >> 1 | d[2] << 63;
    nb[4] = d[1];
    nb[5] = d[1] << 1 | d[0] >> 63;
    nb[6] = c[1] << 1 | c[0] >> 63;
    nb[7] = u[1] << 1 | u[0] >> 63;
    for (int k = 0; k < 8; k++) {
        nn[k] = ~nb[k];
        t[k] = nn[k] & nb[(k + 1) & 7];
    }
    uint64_t one = 0;
    for (int k = 0; k < 8; k++)
        one |= t[k];
    const uint64_t ok = c[1] & two_of8(nb) & two_of8(nn) & one & ~two_of8(t);
    if (pass == 0)
        return ok & ~(nb[0] & nb[2] & nb[4]) & ~(nb[2] & nb[4] & nb[6]);
    return ok & ~(nb[0] & nb[2] & nb[6]) & ~(nb[0] & nb[4] & nb[6]);
}

static int thin(uint8_t *m, int w, int h)
{
    /* nw words per row (pixel x is bit x + 1 of the row); rows of P = nw + 2 words with a zero
     * word on each side, and a zero row above and below: every word has its 8 neighbours */
    const int nw = (w + 2 + 63) / 64, P = nw + 2;
    size_t nwords;
    if (sd_mul_overflow((size_t)P, (size_t)h + 2, &nwords))
        return SD_ENOMEM;
    uint64_t *b = calloc(nwords, sizeof(*b)), *del = malloc(nwords * sizeof(*del));
    size_t *at = malloc(nwords * sizeof(*at));
    uint8_t *dirty = malloc(nwords);   /* bit p: sub-pass p must examine the word */
    int err = SD_ENOMEM;
    if (!b || !del || !at || !dirty)
        goto done;
    for (int y = 0; y < h; y++) {
        const uint8_t *row = m + (size_t)y * (size_t)w;
        uint64_t *br = b + (size_t)(y + 1) * (size_t)P + 1;
        int x = 0;
        for (; x + 8 <= w; x += 8) {
            /* 8 pixels -> 8 bits (bytes made 0/1, then the multiply gathers byte k's bit at bit
             * 56 + k without carries) */
            uint64_t v = load8(row + x);
            v = (((v & 0x7f7f7f7f7f7f7f7fu) + 0x7f7f7f7f7f7f7f7fu) | v) >> 7 & 0x0101010101010101u;
            const uint64_t bits = v * 0x0102040810204080u >> 56;
            const int sh = (x + 1) & 63;
            br[(x + 1) >> 6] |= bits << sh;
            if (sh > 56)
                br[((x + 1) >> 6) + 1] |= bits >> (64 - sh);
        }
        for (; x < w; x++)
            br[(x + 1) >> 6] |= (uint64_t)(row[x] != 0) << ((x + 1) & 63);
    }
    memset(dirty, 3, nwords);
    int idle = 0;   /* consecutive sub-passes without a deletion */
    for (int pass = 0; idle < 2; pass ^= 1) {
        const uint8_t bit = (uint8_t)(1u << pass);
        size_t nd = 0;
        for (int y = 1; y <= h; y++) {
            const size_t q0 = (size_t)y * (size_t)P;
            for (int j = 1; j <= nw; j++) {
                const size_t q = q0 + (size_t)j;
                if (!(dirty[q] & bit))
                    continue;
                dirty[q] &= (uint8_t)~bit;
                if (!b[q])
                    continue;
                const uint64_t *cr = b + q, *up = cr - P, *dn = cr + P;
                const uint64_t u[3] = { up[-1], up[0], up[1] }, c[3] = { cr[-1], cr[0], cr[1] },
                               d[3] = { dn[-1], dn[0], dn[1] };
                const uint64_t z = zs_word(u, c, d, pass);
                if (z) {
                    del[nd] = z;
                    at[nd++] = q;
                }
            }
        }
        /* delete all at once (the sub-pass decided on the mask as it was), then both sub-passes
         * examine the words around each change again */
        for (size_t i = 0; i < nd; i++)
            b[at[i]] &= ~del[i];
        for (size_t i = 0; i < nd; i++) {   /* (marks on the padding are never read) */
            uint8_t *dq = dirty + at[i];
            dq[-P - 1] = dq[-P] = dq[-P + 1] = dq[-1] = dq[0] = dq[1] = dq[P - 1] = dq[P] = dq[P + 1] = 3;
        }
        idle = nd ? 0 : idle + 1;
    }
    for (int y = 0; y < h; y++) {
        uint8_t *row = m + (size_t)y * (size_t)w;
        const uint64_t *br = b + (size_t)(y + 1) * (size_t)P + 1;
        int x = 0;
        for (; x + 8 <= w; x += 8) {
            /* 8 bits -> 8 bytes 0/1 (byte k keeps bit k of the copies, then is made 0/1) */
            const int sh = (x + 1) & 63;
            uint64_t bits = br[(x + 1) >> 6] >> sh;
            if (sh > 56)
                bits |= br[((x + 1) >> 6) + 1] << (64 - sh);
            uint64_t v = (bits & 0xffu) * 0x0101010101010101u & 0x8040201008040201u;
            v = (v + 0x7f7f7f7f7f7f7f7fu) >> 7 & 0x0101010101010101u;
            store8(row + x, v);
        }
        for (; x < w; x++)
            row[x] = (uint8_t)(br[(x + 1) >> 6] >> ((x + 1) & 63) & 1u);
    }
    err = 0;
done:
    free(b); free(del); free(at); free(dirty);
    return err;
}

/* Preferred line direction per region (radians, image coordinates, y down); returns 0 = none,
 * 1 = fixed angle, 2 = radial from (ax, ay). */
static int region_prior(const SdMxRegion *r, const char *name, double *ang, double *ax, double *ay)
{
    if (!name)
        return 0;
    if (!strcmp(name, "forehead")) {
        *ang = 0.0;
        return 1;
    }
    if (!strcmp(name, "glabella")) {
        *ang = M_PI / 2;
        return 1;
    }
    int left = !strcmp(name, "crowsfeet_l"), right = !strcmp(name, "crowsfeet_r");
    if (!left && !right)
        return 0;
    /* the lateral canthus sits on the region's medial edge: subject's left (_l) is image right, so
     * its medial edge is the box's left side; vertically at the region's centroid */
    double sy = 0;
    long n = 0;
    for (int y = 0; y < r->h; y++)
        for (int x = 0; x < r->w; x++)
            if (r->in[(size_t)y * (size_t)r->w + (size_t)x]) {
                sy += y;
                n++;
            }
    *ay = n ? sy / (double)n : r->h / 2.0;
    *ax = left ? 0.0 : (double)(r->w - 1);
    return 2;
}

int sd__mx_wrinkles(SdCtx *ctx, const SdMetricsState *st, const SdMxRegion *r,
                    const char *region_name, SdMxDetect *d)
{
    size_t n = (size_t)r->w * (size_t)r->h;
    float *resp = NULL, *v = NULL;
    int32_t *lab = NULL;
    long *sizes = NULL;
    double *len = NULL;
    long *nsk = NULL;
    double *ssum = NULL;
    uint8_t *kept = NULL;
    int err = 0;
    const int guard = st->o.wr_k_high > 0;
    if (!(resp = malloc(n * sizeof(float))) || (guard && !(v = malloc(sizeof(float) * (size_t)r->n))) ||
        !(lab = malloc(n * sizeof(int32_t))))
        goto nomem;
    long k = 0;
    for (int y = 0; y < r->h; y++) {
        const float *row = sd__mx_row(st, st->ridge, y + r->y0) + r->x0;
        const float *next = y + 1 < r->h ? sd__mx_row(st, st->ridge, y + 1 + r->y0) + r->x0 : NULL;
        float *dst = resp + (size_t)y * (size_t)r->w;
        const uint8_t *in = r->in + (size_t)y * (size_t)r->w;
        memcpy(dst, row, sizeof(float) * (size_t)r->w);
        if (guard)
            for (int x = 0; x < r->w; x++) {
                sd__mx_prefetch(next, x);
                if (in[x]) v[k++] = row[x];
            }
    }
    /* optional noise guard: robust centre and spread of the response over the region's skin */
    double med = 0, sig = 0;
    if (guard) {
        med = sd__mx_median(v, k);
        for (long i = 0; i < k; i++)
            v[i] = fabsf(v[i] - (float)med);
        sig = 1.4826 * sd__mx_median(v, k);
    }
    double ang = 0, ax = 0, ay = 0;
    int prior = st->o.wr_prior > 0 ? region_prior(r, region_name, &ang, &ax, &ay) : 0;
    const float rho = (float)st->o.wr_prior;
    for (int y = 0; prior && y < r->h; y++) {
        float *row = resp + (size_t)y * (size_t)r->w;
        const float *th = sd__mx_row(st, st->theta, y + r->y0) + r->x0;
        for (int x = 0; x < r->w; x++) {
            if (prior && row[x] > 0) {
                double a = prior == 1 ? ang : atan2(y - ay, x - ax);
                float c = cosf(th[x] - (float)a);
                row[x] *= (1.0f - rho) + rho * c * c;
            }
        }
    }
    /* folds and shading edges are not wrinkles: the response is scaled down, continuously, where
     * the coarse scale sees a broader valley than the fine ones or a strong shading gradient */
    if (st->fold) {
        const float *gp = (const float *)((const uint8_t *)st->fold + (size_t)st->fs4 * (size_t)st->h4);
        const float fa = (float)st->o.wr_fold_lo, fb = (float)st->o.wr_fold_hi;
        const float ea = (float)st->o.wr_edge_lo, eb = (float)st->o.wr_edge_hi;
        for (int y = 0; y < r->h; y++) {
            float *row = resp + (size_t)y * (size_t)r->w;
            const uint8_t *in = r->in + (size_t)y * (size_t)r->w;
            for (int x = 0; x < r->w; x++) {
                if (!in[x] || row[x] <= 0)
                    continue;
                const float rc = sd__mx_fold_at(st, st->fold, x + r->x0, y + r->y0);
                const float gc = sd__mx_fold_at(st, gp, x + r->x0, y + r->y0);
                const float f = fmaxf(sd__mx_ramp(rc - row[x], fa, fb), sd__mx_ramp(gc, ea, eb));
                row[x] *= 1.0f - f;
            }
        }
    }
    /* the primary score's soft membership: a smooth ramp on the (prior-weighted) response, less
     * where the pixel belongs to a spot; no threshold, link or length decides all or nothing */
    {
        const float a = (float)st->o.wr_mu_lo, b = (float)st->o.wr_mu_hi, spw = (float)st->o.wr_spot_weight;
        double sum = 0;
        for (size_t i = 0; i < n; i++) {
            const float mu = r->in[i] ? sd__mx_ramp(resp[i], a, b) * (1.0f - spw * d->sp_mu[i]) : 0.0f;
            d->wr_mu[i] = mu;
            sum += mu;
        }
        d->wr_soft += sum;
    }
    double t_hi = st->o.wr_abs_high, t_lo = st->o.wr_abs_low;
    if (st->o.wr_k_high > 0 && med + st->o.wr_k_high * sig > t_hi) {   /* very noisy image: stay above its noise */
        t_lo *= (med + st->o.wr_k_high * sig) / t_hi;
        t_hi = med + st->o.wr_k_high * sig;
    }
    /* lab is set on the wrinkle pixels only (the only ones read below) */
    long cnt = sd__mx_hysteresis_label(resp, (ptrdiff_t)(sizeof(float) * (size_t)r->w), r->in, r->w, r->h,
                                       (float)t_lo, (float)t_hi, d->wrinkles, lab, &sizes);
    if (cnt < 0) {
        err = (int)cnt;
        goto fail;
    }
    memcpy(d->skel, d->wrinkles, n);
    if ((err = thin(d->skel, r->w, r->h)))
        goto fail;
    if (!(len = calloc((size_t)cnt + 1, sizeof(*len))) ||
        !(nsk = calloc((size_t)cnt + 1, sizeof(*nsk))) || !(ssum = calloc((size_t)cnt + 1, sizeof(*ssum))) ||
        !(kept = calloc((size_t)cnt + 1, 1)))
        goto nomem;
    /* skeleton length: orthogonal links 1, diagonal links sqrt 2 unless an orthogonal path exists
     * (empty stretches of the sparse skeleton are skipped 8 pixels at a time) */
    for (int y = 0; y < r->h; y++)
        for (int x = 0; x < r->w; x++) {
            size_t p = (size_t)y * (size_t)r->w + (size_t)x;
            if (x + 8 <= r->w && !any8(d->skel + p)) {
                x += 7;
                continue;
            }
            if (!d->skel[p])
                continue;
            int e = x + 1 < r->w && d->skel[p + 1];
            int s = y + 1 < r->h && d->skel[p + (size_t)r->w];
            double l = e + s;
            if (y + 1 < r->h) {
                if (x + 1 < r->w && d->skel[p + (size_t)r->w + 1] && !e && !s)
                    l += M_SQRT2;
                if (x > 0 && d->skel[p + (size_t)r->w - 1] && !d->skel[p - 1] && !s)
                    l += M_SQRT2;
            }
            len[lab[p]] += l;
            nsk[lab[p]]++;
            ssum[lab[p]] += resp[p];
        }
    const double min_len = st->o.wr_min_len_mm * st->ppm;
    /* per wrinkle: kept (long enough, with a skeleton), and ssum becomes its half-maximum level */
    for (long i = 1; i <= cnt; i++) {
        kept[i] = nsk[i] && len[i] + 1.0 >= min_len;
        ssum[i] = kept[i] ? 0.5 * ssum[i] / (double)nsk[i] : 0.0;
    }
    /* a kept wrinkle's area: its pixels whose response reaches half the wrinkle's mean skeleton
     * response (full width at half maximum). Unlike the thresholded area it neither swells nor
     * shrinks when a nuisance scales the response, and unlike a width read off the winning
     * Hessian scale it does not widen when JPEG or noise takes away the finest scale. */
    long area = 0, n_skel = 0;
    double resp_sum = 0;   /* (locals: the byte stores below could alias d's fields) */
    for (size_t p = 0; p < n; p++) {
        if (p + 8 <= n && !any8(d->wrinkles + p)) {
            p += 7;
            continue;
        }
        if (!d->wrinkles[p])
            continue;
        long l = lab[p];
        if (!kept[l]) {
            d->wrinkles[p] = 0;
            d->skel[p] = 0;
            continue;
        }
        area += resp[p] >= ssum[l];
        if (d->skel[p]) {
            n_skel++;
            resp_sum += resp[p];
        }
    }
    d->wr_area_px += (double)area;
    d->n_skel += n_skel;
    d->wr_resp_sum += resp_sum;
    for (long i = 1; i <= cnt; i++)
        if (nsk[i] && len[i] + 1.0 >= min_len)
            d->wr_len_mm += (len[i] + 1.0) / st->ppm;
    free(resp); free(v); free(lab); free(sizes); free(len); free(nsk); free(ssum); free(kept);
    return 0;
nomem:
    err = sd_fail(ctx, SD_ENOMEM, "metrics: out of memory");
fail:
    free(resp); free(v); free(lab); free(sizes); free(len); free(nsk); free(ssum); free(kept);
    return err;
}

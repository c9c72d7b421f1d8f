/* JPEG compression settings from the file's own markers: the IJG-equivalent quality of the
 * luminance quantisation table and the chroma subsampling. Compression is the capture factor that
 * moves the skin metrics most (docs/METRICS.md), so the batch records it per input and notes a
 * follow-up whose compression differs from its baseline's. Reads marker headers only (DQT, SOF)
 * up to the first scan; never the entropy-coded data. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skindelta/skindelta.h"
#include "src/core/core.h"

/* ITU-T T.81 Annex K.1 luminance table, natural (row-major) order. */
static const unsigned short std_luma[64] = {
    16, 11, 10, 16, 24, 40, 51, 61,     12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56,     14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77,   24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
};

/* natural index of the k-th coefficient in zig-zag order (T.81 Figure A.6) */
static const unsigned char zigzag[64] = {
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48,
    41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22,
    15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
};

/* The IJG quality (1..100) whose scaled Annex K table is closest to t (natural order), by the
 * sum of absolute differences: exact for libjpeg-family encoders, the nearest equivalent for
 * cameras with tables of their own. */
static int ijg_quality(const unsigned short t[64])
{
    int best = 0;
    long best_d = -1;
    for (int q = 1; q <= 100; q++) {
        const long scale = q < 50 ? 5000 / q : 200 - 2 * q;
        long d = 0;
        for (int i = 0; i < 64; i++) {
            long v = (std_luma[i] * scale + 50) / 100;
            v = v < 1 ? 1 : v > 255 ? 255 : v;
            d += labs(v - (long)t[i]);
        }
        if (best_d < 0 || d < best_d) {
            best_d = d;
            best = q;
        }
    }
    return best;
}

static int get_u16(FILE *f, unsigned *v)
{
    int a = fgetc(f), b = fgetc(f);
    if (a == EOF || b == EOF)
        return -1;
    *v = (unsigned)a << 8 | (unsigned)b;
    return 0;
}

static int parse(FILE *f, int *quality, char chroma[8])
{
    unsigned short tables[4][64];
    int have[4] = { 0 }, luma_table = -1, ncomp = 0, h[3] = { 0 }, v[3] = { 0 };
    int err = SD_EFORMAT;
    if (fgetc(f) != 0xFF || fgetc(f) != 0xD8)
        goto done;
    for (int seg = 0; seg < 4096; seg++) {
        int c = fgetc(f);
        while (c != EOF && c != 0xFF)      /* tolerate junk between segments */
            c = fgetc(f);
        while (c == 0xFF)                  /* fill bytes */
            c = fgetc(f);
        if (c == EOF)
            goto done;
        const int m = c;
        if (m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7))
            continue;
        if (m == 0xD9 || m == 0xDA)        /* end of image / start of scan: headers are over */
            break;
        unsigned len;
        if (get_u16(f, &len) || len < 2)
            goto done;
        long left = (long)len - 2;
        if (m == 0xDB) {                   /* DQT: one or more tables */
            while (left > 0) {
                int pq_tq = fgetc(f);
                if (pq_tq == EOF)
                    goto done;
                const int prec = pq_tq >> 4, id = pq_tq & 15;
                if (id > 3 || prec > 1)
                    goto done;
                for (int k = 0; k < 64; k++) {
                    unsigned q;
                    if (prec) {
                        if (get_u16(f, &q)) goto done;
                    } else {
                        int b = fgetc(f);
                        if (b == EOF) goto done;
                        q = (unsigned)b;
                    }
                    tables[id][zigzag[k]] = (unsigned short)q;
                }
                have[id] = 1;
                left -= 1 + 64 * (prec ? 2 : 1);
            }
            if (left != 0)
                goto done;
            continue;
        }
        if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {   /* SOFn */
            unsigned y, x;
            int p = fgetc(f);
            if (p == EOF || get_u16(f, &y) || get_u16(f, &x) || (ncomp = fgetc(f)) == EOF || ncomp < 1)
                goto done;
            left -= 6;
            for (int i = 0; i < ncomp; i++) {
                int id = fgetc(f), hv = fgetc(f), tq = fgetc(f);
                if (id == EOF || hv == EOF || tq == EOF)
                    goto done;
                if (i < 3) {
                    h[i] = hv >> 4;
                    v[i] = hv & 15;
                }
                if (i == 0)
                    luma_table = tq & 3;
                left -= 3;
            }
            if (left < 0)
                goto done;
        }
        if (left > 0 && fseek(f, left, SEEK_CUR))
            goto done;
    }
    if (luma_table < 0 || !have[luma_table])
        goto done;
    *quality = ijg_quality(tables[luma_table]);
    if (ncomp == 1)
        snprintf(chroma, 8, "grey");
    else if (ncomp >= 3 && h[1] > 0 && v[1] > 0 && h[0] % h[1] == 0 && v[0] % v[1] == 0) {
        const int sh = h[0] / h[1], sv = v[0] / v[1];
        snprintf(chroma, 8, "%s", sh == 1 && sv == 1 ? "4:4:4" : sh == 2 && sv == 1 ? "4:2:2"
                                  : sh == 2 && sv == 2 ? "4:2:0" : sh == 1 && sv == 2 ? "4:4:0"
                                  : sh == 4 && sv == 1 ? "4:1:1" : "other");
    } else
        snprintf(chroma, 8, "other");
    err = 0;
done:
    if (err) {
        *quality = 0;
        chroma[0] = 0;
    }
    return err;
}

int sd_jpeg_info(const char *path, int *quality, char chroma[8])
{
    *quality = 0;
    chroma[0] = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return SD_EIO;
    const int err = parse(f, quality, chroma);
    fclose(f);
    return err;
}

int sd__jpeg_info_mem(const void *data, size_t n, int *quality, char chroma[8])
{
    *quality = 0;
    chroma[0] = 0;
    if (!n)
        return SD_EFORMAT;
    /* the same parser over the bytes the loader already holds */
    FILE *f = fmemopen((void *)data, n, "rb");
    if (!f)
        return SD_EIO;
    const int err = parse(f, quality, chroma);
    fclose(f);
    return err;
}

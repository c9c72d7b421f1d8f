/* Small helpers shared by the stages and the CLI: memory, atomic files, paths, SHA-256, escaping. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <ctype.h>
#include <limits.h>

#include "skindelta/skindelta.h"
#include "src/core/core.h"

/* Large buffers (full-size photos and frame planes) are 2 MiB aligned and marked for transparent
 * huge pages where the OS offers them on request: faulting a 24 MP float photo in 4 KiB pages
 * costs tens of milliseconds. */
void *sd_alloc_aligned(size_t bytes)
{
    void *p = NULL;
    if (bytes == 0) bytes = 1;
    if (bytes >= ((size_t)4 << 20)) {
        if (posix_memalign(&p, (size_t)2 << 20, bytes))
            return NULL;
#ifdef MADV_HUGEPAGE
        madvise(p, bytes & ~(((size_t)2 << 20) - 1), MADV_HUGEPAGE);
#endif
        return p;
    }
    if (posix_memalign(&p, 64, bytes))
        return NULL;
    return p;
}

void sd_free_aligned(void *p) { free(p); }

void *sd_calloc_checked(size_t n, size_t size)
{
    size_t t;
    if (sd_mul_overflow(n, size, &t))
        return NULL;
    return calloc(n ? n : 1, size ? size : 1);
}

char *sd_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

int sd_atomic_open(SdAtomicFile *af, const char *path)
{
    static int counter;
    memset(af, 0, sizeof(*af));
    size_t n = strlen(path) + 64;
    af->path = sd_strdup(path);
    af->tmp = malloc(n);
    if (!af->path || !af->tmp) {
        free(af->path); free(af->tmp);
        return SD_ENOMEM;
    }
    snprintf(af->tmp, n, "%s.tmp.%ld.%d", path, (long)getpid(),
             __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
    af->f = fopen(af->tmp, "wb");
    if (!af->f) {
        int e = errno;
        free(af->path); free(af->tmp);
        memset(af, 0, sizeof(*af));
        errno = e;
        return SD_EIO;
    }
    return 0;
}

int sd_atomic_commit(SdAtomicFile *af)
{
    int err = 0;
    if (!af->f) return SD_EIO;
    if (fflush(af->f) || ferror(af->f) || fsync(fileno(af->f)))
        err = SD_EIO;
    if (fclose(af->f))
        err = SD_EIO;
    af->f = NULL;
    if (!err && rename(af->tmp, af->path))
        err = SD_EIO;
    if (err) {
        int e = errno;
        unlink(af->tmp);
        errno = e;
    }
    free(af->path); free(af->tmp);
    af->path = af->tmp = NULL;
    return err;
}

void sd_atomic_abort(SdAtomicFile *af)
{
    if (af->f) fclose(af->f);
    if (af->tmp) unlink(af->tmp);
    free(af->path); free(af->tmp);
    memset(af, 0, sizeof(*af));
}

int sd_write_file_atomic(const char *path, const void *data, size_t n)
{
    SdAtomicFile af;
    int err = sd_atomic_open(&af, path);
    if (err) return err;
    if (n && fwrite(data, 1, n, af.f) != n) {
        sd_atomic_abort(&af);
        return SD_EIO;
    }
    return sd_atomic_commit(&af);
}

int sd_mkdir_p(const char *path)
{
    char *p = sd_strdup(path);
    if (!p) return SD_ENOMEM;
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = 0;
        if (mkdir(p, 0777) && errno != EEXIST) { free(p); return SD_EIO; }
        *s = '/';
    }
    int r = (mkdir(p, 0777) && errno != EEXIST) ? SD_EIO : 0;
    if (!r && !sd_is_dir(p)) r = SD_EIO;
    free(p);
    return r;
}

char *sd_path_join(const char *a, const char *b)
{
    if (!a || !*a) return sd_strdup(b);
    if (b[0] == '/') return sd_strdup(b);
    size_t na = strlen(a), nb = strlen(b);
    int slash = a[na - 1] != '/';
    char *r = malloc(na + nb + 2);
    if (!r) return NULL;
    memcpy(r, a, na);
    if (slash) r[na++] = '/';
    memcpy(r + na, b, nb + 1);
    return r;
}

int sd_file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int sd_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int sd_read_file(const char *path, size_t max, char **data, size_t *n)
{
    *data = NULL;
    if (n) *n = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return SD_EIO;
    struct stat st;
    if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) { fclose(f); return SD_EIO; }
    if ((uint64_t)st.st_size > max) { fclose(f); return SD_ELIMIT; }
    size_t sz = (size_t)st.st_size;
    char *buf = malloc(sz + 1);
    if (!buf) { fclose(f); return SD_ENOMEM; }
    size_t got = fread(buf, 1, sz, f);
    int bad = ferror(f);
    fclose(f);
    if (bad) { free(buf); return SD_EIO; }
    buf[got] = 0;
    *data = buf;
    if (n) *n = got;
    return 0;
}

int sd_natcmp(const char *a, const char *b)
{
    while (*a && *b) {
        if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
            while (*a == '0' && isdigit((unsigned char)a[1])) a++;
            while (*b == '0' && isdigit((unsigned char)b[1])) b++;
            size_t la = 0, lb = 0;
            while (isdigit((unsigned char)a[la])) la++;
            while (isdigit((unsigned char)b[lb])) lb++;
            if (la != lb) return la < lb ? -1 : 1;
            int c = strncmp(a, b, la);
            if (c) return c;
            a += la; b += lb;
            continue;
        }
        int ca = tolower((unsigned char)*a), cb = tolower((unsigned char)*b);
        if (ca != cb) return ca < cb ? -1 : 1;
        a++; b++;
    }
    if (*a || *b) return *a ? 1 : -1;
    return 0;
}

int sd_strcasesuffix(const char *s, const char *suffix)
{
    size_t ns = strlen(s), nx = strlen(suffix);
    return ns >= nx && !strcasecmp(s + ns - nx, suffix);
}

/* ---- SHA-256 (FIPS 180-4) */
typedef struct { uint32_t h[8]; uint64_t len; uint8_t buf[64]; size_t nbuf; } Sha256;

static const uint32_t K256[64] = {
    0x428a2f98,0x71374491,0xb5c0fbcf,0xe9b5dba5,0x3956c25b,0x59f111f1,0x923f82a4,0xab1c5ed5,
    0xd807aa98,0x12835b01,0x243185be,0x550c7dc3,0x72be5d74,0x80deb1fe,0x9bdc06a7,0xc19bf174,
    0xe49b69c1,0xefbe4786,0x0fc19dc6,0x240ca1cc,0x2de92c6f,0x4a7484aa,0x5cb0a9dc,0x76f988da,
    0x983e5152,0xa831c66d,0xb00327c8,0xbf597fc7,0xc6e00bf3,0xd5a79147,0x06ca6351,0x14292967,
    0x27b70a85,0x2e1b2138,0x4d2c6dfc,0x53380d13,0x650a7354,0x766a0abb,0x81c2c92e,0x92722c85,
    0xa2bfe8a1,0xa81a664b,0xc24b8b70,0xc76c51a3,0xd192e819,0xd6990624,0xf40e3585,0x106aa070,
    0x19a4c116,0x1e376c08,0x2748774c,0x34b0bcb5,0x391c0cb3,0x4ed8aa4a,0x5b9cca4f,0x682e6ff3,
    0x748f82ee,0x78a5636f,0x84c87814,0x8cc70208,0x90befffa,0xa4506ceb,0xbef9a3f7,0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha_block(Sha256 *s, const uint8_t *p)
{
    uint32_t w[64], a, b, c, d, e, f, g, h;
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4*i] << 24 | (uint32_t)p[4*i+1] << 16 | (uint32_t)p[4*i+2] << 8 | p[4*i+3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i-15], 7) ^ ROR(w[i-15], 18) ^ (w[i-15] >> 3);
        uint32_t s1 = ROR(w[i-2], 17) ^ ROR(w[i-2], 19) ^ (w[i-2] >> 10);
        w[i] = w[i-16] + s0 + w[i-7] + s1;
    }
    a = s->h[0]; b = s->h[1]; c = s->h[2]; d = s->h[3];
    e = s->h[4]; f = s->h[5]; g = s->h[6]; h = s->h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K256[i] + w[i];
        uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    s->h[0] += a; s->h[1] += b; s->h[2] += c; s->h[3] += d;
    s->h[4] += e; s->h[5] += f; s->h[6] += g; s->h[7] += h;
}

static void sha_init(Sha256 *s)
{
    static const uint32_t h0[8] = {0x6a09e667,0xbb67ae85,0x3c6ef372,0xa54ff53a,
                                   0x510e527f,0x9b05688c,0x1f83d9ab,0x5be0cd19};
    memcpy(s->h, h0, sizeof(h0));
    s->len = 0; s->nbuf = 0;
}

static void sha_update(Sha256 *s, const uint8_t *p, size_t n)
{
    s->len += n;
    while (n) {
        size_t k = 64 - s->nbuf;
        if (k > n) k = n;
        memcpy(s->buf + s->nbuf, p, k);
        s->nbuf += k; p += k; n -= k;
        if (s->nbuf == 64) { sha_block(s, s->buf); s->nbuf = 0; }
    }
}

static void sha_final(Sha256 *s, char hex[65])
{
    uint64_t bits = s->len * 8;
    uint8_t pad = 0x80, zero = 0, lenb[8];
    sha_update(s, &pad, 1);
    while (s->nbuf != 56) sha_update(s, &zero, 1);
    for (int i = 0; i < 8; i++) lenb[i] = (uint8_t)(bits >> (56 - 8 * i));
    sha_update(s, lenb, 8);
    for (int i = 0; i < 8; i++)
        snprintf(hex + 8 * i, 9, "%08x", s->h[i]);
}

void sd_sha256(const void *data, size_t n, char hex[65])
{
    Sha256 s;
    sha_init(&s);
    sha_update(&s, data, n);
    sha_final(&s, hex);
}

int sd_sha256_file(const char *path, char hex[65])
{
    FILE *f = fopen(path, "rb");
    if (!f) return SD_EIO;
    Sha256 s;
    sha_init(&s);
    uint8_t buf[65536];
    size_t k;
    while ((k = fread(buf, 1, sizeof(buf), f)) > 0)
        sha_update(&s, buf, k);
    int bad = ferror(f);
    fclose(f);
    if (bad) return SD_EIO;
    sha_final(&s, hex);
    return 0;
}

void sd_csv_field(FILE *f, const char *s)
{
    if (!s) return;
    if (!strpbrk(s, ",\"\n\r")) { fputs(s, f); return; }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

void sd_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') { fputc('\\', f); fputc(c, f); }
        else if (c == '\n') fputs("\\n", f);
        else if (c == '\t') fputs("\\t", f);
        else if (c == '\r') fputs("\\r", f);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

void sd_csv_num(FILE *f, double v)
{
    if (v == 0) v = 0;   /* no "-0" */
    if (isfinite(v)) fprintf(f, "%.9g", v);
}

void sd_json_num(FILE *f, double v)
{
    if (v == 0) v = 0;
    if (isfinite(v)) fprintf(f, "%.9g", v);
    else fputs("null", f);
}

double sd_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int sd_data_file(const char *relpath, char *out, size_t n)
{
    if (snprintf(out, n, "%s", relpath) < (int)n && sd_file_exists(out))
        return 0;
    char exe[PATH_MAX];
    const ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (len <= 0) return SD_EIO;
    exe[len] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash) return SD_EIO;
    *slash = 0;
    static const char *const rel[] = {"../share/skindelta", "..", "../.."};
    for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++)
        if (snprintf(out, n, "%s/%s/%s", exe, rel[i], relpath) < (int)n && sd_file_exists(out))
            return 0;
    return SD_EIO;
}

int sd_model_file(const char *name, char *out, size_t n)
{
    const char *env = getenv("SKINDELTA_MODELS");
    if (env && *env)
        return (snprintf(out, n, "%s/%s", env, name) < (int)n && sd_file_exists(out)) ? 0 : SD_EIO;
    char rel[512];
    if (snprintf(rel, sizeof(rel), "models/%s", name) >= (int)sizeof(rel)) return SD_EIO;
    return sd_data_file(rel, out, n);
}

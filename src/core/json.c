/* The one JSON reader of the library: everything skindelta reads back (the region template
 * models/regions.json, a run's run.json with its shard metadata, a patient's done.json) goes
 * through it. Strict RFC 8259 (no comments, no trailing commas, no NaN), a depth limit, duplicate
 * keys refused, \uXXXX (with surrogate pairs) decoded to UTF-8; an error names the line and column.
 * Values are looked up by key in one object, never by searching the text: a key nested deeper
 * ("parameters" -> "mdc_file") is not confused with one at the top. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/core/core.h"

typedef struct Parser {
    const char *s, *p, *end;
    int depth;
    char *err;
    size_t errn;
} Parser;

static int perr(Parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int perr(Parser *ps, const char *fmt, ...)
{
    if (ps->err && ps->errn && !ps->err[0]) {
        int line = 1, col = 1;
        for (const char *c = ps->s; c < ps->p && c < ps->end; c++) {
            if (*c == '\n') { line++; col = 1; } else col++;
        }
        const int k = snprintf(ps->err, ps->errn, "line %d column %d: ", line, col);
        if (k >= 0 && (size_t)k < ps->errn) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(ps->err + k, ps->errn - (size_t)k, fmt, ap);
            va_end(ap);
        }
    }
    return SD_EFORMAT;
}

static void skip_ws(Parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t'))
        ps->p++;
}

static int hex4(const char *p, unsigned *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        const char c = p[i];
        const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        *v = *v << 4 | (unsigned)d;
    }
    return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) { o[0] = (char)(0xc0 | cp >> 6); o[1] = (char)(0x80 | (cp & 0x3f)); return 2; }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12); o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | cp >> 18); o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3f)); o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* A string at ps->p (on the opening quote) into a malloc'ed NUL-terminated copy. The decoded
 * text is never longer than the escaped one, so one allocation of the raw length suffices. */
static int parse_string(Parser *ps, char **out)
{
    const char *q = ++ps->p;
    while (q < ps->end && *q != '"') q += *q == '\\' && q + 1 < ps->end ? 2 : 1;
    if (q >= ps->end) return perr(ps, "unterminated string");
    char *o = malloc((size_t)(q - ps->p) + 1), *w = o;
    if (!o) return SD_ENOMEM;
    while (ps->p < q) {
        const unsigned char c = (unsigned char)*ps->p;
        if (c < 0x20) { free(o); return perr(ps, "control character in a string"); }
        if (c != '\\') { *w++ = (char)c; ps->p++; continue; }
        const char e = ps->p[1];
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        const char *k = e ? strchr(from, e) : NULL;
        if (k) { *w++ = to[k - from]; ps->p += 2; continue; }
        unsigned cp, lo;
        if (e != 'u' || q - ps->p < 6 || hex4(ps->p + 2, &cp)) {
            free(o);
            return perr(ps, "bad escape in a string");
        }
        ps->p += 6;
        if (cp >= 0xd800 && cp <= 0xdbff) {   /* a high surrogate needs its low half */
            if (q - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u' || hex4(ps->p + 2, &lo) ||
                lo < 0xdc00 || lo > 0xdfff) {
                free(o);
                return perr(ps, "unpaired surrogate in \\u escape");
            }
            ps->p += 6;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        } else if (cp >= 0xdc00 && cp <= 0xdfff) {
            free(o);
            return perr(ps, "unpaired surrogate in \\u escape");
        }
        if (cp == 0) { free(o); return perr(ps, "\\u0000 in a string"); }
        w += put_utf8(w, cp);
    }
    *w = 0;
    ps->p = q + 1;
    *out = o;
    return 0;
}

/* RFC 8259 number grammar, then strtod on the checked span. */
static int parse_number(Parser *ps, double *v)
{
    const char *q = ps->p;
    if (q < ps->end && *q == '-') q++;
    if (q < ps->end && *q == '0') q++;
    else if (q < ps->end && *q >= '1' && *q <= '9') while (q < ps->end && *q >= '0' && *q <= '9') q++;
    else return perr(ps, "unexpected character '%c'", ps->p < ps->end ? *ps->p : '?');
    if (q < ps->end && *q == '.') {
        q++;
        if (q >= ps->end || *q < '0' || *q > '9') return perr(ps, "bad number");
        while (q < ps->end && *q >= '0' && *q <= '9') q++;
    }
    if (q < ps->end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < ps->end && (*q == '+' || *q == '-')) q++;
        if (q >= ps->end || *q < '0' || *q > '9') return perr(ps, "bad number");
        while (q < ps->end && *q >= '0' && *q <= '9') q++;
    }
    char buf[64];
    const size_t n = (size_t)(q - ps->p);
    if (n >= sizeof(buf)) return perr(ps, "number too long");
    memcpy(buf, ps->p, n);
    buf[n] = 0;
    *v = strtod(buf, NULL);
    ps->p = q;
    return 0;
}

static int parse_value(Parser *ps, SdJson *v);

static int grow(SdJson *v, int *cap)
{
    if (v->n < *cap) return 0;
    const int nc = *cap ? 2 * *cap : 4;
    SdJson *ni = realloc(v->items, sizeof(*ni) * (size_t)nc);
    if (!ni) return SD_ENOMEM;
    v->items = ni;
    if (v->type == SD_JSON_OBJ) {
        char **nk = realloc(v->keys, sizeof(*nk) * (size_t)nc);
        if (!nk) return SD_ENOMEM;
        v->keys = nk;
    }
    *cap = nc;
    return 0;
}

static int parse_container(Parser *ps, SdJson *v, int obj)
{
    v->type = obj ? SD_JSON_OBJ : SD_JSON_ARR;
    if (++ps->depth > SD_JSON_MAX_DEPTH) return perr(ps, "nested deeper than %d levels", SD_JSON_MAX_DEPTH);
    const char close = obj ? '}' : ']';
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) { ps->p++; ps->depth--; return 0; }
    for (int cap = 0, err;;) {
        if ((err = grow(v, &cap))) return err;
        char *key = NULL;
        if (obj) {
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != '"') return perr(ps, "expected a key string");
            if ((err = parse_string(ps, &key))) return err;
            if (sd__json_get(v, key)) {
                free(key);
                return perr(ps, "duplicate key");
            }
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') { free(key); return perr(ps, "expected ':'"); }
            ps->p++;
            v->keys[v->n] = key;
        }
        err = parse_value(ps, &v->items[v->n]);
        v->n++;   /* counted even when partial: sd__json_free releases it */
        if (err) return err;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') { ps->p++; continue; }
        if (ps->p < ps->end && *ps->p == close) { ps->p++; ps->depth--; return 0; }
        return perr(ps, obj ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static int parse_value(Parser *ps, SdJson *v)
{
    memset(v, 0, sizeof(*v));
    skip_ws(ps);
    if (ps->p >= ps->end) return perr(ps, "unexpected end of text");
    const char c = *ps->p;
    const size_t left = (size_t)(ps->end - ps->p);
    if (c == '{' || c == '[') return parse_container(ps, v, c == '{');
    if (c == '"') { v->type = SD_JSON_STR; return parse_string(ps, &v->str); }
    if (left >= 4 && !memcmp(ps->p, "true", 4)) { v->type = SD_JSON_BOOL; v->num = 1; ps->p += 4; return 0; }
    if (left >= 5 && !memcmp(ps->p, "false", 5)) { v->type = SD_JSON_BOOL; ps->p += 5; return 0; }
    if (left >= 4 && !memcmp(ps->p, "null", 4)) { v->type = SD_JSON_NULL; ps->p += 4; return 0; }
    v->type = SD_JSON_NUM;
    return parse_number(ps, &v->num);
}

int sd__json_parse(const char *text, size_t len, SdJson *root, char *err, size_t errn)
{
    Parser ps = {text, text, text + len, 0, err, errn};
    if (err && errn) err[0] = 0;
    int e = parse_value(&ps, root);
    if (!e) {
        skip_ws(&ps);
        if (ps.p < ps.end) e = perr(&ps, "text after the value");
    }
    if (e == SD_ENOMEM && err && errn) snprintf(err, errn, "out of memory");
    if (e) sd__json_free(root);
    return e;
}

int sd__json_load(SdCtx *ctx, const char *path, size_t max_bytes, SdJson *root)
{
    char *text = NULL, msg[200];
    size_t n = 0;
    memset(root, 0, sizeof(*root));
    int err = sd_read_file(path, max_bytes, &text, &n);
    if (err) return sd_fail(ctx, err, "%s: cannot read: %s", path, err == SD_EIO ? strerror(errno) : sd_strerror(err));
    err = sd__json_parse(text, n, root, msg, sizeof(msg));
    free(text);
    if (err) return sd_fail(ctx, err, "%s: not valid JSON: %s", path, msg);
    return 0;
}

void sd__json_free(SdJson *v)
{
    if (!v) return;
    for (int i = 0; i < v->n; i++) {
        sd__json_free(&v->items[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->str);
    memset(v, 0, sizeof(*v));
}

const SdJson *sd__json_get(const SdJson *obj, const char *key)
{
    if (!obj || obj->type != SD_JSON_OBJ) return NULL;
    for (int i = 0; i < obj->n; i++)
        if (obj->keys[i] && !strcmp(obj->keys[i], key)) return &obj->items[i];
    return NULL;
}

const char *sd__json_str(const SdJson *obj, const char *key)
{
    const SdJson *v = sd__json_get(obj, key);
    return v && v->type == SD_JSON_STR ? v->str : NULL;
}

int sd__json_num(const SdJson *obj, const char *key, double *out)
{
    const SdJson *v = sd__json_get(obj, key);
    if (!v || v->type != SD_JSON_NUM) return 0;
    *out = v->num;
    return 1;
}

int sd__json_bool(const SdJson *obj, const char *key, int *out)
{
    const SdJson *v = sd__json_get(obj, key);
    if (!v || v->type != SD_JSON_BOOL) return 0;
    *out = v->num != 0;
    return 1;
}

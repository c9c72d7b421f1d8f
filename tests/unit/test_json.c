/* The JSON reader (src/core/json.c): nesting, escapes with \uXXXX and surrogate pairs, the number
 * grammar, errors with their position, the depth limit, duplicate keys, and lookups that never
 * mistake a nested key for a top-level one. */
#include <stdlib.h>
#include <string.h>

#include "tests/lib/test.h"
#include "src/core/core.h"

static int parse(const char *text, SdJson *v, char *err, size_t n)
{
    return sd__json_parse(text, strlen(text), v, err, n);
}

static void test_nesting(void)
{
    SdJson v;
    char err[200];
    CHECKF(!parse(" {\"a\": [1, {\"b\": [true, false, null]}, \"x\"], \"c\": {}} ", &v, err, sizeof(err)), "%s", err);
    CHECK_EQ_INT(v.type, SD_JSON_OBJ);
    CHECK_EQ_INT(v.n, 2);
    const SdJson *a = sd__json_get(&v, "a");
    CHECK(a && a->type == SD_JSON_ARR && a->n == 3);
    if (a && a->n == 3) {
        CHECK_NEAR(a->items[0].num, 1, 0);
        const SdJson *b = sd__json_get(&a->items[1], "b");
        CHECK(b && b->type == SD_JSON_ARR && b->n == 3);
        if (b && b->n == 3) {
            CHECK(b->items[0].type == SD_JSON_BOOL && b->items[0].num == 1);
            CHECK(b->items[1].type == SD_JSON_BOOL && b->items[1].num == 0);
            CHECK(b->items[2].type == SD_JSON_NULL);
        }
        CHECK(a->items[2].type == SD_JSON_STR && !strcmp(a->items[2].str, "x"));
    }
    const SdJson *c = sd__json_get(&v, "c");
    CHECK(c && c->type == SD_JSON_OBJ && c->n == 0);
    CHECK(!sd__json_get(&v, "b"));            /* nested, not top-level */
    CHECK(!sd__json_get(a, "a"));             /* not an object */
    sd__json_free(&v);
    CHECK(!parse("[]", &v, err, sizeof(err)) && v.type == SD_JSON_ARR && v.n == 0);
    sd__json_free(&v);
}

static void test_escapes(void)
{
    SdJson v;
    char err[200];
    CHECKF(!parse("\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t e\\u00e9 \\u20ac \\ud83d\\ude00\"", &v, err, sizeof(err)), "%s", err);
    CHECK(v.type == SD_JSON_STR);
    CHECKF(v.str && !strcmp(v.str, "q\" b\\ s/ \b\f\n\r\t e\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), "'%s'", v.str);
    sd__json_free(&v);
    static const char *const bad[] = {
        "\"\\x\"", "\"\\u12\"", "\"\\u12g4\"", "\"\\ud83d\"", "\"\\ude00\"", "\"\\ud83d\\u0041\"",
        "\"\\u0000\"", "\"a\nb\"", "\"open",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECKF(parse(bad[i], &v, err, sizeof(err)) == SD_EFORMAT, "accepted %s", bad[i]);
        CHECK(v.type == SD_JSON_NULL && !v.str);
    }
}

static void test_numbers(void)
{
    static const struct { const char *t; double v; } good[] = {
        {"0", 0}, {"-0", 0}, {"12", 12}, {"-3.25", -3.25}, {"1e3", 1000}, {"2.5E-2", 0.025}, {"1e+2", 100},
    };
    SdJson v;
    char err[200];
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        CHECKF(!parse(good[i].t, &v, err, sizeof(err)), "%s: %s", good[i].t, err);
        CHECK(v.type == SD_JSON_NUM);
        CHECK_NEAR(v.num, good[i].v, 1e-12);
        sd__json_free(&v);
    }
    static const char *const bad[] = {"01", "1.", ".5", "+1", "1e", "-", "NaN", "Infinity", "0x10", "1 2", "tru", "nul"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECKF(parse(bad[i], &v, err, sizeof(err)) == SD_EFORMAT, "accepted %s", bad[i]);
}

static void test_errors_with_position(void)
{
    SdJson v;
    char err[200];
    CHECK(parse("{\n  \"a\": 1,\n  \"b\": ]\n}", &v, err, sizeof(err)) == SD_EFORMAT);
    CHECKF(strstr(err, "line 3 column 8"), "%s", err);
    CHECK(parse("{\"a\": 1,}", &v, err, sizeof(err)) == SD_EFORMAT);   /* trailing comma */
    CHECKF(strstr(err, "line 1 column 9"), "%s", err);
    CHECK(parse("[1, 2", &v, err, sizeof(err)) == SD_EFORMAT);
    CHECK(parse("{\"a\" 1}", &v, err, sizeof(err)) == SD_EFORMAT);
    CHECKF(strstr(err, "':'"), "%s", err);
    CHECK(parse("{\"a\": 1, \"a\": 2}", &v, err, sizeof(err)) == SD_EFORMAT);
    CHECKF(strstr(err, "duplicate key"), "%s", err);
    CHECK(parse("{} x", &v, err, sizeof(err)) == SD_EFORMAT);
    CHECKF(strstr(err, "after the value"), "%s", err);
    CHECK(parse("", &v, err, sizeof(err)) == SD_EFORMAT);
    CHECK(parse("// c\n{}", &v, err, sizeof(err)) == SD_EFORMAT);
    /* a NUL inside the given length is not the end of the text */
    CHECK(sd__json_parse("{}\0{}", 5, &v, err, sizeof(err)) == SD_EFORMAT);
    /* a file: the error names it */
    const char *path = sd_test_path(sd_test_tmp_dir(), "bad.json");
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) { fputs("{\"k\": tru}", f); fclose(f); }
    SdCtx ctx;
    sd_ctx_init(&ctx);
    CHECK(sd__json_load(&ctx, path, 1 << 10, &v) == SD_EFORMAT);
    CHECKF(strstr(ctx.errmsg, path) && strstr(ctx.errmsg, "column 7"), "%s", ctx.errmsg);
    CHECK(sd__json_load(&ctx, sd_test_path(sd_test_tmp_dir(), "absent.json"), 1 << 10, &v) != 0);
}

static void test_depth_limit(void)
{
    char deep[2 * SD_JSON_MAX_DEPTH + 8], err[200];
    SdJson v;
    for (int d = SD_JSON_MAX_DEPTH; d <= SD_JSON_MAX_DEPTH + 1; d++) {
        memset(deep, '[', (size_t)d);
        memset(deep + d, ']', (size_t)d);
        deep[2 * d] = 0;
        const int e = parse(deep, &v, err, sizeof(err));
        if (d == SD_JSON_MAX_DEPTH) { CHECKF(!e, "%s", err); sd__json_free(&v); }
        else CHECKF(e == SD_EFORMAT && strstr(err, "deeper"), "%s", err);
    }
    /* a hostile depth is refused, not a stack overflow */
    size_t n = 1000000;
    char *big = malloc(n + 1);
    CHECK(big != NULL);
    if (big) {
        memset(big, '[', n);
        big[n] = 0;
        CHECK(parse(big, &v, err, sizeof(err)) == SD_EFORMAT);
        free(big);
    }
}

/* run.json: "mdc_file" under "parameters" versus one nested deeper and one in a string. */
static void test_nested_key_not_top_level(void)
{
    const char *run = "{\"note\": \"\\\"mdc_file\\\": \\\"/evil\\\"\", \"extra\": {\"mdc_file\": \"/nested\"},"
                      " \"parameters\": {\"roi\": \"face\", \"mdc_file\": null, \"bootstrap\": 5}}";
    SdJson v;
    char err[200];
    CHECKF(!parse(run, &v, err, sizeof(err)), "%s", err);
    CHECK(!sd__json_get(&v, "mdc_file"));
    const SdJson *par = sd__json_get(&v, "parameters");
    const SdJson *m = sd__json_get(par, "mdc_file");
    CHECK(m && m->type == SD_JSON_NULL);
    CHECK(!sd__json_str(par, "mdc_file"));
    CHECK(!strcmp(sd__json_str(sd__json_get(&v, "extra"), "mdc_file"), "/nested"));
    double b = 0;
    int flag = 0;
    CHECK(sd__json_num(par, "bootstrap", &b) && b == 5);
    CHECK(!sd__json_num(par, "roi", &b));
    CHECK(!sd__json_bool(par, "bootstrap", &flag));
    CHECK(!strcmp(sd__json_str(par, "roi"), "face"));
    sd__json_free(&v);
}

static const SdTestCase cases[] = {
    { "nesting", test_nesting },
    { "escapes", test_escapes },
    { "numbers", test_numbers },
    { "errors_with_position", test_errors_with_position },
    { "depth_limit", test_depth_limit },
    { "nested_key_not_top_level", test_nested_key_not_top_level },
};
SD_TEST_MAIN(cases)

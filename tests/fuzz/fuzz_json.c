/* Fuzz target: the JSON reader (src/core/json.c) on arbitrary bytes: a parse either succeeds
 * with a tree every lookup can walk or fails with a positioned message, and never overruns. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "src/core/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Walks the tree as the readers do: every key looked up, every string read. */
static size_t walk(const SdJson *v, int depth)
{
    if (depth > SD_JSON_MAX_DEPTH + 1) abort();
    size_t n = v->str ? strlen(v->str) : 0;
    for (int i = 0; i < v->n; i++) {
        if (v->type == SD_JSON_OBJ && sd__json_get(v, v->keys[i]) != &v->items[i]) abort();
        n += walk(&v->items[i], depth + 1);
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    SdJson v;
    char err[200];
    if (sd__json_parse((const char *)data, size, &v, err, sizeof(err)) == 0) {
        (void)walk(&v, 0);
        double d;
        int b;
        (void)sd__json_num(&v, "run_id", &d);
        (void)sd__json_bool(&v, "partial", &b);
        (void)sd__json_str(sd__json_get(&v, "parameters"), "mdc_file");
        sd__json_free(&v);
    } else if (!err[0] || v.n || v.items || v.str) {
        abort();   /* a failure says where, and leaves nothing allocated */
    }
    return 0;
}

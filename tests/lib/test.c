#include <math.h>
/* The harness behind tests/lib/test.h. Usage of a test binary: `test_x [case-substring]`. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/lib/test.h"

int sd_test_failed_checks;
static const char *cur_case;

void sd_test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stdout, "  FAIL %s: %s:%d: ", cur_case ? cur_case : "?", file, line);
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
    sd_test_failed_checks++;
}

const char *sd_test_data_dir(void)
{
    const char *d = getenv("SD_TEST_DATA");
    return d && *d ? d : "tests/data";
}

const char *sd_test_tmp_dir(void)
{
    static char buf[512];
    if (!buf[0]) {
        const char *b = getenv("SD_TEST_TMP");
        snprintf(buf, sizeof(buf), "%s/%ld", b && *b ? b : "build/tests/tmp", (long)getpid());
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", buf);
        if (system(cmd) != 0) fprintf(stderr, "cannot create %s\n", buf);
    }
    return buf;
}

const char *sd_test_path(const char *dir, const char *name)
{
    static char bufs[8][1024];
    static int k;
    char *b = bufs[k++ & 7];
    snprintf(b, 1024, "%s/%s", dir, name);
    return b;
}

static const char *skip_reason;

void sd_test_skip(const char *reason)
{
    skip_reason = reason;
}

int sd_test_main(int argc, char **argv, const SdTestCase *cases, int n)
{
    const char *filter = argc > 1 ? argv[1] : NULL;
    int passed = 0, failed = 0, skipped = 0;
    for (int i = 0; i < n; i++) {
        if (filter && !strstr(cases[i].name, filter))
            continue;
        cur_case = cases[i].name;
        sd_test_failed_checks = 0;
        skip_reason = NULL;
        cases[i].fn();
        if (sd_test_failed_checks) {
            failed++;
            printf("not ok %s\n", cases[i].name);
        } else if (skip_reason) {
            skipped++;
            printf("skip %s: %s\n", cases[i].name, skip_reason);
        } else {
            passed++;
            printf("ok %s\n", cases[i].name);
        }
        fflush(stdout);
    }
    /* the runner (tests/run.sh) counts the skips; under CI=1 a skip fails the run there */
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return failed ? 1 : 0;
}

static void test_ranks(const double *v, int n, double *r)
{
    for (int i = 0; i < n; i++) {
        int less = 0, eq = 0;
        for (int j = 0; j < n; j++) {
            less += v[j] < v[i];
            eq += v[j] == v[i];
        }
        r[i] = less + (eq + 1) / 2.0;
    }
}

double sd_test_spearman(const double *a, const double *b, int n)
{
    double ra[64], rb[64], ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
    if (n < 2 || n > 64)
        return 0;
    test_ranks(a, n, ra);
    test_ranks(b, n, rb);
    for (int i = 0; i < n; i++) {
        ma += ra[i] / n;
        mb += rb[i] / n;
    }
    for (int i = 0; i < n; i++) {
        sab += (ra[i] - ma) * (rb[i] - mb);
        saa += (ra[i] - ma) * (ra[i] - ma);
        sbb += (rb[i] - mb) * (rb[i] - mb);
    }
    return saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : 0;
}

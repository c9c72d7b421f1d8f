/* Minimal unit-test harness: each tests/unit/test_*.c is one binary listing its cases;
 * each prints the closing line "N passed, N failed, N skipped", which tests/run.sh sums. */
#ifndef TESTS_LIB_TEST_H
#define TESTS_LIB_TEST_H

#include <math.h>
#include <stdio.h>

typedef struct SdTestCase {
    const char *name;
    void (*fn)(void);
} SdTestCase;

extern int sd_test_failed_checks;   /* checks failed in the current case */

void sd_test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Marks the current case skipped (a precondition outside the test is missing): it counts as
 * neither passed nor failed, the runner reports it, and CI=1 turns it into a failure. */
void sd_test_skip(const char *reason);
int  sd_test_main(int argc, char **argv, const SdTestCase *cases, int n);
/* Folder of test data (tests/data) and a scratch folder unique to this binary (created). */
const char *sd_test_data_dir(void);
const char *sd_test_tmp_dir(void);
/* Path helpers returning a static-per-call rotating buffer. */
const char *sd_test_path(const char *dir, const char *name);
/* Spearman rank correlation of a[0..n) and b[0..n) (ties get their mean rank; n <= 64). */
double sd_test_spearman(const double *a, const double *b, int n);

#define CHECK(cond) do { if (!(cond)) sd_test_fail(__FILE__, __LINE__, "%s", #cond); } while (0)
#define CHECKF(cond, ...) do { if (!(cond)) sd_test_fail(__FILE__, __LINE__, __VA_ARGS__); } while (0)
#define CHECK_EQ_INT(a, b) do { long long a_ = (a), b_ = (b); \
    if (a_ != b_) sd_test_fail(__FILE__, __LINE__, "%s == %s (%lld vs %lld)", #a, #b, a_, b_); } while (0)
#define CHECK_NEAR(a, b, tol) do { double a_ = (a), b_ = (b); \
    if (!(fabs(a_ - b_) <= (tol))) sd_test_fail(__FILE__, __LINE__, "%s ~ %s (%.9g vs %.9g, tol %g)", \
    #a, #b, a_, b_, (double)(tol)); } while (0)

#define SD_TEST_MAIN(cases) \
    int main(int argc, char **argv) { \
        return sd_test_main(argc, argv, cases, (int)(sizeof(cases) / sizeof(cases[0]))); }

#endif

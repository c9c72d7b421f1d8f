/* Replay main() for the fuzz targets, so any compiler can rerun a corpus or a crasher:
 *   build/tests/fuzz/fuzz_load FILE|DIR...   (no arguments: replays tests/fuzz/corpus/<target>
 *   and tests/fuzz/crashers/<target>). Prints "N passed, N failed" (a crash aborts the run).
 *   A corpus that is missing or empty is a failure: replaying nothing proves nothing. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int n_run;

static void run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (n < 0) { fclose(f); return; }
    uint8_t *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    LLVMFuzzerTestOneInput(buf, got);
    free(buf);
    n_run++;
}

static void run_path(const char *path)
{
    struct stat st;
    if (stat(path, &st)) return;
    if (!S_ISDIR(st.st_mode)) { run_file(path); return; }
    DIR *d = opendir(path);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        char p[4096];
        snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
        run_path(p);
    }
    closedir(d);
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        for (int i = 1; i < argc; i++) run_path(argv[i]);
    } else {
        const char *name = strrchr(argv[0], '/');
        name = name ? name + 1 : argv[0];
        const char *target = strncmp(name, "fuzz_", 5) ? name : name + 5;
        char p[512];
        snprintf(p, sizeof(p), "tests/fuzz/corpus/%s", target);
        run_path(p);
        snprintf(p, sizeof(p), "tests/fuzz/crashers/%s", target);
        run_path(p);
    }
    if (n_run == 0) {
        printf("not ok replay: no inputs found (is tests/fuzz/corpus/<target> missing? run from the "
               "source root)\n0 passed, 1 failed\n");
        return 1;
    }
    printf("replayed %d inputs without a crash\n%d passed, 0 failed\n", n_run, n_run);
    return 0;
}

/* Test fixtures shared by the unit tests (see fixtures.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/fixtures.h"
#include "tests/lib/test.h"
#include "src/core/core.h"

int sd_test_fixture_landmarks(const char *name, SdLandmarks *lm)
{
    char *text = NULL;
    size_t n;
    if (sd_read_file(sd_test_path(sd_test_path(sd_test_data_dir(), "face"), name), 1 << 22, &text, &n))
        return -1;
    memset(lm, 0, sizeof(*lm));
    const char *p = strstr(text, "\"box\":[");
    if (p) sscanf(p + 7, "%f,%f,%f,%f", &lm->face.x, &lm->face.y, &lm->face.w, &lm->face.h);
    p = strstr(text, "\"landmarks68\":[");
    int k = 0;
    if (p) {
        p += 15;
        for (; k < SD_NLANDMARKS; k++) {
            p = strchr(p, '[');
            if (!p || sscanf(p, "[%f,%f]", &lm->pt[k].x, &lm->pt[k].y) != 2) break;
            p++;
        }
    }
    free(text);
    return k == SD_NLANDMARKS ? 0 : -1;
}

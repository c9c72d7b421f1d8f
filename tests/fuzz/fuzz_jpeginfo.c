/* Fuzz target: the JPEG marker reader (src/jpeginfo.c) on arbitrary bytes, written to a temp file
 * since its contract is a path. It must never read out of bounds, and its answers must stay in
 * range: quality 0 (no answer) or 1..100, a terminated chroma name of at most 7 characters, and
 * quality 0 with an empty name whenever it fails. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "skindelta/skindelta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    if (!path[0])
        snprintf(path, sizeof(path), "/tmp/sd_fuzz_jpeginfo_%ld.jpg", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    int q = -1;
    char chroma[8];
    memset(chroma, 'x', sizeof(chroma));
    const int err = sd_jpeg_info(path, &q, chroma);
    if (memchr(chroma, 0, sizeof(chroma)) == NULL)
        abort();
    if (err ? (q != 0 || chroma[0]) : (q < 1 || q > 100))
        abort();
    return 0;
}

#!/usr/bin/env bash
# Integration test of the library as a user installs it: `make install PREFIX=/usr DESTDIR=stage`
# writes the public headers under include/skindelta/ and a skindelta.pc that names the install
# prefix; a program built with `pkg-config --cflags --libs skindelta` against the staged tree
# runs; the shared library exports the public API and nothing else; every public header compiles
# on its own (the header objects `make test` builds).
ITEST_NAME=install; . "$(dirname "$0")/../lib/itest.sh"
B=${BUILD:-build}
S="$T/stage"

make -s --no-print-directory install BUILD="$B" PREFIX=/usr DESTDIR="$S" > "$T/install.log" 2>&1; rc=$?
check "make install PREFIX=/usr DESTDIR=... exits 0" '[ $rc = 0 ]'
check "skindelta.pc names prefix=/usr" 'grep -qx "prefix=/usr" "$S/usr/lib/pkgconfig/skindelta.pc"'
check "headers under include/skindelta/ only" \
    '[ -f "$S/usr/include/skindelta/skindelta.h" ] && [ ! -e "$S/usr/include/skindelta/src" ] &&
     [ "$(ls "$S/usr/include/skindelta" | wc -l)" = "$(ls include/skindelta/*.h | wc -l)" ]'
check "no package-private header installed" \
    '! grep -l "^#include \"\(src\|kernels\|bench\|synth\)/" "$S"/usr/include/skindelta/*.h'

cat > "$T/user.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <skindelta/skindelta.h>
#include <skindelta/metrics.h>
int main(void)
{
    SdCtx ctx;
    if (sd_ctx_init(&ctx) != 0) return 1;
    SdImage img;
    if (sd_image_create(&img, 33, 17, 3, SD_FMT_F32) != 0) return 2;
    printf("%s %s %dx%d\n", sd_version(), sd_errname(SD_EFORMAT), img.w, img.h);
    sd_image_free(&img);
    return strcmp(sd_errname(SD_ENOMEM), "ENOMEM") != 0;
}
C
san=""; [ -n "${SD_ASAN:-}" ] && san="-fsanitize=address,undefined"
export PKG_CONFIG_SYSROOT_DIR="$S" PKG_CONFIG_PATH="$S/usr/lib/pkgconfig"
flags=$(pkg-config --cflags --libs skindelta 2>"$T/pc.err"); rc=$?
check "pkg-config --cflags --libs skindelta" '[ $rc = 0 ] && echo "$flags" | grep -q -- "-lskindelta"'
cc -std=c11 -Wall -Werror $san -o "$T/user" "$T/user.c" $flags > "$T/cc.log" 2>&1; rc=$?
check "a user program builds against the staged install" '[ $rc = 0 ]'
out=$(LD_LIBRARY_PATH="$S/usr/lib" "$T/user" 2>&1); rc=$?
check "and runs on the installed shared library" '[ $rc = 0 ] && echo "$out" | grep -q "EFORMAT 33x17"'
check "it links the installed libskindelta.so" \
    'LD_LIBRARY_PATH="$S/usr/lib" ldd "$T/user" | grep -q "$S/usr/lib/libskindelta.so"'

# (ASan's instrumentation adds __odr_asan.* markers next to exported globals: not API)
syms=$(nm -D --defined-only "$B/libskindelta.so" | awk "{print \$3}" | grep -v "^__odr_asan")
check "the shared library exports public symbols" '[ "$(echo "$syms" | grep -c "^sd_")" -gt 100 ]'
check "no sd__ (internal) symbol is exported" '! echo "$syms" | grep -q "^sd__"'
missing=$(for s in $syms; do grep -qw "$s" include/skindelta/*.h || echo "$s"; done)
check "every exported symbol is declared in include/skindelta/ ($(echo $missing | wc -w) not)" '[ -z "$missing" ]'
for h in include/skindelta/*.h; do
    n=$(basename "$h" .h)
    check "header $n.h compiles on its own" '[ -f "$B/tests/header/$n.o" ]'
done
# libjpeg: the direct JPEG decode (src/core/jpegdec.c); libpng: the overlay masks (src/core/png.c)
check "libskindelta needs libvips, OpenBLAS, libjpeg and libpng, nothing else of the image stack" \
    'n=$(readelf -d "$B/libskindelta.so.0.1.0" | grep NEEDED); echo "$n" | grep -q libvips &&
     echo "$n" | grep -q openblas && echo "$n" | grep -q libjpeg && echo "$n" | grep -q libpng &&
     ! echo "$n" | grep -q "libtiff\|libwebp\|libexif\|liblcms"'
itest_end

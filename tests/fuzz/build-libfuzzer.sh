#!/usr/bin/env bash
# Builds libFuzzer binaries of tests/fuzz/fuzz_*.c with clang into build-fuzz/, then (with
# FUZZ_SECONDS=N) runs each for N seconds on a copy of its seed corpus, keeping crashers in
# tests/fuzz/crashers/<target>/.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v clang >/dev/null || { echo "fuzz: clang is not installed (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
OUT=build-fuzz
SAN="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -g -O1"
make --no-print-directory BUILD=$OUT CC=clang EXTRA_CFLAGS="$SAN" EXTRA_LDFLAGS="-fsanitize=address,undefined" lib >/dev/null
LIBS="$(pkg-config --libs vips openblas libpng libjpeg) -llapacke -lm -lpthread"
for src in tests/fuzz/fuzz_*.c; do
    t=$(basename "$src" .c)
    clang -std=c11 -D_GNU_SOURCE -Iinclude -I. $(pkg-config --cflags vips) -fsanitize=fuzzer,address,undefined -g -O1 \
        -o "$OUT/$t" "$src" "$OUT/libskindelta.a" $LIBS
    echo "built $OUT/$t"
done
if [ -n "${FUZZ_SECONDS:-}" ]; then
    for src in tests/fuzz/fuzz_*.c; do
        t=$(basename "$src" .c); name=${t#fuzz_}
        mkdir -p "$OUT/corpus-$name" "tests/fuzz/crashers/$name"
        cp -n tests/fuzz/corpus/$name/* "$OUT/corpus-$name/" 2>/dev/null || true
        "./$OUT/$t" -max_total_time="$FUZZ_SECONDS" -max_len=200000 -rss_limit_mb=2048 \
            -artifact_prefix="tests/fuzz/crashers/$name/" -print_final_stats=1 "$OUT/corpus-$name" 2>&1 | tail -n 12
    done
fi

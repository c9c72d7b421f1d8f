#!/usr/bin/env bash
# Runs every test binary in $BUILD/tests (checkasm first), sums their "N passed, N failed" lines,
# then runs the integration scripts tests/integration/*.sh, and the CPU-dependent tests again with
# SKINDELTA_CPU=scalar. Prints one closing line "N passed, N failed".
set -u
BUILD=${BUILD:-build}
export SD_TEST_TMP="$BUILD/tests/tmp"
export SKINDELTA_BIN="$BUILD/skindelta"
rm -rf "$SD_TEST_TMP"; mkdir -p "$SD_TEST_TMP"
total_pass=0; total_fail=0; failed_names=()
TIMEOUT=${SD_TEST_TIMEOUT:-600}

run_one() {   # name, command...
    local name=$1; shift
    local log="$SD_TEST_TMP/$(echo "$name" | tr '/ =' '___').log"
    local t0=$SECONDS
    timeout "$TIMEOUT" "$@" >"$log" 2>&1
    local rc=$?
    local line
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    local p=0 f=0
    if [ -n "$line" ]; then
        p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
        f=$(echo "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
    fi
    if [ $rc -ne 0 ] && [ "$f" = 0 ]; then f=1; fi   # crash, timeout or sanitizer abort
    total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
    if [ "$f" != 0 ]; then
        failed_names+=("$name")
        echo "FAIL  $name  ($p passed, $f failed, exit $rc, $((SECONDS - t0)) s) — log: $log"
        grep -E 'FAIL|not ok|ERROR|Sanitizer|runtime error' "$log" | head -n 20 | sed 's/^/      /'
    else
        echo "ok    $name  ($p passed, $((SECONDS - t0)) s)"
    fi
}

if [ -x "$BUILD/checkasm" ]; then
    run_one checkasm "$BUILD/checkasm"
fi
for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    run_one "$(basename "$t")" "$t"
done
for t in "$BUILD"/tests/fuzz/fuzz_*; do          # replay of fuzz corpora and kept crashers
    [ -x "$t" ] || continue
    case "$t" in *.d|*.o) continue;; esac
    run_one "$(basename "$t") replay" "$t"
done
for s in tests/integration/*.sh; do
    [ -f "$s" ] || continue
    run_one "$(basename "$s")" bash "$s"
done
# Integration again on the scalar kernels (results must hold at every ISA level).
if [ -z "${SD_ASAN:-}" ]; then
    for s in tests/integration/*.sh; do
        [ -f "$s" ] || continue
        grep -q 'SD_CPU_SENSITIVE' "$s" || continue
        run_one "$(basename "$s") [SKINDELTA_CPU=scalar]" env SKINDELTA_CPU=scalar bash "$s"
    done
fi
echo
if [ ${#failed_names[@]} -gt 0 ]; then echo "failed: ${failed_names[*]}"; fi
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]

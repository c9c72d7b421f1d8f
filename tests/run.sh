#!/usr/bin/env bash
# Runs every test binary in $BUILD/tests (checkasm first), the fuzz corpus replays, the
# integration scripts tests/integration/*.sh, then the CPU-dependent tests again with
# SKINDELTA_CPU=scalar (the integration scripts marked SD_CPU_SENSITIVE and the phantom tests).
# Each test ends with "N passed, N failed" or "N passed, N failed, N skipped"; the closing line
# here is "N passed, N failed, N skipped".
# A test that prints no closing line, or one that counts nothing at all (0 passed, 0 failed,
# 0 skipped), fails: it proved nothing. A skip is reported on its own line and in the total;
# with CI set (CI=1, CI=true: anything but empty, 0, false, no) any skip fails the run.
set -u
BUILD=${BUILD:-build}
export SD_TEST_TMP="$BUILD/tests/tmp"
export SKINDELTA_BIN="$BUILD/skindelta"
rm -rf "$SD_TEST_TMP"; mkdir -p "$SD_TEST_TMP"
total_pass=0; total_fail=0; total_skip=0; failed_names=(); skipped_names=()
TIMEOUT=${SD_TEST_TIMEOUT:-600}
case "${CI:-}" in ""|0|false|no) in_ci=0;; *) in_ci=1;; esac

run_one() {   # name, command...
    local name=$1; shift
    local log="$SD_TEST_TMP/$(echo "$name" | tr '/ =[]' '_____').log"
    local t0=$SECONDS
    timeout "$TIMEOUT" "$@" >"$log" 2>&1
    local rc=$?
    local line p=0 f=0 s=0 why=""
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' "$log" | tail -n 1)
    if [ -n "$line" ]; then
        p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
        f=$(echo "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
        case "$line" in *skipped) s=$(echo "$line" | sed -E 's/.*, ([0-9]+) skipped$/\1/');; esac
    else
        why="no closing 'N passed, N failed' line"
    fi
    if [ $rc -ne 0 ] && [ "$f" = 0 ]; then f=1; why="${why:+$why; }exit $rc"; fi   # crash, timeout, sanitizer abort
    if [ -n "$line" ] && [ "$p$f$s" = 000 ]; then f=1; why="nothing was tested (0 passed, 0 failed, 0 skipped)"; fi
    if [ -z "$line" ] && [ "$f" = 0 ]; then f=1; fi
    total_pass=$((total_pass + p)); total_fail=$((total_fail + f)); total_skip=$((total_skip + s))
    if [ "$f" != 0 ]; then
        failed_names+=("$name")
        echo "FAIL  $name  ($p passed, $f failed, $s skipped, exit $rc, $((SECONDS - t0)) s)${why:+ [$why]} — log: $log"
        grep -E 'FAIL|not ok|ERROR|Sanitizer|runtime error' "$log" | head -n 20 | sed 's/^/      /'
    elif [ "$s" != 0 ]; then
        skipped_names+=("$name")
        echo "SKIP  $name  ($p passed, $s skipped, $((SECONDS - t0)) s) — log: $log"
        grep -E '^skip' "$log" | head -n 10 | sed 's/^/      /'
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
# Again on the scalar kernels (results must hold at every ISA level): the integration scripts
# marked SD_CPU_SENSITIVE and the phantom tests (end-to-end metric checks on rendered skin and
# faces). run_contents.sh compares a scalar run with the default level value by value.
# test_face_phantoms runs its texture case only at the scalar level (the whole test takes 70 s of
# CPU there, 4 minutes on a loaded 2-core machine); its wrinkle and spot chains are the same code
# as the texture case's up to the metrics, which test_phantoms covers at scalar in full.
if [ -z "${SD_ASAN:-}" ]; then
    [ -x "$BUILD/tests/test_phantoms" ] &&
        run_one "test_phantoms [SKINDELTA_CPU=scalar]" env SKINDELTA_CPU=scalar "$BUILD/tests/test_phantoms"
    [ -x "$BUILD/tests/test_face_phantoms" ] &&
        run_one "test_face_phantoms texture [SKINDELTA_CPU=scalar]" \
            env SKINDELTA_CPU=scalar "$BUILD/tests/test_face_phantoms" "texture amplitude"
    for s in tests/integration/*.sh; do
        [ -f "$s" ] || continue
        grep -q 'SD_CPU_SENSITIVE' "$s" || continue
        run_one "$(basename "$s") [SKINDELTA_CPU=scalar]" env SKINDELTA_CPU=scalar bash "$s"
    done
fi
echo
if [ ${#skipped_names[@]} -gt 0 ]; then
    echo "skipped: ${skipped_names[*]}"
    if [ $in_ci = 1 ]; then
        echo "CI=$CI: a skipped test fails the run (install what it needs: tools/test-deps.sh)"
        total_fail=$((total_fail + ${#skipped_names[@]}))
    fi
fi
if [ ${#failed_names[@]} -gt 0 ]; then echo "failed: ${failed_names[*]}"; fi
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
[ "$total_fail" = 0 ]

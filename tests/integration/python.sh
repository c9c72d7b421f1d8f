#!/usr/bin/env bash
# The Python package (python/): installed offline into a venv (pip install --no-index
# --no-build-isolation, Debian's python3 with numpy), its numbers compared with the CLI's on the
# same photos: a patch course (roi whole) and a face course, baselines through measure(),
# follow-ups through compare(), within 1e-6 relative (measurements.csv prints 9 digits); run()
# through the library writes the CLI's tables byte for byte; the library is found through
# SKINDELTA_LIB and next to the package; the README's example runs as written.
ITEST_NAME=python; . "$(dirname "$0")/../lib/itest.sh"
[ -n "$T" ] && [ -d "$T" ] || { echo "not ok a scratch folder (mktemp in ${SD_TEST_TMP:-/tmp})"; echo "0 passed, 1 failed"; exit 1; }
T=$(realpath "$T"); BIN=$(realpath "$BIN")    # the checks below run in other folders
PY=${SD_PYTHON:-/usr/bin/python3}
BUILD=${BUILD:-build}
LIBSO=$(realpath "$BUILD/libskindelta.so" 2>/dev/null)
REPO=$(pwd)
# Under `make asan` the library is instrumented: Python must load the ASan runtime first (and its
# own allocations are not ours to leak-check).
PYENV=()
if [ -n "${SD_ASAN:-}" ]; then
    PYENV=("LD_PRELOAD=$(${CC:-cc} -print-file-name=libasan.so)" "ASAN_OPTIONS=detect_leaks=0")
fi

if ! "$PY" -c 'import numpy, venv' 2>/dev/null; then
    bad "$PY with numpy and venv (tools/test-deps.sh installs python3-numpy python3-venv)"
    itest_end; exit
fi
check "the shared library is built ($BUILD/libskindelta.so)" '[ -n "$LIBSO" ] && [ -f "$LIBSO" ]'

# ---- offline install into a venv that sees Debian's numpy, setuptools and wheel
cp -r python "$T/pysrc"
"$PY" -m venv --system-site-packages "$T/venv" >"$T/venv.log" 2>&1
"$T/venv/bin/python" -m pip install --no-index --no-build-isolation --quiet "$T/pysrc" >"$T/pip.log" 2>&1; rc=$?
check "pip install --no-index --no-build-isolation ./python (exit $rc)" '[ $rc -eq 0 ]'
[ $rc -eq 0 ] || sed 's/^/    /' "$T/pip.log" | tail -n 15
VPY="$T/venv/bin/python"
check "the package is installed in the venv, not found in the source tree" \
    '(cd "$T" && "$VPY" -c "import skindelta, sys; sys.exit(0 if \"site-packages\" in skindelta.__file__ else 1)")'

# ---- the courses and the CLI's runs (no bootstrap: values only)
"$BIN" synth -o "$T/work/patch" --kind patch --patients 3 --sessions 2 --size 384 --px-per-mm 15 --seed 11 >/dev/null
"$BIN" run "$T/work/patch" -o "$T/work/cli_patch" --roi whole --px-per-mm 15 --bootstrap 0 --no-images --no-report --quiet 2>/dev/null
check "the CLI scores the patch course" '[ -s "$T/work/cli_patch/measurements.csv" ]'
"$BIN" synth -o "$T/work/face" --kind face --patients 1 --sessions 2 --size 1200 --seed 4 >/dev/null
"$BIN" run "$T/work/face" -o "$T/work/cli_face" --bootstrap 0 --no-images --no-report --quiet 2>/dev/null
check "the CLI scores the face course" '[ -s "$T/work/cli_face/measurements.csv" ]'

# ---- the comparisons (python_check.py prints ok / not ok lines)
(cd "$T" && env "${PYENV[@]}" SKINDELTA_LIB="$LIBSO" OPENBLAS_NUM_THREADS=1 "$VPY" "$REPO/tests/integration/python_check.py" "$T/work") \
    >"$T/check.log" 2>&1; rc=$?
cat "$T/check.log"
np=$(grep -c '^ok ' "$T/check.log"); nf=$(grep -c '^not ok ' "$T/check.log")
pass=$((pass + np)); fail=$((fail + nf))
check "python_check.py ran to its end (exit $rc, $np ok)" '[ $rc -eq 0 ] && [ $np -ge 20 ] && grep -q "^python: 0 failed" "$T/check.log"'

# ---- the library next to the package, when SKINDELTA_LIB is not set
site=$("$VPY" -c 'import skindelta, os; print(os.path.dirname(skindelta.__file__))' 2>/dev/null)
cp "$LIBSO" "$site/"
got=$(cd "$T" && env -u SKINDELTA_LIB -u LD_LIBRARY_PATH "${PYENV[@]}" SKINDELTA_MODELS="$REPO/models" "$VPY" -c 'import skindelta; print(skindelta.library_path())' 2>&1)
if ldconfig -p 2>/dev/null | grep -q 'libskindelta\.so'; then
    check "without SKINDELTA_LIB the loader's libskindelta comes first ($got)" '[ "${got#/}" != "$got" ] && [ "${got#$site}" = "$got" ]'
else
    check "without SKINDELTA_LIB the copy next to the package is used ($got)" '[ "$got" = "$site/$(basename "$LIBSO")" ]'
fi
got=$(cd "$T" && env "${PYENV[@]}" SKINDELTA_LIB=/nonexistent/libskindelta.so "$VPY" -c 'import skindelta; skindelta.version()' 2>&1)
check "a wrong SKINDELTA_LIB is an error naming it" 'echo "$got" | grep -q "SKINDELTA_LIB=/nonexistent/libskindelta.so"'

# ---- the README's example, as written, in a folder with the course it names
ex=$(grep -E '^python3 -c "import skindelta' README.md | head -n 1)
mkdir -p "$T/readme" && cp -r "$T/work/patch" "$T/readme/course"
out=$(cd "$T/readme" && env "${PYENV[@]}" PATH="$T/venv/bin:$PATH" SKINDELTA_LIB="$LIBSO" bash -c "$ex" 2>&1); rc=$?
echo "  README example: $out"
check "the README's python3 -c example runs (exit $rc) and prints a number" \
    '[ -n "$ex" ] && [ $rc -eq 0 ] && echo "$out" | tail -n 1 | grep -Eq "^[0-9.]+$"'

itest_end

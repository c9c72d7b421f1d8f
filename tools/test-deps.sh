#!/usr/bin/env bash
# Checks what the tests need beyond the build dependencies (tools/deps.sh): R's libRmath
# (r-mathlib, test_rmath), a Debian python3 with numpy, pip, setuptools and venv (the Python
# binding's test; robustness.sh parses the CSV files strictly with it), file (image sizes in
# align.sh) and chromium (report_chromium.sh loads the report in a real browser). Installs the
# missing Debian packages when run as root with apt-get; otherwise prints the command and exits 1
# (make test stops there, as it does for the build dependencies).
# Used by `make test` and .ci/run. Prints nothing when everything is present.
set -u
PKGS="r-mathlib python3 python3-numpy python3-pip python3-setuptools python3-venv file chromium"
PY=${SD_PYTHON:-/usr/bin/python3}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
have() {
    [ -f /usr/include/Rmath.h ] && [ -x "$PY" ] &&
        "$PY" -c 'import numpy, venv' >/dev/null 2>&1 &&
        "$PY" -c 'import setuptools' >/dev/null 2>&1 && "$PY" -m pip --version >/dev/null 2>&1 &&
        command -v file >/dev/null 2>&1 && [ -x "$CHROMIUM" ]
}
have && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "skindelta: installing test dependencies: $PKGS" >&2
    export DEBIAN_FRONTEND=noninteractive
    # shellcheck disable=SC2086
    if ! apt-get install -y -qq --no-install-recommends $PKGS >/dev/null 2>&1; then
        apt-get update -qq >/dev/null 2>&1 || true
        apt-get install -y -qq --no-install-recommends $PKGS >&2 || true
    fi
    have && exit 0
    echo "skindelta: installing the test dependencies failed; run: apt-get update && apt-get install -y $PKGS" >&2
    exit 1
fi
echo "skindelta: the tests need $PKGS (libRmath, $PY with numpy, pip, setuptools, venv; file; chromium). Install them with:" >&2
echo "    sudo apt-get update && sudo apt-get install -y $PKGS" >&2
exit 1

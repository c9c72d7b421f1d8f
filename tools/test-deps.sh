#!/usr/bin/env bash
# Checks what the tests need beyond the build: R's libRmath (r-mathlib, for test_rmath) and a
# Debian python3 with numpy, pip, setuptools and venv (the Python binding's test). Installs the
# Debian packages when run as root; otherwise says what to install. Prints nothing when all is there.
set -u
PKGS="r-mathlib python3 python3-numpy python3-pip python3-setuptools python3-venv"
PY=${SD_PYTHON:-/usr/bin/python3}
have() {
    [ -f /usr/include/Rmath.h ] && [ -x "$PY" ] &&
        "$PY" -c 'import numpy, venv' >/dev/null 2>&1 &&
        "$PY" -c 'import setuptools' >/dev/null 2>&1 && "$PY" -m pip --version >/dev/null 2>&1
}
have && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "skindelta: installing test dependencies: $PKGS" >&2
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -qq --no-install-recommends $PKGS >/dev/null 2>&1; then
        apt-get update -qq >/dev/null 2>&1 || true
        apt-get install -y -qq --no-install-recommends $PKGS >&2 || true
    fi
    have && exit 0
fi
echo "skindelta: the tests need $PKGS (R's libRmath and $PY with numpy, pip, setuptools, venv). Install them with:" >&2
echo "    sudo apt-get update && sudo apt-get install -y $PKGS" >&2
exit 1

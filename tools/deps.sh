#!/usr/bin/env bash
# Checks the build dependencies through pkg-config; installs the Debian packages when run as root.
# Used by the Makefile and .ci/run. Prints nothing when everything is present.
set -u
PKG_CONFIG=${PKG_CONFIG:-pkg-config}
PKGS="pkg-config libvips-dev libopenblas-dev liblapacke-dev libjpeg62-turbo-dev libpng-dev"
have() { command -v "$PKG_CONFIG" >/dev/null 2>&1 && "$PKG_CONFIG" --exists vips openblas libjpeg libpng 2>/dev/null && [ -f /usr/include/lapacke.h ]; }
have && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "skindelta: installing build dependencies: $PKGS" >&2
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -qq $PKGS >/dev/null 2>&1; then
        apt-get update -qq >/dev/null 2>&1 || true
        apt-get install -y -qq $PKGS >&2 || true
    fi
    have && exit 0
    echo "skindelta: installing the dependencies failed; run: apt-get update && apt-get install -y $PKGS" >&2
    exit 1
fi
echo "skindelta: missing build dependencies (libvips, OpenBLAS, LAPACKE, libjpeg-turbo, libpng). Install them with:" >&2
echo "    sudo apt-get update && sudo apt-get install -y $PKGS" >&2
exit 1

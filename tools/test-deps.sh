#!/usr/bin/env bash
# Checks the programs the tests need besides the build dependencies (tools/deps.sh): python3
# (robustness.sh parses the CSV files strictly with it), file (image sizes in align.sh) and
# chromium (report_chromium.sh loads the report in a real browser). Installs the missing Debian
# packages when run as root with apt-get; otherwise prints the command and exits 1, and the tests
# that need them report themselves skipped (which fails under CI=1).
# Used by `make test` and .ci/run. Prints nothing when everything is present.
set -u
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
missing() {
    local m=()
    command -v python3 >/dev/null 2>&1 || m+=(python3)
    command -v file >/dev/null 2>&1 || m+=(file)
    [ -x "$CHROMIUM" ] || m+=(chromium)
    echo "${m[@]}"
}
need=$(missing)
[ -z "$need" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "skindelta: installing test dependencies: $need" >&2
    export DEBIAN_FRONTEND=noninteractive
    # shellcheck disable=SC2086
    if ! apt-get install -y -qq --no-install-recommends $need >/dev/null 2>&1; then
        apt-get update -qq >/dev/null 2>&1 || true
        apt-get install -y -qq --no-install-recommends $need >&2 || true
    fi
    need=$(missing)
    [ -z "$need" ] && exit 0
    echo "skindelta: installing the test dependencies failed ($need); run: apt-get update && apt-get install -y $need" >&2
    exit 1
fi
echo "skindelta: test dependencies missing: $need; the tests that need them will be skipped. Install them with:" >&2
echo "    sudo apt-get update && sudo apt-get install -y $need" >&2
exit 1

# The common start and end of the integration scripts (tests/integration/*.sh), sourced with
# ITEST_NAME set: BIN (the CLI under test), T (a fresh scratch folder), the pass/fail counters,
# ok / bad / check / skip, and itest_end, which prints the closing "N passed, N failed, N skipped"
# line, removes T (kept when something failed or KEEP is set, for a look) and returns the status.
# A check that cannot run (a tool missing) is a skip or a failure, never a pass: tests/run.sh
# counts skips, and under CI=1 a skip fails the run.
set -u
BIN=${SKINDELTA_BIN:-build/skindelta}
T=$(mktemp -d "${SD_TEST_TMP:-/tmp}/${ITEST_NAME:-itest}.XXXXXX")
pass=0; fail=0; skipped=0
ok()    { pass=$((pass + 1)); echo "ok $1"; }
bad()   { fail=$((fail + 1)); echo "not ok $1${2:+: $2}"; }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }
skip()  { skipped=$((skipped + 1)); echo "skip $1${2:+: $2}"; }
itest_end() {
    [ $fail -eq 0 ] && [ -z "${KEEP:-}" ] && rm -rf "$T"
    echo "$pass passed, $fail failed, $skipped skipped"
    [ $fail -eq 0 ]
}

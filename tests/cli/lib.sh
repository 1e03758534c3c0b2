# lib.sh: helpers for the shell tests in tests/cli/. Each test script sources this, calls `case_ok NAME` or
# `case_fail NAME WHY` per case (lines "ok   NAME" / "FAIL NAME"), and ends with `done_cases`.
# Environment from tests/run.sh: ILDIFF (the binary), ILDIFF_TEST_TMP (a scratch folder), ILDIFF_TESTDATA.
set -u
: "${ILDIFF:=build/ildiff}"
: "${ILDIFF_TEST_TMP:=$(mktemp -d)}"
: "${ILDIFF_TESTDATA:=tests/data}"
_passed=0
_failed=0
case_ok() { echo "ok   $1"; _passed=$((_passed + 1)); }
case_fail() { echo "FAIL $1"; shift; echo "  $*"; _failed=$((_failed + 1)); }
# check NAME COMMAND...: the case passes when COMMAND succeeds.
check() { _n=$1; shift; if "$@" >"$ILDIFF_TEST_TMP/out.txt" 2>&1; then case_ok "$_n"; else case_fail "$_n" "$(tail -5 "$ILDIFF_TEST_TMP/out.txt")"; fi; }
# expect_exit NAME CODE COMMAND...: the case passes when COMMAND exits with CODE; its stderr is in $ILDIFF_TEST_TMP/err.txt.
expect_exit() {
    _n=$1; _want=$2; shift 2
    "$@" >"$ILDIFF_TEST_TMP/stdout.txt" 2>"$ILDIFF_TEST_TMP/err.txt"; _got=$?
    if [ "$_got" = "$_want" ]; then case_ok "$_n"; else case_fail "$_n" "exit $_got, wanted $_want: $(head -3 "$ILDIFF_TEST_TMP/err.txt")"; fi
}
done_cases() { echo "# $_passed passed, $_failed failed"; [ "$_failed" = 0 ]; }

#!/bin/bash
# run.sh: builds and runs every test, release build first, then the AddressSanitizer + UBSan build. Each test
# program prints "ok   NAME" / "FAIL NAME" lines; this script counts them and ends with "N passed, N failed".
# A program that exits non-zero without a FAIL line (a crash, a sanitizer report) counts as one failure.
# Options: --quick (release build only).
set -u
cd "$(dirname "$0")/.."
JOBS=$(nproc)
QUICK=0
[ "${1:-}" = "--quick" ] && QUICK=1

passed=0
failed=0
failed_names=""
TMP=$(mktemp -d /tmp/ildiff-test.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# run_one LABEL COMMAND...: runs one test program and adds its counts.
run_one() {
    local label=$1; shift
    local log="$TMP/log.txt"
    mkdir -p "$TMP/scratch"
    ILDIFF_TEST_TMP="$TMP/scratch" "$@" >"$log" 2>&1
    local rc=$?
    local p f
    p=$(grep -c '^ok ' "$log")
    f=$(grep -c '^FAIL ' "$log")
    if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; echo "FAIL $label (exit $rc)" >>"$log"; fi
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$f" != 0 ]; then
        failed_names="$failed_names $label"
        echo "--- $label: $p passed, $f failed"
        grep -v '^ok ' "$log" | tail -40
    else
        echo "--- $label: $p passed"
    fi
    rm -rf "$TMP/scratch"
}

build() {
    echo "=== build $*"
    if ! make -s -j"$JOBS" "$@" all tests >"$TMP/build.txt" 2>&1; then
        cat "$TMP/build.txt"
        echo "build failed: $*"
        echo "0 passed, 1 failed"
        exit 1
    fi
    grep -i 'warning' "$TMP/build.txt" | head -20
}

run_suite() {
    local dir=$1 label=$2
    export ILDIFF="$dir/ildiff" ILDIFF_TESTDATA="$PWD/tests/data" ILDIFF_FIXTURES="$PWD/build/fixtures"
    for t in "$dir"/tests/test_*; do
        [ -x "$t" ] || continue
        run_one "$label/$(basename "$t")" "$t"
    done
    for s in tests/cli/test_*.sh; do
        [ -f "$s" ] || continue
        run_one "$label/$(basename "$s")" bash "$s"
    done
}

build BUILD=build
echo "=== PyTorch reference fixtures"
if ! make -s fixtures >"$TMP/fix.txt" 2>&1; then cat "$TMP/fix.txt"; echo "fixture generation failed"; echo "0 passed, 1 failed"; exit 1; fi
run_suite build release

if [ "$QUICK" = 0 ]; then
    build BUILD=build-asan SAN=1
    export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    export ILDIFF_SANITIZED=1
    run_suite build-asan asan
fi

[ -n "$failed_names" ] && echo "failed:$failed_names"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]

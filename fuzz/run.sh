#!/bin/bash
# run.sh SECONDS: builds the libFuzzer targets (one per reader, fuzz/fuzz_read.c) with clang and
# -fsanitize=fuzzer,address,undefined into build-fuzz/ (only the I/O part of the library, see fuzz/fuzz.mk),
# makes a seed corpus of small valid files in build-fuzz/seeds/, and runs each target for SECONDS seconds
# (default 60). An input that crashes, leaks, times out or runs out of memory is copied to
# fuzz/regressions/<format>/ (replayed by tests/test_fuzz_regressions) and the script fails. Targets run in
# libFuzzer's fork mode and keep going after a crash, so one run collects several (at most 5 kept per target).
# FUZZ_FORMATS="gif webp" limits the run to some targets. Ends with one line per target.
set -u
cd "$(dirname "$0")/.."
SECS=${1:-60}
FORMATS=${FUZZ_FORMATS:-gif webp png jpeg video webm tgs lottie svg}
B=build-fuzz

echo "=== building fuzz targets into $B/fuzz"
if ! make -s -f Makefile -f fuzz/fuzz.mk BUILD=$B CC=clang SAN=1 NO_OMP=1 CFLAGS=-fsanitize=fuzzer-no-link \
    FUZZ_FORMATS="$FORMATS" -j"$(nproc)" fuzz-targets; then
    echo "fuzz build failed"
    exit 1
fi
bash fuzz/make_seeds.sh "$B/seeds" || { echo "seed generation failed"; exit 1; }

export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
failed=0
summary=""
for f in $FORMATS; do
    mkdir -p "$B/corpus/$f" "$B/artifacts/$f"
    log="$B/fuzz_$f.log"
    echo "=== fuzz_$f for ${SECS}s (log: $log)"
    start=$(date +%s)
    "$B/fuzz/fuzz_$f" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 -max_total_time="$SECS" \
        -timeout=30 -rss_limit_mb=2048 -artifact_prefix="$B/artifacts/$f/" "$B/corpus/$f" "$B/seeds/$f" >"$log" 2>&1
    rc=$?
    took=$(($(date +%s) - start))
    runs=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#')
    found=0
    for art in "$B/artifacts/$f"/*; do
        [ -f "$art" ] || continue
        found=$((found + 1))
        if [ "$found" -le 5 ]; then
            mkdir -p "fuzz/regressions/$f"
            cp "$art" "fuzz/regressions/$f/"
            echo "  kept $(basename "$art") in fuzz/regressions/$f/"
        fi
        rm -f "$art"
    done
    if [ "$rc" != 0 ] || [ "$found" != 0 ]; then
        failed=$((failed + 1))
        grep -m1 -A12 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error' "$log" | head -30
        summary="$summary\nfuzz_$f: FAILED after ${took}s (exit $rc, $found input(s) kept)"
    else
        summary="$summary\nfuzz_$f: ok, ${took}s, ${runs:-?} runs, corpus $(ls "$B/corpus/$f" | wc -l) files"
    fi
done
printf "%b\n" "$summary"
[ "$failed" = 0 ]

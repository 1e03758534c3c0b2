#!/bin/bash
# test_mpi.sh: the distributed layer under a real `mpirun` on loopback (2 and 3 ranks, oversubscribed): the
# collectives (test_dist), data-parallel training equal to one process with rank 0 alone writing the result
# (test_dist_train --out), and the failure paths: a rank that calls exit(3) mid-run, and a rank that reports an
# error and ends through ild_dist_finish, must each make the whole job fail within seconds with a message,
# leaving no output behind. Every mpirun runs under `timeout 60`, so a hang fails the case (exit 124).
# Skips when mpirun is not installed (Debian: openmpi-bin).
. "$(dirname "$0")/lib.sh"
T=$ILDIFF_TEST_TMP/mpi
rm -rf "$T"
mkdir -p "$T"
BIN=$(dirname "$ILDIFF")/tests

if ! command -v mpirun >/dev/null 2>&1; then
    echo "skip test_mpi: mpirun not found (apt-get install openmpi-bin)"
    done_cases
    exit $?
fi
# Loopback only (CI has no other network); shared memory between local ranks without the single-copy
# mechanism, which containers often forbid.
# In the sanitizer build, leak stacks must reach libmpi to match tests/lsan.supp: OpenMPI's plugins have no frame
# pointers, so unwind fully (the tests check leaks before MPI_Finalize, see tests/dist_testkit.h).
[ -n "${ASAN_OPTIONS:-}" ] && export ASAN_OPTIONS="$ASAN_OPTIONS:fast_unwind_on_malloc=0"
MPIRUN=(timeout 60 mpirun --oversubscribe --allow-run-as-root --mca btl self,vader,tcp --mca btl_tcp_if_include lo
        --mca oob_tcp_if_include lo --mca btl_vader_single_copy_mechanism none)

check "collectives on 2 ranks" "${MPIRUN[@]}" -np 2 "$BIN/test_dist"
check "collectives on 3 ranks" "${MPIRUN[@]}" -np 3 "$BIN/test_dist"

out=$T/dp.safetensors
if "${MPIRUN[@]}" -np 2 "$BIN/test_dist_train" --out "$out" >"$T/train.txt" 2>&1 &&
    grep -q '^# 5 passed, 0 failed' "$T/train.txt" && grep -q '^  2 rank(s): max |difference|' "$T/train.txt"; then
    case_ok "2 ranks x batch 2 train like 1 process x batch 4"
else
    case_fail "2 ranks x batch 2 train like 1 process x batch 4" "$(tail -8 "$T/train.txt")"
fi
# rank 0 wrote the parameters, atomically: the file and nothing else (no temporary left)
files=$(ls -A "$T" | grep -v '^train.txt$' | tr '\n' ' ')
[ "$files" = "dp.safetensors " ] && [ -s "$out" ] && case_ok "rank 0 writes the output" ||
    case_fail "rank 0 writes the output" "folder holds: $files"

# dies_fast NAME CODE PATTERN ARGS...: the job must exit with the failing rank's CODE (not the timeout's 124)
# within 30 s, print PATTERN, and leave no output file.
dies_fast() {
    local name=$1 code=$2 pattern=$3; shift 3
    rm -f "$T/none.safetensors"
    local t0=$SECONDS
    "${MPIRUN[@]}" -np 2 "$BIN/test_dist_train" --out "$T/none.safetensors" "$@" >"$T/die.txt" 2>&1
    local rc=$? took=$((SECONDS - t0))
    if [ "$rc" = "$code" ] && [ "$took" -le 30 ] && grep -q "$pattern" "$T/die.txt" &&
        [ ! -e "$T/none.safetensors" ]; then
        case_ok "$name"
    else
        case_fail "$name" "exit $rc after ${took}s: $(grep -v '^ok\|^--\|^$' "$T/die.txt" | head -6)"
    fi
}
dies_fast "a rank that exits mid-run ends the job" 3 "exited with non-zero status" --die 1:3
dies_fast "a rank that dies at once ends the job" 3 "exited with non-zero status" --die 0:0
# The rank's own message comes first; OpenMPI's MPI_ABORT notice follows (its wording is not checked: OpenMPI
# 4.1 sometimes loses it in a race while it tears the job down).
dies_fast "a failing rank aborts the job with its message" 1 "rank 1: injected failure at step 3" --fail 1:3

done_cases

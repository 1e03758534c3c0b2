#!/bin/bash
# test_mpi.sh: the distributed layer under a real `mpirun` on loopback (2 and 3 ranks, oversubscribed): the
# collectives (test_dist), data-parallel training equal to one process with rank 0 alone writing the result
# (test_dist_train --out), and the failure paths: a rank that calls exit(3) mid-run, and a rank that reports an
# error and ends through ild_dist_finish, must each make the whole job fail within seconds with a message,
# leaving no output behind. Then the commands: `ildiff train` on 2 ranks against 1 process (same model within 1e-6
# relative), resume on 2 ranks, a rank killed mid-run, Ctrl-C; `ildiff dataset build` on 2 ranks byte-identical to
# 1 process, and a rank's failed shard reported by rank 0; commands that do not split their work refuse 2 ranks.
# Every mpirun runs under `timeout 60`, so a hang fails the case (exit 124).
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

# ---- the commands under mpirun ----
# same_model NAME A B: the two safetensors hold the same tensors within 1e-6 relative (of each tensor's largest).
same_model() {
    local why
    why=$(/usr/bin/python3 - "$2" "$3" 2>&1 <<'PY'
import json, struct, sys
import numpy as np
def load(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        head = json.loads(f.read(n))
        data = f.read()
    head.pop("__metadata__", None)
    return {k: np.frombuffer(data[v["data_offsets"][0]:v["data_offsets"][1]], np.float32) for k, v in head.items()}
a, b = load(sys.argv[1]), load(sys.argv[2])
assert a.keys() == b.keys() and a, "different tensors: %s vs %s" % (sorted(a), sorted(b))
for k in a:
    d = np.abs(a[k].astype(np.float64) - b[k]).max() / max(np.abs(b[k]).max(), 1e-30)
    assert d <= 1e-6, "%s differs by %g relative" % (k, d)
PY
) && case_ok "$1" || case_fail "$1" "$why"
}
TR=(train --stage toy --steps 20 --batch 8 --ckpt-every 10 -q)
check "train on 2 ranks" "${MPIRUN[@]}" -np 2 "$ILDIFF" "${TR[@]}" --out "$T/A"
check "train in 1 process" "$ILDIFF" "${TR[@]}" --out "$T/B"
same_model "2 ranks train the toy like 1 process" "$T/A/model.safetensors" "$T/B/model.safetensors"
files=$(cd "$T/A" && ls -A | tr '\n' ' ')
[ "$files" = "ckpt-00000010.safetensors ckpt-00000020.safetensors latest loss.png model.safetensors train.jsonl val.png " ] &&
    [ "$(wc -l <"$T/A/train.jsonl")" = "$(wc -l <"$T/B/train.jsonl")" ] && case_ok "rank 0 alone writes the run" ||
    case_fail "rank 0 alone writes the run" "$files"
# resume from step 10 under mpirun: back to the run's state after step 10, then the same 10 steps
mkdir -p "$T/R"
cp "$T/A/ckpt-00000010.safetensors" "$T/A/train.jsonl" "$T/R/"
echo ckpt-00000010.safetensors >"$T/R/latest"
check "resume on 2 ranks" "${MPIRUN[@]}" -np 2 "$ILDIFF" train --stage toy --out "$T/R" --resume -q
same_model "the resumed run ends like the uninterrupted one" "$T/R/model.safetensors" "$T/B/model.safetensors"
[ "$(wc -l <"$T/R/train.jsonl")" = "$(wc -l <"$T/B/train.jsonl")" ] && case_ok "resume keeps one log line per step" ||
    case_fail "resume keeps one log line per step" "$(wc -l <"$T/R/train.jsonl") lines"
expect_exit "a batch that does not divide by the ranks" 2 "${MPIRUN[@]}" -np 2 "$ILDIFF" train --stage toy --batch 7 \
    --out "$T/odd" -q
grep -q "^ildiff train: --batch 7 does not divide by the 2 MPI ranks" "$ILDIFF_TEST_TMP/err.txt" &&
    case_ok "says why" || case_fail "says why" "$(head -3 "$ILDIFF_TEST_TMP/err.txt")"
expect_exit "a command that does not split its work refuses several ranks" 1 "${MPIRUN[@]}" -np 2 "$ILDIFF" info \
    "$T/B/loss.png"
grep -q "^ildiff: rank [01]: 'ildiff info' does not split its work over MPI ranks" "$ILDIFF_TEST_TMP/err.txt" &&
    case_ok "says so, with its rank" || case_fail "says so, with its rank" "$(head -3 "$ILDIFF_TEST_TMP/err.txt")"

# a rank killed mid-run (SIGKILL, as the OOM killer would) ends the job within seconds, leaving no model
"${MPIRUN[@]}" -np 2 "$ILDIFF" train --stage toy --steps 1000000 --batch 8 --ckpt-every 0 -q --out "$T/K" \
    >"$T/kill.txt" 2>&1 &
tpid=$!
for _ in $(seq 100); do [ -s "$T/K/train.jsonl" ] && break; sleep 0.1; done
ranks=$(pgrep -P "$(pgrep -P $tpid | head -1)" 2>/dev/null)
victim=$(echo "$ranks" | tail -1)
t0=$SECONDS
[ -n "$victim" ] && kill -9 "$victim"
wait $tpid
rc=$? took=$((SECONDS - t0))
if [ -n "$victim" ] && [ "$rc" != 0 ] && [ "$rc" != 124 ] && [ "$took" -le 20 ] && [ ! -e "$T/K/model.safetensors" ] &&
    grep -q "exited on signal 9" "$T/kill.txt"; then
    case_ok "a killed rank ends the training job"
else
    case_fail "a killed rank ends the training job" "ranks '$ranks', exit $rc after ${took}s: $(tail -3 "$T/kill.txt")"
fi

# Ctrl-C on mpirun (it sends SIGTERM to every rank): all ranks stop after the same step, rank 0 checkpoints it
"${MPIRUN[@]}" -np 2 "$ILDIFF" train --stage toy --steps 1000000 --batch 8 --ckpt-every 0 -q --out "$T/S" \
    >"$T/stop.txt" 2>&1 &
tpid=$!
for _ in $(seq 100); do [ -s "$T/S/train.jsonl" ] && break; sleep 0.1; done
kill -INT "$(pgrep -P $tpid | head -1)" 2>/dev/null
wait $tpid
rc=$?
ck=$(cat "$T/S/latest" 2>/dev/null)
if [ "$rc" != 0 ] && [ "$rc" != 124 ] && grep -q "^ildiff train: stopped at step" "$T/stop.txt" && [ -s "$T/S/$ck" ]; then
    case_ok "Ctrl-C stops every rank at one step, with a checkpoint"
else
    case_fail "Ctrl-C stops every rank at one step, with a checkpoint" "exit $rc, latest '$ck': $(tail -3 "$T/stop.txt")"
fi

# dataset build on 2 ranks (shards dealt round-robin) writes the same bytes as one process with the same seed
DB=(dataset build --sources "$ILDIFF_TESTDATA/mini_icons.json" --size 32 --shard-size 3 --count 7 --seed 5 --quiet)
check "dataset build on 2 ranks" "${MPIRUN[@]}" -np 2 "$ILDIFF" "${DB[@]}" --out "$T/D2"
check "dataset build in 1 process" "$ILDIFF" "${DB[@]}" --out "$T/D1"
if [ -s "$T/D1/manifest.jsonl" ] && diff -r "$T/D1" "$T/D2" >"$T/diff.txt" 2>&1; then
    case_ok "2 ranks build the same corpus bytes"
else
    case_fail "2 ranks build the same corpus bytes" "$(head -3 "$T/diff.txt")"
fi
# a rank that cannot write its shard (shard 1 is rank 1's): rank 0 reports it, the job fails, no manifest
mkdir -p "$T/DF/shard-00001.tar.tmp"
expect_exit "a rank's failed shard fails the build" 1 "${MPIRUN[@]}" -np 2 "$ILDIFF" "${DB[@]}" --out "$T/DF"
grep -q "^ildiff: rank 0: .*1 rank(s) failed: rank 1: .*shard-00001.tar.tmp" "$ILDIFF_TEST_TMP/err.txt" &&
    [ ! -e "$T/DF/manifest.jsonl" ] && case_ok "rank 0 lists the failure" ||
    case_fail "rank 0 lists the failure" "$(head -4 "$ILDIFF_TEST_TMP/err.txt")"
expect_exit "dataset stats refuses several ranks" 1 "${MPIRUN[@]}" -np 2 "$ILDIFF" dataset stats --corpus "$T/D1"

done_cases

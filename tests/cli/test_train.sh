#!/bin/bash
# test_train.sh: `ildiff train` end to end on the toy stage: a short run writes checkpoints (the last K kept),
# train.jsonl, the loss curves and the model; the progress line; a run killed with SIGTERM mid-way and resumed
# ends with the same checkpoint and log bytes as an uninterrupted run; a resume with other settings is refused;
# unknown and not-yet-available stages, and usage errors.
. "$(dirname "$0")/lib.sh"
T=$ILDIFF_TEST_TMP/train
rm -rf "$T"
mkdir -p "$T"
run_toy() { "$ILDIFF" train --stage toy --threads 1 --batch 4 "$@"; }

check short_run run_toy --out "$T/a" --steps 40 --ckpt-every 10 --val-every 20 --keep 3 -q
ok=1
for f in ckpt-00000020.safetensors ckpt-00000030.safetensors ckpt-00000040.safetensors latest train.jsonl \
    loss.png val.png model.safetensors; do
    [ -s "$T/a/$f" ] || { ok=0; echo "  missing $f"; }
done
[ -e "$T/a/ckpt-00000010.safetensors" ] && ok=0
[ "$ok" = 1 ] && case_ok run_outputs || case_fail run_outputs "$(ls "$T/a")"
[ "$(grep -c '"kind":"train"' "$T/a/train.jsonl")" = 40 ] && [ "$(grep -c '"kind":"val"' "$T/a/train.jsonl")" = 2 ] &&
    grep -q '^ckpt-00000040.safetensors$' "$T/a/latest" &&
    case_ok log_lines || case_fail log_lines "$(wc -l <"$T/a/train.jsonl") lines"
head -c 8 "$T/a/loss.png" | od -An -tx1 | grep -q '89 50 4e 47 0d 0a 1a 0a' && case_ok loss_png || case_fail loss_png "not a PNG"

run_toy --out "$T/p" --steps 30 --val-every 0 >"$T/p.out" 2>"$T/p.err"
grep -q 'step 30/30 .*loss .*mse .*samples/s .*ETA' "$T/p.err" && grep -q '^val 30:' "$T/p.err" &&
    grep -q '^train toy: step 30 loss ' "$T/p.out" &&
    case_ok progress_and_summary || case_fail progress_and_summary "$(tail -3 "$T/p.err") / $(cat "$T/p.out")"

expect_exit fresh_over_existing 1 run_toy --out "$T/a" --steps 40 -q
expect_exit resume_other_lr 1 run_toy --out "$T/a" --steps 40 --lr 0.5 --resume -q
grep -q 'lr = ' "$ILDIFF_TEST_TMP/err.txt" && case_ok resume_other_lr_named || case_fail resume_other_lr_named "$(cat "$ILDIFF_TEST_TMP/err.txt")"

# SIGTERM mid-run, then --resume: the same final checkpoint and log as an uninterrupted run, byte for byte.
STEPS=2000
[ -n "${ILDIFF_SANITIZED:-}" ] && STEPS=500
run_toy --out "$T/straight" --steps $STEPS --val-every 100 --ckpt-every 100000 -q >/dev/null 2>&1
"$ILDIFF" train --stage toy --threads 1 --batch 4 --out "$T/killed" --steps $STEPS --val-every 100 --ckpt-every 100000 \
    -q >/dev/null 2>"$T/kill.err" &
pid=$!
for _ in $(seq 1 2000); do
    [ -f "$T/killed/train.jsonl" ] && [ "$(wc -l <"$T/killed/train.jsonl")" -ge 30 ] && break
    sleep 0.01
done
kill -TERM $pid 2>/dev/null
wait $pid
rc=$?
at=$(sed -n 's/^ckpt-0*\([0-9]*\)\.safetensors$/\1/p' "$T/killed/latest" 2>/dev/null)
if [ "$rc" = 143 ] && [ -n "$at" ] && [ "$at" -lt $STEPS ]; then
    case_ok sigterm_checkpoints
else
    case_fail sigterm_checkpoints "exit $rc, latest step '${at}': $(tail -2 "$T/kill.err")"
fi
check resume run_toy --out "$T/killed" --resume -q
f=$(printf 'ckpt-%08d.safetensors' $STEPS)
cmp -s "$T/straight/$f" "$T/killed/$f" && cmp -s "$T/straight/model.safetensors" "$T/killed/model.safetensors" &&
    case_ok resume_bit_identical || case_fail resume_bit_identical "final checkpoints differ (stopped at ${at})"
cmp -s "$T/straight/train.jsonl" "$T/killed/train.jsonl" && case_ok resume_same_log ||
    case_fail resume_same_log "logs differ"

expect_exit unknown_stage 2 "$ILDIFF" train --stage nope --out "$T/x"
expect_exit model_stage_needs_corpus 2 "$ILDIFF" train --stage S1 --out "$T/x"
"$ILDIFF" train --help >"$T/help.txt"
grep -q '^  toy ' "$T/help.txt" && grep -q '^  S0 ' "$T/help.txt" && grep -q '^  S3 ' "$T/help.txt" &&
    ! grep -q 'not available' "$T/help.txt" &&
    case_ok help_lists_available || case_fail help_lists_available "$(head -12 "$T/help.txt")"
expect_exit no_out 2 "$ILDIFF" train --stage toy
expect_exit bad_steps 2 "$ILDIFF" train --stage toy --out "$T/x" --steps 0
expect_exit resume_nothing 1 run_toy --out "$T/empty" --resume
done_cases
